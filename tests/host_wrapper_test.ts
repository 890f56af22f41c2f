// Named sessions through the wrappers (lib/wrapper.ts --session/--list, server.ts --session): any
// mosh wrapper that lets the user set the server command gets them, Debian's included. Each test
// has its own control directory (MOSH_DENO_DIR) and ends its host with SIGTERM.
import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import {
  cleanEnv,
  clientPid,
  OUR_CLIENT,
  PROMPT,
  REPO,
  runCaptured,
  shellCommand,
} from "./harness.ts";
import { controlDir, stopHostIn } from "./host_harness.ts";
import { Tmux } from "./tmux.ts";

const SHELL = "bash --norc --noprofile";

/** SIGKILL to the client in `t` (a client that quits or gets SIGHUP ends the session, as in C). */
async function killClient(t: Tmux): Promise<void> {
  Deno.kill(await clientPid(t), "SIGKILL");
  await t.waitFor(/Killed/, 10000);
  await t.kill();
}

/** A pane running `command` with the test's control directory and prompt. */
function pane(dir: string, command: string): Promise<Tmux> {
  return Tmux.start({
    command: `export PS1='${PROMPT}' HISTFILE=/dev/null MOSH_DENO_DIR='${dir}'; ${command}; ` +
      "echo CLIENT-EXIT=$?; exec sleep 600",
    env: { LANG: "C.UTF-8" },
    unsetEnv: ["RUST_BACKTRACE", "MOSH_ESCAPE_KEY", "MOSH_PREDICTION_DISPLAY"],
  });
}

Deno.test("host: Debian's mosh wrapper with --server='mosh-server --session=work' reattaches", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const dir = await controlDir();
  const server = `${REPO}/bin/mosh-server --session=work`;
  const mosh = `mosh --local --server='${server}' 127.0.0.1 -- ${SHELL}`;
  let t: Tmux | null = null;
  try {
    t = await pane(dir, mosh);
    await t.waitFor(/^prompt\$/m, 30000);
    await t.sendText("echo FIRST$((20+1))\r");
    await t.waitFor(/^FIRST21$/m, 10000);
    await killClient(t); // the client dies without a word; the session stays
    t = await pane(dir, mosh);
    await t.waitFor(/^FIRST21$/m, 30000);
    await t.sendText("echo SECOND$((20+2))\r");
    await t.waitFor(/^SECOND22$/m, 10000);
  } finally {
    await t?.kill();
    await stopHostIn(dir);
  }
});

Deno.test("host: our wrapper's --session and --list, and their refusal with C mosh-server", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const dir = await controlDir();
  const client = shellCommand(OUR_CLIENT);
  const server = `--server=${REPO}/bin/mosh-server`;
  let t: Tmux | null = null;
  const wrapper = (args: string[]) =>
    runCaptured([...OUR_CLIENT, ...args], cleanEnv({ MOSH_DENO_DIR: dir }));
  try {
    t = await pane(dir, `${client} --local ${server} --session=mine 127.0.0.1 -- ${SHELL}`);
    await t.waitFor(/^prompt\$/m, 30000);
    await t.sendText("echo OURS$((3*3))\r");
    await t.waitFor(/^OURS9$/m, 10000);
    const list = await wrapper(["--local", server, "--list", "127.0.0.1"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^1\tmine\t\d+s\t80x24\tbash --norc --noprofile\t127\.0\.0\.1:\d+/);
    await killClient(t);
    t = await pane(dir, `${client} --local ${server} --session=mine 127.0.0.1 -- ${SHELL}`);
    await t.waitFor(/^OURS9$/m, 30000);

    const refused = await wrapper(["--local", "--server=mosh-server", "--list", "127.0.0.1"]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      "mosh: the remote mosh-server is not mosh-deno's: --session and --list need it\n",
    );
    const named = await wrapper([
      "--local",
      "--server=mosh-server",
      "--client=/bin/true",
      "--session=x",
      "127.0.0.1",
    ]);
    assert.notEqual(named.code, 0);
    assert.match(
      named.stderr,
      /^mosh: the remote mosh-server is not mosh-deno's: --session and --list need it$/m,
    );
  } finally {
    await t?.kill();
    await stopHostIn(dir);
  }
});

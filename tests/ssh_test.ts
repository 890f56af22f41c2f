// The whole first-run experience, as a user meets it in a real terminal (a tmux pane):
// `client.ts --ssh="ssh -p PORT -i KEY …" root@127.0.0.1` against a private sshd, with our
// mosh-server (bin/mosh-server) and with Debian's, and `deno task start` (the README's first
// command). Each session: the login shell comes up under the mosh server, a typed command's
// output appears, `exit` ends the session cleanly and the pane's command exits with status 0.
//
// Every process a session leaves behind is found by a MOSH_TEST_TAG environment variable
// (tests/sshd.ts killTagged) and killed, and sshd is stopped, whatever the outcome.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { requireDebianPackages } from "./deps.ts";
import { killTagged, startSshd, taggedPids } from "./sshd.ts";
import { OUR_CLIENT, shellCommand } from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { shellQuote } from "../lib/wrapper_args.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The shell command that runs client.ts (as bin/mosh does, with this Deno). */
function clientCommand(args: string[]): string {
  return shellCommand([...OUR_CLIENT, ...args]);
}

/**
 * Waits for the `[exit N]` line the pane's shell prints after the client (tmux may drop a dying
 * pane's last output, and reports `pane_dead_status` late or not at all); returns N.
 */
async function waitExit(t: Tmux, timeoutMs: number): Promise<number> {
  const screen = await t.waitFor(/^\[exit \d+\]$/m, timeoutMs);
  return Number(/^\[exit (\d+)\]$/m.exec(screen)![1]);
}

/** A pane command: `command`, then its exit status, then the pane stays a while. */
function reportingExit(command: string): string {
  return `${command}; echo "[exit $?]"; exec sleep 60`;
}

/**
 * In a pane running a mosh session: wait for the client's screen (application cursor keys on, as
 * mosh-client's open sequence sets them, or the alternate screen on; our client keeps the primary
 * screen when it keeps scrollback; then some text on it), check the shell's parent is `serverComm` (the shell runs under the mosh server,
 * not under ssh), then `exit` and expect a clean shutdown with status 0.
 */
async function driveSession(t: Tmux, serverComm: string): Promise<void> {
  const deadline = Date.now() + 40000;
  while ((await t.display("#{alternate_on}#{keypad_cursor_flag}")) === "00") {
    const screen = await t.capture();
    if (/^\[exit \d+\]$/m.test(screen) || Date.now() > deadline) {
      throw new Error(`mosh did not start; screen:\n${screen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await t.waitFor(/\S/, 30000);
  await t.sendText("echo result-$((6*7)) parent=$(ps -o comm= -p $PPID)\r");
  const screen = await t.waitFor(/^result-42 parent=\S+/m, 20000);
  assert.match(screen, new RegExp(`^result-42 parent=${serverComm}$`, "m"));
  await t.sendText("exit\r");
  const status = await waitExit(t, 20000);
  const after = await t.capture();
  assert.match(after, /\[mosh is exiting\.\]/);
  assert.doesNotMatch(after, /did not shut down cleanly|did not make a successful connection/);
  assert.equal(status, 0, `exit status ${status}; screen:\n${after}`);
}

/** A full ssh bootstrap to a private sshd with the given --server command. */
async function sshSession(server: (tag: string) => string, serverComm: string): Promise<void> {
  await requireDebianPackages(["tmux", "mosh", "openssh-server", "openssh-client"]);
  const tag = crypto.randomUUID();
  const sshd = await startSshd();
  let t: Tmux | null = null;
  try {
    t = await Tmux.start({
      command: reportingExit(
        clientCommand([`--ssh=${sshd.sshCommand}`, `--server=${server(tag)}`]) +
          " root@127.0.0.1",
      ),
      cols: 100,
      rows: 30,
    });
    await driveSession(t, serverComm);
    // A clean shutdown leaves nothing behind on the "remote" side.
    const deadline = Date.now() + 5000;
    while ((await taggedPids(tag)).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await taggedPids(tag), [], "the mosh server is still running");
  } finally {
    await t?.kill();
    await killTagged(tag);
    await sshd.stop();
  }
}

Deno.test("ssh bootstrap: our client and our mosh-server (bin/mosh-server) over sshd", async () => {
  await sshSession((tag) => `env MOSH_TEST_TAG=${tag} ${REPO}bin/mosh-server`, "deno");
});

Deno.test("ssh bootstrap: our client and Debian's mosh-server over sshd", async () => {
  await sshSession((tag) => `env MOSH_TEST_TAG=${tag} mosh-server`, "mosh-server");
});

Deno.test("deno task start: a local session in a real terminal", async () => {
  await requireDebianPackages(["tmux"]);
  const tag = crypto.randomUUID();
  let t: Tmux | null = null;
  try {
    t = await Tmux.start({
      command: reportingExit(`${shellQuote(Deno.execPath())} task start`),
      cwd: REPO,
      env: { MOSH_TEST_TAG: tag, NO_COLOR: "1" },
      unsetEnv: ["SSH_CONNECTION", "RUST_BACKTRACE"],
      cols: 100,
      rows: 30,
    });
    await driveSession(t, "deno");
  } finally {
    await t?.kill();
    await killTagged(tag);
  }
});

// A whole mosh session used as a person would use it, in a real terminal (a tmux pane):
// our client with our server (IPv4 and IPv6), our client with Debian's mosh-server, Debian's
// mosh-client with our server, and Debian's `mosh` wrapper driving our bin/ launchers
// (docs/PROTOCOL.md §8.0, §7, §11).
//
// The script for each pair: see the prompt, run a command and see its output, resize the pane and
// see `stty size` follow, open and quit a full-screen program, then `exit`: the client must end
// with `[mosh is exiting.]` and status 0, and the server process must be gone.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import {
  clientPaneEnv,
  delay,
  type Kind,
  REPO,
  type Server,
  startClient,
  stopServer,
  waitGone,
  withSession,
} from "./harness.ts";
import { Tmux } from "./tmux.ts";

/**
 * Waits until the pane's client has ended and returns the last screen. Every pane command ends
 * with `echo CLIENT-EXIT=$?; exec sleep 600`: tmux 3.3a can drop a pane's last output when its
 * command exits right after writing it, so the pane is kept alive and the status read as text.
 */
async function waitPaneDead(t: Tmux, ms: number): Promise<string> {
  // With history: leaving the alternate screen after a resize can push lines into it.
  const exited = /^CLIENT-EXIT=\d+$/m;
  const deadline = performance.now() + ms;
  for (;;) {
    const screen = await t.capture({ history: 200 });
    if (exited.test(screen)) return screen;
    if (performance.now() > deadline) {
      throw new Error(`client still running after ${ms} ms; screen:\n${screen}`);
    }
    await delay(50);
  }
}

/** Waits until the pane's title (what the terminal got through OSC 0/2) is `title`. */
async function waitTitle(t: Tmux, title: string): Promise<void> {
  const deadline = performance.now() + 5000;
  let seen = "";
  while ((seen = await t.display("#{pane_title}")) !== title) {
    if (performance.now() > deadline) throw new Error(`pane title ${seen}, expected ${title}`);
    await delay(50);
  }
}

/**
 * Runs `stty size` until it reports rows × cols. The client learns of a resize by SIGWINCH, which
 * can be handled after keys typed at the same moment, so the first answer may still be the old
 * size. (No `clear` here: tmux loses a screen cleared right after the window shrinks.)
 */
async function expectSize(t: Tmux, rows: number, cols: number): Promise<void> {
  const want = new RegExp(`^${rows} ${cols}$`, "m");
  for (let attempt = 1;; attempt++) {
    await t.sendText("stty size\r");
    try {
      await t.waitFor(want, 1000);
      return;
    } catch (e) {
      if (attempt === 5) throw e;
    }
  }
}

/**
 * The user's script in a pane running a mosh client connected to `server` (the pane's command
 * ends with `echo CLIENT-EXIT=$?; exec sleep 600`).
 */
async function useSession(t: Tmux, server: Server): Promise<void> {
  const tag = crypto.randomUUID().slice(0, 8);
  await t.waitFor(/^prompt\$/m, 15000);

  // A command and its output.
  await t.sendText(`echo hello-${tag}\r`);
  await t.waitFor(new RegExp(`^hello-${tag}$`, "m"));

  // The window follows a resize of the real terminal.
  await t.resize(100, 30);
  await expectSize(t, 30, 100);
  await t.resize(70, 20);
  await expectSize(t, 20, 70);

  // A window title set by the remote application shows with mosh's prefix.
  await t.sendText(`printf '\\033]0;title-%s\\007' ${tag}\r`);
  await waitTitle(t, `[mosh] title-${tag}`);

  // A full-screen program: less on a file, then quit it and carry on.
  const lines = Array.from({ length: 60 }, (_, i) => `line-${i}-${tag}`).join("\n");
  await t.sendText(`printf '%s\\n' ${lines.split("\n").join(" ")} > /tmp/mosh-less-${tag}\r`);
  await t.sendText(`less /tmp/mosh-less-${tag}\r`);
  await t.waitFor(new RegExp(`^line-0-${tag}$`, "m"));
  await t.sendText(" "); // next page
  await t.waitFor(new RegExp(`^line-2\\d-${tag}$`, "m"));
  await t.sendText("q");
  await t.sendText(`rm /tmp/mosh-less-${tag}; echo after-less-${tag}\r`);
  await t.waitFor(new RegExp(`^after-less-${tag}$`, "m"));

  // `exit` ends the shell, the server and the client, cleanly.
  await t.sendText("exit\r");
  const last = await waitPaneDead(t, 15000);
  assert.match(last, /\[mosh is exiting\.\]/);
  assert.match(last, /^CLIENT-EXIT=0$/m, `client exit status; screen:\n${last}`);
  assert.ok(!last.includes("did not shut down cleanly"), last);
  assert.ok(await waitGone(server.pid, 5000), "the server exited");
}

/** The user's script with `client` and `server` (ours through the bin/ launchers) on `ip`. */
async function runPair(client: Kind, server: Kind, ip: string) {
  await requireDebianPackages(["mosh", "tmux"]);
  const clientKind = client === "ours" ? "launcher" : client;
  await withSession({ server, client: clientKind, ip }, (s, t) => useSession(t, s));
}

Deno.test("session: our client with our server (IPv4)", async () => {
  await runPair("ours", "ours", "127.0.0.1");
});

Deno.test("session: our client with our server (IPv6 ::1)", async () => {
  await runPair("ours", "ours", "::1");
});

Deno.test("session: our client with Debian's mosh-server", async () => {
  await runPair("ours", "debian", "127.0.0.1");
});

Deno.test("session: Debian's mosh-client with our server", async () => {
  await runPair("debian", "ours", "127.0.0.1");
});

Deno.test("session: Debian's mosh wrapper drives our bin/mosh-client and bin/mosh-server", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const t = await Tmux.start({
    // --no-init: without the alternate screen the last frame stays visible after the exit.
    command: `mosh --no-init --client=${REPO}/bin/mosh-client --server=${REPO}/bin/mosh-server ` +
      `--local --bind-server=127.0.0.1 127.0.0.1 -- printf 'he%s\\n' llo; echo CLIENT-EXIT=$?; exec sleep 600`,
    cols: 80,
    rows: 24,
    env: { LANG: "C.UTF-8" },
    unsetEnv: ["MOSH_KEY", "RUST_BACKTRACE"],
  });
  try {
    const last = await waitPaneDead(t, 20000);
    assert.match(last, /^hello$/m, last);
    assert.match(last, /^CLIENT-EXIT=0$/m, last);
  } finally {
    await t.kill();
  }
});

Deno.test("session: Ctrl-^ . quits a live session cleanly", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  await withSession({}, async (s, t) => {
    await t.waitFor(/^prompt\$/m, 15000);
    await t.sendKeys("C-^");
    await t.waitFor('Commands: Ctrl-Z suspends, "." quits, "^" gives literal Ctrl-^');
    await t.sendText(".");
    const last = await waitPaneDead(t, 15000);
    assert.match(last, /\[mosh is exiting\.\]\nCLIENT-EXIT=0$/m, last);
    assert.ok(await waitGone(s.pid, 5000), "the server exited");
  });
});

Deno.test("session: no server: notice, Ctrl-^ . quits at once, firewall hint", async () => {
  await requireDebianPackages(["tmux"]);
  // A UDP port that receives but never answers, like a firewalled server.
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (silent.addr as Deno.NetAddr).port;
  const t = await startClient(port, "AAAAAAAAAAAAAAAAAAAAAA", { client: "launcher" });
  try {
    await t.waitFor(
      `mosh: Nothing received from server on UDP port ${port}. [To quit: Ctrl-^ .]`,
      5000,
    );
    const quitAt = performance.now();
    await t.sendKeys("C-^");
    await t.sendText(".");
    const last = await waitPaneDead(t, 5000);
    assert.ok(performance.now() - quitAt < 2000, "quit at once");
    assert.ok(
      last.includes(
        `mosh did not make a successful connection to 127.0.0.1:${port}.\n` +
          `Please verify that UDP port ${port} is not firewalled and can reach the server.\n\n` +
          "(By default, mosh uses a UDP port between 60000 and 61000. The -p option\n" +
          "selects a specific UDP port number.)\n[mosh is exiting.]\nCLIENT-EXIT=1\n",
      ),
      last,
    );
  } finally {
    await t.kill();
    silent.close();
  }
});

Deno.test("session: Ctrl-^ Ctrl-Z suspends to the shell, fg resumes with a full repaint", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const pane = (s: Server) =>
    Tmux.start({ command: "bash --norc --noprofile", ...clientPaneEnv(s.key) });
  await withSession({ pane }, async (s, t) => {
    await t.sendText(`PS1='outer$ '; ${REPO}/bin/mosh-client 127.0.0.1 ${s.port}\r`);
    await t.waitFor(/^prompt\$/m, 15000);
    await t.sendText("echo inner-one\r");
    await t.waitFor(/^inner-one$/m);
    await t.sendKeys("C-^");
    await t.sendKeys("C-z");
    await t.waitFor("[mosh is suspended.]");
    await t.sendText("echo outer-two\r");
    await t.waitFor(/^outer-two$/m);
    await t.sendText("fg\r");
    // The session's screen is back (repainted over the outer shell's), and it still works.
    const back = await t.waitFor(/^prompt\$ echo inner-one\ninner-one$/m);
    assert.ok(!back.includes("outer-two"), back);
    await t.sendText("exit\r");
    const last = await t.waitFor(/\[mosh is exiting\.\]\nouter\$/);
    assert.ok(!last.includes("did not shut down cleanly"), last);
    assert.ok(await waitGone(s.pid, 5000), "the server exited");
  });
});

Deno.test("session: SIGTERM to the client shuts the session down cleanly", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const dir = await Deno.makeTempDir();
  const pane = (s: Server) =>
    Tmux.start({
      command: `sh -c 'echo $$ > ${dir}/pid; exec ${REPO}/bin/mosh-client 127.0.0.1 ${s.port}'; ` +
        "echo CLIENT-EXIT=$?; exec sleep 600",
      ...clientPaneEnv(s.key),
    });
  try {
    await withSession({ pane }, async (s, t) => {
      await t.waitFor(/^prompt\$/m, 15000);
      Deno.kill(Number(await Deno.readTextFile(`${dir}/pid`)), "SIGTERM");
      const last = await waitPaneDead(t, 15000);
      assert.match(last, /\[mosh is exiting\.\]\nCLIENT-EXIT=0$/m, last);
      assert.ok(await waitGone(s.pid, 5000), "the server exited");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("session: a silent server shows 'Last contact', which goes once it is back", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  await withSession({}, async (s, t) => {
    await t.waitFor(/^prompt\$/m, 15000);
    Deno.kill(s.pid, "SIGSTOP");
    try {
      await t.waitFor(/^mosh: Last contact [789] seconds ago\. \[To quit: Ctrl-\^ \.\]$/m, 12000);
    } finally {
      Deno.kill(s.pid, "SIGCONT");
    }
    await t.sendText("echo back-again\r");
    await t.waitFor(/^back-again$/m, 10000);
    await t.waitFor((screen) => !screen.includes("Last contact"), 3000);
    await t.sendText("exit\r");
    assert.match(await waitPaneDead(t, 15000), /^CLIENT-EXIT=0$/m);
  });
});

Deno.test("session: quitting after the server died says it did not shut down cleanly", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  await withSession({}, async (s, t) => {
    await t.waitFor(/^prompt\$/m, 15000);
    await stopServer(s);
    await t.sendKeys("C-^");
    await t.sendText(".");
    const last = await waitPaneDead(t, 15000);
    assert.ok(
      last.includes(
        "mosh did not shut down cleanly. Please note that the\n" +
          "mosh-server process may still be running on the server.\n" +
          "[mosh is exiting.]\nCLIENT-EXIT=1\n",
      ),
      last,
    );
  });
});

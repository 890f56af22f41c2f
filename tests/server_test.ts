// Tests for server.ts and lib/server_session.ts: the real server started as a user would start
// it, driven by a minimal client built from the wire modules, and by Debian's mosh-client in tmux
// (docs/PROTOCOL.md §7, §6.3, §9.6, §5.6).
import assert from "node:assert/strict";
import { USAGE, VERSION_TEXT } from "../lib/server_args.ts";
import { motdText, settleLocale } from "../lib/shell_plan.ts";
import { U64_MAX } from "../lib/protobuf.ts";
import { Probe } from "./probe.ts";
import { requireDebianPackages } from "./deps.ts";
import { Tmux } from "./tmux.ts";
import { generateStream } from "./workload.ts";
import {
  alive,
  cleanEnv,
  delay,
  OUR_SERVER,
  runCaptured,
  stopServer,
  waitGone,
} from "./harness.ts";

/** Our server's argv after the Deno executable. */
const SERVER = OUR_SERVER.slice(1);
const decoder = new TextDecoder();

interface Started {
  port: number;
  key: string;
  pid: number;
  stdout: string;
  stderr: string;
}

/** Runs the foreground server; returns what it printed and the background server's pid. */
async function startServer(args: string[], env: Record<string, string> = {}): Promise<Started> {
  // These tests signal the server's pid: one process per session (not the user's session host).
  const standalone = args[0] === "new" ? ["new", "--standalone", ...args.slice(1)] : args;
  const out = await runCaptured([...OUR_SERVER, ...standalone], cleanEnv(env));
  const { stdout, stderr } = out;
  assert.equal(out.code, 0, `server failed: ${stderr}`);
  const connect = /^MOSH CONNECT (\d+) ([A-Za-z0-9+/]{22})\n$/.exec(stdout);
  assert.ok(connect, `no MOSH CONNECT line in ${JSON.stringify(stdout)}`);
  const detached = /\[mosh-server detached, pid = (\d+)\]\n$/.exec(stderr);
  assert.ok(detached, `no detached line in ${JSON.stringify(stderr)}`);
  return {
    port: Number(connect[1]),
    key: connect[2],
    pid: Number(detached[1]),
    stdout,
    stderr,
  };
}

Deno.test("server: --help, --version and a bad port range", async () => {
  const run = (args: string[]) => runCaptured([...OUR_SERVER, ...args], cleanEnv());
  assert.deepEqual(await run(["--help"]), { code: 0, stdout: USAGE + "\n", stderr: "" });
  assert.deepEqual(await run(["new", "-h"]), { code: 0, stdout: USAGE + "\n", stderr: "" });
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, VERSION_TEXT + "\n");
  assert.match(version.stdout, /^mosh-server \(mosh-deno\) 1\.4\.0/);
  assert.deepEqual(await run(["new", "-p", "5:3"]), {
    code: 1,
    stdout: "",
    stderr:
      `Low port 5 greater than high port 3\nmosh-server: Bad UDP port range (5:3)\n${USAGE}\n`,
  });
  assert.deepEqual(await run(["new", "-c", "x"]), {
    code: 1,
    stdout: "",
    stderr: `mosh-server: Bad number of colors (x)\n${USAGE}\n`,
  });
  assert.deepEqual(await run(["a", "b", "c"]), { code: 1, stdout: "", stderr: USAGE + "\n" });

  // A port nobody can bind: the background server fails, the foreground reports it and fails.
  const blocker = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  try {
    const port = (blocker.addr as Deno.NetAddr).port;
    const failed = await run(["new", "--standalone", "-p", String(port), "-i", "127.0.0.1"]);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, "");
    assert.match(failed.stderr, /^Network exception: bind: Address already in use$/m);
  } finally {
    blocker.close();
  }
});

Deno.test("server: a session with the probe client (output, input, resize, replies, SIGTERM)", async () => {
  const script = [
    'echo "hello $TERM $NCURSES_NO_UTF8_ACS ${STY-nosty} $PWD"',
    "stty size",
    "while IFS= read -r line; do",
    '  case "$line" in',
    "    size) stty size;;",
    "    da) printf '\\033[c';;",
    "    appcursor) printf '\\033[?1h';;",
    '    *) echo "got:$(printf %s "$line" | od -An -tx1 | tr -d " \\n")";;',
    "  esac",
    "done",
  ].join("\n");
  const home = await Deno.makeTempDir();
  const s = await startServer(
    ["new", "-p", "0", "-i", "127.0.0.1", "-c", "256", "--", "sh", "-c", script],
    { HOME: home, STY: "should-be-removed" },
  );
  const probe = new Probe(s.port, s.key, 100, 30);
  try {
    // The foreground's announcement (stdin is not a terminal: no "\r\n\n" first).
    assert.ok(s.stderr.startsWith(`\n${VERSION_TEXT}\n\n[mosh-server detached, pid = `));
    // The background process is alive and owns the UDP port.
    assert.ok(alive(s.pid));
    const ss = await new Deno.Command("ss", { args: ["-Hunlp"], stdout: "piped" }).output();
    const owner = decoder.decode(ss.stdout).split("\n").find((l) => l.includes(`:${s.port} `));
    assert.ok(owner?.includes(`pid=${s.pid},`), `port ${s.port} owner: ${owner}`);

    // State 1 is the resize; the shell starts only now, at the client's size.
    probe.resize(100, 30);
    await probe.waitFor(/^30 100$/m);
    const lines = probe.lines;
    assert.equal(lines[0], "", "the echoed release newline leaves row 0 blank");
    assert.equal(lines[1], `hello xterm-256color 1 nosty ${home}`);
    assert.equal(probe.remote.terminal.width, 100);

    // Keystrokes reach the shell; the server acknowledges the echo (§6.3).
    probe.type("abc\r");
    await probe.waitFor(/^got:616263$/m);
    const typed = probe.transport.getSentStateLast();
    await probe.until("echo ack", () => probe.remote.echoAck >= typed, 2000);

    // Cursor keys: ESC O A becomes ESC [ A while the application has not set DECCKM...
    probe.type("\x1bOA\r");
    await probe.waitFor(/^got:1b5b41$/m);
    // ...and stays ESC O A once it has.
    probe.type("appcursor\r");
    await probe.run(300);
    probe.type("\x1bOB\r");
    await probe.waitFor(/^got:1b4f42$/m);

    // Consecutive resizes: only the last reaches the pty.
    probe.resize(50, 10);
    probe.resize(90, 20);
    probe.type("size\r");
    await probe.waitFor(/^20 90$/m);
    assert.equal(probe.remote.terminal.width, 90);
    assert.equal(probe.remote.terminal.height, 20);

    // Terminal replies (DA) go back to the application.
    probe.type("da\r");
    await probe.run(300);
    probe.type("\r");
    await probe.waitFor(/got:1b5b3f363263/);

    // SIGTERM: the server starts the shutdown handshake, we acknowledge, it exits.
    Deno.kill(s.pid, "SIGTERM");
    await probe.until("the shutdown state", () => probe.transport.remoteStateNum === U64_MAX);
    await probe.until("our shutdown ack", () => probe.transport.counterpartyShutdownAckSent);
    assert.ok(await waitGone(s.pid, 3000), "server still running after the shutdown handshake");
  } finally {
    await probe.close();
    await stopServer(s);
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("server: the shell's exit ends the session with a clean shutdown", async () => {
  // Also: a non-UTF-8 locale (LANG=C) gives the shell LC_CTYPE=C.UTF-8, with a warning.
  const s = await startServer(
    ["new", "-p", "0", "-i", "127.0.0.1", "--", "sh", "-c", 'echo "bye [$LANG] $LC_CTYPE"'],
    { LANG: "C" },
  );
  assert.match(s.stderr, /^mosh-server: locale "C" is not UTF-8; using LC_CTYPE=C\.UTF-8/m);
  const probe = new Probe(s.port, s.key);
  try {
    probe.resize(80, 24);
    await probe.until("the shutdown state", () => probe.transport.remoteStateNum === U64_MAX);
    assert.equal(probe.lines[1], "bye [] C.UTF-8");
    await probe.until("our shutdown ack", () => probe.transport.counterpartyShutdownAckSent);
    assert.ok(await waitGone(s.pid, 3000));
  } finally {
    await probe.close();
    await stopServer(s);
  }
});

Deno.test("server: a command that cannot be run is reported on the screen", async () => {
  const s = await startServer(["new", "-p", "0", "-i", "127.0.0.1", "--", "no-such-cmd-xyz"]);
  const probe = new Probe(s.port, s.key);
  try {
    probe.resize(80, 24);
    await probe.waitFor(/^mosh-server: execvp: no-such-cmd-xyz: No such file or directory$/m);
    await probe.until(
      "the shutdown state",
      () => probe.transport.remoteStateNum === U64_MAX,
      6000,
    );
  } finally {
    await probe.close();
    await stopServer(s);
  }
});

Deno.test("server: MOSH_SERVER_NETWORK_TMOUT, SIGUSR1 and bad timeout values", async () => {
  // A silent client: the server exits once no client state arrived for 2 s. (As in C, the timer
  // runs from the server's start, and the shutdown it starts is cut short by the next idle pass.)
  const s = await startServer(
    ["new", "-p", "0", "-i", "127.0.0.1", "--", "sh", "-c", "sleep 30"],
    { MOSH_SERVER_NETWORK_TMOUT: "2", MOSH_SERVER_SIGNAL_TMOUT: "abc" },
  );
  assert.match(s.stderr, /^MOSH_SERVER_SIGNAL_TMOUT not a valid integer, ignoring$/m);
  const probe = new Probe(s.port, s.key);
  try {
    probe.resize(80, 24);
    await probe.until("first frame", () => probe.transport.remoteStateNum > 0n);
    const quietSince = performance.now();
    // Stay silent: no ticks, so no acks or heartbeats.
    assert.ok(await waitGone(s.pid, 6000), "server still running after the network timeout");
    assert.ok(performance.now() - quietSince >= 1000, "exited before the network timeout");
  } finally {
    await probe.close();
    await stopServer(s);
  }

  // SIGUSR1 without MOSH_SERVER_SIGNAL_TMOUT always shuts down.
  const t = await startServer(["new", "-p", "0", "-i", "127.0.0.1", "--", "sh", "-c", "sleep 30"], {
    MOSH_SERVER_NETWORK_TMOUT: "-3",
  });
  assert.match(t.stderr, /^MOSH_SERVER_NETWORK_TMOUT is negative, ignoring$/m);
  const probe2 = new Probe(t.port, t.key);
  try {
    probe2.resize(80, 24);
    await probe2.until("first frame", () => probe2.transport.remoteStateNum > 0n);
    Deno.kill(t.pid, "SIGUSR1");
    await probe2.until("the shutdown state", () => probe2.transport.remoteStateNum === U64_MAX);
    await probe2.until("our shutdown ack", () => probe2.transport.counterpartyShutdownAckSent);
    assert.ok(await waitGone(t.pid, 3000));
  } finally {
    await probe2.close();
    await stopServer(t);
  }
});

Deno.test("server: SIGTERM or SIGHUP before any client", async () => {
  const s = await startServer(["new", "-p", "0", "-i", "127.0.0.1"]);
  try {
    Deno.kill(s.pid, "SIGHUP"); // ignored
    await delay(200);
    assert.ok(alive(s.pid), "SIGHUP must be ignored");
    Deno.kill(s.pid, "SIGTERM"); // no client: exit at once
    assert.ok(await waitGone(s.pid, 2000));
  } finally {
    await stopServer(s);
  }
});

/**
 * Runs `script` (sh) under `server.ts new -v`, drives it with a probe client until the screen
 * matches `done`, types "done\r" (the script ends with `read x`) and returns the server's log.
 */
async function verboseSession(
  script: string,
  done: RegExp,
): Promise<{ log: string; local: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...SERVER, "new", "-v", "-p", "0", "-i", "127.0.0.1", "--", "sh", "-c", script],
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // With -v the background server keeps stderr: collect it until the server exits, and learn its
  // pid as soon as the foreground prints it, so that cleanup works even if the test fails.
  let log = "";
  let pid = 0;
  const stderrDone = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) {
      log += dec.decode(chunk, { stream: true });
      pid ||= Number(/detached, pid = (\d+)/.exec(log)?.[1] ?? 0);
    }
  })();
  const stdout = await new Response(child.stdout).text();
  assert.equal((await child.status).code, 0);
  const connect = /MOSH CONNECT (\d+) (\S{22})/.exec(stdout);
  assert.ok(connect, stdout);
  const probe = new Probe(Number(connect[1]), connect[2]);
  try {
    probe.resize(80, 24);
    await probe.waitFor(done);
    probe.type("done\r");
    await probe.until("the shutdown state", () => probe.transport.remoteStateNum === U64_MAX);
    await probe.until("our shutdown ack", () => probe.transport.counterpartyShutdownAckSent);
    await stderrDone;
    return { log, local: probe.connection.localAddr.port };
  } finally {
    await probe.close();
    if (pid !== 0) await stopServer({ pid });
    await stderrDone;
  }
}

Deno.test("server: -v logs the client and never fails the round-trip verification", async () => {
  const { log, local } = await verboseSession(
    "printf 'a\\tb\\033[1;31mred\\033[0m\\n'; seq 1 60; printf '\\033[2J\\033[5;5Hxy'; read x",
    /^ {4}xy$/m,
  );
  assert.match(log, new RegExp(`Server now attached to client at 127\\.0\\.0\\.1:${local}`));
  assert.doesNotMatch(log, /verification failed/);
  assert.match(log, /\[mosh-server is exiting\.\]/);
});

Deno.test("server: -v verification holds on 256 KiB of the benchmark stream", async () => {
  // Every escape the emulator knows, wide characters at margins, scroll regions, colours.
  const file = await Deno.makeTempFile({ suffix: ".vt" });
  try {
    const end = new TextEncoder().encode("\x1b[r\x1b[0m\x1b[H\x1b[2JSTREAM-END");
    const stream = generateStream(20240601, 256 * 1024);
    const bytes = new Uint8Array(stream.length + end.length);
    bytes.set(stream);
    bytes.set(end, stream.length);
    await Deno.writeFile(file, bytes);
    const { log } = await verboseSession(`cat '${file}'; read x`, /^STREAM-END/m);
    assert.doesNotMatch(log, /verification failed/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("server: a login shell starts in $HOME and shows the motd", async () => {
  const home = await Deno.makeTempDir();
  await Deno.writeTextFile(`${home}/.profile`, 'echo "profile ran as $0 in $(pwd)"\n');
  const s = await startServer(["new", "-p", "0", "-i", "127.0.0.1"], {
    HOME: home,
    SHELL: "/bin/sh",
    ENV: "",
  });
  const probe = new Probe(s.port, s.key);
  try {
    probe.resize(80, 24);
    await probe.waitFor(new RegExp(`^profile ran as -sh in ${home}$`, "m"));
    const motd = motdText(home);
    if (motd !== "") {
      const firstLine = motd.split("\r\n").find((l) => l.trim() !== "")!;
      assert.ok(probe.lines.includes(firstLine.trimEnd()), "motd shown");
    }
    probe.type("exit\r");
    await probe.until("the shutdown state", () => probe.transport.remoteStateNum === U64_MAX);
    await probe.until("our shutdown ack", () => probe.transport.counterpartyShutdownAckSent);
    assert.ok(await waitGone(s.pid, 3000));
  } finally {
    await probe.close();
    await stopServer(s);
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("server: Debian's mosh-client works against our server (in tmux)", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const s = await startServer(["new", "-p", "0", "-i", "127.0.0.1", "--", "bash", "--norc"], {
    PS1: "prompt$ ",
  });
  let tmux: Tmux | null = null;
  try {
    tmux = await Tmux.start({
      command: `MOSH_KEY=${s.key} mosh-client 127.0.0.1 ${s.port}; echo "client-exit=$?"`,
      cols: 80,
      rows: 24,
      env: { LANG: "C.UTF-8" },
    });
    await tmux.waitFor(/^prompt\$/m);
    await tmux.sendText("echo hello-$RANDOM\r");
    const screen = await tmux.waitFor(/^hello-\d+$/m);
    assert.match(screen, /prompt\$ echo hello-\$RANDOM/);
    // A window resize travels client -> server -> pty.
    await tmux.resize(100, 30);
    await tmux.sendText("stty size\r");
    await tmux.waitFor(/^30 100$/m);
    await tmux.sendText("exit\r");
    // mosh-client exits with status 0 only after a clean shutdown handshake.
    const screen2 = await tmux.waitFor(/^client-exit=\d+$/m, 5000);
    assert.doesNotMatch(screen2, /did not shut down cleanly/);
    assert.match(screen2, /^client-exit=0$/m);
    assert.ok(await waitGone(s.pid, 3000));
  } finally {
    await tmux?.kill();
    await stopServer(s);
  }
});

Deno.test("server helpers: the locale fallback, as libc sees the locales", () => {
  assert.deepEqual(settleLocale({ LANG: "C.UTF-8", A: "b" }, []), {
    env: { LANG: "C.UTF-8", A: "b" },
    warning: null,
  });
  assert.deepEqual(settleLocale({ LANG: "C", LC_ALL: "POSIX", A: "b" }, ["LC_ALL=C.UTF-8"]), {
    env: { A: "b", LC_ALL: "C.UTF-8" },
    warning: null,
  });
  const fallback = settleLocale({ LANG: "C", A: "b" }, ["LANG=xx_YY.NOPE"]);
  assert.deepEqual(fallback.env, { A: "b", LANG: "xx_YY.NOPE", LC_CTYPE: "C.UTF-8" });
  assert.match(fallback.warning ?? "", /locale "C" is not UTF-8; using LC_CTYPE=C\.UTF-8/);
});

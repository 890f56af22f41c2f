// client.ts as mosh-client: argument-mode detection, option parsing, and the messages and exit
// statuses of every early failure (run as a real process, as a user would meet them).

import assert from "node:assert/strict";
import {
  clientMain,
  detectMode,
  parseClientArgs,
  type Printer,
  terminalColors,
  USAGE_TEXT,
} from "../client.ts";
import { firewallHint } from "../lib/client_session.ts";
import { OUR_CLIENT } from "./harness.ts";
import { RealTerminal, type TerminalIo } from "../lib/real_terminal.ts";

const GOOD_KEY = "AAAAAAAAAAAAAAAAAAAAAA";

/** Runs client.ts with `args` and exactly the environment `env` (plus PATH and HOME). */
async function runClientProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = new Deno.Command(OUR_CLIENT[0], {
    args: [...OUR_CLIENT.slice(1), ...args],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: "/tmp", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Captures what clientMain prints. */
function capture(): Printer & { text: { out: string; err: string } } {
  const text = { out: "", err: "" };
  return { text, out: (s) => void (text.out += s), err: (s) => void (text.err += s) };
}

Deno.test("detectMode: mosh-client forms", () => {
  assert.equal(detectMode(["-c"]), "client");
  assert.equal(detectMode(["-c", "extra"]), "client");
  assert.equal(detectMode(["127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-v", "127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-vv", "-v", "::1", "60001"]), "client");
  assert.equal(detectMode(["2001:db8::1", "1"]), "client");
  // mosh's wrapper passes the original command line as one argument after -#.
  assert.equal(detectMode(["-# 127.0.0.1 |", "127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-#", "host |", "127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-#x", "1.2.3.4", "6x"]), "client");
});

Deno.test("detectMode: everything else is the mosh wrapper", () => {
  assert.equal(detectMode([]), "wrapper");
  assert.equal(detectMode(["user@host"]), "wrapper");
  assert.equal(detectMode(["localhost", "60001"]), "wrapper"); // host + command
  assert.equal(detectMode(["127.0.0.1", "6x"]), "wrapper"); // host + command "6x"
  assert.equal(detectMode(["127.0.0.1"]), "wrapper");
  assert.equal(detectMode(["127.0.0.1", "60001", "x"]), "wrapper");
  assert.equal(detectMode(["--local", "127.0.0.1"]), "wrapper");
  assert.equal(detectMode(["999.0.0.1", "60001"]), "wrapper");
  assert.equal(detectMode(["-x", "127.0.0.1", "60001"]), "wrapper");
  assert.equal(detectMode(["--help"]), "wrapper");
});

Deno.test("parseClientArgs: --no-scrollback (our extension's switch)", () => {
  assert.deepEqual(parseClientArgs(["--no-scrollback", "127.0.0.1", "60001"]), {
    kind: "run",
    ip: "127.0.0.1",
    port: 60001,
    verbose: 0,
    scrollback: false,
    forwards: [],
    agent: false,
  });
  assert.equal(detectMode(["--no-scrollback", "127.0.0.1", "60001"]), "client");
});

Deno.test("parseClientArgs: getopt-style options", () => {
  assert.deepEqual(parseClientArgs(["127.0.0.1", "60001"]), {
    kind: "run",
    ip: "127.0.0.1",
    port: 60001,
    verbose: 0,
    scrollback: true,
    forwards: [],
    agent: false,
  });
  assert.deepEqual(parseClientArgs(["-# mosh host |", "-vv", "::1", "5"]), {
    kind: "run",
    ip: "::1",
    port: 5,
    verbose: 2,
    scrollback: true,
    forwards: [],
    agent: false,
  });
  assert.deepEqual(parseClientArgs(["-#", "a b", "-v", "10.0.0.1", "65535"]), {
    kind: "run",
    ip: "10.0.0.1",
    port: 65535,
    verbose: 1,
    scrollback: true,
    forwards: [],
    agent: false,
  });
  assert.deepEqual(parseClientArgs(["-vc"]), { kind: "colors" });
  assert.deepEqual(parseClientArgs(["-c", "1", "2", "3"]), { kind: "colors" });
  assert.deepEqual(parseClientArgs(["1", "2", "--help"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["--version"]), { kind: "version" });
  assert.deepEqual(parseClientArgs(["-#"]), {
    kind: "error",
    message: "mosh-client: option requires an argument -- '#'",
  });
  assert.deepEqual(parseClientArgs(["-x", "1.2.3.4", "1"]), {
    kind: "error",
    message: "mosh-client: invalid option -- 'x'",
  });
  assert.deepEqual(parseClientArgs(["127.0.0.1"]), { kind: "error", message: "" });
  assert.deepEqual(parseClientArgs(["127.0.0.1", "6x"]), {
    kind: "error",
    message: "mosh-client: Bad UDP port (6x)",
  });
  assert.deepEqual(parseClientArgs(["127.0.0.1", "65536"]), {
    kind: "error",
    message: "mosh-client: Bad UDP port (65536)",
  });
  const bad = parseClientArgs(["-#", "x", "localhost", "1"]);
  assert.equal(bad.kind, "error");
  assert.match((bad as { message: string }).message, /^mosh-client: Bad IP address \(localhost\)/);
});

Deno.test("-c: colours from terminfo, 0 for an unknown or unset TERM", () => {
  assert.equal(terminalColors("xterm-256color"), 256);
  assert.equal(terminalColors("xterm"), 8);
  assert.equal(terminalColors("no-such-terminal-type"), 0);
  assert.equal(terminalColors(undefined), 0);
});

Deno.test("process: -c prints the colour count and exits 0", async () => {
  const [a, b, c] = await Promise.all([
    runClientProcess(["-c"], { TERM: "xterm-256color" }),
    runClientProcess(["-c"], { TERM: "no-such-terminal-type" }),
    runClientProcess(["-c"], {}),
  ]);
  assert.deepEqual(a, { code: 0, stdout: "256\n", stderr: "" });
  assert.deepEqual(b, { code: 0, stdout: "0\n", stderr: "" });
  assert.deepEqual(c, { code: 0, stdout: "0\n", stderr: "" });
});

Deno.test("process: every early failure is one clear message and status 1", async () => {
  const lang = { LANG: "C.UTF-8", TERM: "xterm" };
  const cases: [string[], Record<string, string>, string][] = [
    [["127.0.0.1", "60001"], lang, "MOSH_KEY environment variable not found.\n"],
    [["-v", "::1", "60001"], lang, "MOSH_KEY environment variable not found.\n"],
    [
      ["127.0.0.1", "60001"],
      { ...lang, MOSH_KEY: "abc" },
      "Bad MOSH_KEY: Key must be 22 letters long.\n",
    ],
    [
      ["127.0.0.1", "60001"],
      { ...lang, MOSH_KEY: "AAAAAAAAAAAAAAAAAAAA!A" },
      "Bad MOSH_KEY: Key must be well-formed base64.\n",
    ],
    [
      ["127.0.0.1", "60001"],
      { ...lang, MOSH_KEY: "AAAAAAAAAAAAAAAAAAAAAB" },
      "Bad MOSH_KEY: Base64 key was not encoded 128-bit key.\n",
    ],
    [
      ["127.0.0.1", "60001"],
      { ...lang, MOSH_KEY: GOOD_KEY, MOSH_PREDICTION_DISPLAY: "sometimes" },
      "Unknown prediction mode sometimes.\n",
    ],
    [
      ["127.0.0.1", "60001"],
      { LANG: "C", TERM: "xterm", MOSH_KEY: GOOD_KEY },
      "mosh-client needs a UTF-8 native locale to run.\n",
    ],
    [
      ["-#", "mosh 127.0.0.1 |", "127.0.0.1", "6x"],
      { ...lang, MOSH_KEY: GOOD_KEY },
      "mosh-client: Bad UDP port (6x)\n\n" + USAGE_TEXT,
    ],
    [["-# x", "-z", "127.0.0.1", "1"], lang, "mosh-client: invalid option -- 'z'\n\n" + USAGE_TEXT],
    [["-# x", "127.0.0.1"], lang, USAGE_TEXT],
  ];
  const results = await Promise.all(cases.map(([args, env]) => runClientProcess(args, env)));
  for (let i = 0; i < cases.length; i++) {
    const [args, , expected] = cases[i];
    assert.deepEqual(
      results[i],
      { code: 1, stdout: "", stderr: expected },
      `client.ts ${args.join(" ")}`,
    );
  }
});

Deno.test("process: a valid key without a terminal is one line, status 1", async () => {
  const r = await runClientProcess(["127.0.0.1", "9"], {
    LANG: "C.UTF-8",
    TERM: "xterm",
    MOSH_KEY: GOOD_KEY,
  });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^mosh-client: standard input is not a terminal.*\n$/);
});

Deno.test("process: --help and --version", async () => {
  const [help, version] = await Promise.all([
    runClientProcess(["-c", "--help"], {}),
    runClientProcess(["-#", "mosh 1.2.3.4", "1.2.3.4", "5", "--version"], {}),
  ]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^mosh-client .*1\.4\.0/);
  assert.ok(help.stdout.endsWith(USAGE_TEXT));
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^mosh-client .*1\.4\.0/);
  assert.ok(!version.stdout.includes("Usage"));
});

Deno.test("clientMain removes MOSH_KEY from the environment at once", async () => {
  const saved = {
    key: Deno.env.get("MOSH_KEY"),
    mode: Deno.env.get("MOSH_PREDICTION_DISPLAY"),
    lang: Deno.env.get("LANG"),
  };
  try {
    Deno.env.set("MOSH_KEY", GOOD_KEY);
    Deno.env.set("MOSH_PREDICTION_DISPLAY", "bogus");
    Deno.env.set("LANG", "C.UTF-8");
    const p = capture();
    assert.equal(await clientMain(["127.0.0.1", "60001"], p), 1);
    assert.equal(p.text.err, "Unknown prediction mode bogus.\n");
    assert.equal(Deno.env.get("MOSH_KEY"), undefined);
  } finally {
    for (
      const [name, value] of [["MOSH_KEY", saved.key], [
        "MOSH_PREDICTION_DISPLAY",
        saved.mode,
      ], ["LANG", saved.lang]] as const
    ) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});

Deno.test("firewall hint wording", () => {
  assert.equal(
    firewallHint("127.0.0.1", 60001),
    "\nmosh did not make a successful connection to 127.0.0.1:60001.\n" +
      "Please verify that UDP port 60001 is not firewalled and can reach the server.\n\n" +
      "(By default, mosh uses a UDP port between 60000 and 61000. The -p option\n" +
      "selects a specific UDP port number.)\n",
  );
});

/** A fake terminal for RealTerminal: records writes (in small pieces) and raw-mode changes. */
function fakeIo(reads: (Uint8Array | Error | null)[]) {
  const log: string[] = [];
  let written = "";
  const io: TerminalIo = {
    input: {
      read(buf) {
        const next = reads.shift();
        if (next instanceof Error) return Promise.reject(next);
        if (next === null || next === undefined) return Promise.resolve(null);
        buf.set(next);
        return Promise.resolve(next.length);
      },
      setRaw(mode) {
        log.push(`raw ${mode}`);
      },
      isTerminal: () => true,
    },
    output: {
      writeSync(b) {
        const n = Math.min(b.length, 3); // partial writes: the loop must finish the job
        written += new TextDecoder().decode(b.subarray(0, n));
        return n;
      },
    },
    consoleSize: () => ({ columns: 0, rows: 0 }),
  };
  return { io, log, written: () => written };
}

Deno.test("RealTerminal: open/close sequences, raw mode, partial writes", () => {
  const f = fakeIo([]);
  const rt = new RealTerminal({ smcup: "<smcup>", rmcup: "<rmcup>", io: f.io });
  rt.open();
  assert.equal(f.written(), "<smcup>\x1b[?1h");
  assert.ok(rt.write(new TextEncoder().encode("hello, world")));
  rt.close();
  rt.close(); // idempotent
  assert.equal(
    f.written(),
    "<smcup>\x1b[?1hhello, world\x1b[?1l\x1b[0m\x1b[?25h\x1b[?1003l\x1b[?1002l\x1b[?1001l" +
      "\x1b[?1000l\x1b[?1015l\x1b[?1006l\x1b[?1005l<rmcup>",
  );
  assert.deepEqual(f.log, ["raw true", "raw false"]);
  // A zero size (no terminal size known) falls back to 80x24.
  assert.deepEqual(rt.size(), { cols: 80, rows: 24 });
});

Deno.test("RealTerminal: EOF and EIO end the input; other errors are rethrown", async () => {
  const f = fakeIo([
    new Uint8Array([1, 2]),
    new Error("Input/output error (os error 5)"),
    new Uint8Array([3]),
    null,
    new TypeError("boom"),
  ]);
  const rt = new RealTerminal({ io: f.io });
  const buf = new Uint8Array(16);
  assert.equal(await rt.read(buf), 2);
  assert.equal(await rt.read(buf), null); // EIO: the terminal went away
  assert.equal(await rt.read(buf), 1);
  assert.equal(await rt.read(buf), null); // EOF
  await assert.rejects(() => rt.read(buf), TypeError);
});

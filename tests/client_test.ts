// client.ts as mosh-client, run as a real process as a user would meet it: the messages and exit
// statuses of every early failure, -c, --help and --version. Argument parsing alone:
// tests/client_args_test.ts; the terminal wrapper: tests/real_terminal_test.ts.

import assert from "node:assert/strict";
import { clientMain, type Printer, USAGE_TEXT } from "../client.ts";
import { OUR_CLIENT, type Ran, runCaptured } from "./harness.ts";
import { withEnv } from "./clean_env.ts";

const GOOD_KEY = "AAAAAAAAAAAAAAAAAAAAAA";

/** Runs client.ts with `args` and exactly the environment `env` (plus PATH and HOME). */
function runClientProcess(args: string[], env: Record<string, string>): Promise<Ran> {
  return runCaptured([...OUR_CLIENT, ...args], {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: "/tmp",
    NO_COLOR: "1",
    ...env,
  });
}

/** Captures what clientMain prints. */
function capture(): Printer & { text: { out: string; err: string } } {
  const text = { out: "", err: "" };
  return { text, out: (s) => void (text.out += s), err: (s) => void (text.err += s) };
}

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
  const vars = { MOSH_KEY: GOOD_KEY, MOSH_PREDICTION_DISPLAY: "bogus", LC_ALL: "C.UTF-8" };
  await withEnv(vars, async () => {
    const p = capture();
    assert.equal(await clientMain(["127.0.0.1", "60001"], p), 1);
    assert.equal(p.text.err, "Unknown prediction mode bogus.\n");
    assert.equal(Deno.env.get("MOSH_KEY"), undefined);
  });
});

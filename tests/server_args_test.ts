// Tests for lib/server_args.ts: every command-line form of mosh-server 1.4.0 (§7.1, §2.4).
// The expected messages were taken from Debian's mosh-server 1.4.0.
import assert from "node:assert/strict";
import { DEFAULT_PORT_RANGE } from "../lib/connection.ts";
import { parseServerArgs, type ServerOptions, USAGE } from "../lib/server_args.ts";

function run(args: string[], env: Record<string, string> = {}): {
  options: ServerOptions;
  messages: string[];
} {
  const r = parseServerArgs(args, env);
  assert.equal(r.action, "run", JSON.stringify(r));
  if (r.action !== "run") throw new Error("unreachable");
  return { options: r.options, messages: r.messages };
}

function fail(args: string[]): string[] {
  const r = parseServerArgs(args, {});
  assert.equal(r.action, "fail", JSON.stringify(r));
  if (r.action !== "fail") throw new Error("unreachable");
  return r.messages;
}

Deno.test("server args: defaults and the full new form", () => {
  assert.deepEqual(run([]).options, {
    command: null,
    bindIp: null,
    portRange: { ...DEFAULT_PORT_RANGE },
    colors: 0,
    verbose: 0,
    locales: [],
  });
  const { options, messages } = run([
    "new",
    "-v",
    "-i",
    "127.0.0.1",
    "-p",
    "60010:60020",
    "-c",
    "256",
    "-l",
    "LANG=en_US.UTF-8",
    "-l",
    "LC_ALL=C.UTF-8",
    "-@",
    "swallowed",
    "-v",
    "--",
    "sh",
    "-c",
    "echo -h --version",
  ]);
  assert.deepEqual(messages, []);
  assert.deepEqual(options, {
    command: ["sh", "-c", "echo -h --version"],
    bindIp: "127.0.0.1",
    portRange: { low: 60010, high: 60020 },
    colors: 256,
    verbose: 2,
    locales: ["LANG=en_US.UTF-8", "LC_ALL=C.UTF-8"],
  });
});

Deno.test("server args: getopt forms (clusters, attached arguments, stray words)", () => {
  const { options } = run(["new", "-vvp0", "-i127.0.0.2", "stray", "-c8", "--"]);
  assert.equal(options.verbose, 2);
  assert.deepEqual(options.portRange, { low: 0, high: 0 });
  assert.equal(options.bindIp, "127.0.0.2");
  assert.equal(options.colors, 8);
  assert.equal(options.command, null, "nothing after -- means the login shell");
  // An option argument may itself be "--".
  assert.equal(run(["new", "-l", "--", "-v"]).options.verbose, 1);
  assert.deepEqual(run(["new", "-l", "--", "-v"]).options.locales, ["--"]);
  // Words after -- are the command even when they look like options.
  assert.deepEqual(run(["new", "--", "-v", "-p", "x"]).options.command, ["-v", "-p", "x"]);
});

Deno.test("server args: legacy forms", () => {
  assert.equal(run(["127.0.0.1"]).options.bindIp, "127.0.0.1");
  const { options } = run(["127.0.0.1", "60005"]);
  assert.equal(options.bindIp, "127.0.0.1");
  assert.deepEqual(options.portRange, { low: 60005, high: 60005 });
  assert.deepEqual(fail(["a", "b", "c"]), [USAGE]);
  assert.deepEqual(fail(["127.0.0.1", "abc"]), [
    "Invalid (low) port number (abc)",
    "mosh-server: Bad UDP port range (abc)",
    USAGE,
  ]);
});

Deno.test("server args: help and version", () => {
  assert.deepEqual(parseServerArgs(["--help"]), { action: "help" });
  assert.deepEqual(parseServerArgs(["-h"]), { action: "help" });
  assert.deepEqual(parseServerArgs(["new", "-v", "-h"]), { action: "help" });
  assert.deepEqual(parseServerArgs(["new", "--help"]), { action: "help" });
  assert.deepEqual(parseServerArgs(["--version"]), { action: "version" });
  assert.deepEqual(parseServerArgs(["new", "-v", "--version"]), { action: "version" });
  // After -- they belong to the command.
  assert.equal(parseServerArgs(["new", "--", "ls", "-h"]).action, "run");
  assert.equal(parseServerArgs(["new", "--", "ls", "--version"]).action, "run");
});

Deno.test("server args: unknown options and missing arguments print usage and carry on", () => {
  const { options, messages } = run(["new", "-x", "-v"]);
  assert.equal(options.verbose, 1);
  assert.deepEqual(messages, ["new: invalid option -- 'x'", USAGE]);
  // "--bogus" is read as the letters -, b, o, g, u, s (like C's short-option getopt).
  const bogus = run(["new", "--bogus"], { SSH_CONNECTION: "10.0.0.1 5000 10.0.0.2 22" });
  assert.deepEqual(bogus.messages, [
    "new: invalid option -- '-'",
    USAGE,
    "new: invalid option -- 'b'",
    USAGE,
    "new: invalid option -- 'o'",
    USAGE,
    "new: invalid option -- 'g'",
    USAGE,
    "new: invalid option -- 'u'",
    USAGE,
  ]);
  assert.equal(bogus.options.bindIp, "10.0.0.2");
  assert.deepEqual(run(["new", "-p"]).messages, [
    "new: option requires an argument -- 'p'",
    USAGE,
  ]);
  assert.deepEqual(run(["new", "-c"]).options.colors, 0);
});

Deno.test("server args: -s takes the server address from SSH_CONNECTION", () => {
  assert.equal(
    run(["new", "-s"], { SSH_CONNECTION: "1.2.3.4 5 ::ffff:127.0.0.2 22" }).options.bindIp,
    "127.0.0.2",
  );
  assert.equal(run(["new", "-s"], { SSH_CONNECTION: "1 2 9.9.9.9 4 5" }).options.bindIp, "9.9.9.9");
  assert.equal(
    run(["new", "-s"], { SSH_CONNECTION: "fd00::1 5 fd00::2 22" }).options.bindIp,
    "fd00::2",
  );
  const missing = run(["new", "-s"]);
  assert.equal(missing.options.bindIp, null);
  assert.deepEqual(missing.messages, [
    "Warning: SSH_CONNECTION not found; binding to any interface.",
  ]);
  for (const bad of ["", "a b"]) {
    const r = run(["new", "-s"], { SSH_CONNECTION: bad });
    assert.equal(r.options.bindIp, null);
    assert.deepEqual(r.messages, [
      "Warning: Could not parse SSH_CONNECTION; binding to any interface.",
    ]);
  }
  // The later of -s and -i wins.
  const env = { SSH_CONNECTION: "1 2 127.0.0.3 4" };
  assert.equal(run(["new", "-s", "-i", "127.0.0.4"], env).options.bindIp, "127.0.0.4");
  assert.equal(run(["new", "-i", "127.0.0.4", "-s"], env).options.bindIp, "127.0.0.3");
});

Deno.test("server args: colours", () => {
  for (const [value, n] of [["256", 256], ["-5", -5], ["0", 0], [" 8", 8], ["+8", 8], ["", 0]]) {
    assert.equal(run(["new", "-c", value as string]).options.colors, n);
  }
  for (const bad of ["0x10", "256x", "-", " "]) {
    assert.deepEqual(fail(["new", "-c", bad]), [
      `mosh-server: Bad number of colors (${bad})`,
      USAGE,
    ]);
  }
});

Deno.test("server args: port specifications and their errors", () => {
  const good: [string, number, number][] = [
    ["0", 0, 0],
    ["", 0, 0],
    [" 5", 5, 5],
    ["+5", 5, 5],
    ["00060001", 60001, 60001],
    ["65535:65535", 65535, 65535],
    ["60001:60999", 60001, 60999],
  ];
  for (const [spec, low, high] of good) {
    assert.deepEqual(run(["new", "-p", spec]).options.portRange, { low, high });
  }
  const bad: [string, string][] = [
    ["99999", "(Low) port number 99999 outside valid range [0..65535]"],
    ["-5", "(Low) port number -5 outside valid range [0..65535]"],
    ["70000:80000", "(Low) port number 70000 outside valid range [0..65535]"],
    ["1:99999", "High port number 99999 outside valid range [0..65535]"],
    ["abc", "Invalid (low) port number (abc)"],
    ["5 ", "Invalid (low) port number (5 )"],
    ["1:a", "Invalid high port number (a)"],
    ["a:5", "Invalid (low) port number (a:5)"],
    ["1:2:3", "Invalid high port number (2:3)"],
    ["5:3", "Low port 5 greater than high port 3"],
    ["1:", "Low port 1 greater than high port 0"],
    ["0:5", "Low port 0 incompatible with port ranges"],
    [":5", "Low port 0 incompatible with port ranges"],
  ];
  for (const [spec, why] of bad) {
    assert.deepEqual(fail(["new", "-p", spec]), [
      why,
      `mosh-server: Bad UDP port range (${spec})`,
      USAGE,
    ]);
  }
});

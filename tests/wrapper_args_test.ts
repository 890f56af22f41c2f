// Unit tests of the `mosh` wrapper's pure parts (lib/wrapper_args.ts, lib/wrapper.ts,
// lib/fake_proxy.ts): option parsing, quoting, the exact ssh and server command lines, the
// bootstrap plan and the MOSH lines (docs/PROTOCOL.md §8.0). The wrapper as a process, and every
// failure a user meets: tests/wrapper_test.ts.

import assert from "node:assert/strict";
import {
  checkPortSpec,
  checkUserHost,
  defaultOptions,
  localeSettings,
  parseBootstrapLine,
  parseWrapperArgs,
  predictionMode,
  proxyCommand,
  serverCommandLine,
  type ServerCommandParts,
  shellQuote,
  shellWords,
  sshCommand,
  type WrapperOptions,
} from "../lib/wrapper_args.ts";
import { type CheckedOptions, checkOptions } from "../lib/wrapper.ts";
import { planBootstrap, usesJumpHost } from "../lib/server_bootstrap.ts";
import { orderAddresses, parseFakeProxyArgs } from "../lib/fake_proxy.ts";
import { parseForwardSpec, presetValue } from "../lib/forward_spec.ts";

const KEY = "AAAAAAAAAAAAAAAAAAAAAA";

// ---------------------------------------------------------------------------------------------
// Option parsing

function run(args: string[]): WrapperOptions & { operands: string[] } {
  const parsed = parseWrapperArgs(args);
  if (parsed.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(parsed)}`);
  return { ...parsed.options, operands: parsed.operands };
}

function usageError(args: string[]): string {
  const parsed = parseWrapperArgs(args);
  if (parsed.kind !== "usage-error") throw new Error(`expected an error, got ${parsed.kind}`);
  return parsed.message;
}

Deno.test("parseWrapperArgs: defaults and operands", () => {
  const o = run(["user@host"]);
  assert.deepEqual(o, { ...defaultOptions(), operands: ["user@host"] });
  assert.equal(o.server, "mosh-server");
  assert.equal(o.ssh, "ssh");
  assert.equal(o.family, "prefer-inet");
  assert.equal(o.remoteIp, "proxy");
  assert.equal(o.bindServer, "ssh");
  assert.equal(o.client, null);
  assert.deepEqual(run(["host", "ls", "/tmp"]).operands, ["host", "ls", "/tmp"]);
  assert.deepEqual(run([]).operands, []);
});

Deno.test("parseWrapperArgs: value forms, abbreviations, case, single dash", () => {
  assert.equal(run(["-p", "60001", "h"]).port, "60001");
  assert.equal(run(["--port=60001:60010", "h"]).port, "60001:60010");
  assert.equal(run(["--port", "5", "h"]).port, "5");
  assert.equal(run(["-port=5", "h"]).port, "5");
  assert.equal(run(["--po=5", "h"]).port, "5");
  assert.equal(run(["--ssh", "ssh -p 2222", "h"]).ssh, "ssh -p 2222");
  assert.equal(run(["--ssh=ssh -p 2222", "h"]).ssh, "ssh -p 2222");
  assert.equal(run(["--serv=/opt/mosh-server", "h"]).server, "/opt/mosh-server");
  assert.equal(run(["--c=/bin/mc", "h"]).client, "/bin/mc");
  assert.equal(run(["--b=any", "h"]).bindServer, "any");
  assert.equal(run(["--e=remote", "h"]).remoteIp, "remote");
});

Deno.test("parseWrapperArgs: flags, negations and synonyms", () => {
  assert.equal(run(["-a", "h"]).predict, "always");
  // Getopt::Long ignores case, so C mosh takes -A for -a and -L for --local; here they are ssh's
  // agent and port forwarding (our extension, README "Differences"); other upper-case letters
  // still fold.
  assert.equal(run(["-A", "h"]).predict, null);
  assert.equal(run(["-A", "h"]).agent, true);
  assert.equal(run(["-N", "h"]).predict, "never");
  assert.equal(run(["-n", "h"]).predict, "never");
  assert.equal(run(["--predict=experimental", "h"]).predict, "experimental");
  assert.equal(run(["-a", "-n", "h"]).predict, "never"); // the last one wins
  assert.equal(run(["-o", "h"]).predictOverwrite, true);
  assert.equal(run(["--predict-overwrite", "h"]).predictOverwrite, true);
  assert.equal(run(["-o", "--no-o", "h"]).predictOverwrite, false);
  assert.equal(run(["-4", "h"]).family, "inet");
  assert.equal(run(["-6", "h"]).family, "inet6");
  assert.equal(run(["-6", "--family=all", "h"]).family, "all");
  assert.equal(run(["--no-ssh-pty", "h"]).sshPty, false);
  assert.equal(run(["--nossh-pty", "h"]).sshPty, false);
  assert.equal(run(["--no-ssh", "h"]).sshPty, false); // abbreviation of --no-ssh-pty
  assert.equal(run(["--no-ssh-pty", "--ssh-pty", "h"]).sshPty, true);
  assert.equal(run(["--no-init", "h"]).init, false);
  assert.equal(run(["--local", "h"]).local, true);
  assert.equal(run(["--fake-proxy", "--", "h", "22"]).fakeProxy, true);
});

Deno.test("parseWrapperArgs: options anywhere before --, nothing after it", () => {
  const o = run(["host", "ls", "-p", "5"]);
  assert.equal(o.port, "5");
  assert.deepEqual(o.operands, ["host", "ls"]);
  const p = run(["host", "--", "ls", "-p", "5"]);
  assert.equal(p.port, null);
  assert.deepEqual(p.operands, ["host", "ls", "-p", "5"]);
  assert.deepEqual(run(["--", "-h"]).operands, ["-h"]);
  assert.deepEqual(run(["-", "x"]).operands, ["-", "x"]);
});

Deno.test("parseWrapperArgs: help, version and Getopt::Long's complaints", () => {
  assert.equal(parseWrapperArgs(["--help"]).kind, "help");
  assert.equal(parseWrapperArgs(["--HELP"]).kind, "help");
  assert.equal(parseWrapperArgs(["--h", "host"]).kind, "help");
  assert.equal(parseWrapperArgs(["--version"]).kind, "version");
  assert.equal(parseWrapperArgs(["-v"]).kind, "version");
  assert.equal(usageError(["--bogus", "h"]), "Unknown option: bogus");
  assert.equal(usageError(["-p60001", "h"]), "Unknown option: p60001");
  assert.equal(usageError(["-an", "h"]), "Unknown option: an");
  assert.equal(usageError(["--no-local", "h"]), "Unknown option: no-local");
  assert.equal(
    usageError(["--s=x", "h"]),
    "Option s is ambiguous (scrollback, server, session, ssh, ssh-pty)",
  );
  assert.equal(usageError(["--f=inet", "h"]), "Option f is ambiguous (fake-proxy, family)");
  assert.equal(
    usageError(["--pred=never", "h"]),
    "Option pred is ambiguous (predict, predict-overwrite)",
  );
  assert.equal(usageError(["-p"]), "Option p requires an argument");
  assert.equal(usageError(["--port="]), "Option port requires an argument");
  assert.equal(usageError(["--predict"]), "Option predict requires an argument");
  assert.equal(usageError(["--local=1", "h"]), "Option local does not take an argument");
  assert.equal(usageError(["--ssh-pty=1", "h"]), "Option ssh-pty does not take an argument");
  assert.equal(usageError(["--help=x"]), "Option help does not take an argument");
});

Deno.test("checkPortSpec: mosh's local -p checks and messages", () => {
  for (const good of ["0", "5", "60001", "00005", "65535", "60000:61000", "1:1", "5:65535"]) {
    assert.equal(checkPortSpec(good), null, good);
  }
  const cases: [string, string][] = [
    ["abc", "Server-side port or range (abc) is not valid."],
    ["-5", "Server-side port or range (-5) is not valid."],
    [" 5", "Server-side port or range ( 5) is not valid."],
    ["5:", "Server-side port or range (5:) is not valid."],
    [":5", "Server-side port or range (:5) is not valid."],
    ["1:2:3", "Server-side port or range (1:2:3) is not valid."],
    ["", "Server-side port or range () is not valid."],
    ["70000", "Server-side (low) port (70000) must be within valid range [0..65535]."],
    [
      "99999999999999999999",
      "Server-side (low) port (99999999999999999999) must be within valid range [0..65535].",
    ],
    ["5:70000", "Server-side high port (70000) must be within valid range [1..65535]."],
    ["0:0", "Server-side high port (0) must be within valid range [1..65535]."],
    ["5:3", "Server-side port range (5:3): low port greater than high port."],
    ["0:5", "Server-side port ranges may not be used with starting port 0 (0:5)."],
  ];
  for (const [spec, message] of cases) assert.equal(checkPortSpec(spec), message, spec);
});

Deno.test("predictionMode: option, then MOSH_PREDICTION_DISPLAY, then adaptive", () => {
  assert.deepEqual(predictionMode(null, undefined), { mode: "adaptive" });
  assert.deepEqual(predictionMode(null, "never"), { mode: "never" });
  assert.deepEqual(predictionMode("always", "never"), { mode: "always" });
  assert.deepEqual(predictionMode("bogus", "never"), { error: 'Unknown mode "bogus".' });
  assert.deepEqual(predictionMode(null, "bogus"), {
    error: 'Unknown mode "bogus" (MOSH_PREDICTION_DISPLAY in environment).',
  });
});

Deno.test("checkOptions: family and remote-ip values are checked up front", () => {
  const base = defaultOptions();
  assert.ok("options" in checkOptions(base, {}));
  assert.deepEqual(checkOptions({ ...base, family: "ipx" }, {}), {
    error: 'Unknown address family "ipx" (use inet, inet6, auto, all, prefer-inet, prefer-inet6).',
    usage: false,
  });
  assert.deepEqual(checkOptions({ ...base, remoteIp: "bogus" }, {}), {
    error: 'Unknown --experimental-remote-ip mode "bogus" (use proxy, local or remote).',
    usage: false,
  });
  assert.deepEqual(checkOptions({ ...base, port: "5:3" }, {}), {
    error: "Server-side port range (5:3): low port greater than high port.",
    usage: false,
  });
  assert.deepEqual(checkOptions(base, { MOSH_PREDICTION_DISPLAY: "x" }), {
    error: 'Unknown mode "x" (MOSH_PREDICTION_DISPLAY in environment).',
    usage: true,
  });
});

// ---------------------------------------------------------------------------------------------
// Quoting, words and the command lines

Deno.test("shellQuote: single quotes with '\\'' for a quote", () => {
  assert.equal(shellQuote("new"), "'new'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote("''"), "''\\'''\\'''");
  assert.equal(shellQuote('a b $HOME `x` "q"'), "'a b $HOME `x` \"q\"'");
  assert.equal(shellQuote(""), "''");
});

Deno.test("shellWords: splits --ssh like shellwords", () => {
  assert.deepEqual(shellWords("ssh"), ["ssh"]);
  assert.deepEqual(shellWords("  ssh   -p 2222 "), ["ssh", "-p", "2222"]);
  assert.deepEqual(shellWords("ssh -o 'Foo bar' -i \"/a b/key\""), [
    "ssh",
    "-o",
    "Foo bar",
    "-i",
    "/a b/key",
  ]);
  assert.deepEqual(shellWords("a\\ b \"x\\\"y\" 'it'\\''s' \"\""), ["a b", 'x"y', "it's", ""]);
  assert.deepEqual(shellWords('"a\\b"'), ["a\\b"]);
  assert.throws(() => shellWords("ssh 'oops"), /unterminated ' in: ssh 'oops/);
  assert.throws(() => shellWords('ssh "oops'), /unterminated " in/);
});

Deno.test("localeSettings: every set locale variable, in mosh's order, empty ones too", () => {
  assert.deepEqual(
    localeSettings({ LC_ALL: "C.UTF-8", LANG: "en_US.UTF-8", LC_PAPER: "", HOME: "/root" }),
    ["LANG=en_US.UTF-8", "LC_PAPER=", "LC_ALL=C.UTF-8"],
  );
  assert.deepEqual(localeSettings({ LC_CTYPE: "x", LANGUAGE: "en" }), [
    "LANGUAGE=en",
    "LC_CTYPE=x",
  ]);
  assert.deepEqual(localeSettings({}), []);
});

function parts(p: Partial<ServerCommandParts>): ServerCommandParts {
  return {
    server: "mosh-server",
    colors: 8,
    bindServer: "ssh",
    local: false,
    host: "h",
    port: null,
    locales: ["LANG=C.UTF-8"],
    command: [],
    reportSshConnection: false,
    ...p,
  };
}

Deno.test("serverCommandLine: the remote command, as mosh builds it", () => {
  assert.equal(
    serverCommandLine(parts({})),
    "mosh-server 'new' '-c' '8' '-s' '-l' 'LANG=C.UTF-8'",
  );
  assert.equal(
    serverCommandLine(parts({
      server: "/opt/x/mosh-server --flag",
      port: "60001:60010",
      bindServer: "any",
      command: ["ls", "it's", "a b"],
    })),
    "/opt/x/mosh-server --flag 'new' '-c' '8' '-p' '60001:60010' '-l' 'LANG=C.UTF-8' " +
      "'--' 'ls' 'it'\\''s' 'a b'",
  );
  assert.equal(
    serverCommandLine(parts({ bindServer: "10.0.0.1", command: ["echo", "hi"], colors: 256 })),
    "mosh-server 'new' '-c' '256' '-i' '10.0.0.1' '-l' 'LANG=C.UTF-8' '--' 'echo' 'hi'",
  );
  assert.equal(
    serverCommandLine(parts({ locales: ["LANG=C.UTF-8", "LANGUAGE=en", "LC_PAPER="] })),
    "mosh-server 'new' '-c' '8' '-s' '-l' 'LANG=C.UTF-8' '-l' 'LANGUAGE=en' '-l' 'LC_PAPER='",
  );
  assert.equal(
    serverCommandLine(parts({ locales: [] })),
    "mosh-server 'new' '-c' '8' '-s'",
  );
});

Deno.test("serverCommandLine: -R and -A go to our server as MOSH_DENO_FORWARD (C's ignores it)", () => {
  const rules = [
    parseForwardSpec("L", "8080:localhost:80"),
    parseForwardSpec("R", "9000:localhost:22"),
    parseForwardSpec("R", "[::1]:9001:localhost:23"),
  ];
  const preset = presetValue(rules, true);
  assert.equal(preset, "R1:9000:127.0.0.1 R2:9001:::1 A");
  assert.equal(presetValue([rules[0]], false), "");
  assert.equal(
    serverCommandLine(parts({ forwardPreset: preset, locales: [] })),
    "env 'MOSH_DENO_FORWARD=R1:9000:127.0.0.1 R2:9001:::1 A' mosh-server 'new' '-c' '8' '-s'",
  );
  assert.equal(
    serverCommandLine(parts({ forwardPreset: "", locales: [] })),
    "mosh-server 'new' '-c' '8' '-s'",
  );
});

Deno.test("serverCommandLine: --bind-server with --local", () => {
  const local = { local: true, host: "127.0.0.1" };
  assert.equal(
    serverCommandLine(parts({ ...local, bindServer: "ssh" })),
    "mosh-server 'new' '-c' '8' '-i' '127.0.0.1' '-l' 'LANG=C.UTF-8'",
  );
  assert.equal(
    serverCommandLine(parts({ ...local, bindServer: "any" })),
    "mosh-server 'new' '-c' '8' '-l' 'LANG=C.UTF-8'",
  );
  assert.equal(
    serverCommandLine(parts({ ...local, bindServer: "::1" })),
    "mosh-server 'new' '-c' '8' '-i' '::1' '-l' 'LANG=C.UTF-8'",
  );
});

Deno.test("serverCommandLine: remote mode asks the server side for SSH_CONNECTION first", () => {
  assert.equal(
    serverCommandLine(parts({ reportSshConnection: true, bindServer: "10.0.0.1" })),
    `sh -c '[ -n "$SSH_CONNECTION" ] && printf "\\nMOSH SSH_CONNECTION %s\\n" ` +
      `"$SSH_CONNECTION"' ; mosh-server 'new' '-c' '8' '-i' '10.0.0.1' '-l' 'LANG=C.UTF-8'`,
  );
});

const PROXY_PROGRAM = ["/usr/bin/deno", "run", "/repo/lib/fake_proxy.ts"];

Deno.test("proxyCommand: quoted program, the family, then %h %p; a % in a path is doubled", () => {
  assert.equal(
    proxyCommand(PROXY_PROGRAM, "prefer-inet"),
    "'/usr/bin/deno' 'run' '/repo/lib/fake_proxy.ts' '--family=prefer-inet' -- %h %p",
  );
  assert.equal(
    proxyCommand(["/a%b/it's"], "inet6"),
    "'/a%%b/it'\\''s' '--family=inet6' -- %h %p",
  );
});

Deno.test("sshCommand: the exact ssh argv for each remote-ip mode", () => {
  const remoteCommand = "mosh-server 'new' '-c' '8' '-s' '-l' 'LANG=C.UTF-8'";
  const base = {
    ssh: "ssh",
    sshPty: true,
    remoteIp: "proxy" as const,
    family: "prefer-inet" as const,
    target: "user@example.com",
    remoteCommand,
    proxyProgram: PROXY_PROGRAM,
  };
  assert.deepEqual(sshCommand(base), [
    "ssh",
    "-n",
    "-tt",
    "-S",
    "none",
    "-o",
    "ProxyCommand='/usr/bin/deno' 'run' '/repo/lib/fake_proxy.ts' '--family=prefer-inet' " +
    "-- %h %p",
    "user@example.com",
    "--",
    remoteCommand,
  ]);
  assert.deepEqual(
    sshCommand({ ...base, ssh: "ssh -p 2222 -o 'Foo bar'", family: "inet", sshPty: false }),
    [
      "ssh",
      "-p",
      "2222",
      "-o",
      "Foo bar",
      "-n",
      "-S",
      "none",
      "-o",
      "ProxyCommand='/usr/bin/deno' 'run' '/repo/lib/fake_proxy.ts' '--family=inet' -- %h %p",
      "user@example.com",
      "--",
      remoteCommand,
    ],
  );
  // remote: no ProxyCommand; -4/-6 go to ssh itself.
  assert.deepEqual(sshCommand({ ...base, remoteIp: "remote", family: "inet6" }), [
    "ssh",
    "-n",
    "-tt",
    "-6",
    "user@example.com",
    "--",
    remoteCommand,
  ]);
  assert.deepEqual(sshCommand({ ...base, remoteIp: "remote" }), [
    "ssh",
    "-n",
    "-tt",
    "user@example.com",
    "--",
    remoteCommand,
  ]);
  // local: neither (the address was resolved here and is the target).
  assert.deepEqual(sshCommand({ ...base, remoteIp: "local", family: "inet" }), [
    "ssh",
    "-n",
    "-tt",
    "user@example.com",
    "--",
    remoteCommand,
  ]);
  assert.throws(() => sshCommand({ ...base, ssh: "  " }), /the --ssh command is empty/);
});

function checked(o: Partial<WrapperOptions>): CheckedOptions {
  const result = checkOptions({ ...defaultOptions(), ...o }, {});
  if ("error" in result) throw new Error(result.error);
  return result.options;
}

Deno.test("planBootstrap: ssh in proxy mode runs with SHELL=/bin/sh", () => {
  const plan = planBootstrap(checked({ port: "60001" }), {
    userHost: "me@example.com",
    command: ["top"],
    colors: 256,
    env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8", HOME: "/home/me" },
    proxyProgram: PROXY_PROGRAM,
  });
  assert.deepEqual(plan.env, { SHELL: "/bin/sh" });
  assert.equal(plan.ipSource, "proxy");
  assert.equal(plan.inheritStdin, false);
  assert.equal(plan.cwd, null);
  assert.deepEqual(plan.argv.slice(-3), [
    "me@example.com",
    "--",
    "mosh-server 'new' '-c' '256' '-s' '-p' '60001' '-l' 'LANG=C.UTF-8' '-l' 'LC_ALL=C.UTF-8' " +
    "'--' 'top'",
  ]);
});

Deno.test("planBootstrap: remote and local remote-ip modes", () => {
  const inputs = {
    userHost: "me@example.com",
    command: [],
    colors: 8,
    env: {},
    proxyProgram: PROXY_PROGRAM,
  };
  const remote = planBootstrap(checked({ remoteIp: "remote" }), inputs);
  assert.equal(remote.ipSource, "remote");
  assert.deepEqual(remote.env, {});
  assert.match(remote.argv[remote.argv.length - 1], /^sh -c '\[ -n "\$SSH_CONNECTION" \]/);
  const local = planBootstrap(checked({ remoteIp: "local" }), {
    ...inputs,
    resolvedIp: "192.0.2.7",
  });
  assert.equal(local.ipSource, "known");
  assert.equal(local.ip, "192.0.2.7");
  assert.deepEqual(local.argv, [
    "ssh",
    "-n",
    "-tt",
    "me@192.0.2.7",
    "--",
    "mosh-server 'new' '-c' '8' '-s'",
  ]);
});

Deno.test("planBootstrap: --local runs sh -c in $HOME without SSH_CONNECTION", () => {
  const plan = planBootstrap(checked({ local: true, server: "./bin/mosh-server" }), {
    userHost: "127.0.0.1",
    command: ["bash"],
    colors: 8,
    env: { HOME: "/home/me", LANG: "C.UTF-8" },
    proxyProgram: PROXY_PROGRAM,
    cwd: "/work/repo",
  });
  assert.deepEqual(plan.argv, [
    "sh",
    "-c",
    "'/work/repo/'./bin/mosh-server 'new' '-c' '8' '-i' '127.0.0.1' '-l' 'LANG=C.UTF-8' " +
    "'--' 'bash'",
  ]);
  assert.deepEqual(plan.env, { SSH_CONNECTION: null });
  assert.equal(plan.cwd, "/home/me");
  assert.equal(plan.inheritStdin, true);
  assert.equal(plan.ipSource, "known");
  assert.equal(plan.ip, "127.0.0.1");
  // An absolute or PATH-relative server command is left alone.
  const plain = planBootstrap(checked({ local: true, bindServer: "any" }), {
    userHost: "::1",
    command: [],
    colors: 8,
    env: {},
    proxyProgram: PROXY_PROGRAM,
    cwd: "/work/repo",
  });
  assert.deepEqual(plain.argv, ["sh", "-c", "mosh-server 'new' '-c' '8'"]);
  assert.equal(plain.cwd, "/");
});

Deno.test("usesJumpHost: -J and ProxyJump in --ssh", () => {
  assert.equal(usesJumpHost(shellWords("ssh -p 2222")), false);
  assert.equal(usesJumpHost(shellWords("ssh -J jump@bastion")), true);
  assert.equal(usesJumpHost(shellWords("ssh -Jbastion")), true);
  assert.equal(usesJumpHost(shellWords("ssh -o ProxyJump=bastion")), true);
  assert.equal(usesJumpHost(shellWords("ssh -o 'proxyjump bastion'")), true);
  assert.equal(usesJumpHost(shellWords("ssh -oProxyJump=bastion")), true);
  assert.equal(usesJumpHost(shellWords("ssh -o ProxyJumpy=x")), false);
});

// ---------------------------------------------------------------------------------------------
// The MOSH lines

Deno.test("parseBootstrapLine: MOSH IP, MOSH SSH_CONNECTION, MOSH CONNECT", () => {
  assert.deepEqual(parseBootstrapLine("MOSH IP 192.0.2.1"), { kind: "ip", ip: "192.0.2.1" });
  assert.deepEqual(parseBootstrapLine("MOSH IP ::1\r"), { kind: "ip", ip: "::1" });
  assert.deepEqual(parseBootstrapLine("MOSH IP 1 2"), { kind: "other" });
  assert.deepEqual(
    parseBootstrapLine("MOSH SSH_CONNECTION 10.0.0.5 5555 10.0.0.9 22\r"),
    { kind: "ssh-connection", ip: "10.0.0.9" },
  );
  assert.deepEqual(parseBootstrapLine("MOSH SSH_CONNECTION 10.0.0.5 5555 10.0.0.9 22 x"), {
    kind: "bad",
    message: "Bad MOSH SSH_CONNECTION string: MOSH SSH_CONNECTION 10.0.0.5 5555 10.0.0.9 22 x",
  });
  assert.deepEqual(parseBootstrapLine(`MOSH CONNECT 60001 ${KEY}\r`), {
    kind: "connect",
    port: 60001,
    key: KEY,
  });
  assert.deepEqual(parseBootstrapLine("MOSH CONNECT 60011 FaMphq17zPEASjBKf051Pw"), {
    kind: "connect",
    port: 60011,
    key: "FaMphq17zPEASjBKf051Pw",
  });
  for (
    const bad of [
      `MOSH CONNECT 600x5 ${KEY}`,
      `MOSH CONNECT 60001 ${KEY}A`,
      "MOSH CONNECT 60001 short",
      `MOSH CONNECT 70000 ${KEY}`,
      `MOSH CONNECT 0 ${KEY}`,
    ]
  ) {
    assert.deepEqual(parseBootstrapLine(bad), {
      kind: "bad",
      message: `Bad MOSH CONNECT string: ${bad}`,
    });
  }
  assert.deepEqual(parseBootstrapLine(""), { kind: "other" });
  assert.deepEqual(parseBootstrapLine("Welcome to example.com"), { kind: "other" });
  assert.deepEqual(parseBootstrapLine(` MOSH CONNECT 60001 ${KEY}`), { kind: "other" });
});

// ---------------------------------------------------------------------------------------------
// The fake proxy

Deno.test("orderAddresses: the --family policies", () => {
  const both = [
    { address: "::1", family: 6 },
    { address: "127.0.0.1", family: 4 },
    { address: "127.0.0.2", family: 4 },
  ];
  const order = (f: Parameters<typeof orderAddresses>[2]) => orderAddresses("h", both, f);
  assert.deepEqual(order("prefer-inet"), { addresses: ["127.0.0.1", "127.0.0.2", "::1"] });
  assert.deepEqual(order("prefer-inet6"), { addresses: ["::1", "127.0.0.1", "127.0.0.2"] });
  assert.deepEqual(order("all"), { addresses: ["::1", "127.0.0.1", "127.0.0.2"] });
  assert.deepEqual(order("inet"), { addresses: ["127.0.0.1", "127.0.0.2"] });
  assert.deepEqual(order("inet6"), { addresses: ["::1"] });
  assert.deepEqual(order("auto"), {
    error: "h has both IPv4 and IPv6 addresses; choose one with --family=inet (-4), " +
      "--family=inet6 (-6) or --family=all",
  });
  assert.deepEqual(orderAddresses("h", both.slice(1), "auto"), {
    addresses: ["127.0.0.1", "127.0.0.2"],
  });
  assert.deepEqual(orderAddresses("h", both.slice(1), "inet6"), {
    error: "could not find an IPv6 address for h",
  });
});

Deno.test("parseFakeProxyArgs: [--family=F] [--] HOST PORT", () => {
  assert.deepEqual(parseFakeProxyArgs(["--family=inet", "--", "h", "22"]), {
    host: "h",
    port: "22",
    family: "inet",
  });
  assert.deepEqual(parseFakeProxyArgs(["h", "22"]), {
    host: "h",
    port: "22",
    family: "prefer-inet",
  });
  assert.deepEqual(parseFakeProxyArgs(["--family=x", "h", "22"]), {
    error: 'unknown family "x"',
  });
  assert.ok("error" in parseFakeProxyArgs(["h"]));
});

Deno.test("checkUserHost: a host starting with - or holding shell metacharacters is refused", () => {
  for (const ok of ["host", "user@host", "a.b-c_d.example", "::1", "fe80::1%eth0", "u@192.0.2.1"]) {
    assert.equal(checkUserHost(ok), null, ok);
  }
  assert.equal(checkUserHost("-oProxyCommand=x"), 'host "-oProxyCommand=x" starts with "-"');
  for (
    const bad of ["h;id", "h|x", "h&", "$(id)", "`id`", "h x", "h'", 'h"', "h>f", "h\\n", "h\n"]
  ) {
    assert.ok(checkUserHost(bad)?.includes("shell metacharacter"), bad);
  }
});

Deno.test("parseWrapperArgs: --no-scrollback (our extension's switch)", () => {
  assert.equal(run(["--no-scrollback", "h"]).scrollback, false);
  assert.equal(run(["h"]).scrollback, true);
});

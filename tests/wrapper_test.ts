// The `mosh` wrapper mode of client.ts (lib/wrapper.ts, lib/wrapper_args.ts, lib/fake_proxy.ts):
// option parsing, the exact ssh and server command lines, the MOSH lines, the --fake-proxy
// ProxyCommand, and every failure a user meets with its message and exit status. Failures after
// the options are checked are shown in a real terminal (a tmux pane), as a user meets them.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { requireDebianPackages } from "./deps.ts";
import { OUR_CLIENT } from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { killTagged } from "./sshd.ts";
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
import { type CheckedOptions, checkOptions, planBootstrap, usesJumpHost } from "../lib/wrapper.ts";
import { orderAddresses, parseFakeProxyArgs } from "../lib/fake_proxy.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const KEY = "AAAAAAAAAAAAAAAAAAAAAA";
const decoder = new TextDecoder();

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
  assert.equal(run(["--no-scrollback", "h"]).scrollback, false);
  assert.equal(run(["h"]).scrollback, true);
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
    "Option s is ambiguous (scrollback, server, ssh, ssh-pty)",
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

Deno.test("shellQuote: a real shell gets the words back unchanged", async () => {
  const words = ["it's", "a  b", "$HOME", "`id`", '"', "\\", "'", "", "x\ny", "*"];
  const out = await new Deno.Command("sh", {
    args: ["-c", `printf '%s\\0' ${words.map(shellQuote).join(" ")}`],
    stdout: "piped",
  }).output();
  assert.deepEqual(decoder.decode(out.stdout).split("\0").slice(0, -1), words);
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

/** Starts a Deno program with piped stdio. */
function spawnDeno(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  return text;
}

const FAKE_PROXY_ARGS = [
  "run",
  "--quiet",
  "--no-config",
  "--allow-net",
  `${REPO}lib/fake_proxy.ts`,
];

async function proxyRoundTrip(args: string[], listenHost: string): Promise<void> {
  const listener = Deno.listen({ hostname: listenHost, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const child = spawnDeno([...args, String(port)]);
  const stderr = readAll(child.stderr);
  const stdout = readAll(child.stdout);
  try {
    const conn = await listener.accept();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("hello server"));
    const buf = new Uint8Array(64);
    let got = "";
    while (got.length < 12) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += decoder.decode(buf.subarray(0, n));
    }
    assert.equal(got, "hello server");
    await conn.write(new TextEncoder().encode("hello client"));
    conn.close(); // the server ends the session: the proxy ends too
    await writer.close();
    const status = await child.status;
    assert.equal(await stdout, "hello client");
    assert.equal(await stderr, `MOSH IP ${listenHost}\n`);
    assert.equal(status.code, 0);
  } finally {
    listener.close();
  }
}

Deno.test("fake_proxy.ts: resolves, announces MOSH IP on stderr and relays both ways", async () => {
  await proxyRoundTrip(
    [...FAKE_PROXY_ARGS, "--family=prefer-inet", "--", "localhost"],
    "127.0.0.1",
  );
});

Deno.test("fake_proxy.ts: IPv6 loopback", async () => {
  await proxyRoundTrip([...FAKE_PROXY_ARGS, "--family=inet6", "--", "::1"], "::1");
});

Deno.test("client.ts --fake-proxy: mosh's own ProxyCommand form works too", async () => {
  await proxyRoundTrip([
    "run",
    "--quiet",
    "--config",
    `${REPO}deno.json`,
    "--allow-all",
    `${REPO}client.ts`,
    "--family=inet",
    "--fake-proxy",
    "--",
    "127.0.0.1",
  ], "127.0.0.1");
});

async function proxyFailure(args: string[]): Promise<{ code: number; stderr: string }> {
  const child = spawnDeno([...FAKE_PROXY_ARGS, ...args]);
  await child.stdin.close();
  const [stderr, , status] = await Promise.all([
    readAll(child.stderr),
    readAll(child.stdout),
    child.status,
  ]);
  return { code: status.code, stderr };
}

Deno.test("fake_proxy.ts: one line for each failure", async () => {
  const closed = closedTcpPort();
  assert.deepEqual(await proxyFailure(["--", "127.0.0.1", String(closed)]), {
    code: 1,
    stderr: "mosh: Could not connect to 127.0.0.1, last tried 127.0.0.1: Connection refused\n",
  });
  assert.deepEqual(await proxyFailure(["--", "nonexistent.invalid", "22"]), {
    code: 1,
    stderr: "mosh: could not resolve nonexistent.invalid: Name or service not known\n",
  });
  assert.deepEqual(await proxyFailure(["--family=inet6", "--", "127.0.0.1", "22"]), {
    code: 1,
    stderr: "mosh: could not find an IPv6 address for 127.0.0.1\n",
  });
  assert.deepEqual(await proxyFailure(["--", "127.0.0.1", "ssh"]), {
    code: 1,
    stderr: 'mosh: --fake-proxy: bad port "ssh"\n',
  });
});

// ---------------------------------------------------------------------------------------------
// client.ts in wrapper mode, as a process

/** The client.ts command line (as bin/mosh runs it, with this Deno). */
function clientArgv(args: string[]): string[] {
  return [...OUR_CLIENT, ...args];
}

/** Runs client.ts with `args`, stdin /dev/null, exactly `env` plus PATH and HOME. */
async function runWrapperProcess(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...rest] = clientArgv(args);
  const out = await new Deno.Command(program, {
    args: rest,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: "/tmp",
      LANG: "C.UTF-8",
      TERM: "xterm-256color",
      NO_COLOR: "1",
      ...env,
    },
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("client.ts with no host: the usage on stderr, exit status 255", async () => {
  const r = await runWrapperProcess([]);
  assert.equal(r.code, 255);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^Usage: mosh \[options\] \[--\] \[user@\]host \[command\.\.\.\]\n/);
  assert.match(r.stderr, /--ssh=COMMAND/);
});

Deno.test("client.ts --help and --version print on stdout, exit status 0", async () => {
  const help = await runWrapperProcess(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, "");
  assert.match(help.stdout, /^Usage: mosh /);
  assert.match(help.stdout, /--experimental-remote-ip=\(local\|remote\|proxy\)/);
  const version = await runWrapperProcess(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^mosh \(mosh-deno\) 1\.4\.0/);
});

Deno.test("client.ts: an unknown option is named, then the usage; exit status 255", async () => {
  const r = await runWrapperProcess(["--bogus", "host"]);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^Unknown option: bogus\nUsage: mosh /);
  const ambiguous = await runWrapperProcess(["--s=x", "host"]);
  assert.equal(ambiguous.code, 255);
  assert.match(
    ambiguous.stderr,
    /^Option s is ambiguous \(scrollback, server, ssh, ssh-pty\)\nUsage: /,
  );
});

Deno.test("client.ts: a bad port range is one line, exit status 255", async () => {
  const r = await runWrapperProcess(["-p", "5:3", "host"]);
  assert.equal(r.code, 255);
  assert.equal(r.stderr, "mosh: Server-side port range (5:3): low port greater than high port.\n");
  const zero = await runWrapperProcess(["--port=0:5", "host"]);
  assert.equal(
    zero.stderr,
    "mosh: Server-side port ranges may not be used with starting port 0 (0:5).\n",
  );
  assert.equal(zero.code, 255);
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

Deno.test("client.ts: a refused host is one line and exit status 1, before ssh runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ran = `${dir}/ran`;
    await script(`${dir}/ssh`, `touch '${ran}'\n`);
    for (const host of ["-oProxyCommand=touch /tmp/x", "host;touch /tmp/x", "u@$(id)"]) {
      const r = await runWrapperProcess([`--ssh=${dir}/ssh`, "--", host]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^mosh: refusing host .*\.\n$/);
      assert.equal(r.stderr.split("\n").length, 2, r.stderr);
    }
    await assert.rejects(Deno.stat(ran), "ssh never ran");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.ts: bad prediction modes name their source, then the usage", async () => {
  const r = await runWrapperProcess(["--predict=sometimes", "host"]);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^mosh: Unknown mode "sometimes"\.\n\nUsage: mosh /);
  const env = await runWrapperProcess(["host"], { MOSH_PREDICTION_DISPLAY: "bogus" });
  assert.equal(env.code, 255);
  assert.match(
    env.stderr,
    /^mosh: Unknown mode "bogus" \(MOSH_PREDICTION_DISPLAY in environment\)\.\n\nUsage: /,
  );
});

Deno.test("client.ts: --local needs a numeric address; --ssh needs balanced quotes", async () => {
  const r = await runWrapperProcess(["--local", "localhost"]);
  assert.equal(r.code, 255);
  assert.equal(
    r.stderr,
    'mosh: --local needs a numeric IPv4 or IPv6 address as the host, not "localhost".\n',
  );
  const q = await runWrapperProcess(["--ssh=ssh -o 'x", "host"]);
  assert.equal(q.code, 255);
  assert.equal(q.stderr, "mosh: --ssh: unterminated ' in: ssh -o 'x\n");
});

Deno.test("client.ts: a jump host needs --experimental-remote-ip=remote", async () => {
  const r = await runWrapperProcess(["--ssh=ssh -J jump@bastion", "host"]);
  assert.equal(r.code, 255);
  assert.equal(
    r.stderr,
    "mosh: --ssh names a jump host, which replaces mosh's ProxyCommand; " +
      "add --experimental-remote-ip=remote (as with C mosh).\n",
  );
  // With remote mode it goes on (and stops at the missing terminal, before running ssh).
  const remote = await runWrapperProcess([
    "--ssh=ssh -J jump@bastion",
    "--experimental-remote-ip=remote",
    "host",
  ]);
  assert.equal(remote.code, 1);
  assert.match(remote.stderr, /^mosh: standard input is not a terminal/);
});

Deno.test("client.ts: the built-in client needs a terminal and says so before ssh", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // An ssh that would record being run: it must not be.
    await script(`${dir}/ssh`, `touch ${dir}/ran\n`);
    const r = await runWrapperProcess([`--ssh=${dir}/ssh`, "host"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "mosh: standard input is not a terminal (mosh is for interactive sessions).\n",
    );
    await assert.rejects(Deno.stat(`${dir}/ran`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function script(path: string, body: string): Promise<void> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}`);
  await Deno.chmod(path, 0o755);
}

/** A fake client for --client: answers `-c` with 256, records argv and MOSH_* env, exits 7. */
async function fakeClient(dir: string): Promise<string> {
  const path = `${dir}/client`;
  await script(
    path,
    `if [ "$1" = -c ]; then echo 256; exit 0; fi
printf '%s\\0' "$@" > ${dir}/client-args
env | grep '^MOSH_' | sort > ${dir}/client-env
exit 7
`,
  );
  return path;
}

function nulList(text: string): string[] {
  return text.split("\0").slice(0, -1);
}

Deno.test("client.ts --client: ssh's exact argv, the -# line, MOSH_KEY in the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await script(
      `${dir}/ssh`,
      `printf '%s\\0' "$@" > ${dir}/ssh-args
echo "SHELL=$SHELL MOSH_CLIENT_PID=$MOSH_CLIENT_PID" > ${dir}/ssh-env
echo "MOSH IP 192.0.2.9" >&2
printf 'Welcome to the server\\r\\n'
printf '\\r\\n\\nMOSH CONNECT 60005 ${KEY}\\r\\n'
echo "after connect: not shown"
`,
    );
    const client = await fakeClient(dir);
    const args = [
      `--client=${client}`,
      `--ssh=${dir}/ssh`,
      "-a",
      "--no-init",
      "-o",
      "user@example.com",
      "--",
      "echo",
      "it's",
    ];
    const r = await runWrapperProcess(args, { LC_ALL: "C.UTF-8" });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "Welcome to the server\n\n\n");
    assert.deepEqual(nulList(await Deno.readTextFile(`${dir}/ssh-args`)), [
      "-n",
      "-tt",
      "-S",
      "none",
      "-o",
      `ProxyCommand='${Deno.execPath()}' 'run' '--quiet' '--no-prompt' '--no-config' ` +
      `'--allow-net' '${REPO}lib/fake_proxy.ts' '--family=prefer-inet' -- %h %p`,
      "user@example.com",
      "--",
      "mosh-server 'new' '-c' '256' '-s' '-l' 'LANG=C.UTF-8' '-l' 'LC_ALL=C.UTF-8' " +
      "'--' 'echo' 'it'\\''s'",
    ]);
    assert.match(await Deno.readTextFile(`${dir}/ssh-env`), /^SHELL=\/bin\/sh MOSH_CLIENT_PID=\d+/);
    assert.deepEqual(nulList(await Deno.readTextFile(`${dir}/client-args`)), [
      `-# ${args.join(" ")} |`,
      "192.0.2.9",
      "60005",
    ]);
    const env = (await Deno.readTextFile(`${dir}/client-env`)).trim().split("\n");
    assert.deepEqual(env.filter((l) => !l.startsWith("MOSH_CLIENT_PID=")), [
      `MOSH_KEY=${KEY}`,
      "MOSH_NO_TERM_INIT=1",
      "MOSH_PREDICTION_DISPLAY=always",
      "MOSH_PREDICTION_OVERWRITE=yes",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.ts --experimental-remote-ip=remote: the address from SSH_CONNECTION", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await script(
      `${dir}/ssh`,
      `printf '%s\\0' "$@" > ${dir}/ssh-args
printf '\\nMOSH SSH_CONNECTION 198.51.100.1 5555 192.0.2.44 22\\r\\n'
printf 'MOSH CONNECT 60010 ${KEY}\\r\\n'
`,
    );
    const client = await fakeClient(dir);
    const r = await runWrapperProcess([
      `--client=${client}`,
      `--ssh=${dir}/ssh`,
      "--experimental-remote-ip=remote",
      "-4",
      "--bind-server=any",
      "-p",
      "60010",
      "host",
    ]);
    assert.equal(r.code, 7, r.stderr);
    assert.deepEqual(nulList(await Deno.readTextFile(`${dir}/ssh-args`)), [
      "-n",
      "-tt",
      "-4",
      "host",
      "--",
      `sh -c '[ -n "$SSH_CONNECTION" ] && printf "\\nMOSH SSH_CONNECTION %s\\n" ` +
      `"$SSH_CONNECTION"' ; mosh-server 'new' '-c' '256' '-p' '60010' '-l' 'LANG=C.UTF-8'`,
    ]);
    assert.deepEqual(nulList(await Deno.readTextFile(`${dir}/client-args`)).slice(1), [
      "192.0.2.44",
      "60010",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.ts --local: the server runs in $HOME without SSH_CONNECTION", async () => {
  const dir = await Deno.makeTempDir();
  const home = await Deno.makeTempDir();
  try {
    await script(
      `${dir}/server`,
      `printf '%s\\0' "$@" > ${dir}/server-args
echo "pwd=$(pwd) ssh=\${SSH_CONNECTION-unset}" > ${dir}/server-env
printf 'MOSH CONNECT 60020 ${KEY}\\n'
`,
    );
    const client = await fakeClient(dir);
    const r = await runWrapperProcess(
      [`--client=${client}`, "--local", "--server=./server", "127.0.0.1", "--", "bash"],
      { HOME: home, SSH_CONNECTION: "1.2.3.4 5 6.7.8.9 22" },
      dir, // ./server is relative to where mosh was started
    );
    assert.equal(r.code, 7, r.stderr);
    assert.deepEqual(nulList(await Deno.readTextFile(`${dir}/server-args`)), [
      "new",
      "-c",
      "256",
      "-i",
      "127.0.0.1",
      "-l",
      "LANG=C.UTF-8",
      "--",
      "bash",
    ]);
    assert.equal(
      await Deno.readTextFile(`${dir}/server-env`),
      `pwd=${await Deno.realPath(home)} ssh=unset\n`,
    );
    assert.deepEqual(nulList(await Deno.readTextFile(`${dir}/client-args`)).slice(1), [
      "127.0.0.1",
      "60020",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Failures after the options, in a real terminal

function closedTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Runs client.ts with `args` in a tmux pane until it exits; returns the screen and the exit
 * status. The pane's shell prints the status and stays (tmux may drop a dying pane's last
 * output, and reports `pane_dead_status` late or not at all).
 */
async function inTerminal(
  args: string[],
  during?: (t: Tmux) => Promise<void>,
  env?: Record<string, string>,
): Promise<{ status: number; screen: string }> {
  await requireDebianPackages(["tmux"]);
  const t = await Tmux.start({
    command: `${clientArgv(args).map(shellQuote).join(" ")}; echo "[exit $?]"; exec sleep 60`,
    cols: 200,
    rows: 30,
    env,
    unsetEnv: ["SSH_CONNECTION", "MOSH_PREDICTION_DISPLAY"],
  });
  try {
    if (during) await during(t);
    const screen = await t.waitFor(/^\[exit \d+\]$/m, 30000, { joinWrapped: true });
    const status = Number(/^\[exit (\d+)\]$/m.exec(screen)![1]);
    return { status, screen };
  } finally {
    await t.kill();
  }
}

/** The ssh options that make a real ssh fail fast and never prompt. */
function sshTo(port: number): string {
  return `ssh -F /dev/null -p ${port} -o BatchMode=yes -o StrictHostKeyChecking=no ` +
    "-o UserKnownHostsFile=/dev/null -o ConnectTimeout=5";
}

Deno.test("failure: ssh cannot reach the host (proxy mode quotes the proxy's reason)", async () => {
  await requireDebianPackages(["openssh-client"]);
  const port = closedTcpPort();
  const r = await inTerminal([`--ssh=${sshTo(port)}`, "127.0.0.1"]);
  assert.equal(r.status, 10, r.screen);
  assert.match(
    r.screen,
    /^mosh: ssh failed \(exit status 255\): Could not connect to 127\.0\.0\.1, last tried 127\.0\.0\.1: Connection refused$/m,
  );
});

Deno.test("failure: ssh cannot reach the host (remote mode quotes ssh itself)", async () => {
  await requireDebianPackages(["openssh-client"]);
  const port = closedTcpPort();
  const r = await inTerminal([
    `--ssh=${sshTo(port)}`,
    "--experimental-remote-ip=remote",
    "127.0.0.1",
  ]);
  assert.equal(r.status, 10, r.screen);
  assert.match(
    r.screen,
    new RegExp(
      `^mosh: ssh failed \\(exit status 255\\): ssh: connect to host 127\\.0\\.0\\.1 port ${port}: Connection refused$`,
      "m",
    ),
  );
});

Deno.test("failure: ssh itself cannot be run", async () => {
  const r = await inTerminal(["--ssh=/nonexistent/ssh -p 22", "host"]);
  assert.equal(r.status, 10, r.screen);
  assert.match(r.screen, /^mosh: cannot run \/nonexistent\/ssh: No such file or directory$/m);
});

Deno.test("failure: no MOSH CONNECT (the server printed something else)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await script(`${dir}/server`, "echo 'mosh-server: command not found (pretend)'\nexit 127\n");
    const r = await inTerminal(["--local", `--server=${dir}/server`, "127.0.0.1"]);
    assert.equal(r.status, 10, r.screen);
    assert.match(
      r.screen,
      /^mosh: Did not find mosh server startup message\. \(Have you installed mosh on your server\?\) Last output: "mosh-server: command not found \(pretend\)"$/m,
    );
    // It is said once, in the error line, not also on a line of its own.
    assert.equal(r.screen.split("command not found (pretend)").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failure: a server command that exits but leaves its output open", async () => {
  const dir = await Deno.makeTempDir();
  const tag = crypto.randomUUID();
  try {
    await script(`${dir}/server`, "sleep 30 &\necho 'not a mosh server'\nexit 3\n");
    const start = Date.now();
    const r = await inTerminal(["--local", `--server=${dir}/server`, "127.0.0.1"], undefined, {
      MOSH_TEST_TAG: tag,
    });
    assert.ok(Date.now() - start < 10000, `took ${Date.now() - start} ms`);
    assert.equal(r.status, 10, r.screen);
    assert.match(r.screen, /Last output: "not a mosh server"$/m);
  } finally {
    await killTagged(tag);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failure: the server is missing on the other side of ssh", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // An "ssh" that runs the remote command locally, like a host without mosh-server.
    await script(
      `${dir}/ssh`,
      `while [ "$1" != "--" ]; do shift; done; shift; echo "MOSH IP 127.0.0.1" >&2; exec sh -c "$1"\n`,
    );
    const r = await inTerminal([
      `--ssh=${dir}/ssh`,
      `--server=${dir}/no-such-mosh-server`,
      "host",
    ]);
    assert.equal(r.status, 10, r.screen);
    assert.match(
      r.screen,
      /^mosh: Did not find mosh server startup message\. \(Have you installed mosh on your server\?\) Last output: ".*no-such-mosh-server: not found"$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failure: MOSH CONNECT but no MOSH IP (ProxyCommand overridden)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await script(`${dir}/ssh`, `printf 'MOSH CONNECT 60001 ${KEY}\\r\\n'\n`);
    const r = await inTerminal([`--ssh=${dir}/ssh`, "host"]);
    assert.equal(r.status, 10, r.screen);
    assert.match(
      r.screen,
      /^mosh: Did not find remote IP address \(is SSH ProxyCommand disabled\?\)\.$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failure: malformed MOSH lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await script(
      `${dir}/ssh`,
      `echo "MOSH IP 127.0.0.1" >&2\nprintf 'MOSH CONNECT 600x1 ${KEY}\\r\\n'\nexec sleep 30\n`,
    );
    const bad = await inTerminal([`--ssh=${dir}/ssh`, "host"]);
    assert.equal(bad.status, 10, bad.screen);
    assert.match(
      bad.screen,
      new RegExp(`^mosh: Bad MOSH CONNECT string: MOSH CONNECT 600x1 ${KEY}$`, "m"),
    );

    await script(
      `${dir}/ssh2`,
      `echo "MOSH IP 127.0.0.1" >&2\necho "MOSH IP 127.0.0.2" >&2\nexec sleep 30\n`,
    );
    const twice = await inTerminal([`--ssh=${dir}/ssh2`, "host"]);
    assert.equal(twice.status, 10, twice.screen);
    assert.match(twice.screen, /^mosh: detected attempt to redefine MOSH IP\.$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failure: a MOSH IP after MOSH CONNECT is ignored (the remote side cannot pick it)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // No ProxyCommand MOSH IP; the "server" names an address after its MOSH CONNECT, on stdout
    // and (later than a ProxyCommand's line could be) on stderr.
    await script(
      `${dir}/ssh`,
      `printf 'MOSH CONNECT 60001 ${KEY}\\r\\n'\nsleep 0.3\necho "MOSH IP 127.0.0.2"\n` +
        `sleep 1.5\necho "MOSH IP 127.0.0.3" >&2\n`,
    );
    const r = await inTerminal([`--ssh=${dir}/ssh`, "host"]);
    assert.equal(r.status, 10, r.screen);
    assert.match(
      r.screen,
      /^mosh: Did not find remote IP address \(is SSH ProxyCommand disabled\?\)\.$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failure: UDP blocked: the client's notice and the firewall hint", async () => {
  // A "server" that announces a UDP port where nothing ever answers.
  const silent = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const port = (silent.addr as Deno.NetAddr).port;
  const dir = await Deno.makeTempDir();
  try {
    await script(
      `${dir}/ssh`,
      `echo "MOSH IP 127.0.0.1" >&2\nprintf 'MOSH CONNECT ${port} ${KEY}\\r\\n'\n`,
    );
    const r = await inTerminal([`--ssh=${dir}/ssh`, "host"], async (t) => {
      await t.waitFor(`Nothing received from server on UDP port ${port}.`, 15000);
      await t.sendKeys("C-^");
      await t.sendText(".");
    });
    assert.equal(r.status, 1, r.screen);
    assert.match(
      r.screen,
      new RegExp(`mosh did not make a successful connection to 127\\.0\\.0\\.1:${port}\\.`),
    );
    assert.match(r.screen, new RegExp(`Please verify that UDP port ${port} is not firewalled`));
    assert.match(r.screen, /\[mosh is exiting\.\]/);
  } finally {
    silent.close();
    await Deno.remove(dir, { recursive: true });
  }
});

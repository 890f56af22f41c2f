// The `mosh` wrapper mode of client.ts as a process (lib/wrapper.ts, lib/wrapper_args.ts,
// lib/fake_proxy.ts): the --fake-proxy ProxyCommand, the exact ssh and server command lines it
// runs, and every failure a user meets with its message and exit status. Failures after the
// options are checked are shown in a real terminal (a tmux pane), as a user meets them. The pure
// parts (option parsing, command lines, MOSH lines): tests/wrapper_args_test.ts.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { requireDebianPackages } from "./deps.ts";
import { OUR_CLIENT, withTempDir } from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { killTagged } from "./sshd.ts";
import { shellQuote } from "../lib/wrapper_args.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const KEY = "AAAAAAAAAAAAAAAAAAAAAA";
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// Quoting, checked by a real shell

Deno.test("shellQuote: a real shell gets the words back unchanged", async () => {
  const words = ["it's", "a  b", "$HOME", "`id`", '"', "\\", "'", "", "x\ny", "*"];
  const out = await new Deno.Command("sh", {
    args: ["-c", `printf '%s\\0' ${words.map(shellQuote).join(" ")}`],
    stdout: "piped",
  }).output();
  assert.deepEqual(decoder.decode(out.stdout).split("\0").slice(0, -1), words);
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
    /^Option s is ambiguous \(scrollback, server, session, ssh, ssh-pty\)\nUsage: /,
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
  await withTempDir(async (dir) => {
    // An ssh that would record being run: it must not be.
    await script(`${dir}/ssh`, `touch ${dir}/ran\n`);
    const r = await runWrapperProcess([`--ssh=${dir}/ssh`, "host"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "mosh: standard input is not a terminal (mosh is for interactive sessions).\n",
    );
    await assert.rejects(Deno.stat(`${dir}/ran`));
  });
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
  await withTempDir(async (dir) => {
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
  });
});

Deno.test("client.ts --experimental-remote-ip=remote: the address from SSH_CONNECTION", async () => {
  await withTempDir(async (dir) => {
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
  });
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
  await withTempDir(async (dir) => {
    await script(`${dir}/server`, "echo 'mosh-server: command not found (pretend)'\nexit 127\n");
    const r = await inTerminal(["--local", `--server=${dir}/server`, "127.0.0.1"]);
    assert.equal(r.status, 10, r.screen);
    assert.match(
      r.screen,
      /^mosh: Did not find mosh server startup message\. \(Have you installed mosh on your server\?\) Last output: "mosh-server: command not found \(pretend\)"$/m,
    );
    // It is said once, in the error line, not also on a line of its own.
    assert.equal(r.screen.split("command not found (pretend)").length, 2);
  });
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
  await withTempDir(async (dir) => {
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
  });
});

Deno.test("failure: MOSH CONNECT but no MOSH IP (ProxyCommand overridden)", async () => {
  await withTempDir(async (dir) => {
    await script(`${dir}/ssh`, `printf 'MOSH CONNECT 60001 ${KEY}\\r\\n'\n`);
    const r = await inTerminal([`--ssh=${dir}/ssh`, "host"]);
    assert.equal(r.status, 10, r.screen);
    assert.match(
      r.screen,
      /^mosh: Did not find remote IP address \(is SSH ProxyCommand disabled\?\)\.$/m,
    );
  });
});

Deno.test("failure: malformed MOSH lines", async () => {
  await withTempDir(async (dir) => {
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
  });
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

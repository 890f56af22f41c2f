/**
 * Starting the server for the `mosh` wrapper (docs/PROTOCOL.md §8.5 steps 3-4; the server command
 * line it builds is §7.1): plan the command (`ssh -n -tt … [user@]host -- '<server>' 'new' …`,
 * with our `--fake-proxy` ProxyCommand in the default `proxy` mode, or `sh -c` in $HOME with
 * `--local`), run it, and read its output line by line: `MOSH IP`, `MOSH SSH_CONNECTION`, then
 * `MOSH CONNECT <port> <key>`; anything else is shown to the user. lib/wrapper.ts calls it.
 */

import { errorText } from "./errors.ts";
import { type Printer, stdio } from "./write_all.ts";
import { presetValue } from "./forward_spec.ts";
import type { Family } from "./fake_proxy.ts";
import {
  hostOf,
  localeSettings,
  parseBootstrapLine,
  type RemoteIpMode,
  serverCommandLine,
  shellQuote,
  sshCommand,
  withHost,
  type WrapperOptions,
} from "./wrapper_args.ts";
import { Alarm, sleep } from "./timer.ts";

/** How lib/fake_proxy.ts's failure messages start. */
const PROXY_ERROR_PREFIX = "mosh: ";
/** How long to wait for ssh to end after `MOSH CONNECT` before stopping it (ms). */
const SSH_EXIT_WAIT = 5000;
/** After ssh has ended, how long its pipes may still take to deliver their last lines; after
 * MOSH CONNECT, how long the ProxyCommand's MOSH IP on stderr is still taken (ms). */
const STDERR_DRAIN_WAIT = 1000;
/** A line of ssh output held back (to quote it in a failure) is shown after this long (ms). */
const HOLD_LINE_MS = 500;

/** The checked options the plan uses (lib/wrapper.ts `CheckedOptions` has them). */
export type BootstrapOptions = WrapperOptions & { family: Family; remoteIp: RemoteIpMode };

/** How to start the server and where the UDP address will come from. */
export interface BootstrapPlan {
  /** Program and arguments (ssh, or `sh -c` with `--local`). */
  argv: string[];
  /** Environment changes: a string sets the variable, null removes it. */
  env: Record<string, string | null>;
  /** Working directory ($HOME with `--local`), or null for ours. */
  cwd: string | null;
  /** Give the server our terminal as stdin (`--local`, as mosh), else /dev/null. */
  inheritStdin: boolean;
  /** Where the address comes from: ssh's output, or already known (`ip`). */
  ipSource: "proxy" | "remote" | "known";
  /** The address when `ipSource` is `known`. */
  ip: string | null;
}

/** What `planBootstrap` needs besides the options. */
export interface PlanInputs {
  /** `[user@]host` as given. */
  userHost: string;
  /** The remote command (empty: login shell). */
  command: string[];
  /** The local terminal's colour count. */
  colors: number;
  /** Our environment (for the locale settings and $HOME). */
  env: Record<string, string | undefined>;
  /** The ProxyCommand's program words (proxy mode). */
  proxyProgram: string[];
  /** With `--experimental-remote-ip=local`: the host's address, resolved here. */
  resolvedIp?: string;
  /** Our working directory, for a `./`-relative `--server` with `--local`. */
  cwd?: string;
}

/**
 * Builds the command that starts the server. With `--local`, a `--server` starting with `./`
 * or `../` is made absolute first (the server runs in $HOME, so `task start`'s
 * `--server=./bin/mosh-server` keeps meaning the repository's launcher).
 */
export function planBootstrap(o: BootstrapOptions, p: PlanInputs): BootstrapPlan {
  const host = hostOf(p.userHost);
  let server = o.server;
  if (o.local && p.cwd !== undefined && /^\.\.?\//.test(server)) {
    server = shellQuote(p.cwd.replace(/\/*$/, "/")) + server;
  }
  const remoteCommand = serverCommandLine({
    server,
    colors: p.colors,
    bindServer: o.bindServer,
    local: o.local,
    host,
    port: o.port,
    locales: localeSettings(p.env),
    command: p.command,
    reportSshConnection: !o.local && o.remoteIp === "remote",
    session: o.session,
    // -R and -A in place before the shell starts (lib/forwarding_preset.ts).
    forwardPreset: presetValue(o.forwards, o.agent && !!p.env.SSH_AUTH_SOCK),
  });
  if (o.local) {
    return {
      argv: ["sh", "-c", remoteCommand],
      env: { SSH_CONNECTION: null },
      cwd: p.env.HOME ?? "/",
      inheritStdin: true,
      ipSource: "known",
      ip: host,
    };
  }
  const target = o.remoteIp === "local" && p.resolvedIp !== undefined
    ? withHost(p.userHost, p.resolvedIp)
    : p.userHost;
  const argv = sshCommand({
    ssh: o.ssh,
    sshPty: o.sshPty,
    remoteIp: o.remoteIp,
    family: o.family,
    target,
    remoteCommand,
    proxyProgram: p.proxyProgram,
  });
  return {
    argv,
    env: o.remoteIp === "proxy" ? { SHELL: "/bin/sh" } : {},
    cwd: null,
    inheritStdin: false,
    ipSource: o.remoteIp === "local" ? "known" : o.remoteIp,
    ip: o.remoteIp === "local" ? p.resolvedIp ?? null : null,
  };
}

/** The ProxyCommand program: this Deno running lib/fake_proxy.ts with network access only. */
export function fakeProxyProgram(): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--no-config",
    "--allow-net",
    `${import.meta.dirname}/fake_proxy.ts`,
  ];
}

/** The session the server announced. */
export interface Announced {
  ip: string;
  port: number;
  key: string;
}

/** Reads `stream` as lines (without `\n`); a last unterminated line counts too. */
async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
  } catch {
    // The pipe broke: treat as its end.
  }
  pending += decoder.decode();
  if (pending !== "") onLine(pending);
}

/**
 * Runs the bootstrap command and reads its merged output until `MOSH CONNECT`. Returns the
 * announced session, or the one-line reason (without the `mosh: ` prefix) it failed.
 */
export async function runBootstrap(
  plan: BootstrapPlan,
  print: Printer = stdio,
): Promise<Announced | { error: string }> {
  const env: Record<string, string> = Deno.env.toObject();
  for (const [k, v] of Object.entries(plan.env)) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(plan.argv[0], {
      args: plan.argv.slice(1),
      env,
      clearEnv: true,
      cwd: plan.cwd ?? undefined,
      stdin: plan.inheritStdin ? "inherit" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { error: `cannot run ${plan.argv[0]}: ${errorText(e)}` };
  }

  let ip: string | null = null;
  let sshIp: string | null = null;
  let connect: { port: number; key: string } | null = null;
  let bad: string | null = null;
  let proxyError: string | null = null;
  // The latest line shown to the user is held back briefly, so that a failure can quote it
  // in its one line instead of repeating it.
  let held: string | null = null;
  const holdTimer = new Alarm(() => flushHeld());
  let exited = false; // once the command has exited, its last line waits for the verdict
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => settle = resolve);

  const flushHeld = () => {
    holdTimer.clear();
    if (held !== null) print.out(held + "\n");
    held = null;
  };
  let connectAt = 0;
  const onLine = (raw: string, from: "stdout" | "stderr") => {
    if (bad !== null) return; // keep draining
    const line = raw.replace(/\r$/, "");
    const parsed = parseBootstrapLine(line);
    if (connect !== null) {
      // mosh reads one merged stream and stops at MOSH CONNECT: nothing after it counts. We
      // read stdout and stderr apart, so the ProxyCommand's MOSH IP (stderr), written before ssh
      // even connected, may still be on its way when the server's MOSH CONNECT (stdout) has
      // been read; take that one line from stderr within STDERR_DRAIN_WAIT, ignore the rest (a
      // remote program must not choose the address the client goes to).
      if (
        parsed.kind === "ip" && ip === null && from === "stderr" &&
        performance.now() - connectAt <= STDERR_DRAIN_WAIT
      ) {
        ip = parsed.ip;
      }
      return;
    }
    switch (parsed.kind) {
      case "ip":
        if (ip !== null) bad = "detected attempt to redefine MOSH IP.";
        else ip = parsed.ip;
        break;
      case "ssh-connection":
        sshIp = parsed.ip;
        break;
      case "connect":
        connect = parsed;
        connectAt = performance.now();
        break;
      case "bad":
        bad = parsed.message;
        break;
      case "other":
        // Our ProxyCommand's own failure: quoted in the one line ssh's failure gets.
        if (plan.ipSource === "proxy" && line.startsWith(PROXY_ERROR_PREFIX)) {
          proxyError = line.slice(PROXY_ERROR_PREFIX.length);
          return;
        }
        flushHeld();
        if (line.trim() === "") {
          print.out(line + "\n");
        } else {
          held = line;
          if (!exited) holdTimer.set(HOLD_LINE_MS);
        }
        return;
    }
    if (connect !== null || bad !== null) settle();
  };
  const readers = Promise.all([
    forEachLine(child.stdout, (line) => onLine(line, "stdout")),
    forEachLine(child.stderr, (line) => onLine(line, "stderr")),
  ]);
  // Done at MOSH CONNECT (or a bad line), or when the output ends: the pipes close, or the
  // command exits and whatever it left running keeps them open a while longer.
  const exit = child.status.then(() => {
    exited = true;
    holdTimer.clear();
    return timeout(readers, STDERR_DRAIN_WAIT);
  });
  await Promise.race([settled, readers, exit]);

  if (connect !== null || bad !== null) {
    flushHeld();
    if (bad !== null) {
      await stop(child, 0);
      return { error: bad };
    }
    // ssh normally ends by itself once the server has detached; don't wait forever for it.
    await stop(child, SSH_EXIT_WAIT);
    if (plan.ipSource === "proxy" && ip === null) {
      await timeout(readers, Math.max(0, connectAt + STDERR_DRAIN_WAIT - performance.now()));
    }
    const found: { port: number; key: string } = connect!;
    const address = plan.ipSource === "known" ? plan.ip : ip ?? sshIp;
    if (address === null) {
      return { error: "Did not find remote IP address (is SSH ProxyCommand disabled?)." };
    }
    return { ip: address, port: found.port, key: found.key };
  }

  const status = await child.status;
  holdTimer.clear();
  let last = held as string | null;
  held = null;
  if (proxyError !== null) {
    if (last !== null) print.out(last + "\n");
    last = proxyError;
  }
  if (plan.ipSource !== "known" && status.code === 255) {
    const quote = last !== null ? `: ${last}` : "";
    return { error: `ssh failed (exit status 255)${quote}` };
  }
  const said = last !== null ? ` Last output: "${last}"` : "";
  return {
    error: "Did not find mosh server startup message. (Have you installed mosh on your server?)" +
      said,
  };
}

/** Waits for `promise` or `ms`, whichever comes first. */
async function timeout(promise: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([promise, sleep(ms)]);
}

/** Waits up to `ms` for `child` to end, then stops it (SIGTERM) and reaps it. */
async function stop(child: Deno.ChildProcess, ms: number): Promise<void> {
  const timedOut = await Promise.race([child.status.then(() => false), sleep(ms).then(() => true)]);
  if (timedOut) {
    try {
      child.kill("SIGTERM");
    } catch {
      // It ended meanwhile.
    }
  }
  await child.status;
}

/**
 * True if ssh's words set a jump host (`-J HOST`, `-JHOST`, `-o ProxyJump=…`): ssh then ignores
 * our ProxyCommand, so the proxy mode cannot learn the server's address.
 */
export function usesJumpHost(words: readonly string[]): boolean {
  return words.some((w, i) =>
    w.startsWith("-J") || /^-oProxyJump[= ]/i.test(w) ||
    (w === "-o" && /^ProxyJump[= ]/i.test(words[i + 1] ?? ""))
  );
}

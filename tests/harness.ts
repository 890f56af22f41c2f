/**
 * Processes for tests and benches: the command lines of our server and client, starting our
 * mosh-server or Debian's and reading its `MOSH CONNECT` line and detached pid
 * (docs/PROTOCOL.md §7.1), a client in a tmux pane, and what /proc says about a process (alive,
 * children, argv, memory, CPU time). Shared by the end-to-end tests in tests/ and by bench/.
 *
 * @example
 * ```ts
 * const server = await startServer("ours", { verbose: true });
 * const tmux = await startClient(server.port, server.key);
 * try {
 *   await tmux.waitFor(/^prompt\$/m, 20000);
 *   await server.err.waitFor(/attached to client at/, 5000);
 * } finally {
 *   await tmux.kill();
 *   await stopServer(server);
 * }
 * ```
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { shellQuote } from "../lib/wrapper_args.ts";
import { Tmux } from "./tmux.ts";
import { cleanEnv } from "./clean_env.ts";
import { V8_FLAGS } from "../lib/heap_hygiene.ts";

// ---------------------------------------------------------------------------------------------
// Command lines

/** The repository's directory (no trailing slash). */
export const REPO = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** `deno run` with this Deno and the repository's deno.json, before the permission flags. */
export const DENO_RUN = [
  Deno.execPath(),
  "run",
  "--quiet",
  "--no-prompt",
  "--config",
  `${REPO}/deno.json`,
];

/** argv of our server (server.ts), as bin/mosh-server runs it. */
export const OUR_SERVER = [
  ...DENO_RUN,
  ...["--unstable-net", "--allow-net", "--allow-ffi", "--allow-read", "--allow-env", "--allow-run"],
  ...["--allow-write", "--allow-sys=uid"],
  `${REPO}/server.ts`,
];

/** argv of our client (client.ts), as bin/mosh-client runs it. */
export const OUR_CLIENT = [
  ...DENO_RUN,
  ...["--unstable-net", "--allow-net", "--allow-env", "--allow-read", "--allow-run"],
  `--v8-flags=${V8_FLAGS}`, // as bin/mosh-client: flat resident memory
  `${REPO}/client.ts`,
];

/** The prompt of the shell `startServer` runs (PS1). */
export const PROMPT = "prompt$ ";

/** The shell `startServer` runs by default. */
export const SHELL = ["bash", "--norc", "--noprofile"];

/** Which implementation: ours (Deno) or Debian's (C mosh 1.4.0). */
export type Kind = "ours" | "debian";

/** A sleep; no timer outlives it. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One shell command line from `argv` (every word quoted). */
export function shellCommand(argv: string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for listeners a test names). */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

/** The environment of every process a test starts (its owner is clean_env.ts). */
export { cleanEnv };

// ---------------------------------------------------------------------------------------------
// A child's output

/** What a finished process printed, decoded, and its exit code. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` with stdin from /dev/null and exactly the environment `env`; waits for its end. */
export async function runCaptured(argv: string[], env: Record<string, string>): Promise<Ran> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Collects a stream's text as it arrives. With `keep`, only about the newest `keep` characters
 * are kept (the counters below still see every line). It also follows a mosh-server -v log:
 * `rejected`, `malformed` and `attached`.
 */
export class Output {
  text = "";
  /** The newest "Rejected datagrams: N" count seen (our server's -v log). */
  rejected = 0;
  /** The newest "malformed N" count in that line (instructions the transport dropped). */
  malformed = 0;
  /** Every "attached to client at ADDR" seen. */
  readonly attached: string[] = [];
  /** Resolves when the stream ended or reading was cancelled. */
  readonly done: Promise<void>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(stream: ReadableStream<Uint8Array>, readonly keep = Infinity) {
    const reader = stream.getReader();
    this.#reader = reader;
    this.done = (async () => {
      const decoder = new TextDecoder();
      let partial = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const chunk = decoder.decode(value, { stream: true });
          const lines = (partial + chunk).split("\n");
          partial = lines.pop()!;
          for (const line of lines) this.#scan(line);
          this.text += chunk;
          if (this.text.length > 2 * this.keep) this.text = this.text.slice(-this.keep);
        }
      } catch {
        // cancelled
      }
    })();
  }

  #scan(line: string): void {
    const r = /^Rejected datagrams: (\d+)/.exec(line);
    if (r !== null) this.rejected = Number(r[1]);
    const m = /malformed (\d+)\)/.exec(line);
    if (m !== null) this.malformed = Number(m[1]);
    const a = /attached to client at (\S+)/.exec(line);
    if (a !== null) this.attached.push(a[1]);
  }

  /** Waits for `pattern` in the text so far; throws with the text on timeout. */
  async waitFor(pattern: RegExp, ms: number, what = String(pattern)): Promise<RegExpExecArray> {
    const deadline = performance.now() + ms;
    for (;;) {
      const m = pattern.exec(this.text);
      if (m !== null) return m;
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${ms} ms waiting for ${what} in:\n${this.text.slice(-3000)}`,
        );
      }
      await delay(50);
    }
  }

  /** Waits up to `ms` for the writers to close the stream, then stops reading. */
  async close(ms = 3000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.done.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms))),
    ]);
    clearTimeout(timer);
    if (timedOut) await this.#reader.cancel().catch(() => {});
    await this.done;
  }
}

// ---------------------------------------------------------------------------------------------
// /proc

/** The text of /proc/PID/NAME, or "" when it cannot be read (the process is gone). */
export function procFile(pid: number, name: string): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/${name}`);
  } catch {
    return "";
  }
}

/** The fields of /proc/PID/stat after the command name (index 0 is field 3, the state). */
function statFields(pid: number): string[] | null {
  const stat = procFile(pid, "stat");
  return stat === "" ? null : stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== "Z" && f[0] !== "X";
}

/** Waits up to `ms` for `pid` to end; false if it is still alive then. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (alive(pid)) {
    if (performance.now() > deadline) return false;
    await delay(20);
  }
  return true;
}

/** Sends `signal` to `pid`, if it still exists. */
export function kill(pid: number, signal: Deno.Signal = "SIGKILL"): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Every descendant of `pid`, breadth first (children before grandchildren). Parents are read
 * from every /proc/PID/stat, so children that any thread started are found.
 */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const f = statFields(Number(entry.name));
    if (f === null) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry.name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const kids = children.get(queue.shift()!) ?? [];
    out.push(...kids);
    queue.push(...kids);
  }
  return out;
}

/** The argv of `pid` ([] when it is gone). */
export function cmdline(pid: number): string[] {
  return procFile(pid, "cmdline").split("\0").filter((s) => s !== "");
}

/** Resident memory (VmRSS) of `pid` in kB, or null when it is gone. */
export function rssKb(pid: number): number | null {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(procFile(pid, "status"));
  return m === null ? null : Number(m[1]);
}

/** Resident memory (VmRSS) of `pid` in MiB; throws when it is gone. */
export function rssMiB(pid: number): number {
  const kb = rssKb(pid);
  if (kb === null) throw new Error(`process ${pid} is gone`);
  return kb / 1024;
}

let clockTicks = 0;

/** CLK_TCK, the unit of /proc/PID/stat times (`getconf CLK_TCK`; 100 if that fails). */
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    clockTicks = 100;
    try {
      const out = new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync();
      const n = Number(new TextDecoder().decode(out.stdout).trim());
      if (Number.isInteger(n) && n > 0) clockTicks = n;
    } catch {
      // keep 100
    }
  }
  return clockTicks;
}

function statTime(pid: number, index: number): number {
  const f = statFields(pid);
  if (f === null) throw new Error(`process ${pid} is gone`);
  return Number(f[index]) / ticksPerSecond();
}

/** User CPU seconds of `pid` (all its threads; utime); throws when it is gone. */
export function userSeconds(pid: number): number {
  return statTime(pid, 11);
}

/** Kernel CPU seconds of `pid` (all its threads; stime); throws when it is gone. */
export function systemSeconds(pid: number): number {
  return statTime(pid, 12);
}

/** CPU seconds of `pid` (utime + stime); throws when it is gone. */
export function cpuSeconds(pid: number): number {
  return userSeconds(pid) + systemSeconds(pid);
}

// ---------------------------------------------------------------------------------------------
// Servers

/** A running mosh server (detached), with everything its foreground and -v log printed. */
export interface Server {
  kind: Kind;
  port: number;
  key: string;
  /** The detached server's pid. */
  pid: number;
  /** stdout and stderr (with -v, the daemon's log keeps arriving in `err`). */
  out: Output;
  err: Output;
}

/** Options of `startServer`. */
export interface ServerOptions {
  /** Pass -v: the detached server logs to `err`. */
  verbose?: boolean;
  /** The address to bind (-i). Default 127.0.0.1. */
  ip?: string;
  /** The command after `--`. Default SHELL. */
  command?: string[];
  /** More environment (after PS1=PROMPT, HOME=/tmp, HISTFILE=/dev/null). */
  env?: Record<string, string>;
  /** Ours only: start it through bin/mosh-server, as the mosh wrapper does. */
  launcher?: boolean;
  /** Keep only about this many of the newest characters of the output (for long -v logs). */
  keep?: number;
  /** Ours only: through the session host (set MOSH_DENO_DIR in `env`), not --standalone. */
  host?: boolean;
}

/**
 * Starts our server or Debian's as `new [-v] -p 0 -i IP -- command` in a clean environment and
 * returns once it printed MOSH CONNECT and its detached pid (without -v, once its output ended).
 * Throws with its output if it fails.
 */
export async function startServer(kind: Kind, opts: ServerOptions = {}): Promise<Server> {
  const argv = kind === "debian"
    ? ["mosh-server"]
    : opts.launcher
    ? [`${REPO}/bin/mosh-server`]
    : OUR_SERVER;
  // Tests signal the server's pid: ours runs one process per session (--standalone), unless a
  // test asks for the session host (then with its own MOSH_DENO_DIR in `env`).
  const mode = kind === "ours" && !opts.host ? ["--standalone"] : [];
  const args = [...argv.slice(1), "new", ...mode, ...(opts.verbose ? ["-v"] : []), "-p", "0", "-i"];
  args.push(opts.ip ?? "127.0.0.1", "--", ...(opts.command ?? SHELL));
  const child = new Deno.Command(argv[0], {
    args,
    env: cleanEnv({ PS1: PROMPT, HOME: "/tmp", HISTFILE: "/dev/null", ...opts.env }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = new Output(child.stdout, opts.keep);
  const err = new Output(child.stderr, opts.keep);
  const status = await child.status;
  try {
    if (status.code !== 0) {
      throw new Error(`${kind} mosh-server failed (${status.code}):\n${out.text}\n${err.text}`);
    }
    const connect = await out.waitFor(/MOSH CONNECT (\d+) ([A-Za-z0-9+/]{22})/, 10000);
    const detached = await err.waitFor(/\[mosh-server detached, pid = (\d+)\]/, 10000);
    // Without -v the detached server closes its copies of the pipes: wait for that.
    if (!opts.verbose) await Promise.all([out.close(10000), err.close(10000)]);
    return { kind, port: Number(connect[1]), key: connect[2], pid: Number(detached[1]), out, err };
  } catch (e) {
    const m = /pid = (\d+)/.exec(err.text);
    if (m) kill(Number(m[1]));
    await out.close(500);
    await err.close(500);
    throw e;
  }
}

/** The server's output so far (stdout and stderr). */
export function serverLog(s: Server): string {
  return s.out.text + s.err.text;
}

/**
 * Waits up to `ms` for `pattern` in a server's output (stdout and stderr). Its last lines can
 * reach us after the process is gone (the pipes are read asynchronously), so match with this
 * rather than once.
 */
export async function waitServerLog(s: Server, pattern: RegExp, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pattern.test(serverLog(s))) {
    if (performance.now() > deadline) {
      assert.match(serverLog(s), pattern);
    }
    await delay(50);
  }
}

/**
 * Ends a server (SIGKILL unless it is already gone), waits up to 5 s for it to go, and stops
 * reading its output. Accepts any `{ pid }`, and null (nothing started).
 */
export async function stopServer(
  s: { pid: number; out?: Output; err?: Output } | null,
): Promise<void> {
  if (s === null) return;
  if (alive(s.pid)) {
    kill(s.pid);
    await waitGone(s.pid, 5000);
  }
  await s.out?.close();
  await s.err?.close();
}

// ---------------------------------------------------------------------------------------------
// Clients

/** Which client: ours (client.ts), ours through bin/mosh-client, or Debian's mosh-client. */
export type ClientKind = Kind | "launcher";

/**
 * The client's variables that tune its behaviour; a pane gets them only when asked (`env`), so
 * the developer's own settings cannot change a test.
 */
const CLIENT_TUNING = [
  "MOSH_ESCAPE_KEY",
  "MOSH_PREDICTION_DISPLAY",
  "MOSH_PREDICTION_OVERWRITE",
  "MOSH_TITLE_NOPREFIX",
];

/** The shell command that starts client `kind` (without its IP PORT arguments). */
export function clientProgram(kind: ClientKind): string {
  return kind === "debian"
    ? "mosh-client"
    : kind === "launcher"
    ? shellQuote(`${REPO}/bin/mosh-client`)
    : shellCommand(OUR_CLIENT);
}

/** Options of `startClient`. */
export interface ClientOptions {
  /** Which client. Default ours. */
  client?: ClientKind;
  /** The server's address. Default 127.0.0.1. */
  ip?: string;
  /** More environment for the pane (MOSH_KEY and LANG=C.UTF-8 are set). */
  env?: Record<string, string>;
  /** The pane's size. Default 80x24. */
  cols?: number;
  rows?: number;
  /** Options before IP PORT (e.g. ["-v"]). */
  args?: string[];
  /** Where the client's stderr goes (a file); default the pane. */
  stderrFile?: string;
  /** The pane's scrollback (tmux history-limit); default 5000. */
  historyLimit?: number;
  /** The pane's TERM (tmux default-terminal); default xterm-256color. */
  term?: string;
}

/** The environment options of `Tmux.start` for a client with `key` (and `env`). */
export function clientPaneEnv(
  key: string,
  env: Record<string, string> = {},
): { env: Record<string, string>; unsetEnv: string[] } {
  return {
    env: { LANG: "C.UTF-8", MOSH_KEY: key, ...env },
    unsetEnv: ["RUST_BACKTRACE", ...CLIENT_TUNING.filter((k) => !(k in env))],
  };
}

/**
 * A client in a tmux pane, talking to `ip`:`port`. When it ends the pane shows
 * `CLIENT-EXIT=<status>` and stays alive (a pane that dies at once sometimes loses its last lines
 * in tmux).
 */
export async function startClient(
  port: number,
  key: string,
  opts: ClientOptions = {},
): Promise<Tmux> {
  const program = clientProgram(opts.client ?? "ours");
  return await Tmux.start({
    command: [
      program,
      ...(opts.args ?? []),
      opts.ip ?? "127.0.0.1",
      String(port),
      ...(opts.stderrFile === undefined ? [] : [`2>${opts.stderrFile}`]),
    ].join(" ") + "; echo CLIENT-EXIT=$?; exec sleep 600",
    cols: opts.cols ?? 80,
    rows: opts.rows ?? 24,
    historyLimit: opts.historyLimit,
    term: opts.term,
    ...clientPaneEnv(key, opts.env),
  });
}

/** The pid of the client process in the pane (ours: the Deno process; or mosh-client). */
export async function clientPid(t: Tmux, ms = 15000): Promise<number> {
  const pane = Number(await t.display("#{pane_pid}"));
  const deadline = performance.now() + ms;
  for (;;) {
    for (const pid of [pane, ...descendants(pane)]) {
      if (cmdline(pid).some((a) => a.endsWith("/client.ts"))) return pid;
      if (procFile(pid, "comm").trim() === "mosh-client") return pid;
    }
    if (performance.now() > deadline) {
      throw new Error(`no client process under pane pid ${pane}`);
    }
    await delay(50);
  }
}

/** Runs `body` with a new temporary directory, and removes the directory however it ended. */
export async function withTempDir<T>(
  body: (dir: string) => Promise<T>,
  prefix = "mosh-test-",
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

/** Options of `withSession`. */
export interface SessionOptions {
  /** Which server. Default ours, started through bin/mosh-server as the mosh wrapper does. */
  server?: Kind;
  /** Which client. Default ours through bin/mosh-client. */
  client?: ClientKind;
  /** The address the server binds and the client talks to. Default 127.0.0.1. */
  ip?: string;
  /** Starts the pane another way (the default is `startClient`). */
  pane?: (server: Server) => Promise<Tmux>;
}

/**
 * Starts a server and, in a tmux pane, a client connected to it; runs `body` with both; then
 * ends the pane and the server, however `body` ended.
 */
export async function withSession<T>(
  opts: SessionOptions,
  body: (server: Server, pane: Tmux) => Promise<T>,
): Promise<T> {
  const ip = opts.ip ?? "127.0.0.1";
  const server = await startServer(opts.server ?? "ours", { ip, launcher: true });
  let pane: Tmux | null = null;
  try {
    pane = opts.pane
      ? await opts.pane(server)
      : await startClient(server.port, server.key, { client: opts.client ?? "launcher", ip });
    return await body(server, pane);
  } finally {
    await pane?.kill();
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/**
 * Runs `scenarios` ([name, body]) concurrently as steps of the test `t`, their starts 300 ms
 * apart (a 2-core machine), and fails if any of them failed. With `only`, runs just those whose
 * name contains it.
 */
export async function runScenarios(
  t: Deno.TestContext,
  scenarios: [string, () => Promise<void>][],
  only?: string,
): Promise<void> {
  const chosen = scenarios.filter(([name]) => only === undefined || name.includes(only));
  const results = await Promise.allSettled(chosen.map(([name, fn], i) =>
    t.step({
      name,
      // Concurrent steps must not run the per-step sanitizers; the test's own still apply.
      sanitizeOps: false,
      sanitizeResources: false,
      sanitizeExit: false,
      fn: async () => {
        await delay(i * 300); // stagger the starts a little on a 2-core machine
        await fn();
      },
    })
  ));
  const failed = results.filter((r) => r.status === "rejected" || r.value === false);
  assert.equal(failed.length, 0, `${failed.length} scenario(s) failed`);
}

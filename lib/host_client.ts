/**
 * The commands that talk to the user's session host (lib/host.ts) over its control socket
 * (lib/control.ts): `server.ts new …` through the host (starting it when none runs), `attach`,
 * `list`, `kill` and `--session=NAME new …`. Each checks the control directory and socket first
 * and refuses, in one line and before starting anything, when a check fails.
 *
 * What `new` and `attach` print is what C mosh-server prints: `MOSH CONNECT <port> <key>` on
 * stdout (after "\r\n\n" when stdin is a terminal), then the version block and
 * `[mosh-server detached, pid = N]` on stderr, N being the host's pid.
 */

import {
  checkControlDir,
  checkSocket,
  controlDir,
  errorLine,
  type Request,
  request,
  type Response,
  SOCKET_NAME,
  userId,
} from "./control.ts";
import { getWindowSize } from "./fds.ts";
import { V8_FLAGS } from "./heap_hygiene.ts";
import { writeAllSync } from "./write_all.ts";
import { HOST_FLAG, VERSION_TEXT } from "./server_args.ts";
import { sleep } from "./timer.ts";

/** How long `new` waits for a host it started to answer (ms). */
const HOST_START_TIMEOUT = 15000;
/** Variables of the caller's environment that the host process itself gets. */
const HOST_ENV =
  /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z_]+|TMPDIR|XDG_CACHE_HOME|DENO_[A-Z_]+|NPM_CONFIG_[A-Z_]+|MOSH_DENO_[A-Z_]+)$/;

/** The `deno run` flags that start server.ts as a background process (daemon or host). */
export function backgroundFlags(extra: string[]): string[] {
  const flags = ["run", "--quiet", "--no-prompt"];
  const config = new URL("../deno.json", import.meta.url);
  try {
    if (Deno.statSync(config).isFile) flags.push("--config", decodeURIComponent(config.pathname));
  } catch {
    // run without a config file (imports then need to be resolvable without it)
  }
  flags.push("--unstable-net", "--allow-net", "--allow-ffi", "--allow-read", "--allow-env");
  flags.push(...extra);
  // A young generation capped at 1 MB keeps the long-running process's resident memory flat (V8
  // otherwise grows it up to 64 MB over the first minutes of heavy output); no throughput cost.
  // `gc` is exposed for lib/heap_hygiene.ts (one full collection a minute).
  flags.push(`--v8-flags=${V8_FLAGS}`);
  flags.push(decodeURIComponent(new URL("../server.ts", import.meta.url).pathname));
  return flags;
}

/** The control directory after its checks, or the one-line refusal. */
export function usableControlDir(create: boolean): { dir: string } | { error: string } {
  const uid = userId();
  const dir = controlDir(Deno.env.toObject(), uid);
  const bad = checkControlDir(dir, uid, create) ?? checkSocket(`${dir}/${SOCKET_NAME}`, uid);
  return bad === null ? { dir } : { error: `mosh-server: ${bad}` };
}

function isAbsent(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused;
}

/** Starts a host process for `dir` (detached, its own session, no inherited stdio). */
function startHost(dir: string): void {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) if (HOST_ENV.test(k)) env[k] = v;
  env.MOSH_DENO_DIR = dir;
  const child = new Deno.Command(Deno.execPath(), {
    args: [...backgroundFlags(["--allow-sys=uid", `--allow-write=${dir}`]), HOST_FLAG, dir],
    env,
    clearEnv: true,
    cwd: "/",
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
}

/**
 * Sends `body` to the host of `dir`; with `start`, starts a host when none answers and waits for
 * it. Returns null when no host runs (and `start` is false).
 */
export async function askHost(
  dir: string,
  body: Request,
  start: boolean,
): Promise<Response | null> {
  const path = `${dir}/${SOCKET_NAME}`;
  try {
    return await request(path, body);
  } catch (e) {
    if (!isAbsent(e)) throw e;
    if (!start) return null;
  }
  startHost(dir);
  const deadline = Date.now() + HOST_START_TIMEOUT;
  let wait = 5;
  for (;;) {
    try {
      return await request(path, body);
    } catch (e) {
      if (!isAbsent(e) || Date.now() > deadline) {
        throw new Error(`the session host did not start (see ${dir}/host.log)`);
      }
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 100);
  }
}

/** Prints what C mosh-server prints for a new session. */
export function announce(port: number, key: string, pid: number): void {
  if (Deno.stdin.isTerminal()) writeAllSync(Deno.stdout, "\r\n\n");
  writeAllSync(Deno.stdout, `MOSH CONNECT ${port} ${key}\n`);
  writeAllSync(Deno.stderr, `\n${VERSION_TEXT}\n\n[mosh-server detached, pid = ${pid}]\n`);
}

/** Prints a response's messages, then the connect lines or its error; returns the exit code. */
function finish(response: Response): number {
  if ("messages" in response && response.messages !== undefined) {
    for (const line of response.messages) writeAllSync(Deno.stderr, line + "\n");
  }
  if (!response.ok) {
    writeAllSync(Deno.stderr, `${response.error}\n`);
    return 1;
  }
  if ("port" in response) announce(response.port, response.key, response.pid);
  else for (const line of response.lines) writeAllSync(Deno.stdout, line + "\n");
  return 0;
}

/** The caller's window size (80x24 without a terminal). */
function windowSize(): { cols: number; rows: number } {
  return getWindowSize(0) ?? { cols: 80, rows: 24 };
}

/**
 * `new` through the host. Returns the exit code, or "standalone" when the running host is another
 * build (this function has then said so in one line).
 */
export async function newViaHost(
  args: string[],
  env: Record<string, string>,
  name: string | null,
  dir: string,
): Promise<number | "standalone"> {
  const { cols, rows } = windowSize();
  const response = await askHost(dir, {
    cmd: "new",
    args,
    env,
    cwd: Deno.cwd(),
    cols,
    rows,
    name,
  }, true);
  if (response === null) return 1;
  if (!response.ok && response.mismatch === true) {
    writeAllSync(
      Deno.stderr,
      `mosh-server: ${response.error}, not this version; running this session standalone.\n`,
    );
    return "standalone";
  }
  return finish(response);
}

/** `attach ID|NAME [--detach-others]`: a new connection with a fresh key. */
export async function attachViaHost(
  target: string,
  detachOthers: boolean,
  dir: string,
): Promise<number> {
  const { cols, rows } = windowSize();
  const response = await askHost(dir, { cmd: "attach", target, detachOthers, cols, rows }, false);
  if (response === null) {
    writeAllSync(Deno.stderr, `mosh-server: no session ${target} (no session host runs)\n`);
    return 1;
  }
  return finish(response);
}

/** `list` or `kill ID|NAME`. */
export async function controlViaHost(body: Request, dir: string): Promise<number> {
  const response = await askHost(dir, body, false);
  if (response === null) {
    if (body.cmd === "list") return 0; // no host: no sessions
    writeAllSync(Deno.stderr, `mosh-server: no session ${"target" in body ? body.target : ""}\n`);
    return 1;
  }
  return finish(response);
}

/**
 * `--session=NAME new …`: attaches to NAME when it exists, else creates it (as `tmux new -A`).
 */
export async function sessionViaHost(
  name: string,
  args: string[],
  env: Record<string, string>,
  dir: string,
): Promise<number | "standalone"> {
  const { cols, rows } = windowSize();
  const attached = await askHost(
    dir,
    { cmd: "attach", target: name, detachOthers: false, cols, rows },
    false,
  );
  if (attached !== null && (attached.ok || attached.missing !== true)) return finish(attached);
  return await newViaHost(args, env, name, dir);
}

/** An error for the user, in one line. */
export function failure(e: unknown): string {
  return `mosh-server: ${errorLine(e)}`;
}

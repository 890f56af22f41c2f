/**
 * The session host's control channel (no part of the mosh protocol; see ARCHITECTURE.md, "The
 * session host"): where the control directory and socket live, the checks every command makes
 * before trusting them, and the request/response framing.
 *
 * - Directory: $MOSH_DENO_DIR, else /tmp/mosh-deno-<uid>. Created with mode 0700 when missing.
 *   Checked with lstat: a directory, not a link, owned by this user, no access for group or
 *   others. The socket `host.sock` inside it, when present, must be a socket owned by this user,
 *   not a link. A failed check is one line saying which check; nothing is started then.
 * - Framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON; at most
 *   MAX_MESSAGE bytes. Every request carries `v` (CONTROL_VERSION) and `build` (HOST_BUILD); a
 *   host of another build answers `{ok: false, mismatch: true}` and the caller runs standalone.
 *   A request must arrive whole within REQUEST_DEADLINE ms.
 */

import { VERSION_TEXT } from "./server_args.ts";
import { sleep } from "./timer.ts";

/** Names: what a user can type and a shell word needs no quoting for. */
const NAME_PATTERN = /^[A-Za-z0-9_.@+-]{1,64}$/;

/** True for a session name `new --name` accepts (not all digits: those are ids). */
export function validName(name: string): boolean {
  return NAME_PATTERN.test(name) && !/^\d+$/.test(name);
}

/** Version of the request format. */
export const CONTROL_VERSION = 1;
/** The program build a host must match to serve a request (its version line and format). */
export const HOST_BUILD = `${VERSION_TEXT.split("\n")[0]} control/${CONTROL_VERSION}`;
/** Largest request or response body, bytes. */
export const MAX_MESSAGE = 65536;
/** A request must be complete this long after the connection was accepted (ms). */
export const REQUEST_DEADLINE = 5000;
/** The socket's name inside the control directory. */
export const SOCKET_NAME = "host.sock";
/** The lock taken while a host checks for a running host and binds the socket. */
export const LOCK_NAME = "host.lock";
/** The host's log inside the control directory. */
export const LOG_NAME = "host.log";

/** A `new` request: what the user's `server.ts new …` call had. */
export interface NewRequest {
  cmd: "new";
  /** The server arguments (`new` and what follows, minus --name and --standalone). */
  args: string[];
  /** The caller's environment after the locale rule (the shell's environment). */
  env: Record<string, string>;
  /** The caller's working directory (recorded; the shell starts in $HOME as C's does). */
  cwd: string;
  /** The caller's terminal size (the initial size). */
  cols: number;
  /** The caller's terminal size (the initial size). */
  rows: number;
  /** `--name NAME`, or null. */
  name: string | null;
}

/** An `attach` request: a new connection with a fresh key to a running session. */
export interface AttachRequest {
  cmd: "attach";
  /** Session id or name. */
  target: string;
  /** Shut every other connection of the session down. */
  detachOthers: boolean;
  /** The caller's terminal size (the new client's blank starting state). */
  cols: number;
  /** The caller's terminal size. */
  rows: number;
}

/** Every request the host serves. */
export type Request =
  | NewRequest
  | AttachRequest
  | { cmd: "list" }
  | { cmd: "kill"; target: string };

/** A request as sent: the body plus the version fields. */
export type Envelope = Request & { v: number; build: string };

/** The host's answer. */
export type Response =
  | { ok: true; port: number; key: string; pid: number; messages: string[] }
  | { ok: true; lines: string[] }
  | { ok: false; error: string; messages?: string[]; mismatch?: boolean; missing?: boolean };

/** The control directory for an environment and user id. */
export function controlDir(env: Record<string, string | undefined>, uid: number): string {
  return env.MOSH_DENO_DIR || `/tmp/mosh-deno-${uid}`;
}

/** The current user id (needs --allow-sys=uid). */
export function userId(): number {
  return Deno.uid() ?? -1;
}

/**
 * Checks the control directory (creating it, mode 0700, when `create` and it is missing).
 * Returns null when it may be used, else the one-line reason.
 */
export function checkControlDir(dir: string, uid: number, create: boolean): string | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return `control directory ${dir}: cannot lstat it`;
    if (!create) return `control directory ${dir}: it does not exist`;
    try {
      Deno.mkdirSync(dir, { mode: 0o700 });
      Deno.chmodSync(dir, 0o700);
    } catch (m) {
      if (!(m instanceof Deno.errors.AlreadyExists)) {
        return `control directory ${dir}: cannot create it (${errorLine(m)})`;
      }
    }
    return checkControlDir(dir, uid, false);
  }
  if (info.isSymlink) return `control directory ${dir}: refusing a symbolic link`;
  if (!info.isDirectory) return `control directory ${dir}: not a directory`;
  if (info.uid !== uid) return `control directory ${dir}: owned by uid ${info.uid}, not by you`;
  const mode = (info.mode ?? 0) & 0o777;
  if ((mode & 0o077) !== 0) {
    return `control directory ${dir}: mode ${mode.toString(8)} gives others access (want 700)`;
  }
  return null;
}

/** Checks the socket path: absent, or a socket owned by `uid`. Null when fine, else why. */
export function checkSocket(path: string, uid: number): string | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    return `control socket ${path}: cannot lstat it`;
  }
  if (info.isSymlink) return `control socket ${path}: refusing a symbolic link`;
  if (info.isSocket !== true) return `control socket ${path}: not a socket`;
  if (info.uid !== uid) return `control socket ${path}: owned by uid ${info.uid}, not by you`;
  return null;
}

/** An error's message on one line, without Deno's " (os error N)". */
export function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/ \(os error \d+\)$/, "").replace(/\s*\n\s*/g, " ");
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A length-prefixed frame of `value` as JSON; throws when it exceeds MAX_MESSAGE. */
export function encodeFrame(value: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(value));
  if (body.length > MAX_MESSAGE) throw new Error("control message too long");
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** Writes all of `bytes` to `conn`. */
export async function writeFrame(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * Reads one frame and parses its JSON; throws an Error with a one-line reason when the stream
 * ends early, the length exceeds MAX_MESSAGE, the body is not UTF-8 JSON, or `deadline` (a
 * Date.now() value) passes first.
 */
export async function readFrame(conn: Deno.Conn, deadline: number): Promise<unknown> {
  const header = new Uint8Array(4);
  await readExactly(conn, header, deadline);
  const length = new DataView(header.buffer).getUint32(0);
  if (length > MAX_MESSAGE) throw new Error(`message of ${length} bytes (at most ${MAX_MESSAGE})`);
  const body = new Uint8Array(length);
  await readExactly(conn, body, deadline);
  try {
    return JSON.parse(decoder.decode(body));
  } catch {
    throw new Error("message is not UTF-8 JSON");
  }
}

async function readExactly(conn: Deno.Conn, into: Uint8Array, deadline: number): Promise<void> {
  let off = 0;
  while (off < into.length) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error("deadline passed");
    const timeout = sleep(left).then(() => "timeout" as const);
    const n = await Promise.race([conn.read(into.subarray(off)), timeout]);
    if (n === "timeout") throw new Error("deadline passed");
    if (n === null) throw new Error("connection closed early");
    off += n;
  }
}

/**
 * Sends one request to the host at `socketPath` and returns its response; throws when nobody
 * listens there (Deno.errors.NotFound / ConnectionRefused) or the exchange fails.
 */
export async function request(socketPath: string, body: Request): Promise<Response> {
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  try {
    await writeFrame(conn, encodeFrame({ ...body, v: CONTROL_VERSION, build: HOST_BUILD }));
    return await readFrame(conn, Date.now() + 30000) as Response;
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

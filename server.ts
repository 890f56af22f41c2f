/**
 * mosh-server: a drop-in replacement for mosh-server 1.4.0 (docs/PROTOCOL.md §7).
 *
 *   deno run --config deno.json --unstable-net --allow-net --allow-ffi --allow-read --allow-env \
 *     --allow-run server.ts new [-s] [-v] [-i IP] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] \
 *     [-- command...]
 *
 * Deno cannot fork, so the server runs as two processes (§7.2 step 7):
 *
 * - The foreground process (this file, run by the user or by `mosh` over ssh) parses the command
 *   line, settles the locale, and starts the background process directly from `Deno.execPath()`
 *   with the narrow permission flags and `detached: true` (a new session, like the forked
 *   server). Its arguments are `--mosh-deno-daemon COLSxROWS` followed by the original arguments;
 *   nothing secret.
 * - The background process binds the UDP port, makes the session key and hands `PORT KEY` back on
 *   its stdout (a pipe), then points its stdout (and, without -v, its stderr) at /dev/null. It is
 *   the process that owns the socket and is the shell's parent, so SIGTERM and SIGUSR1 go to it.
 * - The foreground prints `MOSH CONNECT PORT KEY` on stdout (after "\r\n\n" if stdin is a
 *   terminal), the version block and `[mosh-server detached, pid = N]` on stderr, and exits 0.
 *
 * The key never travels in argv or the environment. The background process needs no
 * --allow-run: the shell is started through FFI posix_spawn (lib/pty.ts).
 */

import { parseServerArgs, type ServerOptions, USAGE, VERSION_TEXT } from "./lib/server_args.ts";
import { getWindowSize } from "./lib/fds.ts";
import { DAEMON_FLAG, runDaemon, settleLocale } from "./lib/server_session.ts";

const encoder = new TextEncoder();

function writeAll(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  const bytes = encoder.encode(text);
  let done = 0;
  while (done < bytes.length) done += stream.writeSync(bytes.subarray(done));
}

/** V8 options of the long-running processes (the daemon, and the client through bin/). */
const V8_FLAGS = "--max-semi-space-size=2,--expose-gc";

/** The `deno run` arguments that start this file as the background server. */
function daemonCommand(cols: number, rows: number, args: string[]): string[] {
  const script = new URL(import.meta.url);
  const flags = ["run", "--quiet", "--no-prompt"];
  const config = new URL("./deno.json", import.meta.url);
  try {
    if (Deno.statSync(config).isFile) flags.push("--config", decodeURIComponent(config.pathname));
  } catch {
    // run without a config file (imports then need to be resolvable without it)
  }
  flags.push("--unstable-net", "--allow-net", "--allow-ffi", "--allow-read", "--allow-env");
  // Writes only in the temporary directory: -A's agent socket in a 0700 directory there
  // (lib/forwarding_server.ts).
  flags.push(`--allow-write=${Deno.env.get("TMPDIR") || "/tmp"}`);
  // A young generation capped at 2 MB keeps the long-running daemon's resident memory flat (V8
  // otherwise grows it up to 64 MB over the first minutes of heavy output); no throughput cost.
  // `gc` is exposed for lib/heap_hygiene.ts (one full collection a minute).
  flags.push(`--v8-flags=${V8_FLAGS}`);
  return [...flags, decodeURIComponent(script.pathname), DAEMON_FLAG, `${cols}x${rows}`, ...args];
}

/** Reads `stream` line by line until `PORT KEY`; returns it, or null at end of stream. */
async function readHandshake(
  stream: ReadableStream<Uint8Array>,
): Promise<{ port: number; key: string } | null> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const nl = text.indexOf("\n");
      if (nl >= 0) {
        const m = /^(\d+) ([A-Za-z0-9+/]{22})$/.exec(text.slice(0, nl));
        if (m !== null) return { port: Number(m[1]), key: m[2] };
        text = text.slice(nl + 1);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

/** Copies the background server's early stderr (bind errors, warnings) to ours. */
async function relay(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      let off = 0;
      while (off < value.length) off += Deno.stderr.writeSync(value.subarray(off));
    }
  } catch {
    // the pipe went away: nothing more to relay
  } finally {
    reader.releaseLock();
  }
}

async function foreground(args: string[]): Promise<number> {
  const parsed = parseServerArgs(args, Deno.env.toObject());
  if (parsed.action === "help") {
    writeAll(Deno.stdout, USAGE + "\n");
    return 0;
  }
  if (parsed.action === "version") {
    writeAll(Deno.stdout, VERSION_TEXT + "\n");
    return 0;
  }
  for (const line of parsed.messages) writeAll(Deno.stderr, line + "\n");
  if (parsed.action === "fail") return 1;
  const options: ServerOptions = parsed.options;

  const { env, warning } = settleLocale(Deno.env.toObject(), options.locales);
  if (warning !== null) writeAll(Deno.stderr, warning + "\n");
  const size = getWindowSize(0) ?? { cols: 80, rows: 24 };
  const verbose = options.verbose > 0;

  const child = new Deno.Command(Deno.execPath(), {
    args: daemonCommand(size.cols, size.rows, args),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: verbose ? "inherit" : "piped",
    detached: true,
  }).spawn();
  const relayed = verbose ? Promise.resolve() : relay(child.stderr);
  const handshake = await readHandshake(child.stdout);
  if (handshake === null) {
    // The background server failed before binding; its stderr said why.
    const status = await child.status;
    await relayed;
    return status.code === 0 ? 1 : status.code;
  }
  child.unref();
  // The background server closes its stderr right after the handshake: wait for that, so that its
  // warnings come before our announcement (bounded, in case it is slow to let go).
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([relayed, new Promise((r) => (timer = setTimeout(r, 2000)))]);
  clearTimeout(timer);
  if (Deno.stdin.isTerminal()) writeAll(Deno.stdout, "\r\n\n");
  writeAll(Deno.stdout, `MOSH CONNECT ${handshake.port} ${handshake.key}\n`);
  writeAll(Deno.stderr, `\n${VERSION_TEXT}\n\n[mosh-server detached, pid = ${child.pid}]\n`);
  return 0;
}

if (import.meta.main) {
  const args = Deno.args;
  if (args[0] === DAEMON_FLAG) {
    Deno.exit(await runDaemon(args.slice(1)));
  } else {
    Deno.exit(await foreground(args));
  }
}

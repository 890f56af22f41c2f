/**
 * mosh-server: a drop-in replacement for mosh-server 1.4.0 (docs/PROTOCOL.md §7), plus the
 * commands of the user's session host (lib/host.ts; README "The session host").
 *
 *   deno run --config deno.json --unstable-net --allow-net --allow-ffi --allow-read --allow-env \
 *     --allow-run --allow-write --allow-sys=uid server.ts new [--standalone] [--name NAME] [-s] \
 *     [-v] [-i IP] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] [-- command...]
 *   server.ts [--session=NAME] new …  |  list  |  kill ID|NAME  |  attach ID|NAME [--detach-others]
 *
 * `new` normally hands the session to the user's session host (lib/host_client.ts starts the host
 * when none runs) and prints what the host answers. With `--standalone` or `-v`, or when the
 * running host is another version, the session gets its own process instead. Deno cannot fork, so
 * that standalone server runs as two processes (§7.2 step 7):
 *
 * - The foreground process (this file, run by the user or by `mosh` over ssh) parses the command
 *   line, settles the locale, and starts the background process directly from `Deno.execPath()`
 *   with the narrow permission flags and `detached: true` (a new session, like the forked
 *   server). Its arguments are `--mosh-deno-daemon COLSxROWS` followed by the original arguments;
 *   nothing secret.
 * - The background process (lib/server_session.ts) binds the UDP port, makes the session key and
 *   hands `PORT KEY` back on its stdout (a pipe), then points its stdout (and, without -v, its
 *   stderr) at /dev/null. It is the process that owns the socket and is the shell's parent, so
 *   SIGTERM and SIGUSR1 go to it.
 * - The foreground prints `MOSH CONNECT PORT KEY` on stdout (after "\r\n\n" if stdin is a
 *   terminal), the version block and `[mosh-server detached, pid = N]` on stderr, and exits 0.
 *
 * The key never travels in argv or the environment. The background processes need no
 * --allow-run: the shell is started through FFI posix_spawn (lib/pty.ts).
 */

import {
  DAEMON_FLAG,
  HOST_FLAG,
  parseServerArgs,
  type ServerOptions,
  USAGE,
  VERSION_TEXT,
} from "./lib/server_args.ts";
import { validName } from "./lib/control.ts";
import {
  announce,
  attachViaHost,
  backgroundFlags,
  controlViaHost,
  failure,
  newViaHost,
  sessionViaHost,
  usableControlDir,
} from "./lib/host_client.ts";
import { writeAllSync } from "./lib/write_all.ts";
import { getWindowSize } from "./lib/fds.ts";
import { settleLocale } from "./lib/shell_plan.ts";

/** The `deno run` arguments that start this file as the background server. */
function daemonCommand(cols: number, rows: number, args: string[]): string[] {
  // Writes only in the temporary directory: -A's agent socket in a 0700 directory there
  // (lib/forwarding_server.ts).
  const tmp = `--allow-write=${Deno.env.get("TMPDIR") || "/tmp"}`;
  return [...backgroundFlags([tmp]), DAEMON_FLAG, `${cols}x${rows}`, ...args];
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

/** Words of `new …` (before `--`) that select the host's features, removed before parsing. */
function hostWords(args: string[]): {
  args: string[];
  standalone: boolean;
  name: string | null;
  error: string | null;
} {
  const out: string[] = [];
  let standalone = false, name: string | null = null, error: string | null = null;
  const dashdash = args.indexOf("--");
  const end = dashdash < 0 ? args.length : dashdash;
  for (let i = 0; i < end; i++) {
    const a = args[i];
    if (a === "--standalone") standalone = true;
    else if (a === "--name" || a.startsWith("--name=")) {
      name = a === "--name" ? args[++i] ?? "" : a.slice(7);
      if (!validName(name)) error = `mosh-server: bad session name "${name}"`;
    } else out.push(a);
  }
  return { args: [...out, ...args.slice(end)], standalone, name, error };
}

/** `server.ts [--session=NAME] COMMAND …`: every command; returns the exit code. */
async function main(all: string[]): Promise<number> {
  let args = all;
  let session: string | null = null;
  if (args[0]?.startsWith("--session=")) {
    session = args[0].slice(10);
    args = args.slice(1);
    if (!validName(session)) return fail(`mosh-server: bad session name "${session}"`);
  }
  const command = args[0];
  if (command === "list" || command === "kill" || command === "attach") {
    const target = args[1];
    if (command !== "list" && (target === undefined || target.startsWith("-"))) {
      return fail(
        `mosh-server: usage: ${command} ID|NAME${command === "attach" ? " [--detach-others]" : ""}`,
      );
    }
    const place = usableControlDir(true);
    if ("error" in place) return fail(place.error);
    if (command === "list") return await controlViaHost({ cmd: "list" }, place.dir);
    if (command === "kill") return await controlViaHost({ cmd: "kill", target }, place.dir);
    // attach ignores a trailing `new …` that wrappers append
    const trailing = args.indexOf("new", 2);
    const detachOthers = args.slice(2, trailing < 0 ? args.length : trailing)
      .includes("--detach-others");
    return await attachViaHost(target, detachOthers, place.dir);
  }
  const words = command === "new" ? hostWords(args) : null;
  if (words?.error) return fail(words.error);
  const parsedArgs = words?.args ?? args;
  if (session !== null && command !== "new") return fail("mosh-server: --session needs `new`");
  return await foreground(
    parsedArgs,
    words !== null && !words.standalone
      ? {
        name: session ?? words.name,
        attachFirst: session !== null,
      }
      : null,
  );
}

function fail(line: string): number {
  writeAllSync(Deno.stderr, line + "\n");
  return 1;
}

async function foreground(
  args: string[],
  host: { name: string | null; attachFirst: boolean } | null,
): Promise<number> {
  const parsed = parseServerArgs(args, Deno.env.toObject());
  if (parsed.action === "help") {
    writeAllSync(Deno.stdout, USAGE + "\n");
    return 0;
  }
  if (parsed.action === "version") {
    writeAllSync(Deno.stdout, VERSION_TEXT + "\n");
    return 0;
  }
  for (const line of parsed.messages) writeAllSync(Deno.stderr, line + "\n");
  if (parsed.action === "fail") return 1;
  const options: ServerOptions = parsed.options;

  const { env, warning } = settleLocale(Deno.env.toObject(), options.locales);
  if (warning !== null) writeAllSync(Deno.stderr, warning + "\n");
  const verbose = options.verbose > 0;
  if (host !== null && !verbose) {
    const place = usableControlDir(true);
    if ("error" in place) return fail(place.error);
    const code = host.attachFirst && host.name !== null
      ? await sessionViaHost(host.name, args, env, place.dir)
      : await newViaHost(args, env, host.name, place.dir);
    if (code !== "standalone") return code;
  }
  const size = getWindowSize(0) ?? { cols: 80, rows: 24 };

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
  // warnings come before our announcement (bounded, in case it is slow to let go). Not setTimeout:
  // Deno's global timers load its Node compatibility layer (node:timers, ~15 ms of CPU and 3.5 MB
  // at first use); the pending AbortSignal timer is harmless as main() ends in Deno.exit.
  const bound = AbortSignal.timeout(2000);
  await Promise.race([relayed, new Promise((r) => bound.addEventListener("abort", r))]);
  announce(handshake.port, handshake.key, child.pid);
  return 0;
}

if (import.meta.main) {
  const args = Deno.args;
  // The background processes load the session modules; the foreground needs none of them.
  if (args[0] === DAEMON_FLAG) {
    const { runDaemon } = await import("./lib/server_session.ts");
    Deno.exit(await runDaemon(args.slice(1)));
  } else if (args[0] === HOST_FLAG) {
    const { runHost } = await import("./lib/host.ts");
    Deno.exit(await runHost(args[1] ?? ""));
  } else {
    try {
      Deno.exit(await main(args));
    } catch (e) {
      Deno.exit(fail(failure(e)));
    }
  }
}

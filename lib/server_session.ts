/**
 * The standalone background mosh-server process (docs/PROTOCOL.md §7.2 steps 3-9): the OS
 * plumbing around one session (lib/session.ts) with one connection (lib/server_connection.ts).
 * It binds the UDP socket, makes the key, hands `PORT KEY` to the foreground process (server.ts),
 * lets go of the foreground's pipes, routes SIGTERM, SIGINT and SIGUSR1 to the session (SIGHUP
 * is ignored, as in mosh) and prints "[mosh-server is exiting.]" at the end.
 *
 * Documented differences from C mosh 1.4.0: no utmp records and no "detached session" warning, no
 * syslog, no RLIMIT_CORE handling; a non-UTF-8 locale falls back to LC_CTYPE=C.UTF-8 with a
 * warning (see server.ts) instead of refusing to start.
 */

import { clock } from "./waker.ts";
import { HeapHygiene } from "./heap_hygiene.ts";
import { Connection } from "./connection.ts";
import { generateKey } from "./key.ts";
import { duplicateFd, fdTarget, redirectToDevNull } from "./fds.ts";
import { parseServerArgs } from "./server_args.ts";
import { Session, sessionTimeouts } from "./session.ts";

/** Descriptors checked for Deno's private copies of stdout and stderr. */
const MAX_FD_SCAN = 1024;

const encoder = new TextEncoder();

function writeFd(stream: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  try {
    const bytes = encoder.encode(text);
    let done = 0;
    while (done < bytes.length) done += stream.writeSync(bytes.subarray(done));
  } catch {
    // stdout/stderr gone: nothing useful to do
  }
}

/** Logs one line on stderr (the terminal with -v; /dev/null otherwise once detached). */
function log(line: string): void {
  writeFd(Deno.stderr, line + "\n");
}

/**
 * After the handshake: stdout (and, without -v, stderr) stop pointing at the foreground's pipes.
 * Without -v both go to /dev/null; with -v stdout joins stderr (the user's terminal). Deno keeps
 * private duplicates of its stdio descriptors, which would hold the pipes open (the foreground
 * waits for end of file on stderr), so every descriptor that refers to the same pipe is redirected
 * too.
 */
function detachStdio(verbose: boolean): void {
  const copiesOf = (fd: number): number[] => {
    const what = fdTarget(fd);
    if (what === null || !what.startsWith("pipe:")) return [];
    const fds: number[] = [];
    for (let other = 3; other < MAX_FD_SCAN; other++) if (fdTarget(other) === what) fds.push(other);
    return fds;
  };
  const outCopies = copiesOf(1);
  if (verbose) {
    for (const fd of [1, ...outCopies]) duplicateFd(2, fd);
  } else {
    for (const fd of [1, 2, ...outCopies, ...copiesOf(2)]) redirectToDevNull(fd);
  }
}

/** Run by server.ts as the detached process; returns the exit code. */
export async function runDaemon(args: string[]): Promise<number> {
  const m = /^(\d+)x(\d+)$/.exec(args[0] ?? "");
  const cols = m === null ? 80 : Math.max(1, Number(m[1]));
  const rows = m === null ? 24 : Math.max(1, Number(m[2]));
  const parsed = parseServerArgs(args.slice(1), Deno.env.toObject());
  if (parsed.action !== "run") return 1; // the foreground already validated the arguments
  const options = parsed.options;
  const verbose = options.verbose > 0;
  const env = Deno.env.toObject();
  for (const warning of sessionTimeouts(env).warnings) log(warning);

  const key = generateKey();
  let connection: Connection;
  try {
    connection = Connection.server({
      key: key.key,
      ip: options.bindIp ?? undefined,
      port: options.portRange,
      log,
      now: clock,
    });
  } catch (e) {
    log(`Network exception: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  let session: Session;
  try {
    session = new Session({
      options,
      env,
      cols,
      rows,
      log,
      heap: new HeapHygiene(clock()),
      onError: "continue",
    });
  } catch (e) {
    log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
    await connection.close();
    return 1;
  }

  // Signals are handled from before the foreground exits (SIGHUP is ignored, as in mosh).
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => session.signal("SIGTERM")],
    ["SIGINT", () => session.signal("SIGINT")],
    ["SIGUSR1", () => session.signal("SIGUSR1")],
    ["SIGHUP", () => {}], // ignored, as in mosh
  ];
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);

  // Hand the port and key to the foreground, then let go of its pipes.
  writeFd(Deno.stdout, `${connection.port} ${key.printable}\n`);
  try {
    detachStdio(verbose);
  } catch (e) {
    log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
  }

  session.addConnection(connection, cols, rows);
  try {
    await session.run();
  } finally {
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
  writeFd(Deno.stdout, "\n[mosh-server is exiting.]\n");
  return 0;
}

/**
 * The background mosh-server process (docs/PROTOCOL.md §7.2 steps 3-9, §7.3, §6.3, §9.6): binds
 * the UDP socket, makes the key, hands `PORT KEY` to the foreground process, and then runs the
 * server main loop between the network (SSP over lib/connection.ts + lib/transport.ts) and the
 * shell on a pty (lib/pty.ts), with the terminal emulator state (lib/terminal_state.ts) in
 * between.
 *
 * The loop is one `pass()` function run whenever something happens: a datagram (the connection
 * calls back synchronously), pty output (an FFI poll on a worker thread), a signal, or the
 * earliest timer (SSP, echo ack, network timeout, the 60 s first-contact limit). Between passes
 * the process sleeps on a single promise, so an idle server uses no CPU.
 *
 * The shell is "released" by the first client state, as in mosh 1.4.0, where the forked child
 * prints the motd and then blocks reading a line from the pty until the server writes "\n" to it
 * (whose echo puts a blank line at the top of the first frame). We cannot fork, so we reproduce
 * the observable result instead: the motd goes into the terminal at startup, and on the first
 * client state (after its resize is applied) the terminal gets the echoed "\r\n" and the shell is
 * spawned. Difference: before a client arrives there is no shell process at all (in C there is a
 * blocked child).
 *
 * Documented differences from C mosh 1.4.0: no utmp records and no "detached session" warning, no
 * syslog, no RLIMIT_CORE handling; a non-UTF-8 locale falls back to LC_CTYPE=C.UTF-8 with a
 * warning (see server.ts) instead of refusing to start.
 */

import { clock, Waker } from "./waker.ts";
import { HeapHygiene } from "./heap_hygiene.ts";
import { Connection, rejectionReport } from "./connection.ts";
import { generateKey } from "./key.ts";
import { AGENT_FORWARDING, announces, FORWARDING } from "./extensions.ts";
import { forwardingRefusal } from "./forward_spec.ts";
import { type ServerForwarding, startServerForwarding } from "./forwarding_server.ts";
import { HistoryRing, scrollbackFromEnv } from "./history.ts";
import { acceptCapabilities, advanceHistory } from "./history_sender.ts";
import { decodeUserMessage } from "./protobuf.ts";
import { duplicateFd, fdTarget, redirectToDevNull } from "./fds.ts";
import { Pty, PtyError } from "./pty.ts";
import { localeCodeset, passwdEntry } from "./system_info.ts";
import { parseServerArgs, type ServerOptions } from "./server_args.ts";
import { TerminalState } from "./terminal_state.ts";
import { Transport } from "./transport.ts";
import { UserStream } from "./user_stream.ts";

/** The hidden first argument that makes server.ts run as the background server. */
export const DAEMON_FLAG = "--mosh-deno-daemon";

/** Exit if no client state arrives this long after startup (ms). */
export const NO_CONNECTION_TIMEOUT = 60000;
/** Longest sleep before the first client state and while shutting down (ms). */
const IDLE_WAKE = 5000;
/** After a failed exec the "child" lingers this long before the server shuts down (C: sleep 3). */
const EXEC_FAILURE_LINGER = 3000;
/** Above this many bytes of input queued for the shell, new client states are not taken. */
export const PTY_INPUT_QUEUE_LIMIT = 1 << 20;
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
 * Reads an integer number of seconds from the environment (MOSH_SERVER_NETWORK_TMOUT,
 * MOSH_SERVER_SIGNAL_TMOUT). Returns ms, 0 when unset; a bad value is warned about and ignored.
 */
export function timeoutFromEnv(name: string, value: string | undefined): {
  ms: number;
  warning: string | null;
} {
  if (value === undefined || value === "") return { ms: 0, warning: null };
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(value);
  if (m === null) return { ms: 0, warning: `${name} not a valid integer, ignoring` };
  const seconds = Number(m[1]);
  if (seconds < 0) return { ms: 0, warning: `${name} is negative, ignoring` };
  return { ms: seconds * 1000, warning: null };
}

/** What to run in the pty and how (§7.2 steps 1 and 8). */
export interface ShellPlan {
  /** Program (searched in PATH). */
  file: string;
  /** Its argv; a login shell's argv[0] is "-" + basename. */
  argv: string[];
  /** True for the login shell (motd applies). */
  login: boolean;
  /** The child's environment. */
  env: Record<string, string>;
  /** The directory to start in ($HOME), if it exists. */
  cwd: string | undefined;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides the shell command and its environment: the given command, or the login shell ($SHELL,
 * else the passwd shell, else /bin/sh); TERM from the colour count, NCURSES_NO_UTF8_ACS=1, no STY,
 * PWD = $HOME (or the passwd directory).
 */
export function planShell(
  options: ServerOptions,
  baseEnv: Record<string, string>,
  passwd: { home: string; shell: string } | null,
): ShellPlan {
  const env = { ...baseEnv };
  env.TERM = options.colors === 256 ? "xterm-256color" : "xterm";
  env.NCURSES_NO_UTF8_ACS = "1";
  delete env.STY;
  const home = env.HOME || passwd?.home || "";
  let cwd: string | undefined;
  if (home !== "" && isDirectory(home)) {
    cwd = home;
    env.PWD = home;
  }
  if (options.command !== null) {
    return { file: options.command[0], argv: [...options.command], login: false, env, cwd };
  }
  const shell = env.SHELL || passwd?.shell || "/bin/sh";
  const base = shell.slice(shell.lastIndexOf("/") + 1);
  return { file: shell, argv: ["-" + base], login: true, env, cwd };
}

const LOCALE_VARIABLES = /^(LANG|LANGUAGE|LC_[A-Z_]+)$/;

/** The effective LC_CTYPE locale name of an environment (POSIX precedence). */
function ctypeLocale(env: Record<string, string>): string {
  return env.LC_ALL || env.LC_CTYPE || env.LANG || "";
}

function isUtf8(env: Record<string, string>): boolean {
  const codeset = localeCodeset(ctypeLocale(env));
  return codeset !== null && /^utf-?8$/i.test(codeset);
}

/**
 * The environment for the server and its shell, with a UTF-8 character set (§7.2 step 2). If the
 * native locale is not UTF-8, the locale variables are cleared and the `-l` settings applied, as
 * mosh-server does. If that is still not UTF-8, C mosh refuses to start; we instead give the
 * shell LC_CTYPE=C.UTF-8 (the pty is UTF-8 either way) and say so in one line.
 */
export function settleLocale(
  env: Record<string, string>,
  locales: string[],
): { env: Record<string, string>; warning: string | null } {
  if (isUtf8(env)) return { env, warning: null };
  const native = ctypeLocale(env) || "C";
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (!LOCALE_VARIABLES.test(k)) next[k] = v;
  for (const setting of locales) {
    const eq = setting.indexOf("=");
    if (eq > 0) next[setting.slice(0, eq)] = setting.slice(eq + 1);
  }
  if (isUtf8(next)) return { env: next, warning: null };
  delete next.LC_ALL;
  next.LC_CTYPE = "C.UTF-8";
  return {
    env: next,
    warning:
      `mosh-server: locale "${native}" is not UTF-8; using LC_CTYPE=C.UTF-8 for the session.`,
  };
}

/** The message of the day as the terminal should show it, or "" (§7.2 step 8). */
export function motdText(home: string | undefined): string {
  if (home !== undefined && exists(`${home}/.hushlogin`)) return "";
  let text = "";
  for (const group of [["/run/motd.dynamic", "/var/run/motd.dynamic"], ["/etc/motd"]]) {
    for (const path of group) {
      try {
        text += Deno.readTextFileSync(path);
        break;
      } catch {
        // try the next file
      }
    }
  }
  // The tty's output processing (ONLCR) turns each LF into CR LF.
  return text.replace(/\r?\n/g, "\r\n");
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
  const session = new ServerSession(parsed.options, cols, rows);
  return await session.run();
}

/** One server: socket, transport, terminal, pty and the main loop. */
class ServerSession {
  readonly #options: ServerOptions;
  readonly #verbose: boolean;
  readonly #cols: number;
  readonly #rows: number;
  #networkTimeout = 0;
  #signalTimeout = 0;

  #connection!: Connection;
  #transport!: Transport<TerminalState, UserStream>;
  #terminal!: TerminalState;
  /** The session's scrollback history (MOSH_SCROLLBACK lines; null = off). */
  #history: HistoryRing | null = null;
  /** Forwarding is allowed on this server (not refused by its environment or /etc). */
  #forwardingAllowed = false;
  /** This connection's forwarding (issue 16), once both sides announced it. */
  #forwarding: ServerForwarding | null = null;
  #pty!: Pty;
  #plan!: ShellPlan;

  // Loop plumbing: one promise to sleep on, woken by any event.
  readonly #waker = new Waker(clock);
  readonly #heap = new HeapHygiene(clock());

  // Events recorded by callbacks and consumed by pass().
  #signals: string[] = [];
  #ptyChunk: Uint8Array | null | undefined = undefined; // null = end of file
  #ptyReading = false;

  #startTime = 0;
  #lastRemoteNum = 0n;
  #childReleased = false;
  #execFailedAt = -1;
  #writeBuffer: Uint8Array[] = [];
  #done = false;
  #lastSentNum = 0n;
  #verifyState: TerminalState | null = null;
  #rejectedSeen = 0;

  constructor(options: ServerOptions, cols: number, rows: number) {
    this.#options = options;
    this.#verbose = options.verbose > 0;
    this.#cols = cols;
    this.#rows = rows;
  }

  #wake = (): void => this.#waker.wake();

  /** Startup (bind, key, handshake, pty), the loop, and cleanup. */
  async run(): Promise<number> {
    const env = Deno.env.toObject();
    const network = timeoutFromEnv("MOSH_SERVER_NETWORK_TMOUT", env.MOSH_SERVER_NETWORK_TMOUT);
    const signal = timeoutFromEnv("MOSH_SERVER_SIGNAL_TMOUT", env.MOSH_SERVER_SIGNAL_TMOUT);
    for (const t of [network, signal]) if (t.warning !== null) log(t.warning);
    const scrollback = scrollbackFromEnv(env.MOSH_SCROLLBACK);
    if (scrollback.warning !== null) log(`mosh-server: ${scrollback.warning}`);
    if (scrollback.lines > 0) this.#history = new HistoryRing(scrollback.lines);
    this.#forwardingAllowed = forwardingRefusal(Deno.env) === null;
    this.#networkTimeout = network.ms;
    this.#signalTimeout = signal.ms;

    const key = generateKey();
    try {
      this.#connection = Connection.server({
        key: key.key,
        ip: this.#options.bindIp ?? undefined,
        port: this.#options.portRange,
        log,
        now: clock,
      });
    } catch (e) {
      log(`Network exception: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    try {
      this.#pty = Pty.open(this.#cols, this.#rows);
    } catch (e) {
      log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
      await this.#connection.close();
      return 1;
    }
    this.#plan = planShell(this.#options, env, passwdEntry());
    this.#terminal = new TerminalState(this.#cols, this.#rows);
    this.#terminal.terminal.scrollback = this.#history;
    this.#transport = new Transport<TerminalState, UserStream>({
      link: this.#connection,
      initialState: this.#terminal,
      initialRemoteState: new UserStream(),
      now: clock,
      log: this.#verbose ? log : undefined,
    });

    // Signals are handled from before the foreground exits (SIGHUP is ignored, as in mosh).
    const listeners: [Deno.Signal, () => void][] = [
      ["SIGTERM", () => this.#signal("SIGTERM")],
      ["SIGINT", () => this.#signal("SIGINT")],
      ["SIGUSR1", () => this.#signal("SIGUSR1")],
      ["SIGHUP", () => {}], // ignored, as in mosh
    ];
    for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);

    // Hand the port and key to the foreground, then let go of its pipes.
    writeFd(Deno.stdout, `${this.#connection.port} ${key.printable}\n`);
    try {
      detachStdio(this.#verbose);
    } catch (e) {
      log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
    }

    if (this.#plan.login) {
      const motd = motdText(this.#plan.cwd);
      if (motd !== "") this.#feedTerminal(encoder.encode(motd));
    }

    this.#startTime = clock();
    this.#connection.listen((payload) => {
      // Back-pressure: no new client state while the shell has not read what it got.
      this.#transport.holdRemoteStates = this.#pty.pendingWrite > PTY_INPUT_QUEUE_LIMIT;
      if (this.#forwarding?.link.datagram(payload)) {
        this.#wake();
        return;
      }
      this.#transport.recv(payload);
      this.#wake();
    });

    try {
      let failures = 0;
      while (!this.#done) {
        try {
          this.#pass(clock());
        } catch (e) {
          // Never expected; like C's exception handler, report it and keep serving, slowing
          // down after the first few so that a persistent fault cannot spin the CPU.
          log(`mosh-server: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
          if (++failures > 10) await new Promise((r) => setTimeout(r, 100));
        }
        if (this.#done) break;
        await this.#waker.sleep(this.#timeout(clock()));
      }
    } finally {
      for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
      this.#forwarding?.close();
      await this.#pty.close();
      await this.#connection.close();
    }
    writeFd(Deno.stdout, "\n[mosh-server is exiting.]\n");
    return 0;
  }

  #signal(name: string): void {
    this.#signals.push(name);
    this.#wake();
  }

  /** How long the loop may sleep (§7.3): the earliest of every timer. */
  #timeout(now: number): number {
    let t = Math.min(this.#transport.waitTime(now), this.#terminal.waitTime(now));
    if (this.#forwarding !== null) t = Math.min(t, this.#forwarding.link.waitTime());
    if (this.#transport.remoteStateNum === 0n || this.#transport.shutdownInProgress) {
      t = Math.min(t, IDLE_WAKE);
    }
    if (this.#networkTimeout > 0) {
      const since = now - this.#transport.getLatestRemoteState().timestamp;
      t = Math.min(t, Math.max(0, this.#networkTimeout - since));
    }
    if (this.#transport.remoteStateNum === 0n) {
      t = Math.min(t, Math.max(0, this.#startTime + NO_CONNECTION_TIMEOUT - now));
    }
    if (this.#execFailedAt >= 0) {
      t = Math.min(t, Math.max(0, this.#execFailedAt + EXEC_FAILURE_LINGER - now));
    }
    return t;
  }

  /** Feeds host output to the emulator; its replies (DA, DSR) go back to the pty. */
  #feedTerminal(bytes: Uint8Array): void {
    const reply = this.#terminal.terminal.write(bytes);
    if (reply.length > 0) this.#writeBuffer.push(reply);
  }

  #armPtyRead(): void {
    if (this.#ptyReading || this.#ptyChunk !== undefined) return;
    this.#ptyReading = true;
    this.#pty.read().then(
      (chunk) => {
        this.#ptyReading = false;
        this.#ptyChunk = chunk;
        this.#wake();
      },
      () => {
        this.#ptyReading = false;
        this.#ptyChunk = null;
        this.#wake();
      },
    );
  }

  /** Starts the shell on the pty (the "release" of §7.2 step 8). */
  #releaseChild(now: number): void {
    this.#childReleased = true;
    this.#feedTerminal(encoder.encode("\r\n"));
    try {
      this.#pty.spawn(this.#plan);
      this.#armPtyRead();
    } catch (e) {
      // C's child warns on the pty, sleeps 3 s and exits 1; show the same and linger likewise.
      const why = e instanceof PtyError ? e.message.replace(/^posix_spawnp/, "execvp") : String(e);
      this.#feedTerminal(encoder.encode(`mosh-server: ${why}\r\n`));
      this.#execFailedAt = now;
    }
  }

  #startShutdown(now: number): void {
    if (!this.#transport.shutdownInProgress) this.#transport.startShutdown(now);
  }

  /** One pass of the main loop (§7.3). */
  #pass(now: number): void {
    const transport = this.#transport;
    const terminal = this.#terminal;
    const shuttingDown = () => transport.shutdownInProgress;

    // 1. New client state: apply its input.
    if (transport.remoteStateNum !== this.#lastRemoteNum) {
      this.#lastRemoteNum = transport.remoteStateNum;
      const events = decodeUserMessage(transport.getRemoteDiff());
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        if (ev.type === "capabilities") {
          // Our extension: neither input nor a resize (lib/history_sender.ts).
          acceptCapabilities(terminal, ev.caps, this.#history, this.#forwardingAllowed);
          if (
            this.#forwardingAllowed && this.#forwarding === null && announces(ev.caps, FORWARDING)
          ) {
            this.#forwarding = startServerForwarding(
              terminal,
              this.#connection,
              this.#wake,
              clock,
              this.#verbose ? log : undefined,
            );
            // -A: in place before the shell starts (it starts later in this pass).
            if (announces(ev.caps, AGENT_FORWARDING) && !this.#childReleased) {
              const path = this.#forwarding.startAgent();
              if (path !== null) this.#plan.env.SSH_AUTH_SOCK = path;
            }
          }
        } else if (ev.type === "control") {
          this.#forwarding?.link.control(ev);
        } else if (ev.type === "resize") {
          if (i + 1 < events.length && events[i + 1].type === "resize") continue;
          try {
            this.#pty.resize(ev.width, ev.height);
          } catch (e) {
            log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
            this.#startShutdown(now);
          }
          terminal.terminal.resize(ev.width, ev.height);
        } else {
          const translated = terminal.terminal.translateUserInput(ev.keys);
          if (translated.length > 0) this.#writeBuffer.push(translated);
        }
      }
      if (events.length > 0) terminal.registerInputFrame(this.#lastRemoteNum, now);
      if (!shuttingDown()) transport.setCurrentState(terminal);
      if (!this.#childReleased) this.#releaseChild(now);
    }

    // 2. Shell output (not while shutting down).
    if (this.#ptyChunk !== undefined && !shuttingDown()) {
      const chunk = this.#ptyChunk;
      this.#ptyChunk = undefined;
      if (chunk === null) {
        this.#startShutdown(now);
      } else {
        this.#feedTerminal(chunk);
        transport.setCurrentState(terminal);
        this.#armPtyRead();
      }
    }
    if (this.#execFailedAt >= 0 && now >= this.#execFailedAt + EXEC_FAILURE_LINGER) {
      this.#execFailedAt = -1;
      this.#startShutdown(now);
    }

    // 3. Input and terminal replies to the shell.
    if (this.#writeBuffer.length > 0) {
      const buffers = this.#writeBuffer;
      this.#writeBuffer = [];
      if (this.#pty.pid !== 0) {
        try {
          for (const b of buffers) this.#pty.write(b);
        } catch (e) {
          log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
          this.#startShutdown(now);
        }
      }
    }

    // 4. Signals and idleness.
    let idle = false;
    if (this.#networkTimeout > 0) {
      const since = now - transport.getLatestRemoteState().timestamp;
      if (since >= this.#networkTimeout) {
        log(`Network idle for ${Math.floor(since / 1000)} seconds.`);
        idle = true;
      }
    }
    const signals = this.#signals;
    this.#signals = [];
    let signalled = false;
    for (const sig of signals) {
      if (sig === "SIGUSR1") {
        const since = now - transport.getLatestRemoteState().timestamp;
        if (this.#signalTimeout === 0 || since >= this.#signalTimeout) {
          log(`Network idle for ${Math.floor(since / 1000)} seconds when SIGUSR1 received`);
          idle = true;
        }
      } else {
        signalled = true;
      }
    }
    if (signalled || idle) {
      if (this.#connection.hasRemoteAddr && !shuttingDown()) {
        this.#startShutdown(now);
      } else {
        this.#done = true;
        return;
      }
    }

    // 5. The end of a shutdown handshake, ours or the client's.
    if (
      (shuttingDown() &&
        (transport.shutdownAcknowledged || transport.shutdownAckTimedOut(now))) ||
      transport.counterpartyShutdownAckSent
    ) {
      this.#done = true;
      return;
    }

    // 6. (utmp records are not supported.)

    // 7. Echo ack (§6.3): publish a new frame when it moved.
    if (terminal.setEchoAck(now) && !shuttingDown()) transport.setCurrentState(terminal);

    // 8. Nobody came.
    if (transport.remoteStateNum === 0n && now - this.#startTime >= NO_CONNECTION_TIMEOUT) {
      log("No connection within 60 seconds.");
      this.#done = true;
      return;
    }

    // 9. Send what is due, with history up to its budget past what the client acknowledged.
    advanceHistory(terminal, transport, this.#connection.mtu, now);
    this.#forwarding?.publish(transport);
    transport.tick(now);
    this.#forwarding?.link.pump();
    if (this.#verbose) this.#verboseChecks();
    this.#heap.tick(now);
  }

  /**
   * -v only: report rejected datagrams, and after each new frame apply its diff to our own copy of
   * the client's state and check that it reproduces the terminal (C's round-trip verification).
   */
  #verboseChecks(): void {
    const rejected = rejectionReport(this.#connection.stats, this.#transport.stats.malformed);
    if (rejected.total !== this.#rejectedSeen) {
      log(rejected.line);
      this.#rejectedSeen = rejected.total;
    }
    const sent = this.#transport.getSentStateLast();
    if (sent === this.#lastSentNum) return;
    this.#lastSentNum = sent;
    const current = this.#terminal;
    if (this.#verifyState === null) this.#verifyState = new TerminalState(this.#cols, this.#rows);
    const copy = this.#verifyState;
    const diff = current.diffFrom(copy);
    let ok = true;
    try {
      if (diff.length > 0) copy.applyString(diff);
      ok = current.contentEquals(copy);
      copy.frontier = current.frontier; // history is not verified here (the copy has no inbox)
    } catch {
      ok = false;
    }
    if (!ok) {
      log("Warning, round-trip Instruction verification failed!");
      // Start over from a full repaint, as a new client would see it. (A clone of our own state
      // would also copy modes a client never learns, such as the scrolling region.)
      const fresh = new TerminalState(current.terminal.width, current.terminal.height);
      try {
        fresh.applyString(current.diffFrom(fresh));
      } catch {
        // leave it blank; the next frame's check reports any lasting problem
      }
      this.#verifyState = fresh;
    }
  }
}

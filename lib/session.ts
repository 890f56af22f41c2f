/**
 * One mosh session: the shell on a pty, the terminal emulator between them, and the server main
 * loop's policy (docs/PROTOCOL.md §7.2 step 8, §7.3, §6.3) over any number of client connections
 * (lib/server_connection.ts; at most MAX_CLIENTS). What a session shares: the pty, the emulator,
 * the queue of input for the shell and the shutdown. What each connection holds: its key,
 * transport, echo ack and window size.
 *
 * The loop is one `#pass()` run whenever something happens: a datagram (a connection wakes us),
 * pty output (an FFI poll on a worker thread), a signal, or the earliest timer (SSP, echo ack,
 * network timeout, the 60 s first-contact limit). Between passes the session sleeps on its own
 * Waker, so idle sessions use no CPU and one session's wait holds up another's (the host runs
 * every session's loop on the one event loop) only in the last 2 ms of a precise wait, which the
 * Waker blocks out (lib/waker.ts).
 *
 * The shell is "released" by the first client state, as in mosh 1.4.0, where the forked child
 * prints the motd and then blocks reading a line from the pty until the server writes "\n" to it
 * (whose echo puts a blank line at the top of the first frame). We cannot fork, so we reproduce
 * the observable result instead: the motd goes into the terminal at startup, and on the first
 * client state (after its resize is applied) the terminal gets the echoed "\r\n" and the shell is
 * spawned. Difference: before a client arrives there is no shell process at all (in C there is a
 * blocked child).
 *
 * Several clients: every client's keystrokes go to the one shell; the terminal's size is the
 * smallest among the clients heard from in the last SIZE_WINDOW ms. A client that quits ends the
 * session when it is the only connection (as in C), otherwise only its own connection.
 *
 * Forwarding (docs/EXTENSIONS.md "Forwarding") is per connection (lib/server_connection.ts); the
 * session decides whether it is allowed (its `new` call's environment, /etc/mosh-deno), makes the
 * `-R` listeners and the agent socket our wrapper asked for before the shell starts
 * (lib/forwarding_preset.ts) and hands them to the first connection that announces forwarding.
 */

import { HistoryRing, scrollbackFromEnv } from "./history.ts";
import { acceptCapabilities } from "./history_sender.ts";
import { AGENT_FORWARDING, announces, type Capability, FORWARDING } from "./extensions.ts";
import { FORWARD_PRESET_VARIABLE, forwardingRefusal } from "./forward_spec.ts";
import { ForwardingPreset } from "./forwarding_preset.ts";
import type { Connection } from "./connection.ts";
import type { HeapHygiene } from "./heap_hygiene.ts";
import { Pty, PtyError } from "./pty.ts";
import type { ServerOptions } from "./server_args.ts";
import { ServerConnection } from "./server_connection.ts";
import {
  motdText,
  planShell,
  resolveCommand,
  type ShellPlan,
  timeoutFromEnv,
} from "./shell_plan.ts";
import { passwdEntry } from "./system_info.ts";
import { Terminal } from "./terminal.ts";
import { EventLog, noticeEvent } from "./terminal_events.ts";
import { clock, Waker } from "./waker.ts";
import { sleep } from "./timer.ts";

/** A session ends if no client state arrives this long after startup (ms). */
export const NO_CONNECTION_TIMEOUT = 60000;
/** At most this many clients share one session. */
export const MAX_CLIENTS = 8;
/** The terminal size follows the clients heard from within this long (ms). */
export const SIZE_WINDOW = 60000;
/** Above this many bytes of input queued for the shell, no client's new states are taken. */
export const PTY_INPUT_QUEUE_LIMIT = 1 << 20;
/** Longest sleep before the first client state and while shutting down (ms). */
const IDLE_WAKE = 5000;
/**
 * A pty read at least this long means the shell is still writing (the kernel hands a flood over
 * in ~4 KB pieces; an echo or a prompt is far shorter): the loop's next wait then does not block
 * out its last milliseconds (lib/waker.ts), which would hold back the pty's next read.
 */
const STREAMING_CHUNK = 2048;
/** Longest sleep at all (ms): the timers are recomputed at least this often. */
const MAX_SLEEP = 60000;
/** After a failed exec the "child" lingers this long before the server shuts down (C: sleep 3). */
const EXEC_FAILURE_LINGER = 3000;

const encoder = new TextEncoder();

/** What a session is made from. */
export interface SessionOptions {
  /** The parsed `new` command line (command, colours, -v). */
  options: ServerOptions;
  /** The environment of the `new` call: the shell's environment and the timeouts. */
  env: Record<string, string>;
  /** Initial terminal size. */
  cols: number;
  /** Initial terminal size. */
  rows: number;
  /** Diagnostics (stderr with -v; the host's log in the host). */
  log: (line: string) => void;
  /** Host-wide heap hygiene, ticked from the loop, or null. */
  heap: HeapHygiene | null;
  /**
   * What an unexpected error in the loop does: "continue" reports it and keeps serving (the
   * standalone server, as C's exception handler does), "close" ends this session with the reason
   * logged (the host, so the other sessions go on).
   */
  onError: "continue" | "close";
  /** Test-only: pty output containing this text throws inside the loop. Null in production. */
  failOn?: string | null;
  /**
   * The host: find the command in the `new` call's PATH (the pty's spawn searches the PATH of
   * the process, which is the host's). The standalone server's PATH is already the caller's.
   */
  ownPath?: boolean;
  /** Where `-A` makes its agent socket's directory (default: the temporary directory). */
  agentParent?: string;
}

/** The timeouts a session takes from its environment, and any warnings about them. */
export function sessionTimeouts(env: Record<string, string>): {
  network: number;
  signal: number;
  warnings: string[];
} {
  const network = timeoutFromEnv("MOSH_SERVER_NETWORK_TMOUT", env.MOSH_SERVER_NETWORK_TMOUT);
  const signal = timeoutFromEnv("MOSH_SERVER_SIGNAL_TMOUT", env.MOSH_SERVER_SIGNAL_TMOUT);
  const warnings: string[] = [];
  for (const t of [network, signal]) if (t.warning !== null) warnings.push(t.warning);
  return { network: network.ms, signal: signal.ms, warnings };
}

/** The pty, the emulator, the connections and the loop of one session. */
export class Session {
  /** The session's one emulator, shared by every connection. */
  readonly terminal: Terminal;
  /** The shell's pty. */
  readonly pty: Pty;
  /** What runs in the pty. */
  readonly plan: ShellPlan;
  /** When the session started (loop clock, ms). */
  readonly startTime: number;
  /** The connections, oldest first. */
  readonly connections: ServerConnection[] = [];
  /** The session's scrollback history (MOSH_SCROLLBACK lines; null = off), shared by every
   * connection; each connection's state keeps its own frontier (lib/history_sender.ts). */
  readonly history: HistoryRing | null;
  /** The session's terminal events (notifications, copies, notices; lib/terminal_events.ts),
   * the emulator's one event sink; each connection's state keeps its own frontier over it. */
  readonly events: EventLog = new EventLog();

  readonly #log: (line: string) => void;
  readonly #verbose: boolean;
  readonly #heap: HeapHygiene | null;
  readonly #onError: "continue" | "close";
  readonly #failOn: string | null;
  readonly #networkTimeout: number;
  readonly #signalTimeout: number;
  readonly #waker = new Waker(clock);
  /** Forwarding is allowed in this session (not refused by its environment or /etc). */
  readonly #forwardingAllowed: boolean;
  readonly #agentParent: string | undefined;
  /** `-R` listeners and the agent socket made before the shell, until a connection adopts them. */
  #preset: ForwardingPreset | null = null;
  /** SSH_AUTH_SOCK of the `new` call, restored when nobody adopts the preset's agent socket. */
  readonly #callerAgent: string | undefined;
  readonly #decoder = new TextDecoder();

  #nextConnectionId = 1;
  #signals: string[] = [];
  #ptyChunk: Uint8Array | null | undefined = undefined; // null = end of file
  /** The last pty read was STREAMING_CHUNK or longer: the shell is still writing. */
  #streaming = false;
  #ptyReading = false;
  #childReleased = false;
  #execFailedAt = -1;
  #writeBuffer: Uint8Array[] = [];
  #shuttingDown = false;
  #done = false;
  #failure: string | null = null;
  #endReason = "";

  /** Opens the pty (throws a PtyError) and plans the shell; nothing runs until `run()`. */
  constructor(o: SessionOptions) {
    this.pty = Pty.open(o.cols, o.rows);
    const plan = planShell(o.options, o.env, passwdEntry());
    this.plan = o.ownPath ? { ...plan, file: resolveCommand(plan.file, o.env.PATH) } : plan;
    this.terminal = new Terminal(o.cols, o.rows);
    const scrollback = scrollbackFromEnv(o.env.MOSH_SCROLLBACK);
    if (scrollback.warning !== null) o.log(`mosh-server: ${scrollback.warning}`);
    this.history = scrollback.lines > 0 ? new HistoryRing(scrollback.lines) : null;
    this.terminal.scrollback = this.history;
    const events = this.events;
    this.terminal.eventSink = (osc) => events.push(osc);
    this.startTime = clock();
    this.#log = o.log;
    this.#verbose = o.options.verbose > 0;
    this.#heap = o.heap;
    this.#onError = o.onError;
    this.#failOn = o.failOn ?? null;
    this.#agentParent = o.agentParent;
    this.#forwardingAllowed = forwardingRefusal({ get: (name) => o.env[name] }) === null;
    const preset = this.plan.env[FORWARD_PRESET_VARIABLE];
    delete this.plan.env[FORWARD_PRESET_VARIABLE];
    this.#callerAgent = this.plan.env.SSH_AUTH_SOCK;
    if (preset !== undefined && this.#forwardingAllowed) {
      this.#preset = new ForwardingPreset(preset, o.agentParent, o.log);
      const agent = this.#preset.agentPath;
      if (agent !== null) this.plan.env.SSH_AUTH_SOCK = agent;
    }
    const timeouts = sessionTimeouts(o.env);
    this.#networkTimeout = timeouts.network;
    this.#signalTimeout = timeouts.signal;
    if (this.plan.login) {
      const motd = motdText(this.plan.cwd);
      if (motd !== "") this.#feedTerminal(encoder.encode(motd));
    }
  }

  /** True once the loop has ended. */
  get done(): boolean {
    return this.#done;
  }

  /** Why the session ended ("" while it runs). */
  get endReason(): string {
    return this.#endReason;
  }

  /**
   * Adds a client connection (bound, with its own fresh key); its client starts from a blank
   * `cols` x `rows` state, so its first frame repaints the current screen. Throws when the
   * session has MAX_CLIENTS connections or is ending.
   */
  addConnection(connection: Connection, cols: number, rows: number): ServerConnection {
    if (this.#shuttingDown || this.#done) throw new Error("the session is ending");
    const live = this.connections.filter((c) => !c.shuttingDown).length;
    if (live >= MAX_CLIENTS) throw new Error(`the session has ${MAX_CLIENTS} clients already`);
    const c = new ServerConnection({
      id: this.#nextConnectionId++,
      connection,
      terminal: this.terminal,
      cols,
      rows,
      clock,
      wake: this.#wake,
      log: this.#log,
      verbose: this.#verbose,
      holdInput: this.#holdInput,
    });
    this.connections.push(c);
    this.#wake();
    return c;
  }

  /** Shuts every connection but `keep` down cleanly (their clients exit with mosh's message). */
  detachOthers(keep: ServerConnection): void {
    const now = clock();
    for (const c of this.connections) if (c !== keep) c.startShutdown(now);
    this.#wake();
  }

  /** Delivers SIGTERM, SIGINT (clean shutdown) or SIGUSR1 (§7.3) to this session. */
  signal(name: "SIGTERM" | "SIGINT" | "SIGUSR1"): void {
    this.#signals.push(name);
    this.#wake();
  }

  #wake = (): void => this.#waker.wake();
  #holdInput = (): boolean => this.pty.pendingWrite > PTY_INPUT_QUEUE_LIMIT;

  /** The loop; resolves when the session has ended, with the pty and connections closed. */
  async run(): Promise<void> {
    try {
      let failures = 0;
      while (!this.#done) {
        try {
          if (this.#failure === null) this.#pass(clock());
          else this.#closingPass(clock());
        } catch (e) {
          const why = e instanceof Error ? e.stack ?? e.message : String(e);
          if (this.#onError === "close") {
            if (this.#failure !== null) {
              this.#end(`failed while closing: ${why}`);
              break;
            }
            this.#failure = why;
            this.#log(`session failed: ${why}`);
            const now = clock();
            for (const c of this.connections) c.startShutdown(now);
          } else {
            // Never expected; like C's exception handler, report it and keep serving, slowing
            // down after the first few so that a persistent fault cannot spin the CPU.
            this.#log(`mosh-server: ${why}`);
            if (++failures > 10) await sleep(100);
          }
        }
        if (this.#done) break;
        await this.#waker.sleep(this.#timeout(clock()), !this.#streaming);
      }
    } finally {
      this.#waker.close();
      this.#preset?.close();
      await this.pty.close();
      await Promise.all(this.connections.map((c) => c.close()));
    }
  }

  #end(reason: string): void {
    this.#done = true;
    if (this.#endReason === "") this.#endReason = reason;
  }

  /** After a failure ("close" mode): only finish the connections' shutdown handshakes. */
  #closingPass(now: number): void {
    for (const c of this.connections) c.transport.tick(now);
    if (this.connections.every((c) => c.shutdownDone(now) || c.clientQuit)) {
      this.#end(`failed: ${this.#failure}`);
    }
  }

  /** How long the loop may sleep (§7.3): the earliest of every timer. */
  #timeout(now: number): number {
    let t = MAX_SLEEP;
    let contacted = false;
    for (const c of this.connections) {
      t = Math.min(t, c.waitTime(now));
      if (!c.contacted || c.shuttingDown) t = Math.min(t, IDLE_WAKE);
      if (!c.contacted) t = Math.min(t, Math.max(0, c.createdAt + NO_CONNECTION_TIMEOUT - now));
      if (c.contacted) contacted = true;
    }
    if (this.#networkTimeout > 0 && this.connections.length > 0) {
      const since = now - this.#lastStateTime();
      t = Math.min(t, Math.max(0, this.#networkTimeout - since));
    }
    if (!contacted) t = Math.min(t, Math.max(0, this.startTime + NO_CONNECTION_TIMEOUT - now));
    if (this.#execFailedAt >= 0) {
      t = Math.min(t, Math.max(0, this.#execFailedAt + EXEC_FAILURE_LINGER - now));
    }
    return t;
  }

  /** Arrival time of the newest client state over all connections. */
  #lastStateTime(): number {
    let newest = -Infinity;
    for (const c of this.connections) newest = Math.max(newest, c.lastStateTime);
    return newest;
  }

  /** Feeds host output to the emulator; its replies (DA, DSR) go back to the pty. */
  #feedTerminal(bytes: Uint8Array): void {
    const reply = this.terminal.write(bytes);
    if (reply.length > 0) this.#writeBuffer.push(reply);
  }

  #armPtyRead(): void {
    if (this.#ptyReading || this.#ptyChunk !== undefined) return;
    this.#ptyReading = true;
    this.pty.read().then(
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
      this.pty.spawn(this.plan);
      this.#armPtyRead();
    } catch (e) {
      // C's child warns on the pty, sleeps 3 s and exits 1; show the same and linger likewise.
      const why = e instanceof PtyError ? e.message.replace(/^posix_spawnp/, "execvp") : String(e);
      this.#feedTerminal(encoder.encode(`mosh-server: ${why}\r\n`));
      this.#execFailedAt = now;
    }
  }

  /** Starts the clean shutdown of the whole session (every connection's handshake). */
  #startShutdown(now: number): void {
    this.#shuttingDown = true;
    for (const c of this.connections) c.startShutdown(now);
  }

  /**
   * Resizes the pty and the emulator to the smallest size among the clients heard from within
   * SIZE_WINDOW (`always`: even when that is the current size, as a client's resize does in C).
   */
  #applySize(now: number, always: boolean): void {
    let cols = Infinity, rows = Infinity;
    for (const c of this.connections) {
      if (c.size === null || c.shuttingDown) continue;
      if (now - c.connection.lastHeard > SIZE_WINDOW) continue;
      cols = Math.min(cols, c.size.cols);
      rows = Math.min(rows, c.size.rows);
    }
    if (cols === Infinity) return;
    if (!always && cols === this.terminal.width && rows === this.terminal.height) return;
    try {
      this.pty.resize(cols, rows);
    } catch (e) {
      this.#log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
      this.#startShutdown(now);
    }
    this.terminal.resize(cols, rows);
  }

  /** Starts `c`'s forwarding; it adopts the preset, and `-A` before the shell starts. */
  #forward(c: ServerConnection, caps: readonly Capability[]): void {
    if (c.forwarding !== null) return;
    const f = c.startForwarding();
    this.#preset?.adoptInto(f);
    this.#preset = null;
    // -A: in place before the shell starts (it starts later in this pass).
    if (announces(caps, AGENT_FORWARDING) && !this.#childReleased) {
      const path = f.startAgent(this.#agentParent);
      if (path !== null) this.plan.env.SSH_AUTH_SOCK = path;
    }
  }

  /** Applies one connection's new client state: resizes and keystrokes (§7.3 step 1). */
  #applyInput(c: ServerConnection, now: number): boolean {
    const first = c.lastRemoteNum === 0n;
    const events = c.takeEvents();
    if (events === null) return false;
    // Before its capabilities start its event frontier, so that only the others get the notice.
    if (first) this.#noticeAttach(c);
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev.type === "capabilities") {
        // Our extension: neither input nor a resize (lib/history_sender.ts).
        acceptCapabilities(
          c.state,
          ev.caps,
          this.history,
          this.events,
          this.#forwardingAllowed,
        );
        if (this.#forwardingAllowed && announces(ev.caps, FORWARDING)) this.#forward(c, ev.caps);
      } else if (ev.type === "control") {
        c.forwarding?.link.control(ev);
      } else if (ev.type === "resize") {
        if (i + 1 < events.length && events[i + 1].type === "resize") continue;
        c.size = { cols: ev.width, rows: ev.height };
        this.#applySize(now, true);
      } else {
        const translated = this.terminal.translateUserInput(ev.keys);
        if (translated.length > 0) this.#writeBuffer.push(translated);
        // Keystrokes first: every client's bulk forwarded data waits while the echo is made.
        for (const x of this.connections) x.forwarding?.link.holdForKeystroke();
      }
    }
    if (events.length > 0) c.state.registerInputFrame(c.lastRemoteNum, now);
    return true;
  }

  /**
   * A connection's first client state: when the session has other live connections, their
   * clients (ours, with terminal features) are told in their notification bar.
   */
  #noticeAttach(c: ServerConnection): void {
    const others = this.connections.filter((o) => o !== c && o.contacted && !o.shuttingDown);
    if (others.length === 0) return;
    const addr = c.connection.remoteAddr;
    const from = addr === null ? "" : ` from ${addr.hostname}`;
    const n = others.length + 1;
    this.events.push(noticeEvent(`Another client attached${from} (${n} clients).`));
    this.#log(`connection ${c.id}: client attached${from}, ${n} clients`);
  }

  /** One pass of the main loop (§7.3). */
  #pass(now: number): void {
    const connections = this.connections;

    // 1. New client states: apply their input; the first one releases the shell.
    let input = false;
    for (const c of connections) if (this.#applyInput(c, now)) input = true;
    if (input && !this.#childReleased) {
      // The releasing client does not forward: what the wrapper asked for has no taker.
      if (this.#preset !== null) {
        this.#preset.close();
        this.#preset = null;
        if (this.#callerAgent === undefined) delete this.plan.env.SSH_AUTH_SOCK;
        else this.plan.env.SSH_AUTH_SOCK = this.#callerAgent;
      }
      this.#releaseChild(now);
    }
    // The smallest window can change without a resize: a client left or went quiet for 60 s.
    this.#applySize(now, false);

    // 2. Shell output (not while shutting down).
    if (this.#ptyChunk !== undefined && !this.#shuttingDown) {
      const chunk = this.#ptyChunk;
      this.#ptyChunk = undefined;
      this.#streaming = chunk !== null && chunk.length >= STREAMING_CHUNK;
      if (chunk === null) {
        this.#startShutdown(now);
      } else {
        this.#feedTerminal(chunk);
        this.#armPtyRead();
        if (this.#failOn !== null && this.#decoder.decode(chunk).includes(this.#failOn)) {
          throw new Error("test-only failure trigger");
        }
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
      if (this.pty.pid !== 0) {
        try {
          for (const b of buffers) this.pty.write(b);
        } catch (e) {
          this.#log(`mosh-server: ${e instanceof Error ? e.message : String(e)}`);
          this.#startShutdown(now);
        }
      }
    }

    // 4. Signals and idleness.
    let idle = false;
    if (this.#networkTimeout > 0 && connections.length > 0) {
      const since = now - this.#lastStateTime();
      if (since >= this.#networkTimeout) {
        this.#log(`Network idle for ${Math.floor(since / 1000)} seconds.`);
        idle = true;
      }
    }
    const signals = this.#signals;
    this.#signals = [];
    let signalled = false;
    for (const sig of signals) {
      if (sig === "SIGUSR1") {
        const since = now - this.#lastStateTime();
        if (this.#signalTimeout === 0 || since >= this.#signalTimeout) {
          const seconds = since === Infinity ? 0 : Math.floor(since / 1000);
          this.#log(`Network idle for ${seconds} seconds when SIGUSR1 received`);
          idle = true;
        }
      } else {
        signalled = true;
      }
    }
    if (signalled || idle) {
      const reachable = connections.some((c) => c.connection.hasRemoteAddr);
      if (reachable && !this.#shuttingDown) {
        this.#startShutdown(now);
      } else {
        this.#end(signalled ? "signal" : "network idle");
        return;
      }
    }

    // 5. The end of a shutdown handshake, ours or a client's.
    if (this.#shuttingDown && connections.every((c) => c.shutdownDone(now) || c.clientQuit)) {
      this.#end("shut down");
      return;
    }
    for (let i = connections.length - 1; i >= 0; i--) {
      const c = connections[i];
      if (c.clientQuit && connections.length === 1) {
        this.#end("the client quit");
        return;
      }
      if (!this.#shuttingDown && (c.clientQuit || c.shutdownDone(now))) {
        connections.splice(i, 1);
        void c.close();
        this.#log(`connection ${c.id} closed`);
      }
    }

    // 6. (utmp records are not supported.)

    // 7. Nobody came: a session nobody ever contacted ends; a later connection is dropped.
    for (let i = connections.length - 1; i >= 0; i--) {
      const c = connections[i];
      if (c.contacted || now - c.createdAt < NO_CONNECTION_TIMEOUT) continue;
      if (!this.#childReleased) {
        this.#log("No connection within 60 seconds.");
        this.#end("no connection");
        return;
      }
      connections.splice(i, 1);
      void c.close();
      this.#log(`connection ${c.id} dropped: no contact within 60 seconds`);
    }

    // 8. Echo acks, and send what is due.
    for (const c of connections) c.tick(now);
    this.#heap?.tick(now);
  }
}

/**
 * What one client's connection to a session holds (docs/PROTOCOL.md §2, §5, §6.3): its UDP
 * endpoint and key (lib/connection.ts, so its own nonce space and roaming), its SSP sender and
 * receiver (lib/transport.ts, so the states it has sent and the client states it has received),
 * its echo ack, and the window size its client last asked for.
 *
 * The terminal itself is shared by every connection of a session (lib/session.ts): each
 * connection's local state is a `TerminalState` view made of the session's one emulator plus this
 * connection's own echo ack, so a frame sent to one client never depends on another's input
 * timing. A connection starts from a blank state of the size its client assumes, so the first
 * frame it sends is a full repaint of the current screen (what `attach` relies on).
 *
 * Forwarding (docs/EXTENSIONS.md "Forwarding") belongs to the connection too: its channels, `-R`
 * listeners and agent socket (lib/forwarding_server.ts) are this client's alone, its segments
 * (first byte 0xFF) arrive through this connection's key (so also when several connections share
 * one UDP port, lib/udp_port.ts), and closing the connection closes them.
 */

import { advanceFeatures, advanceHistory, HistoryPacer } from "./history_sender.ts";
import { ServerForwarding } from "./forwarding_server.ts";
import { type Connection, rejectionReport } from "./connection.ts";
import { decodeUserMessage, type UserEvent } from "./protobuf.ts";
import type { Terminal } from "./terminal.ts";
import { SynchronizedOutput } from "./synchronized_output.ts";
import { TerminalState } from "./terminal_state.ts";
import { Transport } from "./transport.ts";
import { UserStream } from "./user_stream.ts";

/** How one connection is made. */
export interface ServerConnectionOptions {
  /** Number of this connection within its session (1, 2, …). */
  id: number;
  /** The bound endpoint with this connection's own key; not yet listening. */
  connection: Connection;
  /** The session's emulator, shared by all its connections. */
  terminal: Terminal;
  /** Size of the blank state the client starts from (its state number 0). */
  cols: number;
  /** Size of the blank state the client starts from (its state number 0). */
  rows: number;
  /** The session loop's millisecond clock. */
  clock: () => number;
  /** Wakes the session loop (a datagram arrived). */
  wake: () => void;
  /** The session's diagnostics. */
  log: (line: string) => void;
  /** -v: transport diagnostics, rejection counts and the round-trip check. */
  verbose: boolean;
  /** True while the session takes no new client state (its shell's input queue is full). */
  holdInput: () => boolean;
}

/** One client's SSP connection to a shared terminal. */
export class ServerConnection {
  /** Number of this connection within its session. */
  readonly id: number;
  /** The UDP endpoint (own key, own sequence numbers, own roaming). */
  readonly connection: Connection;
  /** SSP sender of the terminal and receiver of this client's keystrokes. */
  readonly transport: Transport<TerminalState, UserStream>;
  /** The shared terminal plus this connection's echo ack: what this client is sent. */
  readonly state: TerminalState;
  /** When the connection was made (loop clock, ms). */
  readonly createdAt: number;
  /** The window size this client last asked for, or null before its first resize. */
  size: { cols: number; rows: number } | null = null;
  /** This client's forwarding, once it announced it and the session allows it. */
  forwarding: ServerForwarding | null = null;

  readonly #log: (line: string) => void;
  readonly #verbose: boolean;
  readonly #wake: () => void;
  readonly #clock: () => number;
  readonly #cols: number;
  readonly #rows: number;
  #lastRemoteNum = 0n;
  #lastSentNum = 0n;
  #verifyState: TerminalState | null = null;
  #rejectedSeen = 0;
  /** Mode 2026: which state this connection publishes while the application holds an update. */
  readonly #sync = new SynchronizedOutput();
  /** The published state is the frozen copy of a held update, not the live view. */
  #frozen = false;
  /** Spaces this connection's history steps while the screen keeps scrolling. */
  readonly #historyPacer = new HistoryPacer();

  constructor(options: ServerConnectionOptions) {
    this.id = options.id;
    this.connection = options.connection;
    this.createdAt = options.clock();
    this.#log = options.log;
    this.#verbose = options.verbose;
    this.#wake = options.wake;
    this.#clock = options.clock;
    this.#cols = options.cols;
    this.#rows = options.rows;
    this.state = new TerminalState(options.terminal);
    this.transport = new Transport<TerminalState, UserStream>({
      link: options.connection,
      initialState: new TerminalState(options.cols, options.rows),
      initialRemoteState: new UserStream(),
      now: options.clock,
      log: options.verbose ? options.log : undefined,
    });
    this.transport.setCurrentState(this.state);
    const wake = options.wake, holdInput = options.holdInput;
    options.connection.listen((payload) => {
      // Back-pressure: no new client state while the shell has not read what it got.
      this.transport.holdRemoteStates = holdInput();
      // A segment: the forwarding link pumps by itself, the session loop sleeps on.
      this.forwarding?.link.heard();
      if (this.forwarding?.link.datagram(payload)) return;
      this.transport.recv(payload);
      wake();
    });
  }

  /** Starts this connection's forwarding (once); the caller checked capability and policy. */
  startForwarding(): ServerForwarding {
    this.forwarding ??= new ServerForwarding(
      this.state,
      this.connection,
      this.#wake,
      this.#clock,
      this.#verbose ? this.#log : undefined,
    );
    return this.forwarding;
  }

  /** The user events of a client state not seen before (in order), or null when none is new. */
  takeEvents(): UserEvent[] | null {
    const num = this.transport.remoteStateNum;
    if (num === this.#lastRemoteNum) return null;
    this.#lastRemoteNum = num;
    return decodeUserMessage(this.transport.getRemoteDiff());
  }

  /** Number of the newest client state applied (0 before the client's first). */
  get lastRemoteNum(): bigint {
    return this.#lastRemoteNum;
  }

  /** True once the client has sent any state. */
  get contacted(): boolean {
    return this.transport.remoteStateNum !== 0n;
  }

  /** Arrival time of the newest client state (creation time before any). */
  get lastStateTime(): number {
    return this.transport.getLatestRemoteState().timestamp;
  }

  /** True while our shutdown handshake runs. */
  get shuttingDown(): boolean {
    return this.transport.shutdownInProgress;
  }

  /** Starts our shutdown handshake (the client then exits with mosh's message). */
  startShutdown(now: number): void {
    if (!this.transport.shutdownInProgress) this.transport.startShutdown(now);
  }

  /** True when our shutdown handshake has ended (acknowledged, timed out or nobody to tell). */
  shutdownDone(now: number): boolean {
    if (!this.transport.shutdownInProgress) return false;
    if (!this.connection.hasRemoteAddr) return true;
    return this.transport.shutdownAcknowledged || this.transport.shutdownAckTimedOut(now);
  }

  /** True when the client ended the connection (its shutdown was acknowledged). */
  get clientQuit(): boolean {
    return this.transport.counterpartyShutdownAckSent;
  }

  /** ms until this connection has work to do (SSP timers and the echo ack). */
  waitTime(now: number): number {
    return Math.min(
      this.transport.waitTime(now),
      this.state.waitTime(now),
      this.#sync.waitTime(now),
      this.#historyPacer.waitTime(now),
    );
  }

  /** Publishes a moved echo ack (§6.3), sends what is due, and runs the -v checks. */
  tick(now: number): void {
    const moved = this.state.setEchoAck(now);
    // Scrollback: this connection's history frontier, a budget past what its client acknowledged.
    let advanced = advanceHistory(
      this.state,
      this.transport,
      this.connection.mtu,
      now,
      this.#historyPacer,
    );
    // Terminal features: this connection's event frontier, a step past what its client has.
    if (advanceFeatures(this.state, this.transport, this.connection.mtu)) advanced = true;
    // A synchronized update is published frozen, echo ack included, until it ends or expires.
    const held = this.state.terminal.synchronizedUpdate !== null;
    // Forwarding: a channel control operation went into the state.
    const control = this.forwarding?.takeDirty() ?? false;
    if (
      (moved || advanced || held || control || this.#frozen) && !this.transport.shutdownInProgress
    ) {
      const published = this.#sync.publish(this.state, now);
      this.#frozen = published !== this.state;
      this.transport.setCurrentState(published);
    }
    this.transport.tick(now);
    // Segments after the SSP tick, only while the send queue is short (forwarding_link.ts).
    this.forwarding?.link.pump();
    if (this.#verbose) this.#verboseChecks();
  }

  /** Closes this client's forwarding and the UDP endpoint. */
  close(): Promise<void> {
    this.forwarding?.close();
    return this.connection.close();
  }

  /**
   * -v only: report rejected datagrams, and after each new frame apply its diff to our own copy of
   * the client's state and check that it reproduces the terminal (C's round-trip verification).
   */
  #verboseChecks(): void {
    const rejected = rejectionReport(this.connection.stats, this.transport.stats.malformed);
    if (rejected.total !== this.#rejectedSeen) {
      this.#log(rejected.line);
      this.#rejectedSeen = rejected.total;
    }
    const sent = this.transport.getSentStateLast();
    if (sent === this.#lastSentNum) return;
    this.#lastSentNum = sent;
    const current = this.state;
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
      this.#log("Warning, round-trip Instruction verification failed!");
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

/**
 * The State Synchronization Protocol (SSP) transport (docs/PROTOCOL.md §5, §11): one side's
 * sender of its local state and receiver of the peer's state, generic over the state objects.
 *
 * The sender (§5.2-5.4) keeps the list of states it has sent (`sentStates`, oldest = the newest
 * state the peer acknowledged), decides from the round-trip estimate which of them the peer is
 * assumed to hold, and at the right moment sends the diff from that state to the current one as
 * an Instruction. The timers are mosh's: a gathering delay after the first change
 * (SEND_MINDELAY), a frame interval of clamp(ceil(SRTT/2), 20, 250) ms, a 100 ms delayed ack, a
 * 3 s heartbeat, retransmission after RTO + 100 ms, and the prospective-resend optimisation.
 *
 * The receiver (§5.5) reassembles fragments, applies each Instruction idempotently to a copy of
 * the state named by `old_num`, and keeps the received states sorted by number. The shutdown
 * handshake (§5.6) uses the state number u64(-1).
 *
 * The transport never imports a concrete state: the client synchronises `UserStream` →
 * `TerminalState`, the server the reverse. It does no I/O itself: it sends through a
 * `TransportLink` (lib/connection.ts implements it) and is fed opened datagram payloads through
 * `recv()`. Time comes from an injectable clock so tests drive the timers deterministically.
 *
 * One addition to mosh's rules: while the link still paces out earlier datagrams (`backlog`),
 * `tick()` sends nothing new, since a new instruction would only queue behind the old one.
 *
 * Hardening beyond C mosh: malformed fragments, undecodable instructions, a protocol-version
 * mismatch, diffs the state rejects and impossible `throwaway_num` values are dropped and counted
 * in `stats` instead of throwing or aborting.
 */

import { FragmentAssembly, Fragmenter, fragmentMtu } from "./fragment.ts";
import { type Instruction, PROTOCOL_VERSION, U64_MAX } from "./protobuf.ts";

/** A state that SSP can synchronise (mosh's state-object contract, §5, §6). */
export interface SyncState<T> {
  /** An independent copy. */
  clone(): T;
  /** Content equality: equal states produce an empty diff. */
  equals(other: T): boolean;
  /** The serialized diff turning `existing` into this state; empty = nothing to send. */
  diffFrom(existing: T): Uint8Array;
  /** Applies a diff made by `diffFrom` (throws on malformed input; the transport drops it). */
  applyString(diff: Uint8Array): void;
  /** Removes what `prefix` already contains (a no-op for states that are not streams). */
  subtract(prefix: T): void;
}

/** What the transport needs from the network layer (implemented by `Connection`). */
export interface TransportLink {
  /** False until the peer's address is known (the server before its first datagram). */
  readonly hasRemoteAddr: boolean;
  /** Smoothed round-trip time in ms. */
  readonly srtt: number;
  /** Retransmission timeout in ms, already clamped to [50, 1000]. */
  readonly rto: number;
  /** Largest datagram to send, in bytes, including all overhead (1252, 1216 or 500). */
  readonly mtu: number;
  /** Send time of the newest local state the peer acknowledged (the port-hop input, §2.5). */
  lastRoundtripSuccess: number;
  /**
   * Datagrams accepted by `send` but not yet handed to the socket (optional; 0 if absent). While
   * it is non-zero, `tick()` sends nothing new.
   */
  readonly backlog?: number;
  /** Sends one fragment; the link adds the timestamps and encrypts. Must not throw. */
  send(payload: Uint8Array): void | Promise<void>;
}

/** A state with its number and the time it was sent or received. */
export interface TimedState<T> {
  /** Milliseconds on the transport's clock. */
  timestamp: number;
  /** The state number (u64). */
  num: bigint;
  /** The state itself (owned by the transport: do not mutate). */
  state: T;
}

/** Counters of instructions the receiver dropped, for `-v` logging. */
export interface TransportStats {
  /** Instructions completely received and decoded. */
  instructions: number;
  /** Fragments the assembly rejected (short, bad zlib, bad protobuf, too large). */
  malformed: number;
  /** Instructions with a protocol_version other than 2. */
  versionMismatch: number;
  /** Instructions whose new_num was already held. */
  duplicates: number;
  /** Instructions whose old_num is not held (idempotency rule). */
  unknownOldNum: number;
  /** Instructions whose throwaway_num would discard every held state. */
  badThrowaway: number;
  /** Instructions whose diff the state refused to apply. */
  badDiff: number;
  /** States dropped by the 1024-entry receiver queue limit. */
  quenched: number;
  /** States that arrived out of order (inserted, not acknowledged). */
  outOfOrder: number;
  /** New states dropped unacknowledged while `holdRemoteStates` was set (the peer resends). */
  held: number;
}

/** Options of `new Transport()`. */
export interface TransportOptions<L, R> {
  /** The network link (a `Connection`, or a fake in tests). */
  link: TransportLink;
  /** The local state to synchronise to the peer (state 0 on both sides). */
  initialState: L;
  /**
   * The peer's state as the peer starts it (state 0). May be given later with `startReceiving()`
   * (the client sends its first state before it has loaded the emulator); sending needs only the
   * local state.
   */
  initialRemoteState?: R;
  /** Millisecond clock; defaults to `performance.now()`. */
  now?: () => number;
  /** Gathering delay after the first change: 8 ms on the server (default), 1 ms on the client. */
  sendMinDelay?: number;
  /** Verbose SSP log (mosh -v style), one line per call; none by default. */
  log?: (line: string) => void;
}

/** Lower bound on the time between frames, ms. */
export const SEND_INTERVAL_MIN = 20;
/** Upper bound on the time between frames, ms. */
export const SEND_INTERVAL_MAX = 250;
/** Heartbeat: an empty ack at least this often, ms. */
export const ACK_INTERVAL = 3000;
/** Delayed ack after receiving data, ms. */
export const ACK_DELAY = 100;
/** Shutdown sends before giving up on the peer's ack. */
export const SHUTDOWN_RETRIES = 16;
/** Frame-rate retransmission needs a new peer state within this time; also the shutdown timeout. */
export const ACTIVE_RETRY_TIMEOUT = 10000;
/** Default SEND_MINDELAY of the server, ms. */
export const SEND_MINDELAY_SERVER = 8;
/** SEND_MINDELAY mosh-client sets, ms. */
export const SEND_MINDELAY_CLIENT = 1;
/** `waitTime()` when no timer is running (C's INT_MAX; also the largest valid setTimeout delay). */
export const WAIT_FOREVER = 2 ** 31 - 1;

const SENT_QUEUE_LIMIT = 32;
const RECEIVED_QUEUE_LIMIT = 1024;
const RECEIVER_QUENCH_INTERVAL = 15000;
const NEVER = -Infinity;
const EMPTY = new Uint8Array(0);

/**
 * The SSP endpoint: sender of the local state `L`, receiver of the remote state `R`.
 *
 * Drive it from an event loop: call `recv(payload)` for every opened datagram payload, `tick()`
 * after every event, and sleep at most `waitTime()` ms between passes.
 */
export class Transport<L extends SyncState<L>, R extends SyncState<R>> {
  /** Receiver drop counters. */
  readonly stats: TransportStats = {
    instructions: 0,
    malformed: 0,
    versionMismatch: 0,
    duplicates: 0,
    unknownOldNum: 0,
    badThrowaway: 0,
    badDiff: 0,
    quenched: 0,
    outOfOrder: 0,
    held: 0,
  };
  /** SEND_MINDELAY in ms (may be changed at any time). */
  sendMinDelay: number;
  /**
   * While true, new remote states are dropped without being acknowledged (counted in
   * `stats.held`); acknowledgements of our own states are still taken. The peer keeps resending
   * them, so nothing is lost: this is back-pressure (the server sets it while its pty input
   * queue is full).
   */
  holdRemoteStates = false;

  readonly #link: TransportLink;
  readonly #now: () => number;
  readonly #log: ((line: string) => void) | null;
  readonly #fragmenter = new Fragmenter();
  readonly #assembly = new FragmentAssembly();

  // Sender (§5.2). `#current` is what is synchronised; `#published` is the object handed out by
  // `currentState`: the same one until a shutdown freezes `#current` as a copy.
  #current: L;
  #published: L;
  readonly #sent: TimedState<L>[];
  #assumed: TimedState<L>;
  #ackNum = 0n;
  #pendingDataAck = false;
  #lastHeard = NEVER;
  #mindelayClock = -1;
  #nextAckTime: number;
  #nextSendTime: number;
  #shutdownInProgress = false;
  #shutdownTries = 0;
  #shutdownStart = NEVER;
  #lastAckSent = 0n;

  // Receiver (§5.5).
  /** Empty until the receiving side has its state 0 (`startReceiving`). */
  readonly #received: TimedState<R>[] = [];
  #lastReceiverState!: R;
  #quenchTimer = NEVER;

  /** Creates the endpoint; nothing is sent until `tick()`. */
  constructor(options: TransportOptions<L, R>) {
    this.#link = options.link;
    this.#now = options.now ?? (() => performance.now());
    this.#log = options.log ?? null;
    this.sendMinDelay = options.sendMinDelay ?? SEND_MINDELAY_SERVER;
    const now = this.#now();
    this.#current = options.initialState;
    this.#published = options.initialState;
    this.#sent = [{ timestamp: now, num: 0n, state: options.initialState.clone() }];
    this.#assumed = this.#sent[0];
    this.#nextAckTime = now;
    this.#nextSendTime = now;
    if (options.initialRemoteState !== undefined) {
      this.startReceiving(options.initialRemoteState, now);
    }
  }

  /** Gives the receiving side its state 0, once, before the first `recv()`. */
  startReceiving(initialRemoteState: R, now: number = this.#now()): void {
    if (this.#received.length > 0) {
      throw new Error("transport: startReceiving() was already called");
    }
    this.#received.push({ timestamp: now, num: 0n, state: initialRemoteState.clone() });
    this.#lastReceiverState = initialRemoteState.clone();
  }

  // ----------------------------------------------------------------------------------------
  // Local state

  /**
   * The live local state. The client mutates it directly (pushing keystrokes). Changes made after
   * `startShutdown()` are not sent.
   */
  get currentState(): L {
    return this.#published;
  }

  /**
   * Replaces the local state (the server publishes its terminal here after every change). The
   * object is kept, not copied: the transport reads it at the next `tick()`. Ignored once a
   * shutdown has started, since the state is then frozen.
   */
  setCurrentState(state: L): void {
    if (this.#shutdownInProgress) return;
    this.#current = state;
    this.#published = state;
  }

  // ----------------------------------------------------------------------------------------
  // Sender

  /** Number of the newest local state the peer acknowledged. */
  getSentStateAcked(): bigint {
    return this.#sent[0].num;
  }

  /** The newest local state the peer acknowledged (owned by the transport: do not mutate). */
  get acknowledgedState(): L {
    return this.#sent[0].state;
  }

  /**
   * Acknowledges the newest remote state at the next `tick()` instead of after the usual delayed
   * ack (ACK_DELAY), if there is one to acknowledge: the client does this when a state brought
   * scrollback history, whose flow the server paces by the client's acks.
   */
  ackSoon(now: number = this.#now()): void {
    if (this.#pendingDataAck && this.#nextAckTime > now) this.#nextAckTime = now;
  }

  /**
   * Acknowledges the newest remote state again at the next `tick()`: the peer resent a state we
   * already have, so our ack was lost. Our client does this only with our server (terminal
   * features), whose event flow waits for each ack; otherwise the peer would wait for the
   * ACK_INTERVAL heartbeat.
   */
  ackAgain(now: number = this.#now()): void {
    this.#pendingDataAck = true;
    if (this.#nextAckTime > now) this.#nextAckTime = now;
  }

  /** Send time of the newest local state the peer acknowledged. */
  getSentStateAckedTimestamp(): number {
    return this.#sent[0].timestamp;
  }

  /** Number of the local state sent most recently. */
  getSentStateLast(): bigint {
    return this.#sent[this.#sent.length - 1].num;
  }

  /** Send time of the newest state the peer acknowledged (C's `last_roundtrip_success`). */
  get lastRoundtripSuccess(): number {
    return this.#sent[0].timestamp;
  }

  /** The number of local states held (acknowledged one included); at most 32. */
  get sentStateCount(): number {
    return this.#sent.length;
  }

  /** Milliseconds until the next `tick()` has work to do (`WAIT_FOREVER` = none). */
  waitTime(now: number = this.#now()): number {
    this.#calculateTimers(now);
    if (!this.#link.hasRemoteAddr) return WAIT_FOREVER;
    const next = Math.min(this.#nextAckTime, this.#nextSendTime);
    if (next === Infinity) return WAIT_FOREVER;
    // While the link still paces out the last instruction, poll gently instead of spinning.
    const floor = (this.#link.backlog ?? 0) > 0 ? 1 : 0;
    return Math.max(floor, Math.ceil(next - now));
  }

  /** Sends whatever the timers say is due: a data frame, a retransmission or an empty ack. */
  tick(now: number = this.#now()): void {
    this.#calculateTimers(now);
    if (!this.#link.hasRemoteAddr) return;
    // The previous instruction is still being paced out: a new one would only queue behind it.
    if ((this.#link.backlog ?? 0) > 0) return;
    if (now < this.#nextAckTime && now < this.#nextSendTime) return;

    let diff = this.#current.diffFrom(this.#assumed.state);
    diff = this.#prospectiveResend(diff);

    if (diff.length === 0) {
      if (now >= this.#nextAckTime) {
        this.#sendEmptyAck(now);
        this.#mindelayClock = -1;
      }
      if (now >= this.#nextSendTime) {
        this.#nextSendTime = Infinity;
        this.#mindelayClock = -1;
      }
    } else if (now >= this.#nextSendTime || now >= this.#nextAckTime) {
      this.#sendToReceiver(now, diff);
      this.#mindelayClock = -1;
    }
  }

  /** clamp(ceil(SRTT / 2), 20, 250): about two frames per round trip. */
  get sendInterval(): number {
    const interval = Math.ceil(this.#link.srtt / 2);
    if (interval < SEND_INTERVAL_MIN) return SEND_INTERVAL_MIN;
    if (interval > SEND_INTERVAL_MAX) return SEND_INTERVAL_MAX;
    return interval;
  }

  #back(): TimedState<L> {
    return this.#sent[this.#sent.length - 1];
  }

  /** §5.3 step 1: the newest sent state whose send is recent enough to assume it arrived. */
  #updateAssumedReceiverState(now: number): void {
    const limit = this.#link.rto + ACK_DELAY;
    this.#assumed = this.#sent[0];
    for (let i = 1; i < this.#sent.length; i++) {
      if (now - this.#sent[i].timestamp < limit) this.#assumed = this.#sent[i];
      else break;
    }
  }

  /** §5.3 step 2: drop what the peer acknowledged from every held state. */
  #rationalizeStates(): void {
    const known = this.#sent[0].state;
    this.#current.subtract(known);
    // Newest first, so the acknowledged state itself is reduced last.
    for (let i = this.#sent.length - 1; i >= 0; i--) this.#sent[i].state.subtract(known);
  }

  #calculateTimers(now: number): void {
    this.#updateAssumedReceiverState(now);
    this.#rationalizeStates();

    if (this.#pendingDataAck && this.#nextAckTime > now + ACK_DELAY) {
      this.#nextAckTime = now + ACK_DELAY;
    }

    const back = this.#back();
    const activeRetry = this.#lastHeard + ACTIVE_RETRY_TIMEOUT > now;
    if (!this.#current.equals(back.state)) {
      if (this.#mindelayClock === -1) this.#mindelayClock = now;
      this.#nextSendTime = Math.max(
        this.#mindelayClock + this.sendMinDelay,
        back.timestamp + this.sendInterval,
      );
    } else if (!this.#current.equals(this.#assumed.state) && activeRetry) {
      this.#nextSendTime = back.timestamp + this.sendInterval;
      if (this.#mindelayClock !== -1) {
        this.#nextSendTime = Math.max(this.#nextSendTime, this.#mindelayClock + this.sendMinDelay);
      }
    } else if (!this.#current.equals(this.#sent[0].state) && activeRetry) {
      this.#nextSendTime = back.timestamp + this.#link.rto + ACK_DELAY;
    } else {
      this.#nextSendTime = Infinity;
    }

    // Hurry the shutdown exchange along (§5.6).
    if (this.#shutdownInProgress || this.#ackNum === U64_MAX) {
      this.#nextAckTime = back.timestamp + this.sendInterval;
    }
  }

  /** §5.4 step 4: resend from the acknowledged state when that costs (almost) nothing more. */
  #prospectiveResend(diff: Uint8Array): Uint8Array {
    const front = this.#sent[0];
    if (this.#assumed === front) return diff;
    const resend = this.#current.diffFrom(front.state);
    if (
      resend.length <= diff.length ||
      (resend.length < 1000 && resend.length - diff.length < 100)
    ) {
      this.#assumed = front;
      return resend;
    }
    return diff;
  }

  #addSentState(now: number, num: bigint): void {
    this.#sent.push({ timestamp: now, num, state: this.#current.clone() });
    if (this.#sent.length > SENT_QUEUE_LIMIT) {
      // Erase from the middle: keep the acknowledged state and the recent ones.
      const [erased] = this.#sent.splice(this.#sent.length - 16, 1);
      if (erased === this.#assumed) this.#assumed = this.#sent[0];
    }
  }

  #sendEmptyAck(now: number): void {
    const newNum = this.#shutdownInProgress ? U64_MAX : this.#back().num + 1n;
    this.#addSentState(now, newNum);
    this.#sendInFragments(now, EMPTY, newNum);
    this.#nextAckTime = now + ACK_INTERVAL;
    this.#nextSendTime = Infinity;
  }

  #sendToReceiver(now: number, diff: Uint8Array): void {
    const back = this.#back();
    let newNum = this.#current.equals(back.state) ? back.num : back.num + 1n;
    if (this.#shutdownInProgress) newNum = U64_MAX;
    if (newNum === back.num) back.timestamp = now;
    else this.#addSentState(now, newNum);
    this.#sendInFragments(now, diff, newNum);
    this.#assumed = this.#back();
    this.#nextAckTime = now + ACK_INTERVAL;
    this.#nextSendTime = Infinity;
  }

  #sendInFragments(now: number, diff: Uint8Array, newNum: bigint): void {
    const inst: Instruction = {
      protocolVersion: PROTOCOL_VERSION,
      oldNum: this.#assumed.num,
      newNum,
      ackNum: this.#ackNum,
      throwawayNum: this.#sent[0].num,
      diff,
      chaff: makeChaff(),
    };
    const fragments = this.#fragmenter.makeFragments(inst, fragmentMtu(this.#link.mtu));
    for (const fragment of fragments) void this.#link.send(fragment);
    this.#lastAckSent = inst.ackNum;
    if (newNum === U64_MAX) this.#shutdownTries++;
    this.#pendingDataAck = false;
    if (this.#log) {
      this.#log(
        `[${Math.floor(now) % 100000}] Sent [${inst.oldNum}=>${newNum}] frags=${fragments.length}` +
          ` ack=${inst.ackNum} throwaway=${inst.throwawayNum} len=${diff.length}` +
          ` frame interval=${this.sendInterval} timeout=${this.#link.rto}` +
          ` srtt=${this.#link.srtt.toFixed(1)}`,
      );
    }
  }

  #processAcknowledgmentThrough(ackNum: bigint): void {
    let found = -1;
    for (let i = 0; i < this.#sent.length; i++) {
      if (this.#sent[i].num === ackNum) {
        found = i;
        break;
      }
    }
    if (found <= 0) return; // unknown (culled) or already the front
    const erased = this.#sent.splice(0, found);
    if (erased.includes(this.#assumed)) this.#assumed = this.#sent[0];
  }

  // ----------------------------------------------------------------------------------------
  // Shutdown (§5.6)

  /** Starts the shutdown handshake: the local state is frozen and sent as state u64(-1). */
  startShutdown(now: number = this.#now()): void {
    if (this.#shutdownInProgress) return;
    this.#shutdownStart = now;
    this.#shutdownInProgress = true;
    this.#current = this.#current.clone();
  }

  /** True once `startShutdown()` was called. */
  get shutdownInProgress(): boolean {
    return this.#shutdownInProgress;
  }

  /** True once the peer acknowledged our state u64(-1): a clean shutdown. */
  get shutdownAcknowledged(): boolean {
    return this.#sent[0].num === U64_MAX;
  }

  /** True when our shutdown was sent 16 times or started 10 s ago without an ack. */
  shutdownAckTimedOut(now: number = this.#now()): boolean {
    if (!this.#shutdownInProgress) return false;
    return this.#shutdownTries >= SHUTDOWN_RETRIES ||
      now - this.#shutdownStart >= ACTIVE_RETRY_TIMEOUT;
  }

  /** True once we acknowledged the peer's shutdown state (the peer may then exit). */
  get counterpartyShutdownAckSent(): boolean {
    return this.#lastAckSent === U64_MAX;
  }

  // ----------------------------------------------------------------------------------------
  // Receiver (§5.5)

  /**
   * Processes one opened datagram payload (a fragment). Never throws for bad input: malformed or
   * unusable instructions are dropped and counted in `stats`.
   */
  recv(payload: Uint8Array, now: number = this.#now()): void {
    if (this.#received.length === 0) throw new Error("transport: recv() before startReceiving()");
    let inst: Instruction | null;
    try {
      inst = this.#assembly.add(payload);
    } catch {
      this.stats.malformed++;
      return;
    }
    if (inst === null) return;
    this.stats.instructions++;
    this.#processInstruction(inst, now);
  }

  #processInstruction(inst: Instruction, now: number): void {
    if (inst.protocolVersion !== PROTOCOL_VERSION) {
      this.stats.versionMismatch++;
      this.#log?.(`mosh protocol version mismatch (got ${inst.protocolVersion})`);
      return;
    }
    this.#processAcknowledgmentThrough(inst.ackNum);
    this.#link.lastRoundtripSuccess = this.#sent[0].timestamp;

    const received = this.#received;
    let reference: TimedState<R> | null = null;
    for (let i = 0; i < received.length; i++) {
      const num = received[i].num;
      if (num === inst.newNum) {
        this.stats.duplicates++;
        return;
      }
      if (num === inst.oldNum) reference = received[i];
    }
    if (reference === null) {
      this.stats.unknownOldNum++;
      return;
    }
    if (this.holdRemoteStates) {
      this.stats.held++;
      return;
    }

    // Throw away states the peer will never refer to again; at least one must remain.
    if (received[received.length - 1].num < inst.throwawayNum) {
      this.stats.badThrowaway++;
      return;
    }
    let keepFrom = 0;
    while (received[keepFrom].num < inst.throwawayNum) keepFrom++;
    if (keepFrom > 0) received.splice(0, keepFrom);

    if (received.length > RECEIVED_QUEUE_LIMIT) {
      if (now < this.#quenchTimer) {
        this.stats.quenched++;
        return;
      }
      this.#quenchTimer = now + RECEIVER_QUENCH_INTERVAL;
    }

    const state = reference.state.clone();
    if (inst.diff.length > 0) {
      try {
        state.applyString(inst.diff);
      } catch {
        this.stats.badDiff++;
        return;
      }
    }
    const entry: TimedState<R> = { timestamp: now, num: inst.newNum, state };

    for (let i = 0; i < received.length; i++) {
      if (received[i].num > inst.newNum) {
        received.splice(i, 0, entry);
        this.stats.outOfOrder++;
        this.#log?.(`Received OUT-OF-ORDER state ${inst.newNum} [ack ${inst.ackNum}]`);
        return;
      }
    }
    received.push(entry);
    this.#ackNum = inst.newNum;
    this.#lastHeard = now;
    if (inst.diff.length > 0) this.#pendingDataAck = true;
    this.#log?.(
      `[${Math.floor(now) % 100000}] Received state ${inst.newNum} [coming from ${inst.oldNum},` +
        ` ack ${inst.ackNum}] len=${inst.diff.length}`,
    );
  }

  /** Number of the newest remote state (the server watches it for new input). */
  get remoteStateNum(): bigint {
    return this.#received[this.#received.length - 1].num;
  }

  /** The newest remote state with its number and arrival time (the client displays it). */
  getLatestRemoteState(): TimedState<R> {
    return this.#received[this.#received.length - 1];
  }

  /** The number of remote states held; at most about 1024. */
  get receivedStateCount(): number {
    return this.#received.length;
  }

  /** Time the newest in-order remote state arrived (-Infinity before any). */
  get lastHeard(): number {
    return this.#lastHeard;
  }

  /**
   * The server's input extraction: the diff from the previous call's newest state to the current
   * newest one, then every held state is reduced by the oldest (§5.5).
   */
  getRemoteDiff(): Uint8Array {
    const received = this.#received;
    const newest = received[received.length - 1].state;
    const diff = newest.diffFrom(this.#lastReceiverState);
    const oldest = received[0].state;
    // Newest first, so the oldest state (the prefix itself) is reduced last.
    for (let i = received.length - 1; i >= 0; i--) received[i].state.subtract(oldest);
    this.#lastReceiverState = newest.clone();
    return diff;
  }
}

/** 0-16 random bytes hiding the true length of each instruction (§4.1). */
function makeChaff(): Uint8Array {
  const rand = new Uint8Array(17);
  crypto.getRandomValues(rand);
  return rand.subarray(1, 1 + (rand[0] % 17));
}

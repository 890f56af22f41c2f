/**
 * The hook between a session's main loop and its forwarding (docs/EXTENSIONS.md "Forwarding",
 * "Scheduling"): one per connection, created once both sides announced the capability. It
 * routes incoming segments (docs/PROTOCOL.md §3.1 leaves 0xFF free; lib/channel_segment.ts) to
 * the multiplexer, passes control operations received in the peer's state on exactly once, and
 * sends segments only while the connection's send queue is short, so a keystroke or a frame
 * queued after them waits behind at most SEGMENT_QUEUE_LIMIT datagrams.
 *
 * The link drives itself: a segment that arrives, a socket that has data, a blocked queue that
 * drains and the channels' timers each schedule a `pump()` of their own (a microtask, or a timer
 * of at most BUSY_WAKE ms), so a bulk transfer never wakes the session's main loop, whose passes
 * (terminal, paint) cost far more than a segment. The main loop calls `control(ev)` for every
 * control event of a new peer state and `pump()` after its SSP tick; the connection's receive
 * callback calls `datagram(payload)` first, which returns false for anything not a segment.
 */

import { ControlInbox, ControlKind, type ControlOp } from "./channel_control.ts";
import { isSegment, segmentPayloadSize } from "./channel_segment.ts";
import { IPV6_DATAGRAM_MTU } from "./datagram.ts";
import { Forwarder } from "./forwarding.ts";
import type { ControlEvent } from "./extension_codec.ts";
import { errorText, ProtocolError } from "./errors.ts";
import { Alarm } from "./timer.ts";

/** Segments are sent only while fewer than this many datagrams wait in the connection's queue. */
export const SEGMENT_QUEUE_LIMIT = 8;
/** While channels have data in flight, the link pumps at least this often (timers), ms. */
const BUSY_WAKE = 10;
/** While segments wait for the queue to drain, ms. */
const BLOCKED_WAKE = 1;
/**
 * After a keystroke, data segments wait this long (acks still go), ms: the echo's way through
 * both processes and the path is then free of new bulk data (docs/EXTENSIONS.md "Scheduling").
 */
export const KEYSTROKE_HOLD = 20;

/** The parts of lib/connection.ts the link uses. */
export interface SegmentPath {
  send(payload: Uint8Array): Promise<void>;
  readonly backlog: number;
}

/** What the session provides. */
export interface ForwardingLinkOptions {
  readonly side: "client" | "server";
  readonly path: SegmentPath;
  /** Puts one control operation into this side's synchronised state. */
  sendControl(op: ControlOp): void;
  /** Connects to the target of the peer's OPEN (the policy lives here). */
  connect(op: ControlOp): Promise<Deno.Conn>;
  /** LISTEN and LISTEN_FAILED (`-R`), which concern no channel; ignored when absent. */
  listenOp?(op: ControlOp): void;
  now(): number;
  log?(line: string): void;
}

/** One connection's forwarding, as the main loop sees it. */
export class ForwardingLink {
  readonly forwarder: Forwarder;
  readonly #path: SegmentPath;
  readonly #listenOp: ((op: ControlOp) => void) | undefined;
  readonly #log: ((line: string) => void) | undefined;
  readonly #inbox = new ControlInbox();
  #blocked = false;
  #pumpQueued = false;
  readonly #timer = new Alarm(() => {
    this.#timerAt = Infinity;
    this.#guardedPump();
  });
  #timerAt = Infinity;
  #closed = false;
  #holdUntil = -Infinity;
  /** Malformed control fields received. */
  malformedControl = 0;

  constructor(opt: ForwardingLinkOptions) {
    this.#path = opt.path;
    this.#listenOp = opt.listenOp;
    this.#log = opt.log;
    this.forwarder = new Forwarder({
      side: opt.side,
      // Every segment fits the smaller (IPv6) datagram MTU whatever the address family.
      mss: segmentPayloadSize(IPV6_DATAGRAM_MTU),
      sendControl: opt.sendControl,
      connect: opt.connect,
      wake: () => this.#schedule(),
      now: opt.now,
      log: opt.log,
    });
  }

  /** Takes an opened datagram payload if it is a segment. */
  datagram(payload: Uint8Array): boolean {
    if (!isSegment(payload)) return false;
    this.forwarder.segment(payload);
    this.#schedule();
    return true;
  }

  /** Any authentic datagram from the peer arrived (lib/congestion.ts `peerHeard`). */
  heard(): void {
    if (this.forwarder.congestion.peerHeard()) this.#schedule();
  }

  /** One control field from the peer's state. */
  control(ev: ControlEvent): void {
    let ops: ControlOp[];
    try {
      ops = this.#inbox.receive(ev.start, ev.ops);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.malformedControl++;
      return;
    }
    for (const op of ops) {
      if (op.kind === ControlKind.Listen || op.kind === ControlKind.ListenFailed) {
        this.#listenOp?.(op);
      } else this.forwarder.control(op);
    }
  }

  /** Sends segments while the connection's queue is short, then arms the link's own timer. */
  pump(): void {
    if (this.#closed) return;
    const path = this.#path;
    this.#blocked = false;
    const held = this.#holdUntil - performance.now();
    while (path.backlog < SEGMENT_QUEUE_LIMIT) {
      const p = this.forwarder.poll(held > 0);
      if (p === null) break;
      void path.send(p);
    }
    if (path.backlog >= SEGMENT_QUEUE_LIMIT) this.#blocked = true;
    const busy = this.forwarder.busy ? BUSY_WAKE : Infinity;
    this.#arm(this.#blocked ? BLOCKED_WAKE : held > 0 ? Math.min(Math.ceil(held), busy) : busy);
  }

  /** A keystroke: data segments wait KEYSTROKE_HOLD ms (acks still go). */
  holdForKeystroke(): void {
    this.#holdUntil = performance.now() + KEYSTROKE_HOLD;
  }

  /** Resets every channel and stops the link's timer. */
  close(): void {
    this.#closed = true;
    this.#timer.clear();
    this.forwarder.close();
  }

  /** A pump soon, once, after whatever runs now (several segments in a row share it). */
  #schedule(): void {
    if (this.#pumpQueued || this.#closed) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#guardedPump();
    });
  }

  #arm(ms: number): void {
    if (ms === Infinity) return;
    const at = performance.now() + ms;
    if (this.#timer.pending && this.#timerAt <= at) return;
    this.#timerAt = at;
    this.#timer.set(ms);
  }

  /**
   * A pump outside the session loop's own error handling: a fault ends this connection's
   * forwarding (its channels are reset), never the process that other sessions share.
   */
  #guardedPump(): void {
    try {
      this.pump();
    } catch (e) {
      this.#log?.(`forwarding stopped: ${errorText(e)}`);
      try {
        this.close();
      } catch {
        // already failing
      }
    }
  }
}

/**
 * The hook between a session's main loop and its forwarding (docs/EXTENSIONS.md "Forwarding",
 * "Scheduling"): one per connection, created once both sides announced the capability. It
 * routes incoming segments (docs/PROTOCOL.md §3.1 leaves 0xFF free; lib/channel_segment.ts) to
 * the multiplexer, passes control operations received in the peer's state on exactly once, and
 * sends segments only while the connection's send queue is short, so a keystroke or a frame
 * queued after them waits behind at most SEGMENT_QUEUE_LIMIT datagrams.
 *
 * The main loop calls, in each pass: `control(ev)` for every control event of a new peer state,
 * `pump()` after the SSP tick, and sleeps at most `waitTime()`. The connection's receive callback
 * calls `datagram(payload)` first; it returns false for anything that is not a segment.
 */

import { ControlInbox, ControlKind, type ControlOp } from "./channel_control.ts";
import { isSegment, segmentPayloadSize } from "./channel_segment.ts";
import { IPV6_DATAGRAM_MTU } from "./datagram.ts";
import { Forwarder } from "./forwarding.ts";
import type { ControlEvent } from "./protobuf.ts";
import { ProtocolError } from "./errors.ts";

/** Segments are sent only while fewer than this many datagrams wait in the connection's queue. */
export const SEGMENT_QUEUE_LIMIT = 8;
/** While channels have data in flight, the loop wakes at least this often (timers), ms. */
const BUSY_WAKE = 10;
/** While segments wait for the queue to drain, ms. */
const BLOCKED_WAKE = 1;

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
  wake(): void;
  now(): number;
  log?(line: string): void;
}

/** One connection's forwarding, as the main loop sees it. */
export class ForwardingLink {
  readonly forwarder: Forwarder;
  readonly #path: SegmentPath;
  readonly #listenOp: ((op: ControlOp) => void) | undefined;
  readonly #inbox = new ControlInbox();
  #blocked = false;
  /** Malformed control fields received. */
  malformedControl = 0;

  constructor(opt: ForwardingLinkOptions) {
    this.#path = opt.path;
    this.#listenOp = opt.listenOp;
    this.forwarder = new Forwarder({
      side: opt.side,
      // Every segment fits the smaller (IPv6) datagram MTU whatever the address family.
      mss: segmentPayloadSize(IPV6_DATAGRAM_MTU),
      sendControl: opt.sendControl,
      connect: opt.connect,
      wake: opt.wake,
      now: opt.now,
      log: opt.log,
    });
  }

  /** Takes an opened datagram payload if it is a segment. */
  datagram(payload: Uint8Array): boolean {
    if (!isSegment(payload)) return false;
    this.forwarder.segment(payload);
    return true;
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

  /** Sends segments while the connection's queue is short. */
  pump(): void {
    const path = this.#path;
    this.#blocked = false;
    while (path.backlog < SEGMENT_QUEUE_LIMIT) {
      const p = this.forwarder.poll();
      if (p === null) return;
      void path.send(p);
    }
    this.#blocked = true;
  }

  /** How long the loop may sleep as far as forwarding is concerned, ms. */
  waitTime(): number {
    if (this.#blocked) return BLOCKED_WAKE;
    return this.forwarder.busy ? BUSY_WAKE : Infinity;
  }

  /** Resets every channel. */
  close(): void {
    this.forwarder.close();
  }
}

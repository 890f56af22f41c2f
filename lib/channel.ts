/**
 * One forwarded byte channel (docs/EXTENSIONS.md "Forwarding"; segments as in
 * lib/channel_segment.ts beside docs/PROTOCOL.md §3.1): reliable, ordered and flow-controlled in
 * both directions over a lossy, reordering, duplicating datagram path.
 *
 * Sending: bytes written are cut into segments of at most `mss` bytes, numbered from 0. A segment
 * is in flight until acknowledged (cumulatively or by the SACK bitmap). Loss is detected as RACK
 * does: an in-flight segment sent more than a quarter of a round trip before the newest
 * acknowledged segment was sent is lost and is retransmitted before any new data; the timer
 * (Congestion.rto) declares everything in flight lost. New data goes out only while the bytes
 * from the peer's cumulative ack on fit the peer's advertised window (at most CHANNEL_WINDOW) and
 * the connection's congestion window allows it. While the peer's window is closed and nothing is
 * in flight, a probe every rto asks for a fresh ack.
 *
 * Receiving: segments are held until they can be delivered in order, each exactly once; a
 * segment beyond the window or beyond the SACK span is dropped (the sender resends it). The
 * application reports bytes it has passed on (`consumed`), which reopens the window. FIN (the
 * peer's half-close) is delivered after all data. Time is passed in (ms), so tests drive it.
 */

import { Congestion } from "./congestion.ts";
import {
  encodeAck,
  encodeData,
  encodeProbe,
  FLAG_FIN,
  MAX_SACK_BYTES,
  MAX_SACK_SPAN,
  type Segment,
  SegmentKind,
} from "./channel_segment.ts";

/** Receive window of one channel, bytes: the most a peer may have unconsumed or out of order. */
export const CHANNEL_WINDOW = 256 * 1024;

const IN_FLIGHT = 0;
const SACKED = 1;
const LOST = 2;
/** Least wait before a tail loss probe, ms (RFC 8985 uses 10 ms as well). */
const MIN_TAIL_PROBE = 10;
/** Added to 1.5 round trips before a retransmission is itself declared lost while acks flow, ms. */
const RESEND_SLACK = 10;
/**
 * A receiver that heard no data for this long while the stream is open acks again, ms; the wait
 * doubles up to REACK_MAX and the repeats stop REACK_LIMIT after the last data. After a roam the
 * sender's segments go to the address it last heard from, and only a datagram from the receiver
 * tells it the new one (§2.5): without these acks a bulk transfer waits for SSP's next heartbeat.
 */
export const REACK_FIRST = 40;
const REACK_MAX = 1000;
const REACK_LIMIT = 10000;

interface Sent {
  readonly bytes: Uint8Array;
  readonly fin: boolean;
  sentAt: number;
  state: number;
  retransmitted: boolean;
}

/** What a channel hands to its owner. */
export interface ChannelEvents {
  /** In-order bytes from the peer (a copy the callee may keep). */
  data(bytes: Uint8Array): void;
  /** The peer half-closed: no more data will come. */
  end(): void;
}

/** One channel: a sender and a receiver sharing the connection's Congestion. */
export class Channel {
  // Sending.
  readonly #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #finRequested = false;
  #finQueued = false;
  /** Segments from `#base` on; index i is segment #base + i. */
  #sent: Sent[] = [];
  #base = 0;
  #unackedBytes = 0;
  #peerWindow = CHANNEL_WINDOW;
  #deliveredSentAt = -Infinity;
  #lastProbe = -Infinity;
  /** When an ack last moved something forward; a tail probe was sent since. */
  #lastAckAt = -Infinity;
  #tailProbed = false;
  #finAcked = false;
  /** Sent datagrams (first transmissions and retransmissions), for tests and `-v`. */
  retransmissions = 0;

  // Receiving.
  readonly #held = new Map<number, Uint8Array>();
  #heldBytes = 0;
  #cum = 0;
  #unconsumed = 0;
  #advertised = CHANNEL_WINDOW;
  #ackPending = false;
  #finReceived = false;
  #endDelivered = false;
  #lastDataAt = -Infinity;
  #reackAt = Infinity;
  #reackWait = REACK_FIRST;
  /** Data segments dropped for being beyond the window or the SACK span. */
  dropped = 0;

  /**
   * @param id the channel number on the wire
   * @param mss largest data payload per segment (segmentPayloadSize of the MTU)
   * @param congestion the connection's shared controller
   * @param events where in-order data and the end go
   */
  constructor(
    readonly id: number,
    readonly mss: number,
    readonly congestion: Congestion,
    readonly events: ChannelEvents,
  ) {}

  /** Queues bytes to send (copied). */
  write(bytes: Uint8Array): void {
    if (this.#finRequested) throw new RangeError("channel: write after end");
    if (bytes.length === 0) return;
    this.#pending.push(bytes.slice());
    this.#pendingBytes += bytes.length;
  }

  /** Half-close: a FIN follows the queued bytes. */
  end(): void {
    this.#finRequested = true;
  }

  /** Bytes written but not yet acknowledged: the owner stops reading its socket above a window. */
  get buffered(): number {
    return this.#pendingBytes + this.#unackedBytes;
  }

  /** True when everything written, and the FIN if any, is acknowledged. */
  get drained(): boolean {
    return this.buffered === 0 && (!this.#finRequested || this.#finAcked);
  }

  /** True when the peer's FIN has been delivered. */
  get peerEnded(): boolean {
    return this.#endDelivered;
  }

  /** The application passed on `n` delivered bytes: the window reopens. */
  consumed(n: number): void {
    this.#unconsumed -= n;
    if (this.#unconsumed < 0) this.#unconsumed = 0;
    const window = this.#window();
    if (
      window - this.#advertised >= CHANNEL_WINDOW / 4 ||
      (this.#advertised < this.mss && window >= this.mss)
    ) {
      this.#ackPending = true;
    }
  }

  /** Bytes this side is still owed an ack for, or holds out of order. */
  get receiveHeld(): number {
    return this.#heldBytes;
  }

  /** Handles one segment addressed to this channel. */
  receive(seg: Segment, now: number): void {
    if (seg.kind === SegmentKind.Data) {
      this.#lastDataAt = now;
      this.#reackWait = REACK_FIRST;
      this.#reackAt = now + REACK_FIRST;
      this.#onData(seg);
    } else if (seg.kind === SegmentKind.Ack) this.#onAck(seg, now);
    else if (seg.kind === SegmentKind.Probe) this.#ackPending = true;
  }

  /**
   * The next datagram payload this channel wants to send at `now`, or null. Acks first (they
   * cost the peer nothing), then retransmissions, then new data within both windows, then a
   * window probe.
   */
  poll(now: number, acksOnly = false): Uint8Array | null {
    if (this.#ackPending || this.#reackDue(now)) {
      this.#ackPending = false;
      return this.#makeAck();
    }
    if (acksOnly) return null;
    this.#checkTimer(now);
    const sent = this.#sent;
    const tail = this.#tailProbe(now);
    if (tail !== null) return tail;
    for (let i = 0; i < sent.length; i++) {
      const s = sent[i];
      if (s.state !== LOST) continue;
      if (!this.congestion.canSend(s.bytes.length)) return null;
      s.state = IN_FLIGHT;
      s.sentAt = now;
      s.retransmitted = true;
      this.congestion.inflight += s.bytes.length;
      this.retransmissions++;
      return encodeData(this.id, this.#base + i, s.fin ? FLAG_FIN : 0, s.bytes);
    }
    if (this.#pendingBytes > 0 || (this.#finRequested && !this.#finQueued)) {
      const size = Math.min(this.mss, this.#pendingBytes);
      const seq = this.#base + sent.length;
      const spanOk = sent.length < MAX_SACK_SPAN;
      const windowOk = this.#unackedBytes + size <= this.#peerWindow;
      if (spanOk && windowOk && this.congestion.canSend(size)) {
        const bytes = this.#take(size);
        const fin = this.#finRequested && this.#pendingBytes === 0;
        if (fin) this.#finQueued = true;
        sent.push({ bytes, fin, sentAt: now, state: IN_FLIGHT, retransmitted: false });
        this.#unackedBytes += size;
        this.congestion.inflight += size;
        return encodeData(this.id, seq, fin ? FLAG_FIN : 0, bytes);
      }
      if (!windowOk && sent.length === 0 && now - this.#lastProbe >= this.congestion.rto) {
        this.#lastProbe = now;
        return encodeProbe(this.id);
      }
    }
    return null;
  }

  /** True while the peer's data stream is open and was active lately (re-acks are timed). */
  get receiving(): boolean {
    return this.#reackAt !== Infinity;
  }

  /** Whether a silent open stream is due for a repeated ack at `now` (and schedules the next). */
  #reackDue(now: number): boolean {
    if (now < this.#reackAt) return false;
    if (this.#finReceived || now - this.#lastDataAt >= REACK_LIMIT) {
      this.#reackAt = Infinity;
      return false;
    }
    this.#reackWait = Math.min(this.#reackWait * 2, REACK_MAX);
    this.#reackAt = now + this.#reackWait;
    return true;
  }

  /** True when `poll` may return something at once (an ack or data ready to go). */
  get wantsToSend(): boolean {
    return this.#ackPending || this.#pendingBytes > 0 || (this.#finRequested && !this.#finQueued) ||
      this.#sent.some((s) => s.state === LOST);
  }

  /** Drops everything in flight from the congestion accounting (reset or close). */
  release(): void {
    for (const s of this.#sent) {
      if (s.state === IN_FLIGHT) this.congestion.inflight -= s.bytes.length;
    }
    this.#sent = [];
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#unackedBytes = 0;
    this.#held.clear();
    this.#heldBytes = 0;
  }

  #take(size: number): Uint8Array {
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const head = this.#pending[0];
      const n = Math.min(head.length, size - at);
      out.set(head.subarray(0, n), at);
      at += n;
      if (n === head.length) this.#pending.shift();
      else this.#pending[0] = head.subarray(n);
    }
    this.#pendingBytes -= size;
    return out;
  }

  /**
   * A tail loss probe (RACK-TLP, RFC 8985): when nothing was acknowledged for two round trips
   * while segments are in flight, the newest is sent again, once, without declaring anything lost.
   * Its ack lets RACK find the losses before it; without it a lost tail waits for the timer, which
   * with a small window under random loss is most losses.
   */
  #tailProbe(now: number): Uint8Array | null {
    if (this.#tailProbed) return null;
    const sent = this.#sent;
    let i = sent.length - 1;
    while (i >= 0 && sent[i].state !== IN_FLIGHT) i--;
    if (i < 0) return null;
    const s = sent[i];
    const pto = Math.max(2 * this.congestion.rtt.srtt, MIN_TAIL_PROBE);
    if (now - s.sentAt < pto || now - this.#lastAckAt < pto) return null;
    this.#tailProbed = true;
    s.sentAt = now;
    s.retransmitted = true;
    this.retransmissions++;
    return encodeData(this.id, this.#base + i, s.fin ? FLAG_FIN : 0, s.bytes);
  }

  #checkTimer(now: number): void {
    const rto = this.congestion.rto;
    // Acks still arriving: the path works, and what timed out is a loss, not an outage. Typically
    // a retransmission lost again while the window waits for it, which RACK cannot see (nothing
    // sent after it is acknowledged): it is given 1.5 round trips, not a whole RTO.
    if (now - this.#lastAckAt < rto) {
      const again = Math.min(rto, 1.5 * this.congestion.rtt.srtt + RESEND_SLACK);
      let lost = false;
      for (const s of this.#sent) {
        if (s.state !== IN_FLIGHT || now - s.sentAt < (s.retransmitted ? again : rto)) continue;
        s.state = LOST;
        this.congestion.inflight -= s.bytes.length;
        lost = true;
      }
      if (lost) this.congestion.onLoss(now);
      return;
    }
    let oldest = Infinity;
    for (const s of this.#sent) if (s.state === IN_FLIGHT && s.sentAt < oldest) oldest = s.sentAt;
    if (oldest === Infinity || now - oldest < rto) return;
    for (const s of this.#sent) {
      if (s.state !== IN_FLIGHT) continue;
      s.state = LOST;
      this.congestion.inflight -= s.bytes.length;
    }
    this.congestion.onTimeout(now);
  }

  #onAck(seg: Segment, now: number): void {
    const cum = seg.seq;
    const sent = this.#sent;
    if (cum < this.#base || cum > this.#base + sent.length) return; // stale or impossible
    let newest = -Infinity;
    let acked = 0;
    const mark = (s: Sent): void => {
      if (s.state === IN_FLIGHT) this.congestion.inflight -= s.bytes.length;
      if (s.state !== SACKED) acked += s.bytes.length;
      if (!s.retransmitted && s.sentAt > newest) newest = s.sentAt;
      if (s.sentAt > this.#deliveredSentAt) this.#deliveredSentAt = s.sentAt;
    };
    const advance = cum - this.#base;
    for (let i = 0; i < advance; i++) {
      const s = sent[i];
      mark(s);
      this.#unackedBytes -= s.bytes.length;
      if (s.fin) this.#finAcked = true;
    }
    if (advance > 0) {
      this.#sent = sent.slice(advance);
      this.#base = cum;
    }
    const sack = seg.bytes;
    const rest = this.#sent;
    for (let i = 0; i < sack.length * 8 && i + 1 < rest.length; i++) {
      if ((sack[i >> 3] & (1 << (i & 7))) === 0) continue;
      const s = rest[i + 1];
      if (s.state === SACKED) continue;
      mark(s);
      s.state = SACKED;
    }
    this.#peerWindow = seg.window;
    if (newest > -Infinity) this.congestion.onRtt(now - newest, now);
    if (acked > 0) {
      this.congestion.onAcked(acked, now);
      this.#lastAckAt = now;
      this.#tailProbed = false;
    }
    // RACK: in flight, and sent well before something that has since arrived.
    const reorder = Math.max(this.congestion.rtt.srtt / 4, 2);
    let lost = false;
    for (const s of this.#sent) {
      if (s.state === IN_FLIGHT && s.sentAt + reorder < this.#deliveredSentAt) {
        s.state = LOST;
        this.congestion.inflight -= s.bytes.length;
        lost = true;
      }
    }
    if (lost) this.congestion.onLoss(now);
  }

  #window(): number {
    const w = CHANNEL_WINDOW - this.#unconsumed;
    return w < 0 ? 0 : w;
  }

  #onData(seg: Segment): void {
    this.#ackPending = true;
    const seq = seg.seq;
    if (seq < this.#cum || this.#held.has(seq) || this.#finReceivedAt(seq)) return; // duplicate
    if (seq - this.#cum >= MAX_SACK_SPAN) {
      this.dropped++;
      return;
    }
    const len = seg.bytes.length;
    if (this.#unconsumed + this.#heldBytes + len > CHANNEL_WINDOW) {
      this.dropped++;
      return;
    }
    const copy = new Uint8Array(len + 1);
    copy.set(seg.bytes, 1);
    copy[0] = seg.flags;
    this.#held.set(seq, copy);
    this.#heldBytes += len;
    for (let next = this.#held.get(this.#cum); next; next = this.#held.get(this.#cum)) {
      this.#held.delete(this.#cum);
      this.#cum++;
      const bytes = next.subarray(1);
      this.#heldBytes -= bytes.length;
      if (bytes.length > 0) {
        this.#unconsumed += bytes.length;
        this.events.data(bytes);
      }
      if ((next[0] & FLAG_FIN) !== 0) {
        this.#finReceived = true;
        if (!this.#endDelivered) {
          this.#endDelivered = true;
          this.events.end();
        }
      }
    }
  }

  #finReceivedAt(seq: number): boolean {
    return this.#finReceived && seq >= this.#cum;
  }

  #makeAck(): Uint8Array {
    let last = -1;
    for (const seq of this.#held.keys()) if (seq - this.#cum - 1 > last) last = seq - this.#cum - 1;
    const sack = new Uint8Array(Math.min((last >> 3) + 1, MAX_SACK_BYTES));
    for (const seq of this.#held.keys()) {
      const i = seq - this.#cum - 1;
      if (i >= 0 && i < MAX_SACK_SPAN) sack[i >> 3] |= 1 << (i & 7);
    }
    this.#advertised = this.#window();
    return encodeAck(this.id, this.#cum, this.#advertised, sack);
  }
}

/**
 * The forwarding multiplexer of one connection (docs/EXTENSIONS.md "Forwarding"): local sockets on
 * one side, channels (lib/channel.ts) in the middle, sockets to targets on the other side.
 *
 * - Opening: the side that accepted a local connection allocates a channel number (the client even
 *   numbers, the server odd ones) and sends OPEN through the synchronised state
 *   (lib/channel_control.ts). The other side creates the channel at once (so early segments are
 *   kept), asks its owner's `connect` for the target, and answers OPENED or REFUSED. The opener
 *   starts reading its local socket on OPENED and closes it on REFUSED (a reset).
 * - Who connects where is the owner's decision, never the peer's: the server connects to the host
 *   and port of the client's OPEN (the client sends only what its `-L`/`-D` options name) after its
 *   policy allows forwarding; the client looks up the rule number of the server's OPEN in its own
 *   `-R`/`-A` rules and ignores any host the server sends.
 * - Data: each socket read becomes channel bytes while fewer than CHANNEL_WINDOW bytes wait to be
 *   acknowledged (back-pressure on the local socket); delivered bytes are written to the socket,
 *   and only then reported consumed, which reopens the peer's window.
 * - Half-close: EOF on a socket is the channel's FIN; the peer's FIN is `closeWrite()` on ours.
 *   When both directions are finished, each side sends CLOSE and forgets the channel once it has
 *   both sent and received one. A socket error sends RESET; RESET closes the socket at once.
 * - Scheduling: `poll` hands out one segment at a time, round robin over channels; the owner
 *   sends segments only while its connection's send queue is short (see docs/EXTENSIONS.md).
 */

import { Channel, CHANNEL_WINDOW } from "./channel.ts";
import { ControlKind, type ControlOp } from "./channel_control.ts";
import { decodeSegment, isSegment } from "./channel_segment.ts";
import { Congestion } from "./congestion.ts";
import { ProtocolError } from "./errors.ts";

/** Most channels open at once on one connection. */
export const MAX_CHANNELS = 256;
/** Most bytes in flight on one connection over all its channels (the per-session cap). */
export const CONNECTION_WINDOW_CAP = 4 * CHANNEL_WINDOW;
/** Bytes read from a local socket at a time. */
const READ_SIZE = 64 * 1024;

/** What the owner (the client or server session) provides. */
export interface ForwarderOptions {
  /** Which side this is: it decides the parity of the channel numbers this side allocates. */
  readonly side: "client" | "server";
  /** Largest data payload per segment. */
  readonly mss: number;
  /** Queues one control operation into the synchronised state. */
  sendControl(op: ControlOp): void;
  /**
   * Connects to the target of a peer's OPEN; rejects with an Error whose message is the one-line
   * reason sent back in REFUSED (policy, unknown rule, connection refused, ...).
   */
  connect(op: ControlOp): Promise<Deno.Conn>;
  /** Something became ready to send: the owner should call `poll` soon. */
  wake(): void;
  /** Clock, ms. */
  now(): number;
  /** One line for `-v`. */
  log?(line: string): void;
}

/** Callbacks for a channel this side opens. */
export interface OpenCallbacks {
  /** The peer connected to the target. */
  opened?(): void;
  /** The peer refused (the local socket is closed after this). */
  refused?(reason: string): void;
}

interface Entry {
  readonly channel: Channel;
  conn: Deno.Conn | null;
  readonly mine: boolean;
  open: boolean;
  readonly writes: Uint8Array[];
  writing: boolean;
  peerEnded: boolean;
  wroteEnd: boolean;
  localEnded: boolean;
  closeSent: boolean;
  closeReceived: boolean;
  drainWaiter: (() => void) | null;
  callbacks: OpenCallbacks;
}

/** Counters for `-v` and tests. */
export interface ForwarderStats {
  opened: number;
  refused: number;
  resets: number;
  /** Segments or control operations for channels that do not exist, or malformed. */
  dropped: number;
}

/** One connection's channels. */
export class Forwarder {
  readonly congestion: Congestion;
  readonly stats: ForwarderStats = { opened: 0, refused: 0, resets: 0, dropped: 0 };
  readonly #opt: ForwarderOptions;
  readonly #entries = new Map<number, Entry>();
  #nextId: number;
  #rr: number[] = [];
  #rrAt = 0;
  #closed = false;

  constructor(options: ForwarderOptions) {
    this.#opt = options;
    this.congestion = new Congestion(options.mss, CONNECTION_WINDOW_CAP);
    this.#nextId = options.side === "client" ? 2 : 1;
  }

  /** Channels open now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Opens a channel for a local connection (a `-L`/`-D` connection on the client, a `-R`/`-A`
   * connection on the server). Returns false (and closes `conn`) when too many are open.
   */
  open(
    conn: Deno.Conn,
    target: Omit<ControlOp, "kind" | "channel">,
    cb: OpenCallbacks = {},
  ): boolean {
    if (this.#closed || this.#entries.size >= MAX_CHANNELS) {
      closeQuietly(conn);
      return false;
    }
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 2) >>> 0;
    const entry = this.#add(id, conn, true, cb);
    entry.open = false;
    this.#opt.sendControl({ kind: ControlKind.Open, channel: id, ...target });
    return true;
  }

  /** Handles one control operation from the peer. */
  control(op: ControlOp): void {
    if (this.#closed) return;
    const entry = this.#entries.get(op.channel);
    const peerParity = this.#opt.side === "client" ? 1 : 0;
    switch (op.kind) {
      case ControlKind.Open: {
        if (entry !== undefined || (op.channel & 1) !== peerParity) {
          this.stats.dropped++;
          return;
        }
        if (this.#entries.size >= MAX_CHANNELS) {
          this.#opt.sendControl({
            kind: ControlKind.Refused,
            channel: op.channel,
            reason: "too many channels",
          });
          return;
        }
        const e = this.#add(op.channel, null, false, {});
        this.#opt.connect(op).then((conn) => {
          if (this.#entries.get(op.channel) !== e) return closeQuietly(conn);
          e.conn = conn;
          e.open = true;
          this.stats.opened++;
          this.#opt.sendControl({ kind: ControlKind.Opened, channel: op.channel });
          this.#startReading(e);
          this.#flush(e);
        }, (err) => {
          if (this.#entries.get(op.channel) !== e) return;
          const reason = err instanceof Error ? err.message : String(err);
          this.#opt.log?.(`forwarding: channel ${op.channel} refused: ${reason}`);
          this.stats.refused++;
          this.#drop(e);
          this.#opt.sendControl({ kind: ControlKind.Refused, channel: op.channel, reason });
        });
        return;
      }
      case ControlKind.Opened:
        if (entry === undefined || !entry.mine || entry.open) break;
        entry.open = true;
        this.stats.opened++;
        entry.callbacks.opened?.();
        this.#startReading(entry);
        return;
      case ControlKind.Refused:
        if (entry === undefined || !entry.mine || entry.open) break;
        this.stats.refused++;
        this.#opt.log?.(`forwarding: channel ${op.channel} refused: ${op.reason ?? ""}`);
        entry.callbacks.refused?.(op.reason ?? "");
        this.#drop(entry);
        return;
      case ControlKind.Reset:
        if (entry === undefined) break;
        this.stats.resets++;
        this.#drop(entry);
        return;
      case ControlKind.Close:
        if (entry === undefined) break;
        entry.closeReceived = true;
        this.#finish(entry);
        return;
    }
    this.stats.dropped++;
  }

  /** Handles one opened datagram payload that `isSegment` accepted. Never throws. */
  segment(payload: Uint8Array): void {
    if (!isSegment(payload)) {
      this.stats.dropped++;
      return;
    }
    try {
      const seg = decodeSegment(payload);
      const entry = this.#entries.get(seg.channel);
      if (entry === undefined) {
        this.stats.dropped++;
        return;
      }
      entry.channel.receive(seg, this.#opt.now());
      if (entry.channel.wantsToSend) this.#opt.wake();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.stats.dropped++;
    }
  }

  /** The next segment to send, or null: round robin over the channels. */
  poll(acksOnly = false): Uint8Array | null {
    const now = this.#opt.now();
    if (this.#rrAt >= this.#rr.length) {
      this.#rr = [...this.#entries.keys()];
      this.#rrAt = 0;
    }
    const n = this.#rr.length;
    for (let k = 0; k < n; k++) {
      const id = this.#rr[this.#rrAt];
      this.#rrAt = (this.#rrAt + 1) % n;
      const entry = this.#entries.get(id);
      if (entry === undefined) continue;
      const p = entry.channel.poll(now, acksOnly);
      this.#afterProgress(entry);
      if (p !== null) return p;
    }
    this.#rr = [...this.#entries.keys()];
    this.#rrAt = 0;
    return null;
  }

  /** True while some channel has data, acks or retransmissions waiting (or timers to run). */
  get busy(): boolean {
    for (const e of this.#entries.values()) {
      if (!e.channel.drained || e.channel.wantsToSend || e.channel.receiving) return true;
    }
    return false;
  }

  /** Resets every channel (the session ends). */
  close(): void {
    this.#closed = true;
    for (const e of [...this.#entries.values()]) this.#drop(e);
  }

  #add(id: number, conn: Deno.Conn | null, mine: boolean, cb: OpenCallbacks): Entry {
    const entry: Entry = {
      channel: null as unknown as Channel,
      conn,
      mine,
      open: !mine,
      writes: [],
      writing: false,
      peerEnded: false,
      wroteEnd: false,
      localEnded: false,
      closeSent: false,
      closeReceived: false,
      drainWaiter: null,
      callbacks: cb,
    };
    (entry as { channel: Channel }).channel = new Channel(id, this.#opt.mss, this.congestion, {
      data: (bytes) => {
        entry.writes.push(bytes);
        this.#flush(entry);
      },
      end: () => {
        entry.peerEnded = true;
        this.#flush(entry);
      },
    });
    this.#entries.set(id, entry);
    return entry;
  }

  async #startReading(e: Entry): Promise<void> {
    const conn = e.conn;
    if (conn === null) return;
    try {
      while (this.#entries.get(e.channel.id) === e) {
        while (e.channel.buffered >= CHANNEL_WINDOW) {
          await new Promise<void>((resolve) => e.drainWaiter = resolve);
          if (this.#entries.get(e.channel.id) !== e) return;
        }
        const buf = new Uint8Array(READ_SIZE);
        const n = await conn.read(buf);
        if (this.#entries.get(e.channel.id) !== e) return;
        if (n === null) {
          e.localEnded = true;
          e.channel.end();
          this.#opt.wake();
          return;
        }
        e.channel.write(buf.subarray(0, n));
        this.#opt.wake();
      }
    } catch (err) {
      this.#reset(e, err);
    }
  }

  async #flush(e: Entry): Promise<void> {
    if (e.writing || e.conn === null) return;
    e.writing = true;
    const conn = e.conn;
    try {
      while (e.writes.length > 0) {
        const bytes = e.writes.shift()!;
        for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
        if (this.#entries.get(e.channel.id) !== e) return;
        e.channel.consumed(bytes.length);
        if (e.channel.wantsToSend) this.#opt.wake();
      }
      if (e.peerEnded && !e.wroteEnd) {
        e.wroteEnd = true;
        await conn.closeWrite().catch(() => {});
      }
    } catch (err) {
      this.#reset(e, err);
    } finally {
      e.writing = false;
    }
    this.#afterProgress(e);
  }

  #afterProgress(e: Entry): void {
    if (e.drainWaiter !== null && e.channel.buffered < CHANNEL_WINDOW) {
      const w = e.drainWaiter;
      e.drainWaiter = null;
      w();
    }
    if (
      !e.closeSent && e.open && e.localEnded && e.channel.drained && e.peerEnded && e.wroteEnd &&
      e.writes.length === 0
    ) {
      e.closeSent = true;
      this.#opt.sendControl({ kind: ControlKind.Close, channel: e.channel.id });
    }
    this.#finish(e);
  }

  /** Forgets a channel once CLOSE went both ways (the peer had everything when it sent its). */
  #finish(e: Entry): void {
    if (!e.closeReceived || e.writing || e.writes.length > 0) return;
    if (!e.closeSent) {
      e.closeSent = true;
      this.#opt.sendControl({ kind: ControlKind.Close, channel: e.channel.id });
    }
    this.#drop(e);
  }

  #reset(e: Entry, err: unknown): void {
    if (this.#entries.get(e.channel.id) !== e) return;
    this.#opt.log?.(
      `forwarding: channel ${e.channel.id} reset: ${err instanceof Error ? err.message : err}`,
    );
    this.stats.resets++;
    this.#opt.sendControl({ kind: ControlKind.Reset, channel: e.channel.id });
    this.#drop(e);
  }

  #drop(e: Entry): void {
    if (this.#entries.get(e.channel.id) !== e) return;
    this.#entries.delete(e.channel.id);
    e.channel.release();
    if (e.conn !== null) closeQuietly(e.conn);
    e.conn = null;
    e.writes.length = 0;
    const w = e.drainWaiter;
    e.drainWaiter = null;
    w?.();
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

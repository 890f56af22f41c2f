/**
 * The server-to-client synchronised state, mosh's `Complete` (mosh-protocol.md §6.2), and the
 * server's echo-ack bookkeeping (§6.3).
 *
 * A `TerminalState` is a terminal emulator plus `echoAck`, the newest client input state known to
 * have reached the pty at least ECHO_TIMEOUT ago. The transport (lib/transport.ts) keeps copies of
 * it and sends `diffFrom(old)`: a HostMessage of, in this order, an `echoack` when the ack
 * changed, a `resize` when the size changed, and `hostbytes` with the display diff
 * (lib/display.ts). The client applies it with `applyString`: host bytes go through its own
 * emulator (replies discarded), a resize resizes it, an echo ack is stored.
 */

import { contentEqual, diffFrames } from "./display.ts";
import type { Framebuffer } from "./framebuffer.ts";
import { decodeHostMessage, encodeHostMessage, type HostEvent, ProtocolError } from "./protobuf.ts";
import { Terminal } from "./terminal.ts";

/** Input older than this many milliseconds is assumed to have echoed (§6.3). */
export const ECHO_TIMEOUT = 50;

/** `waitTime` when there is nothing to wait for (C's INT_MAX; a valid setTimeout delay). */
export const NO_WAIT = 2147483647;

/** Largest width or height a received resize may ask for (as for client resizes). */
const MAX_RESIZE_SIDE = 4096;
/** Largest width × height a received resize may ask for. */
const MAX_RESIZE_CELLS = 1 << 20;

const EMPTY = new Uint8Array(0);

/** One input state the server applied: its number and when (ms). */
interface InputFrame {
  num: bigint;
  time: number;
}

/** mosh's `Complete`: the terminal the client should show, plus the echo ack. */
export class TerminalState {
  /** The emulator; the server writes the pty output into it. */
  terminal: Terminal;
  /** Newest client state whose input reached the pty at least ECHO_TIMEOUT ms ago (u64). */
  echoAck: bigint;
  private history: InputFrame[] = [];

  /**
   * A blank `cols` x `rows` terminal with echo ack 0, or (with a Terminal) that terminal.
   * @example
   * ```ts
   * const server = new TerminalState(80, 24);
   * server.terminal.write("hello");
   * const client = new TerminalState(80, 24);
   * client.applyString(server.diffFrom(client));
   * ```
   */
  constructor(cols: number | Terminal, rows?: number, echoAck = 0n) {
    this.terminal = typeof cols === "number" ? new Terminal(cols, rows ?? 24) : cols;
    this.echoAck = echoAck;
  }

  /** The screen now (cached until the terminal changes). */
  get framebuffer(): Framebuffer {
    return this.terminal.snapshot();
  }

  /** mosh's equality: equal framebuffers (§9.5, row generations included) and echo acks. */
  equals(other: TerminalState): boolean {
    return this.echoAck === other.echoAck &&
      this.terminal.snapshot().equals(other.terminal.snapshot());
  }

  /**
   * Same echo ack and the same screen by content (`contentEqual`, row generations ignored): what
   * a copy that applied this state's diffs must satisfy. (`equals` is stricter: a copy's rows
   * have their own generations.)
   */
  contentEquals(other: TerminalState): boolean {
    return this.echoAck === other.echoAck &&
      contentEqual(this.terminal.snapshot(), other.terminal.snapshot()) === null;
  }

  /** An independent copy (the terminal's rows are shared copy-on-write). */
  clone(): TerminalState {
    const c = new TerminalState(this.terminal.clone(), undefined, this.echoAck);
    c.history = this.history.slice();
    return c;
  }

  /**
   * The serialized HostMessage that turns `existing` into this state; empty when they are equal.
   * Order (§6.2): echoack if it changed, resize if the size changed, then the display diff.
   */
  diffFrom(existing: TerminalState): Uint8Array {
    const events: HostEvent[] = [];
    if (existing.echoAck !== this.echoAck) events.push({ type: "echoack", num: this.echoAck });
    const a = existing.terminal.snapshot(), b = this.terminal.snapshot();
    if (!a.equals(b)) {
      if (a.width !== b.width || a.height !== b.height) {
        events.push({ type: "resize", width: b.width, height: b.height });
      }
      const bytes = diffFrames(a, b);
      if (bytes.length > 0) events.push({ type: "hostbytes", data: bytes });
    }
    return events.length === 0 ? EMPTY : encodeHostMessage(events);
  }

  /** The diff from a blank state of the same size (mosh's `init_diff`). */
  initDiff(): Uint8Array {
    return this.diffFrom(new TerminalState(this.terminal.width, this.terminal.height));
  }

  /**
   * Applies a HostMessage (client side). The whole message is checked before anything changes;
   * malformed input throws a ProtocolError.
   */
  applyString(diff: Uint8Array): void {
    const events = decodeHostMessage(diff);
    for (const ev of events) {
      if (ev.type !== "resize") continue;
      // The bounds a server applies to client resizes (user_stream.ts): a hostile peer's
      // 65535x65535 would otherwise take minutes and gigabytes to allocate.
      const { width: w, height: h } = ev;
      if (
        !Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 ||
        w > MAX_RESIZE_SIDE || h > MAX_RESIZE_SIDE || w * h > MAX_RESIZE_CELLS
      ) {
        throw new ProtocolError(`terminal state: bad resize ${w}x${h}`);
      }
    }
    for (const ev of events) {
      if (ev.type === "hostbytes") this.terminal.write(ev.data); // replies are discarded
      else if (ev.type === "resize") this.terminal.resize(ev.width, ev.height);
      else if (ev.type === "echoack") this.echoAck = ev.num;
    }
  }

  /** Terminal states are never pruned by content (§6.2). */
  subtract(_prefix: TerminalState): void {}

  /** Server: the user input of client state `num` was applied at time `now` (ms). */
  registerInputFrame(num: bigint, now: number): void {
    this.history.push({ num, time: now });
  }

  /**
   * Server: acknowledges the newest input applied at least ECHO_TIMEOUT ms before `now`, and
   * forgets older entries (§6.3). Returns true when `echoAck` changed (publish a new state then).
   */
  setEchoAck(now: number): boolean {
    let newest = 0n;
    for (const h of this.history) if (h.time <= now - ECHO_TIMEOUT) newest = h.num;
    this.history = this.history.filter((h) => h.num >= newest);
    const changed = this.echoAck !== newest;
    this.echoAck = newest;
    return changed;
  }

  /** Server: ms until `setEchoAck` can next change something, or NO_WAIT (§6.3). */
  waitTime(now: number): number {
    if (this.history.length < 2) return NO_WAIT;
    return Math.max(0, this.history[1].time + ECHO_TIMEOUT - now);
  }
}

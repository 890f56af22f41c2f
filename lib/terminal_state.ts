/**
 * The server-to-client synchronised state, mosh's `Complete` (docs/PROTOCOL.md §6.2), and the
 * server's echo-ack bookkeeping (§6.3).
 *
 * A `TerminalState` is a terminal emulator plus `echoAck`, the newest client input state known to
 * have reached the pty at least ECHO_TIMEOUT ago. The transport (lib/transport.ts) keeps copies of
 * it and sends `diffFrom(old)`: a HostMessage of, in this order, an `echoack` when the ack
 * changed, a `resize` when the size changed, and `hostbytes` with the display diff
 * (lib/display.ts). The client applies it with `applyString`: host bytes go through its own
 * emulator (replies discarded), a resize resizes it, an echo ack is stored.
 *
 * Our extensions (lib/extensions.ts, docs/EXTENSIONS.md): the state also holds the server's
 * capabilities (`caps`, sent once, first in the message, in the first diff after the server set
 * them) and a scrollback history frontier (`frontier`: history lines numbered below it are part of
 * the state). The server's states share one `HistoryRing` (lib/history.ts) and hold only line
 * numbers; a diff carries the lines between the two states' frontiers still in the ring plus the
 * count of those that left it (`History.lost`), so it stays idempotent. `advanceHistory` moves the
 * frontier at most HISTORY_BUDGET bytes of lines past the frontier of the state the client
 * acknowledged. On the client the lines go into a shared `HistoryInbox` (lib/history_writer.ts),
 * and only once the server announced the scrollback capability. A server state whose client
 * announced the extended attributes (`attributes`) compares and diffs the emulator's extended
 * layer too (lib/display_attributes.ts); a C client's diffs never look at it.
 */

import { contentEqual, diffFrames } from "./display.ts";
import { ALL_ATTRIBUTES } from "./display_attributes.ts";
import {
  announces,
  type Capability,
  FORWARDING,
  SCROLLBACK,
  TERMINAL_FEATURES,
} from "./extensions.ts";
import type { ControlLog } from "./channel_control.ts";
import type { FeatureState } from "./terminal_features.ts";
import type { HistoryRing } from "./history.ts";
import type { HistoryInbox } from "./history_writer.ts";
import type { Framebuffer } from "./framebuffer.ts";
import type { ControlEvent } from "./extension_codec.ts";
import {
  decodeHostMessage,
  encodeHostMessage,
  type HostEvent,
  ProtocolError,
  validResize,
} from "./protobuf.ts";
import { WAIT_FOREVER } from "./transport.ts";
import { Terminal } from "./terminal.ts";

/** Input older than this many milliseconds is assumed to have echoed (§6.3). */
export const ECHO_TIMEOUT = 50;

const EMPTY = new Uint8Array(0);

/**
 * Most wire bytes of history lines (each line's flags and text plus 3 bytes of framing) a state
 * may hold beyond the frontier of the state its client acknowledged; a single longer line still
 * goes alone. The step is then cut (halved until it fits) so that history adds no fragment to the
 * screen's instruction (`advanceHistory` with a fragment count; docs/EXTENSIONS.md, "Budget"):
 * the budget bounds a diff, the fragment check decides what fits. 4,000 bytes of short lines
 * compress to about one fragment; a smaller budget measured a third of the throughput.
 */
export const HISTORY_BUDGET = 4000;
/** Framing bytes counted per history line (field key, length, flags byte). */
const LINE_FRAMING = 3;
/** Most history lines accepted in one received diff. */
const MAX_HISTORY_LINES = 65536;

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
  /** Capabilities announced in this state: the server's own (null = none announced yet). */
  caps: readonly Capability[] | null = null;
  /** History lines numbered below this are part of the state; -1 = no history yet. */
  frontier: number = -1;
  /** Server: the shared ring (null = scrollback off or not agreed with this client). */
  ring: HistoryRing | null = null;
  /** Server: where this connection's history starts (what the ring held when it began). */
  historyBase = 0;
  /** Client: where received history lines go (null = this client wants no history). */
  inbox: HistoryInbox | null = null;
  /** Server: this connection's outgoing channel control log (null = forwarding off). */
  controlLog: ControlLog | null = null;
  /** Channel control operations numbered below this are part of the state. */
  controlCount = 0;
  /** Client: where received channel control goes (null = forwarding off). */
  controlSink: ((ev: ControlEvent) => void) | null = null;
  /**
   * The terminal features' part (lib/terminal_features.ts): the server's once this connection
   * agreed on them, the client's when it wants them; null = off.
   */
  features: FeatureState | null = null;
  /**
   * Server: this connection's client announced the extended attributes (lib/extensions.ts
   * ATTRIBUTES): diffs carry them and equality compares them. False for a C client.
   */
  attributes = false;

  /**
   * A blank `cols` x `rows` terminal with echo ack 0, or (with a Terminal) that terminal.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   *
   * const server = new TerminalState(80, 24);
   * server.terminal.write("hello");
   * const client = new TerminalState(80, 24);
   * client.applyString(server.diffFrom(client));
   * assert.equal(client.terminal.screenText(), server.terminal.screenText());
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
    return this.echoAck === other.echoAck && this.frontier === other.frontier &&
      this.controlCount === other.controlCount &&
      (this.caps === null) === (other.caps === null) &&
      (this.features === null ||
        (this.features.equals(other.features) &&
          this.terminal.cursorShape === other.terminal.cursorShape)) &&
      this.terminal.sameScreen(other.terminal.snapshot(), this.attributes);
  }

  /**
   * Same echo ack and the same screen by content (`contentEqual`, row generations ignored; the
   * extended layer too when this state's client announced it): what
   * a copy that applied this state's diffs must satisfy. (`equals` is stricter: a copy's rows
   * have their own generations.)
   */
  contentEquals(other: TerminalState): boolean {
    return this.echoAck === other.echoAck &&
      contentEqual(this.terminal.snapshot(), other.terminal.snapshot(), this.attributes) === null;
  }

  /** An independent copy (the terminal's rows are shared copy-on-write). */
  clone(): TerminalState {
    const c = new TerminalState(this.terminal.clone(), undefined, this.echoAck);
    c.history = this.history.slice();
    c.caps = this.caps;
    c.frontier = this.frontier;
    c.ring = this.ring;
    c.historyBase = this.historyBase;
    c.inbox = this.inbox;
    c.controlLog = this.controlLog;
    c.controlCount = this.controlCount;
    c.controlSink = this.controlSink;
    c.features = this.features?.clone() ?? null;
    c.attributes = this.attributes;
    return c;
  }

  /**
   * The serialized HostMessage that turns `existing` into this state; empty when they are equal.
   * Order (§6.2): echoack if it changed, resize if the size changed, then the display diff; our
   * capabilities come first when this state has them and `existing` does not, and history last.
   */
  diffFrom(existing: TerminalState): Uint8Array {
    const events: HostEvent[] = [];
    if (this.caps !== null && existing.caps === null) {
      events.push({ type: "capabilities", caps: this.caps });
    }
    if (existing.echoAck !== this.echoAck) events.push({ type: "echoack", num: this.echoAck });
    const a = existing.terminal.snapshot(), b = this.terminal.snapshot();
    if (!a.equals(b, this.attributes)) {
      if (a.width !== b.width || a.height !== b.height) {
        events.push({ type: "resize", width: b.width, height: b.height });
      }
      const bytes = diffFrames(a, b, this.attributes ? { attributes: ALL_ATTRIBUTES } : undefined);
      if (bytes.length > 0) events.push({ type: "hostbytes", data: bytes });
    }
    const ring = this.ring;
    if (ring !== null && this.frontier >= 0) {
      const start = existing.frontier < 0 ? this.historyBase : existing.frontier;
      if (this.frontier > start) {
        const first = Math.min(Math.max(start, ring.start), this.frontier);
        const lines: Uint8Array[] = [];
        for (let n = first; n < this.frontier; n++) lines.push(ring.wireLine(n));
        events.push({ type: "history", start, lost: first - start, lines });
      }
    }
    const log = this.controlLog;
    if (log !== null && this.controlCount > existing.controlCount) {
      const start = existing.controlCount;
      events.push({ type: "control", start, ops: log.encode(start, this.controlCount) });
    }
    if (this.features !== null) {
      const part = this.features.diffFrom(existing.features, existing.terminal, this.terminal);
      if (part !== null) events.push({ type: "features", ...part });
    }
    return events.length === 0 ? EMPTY : encodeHostMessage(events);
  }

  /**
   * Server: moves the terminal features' event frontier (lib/terminal_features.ts) at most
   * EVENT_STEP characters past `acked`'s, and with `fragments`, as `advanceHistory` does, by less
   * while the diff from `acked` would need more fragments than without the new events. Returns
   * true when the frontier moved.
   */
  advanceFeatures(acked: TerminalState, fragments?: (diff: Uint8Array) => number): boolean {
    const features = this.features;
    if (features === null) return false;
    const current = features.frontier;
    if (!features.advance(acked.features)) return false;
    if (fragments === undefined) return true;
    const from = acked.features === null || acked.features.frontier < 0
      ? features.base
      : acked.features.frontier;
    const f = this.#fitStep(
      acked,
      (n) => features.frontier = n,
      features.frontier,
      current,
      from,
      fragments,
    );
    features.frontier = f < 0 ? current : f;
    return f >= 0;
  }

  /** The diff from a blank state of the same size (mosh's `init_diff`). */
  initDiff(): Uint8Array {
    return this.diffFrom(new TerminalState(this.terminal.width, this.terminal.height));
  }

  /**
   * Server: this connection agreed on scrollback (both sides announced it): history starts with
   * what `ring` holds now.
   */
  startHistory(ring: HistoryRing): void {
    this.ring = ring;
    this.historyBase = ring.start;
    this.frontier = ring.start;
  }

  /** Server: true when this state holds history lines that `acked` does not. */
  historyInFlight(acked: TerminalState): boolean {
    return this.frontier > (acked.frontier < 0 ? this.historyBase : acked.frontier);
  }

  /**
   * Server: moves the frontier forward, at most HISTORY_BUDGET bytes of lines past the frontier
   * of `acked` (the newest state the client acknowledged), never backward. Lines that left the
   * ring cost nothing (they travel as a count). With `fragments` (the fragment count of an
   * instruction carrying a diff), fewer lines are taken while the diff from `acked` would need
   * more fragments than the same diff without history. Returns true when the frontier moved.
   */
  advanceHistory(acked: TerminalState, fragments?: (diff: Uint8Array) => number): boolean {
    const ring = this.ring;
    if (ring === null) return false;
    const end = ring.end;
    const current = this.frontier;
    if (current >= end) return false;
    const from = acked.frontier < 0 ? this.historyBase : acked.frontier;
    let f = Math.max(from, ring.start);
    let bytes = 0;
    while (f < end) {
      const cost = ring.wireLength(f) + LINE_FRAMING;
      if (bytes > 0 && bytes + cost > HISTORY_BUDGET) break;
      bytes += cost;
      f++;
    }
    if (f <= current) return false;
    if (fragments !== undefined) {
      // Lost lines (below the ring's start) cost nothing, so a step that fits keeps at least one
      // line (a step of lost lines alone would say nothing).
      const low = Math.max(current, ring.start);
      f = this.#fitStep(acked, (n) => this.frontier = n, f, low, from, fragments);
      if (f < 0) {
        this.frontier = current;
        return false;
      }
    }
    this.frontier = f;
    return true;
  }

  /**
   * Server: the step of a frontier (history's or the event log's, set through `set`) from `low`
   * toward `f`, halved until the diff from `acked` needs one fragment, or no more than the same
   * diff with the frontier at `from` (without the step). Returns the frontier that fits, or -1
   * when not even one more than `low` does; the frontier is left set to what was tried last.
   */
  #fitStep(
    acked: TerminalState,
    set: (frontier: number) => void,
    f: number,
    low: number,
    from: number,
    fragments: (diff: Uint8Array) => number,
  ): number {
    let alone = -1; // the fragments without the step, computed only when more than one
    for (;;) {
      set(f);
      const n = fragments(this.diffFrom(acked));
      if (n <= 1) return f;
      if (alone < 0) {
        set(from);
        alone = fragments(this.diffFrom(acked));
        set(f);
      }
      if (n <= alone) return f;
      const fewer = low + ((f - low) >> 1);
      if (fewer <= low) return -1;
      f = fewer;
    }
  }

  /**
   * Applies a HostMessage (client side). The whole message is checked before anything changes;
   * malformed input throws a ProtocolError.
   */
  applyString(diff: Uint8Array): void {
    const events = decodeHostMessage(diff);
    let caps = this.caps;
    let frontier = this.frontier;
    for (const ev of events) {
      if (ev.type === "capabilities") caps = ev.caps;
      else if (ev.type === "history") {
        // Read only when this client wants history and the server announced it.
        if (this.inbox === null || !announces(caps, SCROLLBACK)) continue;
        if (frontier >= 0 && ev.start !== frontier) {
          throw new ProtocolError(`terminal state: history from ${ev.start}, held ${frontier}`);
        }
        if (ev.lines.length > MAX_HISTORY_LINES) {
          throw new ProtocolError(`terminal state: ${ev.lines.length} history lines`);
        }
        for (const line of ev.lines) {
          if (line.length === 0) throw new ProtocolError("terminal state: empty history line");
        }
        frontier = ev.start + ev.lost + ev.lines.length;
        if (!Number.isSafeInteger(frontier)) {
          throw new ProtocolError("terminal state: history numbers out of range");
        }
      }
      if (ev.type !== "resize") continue;
      if (!validResize(ev.width, ev.height)) {
        throw new ProtocolError(`terminal state: bad resize ${ev.width}x${ev.height}`);
      }
    }
    for (const ev of events) {
      if (ev.type === "hostbytes") this.terminal.write(ev.data); // replies are discarded
      else if (ev.type === "resize") this.terminal.resize(ev.width, ev.height);
      else if (ev.type === "echoack") this.echoAck = ev.num;
      else if (ev.type === "capabilities") this.caps = ev.caps;
      else if (ev.type === "control") {
        // Read only when this client forwards and the server announced it.
        if (this.controlSink !== null && announces(this.caps, FORWARDING)) this.controlSink(ev);
      } else if (ev.type === "features") {
        // Read only when this client wants them and the server announced them.
        if (this.features !== null && announces(this.caps, TERMINAL_FEATURES)) {
          this.features.apply(ev, this.terminal);
        }
      } else if (this.inbox !== null && announces(this.caps, SCROLLBACK)) {
        this.inbox.receive(ev.start, ev.lost, ev.lines);
        this.frontier = ev.start + ev.lost + ev.lines.length;
      }
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

  /** Server: ms until `setEchoAck` can next change something, or WAIT_FOREVER (§6.3). */
  waitTime(now: number): number {
    if (this.history.length < 2) return WAIT_FOREVER;
    return Math.max(0, this.history[1].time + ECHO_TIMEOUT - now);
  }
}

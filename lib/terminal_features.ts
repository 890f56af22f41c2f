/**
 * The terminal-features part of the server's state, for a connection where both sides announced
 * the capability (beyond mosh; the terminal features range 120-129 of docs/PROTOCOL.md §13): the
 * cursor shape (DECSCUSR, lib/cursor_shape.ts) and the event stream (notifications and clipboard
 * copies, lib/terminal_events.ts).
 *
 * The shape is the emulator's (`Terminal.cursorShape`) on both sides: the client applies a
 * received shape to its own emulator with the same DECSCUSR sequence. The events are a stream
 * frontier: a state holds the session's events up to `frontier`; the server moves it at most
 * EVENT_STEP characters past the frontier its client acknowledged (`advance`); a diff carries the
 * stream between two frontiers; the client's inbox takes each event once.
 *
 * `TerminalState` (lib/terminal_state.ts) holds one `FeatureState` (or null: a C peer, or the
 * feature off) and asks it for its part of `equals`, `clone`, `diffFrom` and `applyString`.
 */

import { type EventInbox, type EventLog, type EventSegment } from "./terminal_events.ts";
import type { Terminal } from "./terminal.ts";

/** What a diff carries for these features; absent parts did not change. */
export interface FeaturesDiff {
  /** The new cursor shape (0-6). */
  shape?: number;
  /** The event stream between the two states' frontiers. */
  events?: EventSegment;
}

/** The features' part of one state. Copies share the log (server) or the inbox (client). */
export class FeatureState {
  /** Events up to this stream offset are part of the state; -1 before the first (client). */
  frontier: number;
  /** Server: where this connection's events begin (the log's end when it began). */
  readonly base: number;
  /** Server: the session's event log. */
  readonly log: EventLog | null;
  /** Client: where received events go. */
  readonly inbox: EventInbox | null;

  private constructor(
    frontier: number,
    base: number,
    log: EventLog | null,
    inbox: EventInbox | null,
  ) {
    this.frontier = frontier;
    this.base = base;
    this.log = log;
    this.inbox = inbox;
  }

  /** Server: a connection starting now, at the end of `log` (older events are never sent). */
  static server(log: EventLog): FeatureState {
    return new FeatureState(log.end, log.end, log, null);
  }

  /** Client: events received go to `inbox`. */
  static client(inbox: EventInbox): FeatureState {
    return new FeatureState(-1, -1, null, inbox);
  }

  /** A copy (sharing the log or inbox). */
  clone(): FeatureState {
    return new FeatureState(this.frontier, this.base, this.log, this.inbox);
  }

  /** Same frontier (the shapes are compared by the caller's terminals). */
  equals(other: FeatureState | null): boolean {
    return other !== null && other.frontier === this.frontier;
  }

  /**
   * Server: the part of the diff from `existing` (a state with features, or without: then
   * everything since this connection began) to this state, showing `terminal` where `existing`
   * shows `existingTerminal`; null when nothing changed.
   */
  diffFrom(
    existing: FeatureState | null,
    existingTerminal: Terminal,
    terminal: Terminal,
  ): FeaturesDiff | null {
    const out: FeaturesDiff = {};
    if (terminal.cursorShape !== existingTerminal.cursorShape) out.shape = terminal.cursorShape;
    const log = this.log;
    if (log !== null) {
      const from = existing === null || existing.frontier < 0 ? this.base : existing.frontier;
      if (this.frontier > from) out.events = log.segment(from, this.frontier);
    }
    return out.shape === undefined && out.events === undefined ? null : out;
  }

  /**
   * Server: moves the frontier at most EVENT_STEP characters past the frontier of `acked` (the
   * newest state the client acknowledged), never backward. Returns true when it moved.
   */
  advance(acked: FeatureState | null): boolean {
    if (this.log === null) return false;
    const from = acked === null || acked.frontier < 0 ? this.base : acked.frontier;
    const f = this.log.frontier(from);
    if (f <= this.frontier) return false;
    this.frontier = f;
    return true;
  }

  /** Client: applies a received part to this state and its `terminal`. */
  apply(diff: FeaturesDiff, terminal: Terminal): void {
    if (diff.shape !== undefined) terminal.write(`\x1b[${diff.shape} q`);
    const seg = diff.events;
    if (seg === undefined || this.inbox === null) return;
    this.inbox.accept(seg);
    let end = seg.start + seg.lost;
    for (const p of seg.pieces) end += p.text.length;
    this.frontier = Math.max(this.frontier, end);
  }
}

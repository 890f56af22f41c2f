/**
 * Terminal events between our server and our client (beyond mosh; an extension in the terminal
 * features range 120-129 of docs/PROTOCOL.md §13): desktop notifications (OSC 9, OSC 777
 * `notify`) and clipboard copies (OSC 52, any selection, up to EVENT_MAX_LENGTH), which are
 * things that happen rather than things on the screen.
 *
 * The server's emulator hands each one to an `EventLog` (lib/terminal.ts `eventSink`). The log is
 * a stream of characters: event after event, each at its own offset, and it keeps the newest
 * EVENT_LOG_KEEP events (at most EVENT_LOG_CHARS characters). A state holds the stream up to a frontier, the way the scrollback
 * history holds lines up to one: a diff carries the stream between two states' frontiers
 * (`segment`), cut into pieces at event boundaries, so it is the same whichever older state it
 * starts from. The server moves a connection's frontier at most EVENT_STEP characters past the
 * frontier its client acknowledged (`frontier`), so a 100 KB copy travels in bounded steps and
 * never makes an instruction bigger than the screen's would be by more than that. The client's
 * `EventInbox` keeps the stream offset it has received, skips what it already had (retransmitted
 * diffs overlap), joins the pieces and hands each event on once when its last piece arrives. The
 * same text copied twice is two events. A connection starts at the log's end (`end`), so a client
 * that connects later is never shown old events; events that left the log before a slow client
 * had them are skipped, counted as lost.
 *
 * `eventBytes` is what the client writes to its terminal: the OSC again, checked first, since the
 * string came over the network.
 *
 * The server adds notices of its own to the same log (`noticeEvent`: "another client attached"),
 * strings that start with NOTICE_PREFIX, which no application can produce (the emulator reports
 * only OSC 9, 777 and 52); our client shows them in its notification bar (`noticeText`), never on
 * its terminal.
 */

import { OSC_BUFFER_LENGTH } from "./parser.ts";

/**
 * Events the log keeps: a client further behind than this loses the oldest ones. A burst of
 * notifications and copies (a test suite's, a script's) fits; a flood does not pile up.
 */
export const EVENT_LOG_KEEP = 32;
/** Characters the log keeps at most (about 2 MB), the newest event always. */
export const EVENT_LOG_CHARS = 1 << 20;
/** Longest event accepted, in UTF-16 code units (the emulator's OSC limit). */
export const EVENT_MAX_LENGTH = OSC_BUFFER_LENGTH;
/**
 * Most characters of events a state may hold beyond the frontier its client acknowledged: about
 * what one datagram carries next to a screen update (base64 barely compresses).
 */
export const EVENT_STEP = 1024;

/** One logged event: its number (from 1), its stream offset and its OSC string. */
export interface TerminalEvent {
  readonly num: number;
  readonly start: number;
  readonly osc: string;
}

/** Part of one event in a diff: `text` from `offset` within the event; `last` ends the event. */
export interface EventPiece {
  /** Where the piece starts within its event (UTF-16 code units). */
  readonly offset: number;
  /** The piece of the event's string. */
  readonly text: string;
  /** The piece ends its event. */
  readonly last: boolean;
}

/** The stream between two frontiers: `lost` characters that left the log, then the pieces. */
export interface EventSegment {
  /** The stream offset the segment starts from (the older state's frontier). */
  readonly start: number;
  /** Characters after `start` that left the log before they were sent. */
  readonly lost: number;
  /** The stream from `start + lost` on, cut at event boundaries. */
  readonly pieces: readonly EventPiece[];
}

/** The server's log of the newest events, shared by every state of the session. */
export class EventLog {
  #events: TerminalEvent[] = [];
  #end = 0;
  #count = 0;

  /** The stream offset after the newest event: where a connection starting now begins. */
  get end(): number {
    return this.#end;
  }

  /** Number of events ever logged. */
  get count(): number {
    return this.#count;
  }

  /** Logs an event (an OSC string the emulator reported); the oldest beyond the keep drop out. */
  push(osc: string): void {
    if (osc.length === 0 || osc.length > EVENT_MAX_LENGTH) return;
    this.#events.push({ num: ++this.#count, start: this.#end, osc });
    this.#end += osc.length;
    while (
      this.#events.length > EVENT_LOG_KEEP ||
      (this.#events.length > 1 && this.#end - this.#events[0].start > EVENT_LOG_CHARS)
    ) this.#events.shift();
  }

  /** Stream offset of the oldest event still kept (`end` when none is). */
  get oldest(): number {
    return this.#events.length === 0 ? this.#end : this.#events[0].start;
  }

  /** The stream [from, to) as a diff carries it. */
  segment(from: number, to: number): EventSegment {
    const first = Math.min(Math.max(from, this.oldest), to);
    const pieces: EventPiece[] = [];
    for (const e of this.#events) {
      const a = Math.max(first, e.start), b = Math.min(to, e.start + e.osc.length);
      if (a >= b) continue;
      pieces.push({
        offset: a - e.start,
        text: e.osc.slice(a - e.start, b - e.start),
        last: b === e.start + e.osc.length,
      });
    }
    return { start: from, lost: first - from, pieces };
  }

  /**
   * The frontier a new state for a client that acknowledged `acked` may have: at most EVENT_STEP
   * characters of kept events past it (what left the log costs nothing), never past the end.
   */
  frontier(acked: number): number {
    return Math.min(this.#end, Math.max(acked, this.oldest) + EVENT_STEP);
  }
}

/** The client's side: joins the pieces and passes on each event once. */
export class EventInbox {
  #received: number;
  #partial = "";
  #ready: string[] = [];
  /** Events lost because they left the server's log before this client had them (characters). */
  lost = 0;

  /**
   * An inbox that starts at stream offset `received` (what the connection began with), or by
   * default where the first segment received starts.
   */
  constructor(received = -1) {
    this.#received = received;
  }

  /** The stream offset received so far. */
  get received(): number {
    return this.#received;
  }

  /** Takes a diff's segment; returns the events it completed (OSC strings), oldest first. */
  accept(seg: EventSegment): string[] {
    const done: string[] = [];
    if (this.#received < 0) this.#received = seg.start;
    let p = seg.start + seg.lost;
    if (p > this.#received) {
      this.lost += p - this.#received;
      this.#received = p;
      this.#partial = "";
    }
    for (const piece of seg.pieces) {
      const len = piece.text.length;
      if (p + len > this.#received && p <= this.#received) {
        const fresh = piece.text.slice(this.#received - p);
        if (piece.offset === 0 && p === this.#received) this.#partial = "";
        this.#partial += fresh;
        this.#received = p + len;
        if (piece.last) {
          done.push(this.#partial);
          this.#partial = "";
        }
      }
      p += len;
    }
    this.#ready.push(...done);
    return done;
  }

  /** The events completed since the last call, oldest first (what the client writes next). */
  take(): string[] {
    const out = this.#ready;
    this.#ready = [];
    return out;
  }
}

/** What starts a server notice in the event stream (not an OSC number, so no application's). */
export const NOTICE_PREFIX = "notice;";
/** Longest notice text a client shows (the notification bar shows at most 127 characters). */
export const NOTICE_MAX_LENGTH = 120;

/** The event string of a server notice with `text` (control characters dropped, cut). */
export function noticeEvent(text: string): string {
  let clean = "";
  for (const ch of text) if (!isControl(ch.codePointAt(0)!)) clean += ch;
  return NOTICE_PREFIX + clean.slice(0, NOTICE_MAX_LENGTH);
}

/** The text of a server notice, or null when `event` is not one (or is malformed). */
export function noticeText(event: string): string | null {
  if (!event.startsWith(NOTICE_PREFIX)) return null;
  const text = event.slice(NOTICE_PREFIX.length);
  if (text.length === 0 || text.length > NOTICE_MAX_LENGTH) return null;
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i))) return null;
  return text;
}

/** True for code points that must never reach the terminal inside an OSC (C0, DEL, C1). */
function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/**
 * The bytes that replay an event on the client's terminal (`ESC ] osc BEL`), or null when the
 * string is not an event the server can send: a notification (`9;`, `777;notify;`) or a copy
 * (`52;<selections>;<base64>`, not a query), without control characters, within the length.
 */
export function eventBytes(osc: string): string | null {
  if (osc.length > EVENT_MAX_LENGTH) return null;
  for (let i = 0; i < osc.length; i++) if (isControl(osc.charCodeAt(i))) return null;
  if (osc.startsWith("9;") || osc.startsWith("777;notify;")) return `\x1b]${osc}\x07`;
  const copy = /^52;[cpqs0-7]*;([A-Za-z0-9+/=]*)$/.exec(osc);
  return copy === null ? null : `\x1b]${osc}\x07`;
}

/**
 * Terminal events between our server and our client (beyond mosh; an extension in the terminal
 * features range 120-129 of docs/PROTOCOL.md §13): desktop notifications (OSC 9, OSC 777
 * `notify`) and clipboard copies (OSC 52, any selection, up to EVENT_MAX_LENGTH), which are
 * things that happen rather than things on the screen.
 *
 * The server's emulator hands each one to an `EventLog` (lib/terminal.ts `eventSink`): a numbered
 * log, part of the server's state, that keeps the newest EVENT_LOG_KEEP. A diff to a client
 * carries the events newer than the state that client is known to hold (`since`); the client's
 * `EventInbox` passes on each number once, however often retransmissions repeat it, so every
 * event is delivered once across loss, and the same text copied twice is two events. A
 * connection's log view starts at the log's newest number when it connects (`newest`), so a
 * client that connects later is never shown old events. `frontier` bounds how far a published
 * state may run ahead of what the client acknowledged.
 *
 * `eventBytes` is what the client writes to its terminal: the OSC again, checked first, since the
 * string came over the network.
 */

import { OSC_BUFFER_LENGTH } from "./parser.ts";

/** Events the log keeps: a client further behind than this loses the oldest ones. */
export const EVENT_LOG_KEEP = 8;
/** Longest event accepted from the network, in UTF-16 code units (the emulator's OSC limit). */
export const EVENT_MAX_LENGTH = OSC_BUFFER_LENGTH;

/** One event: its number in the log (from 1) and its OSC string (`9;...`, `52;c;...`, ...). */
export interface TerminalEvent {
  readonly num: number;
  readonly osc: string;
}

/** The server's numbered log of the newest events. Copies are independent. */
export class EventLog {
  #events: TerminalEvent[] = [];
  #newest = 0;

  /** Number of the newest event ever logged (0 before the first). */
  get newest(): number {
    return this.#newest;
  }

  /** Logs an event (an OSC string the emulator reported); the oldest beyond the keep drop out. */
  push(osc: string): void {
    this.#events.push({ num: ++this.#newest, osc });
    if (this.#events.length > EVENT_LOG_KEEP) this.#events.shift();
  }

  /** The kept events newer than `num`, oldest first, at most up to event `upTo`. */
  since(num: number, upTo = this.#newest): readonly TerminalEvent[] {
    return this.#events.filter((e) => e.num > num && e.num <= upTo);
  }

  /**
   * The newest event number a state sent to a client that acknowledged `acked` may include: the
   * events after `acked` whose OSC strings together stay within `budget` characters, and always
   * at least the first one (so a big copy still goes, alone).
   */
  frontier(acked: number, budget: number): number {
    let total = 0, last = acked;
    for (const e of this.#events) {
      if (e.num <= acked) continue;
      total += e.osc.length;
      if (total > budget && last > acked) break;
      last = e.num;
    }
    return Math.max(last, acked);
  }

  /** An independent copy (events are immutable and shared). */
  clone(): EventLog {
    const c = new EventLog();
    c.#events = this.#events.slice();
    c.#newest = this.#newest;
    return c;
  }
}

/** The client's side: passes each event number on once, in order. */
export class EventInbox {
  #delivered: number;

  /** An inbox that has delivered everything up to `delivered`. */
  constructor(delivered = 0) {
    this.#delivered = delivered;
  }

  /** Number of the newest event delivered. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Of the `events` a diff carried, those not yet delivered, oldest first; marks them delivered. */
  accept(events: readonly TerminalEvent[]): TerminalEvent[] {
    const fresh: TerminalEvent[] = [];
    for (const e of [...events].sort((a, b) => a.num - b.num)) {
      if (!Number.isSafeInteger(e.num) || e.num <= this.#delivered) continue;
      fresh.push(e);
      this.#delivered = e.num;
    }
    return fresh;
  }
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

/**
 * The client's side of scrollback (issue 14; docs/EXTENSIONS.md): received history lines, and
 * the escape sequences that put them into the real terminal's own scrollback.
 *
 * `HistoryInbox` collects the lines of every applied diff by number (lib/terminal_state.ts calls
 * `receive`); all of the client's received states share it, and a line has the same content in
 * every diff that carries it, so out-of-order and repeated diffs are harmless. A number below a
 * state's frontier with no line was lost to the server's ring.
 *
 * `HistoryWriter.take(frontier, height)` returns the bytes that write every line not yet written,
 * in order, exactly once: a lost run becomes one `[mosh: N lines not kept]` line, and a wrapped
 * line is continued by the next one without a line break, so the real terminal wraps it itself
 * and can reflow it (a wrapped line waits until its continuation has arrived). The lines pass
 * through the real screen and scroll off its top, the only way into a terminal's scrollback:
 *
 *   CSI r, SGR 0, erase the screen without ED at home (tmux's `scroll-on-clear` would push the
 *   screen into the history), home, the lines separated by CR LF, then `height` CR LFs, which
 *   scroll exactly the rows holding lines off the top (the rows below them are blank and are
 *   passed over first), and home again.
 *
 * The screen is then blank and the caller repaints it (all inside one synchronized update,
 * DECSET 2026, for terminals that have it). Lines from the server are sanitised first: only
 * printable text and SGR sequences reach the real terminal.
 */

import { concatBytes } from "./bytes.ts";
import { LINE_WRAPPED } from "./extensions.ts";

/** The marker line written for lines that left the server's ring before this client had them. */
export function lostMarker(count: number): string {
  return `[mosh: ${count} lines not kept]`;
}

const encoder = new TextEncoder();
const ESC = 0x1b;

/** Received history lines by number, shared by all of the client's states. */
export class HistoryInbox {
  readonly #lines = new Map<number, Uint8Array>();
  /** The first line number the server offered (-1 = none yet). */
  #base = -1;
  /** Lines below this were written and dropped from the inbox. */
  #floor = 0;

  /** The first line number the server offered, or -1. */
  get base(): number {
    return this.#base;
  }

  /** Stores the lines of one applied diff (copied: received buffers are not kept). */
  receive(start: number, lost: number, lines: readonly Uint8Array[]): void {
    if (this.#base < 0) {
      this.#base = start;
      this.#floor = start;
    }
    let n = start + lost;
    for (const line of lines) {
      if (n >= this.#floor && !this.#lines.has(n)) this.#lines.set(n, line.slice());
      n++;
    }
  }

  /** Line `n` (flags byte, then text), or undefined when it was lost. */
  get(n: number): Uint8Array | undefined {
    return this.#lines.get(n);
  }

  /** Forgets every line below `n` (written). */
  dropBelow(n: number): void {
    for (let k = this.#floor; k < n; k++) this.#lines.delete(k);
    if (n > this.#floor) this.#floor = n;
  }

  /** The number of lines held (for tests). */
  get size(): number {
    return this.#lines.size;
  }
}

/** Turns new inbox lines into escape sequences for the real terminal. */
export class HistoryWriter {
  readonly #inbox: HistoryInbox;
  #written = -1;

  /** A writer of the lines `inbox` receives; nothing is written yet. */
  constructor(inbox: HistoryInbox) {
    this.#inbox = inbox;
  }

  /** Lines numbered below this have been written. */
  get written(): number {
    return this.#written;
  }

  /** True when `take(frontier)` would write something. */
  pending(frontier: number): boolean {
    const from = this.#written < 0 ? this.#inbox.base : this.#written;
    return from >= 0 && this.#writableEnd(from, frontier) > from;
  }

  /** Where writing from `from` must stop: before a wrapped chain whose end has not arrived. */
  #writableEnd(from: number, frontier: number): number {
    let end = frontier;
    while (end > from) {
      const prev = this.#inbox.get(end - 1);
      if (prev === undefined || (prev[0] & LINE_WRAPPED) === 0) break;
      end--;
    }
    return end;
  }

  /**
   * The bytes that write history lines below `frontier` not yet written into a real terminal of
   * `height` rows (leaving its screen blank, cursor home, pen default), or null when none are due.
   */
  take(frontier: number, height: number): Uint8Array | null {
    const inbox = this.#inbox;
    if (inbox.base < 0) return null;
    if (this.#written < 0) this.#written = inbox.base;
    const end = this.#writableEnd(this.#written, frontier);
    if (end <= this.#written) return null;
    const parts: Uint8Array[] = [];
    const push = (b: Uint8Array) => void parts.push(b);
    const h = Math.max(1, height);
    push(encoder.encode(
      "\x1b[?2026h\x1b[r\x1b[0m\x1b[H\x1b[2K" + (h > 1 ? "\x1b[2H\x1b[J\x1b[H" : ""),
    ));
    const newline = encoder.encode("\r\n");
    let first = true;
    let continued = false; // the previous line wrapped: no line break before this one
    for (let n = this.#written; n < end;) {
      const line = inbox.get(n);
      // A line break unless the previous line wrapped into this one (a marker always gets one).
      if (!first && (!continued || line === undefined)) push(newline);
      first = false;
      if (line === undefined) {
        let k = n + 1;
        while (k < end && inbox.get(k) === undefined) k++;
        push(encoder.encode(lostMarker(k - n)));
        continued = false;
        n = k;
        continue;
      }
      push(sanitize(line.subarray(1)));
      continued = (line[0] & LINE_WRAPPED) !== 0;
      n++;
    }
    push(encoder.encode("\r\n".repeat(h) + "\x1b[H"));
    this.#written = end;
    inbox.dropBelow(end);
    return concatBytes(parts);
  }
}

/** Ends the synchronized update `take` opened (after the repaint). */
export const END_SYNCHRONIZED_UPDATE = "\x1b[?2026l";

/**
 * Keeps printable text and SGR sequences (`ESC [ digits ; : m`) of a line; drops every other
 * control character, escape sequence and UTF-8-encoded C1 control (U+0080-U+009F).
 */
export function sanitize(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (b === ESC) {
      let j = i + 1;
      if (j < text.length && text[j] === 0x5b) {
        j++;
        while (j < text.length && ((text[j] >= 0x30 && text[j] <= 0x39) || text[j] === 0x3b)) j++;
        if (j < text.length && text[j] === 0x6d) {
          out.set(text.subarray(i, j + 1), n);
          n += j + 1 - i;
          i = j;
          continue;
        }
      }
      i = j - 1; // drop ESC and what was read of the sequence
      continue;
    }
    if (b < 0x20 || b === 0x7f) continue;
    if (b === 0xc2 && i + 1 < text.length && text[i + 1] >= 0x80 && text[i + 1] <= 0x9f) {
      i++;
      continue;
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

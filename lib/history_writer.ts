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
 * in order, exactly once: a lost run becomes one `[mosh: N lines not kept]` line (written with the
 * line that follows it, so that runs from several diffs make one marker), and a wrapped
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

  /**
   * Stores the lines of one applied diff, copied (received buffers are not kept) into one buffer
   * for the diff: a flood brings thousands of lines a second, and a buffer per line made the
   * client's garbage collector a large part of its work.
   */
  receive(start: number, lost: number, lines: readonly Uint8Array[]): void {
    if (this.#base < 0) {
      this.#base = start;
      this.#floor = start;
    }
    const first = start + lost;
    let size = 0;
    for (let i = 0; i < lines.length; i++) {
      const n = first + i;
      if (n >= this.#floor && !this.#lines.has(n)) size += lines[i].length;
    }
    if (size === 0) return;
    const store = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < lines.length; i++) {
      const n = first + i, line = lines[i];
      if (n < this.#floor || this.#lines.has(n)) continue;
      store.set(line, at);
      this.#lines.set(n, store.subarray(at, at + line.length));
      at += line.length;
    }
  }

  /** Line `n` (flags byte, then text), or undefined when it was lost. */
  get(n: number): Uint8Array | undefined {
    return this.#lines.get(n);
  }

  /**
   * The first line number in [n, end) that the inbox holds, or `end`. Runs of lost lines can be
   * millions long (a flood past the server's ring): this walks the lines held, not the numbers.
   */
  nextHeld(n: number, end: number): number {
    if (this.#lines.has(n)) return n;
    let next = end;
    for (const k of this.#lines.keys()) if (k >= n && k < next) next = k;
    return next;
  }

  /**
   * The last line number in [from, n) that the inbox holds, or `from - 1`; like `nextHeld`, it
   * walks the lines held, not the numbers.
   */
  prevHeld(n: number, from: number): number {
    if (n > from && this.#lines.has(n - 1)) return n - 1;
    let prev = from - 1;
    for (const k of this.#lines.keys()) if (k < n && k > prev) prev = k;
    return prev;
  }

  /** Forgets every line below `n` (written). */
  dropBelow(n: number): void {
    if (n - this.#floor <= this.#lines.size) {
      for (let k = this.#floor; k < n; k++) this.#lines.delete(k);
    } else {
      for (const k of this.#lines.keys()) if (k < n) this.#lines.delete(k);
    }
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

  /**
   * Where writing from `from` must stop: before a wrapped chain whose end has not arrived, and
   * before a lost run at the end. A lost run's marker waits for the line after it, so that runs
   * the server reports in separate diffs with no line between them (a flood outrunning its ring
   * between two steps) become one marker.
   */
  #writableEnd(from: number, frontier: number): number {
    let end = frontier;
    while (end > from) {
      const prev = this.#inbox.get(end - 1);
      if (prev === undefined) end = this.#inbox.prevHeld(end - 1, from) + 1;
      else if ((prev[0] & LINE_WRAPPED) !== 0) end--;
      else break;
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
    const h = Math.max(1, height);
    const head = "\x1b[?2026h\x1b[r\x1b[0m\x1b[H\x1b[2K" + (h > 1 ? "\x1b[2H\x1b[J\x1b[H" : "");
    // One buffer for everything (sanitizing only drops bytes): its size first.
    let size = head.length + 2 * h + 3;
    for (let n = this.#written; n < end;) {
      const line = inbox.get(n);
      if (line === undefined) {
        const k = inbox.nextHeld(n + 1, end);
        size += lostMarker(k - n).length + 2;
        n = k;
      } else {
        size += line.length + 1; // the flags byte's place takes the line break
        n++;
      }
    }
    const out = new Uint8Array(size);
    let at = encoder.encodeInto(head, out).written;
    let first = true;
    let continued = false; // the previous line wrapped: no line break before this one
    for (let n = this.#written; n < end;) {
      const line = inbox.get(n);
      // A line break unless the previous line wrapped into this one (a marker always gets one).
      if (!first && (!continued || line === undefined)) {
        out[at++] = 0x0d;
        out[at++] = 0x0a;
      }
      first = false;
      if (line === undefined) {
        const k = inbox.nextHeld(n + 1, end);
        at += encoder.encodeInto(lostMarker(k - n), out.subarray(at)).written;
        continued = false;
        n = k;
        continue;
      }
      at = sanitizeInto(line, 1, out, at);
      continued = (line[0] & LINE_WRAPPED) !== 0;
      n++;
    }
    for (let i = 0; i < h; i++) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
    }
    at += encoder.encodeInto("\x1b[H", out.subarray(at)).written;
    this.#written = end;
    inbox.dropBelow(end);
    return out.subarray(0, at);
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
  return out.subarray(0, sanitizeInto(text, 0, out, 0));
}

/** `sanitize` of `text` from `from` on, written into `out` at `at`; returns the new end. */
function sanitizeInto(text: Uint8Array, from: number, out: Uint8Array, at: number): number {
  let n = at;
  for (let i = from; i < text.length; i++) {
    const b = text[i];
    if (b === ESC) {
      let j = i + 1;
      if (j < text.length && text[j] === 0x5b) {
        j++;
        while (j < text.length && ((text[j] >= 0x30 && text[j] <= 0x39) || text[j] === 0x3b)) j++;
        if (j < text.length && text[j] === 0x6d) {
          for (let k = i; k <= j; k++) out[n++] = text[k];
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
  return n;
}

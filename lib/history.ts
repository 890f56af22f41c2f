/**
 * The server's scrollback history (issue 14; layouts in docs/EXTENSIONS.md): a ring of the last
 * `capacity` rows that scrolled off the top of the primary screen (lib/terminal.ts hands them
 * over as its `ScrollbackSink`), numbered by a counter that only grows.
 *
 * Each row is stored once, at the moment it leaves the screen, as the line the client will write
 * into its real terminal: its text as UTF-8 with SGR sequences (`CSI 0 ; attrs ; fg ; bg m`, the
 * display diff's form) wherever the rendition changes, trailing blank cells dropped, and a flag
 * saying whether it wrapped into the next line (a wrapped row keeps every cell, so the client's
 * terminal wraps at the same column). Lines are kept exactly as the wire carries them (a flags
 * byte, then the text) in 64 KiB byte chunks, with three 32-bit words per line (chunk, offset,
 * length); a chunk is dropped once no held line is in it. For plain 80-column text that is
 * 81 + 12 bytes per line, so a full ring of 10,000 such lines costs about 1 MB
 * (tests/history_test.ts measures it), and a diff takes its lines without copying. Every saved
 * state shares the one ring (lib/terminal_state.ts): states hold line numbers, never lines.
 */

import {
  ATTR_BLINK,
  ATTR_BOLD,
  ATTR_INVERSE,
  ATTR_INVISIBLE,
  ATTR_ITALIC,
  ATTR_MASK,
  ATTR_UNDERLINE,
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  type Row,
  TRUE_COLOR,
} from "./framebuffer.ts";
import { LINE_WRAPPED } from "./extensions.ts";
import type { ScrollbackSink } from "./terminal.ts";

/** The ring's size when MOSH_SCROLLBACK is unset. */
export const DEFAULT_SCROLLBACK = 10000;
/** The largest MOSH_SCROLLBACK accepted. */
export const MAX_SCROLLBACK = 1000000;

/**
 * The ring size from MOSH_SCROLLBACK: unset or empty = the default, 0 = off. A bad value is
 * reported (one line) and the default used.
 */
export function scrollbackFromEnv(value: string | undefined): {
  lines: number;
  warning: string | null;
} {
  if (value === undefined || value === "") return { lines: DEFAULT_SCROLLBACK, warning: null };
  if (!/^\d+$/.test(value.trim()) || Number(value) > MAX_SCROLLBACK) {
    return {
      lines: DEFAULT_SCROLLBACK,
      warning: `MOSH_SCROLLBACK must be a number of lines from 0 to ${MAX_SCROLLBACK}, ` +
        `ignoring "${value}"`,
    };
  }
  return { lines: Number(value), warning: null };
}

const decoder = new TextDecoder();
/** Bytes per storage chunk (a longer line gets a chunk of its own). */
const CHUNK_SIZE = 65536;
const ESC = 0x1b;
const SEMI = 0x3b;
/** Trailing cells with any of these attributes are visible even when empty. */
const VISIBLE_EMPTY = ATTR_INVERSE | ATTR_UNDERLINE;
/** A cell's word 3 bits that keep it off the fast path (any attribute, wide, fallback). */
const NOT_PLAIN = ATTR_MASK | FLAG_WIDE | FLAG_FALLBACK;
/**
 * Most bytes one cell adds to a line: an SGR (`CSI 0;1;3;4;5;7;8;38;2;r;g;b;48;2;r;g;b m`, at
 * most 50 bytes: a colour written as one number has at most 10 digits) and its text (U+00A0
 * and a 4-byte code point); a combined cell's contents are counted apart.
 */
const CELL_BOUND = 50 + 6;

/** The rows that left the screen, newest last; implements the terminal's `ScrollbackSink`. */
export class HistoryRing implements ScrollbackSink {
  /** The most lines held. */
  readonly capacity: number;
  /** Per slot: which chunk (an id that only grows), where in it, and how long (wire bytes). */
  readonly #chunkOf: Int32Array;
  readonly #offset: Int32Array;
  readonly #wireLength: Int32Array;
  /** The byte chunks, oldest first; `#chunks[0]` has id `#firstChunk`. */
  #chunks: Uint8Array[] = [new Uint8Array(CHUNK_SIZE)];
  #firstChunk = 0;
  /** A dropped chunk of CHUNK_SIZE bytes, reused for the next one (null = none). */
  #spare: Uint8Array | null = null;
  #used = 0;
  #end = 0;
  /** `#end % capacity`: the slot line `#end` will take. */
  #endSlot = 0;
  #scratch = new Uint8Array(1024);
  #len = 0;

  /** An empty ring of `capacity` lines (at least 1). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`history: capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#chunkOf = new Int32Array(capacity);
    this.#offset = new Int32Array(capacity);
    this.#wireLength = new Int32Array(capacity);
  }

  /** The number the next line will get: every line ever pushed is numbered below it. */
  get end(): number {
    return this.#end;
  }

  /** Bytes of storage held: the chunks (the spare one too) plus the per-line index words. */
  get byteSize(): number {
    let bytes = 3 * 4 * this.capacity + (this.#spare?.length ?? 0);
    for (const c of this.#chunks) bytes += c.length;
    return bytes;
  }

  /** The oldest line still held. */
  get start(): number {
    return this.#end > this.capacity ? this.#end - this.capacity : 0;
  }

  /** Line `n` (start <= n < end) as the client writes it: text with SGR sequences. */
  text(n: number): string {
    const wire = this.wireLine(n);
    return decoder.decode(wire.subarray(1));
  }

  /** True if line `n` wrapped into line `n + 1`. */
  wrapped(n: number): boolean {
    return (this.wireLine(n)[0] & LINE_WRAPPED) !== 0;
  }

  /** Bytes of line `n` on the wire (flags byte plus UTF-8 text). */
  wireLength(n: number): number {
    return this.#wireLength[this.#slot(n)];
  }

  /**
   * Line `n` as the wire carries it: the flags byte, then the UTF-8 text. A view, read only and
   * valid until the next `pushRow` (storage of lines that left the ring is reused).
   */
  wireLine(n: number): Uint8Array {
    const slot = this.#slot(n);
    const chunk = this.#chunks[this.#chunkOf[slot] - this.#firstChunk];
    const at = this.#offset[slot];
    return chunk.subarray(at, at + this.#wireLength[slot]);
  }

  #slot(n: number): number {
    if (n < this.start || n >= this.#end) {
      throw new RangeError(`history: line ${n} is not held (${this.start}..${this.#end})`);
    }
    return n % this.capacity;
  }

  /** Stores a row leaving the screen (the terminal's sink callback). */
  pushRow(row: Row): void {
    const d = row.data;
    const w = d.length / CELL_WORDS;
    const wrapped = (d[d.length - 1] & FLAG_WRAP) !== 0;
    // Trailing blank cells carry nothing, unless the row wrapped (the next row follows on).
    let last = w;
    if (!wrapped) {
      let o = Math.min(row.ink, w) * CELL_WORDS - CELL_WORDS; // cells from `ink` on are blank
      while (o >= 0 && (d[o] | d[o + 2] | (d[o + 3] & VISIBLE_EMPTY)) === 0) o -= CELL_WORDS;
      last = o / CELL_WORDS + 1;
    }
    const flags = wrapped ? LINE_WRAPPED : 0;
    if (row.multi === null && this.#storePlain(d, last, flags)) return;
    // The general path: into the scratch buffer, sized once for the worst case of every cell
    // (an SGR change and 7 bytes of text); only a combined cell's contents need more room.
    this.#len = 0;
    this.#ensure(last * CELL_BOUND + 8);
    let b = this.#scratch;
    let fg = 0, bg = 0, attrs = 0;
    for (let x = 0; x < last; x++) {
      const o = x * CELL_WORDS;
      const w3 = d[o + 3];
      const cf = d[o + 1], cb = d[o + 2], ca = w3 & 0xff;
      if (cf !== fg || cb !== bg || ca !== attrs) {
        fg = cf;
        bg = cb;
        attrs = ca;
        this.#sgr(fg, bg, attrs);
      }
      const cp = d[o];
      const multi = row.multi?.get(x);
      if ((w3 & (FLAG_FALLBACK | FLAG_WIDE)) === 0 && cp < 0x80 && multi === undefined) {
        b[this.#len++] = cp === 0 ? 0x20 : cp; // one ASCII cell
        continue;
      }
      if (w3 & FLAG_FALLBACK) this.#codePoint(0xa0);
      if (cp === 0) b[this.#len++] = 0x20;
      else if (multi !== undefined) {
        this.#ensure(multi.length * 3 + (last - x) * CELL_BOUND + 8);
        b = this.#scratch;
        for (const ch of multi) this.#codePoint(ch.codePointAt(0)!);
      } else this.#codePoint(cp);
      if (w3 & FLAG_WIDE) x++;
    }
    if (fg !== 0 || bg !== 0 || attrs !== 0) this.#ascii("\x1b[0m");
    const n = this.#len + 1;
    const chunk = this.#room(n);
    const at = this.#used;
    chunk[at] = flags;
    const s = this.#scratch;
    if (n <= 64) { for (let i = 1; i < n; i++) chunk[at + i] = s[i - 1]; }
    else chunk.set(s.subarray(0, n - 1), at + 1);
    this.#commit(n);
  }

  /**
   * The fast path, for a row (without combined cells) whose first `last` cells are all plain
   * ASCII in the default rendition: what `seq` and most logs scroll off. Its line is one byte
   * per cell with no SGR, written straight into the chunk. Returns false, having stored nothing,
   * at the first other cell (the general path then encodes the row).
   */
  #storePlain(d: Uint32Array, last: number, flags: number): boolean {
    const n = last + 1;
    const chunk = this.#room(n);
    const at = this.#used;
    const end = last * CELL_WORDS;
    for (let o = 0, p = at + 1; o < end; o += CELL_WORDS, p++) {
      const cp = d[o];
      if (cp >= 0x80 || (d[o + 1] | d[o + 2] | (d[o + 3] & NOT_PLAIN)) !== 0) return false;
      chunk[p] = cp === 0 ? 0x20 : cp;
    }
    chunk[at] = flags;
    this.#commit(n);
    return true;
  }

  /** The last chunk, with room for `n` more bytes at `#used` (a new chunk when it has not). */
  #room(n: number): Uint8Array {
    const chunk = this.#chunks[this.#chunks.length - 1];
    if (this.#used + n <= chunk.length) return chunk;
    // Chunks before the one holding the oldest line held are no longer needed.
    // One such chunk is kept for reuse: a flood then stores its lines without allocating.
    if (this.#end > 0) {
      const oldest = this.#chunkOf[this.#end > this.capacity ? this.#endSlot : 0];
      while (this.#firstChunk < oldest) {
        const gone = this.#chunks.shift()!;
        if (gone.length === CHUNK_SIZE) this.#spare = gone;
        this.#firstChunk++;
      }
    }
    let next: Uint8Array;
    if (n <= CHUNK_SIZE && this.#spare !== null) {
      next = this.#spare;
      this.#spare = null;
    } else next = new Uint8Array(Math.max(CHUNK_SIZE, n));
    this.#chunks.push(next);
    this.#used = 0;
    return next;
  }

  /** The `n` bytes written at `#used` of the last chunk become line `#end`. */
  #commit(n: number): void {
    const slot = this.#endSlot;
    this.#endSlot = slot + 1 === this.capacity ? 0 : slot + 1;
    this.#chunkOf[slot] = this.#firstChunk + this.#chunks.length - 1;
    this.#offset[slot] = this.#used;
    this.#wireLength[slot] = n;
    this.#used += n;
    this.#end++;
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#scratch.length) return;
    const grown = new Uint8Array(Math.max(this.#scratch.length * 2, this.#len + n));
    grown.set(this.#scratch.subarray(0, this.#len));
    this.#scratch = grown;
  }

  // The writers below do not check the scratch buffer's room: `pushRow` ensured it.

  #ascii(s: string): void {
    const b = this.#scratch;
    for (let i = 0; i < s.length; i++) b[this.#len++] = s.charCodeAt(i);
  }

  #codePoint(cp: number): void {
    const b = this.#scratch;
    if (cp < 0x80) b[this.#len++] = cp;
    else if (cp < 0x800) {
      b[this.#len++] = 0xc0 | (cp >> 6);
      b[this.#len++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      b[this.#len++] = 0xe0 | (cp >> 12);
      b[this.#len++] = 0x80 | ((cp >> 6) & 0x3f);
      b[this.#len++] = 0x80 | (cp & 0x3f);
    } else {
      b[this.#len++] = 0xf0 | (cp >> 18);
      b[this.#len++] = 0x80 | ((cp >> 12) & 0x3f);
      b[this.#len++] = 0x80 | ((cp >> 6) & 0x3f);
      b[this.#len++] = 0x80 | (cp & 0x3f);
    }
  }

  /** `n` (a cell word: at most 10 digits) in decimal. */
  #num(n: number): void {
    if (n >= 1000) return this.#ascii(String(n)); // not a colour the emulator stores
    const b = this.#scratch;
    if (n >= 100) b[this.#len++] = 0x30 + ((n / 100) | 0);
    if (n >= 10) b[this.#len++] = 0x30 + (((n / 10) | 0) % 10);
    b[this.#len++] = 0x30 + (n % 10);
  }

  #byte(v: number): void {
    this.#scratch[this.#len++] = v;
  }

  /** `CSI 0 ; attributes ; foreground ; background m`, as the display diff writes it. */
  #sgr(fg: number, bg: number, attrs: number): void {
    this.#byte(ESC);
    this.#ascii("[0");
    if (attrs & ATTR_BOLD) this.#ascii(";1");
    if (attrs & ATTR_ITALIC) this.#ascii(";3");
    if (attrs & ATTR_UNDERLINE) this.#ascii(";4");
    if (attrs & ATTR_BLINK) this.#ascii(";5");
    if (attrs & ATTR_INVERSE) this.#ascii(";7");
    if (attrs & ATTR_INVISIBLE) this.#ascii(";8");
    if (fg !== 0) this.#colour(fg, 30);
    if (bg !== 0) this.#colour(bg, 40);
    this.#byte(0x6d);
  }

  /** `;3x`, `;38;5;n` or `;38;2;r;g;b` (base 30), or the background forms (base 40). */
  #colour(c: number, base: number): void {
    this.#byte(SEMI);
    if (c & TRUE_COLOR) {
      this.#num(base + 8);
      this.#ascii(";2;");
      this.#num((c >> 16) & 0xff);
      this.#byte(SEMI);
      this.#num((c >> 8) & 0xff);
      this.#byte(SEMI);
      this.#num(c & 0xff);
      return;
    }
    const index = c - base;
    if (index < 8) this.#num(base + index);
    else {
      this.#num(base + 8);
      this.#ascii(";5;");
      this.#num(index);
    }
  }
}

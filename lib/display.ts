/**
 * The display diff: the escape sequences that turn one screen into another
 * (docs/PROTOCOL.md §10, `Display::new_frame`).
 *
 * The server sends `diffFrames(old, new)` to the client as `hostbytes`, and the client's emulator
 * (ours, or C mosh's) must end up with exactly the new framebuffer; the client uses the same
 * function, with its terminal's terminfo capabilities, to paint the real terminal. Output order
 * is mosh's: bell, title, clipboard, reverse video, size (clear), cursor hide, row shifts, rows,
 * cursor position, cursor visibility, renditions, then the bracketed-paste, mouse and focus modes.
 *
 * While writing we track what the receiver holds: its cursor (row and column may each be
 * unknown), the pending-wrap state after the last column is printed, where its combining
 * character would go, its pen (renditions) and a model of its rows. Everything emitted is in
 * the subset mosh 1.4.0's emulator implements, with the same meaning (§9.3, §9.4):
 *
 * - Rows that moved (scrolling, scrolling regions, IL/DL) are found by comparing cells; row
 *   identity and generation only speed the search up. A shift is sent as IL/DL, LF/RI at an
 *   edge, or inside a DECSTBM region, when that is cheaper than redrawing the rows.
 * - Cells are compared one by one against the model. Empty cells are produced by erasing (ECH,
 *   EL), so they stay empty rather than becoming spaces; a wide character blanks the cell after
 *   it; a cell of combining marks alone ("fallback") is made by erasing the cell right after an
 *   explicit move, which points the emulator's combining cell at it, then printing the marks.
 * - A row's wrap flag is produced the only way the emulator sets it: by printing the row's last
 *   column and then the next row's first cell ("hand-over"). A wrap in the bottom row would
 *   scroll, so a bottom row that must wrap is built in the row above and moved down with RI.
 *   (On screens narrower than 3 columns or lower than 2 rows the emulator can hold wrap flags
 *   that no byte sequence recreates; those rows are drawn without them.)
 * - After printing the last column the cursor column is unknown (the emulator holds the cursor
 *   there with the wrap pending), so the next move is absolute; this fixes the slip of C mosh's
 *   encoder (§10, cursor-move encoder).
 *
 * The output is built in one reusable buffer, code points are encoded to UTF-8 directly, and
 * rows that are the same object as the model's are skipped without looking at their cells.
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
  FLAG_MULTI,
  FLAG_WIDE,
  FLAG_WRAP,
  type Framebuffer,
  Row,
  TRUE_COLOR,
} from "./framebuffer.ts";

/** Capabilities of the receiving terminal. All default to true: the server's wire diff. */
export interface DiffOptions {
  /** The terminal has ECH (`CSI n X`, terminfo `ech`). */
  ech?: boolean;
  /** Erasing fills with the current background colour (terminfo `bce`). */
  bce?: boolean;
  /** The terminal shows window titles (OSC 0/1/2). */
  title?: boolean;
  /**
   * The receiver is mosh's emulator and must end up with exactly `next` (the wire). False when
   * painting a real terminal: a cell holding only combining marks is then drawn as U+00A0
   * followed by the marks, as C mosh draws it, because real terminals attach a combining mark
   * to the previously printed character rather than to the cursor cell.
   */
  exact?: boolean;
  /**
   * The receiver's own scrollback must receive nothing from the screen (our scrollback
   * extension, lib/history_writer.ts): rows are never shifted by scrolling the whole screen, and
   * a full repaint clears without ED at the home position (tmux's `scroll-on-clear` would push
   * the screen into its history). Default false.
   */
  scrollback?: boolean;
}

const ESC = 0x1b;
const LBRACKET = 0x5b;
const SEMI = 0x3b;
const MIN_SHIFT_GAIN = 1;
const EMPTY = new Uint8Array(0);

/** A wide character (U+3000 IDEOGRAPHIC SPACE) put down only to blank the cell after it. */
const WIDE_STAND_IN = 0x3000;

/** Number of decimal digits of a non-negative integer. */
function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
}

/** Length of `CSI n <final>` where n = 1 is omitted. */
function csiLen(n: number): number {
  return n === 1 ? 3 : 3 + digits(n);
}

/** Length of the CUP to (y, x), 0-based. */
function cupLen(y: number, x: number): number {
  if (x === 0) return y === 0 ? 3 : 3 + digits(y + 1);
  return 4 + digits(y + 1) + digits(x + 1);
}

let blankCache: Row | null = null;

/** A blank row of width `w` with generation 0 (never a terminal's); never mutated. */
function blankRow(w: number): Row {
  if (blankCache === null || blankCache.width !== w) blankCache = new Row(w, 0, 0);
  return blankCache;
}

/** Cells equal (contents, renditions, flags) and same width. */
function rowsEqual(a: Row, b: Row): boolean {
  return a === b || a.sameCells(b);
}

/** Columns up to the last cell with contents or a background colour: a redraw cost estimate. */
function ink(r: Row): number {
  const d = r.data;
  for (let i = d.length - CELL_WORDS; i >= 0; i -= CELL_WORDS) {
    if (d[i] !== 0 || d[i + 2] !== 0) return i / CELL_WORDS + 1;
  }
  return 0;
}

/**
 * The writer: output buffer plus what the receiving terminal holds. One instance is reused by
 * every call (the diff is synchronous, so calls never interleave).
 */
class Painter {
  buf = new Uint8Array(1 << 14);
  len = 0;
  w = 0;
  h = 0;
  ech = true;
  bce = true;
  exact = true;

  // The receiver's state.
  /** Cursor row, or -1 when unknown. */
  cy = 0;
  /** Cursor column, or -1 when unknown (after printing the last column or a shift by LF). */
  cx = 0;
  /** The row whose last column was just printed, leaving the wrap pending; -1 otherwise. */
  wrapRow = -1;
  /** An explicit move put the emulator's combining cell under the cursor. */
  combAtCursor = false;
  shown = true;
  fg = 0;
  bg = 0;
  attrs = 0;

  /** A row whose next-to-last cell holds the wide stand-in until the hand-over is done. */
  fixRow: Row | null = null;
  fixY = 0;
  /** The shift `bestShift` chose: rows shiftTop..shiftBottom move up by shiftBy (down if < 0). */
  shiftTop = 0;
  shiftBottom = 0;
  shiftBy = 0;

  reset(w: number, h: number, o: DiffOptions | undefined): void {
    this.len = 0;
    this.w = w;
    this.h = h;
    this.ech = o?.ech ?? true;
    this.bce = o?.bce ?? true;
    this.exact = o?.exact ?? true;
    this.wrapRow = -1;
    this.combAtCursor = false;
    this.fixRow = null;
  }

  take(): Uint8Array {
    return this.len === 0 ? EMPTY : this.buf.slice(0, this.len);
  }

  // ------------------------------------------------------------------------ output primitives

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  /** ASCII text (escape sequences). */
  ascii(s: string): void {
    this.ensure(s.length);
    const buf = this.buf;
    let p = this.len;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.len = p;
  }

  /** A decimal number; the caller has ensured room. */
  num(n: number): void {
    const buf = this.buf;
    if (n >= 10) {
      const nd = digits(n);
      let p = this.len + nd;
      this.len = p;
      while (n > 0) {
        buf[--p] = 0x30 + n % 10;
        n = (n / 10) | 0;
      }
    } else {
      buf[this.len++] = 0x30 + n;
    }
  }

  /** `CSI n <final>`, with n omitted when it is 1. */
  csi(n: number, final: number): void {
    this.ensure(8);
    const buf = this.buf;
    buf[this.len++] = ESC;
    buf[this.len++] = LBRACKET;
    if (n !== 1) this.num(n);
    buf[this.len++] = final;
  }

  /** One code point as UTF-8; the caller has ensured room. */
  cp(c: number): void {
    const buf = this.buf;
    let p = this.len;
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
    this.len = p;
  }

  /** A string as UTF-8. */
  text(s: string): void {
    this.ensure(s.length * 3);
    for (let i = 0; i < s.length; i++) {
      const c = s.codePointAt(i)!;
      if (c > 0xffff) i++;
      this.cp(c);
    }
  }

  // ------------------------------------------------------------------------ renditions

  /** Sets the receiver's pen, in mosh's SGR form (§9.3), if it differs. */
  pen(fg: number, bg: number, attrs: number): void {
    if (fg === this.fg && bg === this.bg && attrs === this.attrs) return;
    this.sgr(fg, bg, attrs);
  }

  /** `CSI 0 ; attributes ; foreground ; background m`. */
  sgr(fg: number, bg: number, attrs: number): void {
    this.fg = fg;
    this.bg = bg;
    this.attrs = attrs;
    this.ensure(64); // at most 50: six attributes and two true colours
    const buf = this.buf;
    let p = this.len;
    buf[p++] = ESC;
    buf[p++] = LBRACKET;
    buf[p++] = 0x30;
    if (attrs !== 0) {
      if (attrs & ATTR_BOLD) (buf[p++] = SEMI, buf[p++] = 0x31);
      if (attrs & ATTR_ITALIC) (buf[p++] = SEMI, buf[p++] = 0x33);
      if (attrs & ATTR_UNDERLINE) (buf[p++] = SEMI, buf[p++] = 0x34);
      if (attrs & ATTR_BLINK) (buf[p++] = SEMI, buf[p++] = 0x35);
      if (attrs & ATTR_INVERSE) (buf[p++] = SEMI, buf[p++] = 0x37);
      if (attrs & ATTR_INVISIBLE) (buf[p++] = SEMI, buf[p++] = 0x38);
    }
    this.len = p;
    if (fg !== 0) this.colour(fg, 30);
    if (bg !== 0) this.colour(bg, 40);
    this.buf[this.len++] = 0x6d; // m
  }

  /** `;3x`, `;38;5;n` or `;38;2;r;g;b` (base 30), or the background forms (base 40). */
  colour(c: number, base: number): void {
    const buf = this.buf;
    if (c & TRUE_COLOR) {
      buf[this.len++] = SEMI;
      this.num(base + 8);
      buf[this.len++] = SEMI;
      buf[this.len++] = 0x32;
      buf[this.len++] = SEMI;
      this.num((c >> 16) & 0xff);
      buf[this.len++] = SEMI;
      this.num((c >> 8) & 0xff);
      buf[this.len++] = SEMI;
      this.num(c & 0xff);
      return;
    }
    const index = c - base;
    buf[this.len++] = SEMI;
    if (index < 8) {
      this.num(base + index);
    } else {
      this.num(base + 8);
      buf[this.len++] = SEMI;
      buf[this.len++] = 0x35;
      buf[this.len++] = SEMI;
      this.num(index);
    }
  }

  // ------------------------------------------------------------------------ cursor

  /** Hides the receiver's cursor before drawing elsewhere (C's "silent move"). */
  hide(): void {
    if (this.shown) {
      this.ascii("\x1b[?25l");
      this.shown = false;
    }
  }

  /**
   * Moves the cursor to (y, x) with the shortest sequence; `silent` hides it first. `force`
   * emits a move even when already there, to point the combining cell at the cursor.
   */
  moveTo(y: number, x: number, silent: boolean, force = false): void {
    const cy = this.cy, cx = this.cx;
    if (cy === y && cx === x) {
      if (!force || this.combAtCursor) return;
      // Already there, but the combining cell is elsewhere: an explicit move in place.
      if (x === 0) this.ascii("\r");
      else this.csi(x + 1, 0x47); // CHA
      this.combAtCursor = true;
      return;
    }
    if (silent) this.hide();
    this.ensure(16);
    const buf = this.buf;
    // Candidates, cheapest wins: CUP; CR + LFs to column 0; on the same row BS, CUF/CUB or CHA;
    // on the same column LFs, CUD or CUU.
    let best = cupLen(y, x), kind = 0;
    if (cy >= 0) {
      if (x === 0 && y >= cy && y - cy < 5) {
        const c = (cx === 0 ? 0 : 1) + y - cy;
        if (c < best) (best = c, kind = 1);
      }
      if (y === cy) {
        const c = csiLen(x + 1);
        if (c < best) (best = c, kind = 2);
        if (cx >= 0) {
          const dx = x - cx;
          if (dx < 0 && -dx < best) (best = -dx, kind = 3);
          if (dx !== 0 && csiLen(dx < 0 ? -dx : dx) < best) {
            (best = csiLen(dx < 0 ? -dx : dx), kind = 4);
          }
        }
      } else if (cx === x && cx >= 0) {
        const dy = y - cy;
        if (dy > 0 && dy < best) (best = dy, kind = 5);
        if (csiLen(dy < 0 ? -dy : dy) < best) kind = 6;
      }
    }
    switch (kind) {
      case 0:
        buf[this.len++] = ESC;
        buf[this.len++] = LBRACKET;
        if (y !== 0 || x !== 0) this.num(y + 1);
        if (x !== 0) {
          buf[this.len++] = SEMI;
          this.num(x + 1);
        }
        buf[this.len++] = 0x48; // H
        break;
      case 1:
        if (cx !== 0) buf[this.len++] = 0x0d;
        for (let i = cy; i < y; i++) buf[this.len++] = 0x0a;
        break;
      case 2:
        this.csi(x + 1, 0x47); // CHA
        break;
      case 3:
        for (let i = x; i < cx; i++) buf[this.len++] = 0x08;
        break;
      case 4:
        this.csi(x > cx ? x - cx : cx - x, x > cx ? 0x43 : 0x44); // CUF / CUB
        break;
      case 5:
        for (let i = cy; i < y; i++) buf[this.len++] = 0x0a;
        break;
      case 6:
        this.csi(y > cy ? y - cy : cy - y, y > cy ? 0x42 : 0x41); // CUD / CUU
        break;
    }
    this.cy = y;
    this.cx = x;
    this.wrapRow = -1;
    this.combAtCursor = true;
  }

  /** Moves to row `y` at any column (for IL/DL, which also go to column 0). */
  moveToRow(y: number): void {
    if (this.cy !== y) this.moveTo(y, 0, true);
  }

  /** After printing `width` columns at (y, x): the emulator's cursor and pending wrap. */
  advance(y: number, x: number, width: number): void {
    const nx = x + width;
    this.cy = y;
    if (nx >= this.w) {
      this.cx = -1;
      this.wrapRow = x < this.w ? y : -1;
    } else {
      this.cx = nx;
      this.wrapRow = -1;
    }
    this.combAtCursor = false;
  }

  /**
   * Prints a cell's grapheme at (y, x) with its renditions. A wide character in the last column
   * (left there by autowrap being off) is printed with autowrap off too, or it would wrap.
   */
  printAt(
    y: number,
    x: number,
    c0: number,
    c1: number,
    c2: number,
    c3: number,
    multi: Map<number, string> | null,
  ): void {
    this.moveTo(y, x, true);
    this.pen(c1, c2, c3 & ATTR_MASK);
    const wide = (c3 & FLAG_WIDE) !== 0;
    if (wide && x === this.w - 1) {
      this.ascii("\x1b[?7l");
      this.contents(c0, c3, multi, x);
      this.ascii("\x1b[?7h"); // the wrap stays pending, as after any print in the last column
    } else {
      this.contents(c0, c3, multi, x);
    }
    this.advance(y, x, wide ? 2 : 1);
  }

  /** The contents of a cell: its code point, or the whole string of a multi-code-point cell. */
  contents(c0: number, c3: number, multi: Map<number, string> | null, x: number): void {
    if (c3 & FLAG_MULTI) {
      this.text(multi!.get(x)!);
    } else {
      this.ensure(4);
      this.cp(c0);
    }
  }

  // ------------------------------------------------------------------------ row shifts

  /**
   * Finds rows of `next` that sit elsewhere in `cur` and moves them with scrolling operations
   * when that is cheaper than redrawing. Returns the model rows after the shifts.
   */
  shiftRows(lastRows: readonly Row[], next: Framebuffer): readonly Row[] {
    const nr = next.rows, h = this.h;
    let candidates = false;
    for (let y = 0; y < h; y++) {
      const n = nr[y], o = lastRows[y];
      if (n !== o && n.gen !== o.gen) {
        candidates = true;
        break;
      }
    }
    if (!candidates) return lastRows;
    let cur = lastRows;
    for (let round = 0; round < 4; round++) {
      const runs = this.bestShift(cur, nr);
      if (runs === 0) break;
      if (cur === lastRows) cur = lastRows.slice();
      this.applyShift(cur as Row[], this.shiftTop, this.shiftBottom, this.shiftBy);
      if (runs === 1) break; // nothing else moved
    }
    return cur;
  }

  /**
   * Finds the most profitable shift and leaves it in shiftTop, shiftBottom and shiftBy (> 0 =
   * up). Returns the number of profitable shifts seen (0 = none).
   */
  bestShift(cur: readonly Row[], nr: readonly Row[]): number {
    const h = this.h;
    let runs = 0, bestNet = MIN_SHIFT_GAIN - 1;
    let y = 0;
    while (y < h) {
      const n = nr[y], c = cur[y];
      if (n === c || n.gen === c.gen) {
        y++;
        continue;
      }
      // Where the row was: by generation (a hint, checked), else by contents.
      const gen = n.gen;
      let s = -1;
      for (let k = 0; k < h; k++) {
        if (cur[k].gen === gen) {
          if (rowsEqual(n, cur[k])) s = k;
          break;
        }
      }
      if (s < 0) {
        if (ink(n) === 0 || n.sameCells(c)) {
          y++;
          continue;
        }
        s = this.findRow(cur, n, y);
        if (s < 0) {
          y++;
          continue;
        }
      }
      const d = s - y;
      let a = y, b = y;
      while (a > 0 && a - 1 + d >= 0 && rowsEqual(nr[a - 1], cur[a - 1 + d])) a--;
      while (b + 1 < h && b + 1 + d < h && rowsEqual(nr[b + 1], cur[b + 1 + d])) b++;
      const top = d > 0 ? a : a + d, bottom = d > 0 ? b + d : b;
      // Rows the shift blanks that were already right must be drawn again.
      let loss = this.shiftCost(top, bottom, d);
      const v0 = d > 0 ? b + 1 : top, v1 = d > 0 ? bottom : a - 1;
      for (let j = v0; j <= v1; j++) if (rowsEqual(nr[j], cur[j])) loss += ink(nr[j]);
      // What redrawing the rows would cost, counted only up to a cap to keep this cheap.
      const cap = loss + 4 * this.w;
      let gain = 0;
      for (let j = a; j <= b && gain < cap; j++) {
        const k = ink(nr[j]);
        if (k > 0 && !rowsEqual(nr[j], cur[j])) gain += k;
      }
      const net = gain - loss;
      if (net >= MIN_SHIFT_GAIN) runs++;
      if (net > bestNet) {
        bestNet = net;
        this.shiftTop = top;
        this.shiftBottom = bottom;
        this.shiftBy = d;
      }
      y = b + 1;
    }
    return runs;
  }

  /** A row of `cur` other than `y` with the same cells as `n`, nearest to `y` first; or -1. */
  findRow(cur: readonly Row[], n: Row, y: number): number {
    const h = this.h, nd = n.data;
    const n0 = nd[0], n1 = nd[1], n2 = nd[2], n3 = nd[3];
    for (let k = 1; k < h; k++) {
      for (let s = y - k; s <= y + k; s += 2 * k) {
        if (s < 0 || s >= h) continue;
        const od = cur[s].data;
        if (od[0] === n0 && od[1] === n1 && od[2] === n2 && od[3] === n3 && n.sameCells(cur[s])) {
          return s;
        }
      }
    }
    return -1;
  }

  /** Estimated bytes of shifting rows top..bottom by d (the encodings of `applyShift`). */
  shiftCost(top: number, bottom: number, d: number): number {
    const n = d > 0 ? d : -d;
    const op = csiLen(n);
    if (bottom === this.h - 1) return (this.cy === top ? 0 : cupLen(top, 0)) + op;
    const region = 5 + digits(top + 1) + digits(bottom + 1);
    return Math.min(cupLen(top, 0) + cupLen(bottom - n + 1, 0) + 2 * op, region + op + 3);
  }

  /**
   * Shifts the receiver's rows top..bottom by d (d > 0: up, rows leave at the top) and updates
   * the model `cur` the same way; blank default rows come in.
   */
  applyShift(cur: Row[], top: number, bottom: number, d: number): void {
    const h = this.h, n = d > 0 ? d : -d;
    if (this.bg !== 0) this.sgr(0, 0, 0); // rows come in with the pen's background
    if (bottom === h - 1) {
      if (d > 0 && top === 0 && this.cy === h - 1 && n < 4) {
        // LF on the bottom row scrolls the screen; the column is kept.
        this.ensure(n);
        for (let i = 0; i < n; i++) this.buf[this.len++] = 0x0a;
        this.wrapRow = -1;
        this.combAtCursor = true;
      } else if (d < 0 && top === 0 && this.cy === 0 && n < 3) {
        for (let i = 0; i < n; i++) this.ascii("\x1bM"); // RI on the top row
        this.wrapRow = -1;
        this.combAtCursor = true;
      } else {
        this.moveToRow(top);
        this.csi(n, d > 0 ? 0x4d : 0x4c); // DL / IL
        this.cx = 0;
        this.combAtCursor = true;
      }
    } else {
      const region = 5 + digits(top + 1) + digits(bottom + 1);
      const pair = cupLen(top, 0) + cupLen(bottom - n + 1, 0) + csiLen(n);
      if (pair <= region + 3) {
        // Without a region: DL then IL (or IL after DL) so rows below `bottom` end up in place.
        if (d > 0) {
          this.moveToRow(top);
          this.csi(n, 0x4d);
          this.moveToRow(bottom - n + 1);
          this.csi(n, 0x4c);
        } else {
          this.moveToRow(bottom - n + 1);
          this.csi(n, 0x4d);
          this.moveToRow(top);
          this.csi(n, 0x4c);
        }
        this.cx = 0;
        this.combAtCursor = true;
      } else {
        this.hide();
        this.ensure(16);
        this.buf[this.len++] = ESC;
        this.buf[this.len++] = LBRACKET;
        this.num(top + 1);
        this.buf[this.len++] = SEMI;
        this.num(bottom + 1);
        this.buf[this.len++] = 0x72; // DECSTBM homes the cursor
        this.cy = 0;
        this.cx = 0;
        this.combAtCursor = true;
        this.moveToRow(top);
        this.csi(n, d > 0 ? 0x4d : 0x4c);
        this.ascii("\x1b[r");
        this.cy = 0;
        this.cx = 0;
      }
    }
    const blank = blankRow(this.w);
    if (d > 0) {
      for (let j = top; j <= bottom - n; j++) cur[j] = cur[j + n];
      for (let j = bottom - n + 1; j <= bottom; j++) cur[j] = blank;
    } else {
      for (let j = bottom; j >= top + n; j--) cur[j] = cur[j - n];
      for (let j = top; j < top + n; j++) cur[j] = blank;
    }
  }

  // ------------------------------------------------------------------------ rows

  /**
   * Draws row `y` of the new frame over the model row `m`. `handover`: the previous row's last
   * column was just printed and that row must wrap, so this row's first cell is printed first,
   * without moving. Returns true when this row hands over to the next one.
   */
  drawRow(y: number, n: Row, m: Row, handover: boolean): boolean {
    const w = this.w;
    const nd = n.data, nm = n.multi;
    const od = m.data, om = m.multi;
    const lastI = (w - 1) * CELL_WORDS;
    const rowWrap = (nd[lastI + 3] & FLAG_WRAP) !== 0;
    // One model cell may be overridden: the cell blanked by a wide character, or the first cell
    // after a hand-over.
    let ovCol = -1, ov0 = 0, ov1 = 0, ov2 = 0, ov3 = 0;
    let x = 0;
    /** The receiver's last cell was printed, erased or blanked (its wrap flag is now clear). */
    let lastTouched = false;

    if (handover) {
      const c = this.printFirst(y, n);
      if (c === 1) x = 1;
      else if (c === 2) (x = 1, ovCol = 1, ov0 = 0, ov1 = 0, ov2 = nd[2], ov3 = 0);
      else (ovCol = 0, ov0 = 0x20, ov1 = 0, ov2 = nd[2], ov3 = 0);
      if ((c === 2 ? 2 : 1) >= w) lastTouched = true;
      if (this.fixRow !== null) {
        // The previous row's next-to-last cell held a stand-in; draw the real one.
        this.drawCell(this.fixY, w - 2, this.fixRow);
        this.fixRow = null;
      }
    }

    let runStart = -1, runBg = 0, runFg = 0, runAttrs = 0;
    // Without multi-code-point cells, equal words mean equal cells: skip them word by word.
    const plain = nm === null && om === null;
    for (; x < w; x++) {
      if (plain && runStart < 0 && x !== ovCol) {
        const stop = (ovCol > x ? ovCol : w) * CELL_WORDS;
        let j = x * CELL_WORDS;
        while (j < stop && nd[j] === od[j]) j++;
        x = j >> 2;
        if (j === stop) {
          x--;
          continue;
        }
      }
      const i = x * CELL_WORDS;
      const n0 = nd[i], n1 = nd[i + 1], n2 = nd[i + 2], n3 = nd[i + 3];
      let o0: number, o1: number, o2: number, o3: number;
      if (x === ovCol) (o0 = ov0, o1 = ov1, o2 = ov2, o3 = ov3);
      else (o0 = od[i], o1 = od[i + 1], o2 = od[i + 2], o3 = od[i + 3]);
      // Empty cells (not wide, not marks) gather into runs that are erased together; erasing
      // clears the wrap flag, so the last cell of a wrapping row never joins a run.
      const empty = n0 === 0 && (n3 & (FLAG_WIDE | FLAG_FALLBACK)) === 0;
      if (runStart >= 0) {
        if (
          empty && n1 === runFg && n2 === runBg && (n3 & ATTR_MASK) === runAttrs &&
          (x !== w - 1 || !rowWrap)
        ) {
          if (x === w - 1) lastTouched = true;
          continue;
        }
        this.eraseRun(y, runStart, x, runFg, runBg, runAttrs);
        runStart = -1;
      }
      if (n0 === o0 && n1 === o1 && n2 === o2) {
        const diff = n3 ^ o3;
        if (diff === 0 || (diff === FLAG_WRAP && (x !== w - 1 || rowWrap))) {
          if ((n3 & FLAG_MULTI) === 0) continue;
          if (x !== ovCol && nm!.get(x) === om!.get(x)) continue;
        }
      }
      if (x === w - 1) lastTouched = true;
      if (empty) {
        runStart = x;
        runFg = n1;
        runBg = n2;
        runAttrs = n3 & ATTR_MASK;
        continue;
      }
      if (n3 & FLAG_FALLBACK) {
        this.drawMarks(y, x, n, o0 === 0 && o1 === n1 && o2 === n2 && (o3 & 0xfff) === 0);
        continue;
      }
      if (
        n0 < 0x80 && this.cx === x && this.cy === y && n1 === this.fg && n2 === this.bg &&
        (n3 & ~FLAG_WRAP) === this.attrs && x + 1 < w
      ) {
        // The common case: an ASCII character right where the cursor is, in the pen's colours.
        this.ensure(1);
        this.buf[this.len++] = n0;
        this.cx = x + 1;
        this.combAtCursor = false;
        continue;
      }
      this.printAt(y, x, n0, n1, n2, n3, nm);
      if (n3 & FLAG_WIDE && x + 1 < w) {
        // The emulator blanked the next cell with the pen's background.
        (ovCol = x + 1, ov0 = 0, ov1 = 0, ov2 = n2, ov3 = 0);
        if (x + 1 === w - 1) lastTouched = true;
      }
    }
    if (runStart >= 0) this.eraseToEnd(y, runStart, runFg, runBg, runAttrs);

    if (!rowWrap || y === this.h - 1) return false;
    // The row must end up wrapped: keep the flag the model has, or set it by a hand-over.
    if (!lastTouched && (od[lastI + 3] & FLAG_WRAP) !== 0 && ovCol !== w - 1) return false;
    if (this.wrapRow === y) return true;
    const end = this.printEnd(y, n);
    if (end === 2) {
      this.fixRow = n;
      this.fixY = y;
    }
    return end !== 0;
  }

  /**
   * Hand-over: with the wrap pending, prints row y's first cell, which wraps the previous row.
   * Returns 1 when the cell is now exact, 2 when it is exact and wide (the next cell is blank),
   * 0 when a space stands in for an empty or marks-only cell.
   */
  printFirst(y: number, n: Row): number {
    const nd = n.data, c0 = nd[0], c3 = nd[3];
    if (c0 !== 0 && (c3 & FLAG_FALLBACK) === 0) {
      this.pen(nd[1], nd[2], c3 & ATTR_MASK);
      this.contents(c0, c3, n.multi, 0);
      const width = c3 & FLAG_WIDE ? 2 : 1;
      this.advance(y, 0, width);
      return width === 2 && this.w > 1 ? 2 : 1;
    }
    this.pen(0, nd[2], 0);
    this.ensure(1);
    this.buf[this.len++] = 0x20;
    this.advance(y, 0, 1);
    return 0;
  }

  /**
   * Prints the end of row y again (its other cells are drawn) so that the wrap is pending there
   * with the last cells as in `n`: the last cell, or the wide character before an empty last
   * cell. Returns 1 on success, 2 when a wide stand-in was put in the next-to-last cell (the
   * caller must draw the real one after the wrap), 0 if impossible.
   */
  printEnd(y: number, n: Row): number {
    const w = this.w, nd = n.data, li = (w - 1) * CELL_WORDS, pi = li - CELL_WORDS;
    const wideBefore = w >= 2 && (nd[pi + 3] & FLAG_WIDE) !== 0 && nd[pi] !== 0;
    if (nd[li] !== 0) {
      if (nd[li + 3] & FLAG_FALLBACK) this.drawMarks(y, w - 1, n, false);
      else this.printAt(y, w - 1, nd[li], nd[li + 1], nd[li + 2], nd[li + 3], n.multi);
      return 1;
    }
    if (w < 2) return 0;
    if (
      wideBefore && nd[li + 1] === 0 && nd[li + 2] === nd[pi + 2] && (nd[li + 3] & ATTR_MASK) === 0
    ) {
      this.printAt(y, w - 2, nd[pi], nd[pi + 1], nd[pi + 2], nd[pi + 3], n.multi);
      return 1;
    }
    // An empty last cell the emulator can only get as the blank half of a wide character.
    this.printAt(y, w - 2, WIDE_STAND_IN, 0, nd[li + 2], FLAG_WIDE, null);
    return 2;
  }

  /** Draws cell (y, x) of `n` over whatever the receiver has there (print, erase or marks). */
  drawCell(y: number, x: number, n: Row): void {
    const nd = n.data, i = x * CELL_WORDS, c3 = nd[i + 3];
    if (nd[i] === 0) {
      this.moveTo(y, x, true);
      if (this.ech && (this.bce || nd[i + 2] === 0)) {
        if (this.bg !== nd[i + 2]) this.pen(0, nd[i + 2], 0);
        this.csi(1, 0x58); // ECH
      } else {
        this.pen(nd[i + 1], nd[i + 2], c3 & ATTR_MASK);
        this.ensure(1);
        this.buf[this.len++] = 0x20;
        this.advance(y, x, 1);
      }
    } else if (c3 & FLAG_FALLBACK) {
      this.drawMarks(y, x, n, false);
    } else {
      this.printAt(y, x, nd[i], nd[i + 1], nd[i + 2], c3, n.multi);
    }
  }

  /**
   * A wrap in the bottom row would scroll the screen, so a bottom row that must wrap is drawn
   * in the row above it, wrapped there, and moved down with RI inside a region of those two
   * rows; the row above is then drawn like a new row. Runs before the other rows are drawn.
   */
  wrapBottom(model: readonly Row[], rows: readonly Row[]): readonly Row[] {
    const h = this.h, w = this.w;
    const n = rows[h - 1], m = model[h - 1], nd = n.data, md = m.data;
    if (!n.wrap || w < 2 || h < 2) return model;
    let same = true;
    for (let i = nd.length - 2 * CELL_WORDS; i < nd.length; i++) if (nd[i] !== md[i]) same = false;
    for (let x = w - 2; x < w; x++) if (n.contents(x) !== m.contents(x)) same = false;
    if (same) return model;
    if (this.drawRow(h - 2, n, model[h - 2], false)) {
      this.printFirst(h - 1, n); // the row that received the wrap leaves at the bottom
      if (this.fixRow !== null) {
        this.drawCell(this.fixY, w - 2, this.fixRow);
        this.fixRow = null;
      }
    }
    if (this.bg !== 0) this.sgr(0, 0, 0); // the row coming in takes the pen's background
    this.hide();
    if (h > 2) {
      this.ensure(16);
      this.buf[this.len++] = ESC;
      this.buf[this.len++] = LBRACKET;
      this.num(h - 1);
      this.buf[this.len++] = SEMI;
      this.num(h);
      this.buf[this.len++] = 0x72; // DECSTBM homes the cursor
      this.cy = this.cx = 0;
    }
    this.moveTo(h - 2, 0, true);
    this.ascii("\x1bM"); // RI at the region's top scrolls it down
    if (h > 2) {
      this.ascii("\x1b[r");
      this.cy = this.cx = 0;
    }
    this.combAtCursor = true;
    const out = model.slice();
    out[h - 2] = blankRow(w);
    out[h - 1] = n;
    return out;
  }

  /**
   * Makes cell (y, x) of `n` hold its combining marks alone. An explicit move points the
   * emulator's combining cell at the cursor cell, ECH empties it (unless `alreadyEmpty`), and
   * the marks then attach to it with the fallback flag. When not exact (a real terminal),
   * U+00A0 carries the marks instead, as in C mosh.
   */
  drawMarks(y: number, x: number, n: Row, alreadyEmpty: boolean): void {
    const nd = n.data, i = x * CELL_WORDS, c3 = nd[i + 3];
    if (!this.exact || !this.ech) {
      this.moveTo(y, x, true);
      this.pen(nd[i + 1], nd[i + 2], c3 & ATTR_MASK);
      this.ensure(2);
      this.cp(0xa0);
    } else {
      this.moveTo(y, x, true, true);
      if (!alreadyEmpty) {
        this.pen(nd[i + 1], nd[i + 2], c3 & ATTR_MASK);
        this.csi(1, 0x58); // ECH
      }
    }
    this.contents(nd[i], c3, n.multi, x);
    this.advance(y, x, 1);
  }

  /** Erases cells [from, to) of row y (not reaching the end of the line). */
  eraseRun(y: number, from: number, to: number, fg: number, bg: number, attrs: number): void {
    this.moveTo(y, from, true);
    const count = to - from;
    if (this.ech && (this.bce || bg === 0)) {
      if (this.bg !== bg) this.pen(0, bg, 0);
      this.csi(count, 0x58); // ECH: the cursor stays
    } else {
      this.pen(fg, bg, attrs);
      this.ensure(count);
      for (let i = 0; i < count; i++) this.buf[this.len++] = 0x20;
      this.advance(y, from, count);
    }
  }

  /** Erases row y from `from` to the end of the line. */
  eraseToEnd(y: number, from: number, fg: number, bg: number, attrs: number): void {
    this.moveTo(y, from, true);
    if (this.bce || bg === 0) {
      if (this.bg !== bg) this.pen(0, bg, 0);
      this.ascii("\x1b[K");
    } else {
      const count = this.w - from;
      this.pen(fg, bg, attrs);
      this.ensure(count);
      for (let i = 0; i < count; i++) this.buf[this.len++] = 0x20;
      this.advance(y, from, count);
    }
  }
}

const painter = new Painter();

/**
 * The escape sequences that turn a terminal showing `last` into one showing `next` (mosh's
 * `Display::new_frame`, §10). `last === null` repaints everything (new_frame with initialized
 * false, without smcup): the receiver is cleared first. Options describe the receiving terminal;
 * the defaults are the server's wire diff for mosh's emulator.
 */
export function diffFrames(
  last: Framebuffer | null,
  next: Framebuffer,
  options?: DiffOptions,
): Uint8Array {
  if (last === next) return EMPTY;
  const p = painter;
  const w = next.width, h = next.height;
  p.reset(w, h, options);
  let initialized = last !== null;

  // 1-4: bell, title, clipboard, reverse video.
  if (last !== null && last.bellCount !== next.bellCount) p.ascii("\x07");
  if (
    (options?.title ?? true) && next.titleInitialized &&
    (last === null || !last.titleInitialized || last.iconName !== next.iconName ||
      last.windowTitle !== next.windowTitle)
  ) {
    if (next.iconName === next.windowTitle) {
      p.ascii("\x1b]0;");
      p.text(next.windowTitle);
      p.ascii("\x07");
    } else {
      p.ascii("\x1b]1;");
      p.text(next.iconName);
      p.ascii("\x07\x1b]2;");
      p.text(next.windowTitle);
      p.ascii("\x07");
    }
  }
  if ((last === null ? "" : last.clipboard) !== next.clipboard) {
    p.ascii("\x1b]52;c;");
    p.text(next.clipboard);
    p.ascii("\x07");
  }
  if (last === null || last.reverseVideo !== next.reverseVideo) {
    p.ascii(next.reverseVideo ? "\x1b[?5h" : "\x1b[?5l");
  }

  // 5-6: size; where the receiver's cursor and pen are.
  if (last === null || last.width !== w || last.height !== h) {
    p.ascii(
      !options?.scrollback
        ? "\x1b[r\x1b[0m\x1b[H\x1b[2J\x1b[?25l"
        : h > 1
        ? "\x1b[r\x1b[0m\x1b[H\x1b[2K\x1b[2H\x1b[J\x1b[H\x1b[?25l"
        : "\x1b[r\x1b[0m\x1b[H\x1b[2K\x1b[?25l",
    );
    initialized = false;
    p.cy = 0;
    p.cx = 0;
    p.fg = p.bg = p.attrs = 0;
    p.shown = false;
  } else {
    p.cy = last.cursorRow;
    p.cx = last.cursorCol;
    p.fg = last.fg;
    p.bg = last.bg;
    p.attrs = last.attrs;
    p.shown = last.cursorVisible;
  }

  // 7-9: rows.
  const rows = next.rows;
  let model = !initialized
    ? new Array<Row>(h).fill(blankRow(w))
    : options?.scrollback
    ? last!.rows
    : p.shiftRows(last!.rows, next);
  if (rows[h - 1].wrap) model = p.wrapBottom(model, rows);
  let handover = false;
  for (let y = 0; y < h; y++) {
    const m = model[y], n = rows[y];
    if (n === m && !handover) continue;
    handover = p.drawRow(y, n, m, handover);
  }

  // 10-11: cursor, visibility, pen.
  p.moveTo(next.cursorRow, next.cursorCol, false);
  if (!initialized || p.shown !== next.cursorVisible) {
    p.ascii(next.cursorVisible ? "\x1b[?25h" : "\x1b[?25l");
  }
  p.pen(next.fg, next.bg, next.attrs);

  // 12: modes.
  if (!initialized || last!.bracketedPaste !== next.bracketedPaste) {
    p.ascii(next.bracketedPaste ? "\x1b[?2004h" : "\x1b[?2004l");
  }
  const lastMouse = initialized ? last!.mouseReporting : -1;
  if (lastMouse !== next.mouseReporting) {
    if (next.mouseReporting === 0 || lastMouse === -1) {
      p.ascii("\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l");
    } else if (lastMouse !== 0) {
      p.ascii(`\x1b[?${lastMouse}l`);
    }
    if (next.mouseReporting !== 0) p.ascii(`\x1b[?${next.mouseReporting}h`);
  }
  if (!initialized || last!.mouseFocus !== next.mouseFocus) {
    p.ascii(next.mouseFocus ? "\x1b[?1004h" : "\x1b[?1004l");
  }
  const lastEncoding = initialized ? last!.mouseEncoding : -1;
  if (lastEncoding !== next.mouseEncoding) {
    if (next.mouseEncoding === 0 || lastEncoding === -1) {
      p.ascii("\x1b[?1015l\x1b[?1006l\x1b[?1005l");
    } else if (lastEncoding !== 0) {
      p.ascii(`\x1b[?${lastEncoding}l`);
    }
    if (next.mouseEncoding !== 0) p.ascii(`\x1b[?${next.mouseEncoding}h`);
  }
  return p.take();
}

/** A cell for error messages: contents, renditions and flags. */
function describeCell(r: Row, x: number): string {
  const i = x * CELL_WORDS, d = r.data, w3 = d[i + 3];
  const flags = [
    w3 & FLAG_WIDE ? "wide" : "",
    w3 & FLAG_FALLBACK ? "fallback" : "",
    w3 & FLAG_WRAP ? "wrap" : "",
  ].filter((f) => f).join(",");
  return `${JSON.stringify(r.contents(x))} fg=${d[i + 1].toString(16)} bg=${
    d[i + 2].toString(16)
  } attrs=${(w3 & ATTR_MASK).toString(16)}${flags ? " " + flags : ""}`;
}

/**
 * What `diffFrames` reproduces: null when `a` and `b` show the same thing, else the first
 * difference. Compared: size; every cell's contents, width, fallback flag and renditions; each
 * row's wrap flag; cursor position and visibility; the current renditions; reverse video; the
 * bracketed-paste, mouse, focus and mouse-encoding modes; title, icon name and clipboard. Not
 * compared: row generations, the bell count, alternate scroll (mosh never forwards it), and the
 * wrap bit that ICH/DCH can leave on a cell other than a row's last (§9.5: it is stored per
 * cell, but only the last cell's bit is the row's wrap flag).
 */
export function contentEqual(a: Framebuffer, b: Framebuffer): string | null {
  if (a.width !== b.width || a.height !== b.height) {
    return `size ${a.width}x${a.height} != ${b.width}x${b.height}`;
  }
  const w = a.width;
  for (let y = 0; y < a.height; y++) {
    const ra = a.rows[y], rb = b.rows[y];
    if (ra === rb) continue;
    const da = ra.data, db = rb.data;
    for (let x = 0; x < w; x++) {
      const i = x * CELL_WORDS;
      const mask = x === w - 1 ? 0xffffffff : ~FLAG_WRAP;
      if (
        da[i] !== db[i] || da[i + 1] !== db[i + 1] || da[i + 2] !== db[i + 2] ||
        ((da[i + 3] ^ db[i + 3]) & mask) !== 0 || ra.contents(x) !== rb.contents(x)
      ) {
        return `cell (${y},${x}): ${describeCell(ra, x)} != ${describeCell(rb, x)}`;
      }
    }
  }
  const fields: [string, unknown, unknown][] = [
    ["cursor", `${a.cursorRow},${a.cursorCol}`, `${b.cursorRow},${b.cursorCol}`],
    ["cursor visible", a.cursorVisible, b.cursorVisible],
    ["renditions", `${a.fg},${a.bg},${a.attrs}`, `${b.fg},${b.bg},${b.attrs}`],
    ["reverse video", a.reverseVideo, b.reverseVideo],
    ["bracketed paste", a.bracketedPaste, b.bracketedPaste],
    ["mouse reporting", a.mouseReporting, b.mouseReporting],
    ["mouse focus", a.mouseFocus, b.mouseFocus],
    ["mouse encoding", a.mouseEncoding, b.mouseEncoding],
    ["title initialized", a.titleInitialized, b.titleInitialized],
    ["window title", a.windowTitle, b.windowTitle],
    ["icon name", a.iconName, b.iconName],
    ["clipboard", a.clipboard, b.clipboard],
  ];
  for (const [name, va, vb] of fields) {
    if (va !== vb) return `${name}: ${JSON.stringify(va)} != ${JSON.stringify(vb)}`;
  }
  return null;
}

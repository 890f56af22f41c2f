/**
 * The display diff's painter (docs/PROTOCOL.md §10): one output buffer plus a model of
 * what the receiving terminal holds, and the primitives that write to both: numbers and CSI
 * sequences, UTF-8, renditions in mosh's SGR form (§9.3), the cheapest cursor move, printing a
 * cell, erasing a run of cells and making a cell of combining marks alone.
 *
 * What the receiver holds: its cursor (row and column may each be unknown, -1), the pending
 * wrap after a print in the last column, where its combining character would go, its pen and
 * whether its cursor is shown. Each primitive updates that model exactly as mosh 1.4.0's
 * emulator updates its own state (§9.3, §9.4), so later moves can be relative.
 *
 * For a receiver of the extended attributes (`attributes` set; lib/display_attributes.ts) the pen
 * also holds the extended rendition and the open hyperlink, and a cell's pen comes from its row's
 * extended layer; without it every byte is what it was before that layer existed.
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
  EXT_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  Row,
  TRUE_COLOR,
  XATTR_MASK,
  XATTR_PRESENT,
} from "./framebuffer.ts";
import {
  type AttributeSupport,
  writeExtendedSgr,
  writeLink,
  writeTerminalSgr,
} from "./display_attributes.ts";

export const ESC = 0x1b;
export const LBRACKET = 0x5b;
export const SEMI = 0x3b;
const EMPTY = new Uint8Array(0);

/** Number of decimal digits of a non-negative integer. */
export function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
}

/** Length of `CSI n <final>` where n = 1 is omitted. */
export function csiLen(n: number): number {
  return n === 1 ? 3 : 3 + digits(n);
}

/** Length of the CUP to (y, x), 0-based. */
export function cupLen(y: number, x: number): number {
  if (x === 0) return y === 0 ? 3 : 3 + digits(y + 1);
  return 4 + digits(y + 1) + digits(x + 1);
}

let blankCache: Row | null = null;

/** A blank row of width `w` with generation 0 (never a terminal's); never mutated. */
export function blankRow(w: number): Row {
  if (blankCache === null || blankCache.width !== w) blankCache = new Row(w, 0, 0);
  return blankCache;
}

/**
 * How `moveTo` gets the cursor to its target, cheapest first wins (see `moveTo`). Absolute works
 * from anywhere; the others need the current row (and column) known.
 */
export const MoveKind = {
  /** CUP `CSI row ; col H`. */
  Absolute: 0,
  /** CR (unless already at column 0) then LFs: to column 0 a few rows down. */
  LineFeeds: 1,
  /** CHA `CSI col G` on the same row. */
  Column: 2,
  /** BSs: a few columns left on the same row. */
  Backspaces: 3,
  /** CUF/CUB `CSI n C` / `CSI n D` on the same row. */
  Horizontal: 4,
  /** LFs: a few rows down in the same column. */
  Down: 5,
  /** CUD/CUU `CSI n B` / `CSI n A` in the same column. */
  Vertical: 6,
} as const;

/**
 * The writer: output buffer plus what the receiving terminal holds. The diff reuses one
 * instance for every call (it is synchronous, so calls never interleave), and `reset` starts
 * each call.
 */
export class Painter {
  /** The output so far: `buf[0, len)`, grown as needed and reused by every diff. */
  buf = new Uint8Array(1 << 14);
  len = 0;
  /** Screen size of the current diff. */
  width = 0;
  height = 0;
  /** The receiver's capabilities (see `DiffOptions`). */
  ech = true;
  bce = true;
  exact = true;
  /** The extended attributes the receiver shows; null: none (C mosh's diff, byte for byte). */
  attributes: AttributeSupport | null = null;

  // The receiver's state.
  /** Cursor row, or -1 when unknown. */
  cursorRow = 0;
  /** Cursor column, or -1 when unknown (after printing the last column or a shift by LF). */
  cursorCol = 0;
  /** The row whose last column was just printed, leaving the wrap pending; -1 otherwise. */
  wrapRow = -1;
  /** An explicit move put the emulator's combining cell under the cursor. */
  combAtCursor = false;
  /** The cursor is shown. */
  shown = true;
  /** The pen: renditions the next print uses. */
  fg = 0;
  bg = 0;
  attrs = 0;
  /** With `attributes`: the pen's extended rendition, underline colour and open hyperlink. */
  xattrs = 0;
  ulColor = 0;
  link = "";

  /**
   * Starts a diff for a `w` x `h` screen: empty output, the receiver's capabilities (ECH, BCE,
   * exact emulator, extended attributes: see `DiffOptions`). The caller then sets the cursor and
   * pen it starts from.
   */
  reset(
    w: number,
    h: number,
    ech: boolean,
    bce: boolean,
    exact: boolean,
    attributes: AttributeSupport | null = null,
  ): void {
    this.len = 0;
    this.attributes = attributes;
    this.width = w;
    this.height = h;
    this.ech = ech;
    this.bce = bce;
    this.exact = exact;
    this.wrapRow = -1;
    this.combAtCursor = false;
  }

  /** The output so far, copied out of the reused buffer. */
  take(): Uint8Array {
    return this.len === 0 ? EMPTY : this.buf.slice(0, this.len);
  }

  // ------------------------------------------------------------------------ output primitives

  /** Makes room for `n` more bytes (the writers below that say so rely on it). */
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

  /**
   * Sets the receiver's pen, in mosh's SGR form (§9.3), if it differs; for a receiver of the
   * extended attributes, also without an extended rendition and with no hyperlink open.
   */
  pen(fg: number, bg: number, attrs: number): void {
    // A plain SGR makes the extended layer plain too: only a pen that is not needs more.
    if (
      this.attributes !== null &&
      (this.xattrs !== this.attrs || this.ulColor !== 0 || this.link !== "")
    ) {
      this.penExt(fg, bg, attrs, attrs, 0, "");
      return;
    }
    if (fg === this.fg && bg === this.bg && attrs === this.attrs) return;
    this.sgr(fg, bg, attrs);
  }

  /** The pen of cell `x` of `row` (null: a cell with mosh's renditions alone). */
  cellPen(fg: number, bg: number, attrs: number, row: Row | null, x: number): void {
    const ext = row === null || this.attributes === null ? null : row.ext;
    const w0 = ext === null ? 0 : ext[x * EXT_WORDS];
    if (w0 & XATTR_PRESENT) {
      this.penExt(fg, bg, attrs, w0 & XATTR_MASK, ext![x * EXT_WORDS + 1], row!.link(x));
    } else {
      this.pen(fg, bg, attrs);
    }
  }

  /** True when the pen is the one cell `x` of `row` is printed with (fast paths check it). */
  penFits(row: Row, x: number): boolean {
    if (this.attributes === null) return true;
    const ext = row.ext;
    const w0 = ext === null ? 0 : ext[x * EXT_WORDS];
    if ((w0 & XATTR_PRESENT) === 0) {
      return this.xattrs === this.attrs && this.ulColor === 0 && this.link === "";
    }
    return (w0 & XATTR_MASK) === this.xattrs && ext![x * EXT_WORDS + 1] === this.ulColor &&
      row.link(x) === this.link;
  }

  /** Sets a receiver's pen with extended rendition `xattrs`, underline colour and hyperlink. */
  private penExt(
    fg: number,
    bg: number,
    attrs: number,
    xattrs: number,
    ul: number,
    link: string,
  ): void {
    if (link !== this.link) writeLink(this, link);
    if (
      fg === this.fg && bg === this.bg && attrs === this.attrs && xattrs === this.xattrs &&
      ul === this.ulColor
    ) return;
    if (!this.exact) {
      writeTerminalSgr(this, fg, bg, attrs, xattrs, ul);
      return;
    }
    // mosh's layer first (a plain SGR also makes the extended layer plain), then the extended.
    if (
      fg !== this.fg || bg !== this.bg || attrs !== this.attrs || (xattrs === attrs && ul === 0)
    ) this.sgr(fg, bg, attrs);
    if (xattrs !== this.xattrs || ul !== this.ulColor) writeExtendedSgr(this, xattrs, ul);
  }

  /** Before an erase (ECH, EL): no hyperlink open, and the background `bg`. */
  erasePen(bg: number): void {
    if (this.bg !== bg) this.pen(0, bg, 0);
    else if (this.link !== "") writeLink(this, "");
  }

  /** `CSI 0 ; attributes ; foreground ; background m`. */
  sgr(fg: number, bg: number, attrs: number): void {
    this.fg = fg;
    this.bg = bg;
    this.attrs = attrs;
    this.xattrs = attrs; // a receiver of the extended layer reads it the same way
    this.ulColor = 0;
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
    const cy = this.cursorRow, cx = this.cursorCol;
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
    let best = cupLen(y, x);
    let kind: number = MoveKind.Absolute;
    if (cy >= 0) {
      if (x === 0 && y >= cy && y - cy < 5) {
        const c = (cx === 0 ? 0 : 1) + y - cy;
        if (c < best) (best = c, kind = MoveKind.LineFeeds);
      }
      if (y === cy) {
        const c = csiLen(x + 1);
        if (c < best) (best = c, kind = MoveKind.Column);
        if (cx >= 0) {
          const dx = x - cx;
          if (dx < 0 && -dx < best) (best = -dx, kind = MoveKind.Backspaces);
          if (dx !== 0 && csiLen(dx < 0 ? -dx : dx) < best) {
            (best = csiLen(dx < 0 ? -dx : dx), kind = MoveKind.Horizontal);
          }
        }
      } else if (cx === x && cx >= 0) {
        const dy = y - cy;
        if (dy > 0 && dy < best) (best = dy, kind = MoveKind.Down);
        if (csiLen(dy < 0 ? -dy : dy) < best) kind = MoveKind.Vertical;
      }
    }
    switch (kind) {
      case MoveKind.Absolute:
        buf[this.len++] = ESC;
        buf[this.len++] = LBRACKET;
        if (y !== 0 || x !== 0) this.num(y + 1);
        if (x !== 0) {
          buf[this.len++] = SEMI;
          this.num(x + 1);
        }
        buf[this.len++] = 0x48; // H
        break;
      case MoveKind.LineFeeds:
        if (cx !== 0) buf[this.len++] = 0x0d;
        for (let i = cy; i < y; i++) buf[this.len++] = 0x0a;
        break;
      case MoveKind.Column:
        this.csi(x + 1, 0x47); // CHA
        break;
      case MoveKind.Backspaces:
        for (let i = x; i < cx; i++) buf[this.len++] = 0x08;
        break;
      case MoveKind.Horizontal:
        this.csi(x > cx ? x - cx : cx - x, x > cx ? 0x43 : 0x44); // CUF / CUB
        break;
      case MoveKind.Down:
        for (let i = cy; i < y; i++) buf[this.len++] = 0x0a;
        break;
      case MoveKind.Vertical:
        this.csi(y > cy ? y - cy : cy - y, y > cy ? 0x42 : 0x41); // CUD / CUU
        break;
    }
    this.cursorRow = y;
    this.cursorCol = x;
    this.wrapRow = -1;
    this.combAtCursor = true;
  }

  /** Moves to row `y` at any column (for IL/DL, which also go to column 0). */
  moveToRow(y: number): void {
    if (this.cursorRow !== y) this.moveTo(y, 0, true);
  }

  /** After printing `width` columns at (y, x): the emulator's cursor and pending wrap. */
  advance(y: number, x: number, width: number): void {
    const nx = x + width;
    this.cursorRow = y;
    if (nx >= this.width) {
      this.cursorCol = -1;
      this.wrapRow = x < this.width ? y : -1;
    } else {
      this.cursorCol = nx;
      this.wrapRow = -1;
    }
    this.combAtCursor = false;
  }

  /**
   * Prints a cell's grapheme at (y, x) with its renditions (and those of `row`'s extended layer;
   * null for a cell of no row). A wide character in the last column
   * (left there by autowrap being off) is printed with autowrap off too, or it would wrap.
   */
  printAt(
    y: number,
    x: number,
    code: number,
    fg: number,
    bg: number,
    flags: number,
    row: Row | null,
  ): void {
    this.moveTo(y, x, true);
    this.cellPen(fg, bg, flags & ATTR_MASK, row, x);
    const multi = row === null ? null : row.multi;
    const wide = (flags & FLAG_WIDE) !== 0;
    if (wide && x === this.width - 1) {
      this.ascii("\x1b[?7l");
      this.contents(code, multi, x);
      this.ascii("\x1b[?7h"); // the wrap stays pending, as after any print in the last column
    } else {
      this.contents(code, multi, x);
    }
    this.advance(y, x, wide ? 2 : 1);
  }

  /** The contents of a cell: its code point, or the whole string of a multi-code-point cell. */
  contents(code: number, multi: Map<number, string> | null, x: number): void {
    const text = multi === null ? undefined : multi.get(x);
    if (text !== undefined) {
      this.text(text);
    } else {
      this.ensure(4);
      this.cp(code);
    }
  }

  /** `count` spaces at (y, x), already the cursor position, with the pen set. */
  spaces(y: number, x: number, count: number): void {
    this.ensure(count);
    for (let i = 0; i < count; i++) this.buf[this.len++] = 0x20;
    this.advance(y, x, count);
  }

  /** DECSTBM `CSI top ; bottom r` (0-based rows), which also homes the cursor. */
  region(top: number, bottom: number): void {
    this.ensure(16);
    this.buf[this.len++] = ESC;
    this.buf[this.len++] = LBRACKET;
    this.num(top + 1);
    this.buf[this.len++] = SEMI;
    this.num(bottom + 1);
    this.buf[this.len++] = 0x72;
    this.cursorRow = 0;
    this.cursorCol = 0;
  }

  // ------------------------------------------------------------------------ cells

  /** Draws cell (y, x) of `n` over whatever the receiver has there (print, erase or marks). */
  drawCell(y: number, x: number, n: Row): void {
    const nd = n.data, i = x * CELL_WORDS, flags = nd[i + 3];
    if (nd[i] === 0) {
      this.moveTo(y, x, true);
      if (this.ech && (this.bce || nd[i + 2] === 0)) {
        this.erasePen(nd[i + 2]);
        this.csi(1, 0x58); // ECH
      } else {
        this.pen(nd[i + 1], nd[i + 2], flags & ATTR_MASK);
        this.spaces(y, x, 1);
      }
    } else if (flags & FLAG_FALLBACK) {
      this.drawMarks(y, x, n, false);
    } else {
      this.printAt(y, x, nd[i], nd[i + 1], nd[i + 2], flags, n);
    }
  }

  /**
   * Makes cell (y, x) of `n` hold its combining marks alone. An explicit move points the
   * emulator's combining cell at the cursor cell, ECH empties it (unless `alreadyEmpty`), and
   * the marks then attach to it with the fallback flag. When not exact (a real terminal),
   * U+00A0 carries the marks instead, as in C mosh.
   */
  drawMarks(y: number, x: number, n: Row, alreadyEmpty: boolean): void {
    const nd = n.data, i = x * CELL_WORDS, flags = nd[i + 3];
    if (!this.exact || !this.ech) {
      this.moveTo(y, x, true);
      this.cellPen(nd[i + 1], nd[i + 2], flags & ATTR_MASK, n, x);
      this.ensure(2);
      this.cp(0xa0);
    } else {
      this.moveTo(y, x, true, true);
      if (!alreadyEmpty) {
        this.pen(nd[i + 1], nd[i + 2], flags & ATTR_MASK);
        this.csi(1, 0x58); // ECH
      }
    }
    this.contents(nd[i], n.multi, x);
    this.advance(y, x, 1);
  }

  /** Erases cells [from, to) of row y (not reaching the end of the line). */
  eraseRun(y: number, from: number, to: number, fg: number, bg: number, attrs: number): void {
    this.moveTo(y, from, true);
    const count = to - from;
    if (this.ech && (this.bce || bg === 0)) {
      this.erasePen(bg);
      this.csi(count, 0x58); // ECH: the cursor stays
    } else {
      this.pen(fg, bg, attrs);
      this.spaces(y, from, count);
    }
  }

  /** Erases row y from `from` to the end of the line. */
  eraseToEnd(y: number, from: number, fg: number, bg: number, attrs: number): void {
    this.moveTo(y, from, true);
    if (this.bce || bg === 0) {
      this.erasePen(bg);
      this.ascii("\x1b[K");
    } else {
      const count = this.width - from;
      this.pen(fg, bg, attrs);
      this.spaces(y, from, count);
    }
  }
}

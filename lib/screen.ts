/**
 * The screen the emulator draws on (docs/PROTOCOL.md §9.3, §9.4, §9.5): rows of cells, the
 * cursor, the pen, the scrolling region and tab stops, and the edits mosh 1.4.0's emulator makes
 * to them (printing, erasing, inserting and deleting cells and rows, scrolling, cursor moves),
 * with mosh's semantics: relative moves clamp to the screen, LF never implies CR, erasing gives
 * cells only the background colour, the wrap flag lives in a row's last cell.
 *
 * `Terminal` (lib/terminal.ts) extends it with the parser's dispatch, modes and the framebuffer
 * snapshots; this class holds what those drive. Rows are shared copy-on-write with snapshots
 * (lib/framebuffer.ts): a shared row is cloned before it is written, and scrolling reuses the
 * storage of the row that leaves the screen when no snapshot holds it. Runs of printable ASCII are
 * written straight into the row's words without allocating. Every edit keeps the extended
 * attributes layer (`Row.ext`, lib/sgr.ts) in step with mosh's words.
 *
 * Scrollback (issue 14): when a `scrollback` sink is set (the server's history ring,
 * lib/history.ts), every row that scrolls off the top of the primary screen while the scrolling
 * region is the whole screen (LF or IND at the bottom, SU) is handed to it before it is reused.
 * Scrolls inside a smaller region, on the alternate screen, or down never are.
 */

import {
  CELL_MAX_BYTES,
  CELL_WORDS,
  EXT_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  nextGeneration,
  Row,
  utf8Length,
} from "./framebuffer.ts";
import { Pen } from "./sgr.ts";
import { charWidth } from "./wcwidth.ts";

/** Largest accepted width or height. */
export const MAX_DIMENSION = 65535;

/** Words of a row cleared by a loop rather than `fill` (see `resetRow`). */
const SHORT_CLEAR = 64;

/** The tab stops of a screen under construction as a copy (never written). */
const EMPTY_TABS = new Uint8Array(0);

/** Saved cursor of DECSC (and of DECSET 1049): the pen is a copy nothing writes to. */
export interface SavedCursor {
  /** Cursor row. */
  row: number;
  /** Cursor column. */
  col: number;
  /** The pen (a copy). */
  pen: Pen;
  /** DECAWM. */
  autoWrap: boolean;
  /** DECOM. */
  originMode: boolean;
}

/** The saved cursor before any DECSC: DECRC then goes home with default renditions. */
export const HOME: SavedCursor = Object.freeze({
  row: 0,
  col: 0,
  pen: new Pen(),
  autoWrap: true,
  originMode: false,
});

/** Throws a RangeError unless `v` is a valid width or height. */
export function checkDimension(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION) {
    throw new RangeError(`terminal: ${name} must be an integer in 1..${MAX_DIMENSION}, got ${v}`);
  }
}

/** Receives rows scrolling off the top of the primary screen (lib/history.ts implements it). */
export interface ScrollbackSink {
  /** Called with each row, top first, before the row leaves the screen; must not keep `row`. */
  pushRow(row: Row): void;
}

/** The drawing state and its edits; `Terminal` drives them. */
export class Screen {
  /** Where scrolled-off rows go (the server's history); null = nowhere. Clones get null. */
  scrollback: ScrollbackSink | null = null;

  /** Width in columns. */
  protected w: number;
  /** Height in rows. */
  protected h: number;
  /** The rows shown, top first. */
  protected rows: Row[];

  // Drawing state (mosh's DrawState).
  /** Cursor row, 0-based. */
  protected cursorRow = 0;
  /** Cursor column, 0-based. */
  protected cursorCol = 0;
  /** Row of the cell a combining character attaches to (-1: none). */
  protected combRow = 0;
  /** Column of the cell a combining character attaches to (-1: none). */
  protected combCol = 0;
  /** The next printed character wraps to the next line first. */
  protected wrapPending = false;
  /** Tab stops: 1 at a stop. */
  protected tabs: Uint8Array;
  /** No TBC yet: tab stops every 8 columns, extended on resize. */
  protected defaultTabs = true;
  /** Scrolling region's top row. */
  protected top = 0;
  /** Scrolling region's bottom row (inclusive). */
  protected bottom: number;
  /** Renditions: mosh's and the extended layer's (lib/sgr.ts). */
  protected pen = new Pen();
  /** DECOM: rows count from the scrolling region's top. */
  protected originMode = false;
  /** DECAWM. */
  protected autoWrap = true;
  /** IRM: printing inserts cells. */
  protected insertMode = false;
  /** Alternate screen (beyond mosh): the main screen's rows while the alternate one is shown. */
  protected mainRows: Row[] | null = null;

  /**
   * A blank screen.
   * @param cols width in columns (1..65535)
   * @param rows height in rows (1..65535)
   * @param copy no rows nor tab stops yet: a copy (Terminal.clone) fills in every field
   */
  constructor(cols: number, rows: number, copy = false) {
    checkDimension("width", cols);
    checkDimension("height", rows);
    this.w = cols;
    this.h = rows;
    this.bottom = rows - 1;
    this.rows = [];
    this.tabs = EMPTY_TABS;
    if (copy) return;
    for (let y = 0; y < rows; y++) this.rows.push(new Row(cols));
    this.tabs = new Uint8Array(cols);
    for (let x = 0; x < cols; x += 8) this.tabs[x] = 1;
  }

  /**
   * Resizes as mosh does (§9.5): rows are kept from the top, new rows are blank, the wrap flag of
   * every row is cleared when the width changes, the scrolling region is reset, the cursor is
   * clamped and default tab stops are extended. Returns false when the size is unchanged.
   */
  protected resizeScreen(cols: number, rows: number): boolean {
    checkDimension("width", cols);
    checkDimension("height", rows);
    const oldW = this.w, oldH = this.h;
    if (cols === oldW && rows === oldH) return false;
    this.top = 0;
    this.bottom = rows - 1;
    const tabs = new Uint8Array(cols);
    tabs.set(this.tabs.subarray(0, Math.min(cols, oldW)));
    if (this.defaultTabs) { for (let x = oldW; x < cols; x++) tabs[x] = x % 8 === 0 ? 1 : 0; }
    this.tabs = tabs;
    this.w = cols;
    this.h = rows;
    this.snapCursor();
    if (this.combCol >= cols || this.combRow >= rows) this.combCol = this.combRow = -1;
    this.rows = this.resizeRows(this.rows, oldW, oldH);
    if (this.mainRows) this.mainRows = this.resizeRows(this.mainRows, oldW, oldH);
    return true;
  }

  /** `rows` (of a screen `oldW` × `oldH`) fitted to the current size, as mosh resizes (§9.5). */
  protected resizeRows(rows: Row[], oldW: number, oldH: number): Row[] {
    const cols = this.w, height = this.h, bg = this.pen.bg;
    const out = rows.slice(0, Math.min(oldH, height));
    if (cols !== oldW) {
      const words = cols * CELL_WORDS;
      for (let y = 0; y < out.length; y++) {
        const old = out[y];
        const data = new Uint32Array(words);
        const keep = Math.min(cols, oldW) * CELL_WORDS;
        data.set(old.data.subarray(0, keep));
        // The old last cell loses its wrap flag (when it survives), new cells get the bg colour.
        if (cols > oldW) {
          data[oldW * CELL_WORDS - 1] &= ~FLAG_WRAP;
          if (bg !== 0) { for (let i = keep + 2; i < words; i += CELL_WORDS) data[i] = bg; }
        }
        const r = new Row(0, 0, old.gen, data);
        if (old.ext !== null) {
          r.ext = new Uint32Array(cols * EXT_WORDS);
          r.ext.set(old.ext.subarray(0, Math.min(cols, oldW) * EXT_WORDS));
          r.links = old.links === null ? null : old.links.slice();
        }
        if (old.multi) {
          for (const [col, s] of old.multi) {
            if (col < cols) (r.multi ??= new Map()).set(col, s);
          }
        }
        out[y] = r;
      }
    }
    for (let y = out.length; y < height; y++) out.push(new Row(cols, bg));
    return out;
  }

  /** A blank row of the current width and background colour, its `ink` exact. */
  protected newRow(): Row {
    const r = new Row(this.w, this.pen.bg);
    if (this.pen.bg === 0) r.ink = 0;
    return r;
  }

  /** Row `y`, cloned first if a snapshot shares it; any of its cells may then change. */
  protected mutableRow(y: number): Row {
    const r = this.printRow(y);
    r.ink = this.w;
    return r;
  }

  /** Row `y`, cloned first if a snapshot shares it; the caller keeps `ink` true. */
  protected printRow(y: number): Row {
    const r = this.rows[y];
    if (!r.shared) return r;
    const copy = r.clone();
    copy.ink = r.ink; // the copy's cells are the same: so is its bound
    this.rows[y] = copy;
    return copy;
  }

  /** A blank row of the current background colour: reused storage when `r` is unshared. */
  protected blankRow(r: Row | null): Row {
    if (r === null || r.shared || r.data.length !== this.w * CELL_WORDS) return this.newRow();
    this.resetRow(r);
    return r;
  }

  /** Blanks every cell of an unshared row with the background colour and renews its gen. */
  protected resetRow(r: Row): void {
    const d = r.data, bg = this.pen.bg;
    if (bg === 0) {
      // The cells from `ink` on are blank already. A short row's few words are cleared inline:
      // `fill` is a builtin call costing more than the stores (a `seq` row has 7 cells).
      const end = r.ink * CELL_WORDS;
      if (end <= SHORT_CLEAR) { for (let i = 0; i < end; i++) d[i] = 0; }
      else d.fill(0, 0, end);
      r.ink = 0;
    } else {
      d.fill(0);
      for (let i = 2; i < d.length; i += CELL_WORDS) d[i] = bg;
      r.ink = d.length / CELL_WORDS;
    }
    r.multi = null;
    r.ext = null;
    r.links = null;
    r.gen = nextGeneration();
  }

  /** Resets row `y` (EL 2, ED): blank cells, new generation. */
  protected resetRowAt(y: number): void {
    const r = this.rows[y];
    if (r.shared) this.rows[y] = this.newRow();
    else this.resetRow(r);
  }

  /** Resets cells [from, to] of row `y` to the background colour ("clearline"). */
  protected clearCells(y: number, from: number, to: number): void {
    if (from > to) return;
    const r = this.mutableRow(y);
    const d = r.data, bg = this.pen.bg;
    if (r.ext !== null) r.clearExt(from, to + 1);
    for (let x = from; x <= to; x++) {
      const o = x * CELL_WORDS;
      r.dropMulti(x);
      d[o] = 0;
      d[o + 1] = 0;
      d[o + 2] = bg;
      d[o + 3] = 0;
    }
  }

  /** Sets or clears the wrap flag of row `y` (kept in its last cell). */
  protected setRowWrap(y: number, wrap: boolean): void {
    const d = this.mutableRow(y).data;
    const i = d.length - 1;
    d[i] = wrap ? d[i] | FLAG_WRAP : d[i] & ~FLAG_WRAP;
  }

  /** Inserts `count` blank rows at `before`, pushing rows off the bottom of the region. */
  protected insertLines(before: number, count: number): void {
    if (before < this.top || before > this.bottom + 1) return;
    count = Math.min(count, this.bottom - before + 1);
    if (count <= 0) return;
    const rows = this.rows;
    const dropped = rows.slice(this.bottom + 1 - count, this.bottom + 1);
    for (let y = this.bottom; y >= before + count; y--) rows[y] = rows[y - count];
    for (let k = 0; k < count; k++) rows[before + k] = this.blankRow(dropped[k]);
  }

  /** Deletes `count` rows at `at`; blank rows come in at the bottom of the region. */
  protected deleteLines(at: number, count: number): void {
    if (at < this.top || at > this.bottom) return;
    count = Math.min(count, this.bottom - at + 1);
    const rows = this.rows;
    if (count === 1) {
      const gone = rows[at];
      for (let y = at; y < this.bottom; y++) rows[y] = rows[y + 1];
      rows[this.bottom] = this.blankRow(gone);
      return;
    }
    const dropped = rows.slice(at, at + count);
    for (let y = at; y + count <= this.bottom; y++) rows[y] = rows[y + count];
    for (let k = 0; k < count; k++) rows[this.bottom + 1 - count + k] = this.blankRow(dropped[k]);
  }

  /** Scrolls the region up (n > 0) or down (n < 0). */
  protected scroll(n: number): void {
    const sink = this.scrollback;
    if (n > 0 && sink !== null && this.top === 0 && this.bottom === this.h - 1 && !this.mainRows) {
      const k = n < this.h ? n : this.h;
      for (let y = 0; y < k; y++) sink.pushRow(this.rows[y]);
    }
    if (n >= 0) this.deleteLines(this.top, n);
    else this.insertLines(this.top, -n);
  }

  /** Inserts `count` blank cells at the cursor; the row's tail drops off (ICH, insert mode). */
  protected insertCells(count: number): void {
    const y = this.cursorRow, col = this.cursorCol, w = this.w;
    count = Math.min(count, w - col);
    const r = this.mutableRow(y);
    const d = r.data;
    d.copyWithin((col + count) * CELL_WORDS, col * CELL_WORDS, (w - count) * CELL_WORDS);
    if (r.multi) r.multi = shiftMulti(r.multi, col, count, w);
    if (r.ext) {
      r.ext.copyWithin((col + count) * EXT_WORDS, col * EXT_WORDS, (w - count) * EXT_WORDS);
    }
    r.clearExt(col, col + count);
    this.fillBlank(d, col, col + count);
  }

  /** Deletes `count` cells at the cursor; blank cells come in from the right (DCH). */
  protected deleteCells(count: number): void {
    const y = this.cursorRow, col = this.cursorCol, w = this.w;
    count = Math.min(count, w - col);
    const r = this.mutableRow(y);
    const d = r.data;
    d.copyWithin(col * CELL_WORDS, (col + count) * CELL_WORDS, w * CELL_WORDS);
    if (r.multi) r.multi = shiftMulti(r.multi, col + count, -count, w);
    if (r.ext) r.ext.copyWithin(col * EXT_WORDS, (col + count) * EXT_WORDS, w * EXT_WORDS);
    r.clearExt(w - count, w);
    this.fillBlank(d, w - count, w);
  }

  /** Cells [from, to) of `d` become blank with the background colour (no multi bookkeeping). */
  protected fillBlank(d: Uint32Array, from: number, to: number): void {
    const bg = this.pen.bg;
    d.fill(0, from * CELL_WORDS, to * CELL_WORDS);
    if (bg !== 0) { for (let x = from; x < to; x++) d[x * CELL_WORDS + 2] = bg; }
  }

  /** Highest row the cursor may reach: the region's top in origin mode, else 0. */
  protected limitTop(): number {
    return this.originMode ? this.top : 0;
  }

  /** Lowest row the cursor may reach: the region's bottom in origin mode, else the last row. */
  protected limitBottom(): number {
    return this.originMode ? this.bottom : this.h - 1;
  }

  /** Clamps the cursor to the screen (rows to the region in origin mode). */
  protected snapCursor(): void {
    const lt = this.limitTop(), lb = this.limitBottom();
    if (this.cursorRow < lt) this.cursorRow = lt;
    if (this.cursorRow > lb) this.cursorRow = lb;
    if (this.cursorCol < 0) this.cursorCol = 0;
    if (this.cursorCol >= this.w) this.cursorCol = this.w - 1;
  }

  /** An explicit row move: clamps, starts a new grapheme, clears the pending wrap. */
  protected moveRow(n: number, relative: boolean): void {
    this.cursorRow = relative ? this.cursorRow + n : n + this.limitTop();
    this.snapCursor();
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
    this.wrapPending = false;
  }

  /** An explicit column move: clamps, starts a new grapheme, clears the pending wrap. */
  protected moveCol(n: number, relative: boolean): void {
    this.cursorCol = relative ? this.cursorCol + n : n;
    this.snapCursor();
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
    this.wrapPending = false;
  }

  /** The move after printing: the printed cell becomes the grapheme; past the edge, wrap. */
  protected advance(n: number): void {
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
    let col = this.cursorCol + n;
    if (col >= this.w) {
      this.wrapPending = true;
      col = this.w - 1;
    }
    this.cursorCol = col;
  }

  /** Moves `n` rows (±1), scrolling when the cursor crosses the region's edge. */
  protected lineFeed(n: number): void {
    const row = this.cursorRow;
    if (row < this.top || row > this.bottom) {
      this.moveRow(n, true);
      return;
    }
    if (row + n > this.bottom) {
      const k = row + n - this.bottom;
      this.scroll(k);
      this.moveRow(-k, true);
    } else if (row + n < this.top) {
      const k = row + n - this.top;
      this.scroll(k);
      this.moveRow(-k, true);
    }
    this.moveRow(n, true);
  }

  /** Next tab stop to the right, or -1. */
  protected nextTab(): number {
    for (let x = this.cursorCol + 1; x < this.w; x++) if (this.tabs[x]) return x;
    return -1;
  }

  /** Previous tab stop to the left (never column 0), or -1. */
  protected prevTab(): number {
    for (let x = this.cursorCol - 1; x > 0; x--) if (this.tabs[x]) return x;
    return -1;
  }

  /** HT / CHT / CBT: `count` tab stops; keeps the pending-wrap flag, starts a new grapheme. */
  protected tab(count: number, forward: boolean): void {
    for (let i = 0; i < count; i++) {
      let col = forward ? this.nextTab() : this.prevTab();
      if (col < 0) col = forward ? this.w - 1 : 0;
      const keep = this.wrapPending;
      this.moveCol(col, false);
      this.wrapPending = keep;
    }
  }

  /** What DECSC saves: cursor, renditions, autowrap and origin mode (§9.3). */
  protected saveCursor(): SavedCursor {
    return {
      row: this.cursorRow,
      col: this.cursorCol,
      pen: this.pen.copy(),
      autoWrap: this.autoWrap,
      originMode: this.originMode,
    };
  }

  /** DECRC: restores what `saveCursor` saved; does nothing when `s` is null. */
  protected restoreCursor(s: SavedCursor | null): void {
    if (!s) return;
    this.cursorRow = s.row;
    this.cursorCol = s.col;
    const link = this.pen.link; // a hyperlink is not a rendition: DECRC keeps it
    this.pen = s.pen.copy();
    this.pen.link = link;
    this.autoWrap = s.autoWrap;
    this.originMode = s.originMode;
    this.snapCursor();
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
  }

  /** @internal Parser handler: a run of printable ASCII. */
  printAscii(data: Uint8Array, start: number, end: number): void {
    if (this.insertMode) {
      for (let i = start; i < end; i++) this.print(data[i]);
      return;
    }
    const pen = this.pen, w = this.w, fg = pen.fg, bg = pen.bg, attrs = pen.attrs;
    const extended = pen.extended;
    let i = start;
    while (i < end) {
      if (this.wrapPending) {
        if (this.autoWrap) {
          this.wrapLine();
        } else if (this.cursorCol === w - 1) {
          // Without autowrap every further character lands in the last column.
          i = end - 1;
        }
      }
      const y = this.cursorRow, col = this.cursorCol;
      const r = this.printRow(y);
      const d = r.data;
      const n = Math.min(end - i, w - col);
      if (col + n > r.ink) r.ink = col + n;
      if (r.multi !== null) { for (let k = 0; k < n; k++) r.dropMulti(col + k); }
      let o = col * CELL_WORDS;
      for (let k = 0; k < n; k++, o += CELL_WORDS) {
        d[o] = data[i + k];
        d[o + 1] = fg;
        d[o + 2] = bg;
        d[o + 3] = attrs;
      }
      if (extended) r.setExt(col, col + n, pen.xattrs, pen.ulColor, pen.link);
      else if (r.ext !== null) r.clearExt(col, col + n);
      i += n;
      this.combRow = y;
      this.combCol = col + n - 1;
      if (col + n >= w) {
        this.wrapPending = true;
        this.cursorCol = w - 1;
      } else {
        this.cursorCol = col + n;
      }
    }
  }

  /** Autowrap: mark the row as wrapped, then CR and LF with scrolling. */
  protected wrapLine(): void {
    this.setRowWrap(this.cursorRow, true);
    this.moveCol(0, false);
    this.lineFeed(1);
  }

  /** @internal Parser handler: one printable code point. */
  print(cp: number): void {
    const chw = charWidth(cp);
    if (chw === 1 || chw === 2) {
      if (this.autoWrap && this.wrapPending) {
        this.wrapLine();
      } else if (this.autoWrap && chw === 2 && this.cursorCol === this.w - 1) {
        // No room for a wide character: blank this cell and wrap without the wrap flag.
        this.clearCells(this.cursorRow, this.cursorCol, this.cursorCol);
        this.setRowWrap(this.cursorRow, false);
        this.moveCol(0, false);
        this.lineFeed(1);
      }
      if (this.insertMode) this.insertCells(chw);
      const y = this.cursorRow, col = this.cursorCol;
      const r = this.printRow(y);
      if (col + 1 > r.ink) r.ink = col + 1; // a wide character's second cell: clearCells below
      const d = r.data;
      const o = col * CELL_WORDS;
      if (r.multi !== null) r.dropMulti(col);
      const pen = this.pen;
      d[o] = cp;
      d[o + 1] = pen.fg;
      d[o + 2] = pen.bg;
      d[o + 3] = pen.attrs | (chw === 2 ? FLAG_WIDE : 0);
      if (pen.extended) r.setExt(col, col + 1, pen.xattrs, pen.ulColor, pen.link);
      else if (r.ext !== null) r.clearExt(col, col + 1);
      if (chw === 2 && col + 1 < this.w) this.clearCells(y, col + 1, col + 1);
      this.advance(chw);
    } else if (chw === 0) {
      const y = this.combRow, x = this.combCol;
      if (y < 0 || x < 0 || y >= this.h || x >= this.w) return; // off-screen after a resize
      const r = this.mutableRow(y);
      const d = r.data;
      const o = x * CELL_WORDS;
      if (d[o] === 0) {
        d[o + 3] |= FLAG_FALLBACK;
        this.advance(1);
        d[o] = cp;
        return;
      }
      const cur = r.multi?.get(x) ?? String.fromCodePoint(d[o]);
      if (utf8Length(cur) >= CELL_MAX_BYTES) return;
      (r.multi ??= new Map()).set(x, cur + String.fromCodePoint(cp));
    }
    // Width -1 (unprintable): ignored.
  }

  /** DECALN: every cell becomes `E` with only the background colour. */
  protected alignmentTest(): void {
    for (let y = 0; y < this.h; y++) {
      this.clearCells(y, 0, this.w - 1);
      const d = this.rows[y].data;
      for (let o = 0; o < d.length; o += CELL_WORDS) d[o] = 0x45;
    }
  }

  /** ED: 0 cursor to end, 1 start to cursor, 2 the whole screen, with background colour erase. */
  protected eraseDisplay(mode: number): void {
    const row = this.cursorRow;
    if (mode === 0) {
      this.clearCells(row, this.cursorCol, this.w - 1);
      for (let y = row + 1; y < this.h; y++) this.resetRowAt(y);
    } else if (mode === 1) {
      for (let y = 0; y < row; y++) this.resetRowAt(y);
      this.clearCells(row, 0, this.cursorCol);
    } else if (mode === 2) {
      for (let y = 0; y < this.h; y++) this.resetRowAt(y);
    }
  }

  /** EL: 0 cursor to end of row, 1 start of row to cursor, 2 the whole row. */
  protected eraseLine(mode: number): void {
    if (mode === 0) this.clearCells(this.cursorRow, this.cursorCol, this.w - 1);
    else if (mode === 1) this.clearCells(this.cursorRow, 0, this.cursorCol);
    else if (mode === 2) this.resetRowAt(this.cursorRow);
  }

  /** DECSTBM with 1-based `top` and `bottom`. */
  protected setScrollingRegion(top: number, bottom: number): void {
    if (bottom <= top || top > this.h) return;
    this.top = Math.max(top - 1, 0);
    this.bottom = Math.max(Math.min(bottom - 1, this.h - 1), this.top);
    if (this.originMode) {
      this.snapCursor();
      this.combRow = this.cursorRow;
      this.combCol = this.cursorCol;
    }
    this.moveCol(0, false);
    this.moveRow(0, false);
  }
}

/** Multi-cell map after moving the cells at columns >= `from` by `by`, within width `w`. */
function shiftMulti(
  multi: Map<number, string>,
  from: number,
  by: number,
  w: number,
): Map<number, string> | null {
  const out = new Map<number, string>();
  for (const [col, s] of multi) {
    if (by > 0) {
      // ICH at `from`: cells before stay, cells from `from` move right, the tail drops.
      if (col < from) out.set(col, s);
      else if (col + by < w) out.set(col + by, s);
    } else {
      // DCH: cells from `from` move left by -by; cells in [from+by, from) are deleted.
      if (col < from + by) out.set(col, s);
      else if (col >= from) out.set(col + by, s);
    }
  }
  return out.size ? out : null;
}

/**
 * The terminal emulator: mosh 1.4.0's `Terminal::Emulator` on our framebuffer rows
 * (docs/PROTOCOL.md §9.3 "Dispatch tables", §9.4 "Printing", §9.5 resize, §9.6 "User-input
 * translation").
 *
 * `Terminal` implements the parser's handler (lib/parser.ts) and keeps mosh's drawing state:
 * cursor, pending-wrap flag, combining-character cell, tab stops, scrolling region, renditions,
 * saved cursor and modes. Its semantics are mosh's, not xterm's, because the server computes every
 * screen diff against its copy of the client's screen (§6.2 "Interop consequence"): relative
 * moves clamp to the screen, LF never implies CR, erasing gives cells only the background colour,
 * the wrap flag lives in a row's last cell, and so on. Beyond mosh, the alternate screen (DECSET
 * 47, 1047, 1049) is kept, so a full-screen program gives the shell's screen back on exit; it only
 * changes what the server's screen shows, never the protocol.
 *
 * Rows are shared copy-on-write with snapshots (lib/framebuffer.ts): `snapshot()` marks every row
 * shared, and a shared row is cloned before it is written. Scrolling reuses the storage of the row
 * that leaves the screen when no snapshot holds it. Runs of printable ASCII are written straight
 * into the row's words without allocating.
 *
 * Scrollback (issue 14): when a `scrollback` sink is set (the server's history ring,
 * lib/history.ts), every row that scrolls off the top of the primary screen while the scrolling
 * region is the whole screen (LF or IND at the bottom, SU) is handed to it before it is reused.
 * Scrolls inside a smaller region, on the alternate screen, or down never are.
 */

import {
  ATTR_BLINK,
  ATTR_BOLD,
  ATTR_INVERSE,
  ATTR_INVISIBLE,
  ATTR_ITALIC,
  ATTR_UNDERLINE,
  CELL_MAX_BYTES,
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  Framebuffer,
  type MouseEncoding,
  type MouseReporting,
  nextGeneration,
  Row,
  TRUE_COLOR,
  utf8Length,
} from "./framebuffer.ts";
import { MAX_OSC_LENGTH, packCollected, Parser, type ParserHandler } from "./parser.ts";
import { charWidth } from "./wcwidth.ts";

/** Largest accepted width or height. */
export const MAX_DIMENSION = 65535;
/** Window title and icon name keep at most this many code points of the OSC string (§9.3). */
const TITLE_MAX = 256;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

const Q = 0x3f; // '?'
const GT = 0x3e; // '>'
const BANG = 0x21; // '!'
const HASH = 0x23; // '#'
const Q_DOLLAR = packCollected("?$"); // DECRQM for DEC private modes
const SPACE = packCollected(" "); // DECSCUSR

/** DEC private mode of synchronized output (beyond mosh, §9.3). */
const SYNCHRONIZED_OUTPUT = 2026;
/**
 * Most clipboard characters a C client keeps: its OSC limit less the `52;c;` it receives (§9.3).
 * Every OSC 52 form is stored as what `52;c;<data>` gives C's emulator.
 */
export const CLIPBOARD_MAX = MAX_OSC_LENGTH - 5;

/** Saved cursor of DECSC (and of DECSET 1049). */
interface SavedCursor {
  row: number;
  col: number;
  fg: number;
  bg: number;
  attrs: number;
  autoWrap: boolean;
  originMode: boolean;
}

/** The saved cursor before any DECSC: DECRC then goes home with default renditions. */
const HOME: SavedCursor = Object.freeze({
  row: 0,
  col: 0,
  fg: 0,
  bg: 0,
  attrs: 0,
  autoWrap: true,
  originMode: false,
});

function checkDimension(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > MAX_DIMENSION) {
    throw new RangeError(`terminal: ${name} must be an integer in 1..${MAX_DIMENSION}, got ${v}`);
  }
}

/** Receives rows scrolling off the top of the primary screen (lib/history.ts implements it). */
export interface ScrollbackSink {
  /** Called with each row, top first, before the row leaves the screen; must not keep `row`. */
  pushRow(row: Row): void;
}

/**
 * A terminal screen driven by host output. Every function of mosh 1.4.0's emulator (§9.3) with
 * its exact semantics, plus the alternate screen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const t = new Terminal(80, 24);
 * t.write("hello\r\n\x1b[1;31mred");
 * const reply = t.write("\x1b[6n"); // DSR: where is the cursor?
 * assert.equal(new TextDecoder().decode(reply), "\x1b[2;4R");
 * assert.equal(t.screenText().split("\n")[1].trimEnd(), "red");
 * ```
 */
export class Terminal implements ParserHandler {
  /** Where scrolled-off rows go (the server's history); null = nowhere. Clones get null. */
  scrollback: ScrollbackSink | null = null;

  private w: number;
  private h: number;
  private rows: Row[];
  private parser: Parser;

  // Drawing state (mosh's DrawState).
  private cursorRow = 0;
  private cursorCol = 0;
  private combRow = 0;
  private combCol = 0;
  private wrapPending = false;
  private tabs: Uint8Array;
  private defaultTabs = true;
  private top = 0;
  private bottom: number;
  private fg = 0;
  private bg = 0;
  private attrs = 0;
  private saved: SavedCursor = HOME;
  private originMode = false;
  private autoWrap = true;
  private insertMode = false;
  private cursorVisible = true;
  private reverseVideo = false;
  private bracketedPaste = false;
  private mouseReporting: MouseReporting = 0;
  private mouseFocus = false;
  private mouseAlternateScroll = false;
  private mouseEncoding: MouseEncoding = 0;
  private appCursorKeys = false;

  // Framebuffer-level state.
  private windowTitle = "";
  private iconName = "";
  private titleInitialized = false;
  private clipboard = "";
  private bells = 0;

  // Alternate screen (beyond mosh): the main screen's rows while the alternate one is shown.
  private mainRows: Row[] | null = null;
  private altSaved: SavedCursor | null = null;

  // Synchronized output (DECSET 2026, beyond mosh): a frozen copy taken when the update began.
  private syncHeld: Terminal | null = null;
  // Beyond mosh, never part of the framebuffer a C peer gets: DECSCUSR and the event sink.
  private cursorStyle = 0;
  private sink: ((osc: string) => void) | null = null;

  private reply = "";
  private params: Int32Array = new Int32Array(0);
  private paramCount = 0;
  /** State of the user-input translation (§9.6): 0 ground, 1 after ESC, 2 after ESC O. */
  private inputState = 0;
  private snap: Framebuffer | null = null;

  /**
   * A blank screen.
   * @param cols width in columns (1..65535)
   * @param rows height in rows (1..65535)
   */
  constructor(cols: number, rows: number) {
    checkDimension("width", cols);
    checkDimension("height", rows);
    this.w = cols;
    this.h = rows;
    this.bottom = rows - 1;
    this.rows = [];
    for (let y = 0; y < rows; y++) this.rows.push(new Row(cols));
    this.tabs = new Uint8Array(cols);
    for (let x = 0; x < cols; x += 8) this.tabs[x] = 1;
    this.parser = new Parser(this);
  }

  /** Width in columns. */
  get width(): number {
    return this.w;
  }

  /** Height in rows. */
  get height(): number {
    return this.h;
  }

  /** True when the host application enabled DECCKM (DECSET 1). */
  get applicationCursorKeys(): boolean {
    return this.appCursorKeys;
  }

  /** Number of BEL characters received (kept across RIS). */
  get bellCount(): number {
    return this.bells;
  }

  /** Cursor row, 0-based. */
  get cursorY(): number {
    return this.cursorRow;
  }

  /** Cursor column, 0-based. */
  get cursorX(): number {
    return this.cursorCol;
  }

  /** True when the next printed character wraps to the next line first. */
  get nextPrintWillWrap(): boolean {
    return this.wrapPending;
  }

  /** True while the alternate screen (DECSET 47/1047/1049) is shown. */
  get alternateScreen(): boolean {
    return this.mainRows !== null;
  }

  /**
   * While the application holds a synchronized update (DECSET 2026 until DECRST 2026, RIS or
   * `endSynchronizedUpdate`), a frozen copy of the terminal as it was when the update began; else
   * null. The copy is never written to; a resize resizes a fresh copy of it.
   */
  get synchronizedUpdate(): Terminal | null {
    return this.syncHeld;
  }

  /** Ends a synchronized update as if the application had reset mode 2026 (the server's bound). */
  endSynchronizedUpdate(): void {
    this.syncHeld = null;
  }

  /** The cursor style of DECSCUSR (`CSI Ps SP q`), 0-6; 0 is the terminal's default. */
  get cursorShape(): number {
    return this.cursorStyle;
  }

  /**
   * Where notifications and clipboard copies go as events (OSC 9, OSC 777 `notify`, OSC 52 except
   * queries), as their OSC string without the introducer and terminator; null for none. The
   * server sets it for a client that takes events (lib/terminal_events.ts); RIS keeps it.
   */
  set eventSink(sink: ((osc: string) => void) | null) {
    this.sink = sink;
  }

  /** Scrolling region as [top, bottom], 0-based and inclusive. */
  get scrollingRegion(): [number, number] {
    return [this.top, this.bottom];
  }

  /**
   * Feeds host output (bytes, or a string sent as UTF-8) to the emulator.
   * @returns the replies to the host (DA, DSR), or a shared empty array when there are none
   */
  write(data: Uint8Array | string): Uint8Array {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length === 0) return EMPTY;
    this.snap = null;
    this.parser.parse(bytes);
    if (this.reply === "") return EMPTY;
    const out = encoder.encode(this.reply);
    this.reply = "";
    return out;
  }

  /**
   * Resizes the screen as mosh does (§9.5): rows are kept from the top, new rows are blank, the
   * wrap flag of every row is cleared when the width changes, the scrolling region is reset, the
   * cursor is clamped and default tab stops are extended.
   */
  resize(cols: number, rows: number): void {
    checkDimension("width", cols);
    checkDimension("height", rows);
    const oldW = this.w, oldH = this.h;
    if (cols === oldW && rows === oldH) return;
    this.snap = null;
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
    if (this.syncHeld) {
      const held = this.syncHeld.clone(); // clones share the frozen copy: never resize it in place
      held.resize(cols, rows);
      this.syncHeld = held;
    }
  }

  /** `rows` (of a screen `oldW` × `oldH`) fitted to the current size, as mosh resizes (§9.5). */
  private resizeRows(rows: Row[], oldW: number, oldH: number): Row[] {
    const cols = this.w, height = this.h, bg = this.bg;
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

  /**
   * The screen now, as an immutable framebuffer. Cheap: the same object is returned until the
   * terminal changes, and rows are shared copy-on-write.
   */
  snapshot(): Framebuffer {
    if (this.snap) return this.snap;
    const rows = this.rows;
    for (let y = 0; y < rows.length; y++) rows[y].shared = true;
    this.snap = new Framebuffer({
      width: this.w,
      height: this.h,
      rows: rows.slice(),
      cursorRow: this.cursorRow,
      cursorCol: this.cursorCol,
      cursorVisible: this.cursorVisible,
      reverseVideo: this.reverseVideo,
      fg: this.fg,
      bg: this.bg,
      attrs: this.attrs,
      bracketedPaste: this.bracketedPaste,
      mouseReporting: this.mouseReporting,
      mouseFocus: this.mouseFocus,
      mouseAlternateScroll: this.mouseAlternateScroll,
      mouseEncoding: this.mouseEncoding,
      applicationCursorKeys: this.appCursorKeys,
      windowTitle: this.windowTitle,
      iconName: this.iconName,
      titleInitialized: this.titleInitialized,
      clipboard: this.clipboard,
      bellCount: this.bells,
    });
    return this.snap;
  }

  /** The screen as text (see `Framebuffer.screenText`): rows, then `cursor <row> <col>`. */
  screenText(): string {
    return this.snapshot().screenText();
  }

  /**
   * An independent copy, including the parser's and the input translator's state; without the
   * scrollback and the event sink, which belong to the session's own terminal.
   */
  clone(): Terminal {
    const t = Object.create(Terminal.prototype) as Terminal;
    Object.assign(t, this);
    t.scrollback = null;
    t.sink = null;
    for (const r of this.rows) r.shared = true;
    t.rows = this.rows.slice();
    if (this.mainRows) {
      for (const r of this.mainRows) r.shared = true;
      t.mainRows = this.mainRows.slice();
    }
    t.tabs = this.tabs.slice();
    t.parser = new Parser(t);
    t.parser.copyStateFrom(this.parser);
    return t;
  }

  /**
   * Translates the user's keystrokes for the host (§9.6): the client keeps the real terminal in
   * application cursor mode, so unless the host application enabled DECCKM, `ESC O A`-`D`
   * becomes `ESC [ A`-`D`. The three-state machine persists across calls, so the `O` of a split
   * `ESC O` is held back until the next byte arrives.
   */
  translateUserInput(bytes: Uint8Array): Uint8Array {
    const out = new Uint8Array(bytes.length + 1);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.inputState === 0) {
        if (b === 0x1b) this.inputState = 1;
        out[n++] = b;
      } else if (this.inputState === 1) {
        if (b === 0x4f) {
          this.inputState = 2;
        } else {
          this.inputState = 0;
          out[n++] = b;
        }
      } else {
        this.inputState = 0;
        out[n++] = !this.appCursorKeys && b >= 0x41 && b <= 0x44 ? 0x5b : 0x4f;
        out[n++] = b;
      }
    }
    return out.subarray(0, n);
  }

  // ---------------------------------------------------------------- rows and cells

  /** Row `y`, cloned first if a snapshot shares it. */
  private mutableRow(y: number): Row {
    let r = this.rows[y];
    if (r.shared) {
      r = r.clone();
      this.rows[y] = r;
    }
    return r;
  }

  /** A blank row of the current background colour: reused storage when `r` is unshared. */
  private blankRow(r: Row | null): Row {
    if (r === null || r.shared || r.data.length !== this.w * CELL_WORDS) {
      return new Row(this.w, this.bg);
    }
    this.resetRow(r);
    return r;
  }

  /** Blanks every cell of an unshared row with the background colour and renews its gen. */
  private resetRow(r: Row): void {
    const d = r.data, bg = this.bg;
    d.fill(0);
    if (bg !== 0) { for (let i = 2; i < d.length; i += CELL_WORDS) d[i] = bg; }
    r.multi = null;
    r.gen = nextGeneration();
  }

  /** Resets row `y` (EL 2, ED): blank cells, new generation. */
  private resetRowAt(y: number): void {
    const r = this.rows[y];
    if (r.shared) this.rows[y] = new Row(this.w, this.bg);
    else this.resetRow(r);
  }

  /** Resets cells [from, to] of row `y` to the background colour ("clearline"). */
  private clearCells(y: number, from: number, to: number): void {
    if (from > to) return;
    const r = this.mutableRow(y);
    const d = r.data, bg = this.bg;
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
  private setRowWrap(y: number, wrap: boolean): void {
    const d = this.mutableRow(y).data;
    const i = d.length - 1;
    d[i] = wrap ? d[i] | FLAG_WRAP : d[i] & ~FLAG_WRAP;
  }

  /** Inserts `count` blank rows at `before`, pushing rows off the bottom of the region. */
  private insertLines(before: number, count: number): void {
    if (before < this.top || before > this.bottom + 1) return;
    count = Math.min(count, this.bottom - before + 1);
    if (count <= 0) return;
    const rows = this.rows;
    const dropped = rows.slice(this.bottom + 1 - count, this.bottom + 1);
    for (let y = this.bottom; y >= before + count; y--) rows[y] = rows[y - count];
    for (let k = 0; k < count; k++) rows[before + k] = this.blankRow(dropped[k]);
  }

  /** Deletes `count` rows at `at`; blank rows come in at the bottom of the region. */
  private deleteLines(at: number, count: number): void {
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
  private scroll(n: number): void {
    const sink = this.scrollback;
    if (n > 0 && sink !== null && this.top === 0 && this.bottom === this.h - 1 && !this.mainRows) {
      const k = n < this.h ? n : this.h;
      for (let y = 0; y < k; y++) sink.pushRow(this.rows[y]);
    }
    if (n >= 0) this.deleteLines(this.top, n);
    else this.insertLines(this.top, -n);
  }

  /** Inserts `count` blank cells at the cursor; the row's tail drops off (ICH, insert mode). */
  private insertCells(count: number): void {
    const y = this.cursorRow, col = this.cursorCol, w = this.w;
    count = Math.min(count, w - col);
    const r = this.mutableRow(y);
    const d = r.data;
    d.copyWithin((col + count) * CELL_WORDS, col * CELL_WORDS, (w - count) * CELL_WORDS);
    if (r.multi) r.multi = shiftMulti(r.multi, col, count, w);
    this.fillBlank(d, col, col + count);
  }

  /** Deletes `count` cells at the cursor; blank cells come in from the right (DCH). */
  private deleteCells(count: number): void {
    const y = this.cursorRow, col = this.cursorCol, w = this.w;
    count = Math.min(count, w - col);
    const r = this.mutableRow(y);
    const d = r.data;
    d.copyWithin(col * CELL_WORDS, (col + count) * CELL_WORDS, w * CELL_WORDS);
    if (r.multi) r.multi = shiftMulti(r.multi, col + count, -count, w);
    this.fillBlank(d, w - count, w);
  }

  /** Cells [from, to) of `d` become blank with the background colour (no multi bookkeeping). */
  private fillBlank(d: Uint32Array, from: number, to: number): void {
    const bg = this.bg;
    d.fill(0, from * CELL_WORDS, to * CELL_WORDS);
    if (bg !== 0) { for (let x = from; x < to; x++) d[x * CELL_WORDS + 2] = bg; }
  }

  // ---------------------------------------------------------------- cursor

  /** Highest row the cursor may reach: the region's top in origin mode, else 0. */
  private limitTop(): number {
    return this.originMode ? this.top : 0;
  }

  /** Lowest row the cursor may reach: the region's bottom in origin mode, else the last row. */
  private limitBottom(): number {
    return this.originMode ? this.bottom : this.h - 1;
  }

  /** Clamps the cursor to the screen (rows to the region in origin mode). */
  private snapCursor(): void {
    const lt = this.limitTop(), lb = this.limitBottom();
    if (this.cursorRow < lt) this.cursorRow = lt;
    if (this.cursorRow > lb) this.cursorRow = lb;
    if (this.cursorCol < 0) this.cursorCol = 0;
    if (this.cursorCol >= this.w) this.cursorCol = this.w - 1;
  }

  /** An explicit row move: clamps, starts a new grapheme, clears the pending wrap. */
  private moveRow(n: number, relative: boolean): void {
    this.cursorRow = relative ? this.cursorRow + n : n + this.limitTop();
    this.snapCursor();
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
    this.wrapPending = false;
  }

  /** An explicit column move: clamps, starts a new grapheme, clears the pending wrap. */
  private moveCol(n: number, relative: boolean): void {
    this.cursorCol = relative ? this.cursorCol + n : n;
    this.snapCursor();
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
    this.wrapPending = false;
  }

  /** The move after printing: the printed cell becomes the grapheme; past the edge, wrap. */
  private advance(n: number): void {
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
  private lineFeed(n: number): void {
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
  private nextTab(): number {
    for (let x = this.cursorCol + 1; x < this.w; x++) if (this.tabs[x]) return x;
    return -1;
  }

  /** Previous tab stop to the left (never column 0), or -1. */
  private prevTab(): number {
    for (let x = this.cursorCol - 1; x > 0; x--) if (this.tabs[x]) return x;
    return -1;
  }

  /** HT / CHT / CBT: `count` tab stops; keeps the pending-wrap flag, starts a new grapheme. */
  private tab(count: number, forward: boolean): void {
    for (let i = 0; i < count; i++) {
      let col = forward ? this.nextTab() : this.prevTab();
      if (col < 0) col = forward ? this.w - 1 : 0;
      const keep = this.wrapPending;
      this.moveCol(col, false);
      this.wrapPending = keep;
    }
  }

  /** What DECSC saves: cursor, renditions, autowrap and origin mode (§9.3). */
  private saveCursor(): SavedCursor {
    return {
      row: this.cursorRow,
      col: this.cursorCol,
      fg: this.fg,
      bg: this.bg,
      attrs: this.attrs,
      autoWrap: this.autoWrap,
      originMode: this.originMode,
    };
  }

  /** DECRC: restores what `saveCursor` saved; does nothing when `s` is null. */
  private restoreCursor(s: SavedCursor | null): void {
    if (!s) return;
    this.cursorRow = s.row;
    this.cursorCol = s.col;
    this.fg = s.fg;
    this.bg = s.bg;
    this.attrs = s.attrs;
    this.autoWrap = s.autoWrap;
    this.originMode = s.originMode;
    this.snapCursor();
    this.combRow = this.cursorRow;
    this.combCol = this.cursorCol;
  }

  // ---------------------------------------------------------------- printing (§9.4)

  /** @internal Parser handler: a run of printable ASCII. */
  printAscii(data: Uint8Array, start: number, end: number): void {
    if (this.insertMode) {
      for (let i = start; i < end; i++) this.print(data[i]);
      return;
    }
    const w = this.w, fg = this.fg, bg = this.bg, attrs = this.attrs;
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
      const r = this.mutableRow(y);
      const d = r.data;
      const n = Math.min(end - i, w - col);
      if (r.multi !== null) { for (let k = 0; k < n; k++) r.dropMulti(col + k); }
      let o = col * CELL_WORDS;
      for (let k = 0; k < n; k++, o += CELL_WORDS) {
        d[o] = data[i + k];
        d[o + 1] = fg;
        d[o + 2] = bg;
        d[o + 3] = attrs;
      }
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
  private wrapLine(): void {
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
      const r = this.mutableRow(y);
      const d = r.data;
      const o = col * CELL_WORDS;
      if (r.multi !== null) r.dropMulti(col);
      d[o] = cp;
      d[o + 1] = this.fg;
      d[o + 2] = this.bg;
      d[o + 3] = this.attrs | (chw === 2 ? FLAG_WIDE : 0);
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

  // ---------------------------------------------------------------- controls (§9.3)

  /** @internal Parser handler: a C0 or C1 control. */
  execute(code: number): void {
    switch (code) {
      case 0x07: // BEL
        this.wrapPending = false;
        this.bells++;
        break;
      case 0x08: // BS
        this.moveCol(-1, true);
        break;
      case 0x09: // HT
        this.tab(1, true);
        break;
      case 0x0a: // LF
      case 0x0b: // VT
      case 0x0c: // FF
      case 0x84: // IND
        this.lineFeed(1);
        break;
      case 0x0d: // CR
        this.moveCol(0, false);
        break;
      case 0x85: // NEL
        this.moveCol(0, false);
        this.lineFeed(1);
        break;
      case 0x88: // HTS
        this.wrapPending = false;
        this.tabs[this.cursorCol] = 1;
        break;
      case 0x8d: // RI
        this.lineFeed(-1);
        break;
      default:
        this.wrapPending = false;
    }
  }

  /** @internal Parser handler: an escape sequence. */
  escDispatch(collected: number, final: number): void {
    if (collected === 0 && final >= 0x40 && final <= 0x5f) {
      this.execute(final + 0x40); // 7-bit form of a C1 control
      return;
    }
    this.wrapPending = false;
    if (collected === 0) {
      if (final === 0x37) this.saved = this.saveCursor(); // DECSC
      else if (final === 0x38) this.restoreCursor(this.saved); // DECRC
      else if (final === 0x63) this.fullReset(); // RIS
    } else if (collected === HASH && final === 0x38) {
      this.alignmentTest();
    }
  }

  /** RIS: a new drawing state and blank rows; title and clipboard cleared; bells kept. */
  private fullReset(): void {
    const keep = { bells: this.bells, iconName: this.iconName, title: this.titleInitialized };
    const fresh = new Terminal(this.w, this.h);
    const parser = this.parser, reply = this.reply, inputState = this.inputState, sink = this.sink;
    Object.assign(this, fresh);
    this.sink = sink;
    this.parser = parser;
    this.reply = reply;
    this.inputState = inputState;
    this.bells = keep.bells;
    this.iconName = keep.iconName;
    this.titleInitialized = keep.title;
  }

  /** DECALN: every cell becomes `E` with only the background colour. */
  private alignmentTest(): void {
    for (let y = 0; y < this.h; y++) {
      this.clearCells(y, 0, this.w - 1);
      const d = this.rows[y].data;
      for (let o = 0; o < d.length; o += CELL_WORDS) d[o] = 0x45;
    }
  }

  /** @internal Parser handler: a control sequence. */
  csiDispatch(params: Int32Array, count: number, collected: number, final: number): void {
    this.params = params;
    this.paramCount = count;
    if (collected === 0) {
      switch (final) {
        case 0x6d: // SGR keeps the pending wrap
          this.sgr(count);
          return;
        case 0x49: // CHT
          this.tab(this.p(0, 1), true);
          return;
        case 0x5a: // CBT
          this.tab(this.p(0, 1), false);
          return;
        case 0x67: // TBC
          if (this.p(0, 0) === 0) {
            this.tabs[this.cursorCol] = 0;
          } else if (this.p(0, 0) === 3) {
            this.defaultTabs = false;
            this.tabs.fill(0);
          }
          return;
      }
      this.wrapPending = false;
      switch (final) {
        case 0x41: // CUU
          this.moveRow(-this.p(0, 1), true);
          break;
        case 0x42: // CUD
          this.moveRow(this.p(0, 1), true);
          break;
        case 0x43: // CUF
          this.moveCol(this.p(0, 1), true);
          break;
        case 0x44: // CUB
          this.moveCol(-this.p(0, 1), true);
          break;
        case 0x48: // CUP
        case 0x66: // HVP
          this.moveRow(this.p(0, 1) - 1, false);
          this.moveCol(this.p(1, 1) - 1, false);
          break;
        case 0x47: // CHA
        case 0x60: // HPA
          this.moveCol(this.p(0, 1) - 1, false);
          break;
        case 0x64: // VPA
          this.moveRow(this.p(0, 1) - 1, false);
          break;
        case 0x4a: // ED
          this.eraseDisplay(this.p(0, 0));
          break;
        case 0x4b: // EL
          this.eraseLine(this.p(0, 0));
          break;
        case 0x4c: // IL
          this.insertLines(this.cursorRow, this.p(0, 1));
          this.moveCol(0, false);
          break;
        case 0x4d: // DL
          this.deleteLines(this.cursorRow, this.p(0, 1));
          this.moveCol(0, false);
          break;
        case 0x40: // ICH
          this.insertCells(this.p(0, 1));
          break;
        case 0x50: // DCH
          this.deleteCells(this.p(0, 1));
          break;
        case 0x58: { // ECH
          const end = Math.min(this.cursorCol + this.p(0, 1) - 1, this.w - 1);
          this.clearCells(this.cursorRow, this.cursorCol, end);
          break;
        }
        case 0x53: // SU
          this.scroll(this.p(0, 1));
          break;
        case 0x54: // SD
          this.scroll(-this.p(0, 1));
          break;
        case 0x63: // DA
          this.reply += "\x1b[?62c";
          break;
        case 0x6e: // DSR
          if (this.p(0, 0) === 5) this.reply += "\x1b[0n";
          else if (this.p(0, 0) === 6) {
            this.reply += `\x1b[${this.cursorRow + 1};${this.cursorCol + 1}R`;
          }
          break;
        case 0x72: // DECSTBM
          this.setScrollingRegion(this.p(0, 1), this.p(1, this.h));
          break;
        case 0x68: // SM
        case 0x6c: // RM
          for (let i = 0; i < count; i++) if (this.p(i, 0) === 4) this.insertMode = final === 0x68;
          break;
      }
      return;
    }
    if (collected === Q && (final === 0x68 || final === 0x6c)) {
      for (let i = 0; i < count; i++) this.decMode(this.p(i, 0), final === 0x68);
      return;
    }
    this.wrapPending = false;
    if (collected === Q_DOLLAR && final === 0x70) {
      // DECRQM, answered for synchronized output only (C answers none): 1 set, 2 reset.
      if (this.p(0, 0) === SYNCHRONIZED_OUTPUT) {
        this.reply += `\x1b[?${SYNCHRONIZED_OUTPUT};${this.syncHeld ? 1 : 2}$y`;
      }
    } else if (collected === SPACE && final === 0x71) {
      if (this.paramCount <= 1 && this.p(0, 0) <= 6) this.cursorStyle = this.p(0, 0); // DECSCUSR
    } else if (collected === GT && final === 0x63) {
      this.reply += "\x1b[>1;10;0c"; // secondary DA
    } else if (collected === BANG && final === 0x70) {
      this.softReset();
    }
  }

  /** Parameter `i` of the sequence being dispatched, or `def` if missing, empty, 0 or > 65535. */
  private p(i: number, def: number): number {
    const v = i < this.paramCount ? this.params[i] : def;
    return v < 1 ? def : v;
  }

  /** ED: 0 cursor to end, 1 start to cursor, 2 the whole screen, with background colour erase. */
  private eraseDisplay(mode: number): void {
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
  private eraseLine(mode: number): void {
    if (mode === 0) this.clearCells(this.cursorRow, this.cursorCol, this.w - 1);
    else if (mode === 1) this.clearCells(this.cursorRow, 0, this.cursorCol);
    else if (mode === 2) this.resetRowAt(this.cursorRow);
  }

  /** DECSTBM with 1-based `top` and `bottom`. */
  private setScrollingRegion(top: number, bottom: number): void {
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

  /** DECSTR. */
  private softReset(): void {
    this.insertMode = false;
    this.originMode = false;
    this.cursorVisible = true;
    this.appCursorKeys = false;
    this.top = 0;
    this.bottom = this.h - 1;
    this.fg = this.bg = this.attrs = 0;
    this.saved = HOME;
  }

  /** One DECSET (`on`) or DECRST parameter. */
  private decMode(mode: number, on: boolean): void {
    switch (mode) {
      case 1:
        this.appCursorKeys = on;
        break;
      case 3: // 80/132 columns: only clears the screen and homes the cursor
        this.moveRow(0, false);
        this.moveCol(0, false);
        for (let y = 0; y < this.h; y++) this.resetRowAt(y);
        break;
      case 5:
        this.reverseVideo = on;
        break;
      case 6: // homes the cursor (under the old mode), then sets origin mode
        this.moveRow(0, false);
        this.moveCol(0, false);
        this.originMode = on;
        break;
      case 7:
        this.autoWrap = on;
        break;
      case 25:
        this.cursorVisible = on;
        break;
      case 9:
      case 1000:
      case 1001:
      case 1002:
      case 1003:
        this.mouseReporting = on ? mode as MouseReporting : 0;
        break;
      case 1004:
        this.mouseFocus = on;
        break;
      case 1005:
      case 1006:
      case 1015:
        this.mouseEncoding = on ? mode as MouseEncoding : 0;
        break;
      case 1007:
        this.mouseAlternateScroll = on;
        break;
      case 2004:
        this.bracketedPaste = on;
        break;
      case SYNCHRONIZED_OUTPUT:
        if (on && !this.syncHeld) this.syncHeld = this.clone();
        else if (!on) this.syncHeld = null;
        break;
      case 47:
      case 1047:
      case 1049:
        this.alternate(on, mode === 1049);
        break;
    }
  }

  /** Switches to (`on`) or from the alternate screen; 1049 also saves/restores the cursor. */
  private alternate(on: boolean, withCursor: boolean): void {
    if (on) {
      if (withCursor) this.altSaved = this.saveCursor();
      if (this.mainRows) return;
      this.mainRows = this.rows;
      this.rows = [];
      for (let y = 0; y < this.h; y++) this.rows.push(new Row(this.w, this.bg));
    } else {
      if (this.mainRows) {
        this.rows = this.mainRows;
        this.mainRows = null;
      }
      if (withCursor && this.altSaved) {
        this.restoreCursor(this.altSaved);
        this.wrapPending = false;
        this.altSaved = null;
      }
    }
  }

  /** SGR with mosh's colour storage (§9.3 "SGR"). */
  private sgr(count: number): void {
    for (let i = 0; i < count; i++) {
      const v = this.p(i, 0);
      if ((v === 38 || v === 48) && count - i >= 3 && this.p(i + 1, -1) === 5) {
        const n = this.p(i + 2, 0);
        if (n <= 255) {
          if (v === 38) this.fg = 30 + n;
          else this.bg = 40 + n;
        }
        i += 2;
        continue;
      }
      if ((v === 38 || v === 48) && count - i >= 5 && this.p(i + 1, -1) === 2) {
        const c =
          (TRUE_COLOR | (this.p(i + 2, 0) << 16) | (this.p(i + 3, 0) << 8) | this.p(i + 4, 0)) &
          0x1ffffff;
        if (v === 38) this.fg = c;
        else this.bg = c;
        i += 4;
        continue;
      }
      this.rendition(v);
    }
  }

  /** Applies one SGR parameter that needs no following ones (attributes and 8/16 colours). */
  private rendition(v: number): void {
    if (v === 0) {
      this.fg = this.bg = this.attrs = 0;
    } else if (v === 39) {
      this.fg = 0;
    } else if (v === 49) {
      this.bg = 0;
    } else if (v >= 30 && v <= 37) {
      this.fg = v;
    } else if (v >= 40 && v <= 47) {
      this.bg = v;
    } else if (v >= 90 && v <= 97) {
      this.fg = v - 90 + 38;
    } else if (v >= 100 && v <= 107) {
      this.bg = v - 100 + 48;
    } else {
      let bit = 0;
      switch (v) {
        case 1:
        case 22:
          bit = ATTR_BOLD;
          break;
        case 3:
        case 23:
          bit = ATTR_ITALIC;
          break;
        case 4:
        case 24:
          bit = ATTR_UNDERLINE;
          break;
        case 5:
        case 25:
          bit = ATTR_BLINK;
          break;
        case 7:
        case 27:
          bit = ATTR_INVERSE;
          break;
        case 8:
        case 28:
          bit = ATTR_INVISIBLE;
          break;
      }
      if (v < 9) this.attrs |= bit;
      else this.attrs &= ~bit;
    }
  }

  /**
   * OSC 52 (`data` starts with `52;`): any selection parameter (`c`, `p`, `q`, `s`, `0`-`7`, several
   * or none) is stored as the clipboard, which C clients receive as `52;c;` (§9.3), cut to what
   * C's emulator keeps (CLIPBOARD_MAX); a query (`?`) is never stored, so never forwarded.
   */
  private clipboardCopy(data: Uint32Array, length: number): void {
    let i = 3;
    while (i < length && isSelection(data[i])) i++;
    if (i >= length || data[i] !== 0x3b) return;
    i++;
    if (length - i === 1 && data[i] === Q) return;
    this.clipboard = codePointsToString(data, i, Math.min(length, i + CLIPBOARD_MAX));
  }

  /** @internal Parser handler: the end of an OSC string (titles, clipboard). */
  oscEnd(data: Uint32Array, length: number): void {
    if (this.sink !== null && isEvent(data, length)) this.sink(codePointsToString(data, 0, length));
    if (length >= 3 && data[0] === 0x35 && data[1] === 0x32 && data[2] === 0x3b) {
      this.clipboardCopy(data, length);
      return;
    }
    if (length < 1) return;
    let cmd = -1, offset = 0;
    if (data[0] === 0x3b) {
      cmd = 0;
      offset = 1;
    } else if (length >= 2 && data[1] === 0x3b) {
      cmd = data[0] - 0x30;
      offset = 2;
    }
    const icon = cmd === 0 || cmd === 1, title = cmd === 0 || cmd === 2;
    if (!icon && !title) return;
    this.titleInitialized = true;
    const s = codePointsToString(data, offset, Math.min(length, TITLE_MAX));
    if (icon) this.iconName = s;
    if (title) this.windowTitle = s;
  }
}

/** True for the selection characters of OSC 52: `c`, `p`, `q`, `s` and `0`-`7`. */
function isSelection(cp: number): boolean {
  return cp === 0x63 || cp === 0x70 || cp === 0x71 || cp === 0x73 || (cp >= 0x30 && cp <= 0x37);
}

/** True if `data[0..length)` starts with `prefix` (ASCII). */
function startsWith(data: Uint32Array, length: number, prefix: string): boolean {
  if (length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** True for an OSC string that is an event: `9;`, `777;notify;`, or `52;` but not a query. */
function isEvent(data: Uint32Array, length: number): boolean {
  if (startsWith(data, length, "9;") || startsWith(data, length, "777;notify;")) return true;
  if (!startsWith(data, length, "52;")) return false;
  let i = 3;
  while (i < length && isSelection(data[i])) i++;
  return i < length && data[i] === 0x3b && !(length - i === 2 && data[i + 1] === Q);
}

/** The string of code points `data[from..to)`. */
function codePointsToString(data: Uint32Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 4096) {
    s += String.fromCodePoint(...data.subarray(i, Math.min(to, i + 4096)));
  }
  return s;
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

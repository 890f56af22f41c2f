/**
 * Framebuffer: the cells, rows and displayed state of a terminal screen
 * (docs/PROTOCOL.md §9.5, "Framebuffer model and equality").
 *
 * A row is one Uint32Array with four words per cell, so copying a row is one
 * `slice()` and comparing two rows is one tight loop:
 *
 *   word 0  first code point of the cell's contents (0 = empty, never written)
 *   word 1  foreground colour in mosh's storage: 0 default, 30+i palette index i,
 *           0x1000000 | r<<16 | g<<8 | b for true colour
 *   word 2  background colour: 0 default, 40+i palette index i, or true colour
 *   word 3  bits 0-7 attributes (ATTR_*), bits 8-11 flags (FLAG_*)
 *
 * A cell holding more than one code point (a base plus combining marks) keeps
 * its first code point in word 0 and its whole contents string in `row.multi`,
 * which is the one record of such cells. As in C mosh the
 * row's wrap flag lives in its last cell, so ICH/DCH/erase treat it exactly as
 * C mosh does.
 *
 * Rows are shared copy-on-write between a live terminal and its snapshots: a
 * snapshot marks every row `shared`, and the terminal clones a shared row before
 * writing to it. Every new or reset row gets a generation number from one
 * process-wide counter; the display diff uses it to detect scrolling.
 */

export const CELL_WORDS = 4;

/** Attribute bit: bold (SGR 1/22). */
export const ATTR_BOLD = 0x01;
/** Attribute bit: italic (SGR 3/23). */
export const ATTR_ITALIC = 0x02;
/** Attribute bit: underline (SGR 4/24). */
export const ATTR_UNDERLINE = 0x04;
/** Attribute bit: blink (SGR 5/25). */
export const ATTR_BLINK = 0x08;
/** Attribute bit: inverse (SGR 7/27). */
export const ATTR_INVERSE = 0x10;
/** Attribute bit: invisible (SGR 8/28). */
export const ATTR_INVISIBLE = 0x20;
export const ATTR_MASK = 0xff;

export const FLAG_WIDE = 0x100;
export const FLAG_FALLBACK = 0x200;
export const FLAG_WRAP = 0x400;

/** A cell's contents stop growing once they reach this many UTF-8 bytes (§9.4). */
export const CELL_MAX_BYTES = 32;

/** UTF-8 byte length of a string. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Colour value of a true-colour entry: `TRUE_COLOR | r << 16 | g << 8 | b`. */
export const TRUE_COLOR = 0x1000000;

let generationCounter = 0;

/** The next row generation: unique across every terminal in this process. */
export function nextGeneration(): number {
  return ++generationCounter;
}

/** One row of cells. Mutate only through a terminal that owns it unshared. */
export class Row {
  /** Generation: set when the row is created or reset; kept by copies. */
  gen: number;
  /** Four words per cell; see the module comment. */
  data: Uint32Array;
  /**
   * Full contents of the cells that hold more than one code point, by column; null when there
   * are none. A column is in the map exactly when its cell holds several code points.
   */
  multi: Map<number, string> | null;
  /** True once a snapshot references this row; writers must clone it first. */
  shared = false;

  /**
   * A blank row of `width` cells erased to background `bg`, or a row over existing cell `data`.
   * @param gen the generation; a fresh one unless copying a row
   */
  constructor(width: number, bg = 0, gen = nextGeneration(), data?: Uint32Array) {
    this.gen = gen;
    if (data) {
      this.data = data;
    } else {
      this.data = new Uint32Array(width * CELL_WORDS);
      if (bg !== 0) { for (let i = 2; i < this.data.length; i += CELL_WORDS) this.data[i] = bg; }
    }
    this.multi = null;
  }

  /** Number of cells. */
  get width(): number {
    return this.data.length / CELL_WORDS;
  }

  /** A private copy with the same generation (copy-on-write). */
  clone(): Row {
    const r = new Row(0, 0, this.gen, this.data.slice());
    if (this.multi) r.multi = new Map(this.multi);
    return r;
  }

  /** Cell `col` no longer holds several code points (it is being overwritten or erased). */
  dropMulti(col: number): void {
    const m = this.multi;
    if (m !== null && m.delete(col) && m.size === 0) this.multi = null;
  }

  /** True if the row's last cell carries the wrap flag. */
  get wrap(): boolean {
    return (this.data[this.data.length - 1] & FLAG_WRAP) !== 0;
  }

  /** Contents of cell `col` as a string ("" when empty). */
  contents(col: number): string {
    const text = this.multi?.get(col);
    if (text !== undefined) return text;
    const cp = this.data[col * CELL_WORDS];
    return cp === 0 ? "" : String.fromCodePoint(cp);
  }

  /** Cells equal in contents, renditions and flags (generation not compared). */
  sameCells(other: Row): boolean {
    const a = this.data, b = other.data;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    const ma = this.multi, mb = other.multi;
    if (ma === mb) return true;
    if ((ma?.size ?? 0) !== (mb?.size ?? 0)) return false;
    if (ma === null || mb === null) return true; // both without such cells
    for (const [col, text] of ma) if (mb.get(col) !== text) return false;
    return true;
  }

  /** mosh's Row equality: same generation and equal cells. */
  equals(other: Row): boolean {
    return this === other || (this.gen === other.gen && this.sameCells(other));
  }
}

/** Mouse reporting modes (DECSET 9/1000/1001/1002/1003); 0 = none. */
export type MouseReporting = 0 | 9 | 1000 | 1001 | 1002 | 1003;
/** Mouse encodings (DECSET 1005/1006/1015); 0 = default. */
export type MouseEncoding = 0 | 1005 | 1006 | 1015;

/** The data fields of a Framebuffer: what `new Framebuffer` takes and `Framebuffer.with` replaces. */
export type FramebufferFields = {
  // deno-lint-ignore ban-types
  [K in keyof Framebuffer as Framebuffer[K] extends Function ? never : K]: Framebuffer[K];
};

/**
 * An immutable screen: what one side shows. Produced by `Terminal.snapshot()`.
 * Fields not compared by `equals` (icon name, title_initialized) still travel
 * through the display diff.
 */
export class Framebuffer {
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** The rows, top first (shared copy-on-write with the terminal; never mutate). */
  readonly rows: readonly Row[];
  /** Cursor row, 0-based. */
  readonly cursorRow: number;
  /** Cursor column, 0-based. */
  readonly cursorCol: number;
  /** DECTCEM: the cursor is shown. */
  readonly cursorVisible: boolean;
  /** DECSCNM: the whole screen in reverse video. */
  readonly reverseVideo: boolean;
  /** Current drawing foreground, in cell word 1's form. */
  readonly fg: number;
  /** Current drawing background, in cell word 2's form. */
  readonly bg: number;
  /** Current drawing attribute bits (ATTR_*). */
  readonly attrs: number;
  /** Bracketed paste mode (DECSET 2004). */
  readonly bracketedPaste: boolean;
  /** Mouse reporting mode (0 = none). */
  readonly mouseReporting: MouseReporting;
  /** Focus events (DECSET 1004). */
  readonly mouseFocus: boolean;
  /** Alternate scroll (DECSET 1007); mosh never forwards it. */
  readonly mouseAlternateScroll: boolean;
  /** Mouse encoding (0 = default). */
  readonly mouseEncoding: MouseEncoding;
  /** DECCKM: cursor keys send application sequences. */
  readonly applicationCursorKeys: boolean;
  /** Window title (OSC 0/2). */
  readonly windowTitle: string;
  /** Icon name (OSC 0/1). */
  readonly iconName: string;
  /** A title or icon name was ever set. */
  readonly titleInitialized: boolean;
  /** Clipboard contents set by OSC 52. */
  readonly clipboard: string;
  /** Bells rung so far: a change means a bell. */
  readonly bellCount: number;

  /** A screen with the given fields (rows are taken as they are, not copied). */
  constructor(f: FramebufferFields) {
    this.width = f.width;
    this.height = f.height;
    this.rows = f.rows;
    this.cursorRow = f.cursorRow;
    this.cursorCol = f.cursorCol;
    this.cursorVisible = f.cursorVisible;
    this.reverseVideo = f.reverseVideo;
    this.fg = f.fg;
    this.bg = f.bg;
    this.attrs = f.attrs;
    this.bracketedPaste = f.bracketedPaste;
    this.mouseReporting = f.mouseReporting;
    this.mouseFocus = f.mouseFocus;
    this.mouseAlternateScroll = f.mouseAlternateScroll;
    this.mouseEncoding = f.mouseEncoding;
    this.applicationCursorKeys = f.applicationCursorKeys;
    this.windowTitle = f.windowTitle;
    this.iconName = f.iconName;
    this.titleInitialized = f.titleInitialized;
    this.clipboard = f.clipboard;
    this.bellCount = f.bellCount;
  }

  /**
   * A copy with some fields replaced (rows, cursor, title…): how overlays such as the
   * notification bar and prediction draw on a screen without changing it.
   */
  with(changes: Partial<FramebufferFields>): Framebuffer {
    return new Framebuffer({ ...this, ...changes });
  }

  /** Equality of docs/PROTOCOL.md §9.5 (rows by generation and cells). */
  equals(o: Framebuffer): boolean {
    if (this === o) return true;
    if (
      this.width !== o.width || this.height !== o.height || this.cursorRow !== o.cursorRow ||
      this.cursorCol !== o.cursorCol || this.cursorVisible !== o.cursorVisible ||
      this.reverseVideo !== o.reverseVideo || this.fg !== o.fg || this.bg !== o.bg ||
      this.attrs !== o.attrs || this.bracketedPaste !== o.bracketedPaste ||
      this.mouseReporting !== o.mouseReporting || this.mouseFocus !== o.mouseFocus ||
      this.mouseAlternateScroll !== o.mouseAlternateScroll ||
      this.mouseEncoding !== o.mouseEncoding || this.windowTitle !== o.windowTitle ||
      this.clipboard !== o.clipboard || this.bellCount !== o.bellCount
    ) return false;
    for (let y = 0; y < this.height; y++) {
      if (!this.rows[y].equals(o.rows[y])) return false;
    }
    return true;
  }

  /**
   * The screen as text: each row's cells (empty = space, fallback = U+00A0 then
   * contents, the cell after a wide one skipped), a newline after every row, then
   * `cursor <row> <col>\n` (0-based).
   */
  screenText(): string {
    let out = "";
    for (let y = 0; y < this.height; y++) {
      const row = this.rows[y];
      const d = row.data;
      let line = "";
      for (let x = 0; x < this.width; x++) {
        const w3 = d[x * CELL_WORDS + 3];
        const cp = d[x * CELL_WORDS];
        if (w3 & FLAG_FALLBACK) line += "\u00a0";
        if (cp === 0) line += " ";
        else line += row.multi?.get(x) ?? String.fromCodePoint(cp);
        if (w3 & FLAG_WIDE) x++;
      }
      out += line + "\n";
    }
    return out + `cursor ${this.cursorRow} ${this.cursorCol}\n`;
  }
}

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
 * Beyond mosh, a row may also hold an extended attributes layer (`ext`, null until a cell of
 * the row gets one; lib/sgr.ts and docs/EXTENSIONS.md): two words per cell, the cell's
 * rendition as a modern terminal reads it where that differs from mosh's, and the cell's OSC 8
 * hyperlink as an index into the row's own `links` table. mosh's words above never depend on
 * it, so what a C peer receives is unchanged; only diffs to our own client read it.
 *
 *   ext word 0  bits 0-7 attributes (ATTR_*), bits 8-13 XATTR_* (faint, strike, overline,
 *               underline style), bit 14 XATTR_PRESENT (the cell has an extended rendition:
 *               without it the cell reads as mosh's words alone), bits 16-31 hyperlink (an
 *               index into `links` plus one; 0 none)
 *   ext word 1  underline colour: 0 default, UNDERLINE_PALETTE | i, or TRUE_COLOR | rgb
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

/** Extended attribute bit: faint (SGR 2, ended by 22). */
export const XATTR_FAINT = 0x100;
/** Extended attribute bit: strikethrough (SGR 9/29). */
export const XATTR_STRIKE = 0x200;
/** Extended attribute bit: overline (SGR 53/55). */
export const XATTR_OVERLINE = 0x400;
/** Underline style (`4:n`) in bits 11-13, meaningful with ATTR_UNDERLINE: 0 single, 2-5 below. */
export const XATTR_UNDERLINE_SHIFT = 11;
/** The underline style's bits (see XATTR_UNDERLINE_SHIFT). */
export const XATTR_UNDERLINE_MASK = 0x3800;
/** The cell's extended rendition is set (ext word 0). */
export const XATTR_PRESENT = 0x4000;
/** Attributes and extended attributes of ext word 0 (what a pen holds). */
export const XATTR_MASK = 0x3fff;
/** Hyperlink index (plus one) in bits 16-31 of ext word 0. */
export const XATTR_LINK_SHIFT = 16;
/** Words per cell in the extended layer. */
export const EXT_WORDS = 2;
/** Underline colour storage of palette index i (ext word 1): `UNDERLINE_PALETTE | i`. */
export const UNDERLINE_PALETTE = 0x2000000;

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
  /** The extended attributes layer (see the module comment), or null: no cell has one. */
  ext: Uint32Array | null = null;
  /** Hyperlinks the row's cells refer to (ext word 0 bits 16-31, index plus one); or null. */
  links: string[] | null = null;

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
    if (this.ext) {
      r.ext = this.ext.slice();
      r.links = this.links === null ? null : this.links.slice();
    }
    return r;
  }

  /** The hyperlink of cell `col` ("" for none). */
  link(col: number): string {
    const ext = this.ext;
    if (ext === null) return "";
    const index = ext[col * EXT_WORDS] >>> XATTR_LINK_SHIFT;
    return index === 0 || this.links === null ? "" : this.links[index - 1] ?? "";
  }

  /** True when cell `col` has an extended rendition. */
  hasExt(col: number): boolean {
    return this.ext !== null && (this.ext[col * EXT_WORDS] & XATTR_PRESENT) !== 0;
  }

  /** Extended rendition of cell `col` (ext word 0 without the link), 0 when it has none. */
  xattrs(col: number): number {
    const ext = this.ext;
    if (ext === null) return 0;
    const w = ext[col * EXT_WORDS];
    return w & XATTR_PRESENT ? w & XATTR_MASK : 0;
  }

  /** Underline colour of cell `col` (ext word 1), 0 when it has no extended rendition. */
  underlineColor(col: number): number {
    const ext = this.ext;
    if (ext === null || (ext[col * EXT_WORDS] & XATTR_PRESENT) === 0) return 0;
    return ext[col * EXT_WORDS + 1];
  }

  /** Cells equal in their extended layers (rendition and hyperlink text), as seen by `other`. */
  sameExt(other: Row): boolean {
    const a = this.ext, b = other.ext;
    if (a === null && b === null) return true;
    const w = this.width;
    for (let x = 0; x < w; x++) {
      if (
        this.hasExt(x) !== other.hasExt(x) || this.xattrs(x) !== other.xattrs(x) ||
        this.underlineColor(x) !== other.underlineColor(x) || this.link(x) !== other.link(x)
      ) return false;
    }
    return true;
  }

  /**
   * Gives cells [from, to) the extended rendition `xattrs` (ATTR_* and XATTR_* bits) with
   * underline colour `ulColor` and hyperlink `link` ("" none): what a pen whose extended part
   * differs from mosh's prints (lib/sgr.ts).
   */
  setExt(from: number, to: number, xattrs: number, ulColor: number, link: string): void {
    const ext = this.ext ??= new Uint32Array(this.width * EXT_WORDS);
    const w0 = xattrs | XATTR_PRESENT |
      (link === "" ? 0 : this.linkIndex(link) << XATTR_LINK_SHIFT);
    for (let o = from * EXT_WORDS, end = to * EXT_WORDS; o < end; o += EXT_WORDS) {
      ext[o] = w0;
      ext[o + 1] = ulColor;
    }
  }

  /** Cells [from, to) have no extended rendition (printed by a plain pen, or erased). */
  clearExt(from: number, to: number): void {
    if (this.ext !== null) this.ext.fill(0, from * EXT_WORDS, to * EXT_WORDS);
  }

  /**
   * The index (plus one) of `link` in the row's table, added if new. A table that has grown to
   * the row's width is first rebuilt from the links cells still hold, so it stays bounded.
   */
  private linkIndex(link: string): number {
    let links = this.links;
    if (links === null) links = this.links = [];
    const at = links.indexOf(link);
    if (at >= 0) return at + 1;
    if (links.length >= Math.max(16, this.width)) links = this.compactLinks();
    links.push(link);
    return links.length;
  }

  /** Rebuilds `links` with only the hyperlinks cells refer to, renumbering the cells. */
  private compactLinks(): string[] {
    const ext = this.ext!, old = this.links!, kept: string[] = [];
    const renumber = new Map<number, number>();
    for (let o = 0; o < ext.length; o += EXT_WORDS) {
      const index = ext[o] >>> XATTR_LINK_SHIFT;
      if (index === 0) continue;
      let fresh = renumber.get(index);
      if (fresh === undefined) {
        kept.push(old[index - 1]);
        fresh = kept.length;
        renumber.set(index, fresh);
      }
      ext[o] = (ext[o] & 0xffff) | (fresh << XATTR_LINK_SHIFT);
    }
    this.links = kept;
    return kept;
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

  /**
   * mosh's Row equality: same generation and equal cells; with `ext` (a receiver of the extended
   * layer) the extended layers equal too.
   */
  equals(other: Row, ext = false): boolean {
    return this === other ||
      (this.gen === other.gen && this.sameCells(other) && (!ext || this.sameExt(other)));
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

  /**
   * Equality of docs/PROTOCOL.md §9.5 (rows by generation and cells); with `ext`, the rows'
   * extended layers too (a receiver of them, lib/sgr.ts).
   */
  equals(o: Framebuffer, ext = false): boolean {
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
      if (!this.rows[y].equals(o.rows[y], ext)) return false;
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

/**
 * The display diff: the escape sequences that turn one screen into another
 * (docs/PROTOCOL.md §10, `Display::new_frame`).
 *
 * The server sends `diffFrames(old, new)` to the client as `hostbytes`, and the client's emulator
 * (ours, or C mosh's) must end up with exactly the new framebuffer; the client uses the same
 * function, with its terminal's terminfo capabilities, to paint the real terminal. Everything
 * emitted is in the subset mosh 1.4.0's emulator implements, with the same meaning (§9.3, §9.4).
 *
 * The steps, in mosh's output order:
 *  1. bell, window title and icon name, clipboard, reverse video;
 *  2. on a size change (or without a previous frame), reset and clear the receiver; otherwise
 *     start from the previous frame's cursor, pen and cursor visibility;
 *  3. row shifts: rows that moved are scrolled into place when cheaper (`display_scroll.ts`);
 *  4. a bottom row that must wrap is built one row up and moved down (`display_rows.ts`);
 *  5. every row that differs from what the receiver holds is drawn (`display_rows.ts`);
 *  6. cursor position and visibility, then the pen;
 *  7. the bracketed-paste, mouse reporting, focus and mouse encoding modes.
 * `display_painter.ts` writes the bytes and models the receiver's cursor, pen and pending wrap.
 *
 * Where this departs from C's `new_frame`:
 *  - Moved rows are found by comparing cells (generations only speed the search up), and a
 *    shift is sent as IL/DL, LF/RI at an edge, or inside a DECSTBM region, whichever is cheaper.
 *  - Empty cells are produced by erasing (ECH, EL), so they stay empty rather than becoming
 *    spaces; a cell of combining marks alone ("fallback") is made by erasing the cell right
 *    after an explicit move, which points the emulator's combining cell at it, then printing
 *    the marks.
 *  - Cells are compared against a model of what the receiver holds, not against the previous
 *    frame alone, and each row's wrap flag is produced the only way the emulator sets it (a
 *    hand-over: the row's last column, then the next row's first cell). On screens narrower than
 *    3 columns or lower than 2 rows the emulator can hold wrap flags that no byte sequence
 *    recreates; those rows are drawn without them.
 *  - After printing the last column the cursor column is unknown (the emulator holds the cursor
 *    there with the wrap pending), so the next move is absolute; this fixes the slip of C
 *    mosh's cursor-move encoder (§10).
 *
 * The output is built in one reusable buffer, code points are encoded to UTF-8 directly, and
 * rows that are the same object as the receiver's are skipped without looking at their cells.
 */

import {
  ATTR_MASK,
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  type Framebuffer,
  type Row,
} from "./framebuffer.ts";
import { type AttributeSupport, writeLink } from "./display_attributes.ts";
import { blankRow, Painter } from "./display_painter.ts";
import { drawRow, Wrap, wrapBottom } from "./display_rows.ts";
import { shiftRows } from "./display_scroll.ts";

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
  /**
   * Beyond mosh: the extended attributes (faint, strikethrough, overline, underline styles and
   * colour, OSC 8 hyperlinks; lib/display_attributes.ts) the receiver shows: `ALL_ATTRIBUTES`
   * for our client's emulator, what terminfo says for a real terminal. Absent or null (the
   * default, and every diff to a C peer): none, and the bytes are exactly mosh's.
   */
  attributes?: AttributeSupport | null;
}

const EMPTY = new Uint8Array(0);

/** The one painter every call reuses (the diff is synchronous, so calls never interleave). */
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
  const attributes = options?.attributes ?? null;
  p.reset(w, h, options?.ech ?? true, options?.bce ?? true, options?.exact ?? true, attributes);
  writeAnnouncements(p, last, next, options?.title ?? true);
  // The previous frame the receiver still shows, or null when it was cleared.
  const shown = last !== null && last.width === w && last.height === h ? last : null;
  const scrollback = options?.scrollback ?? false;
  startFrom(p, shown, scrollback);

  const rows = next.rows;
  let model = shown === null
    ? new Array<Row>(h).fill(blankRow(w))
    : scrollback
    ? shown.rows
    : shiftRows(p, shown.rows, rows);
  if (rows[h - 1].wrap) model = wrapBottom(p, model, rows);
  let wrap: Wrap = Wrap.None;
  for (let y = 0; y < h; y++) {
    const m = model[y], n = rows[y];
    if (n === m && wrap === Wrap.None) continue;
    wrap = drawRow(p, y, n, m, wrap, y > 0 ? rows[y - 1] : n);
  }
  if (p.link !== "") writeLink(p, ""); // the link ends with its last cell

  p.moveTo(next.cursorRow, next.cursorCol, false);
  if (shown === null || p.shown !== next.cursorVisible) {
    p.ascii(next.cursorVisible ? "\x1b[?25h" : "\x1b[?25l");
  }
  p.pen(next.fg, next.bg, next.attrs); // with attributes: no hyperlink left open either
  writeModes(p, shown, next);
  return p.take();
}

/** Step 1: bell, title and icon name (when `title`), clipboard, reverse video. */
function writeAnnouncements(
  p: Painter,
  last: Framebuffer | null,
  next: Framebuffer,
  title: boolean,
): void {
  if (last !== null && last.bellCount !== next.bellCount) p.ascii("\x07");
  if (
    title && next.titleInitialized &&
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
}

/**
 * Step 2: the receiver's cursor, pen and cursor visibility are those of `shown`; without it,
 * the receiver is reset and cleared first.
 */
function startFrom(p: Painter, shown: Framebuffer | null, scrollback: boolean): void {
  if (shown === null) {
    // With scrollback, clear without ED 2 at home, which some terminals turn into history.
    p.ascii(
      !scrollback
        ? "\x1b[r\x1b[0m\x1b[H\x1b[2J\x1b[?25l"
        : p.height > 1
        ? "\x1b[r\x1b[0m\x1b[H\x1b[2K\x1b[2H\x1b[J\x1b[H\x1b[?25l"
        : "\x1b[r\x1b[0m\x1b[H\x1b[2K\x1b[?25l",
    );
    p.cursorRow = 0;
    p.cursorCol = 0;
    p.fg = p.bg = p.attrs = 0;
    p.shown = false;
    p.xattrs = p.ulColor = 0;
    p.link = "";
  } else {
    p.cursorRow = shown.cursorRow;
    p.cursorCol = shown.cursorCol;
    p.fg = shown.fg;
    p.bg = shown.bg;
    p.attrs = shown.attrs;
    p.shown = shown.cursorVisible;
    // Every diff leaves the extended layer's pen plain and no hyperlink open.
    p.xattrs = shown.attrs;
    p.ulColor = 0;
    p.link = "";
  }
}

/** Step 7: the modes that differ from `shown` (all of them when the receiver was cleared). */
function writeModes(p: Painter, shown: Framebuffer | null, next: Framebuffer): void {
  if (shown === null || shown.bracketedPaste !== next.bracketedPaste) {
    p.ascii(next.bracketedPaste ? "\x1b[?2004h" : "\x1b[?2004l");
  }
  const allMouseOff = "\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l";
  switchMode(p, shown !== null ? shown.mouseReporting : -1, next.mouseReporting, allMouseOff);
  if (shown === null || shown.mouseFocus !== next.mouseFocus) {
    p.ascii(next.mouseFocus ? "\x1b[?1004h" : "\x1b[?1004l");
  }
  const allEncodingsOff = "\x1b[?1015l\x1b[?1006l\x1b[?1005l";
  switchMode(p, shown !== null ? shown.mouseEncoding : -1, next.mouseEncoding, allEncodingsOff);
}

/**
 * Moves a group of exclusive DEC private modes (mouse reporting, mouse encoding) from `last` (-1:
 * unknown) to `next` (0: none of them): `allOff` resets the whole group when the last one is
 * unknown or none is wanted, else the last one is reset before the next one is set.
 */
function switchMode(p: Painter, last: number, next: number, allOff: string): void {
  if (last === next) return;
  if (next === 0 || last === -1) p.ascii(allOff);
  else if (last !== 0) p.ascii(`\x1b[?${last}l`);
  if (next !== 0) p.ascii(`\x1b[?${next}h`);
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
 * cell, but only the last cell's bit is the row's wrap flag). With `ext`, each cell's extended
 * layer too (rendition, underline colour, hyperlink).
 */
export function contentEqual(a: Framebuffer, b: Framebuffer, ext = false): string | null {
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
      if (
        ext && (ra.hasExt(x) !== rb.hasExt(x) || ra.xattrs(x) !== rb.xattrs(x) ||
          ra.underlineColor(x) !== rb.underlineColor(x) || ra.link(x) !== rb.link(x))
      ) {
        const e = (r: Row) =>
          `${r.xattrs(x).toString(16)}/${r.underlineColor(x).toString(16)}/${
            JSON.stringify(r.link(x))
          }`;
        return `cell (${y},${x}) extended: ${e(ra)} != ${e(rb)}`;
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

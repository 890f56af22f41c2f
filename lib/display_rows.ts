/**
 * The display diff's row drawing (docs/PROTOCOL.md §10): draw one row of the new frame over
 * what the receiver holds there, cell by cell, and produce the row's wrap flag the only way
 * mosh's emulator sets it.
 *
 * - Cells equal to the receiver's are skipped (word by word when no cell holds several code
 *   points). Empty cells gather into runs erased together with ECH or EL, so they stay empty
 *   rather than becoming spaces. A cell of combining marks alone is made by `drawMarks`.
 * - One receiver cell may differ from the model row: the cell a wide character just blanked, or
 *   the first cell printed by a hand-over. It is tracked as an "override" column.
 * - Wrap flag: the emulator sets it when a row's last column is printed and then the next
 *   row's first cell ("hand-over"), so a row that must wrap ends with its last column printed
 *   and the next row starts with its first cell. When the last cell is empty, a wide stand-in
 *   in the next-to-last cell leaves the wrap pending, and the real cell is drawn after the
 *   hand-over. A wrap in the bottom row would scroll, so `wrapBottom` builds that row in the
 *   row above and moves it down with RI.
 */

import {
  ATTR_MASK,
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  type Row,
} from "./framebuffer.ts";
import { blankRow, type Painter } from "./display_painter.ts";

/** How a drawn row ends. */
export const Wrap = {
  /** Nothing pending: the next row is drawn on its own. */
  None: 0,
  /** The row's last column was printed with the wrap pending: the next row starts with a hand-over. */
  Pending: 1,
  /** As Pending, and the row's next-to-last cell holds a wide stand-in to draw after the hand-over. */
  PendingStandIn: 2,
} as const;
export type Wrap = typeof Wrap[keyof typeof Wrap];

/** What the hand-over printed in a row's first cell. */
const FirstCell = {
  /** A space stands in for an empty or marks-only cell. */
  Space: 0,
  /** The cell as it should be. */
  Exact: 1,
  /** The cell as it should be, a wide character that blanked the cell after it. */
  ExactWide: 2,
} as const;
type FirstCell = typeof FirstCell[keyof typeof FirstCell];

/** A wide character (U+3000 IDEOGRAPHIC SPACE) put down only to blank the cell after it. */
const WIDE_STAND_IN = 0x3000;

/**
 * Draws row `y` of the new frame, `n`, over the receiver's row `m`. `handover` is how the row
 * above ended (`above`, drawn at y - 1): when its wrap is pending, this row's first cell is
 * printed first, without moving. Returns how this row ends.
 *
 * Then each cell where the receiver differs is drawn; the receiver's cell at `overrideCol` holds
 * `overrideCode` on `overrideBg` whatever `m` says (the hand-over's cell, or the cell a wide
 * character blanked). The cell loop stays in this one function: moved into its own, it made a
 * full repaint 10-15% slower (bench/display_bench.ts).
 */
export function drawRow(p: Painter, y: number, n: Row, m: Row, handover: Wrap, above: Row): Wrap {
  let x = 0, overrideCol = -1, overrideCode = 0, overrideBg = 0, lastTouched = false;
  if (handover !== Wrap.None) {
    const first = printFirst(p, y, n);
    if (first === FirstCell.Exact) x = 1;
    else if (first === FirstCell.ExactWide) (x = 1, overrideCol = 1, overrideBg = n.data[2]);
    else (overrideCol = 0, overrideCode = 0x20, overrideBg = n.data[2]);
    lastTouched = (first === FirstCell.ExactWide ? 2 : 1) >= p.width;
    // The row above held a stand-in in its next-to-last cell; draw the real one.
    if (handover === Wrap.PendingStandIn) p.drawCell(y - 1, p.width - 2, above);
  }
  const w = p.width;
  const nd = n.data, nm = n.multi;
  const od = m.data, om = m.multi;
  const rowWrap = (nd[(w - 1) * CELL_WORDS + 3] & FLAG_WRAP) !== 0;
  let runStart = -1, runBg = 0, runFg = 0, runAttrs = 0;
  // Cells with an extended layer are compared there too, for a receiver of it.
  const ext = p.attributes !== null && (n.ext !== null || m.ext !== null);
  // Without multi-code-point cells, equal words mean equal cells: skip them word by word.
  const plain = nm === null && om === null && !ext;
  for (; x < w; x++) {
    if (plain && runStart < 0 && x !== overrideCol) {
      const stop = (overrideCol > x ? overrideCol : w) * CELL_WORDS;
      let j = x * CELL_WORDS;
      while (j < stop && nd[j] === od[j]) j++;
      x = j >> 2; // j / CELL_WORDS
      if (j === stop) {
        x--;
        continue;
      }
    }
    const i = x * CELL_WORDS;
    const code = nd[i], fg = nd[i + 1], bg = nd[i + 2], flags = nd[i + 3];
    let oldCode: number, oldFg: number, oldBg: number, oldFlags: number;
    if (x === overrideCol) (oldCode = overrideCode, oldFg = 0, oldBg = overrideBg, oldFlags = 0);
    else (oldCode = od[i], oldFg = od[i + 1], oldBg = od[i + 2], oldFlags = od[i + 3]);
    // Empty cells (not wide, not marks) gather into runs that are erased together; erasing
    // clears the wrap flag, so the last cell of a wrapping row never joins a run.
    const empty = code === 0 && (flags & (FLAG_WIDE | FLAG_FALLBACK)) === 0;
    if (runStart >= 0) {
      if (
        empty && fg === runFg && bg === runBg && (flags & ATTR_MASK) === runAttrs &&
        (x !== w - 1 || !rowWrap)
      ) {
        if (x === w - 1) lastTouched = true;
        continue;
      }
      p.eraseRun(y, runStart, x, runFg, runBg, runAttrs);
      runStart = -1;
    }
    if (code === oldCode && fg === oldFg && bg === oldBg) {
      const diff = flags ^ oldFlags;
      if (diff === 0 || (diff === FLAG_WRAP && (x !== w - 1 || rowWrap))) {
        // Equal words: the cells are equal unless one holds several code points.
        const text = nm === null ? undefined : nm.get(x);
        const oldText = om === null || x === overrideCol ? undefined : om.get(x);
        if (text === oldText && (!ext || sameExt(n, m, x, x === overrideCol))) continue;
      }
    }
    if (x === w - 1) lastTouched = true;
    if (empty) {
      runStart = x;
      runFg = fg;
      runBg = bg;
      runAttrs = flags & ATTR_MASK;
      continue;
    }
    if (flags & FLAG_FALLBACK) {
      const alreadyEmpty = oldCode === 0 && oldFg === fg && oldBg === bg &&
        (oldFlags & 0xfff) === 0;
      p.drawMarks(y, x, n, alreadyEmpty);
      continue;
    }
    if (
      code < 0x80 && p.cursorCol === x && p.cursorRow === y && fg === p.fg && bg === p.bg &&
      (flags & ~FLAG_WRAP) === p.attrs && x + 1 < w && (nm === null || !nm.has(x)) &&
      p.penFits(n, x)
    ) {
      // The common case: one ASCII character right where the cursor is, in the pen's colours.
      p.ensure(1);
      p.buf[p.len++] = code;
      p.cursorCol = x + 1;
      p.combAtCursor = false;
      continue;
    }
    p.printAt(y, x, code, fg, bg, flags, n);
    if (flags & FLAG_WIDE && x + 1 < w) {
      // The emulator blanked the next cell with the pen's background.
      (overrideCol = x + 1, overrideCode = 0, overrideBg = bg);
      if (x + 1 === w - 1) lastTouched = true;
    }
  }
  if (runStart >= 0) p.eraseToEnd(y, runStart, runFg, runBg, runAttrs);
  return endRow(p, y, n, m, lastTouched);
}

/** Cell `x` of `n` and of `m` (of a blank cell when `blank`) have equal extended layers. */
function sameExt(n: Row, m: Row, x: number, blank: boolean): boolean {
  if (blank) return !n.hasExt(x);
  return n.hasExt(x) === m.hasExt(x) && n.xattrs(x) === m.xattrs(x) &&
    n.underlineColor(x) === m.underlineColor(x) && n.link(x) === m.link(x);
}

/**
 * After row `y`'s cells are drawn: makes sure it ends up wrapped when `n` is, keeping the flag
 * the receiver has (`m`, unless its last cell was touched) or setting up a hand-over.
 */
function endRow(p: Painter, y: number, n: Row, m: Row, lastTouched: boolean): Wrap {
  if (!n.wrap || y === p.height - 1) return Wrap.None;
  if (!lastTouched && m.wrap) return Wrap.None;
  if (p.wrapRow === y) return Wrap.Pending;
  return printEnd(p, y, n);
}

/** Hand-over: with the wrap pending, prints row y's first cell, which wraps the previous row. */
function printFirst(p: Painter, y: number, n: Row): FirstCell {
  const nd = n.data, code = nd[0], flags = nd[3];
  if (code !== 0 && (flags & FLAG_FALLBACK) === 0) {
    p.cellPen(nd[1], nd[2], flags & ATTR_MASK, n, 0);
    p.contents(code, n.multi, 0);
    const width = flags & FLAG_WIDE ? 2 : 1;
    p.advance(y, 0, width);
    return width === 2 && p.width > 1 ? FirstCell.ExactWide : FirstCell.Exact;
  }
  p.pen(0, nd[2], 0);
  p.spaces(y, 0, 1);
  return FirstCell.Space;
}

/**
 * Prints the end of row y again (its other cells are drawn) so that the wrap is pending there
 * with the last cells as in `n`: the last cell, or the wide character before an empty last
 * cell, or else a wide stand-in (`Wrap.PendingStandIn`). `Wrap.None` if impossible.
 */
function printEnd(p: Painter, y: number, n: Row): Wrap {
  const w = p.width, nd = n.data, li = (w - 1) * CELL_WORDS, pi = li - CELL_WORDS;
  const wideBefore = w >= 2 && (nd[pi + 3] & FLAG_WIDE) !== 0 && nd[pi] !== 0;
  if (nd[li] !== 0) {
    if (nd[li + 3] & FLAG_FALLBACK) p.drawMarks(y, w - 1, n, false);
    else p.printAt(y, w - 1, nd[li], nd[li + 1], nd[li + 2], nd[li + 3], n);
    return Wrap.Pending;
  }
  if (w < 2) return Wrap.None;
  if (
    wideBefore && nd[li + 1] === 0 && nd[li + 2] === nd[pi + 2] && (nd[li + 3] & ATTR_MASK) === 0
  ) {
    p.printAt(y, w - 2, nd[pi], nd[pi + 1], nd[pi + 2], nd[pi + 3], n);
    return Wrap.Pending;
  }
  // An empty last cell the emulator can only get as the blank half of a wide character.
  p.printAt(y, w - 2, WIDE_STAND_IN, 0, nd[li + 2], FLAG_WIDE, null);
  return Wrap.PendingStandIn;
}

/**
 * A wrap in the bottom row would scroll the screen, so a bottom row that must wrap is drawn
 * in the row above it, wrapped there, and moved down with RI inside a region of those two
 * rows; the row above is then drawn like a new row. Runs before the other rows are drawn;
 * returns the receiver's rows afterwards.
 */
export function wrapBottom(
  p: Painter,
  model: readonly Row[],
  rows: readonly Row[],
): readonly Row[] {
  const h = p.height, w = p.width;
  const n = rows[h - 1], m = model[h - 1], nd = n.data, md = m.data;
  if (!n.wrap || w < 2 || h < 2) return model;
  let same = true;
  for (let i = nd.length - 2 * CELL_WORDS; i < nd.length; i++) if (nd[i] !== md[i]) same = false;
  for (let x = w - 2; x < w; x++) {
    if (n.contents(x) !== m.contents(x)) same = false;
    if (p.attributes !== null && !sameExt(n, m, x, false)) same = false;
  }
  if (same) return model;
  const end = drawRow(p, h - 2, n, model[h - 2], Wrap.None, n);
  if (end !== Wrap.None) {
    printFirst(p, h - 1, n); // the row that received the wrap leaves at the bottom
    if (end === Wrap.PendingStandIn) p.drawCell(h - 2, w - 2, n);
  }
  if (p.bg !== 0) p.sgr(0, 0, 0); // the row coming in takes the pen's background
  p.hide();
  if (h > 2) p.region(h - 2, h - 1);
  p.moveTo(h - 2, 0, true);
  p.ascii("\x1bM"); // RI at the region's top scrolls it down
  if (h > 2) {
    p.ascii("\x1b[r");
    p.cursorRow = p.cursorCol = 0;
  }
  p.combAtCursor = true;
  const out = model.slice();
  out[h - 2] = blankRow(w);
  out[h - 1] = n;
  return out;
}

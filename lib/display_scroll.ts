/**
 * The display diff's row shifts (docs/PROTOCOL.md §10): find rows of the new frame that sit
 * elsewhere on the receiver (scrolling, scrolling regions, IL/DL) and move them there with one
 * scrolling operation when that is cheaper than redrawing them.
 *
 * Rows are matched by their cells; a row's generation only points the search at a candidate,
 * which is then checked. A shift is a block of rows that moves up or down by a distance; its
 * cost is estimated from the encodings `applyShift` uses (DL/IL at the bottom, LF/RI at an
 * edge, a DL + IL pair or a DECSTBM region in the middle), its gain from the columns the
 * moved rows would otherwise have to print. Up to four shifts are applied, best first.
 */

import { CELL_WORDS, type Row } from "./framebuffer.ts";
import { blankRow, csiLen, cupLen, digits, type Painter } from "./display_painter.ts";

/** A shift of the receiver's rows `top..bottom` (inclusive) by `by` rows: up if > 0, down if < 0. */
export interface Shift {
  top: number;
  bottom: number;
  by: number;
}

/** The best shift seen, and how many profitable shifts were seen (0: `best` is null). */
export interface ShiftSearch {
  best: Shift | null;
  profitable: number;
}

/** Bytes a shift must save to be worth sending. */
const MIN_SHIFT_GAIN = 1;
/** At most this many shifts per frame. */
const MAX_SHIFTS = 4;

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
 * Moves rows of `next` that sit elsewhere in `lastRows` (what the receiver shows) with
 * scrolling operations written by `p`, when that is cheaper than redrawing them. Returns the
 * receiver's rows after the shifts (`lastRows` itself when nothing moved).
 */
export function shiftRows(
  p: Painter,
  lastRows: readonly Row[],
  next: readonly Row[],
): readonly Row[] {
  const h = p.height;
  let candidates = false;
  for (let y = 0; y < h; y++) {
    const n = next[y], o = lastRows[y];
    if (n !== o && n.gen !== o.gen) {
      candidates = true;
      break;
    }
  }
  if (!candidates) return lastRows;
  let cur = lastRows;
  for (let round = 0; round < MAX_SHIFTS; round++) {
    const { best, profitable } = findShift(cur, next, p.width, p.cursorRow);
    if (best === null) break;
    if (cur === lastRows) cur = lastRows.slice();
    applyShift(p, cur as Row[], best);
    if (profitable === 1) break; // nothing else moved
  }
  return cur;
}

/**
 * The most profitable shift that brings rows of `cur` (the receiver's) to where `next` has
 * them, for a `w`-column screen whose cursor is on row `cursorRow`.
 */
export function findShift(
  cur: readonly Row[],
  next: readonly Row[],
  w: number,
  cursorRow: number,
): ShiftSearch {
  const h = cur.length;
  let profitable = 0, bestNet = MIN_SHIFT_GAIN - 1;
  let best: Shift | null = null;
  let y = 0;
  while (y < h) {
    const n = next[y], c = cur[y];
    if (n === c || n.gen === c.gen) {
      y++;
      continue;
    }
    // Where the row was: by generation (a hint, checked), else by contents.
    const gen = n.gen;
    let from = -1;
    for (let k = 0; k < h; k++) {
      if (cur[k].gen === gen) {
        if (rowsEqual(n, cur[k])) from = k;
        break;
      }
    }
    if (from < 0) {
      if (ink(n) === 0 || n.sameCells(c)) {
        y++;
        continue;
      }
      from = findRow(cur, n, y);
      if (from < 0) {
        y++;
        continue;
      }
    }
    // Rows first..last of `next` all moved by the same distance.
    const by = from - y;
    let first = y, last = y;
    while (first > 0 && first - 1 + by >= 0 && rowsEqual(next[first - 1], cur[first - 1 + by])) {
      first--;
    }
    while (last + 1 < h && last + 1 + by < h && rowsEqual(next[last + 1], cur[last + 1 + by])) {
      last++;
    }
    const top = by > 0 ? first : first + by, bottom = by > 0 ? last + by : last;
    // Rows the shift blanks that were already right must be drawn again.
    let loss = shiftCost(top, bottom, by, h, cursorRow);
    const blankFrom = by > 0 ? last + 1 : top, blankTo = by > 0 ? bottom : first - 1;
    for (let j = blankFrom; j <= blankTo; j++) if (rowsEqual(next[j], cur[j])) loss += ink(next[j]);
    // What redrawing the rows would cost, counted only up to a cap to keep this cheap.
    const cap = loss + 4 * w;
    let gain = 0;
    for (let j = first; j <= last && gain < cap; j++) {
      const k = ink(next[j]);
      if (k > 0 && !rowsEqual(next[j], cur[j])) gain += k;
    }
    const net = gain - loss;
    if (net >= MIN_SHIFT_GAIN) profitable++;
    if (net > bestNet) {
      bestNet = net;
      best = { top, bottom, by };
    }
    y = last + 1;
  }
  return { best, profitable };
}

/** A row of `cur` other than `y` with the same cells as `n`, nearest to `y` first; or -1. */
function findRow(cur: readonly Row[], n: Row, y: number): number {
  const h = cur.length, nd = n.data;
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

/** Estimated bytes of shifting rows top..bottom by `by` (the encodings of `applyShift`). */
function shiftCost(top: number, bottom: number, by: number, h: number, cursorRow: number): number {
  const n = by > 0 ? by : -by;
  const op = csiLen(n);
  if (bottom === h - 1) return (cursorRow === top ? 0 : cupLen(top, 0)) + op;
  const region = 5 + digits(top + 1) + digits(bottom + 1);
  return Math.min(cupLen(top, 0) + cupLen(bottom - n + 1, 0) + 2 * op, region + op + 3);
}

/**
 * Shifts the receiver's rows as `shift` says and updates the model `cur` the same way; blank
 * default rows come in.
 */
function applyShift(p: Painter, cur: Row[], shift: Shift): void {
  const { top, bottom, by } = shift;
  const h = p.height, n = by > 0 ? by : -by;
  if (p.bg !== 0) p.sgr(0, 0, 0); // rows come in with the pen's background
  if (bottom === h - 1) {
    if (by > 0 && top === 0 && p.cursorRow === h - 1 && n < 4) {
      // LF on the bottom row scrolls the screen; the column is kept.
      p.ensure(n);
      for (let i = 0; i < n; i++) p.buf[p.len++] = 0x0a;
      p.wrapRow = -1;
      p.combAtCursor = true;
    } else if (by < 0 && top === 0 && p.cursorRow === 0 && n < 3) {
      for (let i = 0; i < n; i++) p.ascii("\x1bM"); // RI on the top row
      p.wrapRow = -1;
      p.combAtCursor = true;
    } else {
      p.moveToRow(top);
      p.csi(n, by > 0 ? 0x4d : 0x4c); // DL / IL
      p.cursorCol = 0;
      p.combAtCursor = true;
    }
  } else {
    const region = 5 + digits(top + 1) + digits(bottom + 1);
    const pair = cupLen(top, 0) + cupLen(bottom - n + 1, 0) + csiLen(n);
    if (pair <= region + 3) {
      // Without a region: DL then IL (or IL after DL) so rows below `bottom` end up in place.
      if (by > 0) {
        p.moveToRow(top);
        p.csi(n, 0x4d);
        p.moveToRow(bottom - n + 1);
        p.csi(n, 0x4c);
      } else {
        p.moveToRow(bottom - n + 1);
        p.csi(n, 0x4d);
        p.moveToRow(top);
        p.csi(n, 0x4c);
      }
      p.cursorCol = 0;
      p.combAtCursor = true;
    } else {
      p.hide();
      p.region(top, bottom);
      p.combAtCursor = true;
      p.moveToRow(top);
      p.csi(n, by > 0 ? 0x4d : 0x4c);
      p.ascii("\x1b[r");
      p.cursorRow = 0;
      p.cursorCol = 0;
    }
  }
  const blank = blankRow(p.width);
  if (by > 0) {
    for (let j = top; j <= bottom - n; j++) cur[j] = cur[j + n];
    for (let j = bottom - n + 1; j <= bottom; j++) cur[j] = blank;
  } else {
    for (let j = bottom; j >= top + n; j--) cur[j] = cur[j - n];
    for (let j = top; j < top + n; j++) cur[j] = blank;
  }
}

/**
 * One predicted cell and one predicted cursor position of the local echo prediction engine, the
 * row edits that predict an inserted or deleted character, and the comparisons that judge a
 * predicted cell against the server's (docs/PROTOCOL.md §8.4 "Creating predictions" and
 * "Checking predictions", §9.5 for what "blank" means).
 */

import { CELL_WORDS, FLAG_WRAP, type Row } from "./framebuffer.ts";

/** A predicted cell: the replacement in framebuffer words, plus its judging state. */
export class CellPrediction {
  active = false;
  /** The cell's future is unknown (shifted past the line end): drawn as it is, underlined. */
  unknown = false;
  epoch = 0;
  expiry = 0n;
  time = 0;
  /** Replacement cell: code point, foreground, background, attributes and flags. */
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  /** Contents of a replacement holding several code points; null for one code point. */
  multi: string | null = null;
  /** Blank-normalised contents the cell showed before; echoing one of them earns no credit. */
  originals: string[] = [];

  clear(): void {
    this.active = false;
    this.unknown = false;
    this.originals.length = 0;
  }

  /** Drops the prediction but remembers its replacement as one more original content. */
  clearKeepingOriginal(): void {
    if (!this.active || this.unknown) {
      this.clear();
      return;
    }
    this.originals.push(normalise(this.w0, this.multi));
    this.active = false;
  }

  copyFrom(o: CellPrediction): void {
    this.w0 = o.w0;
    this.w1 = o.w1;
    this.w2 = o.w2;
    this.w3 = o.w3;
    this.multi = o.multi;
  }

  copyFromRow(row: Row, col: number): void {
    const d = row.data, at = col * CELL_WORDS;
    this.w0 = d[at];
    this.w1 = d[at + 1];
    this.w2 = d[at + 2];
    this.w3 = d[at + 3] & ~FLAG_WRAP;
    this.multi = row.multi?.get(col) ?? null;
  }

  get blank(): boolean {
    return this.multi === null && isBlankCodePoint(this.w0);
  }
}

/** A predicted cursor position. */
export interface CursorPrediction {
  row: number;
  col: number;
  epoch: number;
  expiry: bigint;
  time: number;
}

/** Empty, space or U+00A0: mosh's blank contents. */
export function isBlankCodePoint(cp: number): boolean {
  return cp === 0 || cp === 0x20 || cp === 0xa0;
}

/** Cell contents for comparison: every blank (empty, space, U+00A0) is " ". */
export function normalise(w0: number, multi: string | null): string {
  if (multi !== null) return multi;
  return isBlankCodePoint(w0) ? " " : String.fromCodePoint(w0);
}

/** The blank-normalised contents of `row`'s cell `col` (see normalise). */
export function rowCellKey(row: Row, col: number): string {
  const at = col * CELL_WORDS;
  return normalise(row.data[at], row.multi?.get(col) ?? null);
}

/** mosh's contents match: both blank, or the same contents. */
export function contentsMatch(row: Row, col: number, p: CellPrediction): boolean {
  const at = col * CELL_WORDS;
  const w0 = row.data[at], realMulti = row.multi?.get(col) ?? null;
  if (realMulti === null && p.multi === null) {
    return w0 === p.w0 || (isBlankCodePoint(w0) && isBlankCodePoint(p.w0));
  }
  return realMulti === p.multi;
}

/** The real cell equals the replacement (the wrap flag, a row property, is ignored). */
export function sameCell(row: Row, col: number, p: CellPrediction): boolean {
  const d = row.data, at = col * CELL_WORDS;
  if (
    d[at] !== p.w0 || d[at + 1] !== p.w1 || d[at + 2] !== p.w2 ||
    (d[at + 3] & ~FLAG_WRAP) !== p.w3
  ) return false;
  return (row.multi?.get(col) ?? null) === p.multi;
}

/**
 * Predicts a character inserted at `col` of a row `width` wide: the cells right of it shift one
 * column right (predicted contents if active, else what `real` shows), the last one unknown. Each
 * shifted cell is re-made by `activate` and remembers what `real` showed there.
 */
export function predictInsert(
  cells: CellPrediction[],
  real: Row,
  col: number,
  width: number,
  activate: (c: CellPrediction) => void,
): void {
  for (let i = width - 1; i > col; i--) {
    const c = cells[i];
    c.clearKeepingOriginal();
    activate(c);
    c.originals.push(rowCellKey(real, i));
    const prev = cells[i - 1];
    if (i === width - 1) {
      c.unknown = true;
    } else if (prev.active) {
      c.unknown = prev.unknown;
      if (!prev.unknown) c.copyFrom(prev);
    } else {
      c.unknown = false;
      c.copyFromRow(real, i - 1);
    }
  }
}

/**
 * Predicts the character at `col` of a row `width` wide deleted: the cells from it on shift one
 * column left, the last two unknown. Each is re-made by `activate` and remembers what `real`
 * showed there.
 */
export function predictDelete(
  cells: CellPrediction[],
  real: Row,
  col: number,
  width: number,
  activate: (c: CellPrediction) => void,
): void {
  for (let i = col; i < width; i++) {
    const c = cells[i];
    c.clearKeepingOriginal();
    activate(c);
    c.originals.push(rowCellKey(real, i));
    if (i + 2 < width) {
      const next = cells[i + 1];
      if (next.active) {
        c.unknown = next.unknown;
        if (!next.unknown) c.copyFrom(next);
      } else {
        c.unknown = false;
        c.copyFromRow(real, i + 1);
      }
    } else {
      c.unknown = true;
    }
  }
}

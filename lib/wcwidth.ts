/**
 * Character widths: glibc 2.36's `wcwidth` for every code point, and mosh's printing width
 * (docs/PROTOCOL.md §9.4: printable ISO-8859-1 is width 1, everything else asks wcwidth).
 *
 * The range table in wcwidth_table.ts (generated from libc by tools/gen_wcwidth.ts) is expanded
 * once, at module load, into a two-level lookup: `blockIndex` maps each 256-code-point block to a
 * block of `blocks`, which holds one signed width per code point. Blocks 0-3 are the uniform
 * blocks of width -1, 0, 1 and 2, so most of the 4352 blocks of Unicode share them and the whole
 * table takes about 80 KB. A lookup is two array reads and allocates nothing.
 */

import { WCWIDTH_RANGES } from "./wcwidth_table.ts";

const MAX_CODE_POINT = 0x10ffff;
const BLOCK_BITS = 8;
const BLOCK_SIZE = 1 << BLOCK_BITS;
const BLOCK_COUNT = (MAX_CODE_POINT + 1) >> BLOCK_BITS;

const { blockIndex, blocks } = buildTables();

function buildTables(): { blockIndex: Uint16Array; blocks: Int8Array } {
  // Straight from the ranges, without expanding all of Unicode (which took ~15 ms at every start):
  // a block inside one range, or between ranges, is uniform; a block a range edge falls in is
  // mixed, unless its own widths turn out to be all the same.
  const blockIndex = new Uint16Array(BLOCK_COUNT).fill(2); // width 1 outside the ranges
  const MIXED = 0xffff;
  const ranges = WCWIDTH_RANGES;
  for (let i = 0; i < ranges.length; i += 3) {
    const first = ranges[i], last = ranges[i + 1], w = ranges[i + 2];
    const fb = first >> BLOCK_BITS, lb = last >> BLOCK_BITS;
    for (let blk = fb; blk <= lb; blk++) {
      const whole = (blk > fb || (first & (BLOCK_SIZE - 1)) === 0) &&
        (blk < lb || (last & (BLOCK_SIZE - 1)) === BLOCK_SIZE - 1);
      blockIndex[blk] = whole ? w + 1 : MIXED;
    }
  }
  const mixed: number[] = [];
  for (let blk = 0; blk < BLOCK_COUNT; blk++) if (blockIndex[blk] === MIXED) mixed.push(blk);
  const scratch = new Int8Array(mixed.length * BLOCK_SIZE).fill(1);
  for (let i = 0, k = 0; i < ranges.length; i += 3) {
    const first = ranges[i], last = ranges[i + 1], w = ranges[i + 2];
    // mixed blocks and ranges are both ascending: advance k to the first block the range reaches
    while (k < mixed.length && (mixed[k] + 1) << BLOCK_BITS <= first) k++;
    for (let j = k; j < mixed.length && mixed[j] << BLOCK_BITS <= last; j++) {
      const start = mixed[j] << BLOCK_BITS;
      const from = Math.max(first, start) - start,
        to = Math.min(last, start + BLOCK_SIZE - 1) - start;
      scratch.fill(w, j * BLOCK_SIZE + from, j * BLOCK_SIZE + to + 1);
    }
  }
  // Blocks 0-3 are the uniform blocks of width -1..2; then each mixed block that really is mixed.
  let count = 4;
  const blocks = new Int8Array((4 + mixed.length) * BLOCK_SIZE);
  for (let w = -1; w <= 2; w++) blocks.fill(w, (w + 1) * BLOCK_SIZE, (w + 2) * BLOCK_SIZE);
  for (let j = 0; j < mixed.length; j++) {
    const own = scratch.subarray(j * BLOCK_SIZE, (j + 1) * BLOCK_SIZE);
    const w = own[0];
    if (own.every((x) => x === w)) {
      blockIndex[mixed[j]] = w + 1;
    } else {
      blockIndex[mixed[j]] = count;
      blocks.set(own, count++ * BLOCK_SIZE);
    }
  }
  return { blockIndex, blocks: blocks.slice(0, count * BLOCK_SIZE) };
}

/**
 * glibc 2.36 `wcwidth(cp)` in the C.UTF-8 locale: 0 for combining marks (and NUL), 2 for wide
 * (East Asian Wide/Fullwidth, most emoji), -1 for controls, unassigned and non-characters, 1
 * otherwise. Values outside 0..0x10FFFF give -1.
 */
export function wcwidth(cp: number): number {
  if (cp < 0x7f) return cp >= 0x20 ? 1 : cp === 0 ? 0 : -1;
  if (cp > MAX_CODE_POINT) return -1;
  return blocks[(blockIndex[cp >> BLOCK_BITS] << BLOCK_BITS) | (cp & (BLOCK_SIZE - 1))];
}

/**
 * The width mosh's emulator gives a printed code point (§9.4): 1 for printable ISO-8859-1
 * (0x20-0x7E and 0xA0-0xFF), otherwise `wcwidth(cp)`. Callers handle 2 (wide), 0 (combining)
 * and -1 (ignored).
 */
export function charWidth(cp: number): number {
  if (cp < 0x7f) return cp >= 0x20 ? 1 : wcwidth(cp);
  if (cp >= 0xa0 && cp <= 0xff) return 1;
  return wcwidth(cp);
}

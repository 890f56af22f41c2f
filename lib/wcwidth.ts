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
  const flat = new Int8Array(MAX_CODE_POINT + 1).fill(1);
  for (let i = 0; i < WCWIDTH_RANGES.length; i += 3) {
    flat.fill(WCWIDTH_RANGES[i + 2], WCWIDTH_RANGES[i], WCWIDTH_RANGES[i + 1] + 1);
  }
  const blockIndex = new Uint16Array(BLOCK_COUNT);
  const mixed: number[] = [];
  for (let b = 0; b < BLOCK_COUNT; b++) {
    const start = b << BLOCK_BITS;
    const w = flat[start];
    let uniform = true;
    for (let i = 1; i < BLOCK_SIZE; i++) {
      if (flat[start + i] !== w) {
        uniform = false;
        break;
      }
    }
    if (uniform) {
      blockIndex[b] = w + 1; // uniform blocks 0..3 hold widths -1..2
    } else {
      blockIndex[b] = 4 + mixed.length;
      mixed.push(b);
    }
  }
  const blocks = new Int8Array((4 + mixed.length) * BLOCK_SIZE);
  for (let w = -1; w <= 2; w++) blocks.fill(w, (w + 1) * BLOCK_SIZE, (w + 2) * BLOCK_SIZE);
  for (let i = 0; i < mixed.length; i++) {
    const start = mixed[i] << BLOCK_BITS;
    blocks.set(flat.subarray(start, start + BLOCK_SIZE), (4 + i) * BLOCK_SIZE);
  }
  return { blockIndex, blocks };
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

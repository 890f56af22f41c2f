/**
 * The zlib and DEFLATE formats' shared facts (RFC 1950, RFC 1951; docs/PROTOCOL.md §12.4): the
 * length and distance code tables, the order of code length codes, the fixed Huffman code, the
 * canonical code assignment, and the Adler-32 checksum. lib/inflate.ts and lib/deflate.ts both
 * read them; nothing here keeps state.
 */

/** Base match length of length codes 257..285 (RFC 1951 §3.2.5), indexed by code - 257. */
export const LENGTH_BASE = Uint16Array.of(
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  13,
  15,
  17,
  19,
  23,
  27,
  31,
  35,
  43,
  51,
  59,
  67,
  83,
  99,
  115,
  131,
  163,
  195,
  227,
  258,
);
/** Extra bits of length codes 257..285, indexed by code - 257. */
export const LENGTH_EXTRA = Uint8Array.of(
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  5,
  5,
  5,
  5,
  0,
);
/** Base distance of distance codes 0..29 (RFC 1951 §3.2.5). */
export const DIST_BASE = Uint16Array.of(
  1,
  2,
  3,
  4,
  5,
  7,
  9,
  13,
  17,
  25,
  33,
  49,
  65,
  97,
  129,
  193,
  257,
  385,
  513,
  769,
  1025,
  1537,
  2049,
  3073,
  4097,
  6145,
  8193,
  12289,
  16385,
  24577,
);
/** Extra bits of distance codes 0..29. */
export const DIST_EXTRA = Uint8Array.of(
  0,
  0,
  0,
  0,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  5,
  5,
  6,
  6,
  7,
  7,
  8,
  8,
  9,
  9,
  10,
  10,
  11,
  11,
  12,
  12,
  13,
  13,
);
/** The order in which a dynamic block lists its code length code lengths (RFC 1951 §3.2.7). */
export const CODE_LENGTH_ORDER = Uint8Array.of(
  16,
  17,
  18,
  0,
  8,
  7,
  9,
  6,
  10,
  5,
  11,
  4,
  12,
  3,
  13,
  2,
  14,
  1,
  15,
);
/** Longest Huffman code in DEFLATE. */
export const MAX_BITS = 15;
/** Number of literal/length symbols (0..287, of which 286 and 287 never occur in data). */
export const LITLEN_SYMBOLS = 288;
/** Number of distance symbols (0..31, of which 30 and 31 never occur in data). */
export const DIST_SYMBOLS = 32;
/** End-of-block symbol. */
export const END_OF_BLOCK = 256;
/** The sliding window: distances reach back at most this far. */
export const WINDOW_SIZE = 32768;
/** Longest match. */
export const MAX_MATCH = 258;
/** Shortest match. */
export const MIN_MATCH = 3;

/** Code lengths of the fixed literal/length code (RFC 1951 §3.2.6). */
export const FIXED_LITLEN_LENGTHS: Uint8Array = (() => {
  const l = new Uint8Array(LITLEN_SYMBOLS);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  return l;
})();
/** Code lengths of the fixed distance code: 5 bits each. */
export const FIXED_DIST_LENGTHS: Uint8Array = new Uint8Array(DIST_SYMBOLS).fill(5);

/** `code`'s low `len` bits in reverse order (DEFLATE sends Huffman codes most significant first). */
export function reverseBits(code: number, len: number): number {
  let r = 0;
  for (let i = 0; i < len; i++) {
    r = (r << 1) | (code & 1);
    code >>>= 1;
  }
  return r;
}

/**
 * The canonical codes for `lengths` (RFC 1951 §3.2.2), bit-reversed so that they can be sent
 * (or looked up) least significant bit first; symbols with length 0 get no code. Returns null when
 * the lengths over-subscribe the code space (more codes than fit in their lengths).
 */
export function canonicalCodes(lengths: Uint8Array, n = lengths.length): Uint16Array | null {
  const count = new Uint16Array(MAX_BITS + 1);
  for (let s = 0; s < n; s++) count[lengths[s]]++;
  count[0] = 0;
  const next = new Uint16Array(MAX_BITS + 1);
  let code = 0;
  let left = 1;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - count[len];
    if (left < 0) return null;
    code = (code + count[len - 1]) << 1;
    next[len] = code;
  }
  const codes = new Uint16Array(n);
  for (let s = 0; s < n; s++) {
    const len = lengths[s];
    if (len !== 0) codes[s] = reverseBits(next[len]++, len);
  }
  return codes;
}

/** Adler-32 of `data` (RFC 1950 §8.2), as an unsigned 32-bit number. */
export function adler32(data: Uint8Array): number {
  let a = 1, b = 0;
  const n = data.length;
  let i = 0;
  while (i < n) {
    // zlib sums up to 5552 bytes between reductions (b < 2^32); 2048 keeps b under 2^30, a small
    // integer for V8, which is several times faster than overflowing into doubles; unrolled by 8:
    // 25% faster.
    const end = Math.min(n, i + 2048);
    for (const end8 = end - 7; i < end8; i += 8) {
      a += data[i];
      b += a;
      a += data[i + 1];
      b += a;
      a += data[i + 2];
      b += a;
      a += data[i + 3];
      b += a;
      a += data[i + 4];
      b += a;
      a += data[i + 5];
      b += a;
      a += data[i + 6];
      b += a;
      a += data[i + 7];
      b += a;
    }
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * zlib compression (RFC 1950 around RFC 1951 DEFLATE), for sent instructions
 * (docs/PROTOCOL.md §3.2, §12.4: C mosh compresses each instruction with compress(), zlib's default
 * level; any valid zlib stream is accepted by its uncompress()).
 *
 * Steps, after zlib's default level (6):
 * 1. LZ77 with a hash chain over the last 32 KiB: each position's 3-byte hash heads a chain of
 *    earlier positions with the same hash; up to 128 of them are compared (32 once a match of 8 is
 *    in hand) and a match of 128 ends the search. Matching is lazy: a match is taken only if the
 *    next position does not start a longer one. A 3-byte match more than 4 KiB back is not worth
 *    its distance code and stays literal.
 * 2. Every 16,384 symbols, and at the end, a block: whichever is smallest of a stored block, the
 *    fixed Huffman code, or a dynamic Huffman code built from the block's own symbol counts
 *    (lengths limited to 15 bits, 7 for the code length code; ties go to the fixed code, as zlib
 *    does, so short instructions come out byte for byte as C mosh's).
 * 3. The zlib header (78 9c) before and the Adler-32 of the input after.
 *
 * The hash tables and the symbol buffer are kept between calls (compression is synchronous and
 * one call never sees another's positions: each call's positions start above the last one's).
 */

import {
  adler32,
  canonicalCodes,
  CODE_LENGTH_ORDER,
  DIST_BASE,
  DIST_EXTRA,
  DIST_SYMBOLS,
  END_OF_BLOCK,
  FIXED_DIST_LENGTHS,
  FIXED_LITLEN_LENGTHS,
  LENGTH_BASE,
  LENGTH_EXTRA,
  LITLEN_SYMBOLS,
  MAX_BITS,
  MAX_MATCH,
  MIN_MATCH,
  WINDOW_SIZE,
} from "./zlib_format.ts";

// zlib's level 6 parameters (deflate.c configuration_table).
const GOOD_LENGTH = 8;
const MAX_LAZY = 16;
const NICE_LENGTH = 128;
const MAX_CHAIN = 128;
/** A match of exactly MIN_MATCH further back than this costs more than its literals. */
const TOO_FAR = 4096;
/** Farthest distance used: the window less the lookahead zlib keeps (MAX_MATCH + MIN_MATCH + 1). */
const MAX_DIST = WINDOW_SIZE - (MAX_MATCH + MIN_MATCH + 1);
/** Symbols per block (zlib's lit_bufsize at memLevel 8). */
const BLOCK_SYMBOLS = 16384;
const HASH_BITS = 15;
const WINDOW_MASK = WINDOW_SIZE - 1;
/** Longest code length of the code length code. */
const MAX_CL_BITS = 7;

// Symbol code of each match length 3..258, and of each distance (zlib's _length_code, _dist_code).
const LENGTH_CODE = new Uint8Array(MAX_MATCH + 1);
for (let code = 0; code < 29; code++) {
  const end = code === 28 ? MAX_MATCH + 1 : LENGTH_BASE[code] + (1 << LENGTH_EXTRA[code]);
  for (let len = LENGTH_BASE[code]; len < end && len <= MAX_MATCH; len++) LENGTH_CODE[len] = code;
}
LENGTH_CODE[MAX_MATCH] = 28;
/** Distance code of distance d: DIST_CODE[d - 1] for d <= 256, else DIST_CODE[256 + ((d - 1) >> 7)]. */
const DIST_CODE = new Uint8Array(512);
{
  let d = 0;
  for (let code = 0; code < 16; code++) {
    for (let i = 0; i < 1 << DIST_EXTRA[code]; i++) DIST_CODE[d++] = code;
  }
  d >>= 7;
  for (let code = 16; code < 30; code++) {
    for (let i = 0; i < 1 << (DIST_EXTRA[code] - 7); i++) DIST_CODE[256 + d++] = code;
  }
}
const distCode = (dist: number) =>
  dist <= 256 ? DIST_CODE[dist - 1] : DIST_CODE[256 + ((dist - 1) >> 7)];

const FIXED_LITLEN_CODES = canonicalCodes(FIXED_LITLEN_LENGTHS)!;
const FIXED_DIST_CODES = canonicalCodes(FIXED_DIST_LENGTHS)!;

// State kept between calls (see the module comment).
const head = new Int32Array(1 << HASH_BITS);
const prev = new Int32Array(WINDOW_SIZE);
/** Positions of this call are `base + i`; anything below base belongs to an earlier call. */
let base = 1;
const symLen = new Uint16Array(BLOCK_SYMBOLS); // 0 for a literal, else the match length
const symVal = new Uint16Array(BLOCK_SYMBOLS); // the literal byte, or the match distance
const litFreq = new Uint32Array(LITLEN_SYMBOLS);
const distFreq = new Uint32Array(DIST_SYMBOLS);

/** Output bytes and the bits not yet a whole byte; grows as needed, reused between calls. */
class BitWriter {
  buf = new Uint8Array(4096);
  at = 0;
  #bits = 0;
  #count = 0;

  reset(): void {
    this.at = 0;
    this.#bits = 0;
    this.#count = 0;
  }

  #room(more: number): void {
    if (this.at + more <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + more));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
  }

  /** Appends the low `len` (at most 16) bits of `value`, least significant first. */
  put(value: number, len: number): void {
    this.#bits |= value << this.#count;
    this.#count += len;
    if (this.#count >= 8) {
      this.#room(3);
      while (this.#count >= 8) {
        this.buf[this.at++] = this.#bits & 0xff;
        this.#bits >>>= 8;
        this.#count -= 8;
      }
    }
  }

  /** Pads to a byte boundary with zero bits. */
  align(): void {
    if (this.#count > 0) this.put(0, 8 - this.#count);
  }

  /** Appends whole bytes (after align()). */
  bytes(data: Uint8Array): void {
    this.#room(data.length);
    this.buf.set(data, this.at);
    this.at += data.length;
  }
}
const writer = new BitWriter();

/**
 * Huffman code lengths for `freq[0..n)`, none longer than `maxBits` (symbols with frequency 0
 * get 0). At least two symbols get codes, so the code is complete (zlib does the same).
 */
function codeLengths(freq: Uint32Array, n: number, maxBits: number): Uint8Array {
  const lengths = new Uint8Array(n);
  const syms: number[] = [];
  for (let s = 0; s < n; s++) if (freq[s] > 0) syms.push(s);
  for (let s = 0; syms.length < 2; s++) if (freq[s] === 0) syms.push(s);
  syms.sort((a, b) => freq[a] - freq[b] || a - b);
  const m = syms.length;
  // Moffat and Katajainen's in-place minimum-redundancy code: a[i] ends as the length of the
  // i-th least frequent symbol.
  const a = new Int32Array(m);
  for (let i = 0; i < m; i++) a[i] = Math.max(1, freq[syms[i]]);
  a[0] += a[1];
  let root = 0, leaf = 2;
  for (let next = 1; next < m - 1; next++) {
    if (leaf >= m || a[root] < a[leaf]) {
      a[next] = a[root];
      a[root++] = next;
    } else a[next] = a[leaf++];
    if (leaf >= m || (root < next && a[root] < a[leaf])) {
      a[next] += a[root];
      a[root++] = next;
    } else a[next] += a[leaf++];
  }
  a[m - 2] = 0;
  for (let next = m - 3; next >= 0; next--) a[next] = a[a[next]] + 1;
  let avail = 1, used = 0, depth = 0, next = m - 1;
  root = m - 2;
  while (avail > 0) {
    while (root >= 0 && a[root] === depth) {
      used++;
      root--;
    }
    while (avail > used) {
      a[next--] = depth;
      avail--;
    }
    avail = 2 * used;
    depth++;
    used = 0;
  }
  // Count codes per length, fold the too-long ones into maxBits, then rebalance (as miniz does).
  const count = new Uint32Array(Math.max(maxBits, 32) + 1);
  for (let i = 0; i < m; i++) count[Math.min(a[i], maxBits)]++;
  let total = 0;
  for (let len = maxBits; len > 0; len--) total += count[len] * (1 << (maxBits - len));
  while (total > 1 << maxBits) {
    count[maxBits]--;
    for (let len = maxBits - 1; len > 0; len--) {
      if (count[len] !== 0) {
        count[len]--;
        count[len + 1] += 2;
        break;
      }
    }
    total--;
  }
  // The most frequent symbols get the shortest codes.
  let j = m;
  for (let len = 1; len <= maxBits; len++) {
    for (let k = count[len]; k > 0; k--) lengths[syms[--j]] = len;
  }
  return lengths;
}

/** The code length sequence of a dynamic block's header, run-length coded (RFC 1951 §3.2.7). */
interface Header {
  nlit: number;
  ndist: number;
  nclen: number;
  /** Code length symbols 0..18, each with its repeat count's extra bits in `extra`. */
  syms: number[];
  extra: number[];
  clLengths: Uint8Array;
  clCodes: Uint16Array;
  bits: number;
}

function dynamicHeader(litLengths: Uint8Array, distLengths: Uint8Array): Header {
  let nlit = 286;
  while (nlit > 257 && litLengths[nlit - 1] === 0) nlit--;
  let ndist = 30;
  while (ndist > 1 && distLengths[ndist - 1] === 0) ndist--;
  const all = new Uint8Array(nlit + ndist);
  all.set(litLengths.subarray(0, nlit));
  all.set(distLengths.subarray(0, ndist), nlit);
  const syms: number[] = [], extra: number[] = [];
  const clFreq = new Uint32Array(19);
  for (let i = 0; i < all.length;) {
    const len = all[i];
    let run = 1;
    while (i + run < all.length && all[i + run] === len) run++;
    i += run;
    if (len === 0) {
      while (run >= 11) {
        const r = Math.min(run, 138);
        syms.push(18), extra.push(r - 11), clFreq[18]++, run -= r;
      }
      if (run >= 3) syms.push(17), extra.push(run - 3), clFreq[17]++, run = 0;
    } else {
      syms.push(len), extra.push(0), clFreq[len]++, run--;
      while (run >= 3) {
        const r = Math.min(run, 6);
        syms.push(16), extra.push(r - 3), clFreq[16]++, run -= r;
      }
    }
    for (; run > 0; run--) syms.push(len), extra.push(0), clFreq[len]++;
  }
  const clLengths = codeLengths(clFreq, 19, MAX_CL_BITS);
  let nclen = 19;
  while (nclen > 4 && clLengths[CODE_LENGTH_ORDER[nclen - 1]] === 0) nclen--;
  let bits = 5 + 5 + 4 + 3 * nclen;
  for (let s = 0; s < 19; s++) bits += clFreq[s] * clLengths[s];
  bits += clFreq[16] * 2 + clFreq[17] * 3 + clFreq[18] * 7;
  return { nlit, ndist, nclen, syms, extra, clLengths, clCodes: canonicalCodes(clLengths)!, bits };
}

/** Bits of the block's symbols (without header) under the given code lengths. */
function symbolBits(litLengths: Uint8Array, distLengths: Uint8Array): number {
  let bits = 0;
  for (let s = 0; s < LITLEN_SYMBOLS; s++) {
    const f = litFreq[s];
    if (f === 0) continue;
    bits += f * litLengths[s];
    if (s > END_OF_BLOCK) bits += f * LENGTH_EXTRA[s - 257];
  }
  for (let d = 0; d < 30; d++) bits += distFreq[d] * (distLengths[d] + DIST_EXTRA[d]);
  return bits;
}

function writeSymbols(
  count: number,
  litLengths: Uint8Array,
  litCodes: Uint16Array,
  distLengths: Uint8Array,
  distCodes: Uint16Array,
): void {
  const w = writer;
  for (let k = 0; k < count; k++) {
    const len = symLen[k];
    if (len === 0) {
      const b = symVal[k];
      w.put(litCodes[b], litLengths[b]);
      continue;
    }
    const lc = LENGTH_CODE[len];
    w.put(litCodes[257 + lc], litLengths[257 + lc]);
    if (LENGTH_EXTRA[lc] !== 0) w.put(len - LENGTH_BASE[lc], LENGTH_EXTRA[lc]);
    const dist = symVal[k];
    const dc = distCode(dist);
    w.put(distCodes[dc], distLengths[dc]);
    if (DIST_EXTRA[dc] !== 0) w.put(dist - DIST_BASE[dc], DIST_EXTRA[dc]);
  }
  w.put(litCodes[END_OF_BLOCK], litLengths[END_OF_BLOCK]);
}

/** Writes one block of the `count` buffered symbols, which cover input[from, to). */
function flushBlock(input: Uint8Array, from: number, to: number, count: number, final: boolean) {
  litFreq[END_OF_BLOCK]++;
  const litLengths = codeLengths(litFreq, LITLEN_SYMBOLS - 2, MAX_BITS);
  const distLengths = codeLengths(distFreq, DIST_SYMBOLS - 2, MAX_BITS);
  const header = dynamicHeader(litLengths, distLengths);
  const dynamicBits = 3 + header.bits + symbolBits(litLengths, distLengths);
  const fixedBits = 3 + symbolBits(FIXED_LITLEN_LENGTHS, FIXED_DIST_LENGTHS);
  const bestBits = Math.min(dynamicBits, fixedBits);
  const storedBytes = (to - from) + 5 * Math.max(1, Math.ceil((to - from) / 65535));
  const w = writer;
  if (storedBytes <= (bestBits + 7) >> 3) {
    for (let at = from; at < to || at === from;) {
      const len = Math.min(65535, to - at);
      w.put(final && at + len === to ? 1 : 0, 1);
      w.put(0, 2);
      w.align();
      w.bytes(Uint8Array.of(len & 0xff, len >> 8, ~len & 0xff, (~len >> 8) & 0xff));
      w.bytes(input.subarray(at, at + len));
      at += len;
      if (len === 0) break;
    }
  } else if (fixedBits <= dynamicBits) {
    w.put(final ? 1 : 0, 1);
    w.put(1, 2);
    writeSymbols(
      count,
      FIXED_LITLEN_LENGTHS,
      FIXED_LITLEN_CODES,
      FIXED_DIST_LENGTHS,
      FIXED_DIST_CODES,
    );
  } else {
    w.put(final ? 1 : 0, 1);
    w.put(2, 2);
    w.put(header.nlit - 257, 5);
    w.put(header.ndist - 1, 5);
    w.put(header.nclen - 4, 4);
    for (let i = 0; i < header.nclen; i++) w.put(header.clLengths[CODE_LENGTH_ORDER[i]], 3);
    for (let i = 0; i < header.syms.length; i++) {
      const s = header.syms[i];
      w.put(header.clCodes[s], header.clLengths[s]);
      if (s >= 16) w.put(header.extra[i], s === 16 ? 2 : s === 17 ? 3 : 7);
    }
    writeSymbols(
      count,
      litLengths,
      canonicalCodes(litLengths)!,
      distLengths,
      canonicalCodes(distLengths)!,
    );
  }
  litFreq.fill(0);
  distFreq.fill(0);
}

/** Compresses `input` into one zlib stream. */
export function deflate(input: Uint8Array): Uint8Array {
  const n = input.length;
  if (base + n + WINDOW_SIZE > 0x3fff_ffff) {
    head.fill(0);
    base = 1;
  }
  const b = base;
  base += n + WINDOW_SIZE;
  const w = writer;
  w.reset();
  w.put(0x78, 8);
  w.put(0x9c, 8);

  let count = 0; // symbols in the current block
  let blockStart = 0;
  const literal = (byte: number) => {
    symLen[count] = 0;
    symVal[count++] = byte;
    litFreq[byte]++;
  };
  const match = (len: number, dist: number) => {
    symLen[count] = len;
    symVal[count++] = dist;
    litFreq[257 + LENGTH_CODE[len]]++;
    distFreq[distCode(dist)]++;
  };
  const hashAt = (i: number) =>
    Math.imul(input[i] | (input[i + 1] << 8) | (input[i + 2] << 16), 0x9e3779b1) >>>
    (32 - HASH_BITS);
  /** Adds position i to its hash chain; returns the previous head (absolute, or < b if none). */
  const insert = (i: number): number => {
    const h = hashAt(i);
    const cand = head[h];
    prev[(b + i) & WINDOW_MASK] = cand;
    head[h] = b + i;
    return cand;
  };
  /** The longest match at i among the chain from `cand`, longer than `have`; sets matchStart. */
  let matchStart = 0;
  const longest = (i: number, cand: number, have: number): number => {
    let chain = have >= GOOD_LENGTH ? MAX_CHAIN >> 2 : MAX_CHAIN;
    const limit = Math.min(MAX_MATCH, n - i);
    const nice = Math.min(NICE_LENGTH, limit);
    let best = have;
    const lowest = b + i - MAX_DIST;
    while (cand > b && cand >= lowest && chain-- > 0) {
      const j = cand - b;
      if (input[j + best] === input[i + best] && input[j] === input[i]) {
        let len = 1;
        while (len < limit && input[j + len] === input[i + len]) len++;
        if (len > best) {
          best = len;
          matchStart = j;
          if (len >= nice) break;
        }
      }
      cand = prev[cand & WINDOW_MASK];
    }
    return best;
  };

  let prevLength = MIN_MATCH - 1, prevStart = 0, available = false;
  let i = 0;
  while (i < n) {
    let cand = -1;
    if (i + MIN_MATCH <= n) cand = insert(i);
    let matchLength = MIN_MATCH - 1;
    const previous = prevLength;
    const previousStart = prevStart;
    if (cand > b && previous < MAX_LAZY && b + i - cand <= MAX_DIST) {
      matchLength = longest(i, cand, Math.max(previous, MIN_MATCH - 1));
      if (matchLength === MIN_MATCH && i - matchStart > TOO_FAR) matchLength = MIN_MATCH - 1;
    }
    if (previous >= MIN_MATCH && matchLength <= previous) {
      // The match that started at i - 1 is at least as long: take it.
      match(previous, i - 1 - previousStart);
      const end = i - 1 + previous;
      for (let k = i + 1; k < end; k++) if (k + MIN_MATCH <= n) insert(k);
      i = end;
      available = false;
      prevLength = MIN_MATCH - 1;
    } else {
      if (available) literal(input[i - 1]);
      available = true;
      prevLength = matchLength;
      prevStart = matchStart;
      i++;
    }
    if (count >= BLOCK_SYMBOLS - 2) {
      const to = available ? i - 1 : i;
      flushBlock(input, blockStart, to, count, false);
      blockStart = to;
      count = 0;
    }
  }
  if (available) literal(input[n - 1]);
  flushBlock(input, blockStart, n, count, true);
  w.align();
  const sum = adler32(input);
  w.bytes(Uint8Array.of(sum >>> 24, (sum >> 16) & 0xff, (sum >> 8) & 0xff, sum & 0xff));
  return w.buf.slice(0, w.at);
}

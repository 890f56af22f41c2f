/**
 * zlib compression (RFC 1950 around RFC 1951 DEFLATE), for sent instructions (docs/PROTOCOL.md
 * §3.2, §12.4: C mosh compresses each instruction with compress(); its uncompress() accepts any
 * valid zlib stream, so the match finder and the block choice are ours to pick).
 *
 * Built for speed on what instructions are (a few hundred bytes to tens of KB of terminal diffs and
 * history lines), after zlib's fast levels:
 * 1. Greedy LZ77 over the last 32 KiB: each position's 3-byte hash heads a chain of earlier
 *    positions with the same hash (bytes are read 4 at a time through a DataView); at most
 *    MAX_CHAIN of them are compared (fewer once a match of GOOD_LENGTH is in hand) and a match of
 *    NICE_LENGTH ends the search. The longest match found is taken at once (no lazy evaluation).
 *    Positions inside a match are added to the chains only when the match is short (MAX_INSERT);
 *    a long one adds just its last few.
 * 2. Every BLOCK_SYMBOLS symbols, and at the end, a block: whichever is smallest of a stored
 *    block, the fixed Huffman code, or a dynamic code built from the block's own symbol counts
 *    (lengths limited to 15 bits, 7 for the code length code).
 * 3. The zlib header (78 9c) before and the Adler-32 of the input after.
 *
 * Nothing is allocated per call but the returned bytes: the hash chains, the symbol buffer, the
 * code tables and the output buffer are kept between calls (compression is synchronous, and one
 * call never sees another's positions: each call's positions start above the last one's).
 */

import {
  adler32,
  CODE_LENGTH_ORDER,
  DIST_BASE,
  DIST_EXTRA,
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

/** Candidates compared per position (zlib's level 2 compares 8). */
const MAX_CHAIN = 8;
/** With a match this long in hand, compare a quarter as many candidates. */
const GOOD_LENGTH = 8;
/** A match this long ends the search. */
const NICE_LENGTH = 64;
/** Matches up to this long put all their positions into the hash chains. */
const MAX_INSERT = 16;
/** Positions at the end of a longer match that go into the chains. */
const TAIL_INSERT = 3;
/** A 3-byte match further back than this costs more than its literals (zlib's TOO_FAR). */
const TOO_FAR = 4096;
/** Symbols per block; also the symbol buffer's size. */
const BLOCK_SYMBOLS = 16384;
const HASH_BITS = 15;
const WINDOW_MASK = WINDOW_SIZE - 1;
/** Longest code of the code length code. */
const MAX_CL_BITS = 7;
/** Literal/length and distance symbols that can occur (286, 30). */
const LIT_CODES = LITLEN_SYMBOLS - 2;
const DIST_CODES = 30;

// Symbol code of each match length 3..258, and of each distance (as zlib's _length_code, _dist_code).
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

/** Each byte with its bits in reverse order (Huffman codes are sent most significant bit first). */
const REVERSED = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  let r = 0;
  for (let k = 0; k < 8; k++) r |= ((b >> k) & 1) << (7 - k);
  REVERSED[b] = r;
}

// ---------------------------------------------------------------------------------------------
// Huffman codes, built into kept tables

const sortKeys = new Uint32Array(LITLEN_SYMBOLS);
const tree = new Int32Array(LITLEN_SYMBOLS);
const lengthCount = new Uint16Array(MAX_BITS + 2);
const nextCode = new Uint16Array(MAX_BITS + 2);

/**
 * Writes into `lengths[0..n)` the lengths of a Huffman code for `freq[0..n)`, none longer than
 * `maxBits` (a symbol with frequency 0 gets 0). At least two symbols get codes, so the code is
 * complete, as zlib's inflate wants. Frequencies must be below 2^22.
 */
function buildLengths(freq: Uint32Array, n: number, maxBits: number, lengths: Uint8Array): void {
  lengths.fill(0, 0, n);
  let m = 0;
  for (let s = 0; s < n; s++) if (freq[s] !== 0) sortKeys[m++] = (freq[s] << 9) | s;
  for (let s = 0; m < 2; s++) if (freq[s] === 0) sortKeys[m++] = s;
  const keys = sortKeys.subarray(0, m).sort(); // by frequency, then symbol
  // Moffat and Katajainen's in-place minimum-redundancy code: tree[i] ends as the length of the
  // i-th least frequent symbol.
  const a = tree;
  for (let i = 0; i < m; i++) a[i] = Math.max(1, keys[i] >>> 9);
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
  const count = lengthCount;
  count.fill(0);
  for (let i = 0; i < m; i++) count[a[i] < maxBits ? a[i] : maxBits]++;
  let total = 0;
  for (let len = maxBits; len > 0; len--) total += count[len] << (maxBits - len);
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
    for (let k = count[len]; k > 0; k--) lengths[keys[--j] & 0x1ff] = len;
  }
}

/** Writes into `codes[0..n)` the canonical codes of `lengths` (RFC 1951 §3.2.2), bit-reversed. */
function buildCodes(lengths: Uint8Array, n: number, codes: Uint16Array): void {
  lengthCount.fill(0);
  for (let s = 0; s < n; s++) lengthCount[lengths[s]]++;
  lengthCount[0] = 0;
  let code = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    code = (code + lengthCount[len - 1]) << 1;
    nextCode[len] = code;
  }
  for (let s = 0; s < n; s++) {
    const len = lengths[s];
    if (len === 0) continue;
    const c = nextCode[len]++;
    codes[s] = ((REVERSED[c & 0xff] << 8) | REVERSED[c >>> 8]) >>> (16 - len);
  }
}

const FIXED_LITLEN_CODES = new Uint16Array(LITLEN_SYMBOLS);
buildCodes(FIXED_LITLEN_LENGTHS, LITLEN_SYMBOLS, FIXED_LITLEN_CODES);
const FIXED_DIST_CODES = new Uint16Array(DIST_CODES);
buildCodes(FIXED_DIST_LENGTHS, DIST_CODES, FIXED_DIST_CODES);

// ---------------------------------------------------------------------------------------------
// State kept between calls (see the module comment)

const head = new Int32Array(1 << HASH_BITS);
const prev = new Int32Array(WINDOW_SIZE);
/** Positions of this call are `base + i`; anything below base belongs to an earlier call. */
let base = 1;
/** Symbols of the current block: a literal byte (< 256), or distance << 16 | length. */
const symbols = new Uint32Array(BLOCK_SYMBOLS);
const litFreq = new Uint32Array(LITLEN_SYMBOLS);
const distFreq = new Uint32Array(DIST_CODES);
const litLengths = new Uint8Array(LITLEN_SYMBOLS);
const litCodes = new Uint16Array(LITLEN_SYMBOLS);
const distLengths = new Uint8Array(DIST_CODES);
const distCodes = new Uint16Array(DIST_CODES);
/** The dynamic header's code lengths, run-length coded: symbol 0..18 and its repeat count. */
const headerLengths = new Uint8Array(LIT_CODES + DIST_CODES);
const clSymbols = new Uint8Array(LIT_CODES + DIST_CODES);
const clRepeat = new Uint8Array(LIT_CODES + DIST_CODES);
const clFreq = new Uint32Array(19);
const clLengths = new Uint8Array(19);
const clCodes = new Uint16Array(19);

/** The output so far: whole bytes in `out[0..outAt)`, then `bitCount` bits in `bitBuf`. */
let out = new Uint8Array(1 << 16);
let outAt = 0;
let bitBuf = 0;
let bitCount = 0;

/** Makes room for `bytes` more output bytes (beyond the bits pending). */
function reserve(bytes: number): void {
  if (outAt + bytes + 8 <= out.length) return;
  const grown = new Uint8Array(Math.max(out.length * 2, outAt + bytes + 8));
  grown.set(out.subarray(0, outAt));
  out = grown;
}

/** Appends the low `len` (at most 16) bits of `value`, least significant first. */
function putBits(value: number, len: number): void {
  bitBuf |= value << bitCount;
  bitCount += len;
  if (bitCount >= 16) {
    out[outAt++] = bitBuf & 0xff;
    out[outAt++] = (bitBuf >>> 8) & 0xff;
    bitBuf >>>= 16;
    bitCount -= 16;
  }
}

/** Pads the pending bits to a whole byte and writes them out. */
function alignBits(): void {
  while (bitCount > 0) {
    out[outAt++] = bitBuf & 0xff;
    bitBuf >>>= 8;
    bitCount -= 8;
  }
  bitBuf = 0;
  bitCount = 0;
}

// ---------------------------------------------------------------------------------------------
// Blocks

/** Run-length codes the dynamic header's code lengths (RFC 1951 §3.2.7); returns their count. */
function codeLengthSymbols(nlit: number, ndist: number): number {
  const all = headerLengths;
  all.set(litLengths.subarray(0, nlit));
  all.set(distLengths.subarray(0, ndist), nlit);
  const total = nlit + ndist;
  clFreq.fill(0);
  let k = 0;
  const emit = (sym: number, repeat: number) => {
    clSymbols[k] = sym;
    clRepeat[k++] = repeat;
    clFreq[sym]++;
  };
  for (let i = 0; i < total;) {
    const len = all[i];
    let run = 1;
    while (i + run < total && all[i + run] === len) run++;
    i += run;
    if (len === 0) {
      while (run >= 11) {
        const r = run < 138 ? run : 138;
        emit(18, r - 11);
        run -= r;
      }
      if (run >= 3) {
        emit(17, run - 3);
        run = 0;
      }
    } else {
      emit(len, 0);
      run--;
      while (run >= 3) {
        const r = run < 6 ? run : 6;
        emit(16, r - 3);
        run -= r;
      }
    }
    for (; run > 0; run--) emit(len, 0);
  }
  return k;
}

/**
 * Writes the block's symbols under the given codes, and the end-of-block code. Whole bytes leave
 * `buf` whenever 16 bits are pending, so with at most 15 pending, a code (<= 15 bits) or extra bits
 * (<= 13) added at a time never overflow its 32 bits.
 */
function writeSymbols(
  count: number,
  lLengths: Uint8Array,
  lCodes: Uint16Array,
  dLengths: Uint8Array,
  dCodes: Uint16Array,
): void {
  const o = out;
  let at = outAt, buf = bitBuf, bits = bitCount;
  for (let k = 0; k < count; k++) {
    const v = symbols[k];
    if (v < 256) {
      buf |= lCodes[v] << bits;
      bits += lLengths[v];
    } else {
      const len = v & 0xffff, dist = v >>> 16;
      const lc = LENGTH_CODE[len];
      buf |= lCodes[257 + lc] << bits;
      bits += lLengths[257 + lc];
      if (bits >= 16) {
        o[at++] = buf & 0xff;
        o[at++] = (buf >>> 8) & 0xff;
        buf >>>= 16;
        bits -= 16;
      }
      const le = LENGTH_EXTRA[lc];
      if (le !== 0) {
        buf |= (len - LENGTH_BASE[lc]) << bits;
        bits += le;
      }
      if (bits >= 16) {
        o[at++] = buf & 0xff;
        o[at++] = (buf >>> 8) & 0xff;
        buf >>>= 16;
        bits -= 16;
      }
      const dc = dist <= 256 ? DIST_CODE[dist - 1] : DIST_CODE[256 + ((dist - 1) >> 7)];
      buf |= dCodes[dc] << bits;
      bits += dLengths[dc];
      if (bits >= 16) {
        o[at++] = buf & 0xff;
        o[at++] = (buf >>> 8) & 0xff;
        buf >>>= 16;
        bits -= 16;
      }
      const de = DIST_EXTRA[dc];
      if (de !== 0) {
        buf |= (dist - DIST_BASE[dc]) << bits;
        bits += de;
      }
    }
    if (bits >= 16) {
      o[at++] = buf & 0xff;
      o[at++] = (buf >>> 8) & 0xff;
      buf >>>= 16;
      bits -= 16;
    }
  }
  outAt = at;
  bitBuf = buf;
  bitCount = bits;
  putBits(lCodes[END_OF_BLOCK], lLengths[END_OF_BLOCK]);
}

/** Writes one block of the `count` buffered symbols, which cover input[from, to). */
function flushBlock(input: Uint8Array, from: number, to: number, count: number, final: boolean) {
  litFreq[END_OF_BLOCK]++;
  buildLengths(litFreq, LIT_CODES, MAX_BITS, litLengths);
  buildLengths(distFreq, DIST_CODES, MAX_BITS, distLengths);
  let nlit = LIT_CODES;
  while (nlit > 257 && litLengths[nlit - 1] === 0) nlit--;
  let ndist = DIST_CODES;
  while (ndist > 1 && distLengths[ndist - 1] === 0) ndist--;
  const headerCount = codeLengthSymbols(nlit, ndist);
  buildLengths(clFreq, 19, MAX_CL_BITS, clLengths);
  let nclen = 19;
  while (nclen > 4 && clLengths[CODE_LENGTH_ORDER[nclen - 1]] === 0) nclen--;

  // Sizes in bits of the three kinds of block.
  let extraBits = 0, dynamicBits = 3 + 5 + 5 + 4 + 3 * nclen, fixedBits = 3;
  for (let s = 0; s < 19; s++) dynamicBits += clFreq[s] * clLengths[s];
  dynamicBits += clFreq[16] * 2 + clFreq[17] * 3 + clFreq[18] * 7;
  for (let s = 0; s < LIT_CODES; s++) {
    const f = litFreq[s];
    if (f === 0) continue;
    dynamicBits += f * litLengths[s];
    fixedBits += f * FIXED_LITLEN_LENGTHS[s];
    if (s > END_OF_BLOCK) extraBits += f * LENGTH_EXTRA[s - 257];
  }
  for (let d = 0; d < DIST_CODES; d++) {
    const f = distFreq[d];
    if (f === 0) continue;
    dynamicBits += f * distLengths[d];
    fixedBits += f * 5;
    extraBits += f * DIST_EXTRA[d];
  }
  dynamicBits += extraBits;
  fixedBits += extraBits;
  const bestBits = dynamicBits < fixedBits ? dynamicBits : fixedBits;
  const storedBytes = (to - from) + 5 * Math.max(1, Math.ceil((to - from) / 65535));
  reserve(Math.max(storedBytes, (bestBits >> 3) + 1));

  if (storedBytes <= (bestBits + 7) >> 3) {
    for (let at = from;;) {
      const len = Math.min(65535, to - at);
      putBits(final && at + len === to ? 1 : 0, 3); // BFINAL, BTYPE 00
      alignBits();
      out[outAt++] = len & 0xff;
      out[outAt++] = len >> 8;
      out[outAt++] = ~len & 0xff;
      out[outAt++] = (~len >> 8) & 0xff;
      out.set(input.subarray(at, at + len), outAt);
      outAt += len;
      at += len;
      if (at >= to) break;
    }
  } else if (fixedBits <= dynamicBits) {
    putBits((final ? 1 : 0) | (1 << 1), 3);
    writeSymbols(
      count,
      FIXED_LITLEN_LENGTHS,
      FIXED_LITLEN_CODES,
      FIXED_DIST_LENGTHS,
      FIXED_DIST_CODES,
    );
  } else {
    putBits((final ? 1 : 0) | (2 << 1), 3);
    putBits(nlit - 257, 5);
    putBits(ndist - 1, 5);
    putBits(nclen - 4, 4);
    for (let i = 0; i < nclen; i++) putBits(clLengths[CODE_LENGTH_ORDER[i]], 3);
    buildCodes(clLengths, 19, clCodes);
    for (let i = 0; i < headerCount; i++) {
      const s = clSymbols[i];
      putBits(clCodes[s], clLengths[s]);
      if (s >= 16) putBits(clRepeat[i], s === 16 ? 2 : s === 17 ? 3 : 7);
    }
    buildCodes(litLengths, LIT_CODES, litCodes);
    buildCodes(distLengths, DIST_CODES, distCodes);
    writeSymbols(count, litLengths, litCodes, distLengths, distCodes);
  }
  litFreq.fill(0);
  distFreq.fill(0);
}

// ---------------------------------------------------------------------------------------------
// The compressor

/** Compresses `input` into one zlib stream. */
export function deflate(input: Uint8Array): Uint8Array {
  const n = input.length;
  if (base + n + 1 > 0x3fff_ffff) {
    head.fill(0);
    base = 1;
  }
  const b = base;
  base += n + 1;
  outAt = 0;
  bitBuf = 0;
  bitCount = 0;
  reserve(16);
  out[outAt++] = 0x78;
  out[outAt++] = 0x9c;

  let count = 0; // symbols in the current block
  let blockStart = 0;
  let i = 0;
  // Positions up to `last` have 4 bytes to read as one little-endian word: 3 to hash, and the
  // first comparison of a candidate is of 3 bytes at once.
  const last = n - 4;
  const view = new DataView(input.buffer, input.byteOffset, n);
  while (i <= last) {
    // Insert position i into its chain and walk the chain from its previous head.
    const word = view.getUint32(i, true) & 0xffffff;
    const h = Math.imul(word, 0x9e3779b1) >>> (32 - HASH_BITS);
    let cand = head[h];
    head[h] = b + i;
    prev[(b + i) & WINDOW_MASK] = cand;
    const lowest = b + i - WINDOW_SIZE > b ? b + i - WINDOW_SIZE : b;
    const limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
    const nice = limit < NICE_LENGTH ? limit : NICE_LENGTH;
    let best = MIN_MATCH - 1, bestDist = 0, chain = MAX_CHAIN;
    while (cand >= lowest && chain-- > 0) {
      const j = cand - b;
      if (input[j + best] === input[i + best] && (view.getUint32(j, true) & 0xffffff) === word) {
        let len = MIN_MATCH;
        while (
          len + 4 <= limit && view.getUint32(j + len, true) === view.getUint32(i + len, true)
        ) {
          len += 4;
        }
        while (len < limit && input[j + len] === input[i + len]) len++;
        if (len > best) {
          best = len;
          bestDist = i - j;
          if (len >= nice) break;
          if (len >= GOOD_LENGTH && chain > MAX_CHAIN >> 2) chain = MAX_CHAIN >> 2;
        }
      }
      cand = prev[cand & WINDOW_MASK];
    }
    if (best >= MIN_MATCH && !(best === MIN_MATCH && bestDist > TOO_FAR)) {
      symbols[count++] = (bestDist << 16) | best;
      litFreq[257 + LENGTH_CODE[best]]++;
      distFreq[
        bestDist <= 256 ? DIST_CODE[bestDist - 1] : DIST_CODE[256 + ((bestDist - 1) >> 7)]
      ]++;
      const end = i + best;
      let k = best <= MAX_INSERT ? i + 1 : end - TAIL_INSERT;
      const stop = end <= last ? end : last + 1;
      for (; k < stop; k++) {
        const hk = Math.imul(view.getUint32(k, true) & 0xffffff, 0x9e3779b1) >>> (32 - HASH_BITS);
        prev[(b + k) & WINDOW_MASK] = head[hk];
        head[hk] = b + k;
      }
      i = end;
    } else {
      const byte = input[i++];
      symbols[count++] = byte;
      litFreq[byte]++;
    }
    if (count === BLOCK_SYMBOLS) {
      flushBlock(input, blockStart, i, count, false);
      blockStart = i;
      count = 0;
    }
  }
  for (; i < n; i++) {
    const byte = input[i];
    symbols[count++] = byte;
    litFreq[byte]++;
    if (count === BLOCK_SYMBOLS) {
      flushBlock(input, blockStart, i + 1, count, false);
      blockStart = i + 1;
      count = 0;
    }
  }
  flushBlock(input, blockStart, n, count, true);
  alignBits();
  const sum = adler32(input);
  reserve(4);
  out[outAt++] = sum >>> 24;
  out[outAt++] = (sum >>> 16) & 0xff;
  out[outAt++] = (sum >>> 8) & 0xff;
  out[outAt++] = sum & 0xff;
  return out.slice(0, outAt);
}

/**
 * zlib decompression (RFC 1950 around RFC 1951 DEFLATE), for received instructions
 * (docs/PROTOCOL.md §3.3, §12.4: every instruction travels as one zlib stream).
 *
 * Steps: check the 2-byte zlib header (method 8, window at most 32 KiB, no preset dictionary,
 * header checksum); decode blocks until the final one: stored blocks are copied, fixed and
 * dynamic Huffman blocks are decoded through a lookup table indexed by the next 10 bits of input
 * (one table read per symbol; the rare longer codes bit by bit); then compare the Adler-32 of the output with the stream's.
 * Bytes after the checksum are ignored, as zlib's uncompress() does.
 *
 * The output never grows past `maxOutput` (mosh's 4 MiB limit), so a small stream that would
 * inflate to gigabytes (a "zlib bomb") fails (InflateLimitError) after allocating at most that
 * much. Every defect in the input (a bad header, an impossible code, a distance before the start,
 * truncation, a wrong checksum) is a ProtocolError with a one-line message; nothing else is thrown.
 */

import { InflateLimitError, ProtocolError } from "./errors.ts";
import {
  adler32,
  canonicalCodes,
  CODE_LENGTH_ORDER,
  DIST_BASE,
  DIST_EXTRA,
  END_OF_BLOCK,
  FIXED_DIST_LENGTHS,
  FIXED_LITLEN_LENGTHS,
  LENGTH_BASE,
  LENGTH_EXTRA,
  MAX_BITS,
} from "./zlib_format.ts";

/** Bits of the first lookup: longer codes (rare symbols) are decoded bit by bit. */
const ROOT_BITS = 10;
/** Table entry of bits that begin a code longer than ROOT_BITS. */
const LONG = 0xffff;

/**
 * A decoding table: entry `i` describes the code whose first bits (least significant first) are
 * the low bits of `i`, as `symbol << 4 | length`; 0 marks bits that start no code, LONG bits that
 * start a longer code, found from `count` (codes per length) and `symbols` (by code order).
 */
interface Table {
  entries: Uint16Array;
  /** log2 of the used size: the longest code's length, at most ROOT_BITS. */
  bits: number;
  count: Uint16Array;
  symbols: Uint16Array;
}

/** Builds the table of code `lengths`; null if the lengths over-subscribe the code space. */
function buildTable(lengths: Uint8Array, n: number): Table | null {
  const codes = canonicalCodes(lengths, n);
  if (codes === null) return null;
  const count = new Uint16Array(MAX_BITS + 1);
  let longest = 0;
  for (let s = 0; s < n; s++) {
    count[lengths[s]]++;
    if (lengths[s] > longest) longest = lengths[s];
  }
  count[0] = 0;
  const offset = new Uint16Array(MAX_BITS + 2);
  for (let len = 1; len <= MAX_BITS; len++) offset[len + 1] = offset[len] + count[len];
  const symbols = new Uint16Array(n);
  for (let s = 0; s < n; s++) if (lengths[s] !== 0) symbols[offset[lengths[s]]++] = s;
  const bits = Math.min(longest, ROOT_BITS);
  const size = 1 << bits;
  const entries = new Uint16Array(size);
  for (let s = 0; s < n; s++) {
    const len = lengths[s];
    if (len === 0) continue;
    if (len > bits) {
      entries[codes[s] & (size - 1)] = LONG;
      continue;
    }
    const entry = (s << 4) | len;
    for (let i = codes[s]; i < size; i += 1 << len) entries[i] = entry;
  }
  return { entries, bits, count, symbols };
}

const FIXED_LITLEN = buildTable(FIXED_LITLEN_LENGTHS, 288)!;
const FIXED_DIST = buildTable(FIXED_DIST_LENGTHS, 30)!;
/** A dynamic block's code lengths, reused from stream to stream (decoding is synchronous). */
const codeLengths = new Uint8Array(288 + 32);

function fail(what: string): never {
  throw new ProtocolError(`zlib: ${what}`);
}

/**
 * Decompresses the zlib stream `input`. Throws ProtocolError if it is malformed, truncated,
 * fails its checksum, or would inflate to more than `maxOutput` bytes.
 */
export function inflate(input: Uint8Array, maxOutput: number): Uint8Array {
  const n = input.length;
  if (n < 2) fail("stream too short");
  const cmf = input[0], flg = input[1];
  // The checks and messages in zlib's order.
  if (((cmf << 8) | flg) % 31 !== 0) fail("incorrect header check");
  if ((cmf & 0x0f) !== 8) fail("unknown compression method");
  if ((cmf >> 4) > 7) fail("invalid window size");
  if (flg & 0x20) fail("preset dictionary not supported");

  let pos = 2;
  let bitBuf = 0; // unread bits, least significant first
  let bitCnt = 0;
  let out = new Uint8Array(Math.min(maxOutput, Math.max(1024, n * 4)));
  let outLen = 0;

  // At most 24 bits are buffered, so bitBuf stays a small integer (a Smi, never a boxed double:
  // boxing on every update made inflate 8 times slower).
  const refill = () => {
    while (bitCnt <= 16 && pos < n) {
      bitBuf |= input[pos++] << bitCnt;
      bitCnt += 8;
    }
  };
  const take = (k: number): number => {
    if (bitCnt < k) {
      refill();
      if (bitCnt < k) fail("unexpected end of stream");
    }
    const v = bitBuf & ((1 << k) - 1);
    bitBuf >>= k;
    bitCnt -= k;
    return v;
  };
  /** Decodes a code longer than the table's bits, one bit at a time (canonical order). */
  const decodeLong = (t: Table): number => {
    let code = 0, first = 0, index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      if (len > bitCnt) fail("unexpected end of stream");
      code |= (bitBuf >>> (len - 1)) & 1;
      const count = t.count[len];
      if (code - first < count) {
        bitBuf >>= len;
        bitCnt -= len;
        return t.symbols[index + code - first];
      }
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    fail("invalid code");
  };
  const decode = (t: Table): number => {
    if (bitCnt < MAX_BITS) refill();
    const e = t.entries[bitBuf & ((1 << t.bits) - 1)];
    if (e === LONG) return decodeLong(t);
    const len = e & 15;
    if (len === 0) fail("invalid code");
    if (len > bitCnt) fail("unexpected end of stream");
    bitBuf >>= len;
    bitCnt -= len;
    return e >> 4;
  };
  /** Makes room for `more` bytes of output, within maxOutput. */
  const reserve = (more: number) => {
    const need = outLen + more;
    if (need <= out.length) return;
    if (need > maxOutput) throw new InflateLimitError(maxOutput);
    const grown = new Uint8Array(Math.min(maxOutput, Math.max(need, out.length * 2)));
    grown.set(out.subarray(0, outLen));
    out = grown;
  };
  /** Gives back the whole bytes still in the bit buffer (before byte-aligned data). */
  const alignToByte = () => {
    bitBuf = 0;
    pos -= bitCnt >> 3;
    bitCnt = 0;
  };

  const readDynamicTables = (): [Table, Table] => {
    const nlen = take(5) + 257, ndist = take(5) + 1, ncode = take(4) + 4;
    if (nlen > 286 || ndist > 30) fail("too many length or distance symbols");
    const clens = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) clens[CODE_LENGTH_ORDER[i]] = take(3);
    const clTable = buildTable(clens, 19);
    if (clTable === null) fail("invalid code lengths set");
    const total = nlen + ndist;
    for (let i = 0; i < total;) {
      const sym = decode(clTable);
      if (sym < 16) {
        codeLengths[i++] = sym;
        continue;
      }
      let repeat: number, value = 0;
      if (sym === 16) {
        if (i === 0) fail("invalid bit length repeat");
        value = codeLengths[i - 1];
        repeat = 3 + take(2);
      } else if (sym === 17) repeat = 3 + take(3);
      else repeat = 11 + take(7);
      if (i + repeat > total) fail("invalid bit length repeat");
      codeLengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (codeLengths[END_OF_BLOCK] === 0) fail("missing end-of-block code");
    const litlen = buildTable(codeLengths.subarray(0, nlen), nlen);
    if (litlen === null) fail("invalid literal/lengths set");
    const dist = buildTable(codeLengths.subarray(nlen, total), ndist);
    if (dist === null) fail("invalid distances set");
    return [litlen, dist];
  };

  let final = 0;
  do {
    final = take(1);
    const type = take(2);
    if (type === 0) {
      alignToByte();
      if (pos + 4 > n) fail("unexpected end of stream");
      const len = input[pos] | (input[pos + 1] << 8);
      const nlen = input[pos + 2] | (input[pos + 3] << 8);
      if ((len ^ 0xffff) !== nlen) fail("invalid stored block lengths");
      pos += 4;
      if (pos + len > n) fail("unexpected end of stream");
      reserve(len);
      out.set(input.subarray(pos, pos + len), outLen);
      outLen += len;
      pos += len;
      continue;
    }
    if (type === 3) fail("invalid block type");
    const [litlen, dist] = type === 1 ? [FIXED_LITLEN, FIXED_DIST] : readDynamicTables();
    for (;;) {
      const sym = decode(litlen);
      if (sym < 256) {
        if (outLen === out.length) reserve(1);
        out[outLen++] = sym;
        continue;
      }
      if (sym === END_OF_BLOCK) break;
      if (sym > 285) fail("invalid literal/length code");
      const li = sym - 257;
      const length = LENGTH_BASE[li] + take(LENGTH_EXTRA[li]);
      const dsym = decode(dist);
      if (dsym > 29) fail("invalid distance code");
      const distance = DIST_BASE[dsym] + take(DIST_EXTRA[dsym]);
      if (distance > outLen) fail("invalid distance too far back");
      reserve(length);
      const o = out;
      let from = outLen - distance;
      let to = outLen;
      const end = to + length;
      if (distance >= length && length > 32) o.copyWithin(to, from, from + length);
      else while (to < end) o[to++] = o[from++];
      outLen = end;
    }
  } while (!final);

  alignToByte();
  if (pos + 4 > n) fail("unexpected end of stream");
  const expected =
    ((input[pos] << 24) | (input[pos + 1] << 16) | (input[pos + 2] << 8) | input[pos + 3]) >>> 0;
  const result = out.subarray(0, outLen);
  if (adler32(result) !== expected) fail("incorrect data check");
  return result;
}

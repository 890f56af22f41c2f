/**
 * The AES-128 block cipher (FIPS-197), forward and inverse, on one 16-byte block held as four
 * u32 words: the block cipher under lib/ocb.ts's OCB3 (docs/PROTOCOL.md §1.1, §12.5).
 *
 * What it implements, by section of FIPS-197 (the 2001 edition; "FIPS-197 5.2" below is its
 * section 5.2, not a section of docs/PROTOCOL.md):
 * - 5.2 KeyExpansion for Nk = 4: 44 round-key words, w[i] = w[i-4] ^ w[i-1], with
 *   SubWord(RotWord(w[i-1])) ^ Rcon[i/4] in place of w[i-1] when i is a multiple of 4.
 * - 5.1 Cipher, Nr = 10: AddRoundKey, nine rounds of SubBytes, ShiftRows, MixColumns,
 *   AddRoundKey, and a final round without MixColumns. The nine full rounds use the "T-table"
 *   formulation of Daemen and Rijmen's Rijndael proposal (its 32-bit implementation): each output
 *   column is T0[a] ^ T1[b] ^ T2[c] ^ T3[d] ^ round key, where a..d are the bytes ShiftRows brings
 *   into the column and Tr[x] is SubBytes(x) multiplied into MixColumns' column r.
 * - 5.3.5 the equivalent inverse cipher: the same shape with the inverse tables, the round keys
 *   in reverse order and InvMixColumns applied to the nine middle ones (expandDecryptKey).
 * - 5.1.1 the S-box, computed (inverse in GF(2^8) and the affine map), not typed in.
 *
 * Word order: word j holds bytes 4j..4j+3 of the block little-endian (byte 4j in bits 0-7), i.e.
 * the words of a Uint32Array view of the block bytes on a little-endian host, as lib/ocb.ts
 * keeps its blocks. A word is then one column of the state, row r in bits 8r..8r+7.
 *
 * Tables: four 256-entry Uint32Array tables per direction plus the two 256-byte S-boxes, 8.5 KB
 * in all, allocated at import and filled by the first key expansion (256 iterations). This module
 * exists for memory: @noble/ciphers' AES, which lib/ocb.ts used before, builds 1.3 MB of merged
 * 65,536-entry tables at import, and the loops that build them run long enough to start V8's
 * optimizing compiler: +11 MB of resident memory in an empty `deno run`; this module instead saves
 * 7-8 MB after importing lib/ocb.ts and about 6 MB in an idle client, whose goal is 40 MB (issue
 * 12; figures in bench/README.md, "AES written here").
 *
 * Timing (the same trade-off noble's AES makes): the table indexes are key-dependent bytes, so a
 * process that shares the CPU's cache with ours may learn key bits from its timing. C mosh's
 * usual build (OpenSSL with AES-NI) does not have that leak; WebCrypto's constant-time AES is
 * asynchronous and has no block (ECB) mode, so lib/ocb.ts cannot use it (see its header). The
 * smaller tables here (4 KB per direction, 64 cache lines) do not remove the exposure.
 *
 * The block functions write their result into a caller's Uint32Array and allocate nothing.
 *
 * https://csrc.nist.gov/pubs/fips/197/final
 */

/** Size of an AES-128 key in bytes. */
export const AES128_KEY_LENGTH = 16;
/** Number of u32 words in an expanded AES-128 key (11 round keys of 4 words). */
export const AES128_SCHEDULE_WORDS = 44;

const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
// Forward tables: TE0[x] = the column (2·S(x), S(x), S(x), 3·S(x)) as a little-endian word,
// TEr = TE0 rotated left by 8r bits (the same products moved down r rows).
const TE0 = new Uint32Array(256);
const TE1 = new Uint32Array(256);
const TE2 = new Uint32Array(256);
const TE3 = new Uint32Array(256);
// Inverse tables: TD0[x] = (14·S⁻¹(x), 9·S⁻¹(x), 13·S⁻¹(x), 11·S⁻¹(x)), TDr rotated likewise.
const TD0 = new Uint32Array(256);
const TD1 = new Uint32Array(256);
const TD2 = new Uint32Array(256);
const TD3 = new Uint32Array(256);
let tablesBuilt = false;

/** Multiplies by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 4.2.1, xtime). */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

/** Multiplies two elements of GF(2^8) (FIPS-197 4.2). Used only to build the tables. */
function mul(a: number, b: number): number {
  let r = 0;
  for (; b > 0; b >>>= 1, a = xtime(a)) if (b & 1) r ^= a;
  return r;
}

function rotl8(w: number): number {
  return ((w << 8) | (w >>> 24)) >>> 0;
}

/** Fills the S-boxes and T-tables (once). */
function buildTables(): void {
  // Walk the multiplicative group with generator 3: p runs through 3^i, q through 3^-i, so q is
  // the inverse of p; the S-box is the affine map of the inverse (FIPS-197 5.1.1), and S(0) = 0x63.
  let p = 1, q = 1;
  do {
    p = p ^ xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const r = (q | (q << 8)) >>> 0;
    const s = (q ^ (r >>> 7) ^ (r >>> 6) ^ (r >>> 5) ^ (r >>> 4) ^ 0x63) & 0xff;
    SBOX[p] = s;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    INV_SBOX[s] = x;
    const te = (xtime(s) | (s << 8) | (s << 16) | ((xtime(s) ^ s) << 24)) >>> 0;
    TE0[x] = te;
    TE1[x] = rotl8(te);
    TE2[x] = rotl8(TE1[x]);
    TE3[x] = rotl8(TE2[x]);
  }
  for (let x = 0; x < 256; x++) {
    const i = INV_SBOX[x];
    const td = (mul(i, 14) | (mul(i, 9) << 8) | (mul(i, 13) << 16) | (mul(i, 11) << 24)) >>> 0;
    TD0[x] = td;
    TD1[x] = rotl8(td);
    TD2[x] = rotl8(TD1[x]);
    TD3[x] = rotl8(TD2[x]);
  }
  tablesBuilt = true;
}

/** SubWord (FIPS-197 5.2): the S-box applied to each byte of a word. */
function subWord(w: number): number {
  return (SBOX[w & 0xff] | (SBOX[(w >>> 8) & 0xff] << 8) | (SBOX[(w >>> 16) & 0xff] << 16) |
    (SBOX[w >>> 24] << 24)) >>> 0;
}

/**
 * Expands a 16-byte key into the 44 round-key words of the cipher (FIPS-197 5.2).
 * Throws a TypeError for a key of the wrong type or size.
 */
export function expandKey(key: Uint8Array): Uint32Array {
  if (!(key instanceof Uint8Array)) throw new TypeError("aes: key must be a Uint8Array");
  if (key.length !== AES128_KEY_LENGTH) {
    throw new TypeError(`aes: wrong key size: should be 16, got ${key.length}`);
  }
  if (!tablesBuilt) buildTables();
  const xk = new Uint32Array(AES128_SCHEDULE_WORDS);
  for (let i = 0; i < 4; i++) {
    xk[i] = (key[4 * i] | (key[4 * i + 1] << 8) | (key[4 * i + 2] << 16) |
      (key[4 * i + 3] << 24)) >>> 0;
  }
  let rcon = 1;
  for (let i = 4; i < AES128_SCHEDULE_WORDS; i++) {
    let t = xk[i - 1];
    if ((i & 3) === 0) {
      // RotWord moves byte 0 to byte 3: a right rotation of the little-endian word.
      t = subWord((t >>> 8) | (t << 24)) ^ rcon;
      rcon = xtime(rcon);
    }
    xk[i] = xk[i - 4] ^ t;
  }
  return xk;
}

/**
 * The round keys of the equivalent inverse cipher (FIPS-197 5.3.5) from expandKey's: in reverse
 * order, with InvMixColumns applied to the nine middle round keys.
 */
export function expandDecryptKey(xk: Uint32Array): Uint32Array {
  if (xk.length !== AES128_SCHEDULE_WORDS) {
    throw new TypeError(`aes: wrong schedule size: should be 44, got ${xk.length}`);
  }
  if (!tablesBuilt) buildTables();
  const dk = new Uint32Array(AES128_SCHEDULE_WORDS);
  for (let r = 0; r < 11; r++) {
    for (let j = 0; j < 4; j++) dk[4 * r + j] = xk[4 * (10 - r) + j];
  }
  // InvMixColumns(w) = TD tables indexed by S(bytes of w): TD includes S⁻¹, which S undoes.
  for (let i = 4; i < 40; i++) {
    const w = dk[i];
    dk[i] = TD0[SBOX[w & 0xff]] ^ TD1[SBOX[(w >>> 8) & 0xff]] ^ TD2[SBOX[(w >>> 16) & 0xff]] ^
      TD3[SBOX[w >>> 24]];
  }
  return dk;
}

/**
 * Encrypts one block (FIPS-197 5.1): the words s0..s3 under the round keys `xk` (expandKey's),
 * written to out[at..at+4). Allocates nothing.
 */
export function encryptBlock(
  xk: Uint32Array,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  out: Uint32Array,
  at: number,
): void {
  s0 ^= xk[0], s1 ^= xk[1], s2 ^= xk[2], s3 ^= xk[3];
  let k = 4;
  for (let round = 1; round < 10; round++, k += 4) {
    // Column c takes row r from column c + r (ShiftRows), through SubBytes and MixColumns.
    const t0 = TE0[s0 & 0xff] ^ TE1[(s1 >>> 8) & 0xff] ^ TE2[(s2 >>> 16) & 0xff] ^
      TE3[s3 >>> 24] ^ xk[k];
    const t1 = TE0[s1 & 0xff] ^ TE1[(s2 >>> 8) & 0xff] ^ TE2[(s3 >>> 16) & 0xff] ^
      TE3[s0 >>> 24] ^ xk[k + 1];
    const t2 = TE0[s2 & 0xff] ^ TE1[(s3 >>> 8) & 0xff] ^ TE2[(s0 >>> 16) & 0xff] ^
      TE3[s1 >>> 24] ^ xk[k + 2];
    const t3 = TE0[s3 & 0xff] ^ TE1[(s0 >>> 8) & 0xff] ^ TE2[(s1 >>> 16) & 0xff] ^
      TE3[s2 >>> 24] ^ xk[k + 3];
    s0 = t0, s1 = t1, s2 = t2, s3 = t3;
  }
  // Final round: SubBytes and ShiftRows only.
  const S = SBOX;
  out[at] = (S[s0 & 0xff] | (S[(s1 >>> 8) & 0xff] << 8) | (S[(s2 >>> 16) & 0xff] << 16) |
    (S[s3 >>> 24] << 24)) ^ xk[40];
  out[at + 1] = (S[s1 & 0xff] | (S[(s2 >>> 8) & 0xff] << 8) | (S[(s3 >>> 16) & 0xff] << 16) |
    (S[s0 >>> 24] << 24)) ^ xk[41];
  out[at + 2] = (S[s2 & 0xff] | (S[(s3 >>> 8) & 0xff] << 8) | (S[(s0 >>> 16) & 0xff] << 16) |
    (S[s1 >>> 24] << 24)) ^ xk[42];
  out[at + 3] = (S[s3 & 0xff] | (S[(s0 >>> 8) & 0xff] << 8) | (S[(s1 >>> 16) & 0xff] << 16) |
    (S[s2 >>> 24] << 24)) ^ xk[43];
}

/**
 * Decrypts one block (FIPS-197 5.3.5, the equivalent inverse cipher): the words s0..s3 under
 * the round keys `dk` (expandDecryptKey's), written to out[at..at+4). Allocates nothing.
 */
export function decryptBlock(
  dk: Uint32Array,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  out: Uint32Array,
  at: number,
): void {
  s0 ^= dk[0], s1 ^= dk[1], s2 ^= dk[2], s3 ^= dk[3];
  let k = 4;
  for (let round = 1; round < 10; round++, k += 4) {
    // Column c takes row r from column c - r (InvShiftRows), through InvSubBytes, InvMixColumns.
    const t0 = TD0[s0 & 0xff] ^ TD1[(s3 >>> 8) & 0xff] ^ TD2[(s2 >>> 16) & 0xff] ^
      TD3[s1 >>> 24] ^ dk[k];
    const t1 = TD0[s1 & 0xff] ^ TD1[(s0 >>> 8) & 0xff] ^ TD2[(s3 >>> 16) & 0xff] ^
      TD3[s2 >>> 24] ^ dk[k + 1];
    const t2 = TD0[s2 & 0xff] ^ TD1[(s1 >>> 8) & 0xff] ^ TD2[(s0 >>> 16) & 0xff] ^
      TD3[s3 >>> 24] ^ dk[k + 2];
    const t3 = TD0[s3 & 0xff] ^ TD1[(s2 >>> 8) & 0xff] ^ TD2[(s1 >>> 16) & 0xff] ^
      TD3[s0 >>> 24] ^ dk[k + 3];
    s0 = t0, s1 = t1, s2 = t2, s3 = t3;
  }
  // Final round: InvShiftRows and InvSubBytes only.
  const S = INV_SBOX;
  out[at] = (S[s0 & 0xff] | (S[(s3 >>> 8) & 0xff] << 8) | (S[(s2 >>> 16) & 0xff] << 16) |
    (S[s1 >>> 24] << 24)) ^ dk[40];
  out[at + 1] = (S[s1 & 0xff] | (S[(s0 >>> 8) & 0xff] << 8) | (S[(s3 >>> 16) & 0xff] << 16) |
    (S[s2 >>> 24] << 24)) ^ dk[41];
  out[at + 2] = (S[s2 & 0xff] | (S[(s1 >>> 8) & 0xff] << 8) | (S[(s0 >>> 16) & 0xff] << 16) |
    (S[s3 >>> 24] << 24)) ^ dk[42];
  out[at + 3] = (S[s3 & 0xff] | (S[(s2 >>> 8) & 0xff] << 8) | (S[(s1 >>> 16) & 0xff] << 16) |
    (S[s0 >>> 24] << 24)) ^ dk[43];
}

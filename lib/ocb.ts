/**
 * AES-128-OCB3 authenticated encryption (RFC 7253), as used by mosh (docs/PROTOCOL.md §1.1).
 *
 * OCB encrypts each 16-byte block i as C_i = Offset_i ^ E_K(P_i ^ Offset_i), with
 * Offset_i = Offset_{i-1} ^ L_{ntz(i)}. Offset_0 comes from the nonce (RFC 7253 §4.2): with
 * bottom = the nonce's low 6 bits and Ktop = E_K(the nonce block with those bits cleared), it is
 * bits [bottom, bottom + 128) of Stretch = Ktop ‖ (Ktop[0..8) ^ Ktop[1..9)). Ktop is cached, so
 * consecutive nonces (mosh's sequence numbers) cost one block cipher call per 64 messages.
 * A final partial block is XORed with a pad E_K(Offset_*) and the tag is
 * E_K(Checksum ^ Offset ^ L_$) ^ HASH(K, A), where Checksum is the XOR of all plaintext blocks
 * (the last one padded with 10*) and HASH is the same offset walk over the associated data.
 *
 * The nonce is 12 bytes and the tag 16 bytes; the tag follows the ciphertext.
 * The block cipher is lib/aes.ts's AES-128 on four u32 words, little-endian, i.e. the words of
 * a Uint32Array view of the block bytes on a little-endian host (every Deno target is one).
 * The hot loop works on those words in a reused aligned buffer and allocates nothing per block.
 * `wipe()` zeroes the expanded keys, the L table and every per-message buffer when a connection
 * ends; the instance refuses to work after that.
 *
 * Timing (a deliberate trade-off): lib/aes.ts's AES, like @noble/ciphers' (used before it), is
 * table-based (T-tables indexed by key-dependent bytes), so a process on the same CPU that can
 * watch the cache may learn key bits from its timing; C mosh's default build (OpenSSL with AES-NI)
 * does not have that leak. The only constant-time AES Deno offers is WebCrypto,
 * which is asynchronous and has no ECB mode: OCB needs E_K of arbitrary blocks (P_i ^ Offset_i),
 * CBC chains them and CTR takes only consecutive counters, so the best it allows is one call per
 * block. Measured with `deno bench --allow-all bench/crypto_bench.ts` (group "aes
 * alternatives", 2-core machine under load): the 90 block encryptions of a 1,400-byte datagram
 * take about 1.5 ms through WebCrypto (about 650 datagrams/s, all calls in flight at once)
 * against about 10 µs here (p75; about 100,000/s); the goal is 30,000 seals/s, and the SSP code
 * is synchronous (seal and open happen inside the transport's tick and the receive callback).
 * So the table-based AES stays; the exposure is to a local attacker who can share a core with
 * the server or client process.
 *
 * https://www.rfc-editor.org/rfc/rfc7253
 */

import { decryptBlock, encryptBlock, expandDecryptKey, expandKey } from "./aes.ts";

/** OCB nonce length used by mosh, in bytes. */
export const OCB_NONCE_LENGTH = 12;
/** OCB tag length used by mosh, in bytes. */
export const OCB_TAG_LENGTH = 16;

/** An AES-128-OCB3 instance bound to one key. */
export interface Ocb {
  /**
   * Encrypts `plaintext` and returns ciphertext ‖ tag (plaintext.length + 16 bytes).
   * If `out` is given the result is written there (it must hold plaintext.length + 16 bytes)
   * and that same array is returned.
   */
  encrypt(nonce: Uint8Array, plaintext: Uint8Array, ad?: Uint8Array, out?: Uint8Array): Uint8Array;
  /**
   * Authenticates and decrypts ciphertext ‖ tag. Returns the plaintext, or null if the tag does not
   * match or the input is shorter than a tag. If `out` is given the plaintext is written there
   * (it must hold ciphertext.length - 16 bytes) only when authentication succeeds.
   */
  decrypt(nonce: Uint8Array, ciphertext: Uint8Array, ad?: Uint8Array, out?: Uint8Array):
    | Uint8Array
    | null;
  /**
   * Overwrites the expanded key material and every buffer that held message data with zeros.
   * Afterwards `encrypt` and `decrypt` throw an Error.
   */
  wipe(): void;
}

const EMPTY = new Uint8Array(0);
/** Precomputed L_i for i < L_COUNT: enough for messages of 2^L_COUNT blocks. */
const L_COUNT = 32;

/** Doubles a 16-byte big-endian value in GF(2^128) (RFC 7253 §2, "double(S)"). */
function double(s: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 15; i++) out[i] = ((s[i] << 1) | (s[i + 1] >>> 7)) & 0xff;
  out[15] = ((s[15] << 1) & 0xff) ^ (s[0] & 0x80 ? 0x87 : 0);
  return out;
}

/** Reads four little-endian u32 words from `src` at `pos` into `dst` at `at`. */
function loadWords(src: Uint8Array, pos: number, dst: Uint32Array, at: number): void {
  for (let j = 0; j < 4; j++, pos += 4) {
    dst[at + j] = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24)) >>>
      0;
  }
}

function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`ocb: ${name} must be a Uint8Array`);
}

/**
 * Creates an AES-128-OCB3 cipher for a 16-byte key (12-byte nonce, 16-byte tag).
 * Throws a TypeError for a key of the wrong type or size.
 *
 * @example RFC 7253's first sample: empty associated data and plaintext give only the tag
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
 * const cipher = ocb(hex("000102030405060708090a0b0c0d0e0f"));
 * const nonce = hex("bbaa99887766554433221100");
 * const sealed = cipher.encrypt(nonce, new Uint8Array(0));
 * assert.deepEqual(sealed, hex("785407bfffc8ad9edcc5520ac9111ee6"));
 * assert.deepEqual(cipher.decrypt(nonce, sealed), new Uint8Array(0));
 * sealed[0] ^= 1;
 * assert.equal(cipher.decrypt(nonce, sealed), null); // tampered: rejected
 * ```
 */
export function ocb(key: Uint8Array): Ocb {
  checkBytes("key", key);
  if (key.length !== 16) {
    throw new TypeError(`ocb: wrong key size: should be 16, got ${key.length}`);
  }
  const xk = expandKey(key);
  const xkd = expandDecryptKey(xk);
  // One block's result, for the block cipher calls whose output is not written in place.
  const block = new Uint32Array(4);
  const blockBytes = new Uint8Array(block.buffer);

  // L table, four words per entry: [0] L_*, [1] L_$, [2 + i] L_i.
  const table = new Uint32Array(4 * (L_COUNT + 2));
  {
    encryptBlock(xk, 0, 0, 0, 0, block, 0);
    let l: Uint8Array = blockBytes.slice();
    for (let i = 0; i < L_COUNT + 2; i++) {
      loadWords(l, 0, table, 4 * i);
      l = double(l);
    }
  }

  // Per-nonce state: the cached Ktop for the top 122 nonce bits, its 24-byte stretch, and the
  // current offset, checksum and hash sum as words.
  const topNonce = new Uint8Array(12);
  let topValid = false;
  const stretch = new Uint8Array(24);
  const offsetBytes = new Uint8Array(16);
  const state = new Uint32Array(12); // [0..4) offset, [4..8) checksum, [8..12) HASH(A)
  const tagWords = new Uint32Array(4);
  const tagBytes = new Uint8Array(tagWords.buffer);

  // Aligned work buffer: message bytes are copied in, processed in place as words, copied out.
  let work = new Uint8Array(256);
  let work32 = new Uint32Array(work.buffer);
  function workFor(length: number): void {
    const need = ((length >>> 4) + 1) << 4; // room for a padded final block
    if (work.length < need) {
      let size = work.length;
      while (size < need) size *= 2;
      work = new Uint8Array(size);
      work32 = new Uint32Array(work.buffer);
    }
  }

  /** Sets state[0..4) to Offset_0 for `nonce` (RFC 7253 §4.2 nonce-dependent values). */
  function initOffset(nonce: Uint8Array): void {
    const bottom = nonce[11] & 0x3f;
    let same = topValid && topNonce[11] === (nonce[11] & 0xc0);
    for (let i = 0; i < 11 && same; i++) same = topNonce[i] === nonce[i];
    if (!same) {
      topNonce.set(nonce);
      topNonce[11] &= 0xc0;
      topValid = true;
      // Nonce block = 0^31 ‖ 1 ‖ N (TAGLEN mod 128 = 0), i.e. bytes 00 00 00 01 ‖ N.
      const n = work32; // borrow the work buffer for the 16-byte block
      work.fill(0, 0, 4);
      work[3] = 1;
      work.set(topNonce, 4);
      encryptBlock(xk, n[0], n[1], n[2], n[3], block, 0);
      const ktop = blockBytes;
      stretch.set(ktop);
      for (let i = 0; i < 8; i++) stretch[16 + i] = ktop[i] ^ ktop[i + 1];
    }
    const byteShift = bottom >>> 3;
    const bitShift = bottom & 7;
    for (let i = 0; i < 16; i++) {
      const a = stretch[i + byteShift];
      const b = stretch[i + byteShift + 1];
      offsetBytes[i] = bitShift === 0 ? a : ((a << bitShift) | (b >>> (8 - bitShift))) & 0xff;
    }
    loadWords(offsetBytes, 0, state, 0);
  }

  /** Computes HASH(K, A) into state[8..12) (RFC 7253 §4.1). Uses the work buffer. */
  function hash(ad: Uint8Array): void {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const len = ad.length;
    if (len > 0) {
      workFor(len);
      work.set(ad);
      const w = work32;
      let o0 = 0, o1 = 0, o2 = 0, o3 = 0;
      const blocks = len >>> 4;
      for (let i = 1, p = 0; i <= blocks; i++, p += 4) {
        const l = 4 * (2 + 31 - Math.clz32(i & -i));
        o0 ^= table[l], o1 ^= table[l + 1], o2 ^= table[l + 2], o3 ^= table[l + 3];
        encryptBlock(xk, w[p] ^ o0, w[p + 1] ^ o1, w[p + 2] ^ o2, w[p + 3] ^ o3, block, 0);
        s0 ^= block[0], s1 ^= block[1], s2 ^= block[2], s3 ^= block[3];
      }
      const rest = len & 15;
      if (rest > 0) {
        const end = len - rest;
        work[len] = 0x80;
        work.fill(0, len + 1, end + 16);
        const p = end >>> 2;
        o0 ^= table[0], o1 ^= table[1], o2 ^= table[2], o3 ^= table[3];
        encryptBlock(xk, w[p] ^ o0, w[p + 1] ^ o1, w[p + 2] ^ o2, w[p + 3] ^ o3, block, 0);
        s0 ^= block[0], s1 ^= block[1], s2 ^= block[2], s3 ^= block[3];
      }
    }
    state[8] = s0, state[9] = s1, state[10] = s2, state[11] = s3;
  }

  /** Leaves the tag words in tagWords, given the final checksum in state[4..8). */
  function finishTag(): void {
    encryptBlock(
      xk,
      state[4] ^ state[0] ^ table[4],
      state[5] ^ state[1] ^ table[5],
      state[6] ^ state[2] ^ table[6],
      state[7] ^ state[3] ^ table[7],
      tagWords,
      0,
    );
    tagWords[0] ^= state[8];
    tagWords[1] ^= state[9];
    tagWords[2] ^= state[10];
    tagWords[3] ^= state[11];
  }

  let wiped = false;

  function wipe(): void {
    wiped = true;
    topValid = false;
    for (
      const a of [xk, xkd, block, table, topNonce, stretch, offsetBytes, state, tagWords, work]
    ) {
      a.fill(0);
    }
  }

  function checkNonce(nonce: Uint8Array): void {
    if (wiped) throw new Error("ocb: the key was wiped");
    checkBytes("nonce", nonce);
    if (nonce.length !== OCB_NONCE_LENGTH) {
      throw new TypeError(`ocb: wrong nonce size: should be 12, got ${nonce.length}`);
    }
  }

  function encrypt(
    nonce: Uint8Array,
    plaintext: Uint8Array,
    ad: Uint8Array = EMPTY,
    out?: Uint8Array,
  ): Uint8Array {
    checkNonce(nonce);
    checkBytes("plaintext", plaintext);
    checkBytes("associated data", ad);
    const len = plaintext.length;
    if (out === undefined) out = new Uint8Array(len + OCB_TAG_LENGTH);
    else {
      checkBytes("output", out);
      if (out.length < len + OCB_TAG_LENGTH) {
        throw new TypeError(
          `ocb: output too small: need ${len + OCB_TAG_LENGTH}, got ${out.length}`,
        );
      }
    }
    hash(ad);
    initOffset(nonce);
    workFor(len);
    work.set(plaintext);
    const w = work32;
    let o0 = state[0], o1 = state[1], o2 = state[2], o3 = state[3];
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    const blocks = len >>> 4;
    for (let i = 1, p = 0; i <= blocks; i++, p += 4) {
      const l = 4 * (2 + 31 - Math.clz32(i & -i));
      o0 ^= table[l], o1 ^= table[l + 1], o2 ^= table[l + 2], o3 ^= table[l + 3];
      const p0 = w[p], p1 = w[p + 1], p2 = w[p + 2], p3 = w[p + 3];
      c0 ^= p0, c1 ^= p1, c2 ^= p2, c3 ^= p3;
      encryptBlock(xk, p0 ^ o0, p1 ^ o1, p2 ^ o2, p3 ^ o3, w, p);
      w[p] ^= o0, w[p + 1] ^= o1, w[p + 2] ^= o2, w[p + 3] ^= o3;
    }
    const rest = len & 15;
    if (rest > 0) {
      const p = (len - rest) >>> 2;
      work[len] = 0x80;
      work.fill(0, len + 1, (p << 2) + 16);
      c0 ^= w[p], c1 ^= w[p + 1], c2 ^= w[p + 2], c3 ^= w[p + 3];
      o0 ^= table[0], o1 ^= table[1], o2 ^= table[2], o3 ^= table[3];
      encryptBlock(xk, o0, o1, o2, o3, block, 0);
      w[p] ^= block[0], w[p + 1] ^= block[1], w[p + 2] ^= block[2], w[p + 3] ^= block[3];
    }
    state[0] = o0, state[1] = o1, state[2] = o2, state[3] = o3;
    state[4] = c0, state[5] = c1, state[6] = c2, state[7] = c3;
    finishTag();
    out.set(work.subarray(0, len));
    out.set(tagBytes, len);
    return out;
  }

  function decrypt(
    nonce: Uint8Array,
    ciphertext: Uint8Array,
    ad: Uint8Array = EMPTY,
    out?: Uint8Array,
  ): Uint8Array | null {
    checkNonce(nonce);
    checkBytes("ciphertext", ciphertext);
    checkBytes("associated data", ad);
    if (ciphertext.length < OCB_TAG_LENGTH) return null;
    const len = ciphertext.length - OCB_TAG_LENGTH;
    if (out !== undefined) {
      checkBytes("output", out);
      if (out.length < len) {
        throw new TypeError(`ocb: output too small: need ${len}, got ${out.length}`);
      }
    }
    hash(ad);
    initOffset(nonce);
    workFor(len);
    work.set(ciphertext.subarray(0, len));
    const w = work32;
    let o0 = state[0], o1 = state[1], o2 = state[2], o3 = state[3];
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    const blocks = len >>> 4;
    for (let i = 1, p = 0; i <= blocks; i++, p += 4) {
      const l = 4 * (2 + 31 - Math.clz32(i & -i));
      o0 ^= table[l], o1 ^= table[l + 1], o2 ^= table[l + 2], o3 ^= table[l + 3];
      decryptBlock(xkd, w[p] ^ o0, w[p + 1] ^ o1, w[p + 2] ^ o2, w[p + 3] ^ o3, w, p);
      const p0 = w[p] ^ o0, p1 = w[p + 1] ^ o1, p2 = w[p + 2] ^ o2, p3 = w[p + 3] ^ o3;
      w[p] = p0, w[p + 1] = p1, w[p + 2] = p2, w[p + 3] = p3;
      c0 ^= p0, c1 ^= p1, c2 ^= p2, c3 ^= p3;
    }
    const rest = len & 15;
    if (rest > 0) {
      const p = (len - rest) >>> 2;
      o0 ^= table[0], o1 ^= table[1], o2 ^= table[2], o3 ^= table[3];
      encryptBlock(xk, o0, o1, o2, o3, block, 0);
      w[p] ^= block[0], w[p + 1] ^= block[1], w[p + 2] ^= block[2], w[p + 3] ^= block[3];
      work[len] = 0x80;
      work.fill(0, len + 1, (p << 2) + 16);
      c0 ^= w[p], c1 ^= w[p + 1], c2 ^= w[p + 2], c3 ^= w[p + 3];
    }
    state[0] = o0, state[1] = o1, state[2] = o2, state[3] = o3;
    state[4] = c0, state[5] = c1, state[6] = c2, state[7] = c3;
    finishTag();
    // Constant-time comparison of the expected tag with the received one.
    let diff = 0;
    for (let i = 0; i < OCB_TAG_LENGTH; i++) diff |= tagBytes[i] ^ ciphertext[len + i];
    if (diff !== 0) return null;
    if (out === undefined) out = new Uint8Array(len);
    out.set(work.subarray(0, len));
    return out;
  }

  return { encrypt, decrypt, wipe };
}

/**
 * The mosh session key (docs/PROTOCOL.md §1.1): 16 random bytes, printed as standard base64 with
 * the trailing "==" removed, i.e. exactly 22 characters. Parsing is strict, like mosh's
 * Base64Key: the string must be 22 characters of the alphabet A-Z a-z 0-9 + / and must re-encode
 * to itself, so the last character carries 2 data bits and 4 zero bits (one of A, Q, g, w).
 */

import { KeyError } from "./errors.ts";

export { KeyError };

/** Length of the session key in bytes. */
export const KEY_LENGTH = 16;
/** Length of the printable session key in characters. */
export const PRINTABLE_KEY_LENGTH = 22;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * Parses a printable mosh key ("MOSH_KEY") into its 16 bytes. Throws a KeyError with the message
 * mosh-client 1.4.0 prints (observed): "Key must be 22 letters long.", "Key must be well-formed
 * base64." (a character outside the alphabet, including "=") or "Base64 key was not encoded
 * 128-bit key." (the last character has non-zero low bits, so it does not re-encode identically).
 *
 * @example The zero key of docs/PROTOCOL.md §1.3
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseKey("AAAAAAAAAAAAAAAAAAAAAA"), new Uint8Array(16));
 * assert.throws(() => parseKey("AAAA"), /Key must be 22 letters long/);
 * ```
 */
export function parseKey(s: string): Uint8Array {
  if (typeof s !== "string" || s.length !== PRINTABLE_KEY_LENGTH) {
    throw new KeyError("Key must be 22 letters long.");
  }
  const key = new Uint8Array(KEY_LENGTH);
  let bits = 0;
  let nbits = 0;
  let at = 0;
  for (let i = 0; i < PRINTABLE_KEY_LENGTH; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    if (v < 0) throw new KeyError("Key must be well-formed base64.");
    bits = (bits << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      key[at++] = (bits >>> nbits) & 0xff;
      bits &= (1 << nbits) - 1;
    }
  }
  // 22 * 6 = 132 bits: the 4 left over must be zero, or the key would not re-encode identically.
  if (bits !== 0) throw new KeyError("Base64 key was not encoded 128-bit key.");
  return key;
}

/**
 * Formats 16 key bytes as mosh's 22-character printable key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
 * assert.equal(printableKey(bytes), "ABEiM0RVZneImaq7zN3u/w");
 * ```
 */
export function printableKey(key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw new TypeError(`key: wrong key size: should be 16 bytes`);
  }
  let out = "";
  let bits = 0;
  let nbits = 0;
  for (let i = 0; i < KEY_LENGTH; i++) {
    bits = (bits << 8) | key[i];
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out += ALPHABET[(bits >>> nbits) & 63];
    }
    bits &= (1 << nbits) - 1;
  }
  return out + ALPHABET[(bits << (6 - nbits)) & 63];
}

/** Generates a fresh random session key with crypto.getRandomValues. */
export function generateKey(): { key: Uint8Array; printable: string } {
  const key = crypto.getRandomValues(new Uint8Array(KEY_LENGTH));
  return { key, printable: printableKey(key) };
}

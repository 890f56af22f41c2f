/**
 * lib/aes.ts: FIPS-197's own vectors (Appendix A.1 key expansion, Appendix B cipher example,
 * Appendix C.1 AES-128), and random keys and blocks against WebCrypto's AES (AES-CBC with a zero
 * IV over one block is E_K(block)), which needs no permission and no other dependency.
 */

import assert from "node:assert/strict";
import { decryptBlock, encryptBlock, expandDecryptKey, expandKey } from "../lib/aes.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!, (b) => parseInt(b, 16));
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The four little-endian words of a 16-byte block, as lib/ocb.ts holds blocks. */
function words(block: Uint8Array): Uint32Array {
  return new Uint32Array(block.slice().buffer);
}

function encrypt(key: Uint8Array, block: Uint8Array): Uint8Array {
  const w = words(block);
  const out = new Uint32Array(4);
  encryptBlock(expandKey(key), w[0], w[1], w[2], w[3], out, 0);
  return new Uint8Array(out.buffer);
}

function decrypt(key: Uint8Array, block: Uint8Array): Uint8Array {
  const w = words(block);
  const out = new Uint32Array(4);
  decryptBlock(expandDecryptKey(expandKey(key)), w[0], w[1], w[2], w[3], out, 0);
  return new Uint8Array(out.buffer);
}

Deno.test("aes: FIPS-197 Appendix A.1 key expansion (last round key)", () => {
  const xk = expandKey(hex("2b7e151628aed2a6abf7158809cf4f3c"));
  const last = new Uint8Array(xk.slice(40).buffer);
  assert.equal(toHex(last), "d014f9a8c9ee2589e13f0cc8b6630ca6");
  const first = new Uint8Array(xk.slice(4, 8).buffer);
  assert.equal(toHex(first), "a0fafe1788542cb123a339392a6c7605");
});

Deno.test("aes: FIPS-197 Appendix B cipher example", () => {
  const key = hex("2b7e151628aed2a6abf7158809cf4f3c");
  const plain = hex("3243f6a8885a308d313198a2e0370734");
  const cipher = hex("3925841d02dc09fbdc118597196a0b32");
  assert.deepEqual(encrypt(key, plain), cipher);
  assert.deepEqual(decrypt(key, cipher), plain);
});

Deno.test("aes: FIPS-197 Appendix C.1 AES-128", () => {
  const key = hex("000102030405060708090a0b0c0d0e0f");
  const plain = hex("00112233445566778899aabbccddeeff");
  const cipher = hex("69c4e0d86a7b0430d8cdb78070b4c55a");
  assert.deepEqual(encrypt(key, plain), cipher);
  assert.deepEqual(decrypt(key, cipher), plain);
});

Deno.test("aes: random keys and blocks agree with WebCrypto and decrypt back", async () => {
  const zeroIv = new Uint8Array(16);
  const out = new Uint32Array(8);
  for (let n = 0; n < 64; n++) {
    const key = crypto.getRandomValues(new Uint8Array(16));
    const xk = expandKey(key);
    const dk = expandDecryptKey(xk);
    const webKey = await crypto.subtle.importKey("raw", key, "AES-CBC", false, ["encrypt"]);
    for (let b = 0; b < 8; b++) {
      const block = crypto.getRandomValues(new Uint8Array(16));
      const expected = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-CBC", iv: zeroIv }, webKey, block),
      ).subarray(0, 16);
      const w = words(block);
      encryptBlock(xk, w[0], w[1], w[2], w[3], out, 4); // a non-zero offset, as OCB writes
      assert.deepEqual(new Uint8Array(out.buffer, 16, 16), expected);
      decryptBlock(dk, out[4], out[5], out[6], out[7], out, 0);
      assert.deepEqual(new Uint8Array(out.buffer, 0, 16), block);
    }
  }
});

Deno.test("aes: a wrong key is a TypeError with the sizes", () => {
  assert.throws(() => expandKey(new Uint8Array(15)), {
    name: "TypeError",
    message: "aes: wrong key size: should be 16, got 15",
  });
  assert.throws(() => expandKey(new Uint8Array(32)), TypeError);
  assert.throws(() => expandDecryptKey(new Uint32Array(60)), TypeError);
});

import assert from "node:assert/strict";
import { generateKey, KeyError, parseKey, printableKey } from "../lib/key.ts";

function stdBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

Deno.test("key: zero key and a known key parse to the expected bytes", () => {
  assert.deepEqual(parseKey("AAAAAAAAAAAAAAAAAAAAAA"), new Uint8Array(16));
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  const printable = stdBase64(bytes).slice(0, 22);
  assert.equal(stdBase64(bytes).slice(22), "==");
  assert.deepEqual(parseKey(printable), bytes);
  assert.equal(printableKey(bytes), printable);
});

Deno.test("key: printable form matches standard base64 for random keys and round-trips", () => {
  for (let i = 0; i < 200; i++) {
    const { key, printable } = generateKey();
    assert.equal(key.length, 16);
    assert.equal(printable.length, 22);
    assert.equal(printable, stdBase64(key).slice(0, 22));
    assert.match(printable[21], /[AQgw]/);
    assert.deepEqual(parseKey(printable), key);
  }
  assert.notDeepEqual(generateKey().key, generateKey().key);
});

Deno.test("key: wrong lengths are rejected with mosh's message", () => {
  for (
    const s of ["", "AAAA", "A".repeat(21), "A".repeat(23), "A".repeat(22) + "==", "A".repeat(24)]
  ) {
    assert.throws(() => parseKey(s), (e: unknown) => {
      assert.ok(e instanceof KeyError);
      assert.equal(e.message, "Key must be 22 letters long.");
      return true;
    }, JSON.stringify(s));
  }
});

Deno.test("key: malformed base64 is rejected with mosh's message", () => {
  // Messages observed from Debian's mosh-client 1.4.0 with MOSH_KEY set to each string.
  for (const s of ["AAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAA/", "AAAAAAAAAAAAAAAAAAAAAR"]) {
    assert.throws(() => parseKey(s), {
      name: "KeyError",
      message: "Base64 key was not encoded 128-bit key.",
    }, s);
  }
  const bad = [
    "AAAAAAAAAAAAAAAAAAAA=A",
    "AAAAAAAAAAAAAAAAAAAAA=",
    "AAAAAAAAAAAAAAAAAAAA==",
    "AAAAAAAAAA-AAAAAAAAAAA", // base64url alphabet is not accepted
    "AAAAAAAAAA_AAAAAAAAAAA",
    "AAAAAAAAAA AAAAAAAAAAA",
    "AAAAAAAAAA\nAAAAAAAAAAA",
    "AAAAAAAAAAéAAAAAAAAAAA",
  ];
  for (const s of bad) {
    assert.equal(s.length, 22);
    assert.throws(() => parseKey(s), {
      name: "KeyError",
      message: "Key must be well-formed base64.",
    }, JSON.stringify(s));
  }
  // Each of the four valid last characters is accepted.
  for (const last of "AQgw") parseKey("A".repeat(21) + last);
});

Deno.test("key: printableKey rejects a wrong-size key", () => {
  assert.throws(() => printableKey(new Uint8Array(15)), TypeError);
});

import assert from "node:assert/strict";
import { ocb } from "../lib/ocb.ts";
import { DatagramCodec, TO_SERVER } from "../lib/datagram.ts";

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

const KEY = hex("000102030405060708090A0B0C0D0E0F");
const P8 = "0001020304050607";
const P16 = "000102030405060708090A0B0C0D0E0F";
const P24 = P16 + "1011121314151617";
const P32 = P16 + "101112131415161718191A1B1C1D1E1F";
const P40 = P32 + "2021222324252627";

// RFC 7253 Appendix A, AES-128, TAGLEN 128: [nonce, A, P, C ‖ T].
const RFC_VECTORS: [string, string, string, string][] = [
  ["BBAA99887766554433221100", "", "", "785407BFFFC8AD9EDCC5520AC9111EE6"],
  ["BBAA99887766554433221101", P8, P8, "6820B3657B6F615A5725BDA0D3B4EB3A257C9AF1F8F03009"],
  ["BBAA99887766554433221102", P8, "", "81017F8203F081277152FADE694A0A00"],
  ["BBAA99887766554433221103", "", P8, "45DD69F8F5AAE72414054CD1F35D82760B2CD00D2F99BFA9"],
  [
    "BBAA99887766554433221104",
    P16,
    P16,
    "571D535B60B277188BE5147170A9A22C3AD7A4FF3835B8C5701C1CCEC8FC3358",
  ],
  ["BBAA99887766554433221105", P16, "", "8CF761B6902EF764462AD86498CA6B97"],
  [
    "BBAA99887766554433221106",
    "",
    P16,
    "5CE88EC2E0692706A915C00AEB8B2396F40E1C743F52436BDF06D8FA1ECA343D",
  ],
  [
    "BBAA99887766554433221107",
    P24,
    P24,
    "1CA2207308C87C010756104D8840CE1952F09673A448A122C92C62241051F57356D7F3C90BB0E07F",
  ],
  ["BBAA99887766554433221108", P24, "", "6DC225A071FC1B9F7C69F93B0F1E10DE"],
  [
    "BBAA99887766554433221109",
    "",
    P24,
    "221BD0DE7FA6FE993ECCD769460A0AF2D6CDED0C395B1C3CE725F32494B9F914D85C0B1EB38357FF",
  ],
  [
    "BBAA9988776655443322110A",
    P32,
    P32,
    "BD6F6C496201C69296C11EFD138A467ABD3C707924B964DEAFFC40319AF5A48540FBBA186C5553C68AD9F592A79A4240",
  ],
  ["BBAA9988776655443322110B", P32, "", "FE80690BEE8A485D11F32965BC9D2A32"],
  [
    "BBAA9988776655443322110C",
    "",
    P32,
    "2942BFC773BDA23CABC6ACFD9BFD5835BD300F0973792EF46040C53F1432BCDFB5E1DDE3BC18A5F840B52E653444D5DF",
  ],
  [
    "BBAA9988776655443322110D",
    P40,
    P40,
    "D5CA91748410C1751FF8A2F618255B68A0A12E093FF454606E59F9C1D0DDC54B65E8628E568BAD7AED07BA06A4A69483A7035490C5769E60",
  ],
  ["BBAA9988776655443322110E", P40, "", "C5CD9D1850C141E358649994EE701B68"],
  [
    "BBAA9988776655443322110F",
    "",
    P40,
    "4412923493C57D5DE0D700F753CCE0D1D2D95060122E9F15A5DDBFC5787E50B5CC55EE507BCB084E479AD363AC366B95A98CA5F3000B1479",
  ],
];

Deno.test("ocb: RFC 7253 Appendix A sample results (AES-128, 128-bit tag)", () => {
  const cipher = ocb(KEY);
  for (const [n, a, p, c] of RFC_VECTORS) {
    const sealed = cipher.encrypt(hex(n), hex(p), hex(a));
    assert.equal(toHex(sealed), c, `encrypt N=${n}`);
    const opened = cipher.decrypt(hex(n), hex(c), hex(a));
    assert.ok(opened, `decrypt N=${n}`);
    assert.equal(toHex(opened), p, `decrypt N=${n}`);
  }
});

function num2str96(i: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(8, i);
  return n;
}

Deno.test("ocb: RFC 7253 Appendix A iterated check, TAGLEN 128", () => {
  const key = new Uint8Array(16);
  key[15] = 128;
  const cipher = ocb(key);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 128; i++) {
    const s = new Uint8Array(i);
    parts.push(cipher.encrypt(num2str96(3 * i + 1), s, s));
    parts.push(cipher.encrypt(num2str96(3 * i + 2), s));
    parts.push(cipher.encrypt(num2str96(3 * i + 3), new Uint8Array(0), s));
    for (const [k, ad] of [[1, s], [2, undefined]] as const) {
      const c = parts[parts.length - 3 + k - 1];
      assert.deepEqual(cipher.decrypt(num2str96(3 * i + k), c, ad), s, `round trip ${i}/${k}`);
    }
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, at), at += p.length;
  assert.equal(all.length, 22400);
  const result = cipher.encrypt(num2str96(385), new Uint8Array(0), all);
  assert.equal(toHex(result), "67E944D23256C5E0B6C61FA22FDF1EA2");
});

Deno.test("ocb: mosh's check value and a worked datagram from the spec", () => {
  // docs/PROTOCOL.md §1.1: K=00..0F, N=BBAA99887766554433221100, empty A and P.
  assert.equal(
    toHex(ocb(KEY).encrypt(hex("BBAA99887766554433221100"), new Uint8Array(0))),
    "785407BFFFC8AD9EDCC5520AC9111EE6",
  );
  // §1.3: zero key, nonce 0^12, 44-byte plaintext.
  const pt = hex(
    "1234ffff" + "00000000000000018000" +
      "789ce360126090605460d06030e2e0629362d1083090b0620000105301de",
  );
  assert.equal(pt.length, 44);
  const ct = ocb(new Uint8Array(16)).encrypt(new Uint8Array(12), pt);
  assert.equal(
    toHex(ct),
    ("be0f897b72f540a0f8ef29ac5e4ff3eeee8b4b2e6ce82657ade4e72266ab53bd36fd5e43daab18dc2284639a" +
      "04d5c431bf66c8e6acddd0e8c2a8e2ef").toUpperCase(),
  );
});

Deno.test("ocb: every length 0..300 round-trips, unaligned views and caller output", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const cipher = ocb(key);
  const backing = crypto.getRandomValues(new Uint8Array(400));
  for (let len = 0; len <= 300; len++) {
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const pt = backing.subarray(1 + (len % 3), 1 + (len % 3) + len); // deliberately misaligned
    const ad = backing.subarray(7, 7 + (len % 37));
    const out = new Uint8Array(len + 16 + 5);
    const sealed = cipher.encrypt(nonce, pt, ad, out.subarray(5));
    assert.equal(sealed.byteOffset, 5);
    assert.deepEqual(cipher.decrypt(nonce, sealed.subarray(0, len + 16), ad), pt);
    // A second instance with the same key agrees (no hidden state leaks between messages).
    assert.deepEqual(ocb(key).decrypt(nonce, sealed.subarray(0, len + 16), ad), pt);
  }
});

Deno.test("ocb: flipping any bit of nonce, ciphertext, tag or AD fails authentication", () => {
  const cipher = ocb(KEY);
  const nonce = hex("BBAA9988776655443322110D");
  const ad = hex(P40);
  const pt = hex(P40);
  const sealed = cipher.encrypt(nonce, pt, ad);
  for (let bit = 0; bit < nonce.length * 8; bit++) {
    const n = nonce.slice();
    n[bit >>> 3] ^= 1 << (bit & 7);
    assert.equal(cipher.decrypt(n, sealed, ad), null, `nonce bit ${bit}`);
  }
  for (let bit = 0; bit < sealed.length * 8; bit++) {
    const c = sealed.slice();
    c[bit >>> 3] ^= 1 << (bit & 7);
    assert.equal(cipher.decrypt(nonce, c, ad), null, `ciphertext/tag bit ${bit}`);
  }
  for (let bit = 0; bit < ad.length * 8; bit++) {
    const a = ad.slice();
    a[bit >>> 3] ^= 1 << (bit & 7);
    assert.equal(cipher.decrypt(nonce, sealed, a), null, `ad bit ${bit}`);
  }
  assert.deepEqual(cipher.decrypt(nonce, sealed, ad), pt);
});

Deno.test("ocb: short, truncated or garbage input returns null, never throws", () => {
  const cipher = ocb(KEY);
  const nonce = new Uint8Array(12);
  const sealed = cipher.encrypt(nonce, hex(P24));
  for (let len = 0; len < sealed.length; len++) {
    assert.equal(cipher.decrypt(nonce, sealed.subarray(0, len)), null, `truncated to ${len}`);
  }
  const out = new Uint8Array(24).fill(0xaa);
  assert.equal(cipher.decrypt(nonce, sealed.map((b) => b ^ 0xff), undefined, out), null);
  assert.ok(out.every((b) => b === 0xaa), "output untouched on failure");
});

Deno.test("ocb: wrong key or nonce sizes are clear TypeErrors", () => {
  assert.throws(() => ocb(new Uint8Array(15)), {
    name: "TypeError",
    message: "ocb: wrong key size: should be 16, got 15",
  });
  assert.throws(() => ocb(new Uint8Array(32)), TypeError);
  const cipher = ocb(KEY);
  assert.throws(() => cipher.encrypt(new Uint8Array(16), new Uint8Array(1)), {
    name: "TypeError",
    message: "ocb: wrong nonce size: should be 12, got 16",
  });
  assert.throws(() => cipher.decrypt(new Uint8Array(8), new Uint8Array(20)), TypeError);
  assert.throws(
    () => cipher.encrypt(new Uint8Array(12), new Uint8Array(4), undefined, new Uint8Array(19)),
    { name: "TypeError", message: "ocb: output too small: need 20, got 19" },
  );
});

Deno.test("ocb: wipe() ends the key's use; DatagramCodec.wipe wipes its cipher", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const cipher = ocb(key);
  const nonce = new Uint8Array(12);
  const sealed = cipher.encrypt(nonce, new Uint8Array([1, 2, 3]));
  cipher.wipe();
  assert.throws(() => cipher.encrypt(nonce, new Uint8Array(3)), /the key was wiped/);
  assert.throws(() => cipher.decrypt(nonce, sealed), /the key was wiped/);
  assert.deepEqual(ocb(key).decrypt(nonce, sealed), new Uint8Array([1, 2, 3]), "key untouched");

  const codec = new DatagramCodec(key, TO_SERVER);
  codec.wipe();
  assert.throws(() => codec.seal(0, 0, new Uint8Array(1)), /the key was wiped/);
});

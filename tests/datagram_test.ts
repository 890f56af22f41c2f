import assert from "node:assert/strict";
import {
  DATAGRAM_OVERHEAD,
  DatagramCodec,
  DEFAULT_SEND_MTU,
  IPV4_DATAGRAM_MTU,
  IPV6_DATAGRAM_MTU,
  MAX_DATAGRAM_LENGTH,
  sealWithSequence,
  timestamp16,
  TIMESTAMP_NONE,
  TO_CLIENT,
  TO_SERVER,
} from "../lib/datagram.ts";
import { parseKey } from "../lib/key.ts";
import { ocb } from "../lib/ocb.ts";
import { Fragmenter, fragmentMtu } from "../lib/fragment.ts";

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// docs/PROTOCOL.md §1.3 worked vector: fragment id 1, final, one chunk of zlib data.
const FRAGMENT = hex(
  "00000000000000018000" + "789ce360126090605460d06030e2e0629362d1083090b0620000105301de",
);
const ZERO_KEY = parseKey("AAAAAAAAAAAAAAAAAAAAAA");

Deno.test("datagram: reproduces the spec's two 68-byte worked vectors", () => {
  const client = new DatagramCodec(ZERO_KEY, TO_SERVER);
  const toServer = sealWithSequence(client, 0x1234, 0xffff, FRAGMENT, 0n);
  assert.equal(toServer.length, 68);
  assert.equal(
    toHex(toServer),
    "0000000000000000" +
      "be0f897b72f540a0f8ef29ac5e4ff3eeee8b4b2e6ce82657ade4e72266ab53bd36fd5e43daab18dc2284639a" +
      "04d5c431bf66c8e6acddd0e8c2a8e2ef",
  );
  const server = new DatagramCodec(ZERO_KEY, TO_CLIENT);
  const toClient = sealWithSequence(server, 0x1234, 0xffff, FRAGMENT, 5n);
  assert.equal(
    toHex(toClient),
    "8000000000000005" +
      "4f9fb8187ec6ed1b22301fcc1b655dfe1c39963ddfa9f1f44adf5b8e21adff1c0b3ec10745f7c1398e7b3489" +
      "9afc601be4800a3d469bb94b0a2d1f39",
  );
  const a = server.open(toServer);
  assert.ok(a);
  assert.equal(a.seq, 0n);
  assert.equal(a.timestamp, 0x1234);
  assert.equal(a.timestampReply, TIMESTAMP_NONE);
  assert.deepEqual(a.payload, FRAGMENT);
  const b = client.open(toClient);
  assert.ok(b);
  assert.equal(b.seq, 5n);
  assert.deepEqual(b.payload, FRAGMENT);
});

Deno.test("datagram: the sequence counter is process-wide and increasing", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const a = new DatagramCodec(key, TO_SERVER);
  const b = new DatagramCodec(key, TO_SERVER);
  const server = new DatagramCodec(key, TO_CLIENT);
  const seqs: bigint[] = [];
  for (let i = 0; i < 6; i++) {
    const codec = i % 2 === 0 ? a : b;
    const opened = server.open(codec.seal(i, TIMESTAMP_NONE, new Uint8Array([i])));
    assert.ok(opened);
    assert.deepEqual(opened.payload, new Uint8Array([i]));
    seqs.push(opened.seq);
  }
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1n);
});

Deno.test("datagram: large sequence numbers and the direction bit are on the wire", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const server = new DatagramCodec(key, TO_CLIENT);
  const client = new DatagramCodec(key, TO_SERVER);
  const seq = (1n << 63n) - 2n;
  const d = sealWithSequence(server, 1, 2, new Uint8Array(0), seq);
  assert.equal(toHex(d.subarray(0, 8)), "fffffffffffffffe");
  const opened = client.open(d);
  assert.ok(opened);
  assert.equal(opened.seq, seq);
  assert.equal(opened.payload.length, 0);
  assert.equal(
    toHex(sealWithSequence(client, 0, 0, new Uint8Array(0), 0x123456789an).subarray(0, 8)),
    "000000123456789a",
  );
  assert.throws(() => sealWithSequence(client, 0, 0, new Uint8Array(0), 1n << 63n), RangeError);
  assert.throws(() => sealWithSequence(client, 0, 0, new Uint8Array(0), -1n), RangeError);
  assert.throws(() => client.seal(65536, 0, new Uint8Array(0)), RangeError);
  assert.throws(() => client.seal(0, -1, new Uint8Array(0)), RangeError);
  assert.throws(() => new DatagramCodec(key, 2 as 0), TypeError);
  assert.throws(() => new DatagramCodec(new Uint8Array(8), TO_SERVER), TypeError);
});

Deno.test("datagram: rejects short, reflected, forged and short-plaintext datagrams by reason", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const client = new DatagramCodec(key, TO_SERVER);
  const server = new DatagramCodec(key, TO_CLIENT);
  const good = client.seal(100, 200, new Uint8Array([1, 2, 3]));

  for (let len = 0; len < 24; len++) assert.equal(server.open(good.subarray(0, len)), null);
  assert.equal(server.rejected.tooShort, 24);

  // Reflection: the client's own datagram sent back to it.
  assert.equal(client.open(good), null);
  assert.equal(client.rejected.wrongDirection, 1);
  // Forcing the direction bit changes the nonce, so authentication fails too.
  const flipped = good.slice();
  flipped[0] ^= 0x80;
  assert.equal(client.open(flipped), null);
  assert.equal(client.rejected.integrity, 1);

  for (let bit = 0; bit < good.length * 8; bit++) {
    const bad = good.slice();
    bad[bit >>> 3] ^= 1 << (bit & 7);
    assert.equal(server.open(bad), null, `bit ${bit}`);
  }
  assert.equal(server.rejected.integrity + server.rejected.wrongDirection, good.length * 8);
  assert.equal(server.rejected.wrongDirection, 1); // bit 7 of byte 0 is the direction bit

  // Datagrams authenticating only 0-3 plaintext bytes (mosh never sends them; built by hand).
  const cipher = ocb(key);
  for (let n = 0; n < 4; n++) {
    const nonce = new Uint8Array(12);
    nonce[11] = 0x40 + n; // direction 0, an unused sequence number
    const tiny = new Uint8Array(8 + n + 16);
    tiny.set(nonce.subarray(4));
    tiny.set(cipher.encrypt(nonce, new Uint8Array(n)), 8);
    assert.equal(server.open(tiny), null, `${n} plaintext bytes`);
  }
  assert.equal(server.rejected.shortPlaintext, 4);

  const opened = server.open(good);
  assert.ok(opened);
  assert.deepEqual(
    [opened.timestamp, opened.timestampReply, [...opened.payload]],
    [100, 200, [1, 2, 3]],
  );
});

Deno.test("datagram: timestamp16 is ms mod 65536 with 0xFFFF bumped to 0", () => {
  assert.equal(timestamp16(0), 0);
  assert.equal(timestamp16(1234.9), 1234);
  assert.equal(timestamp16(65535), 0);
  assert.equal(timestamp16(65536 + 7), 7);
  assert.equal(timestamp16(65536 * 3 + 65535), 0);
  assert.equal(timestamp16(65534), 65534);
  const now = timestamp16();
  assert.ok(now >= 0 && now < 0xffff);
});

Deno.test("datagram: the public API has no sequence override (no nonce reuse)", async () => {
  const mod = await import("../mod.ts");
  assert.equal("sealWithSequence" in mod, false);
  const codec = new mod.DatagramCodec(ZERO_KEY, TO_SERVER);
  const seal = codec.seal as (...args: unknown[]) => Uint8Array;
  // A fourth argument is ignored: every datagram takes the next sequence number.
  const a = seal.call(codec, 0, 0, new Uint8Array(0), 0n);
  const b = seal.call(codec, 0, 0, new Uint8Array(0), 0n);
  assert.notEqual(toHex(a.subarray(0, 8)), toHex(b.subarray(0, 8)));
});

Deno.test("datagram: nothing we send is longer than a receiver accepts (2,048 bytes)", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const codec = new DatagramCodec(key, TO_SERVER);
  for (const mtu of [IPV4_DATAGRAM_MTU, IPV6_DATAGRAM_MTU, DEFAULT_SEND_MTU]) {
    assert.ok(mtu <= MAX_DATAGRAM_LENGTH);
    // A large incompressible instruction, cut at this MTU: every sealed datagram fits it.
    const fragments = new Fragmenter().makeFragments(
      {
        protocolVersion: 2,
        oldNum: 0n,
        newNum: 1n,
        ackNum: 0n,
        throwawayNum: 0n,
        diff: crypto.getRandomValues(new Uint8Array(20000)),
        chaff: new Uint8Array(16),
      },
      fragmentMtu(mtu),
    );
    for (const f of fragments) {
      const d = codec.seal(0, 0, f);
      assert.ok(d.length <= mtu, `${d.length} > ${mtu}`);
      assert.equal(d.length, f.length + DATAGRAM_OVERHEAD);
    }
  }
});

// Tests for lib/user_stream.ts: the client's keystroke/resize state (docs/PROTOCOL.md §6.1).

import assert from "node:assert/strict";
import { decodeUserMessage, encodeUserMessage, ProtocolError } from "../lib/protobuf.ts";
import { UserStream } from "../lib/user_stream.ts";

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

Deno.test("diffFrom merges consecutive bytes and gives each resize its own instruction", () => {
  const s = new UserStream();
  s.pushResize(80, 24);
  s.pushBytes(bytes("ab"));
  s.pushBytes(bytes("c"));
  s.pushResize(100, 40);
  s.pushResize(101, 41);
  s.pushBytes(bytes("d"));
  assert.equal(s.size, 7);
  const diff = s.diffFrom(new UserStream());
  assert.deepEqual(decodeUserMessage(diff), [
    { type: "resize", width: 80, height: 24 },
    { type: "keys", keys: bytes("abc") },
    { type: "resize", width: 100, height: 40 },
    { type: "resize", width: 101, height: 41 },
    { type: "keys", keys: bytes("d") },
  ]);
  // The exact wire form of the spec's first client state: UserMessage{resize 80x24}.
  const first = new UserStream();
  first.pushResize(80, 24);
  assert.equal(hex(first.diffFrom(new UserStream())), "0a 06 1a 04 28 50 30 18");
  // Keystroke "hi": field 1 { field 2 { field 4 "hi" } }.
  const keys = new UserStream();
  keys.pushBytes(bytes("hi"));
  assert.equal(hex(keys.diffFrom(new UserStream())), "0a 06 12 04 22 02 68 69");
});

Deno.test("diffFrom emits only the events after the prefix, and nothing for an equal state", () => {
  const s = new UserStream();
  s.pushBytes(bytes("hello"));
  const prefix = s.clone();
  s.pushBytes(bytes(" world"));
  s.pushResize(10, 5);
  assert.deepEqual(decodeUserMessage(s.diffFrom(prefix)), [
    { type: "keys", keys: bytes(" world") },
    { type: "resize", width: 10, height: 5 },
  ]);
  assert.equal(s.diffFrom(s.clone()).length, 0);
  assert.equal(new UserStream().diffFrom(new UserStream()).length, 0);
  // A prefix that ends inside a chunk.
  const mid = new UserStream();
  mid.pushBytes(bytes("hel"));
  assert.deepEqual(decodeUserMessage(s.diffFrom(mid))[0], {
    type: "keys",
    keys: bytes("lo world"),
  });
});

Deno.test("applyString round-trips a diff onto the prefix", () => {
  const a = new UserStream();
  a.pushResize(80, 24);
  const b = a.clone();
  a.pushBytes(bytes("ls -l\r"));
  a.pushResize(120, 50);
  a.pushBytes(new Uint8Array([0x1b, 0x5b, 0x41]));
  b.applyString(a.diffFrom(b));
  assert.ok(b.equals(a));
  assert.ok(a.equals(b));
  assert.equal(b.size, a.size);
});

Deno.test("equality is event by event, whatever the chunking", () => {
  const a = new UserStream();
  const big = new Uint8Array(5000).map((_, i) => i & 0xff);
  a.pushBytes(big);
  const b = new UserStream();
  for (let i = 0; i < big.length; i += 777) b.pushBytes(big.subarray(i, i + 777));
  assert.ok(a.equals(b));
  assert.ok(b.equals(a));
  b.pushResize(1, 1);
  assert.ok(!a.equals(b));
  a.pushResize(1, 2);
  assert.ok(!a.equals(b), "different resize");
  const c = new UserStream();
  c.pushBytes(bytes("x"));
  const d = new UserStream();
  d.pushResize(1, 1);
  assert.ok(!c.equals(d), "byte vs resize with the same size");
  const e = new UserStream();
  e.pushBytes(bytes("y"));
  assert.ok(!c.equals(e), "different byte");
});

Deno.test("pushBytes copies its input and clones are independent", () => {
  const buf = bytes("abc");
  const a = new UserStream();
  a.pushBytes(buf);
  buf[0] = 0x7a;
  const b = a.clone();
  b.pushBytes(bytes("d"));
  assert.equal(a.size, 3);
  assert.equal(b.size, 4);
  assert.deepEqual(a.events(), [{ type: "keys", keys: bytes("abc") }]);
  assert.deepEqual(b.events(), [{ type: "keys", keys: bytes("abcd") }]);
});

Deno.test("subtract drops the prefix, also inside a chunk and from itself", () => {
  const s = new UserStream();
  s.pushResize(80, 24);
  s.pushBytes(bytes("abcdef"));
  const prefix = new UserStream();
  prefix.pushResize(80, 24);
  prefix.pushBytes(bytes("ab"));
  s.subtract(prefix);
  assert.equal(s.size, 4);
  assert.deepEqual(s.events(), [{ type: "keys", keys: bytes("cdef") }]);
  s.subtract(new UserStream());
  assert.equal(s.size, 4);
  s.subtract(s);
  assert.equal(s.size, 0);
  assert.ok(s.equals(new UserStream()));
  assert.equal(s.diffFrom(new UserStream()).length, 0);
});

Deno.test("subtract then diffFrom works like SSP uses it (acknowledged prefix removed)", () => {
  const current = new UserStream();
  current.pushResize(80, 24);
  const acked = current.clone();
  current.pushBytes(bytes("xyz"));
  const sent = current.clone();
  current.pushBytes(bytes("!"));
  // The peer acknowledged `acked`: subtract it from everything, newest first.
  current.subtract(acked);
  sent.subtract(acked);
  acked.subtract(acked);
  assert.deepEqual(decodeUserMessage(current.diffFrom(sent)), [{ type: "keys", keys: bytes("!") }]);
  assert.deepEqual(decodeUserMessage(current.diffFrom(acked)), [
    { type: "keys", keys: bytes("xyz!") },
  ]);
});

Deno.test("applyString ignores and counts out-of-range resizes", () => {
  const s = new UserStream();
  s.applyString(encodeUserMessage([
    { type: "resize", width: 0, height: 24 },
    { type: "resize", width: 80, height: 4097 },
    { type: "resize", width: -5, height: 10 },
    { type: "resize", width: 2048, height: 1024 }, // 2^21 cells
    { type: "resize", width: 4096, height: 256 }, // exactly 2^20 cells: fine
    { type: "keys", keys: bytes("k") },
  ]));
  assert.equal(s.rejectedResizes, 4);
  assert.deepEqual(s.events(), [
    { type: "resize", width: 4096, height: 256 },
    { type: "keys", keys: bytes("k") },
  ]);
  assert.equal(s.clone().rejectedResizes, 4);
});

Deno.test("applyString throws ProtocolError on malformed input and leaves the state unchanged", () => {
  const s = new UserStream();
  s.pushBytes(bytes("a"));
  const good = encodeUserMessage([{ type: "keys", keys: bytes("bc") }]);
  assert.throws(() => s.applyString(good.subarray(0, good.length - 1)), ProtocolError);
  assert.throws(() => s.applyString(new Uint8Array([0x0a, 0xff])), ProtocolError);
  assert.equal(s.size, 1);
});

Deno.test("a large paste stays one chunk per push and encodes in one keystroke", () => {
  const s = new UserStream();
  const paste = new Uint8Array(1 << 20).fill(0x61);
  const t0 = performance.now();
  for (let i = 0; i < 64; i++) s.pushBytes(paste.subarray(i * 16384, (i + 1) * 16384));
  const diff = s.diffFrom(new UserStream());
  const events = decodeUserMessage(diff);
  assert.equal(events.length, 1);
  assert.equal(events[0].type === "keys" && events[0].keys.length, 1 << 20);
  const copy = s.clone();
  assert.ok(copy.equals(s));
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1000, `1 MiB paste took ${elapsed} ms`);
  // Byte-at-a-time typing stays cheap too.
  const typed = new UserStream();
  const one = new Uint8Array(1);
  for (let i = 0; i < 20000; i++) {
    one[0] = 0x30 + (i % 10);
    typed.pushBytes(one);
  }
  assert.equal(typed.size, 20000);
  const ev = typed.events();
  assert.equal(ev.length, 1);
  assert.equal(ev[0].type === "keys" && ev[0].keys[12345], 0x30 + 5);
});

import assert from "node:assert/strict";
import { deflateSync, inflateSync } from "node:zlib";
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_SEND_MTU,
  FragmentAssembly,
  Fragmenter,
  fragmentMtu,
  IPV4_CHUNK_SIZE,
  IPV4_DATAGRAM_MTU,
  IPV6_CHUNK_SIZE,
  IPV6_DATAGRAM_MTU,
  MAX_INSTRUCTION_SIZE,
  parseFragment,
} from "../lib/fragment.ts";
import {
  encodeInstruction,
  encodeUserMessage,
  type Instruction,
  ProtocolError,
} from "../lib/protobuf.ts";

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function instruction(over: Partial<Instruction> = {}): Instruction {
  return {
    protocolVersion: 2,
    oldNum: 0n,
    newNum: 1n,
    ackNum: 0n,
    throwawayNum: 0n,
    diff: encodeUserMessage([{ type: "resize", width: 80, height: 24 }]),
    chaff: new Uint8Array(0),
    ...over,
  };
}

/** Bytes that zlib cannot shrink, so fragment counts are predictable. */
function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("fragment: MTU constants follow the spec's table", () => {
  assert.equal(IPV4_DATAGRAM_MTU, 1252);
  assert.equal(IPV6_DATAGRAM_MTU, 1216);
  assert.equal(DEFAULT_SEND_MTU, 500);
  assert.equal(IPV4_CHUNK_SIZE, 1214);
  assert.equal(IPV6_CHUNK_SIZE, 1178);
  assert.equal(DEFAULT_CHUNK_SIZE, 462);
  assert.equal(fragmentMtu(IPV4_DATAGRAM_MTU), 1224);
});

Deno.test("fragment: the spec's worked fragment is byte-identical (id 1, final, C's zlib)", () => {
  const f = new Fragmenter();
  const frags = f.makeFragments(instruction(), fragmentMtu(IPV4_DATAGRAM_MTU));
  assert.equal(frags.length, 1);
  assert.equal(
    toHex(frags[0]),
    "00000000000000018000" + "789ce360126090605460d06030e2e0629362d1083090b0620000105301de",
  );
  assert.equal(f.lastId, 1n);
  const back = new FragmentAssembly().add(frags[0]);
  assert.deepEqual(back, instruction());
});

Deno.test("fragment: the id changes exactly when a field other than diff, or the MTU, changes", () => {
  const f = new Fragmenter();
  const mtu = fragmentMtu(DEFAULT_SEND_MTU);
  const id = (inst: Instruction, m = mtu) => parseFragment(f.makeFragments(inst, m)[0]).id;
  assert.equal(id(instruction()), 1n);
  assert.equal(id(instruction()), 1n, "identical instruction keeps its id");
  assert.equal(id(instruction({ diff: new Uint8Array([9]) })), 1n, "diff alone does not count");
  assert.equal(id(instruction({ chaff: new Uint8Array([1]) })), 2n);
  assert.equal(id(instruction({ chaff: new Uint8Array([1]) })), 2n);
  assert.equal(id(instruction({ chaff: new Uint8Array([2]) })), 3n);
  assert.equal(id(instruction({ chaff: new Uint8Array([2]) }), mtu + 1), 4n, "MTU change");
  assert.equal(id(instruction({ chaff: new Uint8Array([2]) }), mtu + 1), 4n);
  const changes: Partial<Instruction>[] = [
    { oldNum: 5n },
    { newNum: 5n },
    { ackNum: 5n },
    { throwawayNum: 5n },
    { protocolVersion: 3 },
  ];
  // Changes accumulate, so each step differs from the previous instruction in one field only.
  let expected = 4n;
  let current = instruction({ chaff: new Uint8Array([2]) });
  for (const change of changes) {
    current = { ...current, ...change };
    assert.equal(id(current, mtu + 1), ++expected, JSON.stringify(Object.keys(change)));
    assert.equal(id(current, mtu + 1), expected);
  }
  assert.equal(f.lastId, expected);
});

Deno.test("fragment: splits at mtu-10, numbers fragments, sets F only on the last", () => {
  for (const datagramMtu of [IPV4_DATAGRAM_MTU, IPV6_DATAGRAM_MTU, DEFAULT_SEND_MTU]) {
    const inst = instruction({ diff: noise(5000) });
    const mtu = fragmentMtu(datagramMtu);
    const frags = new Fragmenter().makeFragments(inst, mtu);
    const compressed = deflateSync(encodeInstruction(inst));
    const chunk = mtu - 10;
    assert.equal(frags.length, Math.ceil(compressed.length / chunk));
    frags.forEach((frag, i) => {
      const p = parseFragment(frag);
      assert.equal(p.id, 1n);
      assert.equal(p.num, i);
      assert.equal(p.final, i === frags.length - 1);
      assert.ok(frag.length <= datagramMtu - 28);
      if (!p.final) assert.equal(p.chunk.length, chunk);
      assert.deepEqual(p.chunk, new Uint8Array(compressed.subarray(i * chunk, (i + 1) * chunk)));
    });
    // The compressed stream inflates back to the serialized instruction.
    const joined = new Uint8Array(frags.reduce((n, f) => n + f.length - 10, 0));
    let at = 0;
    for (const f of frags) joined.set(f.subarray(10), at), at += f.length - 10;
    assert.deepEqual(new Uint8Array(inflateSync(joined)), encodeInstruction(inst));
  }
});

Deno.test("fragment: reassembles in any order, ignores duplicates, restarts on a new id", () => {
  const f = new Fragmenter();
  const mtu = fragmentMtu(DEFAULT_SEND_MTU);
  const first = instruction({ newNum: 7n, diff: noise(3000), chaff: new Uint8Array([1, 2]) });
  const second = instruction({ newNum: 8n, diff: noise(2000) });
  const a = f.makeFragments(first, mtu);
  const b = f.makeFragments(second, mtu);
  assert.ok(a.length > 3 && b.length > 3);

  const asm = new FragmentAssembly();
  // Reverse order with duplicates.
  const order = [...a].reverse();
  for (let i = 0; i < order.length - 1; i++) {
    assert.equal(asm.add(order[i]), null);
    assert.equal(asm.add(order[i]), null, "duplicate");
  }
  assert.deepEqual(asm.add(order[order.length - 1]), first);

  // A new id in the middle throws the partial assembly away.
  assert.equal(asm.add(a[0]), null);
  assert.equal(asm.add(a[1]), null);
  for (let i = 0; i < b.length - 1; i++) assert.equal(asm.add(b[i]), null);
  for (let i = 2; i < a.length; i++) assert.equal(asm.add(a[i]), null, "a restarted without 0, 1");
  for (let i = 0; i < b.length; i++) {
    const got = asm.add(b[i]);
    if (i < b.length - 1) assert.equal(got, null);
    else assert.deepEqual(got, second);
  }
  // Shuffled.
  for (let trial = 0; trial < 20; trial++) {
    const shuffled = [...a].sort(() => Math.random() - 0.5);
    let got: Instruction | null = null;
    for (const frag of shuffled) got = asm.add(frag) ?? got;
    assert.deepEqual(got, first);
  }
});

Deno.test("fragment: a fragment shorter than its header is a ProtocolError", () => {
  const asm = new FragmentAssembly();
  for (let n = 0; n < 10; n++) {
    assert.throws(() => asm.add(new Uint8Array(n)), {
      name: "ProtocolError",
      message: `fragment: ${n} bytes is shorter than its 10-byte header`,
    });
  }
  assert.throws(() => parseFragment(new Uint8Array(9)), ProtocolError);
});

function rawFragment(id: number, num: number, final: boolean, chunk: Uint8Array): Uint8Array {
  const f = new Uint8Array(10 + chunk.length);
  const v = new DataView(f.buffer);
  v.setBigUint64(0, BigInt(id));
  v.setUint16(8, (final ? 0x8000 : 0) | num);
  f.set(chunk, 10);
  return f;
}

Deno.test("fragment: zlib errors, bad protobuf and zlib bombs are ProtocolErrors", () => {
  const asm = new FragmentAssembly();
  assert.throws(() => asm.add(rawFragment(1, 0, true, new Uint8Array([1, 2, 3]))), {
    name: "ProtocolError",
    message: "fragment: zlib: incorrect header check",
  });
  // Valid zlib of invalid protobuf.
  assert.throws(
    () => asm.add(rawFragment(2, 0, true, deflateSync(new Uint8Array([0x08])))),
    { name: "ProtocolError", message: "protobuf: truncated varint" },
  );
  // A bomb: 1 KiB of zlib inflating to 16 MiB.
  const bomb = deflateSync(new Uint8Array(16 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < 20000);
  const before = Deno.memoryUsage().rss;
  assert.throws(() => asm.add(rawFragment(3, 0, true, bomb)), {
    name: "ProtocolError",
    message: "fragment: instruction inflates to more than 4 MiB",
  });
  assert.ok(Deno.memoryUsage().rss - before < 64 * 1024 * 1024);
  // The assembly recovers.
  const good = new Fragmenter().makeFragments(instruction(), 1000);
  assert.deepEqual(asm.add(good[0]), instruction());
});

Deno.test("fragment: an instruction of exactly 4 MiB is accepted, one byte more is not", () => {
  // Serialized size: 10 bytes of numbers + (1 + 4 + diff) + 2 bytes of empty chaff.
  const diffLength = MAX_INSTRUCTION_SIZE - 10 - 5 - 2;
  const exact = instruction({ diff: new Uint8Array(diffLength).fill(0x61) });
  assert.equal(encodeInstruction(exact).length, MAX_INSTRUCTION_SIZE);
  const frag = new Fragmenter();
  const asm = new FragmentAssembly();
  let got: Instruction | null = null;
  for (const f of frag.makeFragments(exact, 1400)) got = asm.add(f);
  assert.ok(got);
  assert.equal(got.diff.length, diffLength);
  const over = instruction({ newNum: 2n, diff: new Uint8Array(diffLength + 1).fill(0x61) });
  const frags = frag.makeFragments(over, 1400);
  for (let i = 0; i < frags.length - 1; i++) assert.equal(asm.add(frags[i]), null);
  assert.throws(() => asm.add(frags[frags.length - 1]), {
    name: "ProtocolError",
    message: "fragment: instruction inflates to more than 4 MiB",
  });
});

Deno.test("fragment: one assembly holds at most 4 MiB of chunks", () => {
  const asm = new FragmentAssembly();
  const chunk = new Uint8Array(2000);
  const fits = Math.floor((4 * 1024 * 1024) / 2000);
  for (let i = 0; i < fits; i++) assert.equal(asm.add(rawFragment(9, i, false, chunk)), null);
  assert.throws(() => asm.add(rawFragment(9, fits, false, chunk)), {
    name: "ProtocolError",
    message: "fragment: instruction exceeds 4 MiB of compressed data",
  });
  // Reset afterwards: a normal instruction assembles.
  assert.deepEqual(asm.add(new Fragmenter().makeFragments(instruction(), 500)[0]), instruction());
});

Deno.test("fragment: the F bit on a later fragment fixes the count; highest fragment number", () => {
  const asm = new FragmentAssembly();
  const payload = deflateSync(encodeInstruction(instruction()));
  const parts = [payload.subarray(0, 5), payload.subarray(5, 12), payload.subarray(12)];
  assert.equal(asm.add(rawFragment(4, 2, true, parts[2])), null);
  assert.equal(asm.add(rawFragment(4, 0, false, parts[0])), null);
  assert.deepEqual(asm.add(rawFragment(4, 1, false, parts[1])), instruction());
  // Fragment number 0x7FFF is representable; the assembly waits for the others.
  assert.equal(asm.add(rawFragment(5, 0x7fff, true, new Uint8Array(1))), null);
  const p = parseFragment(rawFragment(5, 0x7fff, true, new Uint8Array(0)));
  assert.deepEqual([p.num, p.final], [0x7fff, true]);
});

Deno.test("fragment: makeFragments rejects an unusable MTU", () => {
  assert.throws(() => new Fragmenter().makeFragments(instruction(), 10), RangeError);
  assert.throws(() => new Fragmenter().makeFragments(instruction(), 100.5), RangeError);
});

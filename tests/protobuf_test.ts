import assert from "node:assert/strict";
import {
  decodeHostMessage,
  decodeInstruction,
  decodeUserMessage,
  encodeHostMessage,
  encodeInstruction,
  encodeUserMessage,
  type HostEvent,
  type Instruction,
  PROTOCOL_VERSION,
  ProtocolError,
  type UserEvent,
} from "../lib/protobuf.ts";

function hex(s: string): Uint8Array {
  s = s.replace(/\s+/g, "");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

const U64_MAX = (1n << 64n) - 1n;

Deno.test("protobuf: the spec's 22-byte Instruction vector, both ways", () => {
  const diff = encodeUserMessage([{ type: "resize", width: 80, height: 24 }]);
  assert.equal(toHex(diff), "0a 06 1a 04 28 50 30 18");
  const inst: Instruction = {
    protocolVersion: PROTOCOL_VERSION,
    oldNum: 0n,
    newNum: 1n,
    ackNum: 0n,
    throwawayNum: 0n,
    diff,
    chaff: new Uint8Array(0),
  };
  const bytes = encodeInstruction(inst);
  assert.equal(toHex(bytes), "08 02 10 00 18 01 20 00 28 00 32 08 0a 06 1a 04 28 50 30 18 3a 00");
  assert.deepEqual(decodeInstruction(bytes), inst);
  assert.deepEqual(decodeUserMessage(decodeInstruction(bytes).diff), [
    { type: "resize", width: 80, height: 24 },
  ]);
});

Deno.test("protobuf: keystrokes, host bytes, echo acks and their exact encodings", () => {
  assert.equal(
    toHex(encodeUserMessage([{ type: "keys", keys: new TextEncoder().encode("a") }])),
    "0a 05 12 03 22 01 61",
  );
  const host: HostEvent[] = [
    { type: "resize", width: 40, height: 10 },
    { type: "hostbytes", data: new TextEncoder().encode("\x1b[H") },
    { type: "echoack", num: 300n },
  ];
  const bytes = encodeHostMessage(host);
  assert.equal(
    toHex(bytes),
    "0a 06 1a 04 28 28 30 0a" + " 0a 07 12 05 22 03 1b 5b 48" + " 0a 05 3a 03 40 ac 02",
  );
  assert.deepEqual(decodeHostMessage(bytes), host);
});

Deno.test("protobuf: u64 and negative int32 varints", () => {
  const inst: Instruction = {
    protocolVersion: 2,
    oldNum: 127n,
    newNum: U64_MAX,
    ackNum: 1n << 32n,
    throwawayNum: (1n << 63n) + 5n,
    diff: new Uint8Array(0),
    chaff: new Uint8Array([1, 2, 3]),
  };
  const bytes = encodeInstruction(inst);
  assert.equal(
    toHex(bytes),
    "08 02 10 7f 18 ff ff ff ff ff ff ff ff ff 01 20 80 80 80 80 10" +
      " 28 85 80 80 80 80 80 80 80 80 01 32 00 3a 03 01 02 03",
  );
  assert.deepEqual(decodeInstruction(bytes), inst);

  const neg = encodeUserMessage([{ type: "resize", width: -1, height: -2147483648 }]);
  assert.equal(
    toHex(neg),
    "0a 18 1a 16 28 ff ff ff ff ff ff ff ff ff 01 30 80 80 80 80 f8 ff ff ff ff 01",
  );
  assert.deepEqual(decodeUserMessage(neg), [{ type: "resize", width: -1, height: -2147483648 }]);
  // A 5-byte (uint32-style) encoding of -1 also decodes as int32 -1.
  assert.deepEqual(decodeUserMessage(hex("0a 0a 1a 08 28 ff ff ff ff 0f 30 05")), [
    { type: "resize", width: -1, height: 5 },
  ]);
});

Deno.test("protobuf: long fields get multi-byte lengths and round-trip", () => {
  for (const n of [0, 1, 127, 128, 300, 16383, 16384, 70000]) {
    const data = crypto.getRandomValues(new Uint8Array(Math.min(n, 65536)));
    const big = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) big.set(data.subarray(0, Math.min(65536, n - i)), i);
    const events: HostEvent[] = [{ type: "hostbytes", data: big }, { type: "echoack", num: 7n }];
    const decoded = decodeHostMessage(encodeHostMessage(events));
    assert.deepEqual(decoded, events, `length ${n}`);
    const keys: UserEvent[] = [{ type: "keys", keys: big }];
    assert.deepEqual(decodeUserMessage(encodeUserMessage(keys)), keys);
  }
});

Deno.test("protobuf: decoding tolerates order, missing fields, repeats and unknown fields", () => {
  // Fields out of order, protocol_version missing, oldNum repeated (last wins).
  const inst = decodeInstruction(hex("18 05 10 01 10 03 3a 01 ff 32 02 0a 00"));
  assert.deepEqual(inst, {
    protocolVersion: 0,
    oldNum: 3n,
    newNum: 5n,
    ackNum: 0n,
    throwawayNum: 0n,
    diff: hex("0a 00"),
    chaff: hex("ff"),
  });
  assert.deepEqual(decodeInstruction(new Uint8Array(0)).diff, new Uint8Array(0));
  // Unknown fields of every wire type: varint, fixed64, bytes, group (nested), fixed32,
  // plus a known field number with the wrong wire type.
  const unknown = "48 96 01" + " 51 01 02 03 04 05 06 07 08" + " 5a 02 aa bb" +
    " 63 08 01 6b 0d 00 00 00 00 6c 1a 00 64" + " 6d 01 02 03 04" + " 15 00 00 00 00";
  const withUnknown = decodeInstruction(hex("08 02" + unknown + "18 09"));
  assert.equal(withUnknown.protocolVersion, 2);
  assert.equal(withUnknown.newNum, 9n);
  assert.equal(withUnknown.oldNum, 0n);
  // Unknown extensions and fields inside user and host messages are ignored; known ones merge.
  const user = decodeUserMessage(
    hex(
      "0a 04 22 02 08 01" + // Instruction with an unknown extension 4
        " 0a 0b 12 03 22 01 61 12 04 22 02 62 63 48 01" + // two keystrokes: last wins
        " 0a 08 1a 02 28 07 1a 02 30 03" + // resize split in two: merged
        " 10 01", // unknown top-level field
    ),
  );
  assert.deepEqual(user, [
    { type: "keys", keys: new TextEncoder().encode("bc") },
    { type: "resize", width: 7, height: 3 },
  ]);
  const host = decodeHostMessage(hex("0a 02 3a 00 0a 04 12 02 58 01 0a 00"));
  assert.deepEqual(host, [
    { type: "echoack", num: 0n },
    { type: "hostbytes", data: new Uint8Array(0) },
  ]);
});

Deno.test("protobuf: malformed input throws ProtocolError with a clear message", () => {
  const cases: [string, string][] = [
    ["08", "protobuf: truncated varint"],
    ["08 ff ff ff ff ff ff ff ff ff ff 01", "protobuf: varint longer than 10 bytes"],
    ["32 05 00", "protobuf: length-delimited field runs past the end of its message"],
    ["32 ff ff ff ff 0f", "protobuf: length-delimited field runs past the end of its message"],
    ["00 01", "protobuf: field number 0"],
    ["0e", "protobuf: invalid wire type 6"],
    ["0f", "protobuf: invalid wire type 7"],
    ["49 01 02", "protobuf: truncated fixed-width field"],
    ["4d 01", "protobuf: truncated fixed-width field"],
    ["4b 08 01", "protobuf: unterminated group"],
    ["4b 54", "protobuf: mismatched end group"],
    ["4c", "protobuf: unexpected end group"],
    ["80 80 80 80 80 01", "protobuf: field key out of range"],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => decodeInstruction(hex(input)), { name: "ProtocolError", message }, input);
  }
  assert.throws(() => decodeUserMessage(hex("0a 03 12 05 22")), ProtocolError);
  assert.throws(() => decodeHostMessage(hex("0a 02 3a 02")), ProtocolError);
});

Deno.test("protobuf: every truncation and 20,000 random inputs only ever throw ProtocolError", () => {
  const valid = [
    encodeInstruction({
      protocolVersion: 2,
      oldNum: 12345n,
      newNum: U64_MAX,
      ackNum: 99n,
      throwawayNum: 1n << 40n,
      diff: encodeHostMessage([
        { type: "hostbytes", data: new Uint8Array(200).fill(65) },
        { type: "resize", width: -3, height: 50 },
        { type: "echoack", num: 1n << 50n },
      ]),
      chaff: new Uint8Array(16),
    }),
  ];
  const decoders = [decodeInstruction, decodeUserMessage, decodeHostMessage];
  const attempt = (bytes: Uint8Array) => {
    for (const decode of decoders) {
      try {
        decode(bytes);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
  };
  for (const v of valid) {
    for (let n = 0; n <= v.length; n++) attempt(v.subarray(0, n));
    attempt(decodeInstruction(v).diff);
  }
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(Math.random() * 40);
    const bytes = crypto.getRandomValues(new Uint8Array(len));
    if (i % 2 === 0 && valid[0].length > 0) {
      // Mutations of a valid message reach deeper into the parser than pure noise.
      const m = valid[0].slice();
      for (let k = 0; k < 3; k++) m[Math.floor(Math.random() * m.length)] = bytes[k] ?? 0;
      attempt(m);
    } else attempt(bytes);
  }
});

Deno.test("protobuf: random messages round-trip", () => {
  for (let i = 0; i < 500; i++) {
    const events: UserEvent[] = [];
    const host: HostEvent[] = [];
    for (let k = Math.floor(Math.random() * 5); k > 0; k--) {
      const bytes = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 300)));
      const w = (Math.random() * 2 ** 32 - 2 ** 31) | 0;
      const h = Math.floor(Math.random() * 1000);
      events.push(
        Math.random() < 0.5 ? { type: "keys", keys: bytes } : {
          type: "resize",
          width: w,
          height: h,
        },
      );
      const r = Math.random();
      host.push(
        r < 0.4
          ? { type: "hostbytes", data: bytes }
          : r < 0.7
          ? { type: "resize", width: w, height: h }
          : { type: "echoack", num: BigInt(Math.floor(Math.random() * 2 ** 53)) * 2048n },
      );
    }
    assert.deepEqual(decodeUserMessage(encodeUserMessage(events)), events);
    assert.deepEqual(decodeHostMessage(encodeHostMessage(host)), host);
  }
});

Deno.test("protobuf: encoders reject out-of-range values with clear errors", () => {
  const base: Instruction = {
    protocolVersion: 2,
    oldNum: 0n,
    newNum: 0n,
    ackNum: 0n,
    throwawayNum: 0n,
    diff: new Uint8Array(0),
    chaff: new Uint8Array(0),
  };
  assert.throws(() => encodeInstruction({ ...base, newNum: 1n << 64n }), {
    name: "RangeError",
    message: "protobuf: newNum must be a u64 bigint, got 18446744073709551616",
  });
  assert.throws(() => encodeInstruction({ ...base, ackNum: -1n }), RangeError);
  assert.throws(() => encodeInstruction({ ...base, protocolVersion: -1 }), RangeError);
  assert.throws(
    () => encodeUserMessage([{ type: "resize", width: 2 ** 31, height: 1 }]),
    RangeError,
  );
  assert.throws(() => encodeHostMessage([{ type: "echoack", num: -5n }]), RangeError);
});

Deno.test("HostMessage: our terminal features (field 120) round trip; bounds and UTF-8 checked", () => {
  const ev: HostEvent = {
    type: "features",
    shape: 5,
    events: {
      start: 2 ** 40,
      lost: 3,
      pieces: [
        { offset: 0, text: "9;héllo", last: true },
        { offset: 0, text: "52;c;QU", last: false },
      ],
    },
  };
  const bytes = encodeHostMessage([{ type: "hostbytes", data: new Uint8Array([0x41]) }, ev]);
  const back = decodeHostMessage(bytes);
  assert.deepEqual(back[1], ev);
  // Only the shape, or only events: the other part stays absent.
  assert.deepEqual(decodeHostMessage(encodeHostMessage([{ type: "features", shape: 0 }])), [
    { type: "features", shape: 0 },
  ]);
  // Too many pieces is malformed.
  const many: HostEvent = {
    type: "features",
    events: {
      start: 0,
      lost: 0,
      pieces: Array.from({ length: 65 }, () => ({ offset: 0, text: "9;x", last: true })),
    },
  };
  assert.throws(() => decodeHostMessage(encodeHostMessage([many])), ProtocolError);
});

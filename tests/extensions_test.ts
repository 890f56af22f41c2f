import assert from "node:assert/strict";
import {
  AGENT_FORWARDING,
  announces,
  ATTRIBUTES,
  EXT_CAPABILITIES,
  EXT_HISTORY,
  FORWARDING,
  ownCapabilities,
  SCROLLBACK,
  TERMINAL_FEATURES,
} from "../lib/extensions.ts";
import {
  decodeHostMessage,
  decodeUserMessage,
  encodeHostMessage,
  encodeUserMessage,
  ProtocolError,
} from "../lib/protobuf.ts";
import { UserStream } from "../lib/user_stream.ts";

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("extensions: numbers are the contract's (100 capabilities, 101 history)", () => {
  assert.equal(EXT_CAPABILITIES, 100);
  assert.equal(EXT_HISTORY, 101);
  assert.ok(announces([SCROLLBACK], SCROLLBACK));
  assert.ok(!announces([], SCROLLBACK));
  assert.ok(!announces(null, SCROLLBACK));
  assert.ok(!announces([{ name: "scrollback", version: 0 }], SCROLLBACK));
  assert.deepEqual(ownCapabilities({ scrollback: false, features: false }), [ATTRIBUTES]);
  assert.deepEqual(ownCapabilities({ scrollback: true, features: true }), [
    SCROLLBACK,
    TERMINAL_FEATURES,
    ATTRIBUTES,
  ]);
  // The client with -L and -A: agent forwarding last (the order of the client's announcement).
  assert.deepEqual(
    ownCapabilities({ scrollback: true, features: true, forwarding: true, agent: true }),
    [SCROLLBACK, TERMINAL_FEATURES, ATTRIBUTES, FORWARDING, AGENT_FORWARDING],
  );
  assert.deepEqual(ATTRIBUTES, { name: "attributes", version: 1 });
});

Deno.test("extensions: capabilities instruction encoding, field 100 (key a2 06)", () => {
  const bytes = encodeUserMessage([{ type: "capabilities", caps: [SCROLLBACK] }]);
  // Instruction { 100: { 1: { 1: "scrollback", 2: 1 } } }
  assert.equal(
    toHex(bytes),
    "0a 13 a2 06 10 0a 0e 0a 0a 73 63 72 6f 6c 6c 62 61 63 6b 10 01",
  );
  assert.deepEqual(decodeUserMessage(bytes), [{ type: "capabilities", caps: [SCROLLBACK] }]);
});

Deno.test("extensions: capabilities then resize decode in order; C's view skips the first", () => {
  const msg = encodeUserMessage([
    { type: "capabilities", caps: [SCROLLBACK, { name: "x", version: 7 }] },
    { type: "resize", width: 80, height: 24 },
    { type: "keys", keys: new Uint8Array([0x61]) },
  ]);
  assert.deepEqual(decodeUserMessage(msg), [
    { type: "capabilities", caps: [SCROLLBACK, { name: "x", version: 7 }] },
    { type: "resize", width: 80, height: 24 },
    { type: "keys", keys: new Uint8Array([0x61]) },
  ]);
});

Deno.test("extensions: history message round trip, lost omitted when 0, big numbers", () => {
  const line = new Uint8Array([1, 0x68, 0x69]);
  const events = [
    { type: "capabilities" as const, caps: [SCROLLBACK] },
    { type: "history" as const, start: 2 ** 40 + 3, lost: 5, lines: [line, new Uint8Array([0])] },
  ];
  const decoded = decodeHostMessage(encodeHostMessage(events));
  assert.deepEqual(decoded, events);
  const zero = encodeHostMessage([{ type: "history", start: 0, lost: 0, lines: [] }]);
  assert.equal(toHex(zero), "0a 05 aa 06 02 08 00");
});

Deno.test("extensions: hostile capability and history fields are ProtocolErrors", () => {
  const long = encodeHostMessage([{
    type: "capabilities",
    caps: [{ name: "n".repeat(65), version: 1 }],
  }]);
  assert.throws(() => decodeHostMessage(long), ProtocolError);
  const many = encodeUserMessage([{
    type: "capabilities",
    caps: Array.from({ length: 33 }, (_, i) => ({ name: `c${i}`, version: 1 })),
  }]);
  assert.throws(() => decodeUserMessage(many), ProtocolError);
  // start = 2^63: beyond a safe integer
  const huge = new Uint8Array([
    0x0a,
    0x0e,
    0xaa,
    0x06,
    0x0b,
    0x08,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x01,
  ]);
  assert.throws(() => decodeHostMessage(huge), ProtocolError);
  assert.throws(
    () => encodeHostMessage([{ type: "history", start: -1, lost: 0, lines: [] }]),
    RangeError,
  );
});

Deno.test("extensions: UserStream carries capabilities before the first resize", () => {
  const client = new UserStream();
  client.pushCapabilities([SCROLLBACK]);
  client.pushResize(80, 24);
  client.pushBytes(new TextEncoder().encode("ls\r"));
  const server = new UserStream();
  server.applyString(client.diffFrom(new UserStream()));
  assert.ok(server.equals(client));
  assert.deepEqual(server.events().map((e) => e.type), ["capabilities", "resize", "keys"]);
  const other = new UserStream();
  other.pushCapabilities([]);
  other.pushResize(80, 24);
  other.pushBytes(new TextEncoder().encode("ls\r"));
  assert.ok(!other.equals(client));
  // subtract drops it like any event
  const prefix = new UserStream();
  prefix.pushCapabilities([SCROLLBACK]);
  client.subtract(prefix);
  assert.deepEqual(client.events().map((e) => e.type), ["resize", "keys"]);
});

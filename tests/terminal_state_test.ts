// Tests for lib/terminal_state.ts (docs/PROTOCOL.md §6.2, §6.3): the HostMessage a state sends,
// what applying it does, and the server's echo-ack bookkeeping.
import assert from "node:assert/strict";
import { contentEqual } from "../lib/display.ts";
import {
  decodeHostMessage,
  encodeHostMessage,
  type HostEvent,
  ProtocolError,
} from "../lib/protobuf.ts";
import { ECHO_TIMEOUT, TerminalState } from "../lib/terminal_state.ts";
import { WAIT_FOREVER } from "../lib/transport.ts";
import { Terminal } from "../lib/terminal.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The events of a diff, host bytes as text. */
function events(diff: Uint8Array): unknown[] {
  return decodeHostMessage(diff).map((e) =>
    e.type === "hostbytes" ? { ...e, data: text(e.data) } : e
  );
}

Deno.test("TerminalState: diffFrom and applyString carry the screen to a client", () => {
  const server = new TerminalState(80, 24);
  const client = new TerminalState(80, 24);
  server.terminal.write("\r\nhello\x1b[1;31mRED\x1b[0m");
  const diff = server.diffFrom(client);
  assert.deepEqual(events(diff), [
    { type: "hostbytes", data: "\x1b[?25l\nhello\x1b[0;1;31mRED\x1b[?25h\x1b[0m" },
  ]);
  client.applyString(diff);
  assert.equal(contentEqual(client.terminal.snapshot(), server.terminal.snapshot()), null);
  assert.ok(client.contentEquals(server));
  // The client's rows are its own, so mosh's stricter equality (row generations) differs.
  assert.equal(client.equals(server), false);
  assert.equal(server.equals(server.clone()), true);
  // A second round: a diff against the state the client now has.
  const before = server.clone();
  server.terminal.write("\x1b[5;10Hmore \x1b[44mtext\x1b[0m\x1b]0;title\x07");
  client.applyString(server.diffFrom(before));
  assert.ok(client.contentEquals(server));
  assert.equal(client.terminal.snapshot().windowTitle, "title");
});

Deno.test("TerminalState: nothing changed, nothing sent", () => {
  const server = new TerminalState(80, 24);
  server.terminal.write("some text");
  assert.equal(server.diffFrom(server).length, 0);
  assert.equal(server.diffFrom(server.clone()).length, 0);
  // The bell count is part of the state: a bell alone is a frame.
  const before = server.clone();
  server.terminal.write("\x07");
  assert.equal(server.equals(before), false);
  assert.deepEqual(events(server.diffFrom(before)), [{ type: "hostbytes", data: "\x07" }]);
  // An echo ack alone is a message without host bytes.
  const acked = server.clone();
  acked.echoAck = 3n;
  assert.equal(acked.equals(server), false);
  assert.deepEqual(events(acked.diffFrom(server)), [{ type: "echoack", num: 3n }]);
});

Deno.test("TerminalState: echoack, resize, hostbytes in that order (§6.2)", () => {
  const server = new TerminalState(80, 24);
  const client = new TerminalState(80, 24);
  server.terminal.write("abc");
  client.applyString(server.diffFrom(client));
  const before = server.clone();
  server.echoAck = 7n;
  server.terminal.resize(100, 30);
  server.terminal.write("\x1b[30;100Hz");
  const ev = decodeHostMessage(server.diffFrom(before));
  assert.deepEqual(ev.map((e) => e.type), ["echoack", "resize", "hostbytes"]);
  assert.deepEqual(ev[0], { type: "echoack", num: 7n });
  assert.deepEqual(ev[1], { type: "resize", width: 100, height: 30 });
  // A new size repaints everything (§10 step 5).
  assert.ok(text((ev[2] as { data: Uint8Array }).data).startsWith("\x1b[r\x1b[0m\x1b[H\x1b[2J"));
  client.applyString(server.diffFrom(before));
  assert.equal(client.terminal.width, 100);
  assert.equal(client.terminal.height, 30);
  assert.equal(client.echoAck, 7n);
  assert.ok(client.contentEquals(server));
});

Deno.test("TerminalState: initDiff is the diff from a blank state", () => {
  const server = new TerminalState(40, 10);
  server.terminal.write("hello\r\nworld");
  const blank = new TerminalState(40, 10);
  assert.deepEqual(server.initDiff(), server.diffFrom(blank));
  blank.applyString(server.initDiff());
  assert.ok(blank.contentEquals(server));
  assert.equal(new TerminalState(40, 10).initDiff().length, 0);
});

Deno.test("TerminalState: applyString ignores replies and rejects bad input whole", () => {
  const client = new TerminalState(80, 24);
  // A DSR in host bytes would make a terminal reply; the client discards it.
  client.applyString(
    encodeHostMessage([{ type: "hostbytes", data: new TextEncoder().encode("x\x1b[6n") }]),
  );
  assert.equal(client.terminal.snapshot().rows[0].contents(0), "x");
  const snap = client.terminal.snapshot();
  assert.throws(() => client.applyString(new Uint8Array([0x0a, 0x05, 0x12])), ProtocolError);
  const bad: HostEvent[] = [
    { type: "hostbytes", data: new TextEncoder().encode("should not appear") },
    { type: "resize", width: 0, height: 24 },
  ];
  assert.throws(
    () => client.applyString(encodeHostMessage(bad)),
    (e: Error) => e instanceof ProtocolError && /bad resize 0x24/.test(e.message),
  );
  assert.equal(client.terminal.snapshot(), snap, "nothing was applied");
  assert.throws(
    () => client.applyString(encodeHostMessage([{ type: "resize", width: 80, height: 70000 }])),
    ProtocolError,
  );
  // subtract does nothing.
  client.subtract(new TerminalState(80, 24));
  assert.equal(client.terminal.snapshot(), snap);
});

Deno.test("TerminalState: clone is independent", () => {
  const a = new TerminalState(new Terminal(20, 5), undefined, 4n);
  a.terminal.write("one");
  const b = a.clone();
  a.terminal.write(" two");
  a.echoAck = 5n;
  assert.equal(b.echoAck, 4n);
  assert.match(b.terminal.screenText(), /^one {17}\n/);
  assert.match(a.terminal.screenText(), /^one two {13}\n/);
});

Deno.test("TerminalState: echo ack after ECHO_TIMEOUT (§6.3)", () => {
  const s = new TerminalState(80, 24);
  assert.equal(ECHO_TIMEOUT, 50);
  assert.equal(s.waitTime(0), WAIT_FOREVER);
  assert.equal(s.setEchoAck(1000), false);
  s.registerInputFrame(1n, 1000);
  assert.equal(s.waitTime(1000), WAIT_FOREVER, "one entry: nothing to wake up for");
  assert.equal(s.setEchoAck(1049), false);
  assert.equal(s.echoAck, 0n);
  assert.equal(s.setEchoAck(1050), true);
  assert.equal(s.echoAck, 1n);
  assert.equal(s.setEchoAck(1051), false, "unchanged");
  s.registerInputFrame(2n, 1060);
  s.registerInputFrame(3n, 1070);
  assert.equal(s.waitTime(1075), 35, "the second entry (2 at 1060) is due at 1110");
  assert.equal(s.setEchoAck(1109), false);
  assert.equal(s.setEchoAck(1110), true);
  assert.equal(s.echoAck, 2n);
  assert.equal(s.waitTime(1110), 10, "now 3 at 1070 is second");
  assert.equal(s.waitTime(1200), 0);
  assert.equal(s.setEchoAck(1200), true);
  assert.equal(s.echoAck, 3n);
  assert.equal(s.waitTime(1200), WAIT_FOREVER);
  // The ack travels in the next diff.
  const client = new TerminalState(80, 24);
  client.applyString(s.diffFrom(new TerminalState(80, 24)));
  assert.equal(client.echoAck, 3n);
});

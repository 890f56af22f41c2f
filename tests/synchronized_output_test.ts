// Tests for synchronized output (DEC private mode 2026): the emulator's frozen copy and DECRQM
// (lib/terminal.ts, docs/PROTOCOL.md §9.3), and the server's choice of the state it publishes
// (lib/synchronized_output.ts, §7.3).
import assert from "node:assert/strict";
import { SYNC_HOLD_LIMIT, SynchronizedOutput } from "../lib/synchronized_output.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { WAIT_FOREVER } from "../lib/transport.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const firstRow = (s: TerminalState) => s.terminal.screenText().split("\n")[0].trimEnd();
/** The terminal's frozen copy (a function, so that TypeScript does not narrow the getter). */
const heldOf = (s: TerminalState) => s.terminal.synchronizedUpdate;

Deno.test("DECRQM reports mode 2026 as supported: 2 reset, 1 set", () => {
  const s = new TerminalState(20, 4);
  assert.equal(text(s.terminal.write("\x1b[?2026$p")), "\x1b[?2026;2$y");
  assert.equal(text(s.terminal.write("\x1b[?2026h\x1b[?2026$p")), "\x1b[?2026;1$y");
  assert.equal(text(s.terminal.write("\x1b[?2026l\x1b[?2026$p")), "\x1b[?2026;2$y");
  // Other modes get no answer, as from C mosh.
  assert.equal(s.terminal.write("\x1b[?25$p").length, 0);
});

Deno.test("mode 2026: the frozen copy is the screen when the update began, mid-write too", () => {
  const s = new TerminalState(20, 4);
  s.terminal.write("old frame");
  assert.equal(heldOf(s), null);
  // The update begins in the middle of one write: the copy is taken at that byte.
  s.terminal.write("\x1b[?2026h\x1b[Hnew fr");
  const held = heldOf(s);
  assert.ok(held !== null);
  assert.equal(held.screenText().split("\n")[0].trimEnd(), "old frame");
  assert.equal(firstRow(s), "new frame");
  // A second 2026h inside the update keeps the first copy.
  s.terminal.write("\x1b[?2026h");
  assert.equal(s.terminal.synchronizedUpdate, held);
  s.terminal.write("\x1b[?2026l");
  assert.equal(s.terminal.synchronizedUpdate, null);
  // RIS ends an update too.
  s.terminal.write("\x1b[?2026h\x1bc");
  assert.equal(s.terminal.synchronizedUpdate, null);
});

Deno.test("SynchronizedOutput: publishes the frozen copy with its echo ack until the update ends", () => {
  const sync = new SynchronizedOutput();
  const live = new TerminalState(20, 4);
  live.terminal.write("frame 1");
  live.echoAck = 5n;
  assert.equal(sync.publish(live, 0), live);
  assert.equal(sync.waitTime(0), WAIT_FOREVER);

  live.terminal.write("\x1b[?2026h\x1b[Hframe 2 half");
  let p = sync.publish(live, 10);
  assert.notEqual(p, live);
  assert.equal(firstRow(p), "frame 1");
  assert.equal(p.echoAck, 5n);
  // The echo ack moves on the live state; the published one stays frozen with the screen.
  live.echoAck = 6n;
  assert.equal(firstRow(sync.publish(live, 20)), "frame 1");
  assert.equal(sync.publish(live, 20).echoAck, 5n);
  assert.equal(live.echoAck, 6n);
  assert.equal(sync.waitTime(20), SYNC_HOLD_LIMIT - 10);
  // A resize during the update resizes the frozen copy (and keeps its ack).
  live.terminal.resize(30, 5);
  p = sync.publish(live, 30);
  assert.deepEqual([p.terminal.width, p.terminal.height, p.echoAck], [30, 5, 5n]);
  assert.equal(firstRow(p), "frame 1");
  // The application ends the update: the live state, complete, with its own ack.
  live.terminal.write("\x1b[Hframe 2 done\x1b[?2026l");
  p = sync.publish(live, 40);
  assert.equal(p, live);
  assert.equal(firstRow(p), "frame 2 done");
  assert.equal(sync.waitTime(40), WAIT_FOREVER);
});

Deno.test("SynchronizedOutput: an update never ended is released after SYNC_HOLD_LIMIT", () => {
  const sync = new SynchronizedOutput();
  const live = new TerminalState(20, 4);
  live.terminal.write("before\x1b[?2026h\x1b[Hstuck");
  assert.equal(firstRow(sync.publish(live, 1000)), "before");
  assert.equal(sync.expired(1000 + SYNC_HOLD_LIMIT - 1), false);
  assert.equal(sync.waitTime(1000 + SYNC_HOLD_LIMIT - 1), 1);
  assert.equal(sync.expired(1000 + SYNC_HOLD_LIMIT), true);
  const p = sync.publish(live, 1000 + SYNC_HOLD_LIMIT);
  assert.equal(p, live);
  assert.equal(firstRow(p), "stucke");
  // The mode is over: DECRQM says reset, and the next update is a new one.
  assert.equal(text(live.terminal.write("\x1b[?2026$p")), "\x1b[?2026;2$y");
  assert.equal(sync.expired(1000 + 5 * SYNC_HOLD_LIMIT), false);
});

Deno.test("mode 2026 changes nothing a client receives but the timing", () => {
  // The frozen copy's diff is an ordinary diff; the mode itself is never sent.
  const live = new TerminalState(20, 4);
  const client = new TerminalState(20, 4);
  live.terminal.write("\x1b[?2026hdrawn\x1b[?2026l");
  client.applyString(live.diffFrom(client));
  assert.ok(client.contentEquals(live));
  assert.ok(!text(live.diffFrom(new TerminalState(20, 4))).includes("2026"));
});

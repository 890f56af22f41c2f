// Tests for lib/terminal_events.ts and the emulator's event sink (lib/terminal.ts): notifications
// and clipboard copies as a numbered log, delivered once each across loss and repetition, never
// replayed to a later client, replayed safely on the client's terminal (docs/PROTOCOL.md §13).
import assert from "node:assert/strict";
import { contentEqual } from "../lib/display.ts";
import { Prng } from "./relay.ts";
import {
  EVENT_LOG_KEEP,
  eventBytes,
  EventInbox,
  EventLog,
  type TerminalEvent,
} from "../lib/terminal_events.ts";
import { Terminal } from "../lib/terminal.ts";

/** A terminal whose events go to a new log. */
function withLog(): { t: Terminal; log: EventLog } {
  const t = new Terminal(80, 24), log = new EventLog();
  t.eventSink = (osc) => log.push(osc);
  return { t, log };
}

Deno.test("emulator: OSC 9, 777 notify and every OSC 52 form become events; queries do not", () => {
  const { t, log } = withLog();
  t.write("\x1b]9;build done\x07\x1b]777;notify;Title;Body\x1b\\");
  t.write("\x1b]52;c;aGk=\x07\x1b]52;;aGk=\x07\x1b]52;p;aGk=\x07\x1b]52;s0;aGk=\x07");
  t.write("\x1b]52;c;?\x07\x1b]777;other;x\x07\x1b]2;title\x07\x1b]52;x;aGk=\x07");
  t.write("\x1bc\x1b]52;c;aGk=\x07"); // RIS keeps the sink; the same text twice is two events
  assert.deepEqual(
    log.since(0).map((e) => e.osc),
    [
      "9;build done",
      "777;notify;Title;Body",
      "52;c;aGk=",
      "52;;aGk=",
      "52;p;aGk=",
      "52;s0;aGk=",
      "52;c;aGk=",
    ].slice(-EVENT_LOG_KEEP),
  );
  assert.equal(log.newest, 7);
  // Events never change the screen a C peer gets beyond its own clipboard rules.
  const plain = new Terminal(80, 24);
  plain.write("\x1b]9;build done\x07");
  assert.equal(contentEqual(plain.snapshot(), new Terminal(80, 24).snapshot()), null);
});

Deno.test("emulator: a 100 KB copy arrives whole as an event", () => {
  const { t, log } = withLog();
  const big = btoa("x".repeat(75000)); // 100,000 base64 characters
  t.write(`\x1b]52;c;${big}\x07`);
  assert.equal(log.since(0)[0].osc, `52;c;${big}`);
  // C's view stays cut to its limit.
  assert.equal(t.snapshot().clipboard.length, 16384 - 5);
});

Deno.test("EventLog: keeps the newest few; frontier bounds a step but always moves", () => {
  const log = new EventLog();
  for (let i = 1; i <= EVENT_LOG_KEEP + 3; i++) log.push(`9;n${i}`);
  assert.equal(log.newest, EVENT_LOG_KEEP + 3);
  assert.deepEqual(log.since(0).map((e) => e.num)[0], 4);
  assert.deepEqual(log.since(9, 10).map((e) => e.num), [10]);
  // Each event is 4 or 5 characters: a budget of 10 takes two past the acknowledged one.
  assert.equal(log.frontier(5, 10), 7);
  assert.equal(log.frontier(5, 1), 6); // at least one, however big
  assert.equal(log.frontier(log.newest, 10), log.newest);
  const copy = log.clone();
  log.push("9;later");
  assert.equal(copy.newest, EVENT_LOG_KEEP + 3);
});

Deno.test("EventInbox: every event once, in order, through loss, repetition and reordering", () => {
  const rng = new Prng(20261204);
  const server = new EventLog();
  const inbox = new EventInbox();
  const shown: number[] = [];
  let acked = 0; // the newest event number the client is known to hold
  for (let round = 0; round < 400; round++) {
    if (rng.next() < 0.3) server.push(`9;event ${server.newest + 1}`);
    // A diff from an acknowledged (possibly older) state; 20% of diffs are lost.
    const base = Math.max(0, acked - Math.floor(rng.next() * 3));
    const frontier = server.frontier(base, 64);
    const diff: TerminalEvent[] = [...server.since(base, frontier)];
    if (rng.next() < 0.5) diff.reverse();
    if (rng.next() < 0.2) continue;
    for (const e of inbox.accept(diff)) shown.push(e.num);
    if (rng.next() < 0.8) acked = inbox.delivered;
  }
  // Drain.
  while (inbox.delivered < server.newest) inbox.accept(server.since(inbox.delivered));
  assert.ok(server.newest > 80);
  assert.deepEqual(shown.concat(), [...new Set(shown)].sort((a, b) => a - b));
});

Deno.test("EventInbox: a client that connects later starts at the log's newest event", () => {
  const server = new EventLog();
  server.push("9;old");
  const start = server.newest; // the connection's first state includes everything up to here
  server.push("9;new");
  const inbox = new EventInbox();
  assert.deepEqual(inbox.accept(server.since(start)).map((e) => e.osc), ["9;new"]);
});

Deno.test("eventBytes: replays notifications and copies, refuses anything else", () => {
  assert.equal(eventBytes("9;done"), "\x1b]9;done\x07");
  assert.equal(eventBytes("777;notify;T;B"), "\x1b]777;notify;T;B\x07");
  assert.equal(eventBytes("52;p;aGk="), "\x1b]52;p;aGk=\x07");
  assert.equal(eventBytes("52;;aGk="), "\x1b]52;;aGk=\x07");
  for (const bad of ["52;c;?", "52;x;aGk=", "2;title", "9;a\x07b", "9;a\x1b]0;x", "9;\x9b"]) {
    assert.equal(eventBytes(bad), null, JSON.stringify(bad));
  }
});

// Tests for lib/terminal_events.ts and the emulator's event sink (lib/terminal.ts): notifications
// and clipboard copies as a stream of events, delivered once each, whole, across loss, repetition
// and overlapping diffs, never replayed to a later client, replayed safely on the client's
// terminal (docs/PROTOCOL.md §13).
import assert from "node:assert/strict";
import { contentEqual } from "../lib/display.ts";
import { Prng } from "./relay.ts";
import {
  EVENT_LOG_CHARS,
  EVENT_LOG_KEEP,
  EVENT_MAX_LENGTH,
  EVENT_STEP,
  eventBytes,
  EventInbox,
  EventLog,
  NOTICE_MAX_LENGTH,
  noticeEvent,
  noticeText,
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
    all(log),
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
  assert.equal(log.count, 7);
  // Events never change the screen a C peer gets beyond its own clipboard rules.
  const plain = new Terminal(80, 24);
  plain.write("\x1b]9;build done\x07");
  assert.equal(contentEqual(plain.snapshot(), new Terminal(80, 24).snapshot()), null);
});

Deno.test("emulator: a 100 KB copy arrives whole as an event", () => {
  const { t, log } = withLog();
  const big = btoa("x".repeat(75000)); // 100,000 base64 characters
  t.write(`\x1b]52;c;${big}\x07`);
  assert.deepEqual(all(log), [`52;c;${big}`]);
  // C's view stays cut to its limit.
  assert.equal(t.snapshot().clipboard.length, 16384 - 5);
});

/** Every OSC string of the log, by replaying the whole kept stream to a new inbox. */
function all(log: EventLog): string[] {
  return new EventInbox(log.oldest).accept(log.segment(log.oldest, log.end));
}

Deno.test("EventLog: a stream of the newest few events; segments cut at event boundaries", () => {
  const log = new EventLog();
  for (let i = 1; i <= EVENT_LOG_KEEP + 3; i++) log.push(`9;n${i}`);
  assert.equal(log.count, EVENT_LOG_KEEP + 3);
  assert.equal(all(log)[0], "9;n4");
  assert.equal(all(log).length, EVENT_LOG_KEEP);
  // From the start of the stream: what left the log is counted as lost.
  const seg = log.segment(0, log.oldest + 6);
  assert.equal(seg.lost, log.oldest);
  assert.deepEqual(seg.pieces, [
    { offset: 0, text: "9;n4", last: true },
    { offset: 0, text: "9;", last: false },
  ]);
  // The frontier moves at most EVENT_STEP past the acknowledged one, never past the end.
  log.push("52;c;" + "A".repeat(3000));
  assert.equal(log.frontier(log.end - 3005), log.end - 3005 + EVENT_STEP);
  assert.equal(log.frontier(0), log.oldest + EVENT_STEP);
  assert.equal(log.frontier(log.end), log.end);
});

Deno.test("EventInbox: each event once, whole, through loss, repetition and overlapping diffs", () => {
  const rng = new Prng(20261204);
  const server = new EventLog();
  const sent: string[] = [];
  const inbox = new EventInbox(server.end);
  const shown: string[] = [];
  let acked = server.end; // frontier of the newest state the client acknowledged
  let held = acked; // frontier of the client's newest state
  for (let round = 0; round < 3000; round++) {
    if (rng.next() < 0.05) {
      // Notifications, and copies up to 5,000 characters: the same text may come twice.
      const osc = rng.next() < 0.5
        ? `9;event ${sent.length}`
        : `52;c;${"QUJD".repeat(1 + Math.floor(rng.next() * 1250))}`;
      server.push(osc);
      sent.push(osc);
    }
    // A new state at most EVENT_STEP past the acknowledged frontier; its diff starts from the
    // acknowledged state or an older one the client also holds; 20% of them are lost.
    const frontier = server.frontier(acked);
    const base = Math.max(0, acked - Math.floor(rng.next() * 2) * 500);
    if (rng.next() < 0.2) continue;
    shown.push(...inbox.accept(server.segment(Math.min(base, held), frontier)));
    held = frontier;
    if (rng.next() < 0.7) acked = held;
  }
  while (inbox.received < server.end) {
    shown.push(...inbox.accept(server.segment(inbox.received, server.frontier(inbox.received))));
  }
  assert.ok(sent.length > 100, `${sent.length} events`);
  assert.equal(inbox.lost, 0);
  assert.deepEqual(shown, sent);
});

Deno.test("EventInbox: a client far behind loses the oldest events, whole ones only", () => {
  const server = new EventLog();
  const inbox = new EventInbox(server.end);
  for (let i = 0; i < EVENT_LOG_KEEP + 2; i++) server.push(`9;n${i}`);
  const shown = inbox.accept(server.segment(0, server.end));
  assert.deepEqual(shown, Array.from({ length: EVENT_LOG_KEEP }, (_, i) => `9;n${i + 2}`));
  assert.equal(inbox.lost, 8); // "9;n0" and "9;n1"
});

Deno.test("EventLog: keeps at most EVENT_LOG_CHARS characters, and always the newest event", () => {
  const log = new EventLog();
  const big = "52;c;" + "A".repeat(EVENT_MAX_LENGTH - 5);
  for (let i = 0; i < 6; i++) log.push(big);
  assert.ok(log.end - log.oldest <= EVENT_LOG_CHARS);
  assert.equal(log.end - log.oldest, 4 * EVENT_MAX_LENGTH);
  log.push("9;small");
  assert.deepEqual(all(log).slice(-1), ["9;small"]);
});

Deno.test("EventInbox: a client that connects later starts at the log's end", () => {
  const server = new EventLog();
  server.push("9;old");
  const start = server.end; // the connection's first state holds everything up to here
  server.push("9;new");
  const inbox = new EventInbox(start);
  assert.deepEqual(inbox.accept(server.segment(start, server.end)), ["9;new"]);
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

Deno.test("notices: the server's own events, shown in the bar, never written as an OSC", () => {
  const ev = noticeEvent("Another client attached from 10.0.0.1\x1b[2J\x07 (2 clients).");
  assert.equal(ev, "notice;Another client attached from 10.0.0.1[2J (2 clients).");
  assert.equal(noticeText(ev), "Another client attached from 10.0.0.1[2J (2 clients).");
  assert.equal(eventBytes(ev), null, "never replayed on the terminal");
  assert.equal(noticeText(noticeEvent("x".repeat(500))), "x".repeat(NOTICE_MAX_LENGTH));
  // Not a notice, or a malformed one from the network.
  assert.equal(noticeText("9;hello"), null);
  assert.equal(noticeText("notice;"), null);
  assert.equal(noticeText("notice;bad\x1bthing"), null);
  assert.equal(noticeText("notice;" + "y".repeat(NOTICE_MAX_LENGTH + 1)), null);
  // An application cannot produce one: the emulator reports only OSC 9, 777 and 52.
  const { t, log } = withLog();
  t.write("\x1b]notice;fake\x07\x1b]9;real\x07");
  assert.deepEqual(log.segment(0, log.end).pieces.map((p) => p.text), ["9;real"]);
});

Deno.test("event sink: a clone of the terminal reports nothing to the session's log", () => {
  const { t, log } = withLog();
  const copy = t.clone();
  copy.write("\x1b]9;from-a-copy\x07");
  assert.equal(log.count, 0);
  t.write("\x1b]9;from-the-terminal\x07");
  assert.equal(log.count, 1);
});

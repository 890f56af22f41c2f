// Tests for lib/history_writer.ts and the display diff's scrollback mode: what reaches the real
// terminal's scrollback, checked by feeding the bytes to our own emulator with a history ring
// attached (a stand-in for the real terminal's scrollback).
import assert from "node:assert/strict";
import { diffFrames } from "../lib/display.ts";
import { LINE_WRAPPED } from "../lib/extensions.ts";
import { HistoryRing } from "../lib/history.ts";
import { HistoryInbox, HistoryWriter, lostMarker, sanitize } from "../lib/history_writer.ts";
import { Terminal } from "../lib/terminal.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function line(text: string, wrapped = false): Uint8Array {
  const t = enc.encode(text);
  const out = new Uint8Array(t.length + 1);
  out[0] = wrapped ? LINE_WRAPPED : 0;
  out.set(t, 1);
  return out;
}

/** A stand-in for the real terminal: our emulator, its scrolled-off rows in a ring. */
function realTerminal(cols: number, rows: number): [Terminal, HistoryRing] {
  const t = new Terminal(cols, rows);
  const ring = new HistoryRing(1000);
  t.scrollback = ring;
  return [t, ring];
}

function ringText(ring: HistoryRing): string[] {
  const out: string[] = [];
  for (let n = ring.start; n < ring.end; n++) out.push(ring.text(n));
  return out;
}

Deno.test("history writer: lines reach the scrollback in order, once; the screen is left blank", () => {
  const inbox = new HistoryInbox();
  const writer = new HistoryWriter(inbox);
  const [real, ring] = realTerminal(30, 4);
  real.write("old screen\r\nrow 2");
  inbox.receive(5, 0, ["a", "b", "c", "d", "e", "f"].map((s) => line(s)));
  real.write(writer.take(11, 4)!);
  assert.deepEqual(ringText(ring), ["a", "b", "c", "d", "e", "f"]);
  assert.equal(real.screenText(), (" ".repeat(30) + "\n").repeat(4) + "cursor 0 0\n");
  assert.equal(writer.take(11, 4), null);
  inbox.receive(11, 2, [line("\x1b[0;31mred\x1b[0m")]);
  real.write(writer.take(14, 4)!);
  assert.deepEqual(ringText(ring).slice(6), [lostMarker(2), "\x1b[0;31mred\x1b[0m"]);
  assert.equal(inbox.size, 0);
});

Deno.test("history writer: a wrapped line is written as one logical line", () => {
  const inbox = new HistoryInbox();
  const writer = new HistoryWriter(inbox);
  const [real, ring] = realTerminal(5, 3);
  inbox.receive(0, 0, [line("abcde", true), line("fg"), line("h")]);
  real.write(writer.take(3, 3)!);
  assert.deepEqual(ringText(ring), ["abcde", "fg", "h"]);
  assert.ok(ring.wrapped(0));
});

Deno.test("history writer: a marker after a wrapped line gets its own line", () => {
  const inbox = new HistoryInbox();
  const writer = new HistoryWriter(inbox);
  const [real, ring] = realTerminal(40, 3);
  inbox.receive(0, 0, [line("x".repeat(40), true)]);
  inbox.receive(1, 3, [line("after")]);
  real.write(writer.take(5, 3)!);
  assert.deepEqual(ringText(ring), ["x".repeat(40), lostMarker(3), "after"]);
});

Deno.test("history writer: a run of 100 million lost lines costs what its held lines cost", () => {
  // A flood far past the server's ring: the client walks the lines it holds, never every number
  // of the lost run (which took seconds per write before).
  const inbox = new HistoryInbox();
  const writer = new HistoryWriter(inbox);
  const [real, ring] = realTerminal(40, 3);
  inbox.receive(0, 0, [line("first")]);
  inbox.receive(1, 100_000_000, [line("a"), line("b")]);
  inbox.receive(100_000_003, 50_000_000, [line("c")]);
  real.write(writer.take(150_000_004, 3)!);
  assert.deepEqual(ringText(ring), [
    "first",
    lostMarker(100_000_000),
    "a",
    "b",
    lostMarker(50_000_000),
    "c",
  ]);
  assert.equal(inbox.size, 0);
  assert.equal(writer.written, 150_000_004);
});

Deno.test("history writer: lost runs from separate diffs with no line between make one marker", () => {
  // The server's frontier can end inside a lost run (the ring moved on before the step was sent),
  // and the next diff then starts with more lost lines: one gap, so one marker.
  const inbox = new HistoryInbox();
  const writer = new HistoryWriter(inbox);
  const [real, ring] = realTerminal(40, 3);
  inbox.receive(0, 0, [line("first")]);
  inbox.receive(1, 300, []);
  const firstOnly = writer.take(301, 3)!;
  assert.equal(writer.pending(301), false, "the marker waits for the line after the run");
  inbox.receive(301, 200, []);
  assert.equal(writer.take(501, 3), null);
  inbox.receive(501, 40, [line("next")]);
  real.write(firstOnly);
  real.write(writer.take(542, 3)!);
  assert.deepEqual(ringText(ring), ["first", lostMarker(540), "next"]);
  assert.equal(writer.written, 542);
});

Deno.test("history writer: sanitize keeps text and SGR only", () => {
  const s = (x: string) => dec.decode(sanitize(enc.encode(x)));
  assert.equal(s("a\x1b[1;31mb\x1b[0mc"), "a\x1b[1;31mb\x1b[0mc");
  assert.equal(s("x\x1b]0;title\x07y"), "x]0;titley");
  assert.equal(s("x\x1b[2Jy\x1b[?1049hz"), "xJy?1049hz");
  assert.equal(s("\r\n\t\x07\x7fé\u0085漢"), "é漢");
});

Deno.test("display diff, scrollback mode: scrolling and repaints push nothing to the scrollback", () => {
  const server = new Terminal(20, 5);
  const [real, ring] = realTerminal(20, 5);
  let last = null;
  for (let i = 0; i < 40; i++) {
    server.write(`\r\nline ${i}`); // the cursor stays on the bottom row
    if (i % 3 === 0) server.write("\r\n\x1b[1;31mcolour\x1b[0m");
    if (i % 4 === 0) server.write(`\r\n${"w".repeat(20 + i)}`); // wraps at the bottom
    if (i % 5 === 0) server.write("\x1b[2;4r\x1b[4;1H\n\n\x1b[r\x1b[5;1H"); // a region scroll
    const next = server.snapshot();
    real.write(diffFrames(last, next, { scrollback: true }));
    last = next;
    if (i === 20) {
      real.write(diffFrames(null, next, { scrollback: true })); // a full repaint (Ctrl-L)
    }
  }
  assert.equal(ring.end, 0, ringText(ring).join("|"));
  assert.equal(real.screenText(), server.screenText());
  // Without the option the same frames do push rows (the scroll optimisation).
  const [plain, plainRing] = realTerminal(20, 5);
  const s2 = new Terminal(20, 5);
  let l2 = null;
  for (let i = 0; i < 10; i++) {
    s2.write(`\r\nline ${i}`);
    const next = s2.snapshot();
    plain.write(diffFrames(l2, next));
    l2 = next;
  }
  assert.ok(plainRing.end > 0);
});

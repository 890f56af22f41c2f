import assert from "node:assert/strict";
import { DEFAULT_SCROLLBACK, HistoryRing, scrollbackFromEnv } from "../lib/history.ts";
import { Terminal } from "../lib/terminal.ts";
import {
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  Row,
  TRUE_COLOR,
} from "../lib/framebuffer.ts";
import { LINE_WRAPPED } from "../lib/extensions.ts";

function withRing(cols: number, rows: number, capacity = 100): [Terminal, HistoryRing] {
  const t = new Terminal(cols, rows);
  const ring = new HistoryRing(capacity);
  t.scrollback = ring;
  return [t, ring];
}

function lines(ring: HistoryRing): string[] {
  const out: string[] = [];
  for (let n = ring.start; n < ring.end; n++) out.push(ring.text(n));
  return out;
}

Deno.test("history: LF at the bottom of the full screen keeps the rows in order", () => {
  const [t, ring] = withRing(20, 3);
  for (let i = 1; i <= 10; i++) t.write(`${i}\r\n`);
  assert.deepEqual(lines(ring), ["1", "2", "3", "4", "5", "6", "7", "8"]);
  assert.equal(ring.start, 0);
  assert.equal(ring.end, 8);
  assert.equal(
    t.screenText(),
    "9" + " ".repeat(19) + "\n10" + " ".repeat(18) + "\n" +
      " ".repeat(20) + "\ncursor 2 0\n",
  );
});

Deno.test("history: IND and SU count, RI and SD do not", () => {
  const [t, ring] = withRing(10, 3);
  t.write("a\r\nb\r\nc");
  t.write("\x1bD"); // IND at the bottom
  assert.deepEqual(lines(ring), ["a"]);
  t.write("\x1b[2S"); // SU 2
  assert.deepEqual(lines(ring), ["a", "b", "c"]);
  t.write("\x1b[H\x1bM\x1b[3T"); // RI at the top, SD 3
  assert.equal(ring.end, 3);
  t.write("\x1b[10S"); // more than the screen: each row once
  assert.equal(ring.end, 6);
});

Deno.test("history: a smaller scrolling region and the alternate screen add nothing", () => {
  const [t, ring] = withRing(10, 5);
  t.write("top\x1b[2;4r\x1b[4;1H");
  for (let i = 0; i < 10; i++) t.write(`r${i}\n`);
  t.write("\x1b[r");
  assert.equal(ring.end, 0);
  t.write("\x1b[?1049h");
  for (let i = 0; i < 10; i++) t.write(`alt${i}\r\n`);
  t.write("\x1b[3S\x1b[?1049l");
  assert.equal(ring.end, 0);
  t.write("\x1b[5;1H\r\nafter");
  assert.deepEqual(lines(ring), ["top"]);
});

Deno.test("history: colours and attributes become SGR; wrap flag; full width kept when wrapped", () => {
  const [t, ring] = withRing(8, 2);
  t.write("\x1b[1;31mred\x1b[0m \x1b[38;5;200mx\x1b[48;2;1;2;3my\x1b[0m\r\n");
  t.write("abcdefghij\r\n\r\n");
  const red = ring.text(0);
  assert.equal(red, "\x1b[0;1;31mred\x1b[0m \x1b[0;38;5;200mx\x1b[0;38;5;200;48;2;1;2;3my\x1b[0m");
  assert.ok(!ring.wrapped(0));
  assert.equal(ring.text(1), "abcdefgh");
  assert.ok(ring.wrapped(1));
  assert.equal(ring.text(2), "ij");
  assert.ok(!ring.wrapped(2));
  const wire = ring.wireLine(1);
  assert.equal(wire[0], LINE_WRAPPED);
  assert.equal(new TextDecoder().decode(wire.subarray(1)), "abcdefgh");
  assert.equal(ring.wireLength(1), 9);
});

Deno.test("history: wide, combining and non-ASCII text round-trip as UTF-8", () => {
  const [t, ring] = withRing(10, 1);
  t.write("é漢e\u0301\r\n");
  assert.equal(ring.text(0), "é漢e\u0301");
  assert.equal(new TextDecoder().decode(ring.wireLine(0).subarray(1)), "é漢e\u0301");
  assert.equal(ring.wireLength(0), 1 + new TextEncoder().encode("é漢e\u0301").length);
});

Deno.test("history: the counter only grows; the ring keeps the last capacity lines", () => {
  const [t, ring] = withRing(10, 2, 5);
  for (let i = 0; i < 23; i++) t.write(`${i}\r\n`);
  assert.equal(ring.end, 22);
  assert.equal(ring.start, 17);
  assert.deepEqual(lines(ring), ["17", "18", "19", "20", "21"]);
  assert.throws(() => ring.text(16), RangeError);
  assert.throws(() => ring.text(22), RangeError);
});

Deno.test("history: clones do not feed the ring; no sink costs nothing observable", () => {
  const [t, ring] = withRing(10, 2);
  const c = t.clone();
  c.write("a\r\nb\r\nc\r\n");
  assert.equal(ring.end, 0);
  const plain = new Terminal(10, 2);
  plain.write("a\r\nb\r\nc\r\n");
  t.write("a\r\nb\r\nc\r\n");
  assert.equal(plain.screenText(), t.screenText());
});

Deno.test("history: MOSH_SCROLLBACK parsing", () => {
  assert.deepEqual(scrollbackFromEnv(undefined), { lines: DEFAULT_SCROLLBACK, warning: null });
  assert.deepEqual(scrollbackFromEnv("0"), { lines: 0, warning: null });
  assert.deepEqual(scrollbackFromEnv("500"), { lines: 500, warning: null });
  const bad = scrollbackFromEnv("lots");
  assert.equal(bad.lines, DEFAULT_SCROLLBACK);
  assert.match(bad.warning!, /MOSH_SCROLLBACK/);
  assert.equal(scrollbackFromEnv("99999999").lines, DEFAULT_SCROLLBACK);
});

Deno.test("history: a full ring of plain 80-column text stays under 4 MB", () => {
  // 10,000 rows of 80 printable characters, then as many again (chunks must be released).
  const row = new Row(80);
  for (let x = 0; x < 80; x++) row.data[x * CELL_WORDS] = 0x61 + (x % 26);
  const ring = new HistoryRing(10000);
  for (let i = 0; i < 20000; i++) {
    row.data[0] = 0x30 + (i % 10);
    ring.pushRow(row);
  }
  const used = ring.byteSize;
  assert.equal(ring.end - ring.start, 10000);
  assert.equal(ring.text(ring.start).length, 80);
  assert.ok(used < 4 * 1024 * 1024, `ring used ${used} bytes`);
  console.log(`full ring of 80-column lines: ${(used / 10000).toFixed(0)} bytes per line`);
});

Deno.test("history: plain rows' fast path stores the same bytes as the general encoder", () => {
  // A row with a `multi` map (even empty) always takes the general path: the same rows pushed
  // with and without one must give byte-identical lines. Mostly plain rows, some with one cell
  // that is not (a colour, an attribute, a wide or non-ASCII character, a fallback cell) at a
  // random column, so the fast path also gives up midway; widths and lengths cross chunk ends.
  let seed = 14;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const fast = new HistoryRing(7), general = new HistoryRing(7);
  let plain = 0;
  for (let i = 0; i < 6000; i++) {
    const width = [1, 5, 80, 300][rand(4)];
    const row = new Row(width);
    const d = row.data;
    const cells = rand(width + 1);
    for (let x = 0; x < cells; x++) d[x * CELL_WORDS] = rand(8) === 0 ? 0 : 0x20 + rand(95);
    if (rand(3) === 0 && width > 1) {
      const x = rand(width - 1), o = x * CELL_WORDS;
      const kind = rand(7);
      if (kind === 0) d[o + 1] = 31 + rand(7);
      else if (kind === 1) d[o + 2] = TRUE_COLOR | rand(0x1000000);
      else if (kind === 2) d[o + 3] = 1 << rand(6);
      else if (kind === 3) d[o] = 0xe9;
      else if (kind === 4) {
        d[o] = 0x6f22;
        d[o + 3] = FLAG_WIDE;
        d[o + CELL_WORDS] = 0;
      } else if (kind === 5) d[o + 3] = FLAG_FALLBACK;
      else d[o] = 1 + rand(31); // a control code point: ASCII, fast path
    } else plain++;
    if (rand(4) === 0) d[d.length - 1] |= FLAG_WRAP;
    fast.pushRow(row);
    row.multi = new Map();
    general.pushRow(row);
    const n = fast.end - 1;
    assert.deepEqual(fast.wireLine(n), general.wireLine(n), `row ${i}`);
    assert.equal(fast.wireLength(n), general.wireLength(n));
  }
  assert.ok(plain > 3000, `${plain} plain rows`);
  for (let n = fast.start; n < fast.end; n++) assert.equal(fast.text(n), general.text(n));
});

// Tests for lib/display.ts (docs/PROTOCOL.md §10): the bytes of simple frames, and the round
// trip, which is the contract: a terminal showing frame A that is fed diffFrames(A, B) shows B,
// for thousands of random pairs of screens. Unit tests: tests/display_cmosh_test.ts feeds our
// diffs to C mosh 1.4.0.
import assert from "node:assert/strict";
import { contentEqual, diffFrames, type DiffOptions } from "../lib/display.ts";
import { CELL_WORDS, FLAG_WIDE, FLAG_WRAP, type Framebuffer } from "../lib/framebuffer.ts";
import { Terminal } from "../lib/terminal.ts";
import { EDITS, randomEdits, Rng } from "./screen_edits.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Frames A (after `a`) and B (after `a` then `b`) of one w x h terminal. */
function frames(w: number, h: number, a: string, b: string): [Framebuffer, Framebuffer] {
  const t = new Terminal(w, h);
  t.write(a);
  const first = t.snapshot();
  t.write(b);
  return [first, t.snapshot()];
}

/** The diff from A to B as text. */
function diffText(w: number, h: number, a: string, b: string, opts?: DiffOptions): string {
  const [fa, fb] = frames(w, h, a, b);
  return text(diffFrames(fa, fb, opts));
}

/** A terminal that shows `f`, made the way a client gets there: a repaint of a blank one. */
function clientAt(f: Framebuffer): Terminal {
  const t = new Terminal(f.width, f.height);
  t.write(diffFrames(null, f));
  const diff = contentEqual(t.snapshot(), f);
  if (diff) throw new Error(`repaint does not reproduce the frame: ${diff}`);
  return t;
}

/** Asserts that `client` (showing A) fed diffFrames(A, B) shows B; returns the diff's size. */
function assertRoundTrip(client: Terminal, a: Framebuffer, b: Framebuffer, what: string): number {
  if (client.width !== b.width || client.height !== b.height) client.resize(b.width, b.height);
  const d = diffFrames(a, b);
  client.write(d);
  const diff = contentEqual(client.snapshot(), b);
  if (diff) assert.fail(`${what}: ${diff}\n  diff bytes: ${JSON.stringify(text(d))}`);
  return d.length;
}

// ------------------------------------------------------------------------------ contentEqual

Deno.test("contentEqual: finds the first difference", () => {
  const [a] = frames(10, 3, "hello", "");
  assert.equal(contentEqual(a, a), null);
  const [b] = frames(10, 3, "hello", "");
  assert.equal(contentEqual(a, b), null, "different terminals, same content");
  const cases: [string, RegExp][] = [
    ["hellO", /^cell \(0,4\): "o" .* != "O"/],
    ["\x1b[1mhello", /^cell \(0,0\): "h" fg=0 bg=0 attrs=0 != "h" fg=0 bg=0 attrs=1/],
    ["hello\x1b[2;1H", /^cursor: "0,5" != "1,0"/],
    ["hello\x1b[?25l", /^cursor visible: true != false/],
    ["hello\x1b[31m", /^renditions: "0,0,0" != "31,0,0"/],
    ["hello\x1b]2;t\x07", /^title initialized: false != true/],
    ["hello\x1b]52;c;eA==\x07", /^clipboard: "" != "eA=="/],
    ["hello\x1b[?2004h", /^bracketed paste: false != true/],
    ["hello\x1b[?1002h", /^mouse reporting: 0 != 1002/],
    ["hello\x1b[?5h", /^reverse video: false != true/],
    ["hello\u4e00", /^cell \(0,5\): "" .* != "一" .* wide/],
  ];
  for (const [bytes, want] of cases) {
    const [c] = frames(10, 3, bytes, "");
    assert.match(contentEqual(a, c) ?? "equal", want, JSON.stringify(bytes));
  }
  const [w1] = frames(10, 3, "abcdefghij\x1b[2;1Hk", "");
  const [w2] = frames(10, 3, "abcdefghijk", "");
  assert.match(contentEqual(w1, w2) ?? "", /^cell \(0,9\): "j" fg=0 bg=0 attrs=0 != "j" .* wrap$/);
  const [d] = frames(11, 3, "hello", "");
  assert.equal(contentEqual(a, d), "size 10x3 != 11x3");
  // Not compared: the bell count, alternate scroll, and a wrap bit DCH left inside a row.
  const [e] = frames(10, 3, "hello\x07\x1b[?1007h", "");
  assert.equal(contentEqual(a, e), null);
  const [f1] = frames(10, 3, "abcdefghijkl\x1b[1;1H\x1b[P\x1b[2;3H", "");
  const [f2] = frames(10, 3, "bcdefghij\x1b[2;1Hkl", "");
  assert.equal(f1.rows[0].data[8 * CELL_WORDS + 3] & FLAG_WRAP, FLAG_WRAP);
  assert.equal(contentEqual(f1, f2), null);
});

// ------------------------------------------------------------------------------ exact bytes

Deno.test("diffFrames: the observed frame after typing", () => {
  // docs/PROTOCOL.md §10: "\e[?25l\nhello\e[0;1;31mRED\e[?25h\e[0m".
  assert.equal(
    diffText(80, 24, "", "\nhello\x1b[1;31mRED\x1b[0m"),
    "\x1b[?25l\nhello\x1b[0;1;31mRED\x1b[?25h\x1b[0m",
  );
  // Nothing changed: nothing to send.
  const [a] = frames(80, 24, "hello", "");
  assert.equal(diffFrames(a, a).length, 0);
  const [b, c] = frames(80, 24, "hello", "\x1b[2J\x1b[Hhello"); // same content, new rows
  assert.equal(text(diffFrames(b, c)), "");
});

Deno.test("diffFrames: a full repaint clears, draws and sets every mode", () => {
  const t = new Terminal(10, 2);
  t.write("hi\x1b[41m\x1b[K\x1b[0m\x1b[2;3H");
  assert.equal(
    text(diffFrames(null, t.snapshot())),
    "\x1b[?5l\x1b[r\x1b[0m\x1b[H\x1b[2J\x1b[?25lhi\x1b[0;41m\x1b[K\n\x1b[?25h\x1b[0m" +
      "\x1b[?2004l\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l\x1b[?1004l" +
      "\x1b[?1015l\x1b[?1006l\x1b[?1005l",
  );
});

Deno.test("diffFrames: renditions in mosh's SGR form", () => {
  assert.equal(
    diffText(
      40,
      3,
      "",
      "\x1b[1;3;4;5;7;8;38;5;100;48;2;1;2;3mA\x1b[0;91;102mB\x1b[0;31;42mC" +
        "\x1b[0;38;2;255;0;16mD\x1b[0m",
    ),
    "\x1b[0;1;3;4;5;7;8;38;5;100;48;2;1;2;3mA\x1b[0;38;5;9;48;5;10mB\x1b[0;31;42mC" +
      "\x1b[0;38;2;255;0;16mD\x1b[0m",
  );
});

Deno.test("diffFrames: cursor moves are short and never relative after the last column", () => {
  // C mosh 1.4.0 would go back with BS from column 80 here and land one cell short.
  assert.equal(diffText(80, 3, "", "\x1b[1;80Hx\x1b[1;78H"), "\x1b[?25l\x1b[80Gx\x1b[78G\x1b[?25h");
  assert.equal(diffText(80, 3, "", "\x1b[2;80Hx\x1b[3;1H"), "\x1b[?25l\x1b[2;80Hx\r\n\x1b[?25h");
  assert.equal(diffText(80, 3, "abcdef", "\x1b[1;4HX"), "\x1b[?25l\b\b\bX\x1b[?25h");
  assert.equal(diffText(80, 3, "abcdef", "\x1b[1;3HX"), "\x1b[?25l\x1b[3GX\x1b[?25h");
  assert.equal(diffText(80, 3, "a", "\x1b[1;11HX"), "\x1b[?25l\x1b[9CX\x1b[?25h");
  assert.equal(diffText(80, 24, "a", "\x1b[20;30HX"), "\x1b[?25l\x1b[20;30HX\x1b[?25h");
  assert.equal(diffText(80, 24, "a", "\x1b[3;1H"), "\r\n\n");
});

Deno.test("diffFrames: erased cells stay empty (ECH, EL), with the background colour", () => {
  assert.equal(
    diffText(20, 3, "hello world foo bar", "\x1b[1;3H\x1b[5X\x1b[1;15H\x1b[K\x1b[1;1H"),
    "\x1b[?25l\x1b[3G\x1b[5X\x1b[15G\x1b[K\r\x1b[?25h",
  );
  assert.equal(
    diffText(20, 3, "hello", "\x1b[44m\x1b[1;2H\x1b[X\x1b[0m\x1b[1;1H"),
    "\x1b[?25l\x1b[2G\x1b[0;44m\x1b[X\r\x1b[?25h\x1b[0m",
  );
  // Without ECH or BCE (a real terminal): spaces.
  assert.equal(
    diffText(20, 3, "hello world", "\x1b[1;3H\x1b[5X\x1b[1;1H", { ech: false }),
    "\x1b[?25l\x1b[3G     \r\x1b[?25h",
  );
  assert.equal(
    diffText(20, 3, "hello", "\x1b[44m\x1b[1;2H\x1b[K\x1b[0m\x1b[1;1H", { bce: false }),
    "\x1b[?25l\x1b[2G\x1b[0;44m" + " ".repeat(19) + "\r\x1b[?25h\x1b[0m",
  );
});

Deno.test("diffFrames: a wrapped row hands over to the next without moving", () => {
  assert.equal(diffText(10, 3, "", "abcdefghijkl"), "abcdefghijkl");
  const [a, b] = frames(10, 3, "", "abcdefghijkl");
  const client = clientAt(a);
  assertRoundTrip(client, a, b, "wrap");
  assert.equal(client.snapshot().rows[0].wrap, true);
  // A wrap flag appearing on an unchanged row: its end is printed again, then the next row.
  assert.equal(
    diffText(10, 3, "abcdefghij\x1b[2;1Hxy", "\x1b[1;10Hjkl"),
    "\x1b[?25l\x1b[1;10Hjkl\x1b[?25h",
  );
});

Deno.test("diffFrames: scrolling is sent as a scroll, inside a region when needed", () => {
  let fill = "";
  for (let i = 1; i <= 6; i++) fill += `\x1b[${i};1Hline ${i}`;
  // The whole screen, cursor on the bottom row: LF.
  assert.equal(diffText(20, 6, fill, "\x1b[6;1H\r\nnew"), "\n\x1b[?25l\rnew\x1b[?25h");
  // The cursor elsewhere: DL at the top.
  assert.equal(
    diffText(20, 6, fill + "\x1b[2;3H", "\x1b[6;1H\nnew\x1b[2;3H"),
    "\x1b[?25l\x1b[H\x1b[M\x1b[6Hnew\x1b[2;3H\x1b[?25h",
  );
  // Insert and delete line.
  assert.equal(diffText(20, 6, fill, "\x1b[2;1H\x1b[Lnew"), "\x1b[?25l\x1b[2H\x1b[Lnew\x1b[?25h");
  assert.equal(diffText(20, 6, fill, "\x1b[2;1H\x1b[M"), "\x1b[?25l\x1b[2H\x1b[M\x1b[?25h");
  // A region that keeps the first and last rows: DECSTBM (homes the cursor), DL, reset.
  assert.equal(
    diffText(20, 6, fill, "\x1b[2;5r\x1b[5;1H\nnew\x1b[r\x1b[1;1H"),
    "\x1b[?25l\x1b[2;5r\n\x1b[M\x1b[r\x1b[5Hnew\x1b[H\x1b[?25h",
  );
  // Reverse scroll at the top.
  assert.equal(diffText(20, 6, fill + "\x1b[H", "\x1bMtop"), "\x1bMtop");
});

Deno.test("diffFrames: scrolls in the framediff-style screens stay small", () => {
  // An 80x24 screen full of text with a status line; C mosh redraws the region (about 1.5 KB).
  let base = "";
  for (let y = 1; y <= 24; y++) base += `\x1b[${y};1H${"row " + y + " " + "text ".repeat(12)}`;
  const sizes: number[] = [];
  for (
    const edit of [
      "\x1b[2;23r\x1b[23;1H\nnew words\x1b[r\x1b[5;5H",
      "\x1b[24;1H\r\nnew words",
      "\x1b[7;1H\x1b[Lnew words",
      "\x1b[3;20r\x1b[3;1H\x1bM\x1b[r",
    ]
  ) {
    const [a, b] = frames(80, 24, base, edit);
    const client = clientAt(a);
    sizes.push(assertRoundTrip(client, a, b, JSON.stringify(edit)));
  }
  for (const s of sizes) assert.ok(s < 60, `scroll diff of ${s} bytes`);
});

Deno.test("diffFrames: cells of combining marks alone, wide characters at the margin", () => {
  // An explicit move points the combining cell at the cursor, so the mark lands there alone.
  assert.equal(diffText(10, 3, "", "\x1b[2;5H\u0301"), "\x1b[?25l\x1b[2;5H\u0301\x1b[?25h");
  // Over an existing cell it is erased first.
  assert.equal(
    diffText(10, 3, "abc", "\x1b[1;2H\x1b[X\u0301\x1b[1;4H"),
    "\x1b[?25l\b\b\x1b[X\u0301\x1b[C\x1b[?25h",
  );
  // Painting a real terminal: U+00A0 carries the mark, as in C mosh.
  assert.equal(
    diffText(10, 3, "", "\x1b[2;5H\u0301", { exact: false }),
    "\x1b[?25l\x1b[2;5H\u00a0\u0301\x1b[?25h",
  );
  // A wide character left in the last column by autowrap off is drawn with autowrap off.
  assert.equal(
    diffText(10, 3, "", "\x1b[?7l\x1b[1;10H\u4e00\x1b[?7h\x1b[3;1H"),
    "\x1b[?25l\x1b[9C\x1b[?7l\u4e00\x1b[?7h\r\n\n\x1b[?25h",
  );
  const [a, b] = frames(10, 3, "", "\x1b[?7l\x1b[1;10H\u4e00\x1b[?7h\x1b[3;1H");
  assert.equal(b.rows[0].data[9 * CELL_WORDS + 3] & FLAG_WIDE, FLAG_WIDE);
  assertRoundTrip(clientAt(a), a, b, "wide in the last column");
});

Deno.test("diffFrames: a wrapped bottom row is built in the row above and moved down", () => {
  // The wrap happened below a scrolling region, so it did not scroll.
  const [a, b] = frames(10, 3, "", "\x1b[1;2r\x1b[3;9Habcd\x1b[r\x1b[1;1H");
  assert.equal(b.rows[2].wrap, true);
  assert.equal(text(diffFrames(a, b)), "\x1b[?25l\ncd\x1b[9Gabc\x1b[2;3r\n\x1bM\x1b[r\x1b[?25h");
  const client = clientAt(a);
  assertRoundTrip(client, a, b, "bottom wrap");
  assert.equal(client.snapshot().rows[2].wrap, true);
});

Deno.test("diffFrames: bell, titles, clipboard and modes", () => {
  assert.equal(
    diffText(10, 3, "", "\x1b]0;hi\x07\x1b]52;c;Zm9v\x07\x07"),
    "\x07\x1b]0;hi\x07\x1b]52;c;Zm9v\x07",
  );
  assert.equal(diffText(10, 3, "\x1b]0;hi\x07", "\x1b]1;ic\x07"), "\x1b]1;ic\x07\x1b]2;hi\x07");
  assert.equal(diffText(10, 3, "", "\x1b]0;hi\x07", { title: false }), "");
  assert.equal(
    diffText(10, 3, "", "\x1b[?2004h\x1b[?1002h\x1b[?1004h\x1b[?1006h\x1b[?5h\x1b[?25l"),
    "\x1b[?5h\x1b[?25l\x1b[?2004h\x1b[?1002h\x1b[?1004h\x1b[?1006h",
  );
  const modes = "\x1b[?2004h\x1b[?1002h\x1b[?1004h\x1b[?1006h";
  assert.equal(
    diffText(10, 3, modes, "\x1b[?1000h\x1b[?1015h"),
    "\x1b[?1002l\x1b[?1000h\x1b[?1006l\x1b[?1015h",
  );
  assert.equal(
    diffText(10, 3, modes, "\x1b[?1000l\x1b[?1006l\x1b[?2004l\x1b[?1004l"),
    "\x1b[?2004l\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l\x1b[?1004l" +
      "\x1b[?1015l\x1b[?1006l\x1b[?1005l",
  );
  // Alternate scroll is compared but never forwarded (§9.3).
  assert.equal(diffText(10, 3, "", "\x1b[?1007h"), "");
});

// ------------------------------------------------------------------------------ round trips

Deno.test("diffFrames: round trip over random edits of every kind, with resizes", () => {
  // A client only ever sees diffs: it starts blank and applies each frame's diff, resizing first
  // when the size changed (as the resize instruction of §6.2 does). Widths below 3 and heights
  // below 2 are excluded: there the emulator can hold wrap flags that no byte sequence recreates.
  let pairs = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const r = new Rng(seed);
    let w = r.range(3, 100), h = r.range(2, 40);
    const server = new Terminal(w, h);
    let a = server.snapshot();
    const client = clientAt(a);
    const log: string[] = [];
    for (let step = 0; step < 30; step++) {
      if (r.chance(0.04)) {
        w = r.range(3, 100);
        h = r.range(2, 40);
        server.resize(w, h);
        log.push(`<resize ${w}x${h}>`);
      }
      const e = randomEdits(r, w, h);
      log.push(e);
      server.write(e);
      const b = server.snapshot();
      assertRoundTrip(client, a, b, `seed ${seed} step ${step}, edits ${JSON.stringify(log)}`);
      pairs++;
      if (step % 6 === 0) clientAt(b); // and the full repaint
      a = b;
    }
  }
  assert.equal(pairs, 12000);
});

Deno.test("diffFrames: frames from different terminals", () => {
  let sameBytes = 0, otherBytes = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const r = new Rng(seed * 7919);
    const w = r.range(3, 100), h = r.range(2, 40);
    // Same history, different terminals: equal rows are different objects with other
    // generations, so moved rows are found by their cells alone.
    let base = EDITS.fill(r, w, h);
    for (let i = 0; i < 3; i++) base += randomEdits(r, w, h);
    const edit = randomEdits(r, w, h, ["scroll", "region", "lines", "text", "erase", "wide"]);
    const t1 = new Terminal(w, h), t2 = new Terminal(w, h);
    t1.write(base);
    const a = t1.snapshot();
    t1.write(edit);
    t2.write(base + edit);
    const same = t1.snapshot(), other = t2.snapshot();
    sameBytes += assertRoundTrip(clientAt(a), a, same, `seed ${seed} same terminal`);
    otherBytes += assertRoundTrip(clientAt(a), a, other, `seed ${seed} other terminal`);
    // A clone that went its own way: rows share generations but not contents.
    const fork = t1.clone();
    fork.write(randomEdits(r, w, h));
    t1.write(randomEdits(r, w, h));
    if (t1.snapshot().titleInitialized) fork.write("\x1b]2;\x07");
    assertRoundTrip(clientAt(t1.snapshot()), t1.snapshot(), fork.snapshot(), `seed ${seed} fork`);
    // Unrelated screens.
    const u = new Terminal(w, h);
    if (a.titleInitialized) u.write("\x1b]2;\x07"); // a title can be set, not unset
    u.write(EDITS.fill(r, w, h) + randomEdits(r, w, h));
    assertRoundTrip(clientAt(a), a, u.snapshot(), `seed ${seed} unrelated`);
  }
  // Content alone finds the same scrolls as generations do.
  assert.ok(otherBytes <= sameBytes * 1.05, `other terminal ${otherBytes} vs same ${sameBytes}`);
});

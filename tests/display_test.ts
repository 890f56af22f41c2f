// Tests for lib/display.ts (docs/PROTOCOL.md §10): the bytes of simple frames, and the round
// trip, which is the contract: a terminal showing frame A that is fed diffFrames(A, B) shows B,
// for thousands of random pairs of screens. The last test feeds our diffs to C mosh 1.4.0
// (Debian's mosh-server and mosh-client, in tmux) and compares the screen with our own paint.
import assert from "node:assert/strict";
import { contentEqual, diffFrames, type DiffOptions } from "../lib/display.ts";
import { CELL_WORDS, FLAG_WIDE, FLAG_WRAP, type Framebuffer } from "../lib/framebuffer.ts";
import { Terminal } from "../lib/terminal.ts";
import { requireDebianPackages } from "./deps.ts";
import { Tmux } from "./tmux.ts";

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

// ------------------------------------------------------------------------------ random screens

/** mulberry32: a small seeded PRNG. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number {
    return this.next() % n;
  }
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  pick<T>(a: ArrayLike<T>): T {
    return a[this.below(a.length)];
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

const CSI = "\x1b[";
const WORDS = "the quick brown fox jumps over lazy dog mosh ls -la ~/x [ok] 0123".split(" ");
const WIDE = [0x4e00, 0x4e8c, 0xac00, 0x3042, 0x30a2, 0xff21, 0x1f600];
const MARKS = [0x300, 0x301, 0x308, 0x327, 0x20dd];
const NARROW = [0xe9, 0x3b1, 0x416, 0x2500, 0xa0, 0xff];

function sgr(r: Rng): string {
  const c = () => r.below(256);
  return CSI + r.pick([
    () => "0",
    () => `${r.range(30, 37)}`,
    () => `${r.range(40, 47)}`,
    () => `${r.range(90, 97)};${r.range(100, 107)}`,
    () => r.pick(["1", "3", "4", "5", "7", "8", "22", "23", "24", "25", "27", "28", "39", "49"]),
    () => `38;5;${c()}`,
    () => `48;5;${c()}`,
    () => `38;2;${c()};${c()};${c()}`,
    () => `48;2;${c()};${c()};${c()}`,
    () => `1;${r.range(30, 37)};${r.range(40, 47)}`,
  ])() + "m";
}

function words(r: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const k = r.below(12);
    if (k < 6) s += r.pick(WORDS) + " ";
    else if (k < 8) s += String.fromCodePoint(r.pick(WIDE));
    else if (k < 9) s += String.fromCodePoint(r.pick(NARROW));
    else if (k < 10) s += r.pick(WORDS) + String.fromCodePoint(r.pick(MARKS));
    else if (k < 11) s += sgr(r) + r.pick(WORDS);
    else s += " ";
  }
  return s;
}

/** Every kind of edit the emulator knows, as host output for a w x h screen. */
const EDITS: Record<string, (r: Rng, w: number, h: number) => string> = {
  text: (r) => words(r, r.range(1, 6)),
  newline: (r) => r.pick(["\r\n", "\n", "\r"]),
  sgr,
  cup: (r, w, h) => `${CSI}${r.range(1, h)};${r.range(1, w)}H`,
  move: (r, w, h) =>
    r.pick([
      `${CSI}${r.range(0, 5)}A`,
      `${CSI}${r.range(0, 5)}B`,
      `${CSI}${r.range(0, 9)}C`,
      `${CSI}${r.range(0, 9)}D`,
      `${CSI}${r.range(1, w)}G`,
      `${CSI}${r.range(1, h)}d`,
      "\b",
      "\t",
      `${CSI}${r.range(1, 3)}I`,
      `${CSI}Z`,
    ]),
  erase: (r) => CSI + r.pick(["", "0", "1", "2"]) + r.pick(["K", "J"]),
  ech: (r) => `${CSI}${r.range(0, 12)}X`,
  chars: (r, w, h) =>
    `${CSI}${r.range(1, h)};${r.range(1, w)}H${CSI}${r.range(0, 6)}${r.pick("@P")}`,
  lines: (r, w, h) =>
    `${CSI}${r.range(1, h)};${r.range(1, w)}H${CSI}${r.range(0, 4)}${r.pick("LM")}` +
    words(r, r.range(0, 2)),
  scroll: (r, w, h) =>
    r.pick([
      () => `${CSI}${h};1H` + "\n".repeat(r.range(1, 3)) + words(r, r.range(0, 4)),
      () => `${CSI}${r.range(0, 3)}${r.pick("ST")}`,
      () => `${CSI}1;${r.range(1, w)}H` + "\x1bM".repeat(r.range(1, 3)) + words(r, 1),
    ])(),
  region: (r, _w, h) => {
    const top = r.range(1, h), bottom = r.range(top, h);
    return `${CSI}${top};${bottom}r` + r.pick([
      () => `${CSI}${bottom};1H` + "\n".repeat(r.range(1, 3)) + words(r, 2),
      () => `${CSI}${top};1H` + "\x1bM".repeat(r.range(1, 3)) + words(r, 1),
      () => `${CSI}${r.range(top, bottom)};1H${CSI}${r.range(1, 3)}${r.pick("LM")}`,
      () => `${CSI}${r.range(1, 3)}${r.pick("ST")}`,
    ])() + (r.chance(0.8) ? `${CSI}r` : "");
  },
  wide: (r, w, h) => {
    const x = Math.max(1, r.pick([w, w - 1, w - 2, r.range(1, w)]));
    let s = `${CSI}${r.range(1, h)};${x}H`;
    for (let i = r.range(1, 4); i > 0; i--) s += String.fromCodePoint(r.pick(WIDE));
    return s;
  },
  combining: (r, w, h) => {
    const m = String.fromCodePoint(r.pick(MARKS));
    const at = `${CSI}${r.range(1, h)};${r.range(1, w)}H`;
    return r.pick([
      at + m,
      at + "a" + m + m,
      at + `${CSI}X` + m,
      `${CSI}${r.range(1, h)};${w}H` + m,
      String.fromCodePoint(r.pick(WIDE)) + m,
      m,
      at + "\u00a0" + m,
    ]);
  },
  wrap: (r, w, h) =>
    `${CSI}${r.range(1, h)};${r.range(Math.max(1, w - 8), w)}H` + words(r, r.range(2, 8)),
  autowrap: (r, w, h) =>
    `${CSI}?7l${CSI}${r.range(1, h)};${r.range(Math.max(1, w - 4), w)}H` + words(r, 3) +
    (r.chance(0.3) ? String.fromCodePoint(r.pick(WIDE)) : "") + (r.chance(0.8) ? `${CSI}?7h` : ""),
  bottomWrap: (r, w, h) =>
    `${CSI}1;${Math.max(2, h - 1)}r${CSI}${h};${r.range(Math.max(1, w - 3), w)}H` + words(r, 2) +
    `${CSI}r`,
  title: (r) =>
    `\x1b]${r.pick(["0", "1", "2", ""])};${r.pick(WORDS)}${r.chance(0.3) ? " \u00e9\u4e00" : ""}` +
    r.pick(["\x07", "\x1b\\"]),
  clipboard: (r) => `\x1b]52;c;${r.pick(["aGVsbG8=", "", "d29ybGQ="])}\x07`,
  modes: (r) =>
    `${CSI}?${r.pick([5, 25, 2004, 9, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1015, 1007, 1])}` +
    r.pick("hl"),
  bell: () => "\x07",
  insert: (r, w, h) =>
    `${CSI}${r.range(1, h)};${r.range(1, w)}H${CSI}4h` + words(r, 2) +
    (r.chance(0.8) ? `${CSI}4l` : ""),
  origin: (r, w, h) =>
    `${CSI}${r.range(1, h)};${h}r${CSI}?6h${CSI}${r.range(1, 3)};${r.range(1, w)}H` + words(r, 1) +
    (r.chance(0.8) ? `${CSI}?6l${CSI}r` : ""),
  saveRestore: (r, w, h) =>
    r.pick(["\x1b7", "\x1b8", `\x1b7${CSI}${r.range(1, h)};${r.range(1, w)}H${words(r, 1)}\x1b8`]),
  reset: (r) => r.pick(["\x1bc", "\x1b#8", `${CSI}!p`, "", "", "", "", ""]),
  altScreen: (r) => `${CSI}?${r.pick(["1049", "47", "1047"])}${r.pick("hl")}`,
  tabs: (r) => r.pick(["\x1bH", `${CSI}g`, `${CSI}3g`]) + "\t" + words(r, 1),
  fill: (r, _w, h) => {
    let s = "";
    for (let y = 1; y <= h; y++) if (r.chance(0.7)) s += `${CSI}${y};1H` + words(r, r.range(1, 10));
    return s;
  },
};
const EDIT_NAMES = Object.keys(EDITS);

/** One to four random edits. */
function randomEdits(r: Rng, w: number, h: number, names = EDIT_NAMES): string {
  let s = "";
  for (let i = r.range(1, 4); i > 0; i--) s += EDITS[r.pick(names)](r, w, h);
  return s;
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

// ------------------------------------------------------------------------------ C mosh

/** Host output `bytes` shown by C mosh: mosh-server's emulator, then mosh-client in tmux. */
async function throughCMosh(file: string, cols: number, rows: number): Promise<Tmux> {
  const out = await new Deno.Command("mosh-server", {
    args: [
      "new",
      "-p",
      "0",
      "-i",
      "127.0.0.1",
      "--",
      "sh",
      "-c",
      'stty -opost -echo; cat "$0"; exec sleep 60',
      file,
    ],
    env: { LANG: "C.UTF-8" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const connect = /MOSH CONNECT (\d+) (\S{22})/.exec(text(out.stdout));
  const pid = /mosh-server detached, pid = (\d+)/.exec(text(out.stderr));
  if (!connect || !pid) throw new Error(`mosh-server did not start: ${text(out.stderr)}`);
  try {
    const t = await Tmux.start({
      command: `MOSH_KEY=${connect[2]} exec mosh-client 127.0.0.1 ${connect[1]}`,
      cols,
      rows,
    });
    (t as unknown as { serverPid: number }).serverPid = Number(pid[1]);
    return t;
  } catch (e) {
    Deno.kill(Number(pid[1]), "SIGKILL");
    throw e;
  }
}

/**
 * The pane's screen as text where every character carries its SGR state, one line per row,
 * trailing spaces removed. (`capture-pane -e` only writes SGR changes, carried from line to
 * line, and captures a space but not an erased cell: both look the same on the screen.)
 */
async function screen(t: Tmux): Promise<string> {
  const capture = await t.capture({ escapes: true });
  let fg = "", bg = "", attrs = new Set<number>();
  const lines: string[] = [];
  for (const line of capture.split("\n")) {
    const cells: string[] = [];
    for (let i = 0; i < line.length;) {
      if (line.charCodeAt(i) === 0x1b) {
        const end = line.indexOf("m", i);
        const ps = line.slice(i + 2, end).split(";").map(Number);
        for (let k = 0; k < ps.length; k++) {
          const v = ps[k];
          if (v === 0) (fg = "", bg = "", attrs = new Set());
          else if (v === 38 || v === 48) {
            const n = ps[k + 1] === 5 ? 3 : 5;
            const c = ps.slice(k, k + n).join(";");
            if (v === 38) fg = c;
            else bg = c;
            k += n - 1;
          } else if ((v >= 30 && v <= 37) || (v >= 90 && v <= 97)) fg = String(v);
          else if ((v >= 40 && v <= 47) || (v >= 100 && v <= 107)) bg = String(v);
          else if (v === 39) fg = "";
          else if (v === 49) bg = "";
          else if (v >= 22 && v <= 29) attrs.delete(v === 22 ? 1 : v - 20);
          else attrs.add(v);
        }
        i = end + 1;
        continue;
      }
      const c = String.fromCodePoint(line.codePointAt(i)!);
      cells.push(`${c}<${fg}/${bg}/${[...attrs].sort().join(",")}>`);
      i += c.length;
    }
    while (cells.length && cells[cells.length - 1].startsWith(" <")) cells.pop();
    lines.push(cells.join(""));
  }
  return lines.join("\n");
}

Deno.test("diffFrames: C mosh 1.4.0 shows what our diffs describe", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const cols = 80, rows = 24;
  // Everything but the alternate screen (C mosh has none) and resizes (a fixed pane).
  const names = EDIT_NAMES.filter((n) => n !== "altScreen");
  const files: string[] = [];
  const runs = await Promise.all([11, 12, 13].map(async (seed) => {
    const r = new Rng(seed);
    const t = new Terminal(cols, rows);
    const parts: Uint8Array[] = [];
    let last: Framebuffer | null = null;
    for (let i = 0; i < 30; i++) {
      t.write(randomEdits(r, cols, rows, names));
      // Two things C mosh-client cannot paint on a real terminal are kept out of the final
      // screen: a wide character in the last column (it prints it as is, and the terminal
      // wraps it) and a wide character whose right half holds another one (it skips that cell).
      if (i === 29) {
        for (let y = 0; y < rows; y++) {
          const d = t.snapshot().rows[y].data;
          for (let x = 0; x < cols; x++) {
            if ((d[x * CELL_WORDS + 3] & FLAG_WIDE) === 0) continue;
            if (x === cols - 1) t.write(`\x1b[${y + 1};${cols}H\x1b[K`);
            else if (d[(x + 1) * CELL_WORDS] !== 0) t.write(`\x1b[${y + 1};${x + 2}H\x1b[X`);
          }
        }
        t.write("\x1b[H");
      }
      const f = t.snapshot();
      parts.push(diffFrames(last, f));
      last = f;
    }
    const chain = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (chain.set(p, at), at += p.length);
    const chainFile = await Deno.makeTempFile({ prefix: "display_test_" });
    const paintFile = await Deno.makeTempFile({ prefix: "display_test_" });
    files.push(chainFile, paintFile);
    await Deno.writeFile(chainFile, chain);
    await Deno.writeFile(paintFile, diffFrames(null, last!, { exact: false }));
    const viaC = await throughCMosh(chainFile, cols, rows);
    const direct = await Tmux.start({
      command: `stty -opost -echo; cat ${paintFile}; exec sleep 60`,
      cols,
      rows,
    });
    return { seed, viaC, direct };
  }));
  try {
    await new Promise((res) => setTimeout(res, 1500));
    // Ctrl-L: mosh-client repaints its whole screen, independent of what it drew before.
    for (const { viaC } of runs) await viaC.sendKeys("C-l");
    for (const { seed, viaC, direct } of runs) {
      const want = await screen(direct);
      let got = "";
      for (let i = 0; i < 100 && got !== want; i++) {
        await new Promise((res) => setTimeout(res, 100));
        got = await screen(viaC);
      }
      assert.equal(got, want, `seed ${seed}`);
      assert.deepEqual(await viaC.cursor(), await direct.cursor(), `seed ${seed} cursor`);
    }
  } finally {
    for (const { viaC, direct } of runs) {
      await viaC.kill();
      await direct.kill();
      try {
        Deno.kill((viaC as unknown as { serverPid: number }).serverPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const f of files) await Deno.remove(f);
  }
});

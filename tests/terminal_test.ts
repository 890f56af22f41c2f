// Tests for lib/terminal.ts, one group per function of docs/PROTOCOL.md §9.3-9.6. Expectations
// are mosh 1.4.0's semantics; the ones marked "(C mosh)" were also checked black-box against
// Debian's mosh-server (its screen replayed through the display diff, as in
// tests/terminal_cmosh_test.ts).
import assert from "node:assert/strict";
import { CLIPBOARD_MAX } from "../lib/osc.ts";
import { Terminal } from "../lib/terminal.ts";
import {
  ATTR_BLINK,
  ATTR_BOLD,
  ATTR_INVERSE,
  ATTR_INVISIBLE,
  ATTR_ITALIC,
  ATTR_UNDERLINE,
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  FLAG_WRAP,
  TRUE_COLOR,
} from "../lib/framebuffer.ts";

/** The screen's rows with trailing spaces removed. */
function lines(t: Terminal): string[] {
  return t.screenText().split("\n").slice(0, t.height).map((l) => l.replace(/ +$/, ""));
}

function row(t: Terminal, y: number): string {
  return lines(t)[y];
}

function cursor(t: Terminal): [number, number] {
  return [t.cursorY, t.cursorX];
}

/** One cell of the current screen. */
function cell(t: Terminal, y: number, x: number) {
  const r = t.snapshot().rows[y];
  const i = x * CELL_WORDS;
  return {
    text: r.contents(x),
    fg: r.data[i + 1],
    bg: r.data[i + 2],
    attrs: r.data[i + 3] & 0xff,
    flags: r.data[i + 3] & 0xf00,
  };
}

function term(input = "", cols = 80, rows = 24): Terminal {
  const t = new Terminal(cols, rows);
  t.write(input);
  return t;
}

const dec = new TextDecoder();

Deno.test("constructor and resize reject bad dimensions with a clear error", () => {
  assert.throws(() => new Terminal(0, 24), /width must be an integer in 1\.\.65535, got 0/);
  assert.throws(() => new Terminal(80, 1.5), /height must be an integer/);
  const t = new Terminal(80, 24);
  assert.throws(() => t.resize(80, -1), RangeError);
  assert.throws(() => t.resize(NaN, 24), RangeError);
  assert.equal(t.width, 80);
  assert.equal(t.height, 24);
});

Deno.test("printing: text, pending wrap at the last column, wrap flag in the last cell", () => {
  const t = term("x".repeat(80));
  assert.deepEqual(cursor(t), [0, 79]);
  assert.equal(t.nextPrintWillWrap, true);
  assert.equal(t.snapshot().rows[0].wrap, false);
  t.write("y");
  assert.deepEqual(cursor(t), [1, 1]);
  assert.equal(t.snapshot().rows[0].wrap, true);
  assert.equal(cell(t, 0, 79).flags, FLAG_WRAP);
  assert.equal(row(t, 1), "y");
  // Overwriting the last cell resets it, wrap flag included.
  t.write("\x1b[1;80Hz");
  assert.equal(t.snapshot().rows[0].wrap, false);
});

Deno.test("printing at the bottom wraps with scrolling", () => {
  const t = term("\x1b[24;1H" + "a".repeat(80) + "b", 80, 24);
  assert.equal(row(t, 22), "a".repeat(80));
  assert.equal(row(t, 23), "b");
  assert.deepEqual(cursor(t), [23, 1]);
});

Deno.test("pending wrap: which functions keep it and which clear it (§9.4)", () => {
  const keeps = ["\x1b[m", "\x1b[31m", "\t", "\x1b[I", "\x1b[Z", "\x1b[0g", "\x1b[3g", "\x1b[?25h"];
  for (const s of keeps) {
    const t = term("\x1b[1;79Hab" + s + "c");
    assert.equal(row(t, 1).trimStart()[0], "c", `${JSON.stringify(s)} keeps the pending wrap`);
  }
  const clears = [
    "\r",
    "\b",
    "\x07",
    "\x00",
    "\x0e",
    "\x1b\\",
    "\x1bN",
    "\x1bH",
    "\x1b[C",
    "\x1b[4h",
  ];
  for (const s of clears) {
    const t = term("\x1b[1;79Hab" + s + "c");
    assert.equal(row(t, 1), "", `${JSON.stringify(s)} clears the pending wrap`);
  }
  // An ignored character (width -1, here DEL) changes nothing. (C mosh)
  const t = term("\x1b[1;79Hab\x7fc");
  assert.equal(row(t, 1), "c");
});

Deno.test("wide characters: next cell blanked, wrap at the last column without wrap flag", () => {
  const t = term("a\u4e00b");
  assert.deepEqual(cursor(t), [0, 4]);
  assert.equal(cell(t, 0, 1).text, "\u4e00");
  assert.equal(cell(t, 0, 1).flags, FLAG_WIDE);
  assert.equal(cell(t, 0, 2).text, "");
  assert.equal(row(t, 0), "a\u4e00b");

  const u = term("\x1b[44m\x1b[1;80H\u4e00x");
  assert.equal(cell(u, 0, 79).text, "");
  assert.equal(cell(u, 0, 79).bg, 44); // blanked with the background colour
  assert.equal(u.snapshot().rows[0].wrap, false);
  assert.equal(row(u, 1), "\u4e00x");

  // At column 78 it fits and sets the pending wrap.
  const v = term("\x1b[1;79H\u4e00x");
  assert.equal(row(v, 0).trim(), "\u4e00");
  assert.equal(row(v, 1), "x");
  assert.equal(v.snapshot().rows[0].wrap, true);

  // Overwriting the right half of a wide character leaves the left half as it was.
  const w = term("\u4e00\x1b[1;2Hx");
  assert.equal(cell(w, 0, 0).flags, FLAG_WIDE);
  assert.equal(cell(w, 0, 1).text, "x");
});

Deno.test("autowrap off: characters pile up in the last column", () => {
  const t = term("\x1b[?7l\x1b[1;78Habcdef\x1b[?7h");
  assert.equal(row(t, 0).slice(77), "abf");
  assert.equal(row(t, 1), "");
  assert.deepEqual(cursor(t), [0, 79]);
  // A wide character at the last column stays there (it is not wrapped).
  const u = term("\x1b[?7l\x1b[1;80H\u4e00");
  assert.equal(cell(u, 0, 79).text, "\u4e00");
  assert.deepEqual(cursor(u), [0, 79]);
  // Single code points take the same path as ASCII runs.
  const v = term("\x1b[?7l\x1b[1;79H\u00e9\u00e8\u00ea");
  assert.equal(row(v, 0).slice(78), "\u00e9\u00ea");
});

Deno.test("insert mode (SM/RM 4) inserts blank cells before printing", () => {
  const t = term("abcdef\x1b[1;2H\x1b[4hXY\x1b[4lZ");
  assert.equal(row(t, 0), "aXYZcdef");
  const u = term("abcdef\x1b[1;2H\x1b[4h\u4e00\x1b[4l");
  assert.equal(row(u, 0), "a\u4e00bcdef");
  const v = term("\x1b[1;75H" + "0123456" + "\x1b[1;75H\x1b[4hab");
  assert.equal(row(v, 0).slice(74), "ab0123");
  const w = term("\x1b[1;78H\x1b[4hxyz\x1b[4l");
  assert.equal(row(w, 0).slice(77), "xyz");
});

Deno.test("combining characters: appended, fallback on an empty cell, 32-byte cap", () => {
  const t = term("e\u0301x");
  assert.equal(cell(t, 0, 0).text, "e\u0301");
  assert.equal(cell(t, 0, 0).flags, 0);
  assert.equal(t.snapshot().rows[0].multi?.get(0), "e\u0301");
  assert.equal(row(t, 0), "e\u0301x");
  // At an empty cell the cell gets the fallback flag and the cursor advances. (C mosh)
  const u = term("\x1b[5;3H\u0301x");
  assert.equal(cell(u, 4, 2).text, "\u0301");
  assert.equal(cell(u, 4, 2).flags, FLAG_FALLBACK);
  assert.equal(row(u, 4), "  \u00a0\u0301x");
  // After an explicit move, the combining cell is the cursor's cell. (C mosh)
  const v = term("abc\x1b[1;2H\u0301");
  assert.equal(cell(v, 0, 1).text, "b\u0301");
  assert.deepEqual(cursor(v), [0, 1]);
  // After printing into the last column it joins that cell; after a wrap the next row's.
  const w = term("x".repeat(80) + "\u0301y");
  assert.equal(cell(w, 0, 79).text, "x\u0301");
  assert.equal(row(w, 1), "y");
  // Contents stop growing at 32 bytes: 'e' + 15 x 2 bytes = 31, one more fits, then no more.
  const c = term("e" + "\u0301".repeat(20));
  assert.equal(cell(c, 0, 0).text, "e" + "\u0301".repeat(16));
  // Printing over a multi-code-point cell replaces it.
  const d = term("e\u0301\r\u4e00\rab");
  assert.equal(cell(d, 0, 0).text, "a");
  assert.equal(cell(d, 0, 0).flags, 0);
});

Deno.test("combining cell is invalidated when a resize moves it off-screen", () => {
  const t = term("\x1b[1;70Hx");
  t.resize(40, 24);
  t.write("\u0301");
  assert.deepEqual(cursor(t), [0, 39]);
  assert.equal(row(t, 0), "");
});

Deno.test("BS, CR, LF, VT, FF: no implicit CR, BS stops at column 0", () => {
  const t = term("ab\b\bc\b\b\bd");
  assert.equal(row(t, 0), "db");
  assert.deepEqual(cursor(t), [0, 1]);
  const u = term("ab\ncd\x0bef\x0cgh\rX");
  assert.deepEqual(lines(u).slice(0, 4), ["ab", "  cd", "    ef", "X     gh"]);
});

Deno.test("HT, HTS, TBC: default stops every 8, last column when none are left", () => {
  const t = term("\tA\tB");
  assert.equal(row(t, 0), "        A       B");
  const u = term("\x1b[1;75H\t\tx");
  assert.equal(cell(u, 0, 79).text, "x");
  // HTS at column 4, TBC 0 at column 8.
  const v = term("\x1b[1;5H\x1bH\x1b[1;9H\x1b[g\r\ta\tb");
  assert.equal(row(v, 0), "    a           b");
  // TBC 3 clears every stop and disables the defaults, even after a resize.
  const w = term("\x1b[3g\tx");
  assert.equal(cell(w, 0, 79).text, "x");
  w.resize(100, 24);
  w.write("\r\n\ty");
  assert.equal(cell(w, 1, 99).text, "y");
  // CHT / CBT with counts; CBT never stops at column 0's tab, but goes to column 0.
  const z = term("\x1b[2Ia\x1b[1;30H\x1b[Zb\x1b[9Zc");
  assert.equal(row(z, 0), "c" + " ".repeat(15) + "a" + " ".repeat(7) + "b");
});

Deno.test("default tab stops are extended when the terminal widens", () => {
  const t = term("", 20, 5);
  t.resize(40, 5);
  t.write("\t\t\t\tx");
  assert.deepEqual(cursor(t), [0, 33]);
});

Deno.test("IND, NEL, RI (ESC and C1 forms) and scrolling at the region edges", () => {
  const t = term("ab\x1bDc\x1bEd");
  assert.deepEqual(lines(t).slice(0, 3), ["ab", "  c", "d"]);
  const u = term("ab\u0084c\u0085d");
  assert.deepEqual(lines(u).slice(0, 3), ["ab", "  c", "d"]);
  const v = term("top\x1bMnew");
  assert.deepEqual(lines(v).slice(0, 2), ["   new", "top"]);
  const w = term("\x1b[5;10r\x1b[2;1H\x1bM\x1bMx"); // above the region: stops at row 0 (C mosh)
  assert.deepEqual(cursor(w), [0, 1]);
  const x = term("\x1b[5;10r\x1b[24;1Hz\n\nx"); // below the region: no scrolling (C mosh)
  assert.equal(row(x, 23), "zx");
});

Deno.test("CUU/CUD/CUF/CUB clamp to the screen; origin mode clamps rows to the region", () => {
  const t = term("\x1b[5;10r\x1b[7;1H\x1b[20Ax");
  assert.deepEqual(cursor(t), [0, 1]); // not stopped by the region's top
  t.write("\x1b[99By\x1b[99Cz\x1b[99Dw");
  assert.equal(row(t, 23)[1], "y");
  assert.equal(cell(t, 23, 79).text, "z");
  assert.deepEqual(cursor(t), [23, 1]);
  assert.equal(row(t, 23), "wy" + " ".repeat(77) + "z");
  const o = term("\x1b[5;10r\x1b[?6h\x1b[20Ax\x1b[20By\x1b[?6l\x1b[r"); // (C mosh)
  assert.equal(row(o, 4), "x");
  assert.equal(row(o, 9), " y");
  const z = term("abc\x1b[0D\x1b[0A!");
  assert.equal(row(z, 0), "ab!");
});

Deno.test("CUP, HVP, CHA, HPA, VPA, with and without origin mode", () => {
  const t = term("\x1b[3;4Ha\x1b[5;6fb\x1b[10Gc\x1b[20`d\x1b[7de\x1b[Hf\x1b[;3Hg");
  assert.equal(row(t, 0), "f g");
  assert.equal(row(t, 2), "   a");
  assert.equal(row(t, 4), "     b   c         d");
  assert.equal(cell(t, 6, 20).text, "e");
  const o = term("\x1b[5;10r\x1b[?6h\x1b[3;4Hx\x1b[20;4Hy\x1b[2dz\x1b[?6l");
  assert.equal(row(o, 6), "   x");
  assert.equal(row(o, 9), "   y");
  assert.equal(row(o, 5), "    z");
  const big = term("\x1b[70000;5Hx"); // above 65535: default (C mosh)
  assert.equal(row(big, 0), "    x");
});

Deno.test("ED and EL: background colour erase, row generations", () => {
  const fill = "\x1b[41m" + ("X".repeat(80) + "\r\n").repeat(3) + "X".repeat(80);
  const t = term(fill + "\x1b[1;31;44m\x1b[2;5H\x1b[K");
  assert.equal(row(t, 1), "XXXX");
  const c = cell(t, 1, 10);
  assert.deepEqual(c, { text: "", fg: 0, bg: 44, attrs: 0, flags: 0 });
  t.write("\x1b[1K");
  assert.equal(row(t, 1), "");
  const gen = t.snapshot().rows[2].gen;
  t.write("\x1b[3;3H\x1b[1K");
  assert.equal(t.snapshot().rows[2].gen, gen, "erasing cells keeps the generation");
  t.write("\x1b[2K");
  assert.notEqual(t.snapshot().rows[2].gen, gen, "EL 2 resets the row");
  const u = term(fill + "\x1b[2;5H\x1b[J");
  assert.deepEqual(lines(u).slice(0, 4), ["X".repeat(80), "XXXX", "", ""]);
  const v = term(fill + "\x1b[2;5H\x1b[1J");
  assert.deepEqual(lines(v).slice(0, 4), [
    "",
    "     " + "X".repeat(75),
    "X".repeat(80),
    "X".repeat(80),
  ]);
  const w = term(fill + "\x1b[2;5H\x1b[0m\x1b[2J");
  assert.deepEqual(lines(w).slice(0, 4), ["", "", "", ""]);
  assert.equal(cell(w, 0, 0).bg, 0);
  assert.deepEqual(cursor(w), [1, 4]); // ED does not move the cursor
  const x = term("abc\x1b[3Jx"); // there is no ED 3
  assert.equal(row(x, 0), "abcx");
});

Deno.test("ECH erases up to the end of the line; erasing clears the wrap flag", () => {
  const t = term("0123456789\x1b[1;3H\x1b[4X");
  assert.equal(row(t, 0), "01    6789");
  const u = term("0123456789\x1b[1;5H\x1b[100X");
  assert.equal(row(u, 0), "0123");
  const v = term("x".repeat(81) + "\x1b[1;80H\x1b[X");
  assert.equal(v.snapshot().rows[0].wrap, false);
});

Deno.test("ICH and DCH: the tail drops off / blank cells come in from the right", () => {
  const t = term("abcdef\x1b[1;2H\x1b[2@");
  assert.equal(row(t, 0), "a  bcdef");
  assert.deepEqual(cursor(t), [0, 1]);
  const u = term("\x1b[1;75H123456\x1b[1;76H\x1b[3@");
  assert.equal(row(u, 0).slice(74), "1   23");
  const v = term("abcdef\x1b[1;2H\x1b[44m\x1b[2P");
  assert.equal(row(v, 0), "adef");
  assert.equal(cell(v, 0, 79).bg, 44);
  assert.equal(cell(v, 0, 2).bg, 0);
  const w = term("abcdef\x1b[1;2H\x1b[999P");
  assert.equal(row(w, 0), "a");
  // Combining contents move with their cells.
  const m = term("ae\u0301i\x1b[1;1H\x1b[@");
  assert.equal(row(m, 0), " ae\u0301i");
  m.write("\x1b[2P");
  assert.equal(row(m, 0), "e\u0301i");
  // DCH moves the wrap flag away from the last cell. (C mosh)
  const x = term("x".repeat(85) + "\x1b[1;1H\x1b[3P");
  assert.equal(x.snapshot().rows[0].wrap, false);
});

Deno.test("IL and DL work inside the scrolling region only, then go to column 0", () => {
  const fill = Array.from({ length: 24 }, (_, i) => `L${i}`).join("\r\n");
  const t = term(fill + "\x1b[3;6H\x1b[2L");
  assert.deepEqual(lines(t).slice(0, 6), ["L0", "L1", "", "", "L2", "L3"]);
  assert.equal(row(t, 23), "L21");
  assert.deepEqual(cursor(t), [2, 0]);
  t.write("\x1b[3;6H\x1b[3M");
  assert.deepEqual(lines(t).slice(0, 4), ["L0", "L1", "L3", "L4"]);
  assert.deepEqual(lines(t).slice(21), ["", "", ""]);
  const r = term(fill + "\x1b[5;10r\x1b[6;3H\x1b[L\x1b[r");
  assert.deepEqual(lines(r).slice(4, 11), ["L4", "", "L5", "L6", "L7", "L8", "L10"]);
  const o = term(fill + "\x1b[5;10r\x1b[12;5H\x1b[Lx\x1b[r"); // outside: only column 0 (C mosh)
  assert.equal(row(o, 11), "x11");
  const big = term(fill + "\x1b[5;10r\x1b[7;1H\x1b[65535M\x1b[r");
  assert.deepEqual(lines(big).slice(4, 11), ["L4", "L5", "", "", "", "", "L10"]);
});

Deno.test("SU and SD scroll the region; the cursor does not move", () => {
  const fill = Array.from({ length: 24 }, (_, i) => `L${i}`).join("\r\n");
  const t = term(fill + "\x1b[2;5r\x1b[20;3H\x1b[2S");
  assert.deepEqual(lines(t).slice(0, 6), ["L0", "L3", "L4", "", "", "L5"]);
  assert.deepEqual(cursor(t), [19, 2]);
  t.write("\x1b[T");
  assert.deepEqual(lines(t).slice(0, 6), ["L0", "", "L3", "L4", "", "L5"]);
});

Deno.test("DECSTBM: ignore rules, clamping, homing the cursor", () => {
  const t = term("\x1b[5;10H\x1b[3;8r");
  assert.deepEqual(t.scrollingRegion, [2, 7]);
  assert.deepEqual(cursor(t), [0, 0]);
  for (const bad of ["\x1b[8;3r", "\x1b[5;5r", "\x1b[25;30r"]) {
    const u = term("\x1b[3;8r\x1b[5;10H" + bad);
    assert.deepEqual(u.scrollingRegion, [2, 7], bad);
    assert.deepEqual(cursor(u), [4, 9], bad);
  }
  assert.deepEqual(term("\x1b[24;30r").scrollingRegion, [23, 23]); // (C mosh)
  assert.deepEqual(term("\x1b[3;8r\x1b[r").scrollingRegion, [0, 23]);
  const o = term("\x1b[?6h\x1b[5;10rx\x1b[?6l");
  assert.equal(row(o, 4), "x");
});

Deno.test("DECSC/DECRC save cursor, renditions, autowrap and origin; DECRC alone goes home", () => {
  const t = term("\x1b[31;1m\x1b[5;5H\x1b7\x1b[0m\x1b[?7l\x1b[3;3Ha\x1b8b");
  assert.equal(row(t, 4), "    b");
  assert.equal(cell(t, 4, 4).fg, 31);
  assert.equal(cell(t, 4, 4).attrs, ATTR_BOLD);
  t.write("\x1b[1;80Hxy");
  assert.equal(row(t, 1), "y"); // autowrap was saved on
  const u = term("\x1b[5;5Hx\x1b8y"); // (C mosh)
  assert.equal(row(u, 0), "y");
  const v = term("\x1b[5;5H\x1b7\x1b[!p\x1b[9;9H\x1b8y"); // DECSTR clears it (C mosh)
  assert.equal(row(v, 0), "y");
});

Deno.test("DECSTR resets modes, region and renditions but not the screen or cursor", () => {
  const t = term("abc\x1b[4h\x1b[?6h\x1b[?25l\x1b[?1h\x1b[3;10r\x1b[31;44;1m\x1b[5;5H\x1b[!p");
  assert.equal(t.applicationCursorKeys, false);
  assert.deepEqual(t.scrollingRegion, [0, 23]);
  const s = t.snapshot();
  assert.equal(s.cursorVisible, true);
  assert.deepEqual([s.fg, s.bg, s.attrs], [0, 0, 0]);
  assert.deepEqual(cursor(t), [6, 4]); // origin-relative CUP happened before DECSTR
  t.write("X");
  assert.equal(row(t, 6), "    X");
  assert.equal(row(t, 0), "abc");
});

Deno.test("DECALN fills the screen with E in the background colour; the cursor stays", () => {
  const t = term("\x1b[44;31;1m\x1b[5;5H\x1b#8");
  assert.ok(lines(t).every((l) => l === "E".repeat(80)));
  assert.deepEqual(cell(t, 3, 7), { text: "E", fg: 0, bg: 44, attrs: 0, flags: 0 });
  assert.deepEqual(cursor(t), [4, 4]);
});

Deno.test("RIS: blank screen and default state; bell count and icon name kept", () => {
  const t = term(
    "\x07\x07\x1b]1;icon\x07\x1b]2;title\x07\x1b]52;c;Zm9v\x07\x1b[31mabc\x1b[?1h\x1bc",
  );
  const s = t.snapshot();
  assert.equal(s.bellCount, 2);
  assert.equal(s.windowTitle, "");
  assert.equal(s.clipboard, "");
  assert.equal(s.iconName, "icon");
  assert.equal(s.fg, 0);
  assert.equal(t.applicationCursorKeys, false);
  assert.ok(lines(t).every((l) => l === ""));
  t.write("x");
  assert.equal(row(t, 0), "x");
});

Deno.test("DSR and DA replies; no reply gives the shared empty array", () => {
  const t = term("\x1b[5;7H");
  assert.equal(dec.decode(t.write("\x1b[6n")), "\x1b[5;7R");
  assert.equal(dec.decode(t.write("\x1b[5n")), "\x1b[0n");
  assert.equal(dec.decode(t.write("\x1b[c\x1b[0c")), "\x1b[?62c\x1b[?62c");
  assert.equal(dec.decode(t.write("\x1b[>c")), "\x1b[>1;10;0c");
  assert.equal(dec.decode(t.write("\x1b[=c\x1b[7n")), "");
  const none = t.write("x");
  assert.equal(none.length, 0);
  assert.equal(t.write("y"), none);
  // DSR 6 is absolute even in origin mode. (C mosh)
  const o = term("\x1b[5;10r\x1b[?6h\x1b[20;4Hy");
  assert.equal(dec.decode(o.write("\x1b[6n")), "\x1b[10;5R");
});

Deno.test("SGR: attributes, off codes, and mosh's colour storage", () => {
  const sgr = (s: string) => {
    const f = term(s).snapshot();
    return [f.fg, f.bg, f.attrs];
  };
  assert.deepEqual(sgr("\x1b[1;3;4;5;7;8m"), [
    0,
    0,
    ATTR_BOLD | ATTR_ITALIC | ATTR_UNDERLINE | ATTR_BLINK | ATTR_INVERSE | ATTR_INVISIBLE,
  ]);
  assert.deepEqual(sgr("\x1b[1;3;4;5;7;8m\x1b[22;23;24;25;27;28m"), [0, 0, 0]);
  assert.deepEqual(sgr("\x1b[1;2;9;21;53m"), [0, 0, ATTR_BOLD]); // unsupported ones ignored
  assert.deepEqual(sgr("\x1b[31;42m"), [31, 42, 0]);
  assert.deepEqual(sgr("\x1b[97;107m"), [45, 55, 0]);
  assert.deepEqual(sgr("\x1b[31;42m\x1b[39m"), [0, 42, 0]);
  assert.deepEqual(sgr("\x1b[31;42m\x1b[49m"), [31, 0, 0]);
  assert.deepEqual(sgr("\x1b[31;42;1m\x1b[m"), [0, 0, 0]);
  assert.deepEqual(sgr("\x1b[31;42;1m\x1b[0m"), [0, 0, 0]);
  assert.deepEqual(sgr("\x1b[38;5;0;48;5;255m"), [30, 295, 0]);
  assert.deepEqual(sgr("\x1b[38;5;9m"), [39, 0, 0]);
  assert.deepEqual(sgr("\x1b[31m\x1b[38;5;300m"), [31, 0, 0]); // out of range: ignored (C mosh)
  assert.deepEqual(sgr("\x1b[38;2;1;2;3;48;2;255;254;253m"), [
    TRUE_COLOR | 0x010203,
    TRUE_COLOR | 0xfffefd,
    0,
  ]);
  // Components are not masked: 300 << 16 spills into the flag bit, then 25 bits are kept.
  assert.deepEqual(sgr("\x1b[38;2;300;2;3m"), [
    (TRUE_COLOR | (300 << 16) | 0x0203) & 0x1ffffff,
    0,
    0,
  ]);
  // Too few parameters: 38 is ignored and the rest are plain renditions (5 = blink). (C mosh)
  assert.deepEqual(sgr("\x1b[38;5m"), [0, 0, ATTR_BLINK]);
  assert.deepEqual(sgr("\x1b[48;2;1;2m"), [0, 0, ATTR_BOLD]); // 48 and 2 (faint) ignored
  assert.deepEqual(sgr("\x1b[4:3m"), [0, 0, 0]); // colon form ignored
  // Renditions are applied to printed cells.
  const t = term("\x1b[1;31;44mX");
  assert.deepEqual(cell(t, 0, 0), { text: "X", fg: 31, bg: 44, attrs: ATTR_BOLD, flags: 0 });
});

Deno.test("DEC private modes 1, 5, 7, 25, 1004, 1007, 2004 and several per sequence", () => {
  const t = term("\x1b[?1;5;25l\x1b[?1;5h\x1b[?1004;1007;2004h");
  const s = t.snapshot();
  assert.equal(t.applicationCursorKeys, true);
  assert.equal(s.applicationCursorKeys, true);
  assert.equal(s.reverseVideo, true);
  assert.equal(s.cursorVisible, false);
  assert.equal(s.mouseFocus, true);
  assert.equal(s.mouseAlternateScroll, true);
  assert.equal(s.bracketedPaste, true);
  t.write("\x1b[?1;5;1004;1007;2004l\x1b[?25h");
  const u = t.snapshot();
  assert.deepEqual(
    [t.applicationCursorKeys, u.reverseVideo, u.cursorVisible, u.mouseFocus],
    [false, false, true, false],
  );
  assert.deepEqual([u.mouseAlternateScroll, u.bracketedPaste], [false, false]);
  // Unknown modes and SM/RM of anything but 4 are ignored.
  t.write("\x1b[?12h\x1b[?2026h\x1b[20h\x1b[?4h");
  assert.ok(t.snapshot().equals(u));
});

Deno.test("mouse reporting and encoding hold a single value", () => {
  const f = (s: string) => {
    const x = term(s).snapshot();
    return [x.mouseReporting, x.mouseEncoding];
  };
  assert.deepEqual(f("\x1b[?1000h"), [1000, 0]);
  assert.deepEqual(f("\x1b[?9;1003h"), [1003, 0]);
  assert.deepEqual(f("\x1b[?1002h\x1b[?1000l"), [0, 0]); // resetting any of them means none
  assert.deepEqual(f("\x1b[?1006h\x1b[?1015h"), [0, 1015]);
  assert.deepEqual(f("\x1b[?1005h\x1b[?1006l"), [0, 0]);
  assert.deepEqual(f("\x1b[?1001;1005h"), [1001, 1005]);
});

Deno.test("DECSET 3 clears the screen and homes; DECSET 6 homes under the old mode", () => {
  const t = term("abc\x1b[5;5H\x1b[?3hx");
  assert.deepEqual(lines(t).slice(0, 5), ["x", "", "", "", ""]);
  const u = term("\x1b[5;10r\x1b[?6hx\x1b[2Ay"); // (C mosh)
  assert.equal(row(u, 0), "x");
  assert.equal(row(u, 4), " y");
});

Deno.test("OSC titles: 0, 1, 2, bare ';', 256-code-point cap with prefix, initialized flag", () => {
  const s = (x: string) => term(x).snapshot();
  assert.equal(s("").titleInitialized, false);
  let f = s("\x1b]0;both\x07");
  assert.deepEqual([f.iconName, f.windowTitle, f.titleInitialized], ["both", "both", true]);
  f = s("\x1b]1;icon\x07\x1b]2;win\x1b\\");
  assert.deepEqual([f.iconName, f.windowTitle], ["icon", "win"]);
  f = s("\x1b];bare\u009c");
  assert.deepEqual([f.iconName, f.windowTitle], ["bare", "bare"]);
  f = s("\x1b]2;" + "t".repeat(300) + "\x07");
  assert.equal(f.windowTitle, "t".repeat(254));
  f = s("\x1b]2;\u00e9\u4e00\u{1f600}\x07");
  assert.equal(f.windowTitle, "\u00e9\u4e00\u{1f600}");
  f = s("\x1b]10;x\x07\x1b]3;y\x07\x1b]0\x07\x1b]104\x07");
  assert.deepEqual([f.iconName, f.windowTitle, f.titleInitialized], ["", "", false]);
  f = s("\x1b]2;\x07");
  assert.deepEqual([f.windowTitle, f.titleInitialized], ["", true]);
});

Deno.test("OSC 52: every selection form stored as the clipboard (sent as c), queries dropped", () => {
  const t = term("\x1b]52;c;aGVsbG8=\x07");
  assert.equal(t.snapshot().clipboard, "aGVsbG8=");
  for (const sel of ["p", "q", "s", "0", "7", "", "pc", "s0"]) {
    t.write(`\x1b]52;${sel};${btoa(sel + "!")}\x07`);
    assert.equal(t.snapshot().clipboard, btoa(sel + "!"), `selection "${sel}"`);
  }
  // A query is never stored, so never forwarded; bad selections and a missing `;` are ignored.
  t.write("\x1b]52;c;?\x07\x1b]52;;?\x07\x1b]52;x;Yg==\x07\x1b]52;c\x07\x1b]52;8;Yg==\x07");
  assert.equal(t.snapshot().clipboard, btoa("s0!"));
  t.write("\x1b]52;c;\x07");
  assert.equal(t.snapshot().clipboard, "");
  // What C's client keeps of `52;c;<data>`: its OSC limit less `52;c;`, whatever the form.
  const big = "A".repeat(20000);
  t.write(`\x1b]52;c;${big}\x07`);
  assert.equal(t.snapshot().clipboard, big.slice(0, 16384 - 5));
  t.write("\x1b]52;c;\x07");
  t.write(`\x1b]52;;${big}\x07`);
  assert.equal(t.snapshot().clipboard.length, CLIPBOARD_MAX);
  assert.equal(CLIPBOARD_MAX, 16384 - 5);
});

Deno.test("BEL counts; C0 controls without a function do nothing", () => {
  const t = term("a\x07\x07b\x00\x01\x0e\x0f\x1fc");
  assert.equal(t.bellCount, 2);
  assert.equal(t.snapshot().bellCount, 2);
  assert.equal(row(t, 0), "abc");
});

Deno.test("unsupported sequences are ignored: charsets, DCS, SOS/PM/APC, keypad modes", () => {
  const t = term("\x1b(0qq\x1b)B\x1b=\x1b>\x1bN\x1bO\x1b#3x\x1bP1;2|abc\x1b\\y\x1b_apc\x1b\\z");
  assert.equal(row(t, 0), "qqxyz");
});

Deno.test("invalid UTF-8 prints U+FFFD; raw C1 bytes are not controls", () => {
  const t = new Terminal(80, 24);
  t.write(Uint8Array.of(0xe0, 0x80, 0x80, 0x7c, 0xed, 0xa0, 0x80, 0x7c, 0xf4, 0x90, 0x80, 0x80));
  t.write(Uint8Array.of(0x85, 0x41, 0xc2, 0x85, 0x42));
  assert.deepEqual(lines(t).slice(0, 2), ["\ufffd\ufffd|\ufffd\ufffd|\ufffd\ufffdA", "B"]);
  // A sequence split across writes still decodes.
  const u = new Terminal(80, 24);
  u.write(Uint8Array.of(0xe4, 0xb8));
  u.write(Uint8Array.of(0x80, 0x21));
  assert.equal(row(u, 0), "\u4e00!");
});

Deno.test("relative moves after writing the last column (C mosh's display slip) are accepted", () => {
  // C's display tracks the column as 80 after writing column 79 and moves left from there.
  const t = term("x".repeat(79) + "y\b\bZ");
  assert.equal(row(t, 0), "x".repeat(77) + "Zxy");
  const u = term("x".repeat(80) + "\x1b[3D!");
  assert.equal(row(u, 0).slice(75), "x!xxx");
  const v = term("x".repeat(80) + "\x1b[5C!");
  assert.equal(row(v, 0).slice(78), "x!");
  assert.equal(row(v, 1), "");
});

Deno.test("resize: rows kept from the top, wrap flags cleared, region reset, cursor clamped", () => {
  const t = term("\x1b[42m" + "a".repeat(85) + "\r\nline3\x1b[5;20r\x1b[24;70H");
  assert.equal(t.snapshot().rows[0].wrap, true);
  const gen0 = t.snapshot().rows[0].gen;
  t.resize(100, 10);
  const s = t.snapshot();
  assert.equal(s.width, 100);
  assert.equal(s.height, 10);
  assert.equal(s.rows[0].wrap, false);
  assert.equal(s.rows[0].gen, gen0, "resized rows keep their generation");
  assert.equal(cell(t, 0, 79).flags & FLAG_WRAP, 0);
  assert.equal(cell(t, 0, 90).bg, 42); // padding with the current background colour
  assert.equal(row(t, 1), "aaaaa");
  assert.deepEqual(t.scrollingRegion, [0, 9]);
  assert.deepEqual(cursor(t), [9, 69]);
  t.resize(40, 30);
  assert.equal(row(t, 0), "a".repeat(40));
  assert.equal(row(t, 29), "");
  assert.deepEqual(cursor(t), [9, 39]);
  // Same size: nothing changes (the region is kept).
  const u = term("\x1b[3;8r");
  u.resize(80, 24);
  assert.deepEqual(u.scrollingRegion, [2, 7]);
});

Deno.test("resize keeps the pending wrap flag and a shrinking height drops bottom rows", () => {
  const t = term("\x1b[1;79Hab");
  t.resize(60, 24);
  assert.equal(t.nextPrintWillWrap, true);
  t.write("c");
  assert.equal(row(t, 1), "c");
  const u = term("top\x1b[24;1Hbottom");
  u.resize(80, 12);
  assert.equal(row(u, 0), "top");
  assert.ok(!u.screenText().includes("bottom"));
  assert.deepEqual(cursor(u), [11, 6]);
});

Deno.test("alternate screen 1049 saves the main screen and the cursor; 47/1047 switch", () => {
  const t = term("shell$ ls\r\nfile\r\nshell$ \x1b[?1049h");
  assert.equal(t.alternateScreen, true);
  assert.ok(lines(t).every((l) => l === ""));
  t.write("\x1b[5;5Hvim screen\x1b[24;1H~");
  t.write("\x1b[?1049l");
  assert.equal(t.alternateScreen, false);
  assert.deepEqual(lines(t).slice(0, 4), ["shell$ ls", "file", "shell$", ""]);
  assert.deepEqual(cursor(t), [2, 7]);
  const u = term("main\x1b[?47hALT\x1b[?47l");
  assert.equal(row(u, 0), "main");
  assert.deepEqual(cursor(u), [0, 7]); // 47 does not restore the cursor
  const v = term("main\x1b[?1047halt");
  v.resize(40, 10); // both screens are resized
  v.write("\x1b[?1047l");
  assert.equal(v.width, 40);
  assert.equal(row(v, 0), "main");
  assert.equal(v.snapshot().rows.length, 10);
  // Leaving when not in the alternate screen does nothing.
  const w = term("abc\x1b[?1049l\x1b[?47l");
  assert.equal(row(w, 0), "abc");
});

Deno.test("snapshot: cached until the next change, immutable, rows copy-on-write", () => {
  const t = term("hello");
  const a = t.snapshot();
  assert.equal(t.snapshot(), a);
  const gen = a.rows[0].gen;
  t.write("\r\nworld");
  const b = t.snapshot();
  assert.notEqual(b, a);
  assert.equal(a.screenText().split("\n")[1].trim(), "");
  assert.equal(b.screenText().split("\n")[1].trim(), "world");
  assert.equal(b.rows[0], a.rows[0], "an untouched row is shared");
  assert.notEqual(b.rows[1], a.rows[1]);
  assert.ok(!a.equals(b));
  t.write("\x1b[1;1HJ");
  const c = t.snapshot();
  assert.equal(a.rows[0].contents(0), "h");
  assert.equal(c.rows[0].contents(0), "J");
  assert.equal(c.rows[0].gen, gen, "a cloned row keeps its generation");
  // Scrolling: rows move, the new bottom row has a fresh generation.
  const d = term("1\r\n2\r\n3", 10, 3);
  const before = d.snapshot();
  d.write("\r\n4");
  const after = d.snapshot();
  assert.equal(after.rows[0], before.rows[1]);
  assert.ok(after.rows[2].gen > before.rows[2].gen);
  assert.equal(before.screenText(), "1         \n2         \n3         \ncursor 2 1\n");
  // Equal cells built twice still differ in generation, so the frames are not equal.
  assert.equal(term("x").snapshot().equals(term("x").snapshot()), false);
  assert.ok(a.equals(a));
});

Deno.test("scrolling reuses row storage unless a snapshot holds the row", () => {
  const t = term("a\r\nb\r\nc", 10, 3);
  const live = (t as unknown as { rows: { data: Uint32Array }[] }).rows;
  const data = live[0].data;
  t.write("\r\nd");
  assert.equal(live[2].data, data, "the row that scrolled off is reused");
  assert.equal(row(t, 2), "d");
  const oldTop = t.snapshot().rows[0];
  t.write("\r\ne");
  assert.notEqual(t.snapshot().rows[2], oldTop, "a shared row is never reused");
  assert.equal(oldTop.contents(0), "b");
  assert.equal(row(t, 2), "e");
});

Deno.test("clone: independent copy including a half-parsed sequence", () => {
  const t = term("abc\x1b[3");
  const c = t.clone();
  t.write("1mX");
  c.write("2mY");
  assert.equal(row(t, 0), "abcX");
  assert.equal(row(c, 0), "abcY");
  assert.equal(cell(t, 0, 3).fg, 31);
  assert.equal(cell(c, 0, 3).fg, 32);
  // Half a UTF-8 sequence, modes and the alternate screen are copied too.
  const u = new Terminal(20, 5);
  u.write("\x1b[?1hmain\x1b[?1049h");
  u.write(Uint8Array.of(0xe4, 0xb8));
  const v = u.clone();
  v.write(Uint8Array.of(0x80));
  assert.equal(v.applicationCursorKeys, true);
  assert.equal(row(v, 0), "    \u4e00"); // 1049 keeps the cursor where it was
  v.write("\x1b[?1049l");
  assert.equal(row(v, 0), "main");
  assert.equal(row(u, 0), "");
});

Deno.test("clone: every field copied, in a fresh terminal's order (one object shape)", () => {
  const t = new Terminal(30, 6);
  t.write("\x1b]2;title\x07\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?5h\x1b[2;5r\x1b[4h\x1b[1;31m");
  t.write("\x1b[3;4H\x1b7\x07\x1b[3g\x1b[?25l\x1b[5 qtext\x1b[");
  t.scrollback = { pushRow() {} };
  t.eventSink = () => {};
  const c = t.clone();
  const original = t as unknown as Record<string, unknown>;
  const copy = c as unknown as Record<string, unknown>;
  assert.deepEqual(Object.keys(copy), Object.keys(new Terminal(2, 2)), "field order");
  assert.deepEqual(Object.keys(copy), Object.keys(original));
  const own = new Set(["rows", "mainRows", "tabs", "pen", "parser", "scrollback", "sink"]);
  for (const k of Object.keys(original)) {
    if (!own.has(k)) assert.equal(copy[k], original[k], `field ${k}`);
  }
  assert.equal(c.scrollback, null);
  assert.notEqual(copy.tabs, original.tabs);
  assert.deepEqual(copy.tabs, original.tabs);
  assert.notEqual(copy.pen, original.pen);
  assert.deepEqual(copy.pen, original.pen);
  assert.ok(t.sameScreen(c.snapshot()));
});

Deno.test("translateUserInput: ESC O A-D becomes ESC [ A-D unless DECCKM is on (§9.6)", () => {
  const enc = new TextEncoder();
  const t = new Terminal(80, 24);
  const tr = (s: string) => dec.decode(t.translateUserInput(enc.encode(s)));
  assert.equal(tr("\x1bOA\x1bOB\x1bOC\x1bOD"), "\x1b[A\x1b[B\x1b[C\x1b[D");
  assert.equal(tr("\x1bOP\x1bOx"), "\x1bOP\x1bOx");
  assert.equal(tr("abc\x1b[A"), "abc\x1b[A");
  // Split across calls: the O is held back until the next byte.
  assert.equal(tr("\x1b"), "\x1b");
  assert.equal(tr("O"), "");
  assert.equal(tr("A"), "[A");
  // ESC ESC returns to ground, so a following O A is not translated.
  assert.equal(tr("\x1b\x1bOA"), "\x1b\x1bOA");
  t.write("\x1b[?1h");
  assert.equal(tr("\x1bOA"), "\x1bOA");
  t.write("\x1b[?1l");
  assert.equal(tr("\x1bOD"), "\x1b[D");
});

Deno.test("screenText format: empty cells as spaces, fallback with U+00A0, cursor line", () => {
  const t = term("a\u4e00\x1b[2;1H\u0301", 6, 2);
  assert.equal(t.screenText(), "a\u4e00   \n\u00a0\u0301     \ncursor 1 1\n");
});

Deno.test("sameScreen: snapshot().equals without taking the snapshot", () => {
  const t = new Terminal(20, 5);
  let other = t.clone();
  const steps = [
    "",
    "abc",
    "\x1b[31mred\x1b[0m",
    "\r\n\r\n\r\n\r\n\r\nscrolled",
    "\x1b[?25l",
    "\x1b[?25h",
    "\x1b]0;title\x07",
    "\x07",
    "\x1b[?1000h",
    "\x1b[?2004h",
    "\x1b[2;3H",
    "\x1b[7m",
    "x\u0301\u4e00",
  ];
  for (const [i, s] of steps.entries()) {
    t.write(s); // drops the cached snapshot when anything changed
    const fb = other.snapshot();
    const same = t.sameScreen(fb);
    assert.equal(same, t.snapshot().equals(fb), `step ${i} (${JSON.stringify(s)})`);
    assert.equal(t.sameScreen(fb), same, `step ${i}, with the snapshot cached`);
    if (i % 3 === 2) other = t.clone();
  }
  assert.ok(t.sameScreen(t.clone().snapshot()));
});

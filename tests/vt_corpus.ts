/**
 * A corpus of escape-sequence scripts for the emulator's differential tests (docs/PROTOCOL.md
 * §9.1-9.4): each script is what a program writes to its terminal, with bare LF line ends that
 * the pty turns into CRLF (onlcr). tests/terminal_tmux_test.ts renders each one with tmux and
 * with our Terminal; tests/terminal_cmosh_test.ts with Debian's mosh-server and our Terminal.
 *
 * Where tmux is known to differ from C mosh (the spec wins), the script says why in `tmux`
 * (text and cursor comparison skipped), `tmuxCursor` (cursor only) or `tmuxColors` (colours
 * only); `cmosh` says why a script cannot be compared against mosh-server.
 */

/** One script of the corpus. */
export interface VtScript {
  /** Short unique name. */
  name: string;
  /** What the program writes (LF line ends, as in a file). */
  bytes: Uint8Array;
  /** Why tmux's rendering differs from C mosh's; when set, tmux is not compared. */
  tmux?: string;
  /** Why tmux's cursor position differs from C mosh's; when set, only text is compared. */
  tmuxCursor?: string;
  /** Why tmux's colours/attributes differ; when set, colours are not compared. */
  tmuxColors?: string;
  /** Why the script cannot be compared against mosh-server; when set, it is not. */
  cmosh?: string;
  /**
   * Window size [cols, rows] the mosh-server test resizes to after the script (§9.5 resize).
   * tmux reflows text on resize, unlike mosh, so the tmux test compares the screen before it.
   */
  resize?: readonly [number, number];
}

import { generateStream } from "./workload.ts";

const E = "\x1b";
const C = "\x1b[";
const enc = new TextEncoder();

/** Concatenates strings (UTF-8 encoded) and raw byte arrays. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : Uint8Array.from(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** `n` lines "<prefix>1" .. "<prefix>n" filling the screen (LF-separated, no final LF). */
function lines(n: number, prefix = "line "): string {
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push(`${prefix}${i} ${"abcdefghij".repeat(3)}`);
  return out.join("\n");
}

/** A full 24-row screen of distinct 80-column rows. */
function fullScreen(): string {
  const out: string[] = [];
  for (let i = 0; i < 24; i++) {
    const ch = String.fromCharCode(0x41 + i);
    out.push((ch + String(i).padStart(2, "0")).repeat(27).slice(0, 80));
  }
  return C + "H" + out.join("");
}

const digits = "0123456789".repeat(8);

const scripts: [string, string | Uint8Array, Partial<VtScript>?][] = [
  ["text-lf", "hello world\nsecond line\n\nfourth after a blank\nno newline at the end"],
  ["wrap-long-line", "x".repeat(100) + "\n" + "y".repeat(170) + "\nend"],
  [
    "pending-wrap-80-cols",
    digits,
    { tmuxCursor: "tmux reports cursor_x 80 on a pending wrap; mosh stays in column 79" },
  ],
  ["pending-wrap-then-char", digits + "Z"],
  ["pending-wrap-then-crlf", digits + "\nnext"],
  ["pending-wrap-then-cr", digits + "\rCR"],
  ["scroll-screen", lines(40, "n")],
  [
    "cup-hvp",
    C + "5;10HA" + C + "10;70fB" + C + "HC" + C + "0;0HD" + C + "99;999HE" + C + ";5HF" +
    C + "3HG" + C + "7;H" + "H" + C + "8;20f",
  ],
  [
    "cursor-relative",
    C + "12;40H" + C + "5Aa" + C + "Bb" + C + "0Cc" + C + "100Dd" + C + "100Be" + C + "200Cf" +
    C + "100Ag" + C + "3;3H" + C + "2B" + C + "4C" + C + "1A" + C + "Dh",
  ],
  [
    "cha-hpa-vpa",
    C + "5;5H" + C + "20Ga" + C + "0Gb" + C + "200Gc" + C + "40`d" + C + "10de" + C + "0df" +
    C + "99dg" + C + "Gh",
  ],
  [
    "backspace",
    "abc\b\bX\n\bY at col 0\n" + digits + "\bW\n" + "tab\t\b\bZ",
    {
      tmux: "tmux's BS after a pending wrap moves from its column-80 cursor to 79; mosh goes " +
        "from 79 to 78",
    },
  ],
  [
    "ind-nel-ri",
    lines(10) + C + "3;5H" + E + "DA" + E + "EB" + E + "MC" + C + "H" + E + "MD" + E + "M" +
    C + "24;1Hbottom" + E + "Dafter-ind" + E + "Eafter-nel",
  ],
  [
    "scroll-region-lf",
    fullScreen() + C + "5;10r" + C + "10;1H\nnew1\nnew2\nnew3" + C + "r" + C + "20;1H",
  ],
  [
    "scroll-region-ri",
    fullScreen() + C + "5;10r" + C + "5;1H" + E + "Mri1" + E + "Mri2" + C + "r",
  ],
  [
    "scroll-region-outside",
    fullScreen() + C + "5;10r" + C + "24;1H\n\nbelow" + C + "2;1H" + E + "M" + E + "Mabove" +
    C + "1;1H" + E + "Mtop",
  ],
  [
    "scroll-region-invalid",
    fullScreen() + C + "10;5r" + C + "24;1H\nA" + C + "5;5r" + C + "24;1H\nB" + C + "0;0r" +
    C + "24;1H\nC" + C + "3;30r" + C + "24;1H\nD",
  ],
  [
    "su-sd",
    fullScreen() + C + "3S" + C + "2T" + C + "10;5H" + C + "5;15r" + C + "2S" + C + "T" +
    C + "r" + C + "12;7Hx",
  ],
  ["il-dl", fullScreen() + C + "5;1H" + C + "2L" + "ins" + C + "10;1H" + C + "3M" + "del"],
  [
    "il-dl-column",
    fullScreen() + C + "5;10H" + C + "2L" + "ins" + C + "10;5H" + C + "3M" + "del" +
    C + "24;1H" + C + "L" + "last",
    { tmux: "IL/DL move the cursor to column 0 in C mosh; tmux keeps the column" },
  ],
  [
    "il-dl-region",
    fullScreen() + C + "5;15r" + C + "7;1H" + C + "3L" + C + "14;1H" + C + "2M" + C + "r",
  ],
  [
    "il-dl-outside-region",
    fullScreen() + C + "5;15r" + C + "20;1H" + C + "2L" + C + "2;1H" + C + "M" + C + "r",
    { tmux: "IL/DL outside the scrolling region do nothing in C mosh; tmux edits the screen" },
  ],
  [
    "ich-dch-ech",
    digits + C + "1;10H" + C + "5@" + C + "1;30H" + C + "3P" + C + "1;50H" + C + "4X" +
    "\n" + digits + C + "2;75H" + C + "20X" + "\n" + digits + C + "3;40H" + C + "10@" +
    "\n" + digits + C + "4;5H" + C + "99P" + "\n" + digits + C + "5;1H" + C + "0@" + C + "0P" +
    C + "0X",
  ],
  [
    "ich-near-end",
    digits + C + "1;70H" + C + "10@" + "\n" + digits + C + "2;70H" + C + "99@",
    { tmux: "tmux 3.3 inserts a single cell when ICH reaches the end of a full line" },
  ],
  ["ed-0", fullScreen() + C + "12;40H" + C + "J"],
  ["ed-1", fullScreen() + C + "12;40H" + C + "1J"],
  ["ed-2", fullScreen() + C + "12;40H" + C + "2Jafter"],
  ["ed-3", fullScreen() + C + "12;40H" + C + "3Jx"], // C mosh ignores ED 3; tmux clears history
  [
    "el",
    lines(3) + C + "1;10H" + C + "K" + C + "2;10H" + C + "1K" + C + "3;10H" + C + "2K",
  ],
  [
    "bce",
    C + "44m" + digits + C + "1;20H" + C + "5X" + C + "1;40H" + C + "K" + "\n" + digits +
    C + "2;10H" + C + "3@" + C + "2;60H" + C + "3P" + C + "0m" + "\n" + C + "41m" +
    C + "5;1H" + C + "2L" + C + "0mxyz" + C + "43m" + C + "10;30H" + C + "J" + C + "0m",
  ],
  [
    "bce-wrap-scroll",
    C + "24;75H" + C + "48;5;174m" + "wrapped-at-bottom" + C + "0m" + C + "24;80HR" + C + "H",
    {
      tmuxColors: "the line a wrap scrolls in gets the current background in C mosh (BCE); " +
        "tmux clears it to the default background",
    },
  ],
  [
    "bce-scroll",
    C + "24;1H" + C + "44m" + "\n" + C + "0m" + C + "24;80HL" + C + "45m" + C + "2S" + C + "0m" +
    C + "23;80HS" + C + "1;1H" + C + "46m" + C + "T" + C + "0m" + C + "1;80HT" + C + "43m" +
    E + "M" + C + "0m" + C + "1;80HR",
  ],
  ["tabs-default", "a\tb\tc\n\tx\n" + "y".repeat(75) + "\tz\t\tw\n\t\t\t\t\t\t\t\t\t\t\t!"],
  [
    "tabs-set-clear",
    C + "3g" + "\tA\n" + C + "1;5H" + E + "H" + C + "1;12H" + E + "H" + C + "2;1H\tB\tC\tD\n" +
    C + "3;5H" + C + "g" + C + "3;1H\tE\tF",
  ],
  [
    "tabs-cht-cbt",
    C + "1;1H" + C + "2Ia" + C + "Ib" + C + "Zc" + C + "3Zd" + C + "99Ie",
    { tmux: "tmux 3.3 does not implement CHT (CSI I)" },
  ],
  ["tabs-cbt", C + "1;40H" + C + "Za" + C + "2Zb" + C + "99Zc"],
  ["tab-pending-wrap", digits + "\tX"],
  [
    "save-restore",
    C + "5;10H" + C + "31;1m" + E + "7" + C + "20;50H" + C + "0mplain" + E + "8" + "restored" +
    C + "0m" + C + "10;10H" + E + "8" + "again" + C + "0m",
  ],
  [
    "sgr-attrs",
    [1, 3, 4, 5, 7, 8].map((a) => C + a + "mA" + C + "0mB").join("") +
    C + "1;3;4;5;7mXY" + C + "22mb" + C + "23mi" + C + "24mu" + C + "25mk" + C + "27mr" +
    C + "8mh" + C + "28mH" + C + "0m",
  ],
  [
    "sgr-colors-16",
    [30, 31, 32, 33, 34, 35, 36, 37].map((c) => C + c + "m" + c).join("") + C + "39m.\n" +
    [40, 41, 42, 43, 44, 45, 46, 47].map((c) => C + c + "m" + c).join("") + C + "49m.\n" +
    [90, 91, 92, 93, 94, 95, 96, 97].map((c) => C + c + "m" + c).join("") + C + "39m.\n" +
    [100, 101, 102, 103, 104, 105, 106, 107].map((c) => C + c + "m" + c).join("") +
    C + "0m.\n" + C + "31;42mboth" + C + "39mbg-only" + C + "0m",
  ],
  [
    "sgr-256",
    [0, 1, 7, 8, 15, 16, 100, 196, 231, 232, 255].map((n) => C + "38;5;" + n + "mf" + n).join("") +
    C + "0m\n" +
    [0, 9, 16, 123, 244, 255].map((n) => C + "48;5;" + n + "mb" + n).join("") + C + "0m",
  ],
  [
    "sgr-truecolor",
    C + "38;2;255;128;0mfg" + C + "48;2;0;64;255mbg" + C + "38;2;0;0;0mblack" + C + "0m\n" +
    C + "1;38;2;10;20;30;48;5;200mmixed" + C + "0m",
  ],
  [
    "sgr-unsupported",
    C + "2mfaint" + C + "0m " + C + "9mstrike" + C + "0m " + C + "53mover" + C + "0m " +
    C + "21mdbl" + C + "0m",
    { tmuxColors: "C mosh ignores SGR 2, 9, 21 and 53; tmux renders them" },
  ],
  [
    "wide-chars",
    "中文字符 mixed 漢字\n" + C + "2;79H" + "宽" + C + "3;78H" + "宽" + C + "4;80H" + "字" +
    "\n" + "ａｂｃ😀x" + C + "6;1H" + "x".repeat(79) + "漢after",
  ],
  [
    "wide-overwrite",
    "漢字漢字" + C + "1;2H" + "a" + C + "1;5H" + "b" + "\n" + "abcdef" + C + "2;2H" + "字" +
    C + "3;1H" + "漢字" + C + "3;2H" + C + "@",
    {
      tmux: "after overwriting the right half of a wide character C mosh still shows the wide " +
        "character (the new cell hides behind it); tmux shows both",
    },
  ],
  [
    "combining",
    "e\u0301 a\u0308\u0323 n\u0303\n" + "漢\u0301x\n" + "\u0301start\n" + "ab" + C + "4;1H" +
    "\u0302moved\n" + "z".repeat(80) + "\u0301",
    {
      tmux: "a combining mark with no base: C mosh draws it in a fresh cell (fallback, U+00A0)" +
        " and advances; tmux drops it or joins it to the cell before the cursor",
    },
  ],
  ["combining-simple", "e\u0301 a\u0308\u0323 n\u0303 cafe\u0301\n" + "漢\u0301x"],
  [
    "autowrap-off",
    C + "?7l" + "a".repeat(85) + "END\n" + C + "3;79H" + "漢" + "\n" + C + "?7h" + "b".repeat(85),
  ],
  [
    "autowrap-off-wide-last-col",
    C + "?7l" + C + "2;80H" + "字" + "x" + "\n" + C + "?7h" + "b".repeat(85),
    { tmux: "with autowrap off tmux drops a wide character in the last column; C mosh keeps it" },
  ],
  [
    "insert-mode",
    "0123456789\n" + digits + C + "1;3H" + C + "4hINS" + C + "2;75H" + "XYZ" + C + "4l" +
    C + "3;1Hover" + C + "1;1H" + C + "4h" + "漢" + C + "4l",
  ],
  [
    "origin-mode",
    fullScreen() + C + "5;15r" + C + "?6h" + C + "Ha" + C + "3;10Hb" + C + "99;1Hc" +
    C + "20Ad" + C + "20Be" + C + "?6l" + C + "Hf" + C + "r",
  ],
  [
    "cursor-margins",
    fullScreen() + C + "5;15r" + C + "10;1H" + C + "20A" + "up" + C + "10;1H" + C + "20B" + "dn" +
    C + "r",
    { tmux: "CUU/CUD stop at the scrolling margins in tmux (as in xterm); not in C mosh" },
  ],
  ["decaln", E + "#8" + C + "5;5Hhello" + C + "10;1H" + C + "K"],
  ["ris", "before reset" + C + "31m" + E + "cafter reset"],
  // C mosh 1.4.0 ignores the alternate screen; our Terminal keeps one (as tmux does), so these
  // compare with tmux only.
  [
    "alternate-screen-1049",
    "main\nscreen" + C + "5;5H" + C + "?1049h" + "alternate" + C + "10;10Hx" + C + "?1049l" +
    "back",
    { cmosh: "C mosh 1.4.0 has no alternate screen; ours keeps one, beyond mosh" },
  ],
  [
    "alternate-screen-47-1047",
    "main" + C + "?47h" + "alt47" + C + "?47l" + "\nnext" + C + "?1047h" + "alt1047" + C +
    "?1047l" + "\nend",
    { cmosh: "C mosh 1.4.0 has no alternate screen; ours keeps one, beyond mosh" },
  ],
  // C mosh has no charset designation (no DEC line drawing); nor has tmux 3.3 in UTF-8 mode.
  ["line-drawing", E + "(0lqqk\nx  x\nmqqj" + E + "(B"],
  [
    "utf8-invalid",
    bytes(
      "a",
      [0xff],
      "b",
      [0xc0, 0xaf],
      "c",
      [0xed, 0xa0, 0x80],
      "d",
      [0xf4, 0x90, 0x80, 0x80],
      "e",
      [0xe4, 0xb8],
      "f",
      [0x80, 0x9b],
      "g",
      [0xf0, 0x9f, 0x98],
      "h\n",
      [0xe2, 0x82, 0xac],
      "ok",
    ),
    { tmux: "tmux replaces invalid UTF-8 differently (one _ per sequence, not U+FFFD per §9.1)" },
  ],
  [
    "c1-controls",
    lines(5) + C + "3;10H" + "\u0084ind\u0085nel\u008dri\u009b5;5Hcsi\u0088" + C + "6;1H\tt",
    { tmux: "tmux does not execute C1 controls sent as UTF-8 code points" },
  ],
  [
    "unsupported-csi",
    "0123456789" + C + "1;5H" + C + "2E" + "cnl" + C + "F" + "cpl" + C + "3;3Hz" + C + "5b" +
    C + "s" + C + "10;10Hsaved" + C + "u" + "restored",
    { tmux: "C mosh does not implement CNL, CPL, REP or SCOSC/SCORC; tmux does" },
  ],
  [
    "strings-ignored",
    "a" + E + "]0;title\x07" + "b" + E + "]2;other" + E + "\\" + "c" + E + "Pq#0;1;2" + E + "\\" +
    "d" + E + "_apc" + E + "\\" + "e" + E + "^pm" + E + "\\" + "f" + E + "]52;c;aGk=\x07" + "g",
  ],
  [
    "params",
    C + "5;5;5;5;5;5;5;5;5;5;5;5;5;5;5;5;5;5;5;5H" + "p" + C + "99999;3H" + "q" + C + "3;5:2H" +
    "r" + C + "?5;10H" + "s" + C + "1;" + "1".repeat(120) + "H" + "t",
    {
      tmux: "parameter edge cases: C mosh treats values > 65535 as default and caps the " +
        "parameter string at 100 characters; tmux rejects or clamps differently",
    },
  ],
  [
    "params-common",
    C + "5;5;5;5;5;5;5;5H" + "p" + C + "3;5:2H" + "r" + C + "?5;10H" + "s" + C + "6;6 H" + "u",
  ],
  [
    "controls",
    "a\x07b\x00c\x0ed\x0fe\x05f\x7fg" + "\n" + "h\x0bi\x0cj" + "\n" + "k\x1b[1;31x" + "l" +
    "m\x18n\x1b[3\x1ao",
  ],
  [
    "decstr",
    C + "5;10r" + C + "?6h" + C + "4h" + C + "31m" + E + "7" + C + "!p" + "after" + C + "24;1H" +
    "\nscrolled",
    { tmux: "tmux's DECSTR keeps origin mode; C mosh's resets it and the scrolling region" },
  ],
  [
    "decstr-simple",
    "0123456789" + C + "4h" + C + "31m" + C + "!p" + "\rover",
    { tmux: "tmux's DECSTR leaves insert mode on; C mosh's turns it off" },
  ],
  ["dec-mode-3", lines(10) + C + "5;5H" + C + "?3h" + "cleared"],
  [
    "reverse-video-and-cursor",
    C + "?5h" + C + "?25l" + "text" + C + "?25h" + C + "?5l",
    { tmuxColors: "screen-wide reverse video (?5) is a mode, not cell attributes" },
  ],
  [
    "wrap-then-edit",
    "a".repeat(80) + "b".repeat(10) + C + "1;80H" + C + "K" + "\n" + "c".repeat(80) + C + "P" +
    "d" + "\n" + "e".repeat(80) + C + "2@" + "f",
    {
      tmux: "tmux's ICH/DCH/EL at a pending wrap act on its column-80 cursor; mosh acts on " +
        "column 79",
    },
  ],
  [
    "emoji-and-wide-at-edge",
    "x".repeat(79) + "😀" + "y" + "\n" + "z".repeat(78) + "😀" + "w",
  ],
  // The cursor stays off the bottom row: after drawing the bottom row's last column, C mosh's
  // display diff places the cursor with a BS, which leaves a replaying emulator one column left
  // of the server's cursor (the pending-wrap cursor is already in the last column).
  [
    "resize-shrink",
    fullScreen() + C + "3;59H" + "漢字" + C + "5;10r" + C + "15;75H",
    { resize: [60, 20] },
  ],
  [
    "resize-grow",
    lines(10) + C + "3;20r" + "\n" + "x".repeat(100) + C + "?6h" + C + "5;5H",
    { resize: [100, 30] },
  ],
  ["resize-narrow-wrapped", "y".repeat(200) + "\nend" + "\u0301", { resize: [40, 24] }],
  ["stream-mix", lines(30) + C + "1;1H" + C + "2J" + "cleared, then text\n" + lines(5, "row ")],
];

// Slices of the benchmark's random stream (tests/workload.ts): everything at once, from arbitrary
// starting points (possibly mid-sequence, which both sides see alike).
const stream = generateStream(20240601, (1 << 20) + (1 << 18));
for (const [at, len] of [[0, 1 << 16], [300000, 1 << 16], [1 << 20, 1 << 18]]) {
  scripts.push([`workload-${at}-${len}`, stream.slice(at, at + len), {
    tmuxColors: "the stream scrolls with a background colour set (see bce-scroll)",
  }]);
}

/** The whole corpus. */
export const VT_CORPUS: readonly VtScript[] = scripts.map(([name, text, extra]) => ({
  name,
  bytes: typeof text === "string" ? enc.encode(text) : text,
  ...extra,
}));

/** `bytes` with every LF preceded by CR, as a pty's onlcr output processing does. */
export function onlcr(data: Uint8Array): Uint8Array {
  let n = 0;
  for (const b of data) if (b === 0x0a) n++;
  const out = new Uint8Array(data.length + n);
  let pos = 0;
  for (const b of data) {
    if (b === 0x0a) out[pos++] = 0x0d;
    out[pos++] = b;
  }
  return out;
}

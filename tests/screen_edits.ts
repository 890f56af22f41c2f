/**
 * Random screens for the display tests: a seeded PRNG and edits of every kind a host makes
 * (text, SGR, cursor motion, erase, insert/delete, scrolling and regions, wide and combining
 * characters, titles, modes, resets, the alternate screen). Shared by tests/display_test.ts and
 * tests/display_cmosh_test.ts.
 */

/** mulberry32: a small seeded PRNG. */
export class Rng {
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
export const EDITS: Record<string, (r: Rng, w: number, h: number) => string> = {
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
export const EDIT_NAMES = Object.keys(EDITS);

/** One to four random edits. */
export function randomEdits(r: Rng, w: number, h: number, names = EDIT_NAMES): string {
  let s = "";
  for (let i = r.range(1, 4); i > 0; i--) s += EDITS[r.pick(names)](r, w, h);
  return s;
}

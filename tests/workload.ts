/**
 * Deterministic workloads shared by the tests and the benchmarks: a bit-exact port of the
 * benchmark specification's Python generator, gen-workload.py (not part of this repository).
 *
 * `stream` is a ~50 MiB VT100/xterm byte stream for an 80x24 terminal (text, SGR colours, cursor
 * motion, erase/insert/delete, scrolling, UTF-8 with combining and wide characters); `framediff`
 * is a file of (base, edit) screen pairs for timing the framebuffer diff (docs/PROTOCOL.md §10).
 * Both come from splitmix64 (done here in two 32-bit halves, no BigInt), so any seed gives the
 * same bytes as the Python script. The Python quirks are kept on purpose: the 11-byte reset
 * prefix is not counted towards the 1 MiB flush threshold, and a stream whose last segment
 * triggers a flush is longer than the requested size.
 *
 * framediff file format (little-endian): magic "MOSHFD01", u32 count, then per record
 * u16 width, u16 height, u8 edit kind, u8 0, u32 base length, u32 edit length (a packed 14-byte
 * header), base, edit.
 *
 * Writing them to files: bench/workload.ts.
 */

import { concatBytes } from "../lib/bytes.ts";

/** Default seed of the stream workload. */
export const STREAM_SEED = 20240601;
/** Default size of the stream workload in bytes (50 MiB). */
export const STREAM_SIZE = 50 * 1024 * 1024;
/** Default seed of the framediff workload. */
export const FRAMEDIFF_SEED = 20240602;
/** Default number of 80x24 framediff pairs. */
export const FRAMEDIFF_SMALL = 2000;
/** Default number of 200x60 framediff pairs. */
export const FRAMEDIFF_LARGE = 500;
/** Names of the framediff edit kinds, by the kind byte of a record. */
export const EDIT_KINDS = [
  "type",
  "recolor",
  "scroll1",
  "erase",
  "cjk",
  "cursor",
  "insline",
  "status",
  "dch",
  "scrollregion",
] as const;
const EDIT_WEIGHTS = [25, 10, 15, 8, 8, 8, 6, 10, 5, 5];

const TWO32 = 4294967296;

/** splitmix64 with 64-bit state in two unsigned 32-bit halves. */
class Rng {
  private hi: number;
  private lo: number;

  constructor(seed: number | bigint) {
    const s = BigInt.asUintN(64, BigInt(seed));
    this.hi = Number(s >> 32n);
    this.lo = Number(s & 0xffffffffn);
  }

  /** `next() % n` as in the Python script (n < 2**21 keeps the arithmetic exact). */
  below(n: number): number {
    // s += 0x9E3779B97F4A7C15
    const lo = this.lo + 0x7f4a7c15;
    this.lo = lo >>> 0;
    this.hi = (this.hi + 0x9e3779b9 + (lo >= TWO32 ? 1 : 0)) >>> 0;
    let zh = this.hi, zl = this.lo;
    // z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    zl = (zl ^ ((zl >>> 30) | (zh << 2))) >>> 0;
    zh = (zh ^ (zh >>> 30)) >>> 0;
    let ph = mulHi(zl, 0x1ce4e5b9);
    let pl = Math.imul(zl, 0x1ce4e5b9) >>> 0;
    ph = (ph + Math.imul(zh, 0x1ce4e5b9) + Math.imul(zl, 0xbf58476d)) >>> 0;
    zh = ph, zl = pl;
    // z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    zl = (zl ^ ((zl >>> 27) | (zh << 5))) >>> 0;
    zh = (zh ^ (zh >>> 27)) >>> 0;
    ph = mulHi(zl, 0x133111eb);
    pl = Math.imul(zl, 0x133111eb) >>> 0;
    ph = (ph + Math.imul(zh, 0x133111eb) + Math.imul(zl, 0x94d049bb)) >>> 0;
    zh = ph, zl = pl;
    // z ^ (z >> 31)
    zl = (zl ^ ((zl >>> 31) | (zh << 1))) >>> 0;
    zh = (zh ^ (zh >>> 31)) >>> 0;
    return ((zh % n) * TWO32 + zl) % n;
  }

  /** Inclusive range. */
  rng(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  pick<T>(seq: ArrayLike<T>): T {
    return seq[this.below(seq.length)];
  }

  /** Index into `weights` chosen with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.below(total);
    for (let i = 0; i < weights.length; i++) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    throw new Error("workload: weighted choice out of range");
  }
}

/** High 32 bits of the 64-bit product of two unsigned 32-bit numbers. */
function mulHi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

const ESC = "\x1b";
const CSI = ESC + "[";

const WORDS = ("the quick brown fox jumps over lazy dog terminal emulator mobile shell " +
  "state synchronization protocol datagram prediction echo cursor screen " +
  "frame diff row column cell width height scroll region attribute colour " +
  "render bold underline reverse blink italic latency roaming network server " +
  "client packet nonce key session resize unicode grapheme combining wide " +
  "narrow byte stream parser action dispatch escape sequence control string " +
  "ls -la make check git status /usr/bin/env 0123456789 foo_bar baz.txt " +
  "README.md src/terminal/parser.cc [OK] (done) {x} <y> #42 $HOME ~/.bashrc").split(" ");

function chars(from: number, to: number, skip = -1): string[] {
  const out: string[] = [];
  for (let c = from; c < to; c++) if (c !== skip) out.push(String.fromCodePoint(c));
  return out;
}

// Narrow non-ASCII: Latin-1, Latin Extended-A, Greek, Cyrillic, box drawing, blocks.
const NARROW = [
  ...chars(0xc0, 0x100).filter((c) => c !== "\xd7" && c !== "\xf7"),
  ...chars(0x100, 0x180),
  ...chars(0x391, 0x3aa, 0x3a2),
  ...chars(0x3b1, 0x3ca),
  ...chars(0x410, 0x450),
  ...chars(0x2500, 0x2580),
  ...chars(0x2580, 0x25a0),
];
const COMBINING = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0x327, 0x331].map((c) =>
  String.fromCodePoint(c)
);
const EMOJI = chars(0x1f600, 0x1f640);
const SGR_ATTRS = ["1", "4", "7", "3", "1;4", "22", "24", "27", "5", "2"];

function wideChar(r: Rng): string {
  const k = r.below(10);
  if (k < 5) return String.fromCodePoint(r.rng(0x4e00, 0x9fa5)); // CJK unified ideographs
  if (k < 7) return String.fromCodePoint(r.rng(0xac00, 0xd7a3)); // Hangul syllables
  if (k < 8) return String.fromCodePoint(r.rng(0x3041, 0x3096)); // Hiragana
  if (k < 9) return String.fromCodePoint(r.rng(0x30a1, 0x30fa)); // Katakana
  return String.fromCodePoint(r.rng(0xff01, 0xff5e)); // Fullwidth ASCII variants
}

function sgr(r: Rng): string {
  const k = r.below(9);
  if (k === 0) return CSI + "0m";
  if (k === 1) return CSI + r.rng(30, 37) + "m";
  if (k === 2) return CSI + r.rng(40, 47) + "m";
  if (k === 3) return CSI + r.rng(90, 97) + "m";
  if (k === 4) return CSI + r.pick(SGR_ATTRS) + "m";
  if (k === 5) return CSI + "38;5;" + r.below(256) + "m";
  if (k === 6) return CSI + "48;5;" + r.below(256) + "m";
  if (k === 7) {
    const red = r.below(256), green = r.below(256), blue = r.below(256);
    return CSI + `38;2;${red};${green};${blue}m`;
  }
  const fg = r.rng(30, 37), bg = r.rng(40, 47);
  return CSI + `1;${fg};${bg}m`;
}

function words(r: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += (i ? " " : "") + r.pick(WORDS);
  return s;
}

function repeatPick(r: Rng, seq: readonly string[], n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += r.pick(seq);
  return s;
}

// ------------------------------------------------------------------ stream ---

function segText(r: Rng): string {
  const n = r.below(4) ? r.rng(1, 16) : r.rng(17, 30); // 1 in 4 lines wrap
  return words(r, n) + "\r\n";
}

function segSgrText(r: Rng): string {
  let s = "";
  for (let i = r.rng(3, 14); i > 0; i--) {
    if (r.below(2)) s += sgr(r);
    s += r.pick(WORDS) + " ";
  }
  return s + CSI + "0m\r\n";
}

function segCursor(r: Rng): string {
  let s = "";
  for (let i = r.rng(2, 8); i > 0; i--) {
    const k = r.below(12);
    if (k === 0) {
      const row = r.rng(1, 24);
      s += CSI + `${row};${r.rng(1, 80)}H`;
    } else if (k === 1) {
      const n = r.rng(1, 10);
      s += CSI + n + r.pick("ABCD");
    } else if (k === 2) {
      const row = r.rng(1, 24), col = r.rng(1, 70);
      s += ESC + "7" + CSI + `${row};${col}H` + r.pick(WORDS) + ESC + "8";
    } else if (k === 3) s += "\b".repeat(r.rng(1, 4));
    else if (k === 4) s += "\t";
    else if (k === 5) s += CSI + r.pick(["K", "0K", "1K", "2K"]);
    else if (k === 6) s += CSI + r.rng(1, 20) + "X";
    else if (k === 7) s += CSI + r.rng(1, 8) + "@";
    else if (k === 8) s += CSI + r.rng(1, 8) + "P";
    else if (k === 9) s += CSI + r.rng(1, 80) + "G";
    else if (k === 10) s += CSI + r.rng(1, 24) + "d";
    else s += "\r";
    s += r.pick(WORDS);
  }
  return s + "\r\n";
}

function segScroll(r: Rng): string {
  let s = "";
  const k = r.below(8);
  if (k <= 2) { // scrolling region with LFs at its bottom
    const top = r.rng(1, 10);
    const bot = r.rng(top + 2, 24);
    s += CSI + `${top};${bot}r` + CSI + `${bot};1H`;
    for (let i = r.rng(1, 6); i > 0; i--) s += "\n" + words(r, r.rng(1, 8));
    s += CSI + "r" + CSI + "24;1H\r\n";
  } else if (k === 3) { // reverse index at the top of the region
    const top = r.rng(1, 12);
    s += CSI + `${top};24r` + CSI + `${top};1H`;
    for (let i = r.rng(1, 4); i > 0; i--) s += ESC + "M" + words(r, 3) + "\r";
    s += CSI + "r" + CSI + "24;1H\r\n";
  } else if (k === 4) {
    const n = r.rng(1, 5);
    s += CSI + n + r.pick("ST");
  } else if (k === 5) {
    s += CSI + r.rng(1, 24) + ";1H";
    const n = r.rng(1, 4);
    s += CSI + n + r.pick("LM") + CSI + "24;1H\r\n";
  } else if (k === 6) {
    s += ESC + "D".repeat(r.rng(1, 3)) + ESC + "E"; // sic: ESC then 1-3 'D's
  } else {
    s += CSI + r.pick(["J", "0J", "1J", "J", "J", "2J"]) + CSI + "24;1H\r\n";
  }
  return s;
}

function segUtf8(r: Rng): string {
  let s = "";
  for (let i = r.rng(2, 10); i > 0; i--) {
    const k = r.below(4);
    if (k === 0) s += r.pick(WORDS);
    else if (k === 1) s += repeatPick(r, NARROW, r.rng(1, 8));
    else if (k === 2) s += r.pick("aeiouxyz") + r.pick(COMBINING);
    else s += repeatPick(r, NARROW, r.rng(1, 3)) + r.pick(COMBINING);
    s += " ";
  }
  return s + "\r\n";
}

function segCjk(r: Rng): string {
  let s = "";
  if (r.below(3) === 0) s += CSI + r.rng(70, 80) + "G"; // wide chars straddle the margin
  for (let i = r.rng(2, 12); i > 0; i--) {
    if (r.below(3) === 0) s += r.pick(WORDS) + " ";
    else {
      for (let j = r.rng(1, 10); j > 0; j--) s += wideChar(r);
    }
  }
  return s + "\r\n";
}

function segEmoji(r: Rng): string {
  let s = "";
  for (let i = r.rng(1, 4); i > 0; i--) s += r.pick(EMOJI) + r.pick(WORDS);
  return s + "\r\n";
}

function segMisc(r: Rng): string {
  const k = r.below(4);
  if (k === 0) return ESC + "]0;" + words(r, 3) + "\x07"; // window title
  if (k === 1) return CSI + "?25l" + words(r, 2) + CSI + "?25h"; // cursor hide/show
  if (k === 2) return "\x07"; // bell
  return CSI + "?7l" + words(r, 20) + CSI + "?7h\r\n"; // autowrap off
}

const STREAM_WEIGHTS = [40, 15, 10, 8, 10, 12, 2, 3];
const STREAM_SEGMENTS = [
  segText,
  segSgrText,
  segCursor,
  segScroll,
  segUtf8,
  segCjk,
  segEmoji,
  segMisc,
];

/**
 * The `stream` workload: `size` bytes (or slightly more, exactly as the Python script) of
 * terminal output for an 80x24 screen, from splitmix64 seeded with `seed`.
 */
export function generateStream(
  seed: number | bigint = STREAM_SEED,
  size = STREAM_SIZE,
): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`workload: bad stream size ${size}`);
  }
  const r = new Rng(seed);
  const enc = new TextEncoder();
  let out = new Uint8Array(size + 65536);
  let pos = enc.encodeInto(CSI + "0m" + CSI + "H" + CSI + "2J", out).written;
  let written = 0; // bytes the script has flushed
  let buflen = 0; // bytes pending, not counting the reset prefix (as the script)
  while (written + buflen < size) {
    const seg = STREAM_SEGMENTS[r.weighted(STREAM_WEIGHTS)](r);
    if (out.length - pos < seg.length * 3) {
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out.subarray(0, pos));
      out = bigger;
    }
    const n = enc.encodeInto(seg, out.subarray(pos)).written;
    pos += n;
    buflen += n;
    if (buflen >= 1 << 20) {
      written = pos;
      buflen = 0;
    }
  }
  // The pending buffer is truncated so the total is `size`; a final flush is kept whole.
  const end = written + Math.max(0, Math.min(pos - written, size - written));
  return out.slice(0, end);
}

// --------------------------------------------------------------- framediff ---

function rowContent(r: Rng, w: number): string {
  if (r.below(10) === 0) return "";
  let s = "";
  let used = 0;
  const limit = r.rng(Math.floor(w / 3), w - 1);
  while (used < limit) {
    const m = r.below(10);
    let t: string, cw: number;
    if (m < 5) {
      t = r.pick(WORDS) + " ";
      cw = t.length;
      if (used + cw > limit) break;
    } else if (m < 7) {
      const word = r.pick(WORDS) + " ";
      cw = word.length;
      if (used + cw > limit) break;
      t = sgr(r) + word + CSI + "0m";
    } else if (m < 9) {
      const n = r.rng(1, 6);
      cw = 2 * n + 1;
      if (used + cw > limit) break;
      t = "";
      for (let i = 0; i < n; i++) t += wideChar(r);
      t += " ";
    } else {
      const n = r.rng(1, 6);
      cw = n + 1;
      if (used + cw > limit) break;
      t = repeatPick(r, NARROW, n) + " ";
    }
    s += t;
    used += cw;
  }
  return s;
}

function baseScreen(r: Rng, w: number, h: number): string {
  let s = CSI + "0m" + CSI + "H" + CSI + "2J";
  for (let row = 1; row <= h; row++) {
    s += CSI + row + ";1H";
    if (r.below(8) === 0) { // a full-width coloured bar (status line / selection)
      s += sgr(r) + CSI + "K" + r.pick(WORDS) + CSI + "0m";
    } else s += rowContent(r, w);
  }
  const row = r.rng(1, h);
  return s + CSI + `${row};${r.rng(1, w)}H`;
}

function edit(r: Rng, kind: number, w: number, h: number): string {
  const cup = () => {
    const row = r.rng(1, h);
    return CSI + `${row};${r.rng(1, w - 10)}H`;
  };
  const pad2 = (n: number) => String(n).padStart(2, "0");
  switch (EDIT_KINDS[kind]) {
    case "type": {
      let s = cup();
      for (let i = r.rng(1, 8); i > 0; i--) s += String.fromCharCode(r.rng(0x21, 0x7e));
      return s;
    }
    case "recolor":
      return cup() + sgr(r) + r.pick(WORDS) + CSI + "0m";
    case "scroll1":
      return CSI + h + ";1H\r\n" + words(r, r.rng(1, 8));
    case "erase":
      return cup() + CSI + "K";
    case "cjk": {
      let s = cup();
      for (let i = r.rng(1, 3); i > 0; i--) s += wideChar(r);
      return s;
    }
    case "cursor":
      return cup();
    case "insline": {
      const s = CSI + r.rng(1, h) + ";1H" + CSI + "L";
      return s + words(r, r.rng(1, 6));
    }
    case "status": {
      const hh = r.below(24), mm = r.below(60), ss = r.below(60);
      let s = CSI + `1;${w - 8}H` + `${pad2(hh)}:${pad2(mm)}:${pad2(ss)}`;
      s += CSI + h + ";1H" + CSI + "7m" + words(r, 3) + CSI + "0m";
      return s + cup();
    }
    case "dch": {
      const s = cup();
      return s + CSI + r.rng(1, 5) + "P";
    }
    case "scrollregion": {
      const s = CSI + `2;${h - 1}r` + CSI + `${h - 1};1H\n` + words(r, r.rng(1, 6)) + CSI + "r";
      return s + cup();
    }
  }
  throw new Error(`workload: unknown edit kind ${kind}`);
}

/**
 * The `framediff` workload file: `small` 80x24 pairs then `large` 200x60 pairs of (base screen,
 * small edit), from splitmix64 seeded with `seed`.
 */
export function generateFrameDiff(
  seed: number | bigint = FRAMEDIFF_SEED,
  small = FRAMEDIFF_SMALL,
  large = FRAMEDIFF_LARGE,
): Uint8Array {
  for (const n of [small, large]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`workload: bad pair count ${n}`);
  }
  const r = new Rng(seed);
  const enc = new TextEncoder();
  const recs: Uint8Array[] = [];
  let total = 12;
  for (const [w, h, n] of [[80, 24, small], [200, 60, large]]) {
    for (let i = 0; i < n; i++) {
      const k = r.weighted(EDIT_WEIGHTS);
      const base = enc.encode(baseScreen(r, w, h));
      const ed = enc.encode(edit(r, k, w, h));
      const rec = new Uint8Array(14 + base.length + ed.length);
      const dv = new DataView(rec.buffer);
      dv.setUint16(0, w, true);
      dv.setUint16(2, h, true);
      rec[4] = k;
      dv.setUint32(6, base.length, true);
      dv.setUint32(10, ed.length, true);
      rec.set(base, 14);
      rec.set(ed, 14 + base.length);
      recs.push(rec);
      total += rec.length;
    }
  }
  const out = new Uint8Array(total);
  out.set(enc.encode("MOSHFD01"), 0);
  new DataView(out.buffer).setUint32(8, recs.length, true);
  let pos = 12;
  for (const rec of recs) {
    out.set(rec, pos);
    pos += rec.length;
  }
  return out;
}

/** One record of a framediff file. `base` and `edit` are views into the file's bytes. */
export interface FrameDiffRecord {
  width: number;
  height: number;
  kind: number;
  kindName: string;
  base: Uint8Array;
  edit: Uint8Array;
}

/** Parses a framediff file; throws a precise error on a bad magic, kind or length. */
export function parseFrameDiff(bytes: Uint8Array): FrameDiffRecord[] {
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (bytes.length < 12 || magic !== "MOSHFD01") {
    throw new Error("framediff: bad magic, expected MOSHFD01");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getUint32(8, true);
  const recs: FrameDiffRecord[] = [];
  let pos = 12;
  for (let i = 0; i < count; i++) {
    if (pos + 14 > bytes.length) throw new Error(`framediff: record ${i} header truncated`);
    const width = dv.getUint16(pos, true), height = dv.getUint16(pos + 2, true);
    const kind = bytes[pos + 4];
    const baseLen = dv.getUint32(pos + 6, true), editLen = dv.getUint32(pos + 10, true);
    if (kind >= EDIT_KINDS.length) throw new Error(`framediff: record ${i} has bad kind ${kind}`);
    const start = pos + 14;
    if (start + baseLen + editLen > bytes.length) {
      throw new Error(`framediff: record ${i} body truncated`);
    }
    recs.push({
      width,
      height,
      kind,
      kindName: EDIT_KINDS[kind],
      base: bytes.subarray(start, start + baseLen),
      edit: bytes.subarray(start + baseLen, start + baseLen + editLen),
    });
    pos = start + baseLen + editLen;
  }
  if (pos !== bytes.length) throw new Error(`framediff: ${bytes.length - pos} trailing bytes`);
  return recs;
}

/** `n` random bytes (getRandomValues fills at most 65,536 at a time). */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

/** Hex SHA-256 of `data`. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Everything a connection delivers until its peer closes it. */
export async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const k = await conn.read(buf);
    if (k === null) break;
    parts.push(buf.slice(0, k));
  }
  return concatBytes(parts);
}

// Fuzz test of lib/parser.ts and lib/terminal.ts (docs/PROTOCOL.md §9): millions of random and
// mutated bytes, with a fixed seed, interleaved with resizes, snapshots, clones and user input.
// The emulator must never throw, must keep the cursor on the screen and must keep its rows
// consistent (size, multi-code-point cells) whatever the host sends.
import assert from "node:assert/strict";
import { Terminal } from "../lib/terminal.ts";
import { CELL_WORDS, type Framebuffer } from "../lib/framebuffer.ts";
import { generateStream } from "./workload.ts";

/** xorshift32: small, fast, deterministic. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return { next, below: (n: number) => next() % n };
}

const FINALS = "@ABCDEFGHIJKLMPSTXZ`abcdefghlmnpqrstu";
const MODES = [1, 3, 4, 5, 6, 7, 9, 12, 25, 47, 1000, 1002, 1003, 1004, 1005, 1006, 1007, 1015];
const MORE_MODES = [1047, 1049, 2004, 2026, 0, 65535, 70000];
const TEXT = ["abc", "é", "\u4e00\u4e01", "\u0301", "\u0308\u0327", "😀", "\u00a0", "\ufffd", "x"];
const enc = new TextEncoder();

/** One random fragment of host output: structured sequences or raw noise. */
function fragment(r: ReturnType<typeof rng>): Uint8Array {
  const k = r.below(14);
  const num = () => String(r.below(8) === 0 ? r.below(100000) : r.below(90));
  const params = () => Array.from({ length: r.below(5) }, num).join(r.below(10) ? ";" : ":");
  switch (k) {
    case 0:
    case 1: { // raw bytes, biased to controls and UTF-8 lead bytes
      const n = 1 + r.below(64);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const b = r.below(4);
        out[i] = b === 0 ? r.below(0x20) : b === 1 ? 0x80 + r.below(0x80) : r.below(256);
      }
      return out;
    }
    case 2:
      return enc.encode(
        `\x1b[${r.below(4) ? "" : "?>!="[r.below(4)]}${params()}` +
          `${r.below(8) ? "" : " !$#"[r.below(4)]}${FINALS[r.below(FINALS.length)]}`,
      );
    case 3: {
      const all = r.below(5) ? MODES : MODES.concat(MORE_MODES);
      const ms = Array.from({ length: 1 + r.below(3) }, () => all[r.below(all.length)]);
      return enc.encode(`\x1b[?${ms.join(";")}${r.below(2) ? "h" : "l"}`);
    }
    case 4:
      return enc.encode(`\x1b${String.fromCharCode(0x20 + r.below(0x60))}`);
    case 5:
      return enc.encode(`\x1b#8`);
    case 6: { // OSC with assorted terminators
      const body = ["0;", "1;", "2;", ";", "52;c;", "52;p;", "10;", ""][r.below(8)] +
        "t".repeat(r.below(4) ? r.below(20) : r.below(400));
      return enc.encode(`\x1b]${body}${["\x07", "\x1b\\", "\u009c", "\x18", ""][r.below(5)]}`);
    }
    case 7: // DCS / SOS / PM / APC
      return enc.encode(`\x1b${"PX^_"[r.below(4)]}${params()}q data${r.below(2) ? "\x1b\\" : ""}`);
    case 8:
    case 9:
    case 10: {
      let s = "";
      for (let i = r.below(12); i >= 0; i--) s += TEXT[r.below(TEXT.length)];
      return enc.encode(s);
    }
    case 11:
      return enc.encode(
        ["\r\n", "\n", "\r", "\t", "\b", "\x1bM", "\x1bD", "\x1bE", "\x07"][r.below(9)],
      );
    case 12:
      return enc.encode(`\x1b[${1 + r.below(30)};${1 + r.below(130)}H` + "w".repeat(r.below(90)));
    default:
      return enc.encode(["\x1bc", "\x1b7", "\x1b8", "\x1b[!p", "\x1b[4h", "\x1b[4l"][r.below(6)]);
  }
}

/** Checks the invariants of a terminal and of its snapshot. */
function check(t: Terminal, where: string): Framebuffer {
  const f = t.snapshot();
  assert.ok(t.cursorY >= 0 && t.cursorY < t.height, `${where}: cursor row ${t.cursorY}`);
  assert.ok(t.cursorX >= 0 && t.cursorX < t.width, `${where}: cursor column ${t.cursorX}`);
  assert.equal(f.rows.length, t.height, where);
  for (const row of f.rows) {
    assert.equal(row.data.length, t.width * CELL_WORDS, where);
    // Every multi-code-point entry belongs to a cell that starts with its first code point.
    assert.notEqual(row.multi?.size, 0, `${where}: empty multi map`);
    for (const [x, text] of row.multi ?? []) {
      assert.ok(x >= 0 && x < t.width, `${where}: multi entry at column ${x}`);
      assert.equal(
        row.data[x * CELL_WORDS],
        text.codePointAt(0),
        `${where}: stale multi entry ${x}`,
      );
      assert.ok([...text].length > 1, `${where}: multi entry ${x} holds one code point`);
    }
  }
  return f;
}

Deno.test("fuzz: random host output never throws and keeps the terminal consistent", () => {
  const r = rng(0x5eed1234);
  let t = new Terminal(80, 24);
  let fed = 0, i = 0;
  while (fed < 2_500_000) {
    const frag = fragment(r);
    t.write(frag);
    fed += frag.length;
    i++;
    if (i % 97 === 0) check(t, `fragment ${i}`);
    if (i % 1009 === 0) t.resize(1 + r.below(120), 1 + r.below(50));
    if (i % 541 === 0) {
      const before = t.snapshot().screenText();
      const c = t.clone();
      c.write(fragment(r));
      assert.equal(t.snapshot().screenText(), before, "writing to a clone changed the original");
      if (r.below(2)) t = c;
    }
    if (i % 331 === 0) t.translateUserInput(fragment(r));
  }
  check(t, "end");
  assert.ok(t.screenText().endsWith(`cursor ${t.cursorY} ${t.cursorX}\n`));
});

Deno.test("fuzz: uniformly random bytes on small and large screens", () => {
  const r = rng(42);
  const buf = new Uint8Array(4096);
  for (const [w, h] of [[1, 1], [2, 3], [80, 24], [200, 60]]) {
    const t = new Terminal(w, h);
    for (let n = 0; n < 150; n++) {
      for (let i = 0; i < buf.length; i++) buf[i] = r.below(256);
      t.write(buf);
      if (n % 10 === 0) check(t, `${w}x${h} chunk ${n}`);
    }
    check(t, `${w}x${h} end`);
  }
});

Deno.test("fuzz: mutated workload stream", () => {
  const r = rng(7);
  const data = generateStream(20240601, 1 << 20);
  const t = new Terminal(80, 24);
  for (let pos = 0; pos < data.length;) {
    const n = Math.min(1 + r.below(8192), data.length - pos);
    const chunk = data.slice(pos, pos + n);
    for (let m = r.below(6); m > 0; m--) {
      const at = r.below(chunk.length);
      switch (r.below(4)) {
        case 0:
          chunk[at] = r.below(256);
          break;
        case 1:
          chunk[at] = 0x1b;
          break;
        case 2:
          chunk[at] ^= 1 << r.below(8);
          break;
        default:
          chunk[at] = [0x9b, 0xc2, 0xe2, 0xf0, 0x18, 0x07][r.below(6)];
      }
    }
    t.write(chunk);
    pos += n;
    if (r.below(50) === 0) t.resize(1 + r.below(100), 1 + r.below(40));
    if (r.below(20) === 0) check(t, `offset ${pos}`);
  }
  check(t, "end");
});

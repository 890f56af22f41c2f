// Tests for lib/parser.ts: the UTF-8 decoder (docs/PROTOCOL.md §9.1, with glibc mbrtowc's
// behaviour as observed through ctypes on glibc 2.36) and the DEC/ANSI state machine (§9.2).
import assert from "node:assert/strict";
import {
  COLLECTED_OVERFLOW,
  OSC_BUFFER_LENGTH,
  packCollected,
  Parser,
  type ParserHandler,
  State,
} from "../lib/parser.ts";

/** Records every handler call as a short string. */
class Recorder implements ParserHandler {
  events: string[] = [];
  print(cp: number): void {
    this.events.push(`print ${cp.toString(16)}`);
  }
  printAscii(data: Uint8Array, start: number, end: number): void {
    assert.ok(end > start, "empty ASCII run");
    this.events.push(`ascii ${new TextDecoder().decode(data.subarray(start, end))}`);
  }
  execute(code: number): void {
    this.events.push(`exec ${code.toString(16)}`);
  }
  csiDispatch(params: Int32Array, count: number, collected: number, final: number): void {
    const ps = Array.from(params.subarray(0, count)).join(",");
    this.events.push(`csi ${collected.toString(16)} ${String.fromCharCode(final)} [${ps}]`);
  }
  csiSubDispatch(
    params: Int32Array,
    sub: Uint8Array,
    count: number,
    collected: number,
    final: number,
  ): void {
    let ps = "";
    for (let i = 0; i < count; i++) ps += (i === 0 ? "" : sub[i] ? ":" : ";") + params[i];
    this.events.push(`sub ${collected.toString(16)} ${String.fromCharCode(final)} [${ps}]`);
  }
  escDispatch(collected: number, final: number): void {
    this.events.push(`esc ${collected.toString(16)} ${final.toString(16)}`);
  }
  oscEnd(data: Uint32Array, length: number): void {
    let s = "";
    for (let i = 0; i < length; i++) s += String.fromCodePoint(data[i]);
    this.events.push(`osc ${s}`);
  }
}

const enc = new TextEncoder();

/** Events for `input` fed in one call (strings are UTF-8, arrays are raw bytes). */
function run(...input: (string | number[])[]): string[] {
  const r = new Recorder();
  const p = new Parser(r);
  for (const part of input) {
    p.parse(typeof part === "string" ? enc.encode(part) : Uint8Array.from(part));
  }
  return r.events;
}

/** Events for raw bytes fed one byte per call. */
function runBytewise(bytes: number[]): string[] {
  const r = new Recorder();
  const p = new Parser(r);
  for (const b of bytes) p.parse(Uint8Array.of(b));
  return r.events;
}

Deno.test("printable ASCII arrives as one run; controls split it", () => {
  assert.deepEqual(run("hello world"), ["ascii hello world"]);
  assert.deepEqual(run("ab\r\ncd"), ["ascii ab", "exec d", "exec a", "ascii cd"]);
  assert.deepEqual(run("a\x7fb"), ["ascii a", "print 7f", "ascii b"]);
  assert.deepEqual(run("\x00\x05\x07\x0e"), ["exec 0", "exec 5", "exec 7", "exec e"]);
});

Deno.test("UTF-8: valid sequences, split anywhere across writes", () => {
  const text = "é€😀\u4e00a";
  const want = ["print e9", "print 20ac", "print 1f600", "print 4e00", "ascii a"];
  assert.deepEqual(run(text), want);
  assert.deepEqual(runBytewise(Array.from(enc.encode(text))), want);
  assert.deepEqual(run([0xf0, 0x9f], [0x98], [0x80]), ["print 1f600"]);
});

Deno.test("UTF-8: invalid input follows glibc mbrtowc as mosh drives it (§9.1)", () => {
  const cases: [number[], string[]][] = [
    [[0x80], ["print fffd"]], // lone continuation byte
    [[0x85], ["print fffd"]], // raw C1 byte is invalid, not NEL
    [[0xc0, 0xaf], ["print fffd", "print fffd"]], // C0/C1 leads are invalid at once
    [[0xfe, 0xff], ["print fffd", "print fffd"]],
    [[0xe2, 0x41], ["print fffd", "ascii A"]], // the breaking byte is parsed afresh
    [[0xe2, 0x82, 0x0d], ["print fffd", "exec d"]],
    [[0xc2, 0xc2, 0xa9], ["print fffd", "print a9"]],
    [[0xe0, 0x80, 0x80], ["print fffd", "print fffd"]], // overlong: found at the end
    [[0xf0, 0x8f, 0xbf, 0xbf], ["print fffd", "print fffd"]],
    [[0xed, 0xa0, 0x80], ["print fffd", "print fffd"]], // surrogate
    [[0xed, 0x9f, 0xbf], ["print d7ff"]],
    [[0xf4, 0x8f, 0xbf, 0xbf], ["print 10ffff"]],
    [[0xf4, 0x90, 0x80, 0x80], ["print fffd"]], // above U+10FFFF: one replacement
    [[0xf8, 0x88, 0x80, 0x80, 0x80], ["print fffd"]], // 5-byte form
    [[0xf8, 0x87, 0xbf, 0xbf, 0xbf], ["print fffd", "print fffd"]], // overlong 5-byte form
    [[0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf], ["print fffd"]], // 6-byte form
    [[0xef, 0xbf, 0xbf], ["print ffff"]], // non-characters are valid
  ];
  for (const [bytes, want] of cases) {
    const hex = bytes.map((b) => b.toString(16)).join(" ");
    assert.deepEqual(run(bytes), want, hex);
    assert.deepEqual(runBytewise(bytes), want, `${hex} byte by byte`);
  }
});

Deno.test("C1 controls exist only as code points U+0080-U+009F", () => {
  assert.deepEqual(run([0xc2, 0x85]), ["exec 85"]);
  assert.deepEqual(run([0xc2, 0x9b], "31m"), ["csi 0 m [31]"]);
  assert.deepEqual(run([0xc2, 0x9d], "2;t", [0xc2, 0x9c], "x"), ["osc 2;t", "ascii x"]);
  assert.deepEqual(run([0x9b], "31m"), ["print fffd", "ascii 31m"]);
});

Deno.test("CSI parameters: defaults, empty fields, overflow and the 100-character cap", () => {
  assert.deepEqual(run("\x1b[m"), ["csi 0 m [-1]"]);
  assert.deepEqual(run("\x1b[1;22;333m"), ["csi 0 m [1,22,333]"]);
  assert.deepEqual(run("\x1b[;5H"), ["csi 0 H [-1,5]"]);
  assert.deepEqual(run("\x1b[5;H"), ["csi 0 H [5,-1]"]);
  assert.deepEqual(run("\x1b[0;00H"), ["csi 0 H [0,0]"]);
  assert.deepEqual(run("\x1b[65535;65536H"), ["csi 0 H [65535,-1]"]);
  assert.deepEqual(run("\x1b[99999999999999999999999H"), ["csi 0 H [-1]"]);
  assert.deepEqual(run("\x1b[0000000000000000000007H"), ["csi 0 H [7]"]);
  // 98 zeros + "5" + ";" is 100 characters; the "7" after them is dropped.
  assert.deepEqual(run("\x1b[" + "0".repeat(98) + "5;7H"), ["csi 0 H [5,-1]"]);
  const semis = run("\x1b[" + ";".repeat(150) + "m");
  assert.equal(semis.length, 1);
  assert.equal(semis[0], `csi 0 m [${Array(101).fill(-1).join(",")}]`);
});

Deno.test("CSI private markers, intermediates, colons and ignore", () => {
  const q = packCollected("?").toString(16);
  assert.deepEqual(run("\x1b[?25h"), [`csi ${q} h [25]`]);
  assert.deepEqual(run("\x1b[?1;2004l"), [`csi ${q} l [1,2004]`]);
  assert.deepEqual(run("\x1b[>c"), [`csi ${packCollected(">").toString(16)} c [-1]`]);
  assert.deepEqual(run("\x1b[!p"), [`csi ${packCollected("!").toString(16)} p [-1]`]);
  assert.deepEqual(run("\x1b[1 q"), [`csi ${packCollected(" ").toString(16)} q [1]`]);
  assert.deepEqual(run('\x1b[1$"p'), [`csi ${packCollected('$"').toString(16)} p [1]`]);
  assert.deepEqual(run("\x1b[!!!!p"), [`csi ${COLLECTED_OVERFLOW.toString(16)} p [-1]`]);
  // ':' anywhere, a marker after a parameter, or a parameter after an intermediate: ignored
  // by mosh (no csiDispatch); a sequence with ':' goes to csiSubDispatch (the extended layer).
  assert.deepEqual(run("\x1b[4:3mX"), ["sub 0 m [4:3]", "ascii X"]);
  assert.deepEqual(run("\x1b[:mX"), ["sub 0 m [-1:-1]", "ascii X"]);
  assert.deepEqual(run("\x1b[1;4:3;58:2::255:0:9mX"), [
    "sub 0 m [1;4:3;58:2:-1:255:0:9]",
    "ascii X",
  ]);
  assert.deepEqual(run("\x1b[4:3?mX"), ["ascii X"]); // a marker after ':' drops it
  assert.deepEqual(run("\x1b[4:3 qX"), ["ascii X"]); // so does an intermediate
  assert.deepEqual(run("\x1b[4:3\rmX"), ["exec d", "sub 0 m [4:3]", "ascii X"]);
  assert.deepEqual(run("\x1b[5?hX"), ["ascii X"]);
  assert.deepEqual(run("\x1b[??hX"), ["ascii X"]);
  assert.deepEqual(run("\x1b[ 5mX"), ["ascii X"]);
  // 0x7F inside a sequence is ignored.
  assert.deepEqual(run("\x1b[3\x7f1m"), ["csi 0 m [31]"]);
});

Deno.test("controls inside sequences: C0 executes, CAN/SUB abort, ESC restarts", () => {
  assert.deepEqual(run("\x1b[5\r;6H"), ["exec d", "csi 0 H [5,6]"]);
  assert.deepEqual(run("\x1b[5\x18Hx"), ["exec 18", "ascii Hx"]);
  assert.deepEqual(run("\x1b[5\x1aH"), ["exec 1a", "ascii H"]);
  assert.deepEqual(run("\x1b[5\x1b[6H"), ["csi 0 H [6]"]);
  assert.deepEqual(run("\x1b\x07c"), ["exec 7", "esc 0 63"]);
  assert.deepEqual(run("\x1b(\x0dB"), ["exec d", `esc ${packCollected("(").toString(16)} 42`]);
  // A C1 control in the middle of a sequence executes and returns to ground.
  assert.deepEqual(run("\x1b[5", [0xc2, 0x85], "H"), ["exec 85", "ascii H"]);
});

Deno.test("escape sequences: finals, intermediates, and code points above 0x9F", () => {
  assert.deepEqual(run("\x1b7\x1b8\x1bc\x1bD\x1bM"), [
    "esc 0 37",
    "esc 0 38",
    "esc 0 63",
    "esc 0 44",
    "esc 0 4d",
  ]);
  assert.deepEqual(run("\x1b#8"), [`esc ${packCollected("#").toString(16)} 38`]);
  assert.deepEqual(run("\x1b(0q"), [`esc ${packCollected("(").toString(16)} 30`, "ascii q"]);
  assert.deepEqual(run("\x1bé"), ["esc 0 e9"]); // classified as 'A', dispatched with the real value
  assert.deepEqual(run("\x1b\x7fc"), ["esc 0 63"]);
});

Deno.test("OSC strings: terminators, contents, limit", () => {
  assert.deepEqual(run("\x1b]0;title\x07x"), ["osc 0;title", "ascii x"]);
  assert.deepEqual(run("\x1b]2;t\x1b\\x"), ["osc 2;t", "esc 0 5c", "ascii x"]);
  assert.deepEqual(run("\x1b]2;t\x18x"), ["osc 2;t", "exec 18", "ascii x"]);
  assert.deepEqual(run("\x1b]2;a\x01b\rc\x07"), ["osc 2;abc"]); // other C0 ignored
  assert.deepEqual(run("\x1b]2;h\u00e9\u4e00\x7f\x07"), ["osc 2;h\u00e9\u4e00\x7f"]);
  assert.deepEqual(run("\x1b]2;a", [0xc2, 0x9a], "b\x07"), [
    "osc 2;a",
    "exec 9a",
    "ascii b",
    "exec 7",
  ]);
  assert.deepEqual(run("\x1b]2;a", [0xc2, 0x90], "b\x07"), ["osc 2;a"]); // into DCS
  const long = run("\x1b]" + "x".repeat(OSC_BUFFER_LENGTH + 100) + "\x07");
  assert.deepEqual(long, ["osc " + "x".repeat(OSC_BUFFER_LENGTH)]);
  // A new OSC starts empty.
  assert.deepEqual(run("\x1b]1;a\x07\x1b]2;b\x07"), ["osc 1;a", "osc 2;b"]);
});

Deno.test("DCS, SOS, PM and APC contents are discarded", () => {
  assert.deepEqual(run("\x1bP1;2|abc\x1b\\x"), ["esc 0 5c", "ascii x"]);
  assert.deepEqual(run("\x1bPq\x07\r#1\x1b\\"), ["esc 0 5c"]);
  assert.deepEqual(run("\x1bX sos \x1b\\\x1b^pm\x1b\\\x1b_apc\x1b\\"), [
    "esc 0 5c",
    "esc 0 5c",
    "esc 0 5c",
  ]);
  assert.deepEqual(run([0xc2, 0x90], "q data", [0xc2, 0x9c], "y"), ["ascii y"]);
  assert.deepEqual(run("\x1b_x\x18y"), ["exec 18", "ascii y"]);
});

Deno.test("state and partial input survive across writes, and copyStateFrom copies them", () => {
  const a = new Recorder();
  const p = new Parser(a);
  p.parse(enc.encode("\x1b[3"));
  assert.equal(p.state, State.CsiParam);
  p.parse(enc.encode("1;4"));
  const b = new Recorder();
  const q = new Parser(b);
  q.copyStateFrom(p);
  p.parse(enc.encode("mA"));
  q.parse(enc.encode("mA"));
  assert.deepEqual(a.events, ["csi 0 m [31,4]", "ascii A"]);
  assert.deepEqual(b.events, a.events);

  p.parse(Uint8Array.of(0xe2, 0x82));
  q.copyStateFrom(p);
  p.parse(Uint8Array.of(0xac));
  q.parse(Uint8Array.of(0xac));
  assert.deepEqual(a.events.at(-1), "print 20ac");
  assert.deepEqual(b.events.at(-1), "print 20ac");

  p.parse(enc.encode("\x1b]2;abc"));
  q.copyStateFrom(p);
  q.parse(enc.encode("\x07"));
  assert.deepEqual(b.events.at(-1), "osc 2;abc");

  p.reset();
  assert.equal(p.state, State.Ground);
  p.parse(enc.encode("z"));
  assert.deepEqual(a.events.at(-1), "ascii z");
});

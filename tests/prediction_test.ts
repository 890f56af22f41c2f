// Tests of lib/prediction.ts: the local echo prediction engine (docs/PROTOCOL.md §8.4, §6.3).
// A Terminal plays the server's screen; the test types, echoes and acknowledges by hand.
import assert from "node:assert/strict";
import { ATTR_UNDERLINE, CELL_WORDS, type Framebuffer } from "../lib/framebuffer.ts";
import { PredictionEngine } from "../lib/prediction.ts";
import {
  parsePredictionMode,
  PREDICTION_WAKE_INTERVAL,
  type PredictionMode,
} from "../lib/prediction_triggers.ts";
import { Terminal } from "../lib/terminal.ts";

const enc = new TextEncoder();

/** A client with a prediction engine and a server screen it predicts over. */
class Session {
  readonly term: Terminal;
  readonly engine: PredictionEngine;
  /** The last client state sent; each `type` sends one more. */
  sent = 0n;
  now = 1000;

  constructor(
    mode: PredictionMode = "always",
    opts: { cols?: number; rows?: number; overwrite?: boolean; prompt?: string } = {},
  ) {
    this.term = new Terminal(opts.cols ?? 20, opts.rows ?? 5);
    this.term.write(opts.prompt ?? "$ ");
    this.engine = new PredictionEngine({ mode, overwrite: opts.overwrite });
    // Above SRTT_TRIGGER_HIGH (show in adaptive mode), below FLAG_TRIGGER_HIGH (no underline).
    this.engine.setSendInterval(60);
  }

  /** Types `input` as one read; returns the client state number that carries it. */
  type(input: string | Uint8Array): bigint {
    const bytes = typeof input === "string" ? enc.encode(input) : input;
    this.engine.setLocalFrameSent(this.sent);
    this.engine.newUserInput(bytes, this.term.snapshot(), this.now);
    return ++this.sent;
  }

  /** The server's echo ack reaches `state`. */
  ack(state: bigint): void {
    this.engine.setLocalFrameLateAcked(state);
  }

  /** The frame the client would paint now. */
  frame(): Framebuffer {
    const fb = this.term.snapshot();
    this.engine.cull(fb, this.now);
    return this.engine.apply(fb);
  }

  /** Row `y` of the painted frame, trailing blanks removed. */
  line(y = 0): string {
    return rowText(this.frame(), y);
  }

  /** Types one character, echoes it and acknowledges it, so its epoch is confirmed. */
  confirmOne(ch = "a"): void {
    const s = this.type(ch);
    this.term.write(ch);
    this.ack(s);
    this.frame();
  }
}

function rowText(fb: Framebuffer, y: number): string {
  return fb.screenText().split("\n")[y].trimEnd();
}

function underlined(fb: Framebuffer, y: number, x: number): boolean {
  return (fb.rows[y].data[x * CELL_WORDS + 3] & ATTR_UNDERLINE) !== 0;
}

function cursor(fb: Framebuffer): [number, number] {
  return [fb.cursorRow, fb.cursorCol];
}

Deno.test("prediction: epochs start at 1 and 0; the first guess of an epoch is not shown", () => {
  const s = new Session();
  assert.equal(s.engine.predictionEpoch, 1);
  assert.equal(s.engine.confirmedEpoch, 0);
  const st = s.type("a");
  assert.equal(s.line(), "$");
  assert.deepEqual(cursor(s.frame()), [0, 2]);
  // The server echoes it; before the echo ack it is still only pending.
  s.term.write("a");
  assert.equal(s.line(), "$ a");
  s.ack(st);
  s.frame();
  assert.equal(s.engine.confirmedEpoch, 1);
  // Now the epoch is confirmed: the next keystrokes show at once.
  s.type("bc");
  assert.equal(s.line(), "$ abc");
  assert.deepEqual(cursor(s.frame()), [0, 5]);
  assert.equal(s.engine.active, true);
  // The server's echo confirms them and they are dropped from the overlay.
  s.term.write("bc");
  s.ack(s.sent);
  assert.equal(s.line(), "$ abc");
  assert.equal(s.engine.active, false);
  assert.equal(s.engine.confirmedEpoch, 1);
});

Deno.test("prediction: apply never changes the synchronised framebuffer", () => {
  const s = new Session();
  s.confirmOne();
  const fb = s.term.snapshot();
  const before = fb.screenText();
  const row0 = fb.rows[0];
  s.engine.setLocalFrameSent(s.sent++);
  s.engine.newUserInput(enc.encode("xyz"), fb, s.now);
  s.engine.cull(fb, s.now);
  const out = s.engine.apply(fb);
  assert.equal(rowText(out, 0), "$ axyz");
  assert.equal(fb.screenText(), before);
  assert.equal(fb.rows[0], row0);
  assert.notEqual(out.rows[0], row0);
  assert.equal(out.rows[1], fb.rows[1]); // untouched rows are shared
  // With nothing to draw, apply returns its input.
  const idle = new Session();
  const f2 = idle.term.snapshot();
  idle.engine.cull(f2, 0);
  assert.equal(idle.engine.apply(f2), f2);
});

Deno.test("prediction: experimental mode shows the first keystroke at once", () => {
  const s = new Session("experimental");
  s.type("l");
  assert.equal(s.line(), "$ l");
  s.type("s");
  assert.equal(s.line(), "$ ls");
  // A wrong cell resets only that cell.
  s.term.write("lX");
  s.ack(s.sent);
  assert.equal(s.line(), "$ lX");
  assert.equal(s.engine.active, false);
});

Deno.test("prediction: never mode predicts nothing and never wakes up", () => {
  const s = new Session("never");
  s.type("abc");
  assert.equal(s.line(), "$");
  assert.equal(s.engine.active, false);
  assert.equal(s.engine.waitTime(), Infinity);
});

Deno.test("prediction: CR starts a tentative epoch on the next row", () => {
  const s = new Session();
  s.confirmOne("x");
  s.type("\r");
  s.type("ls");
  // Tentative: neither the cursor move nor the characters are shown.
  assert.equal(s.line(1), "");
  assert.deepEqual(cursor(s.frame()), [0, 3]);
  // The shell echoes CR LF and "l" but (say) swallows the "s".
  s.term.write("\r\nl");
  s.ack(s.sent - 1n); // the CR's state: the guesses of "ls" are still pending
  assert.equal(s.line(1), "l");
  assert.equal(s.engine.confirmedEpoch, 1);
  s.ack(s.sent); // the "ls" state: "l" confirms epoch 2, then "s" is wrong in a confirmed epoch
  const fb = s.frame();
  assert.equal(s.engine.confirmedEpoch, 2);
  assert.equal(rowText(fb, 1), "l");
  assert.equal(s.engine.active, false); // reset
});

Deno.test("prediction: after the epoch is confirmed, later guesses of it are shown", () => {
  const s = new Session();
  s.confirmOne("x");
  s.type("\r"); // epoch 2, cursor predicted at (1, 0)
  const st = s.type("l");
  s.term.write("\r\nl");
  s.ack(st);
  s.frame(); // "l" is right: epoch 2 confirmed
  assert.equal(s.engine.confirmedEpoch, 2);
  s.type("s");
  assert.equal(s.line(1), "ls");
  assert.deepEqual(cursor(s.frame()), [1, 2]);
});

Deno.test("prediction: a non-echoing prompt leaves no prediction after the echo ack", () => {
  const s = new Session("always", { prompt: "" });
  s.term.write("$ ");
  s.confirmOne("s");
  s.type("u");
  s.term.write("u");
  s.type("\r"); // tentative from here on
  s.term.write("\r\nPassword: ");
  s.now += 100;
  s.ack(s.sent);
  s.frame();
  for (const ch of "hunter2") {
    s.type(ch);
    s.now += 30;
    assert.equal(s.line(1), "Password:", "a password guess must never be drawn");
  }
  const last = s.type("\r");
  assert.equal(s.line(1), "Password:");
  s.now += 50;
  s.ack(last);
  s.now += 2000;
  const fb = s.frame();
  assert.equal(rowText(fb, 1), "Password:");
  assert.equal(rowText(fb, 2), "");
  assert.deepEqual(cursor(fb), [1, 10]);
  assert.equal(s.engine.active, false);
  assert.equal(s.engine.waitTime(), Infinity);
});

Deno.test("prediction: a wrong guess in an unconfirmed epoch kills only that epoch", () => {
  const s = new Session();
  s.confirmOne("x");
  s.type("\x01"); // a control character: tentative
  const wrong = s.type("q");
  s.type("r");
  const epoch = s.engine.predictionEpoch;
  assert.equal(s.line(), "$ x");
  s.term.write("Z"); // the application shows something else
  s.ack(wrong);
  const fb = s.frame();
  assert.equal(rowText(fb, 0), "$ xZ");
  assert.deepEqual(cursor(fb), [0, 4]);
  assert.equal(s.engine.confirmedEpoch, 1);
  assert.equal(s.engine.predictionEpoch, epoch + 1);
  // Unlike a reset, killing the epoch leaves a cursor prediction at the real cursor, pending
  // until the state of the last keystroke ("r") is acknowledged.
  assert.equal(s.engine.active, true);
  s.ack(s.sent);
  s.frame();
  assert.equal(s.engine.active, false);
  // The next keystroke is tentative (not drawn).
  s.type("r");
  assert.equal(s.line(), "$ xZ");
});

Deno.test("prediction: text typed before the first frame is confirmed by its echo", () => {
  // The client's screen before any frame from the server: blank, cursor at the top left.
  const s = new Session("always", { prompt: "" });
  s.type("echo ");
  assert.equal(s.line(), "");
  // The server's screen: the prompt, then the echo where the server's cursor was, not where it
  // was guessed. The text left of the server's cursor is the echo: the epoch is confirmed.
  s.term.write("$ echo ");
  s.ack(s.sent);
  assert.equal(s.line(), "$ echo");
  assert.equal(s.engine.confirmedEpoch, 1);
  assert.equal(s.engine.predictionEpoch, 1);
  assert.equal(s.engine.active, false);
  // So the next letter shows at once, at the server's cursor.
  s.type("a");
  assert.equal(s.line(), "$ echo a");
  assert.deepEqual(cursor(s.frame()), [0, 8]);
});

Deno.test("prediction: text typed before the first frame and not echoed earns nothing", () => {
  const s = new Session("always", { prompt: "" });
  s.type("hunter2");
  s.term.write("Password: ");
  s.ack(s.sent);
  assert.equal(s.line(), "Password:");
  assert.equal(s.engine.confirmedEpoch, 0);
  assert.equal(s.engine.predictionEpoch, 2); // the wrong guesses killed their epoch
  s.type("x");
  assert.equal(s.line(), "Password:");
  // Text that was already left of a cursor that did not move is no echo either.
  const t = new Session("always", { prompt: "$ ab" });
  t.type("\x01"); // tentative
  t.type("ab");
  t.term.write("\x1b[2D\x1b[2C"); // the application redraws nothing new
  t.ack(t.sent);
  assert.equal(t.line(), "$ ab");
  assert.equal(t.engine.confirmedEpoch, 0);
  t.type("c");
  assert.equal(t.line(), "$ ab");
});

Deno.test("prediction: a wrong guess in a confirmed epoch resets everything", () => {
  const s = new Session();
  s.confirmOne("x");
  const st = s.type("yz");
  assert.equal(s.line(), "$ xyz");
  const epoch = s.engine.predictionEpoch;
  s.term.write("YZ");
  s.ack(st);
  assert.equal(s.line(), "$ xYZ");
  assert.equal(s.engine.active, false);
  assert.equal(s.engine.predictionEpoch, epoch + 1);
  s.type("w");
  assert.equal(s.line(), "$ xYZ"); // tentative again
});

Deno.test("prediction: echoing what was already there earns no confirmation", () => {
  // Overwrite "a" with "a": the cell matches its original contents, so no credit.
  const o = new Session("always", { prompt: "$ abc", overwrite: true });
  o.term.write("\r\x1b[2C");
  const st = o.type("a");
  o.term.write("a");
  o.ack(st);
  o.frame();
  assert.equal(o.engine.confirmedEpoch, 0);
  assert.equal(o.engine.active, false);
});

Deno.test("prediction: insert mode shifts the rest of the line; overwrite does not", () => {
  const ins = new Session();
  ins.confirmOne("a");
  ins.term.write("c\b"); // "$ ac", cursor on "c"
  ins.type("b");
  assert.equal(ins.line(), "$ abc");
  assert.deepEqual(cursor(ins.frame()), [0, 4]);

  const ovr = new Session("always", { overwrite: true });
  ovr.confirmOne("a");
  ovr.term.write("c\b");
  ovr.type("b");
  assert.equal(ovr.line(), "$ ab");
  assert.deepEqual(cursor(ovr.frame()), [0, 4]);
});

Deno.test("prediction: backspace (DEL) in insert and overwrite mode", () => {
  const ins = new Session();
  ins.confirmOne("a");
  ins.term.write("bcd\b\b"); // "$ abcd", cursor on "c"
  ins.type("\x7f");
  assert.equal(ins.line(), "$ acd");
  assert.deepEqual(cursor(ins.frame()), [0, 3]);

  const ovr = new Session("always", { overwrite: true });
  ovr.confirmOne("a");
  ovr.term.write("bcd\b\b");
  ovr.type("\x7f");
  assert.equal(ovr.line(), "$ a cd");
  assert.deepEqual(cursor(ovr.frame()), [0, 3]);

  // At column 0 backspace does nothing, and it is not a reason to become tentative.
  const edge = new Session("always", { prompt: "" });
  edge.confirmOne("a");
  edge.term.write("\r");
  const epoch = edge.engine.predictionEpoch;
  edge.type("\x7f");
  assert.equal(edge.engine.predictionEpoch, epoch);
  assert.deepEqual(cursor(edge.frame()), [0, 0]);
});

Deno.test("prediction: arrow keys move the predicted cursor within the row", () => {
  const s = new Session();
  s.confirmOne("a");
  s.term.write("c");
  const epoch = s.engine.predictionEpoch;
  s.type("\x1bOD"); // application-mode left arrow, as the real terminal sends it
  assert.deepEqual(cursor(s.frame()), [0, 3]);
  s.type("b");
  assert.equal(s.line(), "$ abc");
  s.type("\x1b[C\x1b[C"); // ANSI right arrows
  assert.deepEqual(cursor(s.frame()), [0, 6]);
  assert.equal(s.engine.predictionEpoch, epoch);
  // Arrows stop at the row's edges.
  for (let i = 0; i < 30; i++) s.type("\x1b[C");
  assert.deepEqual(cursor(s.frame()), [0, 19]);
  // Other sequences (up arrow, Ctrl-right) make the engine tentative and move nothing.
  s.type("\x1bOA");
  assert.equal(s.engine.predictionEpoch, epoch + 1);
  s.type("\x1b[1;5C");
  assert.equal(s.engine.predictionEpoch, epoch + 2);
});

Deno.test("prediction: multi-byte UTF-8 never shows a broken character", () => {
  const text = "glück faĩl";
  const bytes = enc.encode(text);
  const s = new Session();
  s.confirmOne("x");
  for (const b of bytes) {
    s.type(Uint8Array.of(b));
    const shown = s.line();
    assert.ok(!shown.includes("\ufffd"), `broken character shown: ${JSON.stringify(shown)}`);
    assert.ok(("$ x" + text).startsWith(shown), `unexpected ${JSON.stringify(shown)}`);
  }
  assert.equal(s.line(), "$ x" + text);
  assert.deepEqual(cursor(s.frame()), [0, 3 + [...text].length]);
  // Once the server echoes the same, the predictions are confirmed and dropped.
  s.term.write(text);
  s.ack(s.sent);
  assert.equal(s.line(), "$ x" + text);
  assert.equal(s.engine.active, false);
});

Deno.test("prediction: invalid UTF-8 and unprintable or wide characters are not guessed", () => {
  const s = new Session();
  s.confirmOne("x");
  let epoch = s.engine.predictionEpoch;
  s.type(Uint8Array.of(0xff));
  assert.equal(s.engine.predictionEpoch, ++epoch);
  s.type(Uint8Array.of(0xc3, 0x28)); // broken sequence, then "(" in a new epoch
  assert.equal(s.engine.predictionEpoch, ++epoch);
  assert.equal(s.line(), "$ x");
  const w = new Session();
  w.confirmOne("x");
  epoch = w.engine.predictionEpoch;
  w.type("中");
  assert.equal(w.engine.predictionEpoch, epoch + 1);
  w.type("a");
  assert.equal(w.line(), "$ x");
  const c = new Session();
  c.confirmOne("x");
  epoch = c.engine.predictionEpoch;
  c.type("e\u0301"); // combining acute
  assert.equal(c.engine.predictionEpoch, epoch + 1);
  assert.equal(c.line(), "$ xe");
});

Deno.test("prediction: a read of more than 100 bytes is a paste", () => {
  const s = new Session("always", { cols: 200 });
  s.confirmOne("x");
  s.type("y");
  assert.equal(s.line(), "$ xy");
  const epoch = s.engine.predictionEpoch;
  s.type("p".repeat(101));
  assert.equal(s.line(), "$ x");
  assert.equal(s.engine.active, false);
  assert.equal(s.engine.predictionEpoch, epoch + 1);
  // Exactly 100 bytes is typing.
  const t = new Session("experimental", { cols: 200 });
  t.type("q".repeat(100));
  assert.equal(t.line(), "$ " + "q".repeat(100));
});

Deno.test("prediction: a size change resets the predictions", () => {
  const s = new Session();
  s.confirmOne("x");
  s.type("yz");
  assert.equal(s.line(), "$ xyz");
  s.term.resize(30, 5);
  assert.equal(s.line(), "$ x");
  assert.equal(s.engine.active, false);
  // reset() does the same for SIGWINCH.
  s.type("k");
  s.engine.reset();
  assert.equal(s.engine.active, false);
});

Deno.test("prediction: typing in the last column is tentative and wraps the cursor", () => {
  const s = new Session("always", { cols: 10, prompt: "" });
  s.confirmOne("a");
  s.term.write("bcdefgh"); // 8 columns used, cursor at column 8
  const epoch = s.engine.predictionEpoch;
  s.type("i");
  assert.equal(s.line(), "abcdefghi");
  s.type("j"); // the last column: tentative
  assert.equal(s.engine.predictionEpoch, epoch + 2); // and again for the wrap
  assert.equal(s.line(), "abcdefghi");
});

Deno.test("prediction: CR on the last row predicts a blank row", () => {
  const s = new Session("always", { rows: 3, prompt: "" });
  s.term.write("1\r\n2\r\n$ ");
  s.confirmOne("x");
  s.type("\r");
  const st = s.type("y");
  // The server scrolls and echoes "y" on a fresh last row: the epoch is confirmed.
  s.term.write("\r\ny");
  s.ack(st);
  s.frame();
  assert.equal(s.engine.confirmedEpoch, 2);
  // Now a CR typed on the last row predicts a blank row; once its epoch is confirmed (a "z"
  // on it is echoed) the row shows blank apart from the confirmed guesses.
  s.type("\r");
  s.type("z");
  s.type("w");
  s.term.write("\r\nz");
  s.ack(s.sent - 1n);
  const fb = s.frame();
  assert.equal(rowText(fb, 2), "zw");
  assert.deepEqual(cursor(fb), [2, 2]);
});

Deno.test("prediction: the character takes the renditions of the cell on its left", () => {
  const s = new Session();
  s.term.write("\x1b[31m");
  s.confirmOne("r"); // red "r"
  s.term.write("\x1b[m"); // the pen is default again; the prediction still follows the left cell
  s.type("s");
  const fb = s.frame();
  assert.equal(rowText(fb, 0), "$ rs");
  assert.equal(fb.rows[0].data[3 * CELL_WORDS + 1], 31);
  // At column 0 the prediction takes the current pen.
  const e = new Session("experimental", { prompt: "" });
  e.term.write("\x1b[44m");
  e.type("q");
  assert.equal(e.frame().rows[0].data[2], 44);
});

Deno.test("prediction: underlining follows the send interval with hysteresis", () => {
  const s = new Session();
  s.confirmOne("x");
  s.type("y");
  const at = () => {
    const fb = s.frame();
    assert.equal(rowText(fb, 0), "$ xy");
    return underlined(fb, 0, 3);
  };
  assert.equal(at(), false);
  s.engine.setSendInterval(81);
  assert.equal(at(), true);
  s.engine.setSendInterval(60);
  assert.equal(at(), true, "between 50 and 80 underlining stays on");
  s.engine.setSendInterval(50);
  assert.equal(at(), false);
  s.engine.setSendInterval(80);
  assert.equal(at(), false, "80 is not above the trigger");
  // Unknown cells (shifted past the line end) keep their contents but are underlined, except
  // in the last column; blank guesses over blank cells are not underlined.
  const u = new Session("always", { cols: 8, prompt: "" });
  u.confirmOne("a");
  u.term.write("bcdefgh\r\x1b[1C"); // "abcdefgh", cursor on "b"
  u.engine.setSendInterval(100);
  u.type("Z");
  const fb = u.frame();
  assert.equal(rowText(fb, 0), "aZbcdefh"); // "g" went into the unknown last column
  assert.equal(underlined(fb, 0, 1), true);
  assert.equal(underlined(fb, 0, 6), true);
  assert.equal(underlined(fb, 0, 7), false, "last column: unknown, not underlined");
  assert.equal(fb.rows[0].data[7 * CELL_WORDS], "h".codePointAt(0)!);
});

Deno.test("prediction: adaptive mode shows predictions only while SRTT is high", () => {
  const s = new Session("adaptive");
  s.engine.setSendInterval(20);
  s.confirmOne("x");
  s.type("y");
  assert.equal(s.line(), "$ x", "send interval 20 ms: not shown");
  s.engine.setSendInterval(31);
  assert.equal(s.line(), "$ xy");
  s.engine.setSendInterval(25);
  assert.equal(s.line(), "$ xy", "hysteresis between 20 and 30");
  s.engine.setSendInterval(20);
  assert.equal(s.line(), "$ xy", "stays on while a prediction is active");
  s.term.write("y");
  s.ack(s.sent);
  s.frame();
  s.type("z");
  assert.equal(s.line(), "$ xy", "off once nothing was active");
});

Deno.test("prediction: glitches show and then underline predictions; quick echoes repair", () => {
  const s = new Session("adaptive");
  s.engine.setSendInterval(20);
  s.confirmOne("x");
  const t0 = s.now;
  s.type("y");
  assert.equal(s.engine.waitTime(), PREDICTION_WAKE_INTERVAL);
  s.now = t0 + 249;
  assert.equal(s.line(), "$ x");
  s.now = t0 + 250;
  let fb = s.frame();
  assert.equal(rowText(fb, 0), "$ xy");
  assert.equal(s.engine.glitchTrigger, 10);
  assert.equal(underlined(fb, 0, 3), false);
  assert.equal(s.engine.waitTime(), PREDICTION_WAKE_INTERVAL);
  s.now = t0 + 5000;
  fb = s.frame();
  assert.equal(s.engine.glitchTrigger, 20);
  assert.equal(underlined(fb, 0, 3), false, "underlining starts with the next frame");
  fb = s.frame();
  assert.equal(underlined(fb, 0, 3), true);
  assert.equal(s.engine.waitTime(), Infinity, "all timing triggers fired");
  // Each correct prediction confirmed within 250 ms repairs one step, at most every 150 ms.
  s.term.write("y");
  s.ack(s.sent);
  s.frame();
  assert.equal(s.engine.glitchTrigger, 20, "a slow confirmation repairs nothing");
  for (let i = 0; i < 4; i++) {
    s.now += 100;
    const st = s.type("k");
    s.term.write("k");
    s.ack(st);
    s.frame();
  }
  // Quick confirmations 100 ms apart: only every other one is 150 ms after the last step.
  assert.equal(s.engine.glitchTrigger, 18);
});

Deno.test("prediction: the cursor prediction is judged too", () => {
  const s = new Session();
  s.confirmOne("x");
  const st = s.type("\x1b[D"); // left arrow, but the application ignores it
  assert.deepEqual(cursor(s.frame()), [0, 2]);
  s.ack(st);
  const fb = s.frame();
  assert.deepEqual(cursor(fb), [0, 3]);
  assert.equal(s.engine.active, false);
});

Deno.test("prediction: parsePredictionMode", () => {
  assert.equal(parsePredictionMode(undefined), "adaptive");
  for (const m of ["adaptive", "always", "never", "experimental"]) {
    assert.equal(parsePredictionMode(m), m);
  }
  assert.throws(() => parsePredictionMode("sometimes"), {
    message: "Unknown prediction mode sometimes.",
  });
  assert.throws(
    () => new PredictionEngine({ mode: "bogus" as PredictionMode }),
    /Unknown prediction mode bogus\./,
  );
});

Deno.test("prediction: random input, echoes, acks and resizes never break the engine", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pieces = [
    "a",
    "é",
    "中",
    "\r",
    "\n",
    "\x7f",
    "\x1bOC",
    "\x1bOD",
    "\x1b[5~",
    "\x1b]0;t\x07",
  ];
  for (const mode of ["adaptive", "always", "experimental"] as PredictionMode[]) {
    for (const overwrite of [false, true]) {
      const s = new Session(mode, { cols: 6, rows: 3, overwrite });
      for (let step = 0; step < 3000; step++) {
        s.now += rand(300);
        const r = rand(10);
        if (r < 5) {
          const bytes = new Uint8Array(1 + rand(4));
          for (let i = 0; i < bytes.length; i++) {
            bytes[i] = rand(3) === 0 ? rand(256) : pieces[rand(pieces.length)].charCodeAt(0);
          }
          s.type(rand(2) ? bytes : pieces[rand(pieces.length)]);
        } else if (r < 7) {
          s.term.write(pieces[rand(pieces.length)]);
        } else if (r < 9) {
          s.ack(BigInt(rand(Number(s.sent) + 1)));
          s.engine.setSendInterval(20 + rand(230));
        } else if (rand(20) === 0) {
          s.term.resize(1 + rand(8), 1 + rand(4));
        }
        const fb = s.frame();
        assert.ok(fb.cursorRow >= 0 && fb.cursorRow < fb.height);
        assert.ok(fb.cursorCol >= 0 && fb.cursorCol < fb.width);
        assert.equal(fb.rows.length, fb.height);
        for (const row of fb.rows) assert.equal(row.width, fb.width);
        assert.ok(s.engine.waitTime() === Infinity || s.engine.waitTime() === 50);
      }
    }
  }
});

// Tests of lib/escape_key.ts: MOSH_ESCAPE_KEY and the escape-key state machine
// (docs/PROTOCOL.md §8.1). The help texts were checked against Debian's mosh-client 1.4.0.
import assert from "node:assert/strict";
import {
  DEFAULT_ESCAPE_KEY,
  EscapeAction,
  EscapeKeyHandler,
  makeEscapeKey,
  parseEscapeKey,
  SUSPEND_MESSAGE,
} from "../lib/escape_key.ts";

const { SendByte, SendKey, ShowHelp, ClearHelp, Quit, Suspend, Repaint } = EscapeAction;

/** Feeds `input` and returns the action bits of each byte. */
function feed(h: EscapeKeyHandler, input: string): number[] {
  return [...input].map((ch) => h.feed(ch.charCodeAt(0)));
}

/** The bytes the client would send for `input`. */
function sent(h: EscapeKeyHandler, input: string): string {
  let out = "";
  for (const ch of input) {
    const a = h.feed(ch.charCodeAt(0));
    if (a & SendKey) out += String.fromCharCode(h.config.key);
    if (a & SendByte) out += ch;
  }
  return out;
}

Deno.test("escape key: the default is Ctrl-^ with pass key ^", () => {
  const k = parseEscapeKey(undefined);
  assert.equal(k.key, 0x1e);
  assert.equal(k.passKey, 0x5e);
  assert.equal(k.passKey2, 0x5e);
  assert.equal(k.requiresLineStart, false);
  assert.equal(k.keyName, "Ctrl-^");
  assert.equal(k.helpText, 'Commands: Ctrl-Z suspends, "." quits, "^" gives literal Ctrl-^');
});

Deno.test("escape key: MOSH_ESCAPE_KEY values", () => {
  const tilde = parseEscapeKey("~");
  assert.equal(tilde.key, 0x7e);
  assert.equal(tilde.passKey, 0x7e);
  assert.equal(tilde.requiresLineStart, true);
  assert.equal(tilde.keyName, '"~"');
  assert.equal(tilde.helpText, 'Commands: Ctrl-Z suspends, "." quits, "~" gives literal "~"');

  const ctrlA = parseEscapeKey("\x01");
  assert.equal(ctrlA.key, 1);
  assert.equal(ctrlA.passKey, 0x41);
  assert.equal(ctrlA.passKey2, 0x61, "lower-case pass key accepted too");
  assert.equal(ctrlA.requiresLineStart, false);
  assert.equal(ctrlA.helpText, 'Commands: Ctrl-Z suspends, "." quits, "A" gives literal Ctrl-A');

  const ctrlBracket = parseEscapeKey("\x1d");
  assert.equal(ctrlBracket.keyName, "Ctrl-]");
  assert.equal(ctrlBracket.passKey2, 0x5d);

  const letter = parseEscapeKey("Q");
  assert.equal(letter.passKey, 0x51);
  assert.equal(letter.passKey2, 0x71);
  assert.equal(letter.requiresLineStart, true);

  // DEL counts as printable here (as in mosh): it needs a line start and is its own pass key.
  const del = parseEscapeKey("\x7f");
  assert.equal(del.passKey, 0x7f);
  assert.equal(del.requiresLineStart, true);

  const off = parseEscapeKey("");
  assert.equal(off.key, 0);
  assert.equal(off.keyName, "");

  for (const bad of ["ab", "é", "😀", "\x80", "~~"]) {
    assert.equal(parseEscapeKey(bad).key, DEFAULT_ESCAPE_KEY, JSON.stringify(bad));
  }
  for (const refused of ["\x03", "\x04", "\n", "\x0c", "\r"]) {
    const k = parseEscapeKey(refused);
    assert.equal(k.key, DEFAULT_ESCAPE_KEY, JSON.stringify(refused));
    assert.equal(k.passKey, 0x5e);
    assert.equal(k.keyName, "Ctrl-^");
  }
  assert.throws(() => makeEscapeKey(128), /escape key: should be 0-127, got 128/);
});

Deno.test("escape key: ordinary bytes pass through; Ctrl-L also repaints", () => {
  const h = new EscapeKeyHandler();
  assert.deepEqual(feed(h, "ls\r"), [SendByte, SendByte, SendByte]);
  assert.equal(h.feed(0x0c), SendByte | Repaint);
  assert.equal(sent(h, "echo hi\r"), "echo hi\r");
});

Deno.test("escape key: Ctrl-^ . quits", () => {
  const h = new EscapeKeyHandler();
  assert.equal(h.feed(0x1e), ShowHelp);
  assert.equal(h.pending, true);
  assert.equal(h.feed(0x2e), Quit);
  assert.equal(h.pending, false);
});

Deno.test("escape key: Ctrl-^ Ctrl-Z suspends", () => {
  const h = new EscapeKeyHandler();
  assert.deepEqual(feed(h, "\x1e\x1a"), [ShowHelp, Suspend | ClearHelp]);
  assert.equal(SUSPEND_MESSAGE, "\n\x1b[37;44m[mosh is suspended.]\x1b[m\n");
});

Deno.test("escape key: the pass key types the escape key; other bytes go with it", () => {
  const h = new EscapeKeyHandler();
  assert.deepEqual(feed(h, "\x1e^"), [ShowHelp, SendKey | ClearHelp]);
  assert.deepEqual(feed(h, "\x1ex"), [ShowHelp, SendKey | SendByte | ClearHelp]);
  assert.equal(sent(h, "a\x1e^b\x1exc\x1e\x1e"), "a\x1eb\x1exc\x1e\x1e");
  // The byte after the escape key is not itself an escape or a repaint request.
  assert.deepEqual(feed(h, "\x1e\x0c"), [ShowHelp, SendKey | SendByte | ClearHelp]);
  const a = new EscapeKeyHandler(parseEscapeKey("\x01"));
  assert.equal(sent(a, "\x01a\x01A\x01b"), "\x01\x01\x01b");
});

Deno.test("escape key: a printable key counts only right after a typed CR or LF", () => {
  const h = new EscapeKeyHandler(parseEscapeKey("~"));
  assert.equal(sent(h, "~."), "~.", "not at session start");
  assert.equal(h.feed(0x0d), SendByte);
  assert.equal(h.feed(0x7e), ShowHelp);
  assert.equal(h.feed(0x2e), Quit);
  const lf = new EscapeKeyHandler(parseEscapeKey("~"));
  assert.deepEqual(feed(lf, "\n~~"), [SendByte, ShowHelp, SendKey | ClearHelp]);
  assert.equal(sent(lf, "a~x"), "a~x");
  // After an escape sequence the line start is gone, even when the byte after it is CR.
  const seq = new EscapeKeyHandler(parseEscapeKey("~"));
  assert.equal(sent(seq, "\r~\r~."), "\r~\r~.");
  assert.equal(seq.pending, false);
  // A control-character key works anywhere.
  const c = new EscapeKeyHandler(parseEscapeKey("\x01"));
  assert.deepEqual(feed(c, "x\x01."), [SendByte, ShowHelp, Quit]);
});

Deno.test("escape key: an empty MOSH_ESCAPE_KEY disables it", () => {
  const h = new EscapeKeyHandler(parseEscapeKey(""));
  assert.deepEqual(feed(h, "\x1e.\r\x1e."), [SendByte, SendByte, SendByte, SendByte, SendByte]);
  const nul = new EscapeKeyHandler(makeEscapeKey(0));
  assert.equal(nul.feed(0), SendByte);
});

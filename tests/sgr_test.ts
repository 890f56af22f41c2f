// Tests for lib/sgr.ts: the pen's two readings of SGR. mosh's part must be exactly C mosh
// 1.4.0's (the fidelity tests compare whole screens); here, what the extended part makes of
// the parameters C does not know, and that sequences with `:` reach only that part.

import assert from "node:assert/strict";
import { Pen, UnderlineStyle } from "../lib/sgr.ts";
import {
  ATTR_BLINK,
  ATTR_BOLD,
  ATTR_UNDERLINE,
  TRUE_COLOR,
  UNDERLINE_PALETTE,
  XATTR_FAINT,
  XATTR_OVERLINE,
  XATTR_STRIKE,
  XATTR_UNDERLINE_SHIFT,
} from "../lib/framebuffer.ts";
import { Parser, type ParserHandler } from "../lib/parser.ts";

/** A pen after `input` (any mix of SGR sequences) went through the parser. */
function penAfter(input: string, pen = new Pen()): Pen {
  const handler: ParserHandler = {
    print() {},
    printAscii() {},
    execute() {},
    csiDispatch: (params, count, _c, final) => {
      if (final === 0x6d) pen.sgr(params, count);
    },
    csiSubDispatch: (params, sub, count, _c, final) => {
      if (final === 0x6d) pen.subSgr(params, sub, count);
    },
    escDispatch() {},
    oscEnd() {},
  };
  new Parser(handler).parse(new TextEncoder().encode(input));
  return pen;
}

const curly = ATTR_UNDERLINE | (UnderlineStyle.Curly << XATTR_UNDERLINE_SHIFT);

Deno.test("sgr: plain parameters set both parts alike; the pen is then not extended", () => {
  const p = penAfter("\x1b[1;4;5;31;48;5;200m");
  assert.deepEqual([p.fg, p.bg, p.attrs], [31, 240, ATTR_BOLD | ATTR_UNDERLINE | ATTR_BLINK]);
  assert.equal(p.xattrs, p.attrs);
  assert.equal(p.extended, false);
  penAfter("\x1b[0m", p);
  assert.deepEqual([p.fg, p.bg, p.attrs, p.xattrs, p.ulColor], [0, 0, 0, 0, 0]);
});

Deno.test("sgr: 2, 9, 53 and 21 only in the extended part; 22, 29, 55, 24 end them", () => {
  const p = penAfter("\x1b[1;2;9;53m");
  assert.equal(p.attrs, ATTR_BOLD);
  assert.equal(p.xattrs, ATTR_BOLD | XATTR_FAINT | XATTR_STRIKE | XATTR_OVERLINE);
  assert.equal(p.extended, true);
  penAfter("\x1b[22;29;55m", p);
  assert.deepEqual([p.attrs, p.xattrs, p.extended], [0, 0, false]);
  penAfter("\x1b[21m", p);
  assert.equal(p.attrs, 0, "C does not know 21");
  assert.equal(p.xattrs, ATTR_UNDERLINE | (UnderlineStyle.Double << XATTR_UNDERLINE_SHIFT));
  penAfter("\x1b[24m", p);
  assert.equal(p.xattrs, 0);
});

Deno.test("sgr: `CSI 1;4:3 m` is ignored by mosh's part and curly bold in the extended one", () => {
  const p = penAfter("\x1b[1;4:3m");
  assert.equal(p.attrs, 0, "C shows no bold either");
  assert.equal(p.xattrs, ATTR_BOLD | curly);
  penAfter("\x1b[4:0m", p);
  assert.equal(p.xattrs, ATTR_BOLD);
  penAfter("\x1b[4m\x1b[4:1m", p);
  assert.equal(p.xattrs, ATTR_BOLD | ATTR_UNDERLINE);
  assert.equal(p.attrs, ATTR_UNDERLINE);
  penAfter("\x1b[4:9m", p); // unknown style: ignored
  assert.equal(p.xattrs, ATTR_BOLD | ATTR_UNDERLINE);
});

Deno.test("sgr: underline colour in every form; C reads 58;5;n as blink", () => {
  const p = penAfter("\x1b[58;5;196m");
  assert.equal(p.attrs, ATTR_BLINK, "C's reading of the 5");
  assert.equal(p.xattrs, 0);
  assert.equal(p.ulColor, UNDERLINE_PALETTE | 196);
  assert.equal(penAfter("\x1b[58;2;1;2;3m").ulColor, TRUE_COLOR | 0x010203);
  assert.equal(penAfter("\x1b[58:2::1:2:3m").ulColor, TRUE_COLOR | 0x010203);
  assert.equal(penAfter("\x1b[58:2:1:2:3m").ulColor, TRUE_COLOR | 0x010203);
  assert.equal(penAfter("\x1b[58:5:7m").ulColor, UNDERLINE_PALETTE | 7);
  assert.equal(penAfter("\x1b[58:5:7m\x1b[58:5:300m").ulColor, UNDERLINE_PALETTE | 7);
  assert.equal(penAfter("\x1b[58:5:7m\x1b[59m").ulColor, 0);
  assert.equal(penAfter("\x1b[58:5:7m\x1b[0m").ulColor, 0);
});

Deno.test("sgr: colours with `:` change neither part (colours are mosh's)", () => {
  const p = penAfter("\x1b[31m\x1b[38:2::255:0:0;48:5:3;1m");
  assert.deepEqual([p.fg, p.bg, p.attrs], [31, 0, 0]);
  assert.equal(p.xattrs, ATTR_BOLD, "the rest of the sequence still counts");
});

Deno.test("sgr: copies are independent; reset keeps the hyperlink", () => {
  const p = penAfter("\x1b[2m");
  p.link = ";http://x/";
  const c = p.copy();
  penAfter("\x1b[0m", p);
  assert.equal(c.xattrs, XATTR_FAINT);
  assert.equal(p.xattrs, 0);
  assert.equal(p.link, ";http://x/");
  assert.equal(p.extended, true);
});

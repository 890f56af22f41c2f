// Tests for the emulator's extended attributes layer (lib/terminal.ts with lib/sgr.ts,
// lib/osc.ts, lib/framebuffer.ts `Row.ext`): hyperlinks and extended renditions land on exactly
// the cells printed with them and follow every edit, while mosh's words stay what C makes.

import assert from "node:assert/strict";
import { Terminal } from "../lib/terminal.ts";
import { ATTR_BOLD, CELL_WORDS, XATTR_FAINT, XATTR_STRIKE } from "../lib/framebuffer.ts";
import { LINK_MAX } from "../lib/osc.ts";

const LINK = ";http://example.com/";

/** The links of row `y` as a string: one character a cell, `.` none, else the link's index. */
function links(t: Terminal, y: number): string {
  const row = t.snapshot().rows[y];
  const seen: string[] = [];
  let out = "";
  for (let x = 0; x < row.width; x++) {
    const l = row.link(x);
    if (l === "") out += ".";
    else {
      if (!seen.includes(l)) seen.push(l);
      out += String(seen.indexOf(l));
    }
  }
  return out;
}

Deno.test("attributes layer: OSC 8 links exactly the cells printed inside it (BEL and ST)", () => {
  const t = new Terminal(12, 3);
  t.write(`ab\x1b]8;${LINK}\x07cd\x1b]8;;\x07e\x1b]8;id=2;http://b/\x1b\\f\x1b]8;;\x1b\\g`);
  assert.equal(links(t, 0), "..00.1......");
  assert.equal(t.snapshot().rows[0].link(2), LINK);
  assert.equal(t.snapshot().rows[0].link(5), "id=2;http://b/");
  // A C peer's view: the same words as without the links.
  const plain = new Terminal(12, 3);
  plain.write("abcdefg");
  assert.ok(t.snapshot().rows[0].sameCells(plain.snapshot().rows[0]));
  assert.equal(t.snapshot().rows[0].sameExt(plain.snapshot().rows[0]), false);
});

Deno.test("attributes layer: erase, ICH, DCH, wide characters and resize carry it along", () => {
  const t = new Terminal(10, 2);
  t.write(`\x1b]8;${LINK}\x07abcdef\x1b]8;;\x07`);
  assert.equal(links(t, 0), "000000....");
  t.write("\x1b[1;3H\x1b[2@"); // ICH 2 at column 2
  assert.equal(links(t, 0), "00..0000..");
  t.write("\x1b[3P"); // DCH 3
  assert.equal(links(t, 0), "00000.....");
  t.write("\x1b[1;2H\x1b[X"); // ECH 1
  assert.equal(links(t, 0), "0.000.....");
  t.write("\x1b[1;4H\u4e00"); // a wide character blanks the next cell
  assert.equal(links(t, 0), "0.0.......");
  t.resize(3, 2);
  assert.equal(links(t, 0), "0.0");
  t.resize(6, 2);
  assert.equal(links(t, 0), "0.0...");
  t.write("\x1b[2K");
  assert.equal(t.snapshot().rows[0].ext, null, "EL 2 drops the layer");
});

Deno.test("attributes layer: extended renditions per cell; C words unchanged", () => {
  const t = new Terminal(10, 2);
  t.write("\x1b[1;2mA\x1b[9mB\x1b[0mC\x1b[1;4:3mD");
  const r = t.snapshot().rows[0];
  assert.equal(r.xattrs(0), ATTR_BOLD | XATTR_FAINT);
  assert.equal(r.xattrs(1), ATTR_BOLD | XATTR_FAINT | XATTR_STRIKE);
  assert.equal(r.hasExt(2), false);
  assert.equal(r.data[2 * CELL_WORDS + 3], 0);
  assert.equal(r.data[3 * CELL_WORDS + 3], 0, "C: `CSI 1;4:3 m` sets no bold");
  assert.ok(r.hasExt(3));
});

Deno.test("attributes layer: clones are independent; DECRC keeps the link; RIS ends it", () => {
  const t = new Terminal(10, 2);
  t.write(`\x1b[2m\x1b7\x1b[0m\x1b]8;${LINK}\x07a`);
  const c = t.clone();
  c.write("b");
  t.write("\x1b]8;;\x07x");
  assert.equal(links(c, 0), "00........");
  assert.equal(links(t, 0), "0.........");
  c.write("\x1b8c"); // DECRC: faint back, link kept
  const row = c.snapshot().rows[0];
  assert.equal(row.link(0), LINK);
  assert.equal(row.xattrs(0), XATTR_FAINT);
  c.write("\x1bcz");
  assert.equal(links(c, 0), "..........");
});

Deno.test("attributes layer: a row's link table stays bounded; long links are none", () => {
  const t = new Terminal(8, 2);
  for (let i = 0; i < 500; i++) t.write(`\r\x1b]8;;http://h/${i}\x07ab\x1b]8;;\x07`);
  const row = t.snapshot().rows[0];
  assert.ok(row.links!.length <= 17, `table of ${row.links!.length}`);
  assert.equal(row.link(0), ";http://h/499");
  assert.equal(row.link(1), ";http://h/499");
  t.write(`\r\x1b]8;;http://${"x".repeat(LINK_MAX)}\x07q`);
  assert.equal(t.snapshot().rows[0].link(0), "");
});

// Tests for lib/wcwidth.ts: every code point against glibc's wcwidth through FFI, plus fixed
// expectations of docs/PROTOCOL.md §9.4.
import assert from "node:assert/strict";
import { charWidth, wcwidth } from "../lib/wcwidth.ts";
import { libcWidths } from "../tools/gen_wcwidth.ts";

Deno.test("wcwidth matches glibc's wcwidth for every code point", () => {
  const { widths, version } = libcWidths();
  assert.equal(version, "2.36", "the table was generated from glibc 2.36");
  let mismatches = 0;
  let first = "";
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (wcwidth(cp) !== widths[cp]) {
      if (mismatches++ === 0) first = `U+${cp.toString(16)}: ${wcwidth(cp)} != ${widths[cp]}`;
    }
  }
  assert.equal(mismatches, 0, `first mismatch ${first}`);
});

Deno.test("wcwidth fixed expectations", () => {
  assert.equal(wcwidth(0x41), 1);
  assert.equal(wcwidth(0x301), 0); // combining acute accent
  assert.equal(wcwidth(0x4e00), 2); // CJK ideograph
  assert.equal(wcwidth(0x1f600), 2); // emoji
  assert.equal(wcwidth(0x378), -1); // unassigned
  assert.equal(wcwidth(0x7f), -1); // DEL
  assert.equal(wcwidth(0x1b), -1);
  assert.equal(wcwidth(0), 0);
  assert.equal(wcwidth(0x9b), -1); // C1 CSI
  assert.equal(wcwidth(0xff21), 2); // fullwidth A
  assert.equal(wcwidth(0x200b), 0); // zero width space
  assert.equal(wcwidth(0x110000), -1);
  assert.equal(wcwidth(-1), -1);
});

Deno.test("charWidth: printable ISO-8859-1 is width 1, the rest is wcwidth", () => {
  for (let cp = 0x20; cp <= 0x7e; cp++) assert.equal(charWidth(cp), 1);
  for (let cp = 0xa0; cp <= 0xff; cp++) assert.equal(charWidth(cp), 1);
  assert.equal(charWidth(0x7f), -1);
  assert.equal(charWidth(0x85), -1);
  assert.equal(charWidth(0x0a), -1);
  assert.equal(charWidth(0x301), 0);
  assert.equal(charWidth(0x4e00), 2);
  assert.equal(charWidth(0x378), -1);
});

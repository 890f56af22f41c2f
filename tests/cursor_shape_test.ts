// Tests for lib/cursor_shape.ts and DECSCUSR in the emulator (lib/terminal.ts): the shape is
// kept beside the C-visible screen and written to the client's terminal only when it changes,
// with the default put back at exit or suspend (docs/PROTOCOL.md §13).
import assert from "node:assert/strict";
import { CURSOR_SHAPE_RESET, CursorShape } from "../lib/cursor_shape.ts";
import { Terminal } from "../lib/terminal.ts";

Deno.test("emulator: DECSCUSR sets the cursor shape, nothing a C peer sees", () => {
  const t = new Terminal(80, 24);
  const before = t.snapshot();
  t.write("\x1b[5 q");
  assert.equal(t.cursorShape, 5);
  assert.ok(t.snapshot().equals(before), "the framebuffer is unchanged");
  t.write("\x1b[ q");
  assert.equal(t.cursorShape, 0);
  t.write("\x1b[2 q\x1b[7 q\x1b[1;2 q");
  assert.equal(t.cursorShape, 2, "out-of-range and multiple parameters are ignored");
  t.write("\x1bc");
  assert.equal(t.cursorShape, 0, "RIS resets it");
});

Deno.test("CursorShape: writes changes only, resets once at exit", () => {
  const c = new CursorShape();
  assert.equal(c.update(0), "");
  assert.equal(c.reset(), "", "nothing to reset when no shape was applied");
  assert.equal(c.update(5), "\x1b[5 q");
  assert.equal(c.update(5), "");
  assert.equal(c.update(9), "");
  assert.equal(c.reset(), CURSOR_SHAPE_RESET);
  assert.equal(c.reset(), "");
  // After a suspend the next paint applies the shape again.
  assert.equal(c.update(5), "\x1b[5 q");
});

// Tests for the display diff's extended attributes (lib/display_attributes.ts with
// lib/display.ts): the wire gives our emulator both layers exactly; a diff without attributes
// (every diff to a C peer) is byte for byte what it is without the layer; a real terminal gets
// what its terminfo shows, with OSC 8 around exactly the linked cells.

import assert from "node:assert/strict";
import { contentEqual, diffFrames } from "../lib/display.ts";
import { ALL_ATTRIBUTES, type AttributeSupport } from "../lib/display_attributes.ts";
import { Framebuffer } from "../lib/framebuffer.ts";
import { Terminal } from "../lib/terminal.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { acceptCapabilities } from "../lib/history_sender.ts";
import { ownCapabilities, SCROLLBACK } from "../lib/extensions.ts";
import { EventLog } from "../lib/terminal_events.ts";
import { generateStream } from "./workload.ts";

const EXTRAS = [
  "\x1b]8;id=1;http://e.x/\x07L\x1b[2;9;53;58;5;9mF\x1b[4:3;1mC\x1b]8;;\x07\x1b[m\x1b[21mD\x1b[24m",
  "\x1b]8;;http://a/\x07linked text here\x1b]8;;\x07",
  "\x1b[4:5;58:2::1:2:3mdashed\x1b[4:0m no\x1b[53m over\x1b[55;2m faint\x1b[22m",
  "\x1b]8;;http://b/\x07\x1b[7mrev\x1b[3@ins\x1b[2P\x1b]8;;\x07\x1b[K",
];

/** `fb` without its extended layer: what a C peer's diff may look at. */
function withoutLayer(fb: Framebuffer): Framebuffer {
  return fb.with({
    rows: fb.rows.map((r) => {
      const c = r.clone();
      c.ext = null;
      c.links = null;
      return c;
    }),
  });
}

const dec = new TextDecoder();
const stream = generateStream().subarray(0, 1 << 20);

Deno.test("display attributes: the wire reproduces both layers (workload with extras)", () => {
  for (const [w, h] of [[80, 24], [37, 11], [3, 2]]) {
    const server = new Terminal(w, h), client = new Terminal(w, h);
    let prev = server.snapshot();
    for (let i = 0, k = 0; i < stream.length; i += 3001, k++) {
      server.write(stream.subarray(i, i + 3001));
      server.write(EXTRAS[k % EXTRAS.length]);
      const next = server.snapshot();
      client.write(diffFrames(prev, next, { attributes: ALL_ATTRIBUTES }));
      const why = contentEqual(next, client.snapshot(), true);
      assert.equal(why, null, `${w}x${h} after ${i} bytes`);
      prev = next;
    }
  }
});

Deno.test("display attributes: without them the layer changes no byte", () => {
  const t = new Terminal(50, 12);
  let prev: Framebuffer | null = null, prevPlain: Framebuffer | null = null;
  for (let i = 0, k = 0; i < stream.length; i += 7919, k++) {
    t.write(stream.subarray(i, i + 7919));
    t.write(EXTRAS[k % EXTRAS.length]);
    const next = t.snapshot(), plain = withoutLayer(next);
    assert.deepEqual(diffFrames(prev, next), diffFrames(prevPlain, plain), `after ${i} bytes`);
    assert.deepEqual(diffFrames(null, next), diffFrames(null, plain));
    prev = next;
    prevPlain = plain;
  }
  // And a change in the layer alone is no change for a C peer.
  const a = new Terminal(10, 2), b = new Terminal(10, 2);
  a.write("link");
  b.write("\x1b]8;;http://x/\x07link");
  assert.ok(a.snapshot().rows[0].sameCells(b.snapshot().rows[0]));
  const before = a.snapshot();
  a.write("\r\x1b]8;;http://x/\x07link");
  assert.equal(diffFrames(before, a.snapshot()).length, 0);
  assert.notEqual(diffFrames(before, a.snapshot(), { attributes: ALL_ATTRIBUTES }).length, 0);
});

/** A real terminal's paint of `input` on a 30x2 screen with `support`. */
function paint(input: string, support: Partial<AttributeSupport>): string {
  const t = new Terminal(30, 2);
  t.write(input);
  const attributes = { ...ALL_ATTRIBUTES, ...support };
  return dec.decode(diffFrames(null, t.snapshot(), { exact: false, attributes }));
}

Deno.test("display attributes: a real terminal gets what it shows, and fallbacks", () => {
  const curly = "\x1b[1;4:3mC\x1b[0m";
  assert.ok(paint(curly, {}).includes("\x1b[0;1m\x1b[4:3mC"));
  assert.ok(paint(curly, { underlineStyles: false }).includes("\x1b[0;1;4mC"));
  const attrs = "\x1b[2mF\x1b[0;9mS\x1b[0;53mO\x1b[0;4;58:2::1:2:3mU";
  const all = paint(attrs, {});
  for (const part of ["\x1b[0;2mF", "\x1b[0;9mS", "\x1b[0;53mO", "\x1b[0;4m\x1b[58:2::1:2:3mU"]) {
    assert.ok(all.includes(part), `${JSON.stringify(part)} in ${JSON.stringify(all)}`);
  }
  const none = paint(attrs, {
    faint: false,
    strike: false,
    overline: false,
    underlineColor: false,
  });
  for (const part of ["\x1b[0mF", "S", "O", "\x1b[0;4mU"]) assert.ok(none.includes(part), part);
  assert.ok(!/;(2|9|53)m|58:/.test(none), JSON.stringify(none));
  // Without any attributes the paint is mosh's: C's view of the same cells.
  const t = new Terminal(30, 2);
  t.write(attrs);
  assert.ok(!dec.decode(diffFrames(null, t.snapshot(), { exact: false })).includes("4:"));
});

Deno.test("display attributes: OSC 8 around exactly the linked cells, closed before erases", () => {
  const input = "a \x1b]8;;http://x/\x07link\x1b]8;;\x07 b\r\n\x1b]8;;http://y/\x07tail";
  const out = paint(input, {});
  assert.ok(out.includes("a \x1b]8;;http://x/\x07link\x1b]8;;\x07 b"), JSON.stringify(out));
  // The second link is open at the end of the input, but no diff leaves one open.
  assert.ok(out.includes("\x1b]8;;http://y/\x07tail\x1b]8;;\x07"), JSON.stringify(out));
  assert.ok(!paint(input, { hyperlinks: false }).includes("\x1b]8"));
  // Erasing linked cells closes the link before the erase.
  const t = new Terminal(30, 2);
  t.write(input);
  const before = t.snapshot();
  t.write("\x1b[1;4H\x1b[K");
  const erase = dec.decode(diffFrames(before, t.snapshot(), { attributes: ALL_ATTRIBUTES }));
  assert.ok(!erase.includes("\x1b]8;;http"), JSON.stringify(erase));
  const client = new Terminal(30, 2);
  client.write(diffFrames(null, before, { attributes: ALL_ATTRIBUTES }));
  client.write(erase);
  assert.equal(contentEqual(t.snapshot(), client.snapshot(), true), null);
});

Deno.test("display attributes: per connection, only for a client that announced them", () => {
  const c = new TerminalState(20, 2), ours = new TerminalState(20, 2);
  acceptCapabilities(c, [SCROLLBACK], null, new EventLog()); // a client without the capability
  acceptCapabilities(
    ours,
    ownCapabilities({ scrollback: true, features: true }),
    null,
    new EventLog(),
  );
  assert.deepEqual([c.attributes, ours.attributes], [false, true]);
  for (const s of [c, ours]) s.terminal.write("plain link");
  const sentC = c.clone(), sentOurs = ours.clone();
  assert.equal(sentOurs.attributes, true, "clones keep it");
  // A change in the extended layer alone: nothing for the C client, a diff for ours.
  for (const s of [c, ours]) s.terminal.write("\r\x1b[6C\x1b]8;;http://x/\x07link\x1b]8;;\x07");
  assert.ok(c.equals(sentC));
  assert.equal(c.diffFrom(sentC).length, 0);
  assert.ok(!ours.equals(sentOurs));
  const client = new TerminalState(20, 2);
  client.applyString(sentOurs.diffFrom(new TerminalState(20, 2)));
  client.applyString(ours.diffFrom(sentOurs));
  assert.equal(client.terminal.snapshot().rows[0].link(6), ";http://x/");
  assert.ok(ours.contentEquals(client));
});

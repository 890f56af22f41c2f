/**
 * Fragmentation throughput (docs/PROTOCOL.md §3): serialize + zlib + split a 2 KB terminal-like
 * instruction, and reassemble + inflate + parse it; and lib/deflate.ts against node:zlib's
 * deflateSync (zlib's default level, what C mosh's compress() uses) on instruction-shaped inputs
 * (§3.2): a screen diff, `seq` and `yes` output with their history lines (the shape the server
 * sends with scrollback on: about 3.3 KB), a short 300-byte update, and 60 KB of `seq`.
 *
 *   deno bench --allow-all bench/fragment_bench.ts
 */

import { deflateSync } from "node:zlib";
import { deflate } from "../lib/deflate.ts";
import { FragmentAssembly, Fragmenter, fragmentMtu, IPV4_DATAGRAM_MTU } from "../lib/fragment.ts";
import { encodeHostMessage, type Instruction } from "../lib/protobuf.ts";

// About 2 KB of screen update: cursor moves, colours and text, as a HostMessage.
let screen = "";
for (let row = 1; screen.length < 2000; row++) {
  screen += `\x1b[${row};1H\x1b[0;1;3${
    row % 8
  }m$ ls -l /usr/lib/x86_64-linux-gnu | head -${row}\x1b[K`;
}
const inst: Instruction = {
  protocolVersion: 2,
  oldNum: 41n,
  newNum: 42n,
  ackNum: 17n,
  throwawayNum: 40n,
  diff: encodeHostMessage([{ type: "hostbytes", data: new TextEncoder().encode(screen) }]),
  chaff: crypto.getRandomValues(new Uint8Array(9)),
};
const mtu = fragmentMtu(IPV4_DATAGRAM_MTU);
const fragmenter = new Fragmenter();
const fragments = fragmenter.makeFragments(inst, mtu);
const assembly = new FragmentAssembly();
if (assembly.add(fragments[0]) === null) throw new Error("expected one fragment");

let n = 0n;
Deno.bench("fragment 2 KB instruction (serialize + zlib + split)", { group: "fragment" }, () => {
  fragmenter.makeFragments({ ...inst, newNum: n++ }, mtu);
});

Deno.bench("reassemble 2 KB instruction (inflate + parse)", { group: "fragment" }, () => {
  if (assembly.add(fragments[0]) === null) throw new Error("did not assemble");
});

// Instruction-shaped inputs: a screen diff of the last rows, then history lines, each a short
// record (3 bytes of framing) around the line's text, as captured from a session.
const encoder = new TextEncoder();
function scrolled(first: number, lines: number, text: (k: number) => string): Uint8Array {
  let diff = "\x1b[?25l";
  for (let row = 1; row <= 24; row++) diff += `\x1b[${row};2H${text(first + lines - 24 + row)}`;
  diff += "\x1b[?25h";
  let history = "";
  for (let k = first; k < first + lines; k++) {
    const t = text(k);
    history += `\x1a${String.fromCharCode(t.length + 1)}\x00${t}`;
  }
  return encoder.encode(`\x08\x02\x10\x12\x18\x13 \x13(\x122${diff}\n${history}:\x03\x87W-`);
}
const inputs: [string, Uint8Array][] = [
  ["2 KB screen diff", inst.diff],
  ["300 B screen update", encoder.encode(screen.slice(0, 300))],
  ["3.3 KB seq + history", scrolled(231197, 330, (k) => String(k))],
  ["3.3 KB yes + history", scrolled(0, 800, () => "y")],
  ["60 KB seq + history", scrolled(400000, 7000, (k) => String(k))],
];
for (const [name, data] of inputs) {
  const group = `deflate ${name}`;
  Deno.bench(`node:zlib deflateSync, ${name}`, { group, baseline: true }, () => {
    deflateSync(data);
  });
  Deno.bench(`lib/deflate.ts, ${name}`, { group }, () => {
    deflate(data);
  });
}

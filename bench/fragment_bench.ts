/**
 * Fragmentation throughput (docs/PROTOCOL.md §3): serialize + zlib + split a 2 KB terminal-like
 * instruction, and reassemble + inflate + parse it.
 *
 *   deno bench --allow-all bench/fragment_bench.ts
 */

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

/**
 * `deno bench` entries for the terminal emulator's throughput (docs/PROTOCOL.md §9):
 * `Terminal.write` in 16 KiB chunks over the stream workload at 80x24 and 200x60 and over
 * `seq 1 2000000` at 80x24. Each iteration feeds a whole workload to a fresh terminal; run
 * bench/terminal_run.ts for MB/s figures and the screen-hash exactness check.
 */

import { Terminal } from "../lib/terminal.ts";
import { feedAndHash, seqCrlf } from "../tests/screen_hash.ts";
import { generateStream } from "../tests/workload.ts";

const stream = generateStream();
const seq = seqCrlf(2000000);

Deno.bench({
  name: "Terminal.write stream 50 MiB at 80x24",
  n: 3,
  warmup: 1,
  fn: () => {
    feedAndHash(new Terminal(80, 24), stream);
  },
});

Deno.bench({
  name: "Terminal.write stream 50 MiB at 200x60",
  n: 3,
  warmup: 1,
  fn: () => {
    feedAndHash(new Terminal(200, 60), stream);
  },
});

Deno.bench({
  name: "Terminal.write seq 1 2000000 at 80x24",
  n: 3,
  warmup: 1,
  fn: () => {
    feedAndHash(new Terminal(80, 24), seq);
  },
});

/**
 * `deno bench` entries for the terminal emulator's throughput (docs/PROTOCOL.md §9):
 * `Terminal.write` in 16 KiB chunks over the stream workload at 80x24 and 200x60 and over
 * `seq 1 2000000` at 80x24. Each iteration feeds a whole workload to a fresh terminal; run
 * bench/terminal_run.ts for MB/s figures and the screen-hash exactness check. The `seq` flood
 * also runs into a clone (what the client writes into: it must not be slower than a fresh
 * terminal) and into a terminal feeding a 10,000-line history ring (the server's scrollback).
 */

import { HistoryRing } from "../lib/history.ts";
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

Deno.bench({
  name: "Terminal.write seq 1 2000000 at 80x24 into a clone",
  n: 3,
  warmup: 1,
  fn: () => {
    feedAndHash(new Terminal(80, 24).clone(), seq);
  },
});

Deno.bench({
  name: "Terminal.write seq 1 2000000 at 80x24, 10,000-line history ring",
  n: 3,
  warmup: 1,
  fn: () => {
    const t = new Terminal(80, 24);
    t.scrollback = new HistoryRing(10000);
    feedAndHash(t, seq);
  },
});

const shown = new Terminal(80, 24);
shown.write(seq.subarray(0, 4096));
Deno.bench("Terminal.clone of an 80x24 screen, 1,000 times", () => {
  for (let i = 0; i < 1000; i++) shown.clone();
});

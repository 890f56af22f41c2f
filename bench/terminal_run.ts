/**
 * Terminal emulator throughput and exactness run (docs/PROTOCOL.md §9): feeds the workloads to
 * `Terminal.write` in 16 KiB chunks, checks FNV-1a-64 hashes of `screenText()` at fixed points
 * against the reference values, and prints one JSON line of results.
 *
 * Workloads: (a) the `stream` workload (bench/workload.ts, seed 20240601, 50 MiB) at 80x24 and
 * 200x60; (b) `seq 1 2000000` with CRLF line ends at 80x24. "After N MiB" means after the first
 * N * 1048576 bytes, which is always a chunk boundary.
 *
 * Usage: deno run bench/terminal_run.ts [--scrollback N]   (exit status 1 if a hash differs)
 * With `--scrollback N` every terminal feeds a history ring of N lines (lib/history.ts), as the
 * server's does; the hashes must not change.
 * MB/s below are 10^6 bytes per second of wall time, hash checks included (they are a handful
 * of screenText() calls).
 */

import { HistoryRing } from "../lib/history.ts";
import { Terminal } from "../lib/terminal.ts";
import { generateStream } from "../tests/workload.ts";
import {
  feedAndHash,
  type HashCheck,
  SEQ_80X24_HASHES,
  seqCrlf,
  STREAM_200X60_HASHES,
  STREAM_80X24_HASHES,
} from "../tests/screen_hash.ts";

interface RunResult {
  name: string;
  bytes: number;
  seconds: number;
  mbps: number;
  checks: HashCheck[];
}

function run(
  name: string,
  cols: number,
  rows: number,
  data: Uint8Array,
  hashes: readonly [number, string][],
  scrollback: number,
): RunResult {
  const term = new Terminal(cols, rows);
  if (scrollback > 0) term.scrollback = new HistoryRing(scrollback);
  const t0 = performance.now();
  const checks = feedAndHash(term, data, hashes);
  const seconds = (performance.now() - t0) / 1000;
  return { name, bytes: data.length, seconds, mbps: data.length / 1e6 / seconds, checks };
}

if (import.meta.main) {
  const stream = generateStream();
  const seq = seqCrlf(2000000);
  const at = Deno.args.indexOf("--scrollback");
  const scrollback = at >= 0 ? Number(Deno.args[at + 1]) : 0;
  const results = [
    run("stream_80x24", 80, 24, stream, STREAM_80X24_HASHES, scrollback),
    run("stream_200x60", 200, 60, stream, STREAM_200X60_HASHES, scrollback),
    run("seq_80x24", 80, 24, seq, SEQ_80X24_HASHES, scrollback),
  ];
  let ok = true;
  const out: Record<string, unknown> = {};
  for (const r of results) {
    for (const c of r.checks) {
      const good = c.got === c.want;
      ok &&= good;
      console.error(`${r.name} after ${c.at} bytes: ${c.got} ${good ? "ok" : `!= ${c.want}`}`);
    }
    out[r.name] = {
      bytes: r.bytes,
      seconds: Number(r.seconds.toFixed(3)),
      mbps: Number(r.mbps.toFixed(2)),
      hashesOk: r.checks.every((c) => c.got === c.want),
    };
  }
  out.hashesOk = ok;
  console.log(JSON.stringify(out));
  if (!ok) Deno.exit(1);
}

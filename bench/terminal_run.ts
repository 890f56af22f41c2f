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
import { generateStream } from "./workload.ts";

/** Bytes per `Terminal.write` call. */
export const CHUNK = 16384;

/** Reference hashes: [bytes fed, expected FNV-1a-64 of screenText()]. -1 = the end. */
export const STREAM_80X24_HASHES: readonly [number, string][] = [
  [1 << 20, "063a0ea1bf424635"],
  [4 << 20, "e58158349839dddf"],
  [16 << 20, "b2bc910996ef6843"],
  [32 << 20, "289e6b87134ca16a"],
  [-1, "dca0ee8ac2171a6c"],
];
/** Reference hash of the stream at 200x60, at the end. */
export const STREAM_200X60_HASHES: readonly [number, string][] = [[-1, "d127894add039bf1"]];
/** Reference hash of `seq 1 2000000` (CRLF) at 80x24, at the end. */
export const SEQ_80X24_HASHES: readonly [number, string][] = [[-1, "250bf36a9b93312f"]];

/** FNV-1a 64-bit hash of `bytes` as 16 hex digits. */
export function fnv1a64(bytes: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < bytes.length; i++) {
    h = BigInt.asUintN(64, (h ^ BigInt(bytes[i])) * 0x100000001b3n);
  }
  return h.toString(16).padStart(16, "0");
}

/** FNV-1a-64 of the UTF-8 bytes of the terminal's `screenText()`. */
export function screenHash(term: Terminal): string {
  return fnv1a64(new TextEncoder().encode(term.screenText()));
}

/** The output of `seq 1 n` with CRLF line ends (what a pty with onlcr delivers). */
export function seqCrlf(n: number): Uint8Array {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) parts.push(String(i));
  return new TextEncoder().encode(parts.join("\r\n") + "\r\n");
}

/** One checkpoint result: where, what we got, what was expected. */
export interface HashCheck {
  at: number;
  got: string;
  want: string;
}

/**
 * Feeds `data` (or its first `limit` bytes) to `term` in CHUNK-sized writes, hashing the screen
 * at every checkpoint of `hashes` reached. Replies from the terminal are discarded.
 */
export function feedAndHash(
  term: Terminal,
  data: Uint8Array,
  hashes: readonly [number, string][] = [],
  limit = data.length,
): HashCheck[] {
  const end = Math.min(limit, data.length);
  const checks: HashCheck[] = [];
  let next = 0;
  for (let pos = 0; pos < end;) {
    const stop = Math.min(pos + CHUNK, end);
    term.write(data.subarray(pos, stop));
    pos = stop;
    while (next < hashes.length && hashes[next][0] !== -1 && hashes[next][0] <= pos) {
      if (hashes[next][0] === pos) {
        checks.push({ at: pos, got: screenHash(term), want: hashes[next][1] });
      }
      next++;
    }
  }
  if (end === data.length) {
    for (const [at, want] of hashes) {
      if (at === -1) checks.push({ at: data.length, got: screenHash(term), want });
    }
  }
  return checks;
}

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

/**
 * Exactness of the emulator on the stream workload: feeds bytes to `Terminal.write` in 16 KiB
 * chunks and hashes `screenText()` (FNV-1a-64) at fixed points, against reference values from C
 * mosh's emulator. Shared by tests/terminal_hash_test.ts (the first 4 MiB) and
 * bench/terminal_run.ts (the whole 50 MiB, with throughput).
 */

import type { Terminal } from "../lib/terminal.ts";

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

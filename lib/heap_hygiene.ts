/**
 * Heap hygiene for the long-running processes (the client and the server daemon): one full
 * garbage collection a minute while the session loop runs, when V8 exposes `gc` (the launchers
 * pass `--v8-flags=--expose-gc`; without it this does nothing).
 *
 * Why: a mosh session lives for days, and its live heap is small and constant (7.5 MB in the
 * client under bench/soak.ts, measured after forced collections). Left to itself, V8 promotes the
 * short-lived frames of a busy session into the old generation and raises that generation's limit
 * over the first several minutes, so the client's resident memory crept from 69 to 78-80 MiB
 * (+12-14% after the first minute) before levelling off. With one forced collection a minute V8
 * sizes the heap from the live data instead: the 10-minute soak levels off at 74 MiB (+8% after
 * the first minute). Each collection of this heap takes 1.5-4 ms.
 *
 * After each collection, where FFI is allowed (the server daemon), glibc's `malloc_trim(0)`
 * returns the C heap's free pages to the kernel: the daemon's start (loading and compiling its
 * modules) leaves about 10 MB of freed but resident C heap behind, which glibc keeps otherwise
 * (server VmRSS at idle 71 -> 61 MB, bench/memory_bench.ts). The first collection therefore comes
 * soon after the start (HEAP_HYGIENE_FIRST), then one every interval.
 */

import { libc } from "./libc.ts";

/** How often (ms) a full collection runs while the loop is active. */
export const HEAP_HYGIENE_INTERVAL = 60000;
/** When (ms after the loop starts) the first collection and trim run. */
export const HEAP_HYGIENE_FIRST = 5000;

let canTrim = true;

/**
 * Returns the C heap's free pages to the kernel (glibc `malloc_trim(0)`, through lib/libc.ts).
 * Returns false, and does nothing from then on, where that is not possible (no --allow-ffi).
 */
export function trimMallocHeap(): boolean {
  if (!canTrim) return false;
  try {
    libc().malloc_trim(0n);
    return true;
  } catch {
    canTrim = false;
    return false;
  }
}

/** Runs `gc()` at most once per `interval` ms, from a loop's regular pass. */
export class HeapHygiene {
  readonly #gc: (() => void) | null;
  readonly #interval: number;
  #last: number;

  /** `now` is the loop's clock; the first collection comes HEAP_HYGIENE_FIRST ms later. */
  constructor(now: number, interval = HEAP_HYGIENE_INTERVAL) {
    const gc = (globalThis as { gc?: unknown }).gc;
    this.#gc = typeof gc === "function" ? gc as () => void : null;
    this.#interval = interval;
    this.#last = now - interval + Math.min(HEAP_HYGIENE_FIRST, interval);
  }

  /** True when V8 exposes `gc` (so collections will run). */
  get enabled(): boolean {
    return this.#gc !== null;
  }

  /** Collects if an interval has passed since the last collection; returns whether it did. */
  tick(now: number): boolean {
    if (this.#gc === null || now - this.#last < this.#interval) return false;
    this.#last = now;
    this.#gc();
    trimMallocHeap();
    return true;
  }
}

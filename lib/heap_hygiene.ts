/**
 * Heap hygiene for the long-running processes (the client and the server daemon): one full
 * garbage collection a minute while the session loop runs, when V8 exposes `gc`, and the V8 flags
 * those processes run with.
 *
 * Deno runtime tuning, not part of mosh (docs/PROTOCOL.md §12.6): a session lives for days with a small, constant live
 * heap, but V8 left to itself lets a busy session's young generation and old-generation limit
 * grow over the first minutes, and resident memory creeps up with them. A young generation capped
 * at 1 MB and one forced collection a minute keep it flat (figures in bench/README.md, "Deno
 * runtime tuning"). Without `--expose-gc` this does nothing.
 *
 * After each collection, where FFI is allowed (the server daemon), glibc's `malloc_trim(0)`
 * returns the C heap's free pages to the kernel: the daemon's start (loading and compiling its
 * modules) leaves about 10 MB of freed but resident C heap behind, which glibc keeps otherwise
 * (server VmRSS at idle 71 -> 61 MB, bench/memory_bench.ts). The first collection therefore comes
 * soon after the start (HEAP_HYGIENE_FIRST), then one every interval.
 */

import { libc } from "./libc.ts";

/**
 * The V8 flags of the long-running processes, for `deno run --v8-flags=…`: a 1 MB young
 * generation (semi-space; 2 MB cost the idle server 4-5 MB more resident memory), and `gc`
 * exposed for `HeapHygiene`. server.ts starts the daemon with them and tests/harness.ts our
 * client; files that cannot import this must say the same: `bin/mosh`, `bin/mosh-client` and the
 * `start` task of `deno.json` (tests/v8_flags_test.ts checks the running programs).
 */
export const V8_FLAGS = "--max-semi-space-size=1,--expose-gc";

/** How often (ms) a full collection runs while the loop is active. */
export const HEAP_HYGIENE_INTERVAL = 60000;
/** When (ms after the loop starts) the first collection and trim run. */
export const HEAP_HYGIENE_FIRST = 5000;

/** FFI is granted (asked without a prompt: a prompt would write over the client's screen). */
let canTrim = Deno.permissions.querySync({ name: "ffi" }).state === "granted";

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

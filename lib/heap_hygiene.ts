/**
 * Heap hygiene for the long-running processes (the client and the server daemon): one full
 * garbage collection a minute while the session loop runs, when V8 exposes `gc`, and the V8 flags
 * those processes run with.
 *
 * Deno runtime tuning, not part of mosh (docs/PROTOCOL.md §12.6): a session lives for days with a small, constant live
 * heap, but V8 left to itself lets a busy session's young generation and old-generation limit
 * grow over the first minutes, and resident memory creeps up with them. A young generation capped
 * at 2 MB and one forced collection a minute keep it flat (figures in bench/README.md, "Deno
 * runtime tuning"). Without `--expose-gc` this does nothing.
 */

/**
 * The V8 flags of the long-running processes, for `deno run --v8-flags=…`: a 2 MB young
 * generation, and `gc` exposed for `HeapHygiene`. server.ts starts the daemon with them and
 * tests/harness.ts our client; files that cannot import this must say the same:
 * `bin/mosh`, `bin/mosh-client` and the `start` task of `deno.json`
 * (tests/heap_hygiene_test.ts checks the launchers by running them).
 */
export const V8_FLAGS = "--max-semi-space-size=2,--expose-gc";

/** How often (ms) a full collection runs while the loop is active. */
export const HEAP_HYGIENE_INTERVAL = 60000;

/** Runs `gc()` at most once per `interval` ms, from a loop's regular pass. */
export class HeapHygiene {
  readonly #gc: (() => void) | null;
  readonly #interval: number;
  #last: number;

  /** `now` is the loop's clock; the first collection comes one interval later. */
  constructor(now: number, interval = HEAP_HYGIENE_INTERVAL) {
    const gc = (globalThis as { gc?: unknown }).gc;
    this.#gc = typeof gc === "function" ? gc as () => void : null;
    this.#interval = interval;
    this.#last = now;
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
    return true;
  }
}

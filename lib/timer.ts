/**
 * Timers for the client and the server without Deno's global `setTimeout`, `setInterval` and
 * `setImmediate`: those are node:timers, and their first use loads Deno's Node compatibility
 * layer (+3 to 5 MB resident, ~15 ms of CPU; bench/README.md, "Memory, zlib and start time").
 * These run on the timer behind `AbortSignal.timeout`, which is Deno's own and fires with the
 * same precision (a median 1.1-1.4 ms after the time asked, like setTimeout).
 *
 * Deno runtime tuning, not part of mosh (docs/PROTOCOL.md §12.6). Such a timer cannot be
 * cleared: `Alarm` ignores the ones it no longer needs, which only keep the event loop alive until
 * they run out (the programs end in `Deno.exit`) and hold a few hundred bytes each meanwhile.
 */

/** Deno's timer: calls `fn` once, `ms` (rounded up, at least 0; Infinity: never) ms from now. */
function arm(ms: number, fn: () => void): void {
  if (!(ms < Infinity)) return;
  AbortSignal.timeout(Math.max(0, Math.ceil(ms))).addEventListener("abort", fn, { once: true });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => arm(ms, resolve));
}

/**
 * A resettable one-shot timer: calls `fn` once the deadline last set is reached, unless cleared.
 * Each `set` arms a timer of its own (re-arming an earlier one for the rest would add a second
 * timer's lateness); one armed for a deadline since moved or cleared does nothing when it runs out.
 */
export class Alarm {
  readonly #fn: () => void;
  /** The deadline (performance.now() ms), Infinity when cleared. */
  #at = Infinity;

  /** `fn` runs at each deadline reached. */
  constructor(fn: () => void) {
    this.#fn = fn;
  }

  /** Calls `fn` `ms` milliseconds from now (replacing any deadline set before). */
  set(ms: number): void {
    const at = performance.now() + Math.max(0, ms);
    this.#at = at;
    arm(ms, () => {
      if (this.#at !== at) return;
      this.#at = Infinity;
      this.#fn();
    });
  }

  /** Drops the deadline: `fn` is not called until the next `set`. */
  clear(): void {
    this.#at = Infinity;
  }

  /** True while a deadline is set. */
  get pending(): boolean {
    return this.#at !== Infinity;
  }
}

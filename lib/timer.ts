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

/** Timers armed here that have not run out yet (for tests: an idle program holds few). */
let armed = 0;

/** The number of timers armed by this module that have not run out yet. */
export function armedTimers(): number {
  return armed;
}

/** Deno's timer: calls `fn` once, `ms` (rounded up, at least 0; Infinity: never) ms from now. */
function arm(ms: number, fn: () => void): void {
  if (!(ms < Infinity)) return;
  armed++;
  AbortSignal.timeout(Math.max(0, Math.ceil(ms))).addEventListener("abort", () => {
    armed--;
    fn();
  }, { once: true });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => arm(ms, resolve));
}

/**
 * Deadlines further than this (ms) may share a timer armed for an earlier far deadline: a loop
 * woken often that sleeps for seconds each time would otherwise leave thousands of timers waiting
 * (they cannot be cleared), megabytes of them during a paste.
 */
export const SHARE_ABOVE = 25;

/**
 * A resettable one-shot timer: calls `fn` once the deadline last set is reached, unless cleared.
 * A near deadline (at most SHARE_ABOVE ms away) arms a timer of its own: re-arming an earlier one
 * for the rest would add a second timer's lateness. A far deadline later than the one a running
 * far timer was armed for shares that timer, which arms a new one for the rest when it runs out.
 * A timer armed for a deadline since moved or cleared does nothing when it runs out.
 */
export class Alarm {
  readonly #fn: () => void;
  /** The deadline (performance.now() ms), Infinity when cleared. */
  #at = Infinity;
  /** The deadline of the latest far timer, while it runs (-Infinity: none). */
  #far = -Infinity;

  /** `fn` runs at each deadline reached. */
  constructor(fn: () => void) {
    this.#fn = fn;
  }

  /** Calls `fn` `ms` milliseconds from now (replacing any deadline set before). */
  set(ms: number): void {
    const now = performance.now();
    const at = now + Math.max(0, ms);
    this.#at = at;
    if (ms > SHARE_ABOVE && this.#far > now && this.#far <= at) return;
    this.#arm(ms, at);
  }

  #arm(ms: number, at: number): void {
    if (ms > SHARE_ABOVE) this.#far = at;
    arm(ms, () => {
      const shared = this.#far === at; // the far timer later far deadlines rely on
      if (shared) this.#far = -Infinity;
      const deadline = this.#at;
      if (deadline === at) {
        this.#at = Infinity;
        this.#fn();
        return;
      }
      // The deadline moved later and shared this timer: arm one for the rest. (Any other timer
      // that runs out after its deadline moved does nothing: a loop woken often leaves many.)
      if (shared && deadline > at && deadline < Infinity) {
        this.#arm(deadline - performance.now(), deadline);
      }
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

/**
 * Timers for the client and the server without Deno's global `setTimeout`, `setInterval` and
 * `setImmediate`: those are node:timers, and their first use loads Deno's Node compatibility
 * layer (+3 to 5 MB resident, ~15 ms of CPU; bench/README.md, "Memory, zlib and start time").
 * These run on the timer behind `AbortSignal.timeout`, which is Deno's own and fires with the
 * same precision (a median 1.1-1.4 ms after the time asked, like setTimeout).
 *
 * Deno runtime tuning, not part of mosh (docs/PROTOCOL.md §12.6). Such a timer cannot be
 * cleared: `Alarm` keeps at most a few of them running and re-arms lazily, so moving a deadline
 * (later or off) costs no new timer, and a timer that outlives its use only keeps the event loop
 * alive until it runs out (the programs end in `Deno.exit`).
 */

/** Deno's timer: calls `fn` once, `ms` (whole, at least 0) milliseconds from now. */
function arm(ms: number, fn: () => void): void {
  const whole = Number.isFinite(ms) ? Math.max(0, Math.ceil(ms)) : 0;
  AbortSignal.timeout(whole).addEventListener("abort", fn, { once: true });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => arm(ms, resolve));
}

/** A resettable one-shot timer: calls `fn` once a set deadline is reached, unless moved or cleared. */
export class Alarm {
  readonly #fn: () => void;
  /** The deadline (performance.now() ms), Infinity when cleared. */
  #at = Infinity;
  /** Deadlines the running timers were armed for. */
  readonly #armed: number[] = [];

  /** `fn` runs at each deadline reached. */
  constructor(fn: () => void) {
    this.#fn = fn;
  }

  /** Calls `fn` `ms` milliseconds from now (replacing any deadline set before). */
  set(ms: number): void {
    this.#at = performance.now() + Math.max(0, ms);
    // A timer armed for a deadline at or before this one re-arms when it fires.
    for (const a of this.#armed) if (a <= this.#at) return;
    this.#arm();
  }

  /** Drops the deadline: `fn` is not called until the next `set`. */
  clear(): void {
    this.#at = Infinity;
  }

  /** True while a deadline is set. */
  get pending(): boolean {
    return this.#at !== Infinity;
  }

  #arm(): void {
    const at = this.#at;
    this.#armed.push(at);
    arm(at - performance.now(), () => this.#fired(at));
  }

  #fired(at: number): void {
    this.#armed.splice(this.#armed.indexOf(at), 1);
    // Cleared, or moved earlier than this timer: then another timer, armed for it, serves it.
    if (this.#at === Infinity || at > this.#at) return;
    if (at === this.#at) {
      this.#at = Infinity;
      this.#fn();
    } else if (!this.#armed.some((a) => a <= this.#at)) {
      this.#arm(); // the deadline moved later: wait for the rest
    }
  }
}

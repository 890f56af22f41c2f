/**
 * Waker: the main loops' one-shot wake-up, precise to the millisecond. Events call `wake()`, the
 * loop awaits `sleep(ms)` (mosh's select() timeout, §5.3 and §7.3 timers).
 *
 * Deno runtime tuning, not part of mosh (docs/PROTOCOL.md §12.6): C mosh sleeps in select() with millisecond precision,
 * but Deno's timers fire a millisecond or two late, which would stretch the client's 1 ms
 * SEND_MINDELAY and delay every server echo. So a short wait is finished by spinning on
 * event-loop turns (`setImmediate`, Deno's global: importing node:timers would load the Node
 * compatibility layer) (I/O is still polled in between), each turn first napping in a CPU-free
 * `Atomics.wait`; a wait of up to PRECISE_WAIT ms sleeps on a timer until SPIN_WAIT ms before its
 * deadline; longer waits, and every wait after MAX_EXPIRED_IN_A_ROW sleeps that no event ended,
 * use a plain timer, so an idle process never spins. The measurements behind these choices are
 * in bench/README.md ("Deno runtime tuning").
 */

import { WAIT_FOREVER } from "./transport.ts";

/** Waits up to this long (ms) are spun out on event-loop turns: Deno's timers fire ~1-2 ms late. */
export const SPIN_WAIT = 2;
/** Waits up to this long (ms) use a timer for all but the last SPIN_WAIT ms, then spin. */
export const PRECISE_WAIT = 25;
/** After this many sleeps in a row ended by their deadline (no event), spinning stops. */
export const MAX_EXPIRED_IN_A_ROW = 8;
/**
 * While spinning, each event-loop turn first naps (blocks the thread, using no CPU) for up to
 * this long (ms): an event waits at most one nap, and a spin costs ~13% of a core instead of all
 * of it (which, on a small machine, slows the terminal that shows our output).
 */
export const NAP = 0.25;
/** How late (ms) `Atomics.wait` returns, about: naps end this much before the deadline. */
const NAP_OVERSHOOT = 0.07;

/**
 * The main loops' clock: whole milliseconds, as C mosh keeps time (its timers then fire on
 * average half a millisecond early: the client's 1 ms SEND_MINDELAY averages 0.5 ms, the server's
 * 8 ms averages 7.5 ms).
 */
export function clock(): number {
  return Math.floor(performance.now());
}

/** A one-shot, millisecond-precise wake-up for an event loop (see the module comment). */
export class Waker {
  readonly #clock: () => number;
  #resolve: (() => void) | null = null;
  #pending = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #deadline = 0;
  #expiredInARow = 0;
  /** Never signalled: Atomics.wait on it is a precise, CPU-free nap. */
  readonly #nap = new Int32Array(new SharedArrayBuffer(4));

  /** `clock` is the millisecond clock the deadlines are measured on. */
  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Ends the current sleep now, or makes the next one return at once. */
  wake(): void {
    this.#expiredInARow = 0;
    if (this.#resolve === null) this.#pending = true;
    else this.#finish();
  }

  /** Resolves after `ms` (WAIT_FOREVER: never) or at the next `wake()`, whichever is first. */
  sleep(ms: number): Promise<void> {
    if (this.#pending || ms <= 0) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
      if (ms >= WAIT_FOREVER) return;
      this.#deadline = this.#clock() + ms;
      if (ms > PRECISE_WAIT || this.#expiredInARow >= MAX_EXPIRED_IN_A_ROW) {
        this.#timer = setTimeout(this.#expire, Math.ceil(ms));
      } else if (ms > SPIN_WAIT) {
        this.#timer = setTimeout(this.#spin, Math.floor(ms) - SPIN_WAIT);
      } else {
        this.#immediate = setImmediate(this.#spin);
      }
    });
  }

  #spin = (): void => {
    this.#timer = undefined;
    this.#immediate = undefined;
    const left = this.#deadline - this.#clock();
    // Too close to the deadline for a nap that would overshoot it: just take another turn.
    if (left > 0.1) Atomics.wait(this.#nap, 0, 0, Math.min(NAP, left - NAP_OVERSHOOT));
    if (this.#clock() >= this.#deadline) this.#expire();
    else this.#immediate = setImmediate(this.#spin);
  };

  #expire = (): void => {
    this.#timer = undefined;
    this.#expiredInARow++;
    this.#finish();
  };

  #finish(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.();
  }
}

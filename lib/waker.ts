/**
 * Waker: the main loops' one-shot wake-up, precise to the millisecond. Events call `wake()`, the
 * loop awaits `sleep(ms)` (mosh's select() timeout, §5.3 and §7.3 timers).
 *
 * Deno runtime tuning, not part of mosh (docs/PROTOCOL.md §12.6): C mosh sleeps in select() with
 * millisecond precision, but Deno's timers fire a millisecond or two late, which would stretch the
 * client's 1 ms SEND_MINDELAY and delay every server echo. So the last BLOCK_WAIT ms of a short
 * wait are spent blocked in `Atomics.wait` (precise to ~0.07 ms, using no CPU): a wait of up to
 * PRECISE_WAIT ms sleeps on a timer (lib/timer.ts, not Deno's node:timers) until BLOCK_WAIT ms
 * before its deadline, a shorter one blocks at once. Deno polls sockets only between turns of
 * its event loop, and a loop spinning on turns saw a datagram 2.5-4 ms late (median): blocking
 * delays an event at most BLOCK_WAIT ms. Longer waits, and every wait after MAX_EXPIRED_IN_A_ROW
 * sleeps that no event ended, use a plain timer, so an idle process never blocks. A block holds
 * the whole thread: while more than one loop runs in the process (a session host with two or more
 * sessions), no waker blocks, so one session's timer never delays another's datagrams. The
 * measurements behind these choices are in bench/README.md ("Deno runtime tuning").
 */

import { Alarm } from "./timer.ts";
import { WAIT_FOREVER } from "./transport.ts";

/** Waits up to this long (ms) are finished by blocking: Deno's timers fire ~1-2 ms late. */
export const BLOCK_WAIT = 2;
/** Waits up to this long (ms) use a timer for all but the last BLOCK_WAIT ms, then block. */
export const PRECISE_WAIT = 25;
/** The longest nap (ms) of a block: the clock is checked again after each. */
export const NAP = 0.1;
/** After this many sleeps in a row ended by their deadline (no event), blocking stops. */
export const MAX_EXPIRED_IN_A_ROW = 8;

/**
 * Wakers that have slept and are not closed: the loops this thread runs. Only a lone one may
 * block. (Counted from the first sleep, so a loop that never ran, or whose owner failed to start,
 * is not counted.)
 */
let liveWakers = 0;

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
  #deadline = 0;
  #expiredInARow = 0;
  /** Counts sleeps: a queued block that belongs to an ended sleep does nothing. */
  #sleeps = 0;
  /** What the alarm does: block out the rest of the wait (true) or end it (false). */
  #precise = false;
  readonly #alarm = new Alarm(() => this.#precise ? this.#block(this.#sleeps) : this.#expire());
  /** Never signalled: Atomics.wait on it is a precise, CPU-free block. */
  readonly #nap = new Int32Array(new SharedArrayBuffer(4));
  /** Counted in `liveWakers`: from the first sleep until `close()`. */
  #live = false;
  #closed = false;

  /** `clock` is the millisecond clock the deadlines are measured on. */
  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** Its loop has ended: other loops' wakers may block again once they are alone. */
  close(): void {
    if (this.#live) liveWakers--;
    this.#live = false;
    this.#closed = true;
  }

  /** Ends the current sleep now, or makes the next one return at once. */
  wake(): void {
    this.#expiredInARow = 0;
    if (this.#resolve === null) this.#pending = true;
    else this.#finish();
  }

  /**
   * Resolves after `ms` (WAIT_FOREVER: never) or at the next `wake()`, whichever is first. With
   * `precise` false the wait is a plain timer (it may end a millisecond or two late) and never
   * blocks: for a loop that an event is about to wake anyway (a pty still streaming output), where
   * blocking would only hold that event back.
   */
  sleep(ms: number, precise = true): Promise<void> {
    if (!this.#live && !this.#closed) {
      this.#live = true;
      liveWakers++;
    }
    if (this.#pending || ms <= 0) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
      const sleep = ++this.#sleeps;
      if (ms >= WAIT_FOREVER) return;
      this.#deadline = this.#clock() + ms;
      this.#precise = precise && ms <= PRECISE_WAIT && liveWakers === 1 &&
        this.#expiredInARow < MAX_EXPIRED_IN_A_ROW;
      if (!this.#precise) this.#alarm.set(Math.ceil(ms));
      else if (ms > BLOCK_WAIT) this.#alarm.set(Math.floor(ms) - BLOCK_WAIT);
      else queueMicrotask(() => this.#block(sleep));
    });
  }

  /** Blocks the thread until the deadline of sleep number `sleep`, then ends it. */
  #block(sleep: number): void {
    if (sleep !== this.#sleeps || this.#resolve === null) return;
    if (liveWakers > 1) {
      // Another loop started since this sleep began: end it on a timer instead.
      this.#precise = false;
      this.#alarm.set(Math.max(Math.ceil(this.#deadline - this.#clock()), 0));
      return;
    }
    // In naps: the clock may count whole milliseconds, and a nap ends ~0.1 ms after its time.
    for (
      let left = this.#deadline - this.#clock();
      left > 0;
      left = this.#deadline - this.#clock()
    ) {
      Atomics.wait(this.#nap, 0, 0, Math.min(left, NAP));
    }
    this.#expire();
  }

  #expire(): void {
    this.#expiredInARow++;
    this.#finish();
  }

  #finish(): void {
    this.#alarm.clear();
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.();
  }
}

// Tests for lib/waker.ts. Timing is compared, never bounded below a millisecond: each test takes
// the best of several samples (load only ever adds delay, so one undisturbed sample suffices) and
// compares the waker with a plain setTimeout measured at the same moment, on the same machine.
import assert from "node:assert/strict";
import process from "node:process";
import { MAX_EXPIRED_IN_A_ROW, Waker } from "../lib/waker.ts";
import { WAIT_FOREVER } from "../lib/transport.ts";

const clock = () => performance.now();

async function timed(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** A plain timer of `ms`, as Deno schedules it. */
const timer = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Which of `a` and `b` settles first ("a" on a tie within the same turn, as `Promise.race`). */
function first(a: Promise<void>, b: Promise<void>): Promise<"a" | "b"> {
  return Promise.race([a.then(() => "a" as const), b.then(() => "b" as const)]);
}

/**
 * `n` samples each of `w.sleep(ms)` and of a plain `setTimeout(ms)`, interleaved; returns the
 * shortest of each. Between sleeps an event (`wake`) keeps the waker in its precise mode.
 */
async function bestOf(w: Waker, ms: number, n: number): Promise<{ waker: number; plain: number }> {
  let waker = Infinity, plain = Infinity;
  for (let i = 0; i < n; i++) {
    waker = Math.min(waker, await timed(() => w.sleep(ms)));
    w.wake();
    await w.sleep(0);
    plain = Math.min(plain, await timed(() => timer(ms)));
  }
  return { waker, plain };
}

/**
 * The waker's best sample beat the plain timer's, or ended within a millisecond of its deadline
 * (a plain timer's best can be just as close now and then: its median is 1-2 ms late).
 */
function onTime(best: { waker: number; plain: number }, ms: number): boolean {
  return best.waker < best.plain || best.waker < ms + 1;
}

Deno.test("waker: short sleeps end on time, never early, sooner than a plain timer", async () => {
  const w = new Waker(clock);
  for (const ms of [1, 2, 5, 10]) {
    const best = await bestOf(w, ms, 15);
    assert.ok(best.waker >= ms, `sleep(${ms}) ended early: ${best.waker.toFixed(2)} ms`);
    // Deno's timers fire ~1.1-2.1 ms late; the waker blocks out the last milliseconds.
    assert.ok(
      onTime(best, ms),
      `sleep(${ms}): best ${best.waker.toFixed(2)} ms, a plain timer ${best.plain.toFixed(2)} ms`,
    );
  }
});

Deno.test("waker: wake() ends a sleep at once, and a wake before a sleep is kept", async () => {
  const w = new Waker(clock);
  const long = w.sleep(WAIT_FOREVER);
  setTimeout(() => w.wake(), 5);
  assert.equal(await first(long, timer(10000)), "a", "wake() ended the endless sleep");
  w.wake();
  // A pending wake (and a zero sleep) returns before any timer, even one of 0 ms, fires.
  assert.equal(await first(w.sleep(1000), timer(0)), "a", "a pending wake makes the sleep return");
  assert.equal(await first(w.sleep(0), timer(0)), "a", "a zero sleep returns");
});

Deno.test("waker: an idle loop stops blocking after repeated expiries", async () => {
  const w = new Waker(clock);
  for (let i = 0; i < MAX_EXPIRED_IN_A_ROW; i++) await w.sleep(1);
  // Now a plain timer serves short waits: still correct (never early), just timer-precise.
  const idle = await timed(() => w.sleep(2));
  assert.ok(idle >= 2, `ended early: ${idle} ms`);
  // An event re-enables the precise mode (bestOf wakes the waker between its sleeps).
  w.wake();
  const best = await bestOf(w, 2, 15);
  assert.ok(onTime(best, 2), `precise again: ${best.waker} ms, plain ${best.plain} ms`);
});

Deno.test("waker: the last milliseconds of a precise sleep block instead of burning the CPU", async () => {
  const w = new Waker(clock);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    await w.sleep(2); // blocked out entirely (at most BLOCK_WAIT)
    w.wake(); // an event between sleeps: keeps the precise mode on
    await w.sleep(0);
  }
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1000;
  // A pure spin would use the whole wall time; blocked naps leave it to other processes.
  assert.ok(cpu < wall * 0.5, `${cpu.toFixed(0)} ms of CPU in ${wall.toFixed(0)} ms`);
});

Deno.test("waker: an imprecise sleep never blocks: an event ends it even when its deadline passed", async () => {
  // A frozen clock: a blocking sleep would wait on it forever. The loop of a streaming pty asks
  // for such sleeps (lib/session.ts): the pty's next read must not be held back by a block.
  let reads = 0;
  const w = new Waker(() => {
    reads++;
    return 0;
  });
  w.wake(); // an event, so the waker is in its precise mode
  await w.sleep(0);
  for (const ms of [1, 2, 20]) {
    reads = 0;
    setTimeout(() => w.wake(), 0);
    await w.sleep(ms, false);
    assert.equal(reads, 1, `sleep(${ms}, false) read the clock once (its deadline), then waited`);
  }
});

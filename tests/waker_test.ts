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

/** `w`, closed when the test's scope ends (a live waker keeps the others from blocking). */
function closing(w: Waker): Waker & Disposable {
  return Object.assign(w, { [Symbol.dispose]: () => w.close() });
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
  using w = closing(new Waker(clock));
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
  using w = closing(new Waker(clock));
  const long = w.sleep(WAIT_FOREVER);
  setTimeout(() => w.wake(), 5);
  assert.equal(await first(long, timer(10000)), "a", "wake() ended the endless sleep");
  w.wake();
  // A pending wake (and a zero sleep) returns before any timer, even one of 0 ms, fires.
  assert.equal(await first(w.sleep(1000), timer(0)), "a", "a pending wake makes the sleep return");
  assert.equal(await first(w.sleep(0), timer(0)), "a", "a zero sleep returns");
});

Deno.test("waker: an idle loop stops blocking after repeated expiries", async () => {
  using w = closing(new Waker(clock));
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
  using w = closing(new Waker(clock));
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
  using w = closing(
    new Waker(() => {
      reads++;
      return 0;
    }),
  );
  w.wake(); // an event, so the waker is in its precise mode
  await w.sleep(0);
  for (const ms of [1, 2, 20]) {
    reads = 0;
    setTimeout(() => w.wake(), 0);
    await w.sleep(ms, false);
    assert.equal(reads, 1, `sleep(${ms}, false) read the clock once (its deadline), then waited`);
  }
});

Deno.test("waker: while two loops run in the process, neither blocks; alone again, one does", async () => {
  // A session host runs a loop per session: a block would hold every other session's datagrams.
  // The clock moves a millisecond at each read, so a sleep that only reads its deadline reads it
  // once, and a block reads it until the deadline has passed.
  let reads = 0;
  using a = closing(new Waker(() => reads++));
  a.wake(); // an event: precise mode
  await a.sleep(0);
  {
    using b = closing(new Waker(clock));
    b.sleep(WAIT_FOREVER); // another loop, asleep (its waker counts from its first sleep)
    for (const ms of [1, 2, 20]) {
      reads = 0;
      setTimeout(() => a.wake(), 0);
      await a.sleep(ms);
      assert.equal(reads, 1, `sleep(${ms}) with another loop alive read the clock once, no block`);
    }
  }
  // Alone again: a short wait is blocked out, reading the clock until its deadline.
  reads = 0;
  await a.sleep(2);
  assert.ok(reads >= 3, `a lone waker's sleep(2) blocked (read the clock ${reads} times)`);
});

Deno.test("waker: a loop that starts during another's sleep stops that sleep from blocking", async () => {
  // The clock stands still for its first 50 reads: a block would read it 50 times (0.1 ms naps).
  let reads = 0;
  using a = closing(new Waker(() => reads++ < 50 ? 0 : 1e9));
  a.wake();
  await a.sleep(0);
  reads = 0;
  // sleep(10) arms a timer for its first 8 ms, then would block out the rest.
  const sleeping = a.sleep(10);
  using b = closing(new Waker(clock));
  b.sleep(WAIT_FOREVER);
  await sleeping;
  assert.ok(reads <= 3, `no block: the clock was read ${reads} times`);
});

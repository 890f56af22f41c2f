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

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

Deno.test("waker: short sleeps end on time, not a timer tick late", async () => {
  const w = new Waker(clock);
  for (const ms of [1, 2, 5, 10]) {
    const samples: number[] = [];
    for (let i = 0; i < 7; i++) {
      samples.push(await timed(() => w.sleep(ms)));
      w.wake(); // an event between sleeps: keeps the precise mode on
      await w.sleep(0);
    }
    const m = median(samples);
    assert.ok(m >= ms, `sleep(${ms}) ended early: median ${m.toFixed(2)} ms`);
    // Deno's setTimeout alone is ~1.1-2.1 ms late; spinning the last 3 ms is well under that.
    assert.ok(m < ms + 0.9, `sleep(${ms}) late: median ${m.toFixed(2)} ms`);
  }
});

Deno.test("waker: wake() ends a sleep at once, and a wake before a sleep is kept", async () => {
  const w = new Waker(clock);
  const long = w.sleep(WAIT_FOREVER);
  setTimeout(() => w.wake(), 5);
  const took = await timed(() => long);
  assert.ok(took < 200, `woken after ${took} ms`);
  w.wake();
  assert.ok(await timed(() => w.sleep(1000)) < 5, "a pending wake makes the next sleep return");
  assert.ok(await timed(() => w.sleep(0)) < 5, "a zero sleep returns");
});

Deno.test("waker: an idle loop stops spinning after repeated expiries", async () => {
  const w = new Waker(clock);
  for (let i = 0; i < MAX_EXPIRED_IN_A_ROW; i++) await w.sleep(1);
  // Now a plain timer serves short waits: still correct, just timer-precise.
  const took = await timed(() => w.sleep(2));
  assert.ok(took >= 2, `ended early: ${took} ms`);
  w.wake(); // an event re-enables the precise mode
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await timed(() => w.sleep(2)));
    w.wake();
    await w.sleep(0);
  }
  assert.ok(median(samples) < 2.9, `precise again after an event: ${median(samples)} ms`);
});

Deno.test("waker: the last milliseconds of a precise sleep nap instead of burning the CPU", async () => {
  const w = new Waker(clock);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) {
    await w.sleep(2); // spun out entirely (at most SPIN_WAIT)
    w.wake(); // an event between sleeps: keeps the precise mode on
    await w.sleep(0);
  }
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1000;
  // A pure spin uses the whole wall time; the naps leave most of it to other processes.
  assert.ok(cpu < wall * 0.5, `${cpu.toFixed(0)} ms of CPU in ${wall.toFixed(0)} ms`);
});

// Tests for lib/timer.ts: sleeps and alarms on Deno's own timer. Only lower bounds are timed
// exactly (a timer never fires early); upper bounds are generous, for a loaded machine.
import assert from "node:assert/strict";
import { Alarm, armedTimers, SHARE_ABOVE, sleep } from "../lib/timer.ts";

/** Resolves with true once `done()` holds, or false after `ms`. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(5);
  }
  return true;
}

Deno.test("timer: sleep(ms) resolves, never before ms have passed", async () => {
  for (const ms of [0, 1, 7, 20]) {
    const t0 = performance.now();
    await sleep(ms);
    assert.ok(performance.now() - t0 >= ms - 0.01, `sleep(${ms}) ended early`);
  }
});

Deno.test("timer: an alarm rings once, at its deadline", async () => {
  let rung = 0;
  let at = 0;
  const alarm = new Alarm(() => {
    rung++;
    at = performance.now();
  });
  const t0 = performance.now();
  alarm.set(15);
  assert.equal(alarm.pending, true);
  assert.ok(await within(2000, () => rung === 1), "the alarm rang");
  assert.ok(at - t0 >= 15 - 0.01, `rang ${at - t0} ms after set(15)`);
  assert.equal(alarm.pending, false);
  await sleep(30);
  assert.equal(rung, 1, "it rang once");
});

Deno.test("timer: a cleared alarm stays silent; a moved one rings at the new deadline only", async () => {
  let rung = 0;
  const alarm = new Alarm(() => rung++);
  alarm.set(10);
  alarm.clear();
  assert.equal(alarm.pending, false);
  await sleep(40);
  assert.equal(rung, 0, "cleared: no ring");

  // Moved later: the first timer runs out silently.
  const t0 = performance.now();
  let at = 0;
  const later = new Alarm(() => {
    rung++;
    at = performance.now();
  });
  later.set(10);
  later.set(60);
  assert.ok(await within(2000, () => rung === 1), "the moved alarm rang");
  assert.ok(at - t0 >= 60 - 0.01, `rang ${at - t0} ms in, before its new deadline`);
  await sleep(30);
  assert.equal(rung, 1, "it rang once");

  // Moved earlier: it rings at the earlier deadline, and not again at the first.
  const soon = new Alarm(() => rung++);
  soon.set(1000);
  soon.set(5);
  assert.ok(await within(800, () => rung === 2), "rang at the earlier deadline");
  await sleep(1100);
  assert.equal(rung, 2, "the first deadline's timer ran out silently");
});

Deno.test("timer: far deadlines set again and again share a timer, and still ring on time", async () => {
  // A loop woken by every datagram of a paste sets its seconds-long sleep again each time: the
  // timers, which cannot be cleared, must not pile up.
  let rung = 0;
  let at = 0;
  const alarm = new Alarm(() => {
    rung++;
    at = performance.now();
  });
  const before = armedTimers();
  for (let i = 0; i < 10000; i++) alarm.set(60000);
  assert.ok(armedTimers() - before <= 2, `${armedTimers() - before} timers armed for one alarm`);
  // Moved later by a shared deadline: rings at the later one, once.
  const t0 = performance.now();
  alarm.set(SHARE_ABOVE + 20);
  await sleep(15);
  alarm.set(SHARE_ABOVE + 40); // shares the timer armed above, which re-arms for the rest
  assert.ok(await within(2000, () => rung === 1), "the alarm rang");
  assert.ok(at - t0 >= 15 + SHARE_ABOVE + 40 - 0.01, `rang ${at - t0} ms in, before its deadline`);
  await sleep(60);
  assert.equal(rung, 1, "it rang once");
  alarm.clear();
});

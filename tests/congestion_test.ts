// lib/congestion.ts: the delay rule keeps the standing queue near QUEUE_TARGET; noise that delays
// only some samples is not a queue; only a window in use grows; anything heard resets a backoff.

import assert from "node:assert/strict";
import {
  Congestion,
  INITIAL_WINDOW_SEGMENTS,
  MIN_WINDOW_SEGMENTS,
  QUEUE_TARGET,
  RANDOM_LOSS_FACTOR,
  ROUND_SAMPLES,
} from "../lib/congestion.ts";

const MSS = 1000;

/** One round trip of `n` acks of one segment each, every sample `rtt(i)`, the window full. */
function round(c: Congestion, now: number, n: number, rtt: (i: number) => number): number {
  for (let i = 0; i < n; i++) {
    c.inflight = c.cwnd; // in use
    c.onRtt(rtt(i), now);
    c.onAcked(MSS, now);
    now += 1;
  }
  return now + Math.max(c.rtt.srtt, 1);
}

Deno.test("a standing queue shrinks the window towards base + target; the window regrows below it", () => {
  const c = new Congestion(MSS, 1 << 20);
  let now = 0;
  for (let r = 0; r < 6; r++) now = round(c, now, 20, () => 10); // slow start at a 10 ms base
  const grown = c.cwnd;
  assert.ok(grown > INITIAL_WINDOW_SEGMENTS * MSS * 4, `slow start grew the window (${grown})`);
  // Every sample of a round 30 ms late: a real queue of 20 ms, above the 4 ms target.
  now = round(c, now, 20, () => 30);
  now = round(c, now, 20, () => 30);
  assert.ok(c.delayCuts >= 1);
  assert.ok(c.cwnd < grown, "the window shrank");
  assert.ok(c.cwnd >= grown / 4, "at most halving per round trip");
  assert.equal(c.queueDelay, 20);
  // A small queue (under the target, above half of it): one segment per round trip.
  const low = c.cwnd;
  for (let r = 0; r < 3; r++) now = round(c, now, 20, () => 10 + QUEUE_TARGET * 3 / 4);
  assert.ok(c.cwnd > low && c.cwnd < low + 4 * MSS, `${low} -> ${c.cwnd}`);
  // No queue at all: the path has room, and the window grows by what is acknowledged.
  const mid = c.cwnd;
  now = round(c, now, 20, () => 10);
  assert.ok(c.cwnd >= mid + 15 * MSS, `${mid} -> ${c.cwnd}`);
});

Deno.test("loss with a standing queue halves; random loss shrinks by RANDOM_LOSS_FACTOR, not below the initial window", () => {
  const c = new Congestion(MSS, 1 << 20);
  let now = 0;
  for (let r = 0; r < 6; r++) now = round(c, now, 20, () => 10);
  const grown = c.cwnd;
  c.onLoss(now);
  assert.equal(c.cwnd, grown * RANDOM_LOSS_FACTOR);
  assert.equal(c.randomLosses, 1);
  c.onLoss(now + 1); // the same round trip: no second cut
  assert.equal(c.cwnd, grown * RANDOM_LOSS_FACTOR);
  for (let i = 0; i < 100; i++) c.onLoss(now += 100);
  assert.equal(c.cwnd, INITIAL_WINDOW_SEGMENTS * MSS);
  // A standing queue of 20 ms: the loss is congestion.
  const d = new Congestion(MSS, 1 << 20);
  now = 0;
  for (let r = 0; r < 6; r++) now = round(d, now, 20, () => 10);
  now = round(d, now, 20, () => 30);
  const queued = d.cwnd;
  d.onLoss(now + 1000);
  assert.equal(d.cwnd, queued / 2);
  assert.equal(d.randomLosses, 0);
});

Deno.test("a round trip of fewer than ROUND_SAMPLES samples is not judged (jitter is no queue)", () => {
  const c = new Congestion(MSS, 1 << 20);
  let now = 0;
  for (let r = 0; r < 6; r++) now = round(c, now, 20, () => 10);
  // Rounds of 3 samples each 6 ms late (the least of a few jittered samples): not judged alone.
  for (let r = 0; r < 2; r++) now = round(c, now, 3, () => 16);
  assert.ok(ROUND_SAMPLES > 6);
  assert.equal(c.delayCuts, 0);
});

Deno.test("noise that delays some samples of a round trip is not a queue", () => {
  const c = new Congestion(MSS, 1 << 20);
  let now = 0;
  for (let r = 0; r < 4; r++) now = round(c, now, 20, () => 10);
  const before = c.cwnd;
  // Half the samples 60 ms late (a busy machine), the least of each round still 10 ms.
  for (let r = 0; r < 4; r++) now = round(c, now, 20, (i) => (i % 2 === 0 ? 70 : 10));
  assert.equal(c.delayCuts, 0);
  assert.ok(c.cwnd >= before);
});

Deno.test("delay never cuts below the initial window; loss and timeouts still do", () => {
  const c = new Congestion(MSS, 1 << 20);
  let now = 0;
  for (let r = 0; r < 10; r++) now = round(c, now, 4, () => (r === 0 ? 10 : 200));
  assert.ok(c.cwnd >= INITIAL_WINDOW_SEGMENTS * MSS, `${c.cwnd}`);
  c.onTimeout(now);
  assert.equal(c.cwnd, MIN_WINDOW_SEGMENTS * MSS);
});

Deno.test("a window not in use does not grow (RFC 7661)", () => {
  const c = new Congestion(MSS, 1 << 20);
  const start = c.cwnd;
  for (let i = 0; i < 100; i++) {
    c.inflight = MSS; // application-limited: one segment in flight
    c.onRtt(10, i);
    c.onAcked(MSS, i);
  }
  assert.equal(c.cwnd, start);
});

Deno.test("anything heard from the peer resets a backed-off timer", () => {
  const c = new Congestion(MSS, 1 << 20);
  c.onRtt(10, 0);
  const base = c.rto;
  c.onTimeout(1);
  c.onTimeout(2);
  assert.ok(c.rto >= base * 4);
  assert.equal(c.peerHeard(), true);
  assert.equal(c.rto, base);
  assert.equal(c.peerHeard(), false);
});

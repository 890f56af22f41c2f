// lib/congestion.ts: the delay rule keeps the standing queue near QUEUE_TARGET; noise that delays
// only some samples is not a queue; only a window in use grows; anything heard resets a backoff.

import assert from "node:assert/strict";
import {
  Congestion,
  INITIAL_WINDOW_SEGMENTS,
  MIN_WINDOW_SEGMENTS,
  QUEUE_TARGET,
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
  // The queue gone: growth again, now one segment per round trip (slow start is over).
  const low = c.cwnd;
  for (let r = 0; r < 3; r++) now = round(c, now, 20, () => 10 + QUEUE_TARGET / 2);
  assert.ok(c.cwnd > low && c.cwnd < low + 4 * MSS, `${low} -> ${c.cwnd}`);
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

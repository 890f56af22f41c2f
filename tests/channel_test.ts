// Channel layer on a simulated lossy link (lib/channel.ts, lib/channel_segment.ts,
// lib/congestion.ts; docs/EXTENSIONS.md "Forwarding"): bytes arrive exactly once and in order
// through loss, reordering, duplication and a black hole; the receive window is respected;
// congestion control backs off under loss. Time is simulated, so nothing here depends on load.

import assert from "node:assert/strict";
import { Channel, CHANNEL_WINDOW, REACK_FIRST } from "../lib/channel.ts";
import { Congestion, INITIAL_WINDOW_SEGMENTS } from "../lib/congestion.ts";
import {
  decodeSegment,
  encodeAck,
  encodeData,
  encodeProbe,
  FLAG_FIN,
  isSegment,
  SegmentKind,
  segmentPayloadSize,
} from "../lib/channel_segment.ts";
import { concatBytes } from "../lib/bytes.ts";
import { ProtocolError } from "../lib/errors.ts";

/** A deterministic pseudo-random source (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

interface LinkOptions {
  loss: number;
  duplicate: number;
  /** One-way delay, ms, and extra random delay (reordering), ms. */
  delay: number;
  jitter: number;
  /** Datagrams per ms each way. */
  rate: number;
  /** [start, end) of a black hole, ms. */
  blackHole?: [number, number];
  /** Bytes the receiver passes on per ms (Infinity = at once). */
  consumeRate: number;
  seed: number;
  /** Called once per simulated ms. */
  tick?: (now: number) => void;
}

interface End {
  channel: Channel;
  received: Uint8Array[];
  receivedBytes: number;
  ends: number;
  unconsumed: number;
  maxUnconsumed: number;
}

function makeEnd(id: number, mss: number): End {
  const end: End = {
    channel: null as unknown as Channel,
    received: [],
    receivedBytes: 0,
    ends: 0,
    unconsumed: 0,
    maxUnconsumed: 0,
  };
  end.channel = new Channel(id, mss, new Congestion(mss, 4 * CHANNEL_WINDOW), {
    data(bytes) {
      end.received.push(bytes.slice());
      end.receivedBytes += bytes.length;
      end.unconsumed += bytes.length;
      if (end.unconsumed > end.maxUnconsumed) end.maxUnconsumed = end.unconsumed;
    },
    end() {
      end.ends++;
    },
  });
  return end;
}

/** Runs both ends until both are drained and both saw the other's end, or `limit` ms pass. */
function run(a: End, b: End, opt: LinkOptions, limit: number): number {
  const r = rng(opt.seed);
  const flights: { at: number; to: End; payload: Uint8Array }[] = [];
  const mss = a.channel.mss;
  let now = 0;
  for (; now < limit; now++) {
    for (const [from, to] of [[a, b], [b, a]] as const) {
      for (let k = 0; k < opt.rate; k++) {
        const p = from.channel.poll(now);
        if (p === null) break;
        assert.ok(p.length <= mss + 11 + 128 + 14, "a segment fits one datagram");
        const hole = opt.blackHole && now >= opt.blackHole[0] && now < opt.blackHole[1];
        if (hole || r() < opt.loss) continue;
        const copies = r() < opt.duplicate ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          flights.push({ at: now + opt.delay + r() * opt.jitter, to, payload: p });
        }
      }
    }
    for (let i = 0; i < flights.length;) {
      if (flights[i].at <= now) {
        const f = flights[i];
        flights[i] = flights[flights.length - 1];
        flights.pop();
        f.to.channel.receive(decodeSegment(f.payload), now);
      } else i++;
    }
    for (const e of [a, b]) {
      const n = Math.min(e.unconsumed, opt.consumeRate);
      if (n > 0) {
        e.unconsumed -= n;
        e.channel.consumed(n);
      }
    }
    opt.tick?.(now);
    if (a.channel.drained && b.channel.drained && a.ends === 1 && b.ends === 1) return now;
  }
  return now;
}

const MSS = segmentPayloadSize(1252);

Deno.test("both directions arrive exactly once and in order through 10% loss, reordering and duplication", () => {
  const a = makeEnd(7, MSS);
  const b = makeEnd(7, MSS);
  const ab = randomBytes(2_000_000, 1);
  const ba = randomBytes(700_000, 2);
  // Written in uneven pieces, as a socket would hand them over.
  for (let at = 0; at < ab.length; at += 3001) a.channel.write(ab.subarray(at, at + 3001));
  a.channel.end();
  for (let at = 0; at < ba.length; at += 65536) b.channel.write(ba.subarray(at, at + 65536));
  b.channel.end();
  const t = run(a, b, {
    loss: 0.1,
    duplicate: 0.05,
    delay: 25,
    jitter: 10,
    rate: 4,
    consumeRate: Infinity,
    seed: 3,
  }, 600_000);
  assert.ok(t < 600_000, "finished");
  assert.deepEqual(concatBytes(b.received), ab);
  assert.deepEqual(concatBytes(a.received), ba);
  assert.equal(a.ends, 1);
  assert.equal(b.ends, 1);
  assert.ok(a.channel.retransmissions > 0, "losses were repaired by retransmission");
  assert.ok(a.channel.congestion.losses > 0, "losses were detected");
  assert.equal(a.channel.congestion.inflight, 0);
});

Deno.test("a slow reader: the sender never has more than the window unconsumed at the receiver", () => {
  const a = makeEnd(1, MSS);
  const b = makeEnd(1, MSS);
  const data = randomBytes(1_500_000, 4);
  a.channel.write(data);
  a.channel.end();
  b.channel.end();
  const t = run(a, b, {
    loss: 0,
    duplicate: 0,
    delay: 5,
    jitter: 0,
    rate: 8,
    consumeRate: 200, // 200 KB/s: about 7.5 s of simulated time
    seed: 5,
  }, 100_000);
  assert.ok(t < 100_000, "finished");
  assert.deepEqual(concatBytes(b.received), data);
  assert.ok(b.maxUnconsumed <= CHANNEL_WINDOW, `unconsumed peaked at ${b.maxUnconsumed}`);
  assert.ok(b.maxUnconsumed > CHANNEL_WINDOW / 2, "the window was used");
  assert.equal(b.channel.dropped, 0, "a sender that respects the window never overruns it");
});

Deno.test("a 20 s black hole in the middle of a transfer: it resumes and completes, same bytes", () => {
  const a = makeEnd(3, MSS);
  const b = makeEnd(3, MSS);
  const data = randomBytes(3_000_000, 6);
  a.channel.write(data);
  a.channel.end();
  b.channel.end();
  const t = run(a, b, {
    loss: 0.02,
    duplicate: 0,
    delay: 10,
    jitter: 5,
    rate: 4,
    consumeRate: Infinity,
    blackHole: [300, 20_300],
    seed: 7,
  }, 200_000);
  assert.ok(t > 20_300 && t < 200_000, `finished after the outage (at ${t} ms)`);
  assert.deepEqual(concatBytes(b.received), data);
  assert.ok(a.channel.congestion.timeouts > 0);
});

Deno.test("congestion control backs off under loss, and random loss keeps a working window", () => {
  const windows: number[] = [];
  const cuts: number[] = [];
  for (const loss of [0, 0.2]) {
    const a = makeEnd(1, MSS);
    const b = makeEnd(1, MSS);
    a.channel.write(randomBytes(1_000_000, 8));
    a.channel.end();
    b.channel.end();
    let sum = 0;
    let n = 0;
    let lowest = Infinity;
    let last = a.channel.congestion.cwnd;
    let shrank = 0;
    // Sample the congestion window every simulated ms over the first 2 s.
    run(a, b, {
      loss,
      duplicate: 0,
      delay: 20,
      jitter: 0,
      rate: 2,
      consumeRate: Infinity,
      seed: 9,
      tick(now) {
        const cwnd = a.channel.congestion.cwnd;
        if (cwnd < last) shrank++;
        last = cwnd;
        if (now > 200 && cwnd < lowest) lowest = cwnd;
        if (now % 50 === 0) {
          sum += cwnd;
          n++;
        }
      },
    }, 2000);
    windows.push(sum / n);
    cuts.push(shrank);
    if (loss > 0) {
      assert.ok(a.channel.congestion.losses > 0);
      assert.ok(lowest >= INITIAL_WINDOW_SEGMENTS * MSS, `window fell to ${lowest}`);
    }
  }
  assert.ok(cuts[1] > cuts[0], `the window shrank ${cuts[1]} times with loss, ${cuts[0]} without`);
  assert.ok(windows[1] <= windows[0], `mean cwnd ${windows[1]} with loss vs ${windows[0]}`);
});

Deno.test("segments: encoding round trips; malformed ones are ProtocolErrors; 0xFF never starts an SSP fragment", () => {
  const d = decodeSegment(encodeData(0xdeadbeef, 42, FLAG_FIN, new Uint8Array([1, 2, 3])));
  assert.equal(d.kind, SegmentKind.Data);
  assert.equal(d.channel, 0xdeadbeef);
  assert.equal(d.seq, 42);
  assert.equal(d.flags, FLAG_FIN);
  assert.deepEqual([...d.bytes], [1, 2, 3]);
  const k = decodeSegment(encodeAck(5, 9, 1000, new Uint8Array([0x81])));
  assert.equal(k.kind, SegmentKind.Ack);
  assert.equal(k.seq, 9);
  assert.equal(k.window, 1000);
  assert.deepEqual([...k.bytes], [0x81]);
  assert.equal(decodeSegment(encodeProbe(5)).kind, SegmentKind.Probe);
  assert.throws(() => decodeSegment(new Uint8Array([0xff, 9, 0, 0, 0, 1])), ProtocolError);
  assert.throws(() => decodeSegment(new Uint8Array([0xff, 1, 0, 0, 0, 1, 0])), ProtocolError);
  assert.throws(() => decodeSegment(encodeAck(1, 0, 0, new Uint8Array(129))), ProtocolError);
  const badFlags = encodeData(1, 0, 0, new Uint8Array(0));
  badFlags[10] = 0x80;
  assert.throws(() => decodeSegment(badFlags), ProtocolError);
  // An SSP fragment of instruction 1 (PROTOCOL.md §3.1 example) is not a segment.
  assert.equal(isSegment(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0])), false);
  assert.equal(isSegment(encodeProbe(1)), true);
});

Deno.test("a receiver whose data stops acks again, backing off, until the stream ends", () => {
  const rx = new Channel(3, MSS, new Congestion(MSS, 1 << 20), { data() {}, end() {} });
  rx.receive(decodeSegment(encodeData(3, 0, 0, new Uint8Array(10))), 0);
  assert.equal(decodeSegment(rx.poll(0, true)!).kind, SegmentKind.Ack);
  assert.equal(rx.poll(REACK_FIRST - 1, true), null);
  // After a roam only the receiver's datagram tells the sender where it is now (§2.5).
  assert.equal(decodeSegment(rx.poll(REACK_FIRST, true)!).kind, SegmentKind.Ack);
  assert.equal(rx.poll(REACK_FIRST * 2, true), null, "the wait doubled");
  assert.equal(decodeSegment(rx.poll(REACK_FIRST * 3, true)!).kind, SegmentKind.Ack);
  assert.ok(rx.receiving);
  rx.receive(decodeSegment(encodeData(3, 1, FLAG_FIN, new Uint8Array(0))), 500);
  assert.notEqual(rx.poll(500, true), null); // the FIN's own ack
  assert.equal(rx.poll(5000, true), null, "no repeats once the peer ended");
  assert.equal(rx.receiving, false);
});

// Tests for lib/transport.ts: the SSP sender's exact timers on a fake clock, the receiver's
// idempotency rules and the shutdown handshake (docs/PROTOCOL.md §5). Over real UDP sockets:
// tests/transport_udp_test.ts.

import assert from "node:assert/strict";
import { Fragmenter, fragmentMtu } from "../lib/fragment.ts";
import { type Instruction, U64_MAX } from "../lib/protobuf.ts";
import { type SyncState, Transport, WAIT_FOREVER } from "../lib/transport.ts";
import { UserStream } from "../lib/user_stream.ts";
import { ownCapabilities } from "../lib/extensions.ts";
import { describeUserDiff } from "./transport_pump.ts";
import { FakeLink } from "./fake_link.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);

/** A Complete-like state: a whole value, diffed by replacement, subtract is a no-op. */
class ValueState implements SyncState<ValueState> {
  constructor(public value = "") {}
  clone(): ValueState {
    return new ValueState(this.value);
  }
  equals(other: ValueState): boolean {
    return this.value === other.value;
  }
  diffFrom(existing: ValueState): Uint8Array {
    return this.value === existing.value ? new Uint8Array(0) : bytes("=" + this.value);
  }
  applyString(diff: Uint8Array): void {
    const text = dec.decode(diff);
    if (!text.startsWith("=")) throw new Error("bad diff");
    this.value = text.slice(1);
  }
  subtract(_prefix: ValueState): void {}
}

interface Sent {
  t: number;
  old: bigint;
  new: bigint;
  ack: bigint;
  throwaway?: bigint;
  diff?: string;
}

function summary(link: FakeLink, withDiff = false): Sent[] {
  return link.sent.map(({ time, inst }) => {
    const s: Sent = { t: time, old: inst.oldNum, new: inst.newNum, ack: inst.ackNum };
    if (withDiff) s.diff = describeUserDiff(inst.diff);
    return s;
  });
}

function setup<L extends SyncState<L>, R extends SyncState<R>>(
  initialState: L,
  initialRemoteState: R,
  sendMinDelay: number,
) {
  const clock = { t: 0 };
  const link = new FakeLink(clock);
  const tr = new Transport<L, R>({
    link,
    initialState,
    initialRemoteState,
    now: () => clock.t,
    sendMinDelay,
  });
  return { clock, link, tr };
}

/**
 * Advances the clock 1 ms at a time up to `until`, running `actions` at their times and ticking
 * every millisecond. Checks that `waitTime()` never claims a later wake-up than a send.
 */
function run(
  env: { clock: { t: number }; link: FakeLink; tr: Transport<never, never> | AnyTransport },
  until: number,
  actions: Record<number, () => void> = {},
): void {
  const { clock, link, tr } = env;
  for (; clock.t <= until; clock.t++) {
    actions[clock.t]?.();
    const wait = tr.waitTime();
    const before = link.sent.length;
    tr.tick();
    if (link.sent.length > before) {
      assert.equal(wait, 0, `waitTime was ${wait} at ${clock.t} but tick() sent`);
    }
  }
  clock.t = until;
}

// deno-lint-ignore no-explicit-any
type AnyTransport = Transport<any, any>;

/** Builds fragments of an instruction from a fake peer. */
const peerFragmenter = new Fragmenter();
function fromPeer(
  fields: Partial<Instruction> & { oldNum: bigint; newNum: bigint },
): Uint8Array[] {
  const inst: Instruction = {
    protocolVersion: 2,
    ackNum: 0n,
    throwawayNum: 0n,
    diff: new Uint8Array(0),
    chaff: new Uint8Array(0),
    ...fields,
  };
  return peerFragmenter.makeFragments(inst, fragmentMtu(1252));
}
function deliver(tr: AnyTransport, fields: Parameters<typeof fromPeer>[0]): void {
  for (const f of fromPeer(fields)) tr.recv(f);
}

Deno.test("sender: first state at once, keystrokes gathered, prospective resend (client)", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  const { tr, link } = env;
  // srtt 100 → send interval 50 ms; rto 200 → a state is assumed received for 300 ms.
  assert.equal(tr.sendInterval, 50);
  run(env, 1200, {
    0: () => tr.currentState.pushResize(80, 24),
    10: () => tr.currentState.pushBytes(bytes("a")),
    1000: () => tr.currentState.pushBytes(bytes("b")),
  });
  assert.deepEqual(summary(link, true), [
    // next_ack_time starts at "now", so the first state goes out immediately.
    { t: 0, old: 0n, new: 1n, ack: 0n, diff: "<80x24>" },
    // Not before back.timestamp + send interval; resent from state 0 (prospective resend, as
    // observed from C mosh: old=0 new=2).
    { t: 50, old: 0n, new: 2n, ack: 0n, diff: "<80x24>|a" },
    // Idle for long: the 1 ms SEND_MINDELAY applies. Nothing was acknowledged, so the diff is
    // from state 0 again. No retransmission before: the peer was never heard (last_heard = 0).
    { t: 1001, old: 0n, new: 3n, ack: 0n, diff: "<80x24>|ab" },
  ]);
  assert.equal(link.sent[0].inst.throwawayNum, 0n);
  assert.equal(link.sent[0].inst.protocolVersion, 2);
  assert.ok(link.sent.every((s) => s.inst.chaff.length <= 16));
});

Deno.test("sender: the server's 8 ms SEND_MINDELAY and the send interval", () => {
  const env = setup(new ValueState("0"), new UserStream(), 8);
  const { tr, link, clock } = env;
  link.srtt = 300; // interval 150
  run(env, 0); // empty ack at 0 (next_ack_time starts at now)
  assert.deepEqual(summary(link), [{ t: 0, old: 0n, new: 1n, ack: 0n }]);
  link.sent.length = 0;
  run(env, 2000, {
    100: () => tr.setCurrentState(new ValueState("1")), // back at 0 → max(108, 150) = 150
    160: () => tr.setCurrentState(new ValueState("2")), // max(168, 300) = 300
    1000: () => tr.setCurrentState(new ValueState("3")), // idle: 1008
  });
  assert.deepEqual(link.sent.map((s) => s.time), [150, 300, 1008]);
  assert.deepEqual(link.sent.map((s) => dec.decode(s.inst.diff)), ["=1", "=2", "=3"]);
  assert.equal(tr.waitTime(clock.t), 1008 + 3000 - 2000, "the heartbeat is the next timer");
  assert.equal(tr.getSentStateLast(), 4n);
  assert.equal(tr.getSentStateAcked(), 0n);
});

Deno.test("sender: send interval is clamp(ceil(SRTT/2), 20, 250)", () => {
  const { tr, link } = setup(new ValueState(), new ValueState(), 8);
  for (
    const [srtt, interval] of [[1, 20], [39, 20], [41, 21], [100.2, 51], [499, 250], [1000, 250]]
  ) {
    link.srtt = srtt;
    assert.equal(tr.sendInterval, interval, `srtt ${srtt}`);
  }
});

Deno.test("sender: delayed ack within 100 ms, then a heartbeat every 3 s", () => {
  const env = setup(new ValueState("screen"), new UserStream(), 8);
  const { tr, link } = env;
  link.hasRemoteAddr = false; // a server before its first client datagram
  assert.equal(tr.waitTime(), WAIT_FOREVER);
  run(env, 999);
  assert.equal(link.sent.length, 0);
  const keys = (s: string) => {
    const u = new UserStream();
    u.pushBytes(bytes(s));
    return u.diffFrom(new UserStream());
  };
  run(env, 12000, {
    1000: () => {
      link.hasRemoteAddr = true;
      deliver(tr, { oldNum: 0n, newNum: 1n, diff: keys("x") });
    },
    2000: () => deliver(tr, { oldNum: 1n, newNum: 2n, ackNum: 1n, diff: keys("y") }),
    // An empty state (a peer heartbeat) needs no delayed ack.
    6000: () => deliver(tr, { oldNum: 2n, newNum: 3n, ackNum: 1n }),
  });
  assert.deepEqual(summary(link), [
    // First contact: next_ack_time is long past, so the ack goes out at once.
    { t: 1000, old: 0n, new: 1n, ack: 1n },
    { t: 2100, old: 1n, new: 2n, ack: 2n }, // delayed ack; the client acked our state 1
    { t: 5100, old: 1n, new: 3n, ack: 2n }, // heartbeat 3 s later
    { t: 8100, old: 1n, new: 4n, ack: 3n },
    { t: 11100, old: 1n, new: 5n, ack: 3n },
  ]);
  assert.ok(link.sent.every((s) => s.inst.diff.length === 0));
  assert.equal(tr.getSentStateAcked(), 1n);
});

Deno.test("sender: empty acks carry fresh state numbers when nothing changes", () => {
  const env = setup(new ValueState(), new ValueState(), 8);
  const { tr, link } = env;
  run(env, 7000, { 500: () => deliver(tr, { oldNum: 0n, newNum: 1n, diff: bytes("=a") }) });
  assert.deepEqual(summary(link), [
    { t: 0, old: 0n, new: 1n, ack: 0n },
    { t: 600, old: 0n, new: 2n, ack: 1n }, // delayed ack
    { t: 3600, old: 0n, new: 3n, ack: 1n },
    { t: 6600, old: 0n, new: 4n, ack: 1n },
  ]);
  assert.ok(link.sent.every((s) => s.inst.diff.length === 0));
});

Deno.test("sender: lost frames are resent after RTO + 100 ms, then only every 3 s", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  const { tr, link } = env;
  run(env, 16100, {
    0: () => tr.currentState.pushResize(80, 24),
    // The server answers state 1: ack 1, and a state of its own (so it was "heard").
    10: () => deliver(tr, { oldNum: 0n, newNum: 1n, ackNum: 1n, diff: bytes("=hi") }),
    100: () => tr.currentState.pushBytes(bytes("x")),
  });
  assert.equal(link.lastRoundtripSuccess, 0, "send time of the acknowledged state 1");
  const times = link.sent.map((s) => s.time);
  const expected = [0, 101];
  for (let t = 401; t < 10010; t += 300) expected.push(t); // rto 200 + ACK_DELAY 100
  expected.push(10001 + 3000, 10001 + 6000); // last_heard + 10 s passed: heartbeat pace
  assert.deepEqual(times, expected);
  // Every retransmission is the same state 2, as a diff from the acknowledged state 1.
  for (const s of link.sent.slice(1)) {
    assert.deepEqual([s.inst.oldNum, s.inst.newNum, s.inst.ackNum, s.inst.throwawayNum], [
      1n,
      2n,
      1n,
      1n,
    ]);
    assert.equal(describeUserDiff(s.inst.diff), "x");
  }
});

Deno.test("sender: an acknowledgement stops retransmission and prunes the sent states", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  const { tr, link } = env;
  run(env, 1000, {
    0: () => tr.currentState.pushResize(80, 24),
    10: () => deliver(tr, { oldNum: 0n, newNum: 1n, ackNum: 1n, diff: bytes("=hi") }),
    100: () => tr.currentState.pushBytes(bytes("x")),
    150: () => deliver(tr, { oldNum: 1n, newNum: 2n, ackNum: 2n, throwawayNum: 1n }),
  });
  assert.deepEqual(link.sent.map((s) => s.time), [0, 101]);
  assert.equal(tr.getSentStateAcked(), 2n);
  assert.equal(tr.sentStateCount, 1);
  assert.equal(link.lastRoundtripSuccess, 101);
  // The acknowledged keystroke was subtracted from the live stream.
  assert.equal(tr.currentState.size, 0);
  // A heartbeat 3 s after the last send carries the ack of the peer's state 2.
  run(env, 3200);
  assert.deepEqual(summary(link).slice(2), [{ t: 3101, old: 2n, new: 3n, ack: 2n }]);
});

Deno.test("sender: nothing new is sent while the link still has a backlog", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  const { tr, link, clock } = env;
  const backlogged = link as FakeLink & { backlog: number };
  backlogged.backlog = 3;
  tr.currentState.pushResize(80, 24);
  run(env, 100);
  assert.equal(link.sent.length, 0);
  assert.equal(tr.waitTime(), 1, "poll gently, do not spin");
  backlogged.backlog = 0;
  clock.t = 101;
  assert.equal(tr.waitTime(), 0);
  tr.tick();
  assert.deepEqual(summary(link, true), [{ t: 101, old: 0n, new: 1n, ack: 0n, diff: "<80x24>" }]);
});

Deno.test("sender: the sent-state queue is bounded (32 entries)", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  const { tr, link } = env;
  const actions: Record<number, () => void> = {};
  for (let t = 0; t < 5000; t += 20) actions[t] = () => tr.currentState.pushBytes(bytes("k"));
  run(env, 5000, actions);
  assert.ok(link.sent.length > 60, `${link.sent.length} sends`);
  assert.ok(tr.sentStateCount <= 32);
  assert.equal(tr.getSentStateAcked(), 0n);
  // Still a correct diff from the acknowledged state 0: every keystroke.
  const last = link.sent[link.sent.length - 1].inst;
  assert.equal(last.oldNum, 0n);
  assert.equal(describeUserDiff(last.diff), "k".repeat(250));
});

Deno.test("receiver: duplicates, unknown old_num, out-of-order states and throwaway", () => {
  const { tr } = setup(new ValueState(), new ValueState(), 8);
  deliver(tr, { oldNum: 0n, newNum: 1n, diff: bytes("=one") });
  assert.equal(tr.getLatestRemoteState().state.value, "one");
  // Duplicate new_num: ignored even with another diff.
  deliver(tr, { oldNum: 0n, newNum: 1n, diff: bytes("=evil") });
  assert.equal(tr.stats.duplicates, 1);
  assert.equal(tr.getLatestRemoteState().state.value, "one");
  // Unknown old_num: ignored.
  deliver(tr, { oldNum: 7n, newNum: 8n, diff: bytes("=eight") });
  assert.equal(tr.stats.unknownOldNum, 1);
  assert.equal(tr.remoteStateNum, 1n);
  // State 3 (from 1) arrives before state 2 (from 1).
  deliver(tr, { oldNum: 1n, newNum: 3n, diff: bytes("=three") });
  deliver(tr, { oldNum: 1n, newNum: 2n, diff: bytes("=two") });
  assert.equal(tr.stats.outOfOrder, 1);
  assert.equal(tr.remoteStateNum, 3n);
  assert.equal(tr.getLatestRemoteState().state.value, "three");
  assert.equal(tr.receivedStateCount, 4);
  // The out-of-order state did not become the ack: the next send acks 3.
  const link = new FakeLink({ t: 0 });
  const probe = new Transport({
    link,
    initialState: new ValueState(),
    initialRemoteState: new ValueState(),
    now: () => 0,
  });
  deliver(probe, { oldNum: 0n, newNum: 5n, diff: bytes("=5") });
  deliver(probe, { oldNum: 0n, newNum: 4n, diff: bytes("=4") });
  probe.tick();
  assert.equal(link.sent[0].inst.ackNum, 5n);
  // Throwaway: states below 3 are discarded.
  deliver(tr, { oldNum: 3n, newNum: 4n, throwawayNum: 3n, diff: bytes("=four") });
  assert.equal(tr.receivedStateCount, 2);
  deliver(tr, { oldNum: 1n, newNum: 5n, diff: bytes("=x") });
  assert.equal(tr.stats.unknownOldNum, 2, "state 1 was thrown away");
  // A throwaway above every held state would leave none: dropped, nothing changes.
  deliver(tr, { oldNum: 4n, newNum: 6n, throwawayNum: 9n, diff: bytes("=six") });
  assert.equal(tr.stats.badThrowaway, 1);
  assert.equal(tr.receivedStateCount, 2);
  assert.equal(tr.getLatestRemoteState().state.value, "four");
});

Deno.test("receiver: hostile input is dropped and counted, never thrown", () => {
  const { tr } = setup(new ValueState(), new ValueState(), 8);
  tr.recv(new Uint8Array(3)); // shorter than a fragment header
  tr.recv(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 9, 0x80, 0, 1, 2, 3])); // not zlib
  assert.equal(tr.stats.malformed, 2);
  deliver(tr, { protocolVersion: 3, oldNum: 0n, newNum: 1n, diff: bytes("=v3") });
  assert.equal(tr.stats.versionMismatch, 1);
  deliver(tr, { oldNum: 0n, newNum: 1n, diff: bytes("not a diff") });
  assert.equal(tr.stats.badDiff, 1);
  assert.equal(tr.remoteStateNum, 0n);
  const user = setup(new ValueState(), new UserStream(), 8).tr;
  deliver(user, { oldNum: 0n, newNum: 1n, diff: new Uint8Array([0x0a, 0x7f, 0x01]) });
  assert.equal(user.stats.badDiff, 1);
  // Random fragments never throw.
  const rand = new Uint8Array(64);
  for (let i = 0; i < 2000; i++) {
    crypto.getRandomValues(rand);
    tr.recv(rand.subarray(0, i % 64));
  }
  deliver(tr, { oldNum: 0n, newNum: 1n, diff: bytes("=fine") });
  assert.equal(tr.getLatestRemoteState().state.value, "fine");
});

Deno.test("receiver: the queue is limited to 1024 states, one more per 15 s", () => {
  const env = setup(new ValueState(), new ValueState(), 8);
  const { tr, clock } = env;
  for (let n = 1n; n <= 1100n; n++) deliver(tr, { oldNum: 0n, newNum: n, diff: bytes("=s") });
  assert.equal(tr.receivedStateCount, 1026); // 1 + 1024, then one accepted at the limit
  assert.equal(tr.stats.quenched, 1100 - 1025);
  clock.t = 14999;
  deliver(tr, { oldNum: 0n, newNum: 2000n, diff: bytes("=s") });
  assert.equal(tr.receivedStateCount, 1026);
  clock.t = 15000;
  deliver(tr, { oldNum: 0n, newNum: 2001n, diff: bytes("=s") });
  assert.equal(tr.receivedStateCount, 1027);
  // A throwaway releases them.
  deliver(tr, { oldNum: 2001n, newNum: 2002n, throwawayNum: 2001n, diff: bytes("=t") });
  assert.equal(tr.receivedStateCount, 2);
});

Deno.test("receiver: getRemoteDiff returns each new input once (server side)", () => {
  const { tr } = setup(new ValueState(), new UserStream(), 8);
  const client = new UserStream();
  const prev = client.clone();
  client.pushResize(80, 24);
  deliver(tr, { oldNum: 0n, newNum: 1n, diff: client.diffFrom(prev) });
  assert.equal(describeUserDiff(tr.getRemoteDiff()), "<80x24>");
  assert.equal(tr.getRemoteDiff().length, 0);
  const s1 = client.clone();
  client.pushBytes(bytes("ls\r"));
  deliver(tr, { oldNum: 1n, newNum: 2n, diff: client.diffFrom(s1) });
  const s2 = client.clone();
  client.pushBytes(bytes("q"));
  deliver(tr, { oldNum: 2n, newNum: 3n, throwawayNum: 1n, diff: client.diffFrom(s2) });
  assert.equal(describeUserDiff(tr.getRemoteDiff()), "ls\rq");
  assert.equal(tr.getRemoteDiff().length, 0);
  // A retransmission from an older base does not replay input.
  deliver(tr, { oldNum: 1n, newNum: 3n, diff: client.diffFrom(s1) });
  assert.equal(tr.getRemoteDiff().length, 0);
});

Deno.test("shutdown: initiator sends u64(-1) at the frame rate and gives up after 16 tries", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  const { tr, link, clock } = env;
  run(env, 1000, {
    0: () => tr.currentState.pushResize(80, 24),
    10: () => deliver(tr, { oldNum: 0n, newNum: 1n, ackNum: 1n, diff: bytes("=hi") }),
  });
  link.sent.length = 0;
  tr.startShutdown();
  assert.ok(tr.shutdownInProgress);
  tr.currentState.pushBytes(bytes("ignored")); // the sent state is frozen
  let t = 1000;
  while (!tr.shutdownAckTimedOut()) {
    clock.t = t++;
    tr.tick();
    assert.ok(t < 3000, "no timeout");
  }
  assert.equal(link.sent.length, 16);
  assert.ok(link.sent.every((s) => s.inst.newNum === U64_MAX && s.inst.diff.length === 0));
  assert.deepEqual(
    link.sent.map((s) => s.time),
    Array.from({ length: 16 }, (_, i) => 1000 + 50 * i),
  );
  assert.ok(!tr.shutdownAcknowledged);
});

Deno.test("shutdown: the 10 s limit applies without sends", () => {
  const env = setup(new UserStream(), new ValueState(), 1);
  env.link.hasRemoteAddr = false;
  env.clock.t = 500;
  env.tr.startShutdown();
  assert.ok(!env.tr.shutdownAckTimedOut(10499));
  assert.ok(env.tr.shutdownAckTimedOut(10500));
  const other = setup(new UserStream(), new ValueState(), 1).tr;
  assert.ok(!other.shutdownAckTimedOut(1e9), "no shutdown, no timeout");
});

Deno.test("shutdown: the full handshake between two transports, in both directions", () => {
  for (const initiator of ["client", "server"]) {
    const clock = { t: 0 };
    const toServer = new FakeLink(clock);
    const toClient = new FakeLink(clock);
    const client = new Transport({
      link: toServer,
      initialState: new UserStream(),
      initialRemoteState: new ValueState(),
      now: () => clock.t,
      sendMinDelay: 1,
    });
    const server = new Transport({
      link: toClient,
      initialState: new ValueState(),
      initialRemoteState: new UserStream(),
      now: () => clock.t,
    });
    client.currentState.pushResize(80, 24);
    let delivered = [0, 0];
    const exchange = () => {
      // 5 ms one-way delay.
      for (const [link, peer, i] of [[toServer, server, 0], [toClient, client, 1]] as const) {
        while (delivered[i] < link.sent.length && link.sent[delivered[i]].time + 5 <= clock.t) {
          for (const f of link.sent[delivered[i]++].fragments) peer.recv(f);
        }
      }
    };
    for (; clock.t < 1000; clock.t++) {
      exchange();
      client.tick();
      server.tick();
    }
    assert.equal(server.getLatestRemoteState().state.size, 1, "the resize arrived");
    const [a, b] = initiator === "client" ? [client, server] : [server, client];
    a.startShutdown();
    const start = clock.t;
    while (!a.shutdownAcknowledged && clock.t < start + 2000) {
      exchange();
      client.tick();
      server.tick();
      clock.t++;
    }
    assert.ok(a.shutdownAcknowledged, `${initiator}: acknowledged`);
    assert.ok(!a.shutdownAckTimedOut());
    assert.ok(b.counterpartyShutdownAckSent, `${initiator}: peer acked`);
    assert.ok(!b.shutdownInProgress);
    assert.equal(b.getLatestRemoteState().num, U64_MAX);
    assert.ok(clock.t - start < 200, `${initiator}: took ${clock.t - start} ms`);
    delivered = [0, 0];
  }
});

Deno.test("receiver: holdRemoteStates drops new states unacknowledged; they are taken once resent", () => {
  const link = new FakeLink({ t: 0 });
  const tr = new Transport({
    link,
    initialState: new ValueState(),
    initialRemoteState: new ValueState(),
    now: () => 0,
  });
  deliver(tr, { oldNum: 0n, newNum: 1n, diff: bytes("=one") });
  tr.holdRemoteStates = true;
  deliver(tr, { oldNum: 1n, newNum: 2n, diff: bytes("=two") });
  assert.equal(tr.stats.held, 1);
  assert.equal(tr.remoteStateNum, 1n);
  tr.tick();
  assert.equal(link.sent[link.sent.length - 1].inst.ackNum, 1n, "state 2 is not acknowledged");
  tr.holdRemoteStates = false;
  deliver(tr, { oldNum: 1n, newNum: 2n, diff: bytes("=two") });
  assert.equal(tr.remoteStateNum, 2n);
  assert.equal(tr.getLatestRemoteState().state.value, "two");
});

Deno.test("receiver: a resent state is acknowledged at once after ackAgain, not 3 s later", () => {
  const env = setup(new ValueState("screen"), new UserStream(), 8);
  const { tr, link } = env;
  const keys = (s: string) => {
    const u = new UserStream();
    u.pushBytes(bytes(s));
    return u.diffFrom(new UserStream());
  };
  run(env, 3000, {
    1000: () => deliver(tr, { oldNum: 0n, newNum: 1n, diff: keys("x") }),
    // The peer resends state 1 (our ack was lost): a duplicate, acknowledged again only when
    // the caller asks (our client with our server's terminal features).
    2000: () => {
      const before = tr.stats.duplicates;
      deliver(tr, { oldNum: 0n, newNum: 1n, diff: keys("x") });
      assert.equal(tr.stats.duplicates, before + 1);
      tr.ackAgain();
    },
  });
  assert.deepEqual(summary(link), [
    { t: 0, old: 0n, new: 1n, ack: 0n }, // our first state
    { t: 1100, old: 0n, new: 2n, ack: 1n }, // the delayed ack
    { t: 2000, old: 0n, new: 3n, ack: 1n }, // at once, not at the 4100 ms heartbeat
  ]);
});

Deno.test("receiver given later: the same instructions go out; recv waits for startReceiving", () => {
  const sides = [true, false].map((withRemote) => {
    const clock = { t: 0 };
    const link = new FakeLink(clock);
    const tr = new Transport<UserStream, ValueState>({
      link,
      initialState: new UserStream(),
      initialRemoteState: withRemote ? new ValueState() : undefined,
      now: () => clock.t,
      sendMinDelay: 1,
    });
    // The client's state 1 (lib/client_start.ts), then a keystroke.
    tr.currentState.pushCapabilities(ownCapabilities({ scrollback: true, features: true }));
    tr.currentState.pushResize(97, 31);
    run({ clock, link, tr }, 400, { 10: () => tr.currentState.pushBytes(bytes("a")) });
    return { clock, link, tr };
  });
  const [early, late] = sides;
  const withoutChaff = (link: FakeLink) =>
    link.sent.map(({ time, inst }) => ({ time, ...inst, chaff: null }));
  assert.equal(late.link.sent.length, 2); // t 0 and 50 (send interval); never heard: no resend
  assert.deepEqual(withoutChaff(late.link), withoutChaff(early.link));
  assert.equal(describeUserDiff(late.link.sent[0].inst.diff), "<capabilities>|<97x31>");
  assert.equal(late.link.sent[0].inst.newNum, 1n);

  const state1 = fromPeer({ oldNum: 0n, newNum: 1n, ackNum: 1n, diff: bytes("=hello") });
  assert.throws(() => late.tr.recv(state1[0]), /recv\(\) before startReceiving\(\)/);
  late.tr.startReceiving(new ValueState());
  assert.throws(() => late.tr.startReceiving(new ValueState()), /already called/);
  for (const f of state1) late.tr.recv(f);
  assert.equal(late.tr.getLatestRemoteState().num, 1n);
  assert.equal(late.tr.getLatestRemoteState().state.value, "hello");
  assert.equal(late.tr.getSentStateAcked(), 1n);
  // The delayed ack of the peer's state 1 goes out as with a remote state from the start.
  run(late, 600);
  assert.equal(late.link.sent.at(-1)?.inst.ackNum, 1n);
});

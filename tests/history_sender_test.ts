// Tests for lib/history_sender.ts (docs/EXTENSIONS.md, "Pacing"): while rows keep scrolling off,
// a connection's history steps are HISTORY_BUSY_INTERVAL apart; once the output settles, the next
// step follows at once, and a held-back step is counted down by `waitTime`.
import assert from "node:assert/strict";
import { ownCapabilities } from "../lib/extensions.ts";
import { HistoryRing } from "../lib/history.ts";
import {
  advanceHistory,
  HISTORY_BUSY_INTERVAL,
  HISTORY_FLOOD_FACTOR,
  HistoryPacer,
} from "../lib/history_sender.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { type Transport, WAIT_FOREVER } from "../lib/transport.ts";
import type { UserStream } from "../lib/user_stream.ts";

Deno.test("history pacer: spaced while the output outruns history, at once otherwise", () => {
  const p = new HistoryPacer();
  assert.equal(p.allows(10, 0), true, "the first step");
  p.stepped(10, 0, 10);
  assert.equal(p.allows(10, 1), true, "nothing scrolled off since: at once");
  assert.equal(p.allows(10 + HISTORY_FLOOD_FACTOR * 10, 1), true, "history keeps up: at once");
  p.stepped(10, 1, 10);
  assert.equal(p.allows(11 + HISTORY_FLOOD_FACTOR * 10, 2), false, "a flood: held back");
  assert.equal(p.waitTime(2), HISTORY_BUSY_INTERVAL - 1);
  assert.equal(p.waitTime(HISTORY_BUSY_INTERVAL + 5), 0);
  assert.equal(p.allows(100000, 1 + HISTORY_BUSY_INTERVAL), true, "the interval passed");
  assert.equal(p.waitTime(1 + HISTORY_BUSY_INTERVAL), WAIT_FOREVER, "nothing held back");
  assert.equal(p.allows(100000, 2), false);
  p.release();
  assert.equal(p.waitTime(2), WAIT_FOREVER, "released: the caller is woken otherwise");
});

/** The part of a transport `advanceHistory` reads: the client acknowledges every state at once. */
function instantAcks(state: () => TerminalState): Transport<TerminalState, UserStream> {
  return {
    get acknowledgedState() {
      return state().clone();
    },
    shutdownInProgress: false,
    waitTime: () => 0,
  } as unknown as Transport<TerminalState, UserStream>;
}

function pacedServer(): { state: TerminalState; ring: HistoryRing } {
  const ring = new HistoryRing(10000);
  const state = new TerminalState(20, 4);
  state.terminal.scrollback = ring;
  state.caps = ownCapabilities({ scrollback: true, features: false });
  state.startHistory(ring);
  return { state, ring };
}

Deno.test("history pacer: a flood takes a step per interval, the settled ring at full speed", () => {
  const { state, ring } = pacedServer();
  const transport = instantAcks(() => state);
  const pacer = new HistoryPacer();
  // Half a second of a million lines a second; a pass (and a possible step) per 20 ms frame.
  let steps = 0, n = 0;
  for (let now = 0; now < 500; now += 20) {
    let chunk = "";
    for (let i = 0; i < 20000; i++) chunk += `${1000000 + n++}\r\n`;
    state.terminal.write(chunk);
    if (advanceHistory(state, transport, 1400, now, pacer)) steps++;
  }
  assert.equal(ring.end, n - 3); // all but the screen's rows scrolled off
  assert.equal(steps, Math.ceil(500 / HISTORY_BUSY_INTERVAL), "one step per HISTORY_BUSY_INTERVAL");
  // The output settled: once the flood's interval has run out (the last step was at most 480),
  // every pass takes a step until the client has everything.
  let settled = 0;
  for (let now = 480 + HISTORY_BUSY_INTERVAL; state.frontier < ring.end; now++) {
    assert.ok(advanceHistory(state, transport, 1400, now, pacer), "a step in every pass");
    settled++;
  }
  assert.ok(settled > 5, `${settled} steps to catch up`);
  assert.equal(pacer.waitTime(5000), WAIT_FOREVER);
});

Deno.test("history pacer: output that history can follow is not paced", () => {
  // A fast log: 20 lines a millisecond pass; each step carries a budget's worth (hundreds of these
  // short lines), so history keeps up and nothing is held back or lost to the ring.
  const { state, ring } = pacedServer();
  const transport = instantAcks(() => state);
  const pacer = new HistoryPacer();
  let steps = 0, n = 0;
  for (let now = 0; now < 500; now++) {
    for (let i = 0; i < 20; i++) state.terminal.write(`${n++}\r\n`);
    if (advanceHistory(state, transport, 1400, now, pacer)) steps++;
    assert.equal(pacer.waitTime(now), WAIT_FOREVER);
  }
  assert.ok(steps > 400, `${steps} steps`);
  assert.ok(ring.end - state.frontier <= 20, "history is current");
  assert.equal(ring.start, 0, "nothing left the ring");
});

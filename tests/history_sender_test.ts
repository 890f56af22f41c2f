// Tests for lib/history_sender.ts (docs/EXTENSIONS.md, "Pacing"): while rows keep scrolling off,
// a connection's history steps are HISTORY_BUSY_INTERVAL apart; once the output settles, the next
// step follows at once, and a held-back step is counted down by `waitTime`.
import assert from "node:assert/strict";
import { ownCapabilities } from "../lib/extensions.ts";
import { HistoryRing } from "../lib/history.ts";
import { advanceHistory, HISTORY_BUSY_INTERVAL, HistoryPacer } from "../lib/history_sender.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { type Transport, WAIT_FOREVER } from "../lib/transport.ts";
import type { UserStream } from "../lib/user_stream.ts";

Deno.test("history pacer: spaced while rows keep coming, at once when they stop", () => {
  const p = new HistoryPacer();
  assert.equal(p.allows(10, 0), true, "the first step");
  p.stepped(10, 0);
  assert.equal(p.allows(10, 1), true, "nothing scrolled off since: at once");
  p.stepped(10, 1);
  assert.equal(p.allows(50, 2), false, "rows came: held back");
  assert.equal(p.waitTime(2), HISTORY_BUSY_INTERVAL - 1);
  assert.equal(p.waitTime(HISTORY_BUSY_INTERVAL + 5), 0);
  assert.equal(p.allows(80, 1 + HISTORY_BUSY_INTERVAL), true, "the interval passed");
  assert.equal(p.waitTime(1 + HISTORY_BUSY_INTERVAL), WAIT_FOREVER, "nothing held back");
  assert.equal(p.allows(90, 2), false);
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

Deno.test("history pacer: a flood takes a step per interval, the settled ring at full speed", () => {
  const ring = new HistoryRing(100000);
  const state = new TerminalState(20, 4);
  state.terminal.scrollback = ring;
  state.caps = ownCapabilities({ scrollback: true, features: false });
  state.startHistory(ring);
  const transport = instantAcks(() => state);
  const pacer = new HistoryPacer();
  // One second of flood, a pass every millisecond, 20 lines a pass.
  let steps = 0, n = 0;
  for (let now = 0; now < 1000; now++) {
    for (let i = 0; i < 20; i++) state.terminal.write(`${n++}\r\n`);
    if (advanceHistory(state, transport, 1400, now, pacer)) steps++;
  }
  assert.ok(steps >= 9 && steps <= 11, `${steps} steps in a second of flood`);
  // The output settled: every pass takes a step until the client has everything.
  let settled = 0;
  for (let now = 1000; state.frontier < ring.end; now++) {
    assert.ok(advanceHistory(state, transport, 1400, now, pacer), "a step in every pass");
    settled++;
  }
  assert.ok(settled > 10, `${settled} steps to catch up`);
  assert.equal(pacer.waitTime(5000), WAIT_FOREVER);
});

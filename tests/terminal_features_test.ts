// Tests for lib/terminal_features.ts: the cursor shape and the event stream as part of the
// server's state, diffed between states and applied by a client, through loss (docs/PROTOCOL.md
// §13).
import assert from "node:assert/strict";
import { Prng } from "./relay.ts";
import { EVENT_STEP, EventInbox, EventLog } from "../lib/terminal_events.ts";
import { FeatureState } from "../lib/terminal_features.ts";
import { Terminal } from "../lib/terminal.ts";

/** A server side (terminal + log + state) and a client side. */
function pair() {
  const log = new EventLog();
  const terminal = new Terminal(80, 24);
  terminal.eventSink = (osc) => log.push(osc);
  const inbox = new EventInbox();
  return {
    log,
    terminal,
    server: FeatureState.server(log),
    inbox,
    client: FeatureState.client(inbox),
    clientTerminal: new Terminal(80, 24),
  };
}

Deno.test("FeatureState: the cursor shape and events go from server to client", () => {
  const p = pair();
  p.terminal.write("\x1b[5 q\x1b]9;hello\x07\x1b]52;c;aGk=\x07");
  p.server.advance(null);
  const diff = p.server.diffFrom(null, new Terminal(80, 24), p.terminal);
  assert.ok(diff !== null);
  assert.equal(diff.shape, 5);
  p.client.apply(diff, p.clientTerminal);
  assert.equal(p.clientTerminal.cursorShape, 5);
  assert.deepEqual(p.inbox.take(), ["9;hello", "52;c;aGk="]);
  assert.ok(p.client.equals(p.server));
  // Nothing new: no diff.
  assert.equal(p.server.diffFrom(p.server.clone(), p.terminal, p.terminal), null);
});

Deno.test("FeatureState: events before the connection began are never sent", () => {
  const log = new EventLog();
  log.push("9;before");
  const server = FeatureState.server(log);
  log.push("9;after");
  server.advance(null);
  const inbox = new EventInbox();
  const t = new Terminal(80, 24);
  FeatureState.client(inbox).apply(server.diffFrom(null, t, t)!, t);
  assert.deepEqual(inbox.take(), ["9;after"]);
});

Deno.test("FeatureState: a 100 KB copy twice through 20% loss, in bounded steps, twice", () => {
  const p = pair();
  const big = btoa("y".repeat(75000));
  p.terminal.write(`\x1b]52;c;${big}\x07\x1b]9;done\x07\x1b]52;c;${big}\x07`);
  const rng = new Prng(15);
  // The transport's view: states the client acknowledged; each new state is one step ahead.
  let acked = p.server.clone(); // server's copy of the newest state the client acknowledged
  let clientState = p.client.clone();
  let steps = 0;
  while (p.inbox.received < p.log.end && steps < 10000) {
    steps++;
    p.server.advance(acked);
    const diff = p.server.diffFrom(acked, p.terminal, p.terminal);
    assert.ok(diff?.events !== undefined);
    const carried = diff.events.pieces.reduce((n, x) => n + x.text.length, 0);
    assert.ok(carried <= EVENT_STEP, `a diff carried ${carried} characters`);
    if (rng.next() < 0.2) continue; // lost
    const next = clientState.clone();
    next.apply(diff, p.clientTerminal);
    clientState = next;
    if (rng.next() < 0.2) continue; // ack lost: the next diff repeats from the old state
    acked = p.server.clone();
  }
  assert.deepEqual(p.inbox.take(), [`52;c;${big}`, "9;done", `52;c;${big}`]);
  console.log(`2 x 100 KB + 1 notification: ${steps} steps of at most ${EVENT_STEP} characters`);
});

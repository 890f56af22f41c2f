// Tests for the scrollback part of lib/terminal_state.ts (issue 14, docs/EXTENSIONS.md): the
// capabilities and the history frontier as state, the budget, idempotent and loss-tolerant diffs.
import assert from "node:assert/strict";
import { ownCapabilities, SCROLLBACK } from "../lib/extensions.ts";
import { HistoryRing } from "../lib/history.ts";
import { HistoryInbox, HistoryWriter } from "../lib/history_writer.ts";
import { decodeHostMessage } from "../lib/protobuf.ts";
import { HISTORY_BUDGET, TerminalState } from "../lib/terminal_state.ts";

const dec = new TextDecoder();

function server(capacity = 1000): { state: TerminalState; ring: HistoryRing } {
  const ring = new HistoryRing(capacity);
  const state = new TerminalState(20, 4);
  state.terminal.scrollback = ring;
  state.caps = ownCapabilities({ scrollback: true, features: false });
  state.startHistory(ring);
  return { state, ring };
}

function client(): { state: TerminalState; inbox: HistoryInbox } {
  const inbox = new HistoryInbox();
  const state = new TerminalState(20, 4);
  state.inbox = inbox;
  state.caps = ownCapabilities({ scrollback: true, features: false }); // as after the server's first state
  return { state, inbox };
}

/** Every line the writer produces, as text, from one `take`. */
function writtenLines(writer: HistoryWriter, frontier: number): string[] {
  const bytes = writer.take(frontier, 4);
  if (bytes === null) return [];
  const s = dec.decode(bytes);
  const body = s.slice(s.indexOf("\x1b[2H\x1b[J\x1b[H") + 10, s.lastIndexOf("\r\n".repeat(4)));
  return body.split("\r\n");
}

Deno.test("history state: a C client (no capabilities seen) gets no extension field", () => {
  const ring = new HistoryRing(100);
  const s = new TerminalState(20, 4);
  s.terminal.scrollback = ring;
  for (let i = 0; i < 30; i++) s.terminal.write(`${i}\r\n`);
  assert.equal(s.advanceHistory(new TerminalState(20, 4)), false);
  const types = decodeHostMessage(s.diffFrom(new TerminalState(20, 4))).map((e) => e.type);
  assert.deepEqual(types, ["hostbytes"]);
});

Deno.test("history state: capabilities first, then history within the budget", () => {
  const { state, ring } = server();
  const acked = state.clone();
  for (let i = 0; i < 500; i++) state.terminal.write(`line ${i}\r\n`);
  assert.equal(ring.end, 497);
  assert.ok(state.advanceHistory(acked));
  const evs = decodeHostMessage(state.diffFrom(new TerminalState(20, 4)));
  assert.equal(evs[0].type, "capabilities");
  const h = evs.find((e) => e.type === "history")!;
  assert.ok(h.type === "history");
  assert.equal(h.start, 0);
  assert.equal(h.lost, 0);
  let bytes = 0;
  for (const l of h.lines) bytes += l.length + 3;
  assert.ok(bytes <= HISTORY_BUDGET, `${bytes} bytes`);
  assert.ok(h.lines.length > 50, `${h.lines.length} lines`);
  assert.equal(state.frontier, h.lines.length);
  // Without a newer acknowledgement the frontier stays.
  assert.equal(state.advanceHistory(acked), false);
});

Deno.test("history state: loss, reordering and repeats deliver every line once, in order", () => {
  const { state } = server(100000);
  const c = client();
  const writer = new HistoryWriter(c.inbox);
  const sent: TerminalState[] = [state.clone()]; // sent[0] = acknowledged
  const received: TerminalState[] = [c.state];
  const out: string[] = [];
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let next = 1;
  for (let round = 0; round < 400; round++) {
    for (let k = 0; k < 7; k++) state.terminal.write(`${next++}\r\n`);
    state.advanceHistory(sent[0]);
    const snapshot = state.clone();
    // Diff from a random sent state (the one SSP assumes the client has).
    const baseIndex = Math.floor(rand() * sent.length);
    const diff = snapshot.diffFrom(sent[baseIndex]);
    sent.push(snapshot);
    if (rand() < 0.3) continue; // lost
    // The client applies it to its copy of that base state, if it has it.
    const base = received[baseIndex];
    if (base === undefined) continue;
    const copy = base.clone();
    copy.applyString(diff);
    copy.applyString(new Uint8Array(0));
    received[sent.length - 1] = copy;
    // Ack: the client acknowledges the newest state it holds (sometimes).
    if (rand() < 0.5) {
      let newest = sent.length - 1;
      while (received[newest] === undefined) newest--;
      sent.splice(0, newest);
      received.splice(0, newest);
      out.push(...writtenLines(writer, received[0].frontier));
    }
  }
  assert.ok(out.length > 1000, `${out.length} lines`);
  for (let i = 0; i < out.length; i++) assert.equal(out[i], String(i + 1));
});

Deno.test("history state: lines that left the ring become one marker with the count", () => {
  const { state, ring } = server(10);
  const c = client();
  const writer = new HistoryWriter(c.inbox);
  const acked = state.clone();
  for (let i = 1; i <= 40; i++) state.terminal.write(`${i}\r\n`);
  state.advanceHistory(acked); // the first budget's worth: all 10 held lines (0..36 exist)
  c.state.applyString(state.diffFrom(acked));
  assert.equal(ring.start, 27);
  assert.equal(c.state.frontier, 37);
  assert.deepEqual(writtenLines(writer, c.state.frontier), [
    "[mosh: 27 lines not kept]",
    ...Array.from({ length: 10 }, (_, i) => String(28 + i)),
  ]);
  // Nothing twice.
  assert.equal(writer.take(c.state.frontier, 4), null);
});

Deno.test("history state: a wrapped line waits for its continuation and is written whole", () => {
  const { state } = server();
  const c = client();
  const writer = new HistoryWriter(c.inbox);
  state.terminal.write("A".repeat(20) + "BB\r\n\r\n\r\n\r\n");
  state.advanceHistory(state.clone());
  c.state.applyString(state.diffFrom(new TerminalState(20, 4)));
  const bytes = dec.decode(writer.take(c.state.frontier, 4)!);
  assert.ok(bytes.includes("A".repeat(20) + "BB\r\n"), JSON.stringify(bytes));
  // A wrapped last line is held back.
  const s2 = server();
  const c2 = client();
  const w2 = new HistoryWriter(c2.inbox);
  s2.state.terminal.write("\r\n\r\n\r\n" + "C".repeat(20) + "D");
  s2.state.advanceHistory(s2.state.clone());
  c2.state.applyString(s2.state.diffFrom(new TerminalState(20, 4)));
  assert.equal(c2.state.frontier, 1);
  assert.deepEqual(writtenLines(w2, 1), [""]);
  s2.state.terminal.write("\r\n\r\n\r\n"); // two blank rows and the C row scroll off
  let acked = s2.state.clone();
  s2.state.advanceHistory(acked);
  c2.state.applyString(s2.state.diffFrom(acked));
  assert.equal(c2.state.frontier, 4);
  assert.deepEqual(writtenLines(w2, c2.state.frontier), ["", ""]); // C waits for D
  s2.state.terminal.write("\r\n"); // the D row
  acked = s2.state.clone();
  s2.state.advanceHistory(acked);
  c2.state.applyString(s2.state.diffFrom(acked));
  assert.deepEqual(writtenLines(w2, c2.state.frontier), ["C".repeat(20) + "D"]);
});

Deno.test("history state: a client without scrollback ignores history fields", () => {
  const { state } = server();
  for (let i = 0; i < 10; i++) state.terminal.write(`${i}\r\n`);
  state.advanceHistory(state.clone());
  const plain = new TerminalState(20, 4);
  plain.applyString(state.diffFrom(new TerminalState(20, 4)));
  assert.equal(plain.frontier, -1);
  assert.equal(plain.caps?.[0].name, SCROLLBACK.name);
  // A client that wants history, before the server announced it, ignores it too.
  const { state: early, inbox } = client();
  early.caps = null;
  const noCaps = state.clone();
  noCaps.caps = null;
  early.applyString(noCaps.diffFrom(new TerminalState(20, 4)));
  assert.equal(early.frontier, -1);
  assert.equal(inbox.size, 0);
});

Deno.test("history state: a diff from the wrong frontier is refused", () => {
  const { state } = server();
  const c = client();
  for (let i = 0; i < 10; i++) state.terminal.write(`${i}\r\n`);
  const acked = state.clone();
  state.advanceHistory(acked);
  c.state.applyString(state.diffFrom(acked));
  const later = state.clone();
  for (let i = 0; i < 10; i++) state.terminal.write(`${i}\r\n`);
  state.advanceHistory(later);
  const fromLater = state.diffFrom(later);
  const other = c.state.clone();
  other.frontier = 3;
  assert.throws(() => other.applyString(fromLater), /history from/);
});

Deno.test("history state: the budget adds no fragment to a frame's instruction", async (t) => {
  const { Fragmenter, fragmentMtu, fragmentsFor, IPV4_DATAGRAM_MTU } = await import(
    "../lib/fragment.ts"
  );
  const fragmenter = new Fragmenter();
  const fragments = (diff: Uint8Array) =>
    fragmenter.makeFragments({
      protocolVersion: 2,
      oldNum: 1n,
      newNum: 2n,
      ackNum: 1n,
      throwawayNum: 1n,
      diff,
      chaff: new Uint8Array(16),
    }, fragmentMtu(IPV4_DATAGRAM_MTU)).length;
  let seed = 99;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const words = ["lorem", "ipsum", "dolor", "sit", "amet", "mosh", "scroll", "back", "42"];
  const workloads: Record<string, (i: number) => string> = {
    seq: (i) => `${i}\r\n`,
    colour: (i) =>
      `\x1b[1;34mdir${i}\x1b[0m  \x1b[32mrun${i}.sh\x1b[0m  \x1b[38;5;${i % 256}mfile${i}` +
      `\x1b[0m \x1b[38;2;${i % 256};20;30mtrue\x1b[0m\r\n`,
    prose: () => Array.from({ length: 12 }, () => words[rand(words.length)]).join(" ") + "\r\n",
    random: () => String.fromCharCode(...Array.from({ length: 79 }, () => 33 + rand(94))) + "\r\n",
  };
  for (const [name, line] of Object.entries(workloads)) {
    await t.step(name, () => {
      const ring = new HistoryRing(10000);
      const state = new TerminalState(80, 24);
      state.terminal.scrollback = ring;
      state.caps = ownCapabilities({ scrollback: true, features: false });
      state.startHistory(ring);
      let worst = 0;
      let moved = 0;
      let i = 0;
      for (let frame = 0; frame < 60; frame++) {
        const acked = state.clone(); // the client has everything before this frame
        const lines = 1 + rand(40);
        let out = "";
        for (let k = 0; k < lines; k++) out += line(i++);
        state.terminal.write(out);
        const screenOnly = state.clone();
        screenOnly.frontier = acked.frontier;
        state.advanceHistory(acked, (d) => fragmentsFor(d, IPV4_DATAGRAM_MTU));
        moved += state.frontier - acked.frontier;
        const alone = fragments(screenOnly.diffFrom(acked));
        const withHistory = fragments(state.diffFrom(acked));
        worst = Math.max(worst, withHistory - alone);
      }
      assert.equal(worst, 0, `${name}: history added ${worst} fragment(s)`);
      assert.ok(moved > 60, `${name}: only ${moved} lines in 60 frames`);
    });
  }
});

Deno.test("history state: a client arriving later first receives what the ring holds", () => {
  const ring = new HistoryRing(50);
  const session = new TerminalState(20, 4);
  session.terminal.scrollback = ring;
  for (let i = 1; i <= 80; i++) session.terminal.write(`${i}\r\n`);
  assert.equal(ring.start, 27);
  // A new connection's state starts its history at the oldest line held: no marker for what
  // left the ring before it came.
  session.caps = ownCapabilities({ scrollback: true, features: false });
  session.startHistory(ring);
  const c = client();
  c.state.caps = null;
  const writer = new HistoryWriter(c.inbox);
  const out: string[] = [];
  let acked = new TerminalState(20, 4);
  for (let round = 0; round < 10; round++) {
    session.advanceHistory(acked);
    const next = session.clone();
    c.state.applyString(next.diffFrom(acked));
    acked = next;
    out.push(...writtenLines(writer, c.state.frontier));
  }
  assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => String(28 + i)));
});

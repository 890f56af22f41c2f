// lib/client_extensions.ts: our server's first state is acknowledged at once (the server paces its
// frames at 250 ms until that ack gives it a round-trip sample); a C server's (no capabilities)
// after the usual 100 ms delayed ack, as mosh does (docs/PROTOCOL.md §5.4; docs/EXTENSIONS.md).

import assert from "node:assert/strict";
import { ClientExtensions } from "../lib/client_extensions.ts";
import { ownCapabilities } from "../lib/extensions.ts";
import { Fragmenter, fragmentMtu } from "../lib/fragment.ts";
import { NotificationEngine } from "../lib/notification.ts";
import type { Instruction } from "../lib/protobuf.ts";
import { RealTerminal } from "../lib/real_terminal.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { Transport } from "../lib/transport.ts";
import { UserStream } from "../lib/user_stream.ts";
import { FakeLink } from "./fake_link.ts";

/** When the client acknowledges the server's first state 1 (ms after it arrived at 10). */
function firstAckAfter(serverAnnounces: boolean): number {
  const clock = { t: 0 };
  const link = new FakeLink(clock);
  // No round-trip sample yet, as at a session's start.
  link.srtt = link.rto = 1000;
  const transport = new Transport<UserStream, TerminalState>({
    link,
    initialState: new UserStream(),
    now: () => clock.t,
    sendMinDelay: 1,
  });
  transport.currentState.pushResize(80, 24);
  transport.tick();
  assert.equal(link.sent.length, 1, "state 1 sent");
  const remote = new TerminalState(80, 24);
  const io = {
    input: { read: () => Promise.resolve(null), setRaw: () => {}, isTerminal: () => true },
    output: { writeSync: (b: Uint8Array) => b.length },
    consoleSize: () => ({ columns: 80, rows: 24 }),
  };
  const extensions = new ClientExtensions(remote, {
    rt: new RealTerminal({ io }),
    notification: new NotificationEngine(0),
    forwarding: null,
    scrollback: true,
    features: true,
  });
  transport.startReceiving(remote);

  // The server's state 1: the shell's release echo, with our capabilities when it is ours.
  const server = new TerminalState(80, 24);
  if (serverAnnounces) server.caps = ownCapabilities({ scrollback: true, features: true });
  server.terminal.write("\r\n");
  const inst: Instruction = {
    protocolVersion: 2,
    oldNum: 0n,
    newNum: 1n,
    ackNum: 1n,
    throwawayNum: 0n,
    diff: server.diffFrom(new TerminalState(80, 24)),
    chaff: new Uint8Array(0),
  };
  clock.t = 10;
  for (const f of new Fragmenter().makeFragments(inst, fragmentMtu(1252))) transport.recv(f);
  assert.equal(transport.getLatestRemoteState().num, 1n);
  extensions.newState(transport, true, clock.t);
  for (; clock.t < 1000; clock.t++) {
    transport.tick();
    const ack = link.sent.find(({ inst }) => inst.ackNum === 1n);
    if (ack !== undefined) return ack.time - 10;
  }
  throw new Error("no ack of state 1");
}

Deno.test("client extensions: our server's first state is acked at once, a C server's after 100 ms", () => {
  assert.equal(firstAckAfter(true), 0);
  assert.equal(firstAckAfter(false), 100);
});

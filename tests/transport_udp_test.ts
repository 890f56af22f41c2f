// SSP over real UDP sockets (lib/connection.ts + lib/transport.ts, docs/PROTOCOL.md §5, §4):
// two of our transports on loopback converge, roam and shut down; our client-side transport
// against Debian's mosh-server 1.4.0. The transport's rules on a fake clock:
// tests/transport_test.ts.
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import { parseKey } from "../lib/key.ts";
import { decodeHostMessage } from "../lib/protobuf.ts";
import { type SyncState, Transport } from "../lib/transport.ts";
import { U64_MAX } from "../lib/protobuf.ts";
import { UserStream } from "../lib/user_stream.ts";
import { requireDebianPackages } from "./deps.ts";
import { alive, startServer, stopServer, waitGone } from "./harness.ts";
import { describeUserDiff, pump, wakeAll } from "./transport_pump.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);

function loopbackSession(ip: string) {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const serverConn = Connection.server({ key, ip, port: "0" });
  const clock = { offset: 0 };
  const now = () => performance.now() + clock.offset;
  const clientConn = Connection.client({ key, ip, port: serverConn.port, now });
  const server = new Transport({
    link: serverConn,
    initialState: new UserStream(), // the server's own state: a byte stream suffices here
    initialRemoteState: new UserStream(),
  });
  const client = new Transport({
    link: clientConn,
    initialState: new UserStream(),
    initialRemoteState: new UserStream(),
    sendMinDelay: 1,
    now,
  });
  serverConn.listen((p) => {
    server.recv(p);
    wakeAll();
  });
  clientConn.listen((p) => {
    client.recv(p);
    wakeAll();
  });
  return { clock, serverConn, clientConn, server, client };
}

for (const ip of ["127.0.0.1", "::1"]) {
  Deno.test(`loopback ${ip}: two transports converge, roam and shut down`, async () => {
    const s = loopbackSession(ip);
    try {
      s.client.currentState.pushResize(80, 24);
      s.client.currentState.pushBytes(bytes("hello"));
      await pump([s.client, s.server], () => s.server.getLatestRemoteState().state.size === 6);
      assert.equal(describeUserDiff(s.server.getRemoteDiff()), "<80x24>|hello");
      assert.deepEqual(s.serverConn.remoteAddr?.hostname, ip);

      // The server answers with its own state; a large one needs many fragments.
      const big = new Uint8Array(100_000);
      for (let i = 0; i < big.length; i += 50_000) {
        crypto.getRandomValues(big.subarray(i, i + 50_000));
      }
      s.server.currentState.pushBytes(big);
      await pump(
        [s.client, s.server],
        () => s.client.getLatestRemoteState().state.size === big.length,
      );
      const got = s.client.getLatestRemoteState().state.events();
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].type === "keys" && got[0].keys, big);
      await pump([s.client, s.server], () => s.server.getSentStateAcked() >= 1n);
      // Both sides measured a real round trip.
      assert.ok(s.clientConn.srtt < 500, `client srtt ${s.clientConn.srtt}`);
      assert.ok(s.serverConn.srtt < 500, `server srtt ${s.serverConn.srtt}`);

      // Roaming: 10 s without an acknowledgement (the client's clock jumps) makes the client
      // hop to a new socket; the server follows the new source address and answers there.
      const oldPort = s.clientConn.port;
      s.clock.offset += 20000;
      s.client.currentState.pushBytes(bytes("!"));
      await pump([s.client, s.server], () => s.clientConn.socketCount === 2);
      s.client.currentState.pushBytes(bytes("?")); // sent from the new socket
      await pump([s.client, s.server], () => s.serverConn.remoteAddr?.port === s.clientConn.port);
      assert.notEqual(s.clientConn.port, oldPort);
      s.server.currentState.pushBytes(bytes("to-new-port"));
      await pump(
        [s.client, s.server],
        () => s.client.getLatestRemoteState().state.size === big.length + 11,
      );
      assert.equal(s.server.getLatestRemoteState().state.size, 8);

      // Clean shutdown initiated by the client.
      s.client.startShutdown();
      await pump([s.client, s.server], () => s.client.shutdownAcknowledged);
      assert.ok(s.server.counterpartyShutdownAckSent);
    } finally {
      await s.clientConn.close();
      await s.serverConn.close();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Against Debian's mosh-server 1.4.0: our client-side Connection + Transport.

/** The client's view of the server state, reduced to a log of host bytes and the echo ack. */
class HostLog implements SyncState<HostLog> {
  text = "";
  echoAck = 0n;
  clone(): HostLog {
    const copy = new HostLog();
    copy.text = this.text;
    copy.echoAck = this.echoAck;
    return copy;
  }
  equals(other: HostLog): boolean {
    return this.text === other.text && this.echoAck === other.echoAck;
  }
  diffFrom(): Uint8Array {
    throw new Error("a client never diffs the remote state");
  }
  applyString(diff: Uint8Array): void {
    for (const e of decodeHostMessage(diff)) {
      if (e.type === "hostbytes") this.text += dec.decode(e.data);
      else if (e.type === "echoack") this.echoAck = e.num;
    }
  }
  subtract(): void {}
}

async function startMoshServer(command: string[]) {
  await requireDebianPackages(["mosh"]);
  const server = await startServer("debian", { command });
  const pid = server.pid;
  const conn = Connection.client({ key: parseKey(server.key), ip: "127.0.0.1", port: server.port });
  const tr = new Transport({
    link: conn,
    initialState: new UserStream(),
    initialRemoteState: new HostLog(),
    sendMinDelay: 1,
  });
  conn.listen((p) => {
    tr.recv(p);
    wakeAll();
  });
  const stop = async () => {
    await conn.close();
    await stopServer(server);
  };
  return { pid, conn, tr, stop };
}

Deno.test("interop: Debian mosh-server ↔ our transport, server-initiated shutdown", async () => {
  const token = `tok${crypto.randomUUID().slice(0, 8)}`;
  const s = await startMoshServer(["sh", "-c", `echo ready-${token}; read l; echo "got:$l"`]);
  try {
    s.tr.currentState.pushResize(80, 24);
    const screen = () => s.tr.getLatestRemoteState().state;
    await pump([s.tr], () => screen().text.includes(`ready-${token}`), 10000);
    s.tr.currentState.pushBytes(bytes("abc\r"));
    await pump([s.tr], () => screen().text.includes("got:abc"), 10000);
    // The shell exited: the server sends state u64(-1), we acknowledge it, and it exits.
    await pump([s.tr], () => s.tr.getLatestRemoteState().num === U64_MAX, 10000);
    await pump([s.tr], () => s.tr.counterpartyShutdownAckSent, 5000);
    await waitGone(s.pid, 2000);
    assert.ok(!alive(s.pid), "mosh-server still running after our ack of its shutdown");
    assert.ok(screen().echoAck >= 1n, `echo ack ${screen().echoAck}`);
    assert.ok(s.tr.getSentStateAcked() >= 2n, "the server acknowledged our keystrokes");
    assert.ok(s.conn.srtt < 500, `srtt ${s.conn.srtt}`);
    const stats = s.conn.stats;
    assert.equal(stats.integrity + stats.wrongDirection + stats.tooShort, 0);
    assert.equal(s.tr.stats.malformed + s.tr.stats.versionMismatch + s.tr.stats.badDiff, 0);
  } finally {
    await s.stop();
  }
});

Deno.test("interop: Debian mosh-server acknowledges our shutdown", async () => {
  const token = `tok${crypto.randomUUID().slice(0, 8)}`;
  const s = await startMoshServer(["sh", "-c", `echo up-${token}; sleep 30`]);
  try {
    s.tr.currentState.pushResize(100, 30);
    await pump([s.tr], () => s.tr.getLatestRemoteState().state.text.includes(`up-${token}`), 10000);
    s.tr.startShutdown();
    await pump([s.tr], () => s.tr.shutdownAcknowledged || s.tr.shutdownAckTimedOut(), 12000);
    assert.ok(s.tr.shutdownAcknowledged, "mosh-server did not acknowledge our shutdown");
    await waitGone(s.pid, 2000);
    assert.ok(!alive(s.pid), "mosh-server still running after acknowledging our shutdown");
  } finally {
    await s.stop();
  }
});

// The forwarding multiplexer (lib/forwarding.ts, lib/channel_control.ts) between a client and a
// server Forwarder over a simulated lossy datagram link, with real loopback TCP sockets at both
// ends: bytes arrive whole (SHA-256), half-close works, refused targets reset the local
// connection, the cap on channels holds, and control operations round trip.

import assert from "node:assert/strict";
import { Forwarder, type ForwarderOptions, MAX_CHANNELS } from "../lib/forwarding.ts";
import {
  ControlKind,
  type ControlOp,
  decodeControl,
  encodeControl,
} from "../lib/channel_control.ts";
import { segmentPayloadSize } from "../lib/channel_segment.ts";
import { ProtocolError } from "../lib/errors.ts";
import { randomBytes, readAll, sha256Hex } from "./workload.ts";

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let at = 0; at < b.length;) at += await conn.write(b.subarray(at, at + 65536));
}

/**
 * A client and a server Forwarder joined by a datagram link that loses `loss` of the segments and
 * delays each by 1-4 ms (so they reorder); control operations are delivered reliably after 5 ms,
 * as SSP would. `connect` is the server's policy.
 */
function pair(loss: number, connect: ForwarderOptions["connect"]) {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const mss = segmentPayloadSize(1252);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };
  const sides: Forwarder[] = [];
  const make = (
    side: "client" | "server",
    other: () => Forwarder,
    conn: ForwarderOptions["connect"],
  ) =>
    new Forwarder({
      side,
      mss,
      sendControl: (op) => {
        const bytes = encodeControl([op]); // through the wire format
        later(5, () => {
          for (const o of decodeControl(bytes)) other().control(o);
        });
      },
      connect: conn,
      wake: () => {},
      now: () => performance.now(),
    });
  const client = make("client", () => sides[1], () => Promise.reject(new Error("no -R rules")));
  const server = make("server", () => sides[0], connect);
  sides.push(client, server);
  const pump = setInterval(() => {
    for (const [from, to] of [[client, server], [server, client]] as const) {
      for (let k = 0; k < 64; k++) {
        const p = from.poll();
        if (p === null) break;
        if (rand() < loss) continue;
        later(1 + rand() * 3, () => to.segment(p));
      }
    }
  }, 1);
  const stop = () => {
    clearInterval(pump);
    for (const t of timers) clearTimeout(t);
    client.close();
    server.close();
  };
  return { client, server, stop };
}

/** A local listener whose connections the client forwards to `port` on the server side. */
function listenL(client: Forwarder, port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refusals: string[] = [];
  (async () => {
    for await (const conn of listener) {
      client.open(conn, { host: "127.0.0.1", port }, { refused: (r) => refusals.push(r) });
    }
  })().catch(() => {});
  return { listener, port: (listener.addr as Deno.NetAddr).port, refusals };
}

Deno.test("forwarded connection: 2 MB each way through 10% segment loss, same SHA-256, half-close", async () => {
  const up = randomBytes(2_000_000);
  const down = randomBytes(2_000_000);
  // The target: reads everything the client sends, then answers with `down` and closes.
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const targetGot = (async () => {
    const conn = await target.accept();
    const [got] = await Promise.all([readAll(conn), writeAll(conn, down)]);
    conn.close();
    return got;
  })();
  const { client, server, stop } = pair(
    0.1,
    (op) => Deno.connect({ hostname: op.host!, port: op.port! }),
  );
  const local = listenL(client, (target.addr as Deno.NetAddr).port);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: local.port });
    const [, received] = await Promise.all([
      writeAll(conn, up).then(() => conn.closeWrite()),
      readAll(conn),
    ]);
    conn.close();
    assert.equal(await sha256Hex(received), await sha256Hex(down));
    assert.equal(await sha256Hex(await targetGot), await sha256Hex(up));
    assert.ok(client.congestion.losses + server.congestion.losses > 0, "the link lost segments");
    // Both sides forget the channel once CLOSE went both ways.
    for (let i = 0; i < 100 && (client.size > 0 || server.size > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(client.size, 0);
    assert.equal(server.size, 0);
  } finally {
    stop();
    local.listener.close();
    target.close();
  }
});

Deno.test("a refused target resets the local connection and says why", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (closed.addr as Deno.NetAddr).port;
  closed.close(); // nothing listens there now
  const { client, stop } = pair(0, (op) => Deno.connect({ hostname: op.host!, port: op.port! }));
  const local = listenL(client, deadPort);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: local.port });
    const got = await readAll(conn).catch(() => new Uint8Array(0));
    conn.close();
    assert.equal(got.length, 0);
    assert.equal(local.refusals.length, 1);
    assert.match(local.refusals[0], /refused|Connection/i);
    assert.equal(client.stats.refused, 1);
    assert.equal(client.size, 0);
  } finally {
    stop();
    local.listener.close();
  }
});

Deno.test("the server's policy is the server's: a refusing connect() refuses every OPEN", async () => {
  const { client, server, stop } = pair(
    0,
    () => Promise.reject(new Error("forwarding is disabled on this server")),
  );
  const local = listenL(client, 9);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: local.port });
    await readAll(conn).catch(() => {});
    conn.close();
    assert.deepEqual(local.refusals, ["forwarding is disabled on this server"]);
    assert.equal(server.size, 0);
  } finally {
    stop();
    local.listener.close();
  }
});

Deno.test("an OPEN with the wrong parity or a duplicate number, and segments for unknown channels, are dropped", () => {
  const server = new Forwarder({
    side: "server",
    mss: 1000,
    sendControl: () => {},
    connect: () => new Promise(() => {}),
    wake: () => {},
    now: () => 0,
  });
  server.control({ kind: ControlKind.Open, channel: 3, host: "x", port: 1 }); // odd: the server's own
  assert.equal(server.stats.dropped, 1);
  server.control({ kind: ControlKind.Open, channel: 2, host: "x", port: 1 });
  server.control({ kind: ControlKind.Open, channel: 2, host: "x", port: 1 });
  assert.equal(server.stats.dropped, 2);
  server.segment(new Uint8Array([0xff, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0]));
  server.segment(new Uint8Array([0xff, 7, 0, 0, 0, 2]));
  assert.equal(server.stats.dropped, 4);
  server.close();
});

Deno.test("at most MAX_CHANNELS channels: further OPENs are refused", () => {
  const sent: ControlOp[] = [];
  const server = new Forwarder({
    side: "server",
    mss: 1000,
    sendControl: (op) => sent.push(op),
    connect: () => new Promise(() => {}),
    wake: () => {},
    now: () => 0,
  });
  for (let i = 0; i <= MAX_CHANNELS; i++) {
    server.control({ kind: ControlKind.Open, channel: 2 * (i + 1), host: "h", port: 1 });
  }
  assert.equal(server.size, MAX_CHANNELS);
  assert.deepEqual(sent, [{
    kind: ControlKind.Refused,
    channel: 2 * (MAX_CHANNELS + 1),
    reason: "too many channels",
  }]);
  server.close();
});

Deno.test("control operations round trip; malformed ones are ProtocolErrors", () => {
  const ops: ControlOp[] = [
    { kind: ControlKind.Open, channel: 2, rule: 0, port: 8080, host: "example.org" },
    { kind: ControlKind.Open, channel: 3, rule: 4, port: 0, host: "" },
    { kind: ControlKind.Opened, channel: 3 },
    { kind: ControlKind.Refused, channel: 4, reason: "Connection refused" },
    { kind: ControlKind.Reset, channel: 0xffffffff },
    { kind: ControlKind.Close, channel: 5 },
    { kind: ControlKind.Listen, channel: 0, rule: 3, port: 2222, host: "0.0.0.0" },
    { kind: ControlKind.ListenFailed, channel: 0, rule: 3, reason: "Address in use" },
  ];
  assert.deepEqual(decodeControl(encodeControl(ops)), ops);
  assert.throws(() => decodeControl(new Uint8Array([9, 0, 0, 0, 1])), ProtocolError);
  assert.throws(
    () => decodeControl(new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 80, 5, 0x61])),
    ProtocolError,
  );
  assert.throws(() => decodeControl(new Uint8Array([3, 0, 0, 0, 1, 1, 0xff])), ProtocolError);
});

// Tests for lib/connection.ts (docs/PROTOCOL.md §2): port ranges, the RTT estimator, binding,
// timestamps, replay handling, roaming, association timeout and client port hopping, against
// raw UDP sockets on loopback that seal and open datagrams themselves.

import assert from "node:assert/strict";
import {
  Connection,
  DEFAULT_PORT_RANGE,
  formatAddress,
  isNumericIp,
  normalizeAddress,
  parsePortRange,
  PortRangeError,
} from "../lib/connection.ts";
import { RttEstimator } from "../lib/rtt.ts";
import {
  DatagramCodec,
  type OpenedDatagram,
  sealWithSequence,
  timestamp16,
  TIMESTAMP_NONE,
  TO_CLIENT,
  TO_SERVER,
} from "../lib/datagram.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("parsePortRange accepts what mosh-server accepts", () => {
  assert.deepEqual(parsePortRange("60010"), { low: 60010, high: 60010 });
  assert.deepEqual(parsePortRange("60010:60020"), { low: 60010, high: 60020 });
  assert.deepEqual(parsePortRange("0"), { low: 0, high: 0 });
  assert.deepEqual(parsePortRange(""), { low: 0, high: 0 }); // mosh -p '' → kernel's choice
  assert.deepEqual(parsePortRange(" 5"), { low: 5, high: 5 });
  assert.deepEqual(parsePortRange("00012"), { low: 12, high: 12 });
  assert.deepEqual(parsePortRange("+7:8"), { low: 7, high: 8 });
  assert.deepEqual(parsePortRange("65535:65535"), { low: 65535, high: 65535 });
  assert.deepEqual(DEFAULT_PORT_RANGE, { low: 60001, high: 60999 });
});

Deno.test("parsePortRange rejects with mosh-server's messages", () => {
  // The details are what Debian's mosh-server 1.4.0 prints for the same -p values.
  const cases: [string, string][] = [
    ["abc", "Invalid (low) port number (abc)"],
    ["5x", "Invalid (low) port number (5x)"],
    ["70000", "(Low) port number 70000 outside valid range [0..65535]"],
    [" 70000", "(Low) port number 70000 outside valid range [0..65535]"],
    ["-1", "(Low) port number -1 outside valid range [0..65535]"],
    ["5:3", "Low port 5 greater than high port 3"],
    ["10:", "Low port 10 greater than high port 0"],
    ["0:5", "Low port 0 incompatible with port ranges"],
    [":10", "Low port 0 incompatible with port ranges"],
    ["5:abc", "Invalid high port number (abc)"],
    ["5:3:2", "Invalid high port number (3:2)"],
    ["5:70000", "High port number 70000 outside valid range [0..65535]"],
    ["+7:-3", "High port number -3 outside valid range [0..65535]"],
  ];
  for (const [spec, detail] of cases) {
    assert.throws(() => parsePortRange(spec), (e: unknown) => {
      assert.ok(e instanceof PortRangeError, spec);
      assert.equal(e.message, `Bad UDP port range (${spec})`);
      assert.equal(e.detail, detail);
      return true;
    });
  }
});

Deno.test("addresses: numeric check, ::ffff: normalisation, formatting", () => {
  for (
    const ok of [
      "127.0.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1:2",
      "::ffff:1.2.3.4",
    ]
  ) {
    assert.ok(isNumericIp(ok), ok);
  }
  for (
    const bad of ["localhost", "256.1.1.1", "1.2.3", "1.2.3.4.5", "::g", "1:2:3:4:5:6:7:8:9", ""]
  ) {
    assert.ok(!isNumericIp(bad), bad);
  }
  assert.equal(normalizeAddress("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(normalizeAddress("::FFFF:7f00:1"), "127.0.0.1");
  assert.equal(normalizeAddress("::1"), "::1");
  assert.equal(normalizeAddress("FE80::A"), "fe80::a");
  assert.equal(formatAddress("::1", 60001), "[::1]:60001");
  assert.equal(formatAddress("127.0.0.1", 60001), "127.0.0.1:60001");
});

Deno.test("RTT estimator: RFC 6298 with mosh's constants", () => {
  const r = new RttEstimator();
  assert.equal(r.srtt, 1000);
  assert.equal(r.rttvar, 500);
  assert.equal(r.rto, 1000); // ceil(1000 + 2000) clamped to MAX_RTO
  assert.equal(r.sample(5000), false, "samples ≥ 5000 ms are ignored");
  assert.equal(r.srtt, 1000);
  assert.ok(r.sample(100));
  assert.equal(r.srtt, 100);
  assert.equal(r.rttvar, 50);
  assert.equal(r.rto, 300);
  assert.ok(r.sample(200));
  // rttvar = 0.75·50 + 0.25·|100 − 200| = 62.5; srtt = 0.875·100 + 0.125·200 = 112.5
  assert.equal(r.rttvar, 62.5);
  assert.equal(r.srtt, 112.5);
  assert.equal(r.rto, 363); // ceil(112.5 + 250)
  assert.ok(r.sample(4999));
  const fast = new RttEstimator();
  fast.sample(1);
  assert.equal(fast.rto, 50, "clamped to MIN_RTO");
  fast.sample(1);
  fast.sample(0);
  assert.equal(fast.rto, 50);
  const fractional = new RttEstimator();
  fractional.sample(10.2);
  assert.equal(fractional.rto, 50);
  fractional.sample(40);
  // rttvar = 0.75·5.1 + 0.25·29.8 = 11.275; srtt = 13.925 → ceil(59.025) = 60
  assert.equal(fractional.rto, 60);
});

// ---------------------------------------------------------------------------------------------
// Helpers: a raw peer that seals and opens datagrams itself.

interface RawDatagram {
  opened: OpenedDatagram | null;
  from: Deno.NetAddr;
}

class RawPeer {
  readonly sock: Deno.DatagramConn;
  readonly codec: DatagramCodec;
  readonly got: RawDatagram[] = [];
  readonly #loop: Promise<void>;
  constructor(key: Uint8Array, direction: 0 | 1, hostname = "127.0.0.1") {
    const sock = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    const codec = new DatagramCodec(key, direction);
    this.sock = sock;
    this.codec = codec;
    this.#loop = (async () => {
      try {
        for await (const [data, from] of sock) {
          this.got.push({ opened: codec.open(data), from: from as Deno.NetAddr });
        }
      } catch {
        // closed
      }
    })();
  }
  get port(): number {
    return (this.sock.addr as Deno.NetAddr).port;
  }
  async send(
    to: number,
    ts: number,
    reply: number,
    payload: Uint8Array,
    seq?: bigint,
    hostname = "127.0.0.1",
  ) {
    const datagram = seq === undefined
      ? this.codec.seal(ts, reply, payload)
      : sealWithSequence(this.codec, ts, reply, payload, seq);
    await this.sock.send(datagram, { transport: "udp", hostname, port: to });
  }
  async close() {
    this.sock.close();
    await this.#loop;
  }
}

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const newKey = () => crypto.getRandomValues(new Uint8Array(16));

// ---------------------------------------------------------------------------------------------

Deno.test("server binding: requested IP, port ranges, kernel choice, fallbacks, failure", async () => {
  const key = newKey();
  // Hold a port, then ask for a range starting there: the next free port is chosen.
  const held = Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 });
  const p = (held.addr as Deno.NetAddr).port;
  const opened: Connection[] = [];
  try {
    const log: string[] = [];
    const ranged = Connection.server({ key, port: `${p}:${p + 20}`, log: (l) => log.push(l) });
    opened.push(ranged);
    assert.ok(ranged.port > p && ranged.port <= p + 20, `bound ${ranged.port}`);
    assert.equal(ranged.localAddr.hostname, "::", "the wildcard is dual-stack ::");
    assert.deepEqual(log, []);

    // Everything busy: "bind: Address already in use".
    const busyLog: string[] = [];
    assert.throws(
      () => Connection.server({ key, port: { low: p, high: p }, log: (l) => busyLog.push(l) }),
      /^Error: bind: Address already in use$/,
    );
    assert.deepEqual(busyLog, [`Failed binding to [::]:${p}`, `Failed binding to 0.0.0.0:${p}`]);

    // -p 0: the kernel's choice; the requested IP is used.
    const kernel = Connection.server({ key, ip: "127.0.0.1", port: "0" });
    opened.push(kernel);
    assert.ok(kernel.port > 0);
    assert.deepEqual(kernel.localAddr, { hostname: "127.0.0.1", port: kernel.port });
    assert.equal(kernel.hasRemoteAddr, false);
    assert.equal(kernel.remoteAddr, null);
    assert.equal(kernel.mtu, 1252);
    const v6 = Connection.server({ key, ip: "::1", port: "0" });
    opened.push(v6);
    assert.equal(v6.localAddr.hostname, "::1");
    assert.equal(v6.mtu, 1216);
    const mapped = Connection.server({ key, ip: "::ffff:127.0.0.1", port: "0" });
    opened.push(mapped);
    assert.equal(mapped.localAddr.hostname, "127.0.0.1");

    // An address this host does not have: mosh's two lines, then the wildcard.
    const fallbackLog: string[] = [];
    const fallback = Connection.server({
      key,
      ip: "10.99.99.99",
      port: "0",
      log: (l) => fallbackLog.push(l),
    });
    opened.push(fallback);
    assert.deepEqual(fallbackLog, [
      "Failed binding to 10.99.99.99:0",
      "Error binding to IP 10.99.99.99: bind: Cannot assign requested address",
    ]);
    assert.equal(fallback.localAddr.hostname, "::");

    const nameLog: string[] = [];
    opened.push(Connection.server({ key, ip: "nothost", port: "0", log: (l) => nameLog.push(l) }));
    assert.deepEqual(nameLog, ["Error binding to IP nothost: Bad IP address (nothost)"]);

    assert.throws(() => Connection.server({ key, port: "5:3" }), PortRangeError);
    assert.throws(() => Connection.client({ key, ip: "localhost", port: 1 }), /Bad IP address/);
    assert.throws(() => Connection.client({ key, ip: "127.0.0.1", port: 0 }), /Bad UDP port/);
  } finally {
    held.close();
    for (const c of opened) await c.close();
  }
});

Deno.test("server: timestamps echoed once within 1 s, RTT samples, replays, roaming", async () => {
  const key = newKey();
  const clock = { t: 1000 };
  const log: string[] = [];
  const server = Connection.server({
    key,
    ip: "127.0.0.1",
    port: "0",
    now: () => clock.t,
    log: (l) => log.push(l),
  });
  const payloads: string[] = [];
  server.listen((p) => payloads.push(dec.decode(p)));
  const a = new RawPeer(key, TO_SERVER);
  const b = new RawPeer(key, TO_SERVER);
  try {
    // Nothing is sent before the first client datagram.
    await server.send(enc.encode("lost"));
    assert.equal(server.stats.sent, 0);

    await a.send(server.port, 1234, TIMESTAMP_NONE, enc.encode("first"));
    await until(() => payloads.length === 1, "first datagram");
    assert.deepEqual(payloads, ["first"]);
    assert.ok(server.hasRemoteAddr);
    assert.deepEqual(server.remoteAddr, { hostname: "127.0.0.1", port: a.port });
    assert.deepEqual(log, [`Server now attached to client at 127.0.0.1:${a.port}`]);
    assert.equal(server.lastHeard, 1000);
    assert.equal(server.srtt, 1000, "no ts_reply, no sample");

    // Held 300 ms: the echo is 1234 + 300, once.
    clock.t = 1300;
    await server.send(enc.encode("reply-1"));
    await server.send(enc.encode("reply-2"));
    await until(() => a.got.length === 2, "two replies");
    const [r1, r2] = a.got.map((g) => g.opened!);
    assert.equal(dec.decode(r1.payload), "reply-1");
    assert.equal(r1.timestamp, timestamp16(1300));
    assert.equal(r1.timestampReply, 1534);
    assert.equal(r2.timestampReply, TIMESTAMP_NONE);
    assert.ok(r2.seq > r1.seq);

    // An echo of our timestamp gives an RTT sample (now16 − reply).
    clock.t = 70000; // wraps: timestamp16(70000) = 4464
    await a.send(server.port, 7, timestamp16(70000 - 120), enc.encode("echo"));
    await until(() => payloads.length === 2, "echo datagram");
    assert.equal(server.srtt, 120);
    assert.equal(server.rto, 360); // 120 + 4·60
    // A timestamp older than 1 s is not echoed.
    clock.t = 71001;
    await server.send(enc.encode("late"));
    await until(() => a.got.length === 3, "late reply");
    assert.equal(a.got[2].opened!.timestampReply, TIMESTAMP_NONE);

    // A replayed (old sequence number) datagram from elsewhere: delivered, but no roaming and
    // no RTT sample.
    await b.send(server.port, 9, timestamp16(71001 - 4000), enc.encode("replay"), 0n);
    await until(() => payloads.length === 3, "replayed datagram");
    assert.equal(payloads[2], "replay");
    assert.equal(server.stats.reordered, 1);
    assert.equal(server.remoteAddr?.port, a.port);
    assert.equal(server.srtt, 120);
    assert.equal(server.lastHeard, 70000);

    // Rejected: our own direction (reflection), garbage, too short. Not delivered.
    const reflector = new DatagramCodec(key, TO_CLIENT);
    await b.sock.send(reflector.seal(1, TIMESTAMP_NONE, enc.encode("reflected")), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: server.port,
    });
    const garbage = crypto.getRandomValues(new Uint8Array(60));
    garbage[0] &= 0x7f; // the right direction bit, so it fails authentication
    await b.sock.send(garbage, {
      transport: "udp",
      hostname: "127.0.0.1",
      port: server.port,
    });
    await b.sock.send(new Uint8Array(10), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: server.port,
    });
    await until(
      () => server.stats.wrongDirection + server.stats.integrity + server.stats.tooShort === 3,
      "rejections",
    );
    assert.deepEqual(
      [server.stats.wrongDirection, server.stats.integrity, server.stats.tooShort],
      [1, 1, 1],
    );
    assert.equal(payloads.length, 3);

    // Roaming: a fresh datagram from b moves the server to b.
    await b.send(server.port, 11, TIMESTAMP_NONE, enc.encode("roam"));
    await until(() => payloads.length === 4, "roaming datagram");
    assert.deepEqual(server.remoteAddr, { hostname: "127.0.0.1", port: b.port });
    assert.equal(log[log.length - 1], `Server now attached to client at 127.0.0.1:${b.port}`);
    await server.send(enc.encode("to-b"));
    await until(() => b.got.length === 1, "reply at b");
    assert.equal(dec.decode(b.got[0].opened!.payload), "to-b");

    // Association timeout: 40 s of silence detaches; the next datagram re-attaches.
    const sentBefore = server.stats.sent;
    clock.t = 71001 + 40001;
    await server.send(enc.encode("void"));
    assert.equal(server.hasRemoteAddr, false);
    assert.equal(log[log.length - 1], "Server now detached from client.");
    await server.send(enc.encode("void"));
    assert.equal(server.stats.sent, sentBefore);
    await b.send(server.port, 12, TIMESTAMP_NONE, enc.encode("back"));
    await until(() => server.hasRemoteAddr, "re-attach");
    await server.send(enc.encode("again"));
    await until(() => b.got.length === 2, "reply after re-attach");
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test("server on a dual-stack wildcard sees IPv4 clients as plain IPv4", async () => {
  const key = newKey();
  const server = Connection.server({ key, port: "0" });
  const payloads: Uint8Array[] = [];
  server.listen((p) => payloads.push(p));
  const v4 = new RawPeer(key, TO_SERVER);
  const v6 = new RawPeer(key, TO_SERVER, "::1");
  try {
    await v4.send(server.port, 1, TIMESTAMP_NONE, enc.encode("v4"));
    await until(() => payloads.length === 1, "v4 datagram");
    assert.deepEqual(server.remoteAddr, { hostname: "127.0.0.1", port: v4.port });
    assert.equal(server.mtu, 1252);
    await server.send(enc.encode("x"));
    await until(() => v4.got.length === 1, "reply over v4");
    await v6.send(server.port, 1, TIMESTAMP_NONE, enc.encode("v6"), undefined, "::1");
    await until(() => payloads.length === 2, "v6 datagram");
    assert.deepEqual(server.remoteAddr, { hostname: "::1", port: v6.port });
    assert.equal(server.mtu, 1216);
  } finally {
    await v4.close();
    await v6.close();
    await server.close();
  }
});

Deno.test("client: port hop after 10 s without an ack, receive on all sockets, prune", async () => {
  const key = newKey();
  const clock = { t: 0 };
  const server = new RawPeer(key, TO_CLIENT);
  const client = Connection.client({ key, ip: "127.0.0.1", port: server.port, now: () => clock.t });
  const payloads: string[] = [];
  client.listen((p) => payloads.push(dec.decode(p)));
  try {
    assert.ok(client.hasRemoteAddr);
    assert.equal(client.mtu, 1252);
    await client.send(enc.encode("a"));
    await until(() => server.got.length === 1, "first datagram");
    const firstPort = server.got[0].from.port;
    assert.equal(firstPort, client.port);

    // Acknowledged recently: no hop even after 10 s.
    clock.t = 10001;
    client.lastRoundtripSuccess = 5000;
    await client.send(enc.encode("b"));
    assert.equal(client.socketCount, 1);

    // No acknowledgement for 10 s: the send goes out, then a new socket is opened.
    clock.t = 15002;
    await client.send(enc.encode("c"));
    assert.equal(client.socketCount, 2);
    await client.send(enc.encode("d"));
    await until(() => server.got.length === 4, "datagrams c, d");
    assert.equal(server.got[2].from.port, firstPort);
    const secondPort = server.got[3].from.port;
    assert.notEqual(secondPort, firstPort);
    assert.equal(client.port, secondPort);

    // The old socket still receives (a server that has not roamed yet).
    await server.send(firstPort, 1, TIMESTAMP_NONE, enc.encode("to-old"));
    await server.send(secondPort, 2, TIMESTAMP_NONE, enc.encode("to-new"));
    await until(() => payloads.length === 2, "both replies");
    assert.deepEqual(payloads.sort(), ["to-new", "to-old"]);
    assert.equal(client.socketCount, 2, "the newest socket is young: nothing pruned");

    // Keep hopping: at most 10 sockets.
    for (let i = 1; i <= 12; i++) {
      clock.t = 15002 + 10001 * i;
      await client.send(enc.encode("hop"));
    }
    assert.equal(client.socketCount, 10);

    // Once the newest socket is over 60 s old, a receive closes all but the newest.
    clock.t += 60001;
    client.lastRoundtripSuccess = clock.t; // no further hop on this send
    await client.send(enc.encode("last"));
    await until(() => server.got.at(-1)?.opened !== undefined && server.got.length >= 17, "last");
    const newest = server.got.at(-1)!.from.port;
    assert.equal(newest, client.port);
    await server.send(newest, 3, TIMESTAMP_NONE, enc.encode("prune"));
    await until(() => payloads.length === 3, "prune trigger");
    assert.equal(client.socketCount, 1);
    assert.equal(client.port, newest);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("client: send errors are kept as 'sendto: …'; EMSGSIZE drops the MTU to 500", async () => {
  const key = newKey();
  const server = new RawPeer(key, TO_CLIENT, "::1");
  const client = Connection.client({ key, ip: "::1", port: server.port });
  try {
    assert.equal(client.mtu, 1216);
    await client.send(new Uint8Array(70000));
    assert.equal(client.sendError, "sendto: Message too long");
    assert.equal(client.stats.sendErrors, 1);
    assert.equal(client.mtu, 500);
    await client.send(enc.encode("small"));
    assert.equal(client.sendError, null);
    await until(() => server.got.length === 1, "small datagram");
    assert.equal(dec.decode(server.got[0].opened!.payload), "small");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("close() ends receive loops and pending sends cleanly", async () => {
  const key = newKey();
  const server = Connection.server({ key, ip: "127.0.0.1", port: "0" });
  server.listen(() => {});
  const client = Connection.client({ key, ip: "127.0.0.1", port: server.port });
  client.listen(() => {});
  const sending = client.send(enc.encode("bye"));
  await client.close();
  await sending;
  await server.close();
  await server.close(); // idempotent
  assert.equal(await client.send(enc.encode("after close")), undefined);
});

Deno.test("a burst of sends leaves in sequence order and paced, so none is reordered or lost", async () => {
  const key = newKey();
  const server = Connection.server({ key, ip: "127.0.0.1", port: "0" });
  const got: number[] = [];
  server.listen((p) => got.push(p[0] | (p[1] << 8)));
  const client = Connection.client({ key, ip: "127.0.0.1", port: server.port });
  try {
    const payload = new Uint8Array(1200);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) {
      payload[0] = i & 0xff;
      payload[1] = i >> 8;
      sends.push(client.send(payload));
    }
    assert.ok(client.backlog > 0, "queued");
    await Promise.all(sends);
    assert.equal(client.backlog, 0);
    await until(() => got.length === 600, "600 datagrams");
    assert.deepEqual(got, Array.from({ length: 600 }, (_, i) => i));
    assert.equal(server.stats.reordered, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("an exception in the receive handler is logged and counted, not fatal", async () => {
  const key = newKey();
  const log: string[] = [];
  const server = Connection.server({ key, ip: "127.0.0.1", port: "0", log: (l) => log.push(l) });
  const got: string[] = [];
  server.listen((p) => {
    const text = dec.decode(p);
    if (text === "boom") throw new Error("handler bug");
    got.push(text);
  });
  const peer = new RawPeer(key, TO_SERVER);
  try {
    await peer.send(server.port, 1, TIMESTAMP_NONE, enc.encode("boom"));
    await peer.send(server.port, 2, TIMESTAMP_NONE, enc.encode("fine"));
    await until(() => got.length === 1, "the second datagram");
    assert.equal(server.stats.handlerErrors, 1);
    assert.ok(log.some((l) => l.startsWith("Error handling a datagram: Error: handler bug")));
  } finally {
    await peer.close();
    await server.close();
  }
});

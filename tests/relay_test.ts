// Tests for tests/relay.ts, the impairment relay, with plain UDP sockets on loopback: loss,
// delay and jitter, duplication, reordering, hold and release, black holes, source address and
// port changes (the client roaming), NAT-style per-client mappings, capture, the lifetime bound
// and the loopback-only rule.
import assert from "node:assert/strict";
import { isLoopback, Prng, Relay } from "./relay.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A datagram as a receiver saw it. */
interface Got {
  index: number;
  at: number;
  from: { hostname: string; port: number };
}

/** A UDP socket that records what it receives (datagrams carry a u32 index first). */
class Peer {
  readonly conn: Deno.DatagramConn;
  readonly got: Got[] = [];
  readonly #loop: Promise<void>;
  #closed = false;

  constructor(hostname = "127.0.0.1", readonly echo = false) {
    this.conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    this.#loop = this.#run();
  }

  get port(): number {
    return (this.conn.addr as Deno.NetAddr).port;
  }

  async #run(): Promise<void> {
    for (;;) {
      let data: Uint8Array, addr: Deno.NetAddr;
      try {
        const [d, a] = await this.conn.receive();
        data = d;
        addr = a as Deno.NetAddr;
      } catch {
        if (this.#closed) return;
        continue;
      }
      const index = new DataView(data.buffer, data.byteOffset).getUint32(0);
      this.got.push({
        index,
        at: performance.now(),
        from: { hostname: addr.hostname, port: addr.port },
      });
      if (this.echo) await this.conn.send(data, addr);
    }
  }

  async send(index: number, to: { hostname: string; port: number }, size = 8): Promise<void> {
    const data = new Uint8Array(size);
    new DataView(data.buffer).setUint32(0, index);
    await this.conn.send(data, { transport: "udp", ...to });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.conn.close();
    await this.#loop;
  }
}

/** Waits until `cond()` or `ms` pass; returns cond(). */
async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!cond() && performance.now() < deadline) await delay(5);
  return cond();
}

/** A server peer (echoing), a client peer and a relay between them. */
async function withRig(
  options: Omit<Parameters<typeof Relay.start>[0], "target">,
  body: (
    rig: { server: Peer; client: Peer; relay: Relay; to: { hostname: string; port: number } },
  ) => Promise<void>,
): Promise<void> {
  const server = new Peer("127.0.0.1", true);
  const client = new Peer("127.0.0.1");
  const relay = Relay.start({ target: { hostname: "127.0.0.1", port: server.port }, ...options });
  try {
    await body({ server, client, relay, to: { hostname: relay.hostname, port: relay.port } });
  } finally {
    await relay.close();
    await client.close();
    await server.close();
  }
}

/** Sends `n` numbered datagrams, `burst` at a time with a short pause (no kernel drops). */
async function sendMany(p: Peer, to: { hostname: string; port: number }, n: number, burst = 50) {
  for (let i = 0; i < n; i++) {
    await p.send(i, to);
    if (i % burst === burst - 1) await delay(2);
  }
}

Deno.test("relay: a clean link forwards both ways, in order, and captures every datagram", async () => {
  await withRig({ capture: true }, async ({ server, client, relay, to }) => {
    await sendMany(client, to, 100);
    assert.ok(await until(() => client.got.length === 100), `echoes: ${client.got.length}`);
    assert.deepEqual(server.got.map((g) => g.index), [...Array(100).keys()]);
    assert.deepEqual(client.got.map((g) => g.index), [...Array(100).keys()]);
    // The server sees the relay's upstream socket; the client sees the relay's port.
    assert.deepEqual(server.got[0].from, relay.upstreamAddr);
    assert.equal(client.got[0].from.port, relay.port);
    assert.deepEqual(relay.clientAddr, { hostname: "127.0.0.1", port: client.port });
    const up = relay.captured.filter((c) => c.dir === "toServer");
    const down = relay.captured.filter((c) => c.dir === "toClient");
    assert.equal(up.length, 100);
    assert.equal(down.length, 100);
    assert.equal(new DataView(up[7].data.buffer).getUint32(0), 7);
    assert.deepEqual(up[0].from, { hostname: "127.0.0.1", port: client.port });
    assert.deepEqual(down[0].from, { hostname: "127.0.0.1", port: server.port });
    assert.ok(up[99].at >= up[0].at);
    assert.equal(relay.stats.toServer.forwarded, 100);
    assert.equal(relay.stats.toClient.received, 100);
  });
});

Deno.test("relay: random loss drops the given fraction, repeatably for a seed", async () => {
  const run = async (seed: number) => {
    let indices: number[] = [];
    await withRig({ seed, toServer: { loss: 0.3 } }, async ({ server, client, relay, to }) => {
      await sendMany(client, to, 2000);
      const s = relay.stats.toServer;
      assert.ok(await until(() => server.got.length === 2000 - s.lost), "all survivors arrive");
      await delay(50);
      assert.equal(server.got.length + s.lost, 2000);
      assert.ok(s.lost >= 500 && s.lost <= 700, `lost ${s.lost} of 2000 at p=0.3`);
      // The return path is clean: every survivor is echoed.
      assert.ok(await until(() => client.got.length === server.got.length));
      indices = server.got.map((g) => g.index);
    });
    return indices;
  };
  const a = await run(7);
  const b = await run(7);
  const c = await run(8);
  assert.deepEqual(a, b, "the same seed drops the same datagrams");
  assert.notDeepEqual(a, c, "another seed drops others");
});

Deno.test("relay: delay and jitter", async () => {
  await withRig(
    { toServer: { delayMs: 80 }, toClient: { delayMs: 40, jitterMs: 30 } },
    async ({ server, client, to }) => {
      const sentAt: number[] = [];
      for (let i = 0; i < 200; i++) {
        sentAt.push(performance.now());
        await client.send(i, to);
        await delay(1);
      }
      assert.ok(await until(() => client.got.length === 200, 5000));
      const oneWay = server.got.map((g) => g.at - sentAt[g.index]);
      assert.ok(Math.min(...oneWay) >= 79, `min one-way ${Math.min(...oneWay)}`);
      assert.ok(Math.max(...oneWay) < 80 + 60, `max one-way ${Math.max(...oneWay)}`);
      const serverAt = new Map(server.got.map((g) => [g.index, g.at]));
      const back = client.got.map((g) => g.at - serverAt.get(g.index)!);
      assert.ok(Math.min(...back) >= 9, `min return ${Math.min(...back)}`);
      assert.ok(Math.min(...back) < 25, `jitter reaches down: ${Math.min(...back)}`);
      assert.ok(Math.max(...back) > 55, `jitter reaches up: ${Math.max(...back)}`);
      assert.ok(Math.max(...back) < 70 + 60, `max return ${Math.max(...back)}`);
      // Jitter larger than the spacing reorders the return path.
      const order = client.got.map((g) => g.index);
      assert.ok(order.some((v, i) => i > 0 && v < order[i - 1]), "jitter reorders");
    },
  );
});

Deno.test("relay: duplication and reordering", async () => {
  await withRig(
    { seed: 3, toServer: { duplicate: 0.2, reorder: 0.1, reorderMs: 30 } },
    async ({ server, client, relay, to }) => {
      for (let i = 0; i < 500; i++) {
        await client.send(i, to);
        if (i % 10 === 9) await delay(2);
      }
      const s = relay.stats.toServer;
      assert.ok(await until(() => server.got.length === 500 + s.duplicated, 5000));
      await delay(50);
      assert.equal(server.got.length, 500 + s.duplicated);
      assert.ok(s.duplicated >= 70 && s.duplicated <= 130, `duplicated ${s.duplicated} of 500`);
      const counts = new Map<number, number>();
      for (const g of server.got) counts.set(g.index, (counts.get(g.index) ?? 0) + 1);
      assert.equal(counts.size, 500, "every datagram arrives");
      assert.equal([...counts.values()].filter((n) => n === 2).length, s.duplicated);
      assert.ok(s.reordered >= 30, `reordered ${s.reordered}`);
      const order = server.got.map((g) => g.index);
      let inversions = 0;
      for (let i = 1; i < order.length; i++) if (order[i] < order[i - 1]) inversions++;
      assert.ok(inversions >= 20, `inversions ${inversions}`);
    },
  );
});

Deno.test("relay: hold buffers and release sends in order; a timed hold ends by itself", async () => {
  await withRig({}, async ({ server, client, relay, to }) => {
    relay.hold("toServer");
    await sendMany(client, to, 20);
    await delay(200);
    assert.equal(server.got.length, 0, "nothing passes while held");
    assert.equal(relay.stats.toServer.held, 20);
    relay.release("toServer");
    assert.ok(await until(() => server.got.length === 20));
    assert.deepEqual(server.got.map((g) => g.index), [...Array(20).keys()]);

    // The return direction alone, for 300 ms.
    relay.hold("toClient", 300);
    const t0 = performance.now();
    await client.send(1000, to);
    assert.ok(await until(() => server.got.length === 21));
    assert.ok(await until(() => client.got.some((g) => g.index === 1000), 2000));
    const waited = client.got.find((g) => g.index === 1000)!.at - t0;
    assert.ok(waited >= 290 && waited < 1000, `timed hold released after ${waited} ms`);
  });
});

Deno.test("relay: a black hole drops everything, then traffic flows again", async () => {
  await withRig({}, async ({ server, client, relay, to }) => {
    relay.blackhole("both", 300);
    await sendMany(client, to, 30);
    await delay(100);
    assert.equal(server.got.length, 0);
    assert.equal(relay.stats.toServer.blackholed, 30);
    await delay(250);
    await client.send(77, to);
    assert.ok(await until(() => client.got.length === 1));
    assert.equal(client.got[0].index, 77);

    // Only the return path, until lifted.
    relay.blackhole("toClient");
    await client.send(78, to);
    assert.ok(await until(() => server.got.length === 2));
    await delay(100);
    assert.equal(client.got.length, 1, "the echo fell into the black hole");
    assert.equal(relay.stats.toClient.blackholed, 1);
    relay.unblackhole("toClient");
    await client.send(79, to);
    assert.ok(await until(() => client.got.length === 2));
  });
});

Deno.test("relay: changing the source address and port (the client roams)", async () => {
  await withRig({}, async ({ server, client, relay, to }) => {
    const seen: string[] = [];
    const probe = async (i: number) => {
      await client.send(i, to);
      assert.ok(await until(() => server.got.some((g) => g.index === i)), `datagram ${i}`);
      assert.ok(await until(() => client.got.some((g) => g.index === i)), `echo ${i}`);
      const from = server.got.find((g) => g.index === i)!.from;
      seen.push(`${from.hostname}:${from.port}`);
      return from;
    };
    const first = await probe(1);
    assert.equal(first.hostname, "127.0.0.1");

    const a = relay.changeSource({ hostname: "127.0.0.2" });
    const second = await probe(2);
    assert.deepEqual(second, a);
    assert.equal(second.hostname, "127.0.0.2");

    relay.changeSource({ hostname: "127.0.0.3" });
    assert.equal((await probe(3)).hostname, "127.0.0.3");

    // Same address, new port.
    const before = relay.upstreamAddr!;
    const c = relay.changeSource();
    assert.equal(c.hostname, "127.0.0.3");
    assert.notEqual(c.port, before.port);
    assert.deepEqual(await probe(4), c);

    // A chosen port.
    const spare = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port: 0 });
    const port = (spare.addr as Deno.NetAddr).port;
    spare.close();
    relay.changeSource({ hostname: "127.0.0.2", port });
    assert.deepEqual(await probe(5), { hostname: "127.0.0.2", port });

    assert.equal(new Set(seen).size, 5, `five distinct sources: ${seen.join(" ")}`);
  });
});

Deno.test("relay: each client address gets its own upstream port (NAT); replies go back to it", async () => {
  await withRig({}, async ({ server, client, relay, to }) => {
    const other = new Peer("127.0.0.1");
    try {
      await client.send(1, to);
      assert.ok(await until(() => client.got.length === 1));
      await other.send(2, to); // the client hopped to a new port
      assert.ok(await until(() => other.got.length === 1));
      assert.equal(other.got[0].index, 2);
      assert.notEqual(server.got[0].from.port, server.got[1].from.port);
      assert.deepEqual(relay.clientAddr, { hostname: "127.0.0.1", port: other.port });
      assert.equal(relay.clientAddrs.length, 2);
      // The old address still works (mosh keeps old sockets for a while).
      await client.send(3, to);
      assert.ok(await until(() => client.got.length === 2));
      assert.equal(client.got[1].index, 3);
      assert.equal(other.got.length, 1);
    } finally {
      await other.close();
    }
  });
});

Deno.test("relay: IPv6 loopback", async () => {
  const server = new Peer("::1", true);
  const client = new Peer("::1");
  const relay = Relay.start({ target: { hostname: "::1", port: server.port } });
  try {
    assert.equal(relay.hostname, "::1");
    await client.send(5, { hostname: "::1", port: relay.port });
    assert.ok(await until(() => client.got.length === 1));
    assert.equal(server.got[0].from.hostname, "::1");
  } finally {
    await relay.close();
    await client.close();
    await server.close();
  }
});

Deno.test("relay: loopback only, checked parameters, bounded lifetime", async () => {
  assert.throws(
    () => Relay.start({ target: { hostname: "10.0.0.1", port: 60001 } }),
    /relay: target 10\.0\.0\.1 is not a loopback address/,
  );
  assert.throws(
    () =>
      Relay.start({
        target: { hostname: "127.0.0.1", port: 60001 },
        listen: { hostname: "0.0.0.0" },
      }),
    /listen address 0\.0\.0\.0 is not a loopback address/,
  );
  assert.throws(
    () => Relay.start({ target: { hostname: "127.0.0.1", port: 60001 }, toServer: { loss: 2 } }),
    /loss must be a probability/,
  );
  const relay = Relay.start({ target: { hostname: "127.0.0.1", port: 60001 }, maxLifetimeMs: 150 });
  try {
    assert.throws(() => relay.changeSource({ hostname: "192.168.1.1" }), /not a loopback/);
    assert.throws(() => relay.setImpairment("both", { delayMs: -1 }), /delayMs/);
    assert.equal(relay.closed, false);
    assert.ok(await until(() => relay.closed, 2000), "closed itself after its lifetime");
  } finally {
    await relay.close();
  }
  for (const h of ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.2", "[::1]"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["128.0.0.1", "0.0.0.0", "::", "10.1.2.3", "127.0.0.256", "localhost"]) {
    assert.ok(!isLoopback(h), h);
  }
});

Deno.test("relay: the PRNG is seeded, uniform and in range", () => {
  const a = new Prng(42), b = new Prng(42), c = new Prng(43);
  const xs = Array.from({ length: 10000 }, () => a.next());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b.next()));
  assert.notEqual(xs[0], c.next());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  const buckets = new Array(10).fill(0);
  for (const x of xs) buckets[Math.floor(x * 10)]++;
  assert.ok(buckets.every((n) => n > 850 && n < 1150), buckets.join(","));
  assert.equal(new Prng(1).bytes(16).length, 16);
});

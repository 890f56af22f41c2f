// Tests for lib/udp_port.ts: one UDP port, several keys (loopback sockets only).
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import { MAX_DATAGRAM_LENGTH } from "../lib/datagram.ts";
import { generateKey } from "../lib/key.ts";
import { TRIAL_BURST, UdpPort } from "../lib/udp_port.ts";
import { delay } from "./harness.ts";

const encoder = new TextEncoder();

function port(onClose: () => void = () => {}): UdpPort {
  return new UdpPort({ ip: "127.0.0.1", port: { low: 0, high: 0 } }, {
    now: () => performance.now(),
    log: () => {},
    onClose,
  });
}

Deno.test("udp port: each datagram reaches the connection whose key opens it; junk is bounded", async () => {
  let closed = false;
  const p = port(() => (closed = true));
  p.retain();
  const keys = [generateKey(), generateKey(), generateKey()];
  const got: string[][] = [[], [], []];
  const servers = keys.map((k, i) => {
    const c = p.join(k.key, () => {});
    c.listen((payload) => got[i].push(new TextDecoder().decode(payload)));
    return c;
  });
  const clients = keys.map((k) => Connection.client({ key: k.key, ip: "127.0.0.1", port: p.port }));
  try {
    for (let round = 0; round < 3; round++) {
      clients.forEach((c, i) => c.send(encoder.encode(`c${i}r${round}`)));
      const deadline = performance.now() + 3000;
      while (got.some((g) => g.length <= round) && performance.now() < deadline) await delay(5);
    }
    assert.deepEqual(got, [0, 1, 2].map((i) => [0, 1, 2].map((r) => `c${i}r${r}`)));
    // Replies go back through the shared socket to each client.
    const replies: string[][] = [[], [], []];
    clients.forEach((c, i) => c.listen((b) => replies[i].push(new TextDecoder().decode(b))));
    servers.forEach((s, i) => s.send(encoder.encode(`s${i}`)));
    const deadline = performance.now() + 3000;
    while (replies.some((r) => r.length === 0) && performance.now() < deadline) await delay(5);
    assert.deepEqual(replies, [["s0"], ["s1"], ["s2"]]);

    assert.equal(p.stats.unauthenticated, 0);

    // Junk and oversized datagrams are dropped and counted, without stopping anything.
    const junk = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const addr = { transport: "udp" as const, hostname: "127.0.0.1", port: p.port };
    await junk.send(new Uint8Array(MAX_DATAGRAM_LENGTH + 1), addr);
    for (let i = 0; i < 3 * TRIAL_BURST; i++) await junk.send(new Uint8Array(64).fill(i), addr);
    const until = performance.now() + 3000;
    while (p.stats.oversize < 1 && performance.now() < until) await delay(5);
    await delay(100);
    assert.equal(p.stats.oversize, 1);
    assert.ok(p.stats.rateLimited > 0, JSON.stringify(p.stats));
    assert.ok(p.stats.unauthenticated > 0, JSON.stringify(p.stats));
    junk.close();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
  }
  assert.ok(!closed, "a retained port stays open without connections");
  p.release();
  assert.ok(closed, "the port closed when its last user released it");
  await p.closed;
});

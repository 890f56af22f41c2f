// Tests for lib/udp_port.ts (one UDP port, several keys) and lib/control.ts (framing and the
// control directory checks), on loopback sockets only.
import assert from "node:assert/strict";
import { Connection } from "../lib/connection.ts";
import {
  checkControlDir,
  encodeFrame,
  MAX_MESSAGE,
  readFrame,
  validName,
  writeFrame,
} from "../lib/control.ts";
import { generateKey } from "../lib/key.ts";
import { MAX_DATAGRAM_LENGTH } from "../lib/datagram.ts";
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

Deno.test("control: framing, limits and names", async () => {
  assert.throws(() => encodeFrame({ big: "x".repeat(MAX_MESSAGE) }), /too long/);
  const listener = Deno.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({
    transport: "tcp",
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  const server = await accepted;
  try {
    await writeFrame(client, encodeFrame({ cmd: "list", v: 1 }));
    assert.deepEqual(await readFrame(server, Date.now() + 2000), { cmd: "list", v: 1 });
    await writeFrame(client, new Uint8Array([0, 1, 0, 1]));
    await assert.rejects(readFrame(server, Date.now() + 2000), /message of 65537 bytes/);
    await writeFrame(client, new Uint8Array([0, 0, 0, 9, 1]));
    await assert.rejects(readFrame(server, Date.now() + 200), /deadline passed/);
  } finally {
    client.close();
    server.close();
    listener.close();
  }
  assert.ok(validName("work"));
  assert.ok(validName("a.b-c_d@e+f"));
  for (const bad of ["", "12", "-x".slice(1) + " ", "a/b", "a b", "x".repeat(65), "$(x)"]) {
    assert.ok(!validName(bad), bad);
  }
});

Deno.test("control: the directory checks", async () => {
  const base = await Deno.makeTempDir();
  const uid = Deno.uid() ?? 0;
  const made = `${base}/new`;
  assert.equal(checkControlDir(made, uid, true), null);
  assert.equal((await Deno.lstat(made)).mode! & 0o777, 0o700);
  assert.match(checkControlDir(`${base}/absent`, uid, false)!, /does not exist/);
  await Deno.chmod(made, 0o750);
  assert.match(checkControlDir(made, uid, false)!, /mode 750 gives others access/);
  await Deno.chmod(made, 0o700);
  assert.match(
    checkControlDir(made, uid + 1, false)!,
    new RegExp(`owned by uid ${uid}, not by you`),
  );
  await Deno.symlink(made, `${base}/link`);
  assert.match(checkControlDir(`${base}/link`, uid, true)!, /refusing a symbolic link/);
  await Deno.remove(base, { recursive: true });
});

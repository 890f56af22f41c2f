/**
 * The wire layers (ocb, key, datagram, fragment, protobuf) against Debian's mosh-server 1.4.0, plus
 * property tests of the whole seal → fragment → reassemble → open path.
 */

import assert from "node:assert/strict";
import {
  DatagramCodec,
  timestamp16,
  TIMESTAMP_NONE,
  TO_CLIENT,
  TO_SERVER,
} from "../lib/datagram.ts";
import {
  DEFAULT_SEND_MTU,
  FragmentAssembly,
  Fragmenter,
  fragmentMtu,
  IPV4_DATAGRAM_MTU,
  IPV6_DATAGRAM_MTU,
} from "../lib/fragment.ts";
import {
  decodeHostMessage,
  encodeUserMessage,
  type HostEvent,
  type Instruction,
  PROTOCOL_VERSION,
  ProtocolError,
} from "../lib/protobuf.ts";
import { requireDebianPackages } from "./deps.ts";
import { alive, delay, startServer, stopServer } from "./harness.ts";
import { RawClient } from "./raw_client.ts";

const U64_MAX = (1n << 64n) - 1n;

Deno.test("wire interop: drive Debian's mosh-server through a session and its shutdown", async () => {
  await requireDebianPackages(["mosh"]);
  const token = `interop-${crypto.randomUUID().slice(0, 8)}`;
  const server = await startServer("debian", {
    command: ["sh", "-c", `echo ${token}; sleep 1`],
  });
  const { pid } = server;

  const client = new RawClient(server.port, server.key, IPV4_DATAGRAM_MTU);

  // Server states we hold (SSP receiver, §5.5), the newest in-order one, and what they said.
  const held = new Set<bigint>([0n]);
  let ackNum = 0n;
  const events: HostEvent[] = [];
  let instructions = 0;

  // Our states: 1 = a resize to 80x24 (sent as 0 -> 1), then 2 = that plus the keystroke "x"
  // (sent as 1 -> 2). The current one is resent with a fresh ack_num whenever the server moves on.
  let ourNum = 1n;
  const send = () =>
    client.send({
      protocolVersion: PROTOCOL_VERSION,
      oldNum: ourNum - 1n,
      newNum: ourNum,
      ackNum,
      throwawayNum: ourNum - 1n,
      diff: ourNum === 1n
        ? encodeUserMessage([{ type: "resize", width: 80, height: 24 }])
        : encodeUserMessage([{ type: "keys", keys: new TextEncoder().encode("x") }]),
      chaff: new Uint8Array(0),
    });

  client.listen((inst) => {
    instructions++;
    assert.equal(inst.protocolVersion, 2);
    if (held.has(inst.newNum) || !held.has(inst.oldNum)) return;
    held.add(inst.newNum);
    if (inst.newNum > ackNum) ackNum = inst.newNum;
    events.push(...decodeHostMessage(inst.diff));
  });

  try {
    await send();
    const text = () =>
      new TextDecoder().decode(
        new Uint8Array(events.flatMap((e) => e.type === "hostbytes" ? [...e.data] : [])),
      );
    const deadline = performance.now() + 15000;
    let acked = ackNum;
    while (performance.now() < deadline && alive(pid)) {
      await delay(20);
      if (ourNum === 1n && text().includes(token)) {
        ourNum = 2n; // the shell runs: type a key, which the pty echoes
        await send();
      }
      if (ackNum !== acked) {
        acked = ackNum;
        await send(); // acknowledge the server's newest state, as the SSP receiver does
      }
    }
    assert.ok(instructions > 0, "no instruction from mosh-server");
    assert.ok(
      text().includes(token),
      `output ${JSON.stringify(token)} not in ${JSON.stringify(text())}`,
    );
    assert.ok(text().replace(token, "").includes("x"), `key not echoed: ${JSON.stringify(text())}`);
    assert.ok(
      events.some((e) => e.type === "echoack" && e.num === 2n),
      `no echo ack of state 2 in ${JSON.stringify(events.map((e) => e.type))}`,
    );
    const rtts = client.rtts;
    assert.ok(rtts.length > 0 && rtts.every((r) => r < 1000), `RTT samples ${rtts}`);
    // The shell exited: the server sent the shutdown state, we acked it, and it exited cleanly.
    assert.equal(ackNum, U64_MAX, "server never sent its shutdown state");
    assert.equal(alive(pid), false, "mosh-server still running after the shutdown handshake");
    const { rejected } = client.codec;
    assert.equal(rejected.integrity + rejected.wrongDirection, 0, "a datagram failed to open");
  } finally {
    await client.close();
    await stopServer(server);
  }
});

Deno.test("wire: random instructions survive seal/open and fragment/reassembly at each MTU", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const sender = new DatagramCodec(key, TO_CLIENT);
  const receiver = new DatagramCodec(key, TO_SERVER);
  const fragmenter = new Fragmenter();
  for (const datagramMtu of [IPV4_DATAGRAM_MTU, IPV6_DATAGRAM_MTU, DEFAULT_SEND_MTU]) {
    const assembly = new FragmentAssembly();
    for (let i = 0; i < 150; i++) {
      const size = Math.floor(Math.random() * 3001);
      // Half incompressible noise, half repetitive terminal-like text.
      const diff = i % 2 === 0
        ? crypto.getRandomValues(new Uint8Array(size))
        : new TextEncoder().encode("\x1b[1;31mhello world \x1b[0m".repeat(200).slice(0, size));
      const inst: Instruction = {
        protocolVersion: 2,
        oldNum: BigInt(i),
        newNum: BigInt(i + 1),
        ackNum: BigInt(Math.floor(Math.random() * 2 ** 53)),
        throwawayNum: BigInt(i),
        diff,
        chaff: crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 17))),
      };
      let got: Instruction | null = null;
      for (const frag of fragmenter.makeFragments(inst, fragmentMtu(datagramMtu))) {
        const datagram = sender.seal(timestamp16(), TIMESTAMP_NONE, frag);
        assert.ok(datagram.length <= datagramMtu, `${datagram.length} > ${datagramMtu}`);
        const opened = receiver.open(datagram);
        assert.ok(opened);
        assert.equal(got, null, "instruction completed before its last fragment");
        got = assembly.add(opened.payload);
      }
      assert.deepEqual(got, inst);
    }
  }
});

Deno.test("wire: 10,000 random, truncated and corrupted datagrams stay on the drop path", () => {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const sender = new DatagramCodec(key, TO_CLIENT);
  const receiver = new DatagramCodec(key, TO_SERVER);
  const assembly = new FragmentAssembly();
  const valid = new Fragmenter().makeFragments(
    {
      protocolVersion: 2,
      oldNum: 0n,
      newNum: 1n,
      ackNum: 0n,
      throwawayNum: 0n,
      diff: crypto.getRandomValues(new Uint8Array(1500)),
      chaff: new Uint8Array(3),
    },
    fragmentMtu(DEFAULT_SEND_MTU),
  ).map((f) => sender.seal(1, 2, f));
  let opened = 0;
  let dropped = 0;
  let completed = 0;
  const feed = (datagram: Uint8Array) => {
    const d = receiver.open(datagram);
    if (d === null) return;
    opened++;
    try {
      if (assembly.add(d.payload) !== null) completed++;
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      dropped++;
    }
  };
  for (let i = 0; i < 10000; i++) {
    const kind = i % 5;
    if (kind === 0) {
      feed(crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 2048))));
    } else if (kind === 1) {
      const v = valid[i % valid.length];
      feed(v.subarray(0, Math.floor(Math.random() * v.length)));
    } else if (kind === 2) {
      const v = valid[i % valid.length].slice();
      v[Math.floor(Math.random() * v.length)] ^= 1 << Math.floor(Math.random() * 8);
      feed(v);
    } else {
      // Authentic datagrams with hostile payloads: short fragments, garbage chunks, bad zlib.
      const payload = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 40)));
      if (kind === 4 && payload.length >= 10) {
        payload[8] = 0x80; // fragment 0 and final: the garbage chunk goes straight to inflate
        payload[9] = 0;
      }
      feed(sender.seal(0, 0, payload));
    }
  }
  for (const v of valid) feed(v);
  const r = receiver.rejected;
  assert.equal(opened, 4000 + valid.length);
  assert.ok(dropped > 2000, `only ${dropped} hostile payloads dropped`);
  assert.ok(completed >= 1, "the valid instruction did not assemble after the noise");
  assert.ok(r.tooShort > 0 && r.integrity > 0 && r.shortPlaintext === 0);
  assert.equal(r.tooShort + r.integrity + r.wrongDirection + opened, 10000 + valid.length);
});

// Hostile input at a live server and a live client (docs/PROTOCOL.md §1.4, §2.5, §3.3, §5.5,
// §7.3): floods of random and mutated datagrams, replays from another address, reflection, a
// key holder that sends malformed or abusive instructions, and the handling of the session key.
//
// The generators are seeded (tests/relay.ts's Prng), so a failure can be replayed. Datagram counts
// are checked against the kernel's: every datagram sent either reached the server's socket and
// shows up in its -v "Rejected datagrams" count, or the kernel dropped it (the socket's drops in
// /proc/net/udp), or the kernel dropped one of the session's own datagrams in its place (allowed
// up to the number the relay passed meanwhile). The client's -v log reports its rejected count
// the same way (at most once a second).
//
// Where C mosh 1.4.0 aborts (a fragment under 10 bytes, an instruction that does not parse, a
// throwaway_num past every held state) ours must drop the input, count it and carry on.

import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { clientMain } from "../client.ts";
import { Connection } from "../lib/connection.ts";
import { DATAGRAM_OVERHEAD, DatagramCodec, TO_SERVER } from "../lib/datagram.ts";
import { Fragmenter, fragmentMtu } from "../lib/fragment.ts";
import { generateKey, parseKey } from "../lib/key.ts";
import {
  encodeHostMessage,
  encodeInstruction,
  encodeUserMessage,
  type HostEvent,
  type Instruction,
  type UserEvent,
} from "../lib/protobuf.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { type SyncState, Transport } from "../lib/transport.ts";
import { UserStream } from "../lib/user_stream.ts";
import { requireDebianPackages } from "./deps.ts";
import { type CapturedDatagram, Prng, Relay } from "./relay.ts";
import {
  alive,
  cleanEnv,
  clientPid,
  delay,
  descendants,
  OUR_CLIENT,
  procFile,
  rssMiB,
  type Server,
  startClient,
  startServer,
  stopServer,
  waitGone,
} from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { withEnv } from "./clean_env.ts";

// ---------------------------------------------------------------------------------------------
// Harness (tests/harness.ts): our server with -v, our client in a tmux pane.

const PROMPT_RE = /^prompt\$/m;
const encoder = new TextEncoder();

/** Our server with -v (its log arrives in `err`; the newest MiB of it is kept). */
function startVerboseServer(): Promise<Server> {
  return startServer("ours", { verbose: true, keep: 1 << 20 });
}

/** Kernel receive drops of the IPv4/IPv6 UDP socket(s) bound to local `port`. */
function udpDrops(port: number): number {
  let drops = 0;
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    for (const line of readLines(file)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1] ?? "";
      if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port) {
        drops += Number(cols[cols.length - 1]);
      }
    }
  }
  return drops;
}

function readLines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n").slice(1).filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

/** Types a command and waits for a line of its output (the command computes it, so the typed
 * echo cannot match). */
async function check(t: Tmux, tag: string, ms = 15000): Promise<void> {
  await t.sendText(`echo ${tag}-$((20+3))\r`);
  await t.waitFor(new RegExp(`^${tag}-23$`, "m"), ms);
}

/**
 * Waits (up to 30 s) until `counted()` is in [want(), want() + slack()], and still is 300 ms
 * later: a process's rejected count against the datagrams that reached its socket. `slack` is
 * the number of the session's own datagrams the kernel may have dropped in the flood's place.
 */
async function expectCount(
  counted: () => number,
  want: () => number,
  slack: () => number,
): Promise<void> {
  const inRange = () => counted() >= want() && counted() <= want() + slack();
  const deadline = performance.now() + 30000;
  while (performance.now() < deadline) {
    if (inRange()) {
      await delay(300);
      if (inRange()) return;
    }
    await delay(100);
  }
  assert.ok(
    inRange(),
    `rejected ${counted()}, expected sent - dropped by the kernel = ${want()} (+ up to ${slack()})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Generators: random datagrams and mutations of real ones.

/** 4 MiB of seeded random bytes to cut datagrams from (fast, and repeatable). */
class Pool {
  readonly bytes: Uint8Array;

  constructor(readonly prng: Prng) {
    this.bytes = new Uint8Array(4 << 20);
    const words = new Uint32Array(this.bytes.buffer);
    for (let i = 0; i < words.length; i++) words[i] = Math.floor(prng.next() * 4294967296);
  }

  take(n: number): Uint8Array {
    const at = this.prng.int(this.bytes.length - n + 1);
    return this.bytes.slice(at, at + n);
  }
}

/** A random datagram: 0 to 2,100 bytes, or (1%) up to 65,000. */
function randomDatagram(pool: Pool): Uint8Array {
  const p = pool.prng;
  const n = p.next() < 0.01 ? p.int(65001) : p.int(2101);
  return pool.take(n);
}

/**
 * A mutation of one of `real` (bit flips, truncation, extension, a swapped nonce, a spliced
 * tail, a flipped tag); never identical to any input datagram it came from.
 */
function mutateDatagram(real: Uint8Array[], pool: Pool): Uint8Array {
  const p = pool.prng;
  for (;;) {
    const a = real[p.int(real.length)];
    const b = real[p.int(real.length)];
    let out: Uint8Array;
    switch (p.int(6)) {
      case 0: { // flip 1-8 random bits
        out = a.slice();
        const flips = 1 + p.int(8);
        for (let i = 0; i < flips; i++) out[p.int(out.length)] ^= 1 << p.int(8);
        break;
      }
      case 1: // truncate
        out = a.slice(0, p.int(a.length));
        break;
      case 2: { // extend
        out = new Uint8Array(a.length + 1 + p.int(64));
        out.set(a);
        out.set(pool.take(out.length - a.length), a.length);
        break;
      }
      case 3: // another datagram's nonce on this ciphertext
        out = a.slice();
        out.set(b.subarray(0, 8));
        break;
      case 4: { // this head, another's tail
        const cut = 8 + p.int(Math.max(1, Math.min(a.length, b.length) - 8));
        out = new Uint8Array(cut + b.length - Math.min(cut, b.length));
        out.set(a.subarray(0, cut));
        out.set(b.subarray(Math.min(cut, b.length)), cut);
        break;
      }
      default: // corrupt the tag only
        out = a.slice();
        out[out.length - 1 - p.int(16)] ^= 1 + p.int(255);
    }
    if (!real.some((r) => sameBytes(r, out))) return out;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Sends `count` datagrams from `make()` to `to` at most `rate` per second; returns the count. */
async function flood(
  sock: Deno.DatagramConn,
  to: { hostname: string; port: number },
  count: number,
  rate: number,
  make: () => Uint8Array,
): Promise<number> {
  const start = performance.now();
  const addr = { transport: "udp" as const, ...to };
  for (let i = 0; i < count; i++) {
    await sock.send(make(), addr);
    if (i % 100 === 99) {
      const ahead = start + ((i + 1) / rate) * 1000 - performance.now();
      if (ahead > 1) await delay(ahead);
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// A key holder that builds its own instructions (docs/PROTOCOL.md §4, §5.5).

/**
 * Our side of a session whose every instruction we write by hand. The receiving half is a normal
 * Transport (it decodes the peer's frames); the sending half numbers states itself.
 */
class HandBuilt<L extends SyncState<L>, R extends SyncState<R>> {
  readonly fragmenter = new Fragmenter();
  readonly receiver: Transport<L, R>;
  /** Our newest state the peer surely holds: new states are built on it. */
  num = 0n;
  /** The largest state number used so far: new states get larger ones. */
  fresh = 0n;

  constructor(readonly connection: Connection, local: L, remote: R) {
    this.receiver = new Transport<L, R>({
      link: connection,
      initialState: local,
      initialRemoteState: remote,
    });
    connection.listen((payload) => this.receiver.recv(payload));
  }

  /** An instruction from our held state to a fresh one, acknowledging what we received. */
  instruction(fields: Partial<Instruction> = {}): Instruction {
    return {
      protocolVersion: 2,
      oldNum: this.num,
      newNum: this.fresh + 1n,
      ackNum: this.receiver.remoteStateNum,
      throwawayNum: this.num,
      diff: new Uint8Array(0),
      chaff: new Uint8Array(0),
      ...fields,
    };
  }

  /** Sends an instruction (any fields) in fragments. */
  async send(inst: Instruction): Promise<void> {
    if (inst.newNum > this.fresh) this.fresh = inst.newNum;
    for (const f of this.fragmenter.makeFragments(inst, fragmentMtu(1252))) {
      await this.connection.send(f);
    }
  }

  /** Sends `inst` and builds later states on it (the peer is expected to accept it). */
  async accepted(inst: Instruction): Promise<void> {
    await this.send(inst);
    this.num = inst.newNum;
  }

  /** A normal next state carrying `diff`. */
  async next(diff: Uint8Array): Promise<void> {
    await this.accepted(this.instruction({ diff }));
  }

  /** A state built on the held one that the peer may refuse; later states do not depend on it. */
  async sibling(diff: Uint8Array): Promise<void> {
    await this.send(this.instruction({ diff }));
  }

  /** Acknowledges the peer's newest state (a duplicate of our own held state: ack only). */
  async ack(): Promise<void> {
    await this.send(this.instruction({ newNum: this.num }));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** Fragments of a raw compressed payload under one fresh id (chunks of `chunk` bytes). */
function rawFragments(id: bigint, payload: Uint8Array, chunk = 1200, final = true): Uint8Array[] {
  const out: Uint8Array[] = [];
  const count = Math.max(1, Math.ceil(payload.length / chunk));
  for (let n = 0; n < count; n++) {
    const part = payload.subarray(n * chunk, (n + 1) * chunk);
    out.push(fragment(id, n, final && n === count - 1, part));
  }
  return out;
}

function fragment(id: bigint, num: number, final: boolean, chunk: Uint8Array): Uint8Array {
  const f = new Uint8Array(10 + chunk.length);
  const v = new DataView(f.buffer);
  v.setBigUint64(0, id);
  v.setUint16(8, (final ? 0x8000 : 0) | num);
  f.set(chunk, 10);
  return f;
}

/** Sends fragments paced at `rate` per second so the kernel keeps them all. */
async function sendPaced(c: Connection, frags: Uint8Array[], rate = 8000): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < frags.length; i++) {
    await c.send(frags[i]);
    if (i % 50 === 49) {
      const ahead = start + ((i + 1) / rate) * 1000 - performance.now();
      if (ahead > 1) await delay(ahead);
    }
  }
}

/** The misbehaving payloads shared by the server and client cases (each must be dropped). */
function malformedPayloads(): { name: string; fragments: Uint8Array[] }[] {
  let id = 0x7000_0000_0000n;
  const next = () => ++id;
  const cases: { name: string; fragments: Uint8Array[] }[] = [];
  // Fragments shorter than their 10-byte header (C mosh aborts on these).
  cases.push({
    name: "undersized fragments",
    fragments: Array.from({ length: 10 }, (_, n) => new Uint8Array(n).fill(0x80)),
  });
  // 64 MiB of zeros in 64 KiB of zlib: must stop at 4 MiB.
  cases.push({
    name: "zlib bomb",
    fragments: rawFragments(next(), deflateSync(new Uint8Array(64 << 20))),
  });
  // Not zlib at all.
  cases.push({ name: "not zlib", fragments: rawFragments(next(), new Uint8Array(300).fill(7)) });
  // A protobuf bytes field whose length runs past the message's end.
  const longDiff = Uint8Array.from([0x08, 0x02, 0x10, 0x00, 0x18, 0x01, 0x32, 0xe8, 0x07, 1, 2, 3]);
  cases.push({
    name: "protobuf length beyond the message",
    fragments: rawFragments(next(), deflateSync(longDiff)),
  });
  // A varint that never ends.
  const badVarint = Uint8Array.from([0x08, ...new Array(20).fill(0xff)]);
  cases.push({ name: "endless varint", fragments: rawFragments(next(), deflateSync(badVarint)) });
  // More than 4 MiB of compressed chunks for one instruction, never final: 7.2 MB, so that it
  // crosses the limit (once: 3,495 fragments) even if the kernel drops up to 2,500 of them.
  const big = next();
  const chunk = new Uint8Array(1200).fill(0x55);
  cases.push({
    name: "compressed assembly over 4 MiB",
    fragments: Array.from({ length: 6000 }, (_, n) => fragment(big, n, false, chunk)),
  });
  // A storm of fragment ids: every fragment restarts the assembly.
  cases.push({
    name: "fragment-id storm",
    fragments: Array.from(
      { length: 20000 },
      (_, n) => fragment(next(), (n * 7919) % 32768, false, chunk.subarray(0, 16)),
    ),
  });
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Tests

Deno.test("hostile: a live server under replay, reflection, random and mutated floods", async (t) => {
  await requireDebianPackages(["tmux"]);
  const server = await startVerboseServer();
  const relay = Relay.start({
    target: { hostname: "127.0.0.1", port: server.port },
    capture: true,
  });
  const tmux = await startClient(relay.port, server.key);
  const attacker = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.9", port: 0 });
  const target = { hostname: "127.0.0.1", port: server.port };
  const file = `/tmp/mosh-hostile-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await tmux.waitFor(PROMPT_RE, 20000);
    // A session whose client datagrams carry keystrokes that append to a file.
    await tmux.sendText(`echo once-$((6*7)) >> ${file}\r`);
    await tmux.waitFor(/^prompt\$ echo once.*\n.*prompt\$/m, 10000);
    await check(tmux, "session");
    const clientDatagrams = relay.captured.filter((c) => c.dir === "toServer").map((c) => c.data);
    const serverDatagrams = relay.captured.filter((c) => c.dir === "toClient").map((c) => c.data);
    assert.ok(clientDatagrams.length >= 3, `captured ${clientDatagrams.length} client datagrams`);

    const drops0 = () => udpDrops(server.port);
    /** Client datagrams the relay passed on to the server so far (the session's own). */
    const legit = () => relay.captured.filter((c) => c.dir === "toServer").length;
    /**
     * Waits until the server counted every datagram of `sent` that the kernel gave it. The
     * kernel's drop count covers the socket, so a dropped datagram of the session itself (at
     * most one per datagram the client sent meanwhile) makes the count that much higher.
     */
    const expectRejected = async (
      before: number,
      sent: number,
      dropsBefore: number,
      legitBefore: number,
    ) => {
      await expectCount(
        () => server.err.rejected - before,
        () => sent - (drops0() - dropsBefore),
        () => Math.min(drops0() - dropsBefore, legit() - legitBefore),
      );
    };

    await t.step(
      "replayed client datagrams run nothing twice and do not move the server",
      async () => {
        const attachedBefore = server.err.attached.length;
        const rejectedBefore = server.err.rejected;
        for (const order of [clientDatagrams, [...clientDatagrams].reverse()]) {
          for (const d of order) await attacker.send(d, { transport: "udp", ...target });
          await delay(300);
        }
        await check(tmux, "after-replay");
        assert.equal(await Deno.readTextFile(file), "once-42\n", "the keystrokes ran once");
        assert.deepEqual(server.err.attached.slice(attachedBefore), [], "the server did not move");
        assert.ok(!server.err.text.includes("127.0.0.9"), "the replayer's address never appears");
        assert.equal(server.err.rejected, rejectedBefore, "authentic replays are not rejections");
      },
    );

    await t.step(
      "the server's own datagrams reflected back are rejected by the direction bit",
      async () => {
        const before = server.err.rejected;
        const direction = (text: string) =>
          Number(
            /direction (\d+)/.exec(text.slice(text.lastIndexOf("Rejected datagrams")))?.[1] ?? 0,
          );
        const dirBefore = direction(server.err.text);
        const dropsBefore = drops0();
        const legitBefore = legit();
        for (const d of serverDatagrams) await attacker.send(d, { transport: "udp", ...target });
        await expectRejected(before, serverDatagrams.length, dropsBefore, legitBefore);
        assert.equal(direction(server.err.text) - dirBefore, server.err.rejected - before);
        await check(tmux, "after-reflection");
      },
    );

    await t.step("a 3,000-byte datagram is dropped before decryption (oversize)", async () => {
      const field = (name: string) =>
        Number(
          new RegExp(`${name} (\\d+)`).exec(
            server.err.text.slice(server.err.text.lastIndexOf("Rejected datagrams")),
          )?.[1] ?? 0,
        );
      const before = server.err.rejected;
      const [oversize0, integrity0, malformed0] = ["oversize", "integrity", "malformed"].map(field);
      const dropsBefore = drops0();
      const legitBefore = legit();
      // Authentic (sealed with the session key): only its length can get it rejected.
      const codec = new DatagramCodec(parseKey(server.key), TO_SERVER);
      const big = codec.seal(0, 0, new Uint8Array(3000 - DATAGRAM_OVERHEAD).fill(0x41));
      assert.equal(big.length, 3000);
      await attacker.send(big, { transport: "udp", ...target });
      await expectRejected(before, 1, dropsBefore, legitBefore);
      assert.equal(field("oversize") - oversize0, server.err.rejected - before);
      assert.equal(field("integrity"), integrity0, "nothing was decrypted");
      assert.equal(field("malformed"), malformed0, "nothing was decoded");
      await check(tmux, "after-oversize");
    });

    await t.step("100,000 random datagrams at 20,000 a second", async () => {
      const pool = new Pool(new Prng(11));
      const before = server.err.rejected;
      const dropsBefore = drops0();
      const legitBefore = legit();
      const rss0 = rssMiB(server.pid);
      const t0 = performance.now();
      const sent = await flood(attacker, target, 100000, 20000, () => randomDatagram(pool));
      const secs = (performance.now() - t0) / 1000;
      await expectRejected(before, sent, dropsBefore, legitBefore);
      assert.ok(alive(server.pid));
      await check(tmux, "after-random");
      const dropped = drops0() - dropsBefore;
      console.log(
        `random flood: ${sent} in ${secs.toFixed(1)} s, kernel dropped ${dropped}, ` +
          `server counted ${server.err.rejected - before}, RSS ${rss0.toFixed(0)} -> ${
            rssMiB(server.pid).toFixed(0)
          } MiB`,
      );
    });

    await t.step("100,000 mutations of captured client datagrams", async () => {
      const pool = new Pool(new Prng(12));
      const before = server.err.rejected;
      const dropsBefore = drops0();
      const legitBefore = legit();
      const sent = await flood(
        attacker,
        target,
        100000,
        20000,
        () => mutateDatagram(clientDatagrams, pool),
      );
      await expectRejected(before, sent, dropsBefore, legitBefore);
      assert.ok(alive(server.pid));
      await check(tmux, "after-mutations");
      assert.equal(await Deno.readTextFile(file), "once-42\n");
      assert.deepEqual(server.err.attached.filter((a) => a.startsWith("127.0.0.9")), []);
      assert.ok(rssMiB(server.pid) < 400, `server RSS ${rssMiB(server.pid)} MiB`);
    });
  } finally {
    attacker.close();
    await tmux.kill();
    await relay.close();
    await stopServer(server);
    await Deno.remove(file).catch(() => {});
  }
});

Deno.test("hostile: a live client under random and mutated floods", async () => {
  await requireDebianPackages(["tmux"]);
  const server = await startVerboseServer();
  const relay = Relay.start({
    target: { hostname: "127.0.0.1", port: server.port },
    capture: true,
  });
  // The client's -v log (its rejected-datagram count) goes to a file, not over the screen.
  const log = await Deno.makeTempFile({ prefix: "mosh-hostile-client-" });
  const tmux = await startClient(relay.port, server.key, { args: ["-v"], stderrFile: log });
  const attacker = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.9", port: 0 });
  /** The client's newest "Rejected datagrams: N" figure. */
  const rejected = () => {
    const text = Deno.readTextFileSync(log);
    return Number(
      /Rejected datagrams: (\d+)/.exec(text.slice(text.lastIndexOf("Rejected")))?.[1] ?? 0,
    );
  };
  try {
    await tmux.waitFor(PROMPT_RE, 20000);
    await tmux.sendText("seq 1 30\r");
    await tmux.waitFor(/^30$/m, 10000);
    await check(tmux, "before");
    const pid = await clientPid(tmux);
    const client = relay.clientAddr!;
    const serverDatagrams = relay.captured.filter((c: CapturedDatagram) => c.dir === "toClient")
      .map((c) => c.data);
    const to = { hostname: "127.0.0.1", port: client.port };
    const rss0 = rssMiB(pid);
    const rejected0 = rejected();
    const fromServer = () => relay.captured.filter((c) => c.dir === "toClient").length;
    const fromServer0 = fromServer();
    const dropsBefore = udpDrops(client.port);
    const pool = new Pool(new Prng(21));
    await flood(attacker, to, 100000, 20000, () => randomDatagram(pool));
    assert.ok(alive(pid), "the client survived the random flood");
    await flood(attacker, to, 100000, 20000, () => mutateDatagram(serverDatagrams, pool));
    assert.ok(alive(pid), "the client survived the mutations");
    await check(tmux, "after-floods", 30000);
    // Every datagram either reached the client's socket and was counted as rejected, or the
    // kernel dropped it (or dropped one of the server's own instead).
    await expectCount(
      () => rejected() - rejected0,
      () => 200000 - (udpDrops(client.port) - dropsBefore),
      () => Math.min(udpDrops(client.port) - dropsBefore, fromServer() - fromServer0),
    );
    console.log(
      `client: kernel dropped ${udpDrops(client.port) - dropsBefore} of 200000, ` +
        `counted ${rejected() - rejected0}; RSS ${rss0.toFixed(0)} -> ${
          rssMiB(pid).toFixed(0)
        } MiB`,
    );
    assert.ok(rssMiB(pid) < 400, `client RSS ${rssMiB(pid)} MiB`);
  } finally {
    attacker.close();
    await tmux.kill();
    await relay.close();
    await stopServer(server);
    await Deno.remove(log).catch(() => {});
  }
});

const keys = (text: string): UserEvent[] => [{ type: "keys", keys: encoder.encode(text) }];
const resize = (width: number, height: number): UserEvent[] => [{ type: "resize", width, height }];
const hostBytes = (
  text: string,
): HostEvent[] => [{ type: "hostbytes", data: encoder.encode(text) }];

Deno.test("hostile: a key holder's malformed and abusive instructions at our server", async (t) => {
  const server = await startVerboseServer();
  const peer = new HandBuilt(
    Connection.client({ key: parseKey(server.key), ip: "127.0.0.1", port: server.port }),
    new UserStream(),
    new TerminalState(80, 24),
  );
  const screen = () =>
    peer.receiver.getLatestRemoteState().state.terminal.screenText().replace(/ +$/gm, "");
  /** Waits for `re` on the server's screen, acknowledging its frames meanwhile. */
  const waitScreen = async (re: RegExp, ms = 10000, acks = true) => {
    const deadline = performance.now() + ms;
    while (!re.test(screen())) {
      if (performance.now() > deadline) {
        throw new Error(
          `timed out waiting for ${re}; screen:\n${screen()}\n${server.err.text.slice(-2000)}`,
        );
      }
      if (acks) await peer.ack();
      await delay(100);
    }
  };
  let n = 0;
  /** A normal state that types a command, and its output: the session goes on. */
  const goesOn = async () => {
    n++;
    await peer.next(encodeUserMessage(keys(`clear; echo alive-${n}-$((40+2))\r`)));
    await waitScreen(new RegExp(`^alive-${n}-42$`, "m"));
    assert.ok(alive(server.pid), "the server is running");
    assert.ok(rssMiB(server.pid) < 400, `server RSS ${rssMiB(server.pid)} MiB`);
  };
  try {
    await peer.next(encodeUserMessage(resize(80, 24)));
    await waitScreen(PROMPT_RE);
    await goesOn();

    for (const c of malformedPayloads()) {
      await t.step(`dropped: ${c.name}`, async () => {
        const before = server.err.malformed;
        const t0 = performance.now();
        await sendPaced(peer.connection, c.fragments);
        await goesOn();
        const expected = c.name === "undersized fragments"
          ? 10
          : c.name === "fragment-id storm"
          ? 0
          : 1;
        // The -v line may reach us after the screen did (two channels): wait for the count,
        // then a moment more in case it overshoots.
        const deadline = performance.now() + 5000;
        while (server.err.malformed - before < expected && performance.now() < deadline) {
          await delay(50);
        }
        await delay(200);
        assert.equal(server.err.malformed - before, expected, "malformed count");
        assert.ok(performance.now() - t0 < 20000, "handled in bounded time");
      });
    }

    await t.step("accepted: one instruction in 32,768 fragments", async () => {
      const inst = peer.instruction({
        diff: encodeUserMessage(keys("clear; echo frag-$((3*3))\r")),
      });
      const zipped = deflateSync(encodeInstruction(inst));
      const id = 0x6000_0000_0000n;
      const frags = Array.from(
        { length: 32768 },
        (_, i) => fragment(id, i, i === 32767, zipped.subarray(i, i + 1)),
      );
      // The kernel may drop some under load: send again (duplicates are ignored) until complete.
      for (let round = 0; round < 4 && !/^frag-9$/m.test(screen()); round++) {
        await sendPaced(peer.connection, frags);
        await waitScreen(/^frag-9$/m, 3000, false).catch(() => {});
      }
      assert.match(screen(), /^frag-9$/m);
      peer.num = peer.fresh = inst.newNum;
      await goesOn();
    });

    await t.step("ignored: resizes outside 1..4096 a side or over 2^20 cells", async () => {
      await peer.next(encodeUserMessage(resize(100, 30)));
      await peer.next(encodeUserMessage(keys("clear; stty size\r")));
      await waitScreen(/^30 100$/m);
      for (const [w, h] of [[0, 0], [5000, 10], [10, 4097], [2000, 2000], [-5, -5], [4096, 257]]) {
        await peer.next(encodeUserMessage(resize(w, h)));
      }
      await peer.next(encodeUserMessage(keys("clear; stty size\r")));
      await waitScreen(/^30 100$/m);
      assert.equal(peer.receiver.getLatestRemoteState().state.terminal.width, 100);
      await goesOn();
    });

    await t.step("accepted: a state number far ahead", async () => {
      const far = peer.fresh + (1n << 40n);
      await peer.accepted(
        peer.instruction({ newNum: far, diff: encodeUserMessage(keys("echo far-$((2+2))\r")) }),
      );
      await waitScreen(/^far-4$/m);
      await goesOn();
    });

    await t.step(
      "dropped: old_num that does not exist, throwaway past the newest, version 3, bad diff",
      async () => {
        const bad = [
          peer.instruction({
            oldNum: peer.fresh + 999n,
            newNum: peer.fresh + 1000n,
            diff: encodeUserMessage(keys("echo ghost-$((1+1))\r")),
          }),
          peer.instruction({
            throwawayNum: peer.fresh + 50n,
            diff: encodeUserMessage(keys("echo thrown-$((1+1))\r")),
          }),
          peer.instruction({
            protocolVersion: 3,
            diff: encodeUserMessage(keys("echo version-$((1+1))\r")),
          }),
          peer.instruction({ diff: Uint8Array.from([0x0a, 0x50, 0x12, 0x03, 0x22, 0x01, 0x41]) }),
        ];
        for (const inst of bad) await peer.send(inst);
        await goesOn();
        assert.doesNotMatch(screen(), /ghost-2|thrown-2|version-2/);
      },
    );

    await t.step("accepted: an ack_num for a state never sent is ignored", async () => {
      await peer.accepted(peer.instruction({
        ackNum: 123456789n,
        diff: encodeUserMessage(keys("echo acked-$((1+2))\r")),
      }));
      await waitScreen(/^acked-3$/m);
      await goesOn();
    });

    await t.step("bounded: 3,000 states that are never thrown away", async () => {
      const held = peer.num;
      const base = peer.fresh;
      const t0 = performance.now();
      let prev = held;
      for (let i = 1n; i <= 3000n; i++) {
        await peer.send(peer.instruction({ oldNum: prev, newNum: base + i, throwawayNum: held }));
        prev = base + i;
        const ahead = t0 + Number(i) / 3 - performance.now(); // 3,000 a second
        if (ahead > 1) await delay(ahead);
      }
      // The server keeps about 1,024 of them and refuses the rest for 15 s. A state built on one
      // of the first hundred, throwing away everything older, brings the queue back under the limit.
      await peer.accepted(peer.instruction({
        oldNum: base + 100n,
        newNum: base + 5000n,
        throwawayNum: base + 100n,
        diff: encodeUserMessage(keys("clear; echo queue-$((5+5))\r")),
      }));
      await waitScreen(/^queue-10$/m);
      await goesOn();
    });
  } finally {
    await peer.close();
    await stopServer(server);
  }
});

Deno.test("hostile: a key holder's malformed and abusive instructions at our client", async (t) => {
  await requireDebianPackages(["tmux"]);
  // A fake server that holds the key and writes every instruction by hand.
  const key = generateKey();
  const server = new HandBuilt(
    Connection.server({ key: key.key, ip: "127.0.0.1", port: { low: 0, high: 0 } }),
    new TerminalState(80, 24),
    new UserStream(),
  );
  const tmux = await startClient(server.connection.port, key.printable);
  let n = 0;
  let pid = 0;
  /** A normal frame that the client must show: the session goes on. */
  const goesOn = async () => {
    n++;
    await server.next(encodeHostMessage(hostBytes(`\x1b[H\x1b[2Jalive-${n}`)));
    await tmux.waitFor(new RegExp(`^alive-${n}$`, "m"), 10000);
    assert.ok(alive(pid), "the client is running");
    assert.ok(rssMiB(pid) < 400, `client RSS ${rssMiB(pid)} MiB`);
  };
  try {
    const deadline = performance.now() + 20000;
    while (!server.connection.hasRemoteAddr) {
      assert.ok(performance.now() < deadline, "the client never sent anything");
      await delay(50);
    }
    pid = await clientPid(tmux);
    await goesOn();

    for (const c of malformedPayloads()) {
      await t.step(`dropped: ${c.name}`, async () => {
        await sendPaced(server.connection, c.fragments);
        await goesOn();
      });
    }

    await t.step("ignored: resizes out of range", async () => {
      for (const [w, h] of [[0, 0], [-1, -1], [5000, 5000], [65535, 65535], [4096, 4096]]) {
        await server.sibling(encodeHostMessage([{ type: "resize", width: w, height: h }]));
        await goesOn();
      }
      // The client's idea of the screen is still a sane size.
      const rows = (await tmux.capture()).split("\n").length;
      assert.ok(rows >= 24, `${rows} rows`);
    });

    await t.step("accepted: a state number far ahead; dropped: an unknown old_num", async () => {
      await server.accepted(server.instruction({
        newNum: server.fresh + (1n << 40n),
        diff: encodeHostMessage(hostBytes("\x1b[H\x1b[2Jfar-away")),
      }));
      await tmux.waitFor(/^far-away$/m, 10000);
      await server.send(server.instruction({
        oldNum: server.fresh + 7n,
        newNum: server.fresh + 8n,
        diff: encodeHostMessage(hostBytes("\x1b[H\x1b[2Jghost")),
      }));
      await goesOn();
      assert.doesNotMatch(await tmux.capture(), /ghost/);
    });

    await t.step("bounded: an echo ack of 2^64-1 and huge escape sequences", async () => {
      await server.next(encodeHostMessage([{ type: "echoack", num: (1n << 64n) - 1n }]));
      await goesOn();
      const huge = [
        "\x1b[" + "9;".repeat(300000) + "m", // endless CSI parameters
        "\x1b]0;" + "t".repeat(1 << 20) + "\x07", // a 1 MiB title
        "e" + "\u0301".repeat(100000), // 100,000 combining marks on one cell
        "\x1bP" + "q".repeat(1 << 20) + "\x1b\\", // a 1 MiB DCS string
      ];
      for (const text of huge) {
        await server.next(encodeHostMessage(hostBytes(text)));
        await goesOn();
      }
    });
  } finally {
    await tmux.kill();
    await server.close();
  }
});

Deno.test("keys: never in a process's argv, the shell's environment or the server's log", async () => {
  await requireDebianPackages(["tmux"]);
  const server = await startVerboseServer();
  const tmux = await startClient(server.port, server.key);
  try {
    await tmux.waitFor(PROMPT_RE, 20000);
    // Inside the session: nothing in the environment names or holds the key.
    await tmux.sendText(`echo HITS=$(env | grep -cF -e MOSH_KEY -e '${server.key}')\r`);
    await tmux.waitFor(/^HITS=0$/m, 10000);
    // The detached server and everything it started (the shell, its children).
    const procs = [server.pid, ...descendants(server.pid)];
    assert.ok(procs.length >= 2, "the server has a shell");
    assert.ok(procs.some((p) => procFile(p, "cmdline").startsWith("bash\0")), "found the shell");
    for (const pid of procs) {
      const argv = procFile(pid, "cmdline");
      const env = procFile(pid, "environ");
      assert.ok(argv !== "" || !alive(pid), `read /proc/${pid}/cmdline`);
      assert.ok(!argv.includes(server.key), `the key is in the argv of ${pid}: ${argv}`);
      assert.ok(!env.includes(server.key), `the key is in the environment of ${pid}`);
      assert.ok(!/(^|\0)MOSH_KEY=/.test(env), `MOSH_KEY is in the environment of ${pid}`);
    }
    // The client's argv (its initial environment holds MOSH_KEY: that is how it is given).
    const client = await clientPid(tmux);
    assert.ok(!procFile(client, "cmdline").includes(server.key), "the key is in the client's argv");
    // The -v log: the key is only on the foreground's stdout (the MOSH CONNECT line).
    await tmux.sendText("exit\r");
    await waitGone(server.pid, 10000);
    await server.err.close();
    assert.match(server.err.text, /Server now attached to client/);
    assert.ok(!server.err.text.includes(server.key), "the key is in the server's log");
    assert.equal(server.out.text.split(server.key).length - 1, 1, "the key is printed once");
  } finally {
    await tmux.kill();
    await stopServer(server);
  }
});

Deno.test("keys: the client removes MOSH_KEY at start; a bad key is a one-line error", async () => {
  // In this process: clientMain reads and removes MOSH_KEY before anything else can fail.
  const printed: string[] = [];
  const print = { out: (s: string) => printed.push(s), err: (s: string) => printed.push(s) };
  const vars = { MOSH_KEY: "not-a-key", MOSH_PREDICTION_DISPLAY: undefined, LC_ALL: "C.UTF-8" };
  await withEnv(vars, async () => {
    assert.equal(await clientMain(["127.0.0.1", "60001"], print), 1);
    assert.equal(Deno.env.get("MOSH_KEY"), undefined, "MOSH_KEY is still in the environment");
    assert.deepEqual(printed, ["Bad MOSH_KEY: Key must be 22 letters long.\n"]);
    // Removed from the process's real environment too: a child no longer inherits it. (The
    // kernel's /proc/PID/environ keeps the initial environment; C mosh-client's unsetenv behaves
    // the same way, so only a child shows the removal.)
    const child = await new Deno.Command("env", { stdout: "piped" }).output();
    assert.doesNotMatch(new TextDecoder().decode(child.stdout), /^MOSH_KEY=/m);
    Deno.env.set("MOSH_KEY", generateKey().printable);
    Deno.env.set("MOSH_PREDICTION_DISPLAY", "bogus");
    printed.length = 0;
    assert.equal(await clientMain(["127.0.0.1", "60001"], print), 1);
    assert.equal(Deno.env.get("MOSH_KEY"), undefined);
    assert.deepEqual(printed, ["Unknown prediction mode bogus.\n"]);
  });

  // The real program: one line on stderr, status 1, at once.
  const cases: [string | undefined, string][] = [
    [undefined, "MOSH_KEY environment variable not found."],
    ["", "Bad MOSH_KEY: Key must be 22 letters long."],
    ["short", "Bad MOSH_KEY: Key must be 22 letters long."],
    ["AAAAAAAAAAAAAAAAAAAAA", "Bad MOSH_KEY: Key must be 22 letters long."],
    ["!!!!!!!!!!!!!!!!!!!!!!", "Bad MOSH_KEY: Key must be well-formed base64."],
    ["AAAAAAAAAAAAAAAAAAAA==", "Bad MOSH_KEY: Key must be well-formed base64."],
    ["AAAAAAAAAAAAAAAAAAAAAB", "Bad MOSH_KEY: Base64 key was not encoded 128-bit key."],
  ];
  for (const [value, message] of cases) {
    const env = cleanEnv(value === undefined ? {} : { MOSH_KEY: value });
    const out = await new Deno.Command(OUR_CLIENT[0], {
      args: [...OUR_CLIENT.slice(1), "127.0.0.1", "60001"],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, `MOSH_KEY=${value}`);
    assert.equal(stderr, message + "\n", `MOSH_KEY=${value}`);
    assert.equal(out.stdout.length, 0);
  }
});

Deno.test("keys: a wrong key gets nothing from the server, which counts the rejections", async () => {
  await requireDebianPackages(["tmux"]);
  const server = await startVerboseServer();
  const tmux = await startClient(server.port, generateKey().printable);
  try {
    await tmux.waitFor(/Nothing received from server on UDP port/, 10000);
    const t0 = performance.now();
    while (server.err.rejected < 2 && performance.now() - t0 < 10000) await delay(100);
    assert.ok(server.err.rejected >= 2, `rejected ${server.err.rejected}`);
    assert.match(server.err.text, /integrity [1-9]/);
    assert.equal(server.err.attached.length, 0, "a wrong key never attaches");
    assert.ok(alive(server.pid));
  } finally {
    await tmux.kill();
    await stopServer(server);
  }
});

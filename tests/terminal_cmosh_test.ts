// Black-box tests of the emulator (lib/terminal.ts, mosh-protocol.md §9) against C mosh 1.4.0:
// Debian's mosh-server runs `cat <script>` in its pty and we connect as a minimal client (§1-§5:
// datagram.ts, fragment.ts, protobuf.ts) that sends one resize (state 1), acks the server's
// states and keeps, per received state number, the host events that lead to it. The newest
// state's events (C mosh's own framebuffer, re-encoded by its display diff, §10) are replayed
// into one Terminal; a second Terminal is fed what the pty delivered: the "\r\n" echo of the
// newline that releases the shell (§7.2 step 8) and the script after onlcr. Their screens, cell
// renditions and cursors must be equal. Scripts with an alternate screen are not compared.
import assert from "node:assert/strict";
import { Terminal } from "../lib/terminal.ts";
import { CELL_WORDS, FLAG_FALLBACK, FLAG_WRAP, type Framebuffer } from "../lib/framebuffer.ts";
import { DatagramCodec, TIMESTAMP_NONE, timestamp16, TO_SERVER } from "../lib/datagram.ts";
import { FragmentAssembly, Fragmenter, fragmentMtu, DEFAULT_SEND_MTU } from "../lib/fragment.ts";
import {
  decodeHostMessage,
  encodeUserMessage,
  type HostEvent,
  type Instruction,
  PROTOCOL_VERSION,
} from "../lib/protobuf.ts";
import { parseKey } from "../lib/key.ts";
import { onlcr, VT_CORPUS, type VtScript } from "./vt_corpus.ts";

const COLS = 80, ROWS = 24;
const U64_MAX = (1n << 64n) - 1n;
/** The screen is final once no state with screen changes has arrived for this long. */
const QUIET_MS = 500;
/** How long after the server's first ack a script that changes nothing is taken as done. */
const NO_OUTPUT_MS = 2500;
const SESSION_TIMEOUT_MS = 15000;
const PARALLEL = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while process `pid` exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Runs `mosh-server new -- sh -c 'cat FILE; exec sleep 30'` and returns the host events of the
 * newest state once the screen has been quiet for QUIET_MS; then shuts the server down (SIGTERM
 * and the shutdown handshake of §5.6, SIGKILL as a fallback).
 */
async function renderWithMoshServer(script: Uint8Array): Promise<HostEvent[]> {
  const file = await Deno.makeTempFile({ prefix: "mosh-ts-vt-" });
  await Deno.writeFile(file, script);
  let pid = 0;
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  let receiving: Promise<void> | null = null;
  try {
    const out = await new Deno.Command("mosh-server", {
      args: ["new", "-p", "0", "-i", "127.0.0.1", "--", "sh", "-c", 'cat "$0"; exec sleep 30', file],
      env: { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    pid = Number(/\[mosh-server detached, pid = (\d+)\]/.exec(stderr)?.[1] ?? 0);
    const connect = /MOSH CONNECT (\d+) (\S{22})/.exec(stdout);
    if (!connect || !pid) throw new Error(`mosh-server did not start: ${stdout}${stderr}`);
    const server = { transport: "udp" as const, hostname: "127.0.0.1", port: Number(connect[1]) };
    const codec = new DatagramCodec(parseKey(connect[2]), TO_SERVER);
    const fragmenter = new Fragmenter();
    const assembly = new FragmentAssembly();

    // Received states: number -> the host events from state 0 to it.
    const logs = new Map<bigint, HostEvent[]>([[0n, []]]);
    let newest = 0n;
    let lastChange = 0;
    let serverAcked = false, ackedAt = 0;
    let serverTs = -1, serverTsAt = 0;
    const resize = encodeUserMessage([{ type: "resize", width: COLS, height: ROWS }]);

    const send = async () => {
      const inst: Instruction = {
        protocolVersion: PROTOCOL_VERSION,
        oldNum: 0n,
        newNum: 1n,
        ackNum: newest,
        throwawayNum: 0n,
        diff: resize,
        chaff: new Uint8Array(0),
      };
      const reply = serverTs >= 0 && performance.now() - serverTsAt < 1000
        ? (serverTs + Math.floor(performance.now() - serverTsAt)) % 65536
        : TIMESTAMP_NONE;
      for (const frag of fragmenter.makeFragments(inst, fragmentMtu(DEFAULT_SEND_MTU))) {
        await socket.send(codec.seal(timestamp16(), reply, frag), server);
      }
    };

    receiving = (async () => {
      for (;;) {
        let datagram: Uint8Array;
        try {
          [datagram] = await socket.receive();
        } catch {
          return; // socket closed
        }
        const opened = codec.open(datagram);
        if (!opened) continue;
        if (opened.timestamp !== TIMESTAMP_NONE) {
          serverTs = opened.timestamp;
          serverTsAt = performance.now();
        }
        const inst = assembly.add(opened.payload);
        if (!inst) continue;
        if (inst.ackNum >= 1n && !serverAcked) {
          serverAcked = true;
          ackedAt = performance.now();
        }
        const base = logs.get(inst.oldNum);
        if (logs.has(inst.newNum) || !base) continue;
        const events = inst.diff.length ? decodeHostMessage(inst.diff) : [];
        logs.set(inst.newNum, base.concat(events));
        if (inst.newNum > newest) {
          newest = inst.newNum;
          if (events.some((e) => e.type !== "echoack")) lastChange = performance.now();
        }
        for (const num of logs.keys()) if (num < inst.throwawayNum && num !== newest) logs.delete(num);
      }
    })();

    const start = performance.now();
    for (;;) {
      await send();
      await sleep(20);
      const now = performance.now();
      // Done once the screen is quiet; a script that leaves the screen blank sends no frame.
      const since = lastChange > 0 ? lastChange : ackedAt + NO_OUTPUT_MS;
      if (serverAcked && now - since > QUIET_MS) break;
      if (now - start > SESSION_TIMEOUT_MS) {
        throw new Error(`mosh-server session timed out (newest state ${newest})`);
      }
    }
    const result = logs.get(newest)!;

    // Shut down: the server sends state 2^64-1, we ack it, it exits.
    Deno.kill(pid, "SIGTERM");
    const deadline = performance.now() + 3000;
    while (alive(pid) && performance.now() < deadline) {
      await send();
      await sleep(20);
    }
    if (newest !== U64_MAX && alive(pid)) throw new Error("mosh-server did not shut down");
    return result;
  } finally {
    if (pid && alive(pid)) Deno.kill(pid, "SIGKILL");
    socket.close();
    await receiving;
    await Deno.remove(file);
  }
}

/** Cells compared: contents and renditions; wrap and fallback flags are not part of a cell's
 * appearance and C mosh's display diff does not always reproduce them. */
function cellDiffs(a: Framebuffer, b: Framebuffer): string[] {
  const diffs: string[] = [];
  const mask = ~(FLAG_WRAP | FLAG_FALLBACK);
  for (let y = 0; y < a.height; y++) {
    const ra = a.rows[y], rb = b.rows[y];
    for (let x = 0; x < a.width; x++) {
      const i = x * CELL_WORDS;
      const same = ra.contents(x) === rb.contents(x) && ra.data[i + 1] === rb.data[i + 1] &&
        ra.data[i + 2] === rb.data[i + 2] && (ra.data[i + 3] & mask) === (rb.data[i + 3] & mask);
      if (!same) {
        const show = (r: typeof ra) =>
          `${JSON.stringify(r.contents(x))} ${r.data[i + 1]}/${r.data[i + 2]}/` +
          (r.data[i + 3] & mask).toString(16);
        diffs.push(`row ${y} col ${x}: C mosh ${show(ra)}, ours ${show(rb)}`);
      }
    }
  }
  return diffs;
}

Deno.test("emulator agrees with C mosh-server on the escape-sequence corpus", async (t) => {
  const scripts = VT_CORPUS.filter((s) => !s.cmosh);
  const logs = new Map<string, HostEvent[]>();
  const queue = scripts.slice();
  const worker = async () => {
    for (let s: VtScript | undefined; (s = queue.shift());) {
      logs.set(s.name, await renderWithMoshServer(s.bytes));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  for (const script of scripts) {
    await t.step(script.name, () => {
      const viaMosh = new Terminal(COLS, ROWS);
      for (const e of logs.get(script.name)!) {
        if (e.type === "resize") viaMosh.resize(e.width, e.height);
        else if (e.type === "hostbytes") viaMosh.write(e.data);
      }
      const direct = new Terminal(COLS, ROWS);
      direct.write("\r\n");
      direct.write(onlcr(script.bytes));
      assert.equal(direct.screenText(), viaMosh.screenText(), "screen differs from C mosh's");
      const diffs = cellDiffs(viaMosh.snapshot(), direct.snapshot());
      assert.deepEqual(diffs.slice(0, 5), [], `${diffs.length} cells differ`);
    });
  }
});

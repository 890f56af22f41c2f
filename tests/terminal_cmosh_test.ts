// Black-box tests of the emulator (lib/terminal.ts, docs/PROTOCOL.md §9) against C mosh 1.4.0.
//
// Debian's mosh-server runs `cat <script>` in its pty and we connect as a minimal client (§1-§5:
// datagram.ts, fragment.ts, protobuf.ts) that sends one resize (state 1), acks the server's
// states and keeps, per received state number, the host events that lead to it. The newest
// state's events (C mosh's own framebuffer, re-encoded by its display diff, §10) are replayed
// into one Terminal; a second Terminal is fed what the pty delivered: the "\r\n" echo of the
// newline that releases the shell (§7.2 step 8) and the script after onlcr. Every script is sent
// after a CUP home (ESC [ H), so it starts at the top left as it does in tmux. Scripts with a
// `resize` then get a second client state resizing the window (our direct Terminal is resized the
// same way). The two screens, cell renditions and cursors must be equal.
//
// Not compared: scripts with an alternate screen (C mosh 1.4.0 has none; ours has one). The
// corpus also avoids ending with the cursor in the bottom row after drawing that row's last
// column: C mosh's display then places the cursor with a BS, which in a replaying emulator lands
// one column left of the server's cursor (a quirk of C mosh's display, not of either emulator).
import assert from "node:assert/strict";
import { Terminal } from "../lib/terminal.ts";
import {
  ATTR_MASK,
  CELL_WORDS,
  FLAG_FALLBACK,
  FLAG_WIDE,
  type Framebuffer,
} from "../lib/framebuffer.ts";
import {
  decodeHostMessage,
  encodeUserMessage,
  type HostEvent,
  PROTOCOL_VERSION,
} from "../lib/protobuf.ts";
import { requireDebianPackages } from "./deps.ts";
import {
  alive,
  delay,
  descendants,
  procFile,
  type Server,
  startServer,
  stopServer,
} from "./harness.ts";
import { RawClient } from "./raw_client.ts";
import { onlcr, VT_CORPUS, type VtScript } from "./vt_corpus.ts";

const COLS = 80, ROWS = 24;
const U64_MAX = (1n << 64n) - 1n;
/** The screen is final once no state with screen changes has arrived for this long. */
const QUIET_MS = 500;
/** How long after the server's first ack a script that changes nothing is taken as done. */
const NO_OUTPUT_MS = 2500;
const SESSION_TIMEOUT_MS = 15000;
const PARALLEL = 4;

/** Whether the shell under mosh-server `pid` has finished `cat` (it execs `sleep` then). */
function catDone(pid: number): boolean {
  return descendants(pid).some((p) => procFile(p, "comm") === "sleep\n");
}

/**
 * Runs `mosh-server new -- sh -c 'cat FILE; exec sleep 30'` and returns the host events of the
 * newest state once `cat` has finished and the screen has been quiet for QUIET_MS (a loaded
 * machine can stall `cat` itself for longer than that); with `resizeTo`, the client then
 * sends a second state that resizes the window and waits for quiet again. Finally it shuts the
 * server down (SIGTERM and the shutdown handshake of §5.6, SIGKILL as a fallback).
 */
async function renderWithMoshServer(
  script: Uint8Array,
  resizeTo?: readonly [number, number],
): Promise<HostEvent[]> {
  const file = await Deno.makeTempFile({ prefix: "mosh-ts-vt-" });
  await Deno.writeFile(file, script);
  let server: Server | null = null;
  let client: RawClient | null = null;
  try {
    server = await startServer("debian", {
      command: ["sh", "-c", 'cat "$0"; exec sleep 30', file],
    });
    const pid = server.pid;
    const raw = client = new RawClient(server.port, server.key);

    // Received states: number -> the host events from state 0 to it.
    const logs = new Map<bigint, HostEvent[]>([[0n, []]]);
    let newest = 0n;
    let lastChange = 0;
    let serverAcked = false, ackedAt = 0;
    // Our state: 1 = resize to COLS x ROWS; 2 = that and then the resize to `resizeTo`.
    let clientNum = 1n;
    let clientDiff = encodeUserMessage([{ type: "resize", width: COLS, height: ROWS }]);

    const send = () =>
      raw.send({
        protocolVersion: PROTOCOL_VERSION,
        oldNum: 0n,
        newNum: clientNum,
        ackNum: newest,
        throwawayNum: 0n,
        diff: clientDiff,
        chaff: new Uint8Array(0),
      });

    raw.listen((inst) => {
      if (inst.ackNum >= clientNum && !serverAcked) {
        serverAcked = true;
        ackedAt = performance.now();
      }
      const base = logs.get(inst.oldNum);
      if (logs.has(inst.newNum) || !base) return;
      const events = inst.diff.length ? decodeHostMessage(inst.diff) : [];
      logs.set(inst.newNum, base.concat(events));
      if (inst.newNum > newest) {
        newest = inst.newNum;
        if (events.some((e) => e.type !== "echoack")) lastChange = performance.now();
      }
      for (const num of logs.keys()) {
        if (num < inst.throwawayNum && num !== newest) logs.delete(num);
      }
    });

    const start = performance.now();
    for (;;) {
      await send();
      await delay(20);
      const now = performance.now();
      // Done once the screen is quiet; a script that leaves the screen blank sends no frame.
      const since = lastChange > 0 ? lastChange : ackedAt + NO_OUTPUT_MS;
      if (serverAcked && now - since > QUIET_MS && catDone(pid)) {
        if (!resizeTo || clientNum === 2n) break;
        clientNum = 2n;
        clientDiff = encodeUserMessage([
          { type: "resize", width: COLS, height: ROWS },
          { type: "resize", width: resizeTo[0], height: resizeTo[1] },
        ]);
        serverAcked = false;
        lastChange = 0;
      }
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
      await delay(20);
    }
    if (newest !== U64_MAX && alive(pid)) throw new Error("mosh-server did not shut down");
    return result;
  } finally {
    await client?.close();
    await stopServer(server);
    await Deno.remove(file);
  }
}

/**
 * Contents as drawn: C mosh's display paints a blank cell (empty, " " or U+00A0) as a space and
 * a fallback cell (a combining mark with no base) as U+00A0 followed by the mark.
 */
function drawn(row: Framebuffer["rows"][number], x: number): string {
  const c = row.contents(x);
  if (row.data[x * CELL_WORDS + 3] & FLAG_FALLBACK) return "\u00a0" + c;
  return c === "" || c === "\u00a0" ? " " : c;
}

/**
 * Visible differences between two screens: drawn contents, renditions, attributes and the wide
 * flag. Not compared: the cell hidden behind a wide character (the display diff cannot draw it),
 * and the wrap flag, which is not part of a cell's appearance.
 */
function cellDiffs(a: Framebuffer, b: Framebuffer): string[] {
  const diffs: string[] = [];
  const mask = ATTR_MASK | FLAG_WIDE;
  for (let y = 0; y < a.height; y++) {
    const ra = a.rows[y], rb = b.rows[y];
    for (let x = 0; x < a.width; x++) {
      const i = x * CELL_WORDS;
      const same = drawn(ra, x) === drawn(rb, x) && ra.data[i + 1] === rb.data[i + 1] &&
        ra.data[i + 2] === rb.data[i + 2] && (ra.data[i + 3] & mask) === (rb.data[i + 3] & mask);
      if (!same) {
        const show = (r: typeof ra) =>
          `${JSON.stringify(r.contents(x))} ${r.data[i + 1]}/${r.data[i + 2]}/` +
          (r.data[i + 3] & mask).toString(16);
        diffs.push(`row ${y} col ${x}: C mosh ${show(ra)}, ours ${show(rb)}`);
      } else if (ra.data[i + 3] & FLAG_WIDE) x++;
    }
  }
  return diffs;
}

/** The script after a CUP home, so that it starts at the top left despite the release echo. */
function withHome(script: Uint8Array): Uint8Array {
  const out = new Uint8Array(script.length + 3);
  out.set([0x1b, 0x5b, 0x48]);
  out.set(script, 3);
  return out;
}

Deno.test("emulator agrees with C mosh-server on the escape-sequence corpus", async (t) => {
  await requireDebianPackages(["mosh"]);
  const scripts = VT_CORPUS.filter((s) => !s.cmosh);
  const logs = new Map<string, HostEvent[] | Error>();
  const queue = scripts.slice();
  const worker = async () => {
    for (let s: VtScript | undefined; (s = queue.shift());) {
      try {
        logs.set(s.name, await renderWithMoshServer(withHome(s.bytes), s.resize));
      } catch (e) {
        logs.set(s.name, e as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  for (const script of scripts) {
    await t.step(script.name, () => {
      const log = logs.get(script.name)!;
      if (log instanceof Error) throw log;
      const viaMosh = new Terminal(COLS, ROWS);
      for (const e of log) {
        if (e.type === "resize") viaMosh.resize(e.width, e.height);
        else if (e.type === "hostbytes") viaMosh.write(e.data);
      }
      const direct = new Terminal(COLS, ROWS);
      direct.write("\r\n");
      direct.write(onlcr(withHome(script.bytes)));
      if (script.resize) direct.resize(...script.resize);
      assert.equal(direct.screenText(), viaMosh.screenText(), "screen differs from C mosh's");
      const diffs = cellDiffs(viaMosh.snapshot(), direct.snapshot());
      assert.deepEqual(diffs.slice(0, 5), [], `${diffs.length} cells differ`);
    });
  }
});

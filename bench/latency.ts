/**
 * Keystroke-to-screen latency of a mosh client through a delaying relay: ours (client.ts) against
 * Debian's mosh-client, both against the same server, through the same relay, in the same run
 * (docs/PROTOCOL.md §8.4 prediction, §6.3 echo ack, §5 SSP timing).
 *
 *   deno run -A bench/latency.ts [--server=debian|ours|both] [--rtt=0,100,500]
 *     [--targets=shell,vi] [--chars=300] [--interval=60] [--rounds=1]
 *
 * How it measures: each client runs on a pty this script owns (tests/pty_client.ts), 80x24, TERM
 * xterm-256color, prediction in its default (adaptive) mode. Every byte the client writes is
 * fed, as it arrives, to a terminal emulator (lib/terminal.ts); a key is written to the pty at
 * t0, and its latency is the time until the character it types first shows in its cell of the
 * emulated screen (its predicted echo or the server's, whichever comes first). That is the
 * latency a person would see, without tmux's own polling in the way; the resolution is the
 * pty's wake-up time (well under a millisecond).
 *
 * What is typed: lines of 50 random letters (a seeded generator: both clients get the same
 * keys at the same times), one key every `interval` ms ± 20 ms. In `shell` the line is a
 * comment (`#` then 49 letters) at a bash prompt; in `vi` it is text in insert mode. After each
 * line every key must have shown (else it counts as missing), then Enter, and the next line
 * starts once the new prompt (or the new line) is on screen and the link is quiet again. The
 * first keys of a line show only after a round trip in both clients (a new line is a new
 * prediction epoch, §8.4), so the median shows the predicted keys and p90 the others.
 *
 * Each row also splits the latency at the relay, which sees both clients' datagrams alike: the
 * median time from a key to the client's next datagram (key>send) and from the server's last
 * datagram before the key showed to the screen (recv>screen); the rest is the server's.
 * With `--rounds=N` each set-up runs N times, the two clients alternating (ours, C's, ours, ...),
 * and each client's latencies are pooled: on a shared machine a load that comes and goes then
 * falls on both clients alike. The relay delays each direction by RTT/2. Output: a table; for each server and target measured
 * at RTT 0, issue 12's goal (our median within 0.3 ms of C mosh's from the same run) with PASS or
 * FAIL; then one JSON line with the goals and every row of the table.
 */

import { Prng, Relay } from "../tests/relay.ts";
import { delay, type Kind, PROMPT, startServer, stopServer } from "../tests/harness.ts";
import { PtyClient } from "../tests/pty_client.ts";

const COLS = 80;
const ROWS = 24;
const LINE = 50;

type Target = "shell" | "vi";

function usage(message: string): never {
  console.error(`latency_bench: ${message}`);
  console.error(
    "usage: deno run -A bench/latency.ts [--server=debian|ours|both] [--rtt=0,100,500] " +
      "[--targets=shell,vi] [--chars=300] [--interval=60] [--rounds=1]",
  );
  Deno.exit(2);
}

/** The command line options. */
interface Options {
  servers: Kind[];
  rtts: number[];
  targets: Target[];
  chars: number;
  interval: number;
  rounds: number;
}

function parseOptions(args: string[]): Options {
  const o: Options = {
    servers: ["debian"],
    rtts: [0, 100, 500],
    targets: ["shell", "vi"],
    chars: 300,
    interval: 60,
    rounds: 1,
  };
  for (const a of args) {
    const m = /^--([a-z]+)=(.*)$/.exec(a);
    if (m === null) usage(`unknown argument ${a}`);
    const [, name, value] = m;
    const num = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) usage(`--${name}: not an integer >= ${min}: ${v}`);
      return n;
    };
    if (name === "server") {
      if (value === "both") o.servers = ["debian", "ours"];
      else if (value === "debian" || value === "ours") o.servers = [value];
      else usage(`--server must be debian, ours or both, got ${value}`);
    } else if (name === "rtt") o.rtts = value.split(",").map((v) => num(v, 0));
    else if (name === "targets") {
      o.targets = value.split(",").map((v) => {
        if (v !== "shell" && v !== "vi") usage(`unknown target ${v}`);
        return v;
      });
    } else if (name === "chars") o.chars = num(value, 1);
    else if (name === "interval") o.interval = num(value, 25);
    else if (name === "rounds") o.rounds = num(value, 1);
    else usage(`unknown option --${name}`);
  }
  return o;
}

/** One measured run: what was typed where, and the latencies. */
interface RunResult {
  server: Kind;
  client: Kind;
  target: Target;
  rttMs: number;
  typed: number;
  missing: number;
  latencies: number[];
  /** Per shown key: from typing it to the client's next datagram at the relay (ms). */
  keyToSend: number[];
  /** Per shown key: from the last server datagram at the relay before it showed (ms). */
  recvToScreen: number[];
}

/** The first index of sorted `xs` with `xs[i] >= x` (xs.length if none). */
function lowerBound(xs: number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Splits each shown key's latency at the relay, which sees every datagram of both clients alike:
 * the client's own send delay (key to its datagram) and its receive-to-paint delay (the server's
 * datagram to the screen). What lies between is the server's (and the relay's) part.
 */
function clientShares(
  shown: { t0: number; at: number }[],
  relay: Relay,
  relayStart: number,
): { keyToSend: number[]; recvToScreen: number[] } {
  const out: number[] = [], back: number[] = [];
  for (const c of relay.captured) (c.dir === "toServer" ? out : back).push(c.at + relayStart);
  const keyToSend: number[] = [], recvToScreen: number[] = [];
  for (const { t0, at } of shown) {
    const i = lowerBound(out, t0);
    if (i < out.length && out[i] <= at) keyToSend.push(out[i] - t0);
    const j = lowerBound(back, at) - 1;
    if (j >= 0 && back[j] >= t0) recvToScreen.push(at - back[j]);
  }
  return { keyToSend, recvToScreen };
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

async function run(
  server: Kind,
  client: Kind,
  target: Target,
  rtt: number,
  opts: Options,
): Promise<RunResult> {
  const srv = await startServer(server);
  const relayStart = performance.now(); // the capture's times are relative to about this
  const relay = Relay.start({
    capture: true,
    target: { hostname: "127.0.0.1", port: srv.port },
    toServer: { delayMs: rtt / 2 },
    toClient: { delayMs: rtt / 2 },
  });
  const s = new PtyClient(client, relay.port, srv.key, { cols: COLS, rows: ROWS });
  const file = `/tmp/mosh-latency-bench-${Deno.pid}-${client}-${rtt}`;
  let missing = 0;
  try {
    await s.until("the prompt", () => s.rowText(s.cursor().row) === PROMPT.trimEnd());
    if (target === "vi") {
      s.type(`vi -u NONE -i NONE -N -n ${file}\r`);
      await s.until("vi", () => /^~/.test(s.rowText(1)) && s.cursor().row === 0);
      s.type("i");
      await s.until("insert mode", () => s.rowText(ROWS - 1).includes("-- INSERT --"));
    }
    await s.quiet(300 + rtt);
    const prng = new Prng(12345 + rtt);
    let typed = 0;
    while (typed < opts.chars) {
      const start = s.cursor();
      const n = Math.min(LINE, opts.chars - typed);
      for (let i = 0; i < n; i++) {
        const byte = target === "shell" && i === 0
          ? 0x23 // "#": the shell line is a comment
          : ALPHABET.charCodeAt(prng.int(ALPHABET.length));
        s.key(byte, { row: start.row, col: start.col + i });
        await delay(opts.interval - 20 + prng.int(41));
      }
      typed += n;
      const deadline = performance.now() + 5000 + 2 * rtt;
      while (s.pending.length > 0 && performance.now() < deadline) await s.changed(100);
      missing += s.pending.length;
      s.pending = [];
      s.type("\r");
      // The next line starts once the cursor is on it: at a fresh prompt, or on an empty line
      // in vi (either may have scrolled the screen).
      await s.until("the next line", () => {
        const c = s.cursor();
        return target === "vi"
          ? c.col === 0 && s.rowText(c.row) === ""
          : c.col === PROMPT.length && s.rowText(c.row) === PROMPT.trimEnd();
      });
      await s.quiet(200 + rtt);
    }
    const shares = clientShares(s.shown, relay, relayStart);
    return {
      server,
      client,
      target,
      rttMs: rtt,
      typed,
      missing,
      latencies: s.latencies,
      ...shares,
    };
  } finally {
    await s.close();
    await relay.close();
    await stopServer(srv);
    await Deno.remove(file).catch(() => {});
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

interface Summary {
  server: Kind;
  client: Kind;
  target: Target;
  rttMs: number;
  typed: number;
  shown: number;
  missing: number;
  medianMs: number;
  p90Ms: number;
  under50: number;
  /** Medians of the client's own shares (see `clientShares`), ms. */
  keyToSendMs: number;
  recvToScreenMs: number;
}

function summarize(r: RunResult): Summary {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    server: r.server,
    client: r.client,
    target: r.target,
    rttMs: r.rttMs,
    typed: r.typed,
    shown: sorted.length,
    missing: r.missing,
    medianMs: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    under50: Math.round(sorted.filter((x) => x < 50).length / Math.max(1, r.typed) * 1000) / 1000,
    keyToSendMs: round(percentile([...r.keyToSend].sort((a, b) => a - b), 0.5)),
    recvToScreenMs: round(percentile([...r.recvToScreen].sort((a, b) => a - b), 0.5)),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(Deno.args);
  const summaries: Summary[] = [];
  console.log(
    "server  target  rtt(ms)  client   typed  shown  median(ms)  p90(ms)  <50ms  " +
      "key>send  recv>screen (medians, ms)",
  );
  for (const server of opts.servers) {
    for (const target of opts.targets) {
      for (const rtt of opts.rtts) {
        const pooled = new Map<Kind, RunResult>();
        for (let round = 0; round < opts.rounds; round++) {
          for (const client of ["ours", "debian"] as const) {
            const r = await run(server, client, target, rtt, opts);
            const p = pooled.get(client);
            if (p === undefined) pooled.set(client, r);
            else {
              p.typed += r.typed;
              p.missing += r.missing;
              p.latencies.push(...r.latencies);
              p.keyToSend.push(...r.keyToSend);
              p.recvToScreen.push(...r.recvToScreen);
            }
          }
        }
        for (const client of ["ours", "debian"] as const) {
          const sum = summarize(pooled.get(client)!);
          summaries.push(sum);
          console.log(
            [
              sum.server.padEnd(6),
              sum.target.padEnd(6),
              String(sum.rttMs).padStart(7),
              sum.client.padEnd(7),
              String(sum.typed).padStart(6),
              String(sum.shown).padStart(6),
              sum.medianMs.toFixed(2).padStart(11),
              sum.p90Ms.toFixed(1).padStart(8),
              `${Math.round(sum.under50 * 100)}%`.padStart(6),
              sum.keyToSendMs.toFixed(2).padStart(8),
              sum.recvToScreenMs.toFixed(2).padStart(11),
            ].join("  "),
          );
        }
      }
    }
  }
  const goals = goalChecks(summaries);
  for (const g of goals) {
    console.log(
      `goal: keystroke to screen at RTT 0, median within ${GOAL_GAP_MS} ms of C mosh's ` +
        `(${g.server} server, ${g.target}): ours ${g.oursMedianMs.toFixed(2)} ms, C ` +
        `${g.cMedianMs.toFixed(2)} ms, gap ${g.gapMs >= 0 ? "+" : ""}${g.gapMs.toFixed(2)} ms: ` +
        (g.pass ? "PASS" : "FAIL") +
        ` (the clients' own shares alone: ${g.clientShareGapMs >= 0 ? "+" : ""}${
          g.clientShareGapMs.toFixed(2)
        } ms)`,
    );
  }
  if (goals.length === 0) console.log("goal: keystroke to screen at RTT 0: not measured (--rtt)");
  console.log(JSON.stringify({ bench: "latency", goals, results: summaries }));
}

/** Issue 12's goal: at RTT 0 our median may exceed C mosh's from the same run by this (ms). */
const GOAL_GAP_MS = 0.3;

/** The goal, checked for each server and target measured at RTT 0. */
interface GoalCheck {
  server: Kind;
  target: Target;
  oursMedianMs: number;
  cMedianMs: number;
  gapMs: number;
  pass: boolean;
  /**
   * The same gap in the clients' own shares alone (key>send + recv>screen medians, ms): the
   * server's share varies by a few ms from key to key (its 20 ms frame interval), which makes
   * the whole medians of two runs differ by up to ~1 ms for the same clients.
   */
  clientShareGapMs: number;
}

function goalChecks(summaries: Summary[]): GoalCheck[] {
  const out: GoalCheck[] = [];
  for (const ours of summaries) {
    if (ours.client !== "ours" || ours.rttMs !== 0) continue;
    const c = summaries.find((s) =>
      s.client === "debian" && s.rttMs === 0 && s.server === ours.server &&
      s.target === ours.target
    );
    if (c === undefined) continue;
    const gap = Math.round((ours.medianMs - c.medianMs) * 100) / 100;
    out.push({
      server: ours.server,
      target: ours.target,
      oursMedianMs: ours.medianMs,
      cMedianMs: c.medianMs,
      gapMs: gap,
      pass: gap <= GOAL_GAP_MS,
      clientShareGapMs: Math.round(
        (ours.keyToSendMs + ours.recvToScreenMs - c.keyToSendMs - c.recvToScreenMs) * 100,
      ) / 100,
    });
  }
  return out;
}

if (import.meta.main) await main();

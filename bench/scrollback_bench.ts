/**
 * Scrollback benchmark (docs/EXTENSIONS.md): our client in an 80x24 tmux pane and our server,
 * through tests/relay.ts (which counts the bytes on the wire).
 *
 * 1. `seq 1 N; echo SEQ-DONE` (N = 2,000,000 by default), Enter to SEQ-DONE on the screen, with
 *    scrollback on (the default) and off (`--no-scrollback`, MOSH_SCROLLBACK=0), interleaved:
 *    wall time, the server's CPU seconds and the bytes on the wire each way.
 * 2. History throughput: `seq 1 M` at an RTT of 0, 50 and 200 ms (relay delay RTT/2 each way), the
 *    time from Enter until the pane's scrollback and screen hold all M lines; lines per second.
 *
 * Usage: deno run -A bench/scrollback_bench.ts [--reps N] [--count N] [--lines M]
 *   (`--lines 0` skips the history throughput part)
 */

import {
  clientPaneEnv,
  clientProgram,
  cpuSeconds,
  delay,
  startServer,
  stopServer,
} from "../tests/harness.ts";
import { Relay } from "../tests/relay.ts";
import { Tmux } from "../tests/tmux.ts";

const HISTORY_LIMIT = 50000;

interface Setup {
  tmux: Tmux;
  relay: Relay;
  server: Awaited<ReturnType<typeof startServer>>;
}

async function setup(scrollback: boolean, rttMs: number): Promise<Setup> {
  const server = await startServer("ours", {
    env: scrollback ? {} : { MOSH_SCROLLBACK: "0" },
  });
  const half = { delayMs: rttMs / 2 };
  const relay = Relay.start({
    target: { hostname: "127.0.0.1", port: server.port },
    toServer: half,
    toClient: half,
    capture: true,
  });
  const tmux = await Tmux.start({
    command: `exec ${clientProgram("ours")} ${scrollback ? "" : "--no-scrollback"} ` +
      `127.0.0.1 ${relay.port}`,
    cols: 80,
    rows: 24,
    historyLimit: HISTORY_LIMIT,
    ...clientPaneEnv(server.key),
  });
  await tmux.waitFor(/^prompt\$/m, 30000);
  return { tmux, relay, server };
}

async function teardown(s: Setup): Promise<void> {
  await s.tmux.kill();
  await s.relay.close();
  await stopServer(s.server);
}

function wireBytes(relay: Relay) {
  const out = { toServer: 0, toClient: 0, datagramsToServer: 0, datagramsToClient: 0 };
  for (const d of relay.captured) {
    out[d.dir] += d.data.length;
    if (d.dir === "toServer") out.datagramsToServer++;
    else out.datagramsToClient++;
  }
  return out;
}

async function seqRun(scrollback: boolean, count: number) {
  const s = await setup(scrollback, 0);
  try {
    const cmd = `seq 1 ${count}; echo SEQ-DONE`;
    await s.tmux.sendText(cmd);
    await s.tmux.waitFor(cmd, 10000);
    await delay(500);
    s.relay.captured.length = 0;
    const cpu0 = cpuSeconds(s.server.pid);
    const t0 = performance.now();
    await s.tmux.sendKeys("Enter");
    await s.tmux.waitFor(/^SEQ-DONE$/m, 600000);
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(s.server.pid) - cpu0;
    return { scrollback, wall, serverCpu: cpu, ...wireBytes(s.relay) };
  } finally {
    await teardown(s);
  }
}

async function throughputRun(rttMs: number, lines: number) {
  const s = await setup(true, rttMs);
  try {
    await s.tmux.sendText(`seq 1 ${lines}`);
    await s.tmux.waitFor(`seq 1 ${lines}`, 10000);
    const t0 = performance.now();
    await s.tmux.sendKeys("Enter");
    for (;;) {
      const all = await s.tmux.capture({ history: HISTORY_LIMIT });
      const have = all.split("\n").filter((l) => /^\d+$/.test(l)).length;
      if (have >= lines) break;
      if (performance.now() - t0 > 600000) throw new Error(`only ${have} of ${lines} lines`);
      await delay(100);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { rttMs, lines, seconds, linesPerSecond: lines / seconds };
  } finally {
    await teardown(s);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

if (import.meta.main) {
  const arg = (name: string, def: number) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Number(Deno.args[i + 1]) : def;
  };
  const reps = arg("--reps", 2), count = arg("--count", 2000000), lines = arg("--lines", 5000);
  const runs = [];
  for (let r = 0; r < reps; r++) {
    for (const on of [false, true]) {
      const run = await seqRun(on, count);
      console.error(JSON.stringify(run));
      runs.push(run);
    }
  }
  for (const on of [false, true]) {
    const mine = runs.filter((r) => r.scrollback === on);
    console.log(
      `seq 1 ${count}, scrollback ${on ? "on " : "off"}: wall ${
        median(mine.map((r) => r.wall))
          .toFixed(2)
      } s, server CPU ${median(mine.map((r) => r.serverCpu)).toFixed(2)} s, ` +
        `to client ${(median(mine.map((r) => r.toClient)) / 1024).toFixed(0)} KiB, ` +
        `to server ${(median(mine.map((r) => r.toServer)) / 1024).toFixed(0)} KiB; datagrams ` +
        `${median(mine.map((r) => r.datagramsToClient))} / ${
          median(mine.map((r) => r.datagramsToServer))
        }`,
    );
  }
  const off = median(runs.filter((r) => !r.scrollback).map((r) => r.wall));
  const on = median(runs.filter((r) => r.scrollback).map((r) => r.wall));
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  console.log(`on / off = ${(on / off).toFixed(2)} (goal <= 1.25); load at the end: ${load}`);
  for (const rtt of lines > 0 ? [0, 50, 200] : []) {
    const t = await throughputRun(rtt, lines);
    console.log(
      `history at RTT ${rtt} ms: ${lines} lines in ${t.seconds.toFixed(1)} s = ` +
        `${t.linesPerSecond.toFixed(0)} lines/s`,
    );
  }
}

/**
 * Session host benchmark (lib/host.ts): what a session costs in the host, and how long `new`
 * takes to print MOSH CONNECT.
 *
 * - `new` → MOSH CONNECT: wall time of `server.ts new` run with this Deno's absolute path (as
 *   bin/mosh-server does when deno is on PATH), for the first session (which starts the host) and
 *   for further ones (the median of the rest).
 * - VmRSS of the host with 1, 5 and 20 idle sessions (`bash --norc`), each with a client attached
 *   (tests/probe.ts, ticking in this process) and its prompt shown, read after a settling pause;
 *   and the marginal cost of a session: (RSS at 20 - RSS at 1) / 19; and the host's CPU over 6 s
 *   at each of those counts (what idle sessions cost per second).
 *
 * - With `--seq [REPS]`: `seq 1 2000000` end to end (our client in an 80x24 tmux pane, Enter to
 *   SEQ-DONE on screen) in a host session alone, and in a host session with 5 idle sessions beside
 *   it (each with a client), interleaved, REPS (default 5) of each; prints both medians.
 *
 * Usage: deno run -A bench/host_bench.ts [--seq [REPS]]   (prints a table and one JSON line)
 */

import {
  cleanEnv,
  clientPaneEnv,
  clientProgram,
  cpuSeconds,
  delay,
  OUR_SERVER,
  PROMPT,
  rssKb,
} from "../tests/harness.ts";
import { Probe } from "../tests/probe.ts";
import { Tmux } from "../tests/tmux.ts";

const decoder = new TextDecoder();
/** Settling time before each memory reading (ms): GC and lazy allocations calm down. */
const SETTLE = 3000;

const dir = `${await Deno.makeTempDir({ prefix: "mosh-host-bench-" })}/ctl`;

async function newSession(): Promise<{ port: number; key: string; pid: number; ms: number }> {
  const start = performance.now();
  const out = await new Deno.Command(OUR_SERVER[0], {
    args: [...OUR_SERVER.slice(1), "new", "-i", "127.0.0.1", "--", "bash", "--norc", "--noprofile"],
    env: cleanEnv({ MOSH_DENO_DIR: dir, PS1: PROMPT, HOME: "/tmp", HISTFILE: "/dev/null" }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  const m = /MOSH CONNECT (\d+) (\S{22})/.exec(decoder.decode(out.stdout));
  const p = /pid = (\d+)/.exec(decoder.decode(out.stderr));
  if (m === null || p === null) throw new Error(`new failed: ${decoder.decode(out.stderr)}`);
  return { port: Number(m[1]), key: m[2], pid: Number(p[1]), ms };
}

const probes: Probe[] = [];
let ticking = true;
// The idle sessions' clients: ticked when their transports have something to do, as a real
// client's loop sleeps (a fixed 20 ms tick would load this process, on the same 2 cores, and
// make every datagram wait up to 20 ms for its ack).
const ticker = (async () => {
  while (ticking) {
    let wait = 100;
    for (const p of probes) {
      p.transport.tick();
      wait = Math.min(wait, p.transport.waitTime());
    }
    await delay(Math.max(1, wait));
  }
})();

async function addSessions(n: number): Promise<{ pid: number; times: number[] }> {
  let pid = 0;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = await newSession();
    pid = s.pid;
    times.push(s.ms);
    const p = new Probe(s.port, s.key);
    p.resize(80, 24);
    probes.push(p);
  }
  const deadline = performance.now() + 20000;
  while (!probes.every((p) => p.lines.join("\n").includes("prompt$"))) {
    if (performance.now() > deadline) throw new Error("sessions did not show their prompts");
    await delay(50);
  }
  return { pid, times };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The 1, 5 and 15 minute load averages. */
function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** CPU seconds of this process (the bench, with the idle sessions' probe clients). */
function ownCpu(): number {
  return cpuSeconds(Deno.pid);
}

/** One seq run: wall seconds, the host's CPU seconds over it and over an idle spell before. */
interface SeqSample {
  wall: number;
  hostCpu: number;
  benchCpu: number;
  /** The host's CPU seconds per second while all sessions sat idle, before the run. */
  idleCpuPerSecond: number;
}

/** How long the host's idle CPU is read before the run (ms). */
const IDLE_READ = 3000;

/**
 * One `seq 1 2000000` run in a fresh host with `idle` idle sessions beside it (each with a
 * client).
 */
async function seqRun(idle: number): Promise<SeqSample> {
  let t: Tmux | null = null;
  let pid = 0;
  try {
    const s = await newSession();
    pid = s.pid;
    await addSessions(idle);
    t = await Tmux.start({
      command: `exec ${clientProgram("ours")} 127.0.0.1 ${s.port}`,
      cols: 80,
      rows: 24,
      ...clientPaneEnv(s.key),
    });
    await t.waitFor(/^prompt\$/m, 20000);
    const command = "seq 1 2000000; echo SEQ-DONE";
    await t.sendText(command);
    await t.waitFor(`${PROMPT}${command}`, 10000);
    await delay(1000);
    const idle0 = cpuSeconds(pid);
    await delay(IDLE_READ);
    const idleCpuPerSecond = (cpuSeconds(pid) - idle0) / (IDLE_READ / 1000);
    const host0 = cpuSeconds(pid), bench0 = ownCpu();
    const t0 = performance.now();
    await t.sendKeys("Enter");
    for (;;) {
      if (/^SEQ-DONE$/m.test(await t.capture())) break;
      if (performance.now() - t0 > 180000) throw new Error("no SEQ-DONE");
      await delay(20);
    }
    const wall = (performance.now() - t0) / 1000;
    return {
      wall,
      hostCpu: cpuSeconds(pid) - host0,
      benchCpu: ownCpu() - bench0,
      idleCpuPerSecond,
    };
  } finally {
    await t?.kill();
    await Promise.all(probes.splice(0).map((p) => p.close()));
    if (pid !== 0) Deno.kill(pid, "SIGTERM");
    await delay(500);
  }
}

if (Deno.args[0] === "--seq") {
  const reps = Number(Deno.args[1] ?? 5);
  const alone: SeqSample[] = [], beside: SeqSample[] = [];
  const loadBefore = loadAverage();
  const show = (s: SeqSample) =>
    `${s.wall.toFixed(2)} s (host CPU ${s.hostCpu.toFixed(2)} s, idle ${
      (s.idleCpuPerSecond * 1000).toFixed(1)
    } ms/s)`;
  try {
    for (let i = 0; i < reps; i++) {
      // Alternate which goes first, so that neither always follows the other.
      if (i % 2 === 0) {
        alone.push(await seqRun(0));
        beside.push(await seqRun(5));
      } else {
        beside.push(await seqRun(5));
        alone.push(await seqRun(0));
      }
      console.error(
        `rep ${i + 1}: alone ${show(alone[i])}, beside 5 idle ${
          show(beside[i])
        }; load ${loadAverage()}`,
      );
    }
  } finally {
    ticking = false;
    await ticker;
  }
  const m = (xs: SeqSample[], f: (s: SeqSample) => number) => median(xs.map(f));
  const a = m(alone, (s) => s.wall), b = m(beside, (s) => s.wall);
  const change = (b / a - 1) * 100;
  console.log(
    `seq 1 2000000 in a host session (median of ${reps}, interleaved; load ${loadBefore} before, ` +
      `${loadAverage()} after):\n` +
      `  alone:               ${a.toFixed(2)} s, host CPU ${
        m(alone, (s) => s.hostCpu).toFixed(2)
      } s\n` +
      `  with 5 idle sessions: ${b.toFixed(2)} s, host CPU ${
        m(beside, (s) => s.hostCpu).toFixed(2)
      } s (${change >= 0 ? "+" : ""}${change.toFixed(1)}%; goal within 5%: ${
        Math.abs(change) <= 5 ? "met" : "MISSED"
      })\n` +
      `  host CPU while idle: ${(m(alone, (s) => s.idleCpuPerSecond) * 1000).toFixed(1)} ms/s ` +
      `with 1 session, ${(m(beside, (s) => s.idleCpuPerSecond) * 1000).toFixed(1)} ms/s with 6`,
  );
  console.log(JSON.stringify({ bench: "host-seq", reps, alone, beside }));
  Deno.exit(0);
}

let hostPid = 0;
const times: number[] = [];
const rss: Record<number, number> = {};
/** The host's CPU while every session sits idle with its client: ms per second. */
const idleCpu: Record<number, number> = {};
try {
  for (const target of [1, 5, 20]) {
    const added = await addSessions(target - probes.length);
    hostPid = added.pid;
    times.push(...added.times);
    await delay(SETTLE);
    rss[target] = (rssKb(hostPid) ?? 0) / 1024;
    const cpu0 = cpuSeconds(hostPid);
    await delay(IDLE_READ * 2);
    idleCpu[target] = (cpuSeconds(hostPid) - cpu0) * 1000 / (IDLE_READ * 2 / 1000);
  }
} finally {
  ticking = false;
  await ticker;
  await Promise.all(probes.map((p) => p.close()));
  if (hostPid !== 0) Deno.kill(hostPid, "SIGTERM");
}

const marginal = (rss[20] - rss[1]) / 19;
console.log(
  `new -> MOSH CONNECT: first ${(times[0] / 1000).toFixed(2)} s, further median ${
    (median(times.slice(1)) / 1000).toFixed(3)
  } s (min ${(Math.min(...times.slice(1)) / 1000).toFixed(3)}, max ${
    (Math.max(...times.slice(1)) / 1000).toFixed(3)
  })`,
);
for (const n of [1, 5, 20]) {
  console.log(
    `host VmRSS with ${n} sessions: ${rss[n].toFixed(1)} MiB; CPU while idle ${
      idleCpu[n].toFixed(1)
    } ms/s`,
  );
}
console.log(`marginal cost per session: ${marginal.toFixed(2)} MiB`);
console.log(JSON.stringify({ times, rss, idleCpu, marginal }));
Deno.exit(0);

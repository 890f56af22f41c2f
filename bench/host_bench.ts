/**
 * Session host benchmark (lib/host.ts): what a session costs in the host, and how long `new`
 * takes to print MOSH CONNECT.
 *
 * - `new` → MOSH CONNECT: wall time of `server.ts new` run with this Deno's absolute path (as
 *   bin/mosh-server does when deno is on PATH), for the first session (which starts the host) and
 *   for further ones (the median of the rest).
 * - VmRSS of the host with 1, 5 and 20 idle sessions (`bash --norc`), each with a client attached
 *   (tests/probe.ts, ticking in this process) and its prompt shown, read after a settling pause;
 *   and the marginal cost of a session: (RSS at 20 - RSS at 1) / 19.
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
const ticker = (async () => {
  while (ticking) {
    for (const p of probes) p.transport.tick();
    await delay(20);
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

/** One `seq 1 2000000` run in a fresh host with `idle` idle sessions beside it: seconds. */
async function seqRun(idle: number): Promise<number> {
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
    const t0 = performance.now();
    await t.sendKeys("Enter");
    for (;;) {
      if (/^SEQ-DONE$/m.test(await t.capture())) break;
      if (performance.now() - t0 > 180000) throw new Error("no SEQ-DONE");
      await delay(20);
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await t?.kill();
    await Promise.all(probes.splice(0).map((p) => p.close()));
    if (pid !== 0) Deno.kill(pid, "SIGTERM");
    await delay(500);
  }
}

if (Deno.args[0] === "--seq") {
  const reps = Number(Deno.args[1] ?? 5);
  const alone: number[] = [], beside: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      alone.push(await seqRun(0));
      beside.push(await seqRun(5));
      console.error(
        `rep ${i + 1}: alone ${alone[i].toFixed(2)} s, beside 5 idle ${beside[i].toFixed(2)} s`,
      );
    }
  } finally {
    ticking = false;
    await ticker;
  }
  const a = median(alone), b = median(beside);
  console.log(
    `seq 1 2000000 in a host session: alone ${a.toFixed(2)} s, with 5 idle sessions ${
      b.toFixed(2)
    } s (median of ${reps}; ${((b / a - 1) * 100).toFixed(1)}%)`,
  );
  console.log(JSON.stringify({ alone, beside }));
  Deno.exit(0);
}

let hostPid = 0;
const times: number[] = [];
const rss: Record<number, number> = {};
try {
  for (const target of [1, 5, 20]) {
    const added = await addSessions(target - probes.length);
    hostPid = added.pid;
    times.push(...added.times);
    await delay(SETTLE);
    rss[target] = (rssKb(hostPid) ?? 0) / 1024;
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
for (const n of [1, 5, 20]) console.log(`host VmRSS with ${n} sessions: ${rss[n].toFixed(1)} MiB`);
console.log(`marginal cost per session: ${marginal.toFixed(2)} MiB`);
console.log(JSON.stringify({ times, rss, marginal }));
Deno.exit(0);

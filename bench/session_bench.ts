/**
 * End-to-end session benchmark (docs/PROTOCOL.md §7, §8.0): a whole mosh session on loopback,
 * driven through a real terminal (an 80x24 tmux pane), timed from pressing Enter on
 * `seq 1 2000000; echo SEQ-DONE` to `SEQ-DONE` being visible in the pane.
 *
 * Three set-ups, interleaved in every repetition so that they share the machine's load:
 *
 * - `tmux`: `seq` straight in the pane, no mosh at all (the floor);
 * - `debian`: Debian's mosh-client talking to Debian's mosh-server (C mosh 1.4.0);
 * - `ours`: bin/mosh-client talking to bin/mosh-server.
 *
 * For the mosh set-ups it also reads the server's and the client's CPU seconds over that time
 * (utime + stime deltas of /proc/<pid>/stat; the server is the detached pid that mosh-server
 * announces, the client is the mosh-client or deno process in the pane) and the resident memory
 * (VmRSS) of both, once the session is idle at its first prompt and again after the run. The
 * tmux server's CPU is reported too: it is the terminal, and it does work in every set-up.
 *
 * Usage: deno run -A bench/session_bench.ts [--reps N] [--count N] [--only ours,debian,tmux]
 *   prints a table (medians, with min..max), the floor (tmux alone) and each mosh set-up's time
 *   above it (paired with the same repetition's floor run), and one JSON line with every sample.
 *   10 repetitions by default: a ratio of differences is noisy on 2 cores.
 *   Goals (from the issues): ours at most 1.5 s, at most half of C mosh's server CPU, and time
 *   above the floor at most 0.35x C mosh's.
 *
 * With `--profile FILE` it makes one run of ours with our server's background process started
 * by hand under the V8 inspector (`--inspect`), records a CPU profile from Enter to SEQ-DONE
 * through the DevTools protocol, writes it to FILE (a .cpuprofile for Chrome DevTools) and
 * prints the top functions by self and inclusive time. The inspector slows the server a little:
 * use plain runs for figures.
 */

import { DAEMON_FLAG } from "../lib/server_args.ts";
import { requireDebianPackages } from "../tests/deps.ts";
import {
  cleanEnv,
  clientPaneEnv,
  clientPid as findClientPid,
  clientProgram,
  cpuSeconds,
  delay,
  kill,
  PROMPT,
  REPO,
  rssKb,
  startServer,
  stopServer,
  systemSeconds,
} from "../tests/harness.ts";
import { Tmux } from "../tests/tmux.ts";

/** Screen polls while waiting for SEQ-DONE (ms between captures). */
const POLL_MS = 20;
/** Longest a run may take before it counts as failed (ms). */
const RUN_TIMEOUT = 180000;
/** How long the session sits at its prompt before the idle memory reading (ms). */
const IDLE_SETTLE = 1000;

const decoder = new TextDecoder();

/** The set-ups, in the order each repetition runs them. */
export const KINDS = ["tmux", "debian", "ours"] as const;
/** One set-up. */
export type Kind = typeof KINDS[number];

/** One timed run. */
export interface Sample {
  /** Enter to SEQ-DONE on screen, seconds. */
  wall: number;
  /** Server CPU seconds over the run (null for tmux alone). */
  serverCpu: number | null;
  /** The part of serverCpu spent in the kernel (stime). */
  serverSys: number | null;
  /** Client CPU seconds over the run (null for tmux alone). */
  clientCpu: number | null;
  /** The tmux server's CPU seconds over the run. */
  tmuxCpu: number;
  /** Server VmRSS in kB before any client came, at the idle prompt before the run, after it. */
  serverRssStartKb: number | null;
  serverRssIdleKb: number | null;
  serverRssAfterKb: number | null;
  /** Client VmRSS in kB at the idle prompt before the run, and after it. */
  clientRssIdleKb: number | null;
  clientRssAfterKb: number | null;
}

/** A started mosh server: from `startServer`, or (--profile) our daemon started by hand. */
interface Server {
  port: number;
  key: string;
  pid: number;
  /** Set when we started the background process ourselves (--profile). */
  child?: Deno.ChildProcess;
  inspector?: Inspector;
}

/** A minimal Chrome DevTools Protocol client (enough for the V8 CPU profiler). */
class Inspector {
  #ws: WebSocket;
  #next = 0;
  #pending = new Map<number, (result: Record<string, unknown>) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      const done = this.#pending.get(m.id);
      if (done !== undefined) {
        this.#pending.delete(m.id);
        done(m.result ?? {});
      }
    };
  }

  /** Connects to the first target of the inspector at 127.0.0.1:port (retries for 10 s). */
  static async connect(port: number): Promise<Inspector> {
    const deadline = performance.now() + 10000;
    for (;;) {
      try {
        const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
        await new Promise((resolve, reject) => {
          ws.onopen = resolve;
          ws.onerror = () => reject(new Error("inspector websocket failed"));
        });
        return new Inspector(ws);
      } catch (e) {
        if (performance.now() > deadline) {
          throw new Error(`session bench: no inspector on port ${port}: ${(e as Error).message}`);
        }
        await delay(100);
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.#ws.addEventListener("close", r));
    this.#ws.close();
    await closed;
  }
}

/**
 * Starts our server's background process directly (as server.ts's foreground would, see its
 * daemonCommand) but under the V8 inspector, and connects to it with the profiler enabled.
 */
async function startProfiledServer(): Promise<Server> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const inspectPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--quiet", "--no-prompt", `--inspect=127.0.0.1:${inspectPort}`],
      ...["--config", `${REPO}/deno.json`, "--unstable-net", "--allow-net", "--allow-ffi"],
      ...["--allow-read", "--allow-env", `${REPO}/server.ts`, DAEMON_FLAG, "80x24"],
      ...["new", "-p", "0", "-i", "127.0.0.1", "--", "bash", "--norc", "--noprofile"],
    ],
    env: cleanEnv({ PS1: PROMPT, HOME: "/tmp", HISTFILE: "/dev/null" }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("session bench: the profiled server exited before its handshake");
      text += decoder.decode(value, { stream: true });
    }
    reader.releaseLock();
    await child.stdout.cancel();
    const m = /^(\d+) ([A-Za-z0-9/+]{22})$/m.exec(text);
    if (m === null) throw new Error(`session bench: bad handshake from the server: ${text}`);
    const inspector = await Inspector.connect(inspectPort);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
    return { port: Number(m[1]), key: m[2], pid: child.pid, child, inspector };
  } catch (e) {
    kill(child.pid);
    await child.status;
    throw e;
  }
}

/** A V8 CPU profile (the parts we read). */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The `top` functions by self time and by inclusive time, as printable lines. */
export function summarizeProfile(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const file = f.url.slice(f.url.lastIndexOf("/") + 1);
    // A nameless frame without a script is native code: under #drain, the FFI read(2).
    if (!f.functionName && !file) return "(native code)";
    return `${f.functionName || "(anonymous)"}${file ? ` ${file}:${f.lineNumber + 1}` : ""}`;
  };
  const self = new Map<string, number>(), inclusive = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time runs until the next one
    const id = profile.samples[i];
    self.set(label(id), (self.get(label(id)) ?? 0) + us);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const k = label(x);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const table = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, us]) => `${(us / 1000).toFixed(1).padStart(9)} ms  ${k}`).join("\n");
  const total = (profile.endTime - profile.startTime) / 1000;
  return `profile of ${total.toFixed(0)} ms\n-- self time\n${table(self)}\n` +
    `-- inclusive time\n${table(inclusive)}`;
}

/** Polls the pane until a line is exactly `SEQ-DONE`; returns the screen. */
async function waitDone(t: Tmux, since: number): Promise<string> {
  for (;;) {
    const screen = await t.capture();
    if (/^SEQ-DONE$/m.test(screen)) return screen;
    if (performance.now() - since > RUN_TIMEOUT) {
      throw new Error(`session bench: no SEQ-DONE after ${RUN_TIMEOUT} ms; screen:\n${screen}`);
    }
    await delay(POLL_MS);
  }
}

/** Called when Enter is pressed and when SEQ-DONE is seen (`deno bench` times that span). */
export interface RunHooks {
  start(): void;
  end(): void;
}

/** Options of `runOnce`. */
export interface RunOptions {
  /** Called when Enter is pressed and when SEQ-DONE is seen. */
  hooks?: RunHooks;
  /**
   * ours only: run our server's background process under the V8 inspector and write a CPU
   * profile of the run (Enter to SEQ-DONE) to this file; a summary goes to stderr.
   */
  profilePath?: string;
}

/** One run of `kind`: start, wait for the prompt, measure, tear down. */
export async function runOnce(kind: Kind, count: number, opts: RunOptions = {}): Promise<Sample> {
  const { hooks, profilePath } = opts;
  let server: Server | null = null;
  let t: Tmux | null = null;
  let serverRssStartKb: number | null = null;
  try {
    if (kind === "tmux") {
      t = await Tmux.start({
        command: `exec env PS1='${PROMPT}' HOME=/tmp bash --norc --noprofile`,
        cols: 80,
        rows: 24,
      });
    } else {
      server = profilePath && kind === "ours"
        ? await startProfiledServer()
        : await startServer(kind, { launcher: true });
      await delay(IDLE_SETTLE);
      serverRssStartKb = rssKb(server.pid);
      // `exec`: the pane ends with the client (waitExit below).
      const client = clientProgram(kind === "ours" ? "launcher" : "debian");
      t = await Tmux.start({
        command: `exec ${client} 127.0.0.1 ${server.port}`,
        cols: 80,
        rows: 24,
        ...clientPaneEnv(server.key),
      });
    }
    const tmuxPid = Number(await t.display("#{pid}"));
    await t.waitFor(/^prompt\$/m, 20000);
    const clientPid = kind === "tmux" ? null : await findClientPid(t);

    const command = `seq 1 ${count}; echo SEQ-DONE`;
    await t.sendText(command);
    await t.waitFor(`${PROMPT}${command}`, 10000);
    await delay(IDLE_SETTLE); // let the echo settle: the session is idle at its prompt
    const serverRssIdleKb = server ? rssKb(server.pid) : null;
    const clientRssIdleKb = clientPid ? rssKb(clientPid) : null;

    const serverCpu0 = server ? cpuSeconds(server.pid) : 0;
    const serverSys0 = server ? systemSeconds(server.pid) : 0;
    const clientCpu0 = clientPid ? cpuSeconds(clientPid) : 0;
    const tmuxCpu0 = cpuSeconds(tmuxPid);
    await server?.inspector?.send("Profiler.start");
    hooks?.start();
    const t0 = performance.now();
    await t.sendKeys("Enter");
    const screen = await waitDone(t, t0);
    const wall = (performance.now() - t0) / 1000;
    hooks?.end();
    const serverCpu = server ? cpuSeconds(server.pid) - serverCpu0 : null;
    const serverSys = server ? systemSeconds(server.pid) - serverSys0 : null;
    const clientCpu = clientPid ? cpuSeconds(clientPid) - clientCpu0 : null;
    const tmuxCpu = cpuSeconds(tmuxPid) - tmuxCpu0;
    if (server?.inspector && profilePath) {
      const { profile } = await server.inspector.send("Profiler.stop");
      await Deno.writeTextFile(profilePath, JSON.stringify(profile));
      console.error(summarizeProfile(profile as unknown as CpuProfile));
      console.error(`(CPU profile written to ${profilePath}; open it in Chrome DevTools)`);
    }
    if (!new RegExp(`^${count}\\nSEQ-DONE$`, "m").test(screen)) {
      throw new Error(`session bench (${kind}): ${count} is not right above SEQ-DONE:\n${screen}`);
    }

    await delay(IDLE_SETTLE);
    const serverRssAfterKb = server ? rssKb(server.pid) : null;
    const clientRssAfterKb = clientPid ? rssKb(clientPid) : null;

    await t.sendText("exit\r");
    if (kind !== "tmux") await t.waitExit(15000).catch(() => null);
    return {
      wall,
      serverCpu,
      serverSys,
      clientCpu,
      tmuxCpu,
      serverRssStartKb,
      serverRssIdleKb,
      serverRssAfterKb,
      clientRssIdleKb,
      clientRssAfterKb,
    };
  } finally {
    await t?.kill();
    await server?.inspector?.close();
    await stopServer(server);
    await server?.child?.status;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** "median (min..max)" of the non-null values, or "-". */
function summary(xs: (number | null)[], digits: number, scale = 1): string {
  const v = xs.filter((x): x is number => x !== null).map((x) => x * scale);
  if (v.length === 0) return "-";
  const f = (x: number) => x.toFixed(digits);
  return v.length === 1 ? f(v[0]) : `${f(median(v))} (${f(Math.min(...v))}..${f(Math.max(...v))})`;
}

function medianOf(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
}

function parseArgs(
  args: string[],
): { reps: number; count: number; kinds: Kind[]; profilePath?: string } {
  let reps = 10, count = 2000000;
  let kinds: Kind[] = [...KINDS];
  let profilePath: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (args[i] === "--reps" || args[i] === "--count") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`session bench: ${args[i]} needs N >= 1`);
      if (args[i] === "--reps") reps = n;
      else count = n;
      i++;
    } else if (args[i] === "--only") {
      const names = (value ?? "").split(",");
      for (const n of names) {
        if (!(KINDS as readonly string[]).includes(n)) {
          throw new Error(`session bench: --only takes ${KINDS.join(",")}, got ${n}`);
        }
      }
      kinds = KINDS.filter((k) => names.includes(k));
      i++;
    } else if (args[i] === "--profile") {
      if (!value) throw new Error("session bench: --profile needs a file name");
      profilePath = value;
      i++;
    } else {
      throw new Error(
        `session bench: unknown argument ${args[i]} ` +
          "(usage: [--reps N] [--count N] [--only ours,debian,tmux] [--profile FILE])",
      );
    }
  }
  // A profile is of one run of ours (the inspector slows the server down: not a figure).
  if (profilePath !== undefined) return { reps: 1, count, kinds: ["ours"], profilePath };
  return { reps, count, kinds };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const { reps, count, kinds, profilePath } = args;
  await requireDebianPackages(kinds.includes("debian") ? ["mosh", "tmux"] : ["tmux"]);
  const samples = new Map<Kind, Sample[]>(kinds.map((k) => [k, []]));
  const errors: string[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const kind of kinds) {
      try {
        const s = await runOnce(kind, count, { profilePath });
        samples.get(kind)!.push(s);
        console.error(
          `rep ${rep} ${kind.padEnd(6)} wall ${s.wall.toFixed(2)} s` +
            (s.serverCpu === null
              ? ""
              : `, server ${s.serverCpu.toFixed(2)} s, client ${s.clientCpu!.toFixed(2)} s`) +
            `, tmux ${s.tmuxCpu.toFixed(2)} s`,
        );
      } catch (e) {
        const msg = `rep ${rep} ${kind}: ${e instanceof Error ? e.message : String(e)}`;
        errors.push(msg);
        console.error(msg);
      }
    }
  }

  console.log(
    `\nseq 1 ${count} in an 80x24 pane, Enter to SEQ-DONE on screen; ${reps} reps, ` +
      "median (min..max)\n",
  );
  const header = ["set-up", "wall s", "server CPU s", "of which sys", "client CPU s", "tmux CPU s"];
  const memHeader = [
    "set-up",
    "server RSS fresh MB",
    "idle MB",
    "after MB",
    "client RSS idle MB",
    "after MB",
  ];
  const rows: string[][] = [], memRows: string[][] = [];
  for (const kind of kinds) {
    const s = samples.get(kind)!;
    rows.push([
      kind,
      summary(s.map((x) => x.wall), 2),
      summary(s.map((x) => x.serverCpu), 2),
      summary(s.map((x) => x.serverSys), 2),
      summary(s.map((x) => x.clientCpu), 2),
      summary(s.map((x) => x.tmuxCpu), 2),
    ]);
    if (kind !== "tmux") {
      memRows.push([
        kind,
        summary(s.map((x) => x.serverRssStartKb), 1, 1 / 1024),
        summary(s.map((x) => x.serverRssIdleKb), 1, 1 / 1024),
        summary(s.map((x) => x.serverRssAfterKb), 1, 1 / 1024),
        summary(s.map((x) => x.clientRssIdleKb), 1, 1 / 1024),
        summary(s.map((x) => x.clientRssAfterKb), 1, 1 / 1024),
      ]);
    }
  }
  const print = (head: string[], body: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    for (const r of [head, ...body]) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
    console.log();
  };
  print(header, rows);
  if (memRows.length > 0) print(memHeader, memRows);

  // Time above the floor: each mosh run less the tmux-alone run of the same repetition (the
  // set-ups are interleaved, so the pair shared the machine's load), then medians.
  const aboveFloor = new Map<Kind, number[]>();
  const tmuxRuns = samples.get("tmux");
  if (tmuxRuns !== undefined && tmuxRuns.length > 0) {
    const floor = median(tmuxRuns.map((x) => x.wall));
    console.log(`floor (tmux alone): ${floor.toFixed(2)} s`);
    for (const kind of kinds) {
      if (kind === "tmux") continue;
      const s = samples.get(kind)!;
      const n = Math.min(s.length, tmuxRuns.length);
      const above = Array.from({ length: n }, (_, i) => s[i].wall - tmuxRuns[i].wall);
      aboveFloor.set(kind, above);
      console.log(`${kind}: above the floor ${summary(above, 2)} s`);
    }
  }
  const oursAbove = aboveFloor.get("ours"), cAbove = aboveFloor.get("debian");
  const ratio = oursAbove && cAbove && oursAbove.length > 0 && cAbove.length > 0
    ? median(oursAbove) / median(cAbove)
    : null;
  if (ratio !== null) console.log(`ours above the floor / C mosh's: ${ratio.toFixed(2)}\n`);

  const ours = samples.get("ours"), debian = samples.get("debian");
  const oursWall = ours ? medianOf(ours.map((x) => x.wall)) : null;
  const oursCpu = ours ? medianOf(ours.map((x) => x.serverCpu)) : null;
  const cCpu = debian ? medianOf(debian.map((x) => x.serverCpu)) : null;
  const goals: Record<string, boolean | null> = {
    wallAtMost1_5s: oursWall === null ? null : oursWall <= 1.5,
    serverCpuAtMostHalfOfC: oursCpu === null || cCpu === null ? null : oursCpu <= cCpu / 2,
    aboveFloorAtMost0_35OfC: ratio === null ? null : ratio <= 0.35,
  };
  const yes = (b: boolean | null) => b === null ? "n/a" : b ? "met" : "MISSED";
  console.log(`goal: ours wall <= 1.5 s: ${yes(goals.wallAtMost1_5s)}`);
  console.log(`goal: ours server CPU <= half of C mosh's: ${yes(goals.serverCpuAtMostHalfOfC)}`);
  console.log(
    `goal: ours time above the floor <= 0.35x C mosh's: ${yes(goals.aboveFloorAtMost0_35OfC)}`,
  );
  for (const e of errors) console.log(`error: ${e.split("\n")[0]}`);

  const json: Record<string, unknown> = {
    bench: "session",
    count,
    reps,
    goals,
    aboveFloorRatio: ratio === null ? null : +ratio.toFixed(3),
    errors,
  };
  for (const kind of kinds) {
    const s = samples.get(kind)!;
    json[kind] = {
      wall: s.map((x) => +x.wall.toFixed(3)),
      serverCpu: s.map((x) => x.serverCpu === null ? null : +x.serverCpu.toFixed(2)),
      serverSys: s.map((x) => x.serverSys === null ? null : +x.serverSys.toFixed(2)),
      clientCpu: s.map((x) => x.clientCpu === null ? null : +x.clientCpu.toFixed(2)),
      tmuxCpu: s.map((x) => +x.tmuxCpu.toFixed(2)),
      serverRssStartKb: s.map((x) => x.serverRssStartKb),
      serverRssIdleKb: s.map((x) => x.serverRssIdleKb),
      serverRssAfterKb: s.map((x) => x.serverRssAfterKb),
      clientRssIdleKb: s.map((x) => x.clientRssIdleKb),
      clientRssAfterKb: s.map((x) => x.clientRssAfterKb),
    };
  }
  console.log(JSON.stringify(json));
  return errors.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main());
} else {
  // Under `deno bench bench/`: one timed run of ours (the table above needs the script).
  Deno.bench({
    name: "session: ours, seq 1 2000000 in an 80x24 tmux pane, Enter to SEQ-DONE",
    n: 1,
    warmup: 0,
    async fn(b) {
      await requireDebianPackages(["tmux"]);
      await runOnce("ours", 2000000, { hooks: { start: () => b.start(), end: () => b.end() } });
    },
  });
}

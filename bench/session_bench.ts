/**
 * End-to-end session benchmark (docs/PROTOCOL.md §7, §8.0): a whole mosh session on loopback,
 * driven through a real terminal (an 80x24 tmux pane), timed from pressing Enter on
 * `seq 1 2000000; echo SEQ-DONE` to `SEQ-DONE` being visible in the pane.
 *
 * Three set-ups, interleaved in every repetition so that they share the machine's load:
 *
 * - `tmux`: `seq` straight in the pane, no mosh at all (the floor);
 * - `debian`: Debian's mosh-client talking to Debian's mosh-server (C mosh 1.4.0);
 * - `ours`: bin/mosh-client talking to bin/mosh-server (scrollback on, the default);
 * - `ours-off` (only with `--only`): the same with scrollback off at both ends
 *   (`--no-scrollback`, MOSH_SCROLLBACK=0).
 *
 * Our server runs standalone (`new --standalone`, one process per session) unless `--host` is
 * given: then each run's session is the first one of a fresh session host.
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

import { backgroundFlags } from "../lib/host_client.ts";
import { DAEMON_FLAG } from "../lib/server_args.ts";
import { requireDebianPackages } from "../tests/deps.ts";
import {
  cleanEnv,
  clientPaneEnv,
  clientPid as findClientPid,
  clientProgram,
  cpuSeconds,
  delay,
  DENO_RUN,
  freePort,
  kill,
  OUR_CLIENT,
  PROMPT,
  rssKb,
  shellCommand,
  startServer,
  stopServer,
  systemSeconds,
} from "../tests/harness.ts";
import { Tmux } from "../tests/tmux.ts";
import {
  type CpuProfile,
  Inspector,
  PERF_MAP_FLAG,
  perfRecord,
  profileTimeline,
  summarizeProfile,
} from "./cpu_profile.ts";

/** Screen polls while waiting for SEQ-DONE (ms between captures). */
const POLL_MS = 20;
/** Longest a run may take before it counts as failed (ms). */
const RUN_TIMEOUT = 180000;
/** How long the session sits at its prompt before the idle memory reading (ms). */
const IDLE_SETTLE = 1000;

const decoder = new TextDecoder();

/** The set-ups, in the order each repetition runs them. */
export const KINDS = ["tmux", "debian", "ours", "ours-off"] as const;
/** The set-ups run unless `--only` says otherwise. */
const DEFAULT_KINDS: Kind[] = ["tmux", "debian", "ours"];
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

/**
 * Starts our server's background process directly (as server.ts's foreground would, see its
 * daemonCommand) but under the V8 inspector, and connects to it with the profiler enabled.
 */
async function startProfiledServer(
  env: Record<string, string>,
  mode: "inspect" | "perf",
): Promise<Server> {
  const inspectPort = freePort();
  const flag = mode === "perf" ? PERF_MAP_FLAG : `--inspect=127.0.0.1:${inspectPort}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...backgroundFlags([flag]),
      ...[DAEMON_FLAG, "80x24", "new", "-p", "0", "-i", "127.0.0.1"],
      ...["--", "bash", "--norc", "--noprofile"],
    ],
    env: cleanEnv({ PS1: PROMPT, HOME: "/tmp", HISTFILE: "/dev/null", ...env }),
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
    const inspector = mode === "inspect" ? await Inspector.profiler(inspectPort) : undefined;
    return { port: Number(m[1]), key: m[2], pid: child.pid, child, inspector };
  } catch (e) {
    kill(child.pid);
    await child.status;
    throw e;
  }
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
  /**
   * ours only: record the run (Enter to SEQ-DONE) with `perf record` into this file (both ends,
   * started with V8's perf map) and print the top symbols per process.
   */
  perfPath?: string;
  /** Our server through the session host (a fresh control directory per run). */
  host?: boolean;
}

/** The client's command for `kind`; under the inspector on port `inspect`, or with a perf map. */
function clientCommand(kind: Kind, inspect: number | "perf" | null): string {
  if (kind === "debian") return clientProgram("debian");
  const off = kind === "ours-off" ? " --no-scrollback" : "";
  if (inspect === null) return `${clientProgram("launcher")}${off}`;
  // The inspector's banner goes to stderr: keep it off the pane.
  const argv = [
    ...DENO_RUN,
    inspect === "perf" ? PERF_MAP_FLAG : `--inspect=127.0.0.1:${inspect}`,
    ...OUR_CLIENT.slice(DENO_RUN.length),
  ];
  return `${shellCommand(argv)}${off} 2>/dev/null`;
}

/** Writes a profile, its summary and its last-second timeline (stderr). */
async function reportProfile(path: string, what: string, profile: CpuProfile): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(profile));
  console.error(`== ${what}: ${summarizeProfile(profile)}`);
  console.error(`== ${what}: ${profileTimeline(profile)}`);
  console.error(`(CPU profile written to ${path}; open it in Chrome DevTools)`);
}

/** One run of `kind`: start, wait for the prompt, measure, tear down. */
export async function runOnce(kind: Kind, count: number, opts: RunOptions = {}): Promise<Sample> {
  const { hooks, profilePath, perfPath } = opts;
  const ours = kind === "ours" || kind === "ours-off";
  let server: Server | null = null;
  let t: Tmux | null = null;
  let clientInspector: Inspector | null = null;
  const hostDir = opts.host && ours ? await Deno.makeTempDir({ prefix: "mosh-bench-" }) : null;
  let serverRssStartKb: number | null = null;
  try {
    if (kind === "tmux") {
      t = await Tmux.start({
        command: `exec env PS1='${PROMPT}' HOME=/tmp bash --norc --noprofile`,
        cols: 80,
        rows: 24,
      });
    } else {
      const env: Record<string, string> = kind === "ours-off" ? { MOSH_SCROLLBACK: "0" } : {};
      if (hostDir !== null) env.MOSH_DENO_DIR = `${hostDir}/ctl`;
      server = (profilePath || perfPath) && ours
        ? await startProfiledServer(env, perfPath ? "perf" : "inspect")
        : await startServer(kind === "debian" ? "debian" : "ours", {
          launcher: true,
          host: hostDir !== null,
          env,
        });
      await delay(IDLE_SETTLE);
      serverRssStartKb = rssKb(server.pid);
      const inspectPort = profilePath && ours ? freePort() : null;
      // `exec`: the pane ends with the client (waitExit below).
      t = await Tmux.start({
        command: `exec ${
          clientCommand(kind, perfPath ? "perf" : inspectPort)
        } 127.0.0.1 ${server.port}`,
        cols: 80,
        rows: 24,
        ...clientPaneEnv(server.key),
      });
      if (inspectPort !== null) clientInspector = await Inspector.profiler(inspectPort);
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
    const perf = perfPath && server && clientPid
      ? await perfRecord([server.pid, clientPid], perfPath)
      : null;
    await server?.inspector?.send("Profiler.start");
    await clientInspector?.send("Profiler.start");
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
    if (perf !== null) {
      console.error(`== perf (server ${server?.pid}, client ${clientPid}):\n${await perf.stop()}`);
    }
    if (server?.inspector && profilePath) {
      await reportProfile(profilePath, "server", await server.inspector.stop());
    }
    if (clientInspector && profilePath) {
      const path = profilePath.replace(/(\.cpuprofile)?$/, ".client.cpuprofile");
      await reportProfile(path, "client", await clientInspector.stop());
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
    await clientInspector?.close();
    await stopServer(server);
    await server?.child?.status;
    if (hostDir !== null) await Deno.remove(hostDir, { recursive: true }).catch(() => {});
  }
}

/** The 1, 5 and 15 minute load averages (/proc/loadavg). */
function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
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
): {
  reps: number;
  count: number;
  kinds: Kind[];
  profilePath?: string;
  perfPath?: string;
  host: boolean;
} {
  let reps = 10, count = 2000000;
  let kinds: Kind[] = [...DEFAULT_KINDS];
  let profilePath: string | undefined, perfPath: string | undefined;
  let host = false;
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
    } else if (args[i] === "--perf") {
      if (!value) throw new Error("session bench: --perf needs a file name");
      perfPath = value;
      i++;
    } else if (args[i] === "--host") {
      host = true;
    } else if (args[i] === "--profile") {
      if (!value) throw new Error("session bench: --profile needs a file name");
      profilePath = value;
      i++;
    } else {
      throw new Error(
        `session bench: unknown argument ${args[i]} ` +
          "(usage: [--reps N] [--count N] [--only tmux,debian,ours,ours-off] [--host] " +
          "[--profile FILE] [--perf FILE])",
      );
    }
  }
  // A profile is of one run of ours (the inspector slows the server down: not a figure).
  if (profilePath !== undefined || perfPath !== undefined) {
    const profiled = kinds.filter((k) => k === "ours" || k === "ours-off");
    const only: Kind[] = profiled.length ? profiled : ["ours"];
    return { reps: perfPath ? reps : 1, count, kinds: only, profilePath, perfPath, host };
  }
  return { reps, count, kinds, host };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const { reps, count, kinds, profilePath, perfPath, host } = args;
  console.log(`our server: ${host ? "in a session host" : "standalone"}; load: ${loadAverage()}`);
  await requireDebianPackages(kinds.includes("debian") ? ["mosh", "tmux"] : ["tmux"]);
  const samples = new Map<Kind, Sample[]>(kinds.map((k) => [k, []]));
  const errors: string[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const kind of kinds) {
      try {
        const path = profilePath && kinds.length > 1
          ? profilePath.replace(/(\.cpuprofile)?$/, `.${kind}.cpuprofile`)
          : profilePath;
        const perfFile = perfPath && `${perfPath}.${kind}.${rep}`;
        const s = await runOnce(kind, count, { profilePath: path, perfPath: perfFile, host });
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
  if (ratio !== null) {
    console.log(
      `ours above the floor / C mosh's: ${ratio.toFixed(2)}` +
        (ratio <= 0 ? " (ours at or below the floor: not measurable at this load)" : ""),
    );
  }
  const offAbove = aboveFloor.get("ours-off");
  const offRatio = offAbove && cAbove && offAbove.length > 0 && cAbove.length > 0
    ? median(offAbove) / median(cAbove)
    : null;
  if (offRatio !== null) {
    console.log(`ours with scrollback off above the floor / C mosh's: ${offRatio.toFixed(2)}`);
  }
  console.log(`load at the end: ${loadAverage()}\n`);

  const ours = samples.get("ours"), debian = samples.get("debian");
  const oursWall = ours ? medianOf(ours.map((x) => x.wall)) : null;
  const oursCpu = ours ? medianOf(ours.map((x) => x.serverCpu)) : null;
  const cCpu = debian ? medianOf(debian.map((x) => x.serverCpu)) : null;
  const goals: Record<string, boolean | null> = {
    wallAtMost1_5s: oursWall === null ? null : oursWall <= 1.5,
    serverCpuAtMostHalfOfC: oursCpu === null || cCpu === null ? null : oursCpu <= cCpu / 2,
    // At or below the floor is no measurement: on a loaded machine tmux alone (which must
    // draw every line) can take longer than a mosh set-up (which skips frames).
    aboveFloorAtMost0_35OfC: ratio === null || ratio <= 0 ? null : ratio <= 0.35,
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
    host,
    aboveFloorRatio: ratio === null ? null : +ratio.toFixed(3),
    aboveFloorRatioScrollbackOff: offRatio === null ? null : +offRatio.toFixed(3),
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

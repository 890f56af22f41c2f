/**
 * V8 CPU profiles of running Deno processes for the benchmarks (bench/session_bench.ts): a
 * minimal Chrome DevTools Protocol client, a summary of a profile (top functions by self and
 * inclusive time) and a timeline (what the process did in each slice of an interval, e.g. the
 * last second of a flood).
 *
 * Both ends' profiles share one clock (V8's timestamps are CLOCK_MONOTONIC microseconds on
 * Linux), so the server's and the client's timelines line up slice by slice.
 */

import { delay } from "../tests/harness.ts";

/** A minimal Chrome DevTools Protocol client (enough for the V8 CPU profiler). */
export class Inspector {
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
          throw new Error(`cpu profile: no inspector on port ${port}: ${(e as Error).message}`);
        }
        await delay(100);
      }
    }
  }

  /** Connects and enables the profiler with a sampling interval of `intervalUs`. */
  static async profiler(port: number, intervalUs = 200): Promise<Inspector> {
    const inspector = await Inspector.connect(port);
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: intervalUs });
    return inspector;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Stops the profiler and returns the profile. */
  async stop(): Promise<CpuProfile> {
    const { profile } = await this.send("Profiler.stop");
    return profile as unknown as CpuProfile;
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.#ws.addEventListener("close", r));
    this.#ws.close();
    await closed;
  }
}

/** A V8 CPU profile (the parts we read). */
export interface CpuProfile {
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

/** Labels of profile nodes and their parents. */
function tree(profile: CpuProfile) {
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
  const fileOf = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return f.url.slice(f.url.lastIndexOf("/") + 1);
  };
  return { byId, parent, label, fileOf };
}

/** The `top` functions by self time and by inclusive time, as printable lines. */
export function summarizeProfile(profile: CpuProfile, top = 25): string {
  const { parent, label } = tree(profile);
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

/**
 * What the process did in each `sliceMs` slice of the last `spanMs` of the profile: per slice,
 * the share of time idle and the three files that took most of the rest, each sample counted
 * for the deepest TypeScript frame on its stack ("(native)" when the sample itself is in native
 * code, e.g. the pty's read(2) under pty.ts). Printable lines.
 */
export function profileTimeline(profile: CpuProfile, spanMs = 1000, sliceMs = 50): string {
  const { parent, label, fileOf } = tree(profile);
  const slices = Math.ceil(spanMs / sliceMs);
  const from = profile.endTime - spanMs * 1000;
  const per: Map<string, number>[] = Array.from({ length: slices }, () => new Map());
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (t < from) continue;
    const slice = Math.min(slices - 1, Math.floor((t - from) / (sliceMs * 1000)));
    const id = profile.samples[i];
    let what = label(id);
    if (what !== "(idle)" && what !== "(garbage collector)" && what !== "(program)") {
      let file = "(other)";
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
        if (fileOf(x).endsWith(".ts")) {
          file = fileOf(x);
          break;
        }
      }
      what = what === "(native code)" ? `${file} (native)` : file;
    }
    per[slice].set(what, (per[slice].get(what) ?? 0) + us);
  }
  const lines = [`last ${spanMs} ms in ${sliceMs} ms slices (ms ago: idle %, then busiest files)`];
  for (let s = 0; s < slices; s++) {
    const m = per[s];
    let total = 0;
    for (const v of m.values()) total += v;
    const idle = m.get("(idle)") ?? 0;
    const busy = [...m].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]).slice(0, 3)
      .map(([k, us]) => `${k} ${(us / 1000).toFixed(1)}`).join(", ");
    const ago = spanMs - s * sliceMs;
    lines.push(
      `${String(ago).padStart(5)}: idle ${total ? ((100 * idle) / total).toFixed(0) : "-"}%` +
        `${busy ? `; ${busy}` : ""}`,
    );
  }
  return lines.join("\n");
}

/** The V8 flag that makes a Deno process write /tmp/perf-PID.map for `perf` (JIT symbols). */
export const PERF_MAP_FLAG = "--v8-flags=--perf-basic-prof";

/** A running `perf record` of some processes (CPU-time samples, unlike V8's wall-clock ones). */
export interface PerfRecording {
  /** Stops recording and returns `perf report`'s top symbols per process (printable). */
  stop(): Promise<string>;
}

/**
 * Starts `perf record` (cpu-clock samples at 999 Hz) of processes `pids` into `file`. Started
 * with PERF_MAP_FLAG, Deno processes get their JavaScript functions named in the report.
 * Samples are taken only while a process runs, so a loaded machine does not smear them.
 */
export async function perfRecord(pids: number[], file: string): Promise<PerfRecording> {
  const child = new Deno.Command("perf", {
    args: ["record", "-q", "-g", "-F", "999", "-e", "cpu-clock", "-p", pids.join(","), "-o", file],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await delay(300); // let it attach
  return {
    async stop() {
      child.kill("SIGINT");
      const { stderr } = await child.output();
      const report = await new Deno.Command("perf", {
        args: [
          ...["report", "-i", file, "--stdio", "--sort", "pid,sym"],
          ...["--percent-limit", "0.5"],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(report.stdout);
      const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
      const err = new TextDecoder().decode(stderr).trim();
      return `${err ? `${err}\n` : ""}${lines.join("\n")}`;
    },
  };
}

/**
 * Soak run of a whole session (not part of `deno task test` or `deno task bench`): our server and
 * our client (in a tmux pane) under continuous output, full-screen redraws and scrolling, with a
 * keystroke every 100 ms, for a given time; then an idle phase with no output and no typing.
 *
 * Resident memory (/proc/PID/status VmRSS) and CPU time (/proc/PID/stat utime + stime) of the
 * server and of the client are polled every 5 s and reported once a minute (`--sample`). It
 * passes when
 *
 * - memory stays flat: the lowest resident size in the last minute of the active phase is less
 *   than 10% above the lowest in the minute after the warm-up (`--warmup` minutes, default 1;
 *   for runs under 3 minutes the baseline is the second half-minute). Troughs, not peaks: V8's
 *   heap saws up and down by 20% or more between collections, while a leak raises every trough.
 *   The idle phase is reported but not judged: with nothing allocated, no collection runs and
 *   the resident size stays wherever it was;
 * - the idle session costs under 1% of a core for each process, measured over the idle phase
 *   (default 60 s).
 *
 *   deno run --allow-all bench/soak.ts [--minutes 10] [--idle 60] [--sample 60] [--warmup 1]
 *
 * Prints one line per sample and a JSON summary last; exit status 1 on failure.
 */

import {
  clientPid as findClientPid,
  cpuSeconds,
  delay,
  rssMiB,
  startClient,
  startServer,
  stopServer,
} from "../tests/harness.ts";
import type { Tmux } from "../tests/tmux.ts";

/** Allowed memory growth over the warm-up sample. */
const MAX_GROWTH = 0.10;
/** Allowed idle CPU, percent of one core. */
const MAX_IDLE_CPU = 1;

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!(v > 0)) throw new Error(`soak: --${name} needs a positive number`);
  return v;
}

interface Sample {
  at: number;
  server: { rss: number; cpu: number };
  client: { rss: number; cpu: number };
}

async function main(): Promise<number> {
  const minutes = option("minutes", 10);
  const idleSeconds = option("idle", 60);
  const sampleSeconds = option("sample", 60);
  const warmup = option("warmup", 1);
  const flag = `/tmp/mosh-soak-quiet-${crypto.randomUUID().slice(0, 8)}`;
  const server = await startServer("ours", { env: { PS1: "soak$ " } });
  let tmux: Tmux | null = null;
  try {
    tmux = await startClient(server.port, server.key);
    await tmux.waitFor("soak$", 20000);
    const clientPid = await findClientPid(tmux);

    // Output in the background (a full-screen redraw, then 40 scrolling lines, 20 times a second,
    // until the flag file exists); the foreground `cat` swallows the typing.
    await tmux.sendText(
      `(n=0; while [ ! -e ${flag} ]; do n=$((n+1)); printf '\\033[H\\033[2J'; ` +
        `for r in $(seq 1 22); do printf 'frame %d row %02d %s\\n' $n $r "$(date +%N)"; done; ` +
        `seq $n $((n+40)); sleep 0.05; done) & cat > /dev/null\r`,
    );

    const samples: Sample[] = [];
    const t0 = performance.now();
    let lastPrinted = 0;
    const take = () => {
      const s: Sample = {
        at: (performance.now() - t0) / 1000,
        server: { rss: rssMiB(server.pid), cpu: cpuSeconds(server.pid) },
        client: { rss: rssMiB(clientPid), cpu: cpuSeconds(clientPid) },
      };
      samples.push(s);
      return s;
    };
    /** One line for the samples since the last print: troughs and peaks of RSS, CPU use. */
    const print = () => {
      const since = samples.slice(lastPrinted === 0 ? 0 : lastPrinted - 1);
      lastPrinted = samples.length;
      const a = since[0], b = since[since.length - 1];
      const line = (w: "server" | "client") => {
        const rss = since.map((x) => x[w].rss);
        const cpu = b.at > a.at ? ((b[w].cpu - a[w].cpu) / (b.at - a.at)) * 100 : 0;
        return `${w} RSS ${Math.min(...rss).toFixed(1)}-${Math.max(...rss).toFixed(1)} MiB ` +
          `CPU ${cpu.toFixed(1)}%`;
      };
      console.log(`t=${b.at.toFixed(0)}s ${line("server")} | ${line("client")}`);
    };
    take();

    // The active phase: a keystroke every 100 ms; samples every 5 s.
    const end = t0 + minutes * 60000;
    let nextPoll = t0 + 5000;
    let nextPrint = t0 + sampleSeconds * 1000;
    let keys = 0;
    while (performance.now() < end) {
      await tmux.sendText(keys % 40 === 39 ? "\r" : String.fromCharCode(97 + (keys % 26)));
      keys++;
      if (performance.now() >= nextPoll) {
        take();
        nextPoll += 5000;
      }
      if (performance.now() >= nextPrint) {
        print();
        nextPrint += sampleSeconds * 1000;
      }
      await delay(100);
    }
    const activeEnd = take();
    print();

    // The idle phase: stop the output, stop typing, let the last frames settle.
    await Deno.writeTextFile(flag, "");
    await tmux.sendText("\r");
    await delay(5000);
    const idleStart = take();
    const idleUntil = performance.now() + idleSeconds * 1000;
    while (performance.now() < idleUntil) {
      await delay(Math.min(5000, idleUntil - performance.now()));
      take();
    }
    const idleEnd = samples[samples.length - 1];
    print();

    // Verdicts.
    const trough = (w: "server" | "client", from: number, to: number) =>
      Math.min(...samples.filter((x) => x.at >= from && x.at <= to).map((x) => x[w].rss));
    const [warmFrom, warmTo] = minutes >= warmup + 2 ? [warmup * 60, warmup * 60 + 60] : [30, 60];
    const [lastFrom, lastTo] = [activeEnd.at - 60, activeEnd.at];
    const growth = (w: "server" | "client") =>
      trough(w, lastFrom, lastTo) / trough(w, warmFrom, warmTo) - 1;
    const idleCpu = (w: "server" | "client") =>
      ((idleEnd[w].cpu - idleStart[w].cpu) / (idleEnd.at - idleStart.at)) * 100;
    const activeCpu = (w: "server" | "client") =>
      ((activeEnd[w].cpu - samples[0][w].cpu) / (activeEnd.at - samples[0].at)) * 100;
    const report = (w: "server" | "client") => ({
      rssWarmTroughMiB: +trough(w, warmFrom, warmTo).toFixed(1),
      rssLastTroughMiB: +trough(w, lastFrom, lastTo).toFixed(1),
      rssIdleMiB: +idleEnd[w].rss.toFixed(1),
      rssPeakMiB: +Math.max(...samples.map((x) => x[w].rss)).toFixed(1),
      rssGrowthPct: +(growth(w) * 100).toFixed(1),
      activeCpuPct: +activeCpu(w).toFixed(1),
      idleCpuPct: +idleCpu(w).toFixed(2),
    });
    const summary = {
      minutes,
      warmupMinutes: warmup,
      idleSeconds,
      keystrokes: keys,
      server: report("server"),
      client: report("client"),
      pass: false,
    };
    summary.pass = growth("server") < MAX_GROWTH && growth("client") < MAX_GROWTH &&
      idleCpu("server") < MAX_IDLE_CPU && idleCpu("client") < MAX_IDLE_CPU;
    console.log(JSON.stringify(summary));
    return summary.pass ? 0 : 1;
  } finally {
    await tmux?.kill();
    await stopServer(server);
    await Deno.remove(flag).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());

/**
 * Idle memory benchmark (issue 12's memory goal): the resident size (VmRSS) of our standalone
 * server and of our client once a session sits idle at its prompt, beside C mosh's.
 *
 * Each repetition starts a server (`server.ts new`, as bin/mosh-server runs it), reads the
 * detached server's VmRSS while it is fresh (no client yet), starts a client in an 80x24 tmux pane
 * (client.ts with bin/mosh-client's flags), waits for the prompt, lets the session sit idle for
 * `--idle` seconds (default 5) and reads both VmRSS again. Debian's mosh-server and mosh-client
 * are measured the same way in the same repetition (interleaved), for the table.
 *
 *   deno run -A bench/memory_bench.ts [--reps 3] [--idle 5] [--only ours]
 *
 * Goals: our client at most 40 MiB and our standalone server at most 45 MiB at idle (medians).
 * The private part of each (RssAnon) is printed too: the rest of VmRSS is pages of files, mostly
 * of the Deno executable, shared with every other Deno process on the machine.
 * Prints a table, the goals with PASS/FAIL and one JSON line; exit status 1 if a goal is missed.
 */

import {
  clientPid as findClientPid,
  delay,
  procFile,
  PROMPT,
  rssKb,
  startClient,
  startServer,
  stopServer,
} from "../tests/harness.ts";

/** Goals (MiB of VmRSS at idle). */
export const CLIENT_GOAL_MIB = 40;
export const SERVER_GOAL_MIB = 45;

type Kind = "ours" | "debian";

interface Sample {
  serverFreshKb: number;
  serverIdleKb: number;
  clientIdleKb: number;
  /** The private part of the idle figures (RssAnon: heaps, stacks); the rest is RssFile. */
  serverAnonKb: number;
  clientAnonKb: number;
}

/** RssAnon of `pid` in kB: its private memory (VmRSS less the file pages it shares). */
function anonKb(pid: number): number {
  const m = /^RssAnon:\s+(\d+) kB/m.exec(procFile(pid, "status"));
  if (m === null) throw new Error(`memory bench: process ${pid} is gone`);
  return Number(m[1]);
}

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!(v > 0)) throw new Error(`memory bench: --${name} needs a positive number`);
  return v;
}

function mustRss(pid: number, what: string): number {
  const kb = rssKb(pid);
  if (kb === null) throw new Error(`memory bench: the ${what} (pid ${pid}) is gone`);
  return kb;
}

/** One session of `kind`: fresh server, then both ends idle at the prompt. */
async function measure(kind: Kind, idleSeconds: number): Promise<Sample> {
  const server = await startServer(kind);
  try {
    await delay(1000);
    const serverFreshKb = mustRss(server.pid, "server");
    const tmux = await startClient(server.port, server.key, { client: kind });
    try {
      await tmux.waitFor(PROMPT.trim(), 20000);
      const clientPid = await findClientPid(tmux);
      await delay(idleSeconds * 1000);
      return {
        serverFreshKb,
        serverIdleKb: mustRss(server.pid, "server"),
        clientIdleKb: mustRss(clientPid, "client"),
        serverAnonKb: anonKb(server.pid),
        clientAnonKb: anonKb(clientPid),
      };
    } finally {
      await tmux.kill();
    }
  } finally {
    await stopServer(server);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mib = (kb: number) => kb / 1024;

async function main(): Promise<number> {
  const reps = option("reps", 3);
  const idle = option("idle", 5);
  const onlyAt = Deno.args.indexOf("--only");
  const kinds: Kind[] = onlyAt >= 0
    ? Deno.args[onlyAt + 1].split(",").filter((k): k is Kind => k === "ours" || k === "debian")
    : ["debian", "ours"];
  const samples: Record<Kind, Sample[]> = { ours: [], debian: [] };
  for (let r = 0; r < reps; r++) {
    for (const kind of kinds) {
      const s = await measure(kind, idle);
      samples[kind].push(s);
      console.log(
        `rep ${r + 1} ${kind.padEnd(6)} server fresh ${mib(s.serverFreshKb).toFixed(1)} MiB, ` +
          `idle ${mib(s.serverIdleKb).toFixed(1)} MiB (private ${
            mib(s.serverAnonKb).toFixed(1)
          }); client idle ${mib(s.clientIdleKb).toFixed(1)} MiB (private ${
            mib(s.clientAnonKb).toFixed(1)
          })`,
      );
    }
  }
  const summary: Record<string, unknown> = { reps, idleSeconds: idle };
  for (const kind of kinds) {
    const pick = (f: keyof Sample) => +mib(median(samples[kind].map((s) => s[f]))).toFixed(1);
    summary[kind] = {
      serverFreshMiB: pick("serverFreshKb"),
      serverIdleMiB: pick("serverIdleKb"),
      clientIdleMiB: pick("clientIdleKb"),
      serverPrivateMiB: pick("serverAnonKb"),
      clientPrivateMiB: pick("clientAnonKb"),
    };
  }
  console.log(
    "\nmedians (MiB)      server fresh  server idle  client idle  server private  client private",
  );
  for (const kind of kinds) {
    const m = summary[kind] as Record<string, number>;
    const cols = [m.serverFreshMiB, m.serverIdleMiB, m.clientIdleMiB];
    console.log(
      kind.padEnd(18) + cols.map((v) => String(v).padStart(13)).join("") +
        [m.serverPrivateMiB, m.clientPrivateMiB].map((v) => String(v).padStart(16)).join(""),
    );
  }
  let pass = true;
  if (kinds.includes("ours")) {
    const ours = summary.ours as Record<string, number>;
    const client = ours.clientIdleMiB <= CLIENT_GOAL_MIB;
    const server = ours.serverIdleMiB <= SERVER_GOAL_MIB;
    console.log(
      `goal: client idle <= ${CLIENT_GOAL_MIB} MiB: ${ours.clientIdleMiB} ${
        client ? "PASS" : "FAIL"
      }`,
    );
    console.log(
      `goal: standalone server idle <= ${SERVER_GOAL_MIB} MiB: ${ours.serverIdleMiB} ${
        server ? "PASS" : "FAIL"
      }`,
    );
    pass = client && server;
    summary.pass = pass;
  }
  console.log(JSON.stringify(summary));
  return pass ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());

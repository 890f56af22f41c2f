/**
 * Start-up benchmark (issue 12's start goals), ours beside C mosh's, interleaved:
 *
 * - server: `server.ts new -p 0 -i 127.0.0.1` (standalone, this Deno by its absolute path) until it
 *   has printed MOSH CONNECT and exited; the same through bin/mosh-server when Deno is not on PATH
 *   (the launcher's `npx -y deno@2.9.6` fallback); Debian's mosh-server;
 * - client: from starting the client in an 80x24 tmux pane to the shell's prompt on the pane's
 *   screen (tmux is polled every 50 ms, so figures are up to 50 ms late; the pane's own start is
 *   included), ours (client.ts with bin/mosh-client's flags) and Debian's mosh-client, both against
 *   the same kind of server.
 *
 *   deno run -A bench/start_bench.ts [--reps 5] [--no-npx]
 *
 * Goals: server ≤ 0.4 s standalone, client ≤ 0.3 s (medians). Prints the goals with PASS/FAIL and
 * one JSON line; exit status 1 if a goal is missed.
 */

import { PROMPT, startClient, startServer, stopServer } from "../tests/harness.ts";

export const SERVER_GOAL_S = 0.4;
export const CLIENT_GOAL_S = 0.3;

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!(v > 0)) throw new Error(`start bench: --${name} needs a positive number`);
  return v;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Case = "ours" | "ours-npx" | "debian";

async function serverStart(which: Case): Promise<number> {
  const t0 = performance.now();
  const server = await startServer(which === "debian" ? "debian" : "ours", {
    launcher: which === "ours-npx",
  });
  const t = (performance.now() - t0) / 1000;
  await stopServer(server);
  return t;
}

async function clientStart(kind: "ours" | "debian"): Promise<number> {
  const server = await startServer(kind);
  try {
    const t0 = performance.now();
    const tmux = await startClient(server.port, server.key, { client: kind });
    try {
      await tmux.waitFor(PROMPT.trim(), 20000);
      return (performance.now() - t0) / 1000;
    } finally {
      await tmux.kill();
    }
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<number> {
  const reps = option("reps", 5);
  const servers: Case[] = Deno.args.includes("--no-npx")
    ? ["debian", "ours"]
    : ["debian", "ours", "ours-npx"];
  const serverTimes = new Map<Case, number[]>(servers.map((c) => [c, []]));
  const clientTimes = new Map<string, number[]>([["debian", []], ["ours", []]]);
  for (let r = 1; r <= reps; r++) {
    for (const c of servers) serverTimes.get(c)!.push(await serverStart(c));
    for (const k of ["debian", "ours"] as const) clientTimes.get(k)!.push(await clientStart(k));
    console.error(
      `rep ${r}: server ` +
        servers.map((c) => `${c} ${serverTimes.get(c)!.at(-1)!.toFixed(2)} s`).join(", ") +
        `; client debian ${clientTimes.get("debian")!.at(-1)!.toFixed(2)} s, ours ${
          clientTimes.get("ours")!.at(-1)!.toFixed(2)
        } s`,
    );
  }
  const summary: Record<string, unknown> = { reps };
  const show = (label: string, xs: number[]) => {
    const m = median(xs);
    console.log(
      `${label.padEnd(28)} ${m.toFixed(2)} s (${Math.min(...xs).toFixed(2)}..${
        Math.max(...xs).toFixed(2)
      })`,
    );
    summary[label.replaceAll(" ", "_")] = +m.toFixed(3);
    return m;
  };
  console.log("\nmedians (min..max)");
  for (const c of servers) show(`server ${c}`, serverTimes.get(c)!);
  for (const k of ["debian", "ours"]) show(`client ${k}`, clientTimes.get(k)!);
  const server = median(serverTimes.get("ours")!) <= SERVER_GOAL_S;
  const client = median(clientTimes.get("ours")!) <= CLIENT_GOAL_S;
  console.log(
    `goal: server.ts new to MOSH CONNECT <= ${SERVER_GOAL_S} s: ${server ? "PASS" : "FAIL"}`,
  );
  console.log(`goal: client start to prompt <= ${CLIENT_GOAL_S} s: ${client ? "PASS" : "FAIL"}`);
  summary.pass = server && client;
  console.log(JSON.stringify(summary));
  return server && client ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());

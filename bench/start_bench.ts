/**
 * Start-up benchmark (issue 12's start goals), ours beside C mosh's, interleaved:
 *
 * - server: `server.ts new -p 0 -i 127.0.0.1` (standalone, this Deno by its absolute path) until it
 *   has printed MOSH CONNECT and exited; the same through bin/mosh-server when Deno is not on PATH
 *   (the launcher's `npx -y deno@2.9.6` fallback); Debian's mosh-server; and through the session
 *   host in a fresh control directory: the first `new` (it starts the host), then a further one;
 * - client: from the client's start to the first frame that shows the shell's prompt, on
 *   loopback, in an 80x24 tmux pane made ready beforehand. The server is running (MOSH CONNECT
 *   printed 300 ms before); the pane runs `read < FIFO; exec CLIENT 127.0.0.1 PORT` and its output
 *   is piped (tmux `pipe-pane -O`) through a second FIFO into a terminal emulator here
 *   (lib/terminal.ts). t0 is the moment this script writes the byte that releases the pane's
 *   `read` (the client is exec'd at once); t1 is the arrival of the chunk of the client's output
 *   after which the emulated screen shows the prompt, confirmed on tmux's own screen
 *   (capture-pane). Both servers start the shell only when the first client state arrives (as
 *   mosh 1.4.0 does), so t1 includes the shell's own start (bash draws its prompt 40-60 ms after
 *   its exec on this machine) and whatever the server does then. "first output" is t0 to the
 *   client's first write to the pane (its terminal set-up): the client's own start alone.
 *   Clients: Debian's mosh-client, ours through bin/mosh-client (as users run it) and ours as
 *   client.ts under this Deno by its absolute path; each against our server and Debian's, every
 *   combination once per rep, interleaved;
 * - client including tmux's start (the old figure, `--no-tmux-start` skips it): from starting a
 *   new tmux server whose pane runs the client until capture-pane, polled every 50 ms, shows the
 *   prompt; client.ts and Debian's mosh-client, each against its own kind of server.
 *
 *   deno run -A bench/start_bench.ts [--reps 5] [--no-npx] [--client-only] [--no-tmux-start]
 *
 * Goals: server ≤ 0.4 s standalone and when it starts the host, ≤ 0.25 s for a further session in
 * a running host; client ≤ 0.3 s (the median of ours through bin/mosh-client
 * against our server, in a ready pane). Prints the goals with PASS/FAIL and one JSON line; exit
 * status 1 if a goal is missed.
 */

import {
  type ClientKind,
  clientPaneEnv,
  clientProgram,
  delay,
  type Kind,
  PROMPT,
  startClient,
  startServer,
  stopServer,
} from "../tests/harness.ts";
import { Tmux } from "../tests/tmux.ts";
import { Terminal } from "../lib/terminal.ts";

export const SERVER_GOAL_S = 0.4;
/** A further `new` in a running session host. */
export const HOST_FURTHER_GOAL_S = 0.25;
export const CLIENT_GOAL_S = 0.3;

const COLS = 80;
const ROWS = 24;

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

/**
 * Our server through the session host (`new` without --standalone), in a fresh control
 * directory: the first `new` starts the host, a second one is a further session in it.
 */
async function hostStart(): Promise<{ first: number; further: number }> {
  const dir = `${await Deno.makeTempDir({ prefix: "mosh-start-bench-" })}/ctl`;
  const env = { MOSH_DENO_DIR: dir };
  let t0 = performance.now();
  const first = await startServer("ours", { host: true, env });
  const t1 = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const second = await startServer("ours", { host: true, env });
  const t2 = (performance.now() - t0) / 1000;
  await stopServer(second); // the host: both sessions end with it
  await stopServer(first);
  await Deno.remove(dir.replace(/\/ctl$/, ""), { recursive: true }).catch(() => {});
  return { first: t1, further: t2 };
}

/** True once some row of `term` shows the prompt (and nothing else). */
function showsPrompt(term: Terminal): boolean {
  const want = PROMPT.trimEnd();
  return term.screenText().split("\n").slice(0, ROWS).some((row) => row.trimEnd() === want);
}

/**
 * Client `client` against a fresh server `server`, in a pane made ready beforehand (see the
 * module comment): seconds from releasing the pane's `read` to the chunk that completes the
 * prompt on the emulated screen.
 */
async function clientStartReady(
  client: ClientKind,
  server: Kind,
): Promise<{ first: number; prompt: number }> {
  const dir = await Deno.makeTempDir({ prefix: "mosh-start-bench-" });
  const go = `${dir}/go`, out = `${dir}/out`;
  for (const fifo of [go, out]) {
    const made = await new Deno.Command("mkfifo", { args: ["-m", "600", fifo] }).output();
    if (!made.success) throw new Error(`start bench: mkfifo ${fifo} failed`);
  }
  const srv = await startServer(server);
  let tmux: Tmux | null = null;
  let pipe: Deno.FsFile | null = null;
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    tmux = await Tmux.start({
      command: `read x < ${go}; exec ${clientProgram(client)} 127.0.0.1 ${srv.port}`,
      cols: COLS,
      rows: ROWS,
      ...clientPaneEnv(srv.key),
    });
    const opened = Deno.open(out, { read: true });
    await tmux.pipeOutput(out);
    pipe = await opened;
    // Let the machine settle after starting the server and tmux.
    await delay(300);
    const term = new Terminal(COLS, ROWS);
    const buf = new Uint8Array(65536);
    const t0 = performance.now();
    await Deno.writeTextFile(go, "\n");
    let t1 = -1, first = -1;
    // A client that never shows the prompt: ending tmux ends the pipe, and the read below.
    const pane = tmux;
    guard = setTimeout(() => void pane.kill(), 20000);
    while (t1 < 0) {
      const n = await pipe.read(buf);
      const now = performance.now();
      if (n === null) {
        throw new Error(`start bench: no prompt from ${client}; screen:\n${term.screenText()}`);
      }
      if (first < 0) first = now;
      term.write(buf.subarray(0, n));
      if (showsPrompt(term)) t1 = now;
    }
    // What the emulator saw is what tmux shows.
    await tmux.waitFor((screen) => screen.split("\n").some((r) => r === PROMPT.trimEnd()), 5000);
    return { first: (first - t0) / 1000, prompt: (t1 - t0) / 1000 };
  } finally {
    clearTimeout(guard);
    await tmux?.kill();
    pipe?.close();
    await stopServer(srv);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The old figure: a new tmux server running the client, polled every 50 ms, tmux's start included. */
async function clientStartWithTmux(kind: Kind): Promise<number> {
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

/** The ready-pane cases: [label, client, server]. */
const CLIENT_CASES: [string, ClientKind, Kind][] = [
  ["client debian/debian-server", "debian", "debian"],
  ["client launcher/debian-server", "launcher", "debian"],
  ["client client.ts/debian-server", "ours", "debian"],
  ["client debian/our-server", "debian", "ours"],
  ["client launcher/our-server", "launcher", "ours"],
  ["client client.ts/our-server", "ours", "ours"],
];
const GOAL_CASE = "client launcher/our-server";

async function main(): Promise<number> {
  const reps = option("reps", 5);
  const clientOnly = Deno.args.includes("--client-only");
  const withTmuxStart = !Deno.args.includes("--no-tmux-start");
  const servers: Case[] = clientOnly
    ? []
    : Deno.args.includes("--no-npx")
    ? ["debian", "ours"]
    : ["debian", "ours", "ours-npx"];
  const times = new Map<string, number[]>();
  const record = (label: string, t: number) => {
    if (!times.has(label)) times.set(label, []);
    times.get(label)!.push(t);
    return `${label.replace(/^(server|client) /, "")} ${(t * 1000).toFixed(0)}`;
  };
  for (let r = 1; r <= reps; r++) {
    const line: string[] = [];
    for (const c of servers) line.push(record(`server ${c}`, await serverStart(c)));
    if (!clientOnly) {
      const host = await hostStart();
      line.push(record("server ours-host-first", host.first));
      line.push(record("server ours-host-further", host.further));
    }
    for (const [label, client, server] of CLIENT_CASES) {
      const t = await clientStartReady(client, server);
      line.push(record(label, t.prompt));
      // The client's own start, whichever server: both runs count.
      record(label.replace(/\/.*$/, " first output"), t.first);
    }
    if (withTmuxStart) {
      for (const k of ["debian", "ours"] as const) {
        line.push(record(`client ${k} incl. tmux start`, await clientStartWithTmux(k)));
      }
    }
    console.error(`rep ${r} (ms): ${line.join(", ")}`);
  }
  const summary: Record<string, unknown> = { bench: "start", reps };
  console.log("\nmedians (min..max)");
  for (const [label, xs] of times) {
    const m = median(xs);
    console.log(
      `${label.padEnd(40)} ${m.toFixed(3)} s (${Math.min(...xs).toFixed(3)}..${
        Math.max(...xs).toFixed(3)
      })`,
    );
    summary[label.replaceAll(" ", "_").replaceAll(".", "")] = +m.toFixed(3);
  }
  let pass = true;
  if (!clientOnly) {
    const server = median(times.get("server ours")!) <= SERVER_GOAL_S;
    console.log(
      `goal: server.ts new to MOSH CONNECT <= ${SERVER_GOAL_S} s: ${server ? "PASS" : "FAIL"}`,
    );
    pass &&= server;
    const first = median(times.get("server ours-host-first")!) <= SERVER_GOAL_S;
    console.log(
      `goal: the first \`new\` (it starts the session host) to MOSH CONNECT <= ${SERVER_GOAL_S} s: ` +
        (first ? "PASS" : "FAIL"),
    );
    const further = median(times.get("server ours-host-further")!) <= HOST_FURTHER_GOAL_S;
    console.log(
      `goal: a further \`new\` in a running host to MOSH CONNECT <= ${HOST_FURTHER_GOAL_S} s: ` +
        (further ? "PASS" : "FAIL"),
    );
    pass &&= first && further;
  }
  const clientMedian = median(times.get(GOAL_CASE)!);
  const client = clientMedian <= CLIENT_GOAL_S;
  console.log(
    `goal: client start (bin/mosh-client, our server, ready pane) to the prompt <= ` +
      `${CLIENT_GOAL_S} s: ${clientMedian.toFixed(3)} s: ${client ? "PASS" : "FAIL"}`,
  );
  pass &&= client;
  summary.pass = pass;
  console.log(JSON.stringify(summary));
  return pass ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());

/**
 * Throughput of one `-L` forwarded connection (docs/EXTENSIONS.md "Forwarding"; the network
 * under it is docs/PROTOCOL.md §2): our client in a tmux pane, our server, an HTTP server in this
 * script serving random bytes, and a download through the forwarded port. On loopback directly,
 * and through tests/relay.ts at the given round-trip times and loss rates (each direction delayed
 * by RTT/2, the loss applied each way).
 *
 *   deno run -A bench/forward_bench.ts [--mb=8] [--rtt=0,50,200] [--loss=0,0.05]
 *
 * RTT 0 means no relay. Output: a table (MB/s, and the share of window/RTT reached, with the
 * 256 KiB channel window), then one JSON line.
 */

import { Relay } from "../tests/relay.ts";
import { freePort, startClient, startServer, stopServer } from "../tests/harness.ts";
import { randomBytes } from "../tests/workload.ts";
import { CHANNEL_WINDOW } from "../lib/channel.ts";

function flag(name: string, fallback: string): string {
  const hit = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

const MB = Number(flag("mb", "8"));
const RTTS = flag("rtt", "0,50,200").split(",").map(Number);
const LOSSES = flag("loss", "0,0.05").split(",").map(Number);

const data = randomBytes(MB * 1024 * 1024);
const http = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () => new Response(data),
);

interface Row {
  rtt: number;
  loss: number;
  seconds: number;
  mbps: number;
  windowShare: number | null;
}

async function once(rtt: number, loss: number): Promise<Row> {
  const server = await startServer("ours");
  const relay = rtt === 0 ? null : Relay.start({
    target: { hostname: "127.0.0.1", port: server.port },
    toServer: { delayMs: rtt / 2, loss },
    toClient: { delayMs: rtt / 2, loss },
    seed: 7,
  });
  const lport = freePort();
  const tmux = await startClient(relay?.port ?? server.port, server.key, {
    args: ["-L", `${lport}:127.0.0.1:${http.addr.port}`],
  });
  try {
    await tmux.waitFor(/^prompt\$/m, 60000);
    const t0 = performance.now();
    const r = await fetch(`http://127.0.0.1:${lport}/`);
    const got = new Uint8Array(await r.arrayBuffer());
    const seconds = (performance.now() - t0) / 1000;
    if (got.length !== data.length) throw new Error(`got ${got.length} of ${data.length} bytes`);
    const mbps = MB / seconds;
    const windowShare = rtt === 0 ? null : (mbps * 1024 * 1024) / (CHANNEL_WINDOW / (rtt / 1000));
    return { rtt, loss, seconds, mbps, windowShare };
  } finally {
    await tmux.kill();
    await relay?.close();
    await stopServer(server);
  }
}

const rows: Row[] = [];
for (const rtt of RTTS) {
  for (const loss of rtt === 0 ? [0] : LOSSES) {
    const row = await once(rtt, loss);
    rows.push(row);
    console.log(
      `rtt ${String(rtt).padStart(3)} ms  loss ${(loss * 100).toFixed(0).padStart(2)}%  ` +
        `${row.mbps.toFixed(2).padStart(6)} MB/s  ${row.seconds.toFixed(1).padStart(6)} s` +
        (row.windowShare === null ? "" : `  ${(row.windowShare * 100).toFixed(0)}% of window/RTT`),
    );
  }
}
console.log(JSON.stringify({ bench: "forward", mb: MB, rows }));
await http.shutdown();

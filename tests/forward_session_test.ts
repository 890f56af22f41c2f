// -L, -R and -D end to end (docs/EXTENSIONS.md "Forwarding"): our client in a tmux pane, our
// server, and tests/relay.ts between them (10% loss each way, reordering, duplication, a new
// source address every 2 s). A Deno HTTP server in this test serves random bytes; the test fetches
// them through the forwarded port (for -D with a SOCKS5 client written here) and compares SHA-256. Also: a local listen failure is one line
// and exit 1; against Debian's mosh-server `-L` is a one-line warning and the session works.
//
// FORWARD_MB sets the size of the lossy transfer (default 10, the size: 4-12 s on the
// 2-core machine at load 3-6, docs/EXTENSIONS.md).

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { Relay } from "./relay.ts";
import {
  clientPid,
  delay,
  freePort,
  type Server,
  startClient,
  startServer,
  stopServer,
} from "./harness.ts";
import { randomBytes, readAll, sha256Hex } from "./workload.ts";
import type { Tmux } from "./tmux.ts";
import { PtyClient } from "./pty_client.ts";
import { concatBytes } from "../lib/bytes.ts";

const PROMPT_RE = /^prompt\$/m;
const MB = Number(Deno.env.get("FORWARD_MB") ?? "10");

async function fetchThrough(port: number, ms: number): Promise<Uint8Array> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/data`, { signal: AbortSignal.timeout(ms) });
      return new Uint8Array(await r.arrayBuffer());
    } catch (e) {
      // The listener exists from the start; the forwarding is on once the session is.
      if (performance.now() > deadline) throw e;
      await delay(500);
    }
  }
}

/** How a test reaches the HTTP server through each kind of forwarding. */
const MODES = {
  L: {
    what: "-L",
    args: (port: number, http: number) => ["-L", `${port}:127.0.0.1:${http}`],
    fetch: (port: number, _http: number) => fetchThrough(port, 300_000),
  },
  R: {
    what: "-R (the server side listens; this test plays the remote program)",
    args: (port: number, http: number) => ["-R", `${port}:127.0.0.1:${http}`],
    fetch: (port: number, _http: number) => fetchThrough(port, 300_000),
  },
  D: {
    what: "-D (a SOCKS5 CONNECT by name, resolved on the server side)",
    args: (port: number, _http: number) => ["-D", String(port)],
    fetch: (port: number, http: number) => fetchSocks(port, http),
  },
} as const;

for (const mode of ["L", "R", "D"] as const) {
  const m = MODES[mode];
  Deno.test({
    name:
      `${m.what} through a lossy, roaming relay: ${MB} MB from an HTTP server arrive with the same SHA-256`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const data = randomBytes(MB * 1024 * 1024);
      const http = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () =>
          new Response(data, {
            headers: { "content-type": "application/octet-stream", connection: "close" },
          }),
      );
      let server: Server | null = null;
      let relay: Relay | null = null;
      let tmux: Tmux | null = null;
      let roam: ReturnType<typeof setInterval> | undefined;
      try {
        server = await startServer("ours");
        const bad = { loss: 0.1, delayMs: 5, jitterMs: 3, duplicate: 0.02, reorder: 0.05 };
        relay = Relay.start({
          target: { hostname: "127.0.0.1", port: server.port },
          toServer: bad,
          toClient: bad,
          seed: 16,
        });
        const port = freePort();
        tmux = await startClient(relay.port, server.key, { args: m.args(port, http.addr.port) });
        await tmux.waitFor(PROMPT_RE, 30000);
        const hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.1"];
        let n = 0;
        roam = setInterval(
          () => relay!.changeSource({ hostname: hosts[n++ % hosts.length] }),
          2000,
        );
        const t0 = performance.now();
        const got = await m.fetch(port, http.addr.port);
        const seconds = (performance.now() - t0) / 1000;
        console.log(
          `-${mode}: ${MB} MB in ${seconds.toFixed(1)} s (${
            (MB / seconds).toFixed(2)
          } MB/s), ${n} address changes`,
        );
        assert.equal(got.length, data.length);
        assert.equal(await sha256Hex(got), await sha256Hex(data));
        assert.ok(n >= 1 || seconds < 2, "the source address changed during the transfer");
        // The shell still answers.
        await tmux.sendText("echo fwd-$((6*7))\r");
        await tmux.waitFor(/^fwd-42$/m, 15000);
      } finally {
        clearInterval(roam);
        await tmux?.kill();
        await relay?.close();
        await stopServer(server);
        await http.shutdown();
      }
    },
  });
}

/** GET / through the SOCKS5 proxy on `proxy` to `localhost:http`; returns the body. */
async function fetchSocks(proxy: number, http: number): Promise<Uint8Array> {
  // The listener exists from the start; the forwarding is on once the session is.
  const deadline = performance.now() + 30_000;
  let conn: Deno.Conn;
  for (;;) {
    try {
      conn = await socksConnect(proxy, "localhost", http);
      break;
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await delay(500);
    }
  }
  await conn.write(
    new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
  );
  const all = await readAll(conn);
  conn.close();
  const text = new TextDecoder("latin1").decode(all);
  const head = text.indexOf("\r\n\r\n");
  assert.match(text.slice(0, 200), /^HTTP\/1\.1 200/);
  return all.subarray(head + 4);
}

Deno.test({
  name: "-L on a port already in use: one line and exit status 1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    let tmux: Tmux | null = null;
    try {
      tmux = await startClient(9, "A".repeat(22), { args: ["-L", `${port}:127.0.0.1:80`] });
      const screen = await tmux.waitFor(/CLIENT-EXIT=\d+/, 20000);
      assert.match(
        screen,
        new RegExp(
          `mosh-client: cannot listen on 127\\.0\\.0\\.1:${port} for -L: .+\\n+CLIENT-EXIT=1`,
        ),
      );
    } finally {
      await tmux?.kill();
      busy.close();
    }
  },
});

Deno.test({
  name:
    "our client with -L against Debian's mosh-server: a one-line warning, and the session works",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await requireDebianPackages(["mosh", "tmux"]);
    let server: Server | null = null;
    let tmux: Tmux | null = null;
    try {
      server = await startServer("debian");
      tmux = await startClient(server.port, server.key, {
        args: ["-L", `${freePort()}:127.0.0.1:80`],
      });
      await tmux.waitFor(/does not support forwarding/, 20000);
      await tmux.sendText("echo c-$((6*7))\r");
      await tmux.waitFor(/^c-42$/m, 15000);
    } finally {
      await tmux?.kill();
      await stopServer(server);
    }
  },
});

/**
 * Milliseconds from typing one key until the server's echo of it shows on the client's screen,
 * `n` times (tests/pty_client.ts: timed at each read of the client's output, no tmux polling).
 */
async function echoTimes(c: PtyClient, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = c.cursor();
    const before = c.latencies.length;
    c.key("abcdefghijklmnopqrstuvwxyz".charCodeAt(i % 26), at);
    await c.until(`echo at ${at.row},${at.col}`, () => c.pending.length === 0, 10000);
    times.push(c.latencies[before]);
    await delay(20);
  }
  c.key(0x15); // ^U
  return times;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

Deno.test({
  // The goal: within 20 ms (docs/EXTENSIONS.md "Scheduling").
  name:
    "keystroke echo during a full-speed forwarded transfer stays within 20 ms of its median without",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const chunk = new Uint8Array(1 << 20);
    crypto.getRandomValues(chunk.subarray(0, 65536));
    let serving = true;
    // An endless download: the transfer runs at full speed for as long as the test reads it.
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () =>
        new Response(
          new ReadableStream({
            pull(c) {
              if (serving) c.enqueue(chunk);
              else c.close();
            },
          }),
        ),
    );
    let server: Server | null = null;
    let client: PtyClient | null = null;
    try {
      server = await startServer("ours");
      const lport = freePort();
      client = new PtyClient("ours", server.port, server.key, {
        args: ["-L", `${lport}:127.0.0.1:${http.addr.port}`],
        env: { MOSH_PREDICTION_DISPLAY: "never" }, // measure the server's echo, not a prediction
      });
      const c = client;
      await c.until("the prompt", () => c.rowText(c.cursor().row).startsWith("prompt$"), 30000);
      const quiet = await echoTimes(c, 30);
      const r = await fetch(`http://127.0.0.1:${lport}/`);
      const reader = r.body!.getReader();
      let received = 0;
      const draining = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.length;
        }
      })();
      await delay(1000); // up to speed
      const before = received;
      const t0 = performance.now();
      const busy = await echoTimes(c, 30);
      const rate = (received - before) / ((performance.now() - t0) / 1000) / 1e6;
      serving = false;
      await reader.cancel().catch(() => {});
      await draining.catch(() => {});
      console.log(
        `echo median ${median(quiet).toFixed(1)} ms quiet, ${median(busy).toFixed(1)} ms during ` +
          `a transfer at ${rate.toFixed(2)} MB/s`,
      );
      assert.ok(rate > 0.1, `the transfer ran (${rate.toFixed(2)} MB/s)`);
      assert.ok(
        median(busy) <= median(quiet) + 20,
        `echo median ${median(busy)} ms during the transfer vs ${median(quiet)} ms`,
      );
    } finally {
      serving = false;
      await client?.close();
      await stopServer(server);
      await http.shutdown().catch(() => {});
    }
  },
});

/** The outages a forwarded transfer must survive (the "Survival"). */
const OUTAGES = [
  { what: "a 20 s black hole", ms: 20_000 },
  { what: "the client stopped for 30 s (SIGSTOP, then SIGCONT)", ms: 30_000 },
] as const;

for (const outage of OUTAGES) {
  Deno.test({
    name:
      `${outage.what} in the middle of a forwarded transfer: it resumes and completes, same SHA-256`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const data = randomBytes(4 * 1024 * 1024);
      const http = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        () => new Response(data),
      );
      let server: Server | null = null;
      let relay: Relay | null = null;
      let tmux: Tmux | null = null;
      let stopped = -1;
      let resume: ReturnType<typeof setTimeout> | undefined;
      try {
        server = await startServer("ours");
        relay = Relay.start({
          target: { hostname: "127.0.0.1", port: server.port },
          toServer: { delayMs: 5 },
          toClient: { delayMs: 5 },
        });
        const lport = freePort();
        tmux = await startClient(relay.port, server.key, {
          args: ["-L", `${lport}:127.0.0.1:${http.addr.port}`],
        });
        await tmux.waitFor(PROMPT_RE, 30000);
        const client = await clientPid(tmux);
        const t0 = performance.now();
        const r = await fetch(`http://127.0.0.1:${lport}/`);
        const reader = r.body!.getReader();
        const parts: Uint8Array[] = [];
        let received = 0;
        let outageAt = -1;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
          received += value.length;
          if (outageAt < 0 && received >= 1024 * 1024) {
            outageAt = received;
            if (outage.ms === 20_000) relay.blackhole("both", outage.ms);
            else {
              Deno.kill(client, "SIGSTOP");
              stopped = client;
              resume = setTimeout(() => {
                Deno.kill(client, "SIGCONT");
                stopped = -1;
              }, outage.ms);
            }
          }
        }
        const got = concatBytes(parts);
        assert.ok(outageAt > 0 && outageAt < data.length, "the outage started mid-transfer");
        assert.equal(await sha256Hex(got), await sha256Hex(data));
        if (outage.ms === 20_000) {
          assert.ok(relay.stats.toClient.blackholed > 0, "datagrams fell into the hole");
        }
        assert.ok(performance.now() - t0 >= outage.ms, "the transfer waited out the outage");
      } finally {
        clearTimeout(resume);
        if (stopped > 0) Deno.kill(stopped, "SIGCONT");
        await tmux?.kill();
        await relay?.close();
        await stopServer(server);
        await http.shutdown();
      }
    },
  });
}

Deno.test({
  name:
    "a server with MOSH_SERVER_FORWARDING=0 offers no forwarding: the client warns, the session works",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    let server: Server | null = null;
    let tmux: Tmux | null = null;
    try {
      server = await startServer("ours", { env: { MOSH_SERVER_FORWARDING: "0" } });
      const lport = freePort();
      tmux = await startClient(server.port, server.key, { args: ["-L", `${lport}:127.0.0.1:9`] });
      await tmux.waitFor(/does not support forwarding/, 20000);
      await tmux.sendText("echo r-$((6*7))\r");
      await tmux.waitFor(/^r-42$/m, 15000);
      // The listener is closed again.
      await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: lport }));
    } finally {
      await tmux?.kill();
      await stopServer(server);
    }
  },
});

/** A SOCKS5 client (RFC 1928): CONNECT to `host`:`port` by name through the proxy at `proxy`. */
async function socksConnect(proxy: number, host: string, port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy });
  const read = async (n: number) => {
    const b = new Uint8Array(n);
    for (let at = 0; at < n;) {
      const k = await conn.read(b.subarray(at));
      if (k === null) throw new Error("SOCKS proxy closed the connection");
      at += k;
    }
    return b;
  };
  await conn.write(new Uint8Array([5, 1, 0]));
  assert.deepEqual([...await read(2)], [5, 0]);
  const name = new TextEncoder().encode(host);
  await conn.write(new Uint8Array([5, 1, 0, 3, name.length, ...name, port >> 8, port & 0xff]));
  const reply = await read(10);
  if (reply[1] !== 0) {
    conn.close();
    throw new Error(`SOCKS reply ${reply[1]}`);
  }
  return conn;
}

Deno.test({
  name: "-D: a SOCKS5 CONNECT by name (resolved on the server side) carries an HTTP exchange whole",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const data = new Uint8Array(1024 * 1024);
    crypto.getRandomValues(data.subarray(0, 65536));
    data.set(data.subarray(0, 65536), 65536 * 8);
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(data, { headers: { connection: "close" } }),
    );
    let server: Server | null = null;
    let tmux: Tmux | null = null;
    try {
      server = await startServer("ours");
      const dport = freePort();
      tmux = await startClient(server.port, server.key, { args: ["-D", String(dport)] });
      await tmux.waitFor(PROMPT_RE, 30000);
      const body = await fetchSocks(dport, http.addr.port);
      assert.equal(await sha256Hex(body), await sha256Hex(data));
      // A target that refuses: the SOCKS client gets a failure reply (or the connection closes).
      const dead = freePort();
      await assert.rejects(socksConnect(dport, "127.0.0.1", dead));
    } finally {
      await tmux?.kill();
      await stopServer(server);
      await http.shutdown();
    }
  },
});

Deno.test({
  name:
    "-R: a port on the server side reaches a target the client names; a failed listen is one line",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const http = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(data),
    );
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busyPort = (busy.addr as Deno.NetAddr).port;
    let server: Server | null = null;
    let tmux: Tmux | null = null;
    try {
      server = await startServer("ours");
      const rport = freePort();
      tmux = await startClient(server.port, server.key, {
        args: ["-R", `${rport}:127.0.0.1:${http.addr.port}`, "-R", `${busyPort}:127.0.0.1:9`],
      });
      await tmux.waitFor(PROMPT_RE, 30000);
      // The second rule's port is taken on the "server side": one line in the notification bar.
      await tmux.waitFor(
        new RegExp(`-R: cannot listen on 127\\.0\\.0\\.1:${busyPort} on the server`),
        15000,
      );
      // The server (this machine too) listens on rport; this test plays the remote program.
      const got = await fetchThrough(rport, 60_000);
      assert.equal(await sha256Hex(got), await sha256Hex(data));
      await tmux.sendText("echo rr-$((6*7))\r");
      await tmux.waitFor(/^rr-42$/m, 15000);
    } finally {
      await tmux?.kill();
      await stopServer(server);
      await http.shutdown();
      busy.close();
    }
  },
});

Deno.test({
  name:
    "-A: inside the session ssh-add -l lists the client's agent key, through a socket in a 0700 directory",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mosh-agent-test-" });
    const sock = `${dir}/client-agent.sock`;
    const agent = new Deno.Command("ssh-agent", {
      args: ["-D", "-a", sock],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let server: Server | null = null;
    let tmux: Tmux | null = null;
    try {
      const keygen = await new Deno.Command("ssh-keygen", {
        args: ["-q", "-t", "ed25519", "-N", "", "-C", "mosh-fwd-test-key", "-f", `${dir}/id`],
      }).output();
      assert.equal(keygen.code, 0);
      for (let i = 0; i < 50; i++) {
        try {
          await Deno.stat(sock);
          break;
        } catch {
          await delay(100);
        }
      }
      const add = await new Deno.Command("ssh-add", {
        args: [`${dir}/id`],
        env: { SSH_AUTH_SOCK: sock },
        stderr: "null",
      })
        .output();
      assert.equal(add.code, 0);
      server = await startServer("ours");
      // Through the launcher: it grants write access to SSH_AUTH_SOCK only (a unix connect needs it).
      tmux = await startClient(server.port, server.key, {
        client: "launcher",
        args: ["-A"],
        env: { SSH_AUTH_SOCK: sock },
      });
      await tmux.waitFor(PROMPT_RE, 30000);
      await tmux.sendText('clear; ssh-add -l; stat -c "mode=%a" "$(dirname "$SSH_AUTH_SOCK")"\r');
      const screen = await tmux.waitFor(/mode=\d+/, 15000);
      assert.match(screen, /^256 SHA256:\S+ mosh-fwd-test-key /m);
      assert.match(screen, /mode=700/);
      assert.ok(!screen.includes(sock), "the shell's SSH_AUTH_SOCK is the server's socket");
    } finally {
      await tmux?.kill();
      await stopServer(server);
      try {
        agent.kill();
      } catch {
        // gone
      }
      await agent.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

// Forwarding belongs to a connection (docs/EXTENSIONS.md "Forwarding", "Per connection"): two of
// our clients on one session in the session host, so on one UDP port (lib/udp_port.ts), each with
// its own -L to its own HTTP server. Both transfers run at once and arrive whole (segments are
// routed by the key that opened them). A client that dies silently keeps its channel until the
// server closes its connection (`attach --detach-others`), which then closes the channel; the
// attaching client's forwarding works.

import assert from "node:assert/strict";
import { clientPid, delay, freePort, startClient } from "./harness.ts";
import { randomBytes, sha256Hex } from "./workload.ts";
import { connectOf, controlDir, server, stopHostIn } from "./host_harness.ts";
import type { Tmux } from "./tmux.ts";

const PROMPT_RE = /^prompt\$/m;

async function fetchBytes(port: number): Promise<Uint8Array> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(60000) });
  return new Uint8Array(await r.arrayBuffer());
}

Deno.test({
  name:
    "host: two clients on one port each forward their own -L; a closed connection closes its channels",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await controlDir();
    const dataA = randomBytes(1 << 20), dataB = randomBytes(1 << 20);
    let endlessCancelled = false;
    const httpA = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(dataA),
    );
    // B's server: its data once, then (second request) an endless stream whose end is observed.
    let requestsB = 0;
    const httpB = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
      if (requestsB++ === 0) return new Response(dataB);
      const chunk = new Uint8Array(65536);
      return new Response(
        new ReadableStream({
          pull: (c) => c.enqueue(chunk),
          cancel: () => void (endlessCancelled = true),
        }),
      );
    });
    let a: Tmux | null = null, b: Tmux | null = null, c: Tmux | null = null;
    try {
      const first = connectOf(
        await server(dir, [
          "new",
          "--name",
          "fw",
          "-i",
          "127.0.0.1",
          "--",
          "bash",
          "--norc",
          "--noprofile",
        ]),
      );
      const la = freePort(), lb = freePort();
      a = await startClient(first.port, first.key, {
        args: ["-L", `${la}:127.0.0.1:${httpA.addr.port}`],
      });
      await a.waitFor(PROMPT_RE, 30000);
      const second = connectOf(await server(dir, ["attach", "fw"]));
      assert.equal(second.port, first.port, "both connections share the session's UDP port");
      b = await startClient(second.port, second.key, {
        args: ["-L", `${lb}:127.0.0.1:${httpB.addr.port}`],
      });
      await b.waitFor(PROMPT_RE, 30000);

      // Both at once, through the one port: each arrives whole.
      const [gotA, gotB] = await Promise.all([fetchBytes(la), fetchBytes(lb)]);
      assert.equal(await sha256Hex(gotA), await sha256Hex(dataA));
      assert.equal(await sha256Hex(gotB), await sha256Hex(dataB));

      // B's endless download runs and B dies without a word (SIGKILL); A quits cleanly. The
      // session goes on with B's silent connection, whose channel stays open until the server
      // closes that connection: here when C attaches with --detach-others.
      const r = await fetch(`http://127.0.0.1:${lb}/`);
      const reader = r.body!.getReader();
      let received = 0;
      while (received < 256 * 1024) received += (await reader.read()).value?.length ?? 0;
      Deno.kill(await clientPid(b), "SIGKILL");
      await reader.cancel().catch(() => {});
      await a.kill();
      a = null;
      await delay(2000);
      assert.ok(!endlessCancelled, "B's forwarded connection lives while its connection does");
      const third = connectOf(await server(dir, ["attach", "fw", "--detach-others"]));
      const lc = freePort();
      c = await startClient(third.port, third.key, {
        args: ["-L", `${lc}:127.0.0.1:${httpA.addr.port}`],
      });
      await c.waitFor(PROMPT_RE, 30000);
      for (let i = 0; i < 300 && !endlessCancelled; i++) await delay(100);
      assert.ok(endlessCancelled, "closing B's connection closed its forwarded connection");
      // C's own forwarding works.
      assert.equal(await sha256Hex(await fetchBytes(lc)), await sha256Hex(dataA));
      await c.sendText("echo still-$((6*7))\r");
      await c.waitFor(/^still-42$/m, 15000);
    } finally {
      await a?.kill();
      await b?.kill();
      await c?.kill();
      await stopHostIn(dir);
      await httpA.shutdown();
      await httpB.shutdown();
    }
  },
});

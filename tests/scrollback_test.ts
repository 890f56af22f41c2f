// Scrollback between our client and our server (issue 14, docs/EXTENSIONS.md), end to end: our
// client in a tmux pane with a large history-limit, our server behind tests/relay.ts, and the
// pane's own scrollback checked with `tmux capture-pane`.
import assert from "node:assert/strict";
import { delay, PROMPT, type Server, startClient, startServer, stopServer } from "./harness.ts";
import { Relay } from "./relay.ts";
import type { Tmux } from "./tmux.ts";

const PROMPT_RE = /^prompt\$/m;
/** The pane keeps more than any test writes. */
const HISTORY_LIMIT = 50000;

interface Session {
  server: Server;
  relay: Relay;
  tmux: Tmux;
}

async function open(opts: {
  loss?: number;
  env?: Record<string, string>;
  seed?: number;
  args?: string[];
}): Promise<Session> {
  const server = await startServer("ours", { env: opts.env });
  const bad = { loss: opts.loss ?? 0, reorder: opts.loss ? 0.1 : 0, delayMs: 2, jitterMs: 2 };
  const relay = Relay.start({
    target: { hostname: "127.0.0.1", port: server.port },
    toServer: bad,
    toClient: bad,
    seed: opts.seed ?? 14,
  });
  const tmux = await startClient(relay.port, server.key, {
    historyLimit: HISTORY_LIMIT,
    args: opts.args,
  });
  await tmux.waitFor(PROMPT_RE, 30000);
  return { server, relay, tmux };
}

async function close(s: Session): Promise<void> {
  await s.tmux.kill();
  await s.relay.close();
  await stopServer(s.server);
}

/** The pane's whole history and screen, wrapped lines joined. */
async function everything(t: Tmux, escapes = false): Promise<string[]> {
  return (await t.capture({ history: HISTORY_LIMIT, joinWrapped: true, escapes })).split("\n");
}

/** Waits until `done(lines)` holds for the pane's history and screen. */
async function waitHistory(
  t: Tmux,
  done: (lines: string[]) => boolean,
  ms: number,
): Promise<string[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const lines = await everything(t);
    if (done(lines)) return lines;
    if (performance.now() > deadline) {
      throw new Error(`history incomplete after ${ms} ms; tail:\n${lines.slice(-30).join("\n")}`);
    }
    await delay(250);
  }
}

/** The numeric lines of `lines`, and what else lies between the first and last of them. */
function numbers(lines: string[]): { nums: number[]; between: string[] } {
  const nums: number[] = [];
  const between: string[] = [];
  let first = -1, last = -1;
  lines.forEach((l, i) => {
    if (/^\d+$/.test(l)) {
      if (first < 0) first = i;
      last = i;
    }
  });
  for (let i = first; i >= 0 && i <= last; i++) {
    if (/^\d+$/.test(lines[i])) nums.push(Number(lines[i]));
    else between.push(lines[i]);
  }
  return { nums, between };
}

Deno.test({
  name: "scrollback: seq 1 5000 through 20% loss and reordering lands in the pane, once, in order",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const s = await open({ loss: 0.2 });
    try {
      await s.tmux.sendText("seq 1 5000\r");
      const lines = await waitHistory(s.tmux, (l) => {
        const { nums } = numbers(l);
        return nums.length > 0 && nums[nums.length - 1] === 5000 && nums[0] === 1 &&
          nums.length >= 5000;
      }, 120000);
      const { nums, between } = numbers(lines);
      assert.deepEqual(between, []);
      assert.equal(nums.length, 5000);
      for (let i = 0; i < 5000; i++) assert.equal(nums[i], i + 1);
      // The command line is above the numbers, the prompt below them.
      const at1 = lines.indexOf("1");
      assert.ok(lines[at1 - 1].includes("seq 1 5000"), lines[at1 - 1]);
      assert.ok(lines[lines.indexOf("5000") + 1].startsWith(PROMPT.trim()));
    } finally {
      await close(s);
    }
  },
});

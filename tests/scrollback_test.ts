// Scrollback between our client and our server (issue 14, docs/EXTENSIONS.md), end to end: our
// client in a tmux pane with a large history-limit, our server behind tests/relay.ts, and the
// pane's own scrollback checked with `tmux capture-pane`.
import assert from "node:assert/strict";
import { delay, PROMPT, type Server, startClient, startServer, stopServer } from "./harness.ts";
import { type CapturedDatagram, Relay } from "./relay.ts";
import type { Tmux } from "./tmux.ts";
import { requireDebianPackages } from "./deps.ts";
import { DatagramCodec, TO_CLIENT, TO_SERVER } from "../lib/datagram.ts";
import { FragmentAssembly } from "../lib/fragment.ts";
import { parseKey } from "../lib/key.ts";
import { EXT_CAPABILITIES } from "../lib/extensions.ts";

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
  server?: "ours" | "debian";
  client?: "ours" | "debian";
  capture?: boolean;
  /** Connect straight to the server (the relay is started but unused). */
  direct?: boolean;
}): Promise<Session> {
  if (opts.server === "debian" || opts.client === "debian") await requireDebianPackages(["mosh"]);
  const server = await startServer(opts.server ?? "ours", { env: opts.env });
  const bad = { loss: opts.loss ?? 0, reorder: opts.loss ? 0.1 : 0, delayMs: 2, jitterMs: 2 };
  const relay = Relay.start({
    target: { hostname: "127.0.0.1", port: server.port },
    toServer: bad,
    toClient: bad,
    seed: opts.seed ?? 14,
    capture: opts.capture ?? false,
  });
  const tmux = await startClient(opts.direct ? server.port : relay.port, server.key, {
    historyLimit: HISTORY_LIMIT,
    args: opts.args,
    client: opts.client ?? "ours",
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

/** The pane's scrollback length (tmux `history_size`). */
async function historySize(t: Tmux): Promise<number> {
  return Number(await t.display("#{history_size}"));
}

Deno.test({
  name: "scrollback: 30,000 lines through a ring of 10,000 and 20% loss: gaps are one marker each",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const s = await open({ loss: 0.2, seed: 30 });
    try {
      await s.tmux.sendText("seq 1 30000\r");
      const lines = await waitHistory(s.tmux, (l) => {
        const { nums } = numbers(l);
        return nums[nums.length - 1] === 30000 && l.includes("30000") &&
          PROMPT_RE.test(l.slice(l.indexOf("30000")).join("\n"));
      }, 120000);
      // Let the history finish arriving (the screen is current long before).
      const settled = await waitHistory(s.tmux, (l) => {
        const { nums } = numbers(l.filter((x) => !x.startsWith("[mosh:")));
        return nums.filter((n) => n > 20000).length === 10000;
      }, 120000);
      assert.ok(lines.length > 0);
      const gaps: [number, number, string][] = [];
      let prev = -1;
      let pending: string | null = null;
      let markers = 0;
      for (const l of settled) {
        if (/^\d+$/.test(l)) {
          const n = Number(l);
          if (prev >= 0) {
            assert.ok(n > prev, `${n} after ${prev}`);
            if (n !== prev + 1) gaps.push([prev, n, pending ?? "(none)"]);
            else assert.equal(pending, null, `marker between ${prev} and ${n}`);
          }
          prev = n;
          pending = null;
        } else if (l.startsWith("[mosh:")) {
          assert.equal(pending, null, "two markers in a row");
          pending = l;
          markers++;
        } else if (prev >= 1 && prev < 30000) {
          assert.fail(`unexpected line ${JSON.stringify(l)} after ${prev}`);
        }
      }
      assert.equal(prev, 30000);
      for (const [a, b, marker] of gaps) {
        assert.equal(marker, `[mosh: ${b - a - 1} lines not kept]`, `gap ${a}..${b}`);
      }
      const last = settled.filter((l) => /^\d+$/.test(l)).map(Number);
      for (let n = 20001; n <= 30000; n++) assert.ok(last.includes(n) || false, `${n} missing`);
      console.log(`${gaps.length} gaps, ${markers} markers, ${last.length} numbers kept`);
    } finally {
      await close(s);
    }
  },
});

Deno.test({
  name: "scrollback: colours of scrolled lines are in the pane's history (capture-pane -e)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mosh-scrollback-ls-" });
    await Deno.mkdir(`${dir}/subdir`);
    await Deno.writeTextFile(`${dir}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
    const s = await open({});
    try {
      await s.tmux.sendText(
        "printf '\\033[31mRED\\033[0m \\033[38;5;208mC256\\033[0m " +
          "\\033[38;2;10;20;30;48;2;200;100;50mTRUE\\033[0m \\033[1;4mBOLDU\\033[0m\\n'; " +
          `ls --color=always ${dir}; seq 1 40\r`,
      );
      await waitHistory(s.tmux, (l) =>
        l.some((x) => x === "C256" || x.includes("C256")) &&
        l.includes("40"), 30000);
      await delay(500);
      const history = (await s.tmux.capture({ history: HISTORY_LIMIT, escapes: true }))
        .split("\n");
      const size = await historySize(s.tmux);
      const scrolled = history.slice(0, size);
      // Escapes made visible: "ESC[31m".
      const colour = scrolled.find((l) => l.includes("RED") && !l.includes("printf"))
        ?.replaceAll("\x1b", "ESC");
      assert.ok(colour, `no RED line in the history:\n${scrolled.join("\n")}`);
      assert.match(colour, /ESC\[31mRED/);
      assert.match(colour, /ESC\[38;5;208mC256/);
      assert.match(colour, /38;2;10;20;30/);
      assert.match(colour, /48;2;200;100;50/);
      assert.match(colour, /ESC\[1mESC\[4mBOLDU|ESC\[[0-9;]*1[;m][^ ]*BOLDU/);
      const ls = scrolled.find((l) => l.includes("subdir") && !l.includes("ls --color"))
        ?.replaceAll("\x1b", "ESC");
      assert.ok(ls, "no ls line in the history");
      assert.match(ls, /ESC\[[0-9;]*34m[^ ]*subdir/); // directories are blue
      assert.match(ls, /ESC\[[0-9;]*32m[^ ]*run\.sh/); // executables green
    } finally {
      await close(s);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "scrollback: vim, less (alternate screen) and a scroll inside a region add nothing",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const file = await Deno.makeTempFile({ prefix: "mosh-scrollback-" });
    await Deno.writeTextFile(file, Array.from({ length: 300 }, (_, i) => `L${i}`).join("\n"));
    const s = await open({});
    try {
      const t = s.tmux;
      await t.sendText("clear\r");
      await t.waitFor((screen) => screen.split("\n")[0].startsWith("prompt$"), 10000);
      await delay(1000);
      const before = await historySize(t);
      await t.sendText(`less ${file}\r`);
      await t.waitFor(/^L0$/m, 10000);
      for (let i = 0; i < 5; i++) await t.sendKeys("Space");
      await t.waitFor(/^L1[0-9][0-9]$/m, 10000);
      await t.sendText("q");
      await t.waitFor(/^prompt\$\s*$/m, 10000);
      await t.sendText(`vim -u NONE -N ${file}\r`);
      await t.waitFor(/^L0$/m, 10000);
      await t.sendKeys("C-f", "C-f", "C-f", "G");
      await t.waitFor(/^L299/m, 10000);
      await t.sendText(":q!\r");
      await t.waitFor(
        (screen) => screen.split("\n").filter((l) => l.trim() === "prompt$").length >= 1,
        10000,
      );
      // A scroll inside rows 2-8, then the region reset.
      await t.sendText("printf '\\033[2;8r\\033[8;1H'; seq 1 30; printf '\\033[r\\033[12;1H'\r");
      await t.waitFor(/^30$/m, 10000);
      await delay(1500);
      assert.equal(await historySize(t), before, await t.capture({ history: 100 }));
    } finally {
      await close(s);
      await Deno.remove(file);
    }
  },
});

/** The field numbers of every Instruction in every decrypted instruction of one direction. */
function fieldNumbers(captured: CapturedDatagram[], key: string, dir: "toServer" | "toClient") {
  const codec = new DatagramCodec(parseKey(key), dir === "toServer" ? TO_CLIENT : TO_SERVER);
  const assembly = new FragmentAssembly();
  const fields = new Map<number, number>();
  let instructions = 0;
  for (const d of captured) {
    if (d.dir !== dir) continue;
    const opened = codec.open(d.data);
    assert.ok(opened, "a captured datagram did not open");
    const inst = assembly.add(opened.payload);
    if (inst === null) continue;
    instructions++;
    for (const f of instructionFields(inst.diff)) fields.set(f, (fields.get(f) ?? 0) + 1);
  }
  return { fields, instructions };
}

/** Reads a varint at `at`; returns [value, next offset]. */
function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0, mul = 1;
  for (;;) {
    const x = b[at++];
    v += (x & 0x7f) * mul;
    mul *= 128;
    if (x < 0x80) return [v, at];
  }
}

/** The field numbers inside each field-1 Instruction of a User/HostMessage. */
function instructionFields(msg: Uint8Array): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < msg.length) {
    const [key, a1] = varint(msg, at);
    const [len, a2] = varint(msg, a1);
    assert.equal(key, (1 << 3) | 2);
    const end = a2 + len;
    let p = a2;
    while (p < end) {
      const [k, q] = varint(msg, p);
      out.push(Math.floor(k / 8));
      assert.equal(k & 7, 2, "every extension is a sub-message");
      const [l, r] = varint(msg, q);
      p = r + l;
    }
    at = end;
  }
  return out;
}

for (const [client, server] of [["ours", "debian"], ["debian", "ours"]] as const) {
  Deno.test({
    name: `scrollback: ${client} client with ${server} server works as before, nothing new on ` +
      "the wire but our client's capabilities",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const s = await open({ client, server, capture: true });
      try {
        const t = s.tmux;
        await t.sendText("seq 1 60\r");
        await t.waitFor(/^60\nprompt\$/m, 15000);
        const screen = await t.capture();
        assert.match(screen, /^38$/m);
        const toClient = fieldNumbers(s.relay.captured, s.server.key, "toClient");
        const toServer = fieldNumbers(s.relay.captured, s.server.key, "toServer");
        assert.ok(toClient.instructions > 0 && toServer.instructions > 0);
        for (const f of toClient.fields.keys()) assert.ok([2, 3, 7].includes(f), `server ${f}`);
        for (const f of toServer.fields.keys()) {
          assert.ok([2, 3, EXT_CAPABILITIES].includes(f), `client field ${f}`);
        }
        assert.equal(toServer.fields.has(EXT_CAPABILITIES), client === "ours");
        if (client === "ours") {
          // A C server gets the alternate screen as before: the pane's scrollback stays empty.
          assert.equal(await historySize(t), 0);
        }
      } finally {
        await close(s);
      }
    },
  });
}

/** Ctrl-C during `yes`: ms from the key to the prompt on the last line of the screen. */
async function interruptYes(t: Tmux): Promise<number> {
  await t.sendText("yes\r");
  await t.waitFor(/^y\ny\ny$/m, 10000);
  await delay(700);
  const t0 = performance.now();
  await t.sendKeys("C-c");
  await t.waitFor((screen) => {
    const rows = screen.trimEnd().split("\n");
    return rows[rows.length - 1].trim() === "prompt$";
  }, 15000);
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

Deno.test({
  name: "scrollback: Ctrl-C during yes brings the prompt back as soon with scrollback on as off",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // Straight to the server: the relay runs in this process, which also polls the panes, and
    // its forwarding of the history's datagrams would be measured too.
    const on = await open({ direct: true });
    const off = await open({
      direct: true,
      args: ["--no-scrollback"],
      env: { MOSH_SCROLLBACK: "0" },
    });
    try {
      const times = { on: [] as number[], off: [] as number[] };
      for (let i = 0; i < 10; i++) {
        times.on.push(await interruptYes(on.tmux));
        times.off.push(await interruptYes(off.tmux));
      }
      const mOn = median(times.on), mOff = median(times.off);
      console.log(
        `Ctrl-C to prompt, median of 10: on ${mOn.toFixed(0)} ms, off ${mOff.toFixed(0)} ms`,
      );
      assert.ok(mOn <= mOff + 50, `on ${mOn} ms vs off ${mOff} ms`);
      // The session with scrollback off kept none; the other did.
      assert.equal(await historySize(off.tmux), 0);
      assert.ok(await historySize(on.tmux) > 0);
    } finally {
      await close(on);
      await close(off);
    }
  },
});

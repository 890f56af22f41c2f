// Synchronized output (DEC mode 2026) end to end (lib/synchronized_output.ts, docs/PROTOCOL.md
// §7.3, §9.3): a program draws each frame of 8 rows in 4 chunks with pauses between them. Inside
// mode 2026 no screen that a client paints, ours or Debian's mosh-client, shows rows of two
// frames at once; without mode 2026 (the negative control) such half-drawn screens are seen, so
// the sampling can catch them. An update the program never ends shows after SYNC_HOLD_LIMIT.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { delay, type Kind, type Server, startClient, startServer, stopServer } from "./harness.ts";
import { SYNC_HOLD_LIMIT } from "../lib/synchronized_output.ts";
import { Tmux } from "./tmux.ts";

const FRAMES = 16;

/** The drawing program: frames 10..(10+FRAMES-1), each inside mode 2026 when `sync`. */
function drawScript(sync: boolean): string {
  const begin = sync ? "\\033[?2026h" : "", end = sync ? "\\033[?2026l" : "";
  return [
    "printf '\\033[2J'",
    `for n in $(seq 10 ${10 + FRAMES - 1}); do`,
    `  printf '${begin}\\033[H'`,
    "  for c in 0 1 2 3; do",
    "    printf 'F%s-r%s\\033[K\\r\\nF%s-r%s\\033[K\\r\\n' $n $((2*c)) $n $((2*c+1))",
    "    sleep 0.06",
    "  done",
    `  printf '${end}'`,
    "  sleep 0.08",
    "done",
    "echo SYNC-DONE",
    "sleep 60",
  ].join("\n");
}

interface Samples {
  /** Screens sampled that showed rows of frames. */
  total: number;
  /** Of those, screens with rows of two different frames (half-drawn). */
  mixed: number;
  /** Distinct frame numbers seen on complete screens. */
  frames: Set<number>;
  example: string;
}

/** Samples the pane's screen until the program is done. */
async function sample(t: Tmux): Promise<Samples> {
  const s: Samples = { total: 0, mixed: 0, frames: new Set(), example: "" };
  const deadline = performance.now() + 60000;
  for (;;) {
    const screen = await t.capture();
    const numbers = [...screen.matchAll(/^F(\d+)-r\d$/gm)].map((m) => Number(m[1]));
    if (numbers.length > 0) {
      s.total++;
      if (numbers.some((n) => n !== numbers[0])) {
        s.mixed++;
        s.example ||= screen;
      } else if (numbers.length === 8) s.frames.add(numbers[0]);
    }
    if (/^SYNC-DONE$/m.test(screen)) return s;
    if (performance.now() > deadline) throw new Error(`program not done; screen:\n${screen}`);
    await delay(10);
  }
}

async function run(client: Kind, sync: boolean): Promise<Samples> {
  const script = await Deno.makeTempFile({ prefix: "mosh-sync-", suffix: ".sh" });
  await Deno.writeTextFile(script, drawScript(sync));
  let s: Server | null = null;
  let t: Tmux | null = null;
  try {
    s = await startServer("ours", { command: ["bash", script] });
    t = await startClient(s.port, s.key, { client });
    await t.waitFor(/^F1\d-r\d$/m, 20000);
    return await sample(t);
  } finally {
    await t?.kill();
    await stopServer(s);
    await Deno.remove(script);
  }
}

for (const client of ["ours", "debian"] as const) {
  Deno.test(`mode 2026: ${client} client never paints a half-drawn frame`, async () => {
    await requireDebianPackages(["mosh", "tmux"]);
    const r = await run(client, true);
    console.log(`${r.total} screens sampled, ${r.mixed} half-drawn, ${r.frames.size} frames`);
    assert.equal(r.mixed, 0, `half-drawn screen seen:\n${r.example}`);
    assert.ok(r.total >= 20, `only ${r.total} samples`);
    assert.ok(r.frames.size >= FRAMES / 2, `only ${r.frames.size} frames seen`);
  });
}

Deno.test("mode 2026 negative control: without it, half-drawn frames are painted", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const r = await run("ours", false);
  console.log(`${r.total} screens sampled, ${r.mixed} half-drawn`);
  assert.ok(r.mixed >= 3, `only ${r.mixed} half-drawn screens of ${r.total}`);
});

Deno.test("mode 2026: an update never ended is shown after the hold limit", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const script = await Deno.makeTempFile({ prefix: "mosh-sync-", suffix: ".sh" });
  await Deno.writeTextFile(
    script,
    [
      "printf 'BEFORE\\r\\n'",
      "sleep 1",
      // The time is taken before the update begins: a loaded machine may take a while to start
      // `date`, and the hold must be measured from no later than its start.
      "t=$(date +%s%N); printf '\\033[?2026hHELD-%s\\r\\n' \"$t\"",
      "sleep 60",
    ].join("\n"),
  );
  let s: Server | null = null;
  let t: Tmux | null = null;
  try {
    s = await startServer("ours", { command: ["bash", script] });
    t = await startClient(s.port, s.key);
    await t.waitFor(/^BEFORE$/m, 20000);
    const screen = await t.waitFor(/^HELD-\d+$/m, 10000);
    const seen = Date.now();
    const printed = Number(/^HELD-(\d+)$/m.exec(screen)![1].slice(0, 13));
    console.log(`held update shown after ${seen - printed} ms`);
    // Held for about the limit, not forever (generous upper bound for a loaded machine).
    assert.ok(seen - printed >= SYNC_HOLD_LIMIT - 100, `shown after ${seen - printed} ms`);
    assert.ok(seen - printed < SYNC_HOLD_LIMIT + 3000, `shown after ${seen - printed} ms`);
  } finally {
    await t?.kill();
    await stopServer(s);
    await Deno.remove(script);
  }
});

// Terminal features between our client and our server, end to end (lib/terminal_features.ts,
// lib/terminal_events.ts, docs/EXTENSIONS.md "Terminal features"): the bytes our client writes to
// its terminal (tmux `pipe-pane -O`) hold each notification (OSC 9, OSC 777) exactly once, each
// OSC 52 copy with its own selection exactly once (a 100 KB one too, and twice when copied twice),
// `CSI 5 SP q` once the application sets that cursor, `CSI 0 SP q` when the client suspends (and
// `CSI 5 SP q` again when it resumes) and when it exits; the
// same through 20% loss both ways (tests/relay.ts); and in the session host, a client that attaches
// later gets no old event while the first client's notification bar says that it attached.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import {
  clientPid,
  delay,
  procFile,
  type Server,
  startClient,
  startServer,
  stopServer,
} from "./harness.ts";
import { connectOf, controlDir, server, stopHost } from "./host_harness.ts";
import { Relay } from "./relay.ts";
import type { Tmux } from "./tmux.ts";

const SELECTIONS = ["c", "p", "q", "s", "0", "7", ""];
const NOTE_9 = "\x1b]9;note-1\x07";
const NOTE_777 = "\x1b]777;notify;Title;Body\x07";
/** Notifications sent one by one after the others. */
const SPREAD = 20;

/** Occurrences of `needle` in `haystack`. */
function count(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/** The bytes of the OSC 52 copy with selection `sel` of the script's small copies. */
function smallCopy(sel: string): string {
  return `\x1b]52;${sel};${btoa(`copy-${sel}`)}\x07`;
}

/** Polls `file` until `done` holds for its text (or `ms` passed); returns the text. */
async function waitBytes(file: string, done: (b: string) => boolean, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const bytes = await Deno.readTextFile(file).catch(() => "");
    if (done(bytes) || Date.now() > deadline) return bytes;
    await delay(100);
  }
}

/**
 * The program: waits for `go`, sets the bar cursor, notifies twice, copies once per selection form,
 * notifies SPREAD times more, copies `copies` times the 100 KB text of `bigFile`, then prints
 * FEATURES-DONE.
 */
function script(go: string, bigFile: string, copies: number): string {
  return [
    `while [ ! -e ${go} ]; do sleep 0.05; done`,
    "printf '\\033[5 q'",
    "printf '\\033]9;note-1\\007'",
    "printf '\\033]777;notify;Title;Body\\007'",
    `for sel in ${SELECTIONS.map((s) => `'${s}'`).join(" ")}; do`,
    `  printf '\\033]52;%s;%s\\007' "$sel" "$(printf 'copy-%s' "$sel" | base64)"`,
    "done",
    // Twenty more notifications, apart: enough datagrams that loss certainly hits some.
    `for i in $(seq 1 ${SPREAD}); do printf '\\033]9;spread-%s\\007' "$i"; sleep 0.03; done`,
    `for i in $(seq 1 ${copies}); do`,
    `  printf '\\033]52;c;%s\\007' "$(cat ${bigFile})"; sleep 0.2`,
    "done",
    "echo FEATURES-DONE",
    "sleep 120",
  ].join("\n");
}

/** With `loss`, both ways; `copies` times the 100 KB copy. */
async function scenario(loss: number, copies: number): Promise<void> {
  await requireDebianPackages(["mosh", "tmux"]);
  const dir = await Deno.makeTempDir({ prefix: "mosh-features-" });
  const go = `${dir}/go`, out = `${dir}/out`, bigFile = `${dir}/big`;
  const big = btoa("z".repeat(75000)); // 100,000 base64 characters
  await Deno.writeTextFile(bigFile, big);
  await Deno.writeTextFile(`${dir}/run.sh`, script(go, bigFile, copies));
  let s: Server | null = null;
  let relay: Relay | null = null;
  let t: Tmux | null = null;
  try {
    s = await startServer("ours", { command: ["bash", `${dir}/run.sh`] });
    relay = Relay.start({
      target: { hostname: "127.0.0.1", port: s.port },
      toServer: { loss },
      toClient: { loss },
      seed: 1504,
      maxLifetimeMs: 180000,
    });
    t = await startClient(relay.port, s.key);
    await t.pipeOutput(out);
    const started = Date.now();
    await Deno.writeTextFile(go, "");
    await t.waitFor(/^FEATURES-DONE$/m, 60000);
    const copy = `\x1b]52;c;${big}\x07`;
    const arrived = (b: string) =>
      count(b, copy) >= copies && b.includes(`\x1b]9;spread-${SPREAD}\x07`) &&
      b.includes("\x1b[5 q");
    await waitBytes(out, arrived, 90000);
    const took = Date.now() - started;
    if (loss === 0) {
      // Ctrl-^ Ctrl-Z: the client resets the cursor shape and stops, with the pane's process
      // group; tmux itself continues a stopped pane at once, and SIGCONT (a shell's `fg`) makes
      // sure. After it, the client applies the shape again.
      await t.sendKeys("C-^", "C-z");
      const stopped = "[mosh is suspended.]";
      await waitBytes(out, (b) => b.includes(stopped), 10000);
      const pgid = Number(procFile(await clientPid(t), "stat").split(") ")[1].split(" ")[2]);
      Deno.kill(-pgid, "SIGCONT");
      await waitBytes(out, (b) => b.lastIndexOf("\x1b[5 q") > b.indexOf(stopped), 10000);
    }
    // The session ends (SIGTERM to the server): the client resets the cursor shape at exit.
    Deno.kill(s.pid, "SIGTERM");
    await t.waitFor(/^CLIENT-EXIT=\d+$/m, 30000);
    const bytes = await waitBytes(
      out,
      (b) => b.lastIndexOf("\x1b[0 q") > b.indexOf("\x1b[5 q"),
      5000,
    );
    assert.equal(count(bytes, NOTE_9), 1, "the OSC 9 notification, once");
    assert.equal(count(bytes, NOTE_777), 1, "the OSC 777 one, once");
    for (let i = 1; i <= SPREAD; i++) {
      assert.equal(count(bytes, `\x1b]9;spread-${i}\x07`), 1, `notification spread-${i}, once`);
    }
    for (const sel of SELECTIONS) {
      assert.equal(count(bytes, smallCopy(sel)), 1, `the copy with selection "${sel}", once`);
    }
    assert.equal(count(bytes, copy), copies, "the 100 KB copy, intact, as often as copied");
    assert.equal(count(bytes, "\x1b]52;c;"), copies + 1, "no copy again as the framebuffer's");
    // The cursor shapes written, in order: set, (suspend: reset, resume: set again), exit: reset.
    // deno-lint-ignore no-control-regex
    const shapes = [...bytes.matchAll(/\x1b\[(\d) q/g)].map((m) => m[1]).join(",");
    assert.equal(shapes, loss === 0 ? "5,0,5,0" : "5,0", "CSI 5 SP q, and CSI 0 SP q at exit");
    const lost = relay.stats.toServer.lost + relay.stats.toClient.lost;
    if (loss > 0) assert.ok(lost > 0, "the relay dropped datagrams");
    console.log(
      `loss ${loss}: every event in ${took} ms (${copies} x 100 KB), ${lost} datagrams lost`,
    );
  } finally {
    await t?.kill();
    await relay?.close();
    await stopServer(s);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("terminal features: notifications, copies and cursor shape reach our client", async () => {
  await scenario(0, 2);
});

Deno.test("terminal features: the same exactly once through 20% loss both ways", async () => {
  await scenario(0.2, Number(Deno.env.get("FEATURES_LOSS_COPIES") ?? 0));
});

Deno.test("terminal features: a client attaching later gets no old event; the first is told", async () => {
  await requireDebianPackages(["tmux"]);
  const dir = await controlDir();
  const work = await Deno.makeTempDir({ prefix: "mosh-features-host-" });
  const outA = `${work}/a`, outB = `${work}/b`;
  // Each file `goN` makes the program print event N and then `EVENT-N`.
  await Deno.writeTextFile(
    `${work}/run.sh`,
    [
      "echo READY",
      `while [ ! -e ${work}/go1 ]; do sleep 0.05; done`,
      "printf '\\033[3 q\\033]9;old-note\\007\\033]52;c;b2xk\\007\\033]777;notify;old;x\\007'",
      "echo EVENT-1",
      `while [ ! -e ${work}/go2 ]; do sleep 0.05; done`,
      "printf '\\033]9;new-note\\007'",
      "echo EVENT-2",
      "sleep 120",
    ].join("\n"),
  );
  let pid: number | null = null;
  let a: Tmux | null = null, b: Tmux | null = null;
  try {
    const made = connectOf(
      await server(dir, [
        "new",
        "--name",
        "feat",
        "-i",
        "127.0.0.1",
        "--",
        "bash",
        `${work}/run.sh`,
      ]),
    );
    pid = made.pid;
    a = await startClient(made.port, made.key);
    await a.pipeOutput(outA);
    await a.waitFor(/^READY$/m, 15000);
    await Deno.writeTextFile(`${work}/go1`, "");
    await a.waitFor(/^EVENT-1$/m, 10000);
    await waitBytes(outA, (x) => x.includes("\x1b]777;notify;old;x\x07"), 10000);

    // A second client attaches: the first one's notification bar says so.
    const attached = connectOf(await server(dir, ["attach", "feat"]));
    b = await startClient(attached.port, attached.key);
    await b.pipeOutput(outB);
    await b.waitFor(/^EVENT-1$/m, 15000);
    const barA = await a.waitFor(/Another client attached from 127\.0\.0\.1 \(2 clients\)/, 10000);
    assert.match(barA.split("\n")[0], /^mosh: Another client attached/, "in the bar (row 0)");
    // The newcomer is not told about itself.
    await delay(500);
    assert.doesNotMatch(await b.capture(), /Another client attached/);

    await Deno.writeTextFile(`${work}/go2`, "");
    const note = "\x1b]9;new-note\x07";
    const bytesB = await waitBytes(outB, (x) => x.includes(note), 10000);
    const bytesA = await waitBytes(outA, (x) => x.includes(note), 10000);
    await delay(1000); // anything sent twice would arrive by now
    const finalA = await Deno.readTextFile(outA), finalB = await Deno.readTextFile(outB);
    assert.ok(bytesA.length > 0 && bytesB.length > 0);
    assert.equal(count(finalA, note), 1, "the first client gets the new event once");
    assert.equal(count(finalB, note), 1, "the attached client gets the new event once");
    for (const old of ["\x1b]9;old-note\x07", "\x1b]52;c;b2xk\x07", "\x1b]777;notify;old;x\x07"]) {
      assert.equal(count(finalA, old), 1, `the first client got ${JSON.stringify(old)} once`);
      assert.equal(count(finalB, old), 0, `the attached client never gets ${JSON.stringify(old)}`);
    }
    assert.ok(!finalA.includes("notice;"), "a notice never reaches the terminal as an OSC");
    // The cursor shape is state: the attached client gets the current one too.
    assert.ok(finalA.includes("\x1b[3 q") && finalB.includes("\x1b[3 q"), "CSI 3 SP q on both");
  } finally {
    await a?.kill();
    await b?.kill();
    await stopHost(pid);
    await Deno.remove(work, { recursive: true });
    await Deno.remove(dir.replace(/\/ctl$/, ""), { recursive: true }).catch(() => {});
  }
});

// Terminal features between our client and our server, end to end (lib/terminal_features.ts,
// docs/PROTOCOL.md §13): the bytes our client writes to its terminal (tmux `pipe-pane -O`) hold
// each notification exactly once, each OSC 52 copy with its own selection exactly once (a 100 KB
// one too, and twice when copied twice), `CSI 5 SP q` once the application sets that cursor, and
// `CSI 0 SP q` when the client exits; also through 20% loss both ways (tests/relay.ts), there
// without the 100 KB copies.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { clientPaneEnv, clientProgram, type Server, startServer, stopServer } from "./harness.ts";
import { Relay } from "./relay.ts";
import { Tmux } from "./tmux.ts";

const SELECTIONS = ["c", "p", "q", "s", "0", "7", ""];

/** Occurrences of `needle` in `haystack`. */
function count(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/** With `loss`, both ways; the 100 KB copies only without (at 20% loss they take minutes). */
async function scenario(loss: number): Promise<void> {
  const copies = loss === 0 ? 2 : 0;
  await requireDebianPackages(["mosh", "tmux"]);
  const dir = await Deno.makeTempDir({ prefix: "mosh-features-" });
  const go = `${dir}/go`, out = `${dir}/out`, bigFile = `${dir}/big`;
  const big = btoa("z".repeat(75000)); // 100,000 base64 characters
  await Deno.writeTextFile(bigFile, big);
  await Deno.writeTextFile(
    `${dir}/run.sh`,
    [
      `while [ ! -e ${go} ]; do sleep 0.05; done`,
      "printf '\\033[5 q'",
      "printf '\\033]9;note-1\\007'",
      "printf '\\033]777;notify;Title;Body\\007'",
      `for sel in ${SELECTIONS.map((s) => `'${s}'`).join(" ")}; do`,
      `  printf '\\033]52;%s;%s\\007' "$sel" "$(printf 'copy-%s' "$sel" | base64)"`,
      "done",
      `for i in $(seq 1 ${copies}); do`,
      `  printf '\\033]52;c;%s\\007' "$(cat ${bigFile})"; sleep 0.2`,
      "done",
      "echo FEATURES-DONE",
      "sleep 120",
    ].join("\n"),
  );
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
    t = await Tmux.start({
      command: `${clientProgram("ours")} 127.0.0.1 ${relay.port}; echo CLIENT-EXIT=$?; ` +
        "exec sleep 600",
      ...clientPaneEnv(s.key),
    });
    const pipe = await new Deno.Command("tmux", {
      args: ["-L", t.socket, "pipe-pane", "-O", "-t", "main", `cat > ${out}`],
    }).output();
    assert.equal(pipe.code, 0, new TextDecoder().decode(pipe.stderr));
    await Deno.writeTextFile(go, "");
    await t.waitFor(/^FEATURES-DONE$/m, 60000);
    const copy = `\x1b]52;c;${big}\x07`;
    const deadline = Date.now() + 90000;
    const last = `\x1b]52;;${btoa("copy-")}\x07`;
    const arrived = (b: string) => count(b, copy) >= copies && count(b, last) >= 1;
    while (!arrived(await Deno.readTextFile(out)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    // The session ends (SIGTERM to the server): the client resets the cursor shape at exit.
    Deno.kill(s.pid, "SIGTERM");
    await t.waitFor(/^CLIENT-EXIT=\d+$/m, 30000);
    const bytes = await Deno.readTextFile(out);
    assert.equal(count(bytes, "\x1b]9;note-1\x07"), 1, "the OSC 9 notification, once");
    assert.equal(count(bytes, "\x1b]777;notify;Title;Body\x07"), 1, "the OSC 777 one, once");
    for (const sel of SELECTIONS) {
      const osc = `\x1b]52;${sel};${btoa(`copy-${sel}`)}\x07`;
      assert.equal(count(bytes, osc), 1, `the copy with selection "${sel}", once`);
    }
    assert.equal(count(bytes, copy), copies, "the 100 KB copy, intact, twice");
    const set = bytes.lastIndexOf("\x1b[5 q"), reset = bytes.lastIndexOf("\x1b[0 q");
    assert.ok(set >= 0, "CSI 5 SP q reached the terminal");
    assert.ok(reset > set, "CSI 0 SP q written at exit");
  } finally {
    await t?.kill();
    await relay?.close();
    await stopServer(s);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("terminal features: notifications, copies and cursor shape reach our client", async () => {
  await scenario(0);
});

Deno.test("terminal features: the same exactly once through 20% loss both ways", async () => {
  await scenario(0.2);
});

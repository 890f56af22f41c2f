// OSC 52 through our server (lib/terminal.ts, docs/PROTOCOL.md §9.3, §10): every selection form
// the application uses reaches Debian's client's terminal as `52;c;`, cut to what C's client keeps
// (16379 characters of data, its 16 KiB OSC limit less `52;c;`), and our client's with its own
// selection and whole (terminal features, docs/EXTENSIONS.md); a clipboard query (`?`) is never
// forwarded. The bytes are those the client writes to its terminal (tmux
// `pipe-pane -O`).

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { type Kind, type Server, startClient, startServer, stopServer } from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { CLIPBOARD_MAX } from "../lib/osc.ts";

const SELECTIONS = ["c", "p", "q", "s", "0", "7", ""];
const BIG = "QUJD".repeat(5000); // 20,000 base64 characters

/** The program: waits for `go`, copies once per selection form, a big copy, a query, then done. */
function copyScript(go: string): string {
  return [
    `while [ ! -e ${go} ]; do sleep 0.05; done`,
    `for sel in ${SELECTIONS.map((s) => `'${s}'`).join(" ")}; do`,
    `  printf '\\033]52;%s;%s\\007' "$sel" "$(printf 'copy-%s' "$sel" | base64)"`,
    "  sleep 0.4",
    "done",
    `printf '\\033]52;p;${BIG}\\007'`,
    "sleep 0.4",
    "printf '\\033]52;c;?\\007\\033]52;;?\\007'",
    "sleep 0.4",
    "echo OSC-DONE",
    "sleep 60",
  ].join("\n");
}

async function run(client: Kind): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mosh-osc52-" });
  const script = `${dir}/copy.sh`, go = `${dir}/go`, out = `${dir}/out`;
  await Deno.writeTextFile(script, copyScript(go));
  let s: Server | null = null;
  let t: Tmux | null = null;
  try {
    s = await startServer("ours", { command: ["bash", script] });
    t = await startClient(s.port, s.key, { client });
    await t.pipeOutput(out);
    await Deno.writeTextFile(go, "");
    await t.waitFor(/^OSC-DONE$/m, 30000);
    return await Deno.readTextFile(out);
  } finally {
    await t?.kill();
    await stopServer(s);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("OSC 52: Debian's client receives every form as 52;c; within 16 KiB", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const bytes = await run("debian");
  // deno-lint-ignore no-control-regex
  const copies = [...bytes.matchAll(/\x1b\]52;([^;\x07]*);([^\x07]*)\x07/g)];
  assert.ok(copies.every((m) => m[1] === "c"), "every copy is sent as selection c");
  const texts = copies.map((m) => m[2]);
  for (const sel of SELECTIONS) {
    assert.ok(texts.includes(btoa(`copy-${sel}`)), `copy with selection "${sel}" arrived`);
  }
  assert.ok(texts.includes(BIG.slice(0, CLIPBOARD_MAX)), "the big copy, cut to 16379");
  assert.ok(texts.every((x) => x.length <= CLIPBOARD_MAX && x.length + 5 <= 16384));
  assert.ok(!texts.includes("?"), "a query is never forwarded");
});

Deno.test("OSC 52: our client receives every copy once, its selection kept, uncut", async () => {
  // Our client and server agree on terminal features: copies travel as events
  // (lib/terminal_events.ts), not as the framebuffer's `52;c;`.
  await requireDebianPackages(["mosh", "tmux"]);
  const bytes = await run("ours");
  // deno-lint-ignore no-control-regex
  const copies = [...bytes.matchAll(/\x1b\]52;([^;\x07]*);([^\x07]*)\x07/g)];
  for (const sel of SELECTIONS) {
    const hits = copies.filter((m) => m[1] === sel && m[2] === btoa(`copy-${sel}`));
    assert.equal(hits.length, 1, `copy with selection "${sel}", once`);
  }
  assert.equal(copies.filter((m) => m[1] === "p" && m[2] === BIG).length, 1, "the big copy, whole");
  assert.equal(copies.length, SELECTIONS.length + 1, "nothing else: no 52;c; and no query");
});

// OSC 52 through our server to any client (lib/terminal.ts, docs/PROTOCOL.md §9.3, §10): every
// selection form the application uses reaches the client's terminal as `52;c;`, cut to what C's
// client keeps (16379 characters of data, its 16 KiB OSC limit less `52;c;`), and a clipboard
// query (`?`) is never forwarded. The bytes are those the client writes to its terminal (tmux
// `pipe-pane -O`).

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { type Kind, type Server, startClient, startServer, stopServer } from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { CLIPBOARD_MAX } from "../lib/terminal.ts";

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
    const pipe = await new Deno.Command("tmux", {
      args: ["-L", t.socket, "pipe-pane", "-O", "-t", "main", `cat > ${out}`],
    }).output();
    assert.equal(pipe.code, 0, new TextDecoder().decode(pipe.stderr));
    await Deno.writeTextFile(go, "");
    await t.waitFor(/^OSC-DONE$/m, 30000);
    return await Deno.readTextFile(out);
  } finally {
    await t?.kill();
    await stopServer(s);
    await Deno.remove(dir, { recursive: true });
  }
}

for (const client of ["debian", "ours"] as const) {
  Deno.test(`OSC 52: ${client} client receives every form as 52;c; within 16 KiB`, async () => {
    await requireDebianPackages(["mosh", "tmux"]);
    const bytes = await run(client);
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
}

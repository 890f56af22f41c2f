// C fidelity of the renditions C mosh 1.4.0 does not have (docs/PROTOCOL.md §9.2, §9.3): C ignores
// any CSI containing `:` (so `CSI 1;4:3 m` sets no bold either) and has no faint, strikethrough,
// overline, underline colour (`58;5;n` reads as blink there) or OSC 8 hyperlinks. Debian's
// mosh-client must show exactly the same screen, renditions included (`capture-pane -e`), under
// our server (whose emulator keeps all of them in its extended layer, lib/sgr.ts) as under
// Debian's mosh-server.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { type Kind, type Server, startClient, startServer, stopServer } from "./harness.ts";
import { Tmux } from "./tmux.ts";

const SCRIPT = [
  "printf '\\033[2J\\033[H'",
  "printf '\\033[1;4:3mcurly\\033[0m plain\\r\\n'",
  "printf '\\033[58:2::255:0:0;4mcolour\\033[0m\\r\\n'",
  "printf '\\033[2mfaint\\033[0m \\033[9mstrike\\033[0m \\033[53mover\\033[0m\\r\\n'",
  "printf '\\033[1;2;31mbold-faint-red\\033[22mred\\033[0m\\r\\n'",
  "printf '\\033[4:0mnone\\033[4mul\\033[24m\\033[0m\\r\\n'",
  "printf 'a \\033]8;;http://example.com/\\033\\\\link\\033]8;;\\007 b\\r\\n'",
  "printf '\\033[58;5;196;4mulc\\033[59m\\033[21mdouble\\033[0m\\r\\n'",
  "echo SGR-DONE",
  "sleep 60",
].join("\n");

/** The screen with renditions that Debian's mosh-client paints under a `server` server. */
async function screenUnder(server: Kind): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mosh-sgr-" });
  await Deno.writeTextFile(`${dir}/sgr.sh`, SCRIPT);
  let s: Server | null = null;
  let t: Tmux | null = null;
  try {
    s = await startServer(server, { command: ["bash", `${dir}/sgr.sh`] });
    t = await startClient(s.port, s.key, { client: "debian" });
    await t.waitFor(/^SGR-DONE$/m, 20000);
    return await t.capture({ escapes: true });
  } finally {
    await t?.kill();
    await stopServer(s);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("CSI 1;4:3 m, SGR 2/9/53: Debian's client shows the same under both servers", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const [ours, debian] = await Promise.all([screenUnder("ours"), screenUnder("debian")]);
  assert.equal(ours, debian);
  // And what that is: no bold or underline from the colon forms, no faint/strike/overline.
  assert.ok(ours.split("\n")[0].startsWith("curly plain"), JSON.stringify(ours));
});

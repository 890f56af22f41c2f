// Our display diffs (lib/display.ts, docs/PROTOCOL.md §10) shown by C mosh 1.4.0: random frames
// are chained as diffs, fed to Debian's mosh-server as host output and shown by Debian's
// mosh-client in a tmux pane; the screen must be the one our own full repaint paints.
import assert from "node:assert/strict";
import { diffFrames } from "../lib/display.ts";
import { CELL_WORDS, FLAG_WIDE, type Framebuffer } from "../lib/framebuffer.ts";
import { Terminal } from "../lib/terminal.ts";
import { requireDebianPackages } from "./deps.ts";
import { clientPaneEnv, delay, type Server, startServer, stopServer } from "./harness.ts";
import { EDIT_NAMES, randomEdits, Rng } from "./screen_edits.ts";
import { Tmux } from "./tmux.ts";

/** Debian's mosh-server and, in a pane, Debian's mosh-client connected to it. */
interface CMosh {
  server: Server;
  pane: Tmux;
}

/** Host output in `file` shown by C mosh: mosh-server's emulator, then mosh-client in tmux. */
async function throughCMosh(file: string, cols: number, rows: number): Promise<CMosh> {
  const server = await startServer("debian", {
    command: ["sh", "-c", 'stty -opost -echo; cat "$0"; exec sleep 60', file],
  });
  try {
    const pane = await Tmux.start({
      command: `exec mosh-client 127.0.0.1 ${server.port}`,
      cols,
      rows,
      ...clientPaneEnv(server.key),
    });
    return { server, pane };
  } catch (e) {
    await stopServer(server);
    throw e;
  }
}

/**
 * The pane's screen as text where every character carries its SGR state, one line per row,
 * trailing spaces removed. (`capture-pane -e` only writes SGR changes, carried from line to
 * line, and captures a space but not an erased cell: both look the same on the screen.)
 */
async function screen(t: Tmux): Promise<string> {
  const capture = await t.capture({ escapes: true });
  let fg = "", bg = "", attrs = new Set<number>();
  const lines: string[] = [];
  for (const line of capture.split("\n")) {
    const cells: string[] = [];
    for (let i = 0; i < line.length;) {
      if (line.charCodeAt(i) === 0x1b) {
        const end = line.indexOf("m", i);
        const ps = line.slice(i + 2, end).split(";").map(Number);
        for (let k = 0; k < ps.length; k++) {
          const v = ps[k];
          if (v === 0) (fg = "", bg = "", attrs = new Set());
          else if (v === 38 || v === 48) {
            const n = ps[k + 1] === 5 ? 3 : 5;
            const c = ps.slice(k, k + n).join(";");
            if (v === 38) fg = c;
            else bg = c;
            k += n - 1;
          } else if ((v >= 30 && v <= 37) || (v >= 90 && v <= 97)) fg = String(v);
          else if ((v >= 40 && v <= 47) || (v >= 100 && v <= 107)) bg = String(v);
          else if (v === 39) fg = "";
          else if (v === 49) bg = "";
          else if (v >= 22 && v <= 29) attrs.delete(v === 22 ? 1 : v - 20);
          else attrs.add(v);
        }
        i = end + 1;
        continue;
      }
      const c = String.fromCodePoint(line.codePointAt(i)!);
      cells.push(`${c}<${fg}/${bg}/${[...attrs].sort().join(",")}>`);
      i += c.length;
    }
    while (cells.length && cells[cells.length - 1].startsWith(" <")) cells.pop();
    lines.push(cells.join(""));
  }
  return lines.join("\n");
}

Deno.test("diffFrames: C mosh 1.4.0 shows what our diffs describe", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const cols = 80, rows = 24;
  // Everything but the alternate screen (C mosh has none) and resizes (a fixed pane).
  const names = EDIT_NAMES.filter((n) => n !== "altScreen");
  const files: string[] = [];
  const runs = await Promise.all([11, 12, 13].map(async (seed) => {
    const r = new Rng(seed);
    const t = new Terminal(cols, rows);
    const parts: Uint8Array[] = [];
    let last: Framebuffer | null = null;
    for (let i = 0; i < 30; i++) {
      t.write(randomEdits(r, cols, rows, names));
      // Two things C mosh-client cannot paint on a real terminal are kept out of the final
      // screen: a wide character in the last column (it prints it as is, and the terminal
      // wraps it) and a wide character whose right half holds another one (it skips that cell).
      if (i === 29) {
        for (let y = 0; y < rows; y++) {
          const d = t.snapshot().rows[y].data;
          for (let x = 0; x < cols; x++) {
            if ((d[x * CELL_WORDS + 3] & FLAG_WIDE) === 0) continue;
            if (x === cols - 1) t.write(`\x1b[${y + 1};${cols}H\x1b[K`);
            else if (d[(x + 1) * CELL_WORDS] !== 0) t.write(`\x1b[${y + 1};${x + 2}H\x1b[X`);
          }
        }
        t.write("\x1b[H");
      }
      const f = t.snapshot();
      parts.push(diffFrames(last, f));
      last = f;
    }
    const chain = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (chain.set(p, at), at += p.length);
    const chainFile = await Deno.makeTempFile({ prefix: "display_test_" });
    const paintFile = await Deno.makeTempFile({ prefix: "display_test_" });
    files.push(chainFile, paintFile);
    await Deno.writeFile(chainFile, chain);
    await Deno.writeFile(paintFile, diffFrames(null, last!, { exact: false }));
    const viaC = await throughCMosh(chainFile, cols, rows);
    const direct = await Tmux.start({
      command: `stty -opost -echo; cat ${paintFile}; exec sleep 60`,
      cols,
      rows,
    });
    return { seed, viaC, direct };
  }));
  try {
    await delay(1500);
    // Ctrl-L: mosh-client repaints its whole screen, independent of what it drew before.
    for (const { viaC } of runs) await viaC.pane.sendKeys("C-l");
    for (const { seed, viaC, direct } of runs) {
      const want = await screen(direct);
      let got = "";
      for (let i = 0; i < 100 && got !== want; i++) {
        await delay(100);
        got = await screen(viaC.pane);
      }
      assert.equal(got, want, `seed ${seed}`);
      assert.deepEqual(await viaC.pane.cursor(), await direct.cursor(), `seed ${seed} cursor`);
    }
  } finally {
    for (const { viaC, direct } of runs) {
      await viaC.pane.kill();
      await direct.kill();
      await stopServer(viaC.server);
    }
    for (const f of files) await Deno.remove(f);
  }
});

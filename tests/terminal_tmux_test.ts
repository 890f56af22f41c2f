// Differential tests of the emulator (lib/terminal.ts, docs/PROTOCOL.md §9.3-9.4) against tmux
// as a second opinion: every script of tests/vt_corpus.ts is `cat`ed in a tmux pane (a real pty,
// so LF becomes CRLF) and fed to our Terminal after the same onlcr translation; the screen text
// (capture-pane -p), the cursor (display -p) and, where tmux and mosh agree on renditions, the
// colours and attributes of every printed cell (capture-pane -e) must match. Scripts where
// tmux differs from C mosh by design carry the reason in the corpus and skip that comparison.
import assert from "node:assert/strict";
import { Terminal } from "../lib/terminal.ts";
import { CELL_WORDS, type Framebuffer, TRUE_COLOR } from "../lib/framebuffer.ts";
import { wcwidth } from "../lib/wcwidth.ts";
import { requireDebianPackages } from "./deps.ts";
import { tmux } from "./tmux.ts";
import { onlcr, VT_CORPUS, type VtScript } from "./vt_corpus.ts";

const COLS = 80, ROWS = 24;

interface TmuxScreen {
  lines: string[];
  escaped: string[];
  cursorRow: number;
  cursorCol: number;
}

/** Renders every script in its own window of one private tmux server. */
async function renderWithTmux(scripts: readonly VtScript[]): Promise<Map<string, TmuxScreen>> {
  const dir = await Deno.makeTempDir({ prefix: "mosh-ts-vt-" });
  const socket = `mosh-ts-vt-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const cmd = (i: number) => `cat '${dir}/${i}'; exec sleep 600`;
    for (let i = 0; i < scripts.length; i++) {
      await Deno.writeFile(`${dir}/${i}`, scripts[i].bytes);
    }
    await tmux(socket, [
      "new-session",
      "-d",
      "-s",
      "vt",
      "-n",
      "w0",
      "-x",
      String(COLS),
      "-y",
      String(ROWS),
      cmd(0),
      ";",
      "set-option",
      "-g",
      "status",
      "off",
      ";",
      "set-option",
      "-g",
      "default-size",
      `${COLS}x${ROWS}`,
    ]);
    for (let i = 1; i < scripts.length; i++) {
      await tmux(socket, ["new-window", "-d", "-t", "vt", "-n", `w${i}`, cmd(i)]);
    }
    // (No window-size manual: with it tmux 3.3a segfaults on new-window -d. A server without
    // clients gives new windows default-size.)
    // Wait until every cat has finished (the pane runs sleep), then until captures are stable.
    for (let tries = 0;; tries++) {
      const cmds = await tmux(socket, [
        "list-windows",
        "-t",
        "vt",
        "-F",
        "#{pane_current_command}",
      ]);
      if (cmds.trim().split("\n").every((c) => c === "sleep")) break;
      if (tries > 200) throw new Error(`tmux panes did not finish: ${cmds}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const captureAll = async () => {
      const out = new Map<string, TmuxScreen>();
      for (let i = 0; i < scripts.length; i++) {
        const t = `vt:w${i}`;
        const text = await tmux(socket, ["capture-pane", "-p", "-t", t]);
        const esc = await tmux(socket, ["capture-pane", "-p", "-e", "-t", t]);
        const [x, y] = (await tmux(socket, ["display", "-p", "-t", t, "#{cursor_x} #{cursor_y}"]))
          .trim().split(" ").map(Number);
        out.set(scripts[i].name, {
          lines: text.split("\n").slice(0, ROWS),
          escaped: esc.split("\n").slice(0, ROWS),
          cursorRow: y,
          cursorCol: Math.min(x, COLS - 1),
        });
      }
      return out;
    };
    let prev = await captureAll();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const next = await captureAll();
      if (JSON.stringify([...next]) === JSON.stringify([...prev])) return next;
      prev = next;
    }
  } finally {
    await tmux(socket, ["kill-server"]).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** Our screen's rows as tmux prints them: trailing spaces removed. */
function ourLines(fb: Framebuffer): string[] {
  return fb.screenText().split("\n").slice(0, ROWS).map((l) => l.replace(/ +$/, ""));
}

/** One cell's renditions in mosh's storage (framebuffer.ts): fg, bg, attribute bits. */
type Rend = [number, number, number];

/**
 * Replays tmux's `capture-pane -e` output: the renditions of every printed cell, per row, by
 * column. tmux's SGR codes are mapped to mosh's storage; codes mosh does not support are dropped.
 */
function tmuxRenditions(escaped: string[]): Map<number, Rend>[] {
  let fg = 0, bg = 0, attrs = 0;
  const rows: Map<number, Rend>[] = [];
  // deno-lint-ignore no-control-regex
  const sgrRe = /\x1b\[([0-9;:]*)m/y;
  for (const line of escaped) {
    const cells = new Map<number, Rend>();
    let col = 0;
    for (let i = 0; i < line.length;) {
      sgrRe.lastIndex = i;
      const m = sgrRe.exec(line);
      if (m) {
        const ps = m[1] === "" ? [0] : m[1].split(";").map((p) => p.includes(":") ? -1 : +p);
        for (let j = 0; j < ps.length; j++) {
          const p = ps[j];
          if (p === 0) fg = bg = attrs = 0;
          else if (p === 1) attrs |= 0x01;
          else if (p === 3) attrs |= 0x02;
          else if (p === 4) attrs |= 0x04;
          else if (p === 5) attrs |= 0x08;
          else if (p === 7) attrs |= 0x10;
          else if (p === 8) attrs |= 0x20;
          else if (p === 22) attrs &= ~0x01;
          else if (p === 23) attrs &= ~0x02;
          else if (p === 24) attrs &= ~0x04;
          else if (p === 25) attrs &= ~0x08;
          else if (p === 27) attrs &= ~0x10;
          else if (p === 28) attrs &= ~0x20;
          else if (p >= 30 && p <= 37) fg = p;
          else if (p >= 40 && p <= 47) bg = p;
          else if (p >= 90 && p <= 97) fg = p - 90 + 38;
          else if (p >= 100 && p <= 107) bg = p - 100 + 48;
          else if (p === 39) fg = 0;
          else if (p === 49) bg = 0;
          else if ((p === 38 || p === 48) && ps[j + 1] === 5) {
            const v = (p === 38 ? 30 : 40) + ps[j + 2];
            if (p === 38) fg = v;
            else bg = v;
            j += 2;
          } else if ((p === 38 || p === 48) && ps[j + 1] === 2) {
            const v = TRUE_COLOR | ps[j + 2] << 16 | ps[j + 3] << 8 | ps[j + 4];
            if (p === 38) fg = v;
            else bg = v;
            j += 4;
          }
        }
        i = sgrRe.lastIndex;
        continue;
      }
      const cp = line.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      const w = wcwidth(cp);
      if (w <= 0 && col > 0) continue; // a combining mark joins the previous cell
      cells.set(col, [fg, bg, attrs]);
      col += w === 2 ? 2 : 1;
    }
    rows.push(cells);
  }
  return rows;
}

function compareRenditions(fb: Framebuffer, tmuxRows: Map<number, Rend>[]): string[] {
  const diffs: string[] = [];
  for (let y = 0; y < ROWS; y++) {
    const d = fb.rows[y].data;
    for (const [x, want] of tmuxRows[y]) {
      if (x >= COLS) continue;
      const got: Rend = [
        d[x * CELL_WORDS + 1],
        d[x * CELL_WORDS + 2],
        d[x * CELL_WORDS + 3] & 0xff,
      ];
      if (got.join() !== want.join()) {
        diffs.push(`row ${y} col ${x}: ours fg/bg/attrs ${got.join("/")}, tmux ${want.join("/")}`);
      }
    }
  }
  return diffs;
}

Deno.test("emulator agrees with tmux on the escape-sequence corpus", async (t) => {
  await requireDebianPackages(["tmux"]);
  const compared = VT_CORPUS.filter((s) => !s.tmux);
  const screens = await renderWithTmux(compared);
  for (const script of compared) {
    await t.step(script.name, () => {
      const tm = screens.get(script.name)!;
      const term = new Terminal(COLS, ROWS);
      term.write(onlcr(script.bytes));
      const fb = term.snapshot();
      assert.equal(ourLines(fb).join("\n"), tm.lines.join("\n"), "screen text differs from tmux");
      if (!script.tmuxCursor) {
        assert.deepEqual([fb.cursorRow, fb.cursorCol], [tm.cursorRow, tm.cursorCol], "cursor");
      }
      if (!script.tmuxColors) {
        const diffs = compareRenditions(fb, tmuxRenditions(tm.escaped));
        assert.deepEqual(diffs.slice(0, 5), [], `${diffs.length} cells differ in renditions`);
      }
    });
  }
});

Deno.test("the tmux corpus documents every skipped comparison", () => {
  const names = new Set<string>();
  for (const s of VT_CORPUS) {
    assert.ok(!names.has(s.name), `duplicate script name ${s.name}`);
    names.add(s.name);
    for (const reason of [s.tmux, s.tmuxCursor, s.tmuxColors, s.cmosh]) {
      if (reason !== undefined) assert.ok(reason.length > 20, `${s.name}: give a reason`);
    }
  }
  assert.ok(VT_CORPUS.filter((s) => !s.tmux).length >= 40, "most scripts compare with tmux");
});

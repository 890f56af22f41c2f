// Extended attributes end to end (issue 15; lib/sgr.ts, lib/display_attributes.ts,
// docs/EXTENSIONS.md "Extended attributes"): our server sends them to our client, which writes
// to its terminal what that terminal's terminfo says it shows. The bytes are those the client
// writes (tmux `pipe-pane -O`), read back through our emulator for the per-cell checks:
// - an OSC 8 hyperlink comes out around exactly its cells, also after a forced repaint (Ctrl-L)
//   and after a resize;
// - `CSI 1;4:3 m` is a curly underline where terminfo has Smulx (tmux-256color), a plain one
//   where it has not (xterm-256color); faint where it has dim, strikethrough where smxx,
//   overline where Smol and underline colour where Setulc (a test entry compiled with tic).

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { type Server, startClient, startServer, stopServer } from "./harness.ts";
import { Tmux } from "./tmux.ts";
import { Terminal } from "../lib/terminal.ts";
import {
  ATTR_BOLD,
  ATTR_UNDERLINE,
  type Row,
  UNDERLINE_PALETTE,
  XATTR_FAINT,
  XATTR_OVERLINE,
  XATTR_STRIKE,
  XATTR_UNDERLINE_MASK,
  XATTR_UNDERLINE_SHIFT,
} from "../lib/framebuffer.ts";

const URL = "http://example.com/a?b=1";
const LINKED = `\x1b]8;;${URL}\x07LINK-A\x1b]8;;\x07`;

/** The program: waits for `go`, then a hyperlink and a line of every extended attribute. */
function script(go: string): string {
  return [
    `while [ ! -e ${go} ]; do sleep 0.05; done`,
    "printf '\\033[2J\\033[H'",
    `printf 'see \\033]8;;${URL}\\033\\\\LINK-A\\033]8;;\\033\\\\ after\\r\\n'`,
    "printf '\\033[1;4:3mCURLY\\033[0m \\033[2mFAINT\\033[0m \\033[9mSTRIKE\\033[0m '",
    "printf '\\033[53mOVER\\033[0m \\033[4;58:5:196mULC\\033[0m\\r\\n'",
    "echo ATTR-DONE",
    "sleep 60",
  ].join("\n");
}

/** What a terminal type shows, as terminfo says (the expectations of one run). */
interface Shows {
  faint: boolean;
  strike: boolean;
  overline: boolean;
  curly: boolean;
  underlineColor: boolean;
}

/** A terminfo entry like tmux-256color plus Smol and Setulc, compiled into `dir`. */
async function compileTestEntry(dir: string): Promise<void> {
  const source = `${dir}/attrs.ti`;
  await Deno.writeTextFile(
    source,
    "tmux-attrs-test|tmux-256color with overline and underline colour,\n" +
      "\tSmol=\\E[53m, Setulc=\\E[58%p1%dm, use=tmux-256color,\n",
  );
  const out = await new Deno.Command("tic", { args: ["-x", "-o", dir, source] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** The client's bytes and the screen they make, for a client pane with TERM `term`. */
class Run {
  constructor(readonly t: Tmux, readonly out: string) {}

  /** Everything the client wrote so far. */
  async bytes(): Promise<string> {
    return await Deno.readTextFile(this.out);
  }

  /** Waits until the client wrote, after offset `from`, something matching `re`. */
  async waitBytes(from: number, re: RegExp, ms = 15000): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      const all = await this.bytes();
      if (re.test(all.slice(from))) return all;
      if (performance.now() > deadline) {
        throw new Error(`no ${re} in the client's output: ${JSON.stringify(all.slice(from))}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function withRun(
  term: string,
  env: Record<string, string>,
  body: (r: Run) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mosh-attrs-" });
  const go = `${dir}/go`, out = `${dir}/out`;
  await Deno.writeTextFile(`${dir}/attrs.sh`, script(go));
  if (term === "tmux-attrs-test") await compileTestEntry(dir);
  let s: Server | null = null;
  let t: Tmux | null = null;
  try {
    s = await startServer("ours", { command: ["bash", `${dir}/attrs.sh`] });
    t = await startClient(s.port, s.key, { term, env: { ...env, TERMINFO: dir } });
    const pipe = await new Deno.Command("tmux", {
      args: ["-L", t.socket, "pipe-pane", "-O", "-t", "main", `cat > ${out}`],
    }).output();
    assert.equal(pipe.code, 0, new TextDecoder().decode(pipe.stderr));
    await Deno.writeTextFile(go, "");
    await t.waitFor(/^ATTR-DONE$/m, 20000);
    await body(new Run(t, out));
  } finally {
    await t?.kill();
    await stopServer(s);
    await Deno.remove(dir, { recursive: true });
  }
}

/** Our emulator fed the client's bytes: the screen a terminal that shows everything shows. */
function screenOf(bytes: string, cols: number, rows: number): Terminal {
  const t = new Terminal(cols, rows);
  t.write(bytes);
  return t;
}

/** Row `y` and the column where `word` starts in it. */
function find(t: Terminal, word: string): { row: Row; col: number } {
  const lines = t.screenText().split("\n");
  const y = lines.findIndex((l) => l.includes(word));
  assert.ok(y >= 0, `${word} on the screen:\n${t.screenText()}`);
  return { row: t.snapshot().rows[y], col: lines[y].indexOf(word) };
}

/** The hyperlink is on exactly the cells of LINK-A and nowhere else on the screen. */
function checkLink(t: Terminal): void {
  const { row, col } = find(t, "see LINK-A after");
  for (let x = 0; x < row.width; x++) {
    const inside = x >= col + 4 && x < col + 10;
    assert.equal(row.link(x), inside ? `;${URL}` : "", `link of column ${x}`);
  }
  for (const r of t.snapshot().rows) {
    if (r === row) continue;
    for (let x = 0; x < r.width; x++) assert.equal(r.link(x), "", "a link elsewhere");
  }
}

/** Each word of the attribute line has what the terminal shows, and only that. */
function checkAttributes(t: Terminal, shows: Shows): void {
  const cell = (word: string) => {
    const { row, col } = find(t, word);
    return { x: row.xattrs(col) || (row.data[col * 4 + 3] & 0xff), ul: row.underlineColor(col) };
  };
  const curly = cell("CURLY");
  assert.ok(curly.x & ATTR_BOLD, "CURLY is bold");
  assert.ok(curly.x & ATTR_UNDERLINE, "CURLY is underlined");
  const style = (curly.x & XATTR_UNDERLINE_MASK) >> XATTR_UNDERLINE_SHIFT;
  assert.equal(style, shows.curly ? 3 : 0, "the underline style");
  assert.equal((cell("FAINT").x & XATTR_FAINT) !== 0, shows.faint, "faint");
  assert.equal((cell("STRIKE").x & XATTR_STRIKE) !== 0, shows.strike, "strikethrough");
  assert.equal((cell("OVER").x & XATTR_OVERLINE) !== 0, shows.overline, "overline");
  const ulc = cell("ULC");
  assert.ok(ulc.x & ATTR_UNDERLINE, "ULC is underlined");
  assert.equal(ulc.ul, shows.underlineColor ? UNDERLINE_PALETTE | 196 : 0, "underline colour");
}

const RUNS: [string, Shows][] = [
  ["tmux-256color", {
    faint: true,
    strike: true,
    overline: false,
    curly: true,
    underlineColor: false,
  }],
  ["xterm-256color", {
    faint: true,
    strike: true,
    overline: false,
    curly: false,
    underlineColor: false,
  }],
  ["tmux-attrs-test", {
    faint: true,
    strike: true,
    overline: true,
    curly: true,
    underlineColor: true,
  }],
];

Deno.test("attributes: a hyperlink around exactly its cells, also after Ctrl-L and a resize", async () => {
  await requireDebianPackages(["tmux"]);
  await withRun("tmux-256color", {}, async (r) => {
    const first = await r.bytes();
    assert.ok(first.includes(LINKED), JSON.stringify(first));
    checkLink(screenOf(first, 80, 24));
    // Ctrl-L: a full repaint, which opens and closes the link again around the same cells.
    await r.t.sendKeys("C-l");
    const repainted = await r.waitBytes(first.length, /LINK-A/);
    assert.ok(repainted.slice(first.length).includes(LINKED), "the repaint's link");
    checkLink(screenOf(repainted, 80, 24));
    // A resize repaints too.
    await r.t.resize(90, 26);
    const resized = await r.waitBytes(repainted.length, /LINK-A/);
    assert.ok(resized.slice(repainted.length).includes(LINKED), "the link after the resize");
    const screen = new Terminal(80, 24);
    screen.write(resized.slice(0, repainted.length));
    screen.resize(90, 26);
    screen.write(resized.slice(repainted.length));
    checkLink(screen);
  });
});

for (const [term, shows] of RUNS) {
  Deno.test(`attributes: CSI 1;4:3 m and SGR 2/9/53/58 as ${term}'s terminfo allows`, async () => {
    await requireDebianPackages(["tmux"]);
    await withRun(term, {}, async (r) => {
      const bytes = await r.bytes();
      checkAttributes(screenOf(bytes, 80, 24), shows);
      assert.equal(bytes.includes("\x1b[4:3m"), shows.curly, "Smulx's form of the curly line");
      // deno-lint-ignore no-control-regex
      assert.equal(/\x1b\[[0-9;]*;53[;m]/.test(bytes), shows.overline, "SGR 53");
      assert.equal(bytes.includes("58:5:196"), shows.underlineColor, "the underline colour");
    });
  });
}

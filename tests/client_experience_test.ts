// The client experience over a bad network, end to end (docs/PROTOCOL.md §8.1-§8.4, §6.3): our
// client (client.ts) in a real terminal (a tmux pane, LANG=C.UTF-8) with our server or Debian's
// mosh-server, through the impairment relay of tests/relay.ts.
//
// - Prediction (§8.4), 250 ms each way: once one character of a line has been confirmed by an
//   echo ack (§6.3), further typed characters show at once, underlined, even while the relay
//   holds every datagram the client sends; when released, the screen becomes the server's (the
//   same text, no underline). In `experimental` mode even the first character of a line shows
//   at once. At a prompt that does not echo (`read -s`) nothing typed remains 2 s after the echo
//   ack (and in `always` mode nothing shows at all). `glück faĩl`, typed 25 times, never shows a
//   broken character in any screen taken while typing, in either mode.
// - The notification bar (§8.2): a 10 s black hole shows "Last contact N seconds ago" with N
//   counting up, the bar goes once traffic resumes, and what was typed meanwhile arrives exactly.
// - The escape key (§8.1): `Ctrl-^ .` ends a session whose server is unreachable and gives the
//   terminal back to the shell it was started from. (`Ctrl-^ Ctrl-Z` and `fg` are covered by
//   tests/session_tmux_test.ts, "Ctrl-^ Ctrl-Z suspends to the shell, fg resumes with a full
//   repaint".)
// - Against Debian's mosh-server, with the default (adaptive) prediction mode: predicted
//   characters show before the server's echo.
//
// The assertions are about what the screen shows, never about how fast. The scenarios run
// concurrently as steps of one test (about 15 s in all). CLIENT_EXPERIENCE_ONLY=<substring>
// runs only the matching scenarios; CLIENT_EXPERIENCE_CLIENT=debian runs them with Debian's
// mosh-client instead of ours, which checks the expectations themselves against C mosh.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { Relay } from "./relay.ts";
import {
  alive,
  clientPaneEnv,
  clientProgram,
  delay,
  type Kind,
  PROMPT,
  runScenarios,
  type Server,
  startServer,
  stopServer,
} from "./harness.ts";
import { Tmux } from "./tmux.ts";

// ---------------------------------------------------------------------------------------------
// Harness (and tests/harness.ts): a server, the relay in front of it, and our client in a pane.

/**
 * The client under test: ours, or with CLIENT_EXPERIENCE_CLIENT=debian Debian's mosh-client,
 * which checks these expectations against C mosh itself.
 */
const CLIENT = Deno.env.get("CLIENT_EXPERIENCE_CLIENT") === "debian" ? "debian" : "ours";
const COLS = 80;
const ROWS = 24;

/** Everything one scenario started; `close()` stops all of it. */
interface Scene {
  server: Server;
  relay: Relay;
  tmux: Tmux;
}

interface SceneOptions {
  server: Kind;
  /** One-way delay of the relay, each way (ms). */
  delayMs: number;
  /** MOSH_PREDICTION_DISPLAY; unset (adaptive) when absent. */
  mode?: string;
  /** Start the client from an outer shell (prompt `outer$ `) instead of as the pane's command. */
  outerShell?: boolean;
}

/** Runs `body` with a server, the relay in front of it and our client in a pane; cleans up. */
async function withScene(opts: SceneOptions, body: (s: Scene) => Promise<void>): Promise<void> {
  let server: Server | null = null;
  let relay: Relay | null = null;
  let tmux: Tmux | null = null;
  try {
    server = await startServer(opts.server);
    relay = Relay.start({
      target: { hostname: "127.0.0.1", port: server.port },
      toServer: { delayMs: opts.delayMs },
      toClient: { delayMs: opts.delayMs },
      maxLifetimeMs: 120000,
    });
    const client = `${clientProgram(CLIENT)} 127.0.0.1 ${relay.port}`;
    const env: Record<string, string> = {};
    if (opts.mode !== undefined) env.MOSH_PREDICTION_DISPLAY = opts.mode;
    tmux = await Tmux.start({
      command: opts.outerShell
        ? "PS1='outer$ ' exec bash --norc --noprofile"
        : `${client}; echo CLIENT-EXIT=$?; exec sleep 600`,
      cols: COLS,
      rows: ROWS,
      ...clientPaneEnv(server.key, env),
    });
    if (opts.outerShell) {
      await tmux.waitFor(/^outer\$$/m);
      await tmux.sendText(`${client}\r`);
    }
    await tmux.waitFor(/^prompt\$$/m, 20000);
    await body({ server, relay, tmux });
  } finally {
    await tmux?.kill();
    await relay?.close();
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the screen with its attributes (tmux capture-pane -e).

/** One character cell as tmux shows it. */
interface Cell {
  ch: string;
  underline: boolean;
}

/**
 * Turns `capture-pane -e` output into rows of cells, following the SGR sequences tmux emits
 * (its attribute state carries over from one line to the next).
 */
export function parseCapture(text: string): Cell[][] {
  const rows: Cell[][] = [];
  let row: Cell[] = [];
  let underline = false;
  for (let i = 0; i < text.length;) {
    const ch = text[i];
    if (ch === "\n") {
      rows.push(row);
      row = [];
      i++;
    } else if (ch === "\x1b") {
      // ESC, then (tmux emits only these) "[", parameters and a final letter.
      const m = /^[[(]?([0-9;:]*)([A-Za-z]?)/.exec(text.slice(i + 1, i + 64))!;
      i += 1 + m[0].length;
      if (text[i - m[0].length] !== "[" || m[2] !== "m") continue; // not SGR
      const params = m[1] === "" ? ["0"] : m[1].split(";");
      for (let k = 0; k < params.length; k++) {
        const p = params[k];
        if (p === "0") underline = false;
        else if (p === "4" || /^4:[1-5]$/.test(p)) underline = true;
        else if (p === "24" || p === "4:0") underline = false;
        else if (p === "38" || p === "48" || p === "58") k += params[k + 1] === "2" ? 4 : 2;
      }
    } else {
      const cp = text.codePointAt(i)!;
      const s = String.fromCodePoint(cp);
      row.push({ ch: s, underline });
      i += s.length;
    }
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

/** The text of a row of cells, trailing blanks removed. */
function rowText(row: Cell[] | undefined): string {
  return (row ?? []).map((c) => c.ch).join("").trimEnd();
}

/** The screen's cells (with attributes). */
async function cells(t: Tmux): Promise<Cell[][]> {
  return parseCapture(await t.capture({ escapes: true }));
}

/** Polls the screen until `test(cells)` holds; throws with the last screen on timeout. */
async function waitCells(
  t: Tmux,
  what: string,
  test: (rows: Cell[][]) => boolean,
  ms = 10000,
): Promise<Cell[][]> {
  const deadline = performance.now() + ms;
  let rows: Cell[][] = [];
  for (;;) {
    rows = await cells(t);
    if (test(rows)) return rows;
    if (performance.now() > deadline) break;
    await delay(40);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; screen:\n${show(rows)}`);
}

/** A screen for error messages: each row, with underlined cells marked by a line below. */
function show(rows: Cell[][]): string {
  const out: string[] = [];
  for (const r of rows) {
    const text = rowText(r);
    if (text === "" && !r.some((c) => c.underline)) {
      out.push("");
      continue;
    }
    out.push(text);
    if (r.some((c) => c.underline)) out.push(r.map((c) => (c.underline ? "^" : " ")).join(""));
  }
  return out.join("\n").replace(/\n+$/, "");
}

/** The row whose text starts with `prefix`, or -1. */
function findRow(rows: Cell[][], prefix: string): number {
  return rows.findIndex((r) => rowText(r).startsWith(prefix));
}

/** True if no cell on the screen is underlined. */
function noUnderline(rows: Cell[][]): boolean {
  return rows.every((r) => r.every((c) => !c.underline));
}

/**
 * What `cat` has echoed on a plain capture after `clear`: the rows from the top-left corner
 * joined at the screen width, trailing blanks removed.
 */
function catText(screen: string): string {
  const rows = screen.split("\n").slice(0, ROWS);
  let last = rows.length - 1;
  while (last > 0 && rows[last].trimEnd() === "") last--;
  return rows.slice(0, last + 1).map((r, i) => (i < last ? r.padEnd(COLS) : r)).join("")
    .trimEnd();
}

/**
 * True if `screen` shows a prefix of `typed` as `cat` echoes it (see catText) and no U+FFFD. A
 * broken character shows as U+FFFD or not at all (tmux drops a lone byte), so the text would
 * differ.
 */
export function showsTypedPrefix(screen: string, typed: string): boolean {
  const text = catText(screen);
  return !text.includes("\uFFFD") && typed.startsWith(text);
}

/** Types `text` one character per `send-keys`, `gapMs` apart (one client read each). */
async function typeEach(t: Tmux, text: string, gapMs = 30): Promise<void> {
  for (const ch of text) {
    // A lone ";" argument separates tmux commands; "\;" is the literal character.
    await t.sendText(ch === ";" ? "\\;" : ch);
    await delay(gapMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

/**
 * Types `echo <word>` at the prompt: the first letters are echoed by the server and confirmed,
 * then the relay holds the client's datagrams while the rest is typed. The rest must show,
 * underlined (flagging: the send interval is far above 80 ms at 500 ms RTT), while the server
 * cannot have seen it; released, the row must become exactly the server's, with no underline.
 *
 * Before the hold, letters go one at a time until one is drawn as a prediction (underlined,
 * ahead of its echo): only then is the prediction epoch known to be confirmed. The first letter's
 * echo normally confirms it, but on a loaded machine the shell may echo later than the server's
 * 50 ms echo ack; the guess is then judged wrong, mosh drops the epoch (§8.4), and the next letter
 * waits for its echo as the first one did.
 */
async function predictedLineWhileHeld(s: Scene, word: string): Promise<void> {
  const { tmux: t, relay } = s;
  const line = `${PROMPT}echo ${word}`;
  let before = PROMPT.length; // the line's length typed before the hold
  for (let predicted = false; !predicted;) {
    assert.ok(before < PROMPT.length + 3, "no prediction drawn within the first three letters");
    await t.sendText(line[before++]);
    const shown = line.slice(0, before);
    const rows = await waitCells(t, `"${shown}" shown`, (rows) => {
      return rowText(rows[findRow(rows, shown)]) === shown;
    });
    predicted = rows[findRow(rows, shown)][before - 1].underline;
  }
  const echoed = line.slice(0, before);
  // The server's echo of all of it: nothing underlined.
  await waitCells(t, `"${echoed}" echoed`, (rows) => {
    const r = rows[findRow(rows, echoed)];
    return rowText(r) === echoed && !r.some((c) => c.underline);
  });
  relay.hold("toServer");
  await typeEach(t, line.slice(before));
  await waitCells(
    t,
    `"${line}" shown and underlined while the relay holds the client's datagrams`,
    (rows) => {
      const r = rows[findRow(rows, line)];
      if (r === undefined || rowText(r) !== line) return false;
      // What was typed before the hold came from the server; every other non-blank character
      // of the line is a prediction.
      for (let col = 0; col < line.length; col++) {
        if (col < before ? r[col].underline : line[col] !== " " && !r[col].underline) return false;
      }
      return true;
    },
  );
  assert.ok(relay.stats.toServer.held > 0, "the client's datagrams were held");

  relay.release("toServer");
  const final = await waitCells(
    t,
    `"${line}" without underline after the release`,
    (rows) => rowText(rows[findRow(rows, line)]) === line && noUnderline(rows),
  );
  assert.equal(final.filter((r) => rowText(r).startsWith(PROMPT)).length, 1, show(final));
  await t.sendText("\r");
  await t.waitFor(new RegExp(`^${word}\\nprompt\\$$`, "m"));
}

/**
 * `glück faĩl ` typed 25 times into `cat` (after `clear`), one send-keys per word pair: every
 * screen taken while typing must show a prefix of what was typed (a broken character, U+FFFD
 * or a dropped lone byte, would not be one), and the file gets exactly what was typed.
 */
async function typeUnicodeIntoCat(t: Tmux): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mosh-client-utf8-" });
  try {
    const file = `${dir}/typed`;
    await t.sendText(`clear; cat > ${file}\r`);
    await t.waitFor((screen) => screen.trim() === "", 10000);
    const unit = "glück faĩl ";
    let typed = "";
    const bad: string[] = [];
    const check = (screen: string) => {
      if (!showsTypedPrefix(screen, typed)) bad.push(screen);
    };
    for (let i = 0; i < 25; i++) {
      typed += unit;
      await t.sendText(unit);
      check(await t.capture());
      await delay(40);
      check(await t.capture());
    }
    const want = unit.repeat(25);
    await t.waitFor((screen) => catText(screen) === want.trimEnd());
    assert.deepEqual(bad, [], `screens with a broken character:\n${bad.join("\n----\n")}`);
    await t.sendText("\r");
    await t.sendKeys("C-d");
    await t.waitFor(/^prompt\$$/m);
    assert.equal(await Deno.readTextFile(file), want + "\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A prompt that does not echo (`read -s`): 2 s after the echo ack for the last key has arrived
 * (about 600 ms after it was typed, at 250 ms each way), no typed character may remain on the
 * screen. With `neverShown`, none may show at all in any screen taken meanwhile: after the CR
 * they belong to an unconfirmed epoch (`always`, `adaptive`), which the server never confirms.
 */
async function silentPrompt(t: Tmux, neverShown: boolean): Promise<void> {
  const line = "prompt$ read -s secret; echo got=$secret";
  await typeEach(t, "read -s secret; echo got=$secret\r", 10);
  // The server has run the line once its cursor (drawn: a CR's prediction is tentative) is on
  // the next row.
  const screen = await t.waitFor(line);
  const lineRow = screen.split("\n").indexOf(line);
  for (let i = 0;; i++) {
    const c = await t.cursor();
    if (c.row === lineRow + 1 && c.col === 0) break;
    assert.ok(i < 200, `the shell did not run the line:\n${await t.capture()}`);
    await delay(50);
  }
  const seen: string[] = [];
  for (const ch of "hunter2") {
    await t.sendText(ch);
    seen.push(await t.capture());
    await delay(60);
  }
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    seen.push(await t.capture());
    await delay(100);
  }
  const rowAfter = (screen: string) => screen.split("\n")[lineRow + 1];
  if (neverShown) {
    for (const screen of seen) {
      assert.equal(rowAfter(screen), "", `typed characters shown at a silent prompt:\n${screen}`);
    }
  }
  const rows = await cells(t);
  assert.equal(rowText(rows[lineRow + 1]), "", `a predicted character remained:\n${show(rows)}`);
  assert.ok(noUnderline(rows), show(rows));
  await t.sendText("\r");
  await t.waitFor(/^got=hunter2$/m);
}

/** Our server, `always`, 250 ms each way: the held line, a `read -s` prompt, `glück faĩl`. */
async function alwaysScenario(): Promise<void> {
  await withScene({ server: "ours", delayMs: 250, mode: "always" }, async (s) => {
    const t = s.tmux;
    await predictedLineWhileHeld(s, "under");

    await silentPrompt(t, true);
    await typeUnicodeIntoCat(t);
  });
}

/**
 * Our server, `experimental`, 250 ms each way: the first character of a line shows before any
 * confirmation; typing at a silent prompt leaves nothing behind; `glück faĩl` never breaks.
 */
async function experimentalScenario(): Promise<void> {
  await withScene({ server: "ours", delayMs: 250, mode: "experimental" }, async (s) => {
    const { tmux: t, relay } = s;
    relay.hold("toServer");
    await typeEach(t, "echo now");
    const line = `${PROMPT}echo now`;
    await waitCells(t, `"${line}" shown while held, with nothing confirmed`, (rows) => {
      const r = rows[findRow(rows, line)];
      return r !== undefined && rowText(r) === line && r[PROMPT.length].underline;
    });
    relay.release("toServer");
    await waitCells(t, `"${line}" without underline`, (rows) => {
      return rowText(rows[findRow(rows, line)]) === line && noUnderline(rows);
    });
    await t.sendText("\r");
    await t.waitFor(/^now\nprompt\$$/m);
    await silentPrompt(t, false);
    await typeUnicodeIntoCat(t);
  });
}

/**
 * Our server, no delay: the relay black-holes both ways for 10 s. The bar counts up, goes once
 * traffic resumes, and what was typed into `cat` meanwhile arrives exactly once.
 */
async function blackholeScenario(): Promise<void> {
  await withScene({ server: "ours", delayMs: 0 }, async (s) => {
    const { tmux: t, relay } = s;
    const dir = await Deno.makeTempDir({ prefix: "mosh-client-bh-" });
    try {
      const file = `${dir}/typed`;
      await t.sendText(`cat > ${file}\r`);
      await t.waitFor(/^prompt\$ cat > .*\n$/m);
      await delay(300);
      relay.blackhole("both");
      const started = performance.now();
      const typed = "typed during the outage\rand a 2nd line";
      const typing = (async () => {
        for (const ch of typed) {
          await t.sendText(ch);
          await delay(150);
        }
      })();
      const bar = /^mosh: Last contact (\d+) seconds ago\. \[To quit: Ctrl-\^ \.\]$/m;
      const first = Number(bar.exec(await t.waitFor(bar, 9000))![1]);
      await delay(1500);
      const secondScreen = await t.capture();
      const second = bar.exec(secondScreen);
      assert.ok(second !== null, `the bar went away during the outage:\n${secondScreen}`);
      assert.ok(Number(second[1]) > first, `the count did not grow: ${first}, then ${second[1]}`);
      await typing;
      await delay(Math.max(0, 10000 - (performance.now() - started)));
      relay.unblackhole("both");
      await t.waitFor((screen) => !screen.includes("Last contact"), 10000);
      await t.waitFor(/^typed during the outage\nand a 2nd line$/m, 10000);
      await t.sendText("\r");
      await t.sendKeys("C-d");
      await t.waitFor(/^prompt\$$/m);
      assert.equal(await Deno.readTextFile(file), "typed during the outage\nand a 2nd line\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/**
 * Ctrl-^ . with the server unreachable: the client gives up on the shutdown handshake, says so,
 * and the outer shell is back in a usable terminal (cooked mode, main screen).
 */
async function quitUnreachableScenario(): Promise<void> {
  await withScene({ server: "ours", delayMs: 0, outerShell: true }, async (s) => {
    const { tmux: t, relay } = s;
    relay.blackhole("both");
    await t.sendKeys("C-^");
    await t.waitFor('Commands: Ctrl-Z suspends, "." quits, "^" gives literal Ctrl-^');
    await t.sendText(".");
    await t.waitFor("mosh: Exiting on user request...");
    const last = await t.waitFor(/\[mosh is exiting\.\]\nouter\$$/m, 20000);
    assert.ok(last.includes("mosh did not shut down cleanly."), last);
    assert.equal(await t.display("#{alternate_on}"), "0", "the alternate screen was left");
    await t.sendText("echo restored-$((6*7))\r");
    await t.waitFor(/^restored-42\nouter\$$/m);
    assert.ok(alive(s.server.pid), "the server never heard of the shutdown");
  });
}

/** Debian's mosh-server, adaptive (the default), 250 ms each way: the held line. */
async function debianServerScenario(): Promise<void> {
  await withScene({ server: "debian", delayMs: 250 }, async (s) => {
    await predictedLineWhileHeld(s, "adaptive");
  });
}

Deno.test("client experience: the screen checks see underlines and broken characters", () => {
  const rows = parseCapture("ab\x1b[4mcd\x1b[0m\x1b[39m\x1b[49mef\nx\x1b[1;4;38;5;4my\x1b[24mz\n");
  assert.deepEqual(rows.map(rowText), ["abcdef", "xyz"]);
  assert.deepEqual(rows[0].map((c) => c.underline), [false, false, true, true, false, false]);
  assert.deepEqual(rows[1].map((c) => c.underline), [false, true, false]);
  const typed = "glück faĩl ".repeat(10);
  const wrapped = typed.slice(0, COLS) + "\n" + typed.slice(COLS, 100) + "\n\n";
  assert.ok(showsTypedPrefix(wrapped, typed));
  assert.ok(!showsTypedPrefix(wrapped.replace("ü", "\uFFFD"), typed));
  assert.ok(!showsTypedPrefix(wrapped.replace("ĩ", ""), typed));
  assert.ok(!showsTypedPrefix(wrapped.replace("ü", "Ã"), typed));
});

Deno.test("client experience: prediction, notification bar and escape key over a bad network", async (t) => {
  await requireDebianPackages(["mosh", "tmux"]);
  const only = Deno.env.get("CLIENT_EXPERIENCE_ONLY"); // a substring: run only matching scenarios
  const all: [string, () => Promise<void>][] = [
    ["10 s black hole: the bar counts up and goes; typing survives", blackholeScenario],
    [
      "always, 250 ms: underlined predictions while held; read -s shows nothing; glück faĩl",
      alwaysScenario,
    ],
    [
      "experimental, 250 ms: first character at once; read -s leaves nothing; glück faĩl",
      experimentalScenario,
    ],
    ["Ctrl-^ . ends a session whose server is unreachable", quitUnreachableScenario],
    ["Debian's mosh-server, adaptive, 250 ms: predictions before the echo", debianServerScenario],
  ];
  await runScenarios(t, all, only);
});

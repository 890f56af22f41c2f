// Tests of lib/notification.ts (the notification bar, docs/PROTOCOL.md §8.2) and lib/title.ts
// (the title prefix, §8.3), on a fake clock.
import assert from "node:assert/strict";
import { ATTR_BOLD, CELL_WORDS, FLAG_WIDE, type Framebuffer } from "../lib/framebuffer.ts";
import {
  humanReadableDuration,
  NOTICE_LIFETIME_MS,
  NotificationEngine,
} from "../lib/notification.ts";
import { TITLE_PREFIX, TitleEngine, titlePrefixFromEnv } from "../lib/title.ts";
import { Terminal } from "../lib/terminal.ts";

const HINT = " [To quit: Ctrl-^ .]";

function screen(cols = 80, rows = 5, text = "$ ls\r\nfile"): Framebuffer {
  const t = new Terminal(cols, rows);
  t.write(text);
  return t.snapshot();
}

function rowText(fb: Framebuffer, y: number): string {
  return fb.screenText().split("\n")[y].trimEnd();
}

function engine(t0 = 0): NotificationEngine {
  const n = new NotificationEngine(t0);
  n.setEscapeKeyName("Ctrl-^");
  return n;
}

Deno.test("notification: no bar while in contact", () => {
  const n = engine(0);
  const fb = screen();
  assert.equal(n.text(0), null);
  assert.equal(n.apply(fb, 6500), fb);
  assert.equal(n.waitTime(6500), Infinity);
});

Deno.test("notification: 'Last contact' after 6.5 s of server silence", () => {
  const n = engine(0);
  n.serverHeard(1000);
  n.serverAcked(1000);
  assert.equal(n.text(7500), null, "exactly 6500 ms is not late");
  assert.equal(n.text(7501), `mosh: Last contact 6 seconds ago.${HINT}`);
  assert.equal(n.text(8000), `mosh: Last contact 7 seconds ago.${HINT}`);
  assert.equal(n.text(8999), `mosh: Last contact 7 seconds ago.${HINT}`);
  n.serverHeard(9000);
  assert.equal(n.text(9000), null);
});

Deno.test("notification: 'Last reply' when only the acknowledgements are late", () => {
  const n = engine(0);
  n.serverAcked(0);
  n.serverHeard(9000);
  assert.equal(n.text(10000), null);
  assert.equal(n.text(10001), `mosh: Last reply 10 seconds ago.${HINT}`);
  // When the server is late too, "contact" wins and counts from the last server state.
  assert.equal(n.text(15600), `mosh: Last contact 6 seconds ago.${HINT}`);
});

Deno.test("notification: a server notice stays NOTICE_LIFETIME_MS", () => {
  const n = engine(0);
  n.setNotice("Another client attached from 127.0.0.1 (2 clients).", 100);
  assert.equal(n.text(100), `mosh: Another client attached from 127.0.0.1 (2 clients).${HINT}`);
  assert.equal(n.waitTime(100), NOTICE_LIFETIME_MS);
  assert.notEqual(n.text(100 + NOTICE_LIFETIME_MS - 1), null);
  assert.equal(n.text(100 + NOTICE_LIFETIME_MS), null);
  // A permanent message stays.
  n.setNotificationString("Exiting on user request...", 9000, true);
  n.setNotice("Another client attached.", 9100);
  assert.equal(n.text(20000)?.startsWith("mosh: Exiting on user request..."), true);
});

Deno.test("notification: messages, their lifetime and the late form", () => {
  const n = engine(0);
  n.setNotificationString("Exiting...", 100);
  assert.equal(n.text(100), `mosh: Exiting...${HINT}`);
  assert.equal(n.text(1099), `mosh: Exiting...${HINT}`);
  assert.equal(n.waitTime(1099), 1);
  assert.equal(n.text(1100), null, "expires 1000 ms after it was set");
  assert.equal(n.message, "");
  n.setNotificationString("Exiting on user request...", 1200, true);
  assert.equal(n.waitTime(1200), Infinity);
  assert.equal(n.text(5000), `mosh: Exiting on user request...${HINT}`);
  assert.equal(
    n.text(7000),
    `mosh: Exiting on user request... (7 s without contact.)${HINT}`,
  );
  n.serverHeard(7000);
  n.serverAcked(0);
  assert.equal(
    n.text(10500),
    `mosh: Exiting on user request... (10 s without reply.)${HINT}`,
  );
  assert.equal(
    n.text(7000 + 75_000),
    `mosh: Exiting on user request... (1:15 without contact.)${HINT}`,
  );
  n.setNotificationString("", 90_000);
  assert.equal(n.text(90_000), `mosh: Last contact 1:23 ago.${HINT}`);
});

Deno.test("notification: the escape help has no quit hint; the hint follows the key", () => {
  const n = engine(0);
  const help = 'Commands: Ctrl-Z suspends, "." quits, "^" gives literal Ctrl-^';
  n.setNotificationString(help, 0, true, false);
  assert.equal(n.text(0), `mosh: ${help}`);
  assert.equal(n.text(8000), `mosh: ${help} (8 s without contact.)`);
  const t = new NotificationEngine(0);
  t.setEscapeKeyName('"~"');
  t.setNotificationString("Exiting...", 0);
  assert.equal(t.text(0), 'mosh: Exiting... [To quit: "~" .]');
  const none = new NotificationEngine(0);
  none.setEscapeKeyName("");
  assert.equal(none.text(7000), "mosh: Last contact 7 seconds ago.");
});

Deno.test("notification: network errors last 3100 ms, 1000 ms once sends work", () => {
  const n = engine(0);
  n.setNetworkError("sendto: Network is unreachable", 0);
  assert.equal(n.text(3099), `mosh: sendto: Network is unreachable${HINT}`);
  assert.equal(n.text(3100), null);
  n.setNetworkError("sendto: Network is unreachable", 4000);
  n.clearNetworkError(4500);
  assert.equal(n.waitTime(4500), 1000);
  assert.equal(n.text(5499), `mosh: sendto: Network is unreachable${HINT}`);
  assert.equal(n.text(5500), null);
  // clearNetworkError leaves other messages alone.
  n.setNotificationString("Exiting...", 6000, true);
  n.clearNetworkError(6000);
  assert.equal(n.text(6400), `mosh: Exiting...${HINT}`);
});

Deno.test("notification: durations", () => {
  assert.equal(humanReadableDuration(0, "seconds"), "0 seconds");
  assert.equal(humanReadableDuration(59.99, "seconds"), "59 seconds");
  assert.equal(humanReadableDuration(7, "s"), "7 s");
  assert.equal(humanReadableDuration(60, "s"), "1:00");
  assert.equal(humanReadableDuration(605, "seconds"), "10:05");
  assert.equal(humanReadableDuration(3599, "s"), "59:59");
  assert.equal(humanReadableDuration(3600, "s"), "1:00:00");
  assert.equal(humanReadableDuration(3661, "seconds"), "1:01:01");
  assert.equal(humanReadableDuration(100 * 3600 + 59, "s"), "100:00:59");
});

Deno.test("notification: refresh cadence", () => {
  const n = engine(0);
  assert.equal(n.waitTime(6500), Infinity);
  assert.equal(n.waitTime(6501), 1000);
  assert.equal(n.waitTime(60_000), 1000);
  assert.equal(n.waitTime(60_001), 3000);
  n.setNotificationString("x", 60_001);
  assert.equal(n.waitTime(60_001), 1000);
  n.setNotificationString("x", 60_001, true);
  assert.equal(n.waitTime(60_001), 3000);
});

Deno.test("notification: the bar is drawn over row 0 in white on blue", () => {
  const n = engine(0);
  const fb = screen(80, 5);
  const before = fb.screenText();
  const out = n.apply(fb, 7000);
  const text = `mosh: Last contact 7 seconds ago.${HINT}`;
  assert.equal(rowText(out, 0), text);
  assert.equal(rowText(out, 1), "file");
  assert.equal(out.rows[1], fb.rows[1]);
  assert.equal(fb.screenText(), before, "the synchronised frame is unchanged");
  const d = out.rows[0].data;
  for (let x = 0; x < 80; x++) {
    assert.equal(d[x * CELL_WORDS + 1], 37, `fg at ${x}`);
    assert.equal(d[x * CELL_WORDS + 2], 44, `bg at ${x}`);
    const bold = (d[x * CELL_WORDS + 3] & ATTR_BOLD) !== 0;
    assert.equal(bold, x < text.length, `bold at ${x}`);
    if (x >= text.length) assert.equal(d[x * CELL_WORDS], 0x20);
  }
  // The cursor (row 1) stays visible.
  assert.equal(out.cursorVisible, true);
  assert.equal(out.cursorRow, 1);
});

Deno.test("notification: the cursor is hidden when on row 0", () => {
  const n = engine(0);
  const fb = screen(40, 3, "$ ");
  assert.equal(fb.cursorVisible, true);
  const out = n.apply(fb, 8000);
  assert.equal(out.cursorVisible, false);
  assert.equal(n.apply(fb, 100), fb);
});

Deno.test("notification: the text is cut at the screen width", () => {
  const n = engine(0);
  const out = n.apply(screen(20, 3), 7000);
  assert.equal(rowText(out, 0), "mosh: Last contact 7");
});

Deno.test("notification: wide and combining characters follow the emulator's widths", () => {
  const n = engine(0);
  n.setNotificationString("中文 e\u0301!", 0, true, false);
  const out = n.apply(screen(20, 3), 0);
  const d = out.rows[0].data;
  // "mosh: " is 6 columns; 中 at 6 (wide), 文 at 8, space at 10, é at 11, ! at 12.
  assert.equal(d[6 * CELL_WORDS], 0x4e2d);
  assert.ok(d[6 * CELL_WORDS + 3] & FLAG_WIDE);
  assert.equal(d[8 * CELL_WORDS], 0x6587);
  assert.equal(out.rows[0].multi?.get(11), "e\u0301");
  assert.equal(out.rows[0].contents(11), "e\u0301");
  assert.equal(d[12 * CELL_WORDS], 0x21);
  assert.equal(rowText(out, 0), "mosh: 中文 e\u0301!");
  // A wide character that would straddle the right edge is left out.
  const narrow = n.apply(screen(9, 3), 0);
  assert.equal(rowText(narrow, 0), "mosh: 中");
  assert.equal(narrow.rows[0].data[8 * CELL_WORDS], 0x20);
});

Deno.test("title: [mosh] prefix on the title and an equal icon name", () => {
  const t = new Terminal(20, 3);
  t.write("\x1b]0;vim\x07");
  const fb = t.snapshot();
  const title = new TitleEngine();
  const out = title.apply(fb);
  assert.equal(out.windowTitle, "[mosh] vim");
  assert.equal(out.iconName, "[mosh] vim");
  assert.equal(out.titleInitialized, true);
  assert.equal(fb.windowTitle, "vim");
  t.write("\x1b]1;icon\x07");
  const both = title.apply(t.snapshot());
  assert.equal(both.windowTitle, "[mosh] vim");
  assert.equal(both.iconName, "icon");
  title.prefix = "";
  const plain = t.snapshot();
  assert.equal(title.apply(plain), plain);
  assert.equal(titlePrefixFromEnv(undefined), TITLE_PREFIX);
  assert.equal(titlePrefixFromEnv(""), "");
  assert.equal(titlePrefixFromEnv("1"), "");
});

/**
 * The notification bar: mosh-client's white-on-blue top row that says how long the server has
 * been silent and shows messages such as "Exiting on user request..." (docs/PROTOCOL.md §8.2).
 *
 * The bar appears while there is a message or while the link is late:
 * - server_late: more than 6500 ms since a new server state arrived ("Last contact");
 * - reply_late: more than 10000 ms since the send time of the newest client state the server
 *   acknowledged ("Last reply", used only when the server itself is not late).
 *
 * How the client drives it (all times are milliseconds on one clock):
 * - at start: `new NotificationEngine(now)`, `setEscapeKeyName("Ctrl-^")` (from escape_key.ts);
 * - after each datagram: `serverHeard(latestRemoteState.timestamp)` and
 *   `serverAcked(sentStateAckedTimestamp)`;
 * - messages: `setNotificationString(...)`, `setNetworkError(...)` when a send fails and
 *   `clearNetworkError()` after a tick that sent without error;
 * - for each frame: `apply(fb, now)` on top of the prediction overlay;
 * - wake up after at most `waitTime(now)` ms.
 */

import {
  ATTR_BOLD,
  CELL_MAX_BYTES,
  CELL_WORDS,
  FLAG_WIDE,
  type Framebuffer,
  type Row,
  utf8Length,
} from "./framebuffer.ts";
import { charWidth } from "./wcwidth.ts";

/** Silence from the server (ms) after which the bar shows "Last contact". */
export const SERVER_LATE_MS = 6500;
/** Time (ms) since the newest acknowledged client state was sent after which "Last reply". */
export const REPLY_LATE_MS = 10000;
/** Lifetime (ms) of an ordinary message. */
export const MESSAGE_LIFETIME_MS = 1000;
/** Lifetime (ms) of a server notice (ours: "Another client attached"), long enough to read. */
export const NOTICE_LIFETIME_MS = 5000;
/** Lifetime (ms) of a network error: ACK_INTERVAL + 100. */
export const NETWORK_ERROR_LIFETIME_MS = 3100;
/** Redraw interval (ms) of the count-up, and after 60 s of silence. */
export const COUNTUP_INTERVAL_MS = 1000;
/** Redraw interval (ms) of the count-up after 60 s without contact (ACK_INTERVAL). */
export const SLOW_COUNTUP_INTERVAL_MS = 3000;
/** Silence (ms) after which the count-up slows down. */
export const SLOW_COUNTUP_AFTER_MS = 60000;

/** mosh formats into a 128-wchar buffer: the text is at most 127 code points. */
const MAX_TEXT = 127;

/** Foreground 7 and background 4 in mosh's colour storage (30+i / 40+i). */
const BAR_FG = 30 + 7;
const BAR_BG = 40 + 4;

/**
 * A duration in whole seconds as mosh prints it: `N <unit>` below a minute, `M:SS` below an
 * hour, `H:MM:SS` otherwise. `unit` is "seconds" in the bar's own text and "s" inside a message.
 */
export function humanReadableDuration(seconds: number, unit: string): string {
  const s = Math.trunc(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s} ${unit}`;
  if (s < 3600) return `${Math.trunc(s / 60)}:${pad(s % 60)}`;
  return `${Math.trunc(s / 3600)}:${pad(Math.trunc(s / 60) % 60)}:${pad(s % 60)}`;
}

/** The notification bar state (§8.2). */
export class NotificationEngine {
  #lastWordFromServer: number;
  #lastAckedState: number;
  #quitHint = "";
  #message = "";
  /** When the message goes away (ms); Infinity for a permanent one. */
  #messageExpiration = -Infinity;
  #messageIsNetworkError = false;
  #showQuitKeystroke = true;

  /**
   * A bar with no message.
   * @param now the current time: the link counts as fresh at start
   */
  constructor(now: number) {
    this.#lastWordFromServer = now;
    this.#lastAckedState = now;
  }

  /**
   * Sets the escape key's name for the quit hint: `Ctrl-^` gives ` [To quit: Ctrl-^ .]`,
   * `"~"` gives ` [To quit: "~" .]`; "" (escape key disabled) shows no hint.
   */
  setEscapeKeyName(name: string): void {
    this.#quitHint = name === "" ? "" : ` [To quit: ${name} .]`;
  }

  /** The time the newest server state was received. */
  serverHeard(ts: number): void {
    this.#lastWordFromServer = ts;
  }

  /** The send time of the newest client state the server has acknowledged. */
  serverAcked(ts: number): void {
    this.#lastAckedState = ts;
  }

  /** The current message ("" when none). */
  get message(): string {
    return this.#message;
  }

  /**
   * Shows `message` ("" clears it). It expires after 1000 ms unless `permanent`. `showQuit`
   * adds the quit hint (the escape-key help text is shown without it).
   */
  setNotificationString(message: string, now: number, permanent = false, showQuit = true): void {
    this.#message = message;
    this.#messageExpiration = permanent ? Infinity : now + MESSAGE_LIFETIME_MS;
    this.#messageIsNetworkError = false;
    this.#showQuitKeystroke = showQuit;
  }

  /**
   * Shows a notice from our server (lib/terminal_events.ts) for NOTICE_LIFETIME_MS, unless a
   * permanent message (shutting down, the escape key's help) is shown: that one stays.
   */
  setNotice(message: string, now: number): void {
    if (this.#message !== "" && this.#messageExpiration === Infinity) return;
    this.setNotificationString(message, now);
    this.#messageExpiration = now + NOTICE_LIFETIME_MS;
  }

  /** Shows a network error (e.g. "sendto: Network is unreachable") for 3100 ms. */
  setNetworkError(message: string, now: number): void {
    this.#message = message;
    this.#messageExpiration = now + NETWORK_ERROR_LIFETIME_MS;
    this.#messageIsNetworkError = true;
    this.#showQuitKeystroke = true;
  }

  /** Sends work again: a shown network error goes away within 1000 ms. */
  clearNetworkError(now: number): void {
    if (this.#messageIsNetworkError) {
      this.#messageExpiration = Math.min(this.#messageExpiration, now + MESSAGE_LIFETIME_MS);
    }
  }

  /** More than 6500 ms since the newest server state arrived. */
  serverLate(now: number): boolean {
    return now - this.#lastWordFromServer > SERVER_LATE_MS;
  }

  /** More than 10000 ms since the newest acknowledged client state was sent. */
  replyLate(now: number): boolean {
    return now - this.#lastAckedState > REPLY_LATE_MS;
  }

  /** The bar's text at `now`, or null when no bar is shown. Expired messages are dropped. */
  text(now: number): string | null {
    if (now >= this.#messageExpiration) this.#message = "";
    const serverLate = this.serverLate(now);
    const late = serverLate || this.replyLate(now);
    const message = this.#message;
    if (message === "" && !late) return null;

    let elapsed = (now - this.#lastWordFromServer) / 1000;
    let explanation = "contact";
    if (!serverLate && late) {
      elapsed = (now - this.#lastAckedState) / 1000;
      explanation = "reply";
    }
    const hint = this.#showQuitKeystroke ? this.#quitHint : "";
    let text: string;
    if (message === "") {
      text = `mosh: Last ${explanation} ${humanReadableDuration(elapsed, "seconds")} ago.${hint}`;
    } else if (!late) {
      text = `mosh: ${message}${hint}`;
    } else {
      const duration = humanReadableDuration(elapsed, "s");
      text = `mosh: ${message} (${duration} without ${explanation}.)${hint}`;
    }
    return text;
  }

  /**
   * Draws the bar over row 0 of `fb` and returns the result (`fb` itself when no bar is shown;
   * `fb` is never modified). The whole row becomes white-on-blue spaces and the text is bold,
   * laid out with the emulator's widths and cut at the screen width; the cursor is hidden if it
   * is on row 0.
   */
  apply(fb: Framebuffer, now: number): Framebuffer {
    const text = this.text(now);
    if (text === null || fb.width <= 0 || fb.height <= 0) return fb;
    const rows = fb.rows.slice();
    rows[0] = drawBar(fb.rows[0], fb.width, text);
    return fb.with({ rows, cursorVisible: fb.cursorRow === 0 ? false : fb.cursorVisible });
  }

  /**
   * Milliseconds until the bar needs redrawing: the message's expiry, and while late the
   * count-up (every 1000 ms, every 3000 ms after 60 s of silence). Infinity when nothing.
   */
  waitTime(now: number): number {
    let wait = this.#messageExpiration > now ? this.#messageExpiration - now : Infinity;
    if (this.serverLate(now) || this.replyLate(now)) {
      const interval = now - this.#lastWordFromServer > SLOW_COUNTUP_AFTER_MS
        ? SLOW_COUNTUP_INTERVAL_MS
        : COUNTUP_INTERVAL_MS;
      wait = Math.min(wait, interval);
    }
    return wait;
  }
}

/** A copy of `real` (same generation) holding the bar with `text`. */
function drawBar(real: Row, width: number, text: string): Row {
  const row = real.clone();
  row.multi = null;
  const d = row.data;
  for (let x = 0; x < width; x++) {
    const at = x * CELL_WORDS;
    d[at] = 0x20;
    d[at + 1] = BAR_FG;
    d[at + 2] = BAR_BG;
    d[at + 3] = 0;
  }
  let col = 0;
  let combining = 0; // the cell combining marks attach to
  let combiningBytes = 1;
  let count = 0;
  for (const ch of text) {
    if (col >= width || ++count > MAX_TEXT) break;
    const cp = ch.codePointAt(0)!;
    const w = charWidth(cp);
    if (w === 1 || w === 2) {
      // A wide character that does not fit in the last column is not drawn.
      if (w === 2 && col === width - 1) break;
      const at = col * CELL_WORDS;
      d[at] = cp;
      d[at + 3] = ATTR_BOLD | (w === 2 ? FLAG_WIDE : 0);
      row.dropMulti(col);
      combining = col;
      combiningBytes = utf8Length(ch);
      col += w;
    } else if (w === 0) {
      // Combining marks join the last character (at first the bar's space in column 0).
      const bytes = utf8Length(ch);
      if (combiningBytes + bytes > CELL_MAX_BYTES) continue;
      const at = combining * CELL_WORDS;
      const base = row.multi?.get(combining) ?? String.fromCodePoint(d[at]);
      (row.multi ??= new Map()).set(combining, base + ch);
      combiningBytes += bytes;
    }
  }
  return row;
}

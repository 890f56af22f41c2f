/**
 * OSC (Operating System Command) strings as the emulator reads them (docs/PROTOCOL.md §9.3
 * "OSC"): window title and icon name (0, 1, 2), the clipboard (52), and beyond mosh the events
 * (9, 777 `notify`, 52; lib/terminal_events.ts) and OSC 8 hyperlinks (the extended layer,
 * docs/EXTENSIONS.md "Extended attributes"). The parser (lib/parser.ts) hands over the string's
 * code points without the introducer and the terminator; these functions read them.
 */

import { MAX_OSC_LENGTH } from "./parser.ts";

/** Window title and icon name keep at most this many code points of the OSC string (§9.3). */
export const TITLE_MAX = 256;
/**
 * Most clipboard characters a C client keeps: its OSC limit less the `52;c;` it receives (§9.3).
 * Every OSC 52 form is stored as what `52;c;<data>` gives C's emulator.
 */
export const CLIPBOARD_MAX = MAX_OSC_LENGTH - 5;
/** Longest OSC 8 hyperlink kept (`params;uri`, in code points); a longer one is no link. */
export const LINK_MAX = 2048;

const Q = 0x3f; // '?'

/** A title command: which names it sets, and the text. */
export interface TitleCommand {
  /** OSC 0 or 1: the icon name. */
  icon: boolean;
  /** OSC 0 or 2: the window title. */
  title: boolean;
  /** The text, cut to TITLE_MAX code points of the string. */
  text: string;
}

/** True when the OSC string is a clipboard command (`52;`). */
export function isClipboard(data: Uint32Array, length: number): boolean {
  return length >= 3 && data[0] === 0x35 && data[1] === 0x32 && data[2] === 0x3b;
}

/**
 * OSC 52 (`data` starts with `52;`): the text any selection parameter (`c`, `p`, `q`, `s`,
 * `0`-`7`, several or none) stores, cut to what C's emulator keeps (CLIPBOARD_MAX); null for a
 * query (`?`) or a malformed string, which store nothing.
 */
export function clipboardText(data: Uint32Array, length: number): string | null {
  let i = 3;
  while (i < length && isSelection(data[i])) i++;
  if (i >= length || data[i] !== 0x3b) return null;
  i++;
  if (length - i === 1 && data[i] === Q) return null;
  return codePointsToString(data, i, Math.min(length, i + CLIPBOARD_MAX));
}

/** OSC 0, 1 or 2 (`;text` counts as 0), or null for another command. */
export function titleCommand(data: Uint32Array, length: number): TitleCommand | null {
  if (length < 1) return null;
  let cmd = -1, offset = 0;
  if (data[0] === 0x3b) {
    cmd = 0;
    offset = 1;
  } else if (length >= 2 && data[1] === 0x3b) {
    cmd = data[0] - 0x30;
    offset = 2;
  }
  const icon = cmd === 0 || cmd === 1, title = cmd === 0 || cmd === 2;
  if (!icon && !title) return null;
  return { icon, title, text: codePointsToString(data, offset, Math.min(length, TITLE_MAX)) };
}

/**
 * OSC 8 (`8;params;uri`): the hyperlink to print with, `params;uri`; "" to end one (an empty
 * URI, or one longer than LINK_MAX); null when the string is not OSC 8.
 */
export function hyperlink(data: Uint32Array, length: number): string | null {
  if (length < 2 || data[0] !== 0x38 || data[1] !== 0x3b) return null;
  let semi = 2;
  while (semi < length && data[semi] !== 0x3b) semi++;
  if (semi >= length - 1 || length - 2 > LINK_MAX) return ""; // no URI
  return codePointsToString(data, 2, length);
}

/** True for the selection characters of OSC 52: `c`, `p`, `q`, `s` and `0`-`7`. */
function isSelection(cp: number): boolean {
  return cp === 0x63 || cp === 0x70 || cp === 0x71 || cp === 0x73 || (cp >= 0x30 && cp <= 0x37);
}

/** True if `data[0..length)` starts with `prefix` (ASCII). */
function startsWith(data: Uint32Array, length: number, prefix: string): boolean {
  if (length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** True for an OSC string that is an event: `9;`, `777;notify;`, or `52;` but not a query. */
export function isEvent(data: Uint32Array, length: number): boolean {
  if (startsWith(data, length, "9;") || startsWith(data, length, "777;notify;")) return true;
  if (!startsWith(data, length, "52;")) return false;
  let i = 3;
  while (i < length && isSelection(data[i])) i++;
  return i < length && data[i] === 0x3b && !(length - i === 2 && data[i + 1] === Q);
}

/** The string of code points `data[from..to)`. */
export function codePointsToString(data: Uint32Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 4096) {
    s += String.fromCodePoint(...data.subarray(i, Math.min(to, i + 4096)));
  }
  return s;
}

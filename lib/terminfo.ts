/**
 * Terminfo: reads the compiled terminfo entry for `$TERM` and extracts the few capabilities the
 * client's display needs (docs/PROTOCOL.md §8.0 and §10): `colors`, `ech` (erase characters),
 * `bce` (background colour erase), `smcup` and `rmcup` (alternate screen), and beyond mosh the
 * extended attributes it shows (`dim`, and the user-defined `smxx`, `Smol`, `Smulx`, `Setulc`;
 * lib/display_attributes.ts).
 *
 * The compiled format is described in term(5):
 *
 *   header   six little-endian u16: magic, names size, boolean count, number count,
 *            string count, string table size. Magic 0432 is the legacy format with 16-bit
 *            numbers; 01036 is ncurses 6's extended-number format with 32-bit numbers.
 *   names    `names size` bytes, NUL-terminated ("xterm|xterm terminal emulator ...")
 *   booleans one byte each, then a pad byte if the offset is odd
 *   numbers  16- or 32-bit signed little-endian; negative = absent or cancelled
 *   strings  u16 offsets into the string table; 0xffff absent, 0xfffe cancelled
 *   table    NUL-terminated strings
 *   extended (optional, ncurses' user-defined capabilities) at an even offset: five u16 (boolean,
 *            number and string counts, item count, table size), the booleans, a pad byte to
 *            an even offset, the numbers, string offsets, name offsets (booleans, numbers, then
 *            strings), then the table: the string values, then the names (name offsets count
 *            from the end of the last value)
 *
 * Entries are looked up like ncurses does: `$TERMINFO`, `~/.terminfo`, the `$TERMINFO_DIRS` list,
 * then /etc/terminfo, /lib/terminfo and /usr/share/terminfo; in each directory both the
 * `x/xterm` layout and the hexadecimal `78/xterm` layout are tried. When no entry is found the
 * capabilities of an xterm are assumed.
 */

import type { AttributeSupport } from "./display_attributes.ts";

/** The capabilities the mosh client takes from terminfo. */
export interface TermCaps {
  /** The terminal name looked up ("" when `$TERM` was unset). */
  name: string;
  /** Path of the compiled entry that was read, or null when the xterm defaults were used. */
  path: string | null;
  /** `colors`: the number of colours, -1 when the entry does not have it. */
  colors: number;
  /** `ech`: the terminal can erase characters with `CSI n X`. */
  ech: boolean;
  /** `bce`: erasing fills with the current background colour. */
  bce: boolean;
  /** `smcup`: enter the alternate screen ("" when absent). Padding (`$<..>`) removed. */
  smcup: string;
  /** `rmcup`: leave the alternate screen ("" when absent). Padding removed. */
  rmcup: string;
  /** Window titles are supported (by TERM prefix, as mosh decides, §8.0). */
  title: boolean;
  /**
   * The extended attributes the terminal shows: faint (`dim`), strikethrough (`smxx`), overline
   * (`Smol`), underline styles (`Smulx`) and colour (`Setulc`); hyperlinks (OSC 8, which has no
   * capability) where window titles are supported, since such a terminal parses OSC strings and
   * drops one it does not know (the Linux console would print it).
   */
  attributes: AttributeSupport;
}

/** A decoded compiled terminfo entry (the standard capabilities only). */
export interface TerminfoEntry {
  /** The names line, e.g. `xterm|xterm terminal emulator (X Window System)`. */
  names: string;
  /** Standard booleans by index (term(5) order). */
  booleans: boolean[];
  /** Standard numbers by index; -1 absent, -2 cancelled. */
  numbers: number[];
  /** Standard strings by index; null when absent or cancelled. */
  strings: (string | null)[];
  /** The user-defined (extended) string capabilities present, by name (`Smulx`, `smxx`...). */
  extendedStrings: Map<string, string>;
}

// Indexes in the standard capability order (ncurses' Caps file, term.h).
const BOOL_BCE = 28; // back_color_erase
const NUM_COLORS = 13; // max_colors
const STR_SMCUP = 28; // enter_ca_mode
const STR_DIM = 30; // enter_dim_mode
const STR_ECH = 37; // erase_chars
const STR_RMCUP = 40; // exit_ca_mode

const MAGIC_LEGACY = 0o432;
const MAGIC_EXTENDED = 0o1036;

/** The capabilities assumed when no terminfo entry is found: those of xterm. */
export const XTERM_DEFAULTS: Readonly<Omit<TermCaps, "name" | "path" | "title" | "attributes">> = {
  colors: 8,
  ech: true,
  bce: true,
  smcup: "\x1b[?1049h\x1b[22;0;0t",
  rmcup: "\x1b[?1049l\x1b[23;0;0t",
};

const TITLE_PREFIXES = ["xterm", "rxvt", "kterm", "Eterm", "alacritty", "screen", "tmux"];

/** True if mosh assumes `term` supports window titles (§8.0). */
export function titleSupported(term: string | undefined): boolean {
  if (!term) return false;
  return TITLE_PREFIXES.some((p) => term.startsWith(p));
}

/**
 * Decodes a compiled terminfo entry. Throws an Error naming the problem when the bytes are not a
 * valid legacy (0432) or extended-number (01036) entry.
 */
export function parseTerminfo(bytes: Uint8Array): TerminfoEntry {
  const fail = (why: string): never => {
    throw new Error(`terminfo: ${why}`);
  };
  if (bytes.length < 12) fail(`entry too short (${bytes.length} bytes)`);
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const magic = u16(0);
  if (magic !== MAGIC_LEGACY && magic !== MAGIC_EXTENDED) {
    fail(`bad magic 0${magic.toString(8)}, expected 0432 or 01036`);
  }
  const numSize = magic === MAGIC_EXTENDED ? 4 : 2;
  const namesSize = u16(2), boolCount = u16(4), numCount = u16(6);
  const strCount = u16(8), tableSize = u16(10);
  for (const [what, v] of [["names", namesSize], ["booleans", boolCount]] as const) {
    if (v > 0x7fff) fail(`bad ${what} size ${v}`);
  }
  const namesStart = 12;
  let boolStart = namesStart + namesSize;
  let numStart = boolStart + boolCount;
  if (numStart % 2 === 1) numStart++;
  const strStart = numStart + numCount * numSize;
  const tableStart = strStart + strCount * 2;
  const end = tableStart + tableSize;
  if (end > bytes.length) fail(`entry truncated: needs ${end} bytes, has ${bytes.length}`);

  let nameLen = 0;
  while (nameLen < namesSize && bytes[namesStart + nameLen] !== 0) nameLen++;
  const names = String.fromCharCode(...bytes.subarray(namesStart, namesStart + nameLen));

  const booleans: boolean[] = [];
  for (let i = 0; i < boolCount; i++) booleans.push(bytes[boolStart++] === 1);

  const numbers: number[] = [];
  for (let i = 0; i < numCount; i++) {
    const at = numStart + i * numSize;
    let v: number;
    if (numSize === 4) {
      v = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
    } else {
      v = u16(at);
      if (v >= 0x8000) v -= 0x10000;
    }
    numbers.push(v < 0 ? (v === -2 ? -2 : -1) : v);
  }

  const strings: (string | null)[] = [];
  for (let i = 0; i < strCount; i++) {
    const off = u16(strStart + i * 2);
    if (off >= 0xfffe) {
      strings.push(null);
      continue;
    }
    if (off >= tableSize) fail(`string ${i} offset ${off} outside the table (${tableSize})`);
    let e = tableStart + off;
    while (e < end && bytes[e] !== 0) e++;
    if (e === end) fail(`string ${i} is not terminated`);
    strings.push(String.fromCharCode(...bytes.subarray(tableStart + off, e)));
  }
  return { names, booleans, numbers, strings, extendedStrings: extended(bytes, end, numSize) };
}

/**
 * The extended section's string capabilities, by name, read from `at` (the end of the standard
 * part); empty when the entry has none. A malformed section is ignored, as if absent.
 */
function extended(bytes: Uint8Array, at: number, numSize: number): Map<string, string> {
  const out = new Map<string, string>();
  if (at % 2 === 1) at++;
  if (at + 10 > bytes.length) return out;
  const u16 = (i: number) => bytes[i] | (bytes[i + 1] << 8);
  const boolCount = u16(at), numCount = u16(at + 2), strCount = u16(at + 4);
  const tableSize = u16(at + 8);
  let p = at + 10 + boolCount;
  if (p % 2 === 1) p++;
  p += numCount * numSize;
  const valueOffsets = p;
  const nameOffsets = valueOffsets + strCount * 2;
  const tableStart = nameOffsets + (boolCount + numCount + strCount) * 2;
  const end = tableStart + tableSize;
  if (end > bytes.length) return out;
  const cString = (from: number): string | null => {
    let e = from;
    while (e < end && bytes[e] !== 0) e++;
    return e < end ? String.fromCharCode(...bytes.subarray(from, e)) : null;
  };
  // The names follow the last value.
  let namesStart = tableStart;
  const values: (string | null)[] = [];
  for (let i = 0; i < strCount; i++) {
    const off = u16(valueOffsets + i * 2);
    const v = off >= 0xfffe || off >= tableSize ? null : cString(tableStart + off);
    values.push(v);
    if (v !== null) namesStart = Math.max(namesStart, tableStart + off + v.length + 1);
  }
  for (let i = 0; i < strCount; i++) {
    const off = u16(nameOffsets + (boolCount + numCount + i) * 2);
    const name = namesStart + off < end ? cString(namesStart + off) : null;
    const v = values[i];
    if (name !== null && v !== null) out.set(name, v);
  }
  return out;
}

/** Removes terminfo padding specifications such as `$<5>` or `$<2*>` from a capability string. */
function stripPadding(s: string): string {
  return s.replace(/\$<[0-9.]*[*/]*>/g, "");
}

/** The directories searched for compiled entries, in order. */
export function terminfoDirs(env: (name: string) => string | undefined): string[] {
  const system = ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"];
  const dirs: string[] = [];
  const terminfo = env("TERMINFO");
  if (terminfo) dirs.push(terminfo);
  const home = env("HOME");
  if (home) dirs.push(`${home}/.terminfo`);
  const list = env("TERMINFO_DIRS");
  if (list !== undefined) {
    // An empty element stands for the system directories, as in ncurses.
    for (const d of list.split(":")) dirs.push(...(d === "" ? system : [d]));
  }
  for (const d of system) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/**
 * Finds and reads the compiled entry for `term`. Returns null when the name is unusable or no
 * directory holds a readable, valid entry.
 */
export function findTerminfo(
  term: string,
  env: (name: string) => string | undefined = readEnv,
): { path: string; entry: TerminfoEntry } | null {
  if (term === "" || term.includes("/") || term === "." || term === "..") return null;
  const first = term[0];
  const hex = first.charCodeAt(0).toString(16).padStart(2, "0");
  for (const dir of terminfoDirs(env)) {
    for (const sub of [first, hex]) {
      const path = `${dir}/${sub}/${term}`;
      let bytes: Uint8Array;
      try {
        bytes = Deno.readFileSync(path);
      } catch {
        continue; // missing or unreadable: keep searching
      }
      try {
        return { path, entry: parseTerminfo(bytes) };
      } catch {
        continue; // corrupt entry: ncurses would also skip it
      }
    }
  }
  return null;
}

/**
 * The display capabilities for terminal type `term` (normally `Deno.env.get("TERM")`), read from
 * the terminfo database, or xterm's when no entry is found.
 */
export function loadTerminfo(
  term: string | undefined,
  env: (name: string) => string | undefined = readEnv,
): TermCaps {
  const name = term ?? "";
  const found = findTerminfo(name, env);
  if (!found) {
    const title = titleSupported(name);
    // xterm's entry has dim and smxx.
    const attributes = support(title, true, true, false, false, false);
    return { name, path: null, ...XTERM_DEFAULTS, title, attributes };
  }
  const { booleans, numbers, strings, extendedStrings: ext } = found.entry;
  const colors = numbers[NUM_COLORS];
  return {
    name,
    path: found.path,
    colors: colors === undefined || colors < 0 ? -1 : colors,
    ech: (strings[STR_ECH] ?? null) !== null,
    bce: booleans[BOOL_BCE] === true,
    smcup: stripPadding(strings[STR_SMCUP] ?? ""),
    rmcup: stripPadding(strings[STR_RMCUP] ?? ""),
    title: titleSupported(name),
    attributes: support(
      titleSupported(name),
      (strings[STR_DIM] ?? null) !== null,
      ext.has("smxx"),
      ext.has("Smol"),
      ext.has("Smulx"),
      ext.has("Setulc"),
    ),
  };
}

/** The extended attributes shown, as `TermCaps.attributes` says. */
function support(
  hyperlinks: boolean,
  faint: boolean,
  strike: boolean,
  overline: boolean,
  underlineStyles: boolean,
  underlineColor: boolean,
): AttributeSupport {
  return Object.freeze({ faint, strike, overline, underlineStyles, underlineColor, hyperlinks });
}

/**
 * The colour count `mosh-client -c` prints for `term`: terminfo `colors`, -1 when the entry lacks
 * it (as mosh-client), 0 when `term` is unset or has no entry (mosh-client fails there; its
 * wrapper turns the failure into 0 anyway). The wrapper passes the same count to the server.
 */
export function colorsFor(
  term: string | undefined,
  env: (name: string) => string | undefined = readEnv,
): number {
  const caps = loadTerminfo(term, env);
  return caps.path === null ? 0 : caps.colors;
}

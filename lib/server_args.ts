/**
 * The mosh-server command line (docs/PROTOCOL.md §7.1, §2.4 step 1), parsed the way mosh-server
 * 1.4.0 parses it, messages included:
 *
 *   mosh-server new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE]
 *                   [-- COMMAND...]
 *   mosh-server                 (legacy: defaults)
 *   mosh-server IP              (legacy: bind IP)
 *   mosh-server IP PORT         (legacy: bind IP and port)
 *
 * After "new" the options follow getopt("@:i:p:c:svl:") rules: clustered letters (`-sv`),
 * attached or separate arguments (`-p60001`, `-p 60001`), options and ignored words in any order,
 * and `--` ending the options (everything after it is the command). An unknown option or a
 * missing argument prints getopt's message and the usage line and carries on, as C does. `--help`
 * or `-h` anywhere before `--` asks for the usage, `--version` for the version block. Parsing is
 * pure: the result says what to print and whether to go on. Port values are checked by
 * lib/connection.ts's `parsePortRange` (mosh's messages).
 */

import { DEFAULT_PORT_RANGE, parsePortRange, type PortRange, PortRangeError } from "./address.ts";
import { versionText } from "./version.ts";

/** The usage line, exactly as mosh-server 1.4.0 prints it. */
export const USAGE =
  "Usage: mosh-server new [-s] [-v] [-i LOCALADDR] [-p PORT[:PORT2]] [-c COLORS] [-l NAME=VALUE] [-- COMMAND...]";

/** The version block (printed by `--version`, and on stderr when the server detaches). */
export const VERSION_TEXT = versionText("mosh-server");

/** The hidden first argument that makes server.ts run as the standalone background server. */
export const DAEMON_FLAG = "--mosh-deno-daemon";
/** The hidden first argument that makes server.ts run as the session host (lib/host.ts). */
export const HOST_FLAG = "--mosh-deno-host";

/** What the server should do, from its command line. */
export interface ServerOptions {
  /** The command to run (execvp semantics), or null for the user's login shell. */
  command: string[] | null;
  /** Local address to try binding first (`-i`, `-s` or the legacy IP argument), or null. */
  bindIp: string | null;
  /** Ports to try in ascending order; `{0, 0}` lets the kernel choose. */
  portRange: PortRange;
  /** The `-c` colour count (0 when not given); 256 selects TERM=xterm-256color. */
  colors: number;
  /** How many times `-v` was given. */
  verbose: number;
  /** `-l NAME=VALUE` settings to try when the native locale is not UTF-8, in order. */
  locales: string[];
}

/** The outcome of parsing: print `messages` on stderr, then act. */
export type ParseResult =
  | { action: "help" }
  | { action: "version" }
  | { action: "run"; options: ServerOptions; messages: string[] }
  | { action: "fail"; messages: string[] };

const OPTIONS_WITH_ARGUMENT = "@ipcl";
const OPTIONS_WITHOUT_ARGUMENT = "sv";

/** C strtol accepting the whole string: optional blanks, optional sign, digits, nothing else. */
function strtolWhole(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  return m === null ? null : Number(m[1]);
}

/** The bind address `-s` asks for: the third word of $SSH_CONNECTION, minus any `::ffff:`. */
function sshConnectionIp(env: Record<string, string | undefined>): {
  ip: string | null;
  warning?: string;
} {
  const value = env.SSH_CONNECTION;
  if (value === undefined) {
    return { ip: null, warning: "Warning: SSH_CONNECTION not found; binding to any interface." };
  }
  const words = value.trim().split(/\s+/);
  if (value.trim() === "" || words.length < 3) {
    return {
      ip: null,
      warning: "Warning: Could not parse SSH_CONNECTION; binding to any interface.",
    };
  }
  const ip = words[2];
  return { ip: ip.toLowerCase().startsWith("::ffff:") ? ip.slice(7) : ip };
}

/**
 * Parses mosh-server's arguments (`Deno.args`). `env` supplies SSH_CONNECTION for `-s`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const r = parseServerArgs(["new", "-p", "60001:60010", "--", "htop"]);
 * assert.equal(r.action, "run");
 * if (r.action === "run") {
 *   assert.deepEqual(r.options.portRange, { low: 60001, high: 60010 });
 *   assert.deepEqual(r.options.command, ["htop"]);
 * }
 * ```
 */
export function parseServerArgs(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): ParseResult {
  const dashdash = args.indexOf("--");
  for (const arg of dashdash < 0 ? args : args.slice(0, dashdash)) {
    if (arg === "--help" || arg === "-h") return { action: "help" };
    if (arg === "--version") return { action: "version" };
  }
  const options: ServerOptions = {
    command: null,
    bindIp: null,
    portRange: { ...DEFAULT_PORT_RANGE },
    colors: 0,
    verbose: 0,
    locales: [],
  };
  const messages: string[] = [];
  let portSpec: string | null = null;

  if (args.length >= 1 && args[0] === "new") {
    for (let i = 1; i < args.length; i++) {
      const arg = args[i];
      if (arg === "--") {
        if (i + 1 < args.length) options.command = args.slice(i + 1);
        break;
      }
      if (arg.length < 2 || arg[0] !== "-") continue; // not an option: ignored, as in C
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j];
        if (OPTIONS_WITHOUT_ARGUMENT.includes(letter)) {
          if (letter === "v") {
            options.verbose++;
          } else {
            const found = sshConnectionIp(env);
            if (found.warning !== undefined) messages.push(found.warning);
            options.bindIp = found.ip;
          }
          continue;
        }
        if (!OPTIONS_WITH_ARGUMENT.includes(letter)) {
          messages.push(`new: invalid option -- '${letter}'`, USAGE);
          continue;
        }
        let value: string;
        if (j + 1 < arg.length) {
          value = arg.slice(j + 1);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          messages.push(`new: option requires an argument -- '${letter}'`, USAGE);
          break;
        }
        j = arg.length; // the rest of this word was the argument
        switch (letter) {
          case "i":
            options.bindIp = value;
            break;
          case "p":
            portSpec = value;
            break;
          case "c": {
            const n = value === "" ? 0 : strtolWhole(value);
            if (n === null) {
              messages.push(`mosh-server: Bad number of colors (${value})`, USAGE);
              return { action: "fail", messages };
            }
            options.colors = n;
            break;
          }
          case "l":
            options.locales.push(value);
            break;
          case "@":
            break; // undocumented; its argument is swallowed
        }
      }
    }
  } else if (args.length === 1) {
    options.bindIp = args[0];
  } else if (args.length === 2) {
    options.bindIp = args[0];
    portSpec = args[1];
  } else if (args.length > 2) {
    return { action: "fail", messages: [USAGE] };
  }

  if (portSpec !== null) {
    try {
      options.portRange = parsePortRange(portSpec);
    } catch (e) {
      if (!(e instanceof PortRangeError)) throw e;
      messages.push(e.detail, `mosh-server: ${e.message}`, USAGE);
      return { action: "fail", messages };
    }
  }
  return { action: "run", options, messages };
}

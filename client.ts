/**
 * client.ts: mosh-client and the `mosh` command in one entry point (docs/PROTOCOL.md §8.0, §8.5).
 *
 * The arguments decide the mode, so one file can stand in for both programs:
 * - mosh-client when they start with `-c`, contain `-#` (joined `-#ARGS` or separate), or are
 *   exactly `[-v...] [--no-scrollback] IP PORT` with a numeric IP (IPv4 or IPv6) and an all-digit
 *   port;
 * - the `mosh` wrapper (ssh bootstrap, lib/wrapper.ts) otherwise.
 *
 * mosh-client mode parses like C mosh-client (`--help`, `--version`, getopt `#:cv`), checks the
 * environment (MOSH_KEY, which it removes at once, MOSH_PREDICTION_DISPLAY, ...; `--no-scrollback`
 * or MOSH_NO_SCROLLBACK turn our scrollback extension off) and runs lib/client_start.ts (the first
 * state goes out, then the session loop of lib/client_session.ts loads). Every failure is one clear
 * message and exit status 1.
 *
 * Permissions: --allow-net (UDP), --allow-env, --allow-read (terminfo), and --allow-run only for
 * suspending with Ctrl-^ Ctrl-Z (it stops the process group). No FFI.
 */

import { parseKey } from "./lib/key.ts";
import { type ForwardRule, parseForwardSpec } from "./lib/forward_spec.ts";
import { type ClientOptions, runClient } from "./lib/client_start.ts";
import { isNumericIp } from "./lib/address.ts";
import { parsePredictionMode, type PredictionMode } from "./lib/prediction_triggers.ts";
import { colorsFor } from "./lib/terminfo.ts";
import { nonUtf8Locale } from "./lib/locale.ts";
import { errorText } from "./lib/errors.ts";
import { type Printer, stdio } from "./lib/write_all.ts";
import { versionText } from "./lib/version.ts";

export type { Printer };

/** The version block printed by `--version` and `--help`. */
const VERSION_TEXT = versionText("mosh-client") + "\n";

/** mosh-client's usage text. */
export const USAGE_TEXT =
  "Usage: mosh-client [-# 'ARGS'] [--no-scrollback] [-L [bind:]port:host:hostport]\n" +
  "                   [-R [bind:]port:host:hostport] [-D [bind:]port] [-A]\n                   IP PORT\n" +
  "       mosh-client -c\n";

/** mosh-client's option that turns our scrollback extension off. */
export const NO_SCROLLBACK = "--no-scrollback";

/** Which program the arguments ask for. */
export type ArgMode = "client" | "wrapper";

/**
 * Decides between mosh-client and the `mosh` wrapper from the arguments alone (see the module
 * comment for the rules).
 */
export function detectMode(args: readonly string[]): ArgMode {
  if (args.length > 0 && args[0] === "-c") return "client";
  if (args.some((a) => a.startsWith("-#"))) return "client";
  let i = 0;
  for (;;) {
    if (
      i < args.length && (/^-v+$/.test(args[i]) || args[i] === NO_SCROLLBACK || args[i] === "-A")
    ) i++;
    else if (/^-[LRD]$/.test(args[i]) && i + 1 < args.length) i += 2;
    else break;
  }
  const rest = args.slice(i);
  if (rest.length === 2 && isNumericIp(rest[0]) && /^[0-9]+$/.test(rest[1])) return "client";
  return "wrapper";
}

/** The outcome of parsing mosh-client's arguments. */
export type ClientCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "colors" }
  | {
    kind: "run";
    ip: string;
    port: number;
    verbose: number;
    scrollback: boolean;
    forwards: ForwardRule[];
    agent: boolean;
  }
  | { kind: "error"; message: string };

/**
 * Parses mosh-client's command line: `--help`/`--version` anywhere win; then getopt-style
 * options `-#ARG`, `-c`, `-v` (bundling allowed); then exactly IP and PORT.
 */
export function parseClientArgs(args: readonly string[]): ClientCommand {
  if (args.includes("--help")) return { kind: "help" };
  if (args.includes("--version")) return { kind: "version" };
  let colors = false, verbose = 0, i = 0, scrollback = true;
  const forwards: ForwardRule[] = [];
  let agent = false;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a === "-A") {
      agent = true; // our extension: agent forwarding
      continue;
    }
    if (/^-[LRD]/.test(a)) {
      // Our extension: -L/-R [bind:]port:host:hostport, -D [bind:]port (docs/EXTENSIONS.md).
      const kind = a[1] as "L" | "R" | "D";
      const spec = a.length > 2 ? a.slice(2) : args[++i];
      if (spec === undefined) {
        return { kind: "error", message: `mosh-client: option requires an argument -- '${kind}'` };
      }
      try {
        forwards.push(parseForwardSpec(kind, spec));
      } catch (e) {
        return { kind: "error", message: `mosh-client: ${errorText(e)}` };
      }
      continue;
    }
    if (a === NO_SCROLLBACK) {
      scrollback = false;
      continue;
    }
    if (a.length < 2 || a[0] !== "-") break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      if (c === "c") colors = true;
      else if (c === "v") verbose++;
      else if (c === "#") {
        if (j + 1 === a.length) {
          if (i + 1 >= args.length) {
            return { kind: "error", message: "mosh-client: option requires an argument -- '#'" };
          }
          i++;
        }
        break;
      } else return { kind: "error", message: `mosh-client: invalid option -- '${c}'` };
    }
  }
  if (colors) return { kind: "colors" };
  const rest = args.slice(i);
  if (rest.length !== 2) return { kind: "error", message: "" };
  const [ip, portText] = rest;
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : -1;
  if (port < 0 || port > 65535) {
    return { kind: "error", message: `mosh-client: Bad UDP port (${portText})` };
  }
  if (!isNumericIp(ip)) {
    return {
      kind: "error",
      message: `mosh-client: Bad IP address (${ip}): must be a numeric IPv4 or IPv6 address`,
    };
  }
  return { kind: "run", ip, port, verbose, scrollback, forwards, agent };
}

/** Runs mosh-client with `args`; returns the exit status. */
export async function clientMain(
  args: readonly string[],
  print: Printer = stdio,
): Promise<number> {
  const cmd = parseClientArgs(args);
  switch (cmd.kind) {
    case "help":
      print.out(VERSION_TEXT + "\n" + USAGE_TEXT);
      return 0;
    case "version":
      print.out(VERSION_TEXT);
      return 0;
    case "colors":
      print.out(`${colorsFor(Deno.env.get("TERM"))}\n`);
      return 0;
    case "error":
      print.err((cmd.message ? cmd.message + "\n\n" : "") + USAGE_TEXT);
      return 1;
  }
  const locale = { LC_ALL: "", LC_CTYPE: "", LANG: "" };
  for (const name of ["LC_ALL", "LC_CTYPE", "LANG"] as const) {
    locale[name] = Deno.env.get(name) ?? "";
  }
  if (nonUtf8Locale(locale) !== null) {
    print.err("mosh-client needs a UTF-8 native locale to run.\n");
    return 1;
  }
  const key = Deno.env.get("MOSH_KEY");
  if (key === undefined) {
    print.err("MOSH_KEY environment variable not found.\n");
    return 1;
  }
  Deno.env.delete("MOSH_KEY");
  let mode: PredictionMode;
  try {
    mode = parsePredictionMode(Deno.env.get("MOSH_PREDICTION_DISPLAY"));
  } catch (e) {
    print.err(`${errorText(e)}\n`); // "Unknown prediction mode X."
    return 1;
  }
  try {
    parseKey(key);
  } catch (e) {
    print.err(`Bad MOSH_KEY: ${errorText(e)}\n`);
    return 1;
  }
  const opts: ClientOptions = {
    ip: cmd.ip,
    port: cmd.port,
    key,
    predictionMode: mode,
    predictOverwrite: Deno.env.get("MOSH_PREDICTION_OVERWRITE") === "yes",
    escapeKey: Deno.env.get("MOSH_ESCAPE_KEY"),
    titleNoPrefix: Deno.env.get("MOSH_TITLE_NOPREFIX") !== undefined,
    noTermInit: Deno.env.get("MOSH_NO_TERM_INIT") !== undefined,
    term: Deno.env.get("TERM"),
    verbose: cmd.verbose,
    scrollback: cmd.scrollback && Deno.env.get("MOSH_NO_SCROLLBACK") === undefined,
    forwards: cmd.forwards,
    agentSocket: cmd.agent ? Deno.env.get("SSH_AUTH_SOCK") || undefined : undefined,
    printErr: print.err,
    printOut: print.out,
  };
  return await runClient(opts);
}

/** Entry point: picks the mode and returns the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  try {
    if (detectMode(args) === "client") return await clientMain(args);
    // Loaded only in wrapper mode: mosh-client never needs the ssh bootstrap's modules.
    const { runWrapper } = await import("./lib/wrapper.ts");
    return await runWrapper([...args]);
  } catch (e) {
    stdio.err(`mosh: ${errorText(e)}\n`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

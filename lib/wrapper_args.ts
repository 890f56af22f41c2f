/**
 * The `mosh` wrapper's command line and the text it exchanges with ssh (docs/PROTOCOL.md §8.5).
 *
 * Everything here is pure, so the exact command lines can be tested without running anything:
 * - `parseWrapperArgs`: mosh's options, parsed the way mosh.pl's Getopt::Long parses them (long
 *   options with one or two dashes, `=VALUE` or a separate value, unique abbreviations, case
 *   ignored, `--no-X` for the negatable ones, options anywhere before `--`);
 * - `checkPortSpec`: the local `-p PORT[:PORT2]` check with mosh's messages;
 * - `serverCommandLine` and `sshCommand`: the remote command (every word single-quoted, `'\''`
 *   for a quote) and the ssh argv, including the ProxyCommand and the `-l NAME=VALUE` locale
 *   settings;
 * - `shellWords`: `--ssh=COMMAND` split like Perl's shellwords;
 * - `checkUserHost`: the refusal of a host that starts with `-` or holds shell metacharacters;
 * - `parseBootstrapLine`: the `MOSH IP`, `MOSH SSH_CONNECTION` and `MOSH CONNECT` lines.
 */

import { FAMILIES, type Family } from "./fake_proxy.ts";
import { FORWARD_PRESET_VARIABLE, type ForwardRule, parseForwardSpec } from "./forward_spec.ts";
import { PREDICTION_MODES, type PredictionMode } from "./prediction_triggers.ts";

export { FAMILIES, type Family, PREDICTION_MODES, type PredictionMode };

/** How the UDP target address is found (`--experimental-remote-ip`). */
export const REMOTE_IP_MODES = ["proxy", "local", "remote"] as const;
/** One `--experimental-remote-ip` mode. */
export type RemoteIpMode = typeof REMOTE_IP_MODES[number];

/** The locale variables passed to the server as `-l NAME=VALUE`, in mosh's order. */
export const LOCALE_VARIABLES = [
  "LANG",
  "LANGUAGE",
  "LC_CTYPE",
  "LC_NUMERIC",
  "LC_TIME",
  "LC_COLLATE",
  "LC_MONETARY",
  "LC_MESSAGES",
  "LC_PAPER",
  "LC_NAME",
  "LC_ADDRESS",
  "LC_TELEPHONE",
  "LC_MEASUREMENT",
  "LC_IDENTIFICATION",
  "LC_ALL",
] as const;

/** The wrapper's usage and option summary (`--help` on stdout; usage errors on stderr). */
export const USAGE = `Usage: mosh [options] [--] [user@]host [command...]
        --client=PATH        mosh client on local machine
                                (default: the client built into this program)
        --server=COMMAND     mosh server on remote machine
                                (default: "mosh-server")

        --predict=adaptive      local echo for slower links [default]
-a      --predict=always        use local echo even on fast links
-n      --predict=never         never use local echo
        --predict=experimental  aggressively echo even when incorrect

-o      --predict-overwrite     prediction overwrites instead of inserting

-4      --family=inet        use IPv4 only
-6      --family=inet6       use IPv6 only
        --family=auto        autodetect network type for single-family hosts only
        --family=all         try all network types
        --family=prefer-inet use all network types, but try IPv4 first [default]
        --family=prefer-inet6 use all network types, but try IPv6 first
-p PORT[:PORT2]
        --port=PORT[:PORT2]  server-side UDP port or range
                                (No effect on server-side SSH port)
        --bind-server={ssh|any|IP}  ask the server to reply from an IP address
                                       (default: "ssh")

        --ssh=COMMAND        ssh command to run when setting up session
                                (example: "ssh -p 2222")
                                (default: "ssh")

        --no-ssh-pty         do not allocate a pseudo tty on ssh connection

        --no-init            do not send terminal initialization string

        --no-scrollback      keep no scrollback in the local terminal
                                (with our mosh-server; the default keeps it)

-L [bind:]port:host:hostport forward a local port to host:hostport from the
                                server (with our mosh-server and client)
-R [bind:]port:host:hostport forward a port on the server to host:hostport from
                                this machine
-A                           forward the local ssh agent (SSH_AUTH_SOCK)
-D [bind:]port               a local SOCKS5 proxy whose connections leave
                                from the server (names resolved there)

        --local              run mosh-server locally without using ssh

        --session=NAME       attach to the session NAME, or create it
                             (needs this program's mosh-server)
        --list               list the remote user's sessions and exit

        --experimental-remote-ip=(local|remote|proxy)  select the method for
                             discovering the remote IP address to use for mosh
                             (default: "proxy")

        --help               this message
        --version            version and copyright information

mosh on Deno: wire-compatible with mosh 1.4.0. Mosh home page: https://mosh.org
`;

/** The options of one `mosh` invocation, after parsing (values not yet validated). */
export interface WrapperOptions {
  /** `--client=PATH`: run this program as the client; null runs the built-in client. */
  client: string | null;
  /** `--server=COMMAND`: placed verbatim before the quoted server arguments. */
  server: string;
  /** `--predict`, `-a`, `-n`; null when not given (MOSH_PREDICTION_DISPLAY, then adaptive). */
  predict: string | null;
  /** `-o`, `--predict-overwrite`. */
  predictOverwrite: boolean;
  /** `--family`, `-4`, `-6`. */
  family: string;
  /** `-p`, `--port`: the server's UDP port or range, as given. */
  port: string | null;
  /** `--bind-server`: `ssh`, `any` or an IP address. */
  bindServer: string;
  /** `--ssh=COMMAND`, split with `shellWords`. */
  ssh: string;
  /** False with `--no-ssh-pty` (no `-tt`). */
  sshPty: boolean;
  /** False with `--no-init` (MOSH_NO_TERM_INIT=1). */
  init: boolean;
  /** False with `--no-scrollback` (our extension; MOSH_NO_SCROLLBACK=1 for the client). */
  scrollback: boolean;
  /** `-L`/`-R`/`-D` rules, in order (our forwarding extension). */
  forwards: ForwardRule[];
  /** `-A`: forward the local ssh agent (our forwarding extension). */
  agent: boolean;
  /** `--local`: run the server here, without ssh. */
  local: boolean;
  /** `--experimental-remote-ip`. */
  remoteIp: string;
  /** `--fake-proxy`: act as ssh's ProxyCommand (internal). */
  fakeProxy: boolean;
  /** `--session=NAME`: attach to the named session, or create it (mosh-deno servers only). */
  session: string | null;
  /** `--list`: print the remote user's sessions (mosh-deno servers only). */
  list: boolean;
}

/** The outcome of parsing the wrapper's arguments. */
export type WrapperArgs =
  | { kind: "help" }
  | { kind: "version" }
  /** Print `message` (if any) and the usage on stderr; exit 255. */
  | { kind: "usage-error"; message: string }
  | { kind: "run"; options: WrapperOptions; operands: string[] };

/** The defaults of every option. */
export function defaultOptions(): WrapperOptions {
  return {
    client: null,
    server: "mosh-server",
    predict: null,
    predictOverwrite: false,
    family: "prefer-inet",
    port: null,
    bindServer: "ssh",
    ssh: "ssh",
    sshPty: true,
    init: true,
    scrollback: true,
    forwards: [],
    agent: false,
    local: false,
    remoteIp: "proxy",
    fakeProxy: false,
    session: null,
    list: false,
  };
}

type OptionKind = "flag" | "negatable" | "value";

interface OptionSpec {
  /** The primary name and its aliases. */
  names: string[];
  kind: OptionKind;
  /** Applies the option: `value` is the string for value options, else true/false. */
  set(o: WrapperOptions & { help: boolean; version: boolean }, value: string | boolean): void;
}

const OPTIONS: OptionSpec[] = [
  { names: ["client"], kind: "value", set: (o, v) => o.client = v as string },
  { names: ["server"], kind: "value", set: (o, v) => o.server = v as string },
  { names: ["predict"], kind: "value", set: (o, v) => o.predict = v as string },
  { names: ["a"], kind: "flag", set: (o) => o.predict = "always" },
  { names: ["n"], kind: "flag", set: (o) => o.predict = "never" },
  {
    names: ["predict-overwrite", "o"],
    kind: "negatable",
    set: (o, v) => o.predictOverwrite = v as boolean,
  },
  { names: ["family"], kind: "value", set: (o, v) => o.family = v as string },
  { names: ["4"], kind: "flag", set: (o) => o.family = "inet" },
  { names: ["6"], kind: "flag", set: (o) => o.family = "inet6" },
  { names: ["port", "p"], kind: "value", set: (o, v) => o.port = v as string },
  { names: ["bind-server"], kind: "value", set: (o, v) => o.bindServer = v as string },
  { names: ["ssh"], kind: "value", set: (o, v) => o.ssh = v as string },
  { names: ["ssh-pty"], kind: "negatable", set: (o, v) => o.sshPty = v as boolean },
  { names: ["init"], kind: "negatable", set: (o, v) => o.init = v as boolean },
  { names: ["scrollback"], kind: "negatable", set: (o, v) => o.scrollback = v as boolean },
  { names: ["local"], kind: "flag", set: (o) => o.local = true },
  {
    names: ["experimental-remote-ip"],
    kind: "value",
    set: (o, v) => o.remoteIp = v as string,
  },
  { names: ["fake-proxy"], kind: "negatable", set: (o, v) => o.fakeProxy = v as boolean },
  { names: ["session"], kind: "value", set: (o, v) => o.session = v as string },
  { names: ["list"], kind: "flag", set: (o) => o.list = true },
  { names: ["help"], kind: "flag", set: (o) => o.help = true },
  { names: ["version"], kind: "flag", set: (o) => o.version = true },
];

/** Every spelling Getopt::Long accepts, with the option and the value a bare flag means. */
const SPELLINGS: { name: string; spec: OptionSpec; negated: boolean }[] = OPTIONS.flatMap(
  (spec) =>
    spec.names.flatMap((name) => {
      const plain = [{ name, spec, negated: false }];
      if (spec.kind !== "negatable") return plain;
      return [...plain, { name: `no-${name}`, spec, negated: true }, {
        name: `no${name}`,
        spec,
        negated: true,
      }];
    }),
);

/** Finds the option `given` names: an exact spelling, else a unique abbreviation. */
function lookupOption(
  given: string,
): { spec: OptionSpec; negated: boolean; name: string } | { error: string } {
  const lower = given.toLowerCase();
  const exact = SPELLINGS.find((s) => s.name === lower);
  if (exact) return exact;
  const matches = SPELLINGS.filter((s) => s.name.startsWith(lower));
  const specs = new Set(matches.map((m) => m.spec));
  if (matches.length === 0 || lower === "") return { error: `Unknown option: ${given}` };
  if (specs.size > 1) {
    const names = [...new Set(matches.map((m) => m.name))].sort();
    return { error: `Option ${given} is ambiguous (${names.join(", ")})` };
  }
  // Several spellings of one option (e.g. `no-ssh-pty`, `nossh-pty`) agree on the meaning.
  return matches[0];
}

/**
 * Parses mosh's command line like Getopt::Long with mosh's option table: options may come
 * anywhere until `--`; everything else, in order, is the host and the command.
 */
export function parseWrapperArgs(args: readonly string[]): WrapperArgs {
  const o = { ...defaultOptions(), help: false, version: false };
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") {
      operands.push(arg);
      continue;
    }
    if (arg === "-A") {
      o.agent = true;
      continue;
    }
    if (/^-[LRD]/.test(arg)) {
      // ssh's -L, -R, -D (case matters: Getopt's lower-case spellings would take -L for --local).
      const kind = arg[1] as "L" | "R" | "D";
      const spec = arg.length > 2 ? arg.slice(2) : args[++i];
      if (spec === undefined) {
        return { kind: "usage-error", message: `Option ${kind} requires an argument` };
      }
      try {
        o.forwards.push(parseForwardSpec(kind, spec));
      } catch (e) {
        return { kind: "usage-error", message: e instanceof Error ? e.message : String(e) };
      }
      continue;
    }
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const found = lookupOption(name);
    if ("error" in found) return { kind: "usage-error", message: found.error };
    const { spec, negated } = found;
    const shown = found.name;
    if (spec.kind === "value") {
      let value: string;
      if (eq >= 0) {
        value = body.slice(eq + 1);
        if (value === "") {
          return { kind: "usage-error", message: `Option ${shown} requires an argument` };
        }
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        return { kind: "usage-error", message: `Option ${shown} requires an argument` };
      }
      spec.set(o, value);
    } else {
      if (eq >= 0) {
        return { kind: "usage-error", message: `Option ${shown} does not take an argument` };
      }
      spec.set(o, !negated);
    }
  }
  if (o.help) return { kind: "help" };
  if (o.version) return { kind: "version" };
  const { help: _help, version: _version, ...options } = o;
  return { kind: "run", options, operands };
}

/**
 * The prediction mode to use: `--predict` if given, else MOSH_PREDICTION_DISPLAY, else
 * adaptive. Returns mosh's complaint for an unknown mode.
 */
export function predictionMode(
  option: string | null,
  envValue: string | undefined,
): { mode: PredictionMode } | { error: string } {
  const value = option ?? envValue ?? "adaptive";
  if ((PREDICTION_MODES as readonly string[]).includes(value)) {
    return { mode: value as PredictionMode };
  }
  const where = option === null ? " (MOSH_PREDICTION_DISPLAY in environment)" : "";
  return { error: `Unknown mode "${value}"${where}.` };
}

/**
 * Checks a `-p` value as the wrapper does before anything runs: `PORT` or `LOW:HIGH` in
 * decimal, ports 0-65535, a range's high port 1-65535, low ≤ high, and no range starting at 0.
 * Returns mosh's message, or null when the value is good.
 */
export function checkPortSpec(spec: string): string | null {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (m === null) return `Server-side port or range (${spec}) is not valid.`;
  const low = Number(m[1]);
  if (low > 65535) return `Server-side (low) port (${m[1]}) must be within valid range [0..65535].`;
  if (m[2] === undefined) return null;
  const high = Number(m[2]);
  if (high < 1 || high > 65535) {
    return `Server-side high port (${m[2]}) must be within valid range [1..65535].`;
  }
  if (low > high) return `Server-side port range (${spec}): low port greater than high port.`;
  if (low === 0) return `Server-side port ranges may not be used with starting port 0 (${spec}).`;
  return null;
}

/** Quotes `word` for a POSIX shell: `'…'`, with each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return "'" + word.replaceAll("'", "'\\''") + "'";
}

/**
 * Splits a command line into words like Perl's shellwords (and a POSIX shell without
 * expansions): blanks separate words; `'…'` is literal; in `"…"` a backslash escapes `"`, `\`,
 * `$` and `` ` ``; elsewhere a backslash escapes any character. Throws on an unterminated quote.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "\\") {
      if (i + 1 < line.length) word += line[++i];
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === "\\" && j + 1 < line.length && '"\\$`'.includes(line[j + 1])) j++;
        word += line[j];
      }
      if (j >= line.length) throw new Error(`unterminated " in: ${line}`);
      i = j;
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `NAME=VALUE` for each locale variable set in `env` (even to ""), in mosh's order. */
export function localeSettings(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const name of LOCALE_VARIABLES) {
    const value = env[name];
    if (value !== undefined) out.push(`${name}=${value}`);
  }
  return out;
}

/** Characters a `[user@]host` never needs that a shell would interpret (the ProxyCommand runs
 * through a shell with the host in it): whitespace, quotes, `$`, backquote, `\\`, `;&|<>()`,
 * globs, braces, `!`, `#`, `~` and control characters. IPv6 colons and `%zone` pass. */
// deno-lint-ignore no-control-regex -- control characters are exactly what is refused
const SHELL_METACHARACTERS = /[\s\x00-\x1f\x7f'"`$\\;&|<>(){}*?[\]!#~]/;

/**
 * Null if `[user@]host` is acceptable, else the reason it is refused: it starts with `-` (ssh
 * would take it for an option) or holds a shell metacharacter.
 */
export function checkUserHost(userHost: string): string | null {
  if (userHost.startsWith("-")) return `host "${userHost}" starts with "-"`;
  const bad = SHELL_METACHARACTERS.exec(userHost);
  if (bad !== null) {
    return `host ${JSON.stringify(userHost)} holds the shell metacharacter ${
      JSON.stringify(bad[0])
    }`;
  }
  return null;
}

/** The host part of `[user@]host` (after the last `@`). */
export function hostOf(userHost: string): string {
  return userHost.slice(userHost.lastIndexOf("@") + 1);
}

/** `[user@]host` with the host replaced by `host`. */
export function withHost(userHost: string, host: string): string {
  return userHost.slice(0, userHost.lastIndexOf("@") + 1) + host;
}

/** What goes into the server's command line besides the server command itself. */
export interface ServerCommandParts {
  /** `--server=COMMAND`, placed verbatim (unquoted) first. */
  server: string;
  /** The colour count of the local terminal (`-c`). */
  colors: number;
  /** `--bind-server` value: `ssh`, `any` or an IP. */
  bindServer: string;
  /** `--local`: bind to `host` by default instead of `-s`. */
  local: boolean;
  /** The host as given (used for `-i` with `--local`). */
  host: string;
  /** `-p` value, or null. */
  port: string | null;
  /** `NAME=VALUE` locale settings (`-l`). */
  locales: string[];
  /** The remote command, or empty for the login shell. */
  command: string[];
  /** `--experimental-remote-ip=remote`: report SSH_CONNECTION first. */
  reportSshConnection: boolean;
  /** `--session=NAME`, or null. */
  session?: string | null;
  /**
   * `-R` listen addresses and `-A` for our server to set up before the shell starts
   * (lib/forwarding_preset.ts `presetValue`); "" or absent for none. Passed as
   * `env MOSH_DENO_FORWARD=… <server>`, which C's mosh-server ignores.
   */
  forwardPreset?: string;
}

/** The line the remote side prints when its server is not mosh-deno's (C mosh's, say). */
export const NOT_MOSH_DENO = "MOSH NOT-MOSH-DENO";

/**
 * Runs `serverArgs` with `server` only if `server --version` says mosh-deno (one ssh command:
 * the check and the command); otherwise prints NOT_MOSH_DENO and fails.
 */
export function ifMoshDeno(server: string, serverArgs: string[], runPrefix = ""): string {
  return `v=$(${server} --version 2>&1); case "$v" in *mosh-deno*) ${runPrefix}${server} ${
    serverArgs.map(shellQuote).join(" ")
  };; *) printf '\\n${NOT_MOSH_DENO}\\n'; exit 1;; esac`;
}

/** The `sh -c` prefix that makes the remote side print its SSH_CONNECTION (remote mode). */
export const SSH_CONNECTION_REPORTER =
  `sh -c '[ -n "$SSH_CONNECTION" ] && printf "\\nMOSH SSH_CONNECTION %s\\n" "$SSH_CONNECTION"' ; `;

/**
 * The server's bind arguments: `-s` for `ssh` (with `--local`, `-i HOST`), none for `any`,
 * `-i IP` otherwise.
 */
export function bindArgs(bindServer: string, local: boolean, host: string): string[] {
  if (bindServer === "any") return [];
  if (bindServer === "ssh") return local ? ["-i", host] : ["-s"];
  return ["-i", bindServer];
}

/**
 * The shell command line that starts the server, as mosh builds it:
 * `<server> 'new' '-c' '<colors>' <bind> ['-p' '<port>'] ('-l' 'NAME=VALUE')… ['--' 'cmd'…]`.
 */
export function serverCommandLine(p: ServerCommandParts): string {
  const args = ["new", "-c", String(p.colors), ...bindArgs(p.bindServer, p.local, p.host)];
  if (p.port !== null) args.push("-p", p.port);
  for (const setting of p.locales) args.push("-l", setting);
  if (p.command.length > 0) args.push("--", ...p.command);
  const prefix = p.forwardPreset
    ? `env ${shellQuote(`${FORWARD_PRESET_VARIABLE}=${p.forwardPreset}`)} `
    : "";
  const line = p.session
    ? ifMoshDeno(p.server, [`--session=${p.session}`, ...args], prefix)
    : `${prefix}${p.server} ${args.map(shellQuote).join(" ")}`;
  return p.reportSshConnection ? SSH_CONNECTION_REPORTER + line : line;
}

/** What goes into the ssh command line. */
export interface SshCommandParts {
  /** `--ssh=COMMAND`. */
  ssh: string;
  /** Pass `-tt` (not with `--no-ssh-pty`). */
  sshPty: boolean;
  /** `--experimental-remote-ip`. */
  remoteIp: RemoteIpMode;
  /** `--family`. */
  family: Family;
  /** `[user@]host` as ssh should see it. */
  target: string;
  /** The remote command line (`serverCommandLine`). */
  remoteCommand: string;
  /** The program words of the ProxyCommand (proxy mode), before `--family=… -- %h %p`. */
  proxyProgram: string[];
}

/** Escapes `%` for an ssh_config value, where `%h`, `%p`… are expanded. */
function sshConfigEscape(text: string): string {
  return text.replaceAll("%", "%%");
}

/** The ProxyCommand value: `'<program>'… '--family=<f>' -- %h %p`. */
export function proxyCommand(proxyProgram: string[], family: Family): string {
  const words = [...proxyProgram, `--family=${family}`].map((w) => sshConfigEscape(shellQuote(w)));
  return `${words.join(" ")} -- %h %p`;
}

/**
 * The ssh argv: `<ssh words> -n [-tt] [-4|-6 (remote mode)] [-S none -o ProxyCommand=… (proxy
 * mode)] [user@]host -- <remote command>`. Throws if `--ssh` has an unterminated quote.
 */
export function sshCommand(p: SshCommandParts): string[] {
  const argv = shellWords(p.ssh);
  if (argv.length === 0) throw new Error("the --ssh command is empty");
  argv.push("-n");
  if (p.sshPty) argv.push("-tt");
  if (p.remoteIp === "remote") {
    if (p.family === "inet") argv.push("-4");
    else if (p.family === "inet6") argv.push("-6");
  }
  if (p.remoteIp === "proxy") {
    argv.push("-S", "none", "-o", `ProxyCommand=${proxyCommand(p.proxyProgram, p.family)}`);
  }
  argv.push(p.target, "--", p.remoteCommand);
  return argv;
}

/** One line of the bootstrap output (ssh's merged stdout and stderr). */
export type BootstrapLine =
  /** `MOSH IP <addr>` from the ProxyCommand. */
  | { kind: "ip"; ip: string }
  /** `MOSH SSH_CONNECTION <client> <cport> <server> <sport>`: the server's address. */
  | { kind: "ssh-connection"; ip: string }
  /** `MOSH CONNECT <port> <key>` from the server. */
  | { kind: "connect"; port: number; key: string }
  /** A malformed MOSH line: mosh gives up with `message`. */
  | { kind: "bad"; message: string }
  /** Anything else: shown to the user. */
  | { kind: "other" };

/** Classifies one line (without its `\n`; a trailing `\r` or blanks are allowed). */
export function parseBootstrapLine(line: string): BootstrapLine {
  const shown = line.replace(/\s+$/, "");
  let m = /^MOSH IP (\S+)\s*$/.exec(line);
  if (m !== null) return { kind: "ip", ip: m[1] };
  if (line.startsWith("MOSH SSH_CONNECTION ")) {
    const words = line.trim().split(/\s+/);
    if (words.length === 6) return { kind: "ssh-connection", ip: words[4] };
    return { kind: "bad", message: `Bad MOSH SSH_CONNECTION string: ${shown}` };
  }
  if (line.trimEnd() === NOT_MOSH_DENO) {
    return {
      kind: "bad",
      message: "the remote mosh-server is not mosh-deno's: --session and --list need it",
    };
  }
  if (line.startsWith("MOSH CONNECT ")) {
    m = /^MOSH CONNECT (\d+) ([A-Za-z0-9/+]{22})\s*$/.exec(line);
    if (m !== null) {
      const port = Number(m[1]);
      if (port >= 1 && port <= 65535) return { kind: "connect", port, key: m[2] };
    }
    return { kind: "bad", message: `Bad MOSH CONNECT string: ${shown}` };
  }
  return { kind: "other" };
}

/**
 * The server's pure policy (docs/PROTOCOL.md §7.2 steps 1, 2 and 8): which shell to run and with
 * what environment, the UTF-8 locale rule, the message of the day, and the timeouts read from the
 * environment. Nothing here opens a socket or a pty; lib/session.ts applies these decisions.
 */

import { localeCodeset } from "./system_info.ts";
import type { ServerOptions } from "./server_args.ts";

/**
 * Reads an integer number of seconds from the environment (MOSH_SERVER_NETWORK_TMOUT,
 * MOSH_SERVER_SIGNAL_TMOUT). Returns ms, 0 when unset; a bad value is warned about and ignored.
 */
export function timeoutFromEnv(name: string, value: string | undefined): {
  ms: number;
  warning: string | null;
} {
  if (value === undefined || value === "") return { ms: 0, warning: null };
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(value);
  if (m === null) return { ms: 0, warning: `${name} not a valid integer, ignoring` };
  const seconds = Number(m[1]);
  if (seconds < 0) return { ms: 0, warning: `${name} is negative, ignoring` };
  return { ms: seconds * 1000, warning: null };
}

/** What to run in the pty and how (§7.2 steps 1 and 8). */
export interface ShellPlan {
  /** Program (searched in PATH). */
  file: string;
  /** Its argv; a login shell's argv[0] is "-" + basename. */
  argv: string[];
  /** True for the login shell (motd applies). */
  login: boolean;
  /** The child's environment. */
  env: Record<string, string>;
  /** The directory to start in ($HOME), if it exists. */
  cwd: string | undefined;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decides the shell command and its environment: the given command, or the login shell ($SHELL,
 * else the passwd shell, else /bin/sh); TERM from the colour count, NCURSES_NO_UTF8_ACS=1, no STY,
 * PWD = $HOME (or the passwd directory).
 */
export function planShell(
  options: ServerOptions,
  baseEnv: Record<string, string>,
  passwd: { home: string; shell: string } | null,
): ShellPlan {
  const env = { ...baseEnv };
  env.TERM = options.colors === 256 ? "xterm-256color" : "xterm";
  env.NCURSES_NO_UTF8_ACS = "1";
  delete env.STY;
  const home = env.HOME || passwd?.home || "";
  let cwd: string | undefined;
  if (home !== "" && isDirectory(home)) {
    cwd = home;
    env.PWD = home;
  }
  if (options.command !== null) {
    return { file: options.command[0], argv: [...options.command], login: false, env, cwd };
  }
  const shell = env.SHELL || passwd?.shell || "/bin/sh";
  const base = shell.slice(shell.lastIndexOf("/") + 1);
  return { file: shell, argv: ["-" + base], login: true, env, cwd };
}

const LOCALE_VARIABLES = /^(LANG|LANGUAGE|LC_[A-Z_]+)$/;

/** The effective LC_CTYPE locale name of an environment (POSIX precedence). */
function ctypeLocale(env: Record<string, string>): string {
  return env.LC_ALL || env.LC_CTYPE || env.LANG || "";
}

function isUtf8(env: Record<string, string>): boolean {
  const codeset = localeCodeset(ctypeLocale(env));
  return codeset !== null && /^utf-?8$/i.test(codeset);
}

/**
 * The environment for the server and its shell, with a UTF-8 character set (§7.2 step 2). If the
 * native locale is not UTF-8, the locale variables are cleared and the `-l` settings applied, as
 * mosh-server does. If that is still not UTF-8, C mosh refuses to start; we instead give the
 * shell LC_CTYPE=C.UTF-8 (the pty is UTF-8 either way) and say so in one line.
 */
export function settleLocale(
  env: Record<string, string>,
  locales: string[],
): { env: Record<string, string>; warning: string | null } {
  if (isUtf8(env)) return { env, warning: null };
  const native = ctypeLocale(env) || "C";
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (!LOCALE_VARIABLES.test(k)) next[k] = v;
  for (const setting of locales) {
    const eq = setting.indexOf("=");
    if (eq > 0) next[setting.slice(0, eq)] = setting.slice(eq + 1);
  }
  if (isUtf8(next)) return { env: next, warning: null };
  delete next.LC_ALL;
  next.LC_CTYPE = "C.UTF-8";
  return {
    env: next,
    warning:
      `mosh-server: locale "${native}" is not UTF-8; using LC_CTYPE=C.UTF-8 for the session.`,
  };
}

/** The message of the day as the terminal should show it, or "" (§7.2 step 8). */
export function motdText(home: string | undefined): string {
  if (home !== undefined && exists(`${home}/.hushlogin`)) return "";
  let text = "";
  for (const group of [["/run/motd.dynamic", "/var/run/motd.dynamic"], ["/etc/motd"]]) {
    for (const path of group) {
      try {
        text += Deno.readTextFileSync(path);
        break;
      } catch {
        // try the next file
      }
    }
  }
  // The tty's output processing (ONLCR) turns each LF into CR LF.
  return text.replace(/\r?\n/g, "\r\n");
}

/**
 * The program `file` names, searched in `path` (a PATH value) as execvp would, or `file` itself
 * when it holds a slash or is not found there (the spawn then reports it as execvp does). The
 * host resolves each session's command with that session's own PATH, not the host's.
 */
export function resolveCommand(file: string, path: string | undefined): string {
  if (file.includes("/") || path === undefined) return file;
  for (const dir of path.split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${file}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // not here
    }
  }
  return file;
}

/**
 * The `mosh` wrapper (docs/PROTOCOL.md §8.5; the client it becomes is §8.0; the server command
 * line it builds is §7.1): `client.ts [options] [--] [user@]host [command...]`.
 *
 * 1. Parse mosh's options (lib/wrapper_args.ts) and check them: usage errors exit 255.
 * 2. Count the local terminal's colours (terminfo, or `<client> -c` with `--client`).
 * 3. Start the server (lib/server_bootstrap.ts): over `ssh -n -tt … [user@]host -- '<server>'
 *    'new' …` (with our `--fake-proxy` ProxyCommand in the default `proxy` mode), or with
 *    `--local` through `sh -c` in $HOME without SSH_CONNECTION.
 * 4. Read ssh's output line by line (lib/server_bootstrap.ts): `MOSH IP`, `MOSH SSH_CONNECTION`,
 *    then `MOSH CONNECT <port> <key>`; anything else is shown to the user.
 * 5. Become the client: `runClient` in this process (the key never appears in any argv or
 *    environment), or with `--client=PATH` run that program as mosh does, with MOSH_KEY in its
 *    environment and `-# '<args> |' IP PORT` as its arguments.
 *
 * Every failure is one line starting with `mosh: `. Exit statuses: 255 for a bad command line
 * (as mosh), 10 when the session could not be set up (what mosh exits with in practice), 1 when
 * this terminal cannot run the client, otherwise the client's own status (0 after a clean
 * shutdown).
 */

import { runClient } from "./client_start.ts";
import {
  type Announced,
  type BootstrapPlan,
  fakeProxyProgram,
  planBootstrap,
  runBootstrap,
  usesJumpHost,
} from "./server_bootstrap.ts";
import { isNumericIp } from "./address.ts";
import { colorsFor } from "./terminfo.ts";
import { errorText } from "./errors.ts";
import { type Printer, stdio } from "./write_all.ts";
import { versionText } from "./version.ts";
import {
  FAMILIES,
  type Family,
  parseFakeProxyArgs,
  resolveHost,
  runFakeProxy,
} from "./fake_proxy.ts";
import {
  checkPortSpec,
  checkUserHost,
  hostOf,
  ifMoshDeno,
  NOT_MOSH_DENO,
  parseWrapperArgs,
  type PredictionMode,
  predictionMode,
  REMOTE_IP_MODES,
  type RemoteIpMode,
  shellQuote,
  shellWords,
  USAGE,
  type WrapperOptions,
} from "./wrapper_args.ts";
import { nonUtf8Locale } from "./locale.ts";

/** Exit status for a bad command line. */
export const EXIT_USAGE = 255;
/** Exit status for a refused host argument. */
export const EXIT_BAD_HOST = 1;
/** Exit status when ssh or the server did not give us a session. */
export const EXIT_BOOTSTRAP = 10;

/** The options after checking, with their types narrowed. */
export interface CheckedOptions extends WrapperOptions {
  family: Family;
  remoteIp: RemoteIpMode;
  predictMode: PredictionMode;
}

/**
 * Checks the option values mosh checks before running anything (`-p`, `--predict` and
 * MOSH_PREDICTION_DISPLAY) plus `--family` and `--experimental-remote-ip`. Returns the narrowed
 * options, or the message and whether the usage follows it.
 */
export function checkOptions(
  o: WrapperOptions,
  env: Record<string, string | undefined>,
): { options: CheckedOptions } | { error: string; usage: boolean } {
  const predict = predictionMode(o.predict, env.MOSH_PREDICTION_DISPLAY);
  if ("error" in predict) return { error: predict.error, usage: true };
  if (o.port !== null) {
    const bad = checkPortSpec(o.port);
    if (bad !== null) return { error: bad, usage: false };
  }
  if (!(FAMILIES as readonly string[]).includes(o.family)) {
    return {
      error: `Unknown address family "${o.family}" (use ${FAMILIES.join(", ")}).`,
      usage: false,
    };
  }
  if (!(REMOTE_IP_MODES as readonly string[]).includes(o.remoteIp)) {
    return {
      error: `Unknown --experimental-remote-ip mode "${o.remoteIp}" (use proxy, local or remote).`,
      usage: false,
    };
  }
  return {
    options: {
      ...o,
      family: o.family as Family,
      remoteIp: o.remoteIp as RemoteIpMode,
      predictMode: predict.mode,
    },
  };
}

/** `<client> -c`: the colour count, 0 when it prints no number. */
async function clientColors(client: string): Promise<number> {
  const out = await new Deno.Command(client, {
    args: ["-c"],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const n = parseInt(new TextDecoder().decode(out.stdout).trim(), 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Runs `--client=PATH` as mosh execs it; returns its exit status. */
async function runExternalClient(
  o: CheckedOptions,
  args: string[],
  session: Announced,
): Promise<number> {
  const env: Record<string, string> = {
    MOSH_KEY: session.key,
    MOSH_PREDICTION_DISPLAY: o.predictMode,
    MOSH_CLIENT_PID: String(Deno.pid),
  };
  if (o.predictOverwrite) env.MOSH_PREDICTION_OVERWRITE = "yes";
  if (!o.init) env.MOSH_NO_TERM_INIT = "1";
  if (!o.scrollback) env.MOSH_NO_SCROLLBACK = "1"; // our client's switch; C's ignores it
  const child = new Deno.Command(o.client!, {
    args: [`-# ${args.join(" ")} |`, session.ip, String(session.port)],
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // mosh would have exec'd the client: signals meant for us are meant for it.
  const forward: [Deno.Signal, () => void][] = (["SIGTERM", "SIGHUP", "SIGINT"] as const).map(
    (sig) => [sig, () => {
      try {
        child.kill(sig);
      } catch {
        // It has ended.
      }
    }],
  );
  for (const [sig, fn] of forward) Deno.addSignalListener(sig, fn);
  const status = await child.status;
  for (const [sig, fn] of forward) Deno.removeSignalListener(sig, fn);
  return status.code;
}

/**
 * `--list`: runs `<server> list` where the session would have started (over ssh, or here with
 * `--local`), after the same `--version` check as `--session`, and prints its lines.
 */
async function runList(plan: BootstrapPlan, o: CheckedOptions, print: Printer): Promise<number> {
  let server = o.server;
  const local = plan.argv[0] === "sh";
  if (local && /^\.\.?\//.test(server)) {
    server = shellQuote(Deno.cwd().replace(/\/*$/, "/")) + server;
  }
  const line = ifMoshDeno(server, ["list"]);
  const argv = local ? ["sh", "-c", line] : [...plan.argv.slice(0, -1), line];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(plan.env)) if (v !== null) env[k] = v;
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    cwd: plan.cwd ?? undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).replaceAll("\r\n", "\n");
  if (text.split("\n").some((l) => l.trimEnd() === NOT_MOSH_DENO)) {
    print.err("mosh: the remote mosh-server is not mosh-deno's: --session and --list need it\n");
    return 1;
  }
  print.out(text);
  return out.code;
}

/**
 * Runs the `mosh` wrapper with `args` (client.ts's arguments in wrapper mode) and returns the
 * exit status. The built-in client may leave a read of stdin pending, so the caller should end
 * the process with `Deno.exit(status)`.
 */
export async function runWrapper(args: string[], print: Printer = stdio): Promise<number> {
  const parsed = parseWrapperArgs(args);
  switch (parsed.kind) {
    case "help":
      print.out(USAGE);
      return 0;
    case "version":
      print.out(versionText("mosh") + "\n");
      return 0;
    case "usage-error":
      print.err(`${parsed.message}\n${USAGE}`);
      return EXIT_USAGE;
  }
  if (parsed.options.fakeProxy) {
    const fp = parseFakeProxyArgs([`--family=${parsed.options.family}`, "--", ...parsed.operands]);
    if ("error" in fp) {
      print.err(`mosh: --fake-proxy: ${fp.error}\n`);
      return EXIT_USAGE;
    }
    return await runFakeProxy(fp.host, fp.port, fp.family);
  }
  if (parsed.operands.length === 0) {
    print.err(USAGE);
    return EXIT_USAGE;
  }
  const env = Deno.env.toObject();
  const checked = checkOptions(parsed.options, env);
  if ("error" in checked) {
    print.err(`mosh: ${checked.error}\n${checked.usage ? "\n" + USAGE : ""}`);
    return EXIT_USAGE;
  }
  const o = checked.options;
  const [userHost, ...command] = parsed.operands;
  const refused = checkUserHost(userHost);
  if (refused !== null) {
    print.err(`mosh: refusing ${refused}.\n`);
    return EXIT_BAD_HOST;
  }
  const host = hostOf(userHost);
  if (o.local && !isNumericIp(host)) {
    print.err(`mosh: --local needs a numeric IPv4 or IPv6 address as the host, not "${host}".\n`);
    return EXIT_USAGE;
  }
  let sshWords: string[];
  try {
    sshWords = shellWords(o.ssh);
  } catch (e) {
    print.err(`mosh: --ssh: ${errorText(e)}\n`);
    return EXIT_USAGE;
  }
  if (!o.local && o.remoteIp === "proxy" && usesJumpHost(sshWords)) {
    print.err(
      "mosh: --ssh names a jump host, which replaces mosh's ProxyCommand; " +
        "add --experimental-remote-ip=remote (as with C mosh).\n",
    );
    return EXIT_USAGE;
  }

  if (o.list) {
    const plan = planBootstrap(o, {
      userHost,
      command: [],
      colors: 8,
      env,
      proxyProgram: fakeProxyProgram(),
      cwd: Deno.cwd(),
    });
    return await runList(plan, o, print);
  }

  // The built-in client needs this terminal; say so before anything starts on the server.
  if (o.client === null) {
    if (!Deno.stdin.isTerminal()) {
      print.err("mosh: standard input is not a terminal (mosh is for interactive sessions).\n");
      return 1;
    }
    const lc = nonUtf8Locale(env);
    if (lc !== null) {
      print.err(`mosh: needs a UTF-8 native locale to run (the locale is "${lc}").\n`);
      return 1;
    }
  }

  let colors: number;
  if (o.client !== null) {
    try {
      colors = await clientColors(o.client);
    } catch (e) {
      print.err(`mosh: cannot run the client ${o.client}: ${errorText(e)}\n`);
      return EXIT_USAGE;
    }
  } else {
    colors = colorsFor(env.TERM);
  }
  Deno.env.set("MOSH_CLIENT_PID", String(Deno.pid));

  let resolvedIp: string | undefined;
  if (!o.local && o.remoteIp === "local") {
    try {
      resolvedIp = (await resolveHost(host, o.family))[0];
    } catch (e) {
      print.err(`mosh: ${errorText(e)}\n`);
      return EXIT_BOOTSTRAP;
    }
  }
  const plan = planBootstrap(o, {
    userHost,
    command,
    colors,
    env,
    proxyProgram: fakeProxyProgram(),
    resolvedIp,
    cwd: Deno.cwd(),
  });
  const session = await runBootstrap(plan, print);
  if ("error" in session) {
    print.err(`mosh: ${session.error}\n`);
    return EXIT_BOOTSTRAP;
  }

  if (o.client !== null) {
    try {
      return await runExternalClient(o, args, session);
    } catch (e) {
      print.err(`mosh: cannot run the client ${o.client}: ${errorText(e)}\n`);
      return EXIT_BOOTSTRAP;
    }
  }
  return await runClient({
    ip: session.ip,
    port: session.port,
    key: session.key,
    predictionMode: o.predictMode,
    predictOverwrite: o.predictOverwrite || env.MOSH_PREDICTION_OVERWRITE === "yes",
    escapeKey: env.MOSH_ESCAPE_KEY,
    titleNoPrefix: env.MOSH_TITLE_NOPREFIX !== undefined,
    noTermInit: !o.init || env.MOSH_NO_TERM_INIT !== undefined,
    scrollback: o.scrollback && env.MOSH_NO_SCROLLBACK === undefined,
    forwards: o.forwards,
    agentSocket: o.agent ? env.SSH_AUTH_SOCK || undefined : undefined,
    term: env.TERM,
  });
}

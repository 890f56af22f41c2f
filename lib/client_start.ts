/**
 * mosh-client's start (docs/PROTOCOL.md §8.0): everything up to the first datagram, with only the
 * network's modules loaded; then the session loop (lib/client_session.ts, loaded by a dynamic
 * `import()`) takes over.
 *
 * Why the split: both servers start the shell only when the client's first state (state 1: our
 * capabilities and the window size) arrives, so whatever the client does before sending it delays
 * the prompt, while whatever it does after overlaps the server's work (starting the shell takes
 * ~100 ms). The emulator, the display diff, prediction and the overlays are most of the client's
 * modules (lib/terminal_state.ts alone takes ~30 ms to load): they load after the send.
 *
 * In order, as before the split: the key, terminfo, the terminal check (stdin must be a tty, or
 * nothing is sent), the forwarding listeners (`-L`/`-D`/`-A`; their modules load only when asked
 * for), the Connection, and a `Transport<UserStream, TerminalState>` without its receiving side
 * (lib/transport.ts `startReceiving`). State 1 is our capabilities (`ownCapabilities`,
 * lib/extensions.ts) then `Resize(cols, rows)` of the real terminal, and the first tick sends it:
 * the same bytes as when everything loaded first. The session then gives the transport its remote
 * state 0 and starts listening; datagrams that arrive meanwhile wait in the socket (the Connection
 * reads none before `listen`), so none is lost or handled before the receiver exists.
 *
 * `runClient` returns the exit status. A read of stdin may still be pending then (Deno cannot
 * cancel it), so the caller should end the process with `Deno.exit(status)`.
 */

import { clock } from "./waker.ts";
import { parseKey } from "./key.ts";
import { errorText } from "./errors.ts";
import { printTo } from "./write_all.ts";
import { Connection } from "./connection.ts";
import { SEND_MINDELAY_CLIENT, Transport } from "./transport.ts";
import { UserStream } from "./user_stream.ts";
import { ownCapabilities } from "./extensions.ts";
import { loadTerminfo } from "./terminfo.ts";
import { RealTerminal, type TerminalIo, type TerminalSize } from "./real_terminal.ts";
import type { TerminalState } from "./terminal_state.ts";
import type { DiffOptions } from "./display.ts";
import type { PredictionMode } from "./prediction_triggers.ts";
import type { ClientForwarding } from "./client_forwarding.ts";
import type { ForwardRule } from "./forward_spec.ts";

/** Everything `runClient` needs; the environment is read by the caller (client.ts). */
export interface ClientOptions {
  /** The server's numeric IPv4 or IPv6 address. */
  ip: string;
  /** The server's UDP port. */
  port: number;
  /** The printable 22-character session key (MOSH_KEY). */
  key: string;
  /** MOSH_PREDICTION_DISPLAY; default `adaptive`. */
  predictionMode?: PredictionMode;
  /** MOSH_PREDICTION_OVERWRITE=yes. */
  predictOverwrite?: boolean;
  /** The raw MOSH_ESCAPE_KEY value (undefined = unset). */
  escapeKey?: string;
  /** MOSH_TITLE_NOPREFIX is set. */
  titleNoPrefix?: boolean;
  /** MOSH_NO_TERM_INIT is set: no smcup/rmcup. */
  noTermInit?: boolean;
  /** Keep scrollback in the real terminal when the server offers it (default true). */
  scrollback?: boolean;
  /** `-L`/`-R`/`-D` rules (our forwarding extension; docs/EXTENSIONS.md). */
  forwards?: readonly ForwardRule[];
  /** `-A`: the local agent's socket (SSH_AUTH_SOCK) to forward, or undefined. */
  agentSocket?: string;
  /** Take our server's terminal features: cursor shape, notifications, copies (default true). */
  features?: boolean;
  /** $TERM, for terminfo and title support. */
  term?: string;
  /** -v count: SSP log lines go to stderr. */
  verbose?: number;
  /** Where the closing messages go; default stderr / stdout. */
  printErr?: (text: string) => void;
  /** Where `[mosh is exiting.]` goes; default stdout. */
  printOut?: (text: string) => void;
  /** The terminal's streams; default stdin and stdout. */
  io?: TerminalIo;
}

/** What the start hands to the session loop (lib/client_session.ts). */
export interface StartedClient {
  rt: RealTerminal;
  connection: Connection;
  /** State 1 sent; the receiving side waits for the session's remote state 0. */
  transport: Transport<UserStream, TerminalState>;
  /** `-L`/`-R`/`-D`/`-A` listeners, not attached to the transport yet; null without them. */
  forwarding: ClientForwarding | null;
  /** The window size sent in state 1. */
  size: TerminalSize;
  /** Announced in state 1: our server's terminal features. */
  features: boolean;
  paintOptions: DiffOptions;
  /** smcup/rmcup to switch to if the server offers no scrollback. */
  alternateScreen: { smcup: string; rmcup: string };
}

/** Runs a mosh-client session to its end; returns the exit status (0 = clean shutdown). */
export async function runClient(opts: ClientOptions): Promise<number> {
  const printErr = opts.printErr ?? ((s: string) => printTo(Deno.stderr, s));
  let key: Uint8Array;
  try {
    key = parseKey(opts.key);
  } catch (e) {
    printErr(`Bad MOSH_KEY: ${errorText(e)}\n`);
    return 1;
  }
  const caps = loadTerminfo(opts.term);
  const scrollback = opts.scrollback ?? true;
  const features = opts.features ?? true;
  const smcup = opts.noTermInit ? "" : caps.smcup ?? "";
  const rmcup = opts.noTermInit ? "" : caps.rmcup ?? "";
  // With scrollback the primary screen is kept; the alternate one only if the server lacks it.
  const rt = new RealTerminal({
    smcup: scrollback ? "" : smcup,
    rmcup: scrollback ? "" : rmcup,
    io: opts.io,
  });
  if (!rt.isTerminal()) {
    printErr("mosh-client: standard input is not a terminal (tcgetattr: not a tty)\n");
    return 1;
  }
  let forwarding: ClientForwarding | null = null;
  if ((opts.forwards !== undefined && opts.forwards.length > 0) || opts.agentSocket !== undefined) {
    // Loaded only when asked for: a session without forwarding starts without its modules.
    const { ClientForwarding } = await import("./client_forwarding.ts");
    try {
      forwarding = ClientForwarding.listen(opts.forwards ?? [], opts.agentSocket ?? null);
    } catch (e) {
      printErr(`mosh-client: ${errorText(e)}\n`);
      return 1;
    }
  }
  let connection: Connection;
  try {
    connection = Connection.client({ key, ip: opts.ip, port: opts.port, now: clock });
  } catch (e) {
    forwarding?.close();
    printErr(`mosh-client: ${errorText(e)}\n`);
    return 1;
  }
  const transport = new Transport<UserStream, TerminalState>({
    link: connection,
    initialState: new UserStream(),
    now: clock,
    sendMinDelay: SEND_MINDELAY_CLIENT,
    log: (opts.verbose ?? 0) > 0 ? (line) => printErr(line + "\r\n") : undefined,
  });
  // State 1: our capabilities first (C's server skips them), then the window size.
  transport.currentState.pushCapabilities(ownCapabilities({
    scrollback,
    features,
    forwarding: forwarding !== null,
    agent: Boolean(forwarding?.agentSocket),
  }));
  const size = rt.size();
  transport.currentState.pushResize(size.cols, size.rows);
  transport.tick(clock());
  // On its way before the import holds the thread (the socket gets it when the event loop runs).
  await connection.drained();
  // The emulator and the rest load while the server starts the shell.
  const { ClientSession } = await import("./client_session.ts");
  const session = new ClientSession(opts, {
    rt,
    connection,
    transport,
    forwarding,
    size,
    features,
    paintOptions: {
      ech: caps.ech,
      bce: caps.bce,
      title: caps.title,
      exact: false,
      scrollback,
      attributes: caps.attributes,
    },
    alternateScreen: { smcup, rmcup },
  });
  return await session.run();
}

/**
 * The mosh-client session: the main loop that connects the real terminal to the SSP transport
 * (docs/PROTOCOL.md §8.0, §6.1, §10 for painting, §8.1-8.4 for the overlays, §11.9).
 *
 * - Setup: lib/client_start.ts has already sent the first client state (our capabilities and
 *   `Resize(cols, rows)` of the real terminal) through a `Transport<UserStream, TerminalState>`
 *   over a client `Connection`, and loaded this module after the send. Here: the remote state 0
 *   (a TerminalState of that size) for the transport's receiving side, raw mode,
 *   `Display::open()` (smcup unless MOSH_NO_TERM_INIT, then `\e[?1h`), then the Connection starts
 *   listening (datagrams that came meanwhile waited in the socket). A resize while this module
 *   loaded is sent once the SIGWINCH listener is in place.
 * - Each pass of the loop paints a frame, sleeps until something happens (a datagram, a read
 *   from stdin, a signal, or the earliest timer of the transport and the overlays; at most 250 ms
 *   while no server state has arrived yet), then handles what happened and ticks the transport.
 *   An idle session therefore sleeps in one timer and uses no CPU. A read that arrives while
 *   the loop sleeps is handled and painted at once (the predicted echo shows without waiting
 *   for the loop to come round), then the loop wakes to tick the transport.
 * - Painting: the latest remote screen plus the overlays (prediction, notification bar, title
 *   prefix) is diffed against what was drawn last with `diffFrames`, using the real terminal's
 *   terminfo capabilities, and written with one synchronous write loop. The first frame, Ctrl-L
 *   and SIGCONT repaint from scratch.
 * - Input (read by lib/client_input.ts, bounded by the server's acknowledgements): every byte
 *   read goes through the escape key (`Ctrl-^ .` quits, `Ctrl-^ Ctrl-Z` suspends) and the
 *   prediction engine, then into the UserStream. SIGWINCH pushes a Resize.
 * - Ending: `Ctrl-^ .`, SIGTERM/SIGINT/SIGHUP, end of input or the connection timing out start
 *   the shutdown handshake (or end at once when the server was never reached); the server ending
 *   the session ends it too. Then the last frame, `Display::close()`, the terminal mode restored,
 *   the firewall hint or the unclean-shutdown note, and `[mosh is exiting.]`. Exit status 0 only
 *   after a clean shutdown.
 *
 * - Our extensions (lib/client_extensions.ts): scrollback (issue 14; on unless
 *   `scrollback: false`) keeps the real terminal on its primary screen (no smcup) and the display
 *   diff neither scrolls nor clears the whole screen, so the real scrollback receives only the
 *   history lines written before each repaint; a first server state without scrollback switches
 *   to the alternate screen and the usual paint instead. Terminal features and forwarding too.
 * - Extended attributes (issue 15): the client announces them; a server of ours then sends them
 *   in its diffs, and the paint shows those the real terminal's terminfo has (TermCaps
 *   `attributes`), with OSC 8 hyperlinks around exactly the linked cells, repaints included.
 */

import { clock, Waker } from "./waker.ts";
import { HeapHygiene } from "./heap_hygiene.ts";
import { errorText } from "./errors.ts";
import { printTo } from "./write_all.ts";
import { type Connection, rejectionReport } from "./connection.ts";
import type { Transport } from "./transport.ts";
import type { UserStream } from "./user_stream.ts";
import { TerminalState } from "./terminal_state.ts";
import { diffFrames, type DiffOptions } from "./display.ts";
import type { Framebuffer } from "./framebuffer.ts";
import { PredictionEngine } from "./prediction.ts";
import { NotificationEngine } from "./notification.ts";
import { TITLE_PREFIX, TitleEngine } from "./title.ts";
import type { RealTerminal, TerminalSize } from "./real_terminal.ts";
import { EscapeAction, EscapeKeyHandler, parseEscapeKey, SUSPEND_MESSAGE } from "./escape_key.ts";
import { ClientExtensions } from "./client_extensions.ts";
import { InputQueue, READ_SIZE } from "./client_input.ts";
import { ClientSignals } from "./client_signals.ts";
import type { ClientForwarding } from "./client_forwarding.ts";
import type { ClientOptions, StartedClient } from "./client_start.ts";
import { END_SYNCHRONIZED_UPDATE } from "./history_writer.ts";
import { Row } from "./framebuffer.ts";

/** While no server state has arrived, the loop wakes at least this often (ms). */
const CONNECTING_WAKE = 250;
/** "Nothing received from server" after this long without a server state (ms). */
const CONNECTING_NOTICE_AFTER = 250;
/** "Timed out waiting for server..." and shutdown after this long (ms). */
const CONNECTING_TIMEOUT = 15000;
/** -v: at most one rejected-datagram line a second, ms. */
const REJECTION_REPORT_INTERVAL = 1000;
/**
 * After a failed terminal set-up, the longest the client waits for the server to acknowledge its
 * shutdown (ms): the error is on the screen, and a server that does not answer must not hold it.
 */
const ABANDON_WAIT = 2000;
const END_SYNC = new TextEncoder().encode(END_SYNCHRONIZED_UPDATE);

/** The firewall hint printed when the server never answered (as mosh-client prints it). */
export function firewallHint(ip: string, port: number): string {
  return `\nmosh did not make a successful connection to ${ip}:${port}.\n` +
    `Please verify that UDP port ${port} is not firewalled and can reach the server.\n\n` +
    "(By default, mosh uses a UDP port between 60000 and 61000. The -p option\n" +
    "selects a specific UDP port number.)\n";
}

/** The note printed after an unclean shutdown (as mosh-client prints it). */
export const UNCLEAN_SHUTDOWN_NOTE = "\nmosh did not shut down cleanly. Please note that the\n" +
  "mosh-server process may still be running on the server.\n";

/** The line that ends every session. */
export const EXITING_LINE = "[mosh is exiting.]\n";

/** The state of one client session, from its first state sent (lib/client_start.ts) to its end. */
export class ClientSession {
  readonly #opts: ClientOptions;
  readonly #rt: RealTerminal;
  readonly #connection: Connection;
  #paintOptions: DiffOptions;
  /** smcup/rmcup to switch to if the server offers no scrollback. */
  readonly #alternateScreen: { smcup: string; rmcup: string };
  /** Scrollback, terminal features, forwarding: our extensions' parts of the states. */
  readonly #extensions: ClientExtensions;
  readonly #transport: Transport<UserStream, TerminalState>;
  readonly #waker = new Waker(clock);
  readonly #heap = new HeapHygiene(clock());
  readonly #prediction: PredictionEngine;
  readonly #notification: NotificationEngine;
  readonly #title: TitleEngine;
  readonly #escape: EscapeKeyHandler;
  readonly #printErr: (text: string) => void;
  readonly #printOut: (text: string) => void;

  /** What the real terminal shows; null forces a full repaint. */
  #lastDrawn: Framebuffer | null = null;
  /** Keystrokes read from stdin, for the loop to handle. */
  readonly #input: InputQueue;
  /** Bytes to send from one read: at most two per byte read (escape key + byte). */
  readonly #keys = new Uint8Array(2 * READ_SIZE);
  /** True while the loop awaits its sleep: a read may then be handled at once. */
  #asleep = false;
  /** Set when input handled outside the loop asked to quit at once (server never reached). */
  #quitNow = false;
  /** A bug thrown while handling input outside the loop; the loop rethrows it. */
  #fault: unknown = null;
  readonly #signals = new ClientSignals();
  #startTime: number;
  #lastRemoteNum = 0n;
  #lastIntegrityFailures = 0;
  /** -v given: SSP log lines and rejected-datagram counts on stderr. */
  readonly #verbose: boolean;
  /** -v: the rejected-datagram total last reported, and when. */
  #rejectedSeen = 0;
  #rejectedReportedAt = -Infinity;
  readonly #connectingNotice: string;
  /** `-L` listeners and channels; null without forwarding options. */
  readonly #forwarding: ClientForwarding | null;

  /** The window size the server was last told of by the start (checked once listening). */
  readonly #startSize: TerminalSize;

  constructor(opts: ClientOptions, started: StartedClient) {
    const { rt, connection, transport, forwarding, size } = started;
    this.#opts = opts;
    this.#rt = rt;
    this.#connection = connection;
    this.#forwarding = forwarding;
    this.#paintOptions = started.paintOptions;
    this.#alternateScreen = started.alternateScreen;
    this.#printErr = opts.printErr ?? ((s) => printTo(Deno.stderr, s));
    this.#printOut = opts.printOut ?? ((s) => printTo(Deno.stdout, s));
    const now = clock();
    this.#startTime = now;
    this.#connectingNotice = `Nothing received from server on UDP port ${opts.port}.`;
    this.#verbose = (opts.verbose ?? 0) > 0;
    this.#startSize = size;
    const remote = new TerminalState(size.cols, size.rows);
    this.#notification = new NotificationEngine(now);
    // Before the transport copies the initial state.
    this.#extensions = new ClientExtensions(remote, {
      rt,
      notification: this.#notification,
      forwarding,
      scrollback: started.paintOptions.scrollback ?? false,
      features: started.features,
    });
    this.#transport = transport;
    transport.startReceiving(remote);
    this.#extensions.attachForwarding(transport, connection, clock, () => this.#waker.wake());
    this.#prediction = new PredictionEngine({
      mode: opts.predictionMode ?? "adaptive",
      overwrite: opts.predictOverwrite ?? false,
    });
    this.#escape = new EscapeKeyHandler(parseEscapeKey(opts.escapeKey));
    this.#notification.setEscapeKeyName(this.#escape.config.keyName);
    this.#title = new TitleEngine(opts.titleNoPrefix ? "" : TITLE_PREFIX);
    this.#input = new InputQueue({
      read: (buf) => rt.read(buf),
      inFlight: () => this.#transport.currentState.size,
      onInput: (ended) => {
        if (!ended && this.#asleep && !this.#quitNow) this.#keystrokeNow();
        this.#waker.wake();
      },
    });
  }

  /** True once any state has arrived from the server. */
  #connected(): boolean {
    return this.#transport.getLatestRemoteState().num !== 0n;
  }

  /** Runs the session to its end; returns the exit status. */
  async run(): Promise<number> {
    try {
      this.#rt.open();
    } catch (e) {
      this.#printErr(`mosh-client: cannot set up the terminal: ${errorText(e)}\n`);
      await this.#abandon();
      return 1;
    }
    this.#connection.listen((payload) => this.#onDatagram(payload));
    this.#signals.install(() => this.#waker.wake());
    // Resized while this module loaded (before the SIGWINCH listener): tell the server now.
    const { cols, rows } = this.#rt.size();
    if (cols !== this.#startSize.cols || rows !== this.#startSize.rows) this.#resize();
    this.#input.start();
    try {
      for (;;) {
        this.#paint();
        this.#asleep = true;
        await this.#waker.sleep(this.#waitTime(clock()));
        this.#asleep = false;
        if (this.#fault !== null) throw this.#fault;
        const end = this.#pass(clock());
        if (end !== null) return await this.#finish(end === "clean");
      }
    } catch (e) {
      // A bug, not a user error: leave the terminal usable, then report it (one line).
      this.#signals.remove();
      await this.#connection.close().catch(() => {});
      this.#rt.close();
      throw e;
    }
  }

  /**
   * The terminal could not be set up, but state 1 went out and the server has started the shell:
   * end the session with the shutdown handshake (§5.6), as a quit would, rather than leave the
   * server waiting for its network timeout. Nothing is painted; an unanswered shutdown is given
   * up after ABANDON_WAIT ms.
   */
  async #abandon(): Promise<void> {
    const transport = this.#transport;
    this.#connection.listen((payload) => {
      transport.recv(payload, clock());
      this.#waker.wake();
    });
    const start = clock();
    transport.startShutdown(start);
    for (;;) {
      const now = clock();
      if (transport.shutdownAcknowledged || transport.shutdownAckTimedOut(now)) break;
      const left = start + ABANDON_WAIT - now;
      if (left <= 0) break;
      transport.tick(now);
      await this.#waker.sleep(Math.min(transport.waitTime(now), left));
    }
    this.#waker.close();
    this.#forwarding?.close();
    await this.#connection.close();
  }

  /** How long the loop may sleep: the earliest timer, at most 250 ms while connecting. */
  #waitTime(now: number): number {
    const wait = Math.min(
      this.#transport.waitTime(now),
      this.#prediction.waitTime(),
      this.#notification.waitTime(now),
      this.#extensions.waitTime(this.#transport.getLatestRemoteState().state, now),
    );
    return this.#connected() ? wait : Math.min(wait, CONNECTING_WAKE);
  }

  /**
   * One pass after waking: input, signals, the end conditions, the connecting notices, then the
   * transport's tick. Returns how the session ended, or null to go on.
   */
  #pass(now: number): "clean" | "unclean" | null {
    const transport = this.#transport;
    if (this.#quitNow || !this.#processInput(now)) return "unclean";
    if (this.#signals.take("winch")) this.#resize();
    if (this.#signals.take("cont")) this.#resume();
    if (this.#signals.take("quit")) {
      if (!this.#connected()) return "unclean";
      this.#startShutdown("Signal received, shutting down...", now);
    }

    if (transport.shutdownInProgress && transport.shutdownAcknowledged) return "clean";
    if (transport.shutdownInProgress && transport.shutdownAckTimedOut(now)) return "unclean";
    if (transport.counterpartyShutdownAckSent) return "clean";

    if (!this.#connected() && !transport.shutdownInProgress) {
      const waited = now - this.#startTime;
      if (waited > CONNECTING_TIMEOUT) {
        this.#startShutdown("Timed out waiting for server...", now);
      } else if (waited > CONNECTING_NOTICE_AFTER) {
        this.#notification.setNotificationString(this.#connectingNotice, now);
      }
    }

    transport.tick(now);
    this.#forwarding?.pump();
    this.#input.pump();
    const sendError = this.#connection.sendError;
    if (sendError !== null) this.#notification.setNetworkError(sendError, now);
    else this.#notification.clearNetworkError(now);
    const integrity = this.#connection.stats.integrity;
    if (integrity !== this.#lastIntegrityFailures) {
      this.#lastIntegrityFailures = integrity;
      this.#notification.setNotificationString(
        "Crypto exception: Packet failed integrity check.",
        now,
      );
    }
    if (this.#verbose) this.#reportRejections(now, false);
    this.#heap.tick(now);
    return null;
  }

  /**
   * -v only: the rejected-datagram line on stderr (as the server's -v log has it) when the count
   * changed, at most once a second so that a flood does not flood the terminal too; `final` (at
   * exit) reports a change at once.
   */
  #reportRejections(now: number, final: boolean): void {
    const rejected = rejectionReport(this.#connection.stats, this.#transport.stats.malformed);
    if (rejected.total === this.#rejectedSeen) return;
    if (!final && now - this.#rejectedReportedAt < REJECTION_REPORT_INTERVAL) return;
    this.#rejectedSeen = rejected.total;
    this.#rejectedReportedAt = now;
    this.#printErr(rejected.line + "\r\n");
  }

  /** Starts the shutdown handshake (once) with a permanent notification. */
  #startShutdown(message: string, now: number): void {
    if (this.#transport.shutdownInProgress) return;
    this.#notification.setNotificationString(message, now, true);
    this.#transport.startShutdown(now);
  }

  /** Transport input for one authentic datagram; runs inside the connection's receive loop. */
  #onDatagram(payload: Uint8Array): void {
    const transport = this.#transport;
    const now = clock();
    // A segment: the forwarding link pumps by itself, the loop sleeps on (lib/forwarding_link.ts).
    if (this.#forwarding?.datagram(payload)) return;
    transport.recv(payload, now);
    const latest = transport.getLatestRemoteState();
    this.#extensions.received(transport, now);
    const fresh = latest.num !== this.#lastRemoteNum;
    if (fresh) {
      const first = this.#lastRemoteNum === 0n;
      if (first && this.#notification.message === this.#connectingNotice) {
        this.#notification.setNotificationString("", now);
      }
      if (!this.#extensions.newState(transport, first, now)) this.#withoutScrollback();
      this.#lastRemoteNum = latest.num;
      this.#notification.serverHeard(latest.timestamp);
    }
    this.#notification.serverAcked(transport.getSentStateAckedTimestamp());
    this.#prediction.setLocalFrameAcked(transport.getSentStateAcked());
    this.#prediction.setSendInterval(transport.sendInterval);
    this.#prediction.setLocalFrameLateAcked(latest.state.echoAck);
    // A new screen while the loop sleeps: paint it now rather than one loop hop later (as a
    // keystroke is, `#keystrokeNow`); the woken loop's own paint then finds nothing to change.
    if (fresh && this.#asleep && !this.#quitNow) this.#paintNow();
    this.#waker.wake();
  }

  /**
   * The server offers no scrollback (a C server, or scrollback off there): paint as mosh does,
   * on the alternate screen, with the display diff's scrolling.
   */
  #withoutScrollback(): void {
    this.#paintOptions = { ...this.#paintOptions, scrollback: false };
    const { smcup, rmcup } = this.#alternateScreen;
    this.#rt.enterAlternateScreen(smcup, rmcup);
    this.#lastDrawn = null;
  }

  /**
   * A read while the loop sleeps: handle it and paint (the predicted echo) right away instead of
   * one loop hop later; the woken loop then ticks the transport, as after any read.
   */
  #keystrokeNow(): void {
    try {
      if (!this.#processInput(clock())) this.#quitNow = true;
      else this.#paint();
    } catch (e) {
      this.#fault ??= e;
    }
  }

  /** A paint outside the loop: a fault is kept for the loop to rethrow. */
  #paintNow(): void {
    try {
      this.#paint();
    } catch (e) {
      this.#fault ??= e;
    }
  }

  /** Handles queued keystrokes; false means "quit now" (the server was never reached). */
  #processInput(now: number): boolean {
    const transport = this.#transport;
    for (let chunk = this.#input.shift(); chunk !== undefined; chunk = this.#input.shift()) {
      if (transport.shutdownInProgress) continue;
      this.#prediction.setLocalFrameSent(transport.getSentStateLast());
      this.#prediction.newUserInput(chunk, this.#remoteFrame(), now);
      const out = this.#keys;
      let n = 0;
      const escape = this.#escape;
      for (const byte of chunk) {
        const action = escape.feed(byte);
        if (action & EscapeAction.ShowHelp) {
          this.#notification.setNotificationString(escape.config.helpText, now, true, false);
        }
        if (action & EscapeAction.Quit) {
          if (!this.#connected()) return false;
          this.#startShutdown("Exiting on user request...", now);
          break; // the rest of this read is discarded, as mosh does
        }
        if (action & EscapeAction.Suspend) {
          this.#sendKeys(out.subarray(0, n));
          n = 0;
          this.#suspend();
        }
        if (action & EscapeAction.SendKey) out[n++] = escape.config.key;
        if (action & EscapeAction.SendByte) out[n++] = byte;
        if (action & EscapeAction.Repaint) this.#lastDrawn = null;
        if (
          action & EscapeAction.ClearHelp &&
          this.#notification.message === escape.config.helpText
        ) {
          this.#notification.setNotificationString("", now);
        }
      }
      this.#sendKeys(out.subarray(0, n));
      // Keystrokes first: bulk forwarded data waits while this one goes out.
      this.#forwarding?.holdForKeystroke();
    }
    if (this.#input.takeEnd()) {
      if (!this.#connected()) return false;
      this.#startShutdown("Exiting...", now);
    }
    return true;
  }

  /** Pushes typed bytes to the user stream (copied), unless a shutdown froze it. */
  #sendKeys(bytes: Uint8Array): void {
    if (bytes.length > 0 && !this.#transport.shutdownInProgress) {
      this.#transport.currentState.pushBytes(bytes);
    }
  }

  /** The newest screen received from the server. */
  #remoteFrame(): Framebuffer {
    return this.#transport.getLatestRemoteState().state.framebuffer;
  }

  /** Paints the remote screen plus overlays, as a diff against what was drawn last. */
  #paint(): void {
    const now = clock();
    const remote = this.#remoteFrame();
    // New history first, at most every HISTORY_WRITE_INTERVAL: it passes through the screen into
    // the scrollback and leaves the screen blank, so the frame is repainted in the same write.
    const state = this.#transport.getLatestRemoteState().state;
    // Enough line feeds for the real screen, whatever size it has now.
    const history = this.#extensions.takeHistory(
      state,
      this.#lastDrawn?.height ?? remote.height,
      now,
    );
    if (history !== null) {
      const last = this.#lastDrawn;
      if (last !== null) {
        const rows: Row[] = [];
        for (let y = 0; y < last.height; y++) rows.push(new Row(last.width));
        this.#lastDrawn = last.with({ rows, cursorRow: 0, cursorCol: 0, fg: 0, bg: 0, attrs: 0 });
      }
    }
    this.#extensions.writeFeatures(state, now);
    this.#prediction.cull(remote, now);
    let frame = this.#prediction.apply(remote);
    if (this.#extensions.featuresOn(state)) {
      // Copies arrive as events, whole and with their selection: not again as `52;c;`.
      frame = frame.with({ clipboard: this.#lastDrawn?.clipboard ?? "" });
    }
    frame = this.#notification.apply(frame, now);
    frame = this.#title.apply(frame);
    const last = this.#lastDrawn;
    if (
      history === null && last !== null && last.equals(frame) &&
      last.iconName === frame.iconName && last.titleInitialized === frame.titleInitialized
    ) return;
    const bytes = diffFrames(last, frame, this.#paintOptions);
    if (history === null) {
      if (bytes.length > 0) this.#rt.write(bytes);
    } else {
      // One write: the history, the repainted frame, the end of the synchronized update.
      const out = new Uint8Array(history.length + bytes.length + END_SYNC.length);
      out.set(history);
      out.set(bytes, history.length);
      out.set(END_SYNC, history.length + bytes.length);
      this.#rt.write(out);
    }
    this.#lastDrawn = frame;
  }

  /**
   * SIGWINCH: tell the server (always, as mosh does: two quick resizes may end at the size the
   * server still shows). The resized frame that comes back repaints the screen; if the size did
   * not change (e.g. a terminal reattached), repaint now.
   */
  #resize(): void {
    const { cols, rows } = this.#rt.size();
    if (!this.#transport.shutdownInProgress) this.#transport.currentState.pushResize(cols, rows);
    this.#prediction.reset();
    const remote = this.#remoteFrame();
    if (cols === remote.width && rows === remote.height) this.#lastDrawn = null;
  }

  /** After SIGCONT: raw mode and the open sequence again (a shell may have changed them). */
  #resume(): void {
    try {
      this.#rt.reopen();
    } catch {
      // The terminal is gone; end of input will follow.
    }
    this.#lastDrawn = null;
  }

  /** Ctrl-^ Ctrl-Z: restore the terminal, stop the process group, and come back. */
  #suspend(): void {
    this.#rt.close();
    printTo(Deno.stdout, SUSPEND_MESSAGE);
    try {
      Deno.kill(0, "SIGSTOP");
    } catch (e) {
      this.#printErr(`mosh-client: cannot suspend: ${errorText(e)}\r\n`);
    }
    this.#rt.open();
    this.#lastDrawn = null;
  }

  async #finish(clean: boolean): Promise<number> {
    this.#waker.close();
    this.#signals.remove();
    this.#forwarding?.close();
    const connected = this.#connected();
    await this.#connection.close();
    // The last frame: no notification, no title prefix.
    this.#notification.setNotificationString("", clock());
    this.#title.prefix = "";
    try {
      this.#paint();
    } catch {
      // Best effort: the terminal may be gone.
    }
    this.#rt.close();
    if (this.#verbose) this.#reportRejections(clock(), true);
    if (!connected) this.#printErr(firewallHint(this.#opts.ip, this.#opts.port));
    else if (!clean) this.#printErr(UNCLEAN_SHUTDOWN_NOTE);
    this.#printOut(EXITING_LINE);
    return clean ? 0 : 1;
  }
}

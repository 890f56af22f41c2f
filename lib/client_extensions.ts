/**
 * The client's side of our extensions (docs/EXTENSIONS.md; docs/PROTOCOL.md §13), for
 * lib/client_session.ts: what it announces, and what it does with the extension parts of the
 * server states it receives.
 *
 * - Capabilities: ours go out first in the user stream, before the first resize (C's server skips
 *   them), from lib/client_start.ts with the same switches as here (`ownCapabilities`). The first
 *   server state's announcement decides scrollback and forwarding.
 * - Scrollback ("Scrollback", issue 14): the real terminal stays on its primary screen and the
 *   history lines the server sends are written into its scrollback (lib/history_writer.ts), at
 *   most every HISTORY_WRITE_INTERVAL; a first server state without scrollback (a C server, or
 *   MOSH_SCROLLBACK=0) turns it off, and the session paints on the alternate screen as mosh does.
 * - Terminal features ("Terminal features", issue 15): events (notifications, clipboard copies)
 *   are written once each, and the cursor shape follows the server's.
 * - Forwarding ("Forwarding", issue 16): channel control travels in the states both ways.
 * - History and events flow as fast as the client acknowledges them: a new frontier is acked
 *   soon, and a resent state (our ack was lost) is acked again. Our server's first state is acked
 *   at once too: the server paces its frames by the round trip, which it learns from that ack, so
 *   the shell's first prompt no longer waits 100 ms for the delayed ack.
 */

import { announces, FORWARDING, SCROLLBACK, TERMINAL_FEATURES } from "./extensions.ts";
import { eventBytes, EventInbox, noticeText } from "./terminal_events.ts";
import { FeatureState } from "./terminal_features.ts";
import { encodeControl } from "./channel_control.ts";
import type { ClientForwarding } from "./client_forwarding.ts";
import { HistoryInbox, HistoryWriter } from "./history_writer.ts";
import type { Connection } from "./connection.ts";
import type { NotificationEngine } from "./notification.ts";
import type { RealTerminal } from "./real_terminal.ts";
import type { TerminalState } from "./terminal_state.ts";
import type { Transport } from "./transport.ts";
import type { UserStream } from "./user_stream.ts";

/**
 * History is written into the real scrollback at most this often (ms): each write repaints the
 * whole screen, so a flood of history is batched.
 */
const HISTORY_WRITE_INTERVAL = 50;

/** The client's transport. */
type ClientTransport = Transport<UserStream, TerminalState>;

/** What the client does with our extensions; one per session. */
export class ClientExtensions {
  readonly #rt: RealTerminal;
  readonly #notification: NotificationEngine;
  readonly #forwarding: ClientForwarding | null;
  /** Writes history into the real scrollback; null = scrollback off. */
  #history: HistoryWriter | null = null;
  /** When history may next be written (ms on the loop's clock). */
  #nextHistoryWrite = 0;
  /** The history frontier of the newest server state (ack promptly when it moves). */
  #lastFrontier = -1;
  /** The event frontier of the newest server state (ack promptly when it moves). */
  #lastEventFrontier = -1;
  /** Duplicate server states received so far (a resend: our ack was lost). */
  #duplicates = 0;
  /** Channel control operations put into our state so far. */
  #controlSent = 0;

  /**
   * Sets up `remote`, the client's first remote state, before the transport copies it: the
   * history inbox (with `scrollback`), the features' part (with `features`), the channel control
   * sink (with `forwarding`).
   */
  constructor(remote: TerminalState, opts: {
    rt: RealTerminal;
    notification: NotificationEngine;
    forwarding: ClientForwarding | null;
    scrollback: boolean;
    features: boolean;
  }) {
    this.#rt = opts.rt;
    this.#notification = opts.notification;
    const forwarding = this.#forwarding = opts.forwarding;
    if (forwarding !== null) remote.controlSink = (ev) => forwarding.control(ev);
    if (opts.scrollback) {
      remote.inbox = new HistoryInbox();
      this.#history = new HistoryWriter(remote.inbox);
    }
    if (opts.features) remote.features = FeatureState.client(new EventInbox());
  }

  /**
   * Attaches the forwarding, if any, to the transport: its control operations go into the user
   * stream, then `wake`. (Our capabilities went out in the first state: lib/client_start.ts.)
   */
  attachForwarding(
    transport: ClientTransport,
    connection: Connection,
    now: () => number,
    wake: () => void,
  ): void {
    const forwarding = this.#forwarding;
    if (forwarding === null) return;
    forwarding.attach({
      path: connection,
      sendControl: (op) => {
        transport.currentState.pushControl(this.#controlSent++, encodeControl([op]));
        wake();
      },
      now,
      log: (line) => this.#notification.setNotificationString(line, now()),
    });
  }

  /** Whether history is written into the real scrollback (until a server without it). */
  get scrollback(): boolean {
    return this.#history !== null;
  }

  /** After each datagram: a state we already had means our ack was lost; events wait for it. */
  received(transport: ClientTransport, now: number): void {
    if (transport.stats.duplicates === this.#duplicates) return;
    this.#duplicates = transport.stats.duplicates;
    if (this.featuresOn(transport.getLatestRemoteState().state)) transport.ackAgain(now);
  }

  /**
   * A new server state: the first one's announcement decides scrollback and forwarding, and a
   * moved history or event frontier is acknowledged soon. Returns false when the first state
   * turns scrollback off (the caller switches to the alternate screen).
   */
  newState(transport: ClientTransport, first: boolean, now: number): boolean {
    const state = transport.getLatestRemoteState().state;
    let keepScrollback = true;
    if (first && state.caps !== null) {
      // Our server (it announced capabilities) sends its frames at most every 250 ms until our
      // first ack gives it a round-trip sample; by the delayed-ack rule that ack would leave
      // 100 ms from now, and the shell's prompt would wait for it. (A C server is not asked.)
      transport.ackSoon(now);
    }
    if (first && !announces(state.caps, SCROLLBACK) && this.#history !== null) {
      this.#history = null;
      keepScrollback = false;
    }
    if (first && this.#forwarding !== null) {
      const announced = announces(state.caps, FORWARDING);
      this.#forwarding.decide(announced);
      if (!announced) {
        this.#notification.setNotificationString(this.#forwarding.refusedNotice, now);
      }
    }
    if (state.frontier !== this.#lastFrontier) {
      // History flows as fast as we acknowledge it.
      this.#lastFrontier = state.frontier;
      transport.ackSoon(now);
    }
    const eventFrontier = state.features?.frontier ?? -1;
    if (eventFrontier !== this.#lastEventFrontier) {
      // Events (a big copy in steps) flow as fast as we acknowledge them.
      this.#lastEventFrontier = eventFrontier;
      transport.ackSoon(now);
    }
    return keepScrollback;
  }

  /** How long the loop may sleep before history is due to be written (ms; Infinity = none). */
  waitTime(state: TerminalState, now: number): number {
    if (!this.#history?.pending(state.frontier)) return Infinity;
    return Math.max(0, Math.ceil(this.#nextHistoryWrite - now));
  }

  /**
   * The history lines to write before this paint, if any are due: they pass through the screen
   * into the scrollback with enough line feeds for `minRows` and the real screen's rows, and
   * leave the screen blank (the caller repaints the frame in the same write).
   */
  takeHistory(state: TerminalState, minRows: number, now: number): Uint8Array | null {
    // (`pending` first: the terminal's size is a system call.)
    if (!this.#history?.pending(state.frontier) || now < this.#nextHistoryWrite) return null;
    const history = this.#history.take(state.frontier, Math.max(minRows, this.#rt.size().rows));
    if (history !== null) this.#nextHistoryWrite = now + HISTORY_WRITE_INTERVAL;
    return history;
  }

  /** Whether `state` carries our server's terminal features. */
  featuresOn(state: TerminalState): boolean {
    return state.features !== null && announces(state.caps, TERMINAL_FEATURES);
  }

  /**
   * Our server's terminal features: the events received since the last paint, each written once,
   * and the cursor shape (re-applied after a suspend, which reset it).
   */
  writeFeatures(state: TerminalState, now: number): void {
    const inbox = state.features?.inbox;
    if (!this.featuresOn(state) || !inbox) return;
    for (const event of inbox.take()) {
      const notice = noticeText(event);
      if (notice !== null) {
        this.#notification.setNotice(notice, now);
        continue;
      }
      const bytes = eventBytes(event);
      if (bytes !== null) this.#rt.writeString(bytes);
    }
    this.#rt.setCursorShape(state.terminal.cursorShape);
  }
}

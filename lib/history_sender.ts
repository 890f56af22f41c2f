/**
 * The server's side of our extensions for one connection (docs/EXTENSIONS.md, docs/PROTOCOL.md
 * §13): the calls a server loop (lib/session.ts, lib/server_connection.ts) makes for scrollback
 * and terminal features.
 *
 * - `acceptCapabilities` when the connection's client announces its capabilities: our own go into
 *   that connection's state; history starts there (with what the session's ring holds) when both
 *   sides announced scrollback, and the event frontier starts at the end of the session's event
 *   log (lib/terminal_events.ts) when both announced terminal features; the state's diffs carry
 *   the extended attributes when the client announced them.
 * - `advanceHistory` before each `transport.tick`: moves that connection's history frontier by
 *   its budget past what its client acknowledged, sized so that history adds no fragment. The
 *   step costs a display diff and a deflate or two, so it is taken only when a send is due or
 *   nothing is in flight (then the step itself starts a send). While the output outruns history
 *   (a flood), the connection's `HistoryPacer` spaces the steps HISTORY_BUSY_INTERVAL apart: the
 *   screen goes first, and a flood's lines mostly leave the ring unsent instead of costing both
 *   ends a step per frame (docs/EXTENSIONS.md, "Pacing").
 * - `advanceFeatures` likewise for the event frontier (EVENT_STEP characters past what the client
 *   acknowledged).
 */

import {
  announces,
  ATTRIBUTES,
  type Capability,
  ownCapabilities,
  SCROLLBACK,
  TERMINAL_FEATURES,
} from "./extensions.ts";
import { fragmentsFor } from "./fragment.ts";
import type { HistoryRing } from "./history.ts";
import type { EventLog } from "./terminal_events.ts";
import { FeatureState } from "./terminal_features.ts";
import type { TerminalState } from "./terminal_state.ts";
import type { UserStream } from "./user_stream.ts";
import { type Transport, WAIT_FOREVER } from "./transport.ts";

/**
 * While the output outruns history, at most one history step per this many ms (100 ms cost a
 * flood 10% more wall time and 16% more server CPU than 250: bench/README.md, "Third pass").
 */
export const HISTORY_BUSY_INTERVAL = 250;
/**
 * The output outruns history when more than this many times as many rows scrolled off since the
 * last step as that step carried: then most of them leave the ring unsent whatever the pace.
 */
export const HISTORY_FLOOD_FACTOR = 8;

/**
 * One connection's history pacing. A step may follow the previous one as soon as the transport
 * allows, unless the output outruns history HISTORY_FLOOD_FACTOR-fold (a flood such as `seq 1
 * 2000000`, or `yes`): then steps are HISTORY_BUSY_INTERVAL apart, the screen goes first, and
 * neither end pays a history step per frame for lines the ring drops anyway. Output that history
 * can follow (a build log, `tail -f`) is not paced, so its lines are not lost to the ring.
 */
export class HistoryPacer {
  #lastStep = -Infinity;
  #endAtStep = 0;
  #carried = 0;
  /** When a step held back by pacing may be taken (loop clock, ms); -1 = none held back. */
  #heldUntil = -1;

  /**
   * True when a step may be taken at `now`, the ring's end being `ringEnd`. When not, the step is
   * held back and `waitTime` counts down to it; each call first forgets an earlier hold.
   */
  allows(ringEnd: number, now: number): boolean {
    this.#heldUntil = -1;
    const flood = ringEnd - this.#endAtStep > HISTORY_FLOOD_FACTOR * Math.max(1, this.#carried);
    if (!flood || now - this.#lastStep >= HISTORY_BUSY_INTERVAL) return true;
    this.#heldUntil = this.#lastStep + HISTORY_BUSY_INTERVAL;
    return false;
  }

  /** Forgets a held-back step: the caller is not stepping for another reason (it will be woken). */
  release(): void {
    this.#heldUntil = -1;
  }

  /** A step carrying `carried` lines was taken at `now`, the ring's end being `ringEnd`. */
  stepped(ringEnd: number, now: number, carried: number): void {
    this.#lastStep = now;
    this.#endAtStep = ringEnd;
    this.#carried = carried;
  }

  /** ms until a held-back step may be taken, or WAIT_FOREVER when none is held back. */
  waitTime(now: number): number {
    return this.#heldUntil < 0 ? WAIT_FOREVER : Math.max(0, Math.ceil(this.#heldUntil - now));
  }
}

/**
 * A client's capabilities arrived on the connection whose state is `state`; `ring` is the
 * session's history (null = MOSH_SCROLLBACK=0), `events` the session's event log, `forwarding`:
 * this server offers forwarding (lib/forwarding_server.ts). Only the first announcement counts.
 */
export function acceptCapabilities(
  state: TerminalState,
  caps: readonly Capability[],
  ring: HistoryRing | null,
  events: EventLog,
  forwarding = false,
): void {
  if (state.caps !== null) return;
  state.caps = ownCapabilities({ scrollback: ring !== null, features: true, forwarding });
  if (ring !== null && announces(caps, SCROLLBACK)) state.startHistory(ring);
  if (announces(caps, TERMINAL_FEATURES)) state.features = FeatureState.server(events);
  state.attributes = announces(caps, ATTRIBUTES);
}

/**
 * Before `transport.tick(now)`: advances `state`'s history frontier when useful and `pacer` (the
 * connection's) allows; returns true when it moved (the caller then publishes the state).
 * `datagramMtu` is the connection's MTU.
 */
export function advanceHistory(
  state: TerminalState,
  transport: Transport<TerminalState, UserStream>,
  datagramMtu: number,
  now: number,
  pacer: HistoryPacer,
): boolean {
  const ring = state.ring;
  const acked = transport.acknowledgedState;
  if (
    ring === null || transport.shutdownInProgress || state.frontier >= ring.end ||
    (state.historyInFlight(acked) && transport.waitTime(now) !== 0) // its ack will wake the loop
  ) {
    pacer.release();
    return false;
  }
  if (!pacer.allows(ring.end, now)) return false;
  const from = Math.max(state.frontier, ring.start);
  const moved = state.advanceHistory(acked, (diff) => fragmentsFor(diff, datagramMtu));
  if (moved) pacer.stepped(ring.end, now, state.frontier - from);
  return moved;
}

/**
 * Before `transport.tick(now)`: advances `state`'s event frontier (terminal features) when
 * events wait; returns true when it moved (the caller then publishes the state).
 */
export function advanceFeatures(
  state: TerminalState,
  transport: Transport<TerminalState, UserStream>,
  datagramMtu: number,
): boolean {
  if (state.features === null || transport.shutdownInProgress) return false;
  const acked = transport.acknowledgedState;
  return state.advanceFeatures(acked, (diff) => fragmentsFor(diff, datagramMtu));
}

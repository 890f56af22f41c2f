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
 *   nothing is in flight (then the step itself starts a send).
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
import type { Transport } from "./transport.ts";
import type { UserStream } from "./user_stream.ts";

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
  state.caps = ownCapabilities(ring !== null, true, forwarding);
  if (ring !== null && announces(caps, SCROLLBACK)) state.startHistory(ring);
  if (announces(caps, TERMINAL_FEATURES)) state.features = FeatureState.server(events);
  state.attributes = announces(caps, ATTRIBUTES);
}

/**
 * Before `transport.tick(now)`: advances `state`'s history frontier when useful; returns true
 * when it moved (the caller then publishes the state). `datagramMtu` is the connection's MTU.
 */
export function advanceHistory(
  state: TerminalState,
  transport: Transport<TerminalState, UserStream>,
  datagramMtu: number,
  now: number,
): boolean {
  if (state.ring === null || transport.shutdownInProgress) return false;
  const acked = transport.acknowledgedState;
  if (state.historyInFlight(acked) && transport.waitTime(now) !== 0) return false;
  return state.advanceHistory(acked, (diff) => fragmentsFor(diff, datagramMtu));
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

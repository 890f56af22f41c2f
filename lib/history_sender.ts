/**
 * The server's side of scrollback for one connection (docs/EXTENSIONS.md, docs/PROTOCOL.md §13):
 * the two calls a server loop makes, whatever owns the connection (lib/server_session.ts now; a
 * per-connection object once several clients share a session).
 *
 * - `acceptCapabilities` when the connection's client announces its capabilities: our own go into
 *   that connection's state, and history starts there (with what the session's ring holds) when
 *   both sides announced scrollback.
 * - `advanceHistory` before each `transport.tick`: moves that connection's history frontier by
 *   its budget past what its client acknowledged, sized so that history adds no fragment. The
 *   step costs a display diff and a deflate or two, so it is taken only when a send is due or
 *   nothing is in flight (then the step itself starts a send).
 */

import { announces, type Capability, ownCapabilities, SCROLLBACK } from "./extensions.ts";
import { fragmentsFor } from "./fragment.ts";
import type { HistoryRing } from "./history.ts";
import type { TerminalState } from "./terminal_state.ts";
import type { Transport } from "./transport.ts";
import type { UserStream } from "./user_stream.ts";

/**
 * A client's capabilities arrived on the connection whose state is `state`; `ring` is the
 * session's history (null = MOSH_SCROLLBACK=0); `forwarding`: this server offers forwarding
 * (lib/forwarding_server.ts). Only the first announcement counts.
 */
export function acceptCapabilities(
  state: TerminalState,
  caps: readonly Capability[],
  ring: HistoryRing | null,
  forwarding = false,
): void {
  if (state.caps !== null) return;
  state.caps = ownCapabilities(ring !== null, forwarding);
  if (ring !== null && announces(caps, SCROLLBACK)) state.startHistory(ring);
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

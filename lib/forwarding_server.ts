/**
 * The server's side of forwarding for one connection (docs/EXTENSIONS.md "Forwarding"): the
 * calls a server loop makes, whatever owns the connection (lib/server_session.ts now; the
 * per-connection object once several clients share a session), like lib/history_sender.ts for
 * scrollback. Channels belong to the connection: one client's `-L` is not another's.
 *
 * - `startServerForwarding` when the connection's client announced forwarding and this server
 *   allows it: the connection's state gets a control log, and the returned ServerForwarding
 *   routes segments and control.
 * - `publish(transport)` before `transport.tick`: a control operation went into the state.
 * - Then `link.pump()` after the tick, `link.waitTime()` for the sleep, `link.close()` at the end.
 */

import { ControlLog, type ControlOp } from "./channel_control.ts";
import { ForwardingLink, type SegmentPath } from "./forwarding_link.ts";
import type { TerminalState } from "./terminal_state.ts";
import type { Transport } from "./transport.ts";
import type { UserStream } from "./user_stream.ts";

/** One connection's forwarding on the server. */
export interface ServerForwarding {
  readonly link: ForwardingLink;
  /** Publishes the state when a control operation went into it since the last call. */
  publish(transport: Transport<TerminalState, UserStream>): void;
}

/**
 * Starts forwarding on the connection whose state is `state` and whose datagrams go through
 * `path`. The server connects only to the host and port of the client's OPEN (what the client's
 * own `-L` options name).
 */
export function startServerForwarding(
  state: TerminalState,
  path: SegmentPath,
  wake: () => void,
  now: () => number,
  log?: (line: string) => void,
): ServerForwarding {
  const controlLog = new ControlLog();
  state.controlLog = controlLog;
  let dirty = false;
  const link = new ForwardingLink({
    side: "server",
    path,
    sendControl: (op: ControlOp) => {
      controlLog.push(op);
      state.controlCount = controlLog.count;
      dirty = true;
      wake();
    },
    connect: (op: ControlOp) => {
      if (!op.host || !op.port) return Promise.reject(new Error("no such forwarding rule"));
      return Deno.connect({ hostname: op.host, port: op.port });
    },
    wake,
    now,
    log,
  });
  return {
    link,
    publish(transport) {
      if (!dirty || transport.shutdownInProgress) return;
      dirty = false;
      transport.setCurrentState(state);
    },
  };
}

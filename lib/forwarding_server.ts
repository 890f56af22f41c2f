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
 * - Then `link.pump()` after the tick, `link.waitTime()` for the sleep, `close()` at the end.
 * - `-R`: the client's LISTEN makes the server listen (on 127.0.0.1 unless the rule names an
 *   address); each accepted connection opens a channel naming only the rule's number, and the
 *   client connects to its own rule's target. A listen failure goes back as LISTEN_FAILED.
 */

import { ControlKind, ControlLog, type ControlOp } from "./channel_control.ts";
import { formatAddress } from "./connection.ts";
import { AGENT_RULE } from "./extensions.ts";
import { ForwardingLink, type SegmentPath } from "./forwarding_link.ts";
import type { TerminalState } from "./terminal_state.ts";
import type { Transport } from "./transport.ts";
import type { UserStream } from "./user_stream.ts";

/** Most `-R` listeners one connection may ask for. */
export const MAX_REMOTE_LISTENERS = 16;

/** One connection's forwarding on the server. */
export interface ServerForwarding {
  readonly link: ForwardingLink;
  /** Publishes the state when a control operation went into it since the last call. */
  publish(transport: Transport<TerminalState, UserStream>): void;
  /**
   * `-A`: makes a socket in a new 0700 directory whose connections open agent channels; returns
   * its path (for SSH_AUTH_SOCK), or null when that failed (the reason goes to `log`).
   */
  startAgent(): string | null;
  /** Resets every channel and closes the `-R` listeners and the agent socket. */
  close(): void;
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
  const listeners: Deno.Listener<Deno.Conn | Deno.UnixConn>[] = [];
  let agentDir: string | null = null;
  const sendControl = (op: ControlOp) => {
    controlLog.push(op);
    state.controlCount = controlLog.count;
    dirty = true;
    wake();
  };
  const listen = (op: ControlOp) => {
    if (op.kind !== ControlKind.Listen) return;
    const host = op.host || "127.0.0.1";
    const rule = op.rule ?? 0;
    let listener: Deno.Listener;
    try {
      if (listeners.length >= MAX_REMOTE_LISTENERS) throw new Error("too many -R listeners");
      listener = Deno.listen({ hostname: host, port: op.port ?? 0 });
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/ \(os error \d+\)$/, "") : String(e);
      const reason = `-R: cannot listen on ${
        formatAddress(host, op.port ?? 0)
      } on the server: ${why}`;
      sendControl({ kind: ControlKind.ListenFailed, channel: 0, rule, reason });
      return;
    }
    listeners.push(listener);
    (async () => {
      for await (const conn of listener) link.forwarder.open(conn, { rule, host: "", port: 0 });
    })().catch(() => {});
  };
  const link = new ForwardingLink({
    side: "server",
    path,
    sendControl,
    listenOp: listen,
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
    startAgent() {
      try {
        const dir = Deno.makeTempDirSync({ prefix: "mosh-agent-" });
        Deno.chmodSync(dir, 0o700);
        agentDir = dir;
        const path = `${dir}/agent.sock`;
        const listener = Deno.listen({ transport: "unix", path });
        Deno.chmodSync(path, 0o600);
        listeners.push(listener);
        (async () => {
          for await (const conn of listener) {
            link.forwarder.open(conn as unknown as Deno.Conn, {
              rule: AGENT_RULE,
              host: "",
              port: 0,
            });
          }
        })().catch(() => {});
        return path;
      } catch (e) {
        log?.(`mosh-server: agent forwarding: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      }
    },
    close() {
      if (agentDir !== null) {
        try {
          Deno.removeSync(agentDir, { recursive: true });
        } catch {
          // already gone
        }
      }
      for (const l of listeners) {
        try {
          l.close();
        } catch {
          // already closed
        }
      }
      link.close();
    },
  };
}

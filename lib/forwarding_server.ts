/**
 * The server's side of forwarding for one client connection (docs/EXTENSIONS.md "Forwarding"),
 * owned by lib/server_connection.ts: channels belong to the connection (one client's `-L` is not
 * another's), and a connection that closes closes its channels, its `-R` listeners and its agent
 * socket.
 *
 * - Made when the connection's client announced forwarding and the session allows it: the
 *   connection's state gets a control log, and `link` routes segments and control.
 * - `takeDirty()` before the connection publishes its state: a control operation went into it.
 * - `-R`: the client's LISTEN makes the server listen (on 127.0.0.1 unless the rule names an
 *   address); each accepted connection opens a channel naming only the rule's number, and the
 *   client connects to its own rule's target. A listen failure goes back as LISTEN_FAILED. A
 *   listener made before the shell started (lib/forwarding_preset.ts) is adopted under its rule
 *   number, and the client's LISTEN for that rule is then already satisfied.
 * - `-A`: a socket in a new 0700 directory whose connections open agent channels.
 */

import { ControlKind, ControlLog, type ControlOp } from "./channel_control.ts";
import { formatAddress } from "./connection.ts";
import { errorText } from "./errors.ts";
import { AGENT_RULE } from "./extensions.ts";
import { ForwardingLink, type SegmentPath } from "./forwarding_link.ts";
import type { TerminalState } from "./terminal_state.ts";

/** Most `-R` listeners one connection may ask for. */
export const MAX_REMOTE_LISTENERS = 16;

/** The agent socket: a 0700 directory holding one 0600 socket. */
export interface AgentSocket {
  readonly dir: string;
  readonly path: string;
  readonly listener: Deno.Listener<Deno.UnixConn>;
}

/** Makes an agent socket in a new 0700 directory under `parent` (default: TMPDIR). Throws. */
export function makeAgentSocket(parent?: string): AgentSocket {
  const dir = Deno.makeTempDirSync({ prefix: "mosh-agent-", dir: parent });
  try {
    Deno.chmodSync(dir, 0o700);
    const path = `${dir}/agent.sock`;
    const listener = Deno.listen({ transport: "unix", path });
    Deno.chmodSync(path, 0o600);
    return { dir, path, listener };
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

function removeDir(dir: string): void {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
}

/** Closes a listener, ignoring one already closed. */
export function closeListener(l: Deno.Listener<Deno.Conn>): void {
  try {
    l.close();
  } catch {
    // already closed
  }
}

/** One connection's forwarding on the server. */
export class ServerForwarding {
  readonly link: ForwardingLink;
  readonly #controlLog = new ControlLog();
  readonly #listeners = new Map<number, Deno.Listener<Deno.Conn>>();
  readonly #log: ((line: string) => void) | undefined;
  readonly #sendControl: (op: ControlOp) => void;
  #agent: AgentSocket | null = null;
  #dirty = false;
  #closed = false;

  /**
   * Starts forwarding on the connection whose state is `state` and whose datagrams go through
   * `path`. The server connects only to the host and port of the client's OPEN (what the
   * client's own `-L`/`-D` options name).
   */
  constructor(
    state: TerminalState,
    path: SegmentPath,
    wake: () => void,
    now: () => number,
    log?: (line: string) => void,
  ) {
    this.#log = log;
    state.controlLog = this.#controlLog;
    this.#sendControl = (op) => {
      this.#controlLog.push(op);
      state.controlCount = this.#controlLog.count;
      this.#dirty = true;
      wake();
    };
    this.link = new ForwardingLink({
      side: "server",
      path,
      sendControl: this.#sendControl,
      listenOp: (op) => this.#listen(op),
      connect: (op: ControlOp) => {
        if (!op.host || !op.port) return Promise.reject(new Error("no such forwarding rule"));
        return Deno.connect({ hostname: op.host, port: op.port });
      },
      now,
      log,
    });
  }

  /** True (once) when a control operation went into the state since the last call. */
  takeDirty(): boolean {
    const d = this.#dirty;
    this.#dirty = false;
    return d;
  }

  /** The agent socket's path, once there is one. */
  get agentPath(): string | null {
    return this.#agent?.path ?? null;
  }

  /** Takes over an `-R` listener made for rule `rule` before the shell started. */
  adoptListener(rule: number, listener: Deno.Listener<Deno.Conn>): void {
    if (this.#closed || this.#listeners.has(rule)) {
      closeListener(listener);
      return;
    }
    this.#serve(rule, listener);
  }

  /** Takes over an agent socket (made before the shell started, or by `startAgent`). */
  adoptAgent(agent: AgentSocket): void {
    if (this.#closed || this.#agent !== null) {
      closeListener(agent.listener);
      removeDir(agent.dir);
      return;
    }
    this.#agent = agent;
    this.#serve(AGENT_RULE, agent.listener as unknown as Deno.Listener<Deno.Conn>);
  }

  /** `-A`: makes the agent socket under `parent`; its path, or null (the reason is logged). */
  startAgent(parent?: string): string | null {
    if (this.#agent !== null) return this.#agent.path;
    try {
      this.adoptAgent(makeAgentSocket(parent));
      return this.agentPath;
    } catch (e) {
      this.#log?.(`mosh-server: agent forwarding: ${errorText(e)}`);
      return null;
    }
  }

  /** Resets every channel and closes the `-R` listeners and the agent socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#listeners.values()) closeListener(l);
    this.#listeners.clear();
    if (this.#agent !== null) removeDir(this.#agent.dir);
    this.link.close();
  }

  #serve(rule: number, listener: Deno.Listener<Deno.Conn>): void {
    this.#listeners.set(rule, listener);
    const forwarder = this.link.forwarder;
    (async () => {
      for await (const conn of listener) forwarder.open(conn, { rule, host: "", port: 0 });
    })().catch(() => {});
  }

  #listen(op: ControlOp): void {
    if (op.kind !== ControlKind.Listen || this.#closed) return;
    const rule = op.rule ?? 0;
    if (this.#listeners.has(rule)) return; // made before the shell started
    const host = op.host || "127.0.0.1";
    let listener: Deno.Listener;
    try {
      if (rule === AGENT_RULE) throw new Error("bad rule number");
      if (this.#listeners.size >= MAX_REMOTE_LISTENERS) throw new Error("too many -R listeners");
      listener = Deno.listen({ hostname: host, port: op.port ?? 0 });
    } catch (e) {
      const why = errorText(e).replace(/ \(os error \d+\)$/, "");
      const reason = `-R: cannot listen on ${
        formatAddress(host, op.port ?? 0)
      } on the server: ${why}`;
      this.#sendControl({ kind: ControlKind.ListenFailed, channel: 0, rule, reason });
      return;
    }
    this.#serve(rule, listener);
  }
}

/**
 * The client's side of forwarding (docs/EXTENSIONS.md "Forwarding"): the `-L` listeners, opened
 * before the session starts (a listen failure is the caller's one-line error), and the gate that
 * holds their connections until the server's first state says whether it forwards. Against a
 * server that did not announce the capability (C mosh, or forwarding refused there) the
 * listeners close, held connections are closed and the session goes on without forwarding.
 * Segments and control operations are sent only after both sides announced it (a C peer never
 * receives one).
 */

import { type ForwardRule } from "./forward_spec.ts";
import { ControlKind } from "./channel_control.ts";
import { AGENT_RULE } from "./extensions.ts";
import { ForwardingLink, type ForwardingLinkOptions } from "./forwarding_link.ts";
import { formatAddress } from "./connection.ts";
import { socksHandshake, SocksReply, socksReply } from "./socks.ts";
import type { ControlEvent } from "./extension_codec.ts";

/** The warning shown when the server does not forward. */
export const NO_FORWARDING_WARNING =
  "The server does not support forwarding (or refuses it): -L/-R/-D/-A are off.";

/** What the session provides to the link. */
export type LinkOptions = Omit<ForwardingLinkOptions, "side" | "connect">;

interface Listening {
  readonly rule: ForwardRule;
  readonly listener: Deno.Listener;
}

/** The client's listeners and, once the server agreed, its ForwardingLink. */
export class ClientForwarding {
  readonly #listening: Listening[];
  /** Every rule, in order: a rule's number is its index (LISTEN and the server's OPEN use it). */
  readonly #rules: readonly ForwardRule[];
  #link: ForwardingLink | null = null;
  #decided = false;
  #held: { conn: Deno.Conn; rule: ForwardRule }[] = [];
  #linkOptions: LinkOptions | null = null;

  /** `-A`: the local agent's socket (SSH_AUTH_SOCK), or null. */
  readonly agentSocket: string | null;

  private constructor(
    listening: Listening[],
    rules: readonly ForwardRule[],
    agentSocket: string | null,
  ) {
    this.#listening = listening;
    this.#rules = rules;
    this.agentSocket = agentSocket;
    for (const l of listening) void this.#accept(l);
  }

  /** The session's sending side; before the first server state. */
  attach(linkOptions: LinkOptions): void {
    this.#linkOptions = linkOptions;
  }

  /**
   * Opens a listener for every `-L` rule; throws an Error with a one-line message when one
   * cannot listen (the others are closed then).
   */
  static listen(
    rules: readonly ForwardRule[],
    agentSocket: string | null = null,
  ): ClientForwarding {
    const listening: Listening[] = [];
    for (const rule of rules) {
      if (rule.kind !== "L" && rule.kind !== "D") continue;
      try {
        listening.push({
          rule,
          listener: Deno.listen({ hostname: rule.bindHost, port: rule.bindPort }),
        });
      } catch (e) {
        for (const l of listening) l.listener.close();
        const why = e instanceof Error ? e.message.replace(/ \(os error \d+\)$/, "") : String(e);
        throw new Error(
          `cannot listen on ${formatAddress(rule.bindHost, rule.bindPort)} for -L: ${why}`,
        );
      }
    }
    return new ClientForwarding(listening, rules, agentSocket);
  }

  /** The first server state arrived; `announced` = the server announced forwarding. */
  decide(announced: boolean): void {
    if (this.#decided) return;
    this.#decided = true;
    if (announced && this.#linkOptions !== null) {
      this.#link = new ForwardingLink({
        ...this.#linkOptions,
        side: "client",
        // The server names only a rule number; the target is our own -R rule's.
        connect: (op) => {
          if (op.rule === AGENT_RULE && this.agentSocket !== null) {
            const path = this.agentSocket;
            return Deno.connect({ transport: "unix", path }) as unknown as Promise<Deno.Conn>;
          }
          const rule = this.#rules[op.rule ?? -1];
          if (rule === undefined || rule.kind !== "R") {
            return Promise.reject(new Error("no such forwarding rule"));
          }
          return Deno.connect({ hostname: rule.host, port: rule.hostPort });
        },
        listenOp: (op) => {
          if (op.kind === ControlKind.ListenFailed) this.#linkOptions?.log?.(op.reason ?? "");
        },
      });
      this.#rules.forEach((rule, i) => {
        if (rule.kind !== "R") return;
        this.#linkOptions!.sendControl({
          kind: ControlKind.Listen,
          channel: 0,
          rule: i,
          host: rule.bindHost,
          port: rule.bindPort,
        });
      });
      for (const h of this.#held) this.#open(h.conn, h.rule);
    } else {
      for (const h of this.#held) h.conn.close();
      for (const l of this.#listening) l.listener.close();
    }
    this.#held = [];
  }

  /** The notice shown when the server's first state did not announce forwarding. */
  get refusedNotice(): string {
    return NO_FORWARDING_WARNING;
  }

  /** True when this client asked for any forwarding (it then announces the capability). */
  get wanted(): boolean {
    return this.#rules.length > 0 || this.agentSocket !== null;
  }

  /** Takes a segment once forwarding is on; false for anything else. */
  datagram(payload: Uint8Array): boolean {
    this.#link?.heard();
    return this.#link?.datagram(payload) ?? false;
  }

  /** A control field of the server's state. */
  control(ev: ControlEvent): void {
    this.#link?.control(ev);
  }

  /** The user typed: data segments wait a moment (lib/forwarding_link.ts KEYSTROKE_HOLD). */
  holdForKeystroke(): void {
    this.#link?.holdForKeystroke();
  }

  pump(): void {
    this.#link?.pump();
  }

  close(): void {
    for (const l of this.#listening) {
      try {
        l.listener.close();
      } catch {
        // already closed
      }
    }
    for (const h of this.#held) h.conn.close();
    this.#held = [];
    this.#link?.close();
  }

  /** `-D`: the SOCKS5 request names the target; the server resolves a name. */
  async #openSocks(conn: Deno.Conn): Promise<void> {
    const target = await socksHandshake(conn);
    const link = this.#link;
    if (target === null || link === null) {
      try {
        conn.close();
      } catch {
        // already closed
      }
      return;
    }
    link.forwarder.open(conn, { host: target.host, port: target.port }, {
      opened: () => void socksReply(conn, SocksReply.Succeeded).catch(() => {}),
      refused: (reason) => {
        this.#linkOptions?.log?.(`-D ${target.host}:${target.port}: ${reason}`);
        void socksReply(conn, SocksReply.HostUnreachable).catch(() => {});
      },
    });
  }

  async #accept(l: Listening): Promise<void> {
    try {
      for await (const conn of l.listener) {
        if (!this.#decided) this.#held.push({ conn, rule: l.rule });
        else if (this.#link === null) conn.close();
        else this.#open(conn, l.rule);
      }
    } catch {
      // The listener was closed.
    }
  }

  #open(conn: Deno.Conn, rule: ForwardRule): void {
    if (rule.kind === "D") {
      void this.#openSocks(conn);
      return;
    }
    const link = this.#link!;
    link.forwarder.open(conn, { host: rule.host, port: rule.hostPort }, {
      refused: (reason) =>
        this.#linkOptions?.log?.(`-L ${rule.bindPort}:${rule.host}:${rule.hostPort}: ${reason}`),
    });
  }
}

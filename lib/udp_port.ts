/**
 * One UDP port shared by several server connections, each with its own key (docs/PROTOCOL.md
 * §1, §2.4, §2.5): the host's answer to "one port for many sessions".
 *
 * The port reads its socket and hands each datagram to the connection whose key authenticates it:
 * first the connection its source address last belonged to, then, for a source it does not know
 * (a new client, or one that roamed), each of the others in turn. Trying a key costs one OCB
 * decryption, so trials for unknown sources are rate-limited (a token bucket of TRIAL_RATE per
 * second): junk from anywhere can slow down a roaming client's first datagram, never freeze the
 * sessions. A datagram longer than MAX_DATAGRAM_LENGTH bytes (C mosh's limit; no mosh peer sends more)
 * is dropped before any decryption. Sending goes out through the same socket from each
 * connection (lib/connection.ts `onSharedSocket`).
 */

import { bindServerSocket, Connection, normalizeAddress, type PortRange } from "./connection.ts";
import { MAX_DATAGRAM_LENGTH } from "./datagram.ts";
import { sleep } from "./timer.ts";

/** Trial decryptions per second for datagrams from unknown sources (all connections). */
export const TRIAL_RATE = 2000;
/** Largest burst of trial decryptions. */
export const TRIAL_BURST = 200;
/** Remembered source addresses, at most (the oldest are forgotten first). */
const MAX_ADDRESSES = 1024;
/** Receive buffer: a datagram that fills it is longer than MAX_DATAGRAM_LENGTH anyway. */
const RECEIVE_BUFFER = 4096;

/** Drop counters of a shared port. */
export interface UdpPortStats {
  /** Datagrams longer than MAX_DATAGRAM_LENGTH. */
  oversize: number;
  /** Datagrams no connection's key opened. */
  unauthenticated: number;
  /** Datagrams from unknown sources dropped because the trial budget was spent. */
  rateLimited: number;
}

/** A bound UDP socket and the connections that share it. */
export class UdpPort {
  /** The socket. */
  readonly conn: Deno.DatagramConn;
  /** Drop counters. */
  readonly stats: UdpPortStats = { oversize: 0, unauthenticated: 0, rateLimited: 0 };

  readonly #members: Connection[] = [];
  readonly #bySource = new Map<string, Connection>();
  readonly #now: () => number;
  readonly #onClose: (port: UdpPort) => void;
  #users = 0;
  #tokens = TRIAL_BURST;
  #refilledAt: number;
  #closed = false;
  #loop: Promise<void>;

  /**
   * Binds as `new -i IP -p PORT[:PORT2]` would (throws "bind: …") and reads until closed: when
   * the last user (a session, see `retain`) has released it.
   */
  constructor(
    bind: { ip?: string; port?: PortRange | string },
    options: { now: () => number; log: (line: string) => void; onClose: (port: UdpPort) => void },
  ) {
    this.conn = bindServerSocket(bind, options.log);
    this.#now = options.now;
    this.#onClose = options.onClose;
    this.#refilledAt = options.now();
    this.#loop = this.#receiveLoop();
  }

  /** The bound port number. */
  get port(): number {
    return (this.conn.addr as Deno.NetAddr).port;
  }

  /** The bound address (normalised; "::" or "0.0.0.0" for the wildcard). */
  get hostname(): string {
    return (this.conn.addr as Deno.NetAddr).hostname;
  }

  /** True if `new -i ip -p port` (ip null: no address asked for) may join this port. */
  matches(ip: string | null, port: number): boolean {
    if (this.#closed || port !== this.port) return false;
    const wildcard = this.hostname === "::" || this.hostname === "0.0.0.0";
    return wildcard || (ip !== null && normalizeAddress(ip) === normalizeAddress(this.hostname));
  }

  /** Number of connections on this port. */
  get size(): number {
    return this.#members.length;
  }

  /** A new server connection on this port with `key` (fresh for every connection). */
  join(key: Uint8Array, log: (line: string) => void): Connection {
    let connection: Connection | null = null;
    connection = Connection.onSharedSocket({
      key,
      conn: this.conn,
      now: this.#now,
      log,
      onClose: () => {
        if (connection !== null) this.#leave(connection);
      },
    });
    this.#members.push(connection);
    return connection;
  }

  #leave(connection: Connection): void {
    const i = this.#members.indexOf(connection);
    if (i >= 0) this.#members.splice(i, 1);
    for (const [source, c] of this.#bySource) if (c === connection) this.#bySource.delete(source);
  }

  /** One more user (a session) keeps the port open, even while it has no connection. */
  retain(): void {
    this.#users++;
  }

  /** A user is done; the last one closes the socket. */
  release(): void {
    if (--this.#users <= 0) this.close();
  }

  /** Closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.#onClose(this);
  }

  /** Resolves when the receive loop has ended. */
  get closed(): Promise<void> {
    return this.#loop;
  }

  async #receiveLoop(): Promise<void> {
    const buffer = new Uint8Array(RECEIVE_BUFFER);
    while (!this.#closed) {
      let data: Uint8Array;
      let addr: Deno.NetAddr;
      try {
        const [d, a] = await this.conn.receive(buffer);
        data = d;
        addr = a as Deno.NetAddr;
      } catch {
        if (this.#closed) return;
        await sleep(10); // never spin on a broken socket
        continue;
      }
      try {
        this.#dispatch(data, addr);
      } catch {
        // A fault in one connection must not stop the port that others share.
        this.stats.unauthenticated++;
      }
    }
  }

  #dispatch(data: Uint8Array, addr: Deno.NetAddr): void {
    if (data.length > MAX_DATAGRAM_LENGTH) {
      this.stats.oversize++;
      return;
    }
    const source = `${normalizeAddress(addr.hostname)} ${addr.port}`;
    const known = this.#bySource.get(source);
    if (known !== undefined && known.deliver(data, addr)) return;
    for (const c of this.#members) {
      if (c === known) continue;
      if (!this.#takeToken()) {
        this.stats.rateLimited++;
        return;
      }
      if (c.deliver(data, addr)) {
        this.#remember(source, c);
        return;
      }
    }
    this.stats.unauthenticated++;
  }

  #takeToken(): boolean {
    const now = this.#now();
    const elapsed = now - this.#refilledAt;
    if (elapsed > 0) {
      this.#tokens = Math.min(TRIAL_BURST, this.#tokens + (elapsed * TRIAL_RATE) / 1000);
      this.#refilledAt = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  #remember(source: string, c: Connection): void {
    // Only a source the connection now follows (an in-order datagram) is worth remembering.
    const remote = c.remoteAddr;
    if (remote === null || `${remote.hostname} ${remote.port}` !== source) return;
    if (this.#bySource.size >= MAX_ADDRESSES) {
      const oldest = this.#bySource.keys().next().value;
      if (oldest !== undefined) this.#bySource.delete(oldest);
    }
    this.#bySource.set(source, c);
  }
}

/**
 * The network connection under SSP (docs/PROTOCOL.md §2, §1.4): UDP sockets, sealing and opening
 * datagrams, timestamps and the round-trip estimate, server binding and roaming, the server's
 * association timeout, and the client's port hopping.
 *
 * - Timestamps (§2.1): every datagram carries our u16 clock and, within 1 s of receiving one, the
 *   peer's last timestamp plus the time we held it (each is echoed once). An echo gives an RTT
 *   sample; SRTT/RTTVAR follow RFC 6298 and RTO = ceil(SRTT + 4·RTTVAR) clamped to [50, 1000].
 * - Replays (§1.4): a datagram older than the newest seen (`seq < expectedReceiverSeq`) is still
 *   delivered to SSP (which is idempotent) but is not used for timing, last-heard or roaming.
 * - Server (§2.4, §2.5): one socket. The requested IP is tried first, each port of the range in
 *   ascending order, then the wildcard. The server follows the source address of the newest
 *   authentic in-order datagram, and stops sending after 40 s without hearing the client.
 * - Client (§2.5): sends from its newest socket and receives on all of them. After 10 s without
 *   a new acknowledgement (and 10 s since the last hop) it opens a new socket, i.e. a new source
 *   port; old sockets are closed once the newest is 60 s old, and at most 10 are kept.
 *
 * Decisions and documented deviations from C mosh:
 * - The wildcard bind is "::" with dual stack (IPv4 clients appear as ::ffff:a.b.c.d and are
 *   normalised to a.b.c.d everywhere), falling back to "0.0.0.0" where IPv6 is unavailable. C
 *   binds 0.0.0.0 only, so this also accepts IPv6 clients.
 * - The MTU follows the remote address family on both sides (C: the server's bound family; the
 *   same except on a dual-stack socket, where an IPv4 client now gets the IPv4 MTU).
 * - Deno has no API for IP_TOS/ECN, IP_MTU_DISCOVER (DF), IP_RECVTOS or SO_RCVBUF: datagrams go
 *   out without ECT(0), DF follows the kernel default (Linux: "want", i.e. DF set), and ECN
 *   congestion marks are not seen (so the 500 ms CONGESTION_TIMESTAMP_PENALTY never applies).
 * - As in C, a datagram longer than MAX_DATAGRAM_LENGTH (2,048 bytes; no mosh peer sends more)
 *   is dropped before decryption and counted as `oversize`. Deno silently truncates datagrams
 *   larger than the receive buffer, so the buffer holds one byte more than that limit: a
 *   datagram that fills it was too long.
 * - Sends are asynchronous: `send()` seals at once (so timestamps and sequence numbers are
 *   exact) and resolves when the socket took the datagram; it never rejects. A failure is kept
 *   as `sendError` ("sendto: …") until the next successful send.
 * - Datagrams leave one at a time, in sequence order (Deno completes concurrent sends in any
 *   order), and in bursts of at most 16 with a 1 ms pause between bursts while more are queued,
 *   so a many-fragment instruction does not overflow the peer's receive buffer. `backlog` tells
 *   the transport to hold new instructions until the queue has drained.
 */

import { errorText } from "./errors.ts";
import {
  DEFAULT_PORT_RANGE,
  IPV4_RE,
  isNumericIp,
  parsePortRange,
  type PortRange,
  PortRangeError,
} from "./address.ts";
import {
  DatagramCodec,
  type DatagramRejections,
  DEFAULT_SEND_MTU,
  IPV4_DATAGRAM_MTU,
  IPV6_DATAGRAM_MTU,
  MAX_DATAGRAM_LENGTH,
  timestamp16,
  TIMESTAMP_NONE,
  TO_CLIENT,
  TO_SERVER,
} from "./datagram.ts";
import { sleep } from "./timer.ts";
import { RttEstimator } from "./rtt.ts";

export { DEFAULT_PORT_RANGE, isNumericIp, parsePortRange, type PortRange, PortRangeError };

/** The server stops sending after this long without hearing the client, ms. */
export const SERVER_ASSOCIATION_TIMEOUT = 40000;
/** The client hops to a new port after this long without an acknowledgement, ms. */
export const PORT_HOP_INTERVAL = 10000;
/** The client keeps at most this many sockets. */
export const MAX_PORTS_OPEN = 10;
/** The client closes old sockets once the newest is this old, ms. */
export const MAX_OLD_SOCKET_AGE = 60000;
/** Datagrams sent back to back before the sender yields for 1 ms (see `#drainQueue`). */
const SEND_BURST = 16;
/** Receive buffer: anything that fills it is longer than MAX_DATAGRAM_LENGTH (or truncated). */
export const RECEIVE_BUFFER_SIZE = MAX_DATAGRAM_LENGTH + 1;

/** Lower-cases an address and turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d) into a.b.c.d. */
export function normalizeAddress(host: string): string {
  const lower = host.toLowerCase();
  if (!lower.startsWith("::ffff:")) return lower;
  const rest = lower.slice(7);
  if (IPV4_RE.test(rest)) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
  if (hex === null) return lower;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** "a.b.c.d:port" or "[v6]:port". */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Counters for `-v` diagnostics: rejected and otherwise notable datagrams. */
export interface ConnectionStats extends DatagramRejections {
  /** Datagrams handed to a socket successfully. */
  sent: number;
  /** Sends that failed (see `sendError`). */
  sendErrors: number;
  /** Authentic datagrams delivered. */
  received: number;
  /** Authentic datagrams older than the newest seen (delivered, but not used for timing). */
  reordered: number;
  /** Datagrams longer than MAX_DATAGRAM_LENGTH, dropped before decryption. */
  oversize: number;
  /** Errors from a socket's receive (other than closing it). */
  receiveErrors: number;
  /** Exceptions thrown by the `listen` handler (logged; the datagram is lost). */
  handlerErrors: number;
}

/**
 * Datagrams dropped on arrival (unauthentic, wrong direction, truncated, oversize) plus `malformed`
 * (authentic but undecodable: the transport's count), and the -v line that reports them. Both
 * programs print this line when the count changes; tests read the total back from it.
 */
export function rejectionReport(
  stats: ConnectionStats,
  malformed: number,
): { total: number; line: string } {
  const total = stats.tooShort + stats.wrongDirection + stats.integrity + stats.shortPlaintext +
    stats.oversize + malformed;
  const line =
    `Rejected datagrams: ${total} (integrity ${stats.integrity}, short ${stats.tooShort},` +
    ` direction ${stats.wrongDirection}, plaintext ${stats.shortPlaintext},` +
    ` oversize ${stats.oversize}, malformed ${malformed})`;
  return { total, line };
}

/** Common options of both sides. */
export interface ConnectionOptions {
  /** The 16-byte session key. */
  key: Uint8Array;
  /** Millisecond clock; defaults to `performance.now()`. Give the transport the same clock. */
  now?: () => number;
  /** Diagnostics ("Server now attached to client at …", bind errors); none by default. */
  log?: (line: string) => void;
}

/** Options of `Connection.server()`. */
export interface ServerConnectionOptions extends ConnectionOptions {
  /** Preferred local IP (`-i`/`-s`), tried before the wildcard. */
  ip?: string;
  /** Port or range, or a `-p` string; default 60001-60999. */
  port?: PortRange | string;
}

/** Options of `Connection.client()`. */
export interface ClientConnectionOptions extends ConnectionOptions {
  /** The server's numeric IPv4 or IPv6 address. */
  ip: string;
  /** The server's UDP port. */
  port: number;
}

interface Outgoing {
  socket: Socket;
  datagram: Uint8Array;
  addr: Deno.NetAddr;
  done: () => void;
}

interface Socket {
  conn: Deno.DatagramConn;
  closed: boolean;
  listening: boolean;
  /** False for a shared socket (lib/udp_port.ts): its owner reads and closes it. */
  owned: boolean;
}

/** One side's UDP endpoint: the server's socket, or the client's socket list. */
export class Connection {
  /** Send time of the newest acknowledged state; set by the transport (port-hop input). */
  lastRoundtripSuccess: number = -Infinity;
  /** Text of the last failed send ("sendto: …"), cleared by the next successful one. */
  sendError: string | null = null;

  readonly #server: boolean;
  readonly #codec: DatagramCodec;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #rtt = new RttEstimator();
  readonly #sockets: Socket[] = [];
  readonly #queue: Outgoing[] = [];
  #queueHead = 0;
  #draining: Promise<void> | null = null;
  readonly #loops = new Set<Promise<void>>();
  #stats = {
    sent: 0,
    sendErrors: 0,
    received: 0,
    reordered: 0,
    oversize: 0,
    receiveErrors: 0,
    handlerErrors: 0,
  };
  #remote: { hostname: string; port: number } | null = null;
  #hasRemoteAddr = false;
  #expectedReceiverSeq = 0n;
  #savedTimestamp = -1;
  #savedTimestampReceivedAt = 0;
  #lastHeard = -Infinity;
  #lastPortChoice: number;
  #mtuFallback = false;
  #boundFamily: 4 | 6 = 4;
  #handler: ((payload: Uint8Array) => void) | null = null;
  #onClose: (() => void) | null = null;
  #closed = false;

  private constructor(server: boolean, options: ConnectionOptions) {
    this.#server = server;
    this.#codec = new DatagramCodec(options.key, server ? TO_CLIENT : TO_SERVER);
    this.#now = options.now ?? (() => performance.now());
    this.#log = options.log ?? (() => {});
    this.#lastPortChoice = this.#now();
  }

  /**
   * Binds the server's socket (§2.4). Throws an Error ("bind: …") when neither the requested IP
   * nor the wildcard can be bound, and `PortRangeError` for a bad `-p` string.
   */
  static server(options: ServerConnectionOptions): Connection {
    const c = new Connection(true, options);
    const conn = bindServerSocket(options, c.#log);
    c.#boundFamily = (conn.addr as Deno.NetAddr).hostname.includes(":") ? 6 : 4;
    c.#sockets.push({ conn, closed: false, listening: false, owned: true });
    return c;
  }

  /**
   * A server connection on a socket that something else owns and reads (lib/udp_port.ts: one
   * port shared by several connections, each with its own key). Datagrams arrive through
   * `deliver()`; `close()` leaves the socket open and calls `onClose`.
   */
  static onSharedSocket(
    options: ConnectionOptions & { conn: Deno.DatagramConn; onClose: () => void },
  ): Connection {
    const c = new Connection(true, options);
    c.#boundFamily = (options.conn.addr as Deno.NetAddr).hostname.includes(":") ? 6 : 4;
    c.#sockets.push({ conn: options.conn, closed: false, listening: true, owned: false });
    c.#onClose = options.onClose;
    return c;
  }

  /** Opens the client's first socket towards the server at ip:port (§2.5). */
  static client(options: ClientConnectionOptions): Connection {
    const hostname = normalizeAddress(options.ip);
    if (!isNumericIp(hostname)) throw new Error(`Bad IP address (${options.ip})`);
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new Error(`Bad UDP port (${options.port})`);
    }
    const c = new Connection(false, options);
    c.#remote = { hostname, port: options.port };
    c.#hasRemoteAddr = true;
    c.#boundFamily = hostname.includes(":") ? 6 : 4;
    c.#openClientSocket();
    return c;
  }

  #openClientSocket(): void {
    const conn = Deno.listenDatagram({
      transport: "udp",
      hostname: this.#boundFamily === 6 ? "::" : "0.0.0.0",
      port: 0,
    });
    const socket: Socket = { conn, closed: false, listening: false, owned: true };
    this.#sockets.push(socket);
    if (this.#handler !== null) this.#startReceiving(socket);
  }

  /**
   * Starts receiving on every socket (and on the client's future ones). `handler` gets the
   * payload (a fragment) of each authentic datagram, synchronously, in arrival order.
   */
  listen(handler: (payload: Uint8Array) => void): void {
    if (this.#handler !== null) throw new Error("connection: listen() was already called");
    this.#handler = handler;
    for (const socket of this.#sockets) this.#startReceiving(socket);
  }

  #startReceiving(socket: Socket): void {
    if (socket.closed || socket.listening) return;
    socket.listening = true;
    const loop = this.#receiveLoop(socket);
    this.#loops.add(loop);
    loop.then(() => this.#loops.delete(loop));
  }

  async #receiveLoop(socket: Socket): Promise<void> {
    const buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
    while (!socket.closed) {
      let data: Uint8Array;
      let addr: Deno.Addr;
      try {
        [data, addr] = await socket.conn.receive(buffer);
      } catch {
        if (socket.closed) return;
        this.#stats.receiveErrors++;
        await sleep(10); // never spin on a broken socket
        continue;
      }
      this.#receive(data, addr as Deno.NetAddr);
    }
  }

  /**
   * Hands this connection a datagram read from a shared socket (see `onSharedSocket`); returns
   * true when it was authentic (opened with this connection's key).
   */
  deliver(data: Uint8Array, addr: Deno.NetAddr): boolean {
    if (this.#closed) return false;
    return this.#receive(data, addr);
  }

  #receive(data: Uint8Array, addr: Deno.NetAddr): boolean {
    if (data.length > MAX_DATAGRAM_LENGTH) {
      this.#stats.oversize++;
      return false;
    }
    const opened = this.#codec.open(data);
    if (opened === null) return false;
    const now = this.#now();
    this.#stats.received++;
    if (opened.seq >= this.#expectedReceiverSeq) {
      this.#expectedReceiverSeq = opened.seq + 1n;
      if (opened.timestamp !== TIMESTAMP_NONE) {
        this.#savedTimestamp = opened.timestamp;
        this.#savedTimestampReceivedAt = now;
      }
      if (opened.timestampReply !== TIMESTAMP_NONE) {
        this.#rtt.sample((timestamp16(now) - opened.timestampReply) & 0xffff);
      }
      this.#lastHeard = now;
      this.#hasRemoteAddr = true;
      if (this.#server) {
        const hostname = normalizeAddress(addr.hostname);
        const remote = this.#remote;
        if (remote === null || remote.hostname !== hostname || remote.port !== addr.port) {
          this.#remote = { hostname, port: addr.port };
          this.#log(`Server now attached to client at ${formatAddress(hostname, addr.port)}`);
        }
      }
    } else {
      this.#stats.reordered++;
    }
    if (!this.#server) this.#pruneSockets(now);
    try {
      this.#handler?.(opened.payload);
    } catch (e) {
      // A bug above must not kill the receive loop (and with it the session).
      this.#stats.handlerErrors++;
      this.#log(`Error handling a datagram: ${e instanceof Error ? e.stack : String(e)}`);
    }
    return true;
  }

  /**
   * Seals `payload` with the current timestamps and sends it to the peer (from the newest
   * socket). Does nothing without a remote address. Never rejects; failures set `sendError`.
   */
  send(payload: Uint8Array): Promise<void> {
    if (this.#closed || !this.#hasRemoteAddr || this.#remote === null) return Promise.resolve();
    const now = this.#now();
    if (this.#server && now - this.#lastHeard > SERVER_ASSOCIATION_TIMEOUT) {
      this.#hasRemoteAddr = false;
      this.#log("Server now detached from client.");
      return Promise.resolve();
    }
    let reply = TIMESTAMP_NONE;
    if (this.#savedTimestamp >= 0 && now - this.#savedTimestampReceivedAt < 1000) {
      const held = Math.floor(now - this.#savedTimestampReceivedAt);
      reply = (this.#savedTimestamp + held) & 0xffff;
      this.#savedTimestamp = -1;
    }
    const datagram = this.#codec.seal(timestamp16(now), reply, payload);
    const socket = this.#sockets[this.#sockets.length - 1];
    const { hostname, port } = this.#remote;
    const sending = new Promise<void>((done) => {
      this.#queue.push({ socket, datagram, addr: { transport: "udp", hostname, port }, done });
    });
    this.#draining ??= this.#drainQueue();

    if (
      !this.#server && now - this.#lastPortChoice > PORT_HOP_INTERVAL &&
      now - this.lastRoundtripSuccess > PORT_HOP_INTERVAL
    ) {
      this.#hopPort(now);
    }
    return sending;
  }

  /**
   * Resolves once every datagram sent so far is in the socket's hands (at once if none waits).
   * Deno hands a datagram to the kernel only when its event loop runs, so a caller about to hold
   * the thread (the client's start, before it loads the session's modules) awaits this first.
   */
  drained(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  /**
   * Sends the queued datagrams one after the other. Deno completes concurrent sends in no
   * particular order, and mosh's receivers only take timing and roaming from in-order sequence
   * numbers, so order matters. After each burst the loop yields a millisecond, so that a large
   * instruction (hundreds of fragments) does not overflow the receiver's socket buffer (Deno
   * cannot enlarge SO_RCVBUF).
   */
  async #drainQueue(): Promise<void> {
    const queue = this.#queue;
    let burst = 0;
    while (this.#queueHead < queue.length) {
      const item = queue[this.#queueHead++];
      if (!this.#closed && !item.socket.closed) {
        try {
          await item.socket.conn.send(item.datagram, item.addr);
          this.#stats.sent++;
          this.sendError = null;
        } catch (e) {
          this.#stats.sendErrors++;
          if (!this.#closed && !item.socket.closed) {
            this.sendError = `sendto: ${errorText(e)}`;
            if ((e as { code?: string }).code === "EMSGSIZE") this.#mtuFallback = true;
          }
        }
      }
      item.done();
      if (++burst >= SEND_BURST && this.#queueHead < queue.length && !this.#closed) {
        burst = 0;
        await sleep(1);
      }
    }
    queue.length = 0;
    this.#queueHead = 0;
    this.#draining = null;
  }

  #hopPort(now: number): void {
    this.#openClientSocket();
    this.#lastPortChoice = now;
    this.#pruneSockets(now);
  }

  #pruneSockets(now: number): void {
    const sockets = this.#sockets;
    if (sockets.length <= 1) return;
    if (now - this.#lastPortChoice > MAX_OLD_SOCKET_AGE) {
      while (sockets.length > 1) closeSocket(sockets.shift()!);
    }
    while (sockets.length > MAX_PORTS_OPEN) closeSocket(sockets.shift()!);
  }

  /** True for the server side. */
  get isServer(): boolean {
    return this.#server;
  }

  /** False until the server hears its first client (and again after 40 s of silence). */
  get hasRemoteAddr(): boolean {
    return this.#hasRemoteAddr;
  }

  /** The peer's address (normalised), or null before the server hears a client. */
  get remoteAddr(): { hostname: string; port: number } | null {
    return this.#remote === null ? null : { ...this.#remote };
  }

  /** The local port of the (newest) socket. */
  get port(): number {
    return (this.#sockets[this.#sockets.length - 1].conn.addr as Deno.NetAddr).port;
  }

  /** The local address of the (newest) socket. */
  get localAddr(): { hostname: string; port: number } {
    const addr = this.#sockets[this.#sockets.length - 1].conn.addr as Deno.NetAddr;
    return { hostname: addr.hostname, port: addr.port };
  }

  /** Datagrams sealed but not yet handed to the socket (the pacing queue). */
  get backlog(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Number of open sockets (the client's list; 1 on the server). */
  get socketCount(): number {
    return this.#sockets.length;
  }

  /** Largest datagram to send: 1252 (IPv4), 1216 (IPv6) or 500 after an EMSGSIZE. */
  get mtu(): number {
    if (this.#mtuFallback) return DEFAULT_SEND_MTU;
    const family = this.#remote === null
      ? this.#boundFamily
      : this.#remote.hostname.includes(":")
      ? 6
      : 4;
    return family === 6 ? IPV6_DATAGRAM_MTU : IPV4_DATAGRAM_MTU;
  }

  /** Smoothed round-trip time, ms. */
  get srtt(): number {
    return this.#rtt.srtt;
  }

  /** Round-trip time variation, ms. */
  get rttvar(): number {
    return this.#rtt.rttvar;
  }

  /** Retransmission timeout, ms, in [50, 1000]. */
  get rto(): number {
    return this.#rtt.rto;
  }

  /** Time of the newest authentic in-order datagram (-Infinity before any). */
  get lastHeard(): number {
    return this.#lastHeard;
  }

  /** Rejected and notable datagram counts. */
  get stats(): ConnectionStats {
    return { ...this.#codec.rejected, ...this.#stats };
  }

  /**
   * Closes every socket, waits for pending sends and receive loops to finish, then wipes the key
   * material (the codec's `wipe`).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#draining;
    for (const socket of this.#sockets) closeSocket(socket);
    await Promise.all([...this.#loops]);
    this.#codec.wipe();
    this.#onClose?.();
  }
}

/**
 * Binds a server socket (§2.4): the requested IP first, each port of the range in ascending
 * order, then the wildcard ("::" dual stack, else "0.0.0.0"). Throws an Error ("bind: …") when
 * nothing can be bound, and `PortRangeError` for a bad `-p` string.
 */
export function bindServerSocket(
  options: { ip?: string; port?: PortRange | string },
  log: (line: string) => void,
): Deno.DatagramConn {
  const range = typeof options.port === "string"
    ? parsePortRange(options.port)
    : options.port ?? DEFAULT_PORT_RANGE;
  if (options.ip !== undefined) {
    try {
      return bindRange(normalizeAddress(options.ip), range, log);
    } catch (e) {
      log(`Error binding to IP ${options.ip}: ${errorText(e)}`);
    }
  }
  try {
    return bindRange("::", range, log);
  } catch {
    return bindRange("0.0.0.0", range, log); // throws "bind: …" when this fails too
  }
}

function bindRange(host: string, range: PortRange, log: (line: string) => void): Deno.DatagramConn {
  if (!isNumericIp(host)) throw new Error(`Bad IP address (${host})`);
  let last: unknown = null;
  let port = range.low;
  for (; port <= range.high; port++) {
    try {
      return Deno.listenDatagram({ transport: "udp", hostname: host, port });
    } catch (e) {
      last = e;
      // Busy or privileged ports: try the next one. Anything else concerns the address.
      if (!(e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.PermissionDenied)) {
        break;
      }
    }
  }
  log(`Failed binding to ${formatAddress(host, Math.min(port, range.high))}`);
  throw new Error(`bind: ${errorText(last)}`);
}

function closeSocket(socket: Socket): void {
  if (socket.closed || !socket.owned) return;
  socket.closed = true;
  try {
    socket.conn.close();
  } catch {
    // already closed
  }
}

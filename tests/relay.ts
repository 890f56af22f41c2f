/**
 * A UDP impairment relay for tests: sits between a mosh client and a mosh server on loopback and
 * makes the path between them as bad as a mobile network (docs/PROTOCOL.md §2.5 roaming and port
 * hopping, §5 SSP under loss, §1.4 replays).
 *
 *   client ──▶ relay.port (127.0.0.1) ──[impair]──▶ upstream socket (127.0.0.x:p) ──▶ server
 *   client ◀── relay.port             ◀──[impair]── upstream socket               ◀── server
 *
 * - The client talks to the relay's listening port; the relay forwards to the server from an
 *   "upstream" socket and sends the server's replies back to the client. Like a NAT, every
 *   client address (host and port) the relay sees gets its own upstream socket, so when the
 *   client hops to a new port (§2.5) the server sees a new source port too. Replies arriving on a
 *   mapping's upstream socket go to that mapping's client address.
 * - `changeSource({ hostname, port })` moves the newest mapping to a fresh upstream socket bound
 *   on another loopback address (127.0.0.2, 127.0.0.3, ...) and/or port, closing the old one:
 *   the client has changed networks, and the server must follow (§2.5 server roaming).
 * - Each direction has its own impairment: fixed delay, uniform jitter (±), random loss,
 *   duplication (an extra copy with its own delay) and reordering (a datagram held back by
 *   `reorderMs` more). Decisions come from a seeded PRNG per direction, so the n-th datagram
 *   each way meets the same fate in every run with the same seed.
 * - `hold(dir)` buffers datagrams and `release(dir)` sends them (in order); `blackhole(dir)`
 *   drops everything. Both can be given a duration after which they end by themselves.
 * - Capture mode records every datagram each way as it arrived (for replay tests).
 * - Bounded: the relay closes itself after `maxLifetimeMs` (default 10 minutes), and every
 *   address it binds or sends to must be a loopback address (127.0.0.0/8 or ::1); it refuses
 *   anything else with an error, and ignores datagrams from non-loopback sources.
 *
 * `close()` stops every timer, socket and receive loop (Deno's test sanitizers stay quiet).
 *
 * @example
 * ```ts
 * const relay = Relay.start({
 *   target: { hostname: "127.0.0.1", port: serverPort },
 *   toServer: { loss: 0.5, delayMs: 100, jitterMs: 50 },
 *   toClient: { loss: 0.5, delayMs: 100, jitterMs: 50 },
 *   seed: 42,
 * });
 * // point the client at 127.0.0.1:relay.port ...
 * relay.changeSource({ hostname: "127.0.0.2" }); // the client roams
 * relay.blackhole("both", 60000); // a tunnel
 * await relay.close();
 * ```
 */

/** A direction through the relay. */
export type Direction = "toServer" | "toClient";
/** A direction, or both at once. */
export type Directions = Direction | "both";

/** How one direction is impaired. Every field defaults to 0 (a perfect link). */
export interface Impairment {
  /** Fixed one-way delay, ms. */
  delayMs?: number;
  /** Uniform jitter: each datagram's delay is delayMs ± up to jitterMs (never below 0). */
  jitterMs?: number;
  /** Probability (0..1) that a datagram is dropped. */
  loss?: number;
  /** Probability (0..1) that a delivered datagram is sent twice (the copy has its own delay). */
  duplicate?: number;
  /** Probability (0..1) that a datagram is held back `reorderMs` longer than its delay. */
  reorder?: number;
  /** Extra delay of a reordered datagram, ms. Default 2·jitterMs + 20. */
  reorderMs?: number;
}

/** A UDP endpoint. */
export interface Endpoint {
  /** A numeric loopback address. */
  hostname: string;
  /** A UDP port. */
  port: number;
}

/** Options of `Relay.start()`. */
export interface RelayOptions {
  /** The server (must be a loopback address). */
  target: Endpoint;
  /** Where the client connects: default 127.0.0.1 (or ::1 for an IPv6 target), port 0. */
  listen?: Partial<Endpoint>;
  /** Source address of the first upstream socket; default the loopback of the target's family. */
  source?: string;
  /** Impairment of client-to-server datagrams. */
  toServer?: Impairment;
  /** Impairment of server-to-client datagrams. */
  toClient?: Impairment;
  /** PRNG seed (a 32-bit integer); default 1. */
  seed?: number;
  /** The relay closes itself this long after starting, ms; default 600000 (10 minutes). */
  maxLifetimeMs?: number;
  /** Record every datagram in `captured`. Default false. */
  capture?: boolean;
  /** At most this many datagrams are captured; later ones are counted, not kept. Default 200000. */
  captureLimit?: number;
}

/** One captured datagram. */
export interface CapturedDatagram {
  /** Which way it was going. */
  dir: Direction;
  /** Milliseconds since the relay started. */
  at: number;
  /** Who sent it (the client's address for toServer, the server's for toClient). */
  from: Endpoint;
  /** A copy of the datagram's bytes. */
  data: Uint8Array;
}

/** Counters for one direction. */
export interface DirectionStats {
  /** Datagrams that arrived at the relay. */
  received: number;
  /** Datagrams sent on (duplicates included). */
  forwarded: number;
  /** Dropped by random loss. */
  lost: number;
  /** Extra copies sent. */
  duplicated: number;
  /** Held back by the reorder probability. */
  reordered: number;
  /** Dropped while black-holed. */
  blackholed: number;
  /** Buffered while held (released later). */
  held: number;
  /** Sends that failed. */
  sendErrors: number;
}

/** A small, fast, seedable PRNG (mulberry32): `next()` is uniform in [0, 1). */
export class Prng {
  #state: number;

  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next number in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z. */
export function isLoopback(hostname: string): boolean {
  let h = hostname.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.startsWith("::ffff:")) h = h.slice(7);
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) {
    return h.split(".").every((p) => Number(p) <= 255);
  }
  return h === "::1" || h === "0:0:0:0:0:0:0:1";
}

function assertLoopback(what: string, hostname: string): void {
  if (!isLoopback(hostname)) {
    throw new Error(`relay: ${what} ${hostname} is not a loopback address (127.0.0.0/8 or ::1)`);
  }
}

function normalize(hostname: string): string {
  const h = hostname.toLowerCase();
  return h.startsWith("::ffff:") && h.includes(".") ? h.slice(7) : h;
}

function key(e: Endpoint): string {
  return `${e.hostname}|${e.port}`;
}

interface Socket {
  conn: Deno.DatagramConn;
  closed: boolean;
  loop: Promise<void> | null;
  /** Datagrams waiting to be sent, in order (concurrent sends could overtake each other). */
  out: Scheduled[];
  pump: Promise<void> | null;
}

/** A client address and the upstream socket that speaks for it towards the server. */
interface Mapping {
  client: Endpoint;
  upstream: Socket;
}

interface Scheduled {
  due: number;
  dir: Direction;
  data: Uint8Array;
  to: Endpoint;
  from: Socket;
}

type Timer = ReturnType<typeof setTimeout>;

const MAX_MAPPINGS = 16;
const DEFAULT_LIFETIME = 600000;

/** The relay. Create with `Relay.start()`; always `close()` it. */
export class Relay {
  /** Every datagram each way, in arrival order (capture mode only). */
  readonly captured: CapturedDatagram[] = [];
  /** Counters per direction. */
  readonly stats: Record<Direction, DirectionStats> = {
    toServer: emptyStats(),
    toClient: emptyStats(),
  };

  readonly #target: Endpoint;
  readonly #front: Socket;
  readonly #prng: Record<Direction, Prng>;
  readonly #impair: Record<Direction, Impairment>;
  readonly #capture: boolean;
  readonly #captureLimit: number;
  readonly #start = performance.now();
  readonly #mappings: Mapping[] = [];
  readonly #blackholeUntil: Record<Direction, number> = { toServer: -1, toClient: -1 };
  readonly #holdUntil: Record<Direction, number> = { toServer: -1, toClient: -1 };
  readonly #heldQueue: Record<Direction, Scheduled[]> = { toServer: [], toClient: [] };
  readonly #holdTimers: Record<Direction, Timer | undefined> = {
    toServer: undefined,
    toClient: undefined,
  };
  #sourceHost: string;
  #sourcePort = 0;
  #queue: Scheduled[] = [];
  #timer: Timer | undefined;
  #timerDue = Infinity;
  #lifetimeTimer: Timer | undefined;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(options: RelayOptions) {
    assertLoopback("target", options.target.hostname);
    if (!Number.isInteger(options.target.port) || options.target.port < 1) {
      throw new Error(`relay: bad target port ${options.target.port}`);
    }
    const v6 = options.target.hostname.includes(":");
    this.#target = { hostname: normalize(options.target.hostname), port: options.target.port };
    const listenHost = options.listen?.hostname ?? (v6 ? "::1" : "127.0.0.1");
    assertLoopback("listen address", listenHost);
    this.#sourceHost = options.source ?? (v6 ? "::1" : "127.0.0.1");
    assertLoopback("source address", this.#sourceHost);
    // One generator per direction: the n-th datagram each way meets the same fate in every run.
    const seed = options.seed ?? 1;
    this.#prng = { toServer: new Prng(seed), toClient: new Prng(seed ^ 0x5bd1e995) };
    this.#impair = { toServer: { ...options.toServer }, toClient: { ...options.toClient } };
    checkImpairment(this.#impair.toServer);
    checkImpairment(this.#impair.toClient);
    this.#capture = options.capture ?? false;
    this.#captureLimit = options.captureLimit ?? 200000;
    this.#front = this.#open(listenHost, options.listen?.port ?? 0);
    this.#receiveOn(this.#front, (data, from) => this.#fromClient(data, from));
    const lifetime = options.maxLifetimeMs ?? DEFAULT_LIFETIME;
    const lifetimeTimer = setTimeout(() => void this.close(), lifetime);
    Deno.unrefTimer(lifetimeTimer);
    this.#lifetimeTimer = lifetimeTimer;
  }

  /** Binds the listening socket and starts relaying. Throws for non-loopback addresses. */
  static start(options: RelayOptions): Relay {
    return new Relay(options);
  }

  /** The port the client should send to. */
  get port(): number {
    return (this.#front.conn.addr as Deno.NetAddr).port;
  }

  /** The address the client should send to. */
  get hostname(): string {
    return (this.#front.conn.addr as Deno.NetAddr).hostname;
  }

  /** The client's newest address (null before it sent anything). */
  get clientAddr(): Endpoint | null {
    const m = this.#mappings[this.#mappings.length - 1];
    return m === undefined ? null : { ...m.client };
  }

  /** The source address the server currently sees for the newest client (null before any). */
  get upstreamAddr(): Endpoint | null {
    const m = this.#mappings[this.#mappings.length - 1];
    if (m === undefined) return null;
    const a = m.upstream.conn.addr as Deno.NetAddr;
    return { hostname: a.hostname, port: a.port };
  }

  /** Every distinct client address seen so far, oldest first (at most 16 are kept). */
  get clientAddrs(): Endpoint[] {
    return this.#mappings.map((m) => ({ ...m.client }));
  }

  /** True once closed (by `close()` or the lifetime limit). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Replaces one direction's impairment (or both). */
  setImpairment(dir: Directions, impairment: Impairment): void {
    checkImpairment(impairment);
    for (const d of dirs(dir)) this.#impair[d] = { ...impairment };
  }

  /**
   * Buffers datagrams going `dir` until `release(dir)` or, if given, for `ms` milliseconds; held
   * datagrams are then sent in arrival order (without further impairment).
   */
  hold(dir: Directions, ms?: number): void {
    for (const d of dirs(dir)) {
      this.#holdUntil[d] = ms === undefined ? Infinity : performance.now() + ms;
      clearTimeout(this.#holdTimers[d]);
      this.#holdTimers[d] = ms === undefined ? undefined : setTimeout(() => this.release(d), ms);
    }
  }

  /** Ends a hold and sends what was held, in order. */
  release(dir: Directions): void {
    for (const d of dirs(dir)) {
      this.#holdUntil[d] = -1;
      clearTimeout(this.#holdTimers[d]);
      this.#holdTimers[d] = undefined;
      const held = this.#heldQueue[d];
      this.#heldQueue[d] = [];
      for (const s of held) this.#send(s);
    }
  }

  /** Drops everything going `dir`, forever or for `ms` milliseconds. */
  blackhole(dir: Directions, ms?: number): void {
    for (const d of dirs(dir)) {
      this.#blackholeUntil[d] = ms === undefined ? Infinity : performance.now() + ms;
    }
  }

  /** Ends a black hole. */
  unblackhole(dir: Directions): void {
    for (const d of dirs(dir)) this.#blackholeUntil[d] = -1;
  }

  /**
   * The client "changes networks": the newest client's traffic to the server now leaves from a
   * new socket bound to `hostname` (a loopback address; default: the current source address) and
   * `port` (default: a new ephemeral port). The old upstream socket is closed, so the server's
   * datagrams to the old address are lost, as on a real network. Later new client addresses get
   * sockets on this source address too. Returns the new upstream address.
   */
  changeSource(to: { hostname?: string; port?: number } = {}): Endpoint {
    if (this.#closed) throw new Error("relay: closed");
    const hostname = to.hostname ?? this.#sourceHost;
    assertLoopback("source address", hostname);
    this.#sourceHost = hostname;
    this.#sourcePort = to.port ?? 0;
    const m = this.#mappings[this.#mappings.length - 1];
    if (m === undefined) return { hostname, port: 0 };
    const old = m.upstream;
    m.upstream = this.#openUpstream(m);
    void this.#closeSocket(old);
    const a = m.upstream.conn.addr as Deno.NetAddr;
    return { hostname: a.hostname, port: a.port };
  }

  // ------------------------------------------------------------------------------------------

  #open(hostname: string, port: number): Socket {
    const conn = Deno.listenDatagram({ transport: "udp", hostname, port });
    return { conn, closed: false, loop: null, out: [], pump: null };
  }

  #openUpstream(m: Mapping): Socket {
    const port = this.#sourcePort;
    this.#sourcePort = 0; // a fixed port can only be used by one socket
    const s = this.#open(this.#sourceHost, port);
    this.#receiveOn(s, (data, from) => this.#fromServer(data, from, m, s));
    return s;
  }

  #receiveOn(s: Socket, handle: (data: Uint8Array, from: Endpoint) => void): void {
    s.loop = (async () => {
      const buffer = new Uint8Array(65536);
      while (!s.closed) {
        let data: Uint8Array;
        let addr: Deno.NetAddr;
        try {
          const [d, a] = await s.conn.receive(buffer);
          data = d;
          addr = a as Deno.NetAddr;
        } catch {
          if (s.closed) return;
          continue;
        }
        const from = { hostname: normalize(addr.hostname), port: addr.port };
        if (!isLoopback(from.hostname)) continue;
        handle(data.slice(), from);
      }
    })();
  }

  #record(dir: Direction, data: Uint8Array, from: Endpoint): void {
    this.stats[dir].received++;
    if (this.#capture && this.captured.length < this.#captureLimit) {
      this.captured.push({ dir, at: performance.now() - this.#start, from, data });
    }
  }

  #fromClient(data: Uint8Array, from: Endpoint): void {
    this.#record("toServer", data, from);
    const k = key(from);
    let idx = this.#mappings.findIndex((m) => key(m.client) === k);
    let m: Mapping;
    if (idx < 0) {
      m = { client: from, upstream: null as unknown as Socket };
      m.upstream = this.#openUpstream(m);
      this.#mappings.push(m);
      while (this.#mappings.length > MAX_MAPPINGS) {
        void this.#closeSocket(this.#mappings.shift()!.upstream);
      }
      idx = this.#mappings.length - 1;
    } else {
      m = this.#mappings[idx];
      if (idx !== this.#mappings.length - 1) {
        // Newest = the address the client used last.
        this.#mappings.splice(idx, 1);
        this.#mappings.push(m);
      }
    }
    this.#impairAndSchedule("toServer", data, this.#target, m.upstream);
  }

  #fromServer(data: Uint8Array, from: Endpoint, m: Mapping, s: Socket): void {
    if (m.upstream !== s) return; // a socket being replaced
    this.#record("toClient", data, from);
    this.#impairAndSchedule("toClient", data, m.client, this.#front);
  }

  #impairAndSchedule(dir: Direction, data: Uint8Array, to: Endpoint, from: Socket): void {
    const stats = this.stats[dir];
    const now = performance.now();
    if (now < this.#blackholeUntil[dir]) {
      stats.blackholed++;
      return;
    }
    const p = this.#impair[dir];
    const prng = this.#prng[dir];
    if ((p.loss ?? 0) > 0 && prng.next() < p.loss!) {
      stats.lost++;
      return;
    }
    const copies = (p.duplicate ?? 0) > 0 && prng.next() < p.duplicate! ? 2 : 1;
    if (copies === 2) stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = p.delayMs ?? 0;
      const jitter = p.jitterMs ?? 0;
      if (jitter > 0) delay += (prng.next() * 2 - 1) * jitter;
      if ((p.reorder ?? 0) > 0 && prng.next() < p.reorder!) {
        delay += p.reorderMs ?? 2 * jitter + 20;
        stats.reordered++;
      }
      const s: Scheduled = {
        due: now + Math.max(0, delay),
        dir,
        data,
        to,
        from,
      };
      if (s.due <= now && now >= this.#holdUntil[dir]) this.#send(s);
      else this.#enqueue(s);
    }
  }

  #enqueue(s: Scheduled): void {
    // Sorted by due time, then arrival: a binary search for the insertion point.
    const q = this.#queue;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid].due <= s.due) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, s);
    this.#arm();
  }

  #arm(): void {
    const next = this.#queue.length > 0 ? this.#queue[0].due : Infinity;
    if (next === this.#timerDue) return;
    clearTimeout(this.#timer);
    this.#timerDue = next;
    this.#timer = next === Infinity ? undefined : setTimeout(
      () => this.#drain(),
      Math.max(0, next - performance.now()),
    );
  }

  #drain(): void {
    this.#timerDue = Infinity;
    this.#timer = undefined;
    const now = performance.now();
    const q = this.#queue;
    let n = 0;
    while (n < q.length && q[n].due <= now + 0.5) n++;
    const due = q.splice(0, n);
    for (const s of due) this.#send(s);
    this.#arm();
  }

  #send(s: Scheduled): void {
    if (this.#closed || s.from.closed) return;
    const stats = this.stats[s.dir];
    if (performance.now() < this.#blackholeUntil[s.dir]) {
      stats.blackholed++;
      return;
    }
    if (performance.now() < this.#holdUntil[s.dir]) {
      stats.held++;
      this.#heldQueue[s.dir].push(s);
      return;
    }
    const sock = s.from;
    sock.out.push(s);
    if (sock.pump === null) sock.pump = this.#pump(sock);
  }

  async #pump(sock: Socket): Promise<void> {
    while (sock.out.length > 0 && !sock.closed) {
      const s = sock.out.shift()!;
      try {
        await sock.conn.send(s.data, { transport: "udp", ...s.to });
        this.stats[s.dir].forwarded++;
      } catch {
        this.stats[s.dir].sendErrors++;
      }
    }
    sock.out.length = 0;
    sock.pump = null;
  }

  async #closeSocket(s: Socket): Promise<void> {
    if (s.closed) return;
    s.closed = true;
    await s.pump;
    try {
      s.conn.close();
    } catch {
      // already closed
    }
    await s.loop;
  }

  /** Stops relaying: clears every timer, drops queued datagrams, closes every socket. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      clearTimeout(this.#timer);
      clearTimeout(this.#lifetimeTimer);
      for (const d of ["toServer", "toClient"] as const) clearTimeout(this.#holdTimers[d]);
      this.#queue = [];
      await Promise.all([
        this.#closeSocket(this.#front),
        ...this.#mappings.map((m) => this.#closeSocket(m.upstream)),
      ]);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function emptyStats(): DirectionStats {
  return {
    received: 0,
    forwarded: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    blackholed: 0,
    held: 0,
    sendErrors: 0,
  };
}

function dirs(d: Directions): Direction[] {
  return d === "both" ? ["toServer", "toClient"] : [d];
}

function checkImpairment(p: Impairment): void {
  for (const name of ["loss", "duplicate", "reorder"] as const) {
    const v = p[name];
    if (v !== undefined && !(v >= 0 && v <= 1)) {
      throw new RangeError(`relay: ${name} must be a probability in [0, 1], got ${v}`);
    }
  }
  for (const name of ["delayMs", "jitterMs", "reorderMs"] as const) {
    const v = p[name];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) {
      throw new RangeError(`relay: ${name} must be a non-negative number, got ${v}`);
    }
  }
}

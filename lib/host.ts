/**
 * The session host: one background process per user that owns that user's mosh sessions
 * (lib/session.ts) and serves the control socket (lib/control.ts). `server.ts new`, `attach`,
 * `list` and `kill` talk to it; `server.ts new` starts it when none runs.
 *
 * - Exactly one host: a new host takes an exclusive lock (host.lock), and under it connects to
 *   the socket; if a host answers, it leaves; otherwise it removes a stale socket and binds.
 * - Sessions: each has an id (1, 2, …) and optionally a name unique in the host. A session's shell
 *   gets the environment of the `new` call that made it and starts in $HOME. Its UDP socket is a
 *   UdpPort (lib/udp_port.ts), so `new -p PORT` with a port the host already has joins it, and
 *   `attach` adds a connection with a fresh key on the session's port.
 * - Isolation: every session's loop runs on the one event loop; an error inside one session ends
 *   that session (the reason goes to the log) and the others go on. A rejected promise nobody
 *   handles is logged, never fatal.
 * - Signals: SIGTERM and SIGINT end every session cleanly, SIGUSR1 goes to every session (each
 *   applies the MOSH_SERVER_SIGNAL_TMOUT of its own `new` call), SIGHUP is ignored.
 * - Lifetime: the host exits when its last session ends (or when no session arrives within
 *   START_GRACE of its start).
 * - Log: host.log in the control directory, at most LOG_LIMIT bytes (then it is moved to
 *   host.log.1 and a new one begun). It never holds a key.
 */

import { HeapHygiene } from "./heap_hygiene.ts";
import { HostLog } from "./host_log.ts";
import {
  type AttachRequest,
  checkControlDir,
  checkSocket,
  CONTROL_VERSION,
  encodeFrame,
  errorLine,
  HOST_BUILD,
  LOCK_NAME,
  LOG_NAME,
  type NewRequest,
  readFrame,
  REQUEST_DEADLINE,
  type Response,
  SOCKET_NAME,
  userId,
  validName,
  writeFrame,
} from "./control.ts";
import { formatAddress } from "./connection.ts";
import { generateKey } from "./key.ts";
import { parseServerArgs } from "./server_args.ts";
import { Session, sessionTimeouts } from "./session.ts";
import { UdpPort } from "./udp_port.ts";
import { clock } from "./waker.ts";
import { Alarm } from "./timer.ts";

/** A host that has had no session this long after its start exits (ms). */
export const START_GRACE = 30000;
/** Control connections served at once; more are closed at once. */
const MAX_CONTROL_CONNECTIONS = 32;
/** Environment variable that enables test-only hooks in the host's own environment. */
const TEST_HOOKS = "MOSH_DENO_TEST_HOOKS";

/** One session as the host keeps it. */
interface Hosted {
  id: number;
  name: string | null;
  command: string;
  created: number;
  session: Session;
  port: UdpPort;
}

/** The host: its sessions, ports and control socket. */
class Host {
  readonly #dir: string;
  readonly #log: HostLog;
  readonly #sessions = new Map<number, Hosted>();
  readonly #ports = new Set<UdpPort>();
  readonly #heap = new HeapHygiene(clock());
  readonly #testHooks = Deno.env.get(TEST_HOOKS) === "1";
  #listener: Deno.Listener | null = null;
  #nextId = 1;
  #pending = 0;
  #controlConnections = 0;
  #stopping = false;
  /** Whether the host may end once it has no session: after its first session or its grace. */
  #mayEnd = false;
  #exit: (() => void) | null = null;

  constructor(dir: string) {
    this.#dir = dir;
    this.#log = new HostLog(`${dir}/${LOG_NAME}`);
  }

  log(line: string): void {
    this.#log.line(line);
  }

  /** Becomes the host (or returns false when another one runs); then serves until the end. */
  async run(): Promise<number> {
    const socketPath = `${this.#dir}/${SOCKET_NAME}`;
    const lock = Deno.openSync(`${this.#dir}/${LOCK_NAME}`, {
      create: true,
      write: true,
      mode: 0o600,
    });
    try {
      lock.lockSync(true);
      try {
        const probe = await Deno.connect({ transport: "unix", path: socketPath });
        probe.close();
        return 0; // another host answers
      } catch {
        // nobody listens: take over
      }
      const bad = checkSocket(socketPath, userId());
      if (bad !== null) {
        this.log(`refusing to start: ${bad}`);
        return 1;
      }
      try {
        Deno.removeSync(socketPath);
      } catch {
        // no stale socket
      }
      this.#listener = Deno.listen({ transport: "unix", path: socketPath });
      Deno.chmodSync(socketPath, 0o600);
    } finally {
      lock.unlockSync();
      lock.close();
    }
    this.log(`host ${Deno.pid} started (${HOST_BUILD})`);

    globalThis.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      this.log(`unhandled rejection: ${errorLine(e.reason)}`);
    });
    const listeners: [Deno.Signal, () => void][] = [
      ["SIGTERM", () => this.#stopAll("SIGTERM")],
      ["SIGINT", () => this.#stopAll("SIGINT")],
      ["SIGUSR1", () => {
        for (const h of this.#sessions.values()) h.session.signal("SIGUSR1");
      }],
      ["SIGHUP", () => {}],
    ];
    for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);

    const finished = new Promise<void>((resolve) => (this.#exit = resolve));
    const grace = new Alarm(() => {
      this.#mayEnd = true;
      this.#maybeExit();
    });
    grace.set(START_GRACE);
    this.#accept(this.#listener);
    await finished;
    grace.clear();
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
    try {
      this.#listener.close();
    } catch {
      // closed already
    }
    try {
      Deno.removeSync(socketPath);
    } catch {
      // gone already
    }
    this.log(`host ${Deno.pid} exiting`);
    return 0;
  }

  #stopAll(signal: "SIGTERM" | "SIGINT"): void {
    this.log(`${signal}: ending every session`);
    this.#stopping = true;
    for (const h of this.#sessions.values()) h.session.signal(signal);
    this.#maybeExit();
  }

  /**
   * Ends the host when nothing is left to serve. Before its first session and within its grace it
   * stays: a control connection that ends early (the probe of a host that lost the start race, a
   * failed `new`) must not end the host that other `new` calls are about to reach.
   */
  #maybeExit(): void {
    if (!this.#mayEnd && !this.#stopping) return;
    if (this.#sessions.size === 0 && this.#pending === 0) this.#exit?.();
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#controlConnections >= MAX_CONTROL_CONNECTIONS) {
          conn.close();
          continue;
        }
        this.#controlConnections++;
        this.#serve(conn).finally(() => this.#controlConnections--);
      }
    } catch (e) {
      if (this.#exit !== null && this.#sessions.size > 0) this.log(`accept: ${errorLine(e)}`);
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    this.#pending++;
    try {
      let response: Response;
      try {
        const body = await readFrame(conn, Date.now() + REQUEST_DEADLINE);
        response = await this.#handle(body);
      } catch (e) {
        this.log(`bad request: ${errorLine(e)}`);
        response = { ok: false, error: `bad request: ${errorLine(e)}` };
      }
      await writeFrame(conn, encodeFrame(response));
    } catch (e) {
      this.log(`control connection: ${errorLine(e)}`);
    } finally {
      try {
        conn.close();
      } catch {
        // closed already
      }
      this.#pending--;
      this.#maybeExit();
    }
  }

  async #handle(body: unknown): Promise<Response> {
    if (typeof body !== "object" || body === null) throw new Error("not an object");
    const r = body as Record<string, unknown>;
    if (r.v !== CONTROL_VERSION || r.build !== HOST_BUILD) {
      return { ok: false, mismatch: true, error: `the session host is ${HOST_BUILD}` };
    }
    if (this.#stopping) return { ok: false, error: "the session host is shutting down" };
    switch (r.cmd) {
      case "new":
        return await this.#new(validateNew(r));
      case "attach":
        return this.#attach(validateAttach(r));
      case "list":
        return { ok: true, lines: this.#list() };
      case "kill": {
        const h = this.#find(String(r.target));
        if (h === null) return { ok: false, missing: true, error: `no session ${r.target}` };
        this.log(`session ${h.id}: kill`);
        h.session.signal("SIGTERM");
        return { ok: true, lines: [] };
      }
      default:
        throw new Error("unknown command");
    }
  }

  #find(target: string): Hosted | null {
    for (const h of this.#sessions.values()) {
      if (String(h.id) === target || h.name === target) return h;
    }
    return null;
  }

  #port(ip: string | null, range: { low: number; high: number }, log: (l: string) => void) {
    if (range.low === range.high && range.low !== 0) {
      for (const p of this.#ports) if (p.matches(ip, range.low)) return p;
    }
    const port = new UdpPort({ ip: ip ?? undefined, port: range }, {
      now: clock,
      log,
      onClose: (p) => this.#ports.delete(p),
    });
    this.#ports.add(port);
    return port;
  }

  async #new(req: NewRequest): Promise<Response> {
    if (req.name !== null && this.#find(req.name) !== null) {
      return { ok: false, error: `a session named ${req.name} exists already` };
    }
    const parsed = parseServerArgs(req.args, req.env);
    if (parsed.action !== "run") return { ok: false, error: "bad server arguments" };
    const options = parsed.options;
    const id = this.#nextId++;
    const messages: string[] = sessionTimeouts(req.env).warnings;
    let creating = true;
    const log = (line: string) => {
      if (creating) messages.push(line);
      this.log(`session ${id}: ${line}`);
    };
    let port: UdpPort;
    try {
      port = this.#port(options.bindIp, options.portRange, log);
    } catch (e) {
      return { ok: false, error: `Network exception: ${errorLine(e)}`, messages };
    }
    const key = generateKey();
    port.retain();
    const connection = port.join(key.key, log);
    let session: Session;
    try {
      session = new Session({
        options,
        env: req.env,
        cols: req.cols,
        rows: req.rows,
        log,
        heap: this.#heap,
        onError: "close",
        ownPath: true,
        agentParent: this.#dir,
        failOn: this.#testHooks ? req.env.MOSH_DENO_TEST_FAIL_ON ?? null : null,
      });
    } catch (e) {
      await connection.close();
      port.release();
      return { ok: false, error: `mosh-server: ${errorLine(e)}`, messages };
    }
    creating = false;
    session.addConnection(connection, req.cols, req.rows);
    const hosted: Hosted = {
      id,
      name: req.name,
      command: session.plan.argv.join(" "),
      created: Date.now(),
      session,
      port,
    };
    this.#sessions.set(id, hosted);
    this.#mayEnd = true;
    this.log(`session ${id} started on port ${port.port}${req.name ? ` as ${req.name}` : ""}`);
    session.run().then(
      () => this.#ended(hosted, session.endReason),
      (e) => this.#ended(hosted, `failed: ${errorLine(e)}`),
    );
    // The session's own yields are on the event loop; give its pty a turn before answering.
    await Promise.resolve();
    return { ok: true, port: port.port, key: key.printable, pid: Deno.pid, messages };
  }

  #ended(h: Hosted, reason: string): void {
    this.#sessions.delete(h.id);
    h.port.release();
    this.log(`session ${h.id} ended: ${reason}`);
    this.#maybeExit();
  }

  #attach(req: AttachRequest): Response {
    const h = this.#find(req.target);
    if (h === null) return { ok: false, missing: true, error: `no session ${req.target}` };
    const key = generateKey();
    const log = (line: string) => this.log(`session ${h.id}: ${line}`);
    const connection = h.port.join(key.key, log);
    try {
      const c = h.session.addConnection(connection, req.cols, req.rows);
      if (req.detachOthers) h.session.detachOthers(c);
      this.log(`session ${h.id}: connection ${c.id} attached${req.detachOthers ? " alone" : ""}`);
    } catch (e) {
      void connection.close();
      return { ok: false, error: errorLine(e) };
    }
    return { ok: true, port: h.port.port, key: key.printable, pid: Deno.pid, messages: [] };
  }

  #list(): string[] {
    const now = clock();
    const lines: string[] = [];
    for (const h of this.#sessions.values()) {
      const t = h.session.terminal;
      const clients = h.session.connections.map((c) => {
        const remote = c.connection.remoteAddr;
        if (remote === null) return "(waiting for its client)";
        const heard = formatAge(now - c.connection.lastHeard);
        return `${formatAddress(remote.hostname, remote.port)} (heard ${heard} ago)`;
      });
      lines.push(
        [
          String(h.id),
          h.name ?? "-",
          formatAge(Date.now() - h.created),
          `${t.width}x${t.height}`,
          h.command,
          clients.length === 0 ? "no clients" : clients.join(", "),
        ].join("\t"),
      );
    }
    return lines;
  }
}

/** "12s", "5m12s", "3h05m", "2d03h". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  return `${Math.floor(s / 86400)}d${String(Math.floor(s / 3600) % 24).padStart(2, "0")}h`;
}

function size(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 4096) {
    throw new Error("bad terminal size");
  }
  return v;
}

function validateNew(r: Record<string, unknown>): NewRequest {
  const args = r.args, env = r.env;
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new Error("bad args");
  }
  if (typeof env !== "object" || env === null || Array.isArray(env)) throw new Error("bad env");
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== "string" || k.includes("=") || k.includes("\0") || v.includes("\0")) {
      throw new Error("bad env");
    }
    clean[k] = v;
  }
  const name = r.name === null || r.name === undefined ? null : String(r.name);
  if (name !== null && !validName(name)) throw new Error("bad name");
  return {
    cmd: "new",
    args: args as string[],
    env: clean,
    cwd: typeof r.cwd === "string" ? r.cwd : "",
    cols: size(r.cols),
    rows: size(r.rows),
    name,
  };
}

function validateAttach(r: Record<string, unknown>): AttachRequest {
  if (typeof r.target !== "string") throw new Error("bad target");
  return {
    cmd: "attach",
    target: r.target,
    detachOthers: r.detachOthers === true,
    cols: size(r.cols),
    rows: size(r.rows),
  };
}

/** Run by server.ts as the host process (`--mosh-deno-host DIR`); returns the exit code. */
export async function runHost(dir: string): Promise<number> {
  const bad = checkControlDir(dir, userId(), false);
  if (bad !== null) return 1;
  const host = new Host(dir);
  try {
    return await host.run();
  } catch (e) {
    host.log(`host failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 1;
  }
}

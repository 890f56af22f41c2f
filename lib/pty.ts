/**
 * A pseudo-terminal through Deno FFI against glibc (docs/PROTOCOL.md §12.1, §7.2
 * step 8). No native addon and no helper program: the master comes from
 * `posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC)`, and the child is started with `posix_spawnp`:
 *
 *   1. POSIX_SPAWN_SETSID makes the child a session leader (glibc does this before the file
 *      actions), so opening the slave as fd 0 makes it the controlling terminal; fds 1 and 2 are
 *      dup2'd from 0.
 *   2. SETSIGDEF (every signal) and SETSIGMASK (empty) undo Deno's dispositions (Rust ignores
 *      SIGPIPE), so `yes | head` behaves.
 *   3. `posix_spawn_file_actions_addchdir_np` (glibc 2.29+) sets the working directory.
 *
 * I/O never blocks the event loop: a `poll()` declared `nonblocking: true` waits on a worker thread
 * (together with a wake pipe that `close()` writes to), then the main thread reads the nonblocking
 * master until EAGAIN. EIO from the master means every slave holder is gone: end of file. Writes go
 * out at once when the kernel takes them; the rest is queued and flushed when poll says POLLOUT.
 *
 * The parent never opens the slave itself, so a detached (setsid) server process never acquires a
 * controlling terminal. Linux-only (x86_64 and aarch64 share every constant used here).
 */

const O_RDWR = 0x2;
const O_NOCTTY = 0x100;
const O_NONBLOCK = 0x800;
const O_CLOEXEC = 0x80000;
const F_GETFL = 3;
const F_SETFL = 4;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const EINTR = 4;
const EIO = 5;
const EAGAIN = 11;
const ECHILD = 10;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TCSANOW = 0;
const IUTF8 = 0x4000;
const WNOHANG = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;

/** Bytes asked for per read(2) of the master. */
const READ_CHUNK = 16384;
/** Most bytes one `read()` call gathers before returning. */
const READ_MAX = 65536;

const SYMBOLS = {
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitpid_blocking: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  newlocale: { parameters: ["i32", "buffer", "pointer"], result: "pointer" },
  nl_langinfo_l: { parameters: ["i32", "pointer"], result: "pointer" },
  freelocale: { parameters: ["pointer"], result: "void" },
  getuid: { parameters: [], result: "u32" },
  getpwuid: { parameters: ["u32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libcCache: Libc | null = null;

/** Absolute path of glibc's shared object, or the bare soname if none of the usual places has it. */
export function libcPath(): string {
  const candidates = [
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/usr/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib64/libc.so.6",
    "/usr/lib/libc.so.6",
    "/lib/libc.so.6",
  ];
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here; try the next place
    }
  }
  return "libc.so.6";
}

function libc(): Libc {
  if (libcCache === null) libcCache = Deno.dlopen(libcPath(), SYMBOLS).symbols;
  return libcCache;
}

const encoder = new TextEncoder();

/** NUL-terminated copy of a string for C. */
function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A NULL-terminated `char *[]` over C strings; the strings must outlive the call. */
function cStringArray(strings: Uint8Array<ArrayBuffer>[]): BigUint64Array<ArrayBuffer> {
  const out = new BigUint64Array(strings.length + 1);
  for (let i = 0; i < strings.length; i++) {
    out[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(strings[i])));
  }
  return out;
}

function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function strerror(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `error ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** An Error carrying the C errno, with the message `<what>: <strerror>`. */
export class PtyError extends Error {
  /** The errno value reported by libc. */
  readonly code: number;
  /** Builds the error for `what` failing with `code`. */
  constructor(what: string, code: number) {
    super(`${what}: ${strerror(code)}`);
    this.name = "PtyError";
    this.code = code;
  }
}

/** How a child ended: its exit code, or the signal that killed it (the other one is null). */
export interface ExitStatus {
  /** Exit code (0-255) when the child exited normally. */
  code: number | null;
  /** Signal number when the child was killed by a signal. */
  signal: number | null;
}

function decodeStatus(status: number): ExitStatus {
  const low = status & 0x7f;
  if (low === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: low };
}

/** What to run on the pty's slave side. */
export interface SpawnOptions {
  /** Program to run; searched in the server's PATH when it has no slash (execvp semantics). */
  file: string;
  /** The complete argv, argv[0] included (a login shell passes e.g. "-bash"). */
  argv: string[];
  /** The complete environment of the child. */
  env: Record<string, string>;
  /** Working directory of the child; unchanged when absent. */
  cwd?: string;
}

/**
 * A pty master plus (after `spawn`) the child running on its slave. Create one with
 * `Pty.open(cols, rows)`; call `read()` in a loop (it resolves with `null` at end of file),
 * `write()`, `resize()`, `wait()` for the exit status and finally `close()`.
 */
export class Pty {
  /** The master's file descriptor. */
  readonly fd: number;
  /** Path of the slave, e.g. "/dev/pts/3". */
  readonly ptsName: string;
  /** Process id of the child, or 0 before `spawn`. */
  pid = 0;

  #wakeRead: number;
  #wakeWrite: number;
  #closed = false;
  #eof = false;
  #status: ExitStatus | null = null;
  #readBuf = new Uint8Array(READ_MAX);
  #readPoll = new ArrayBuffer(16);
  #writePoll = new ArrayBuffer(16);
  #reading: Promise<Uint8Array | null> | null = null;
  #flushing: Promise<void> | null = null;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writeError: PtyError | null = null;

  private constructor(fd: number, ptsName: string, wakeRead: number, wakeWrite: number) {
    this.fd = fd;
    this.ptsName = ptsName;
    this.#wakeRead = wakeRead;
    this.#wakeWrite = wakeWrite;
  }

  /** Opens a new pty master of the given size with IUTF8 set on its line discipline. */
  static open(cols: number, rows: number): Pty {
    const c = libc();
    const fd = c.posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) throw new PtyError("posix_openpt", errno());
    try {
      if (c.grantpt(fd) !== 0) throw new PtyError("grantpt", errno());
      if (c.unlockpt(fd) !== 0) throw new PtyError("unlockpt", errno());
      const name = new Uint8Array(128);
      const rc = c.ptsname_r(fd, name, BigInt(name.length));
      if (rc !== 0) throw new PtyError("ptsname_r", rc);
      const ptsName = new TextDecoder().decode(name.subarray(0, name.indexOf(0)));
      const flags = c.fcntl(fd, F_GETFL, 0);
      if (flags < 0 || c.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        throw new PtyError("fcntl", errno());
      }
      const termios = new Uint8Array(128);
      if (c.tcgetattr(fd, termios) !== 0) throw new PtyError("tcgetattr", errno());
      const view = new DataView(termios.buffer);
      view.setUint32(0, view.getUint32(0, true) | IUTF8, true);
      if (c.tcsetattr(fd, TCSANOW, termios) !== 0) throw new PtyError("tcsetattr", errno());
      setWindowSize(fd, cols, rows);
      const fds = new Int32Array(2);
      if (c.pipe2(fds, O_CLOEXEC | O_NONBLOCK) !== 0) throw new PtyError("pipe2", errno());
      return new Pty(fd, ptsName, fds[0], fds[1]);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /**
   * Starts `options.file` on the slave as a new session leader with the slave as its controlling
   * terminal and stdin/stdout/stderr. Throws a PtyError (e.g. "posix_spawnp: vim: No such file or
   * directory") when the program cannot be started. Returns the child's pid.
   */
  spawn(options: SpawnOptions): number {
    if (this.#closed) throw new Error("pty: spawn after close");
    if (this.pid !== 0) throw new Error("pty: already spawned");
    if (options.argv.length === 0) throw new Error("pty: argv must not be empty");
    const c = libc();
    const actions = new Uint8Array(256);
    const attr = new Uint8Array(512);
    const sigdef = new Uint8Array(128);
    const sigmask = new Uint8Array(128);
    const check = (what: string, rc: number) => {
      if (rc !== 0) throw new PtyError(what, rc);
    };
    check("posix_spawn_file_actions_init", c.posix_spawn_file_actions_init(actions));
    check("posix_spawnattr_init", c.posix_spawnattr_init(attr));
    try {
      const slave = cString(this.ptsName);
      check(
        "posix_spawn_file_actions_addopen",
        c.posix_spawn_file_actions_addopen(actions, 0, slave, O_RDWR, 0),
      );
      check("posix_spawn_file_actions_adddup2", c.posix_spawn_file_actions_adddup2(actions, 0, 1));
      check("posix_spawn_file_actions_adddup2", c.posix_spawn_file_actions_adddup2(actions, 0, 2));
      const cwd = options.cwd === undefined ? null : cString(options.cwd);
      if (cwd !== null) {
        if (c.posix_spawn_file_actions_addchdir_np === null) {
          throw new Error("pty: this libc lacks posix_spawn_file_actions_addchdir_np");
        }
        check(
          "posix_spawn_file_actions_addchdir_np",
          c.posix_spawn_file_actions_addchdir_np(actions, cwd),
        );
      }
      c.sigfillset(sigdef);
      c.sigemptyset(sigmask);
      check(
        "posix_spawnattr_setflags",
        c.posix_spawnattr_setflags(
          attr,
          POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK,
        ),
      );
      check("posix_spawnattr_setsigdefault", c.posix_spawnattr_setsigdefault(attr, sigdef));
      check("posix_spawnattr_setsigmask", c.posix_spawnattr_setsigmask(attr, sigmask));
      const argvStrings = options.argv.map(cString);
      const envStrings = Object.entries(options.env).map(([k, v]) => cString(`${k}=${v}`));
      const argv = cStringArray(argvStrings);
      const envp = cStringArray(envStrings);
      const pid = new Int32Array(1);
      const rc = c.posix_spawnp(pid, cString(options.file), actions, attr, argv, envp);
      // Keep the strings reachable until posix_spawnp has returned (the child has exec'd by then).
      void argvStrings.length;
      void envStrings.length;
      if (rc !== 0) throw new PtyError(`posix_spawnp: ${options.file}`, rc);
      this.pid = pid[0];
      return this.pid;
    } finally {
      c.posix_spawn_file_actions_destroy(actions);
      c.posix_spawnattr_destroy(attr);
    }
  }

  /**
   * The next output of the child: resolves with the bytes available (at most 64 KiB), or with
   * `null` at end of file (the slave was closed by every process, normally because the child
   * exited) or after `close()`. Only one read may be outstanding; a second call gets the same
   * promise.
   */
  read(): Promise<Uint8Array | null> {
    if (this.#reading === null) {
      this.#reading = this.#read().finally(() => {
        this.#reading = null;
      });
    }
    return this.#reading;
  }

  async #read(): Promise<Uint8Array | null> {
    const c = libc();
    const fds = new Int32Array(this.#readPoll);
    const ev = new Int16Array(this.#readPoll);
    // Always poll first, even when data may be waiting: the worker-thread round trip makes every
    // read cost one event-loop turn, so a flood of output cannot starve timers and sockets.
    while (!this.#closed && !this.#eof) {
      fds[0] = this.fd;
      ev[2] = POLLIN;
      ev[3] = 0;
      fds[2] = this.#wakeRead;
      ev[6] = POLLIN;
      ev[7] = 0;
      const rc = await c.poll(this.#readPoll, 2n, -1);
      if (rc <= 0) continue; // EINTR on the worker thread: poll again
      const got = this.#drain();
      if (got !== null) return got;
    }
    return null;
  }

  /** Reads the master until EAGAIN; returns the bytes, or null if there were none. */
  #drain(): Uint8Array | null {
    if (this.#closed) return null;
    const c = libc();
    let total = 0;
    while (total + READ_CHUNK <= READ_MAX) {
      const n = Number(c.read(this.fd, this.#readBuf.subarray(total), BigInt(READ_CHUNK)));
      if (n > 0) {
        total += n;
        continue;
      }
      if (n === 0) {
        this.#eof = true;
        break;
      }
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) this.#eof = true; // EIO: the last slave holder is gone
      break;
    }
    return total === 0 ? null : this.#readBuf.slice(0, total);
  }

  /** True once `read()` has seen end of file. */
  get eof(): boolean {
    return this.#eof;
  }

  /**
   * Sends bytes to the child's input. What the kernel does not take at once is queued (in order)
   * and flushed in the background; never blocks. Throws a PtyError if the pty is unusable (e.g.
   * an earlier background write failed) and an Error after `close()`.
   */
  write(data: Uint8Array): void {
    if (this.#closed) throw new Error("pty: write after close");
    if (this.#writeError !== null) throw this.#writeError;
    if (data.length === 0) return;
    if (this.#queue.length === 0) {
      const n = this.#writeSome(data);
      if (n === data.length) return;
      data = data.subarray(n);
    }
    this.#queue.push(data.slice());
    this.#queued += data.length;
    if (this.#flushing === null) {
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = null;
      });
    }
  }

  /** Bytes accepted by `write()` but not yet taken by the kernel. */
  get pendingWrite(): number {
    return this.#queued;
  }

  /** Resolves when every queued byte has been written (or the pty was closed or failed). */
  async flushed(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  /** Writes as much of `data` as the kernel takes now; records a hard error. */
  #writeSome(data: Uint8Array): number {
    const c = libc();
    let done = 0;
    while (done < data.length) {
      const n = Number(c.write(this.fd, data.subarray(done), BigInt(data.length - done)));
      if (n > 0) {
        done += n;
        continue;
      }
      const e = n < 0 ? errno() : EAGAIN;
      if (e === EINTR) continue;
      if (e !== EAGAIN) {
        this.#writeError = new PtyError("write to pty", e);
        throw this.#writeError;
      }
      break;
    }
    return done;
  }

  async #flush(): Promise<void> {
    const c = libc();
    const fds = new Int32Array(this.#writePoll);
    const ev = new Int16Array(this.#writePoll);
    while (!this.#closed && this.#queue.length > 0) {
      fds[0] = this.fd;
      ev[2] = POLLOUT;
      ev[3] = 0;
      fds[2] = this.#wakeRead;
      ev[6] = POLLIN;
      ev[7] = 0;
      await c.poll(this.#writePoll, 2n, -1);
      if (this.#closed) break;
      if (ev[3] & (POLLERR | POLLHUP) && !(ev[3] & POLLOUT)) {
        this.#writeError = new PtyError("write to pty", EIO);
        break;
      }
      try {
        while (this.#queue.length > 0) {
          const head = this.#queue[0];
          const n = this.#writeSome(head);
          this.#queued -= n;
          if (n < head.length) {
            this.#queue[0] = head.subarray(n);
            break;
          }
          this.#queue.shift();
        }
      } catch {
        break; // #writeError is set; the next write() reports it
      }
    }
    if (this.#writeError !== null || this.#closed) {
      this.#queue = [];
      this.#queued = 0;
    }
  }

  /** Sets the window size (TIOCSWINSZ on the master); the kernel sends SIGWINCH to the child. */
  resize(cols: number, rows: number): void {
    if (this.#closed) throw new Error("pty: resize after close");
    setWindowSize(this.fd, cols, rows);
  }

  /** Sends `signal` (a number, e.g. 15 for SIGTERM) to the child. */
  kill(signal: number): void {
    if (this.pid === 0 || this.#status !== null) return;
    if (libc().kill(this.pid, signal) !== 0) throw new PtyError("kill", errno());
  }

  /** The child's exit status if it has already ended (reaps it), else null. Never blocks. */
  tryWait(): ExitStatus | null {
    if (this.#status !== null || this.pid === 0) return this.#status;
    const status = new Int32Array(1);
    const rc = libc().waitpid(this.pid, status, WNOHANG);
    if (rc === this.pid) this.#status = decodeStatus(status[0]);
    else if (rc < 0 && errno() === ECHILD) this.#status = { code: null, signal: null };
    return this.#status;
  }

  /** Waits (on a worker thread) for the child to end and returns its exit status. */
  async wait(): Promise<ExitStatus> {
    if (this.pid === 0) throw new Error("pty: wait before spawn");
    if (this.#status !== null) return this.#status;
    const status = new Int32Array(1);
    for (;;) {
      const rc = await libc().waitpid_blocking(this.pid, status, 0);
      if (this.#status !== null) return this.#status;
      if (rc === this.pid) {
        this.#status = decodeStatus(status[0]);
        return this.#status;
      }
      if (rc < 0) {
        // ECHILD (reaped elsewhere) or EINTR; tryWait decides which
        const s = this.tryWait();
        if (s !== null) return s;
      }
    }
  }

  /**
   * Closes the master (the child's session gets SIGHUP from the kernel), ends a pending `read()`
   * with null, drops unwritten input and reaps the child if it has already exited. Waits only for
   * the worker-thread polls to notice, which the wake pipe makes immediate.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const c = libc();
    c.write(this.#wakeWrite, new Uint8Array(1), 1n);
    if (this.#reading !== null) await this.#reading.catch(() => null);
    if (this.#flushing !== null) await this.#flushing.catch(() => undefined);
    c.close(this.fd);
    c.close(this.#wakeRead);
    c.close(this.#wakeWrite);
    this.tryWait();
  }
}

function setWindowSize(fd: number, cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) {
    throw new RangeError(`pty: bad window size ${cols}x${rows}`);
  }
  const ws = new Uint16Array([Math.min(rows, 0xffff), Math.min(cols, 0xffff), 0, 0]);
  if (libc().ioctl(fd, BigInt(TIOCSWINSZ), ws) !== 0) throw new PtyError("TIOCSWINSZ", errno());
}

/** The window size of the terminal on `fd` (TIOCGWINSZ), or null if `fd` is not a terminal. */
export function getWindowSize(fd: number): { cols: number; rows: number } | null {
  const ws = new Uint16Array(4);
  if (libc().ioctl(fd, BigInt(TIOCGWINSZ), ws) !== 0) return null;
  if (ws[0] === 0 || ws[1] === 0) return null;
  return { cols: ws[1], rows: ws[0] };
}

/** The current user's passwd entry (getpwuid(getuid()), so NSS sources count), if any. */
export function passwdEntry(): { name: string; home: string; shell: string } | null {
  const c = libc();
  const p = c.getpwuid(c.getuid());
  if (p === null) return null;
  const view = new Deno.UnsafePointerView(p);
  const str = (offset: number) => {
    const s = view.getPointer(offset);
    return s === null ? "" : Deno.UnsafePointerView.getCString(s);
  };
  // struct passwd on LP64: name@0, passwd@8, uid@16, gid@20, gecos@24, dir@32, shell@40
  return { name: str(0), home: str(32), shell: str(40) };
}

/** Points `fd` at /dev/null (dup2), e.g. to detach stdio from a terminal or a finished pipe. */
export function redirectToDevNull(fd: number): void {
  const c = libc();
  const nul = c.open(cString("/dev/null"), O_RDWR | O_CLOEXEC);
  if (nul < 0) throw new PtyError("open /dev/null", errno());
  const rc = c.dup2(nul, fd);
  const e = errno();
  c.close(nul);
  if (rc < 0) throw new PtyError("dup2", e);
}

/**
 * What descriptor `fd` refers to, as /proc shows it ("pipe:[1234]", "/dev/null", ...), or null if
 * it is not open. Read through libc, because Deno's permission checks reserve /proc/self/fd for
 * --allow-all.
 */
export function fdTarget(fd: number): string | null {
  const buf = new Uint8Array(4096);
  const n = Number(libc().readlink(cString(`/proc/self/fd/${fd}`), buf, BigInt(buf.length)));
  return n < 0 ? null : new TextDecoder().decode(buf.subarray(0, n));
}

/** Makes `to` a copy of `from` (dup2), e.g. to send stdout where stderr goes. */
export function duplicateFd(from: number, to: number): void {
  if (libc().dup2(from, to) < 0) throw new PtyError("dup2", errno());
}

const LC_CTYPE_MASK = 1;
const CODESET = 14;

/**
 * The character set of the locale `name` as glibc sees it (nl_langinfo(CODESET), e.g. "UTF-8"
 * or "ANSI_X3.4-1968"), or null if the locale is not installed. "" and "C"/"POSIX" are the C
 * locale.
 */
export function localeCodeset(name: string): string | null {
  const c = libc();
  const loc = c.newlocale(LC_CTYPE_MASK, cString(name === "" ? "C" : name), null);
  if (loc === null) return null;
  try {
    const p = c.nl_langinfo_l(CODESET, loc);
    return p === null ? null : Deno.UnsafePointerView.getCString(p);
  } finally {
    c.freelocale(loc);
  }
}

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
 *   3. `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+) closes every descriptor from 3 up,
 *      so only the pty's 0, 1 and 2 reach the child.
 *   4. `posix_spawn_file_actions_addchdir_np` (glibc 2.29+) sets the working directory.
 *
 * I/O never blocks the event loop: a `poll()` declared `nonblocking: true` waits on a worker thread
 * (together with a wake pipe that `close()` writes to), then the main thread reads the nonblocking
 * master until EAGAIN. EIO from the master means every slave holder is gone: end of file. Writes go
 * out at once when the kernel takes them; the rest is queued and flushed when poll says POLLOUT.
 *
 * The parent never opens the slave itself, so a detached (setsid) server process never acquires a
 * controlling terminal. Linux-only (x86_64 and aarch64 share every constant used here). The C
 * functions come from lib/libc.ts; descriptor and window-size helpers live in lib/fds.ts.
 */

import { cString, cStringArray, errno, libc, LibcError } from "./libc.ts";
import { LAST_STDIO_FD, setWindowSize } from "./fds.ts";

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
const TCSANOW = 0;
const IUTF8 = 0x4000;
const WNOHANG = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
/** Sizes of glibc's opaque spawn objects (posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t
 * 336, sigset_t 128 on LP64), rounded up. */
const FILE_ACTIONS_SIZE = 256;
const SPAWNATTR_SIZE = 512;
const SIGSET_SIZE = 128;
/** struct termios is 60 bytes on Linux; c_iflag is its first field. */
const TERMIOS_SIZE = 128;

/** Bytes asked for per read(2) of the master. */
const READ_CHUNK = 16384;
/** Most bytes one `read()` call gathers before returning. */
const READ_MAX = 65536;

/** An Error from a pty operation, carrying the C errno (`<what>: <strerror>`). */
export class PtyError extends LibcError {
  /** Builds the error for `what` failing with `code`. */
  constructor(what: string, code: number) {
    super(what, code);
    this.name = "PtyError";
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
      const termios = new Uint8Array(TERMIOS_SIZE);
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
    const actions = new Uint8Array(FILE_ACTIONS_SIZE);
    const attr = new Uint8Array(SPAWNATTR_SIZE);
    const sigdef = new Uint8Array(SIGSET_SIZE);
    const sigmask = new Uint8Array(SIGSET_SIZE);
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
      // Nothing but 0, 1 and 2 reaches the child, whatever this process inherited or opened.
      if (c.posix_spawn_file_actions_addclosefrom_np === null) {
        throw new Error("pty: this libc lacks posix_spawn_file_actions_addclosefrom_np");
      }
      check(
        "posix_spawn_file_actions_addclosefrom_np",
        c.posix_spawn_file_actions_addclosefrom_np(actions, LAST_STDIO_FD + 1),
      );
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

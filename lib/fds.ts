/**
 * File descriptor and terminal-size helpers over glibc (lib/libc.ts; docs/PROTOCOL.md §12.1): point
 * a descriptor at /dev/null or at another one (always close-on-exec above stderr, so nothing but
 * 0, 1 and 2 can leak into a child), see what a descriptor refers to, and read or set a
 * terminal's window size.
 */

import { cString, errno, libc, LibcError } from "./libc.ts";

const O_RDWR = 0x2;
const O_CLOEXEC = 0x80000;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
/** Highest descriptor that a child may inherit (stdin, stdout, stderr). */
export const LAST_STDIO_FD = 2;

/**
 * Makes `to` a copy of `from` (dup2). dup2 clears close-on-exec on `to`; above stderr it is set
 * again, so copies such as Deno's private duplicates of its stdio never reach a child.
 */
export function duplicateFd(from: number, to: number): void {
  const c = libc();
  if (c.dup2(from, to) < 0) throw new LibcError("dup2", errno());
  if (to > LAST_STDIO_FD && c.fcntl(to, F_SETFD, FD_CLOEXEC) < 0) {
    throw new LibcError("fcntl(F_SETFD)", errno());
  }
}

/** Points `fd` at /dev/null (as `duplicateFd`), e.g. to detach stdio from a finished pipe. */
export function redirectToDevNull(fd: number): void {
  const c = libc();
  const nul = c.open(cString("/dev/null"), O_RDWR | O_CLOEXEC);
  if (nul < 0) throw new LibcError("open /dev/null", errno());
  try {
    duplicateFd(nul, fd);
  } finally {
    c.close(nul);
  }
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

/** Sets the window size of the terminal on `fd` (TIOCSWINSZ; on a master the child gets SIGWINCH). */
export function setWindowSize(fd: number, cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1) {
    throw new RangeError(`pty: bad window size ${cols}x${rows}`);
  }
  const ws = new Uint16Array([Math.min(rows, 0xffff), Math.min(cols, 0xffff), 0, 0]);
  if (libc().ioctl(fd, BigInt(TIOCSWINSZ), ws) !== 0) throw new LibcError("TIOCSWINSZ", errno());
}

/** The window size of the terminal on `fd` (TIOCGWINSZ), or null if `fd` is not a terminal. */
export function getWindowSize(fd: number): { cols: number; rows: number } | null {
  const ws = new Uint16Array(4);
  if (libc().ioctl(fd, BigInt(TIOCGWINSZ), ws) !== 0) return null;
  if (ws[0] === 0 || ws[1] === 0) return null;
  return { cols: ws[1], rows: ws[0] };
}

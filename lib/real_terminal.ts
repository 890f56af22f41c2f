/**
 * The real (local) terminal of mosh-client: raw mode, window size, reading keystrokes and
 * writing frames (docs/PROTOCOL.md §8.0 "Terminal setup" and "On exit", §8.1 suspend;
 * §12.3).
 *
 * `open()` puts the tty in raw mode and writes mosh's `Display::open()` sequence: terminfo
 * `smcup` (unless MOSH_NO_TERM_INIT) followed by `\e[?1h`, so the terminal stays in application
 * cursor mode and arrow keys arrive as `ESC O x` (§9.6). `close()` writes `Display::close()`
 * (modes reset, then `rmcup`) and restores the saved mode. Beyond mosh, a cursor shape applied for
 * our server (`setCursorShape`, lib/cursor_shape.ts) is reset first, at exit as at suspend.
 *
 * Deno's `setRaw(true)` is cfmakeraw without clearing OPOST, so a `\n` written here still
 * becomes `\r\n`. The display diff (§10) only writes `\n` with the cursor in column 0, where the
 * two are the same, so frames paint identically.
 */

/** `Display::close()` without `rmcup`: leave application cursor keys, reset modes and mouse. */
export const CLOSE_MODES = "\x1b[?1l\x1b[0m\x1b[?25h\x1b[?1003l\x1b[?1002l\x1b[?1001l\x1b[?1000l" +
  "\x1b[?1015l\x1b[?1006l\x1b[?1005l";

/** The part of `Display::open()` after `smcup`: application cursor keys on. */
export const OPEN_MODES = "\x1b[?1h";

/** The terminal's size in character cells. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What a RealTerminal reads from and writes to; `Deno.stdin`/`Deno.stdout` by default. */
export interface TerminalIo {
  input: {
    read(buf: Uint8Array): Promise<number | null>;
    setRaw(mode: boolean): void;
    isTerminal(): boolean;
  };
  output: { writeSync(buf: Uint8Array): number };
  /** Returns the window size; throws if there is no terminal. */
  consoleSize(): { columns: number; rows: number };
}

/** Options for RealTerminal. */
export interface RealTerminalOptions {
  /** terminfo `smcup` (enter the alternate screen), or null/empty for none. */
  smcup?: string | null;
  /** terminfo `rmcup` (leave the alternate screen), or null/empty for none. */
  rmcup?: string | null;
  /** Streams; defaults to the process's stdin and stdout. */
  io?: TerminalIo;
}

import { CursorShape } from "./cursor_shape.ts";

const encoder = new TextEncoder();

/** Errors that mean "the terminal is gone": treat as end of input. */
function isTerminalGone(e: unknown): boolean {
  if (e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.BadResource) return true;
  if (e instanceof Deno.errors.Interrupted) return false;
  const msg = e instanceof Error ? e.message : String(e);
  // EIO when the pty master closes (os error 5), ENXIO after hangup (6).
  return /os error (5|6)\b|Input\/output error/.test(msg);
}

/** The local tty as mosh-client uses it. */
export class RealTerminal {
  private readonly io: TerminalIo;
  private smcup: string;
  private rmcup: string;
  private raw = false;
  private readonly cursorShape = new CursorShape();

  constructor(opts: RealTerminalOptions = {}) {
    this.io = opts.io ?? {
      input: Deno.stdin,
      output: Deno.stdout,
      consoleSize: () => Deno.consoleSize(),
    };
    this.smcup = opts.smcup ?? "";
    this.rmcup = opts.rmcup ?? "";
  }

  /** True if stdin is a terminal (mosh-client cannot run otherwise). */
  isTerminal(): boolean {
    return this.io.input.isTerminal();
  }

  /** The `Display::open()` bytes: smcup then application cursor keys. */
  openSequence(): string {
    return this.smcup + OPEN_MODES;
  }

  /** The `Display::close()` bytes: mode resets then rmcup (after a cursor shape reset, if any). */
  closeSequence(): string {
    return this.cursorShape.reset() + CLOSE_MODES + this.rmcup;
  }

  /**
   * Gives the terminal the DECSCUSR cursor shape `shape` (0-6) if it does not have it already. After
   * a close (exit, suspend) the terminal has its default again, and the next call applies it anew.
   */
  setCursorShape(shape: number): boolean {
    return this.writeString(this.cursorShape.update(shape));
  }

  /**
   * Enters raw mode and writes the open sequence. Throws (with the OS message) if stdin is not
   * a terminal; nothing is written in that case.
   */
  open(): void {
    this.io.input.setRaw(true);
    this.raw = true;
    this.writeString(this.openSequence());
  }

  /**
   * Raw mode and the open sequence again, as after SIGCONT: whatever ran while this process was
   * stopped may have changed the terminal's mode.
   */
  reopen(): void {
    this.io.input.setRaw(true);
    this.raw = true;
    this.writeString(this.openSequence());
  }

  /**
   * Switches to the alternate screen now (`smcup`), and back at close (`rmcup`): the client opens
   * without them while it may keep scrollback, and calls this when the server turns out not to
   * offer it.
   */
  enterAlternateScreen(smcup: string, rmcup: string): void {
    this.smcup = smcup;
    this.rmcup = rmcup;
    if (this.raw && smcup !== "") this.writeString(smcup);
  }

  /** Writes the close sequence and restores the terminal mode. Safe to call more than once. */
  close(): void {
    if (!this.raw) return;
    this.raw = false;
    try {
      this.writeString(this.closeSequence());
    } finally {
      try {
        this.io.input.setRaw(false);
      } catch {
        // The terminal is already gone; nothing to restore.
      }
    }
  }

  /** True between open() and close(). */
  get isOpen(): boolean {
    return this.raw;
  }

  /** The window size, falling back to 80x24 when it cannot be read or is zero. */
  size(): TerminalSize {
    try {
      const { columns, rows } = this.io.consoleSize();
      if (columns > 0 && rows > 0) return { cols: columns, rows };
    } catch {
      // No terminal size available.
    }
    return { cols: 80, rows: 24 };
  }

  /**
   * Reads keystrokes into `buf`. Returns the byte count, or null at end of input: EOF, or the
   * terminal went away (EIO). Other errors are rethrown.
   */
  async read(buf: Uint8Array): Promise<number | null> {
    try {
      return await this.io.input.read(buf);
    } catch (e) {
      if (isTerminalGone(e)) return null;
      throw e;
    }
  }

  /**
   * Writes all of `bytes` with synchronous writes (one loop per frame, no interleaving).
   * Returns false if the terminal is gone (the caller should shut down).
   */
  write(bytes: Uint8Array): boolean {
    let off = 0;
    try {
      while (off < bytes.length) {
        off += this.io.output.writeSync(off === 0 ? bytes : bytes.subarray(off));
      }
    } catch (e) {
      if (e instanceof Deno.errors.Interrupted) return this.write(bytes.subarray(off));
      if (isTerminalGone(e)) return false;
      throw e;
    }
    return true;
  }

  /** Writes a string as UTF-8. */
  writeString(s: string): boolean {
    return s.length === 0 ? true : this.write(encoder.encode(s));
  }
}

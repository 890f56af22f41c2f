/**
 * A mosh client (ours or Debian's mosh-client) on a pty this process owns, for measuring what a
 * person would see (docs/PROTOCOL.md §8.4 prediction, §10 painting): every byte the client
 * writes is fed, as it arrives, to a terminal emulator (lib/terminal.ts), and a key written with
 * `key(byte, at)` is timed until its code point first shows in that cell of the emulated screen
 * (its predicted echo or the server's, whichever comes first). The resolution is the pty's
 * wake-up time, well under a millisecond, with no tmux polling in the way.
 *
 * Used by bench/latency.ts and tests/prediction_latency_test.ts.
 */

import { Pty } from "../lib/pty.ts";
import { Terminal } from "../lib/terminal.ts";
import { CELL_WORDS } from "../lib/framebuffer.ts";
import { cleanEnv, type Kind, OUR_CLIENT } from "./harness.ts";

const SIGKILL = 9;

/** A key waiting to show: where, which code point, when it was typed. */
interface Pending {
  row: number;
  col: number;
  cp: number;
  t0: number;
}

/** Options of a PtyClient. */
export interface PtyClientOptions {
  /** The client's window size; default 80x24. */
  cols?: number;
  rows?: number;
  /** More environment (MOSH_KEY and TERM=xterm-256color are set). */
  env?: Record<string, string>;
  /** Options before IP PORT (ours: e.g. `-L SPEC`). */
  args?: string[];
}

/** A client on a pty, its output fed to an emulator, with the pending keys checked per read. */
export class PtyClient {
  readonly pty: Pty;
  readonly term: Terminal;
  readonly cols: number;
  /** The latency (ms) of every timed key that has shown, in the order they showed. */
  readonly latencies: number[] = [];
  /** For each of `latencies`: when the key was typed and when it showed (performance.now()). */
  readonly shown: { t0: number; at: number }[] = [];
  /** Timed keys that have not shown yet. */
  pending: Pending[] = [];
  #reader: Promise<void>;
  #changed: (() => void) | null = null;

  /** Starts client `kind` against 127.0.0.1:`port` with session key `key`. */
  constructor(kind: Kind, port: number, key: string, opts: PtyClientOptions = {}) {
    this.cols = opts.cols ?? 80;
    const rows = opts.rows ?? 24;
    this.term = new Terminal(this.cols, rows);
    this.pty = Pty.open(this.cols, rows);
    const argv = kind === "ours"
      ? [...OUR_CLIENT, ...(opts.args ?? []), "127.0.0.1", String(port)]
      : ["mosh-client", ...(opts.args ?? []), "127.0.0.1", String(port)];
    this.pty.spawn({
      file: argv[0],
      argv,
      env: cleanEnv({ MOSH_KEY: key, TERM: "xterm-256color", ...opts.env }),
    });
    this.#reader = this.#read();
  }

  async #read(): Promise<void> {
    for (;;) {
      const chunk = await this.pty.read();
      if (chunk === null) return;
      const now = performance.now();
      this.term.write(chunk);
      if (this.pending.length > 0) {
        const fb = this.term.snapshot();
        this.pending = this.pending.filter((p) => {
          if (fb.rows[p.row].data[p.col * CELL_WORDS] !== p.cp) return true;
          this.latencies.push(now - p.t0);
          this.shown.push({ t0: p.t0, at: now });
          return false;
        });
      }
      const wake = this.#changed;
      this.#changed = null;
      wake?.();
    }
  }

  /** Types one key; with `at`, times it until that byte shows at (row, col). */
  key(byte: number, at?: { row: number; col: number }): void {
    const t0 = performance.now();
    if (at !== undefined) this.pending.push({ ...at, cp: byte, t0 });
    this.pty.write(new Uint8Array([byte]));
  }

  /** Types text without timing it. */
  type(text: string): void {
    this.pty.write(new TextEncoder().encode(text));
  }

  /** Resolves after the next read from the client (or after `ms`). */
  async changed(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#changed = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }

  /** Waits until `test()` holds; throws with the screen after `ms`. */
  async until(what: string, test: () => boolean, ms = 20000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!test()) {
      if (performance.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${this.term.screenText()}`);
      }
      await this.changed(100);
    }
  }

  /** Waits until nothing has been written for `quietMs`. */
  async quiet(quietMs: number): Promise<void> {
    for (;;) {
      const start = performance.now();
      await this.changed(quietMs);
      if (performance.now() - start >= quietMs - 1) return;
    }
  }

  /** The screen's row `r` as text, trailing blanks removed. */
  rowText(r: number): string {
    const row = this.term.snapshot().rows[r];
    let s = "";
    for (let c = 0; c < this.cols; c++) {
      const cp = row.data[c * CELL_WORDS];
      s += cp === 0 ? " " : String.fromCodePoint(cp);
    }
    return s.trimEnd();
  }

  /** The cursor of the emulated screen. */
  cursor(): { row: number; col: number } {
    const fb = this.term.snapshot();
    return { row: fb.cursorRow, col: fb.cursorCol };
  }

  /** Kills the client and closes the pty. */
  async close(): Promise<void> {
    try {
      this.pty.kill(SIGKILL);
    } catch {
      // already gone
    }
    await this.pty.wait().catch(() => {});
    await this.pty.close();
    await this.#reader.catch(() => {});
  }
}

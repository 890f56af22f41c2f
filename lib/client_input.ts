/**
 * The client's keyboard input (docs/PROTOCOL.md §8.0), for lib/client_session.ts: stdin is read in
 * the background, in reads of up to READ_SIZE bytes, and queued for the main loop.
 *
 * Flow control: with MAX_UNACKED_INPUT keystrokes unacknowledged (queued here or in the user
 * stream), stdin is not read until the server acknowledges some (the server in turn takes no new
 * state while 1 MiB of input waits for its shell), so a large paste is delivered in bounded steps.
 */

/** Bytes read from stdin at once (C reads up to 16384). */
export const READ_SIZE = 16384;
/**
 * Most keystrokes (user-stream events) kept unacknowledged: beyond this stdin is not read until
 * the server acknowledges, so a paste into a shell that reads nothing holds memory at both ends
 * bounded, and no instruction comes near the fragment assembly's limit (C mosh has no bound).
 */
export const MAX_UNACKED_INPUT = 256 * 1024;

/** Reads stdin in the background into a queue the main loop takes from. */
export class InputQueue {
  readonly #read: (buf: Uint8Array) => Promise<number | null>;
  readonly #inFlight: () => number;
  readonly #onInput: (ended: boolean) => void;
  #chunks: Uint8Array[] = [];
  /** Set while the reader waits for acknowledgements; `pump` calls it. */
  #resume: (() => void) | null = null;
  /** Set at end of input (or a read error) until `takeEnd` reports it. */
  #ended = false;

  /**
   * `read` reads stdin (null = end of input); `inFlight` counts the keystrokes sent but not yet
   * acknowledged; `onInput` runs after each read (false) and at end of input (true).
   */
  constructor(opts: {
    read: (buf: Uint8Array) => Promise<number | null>;
    inFlight: () => number;
    onInput: (ended: boolean) => void;
  }) {
    this.#read = opts.read;
    this.#inFlight = opts.inFlight;
    this.#onInput = opts.onInput;
  }

  /** Starts reading; the reads go on until end of input. */
  start(): void {
    void this.#readLoop();
  }

  /** The next chunk read, oldest first; undefined when none is queued. */
  shift(): Uint8Array | undefined {
    return this.#chunks.shift();
  }

  /** Whether input ended since the last call (reported once). */
  takeEnd(): boolean {
    const ended = this.#ended;
    this.#ended = false;
    return ended;
  }

  /** Resumes reading if it waits for acknowledgements and enough have come. */
  pump(): void {
    if (this.#resume !== null && this.#unacked() < MAX_UNACKED_INPUT) {
      const resume = this.#resume;
      this.#resume = null;
      resume();
    }
  }

  /** Keystrokes read but not yet acknowledged by the server (queued, or in the user stream). */
  #unacked(): number {
    let queued = 0;
    for (const chunk of this.#chunks) queued += chunk.length;
    return queued + this.#inFlight();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    for (;;) {
      while (this.#unacked() >= MAX_UNACKED_INPUT) {
        await new Promise<void>((resolve) => this.#resume = resolve);
      }
      let n: number | null;
      try {
        n = await this.#read(buf);
      } catch {
        n = null;
      }
      if (n === null) {
        this.#ended = true;
        this.#onInput(true);
        return;
      }
      if (n > 0) {
        this.#chunks.push(buf.slice(0, n));
        this.#onInput(false);
      }
    }
  }
}

/**
 * The signals mosh-client reacts to (docs/PROTOCOL.md §8.0), for lib/client_session.ts: SIGWINCH
 * (the terminal was resized), SIGCONT (back from a suspend) and SIGTERM/SIGINT/SIGHUP (quit). A
 * handler only records the signal and wakes the main loop, which acts on it with `take`.
 */

/** A signal the client acts on. */
export type ClientSignal = "winch" | "cont" | "quit";

/** The client's signal listeners and the signals seen since the loop last took them. */
export class ClientSignals {
  readonly #seen = { winch: false, cont: false, quit: false };
  #listeners: [Deno.Signal, () => void][] = [];

  /** Listens for the client's signals; `wake` wakes the main loop after each. */
  install(wake: () => void): void {
    const add = (signal: Deno.Signal, handler: () => void) => {
      try {
        Deno.addSignalListener(signal, handler);
        this.#listeners.push([signal, handler]);
      } catch {
        // Not available on this platform.
      }
    };
    add("SIGWINCH", () => {
      this.#seen.winch = true;
      wake();
    });
    add("SIGCONT", () => {
      this.#seen.cont = true;
      wake();
    });
    for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
      add(sig, () => {
        this.#seen.quit = true;
        wake();
      });
    }
  }

  /** Whether `signal` arrived since the last call (reported once). */
  take(signal: ClientSignal): boolean {
    const seen = this.#seen[signal];
    this.#seen[signal] = false;
    return seen;
  }

  /** Stops listening. */
  remove(): void {
    for (const [signal, handler] of this.#listeners) Deno.removeSignalListener(signal, handler);
    this.#listeners = [];
  }
}

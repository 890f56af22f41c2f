/**
 * The session host's log (lib/host.ts): one timestamped line per event, in a file of at most
 * LOG_LIMIT bytes; when a line would pass the limit the file becomes `<path>.1` (replacing the
 * previous one) and a new file begins, so the log never takes more than twice LOG_LIMIT. Callers
 * never pass a key; a failing disk loses lines, never the host.
 */

/** The log is rotated when it reaches this size (bytes); one old log is kept. */
export const LOG_LIMIT = 256 * 1024;

const encoder = new TextEncoder();

/** A bounded, append-only log file (mode 0600). */
export class HostLog {
  readonly #path: string;
  readonly #limit: number;
  #size: number;

  /** Appends to `path` (created when missing); `limit` is for tests. */
  constructor(path: string, limit = LOG_LIMIT) {
    this.#path = path;
    this.#limit = limit;
    try {
      this.#size = Deno.statSync(path).size;
    } catch {
      this.#size = 0;
    }
  }

  /** Writes `text` as one line, after an ISO timestamp. */
  line(text: string): void {
    const bytes = encoder.encode(`${new Date().toISOString()} ${text}\n`);
    try {
      if (this.#size + bytes.length > this.#limit) {
        Deno.renameSync(this.#path, this.#path + ".1");
        this.#size = 0;
      }
      Deno.writeFileSync(this.#path, bytes, { append: true, create: true, mode: 0o600 });
      this.#size += bytes.length;
    } catch {
      // a full disk must not stop the sessions
    }
  }
}

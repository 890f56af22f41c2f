/**
 * Whole writes, and how the programs print. A write may take only part of a buffer, so these
 * loop until all of it is written (Deno std's `writeAll`/`writeAllSync`, which we do not
 * depend on). No protocol section: plumbing shared by the programs.
 */

const encoder = new TextEncoder();

/** Writes all of `bytes` to `w` (a socket, a file). */
export async function writeAll(
  w: { write(b: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await w.write(bytes.subarray(done));
}

/** Writes all of `data` (text is UTF-8 encoded) to `w`; an error is thrown to the caller. */
export function writeAllSync(
  w: { writeSync(b: Uint8Array): number },
  data: Uint8Array | string,
): void {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let done = 0;
  while (done < bytes.length) done += w.writeSync(bytes.subarray(done));
}

/**
 * Prints `text` whole to `w` (stdout or stderr). A failed write is dropped: a program that
 * cannot print to its terminal has nowhere left to report that.
 */
export function printTo(w: { writeSync(b: Uint8Array): number }, text: string): void {
  try {
    writeAllSync(w, text);
  } catch {
    // Nowhere left to report to.
  }
}

/** Where a program prints: stdout and stderr, or a capture in tests. */
export interface Printer {
  /** Prints text on standard output. */
  out(text: string): void;
  /** Prints text on standard error. */
  err(text: string): void;
}

/** The process's stdout and stderr, through `printTo`. */
export const stdio: Printer = {
  out: (text) => printTo(Deno.stdout, text),
  err: (text) => printTo(Deno.stderr, text),
};

/**
 * Error classes shared by the wire layers (docs/PROTOCOL.md §1, §3, §4), and `errorText`, the one
 * way an error is shown to the user.
 *
 * Each class names one kind of failure so a caller can tell "drop this datagram and count it"
 * (ProtocolError, CryptoError) from a programming error (TypeError, RangeError):
 *
 * - KeyError: the printable session key is not a valid 22-character base64 key (§1.1).
 * - CryptoError: a fatal cryptographic limit was reached (sequence or block counter, §1.2, §1.4).
 * - ProtocolError: malformed input from the network: a short fragment, a zlib error, an oversized
 *   instruction or invalid protobuf (§3.3, §4). The receiver drops the datagram and counts it.
 * - InflateLimitError: the ProtocolError of a zlib stream inflating past its limit (§3.3).
 */

/** The session key string is malformed (mosh's "Key must be …" messages). */
export class KeyError extends Error {
  /**
   * An error with mosh's text.
   * @param message one line, as printed by mosh, e.g. "Key must be 22 letters long."
   */
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

/** A fatal cryptographic condition, such as the 2^47 block limit or sequence exhaustion. */
export class CryptoError extends Error {
  /**
   * An error for a fatal condition.
   * @param message one line describing the condition
   */
  constructor(message: string) {
    super(message);
    this.name = "CryptoError";
  }
}

/** Malformed wire data: the receiver drops it and counts it; never fatal. */
export class ProtocolError extends Error {
  /**
   * An error for input to drop.
   * @param message one line describing what was wrong with the input
   */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * An error as one line for the user: its message without Deno's "Failed to spawn 'x': " prefix
 * and " (os error N)" suffix, so that it reads like C's strerror.
 */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/^Failed to spawn '[^']*': /, "").replace(/\s*\(os error \d+\)$/, "");
}

/** A compressed instruction would inflate past the size limit (a zlib bomb, §3.3). */
export class InflateLimitError extends ProtocolError {
  /** @param limit the most bytes of output allowed */
  constructor(limit: number) {
    super(`zlib: output exceeds ${limit} bytes`);
    this.name = "InflateLimitError";
  }
}

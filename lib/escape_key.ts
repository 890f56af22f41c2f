/**
 * The escape key of mosh-client (docs/PROTOCOL.md §8.1): Ctrl-^ by default, chosen with
 * MOSH_ESCAPE_KEY, followed by "." to quit, Ctrl-Z to suspend, or the pass key to type the
 * escape key itself. Pure logic: `EscapeKeyHandler.feed(byte)` says what to do with each byte
 * typed and the client does it.
 *
 * The client, for each byte read from stdin (after giving the whole read to the prediction
 * engine), calls `a = handler.feed(byte)` and then, in this order:
 * - `a & EscapeAction.ShowHelp`: `notifications.setNotificationString(key.helpText, now, true,
 *   false)` (permanent, no quit hint);
 * - `a & EscapeAction.Quit`: if the server was never reached, quit at once; else unless a
 *   shutdown already runs, show "Exiting on user request..." (permanent) and start the shutdown
 *   handshake. Either way the rest of this read is discarded, as mosh does;
 * - `a & EscapeAction.Suspend`: write the display's close() sequence, restore the termios,
 *   write SUSPEND_MESSAGE, stop the whole process group (mosh does `kill(0, SIGSTOP)`; from
 *   Deno e.g. `kill -STOP -<pgid>` through Deno.Command, or Deno.kill on each process), and
 *   once continued go back to raw mode, write open() and repaint fully;
 * - `a & EscapeAction.SendKey`: push the escape key byte (`key.key`) to the user stream;
 * - `a & EscapeAction.SendByte`: push `byte` to the user stream;
 * - `a & EscapeAction.Repaint`: repaint the real terminal fully (Ctrl-L; the byte is sent too);
 * - `a & EscapeAction.ClearHelp`: if the notification is still `key.helpText`, clear it.
 */

/** The default escape key, Ctrl-^ (0x1E). */
export const DEFAULT_ESCAPE_KEY = 0x1e;

/** What the client prints before stopping itself (after close() and restoring the termios). */
export const SUSPEND_MESSAGE = "\n\x1b[37;44m[mosh is suspended.]\x1b[m\n";

/** Keys refused as escape key: Ctrl-C, Ctrl-D, LF, Ctrl-L, CR. */
const REFUSED = [0x03, 0x04, 0x0a, 0x0c, 0x0d];

/** The escape key configuration. */
export interface EscapeKey {
  /** The escape byte, or 0 when the escape key is disabled. */
  readonly key: number;
  /** The byte that, typed after the escape key, sends the escape key itself. */
  readonly passKey: number;
  /** A second pass key: the lower-case letter when the pass key is an upper-case one. */
  readonly passKey2: number;
  /** A printable escape key counts only right after a CR or LF typed by the user. */
  readonly requiresLineStart: boolean;
  /** The key's name in messages: `Ctrl-^` or `"~"`; "" when disabled. */
  readonly keyName: string;
  /** The pass key's name: `"^"`. */
  readonly passName: string;
  /** `Commands: Ctrl-Z suspends, "." quits, "^" gives literal Ctrl-^` ("" when disabled). */
  readonly helpText: string;
}

/** Builds the configuration for escape byte `key` (1-127), or the disabled one for 0. */
export function makeEscapeKey(key: number): EscapeKey {
  if (!Number.isInteger(key) || key < 0 || key > 127) {
    throw new RangeError(`escape key: should be 0-127, got ${key}`);
  }
  if (key === 0) {
    return {
      key: 0,
      passKey: 0,
      passKey2: 0,
      requiresLineStart: false,
      keyName: "",
      passName: "",
      helpText: "",
    };
  }
  if (REFUSED.includes(key)) key = DEFAULT_ESCAPE_KEY;
  const control = key < 0x20;
  const passKey = control ? key + 0x40 : key;
  const passKey2 = passKey >= 0x41 && passKey <= 0x5a ? passKey + 0x20 : passKey;
  const passName = `"${String.fromCharCode(passKey)}"`;
  const keyName = control
    ? `Ctrl-${String.fromCharCode(passKey)}`
    : `"${String.fromCharCode(key)}"`;
  return {
    key,
    passKey,
    passKey2,
    requiresLineStart: !control,
    keyName,
    passName,
    helpText: `Commands: Ctrl-Z suspends, "." quits, ${passName} gives literal ${keyName}`,
  };
}

/**
 * The escape key from MOSH_ESCAPE_KEY: unset → Ctrl-^; "" → disabled; one character with code
 * 1-127 → that key (Ctrl-C, Ctrl-D, LF, Ctrl-L and CR are refused and give Ctrl-^); anything
 * else → Ctrl-^.
 */
export function parseEscapeKey(value: string | undefined): EscapeKey {
  if (value === undefined) return makeEscapeKey(DEFAULT_ESCAPE_KEY);
  if (value === "") return makeEscapeKey(0);
  const code = value.length === 1 ? value.charCodeAt(0) : -1;
  return makeEscapeKey(code >= 1 && code <= 127 ? code : DEFAULT_ESCAPE_KEY);
}

/** Bits of the action `EscapeKeyHandler.feed` returns; see the module comment. */
export const EscapeAction = {
  /** Push the byte just fed to the user stream. */
  SendByte: 1,
  /** Push the escape key byte first. */
  SendKey: 2,
  /** Show the escape help (permanent, without the quit hint). */
  ShowHelp: 4,
  /** Clear the notification if it still shows the escape help. */
  ClearHelp: 8,
  /** The user asked to quit. */
  Quit: 16,
  /** The user asked to suspend the client. */
  Suspend: 32,
  /** Repaint the real terminal fully. */
  Repaint: 64,
} as const;

/** The escape-key state machine of one client session. */
export class EscapeKeyHandler {
  /** The configuration. */
  readonly config: EscapeKey;
  #pending = false;
  /** The last byte typed was CR or LF; false at session start. */
  #lineStart = false;

  /**
   * A handler at the start of a session (no CR or LF typed yet).
   * @param config the key, e.g. parseEscapeKey(Deno.env.get("MOSH_ESCAPE_KEY"))
   */
  constructor(config: EscapeKey = makeEscapeKey(DEFAULT_ESCAPE_KEY)) {
    this.config = config;
  }

  /** True after the escape key, while the next byte is awaited. */
  get pending(): boolean {
    return this.#pending;
  }

  /** One byte typed by the user; returns a set of EscapeAction bits. */
  feed(byte: number): number {
    const { key, passKey, passKey2, requiresLineStart } = this.config;
    if (this.#pending) {
      this.#pending = false;
      if (byte === 0x2e) return EscapeAction.Quit;
      if (byte === 0x1a) return EscapeAction.Suspend | EscapeAction.ClearHelp;
      if (byte === passKey || byte === passKey2) {
        return EscapeAction.SendKey | EscapeAction.ClearHelp;
      }
      return EscapeAction.SendKey | EscapeAction.SendByte | EscapeAction.ClearHelp;
    }
    if (key !== 0 && byte === key && (this.#lineStart || !requiresLineStart)) {
      this.#pending = true;
      this.#lineStart = false;
      return EscapeAction.ShowHelp;
    }
    this.#lineStart = byte === 0x0a || byte === 0x0d;
    return byte === 0x0c ? EscapeAction.SendByte | EscapeAction.Repaint : EscapeAction.SendByte;
  }
}

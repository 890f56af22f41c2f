/**
 * The cursor shape of DECSCUSR (`CSI Ps SP q`, beyond mosh; an extension in the terminal
 * features range 120-129 of docs/PROTOCOL.md §13) on the client's real terminal.
 *
 * The server's emulator keeps the application's choice (lib/terminal.ts `cursorShape`: 0 the
 * terminal's default, 1 blinking block, 2 steady block, 3 blinking underline, 4 steady underline,
 * 5 blinking bar, 6 steady bar); our client writes it to its terminal when it changes, and puts
 * the default back (`CURSOR_SHAPE_RESET`) when it exits or is suspended, so the shell it returns
 * to gets its own cursor.
 */

/** Largest DECSCUSR value. */
export const MAX_CURSOR_SHAPE = 6;

/** Written at exit and suspend when a shape was applied: the terminal's default cursor. */
export const CURSOR_SHAPE_RESET = "\x1b[0 q";

/** The client's terminal's cursor shape: what it was told last. */
export class CursorShape {
  #applied = 0;

  /** The shape last written (0 = the default). */
  get applied(): number {
    return this.#applied;
  }

  /** The bytes that give the terminal shape `shape` ("" when it has it or `shape` is invalid). */
  update(shape: number): string {
    if (!Number.isInteger(shape) || shape < 0 || shape > MAX_CURSOR_SHAPE) return "";
    if (shape === this.#applied) return "";
    this.#applied = shape;
    return `\x1b[${shape} q`;
  }

  /** At exit or suspend: the reset when a shape was applied, else "". Forgets the shape. */
  reset(): string {
    if (this.#applied === 0) return "";
    this.#applied = 0;
    return CURSOR_SHAPE_RESET;
  }
}

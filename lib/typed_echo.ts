/**
 * The evidence that the application echoes what is typed, used by the local echo prediction
 * engine to confirm an epoch (docs/PROTOCOL.md §8.4 "Epochs"; the echo ack is §6.3): the text
 * typed in the epoch shows just left of the server's cursor.
 *
 * C mosh confirms an epoch only when one of its predicted cells is found where it was guessed.
 * A guess made over a screen the server had not drawn yet (before the client's first frames
 * arrive, or over a blank screen before the prompt) lands at the wrong place, so C kills the
 * epoch, and the next letter typed waits a round trip although the server did echo it all. This
 * records the printable characters typed since an epoch began (nothing else typed in between)
 * with the client state that carries each and where the real cursor was; the engine asks
 * `echoed` before it kills an unconfirmed epoch. Cursor keys, backspace, controls, escape
 * sequences, wide or invalid characters end the record for that epoch: after them the text
 * need not be contiguous.
 */

import type { Framebuffer } from "./framebuffer.ts";
import { isBlankCodePoint, normalise, rowCellKey } from "./predicted_cell.ts";

/** The printable text typed in one epoch. */
export class TypedEcho {
  #cps: number[] = [];
  /** The client state carrying each character (its prediction's expiry frame). */
  #expiry: bigint[] = [];
  #epoch = -1;
  #valid = false;
  #fromRow = 0;
  #fromCol = 0;

  /** Input other than a printable character in `epoch`: its text is no evidence any more. */
  interrupt(epoch: number): void {
    this.#cps.length = 0;
    this.#expiry.length = 0;
    this.#epoch = epoch;
    this.#valid = false;
  }

  /**
   * A printable width-1 character typed (and predicted) in `epoch`, carried by client state
   * `expiry`, over the screen `fb`.
   */
  record(cp: number, epoch: number, expiry: bigint, fb: Framebuffer): void {
    if (epoch !== this.#epoch) {
      this.interrupt(epoch);
      this.#valid = true;
      this.#fromRow = fb.cursorRow;
      this.#fromCol = fb.cursorCol;
    }
    if (!this.#valid) return;
    if (this.#cps.length >= fb.width) {
      this.interrupt(epoch); // it cannot all show left of the cursor
      return;
    }
    this.#cps.push(cp);
    this.#expiry.push(expiry);
  }

  /**
   * True if `fb` shows the echo of the text typed in `epoch`: since typing began the real
   * cursor has moved, and the cells just left of it hold the text typed, all of it at least up
   * to the last character the echo ack `lateAck` covers, with one non-blank among them.
   */
  echoed(fb: Framebuffer, epoch: number, lateAck: bigint): boolean {
    const typed = this.#cps;
    if (this.#epoch !== epoch || !this.#valid || typed.length === 0) return false;
    const row = fb.cursorRow, col = fb.cursorCol;
    if (row === this.#fromRow && col === this.#fromCol) return false;
    let acked = 0;
    while (acked < typed.length && this.#expiry[acked] <= lateAck) acked++;
    if (acked === 0) return false;
    const real = fb.rows[row];
    for (let k = Math.min(typed.length, col); k >= acked; k--) {
      let nonBlank = false, i = 0;
      for (; i < k; i++) {
        const cp = typed[i];
        if (rowCellKey(real, col - k + i) !== normalise(cp, null)) break;
        if (!isBlankCodePoint(cp)) nonBlank = true;
      }
      if (i === k && nonBlank) return true;
    }
    return false;
  }
}

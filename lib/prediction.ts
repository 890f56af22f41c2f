/**
 * Local echo prediction: the client guesses the echo of what the user types and draws it over
 * the synchronised screen until the server confirms or refutes it (docs/PROTOCOL.md §8.4, judged
 * with the server's echo ack of §6.3).
 *
 * Every prediction (a character cell or a cursor position) carries
 * - an expiry frame, `local_frame_sent + 1` when it was made: it is judged only once the server's
 *   echo ack (the "late ack") has reached that client state, because only then is any echo the
 *   input caused already part of the screen the client holds;
 * - an epoch. A prediction is drawn only when its epoch has been confirmed, and the engine starts
 *   a new epoch ("becomes tentative") whenever a guess gets risky: a control character, an escape
 *   sequence other than the arrow keys, a wide or unprintable character, typing in the last
 *   column. So after a CR nothing is drawn until the server has echoed one character of the new
 *   line as predicted, and a password prompt never shows the password: the wrong guesses of an
 *   unconfirmed epoch are silently dropped ("kill epoch"). A wrong guess of a confirmed epoch
 *   resets every prediction. Beyond C mosh: before killing an unconfirmed epoch, the engine
 *   checks whether the server's screen shows the text typed in it just left of its cursor
 *   (lib/typed_echo.ts); if so the epoch is confirmed and its misplaced guesses are dropped.
 *   That happens when text is typed before the client has the server's first frames: without
 *   it the first letter typed afterwards would wait a round trip.
 *
 * User input goes through the terminal's own parser (lib/parser.ts: UTF-8 and the DEC/ANSI
 * state machine, §9.1-§9.2), so a character split across reads is predicted only once whole.
 *
 * Whether predictions are drawn at all depends on the display mode and on timing triggers
 * (lib/prediction_triggers.ts): in `adaptive` mode they appear while the send interval (about
 * SRTT/2) is above 30 ms or while a prediction has been pending for 250 ms ("glitch"), and they
 * are underlined while the interval is above 80 ms or after a 5 s glitch.
 *
 * How the client drives it (times are milliseconds on one clock, state numbers are bigint):
 * - after each datagram: `setLocalFrameAcked(sentStateAcked)`, `setSendInterval(sendInterval)`,
 *   `setLocalFrameLateAcked(latestRemoteState.echoAck)`;
 * - for each read from stdin: `setLocalFrameSent(sentStateLast)`, then
 *   `newUserInput(bytes, remoteFramebuffer, now)` with every byte read, before the escape key
 *   handling;
 * - on SIGWINCH: `reset()`;
 * - for each frame drawn: `cull(remoteFramebuffer, now)` then `apply(remoteFramebuffer)` gives
 *   the framebuffer to paint (other overlays go on top of it);
 * - wake up after at most `waitTime()` ms.
 */

import {
  ATTR_MASK,
  ATTR_UNDERLINE,
  CELL_WORDS,
  FLAG_WRAP,
  Framebuffer,
  type Row,
} from "./framebuffer.ts";
import {
  CellPrediction,
  contentsMatch,
  type CursorPrediction,
  isBlankCodePoint,
  normalise,
  predictDelete,
  predictInsert,
  rowCellKey,
  sameCell,
} from "./predicted_cell.ts";
import { charWidth } from "./wcwidth.ts";
import { Parser, State } from "./parser.ts";
import { TypedEcho } from "./typed_echo.ts";
import { type PredictionMode, PredictionTriggers } from "./prediction_triggers.ts";

/** A single read longer than this is a paste: no predictions. */
export const PASTE_THRESHOLD = 100;

/** Options of a PredictionEngine. */
export interface PredictionOptions {
  /** Display mode; default `adaptive`. */
  mode?: PredictionMode;
  /** Predict overwriting rather than inserting: MOSH_PREDICTION_OVERWRITE is exactly "yes". */
  overwrite?: boolean;
}

const enum Validity {
  Pending,
  Correct,
  CorrectNoCredit,
  IncorrectOrExpired,
}

/**
 * The local echo prediction engine of one client (§8.4). See the module comment for the calls
 * the client makes and when.
 */
export class PredictionEngine {
  /** Predicting overwrite rather than insert. */
  readonly overwrite: boolean;

  #predictionEpoch = 1;
  #confirmedEpoch = 0;
  /** Predicted cells by row number; each array has one entry per column. */
  #rows = new Map<number, CellPrediction[]>();
  /** Cursor predictions, oldest first; the last one is the predicted cursor. */
  #cursors: CursorPrediction[] = [];

  #localFrameSent = 0n;
  #localFrameAcked = 0n;
  #localFrameLateAcked = 0n;
  #sendInterval = 250;

  /** When predictions are drawn and underlined (lib/prediction_triggers.ts). */
  readonly #triggers: PredictionTriggers;
  readonly #isActive = (): boolean => this.active;
  #lastWidth = -1;
  #lastHeight = -1;

  /**
   * User input goes through the terminal's own parser (UTF-8 and the DEC/ANSI state machine of
   * §9.1-§9.2), one byte at a time; its handler makes the predictions. `#fb` and `#now` are the
   * screen and time of the byte being parsed.
   */
  readonly #parser = new Parser({
    print: (cp) => this.#printed(cp),
    printAscii: (data, start, end) => {
      for (let i = start; i < end; i++) this.#printed(data[i]);
    },
    execute: (code) => this.#executed(code),
    csiDispatch: (params, count, collected, final) => this.#csi(params, count, collected, final),
    csiSubDispatch: () => {}, // ignored as a whole, as before sub-parameters were read
    escDispatch: () => this.#sequenceEnded(),
    oscEnd: () => this.#sequenceEnded(),
  });
  readonly #byte = new Uint8Array(1);
  #fb: Framebuffer | null = null;
  #now = 0;
  /** A sequence has begun and has neither been dispatched nor made the engine tentative. */
  #sequenceOpen = false;
  #lastByte = -1;

  /** The text typed in the current epoch: the evidence of its echo (lib/typed_echo.ts). */
  readonly #typed = new TypedEcho();

  /**
   * An engine with no predictions yet.
   * @param options display mode (default adaptive) and overwrite prediction (default off)
   */
  constructor(options: PredictionOptions = {}) {
    this.#triggers = new PredictionTriggers(options.mode ?? "adaptive");
    this.overwrite = options.overwrite ?? false;
  }

  /** Display mode. */
  get mode(): PredictionMode {
    return this.#triggers.mode;
  }

  /** The epoch new predictions are tagged with. */
  get predictionEpoch(): number {
    return this.#predictionEpoch;
  }

  /** The newest epoch the server has confirmed; predictions up to it are drawn. */
  get confirmedEpoch(): number {
    return this.#confirmedEpoch;
  }

  /** The glitch trigger: 0, up to 10 (show predictions), or 20 (show and underline). */
  get glitchTrigger(): number {
    return this.#triggers.glitchTrigger;
  }

  /** True while any cell or cursor prediction awaits judgement. */
  get active(): boolean {
    if (this.#cursors.length > 0) return true;
    for (const cells of this.#rows.values()) {
      for (const c of cells) if (c.active) return true;
    }
    return false;
  }

  /** The last client state number sent (`get_sent_state_last`), taken at each stdin read. */
  setLocalFrameSent(n: bigint): void {
    this.#localFrameSent = n;
  }

  /**
   * The newest client state the server acknowledged. Recorded for completeness: predictions
   * are judged only by the late ack, because an ack says nothing about the echo.
   */
  setLocalFrameAcked(n: bigint): void {
    this.#localFrameAcked = n;
  }

  /** The newest client state acknowledged so far (see setLocalFrameAcked). */
  get localFrameAcked(): bigint {
    return this.#localFrameAcked;
  }

  /** The server's echo ack (§6.3): input up to this state reached the pty 50 ms ago. */
  setLocalFrameLateAcked(n: bigint): void {
    this.#localFrameLateAcked = n;
  }

  /** The transport's send interval in ms (about SRTT/2, 20-250). */
  setSendInterval(ms: number): void {
    this.#sendInterval = ms;
  }

  /** Drops every prediction and starts a new epoch (resize, paste, wrong guess). */
  reset(): void {
    this.#cursors.length = 0;
    this.#rows.clear();
    this.#becomeTentative();
  }

  /**
   * Makes predictions for one read of user input, judged against `fb` (the latest remote
   * framebuffer). A read longer than 100 bytes is a paste: every prediction is dropped and none
   * is made.
   */
  newUserInput(bytes: Uint8Array, fb: Framebuffer, now: number): void {
    if (bytes.length > PASTE_THRESHOLD) {
      this.reset();
      this.#resetParser();
      return;
    }
    if (this.mode === "never") return;
    for (let i = 0; i < bytes.length; i++) this.#newUserByte(bytes[i], fb, now);
  }

  /**
   * Judges the predictions against `fb` (run before each frame is drawn): confirmed ones raise
   * the confirmed epoch and go away, wrong ones kill their epoch or reset everything, pending
   * ones feed the glitch triggers. Also updates the display triggers from the send interval.
   */
  cull(fb: Framebuffer, now: number): void {
    if (this.mode === "never") return;
    if (fb.width !== this.#lastWidth || fb.height !== this.#lastHeight) {
      if (this.#lastWidth >= 0) this.reset();
      this.#lastWidth = fb.width;
      this.#lastHeight = fb.height;
    }

    this.#triggers.update(this.#sendInterval, this.#isActive);

    for (const [rowNum, cells] of this.#rows) {
      if (rowNum >= fb.height) {
        this.#rows.delete(rowNum);
        continue;
      }
      const row = fb.rows[rowNum];
      for (let col = 0; col < cells.length; col++) {
        const cell = cells[col];
        if (!cell.active) continue;
        switch (this.#cellValidity(fb, row, col, cell)) {
          case Validity.IncorrectOrExpired:
            if (this.mode === "experimental") {
              cell.clear();
            } else if (this.#echoedUnconfirmed(fb, cell.epoch)) {
              this.#confirmByEcho(cell.epoch);
            } else if (cell.epoch > this.#confirmedEpoch) {
              this.#killEpoch(cell.epoch, fb, now);
            } else {
              this.reset();
              return;
            }
            break;
          case Validity.Correct: {
            if (cell.epoch > this.#confirmedEpoch) this.#confirmedEpoch = cell.epoch;
            this.#triggers.confirmed(cell.time, now);
            // The rest of the row takes the renditions the server actually used.
            const at = col * CELL_WORDS;
            const fg = row.data[at + 1],
              bg = row.data[at + 2],
              attrs = row.data[at + 3] & ATTR_MASK;
            for (let k = col; k < cells.length; k++) {
              const c = cells[k];
              c.w1 = fg;
              c.w2 = bg;
              c.w3 = (c.w3 & ~ATTR_MASK) | attrs;
            }
            cell.clear();
            break;
          }
          case Validity.CorrectNoCredit:
            cell.clear();
            break;
          case Validity.Pending:
            this.#triggers.pending(cell.time, now);
            break;
        }
      }
    }

    if (this.#cursors.length > 0) {
      const last = this.#cursors[this.#cursors.length - 1];
      if (this.#cursorValidity(fb, last) === Validity.IncorrectOrExpired) {
        if (this.mode === "experimental") {
          this.#cursors.length = 0;
        } else if (this.#echoedUnconfirmed(fb, last.epoch)) {
          this.#confirmByEcho(last.epoch);
        } else {
          this.reset();
          return;
        }
      }
      this.#cursors = this.#cursors.filter((c) => this.#cursorValidity(fb, c) === Validity.Pending);
    }
  }

  /**
   * Draws the confirmed predictions over `fb` and returns the result: `fb` itself when nothing
   * is drawn, otherwise a new Framebuffer whose changed rows are private copies (`fb` and its
   * rows are never modified). Run `cull` first.
   */
  apply(fb: Framebuffer): Framebuffer {
    if (!this.#triggers.showing) return fb;
    const confirmed = this.#confirmedEpoch;
    let cursorRow = fb.cursorRow, cursorCol = fb.cursorCol;
    for (const c of this.#cursors) {
      if (c.epoch <= confirmed && c.row < fb.height && c.col < fb.width) {
        cursorRow = c.row;
        cursorCol = c.col;
      }
    }

    let rows: Row[] | null = null;
    const width = fb.width;
    for (const [rowNum, cells] of this.#rows) {
      if (rowNum >= fb.height) continue;
      const real = fb.rows[rowNum];
      let out: Row | null = null;
      const n = Math.min(cells.length, width);
      for (let col = 0; col < n; col++) {
        const p = cells[col];
        if (!p.active || p.epoch > confirmed) continue;
        const at = col * CELL_WORDS;
        let flag = this.#triggers.flagging;
        if (p.blank && isBlankCodePoint(real.data[at]) && !real.multi?.has(col)) {
          flag = false;
        }
        if (p.unknown) {
          if (flag && col !== width - 1) {
            out ??= real.clone();
            out.data[at + 3] |= ATTR_UNDERLINE;
          }
          continue;
        }
        if (sameCell(real, col, p)) continue;
        out ??= real.clone();
        const d = out.data;
        d[at] = p.w0;
        d[at + 1] = p.w1;
        d[at + 2] = p.w2;
        d[at + 3] = p.w3 | (d[at + 3] & FLAG_WRAP) | (flag ? ATTR_UNDERLINE : 0);
        if (p.multi !== null) (out.multi ??= new Map()).set(col, p.multi);
        else out.dropMulti(col);
      }
      if (out) {
        rows ??= fb.rows.slice();
        rows[rowNum] = out;
      }
    }

    if (rows === null && cursorRow === fb.cursorRow && cursorCol === fb.cursorCol) return fb;
    return fb.with({ rows: rows ?? fb.rows, cursorRow, cursorCol });
  }

  /**
   * Milliseconds until the engine wants to run `cull` again: 50 while predictions are active
   * and the timing triggers have not all fired, otherwise Infinity.
   */
  waitTime(): number {
    return this.#triggers.waitTime(this.#isActive);
  }

  #becomeTentative(): void {
    if (this.mode !== "experimental") this.#predictionEpoch++;
  }

  #cellValidity(fb: Framebuffer, row: Row, col: number, p: CellPrediction): Validity {
    if (col >= fb.width) return Validity.IncorrectOrExpired;
    if (this.#localFrameLateAcked < p.expiry) return Validity.Pending;
    // A blank guess is too easily "right" to count as a confirmation.
    if (p.unknown || p.blank) return Validity.CorrectNoCredit;
    if (!contentsMatch(row, col, p)) return Validity.IncorrectOrExpired;
    const key = normalise(p.w0, p.multi);
    return p.originals.includes(key) ? Validity.CorrectNoCredit : Validity.Correct;
  }

  #cursorValidity(fb: Framebuffer, c: CursorPrediction): Validity {
    if (c.row >= fb.height || c.col >= fb.width) return Validity.IncorrectOrExpired;
    if (this.#localFrameLateAcked < c.expiry) return Validity.Pending;
    return fb.cursorRow === c.row && fb.cursorCol === c.col
      ? Validity.Correct
      : Validity.IncorrectOrExpired;
  }

  /** `epoch` is unconfirmed and `fb` shows the echo of the text typed in it (lib/typed_echo.ts). */
  #echoedUnconfirmed(fb: Framebuffer, epoch: number): boolean {
    return epoch > this.#confirmedEpoch && this.#typed.echoed(fb, epoch, this.#localFrameLateAcked);
  }

  /**
   * The server echoed what was typed in `epoch` (see lib/typed_echo.ts): the epoch is confirmed, and its
   * predictions, judged by the screen they were made for, are dropped without a reset.
   */
  #confirmByEcho(epoch: number): void {
    if (epoch > this.#confirmedEpoch) this.#confirmedEpoch = epoch;
    for (const cells of this.#rows.values()) {
      for (const c of cells) if (c.active && c.epoch === epoch) c.clear();
    }
    this.#cursors = this.#cursors.filter((c) => c.epoch !== epoch);
    this.#typed.interrupt(epoch);
  }

  /** A wrong guess in an unconfirmed epoch: forget that epoch and everything after it. */
  #killEpoch(epoch: number, fb: Framebuffer, now: number): void {
    this.#cursors = this.#cursors.filter((c) => c.epoch < epoch);
    this.#cursors.push({
      row: fb.cursorRow,
      col: fb.cursorCol,
      epoch: this.#predictionEpoch,
      expiry: this.#localFrameSent + 1n,
      time: now,
    });
    for (const cells of this.#rows.values()) {
      for (const c of cells) if (c.active && c.epoch >= epoch) c.clear();
    }
    this.#becomeTentative();
  }

  /** The predicted cursor, made for the current epoch (starting from the real cursor). */
  #cursor(fb: Framebuffer, now: number): CursorPrediction {
    const cursors = this.#cursors;
    const last = cursors.length > 0 ? cursors[cursors.length - 1] : null;
    if (last === null || last.epoch !== this.#predictionEpoch) {
      const c = {
        row: last ? last.row : fb.cursorRow,
        col: last ? last.col : fb.cursorCol,
        epoch: this.#predictionEpoch,
        expiry: this.#localFrameSent + 1n,
        time: now,
      };
      cursors.push(c);
      return c;
    }
    return last;
  }

  #rowCells(rowNum: number, width: number): CellPrediction[] {
    let cells = this.#rows.get(rowNum);
    if (!cells) {
      cells = Array.from({ length: width }, () => new CellPrediction());
      this.#rows.set(rowNum, cells);
    }
    return cells;
  }

  /** Marks `p` as a new prediction of the current epoch, made now. */
  #activate(p: CellPrediction, now: number): void {
    p.active = true;
    p.epoch = this.#predictionEpoch;
    p.expiry = this.#localFrameSent + 1n;
    p.time = now;
  }

  #expire(c: CursorPrediction, now: number): void {
    c.expiry = this.#localFrameSent + 1n;
    c.time = now;
  }

  #resetParser(): void {
    this.#parser.reset();
    this.#sequenceOpen = false;
    this.#lastByte = -1;
  }

  #newUserByte(byte: number, fb: Framebuffer, now: number): void {
    if (this.mode === "experimental") this.#predictionEpoch = this.#confirmedEpoch;
    this.cull(fb, now);

    // The real terminal is in application cursor mode: treat ESC O x as ESC [ x.
    let b = byte;
    if (this.#lastByte === 0x1b && b === 0x4f) b = 0x5b;
    this.#lastByte = b;

    this.#fb = fb;
    this.#now = now;
    this.#byte[0] = b;
    this.#parser.parse(this.#byte);
    this.#fb = null;
    if (this.#parser.state !== State.Ground) {
      this.#sequenceOpen = true;
    } else if (this.#sequenceOpen) {
      // A sequence that ended without a dispatch (CSI ignore, DCS, SOS, PM, APC).
      this.#sequenceOpen = false;
      this.#becomeTentative();
    }
  }

  /** A printable code point (DEL included) from the parser. */
  #printed(cp: number): void {
    const fb = this.#fb!, now = this.#now;
    if (cp === 0x7f) {
      this.#notTyped();
      this.#backspace(fb, now);
    } else if (cp === 0xfffd) {
      // Undecodable input (or a typed U+FFFD): the terminal shows U+FFFD; don't guess, start a
      // new epoch.
      this.#notTyped();
      this.#cursor(fb, now);
      this.#becomeTentative();
    } else {
      this.#print(cp, fb, now);
    }
  }

  /** A C0 or C1 control: the next guesses are tentative; CR moves the predicted cursor. */
  #executed(code: number): void {
    this.#notTyped();
    this.#sequenceOpen = false;
    this.#becomeTentative();
    if (code === 0x0d) this.#newlineCarriageReturn(this.#fb!, this.#now);
  }

  /** A control sequence: plain CSI C and CSI D are the arrow keys; anything else is risky. */
  #csi(params: Int32Array, count: number, collected: number, final: number): void {
    this.#notTyped();
    this.#sequenceOpen = false;
    const plain = count === 1 && params[0] === -1 && collected === 0;
    if (plain && final === 0x43) this.#cursorRight(this.#fb!, this.#now);
    else if (plain && final === 0x44) this.#cursorLeft(this.#fb!, this.#now);
    else this.#becomeTentative();
  }

  /** An escape sequence or an OSC string: the next guesses are tentative. */
  #sequenceEnded(): void {
    this.#notTyped();
    this.#sequenceOpen = false;
    this.#becomeTentative();
  }

  /** Input other than a printable character: the current epoch's typed text is no evidence. */
  #notTyped(): void {
    this.#typed.interrupt(this.#predictionEpoch);
  }

  #print(cp: number, fb: Framebuffer, now: number): void {
    const cursor = this.#cursor(fb, now);
    if (charWidth(cp) !== 1) {
      this.#notTyped();
      this.#becomeTentative();
      return;
    }
    const width = fb.width;
    const real = fb.rows[cursor.row];
    const cells = this.#rowCells(cursor.row, width);
    // The last column is risky: a shell puts the character there, an editor may wrap.
    if (cursor.col + 1 >= width) this.#becomeTentative();

    if (!this.overwrite) {
      predictInsert(cells, real, cursor.col, width, (c) => this.#activate(c, now));
    }

    const c = cells[cursor.col];
    c.clearKeepingOriginal();
    this.#activate(c, now);
    // Renditions follow the character on the left, or the pen at column 0.
    let fg = fb.fg, bg = fb.bg, attrs = fb.attrs & ATTR_MASK;
    if (cursor.col > 0) {
      const prev = cells[cursor.col - 1];
      if (prev.active && !prev.unknown) {
        fg = prev.w1;
        bg = prev.w2;
        attrs = prev.w3 & ATTR_MASK;
      } else {
        const at = (cursor.col - 1) * CELL_WORDS;
        fg = real.data[at + 1];
        bg = real.data[at + 2];
        attrs = real.data[at + 3] & ATTR_MASK;
      }
    }
    c.w0 = cp;
    c.w1 = fg;
    c.w2 = bg;
    c.w3 = attrs;
    c.multi = null;
    c.originals.push(rowCellKey(real, cursor.col));
    this.#typed.record(cp, this.#predictionEpoch, this.#localFrameSent + 1n, fb);

    this.#expire(cursor, now);
    if (cursor.col < width - 1) {
      cursor.col++;
    } else {
      this.#becomeTentative();
      this.#newlineCarriageReturn(fb, now);
    }
  }

  #backspace(fb: Framebuffer, now: number): void {
    const cursor = this.#cursor(fb, now);
    if (cursor.col === 0) return;
    const width = fb.width;
    const real = fb.rows[cursor.row];
    const cells = this.#rowCells(cursor.row, width);
    cursor.col--;
    this.#expire(cursor, now);
    if (this.overwrite) {
      const c = cells[cursor.col];
      c.clearKeepingOriginal();
      this.#activate(c, now);
      c.originals.push(rowCellKey(real, cursor.col));
      c.w0 = 0x20;
      c.w3 &= ATTR_MASK;
      c.multi = null;
      return;
    }
    predictDelete(cells, real, cursor.col, width, (c) => this.#activate(c, now));
  }

  #cursorRight(fb: Framebuffer, now: number): void {
    const cursor = this.#cursor(fb, now);
    if (cursor.col < fb.width - 1) {
      cursor.col++;
      this.#expire(cursor, now);
    }
  }

  #cursorLeft(fb: Framebuffer, now: number): void {
    const cursor = this.#cursor(fb, now);
    if (cursor.col > 0) {
      cursor.col--;
      this.#expire(cursor, now);
    }
  }

  /** CR: the cursor goes to column 0 of the next row; on the last row, predict a blank row. */
  #newlineCarriageReturn(fb: Framebuffer, now: number): void {
    const cursor = this.#cursor(fb, now);
    cursor.col = 0;
    this.#expire(cursor, now);
    if (cursor.row < fb.height - 1) {
      cursor.row++;
      return;
    }
    // Scrolling is not predicted; the last row is predicted blank.
    for (const c of this.#rowCells(cursor.row, fb.width)) {
      c.clear();
      this.#activate(c, now);
      c.w0 = 0;
      c.w1 = 0;
      c.w2 = fb.bg;
      c.w3 = 0;
      c.multi = null;
    }
  }
}

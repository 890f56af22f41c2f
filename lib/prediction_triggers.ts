/**
 * When local echo predictions are drawn and underlined (docs/PROTOCOL.md §8.4), for
 * lib/prediction.ts: the display mode (MOSH_PREDICTION_DISPLAY) and, in `adaptive` mode, the
 * timing triggers.
 *
 * - The send-interval trigger: predictions appear while the transport's send interval (about
 *   SRTT/2) is above 30 ms, and stop at 20 ms or below once none is pending.
 * - Flagging: predictions are underlined while the interval is above 80 ms, until it is 50 ms or
 *   below, and during a big glitch.
 * - The glitch trigger: a prediction pending 250 ms shows predictions (10), one pending 5 s also
 *   underlines them (20); each quick confirmation (under 250 ms, at most one per 150 ms) counts
 *   it down by one.
 */

/** When predictions are drawn (MOSH_PREDICTION_DISPLAY). */
export type PredictionMode = "adaptive" | "always" | "never" | "experimental";

/** The accepted values of MOSH_PREDICTION_DISPLAY. */
export const PREDICTION_MODES: readonly PredictionMode[] = [
  "adaptive",
  "always",
  "never",
  "experimental",
];

/**
 * Parses MOSH_PREDICTION_DISPLAY: unset means `adaptive`; an unknown value throws an Error with
 * mosh-client's message, `Unknown prediction mode X.`
 */
export function parsePredictionMode(value: string | undefined): PredictionMode {
  if (value === undefined) return "adaptive";
  if ((PREDICTION_MODES as readonly string[]).includes(value)) return value as PredictionMode;
  throw new Error(`Unknown prediction mode ${value}.`);
}

/** Send interval (ms) above which predictions are shown in adaptive mode. */
export const SRTT_TRIGGER_HIGH = 30;
/** Send interval (ms) at or below which, with nothing pending, they stop being shown. */
export const SRTT_TRIGGER_LOW = 20;
/** Send interval (ms) above which predictions are underlined. */
export const FLAG_TRIGGER_HIGH = 80;
/** Send interval (ms) at or below which underlining stops. */
export const FLAG_TRIGGER_LOW = 50;
/** A prediction pending this long (ms) is a glitch: show predictions. */
export const GLITCH_THRESHOLD = 250;
/** A prediction pending this long (ms) is a big glitch: show and underline. */
export const GLITCH_FLAG_THRESHOLD = 5000;
/** Quick confirmations needed to repair a glitch. */
export const GLITCH_REPAIR_COUNT = 10;
/** At most one glitch repair step per this many ms. */
export const GLITCH_REPAIR_MININTERVAL = 150;
/** Wake-up interval (ms) while timing triggers are still armed. */
export const PREDICTION_WAKE_INTERVAL = 50;

/** The display mode and timing triggers of one prediction engine. */
export class PredictionTriggers {
  /** Display mode. */
  readonly mode: PredictionMode;
  #srttTrigger = false;
  #flagging = false;
  #glitchTrigger = 0;
  #lastQuickConfirmation = 0;

  /** Triggers for `mode`; an unknown mode throws mosh-client's message. */
  constructor(mode: PredictionMode) {
    if (!PREDICTION_MODES.includes(mode)) {
      throw new Error(`Unknown prediction mode ${mode}.`);
    }
    this.mode = mode;
  }

  /** The glitch trigger: 0, up to 10 (show predictions), or 20 (show and underline). */
  get glitchTrigger(): number {
    return this.#glitchTrigger;
  }

  /** Whether drawn predictions are underlined. */
  get flagging(): boolean {
    return this.#flagging;
  }

  /** Whether predictions are drawn at all. */
  get showing(): boolean {
    if (this.mode === "adaptive") return this.#srttTrigger || this.#glitchTrigger > 0;
    return this.mode !== "never";
  }

  /**
   * Updates the send-interval triggers before the predictions are judged; `active` tells
   * whether any prediction is pending (asked only when it matters).
   */
  update(sendInterval: number, active: () => boolean): void {
    if (sendInterval > SRTT_TRIGGER_HIGH) {
      this.#srttTrigger = true;
    } else if (this.#srttTrigger && sendInterval <= SRTT_TRIGGER_LOW && !active()) {
      this.#srttTrigger = false;
    }
    if (sendInterval > FLAG_TRIGGER_HIGH) this.#flagging = true;
    else if (sendInterval <= FLAG_TRIGGER_LOW) this.#flagging = false;
    if (this.#glitchTrigger > GLITCH_REPAIR_COUNT) this.#flagging = true;
  }

  /** A prediction made at `time` was confirmed at `now`: a quick one repairs the glitch a step. */
  confirmed(time: number, now: number): void {
    if (
      now - time < GLITCH_THRESHOLD && this.#glitchTrigger > 0 &&
      now - GLITCH_REPAIR_MININTERVAL >= this.#lastQuickConfirmation
    ) {
      this.#glitchTrigger--;
      this.#lastQuickConfirmation = now;
    }
  }

  /** A prediction made at `time` is still pending at `now`: a long wait is a glitch. */
  pending(time: number, now: number): void {
    const age = now - time;
    if (age >= GLITCH_FLAG_THRESHOLD) {
      this.#glitchTrigger = GLITCH_REPAIR_COUNT * 2;
    } else if (age >= GLITCH_THRESHOLD && this.#glitchTrigger < GLITCH_REPAIR_COUNT) {
      this.#glitchTrigger = GLITCH_REPAIR_COUNT;
    }
  }

  /**
   * Milliseconds until the engine wants to be judged again: 50 while predictions are `active`
   * and the timing triggers have not all fired, otherwise Infinity.
   */
  waitTime(active: () => boolean): number {
    if (this.mode === "never") return Infinity;
    const timingTestsNecessary = !(this.#glitchTrigger > 0 && this.#flagging);
    return timingTestsNecessary && active() ? PREDICTION_WAKE_INTERVAL : Infinity;
  }
}

/**
 * The host-output parser: a UTF-8 decoder feeding Paul Williams' DEC/ANSI state machine
 * (docs/PROTOCOL.md §9.1 "Input decoding" and §9.2 "State machine"), with mosh 1.4.0's rules.
 *
 * Decoding follows glibc's `mbrtowc` as mosh drives it: a lead byte C2-DF, E0-EF, F0-F7, F8-FB or
 * FC-FD announces 2 to 6 bytes; any other byte from 0x80 up is invalid on its own. A byte that
 * breaks a sequence yields U+FFFD and is then parsed afresh; an overlong form or a surrogate is
 * only detected when the sequence completes, and then its last byte (a lone continuation byte) is
 * parsed afresh too, giving a second U+FFFD. Values above U+10FFFF become one U+FFFD. Raw bytes
 * 0x80-0x9F are therefore invalid; C1 controls exist only as the code points U+0080-U+009F.
 *
 * The state machine is a transition table in a typed array, indexed by state and input class
 * (the code point itself below 0xA0; code points from 0xA0 up act as `A`). Each entry packs the
 * action, a transition flag and the next state; entry and exit actions (clear on entering
 * Escape, CSI entry and DCS entry, OSC start and end) run only on a transition. Runs of printable
 * ASCII in the ground state skip the machine and go to `printAscii` in one call.
 *
 * Parameters follow mosh: the parameter string keeps its first 100 characters; each value is
 * decimal, and an empty field or a value above 65535 is reported as -1 ("default"). A private
 * marker after a parameter sends the sequence to CSI ignore. A `:` makes the sequence one that
 * C mosh ignores too (its CSI ignore state), so `csiDispatch` never sees it; beyond mosh, the
 * parser keeps reading its parameters (each one marked when a `:` came before it) and hands the
 * complete sequence to `csiSubDispatch`, which only the extended attributes layer reads
 * (lib/sgr.ts). DCS, SOS, PM and APC
 * contents are parsed and discarded. OSC keeps characters 0x20-0x7F and code points from 0xA0
 * up, at most OSC_BUFFER_LENGTH of them (C keeps 16384; the emulator cuts), and ends on BEL, ST (U+009C), or any transition out of the OSC
 * state (so `ESC \` ends it, and the `\` is an ignored escape sequence).
 *
 * The parser knows nothing about screens: it calls a `ParserHandler`, like alacritty's `vte`.
 */

/** What the parser calls; implemented by the terminal emulator. */
export interface ParserHandler {
  /** A printable code point in the ground state (0x7F and everything from 0xA0 up included). */
  print(cp: number): void;
  /** A run of printable ASCII (0x20-0x7E): `data[start..end)`, at least one byte. */
  printAscii(data: Uint8Array, start: number, end: number): void;
  /** A C0 control (0x00-0x1F) or a C1 control code point (0x80-0x9F) to execute. */
  execute(code: number): void;
  /**
   * A complete control sequence. `params[0..count)` holds the values (-1 = default: empty or
   * above 65535); `collected` packs the private marker and intermediates (see `packCollected`);
   * `final` is the final byte.
   */
  csiDispatch(params: Int32Array, count: number, collected: number, final: number): void;
  /**
   * Beyond mosh: a control sequence with `:` sub-parameters, which mosh's emulator ignores as a
   * whole. `params` as for `csiDispatch`; `sub[i]` is 1 when a `:` (not a `;`) came before
   * parameter i. A private marker or an intermediate after the first `:` drops the sequence.
   */
  csiSubDispatch(
    params: Int32Array,
    sub: Uint8Array,
    count: number,
    collected: number,
    final: number,
  ): void;
  /** An escape sequence: `collected` packs its intermediates; `final` is a code point. */
  escDispatch(collected: number, final: number): void;
  /** The end of an OSC string: the code points `data[0..length)`. */
  oscEnd(data: Uint32Array, length: number): void;
}

/** Parser states (§9.2). */
export const enum State {
  Ground = 0,
  Escape = 1,
  EscapeIntermediate = 2,
  CsiEntry = 3,
  CsiParam = 4,
  CsiIntermediate = 5,
  CsiIgnore = 6,
  DcsEntry = 7,
  DcsParam = 8,
  DcsIntermediate = 9,
  DcsPassthrough = 10,
  DcsIgnore = 11,
  OscString = 12,
  SosPmApcString = 13,
  /** Beyond mosh: a CSI after its first `:` (mosh's CSI ignore, with parameters kept). */
  CsiSub = 14,
}

/** Maximum number of characters kept from a parameter string (mosh's limit). */
export const MAX_PARAM_CHARS = 100;
/** Largest parameter value; anything above is "default". */
export const MAX_PARAM_VALUE = 65535;
/** C mosh's limit on an OSC string, in code points: what a C peer keeps of one (§9.2). */
export const MAX_OSC_LENGTH = 16384;
/**
 * Code points collected from one OSC string here (beyond mosh): room for a 192 KiB clipboard copy
 * for our own client (lib/terminal_events.ts). Every C-visible use of an OSC string cuts it to
 * what C keeps (titles to 256, the clipboard to MAX_OSC_LENGTH - 5), so a C peer sees no change.
 */
export const OSC_BUFFER_LENGTH = 1 << 18;
/** `collected` value of a sequence with more than three collected characters. */
export const COLLECTED_OVERFLOW = 0xffffff;

/**
 * The `collected` value for the given private marker / intermediate characters, for comparing
 * against what `csiDispatch` and `escDispatch` receive: char 0 in bits 0-7, char 1 in bits 8-15,
 * char 2 in bits 16-23; "" is 0; more than three characters give COLLECTED_OVERFLOW.
 */
export function packCollected(chars: string): number {
  if (chars.length > 3) return COLLECTED_OVERFLOW;
  let v = 0;
  for (let i = 0; i < chars.length; i++) v |= (chars.charCodeAt(i) & 0xff) << (8 * i);
  return v;
}

const CLASSES = 0xa0; // input classes: code points 0x00-0x9F; 0xA0 and above use 0x41
const TRANSITION = 0x10;
const ACTION_SHIFT = 5;

const enum Action {
  None = 0,
  Print = 1,
  Execute = 2,
  Collect = 3,
  Param = 4,
  EscDispatch = 5,
  CsiDispatch = 6,
  OscPut = 7,
  SubParam = 8,
  CsiSubDispatch = 9,
}

/** C0 controls that a state executes (or ignores): all but CAN, SUB and ESC. */
function isC0(c: number): boolean {
  return c <= 0x17 || c === 0x19 || (c >= 0x1c && c <= 0x1f);
}

/** [action, next state or -1 for none] for one state and input class. */
function rule(s: State, c: number): [Action, number] {
  // "Anywhere" transitions come first in every state.
  if (
    c === 0x18 || c === 0x1a || (c >= 0x80 && c <= 0x8f) || (c >= 0x91 && c <= 0x97) ||
    c === 0x99 || c === 0x9a
  ) return [Action.Execute, State.Ground];
  if (c === 0x9c) return [Action.None, State.Ground];
  if (c === 0x1b) return [Action.None, State.Escape];
  if (c === 0x98 || c === 0x9e || c === 0x9f) return [Action.None, State.SosPmApcString];
  if (c === 0x90) return [Action.None, State.DcsEntry];
  if (c === 0x9d) return [Action.None, State.OscString];
  if (c === 0x9b) return [Action.None, State.CsiEntry];

  const none: [Action, number] = [Action.None, -1];
  const digitOrSemi = (c >= 0x30 && c <= 0x39) || c === 0x3b;
  const final = c >= 0x40 && c <= 0x7e;
  switch (s) {
    case State.Ground:
      if (isC0(c)) return [Action.Execute, -1];
      if (c >= 0x20 && c <= 0x7f) return [Action.Print, -1];
      return none;
    case State.Escape:
      if (isC0(c)) return [Action.Execute, -1];
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, State.EscapeIntermediate];
      if (c === 0x5b) return [Action.None, State.CsiEntry];
      if (c === 0x5d) return [Action.None, State.OscString];
      if (c === 0x50) return [Action.None, State.DcsEntry];
      if (c === 0x58 || c === 0x5e || c === 0x5f) return [Action.None, State.SosPmApcString];
      if (c >= 0x30 && c <= 0x7e) return [Action.EscDispatch, State.Ground];
      return none;
    case State.EscapeIntermediate:
      if (isC0(c)) return [Action.Execute, -1];
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, -1];
      if (c >= 0x30 && c <= 0x7e) return [Action.EscDispatch, State.Ground];
      return none;
    case State.CsiEntry:
      if (isC0(c)) return [Action.Execute, -1];
      if (final) return [Action.CsiDispatch, State.Ground];
      if (digitOrSemi) return [Action.Param, State.CsiParam];
      if (c >= 0x3c && c <= 0x3f) return [Action.Collect, State.CsiParam];
      if (c === 0x3a) return [Action.SubParam, State.CsiSub];
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, State.CsiIntermediate];
      return none;
    case State.CsiParam:
      if (isC0(c)) return [Action.Execute, -1];
      if (digitOrSemi) return [Action.Param, -1];
      if (c === 0x3a) return [Action.SubParam, State.CsiSub];
      if (c >= 0x3c && c <= 0x3f) return [Action.None, State.CsiIgnore];
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, State.CsiIntermediate];
      if (final) return [Action.CsiDispatch, State.Ground];
      return none;
    case State.CsiSub: // mosh's CSI ignore; the parameters are kept for csiSubDispatch
      if (isC0(c)) return [Action.Execute, -1];
      if (digitOrSemi || c === 0x3a) return [Action.SubParam, -1];
      if (final) return [Action.CsiSubDispatch, State.Ground];
      if (c >= 0x20 && c <= 0x3f) return [Action.None, State.CsiIgnore];
      return none;
    case State.CsiIntermediate:
      if (isC0(c)) return [Action.Execute, -1];
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, -1];
      if (final) return [Action.CsiDispatch, State.Ground];
      if (c >= 0x30 && c <= 0x3f) return [Action.None, State.CsiIgnore];
      return none;
    case State.CsiIgnore:
      if (isC0(c)) return [Action.Execute, -1];
      if (final) return [Action.None, State.Ground];
      return none;
    case State.DcsEntry:
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, State.DcsIntermediate];
      if (c === 0x3a) return [Action.None, State.DcsIgnore];
      if (digitOrSemi) return [Action.Param, State.DcsParam];
      if (c >= 0x3c && c <= 0x3f) return [Action.Collect, State.DcsParam];
      if (final) return [Action.None, State.DcsPassthrough];
      return none;
    case State.DcsParam:
      if (digitOrSemi) return [Action.Param, -1];
      if (c === 0x3a || (c >= 0x3c && c <= 0x3f)) return [Action.None, State.DcsIgnore];
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, State.DcsIntermediate];
      if (final) return [Action.None, State.DcsPassthrough];
      return none;
    case State.DcsIntermediate:
      if (c >= 0x20 && c <= 0x2f) return [Action.Collect, -1];
      if (c >= 0x30 && c <= 0x3f) return [Action.None, State.DcsIgnore];
      if (final) return [Action.None, State.DcsPassthrough];
      return none;
    case State.OscString:
      if (c >= 0x20 && c <= 0x7f) return [Action.OscPut, -1];
      if (c === 0x07) return [Action.None, State.Ground];
      return none;
    default: // DCS passthrough and ignore, SOS/PM/APC: contents are discarded
      return none;
  }
}

const STATES = 15;

/** TABLE[state * CLASSES + class] = action << 5 | TRANSITION? | next state. */
const TABLE = (() => {
  const t = new Uint16Array(STATES * CLASSES);
  for (let s = 0; s < STATES; s++) {
    for (let c = 0; c < CLASSES; c++) {
      const [action, next] = rule(s, c);
      t[s * CLASSES + c] = (action << ACTION_SHIFT) | (next < 0 ? s : TRANSITION | next);
    }
  }
  return t;
})();

/**
 * The DEC/ANSI parser. Feed it host output with `parse`; it calls its handler. It holds the
 * partial UTF-8 sequence and the machine state between calls, so input may be split anywhere.
 */
export class Parser {
  /** The handler the parser calls. */
  handler: ParserHandler;
  /** Current state of the machine. */
  state: State = State.Ground;
  /** Parameter values collected so far; valid up to the count given to `csiDispatch`. */
  readonly params = new Int32Array(MAX_PARAM_CHARS + 1);
  /** `sub[i]` is 1 when a `:` came before parameter i (valid in `csiSubDispatch` only). */
  readonly sub = new Uint8Array(MAX_PARAM_CHARS + 1);
  private subNext = 0; // the parameter being read follows a `:`
  private paramCount = 0;
  private paramValue = -1; // the field being read; -1 while empty
  private paramChars = 0;
  private collected = 0;
  private collectedCount = 0;
  private osc = new Uint32Array(64); // grows up to OSC_BUFFER_LENGTH as needed
  private oscLength = 0;
  // UTF-8 sequence in progress: continuation bytes still needed, value so far, smallest value.
  private utf8Need = 0;
  private utf8Value = 0;
  private utf8Min = 0;

  /** @param handler receives the parsed actions */
  constructor(handler: ParserHandler) {
    this.handler = handler;
  }

  /** Copies the complete parsing state (machine, parameters, OSC, UTF-8) from `other`. */
  copyStateFrom(other: Parser): void {
    this.state = other.state;
    this.params.set(other.params);
    this.sub.set(other.sub);
    this.subNext = other.subNext;
    this.paramCount = other.paramCount;
    this.paramValue = other.paramValue;
    this.paramChars = other.paramChars;
    this.collected = other.collected;
    this.collectedCount = other.collectedCount;
    if (this.osc.length < other.oscLength) this.osc = new Uint32Array(other.osc.length);
    this.osc.set(other.osc.subarray(0, other.oscLength));
    this.oscLength = other.oscLength;
    this.utf8Need = other.utf8Need;
    this.utf8Value = other.utf8Value;
    this.utf8Min = other.utf8Min;
  }

  /** Back to the ground state with no partial UTF-8 sequence. */
  reset(): void {
    this.state = State.Ground;
    this.utf8Need = 0;
    this.clear();
    this.oscLength = 0;
  }

  /** Parses `data[start..end)`. */
  parse(data: Uint8Array, start = 0, end = data.length): void {
    let i = start;
    while (i < end) {
      const b = data[i];
      if (this.utf8Need !== 0) {
        if ((b & 0xc0) === 0x80) {
          i++;
          const v = this.utf8Value * 64 + (b & 0x3f);
          if (--this.utf8Need !== 0) {
            this.utf8Value = v;
          } else if (v < this.utf8Min || (v >= 0xd800 && v <= 0xdfff)) {
            // glibc rejects the completed sequence; mosh re-parses its last byte alone.
            this.input(0xfffd);
            this.input(0xfffd);
          } else {
            this.input(v > 0x10ffff ? 0xfffd : v);
          }
          continue;
        }
        // Not a continuation byte: the sequence is invalid; parse this byte afresh.
        this.utf8Need = 0;
        this.input(0xfffd);
      }
      if (b < 0x80) {
        if (this.state === State.Ground && b >= 0x20 && b < 0x7f) {
          let j = i + 1;
          while (j < end) {
            const c = data[j];
            if (c < 0x20 || c >= 0x7f) break;
            j++;
          }
          this.handler.printAscii(data, i, j);
          i = j;
        } else {
          this.input(b);
          i++;
        }
        continue;
      }
      i++;
      if (b >= 0xc2 && b <= 0xdf) this.startUtf8(1, b & 0x1f, 0x80);
      else if (b >= 0xe0 && b <= 0xef) this.startUtf8(2, b & 0x0f, 0x800);
      else if (b >= 0xf0 && b <= 0xf7) this.startUtf8(3, b & 0x07, 0x10000);
      else if (b >= 0xf8 && b <= 0xfb) this.startUtf8(4, b & 0x03, 0x200000);
      else if (b >= 0xfc && b <= 0xfd) this.startUtf8(5, b & 0x01, 0x4000000);
      else this.input(0xfffd); // 0x80-0xC1, 0xFE, 0xFF
    }
  }

  private startUtf8(need: number, value: number, min: number): void {
    this.utf8Need = need;
    this.utf8Value = value;
    this.utf8Min = min;
  }

  /** Runs one decoded code point through the state machine. */
  input(cp: number): void {
    const state = this.state;
    const entry = TABLE[state * CLASSES + (cp < CLASSES ? cp : 0x41)];
    const transition = (entry & TRANSITION) !== 0;
    if (transition && state === State.OscString) this.handler.oscEnd(this.osc, this.oscLength);
    switch (entry >> ACTION_SHIFT) {
      case Action.None:
        break;
      case Action.Print:
        this.handler.print(cp);
        break;
      case Action.Execute:
        this.handler.execute(cp);
        break;
      case Action.Collect:
        // Collected characters are 0x20-0x3F; mosh keeps at most 8 of them.
        if (this.collectedCount < 3) this.collected |= cp << (8 * this.collectedCount);
        else this.collected = COLLECTED_OVERFLOW;
        if (this.collectedCount < 8) this.collectedCount++;
        break;
      case Action.Param:
        if (this.paramChars < MAX_PARAM_CHARS) {
          this.paramChars++;
          if (cp === 0x3b) {
            this.params[this.paramCount++] = this.paramValue > MAX_PARAM_VALUE
              ? -1
              : this.paramValue;
            this.paramValue = -1;
          } else if (this.paramValue < 0) {
            this.paramValue = cp - 0x30;
          } else if (this.paramValue <= MAX_PARAM_VALUE) {
            this.paramValue = this.paramValue * 10 + (cp - 0x30);
          }
        }
        break;
      case Action.SubParam:
        this.subParam(cp);
        break;
      case Action.CsiSubDispatch: {
        const n = this.paramCount;
        this.params[n] = this.paramValue > MAX_PARAM_VALUE ? -1 : this.paramValue;
        this.sub[n] = this.subNext;
        this.handler.csiSubDispatch(this.params, this.sub, n + 1, this.collected, cp);
        break;
      }
      case Action.EscDispatch:
        this.handler.escDispatch(this.collected, cp);
        break;
      case Action.CsiDispatch: {
        const n = this.paramCount;
        this.params[n] = this.paramValue > MAX_PARAM_VALUE ? -1 : this.paramValue;
        this.handler.csiDispatch(this.params, n + 1, this.collected, cp);
        break;
      }
      case Action.OscPut:
        if (this.oscLength === this.osc.length && this.oscLength < OSC_BUFFER_LENGTH) {
          const bigger = new Uint32Array(Math.min(this.osc.length * 4, OSC_BUFFER_LENGTH));
          bigger.set(this.osc);
          this.osc = bigger;
        }
        if (this.oscLength < OSC_BUFFER_LENGTH) this.osc[this.oscLength++] = cp;
        break;
    }
    if (transition) {
      const next = entry & 0xf;
      if (next === State.Escape || next === State.CsiEntry || next === State.DcsEntry) {
        this.clear();
      } else if (next === State.OscString) {
        this.oscLength = 0;
      }
      this.state = next;
    }
  }

  /** A parameter character of a sequence with sub-parameters (`:` included), mosh's limit kept. */
  private subParam(cp: number): void {
    if (this.state !== State.CsiSub) this.sub.fill(0, 0, this.paramCount + 1); // the first `:`
    if (this.paramChars >= MAX_PARAM_CHARS) return;
    this.paramChars++;
    if (cp === 0x3b || cp === 0x3a) {
      const n = this.paramCount++;
      this.params[n] = this.paramValue > MAX_PARAM_VALUE ? -1 : this.paramValue;
      this.sub[n] = this.subNext;
      this.subNext = cp === 0x3a ? 1 : 0;
      this.paramValue = -1;
    } else if (this.paramValue < 0) {
      this.paramValue = cp - 0x30;
    } else if (this.paramValue <= MAX_PARAM_VALUE) {
      this.paramValue = this.paramValue * 10 + (cp - 0x30);
    }
  }

  private clear(): void {
    this.subNext = 0;
    this.paramCount = 0;
    this.paramValue = -1;
    this.paramChars = 0;
    this.collected = 0;
    this.collectedCount = 0;
  }
}

/**
 * The terminal emulator: mosh 1.4.0's `Terminal::Emulator` on our framebuffer rows
 * (docs/PROTOCOL.md §9.3 "Dispatch tables", §9.4 "Printing", §9.5 resize, §9.6 "User-input
 * translation").
 *
 * `Terminal` implements the parser's handler (lib/parser.ts) on a `Screen` (lib/screen.ts: rows,
 * cursor, pen and their edits): the dispatch of controls, escape and control sequences, the modes,
 * the saved cursor, OSC strings (lib/osc.ts), SGR (lib/sgr.ts), and immutable snapshots of the
 * screen (`Framebuffer`). Its semantics are mosh's, not xterm's, because the server computes every
 * screen diff against its copy of the client's screen (§6.2 "Interop consequence"). Beyond mosh,
 * the alternate screen (DECSET 47, 1047, 1049) is kept, so a full-screen program gives the shell's
 * screen back on exit; it only changes what the server's screen shows, never the protocol.
 *
 * `snapshot()` marks every row shared (copy-on-write, lib/framebuffer.ts) and is cached until the
 * terminal changes.
 */

import { Framebuffer, type MouseEncoding, type MouseReporting } from "./framebuffer.ts";
import {
  clipboardText,
  codePointsToString,
  hyperlink,
  isClipboard,
  isEvent,
  titleCommand,
} from "./osc.ts";
import { packCollected, Parser, type ParserHandler } from "./parser.ts";
import { HOME, type SavedCursor, Screen } from "./screen.ts";

export { MAX_DIMENSION, type ScrollbackSink } from "./screen.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

const Q = 0x3f; // '?'
const GT = 0x3e; // '>'
const BANG = 0x21; // '!'
const HASH = 0x23; // '#'
const Q_DOLLAR = packCollected("?$"); // DECRQM for DEC private modes
const SPACE = packCollected(" "); // DECSCUSR

/** The terminal `clone` copies while it constructs the copy (null: a new blank terminal). */
let cloning: Terminal | null = null;

/** DEC private mode of synchronized output (beyond mosh, §9.3). */
const SYNCHRONIZED_OUTPUT = 2026;

/**
 * A terminal screen driven by host output. Every function of mosh 1.4.0's emulator (§9.3) with
 * its exact semantics, plus the alternate screen.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const t = new Terminal(80, 24);
 * t.write("hello\r\n\x1b[1;31mred");
 * const reply = t.write("\x1b[6n"); // DSR: where is the cursor?
 * assert.equal(new TextDecoder().decode(reply), "\x1b[2;4R");
 * assert.equal(t.screenText().split("\n")[1].trimEnd(), "red");
 * ```
 */
export class Terminal extends Screen implements ParserHandler {
  private parser: Parser;
  private saved: SavedCursor = HOME;
  private cursorVisible = true;
  private reverseVideo = false;
  private bracketedPaste = false;
  private mouseReporting: MouseReporting = 0;
  private mouseFocus = false;
  private mouseAlternateScroll = false;
  private mouseEncoding: MouseEncoding = 0;
  private appCursorKeys = false;

  // Framebuffer-level state.
  private windowTitle = "";
  private iconName = "";
  private titleInitialized = false;
  private clipboard = "";
  private bells = 0;

  // Alternate screen (beyond mosh): the cursor DECSET 1049 saved.
  private altSaved: SavedCursor | null = null;

  // Synchronized output (DECSET 2026, beyond mosh): a frozen copy taken when the update began.
  private syncHeld: Terminal | null = null;
  // Beyond mosh, never part of the framebuffer a C peer gets: DECSCUSR and the event sink.
  private cursorStyle = 0;
  private sink: ((osc: string) => void) | null = null;

  private reply = "";
  private params: Int32Array = new Int32Array(0);
  private paramCount = 0;
  /** State of the user-input translation (§9.6): 0 ground, 1 after ESC, 2 after ESC O. */
  private inputState = 0;
  private snap: Framebuffer | null = null;

  /**
   * A blank screen.
   * @param cols width in columns (1..65535)
   * @param rows height in rows (1..65535)
   */
  constructor(cols: number, rows: number) {
    const source = cloning;
    super(cols, rows, source !== null);
    if (source === null) {
      this.parser = new Parser(this);
      return;
    }
    // A copy: every field is defined by now, so assigning them keeps this object's shape (one
    // hidden class for every Terminal; an object built by Object.create + Object.assign went to
    // slow dictionary properties, and the emulator ran 4x slower on it).
    Object.assign(this, source);
    this.scrollback = null;
    this.pen = source.pen.copy();
    this.sink = null;
    for (const r of source.rows) r.shared = true;
    this.rows = source.rows.slice();
    if (source.mainRows) {
      for (const r of source.mainRows) r.shared = true;
      this.mainRows = source.mainRows.slice();
    }
    this.tabs = source.tabs.slice();
    this.parser = new Parser(this);
    this.parser.copyStateFrom(source.parser);
  }

  /** Width in columns. */
  get width(): number {
    return this.w;
  }

  /** Height in rows. */
  get height(): number {
    return this.h;
  }

  /** True when the host application enabled DECCKM (DECSET 1). */
  get applicationCursorKeys(): boolean {
    return this.appCursorKeys;
  }

  /** Number of BEL characters received (kept across RIS). */
  get bellCount(): number {
    return this.bells;
  }

  /** Cursor row, 0-based. */
  get cursorY(): number {
    return this.cursorRow;
  }

  /** Cursor column, 0-based. */
  get cursorX(): number {
    return this.cursorCol;
  }

  /** True when the next printed character wraps to the next line first. */
  get nextPrintWillWrap(): boolean {
    return this.wrapPending;
  }

  /** True while the alternate screen (DECSET 47/1047/1049) is shown. */
  get alternateScreen(): boolean {
    return this.mainRows !== null;
  }

  /**
   * While the application holds a synchronized update (DECSET 2026 until DECRST 2026, RIS or
   * `endSynchronizedUpdate`), a frozen copy of the terminal as it was when the update began; else
   * null. The copy is never written to; a resize resizes a fresh copy of it.
   */
  get synchronizedUpdate(): Terminal | null {
    return this.syncHeld;
  }

  /** Ends a synchronized update as if the application had reset mode 2026 (the server's bound). */
  endSynchronizedUpdate(): void {
    this.syncHeld = null;
  }

  /** The cursor style of DECSCUSR (`CSI Ps SP q`), 0-6; 0 is the terminal's default. */
  get cursorShape(): number {
    return this.cursorStyle;
  }

  /**
   * Where notifications and clipboard copies go as events (OSC 9, OSC 777 `notify`, OSC 52 except
   * queries), as their OSC string without the introducer and terminator; null for none. The
   * server sets it for a client that takes events (lib/terminal_events.ts); RIS keeps it.
   */
  set eventSink(sink: ((osc: string) => void) | null) {
    this.sink = sink;
  }

  /** Scrolling region as [top, bottom], 0-based and inclusive. */
  get scrollingRegion(): [number, number] {
    return [this.top, this.bottom];
  }

  /**
   * Feeds host output (bytes, or a string sent as UTF-8) to the emulator.
   * @returns the replies to the host (DA, DSR), or a shared empty array when there are none
   */
  write(data: Uint8Array | string): Uint8Array {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (bytes.length === 0) return EMPTY;
    this.snap = null;
    this.parser.parse(bytes);
    if (this.reply === "") return EMPTY;
    const out = encoder.encode(this.reply);
    this.reply = "";
    return out;
  }

  /**
   * Resizes the screen as mosh does (§9.5): rows are kept from the top, new rows are blank, the
   * wrap flag of every row is cleared when the width changes, the scrolling region is reset, the
   * cursor is clamped and default tab stops are extended.
   */
  resize(cols: number, rows: number): void {
    if (!this.resizeScreen(cols, rows)) return;
    this.snap = null;
    if (this.syncHeld) {
      const held = this.syncHeld.clone(); // clones share the frozen copy: never resize it in place
      held.resize(cols, rows);
      this.syncHeld = held;
    }
  }

  /**
   * The screen now, as an immutable framebuffer. Cheap: the same object is returned until the
   * terminal changes, and rows are shared copy-on-write.
   */
  snapshot(): Framebuffer {
    if (this.snap) return this.snap;
    const rows = this.rows;
    for (let y = 0; y < rows.length; y++) rows[y].shared = true;
    this.snap = new Framebuffer({
      width: this.w,
      height: this.h,
      rows: rows.slice(),
      cursorRow: this.cursorRow,
      cursorCol: this.cursorCol,
      cursorVisible: this.cursorVisible,
      reverseVideo: this.reverseVideo,
      fg: this.pen.fg,
      bg: this.pen.bg,
      attrs: this.pen.attrs,
      bracketedPaste: this.bracketedPaste,
      mouseReporting: this.mouseReporting,
      mouseFocus: this.mouseFocus,
      mouseAlternateScroll: this.mouseAlternateScroll,
      mouseEncoding: this.mouseEncoding,
      applicationCursorKeys: this.appCursorKeys,
      windowTitle: this.windowTitle,
      iconName: this.iconName,
      titleInitialized: this.titleInitialized,
      clipboard: this.clipboard,
      bellCount: this.bells,
    });
    return this.snap;
  }

  /**
   * `this.snapshot().equals(fb, ext)` without taking a snapshot. A snapshot marks every row shared,
   * so that the next write to each row copies it first; the server's transport compares its live
   * state with its sent states on every pass of its loop (lib/transport.ts), and taking a
   * snapshot there made a flood copy up to a screenful of rows per pty read.
   */
  sameScreen(fb: Framebuffer, ext = false): boolean {
    if (this.snap) return this.snap.equals(fb, ext);
    const pen = this.pen;
    if (
      this.w !== fb.width || this.h !== fb.height || this.cursorRow !== fb.cursorRow ||
      this.cursorCol !== fb.cursorCol || this.cursorVisible !== fb.cursorVisible ||
      this.reverseVideo !== fb.reverseVideo || pen.fg !== fb.fg || pen.bg !== fb.bg ||
      pen.attrs !== fb.attrs || this.bracketedPaste !== fb.bracketedPaste ||
      this.mouseReporting !== fb.mouseReporting || this.mouseFocus !== fb.mouseFocus ||
      this.mouseAlternateScroll !== fb.mouseAlternateScroll ||
      this.mouseEncoding !== fb.mouseEncoding || this.windowTitle !== fb.windowTitle ||
      this.clipboard !== fb.clipboard || this.bells !== fb.bellCount
    ) return false;
    const rows = this.rows;
    for (let y = 0; y < this.h; y++) if (!rows[y].equals(fb.rows[y], ext)) return false;
    return true;
  }

  /** The screen as text (see `Framebuffer.screenText`): rows, then `cursor <row> <col>`. */
  screenText(): string {
    return this.snapshot().screenText();
  }

  /**
   * An independent copy, including the parser's and the input translator's state; without the
   * scrollback and the event sink, which belong to the session's own terminal.
   */
  clone(): Terminal {
    cloning = this;
    try {
      return new Terminal(this.w, this.h);
    } finally {
      cloning = null;
    }
  }

  /**
   * Translates the user's keystrokes for the host (§9.6): the client keeps the real terminal in
   * application cursor mode, so unless the host application enabled DECCKM, `ESC O A`-`D`
   * becomes `ESC [ A`-`D`. The three-state machine persists across calls, so the `O` of a split
   * `ESC O` is held back until the next byte arrives.
   */
  translateUserInput(bytes: Uint8Array): Uint8Array {
    const out = new Uint8Array(bytes.length + 1);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.inputState === 0) {
        if (b === 0x1b) this.inputState = 1;
        out[n++] = b;
      } else if (this.inputState === 1) {
        if (b === 0x4f) {
          this.inputState = 2;
        } else {
          this.inputState = 0;
          out[n++] = b;
        }
      } else {
        this.inputState = 0;
        out[n++] = !this.appCursorKeys && b >= 0x41 && b <= 0x44 ? 0x5b : 0x4f;
        out[n++] = b;
      }
    }
    return out.subarray(0, n);
  }

  // ---------------------------------------------------------------- controls (§9.3)

  /** @internal Parser handler: a C0 or C1 control. */
  execute(code: number): void {
    switch (code) {
      case 0x07: // BEL
        this.wrapPending = false;
        this.bells++;
        break;
      case 0x08: // BS
        this.moveCol(-1, true);
        break;
      case 0x09: // HT
        this.tab(1, true);
        break;
      case 0x0a: // LF
      case 0x0b: // VT
      case 0x0c: // FF
      case 0x84: // IND
        this.lineFeed(1);
        break;
      case 0x0d: // CR
        this.moveCol(0, false);
        break;
      case 0x85: // NEL
        this.moveCol(0, false);
        this.lineFeed(1);
        break;
      case 0x88: // HTS
        this.wrapPending = false;
        this.tabs[this.cursorCol] = 1;
        break;
      case 0x8d: // RI
        this.lineFeed(-1);
        break;
      default:
        this.wrapPending = false;
    }
  }

  /** @internal Parser handler: an escape sequence. */
  escDispatch(collected: number, final: number): void {
    if (collected === 0 && final >= 0x40 && final <= 0x5f) {
      this.execute(final + 0x40); // 7-bit form of a C1 control
      return;
    }
    this.wrapPending = false;
    if (collected === 0) {
      if (final === 0x37) this.saved = this.saveCursor(); // DECSC
      else if (final === 0x38) this.restoreCursor(this.saved); // DECRC
      else if (final === 0x63) this.fullReset(); // RIS
    } else if (collected === HASH && final === 0x38) {
      this.alignmentTest();
    }
  }

  /** RIS: a new drawing state and blank rows; title and clipboard cleared; bells kept. */
  private fullReset(): void {
    const keep = { bells: this.bells, iconName: this.iconName, title: this.titleInitialized };
    const fresh = new Terminal(this.w, this.h);
    const parser = this.parser, reply = this.reply, inputState = this.inputState, sink = this.sink;
    Object.assign(this, fresh);
    this.sink = sink;
    this.parser = parser;
    this.reply = reply;
    this.inputState = inputState;
    this.bells = keep.bells;
    this.iconName = keep.iconName;
    this.titleInitialized = keep.title;
  }

  /** @internal Parser handler: a control sequence. */
  csiDispatch(params: Int32Array, count: number, collected: number, final: number): void {
    this.params = params;
    this.paramCount = count;
    if (collected === 0) {
      switch (final) {
        case 0x6d: // SGR keeps the pending wrap
          this.pen.sgr(params, count);
          return;
        case 0x49: // CHT
          this.tab(this.p(0, 1), true);
          return;
        case 0x5a: // CBT
          this.tab(this.p(0, 1), false);
          return;
        case 0x67: // TBC
          if (this.p(0, 0) === 0) {
            this.tabs[this.cursorCol] = 0;
          } else if (this.p(0, 0) === 3) {
            this.defaultTabs = false;
            this.tabs.fill(0);
          }
          return;
      }
      this.wrapPending = false;
      switch (final) {
        case 0x41: // CUU
          this.moveRow(-this.p(0, 1), true);
          break;
        case 0x42: // CUD
          this.moveRow(this.p(0, 1), true);
          break;
        case 0x43: // CUF
          this.moveCol(this.p(0, 1), true);
          break;
        case 0x44: // CUB
          this.moveCol(-this.p(0, 1), true);
          break;
        case 0x48: // CUP
        case 0x66: // HVP
          this.moveRow(this.p(0, 1) - 1, false);
          this.moveCol(this.p(1, 1) - 1, false);
          break;
        case 0x47: // CHA
        case 0x60: // HPA
          this.moveCol(this.p(0, 1) - 1, false);
          break;
        case 0x64: // VPA
          this.moveRow(this.p(0, 1) - 1, false);
          break;
        case 0x4a: // ED
          this.eraseDisplay(this.p(0, 0));
          break;
        case 0x4b: // EL
          this.eraseLine(this.p(0, 0));
          break;
        case 0x4c: // IL
          this.insertLines(this.cursorRow, this.p(0, 1));
          this.moveCol(0, false);
          break;
        case 0x4d: // DL
          this.deleteLines(this.cursorRow, this.p(0, 1));
          this.moveCol(0, false);
          break;
        case 0x40: // ICH
          this.insertCells(this.p(0, 1));
          break;
        case 0x50: // DCH
          this.deleteCells(this.p(0, 1));
          break;
        case 0x58: { // ECH
          const end = Math.min(this.cursorCol + this.p(0, 1) - 1, this.w - 1);
          this.clearCells(this.cursorRow, this.cursorCol, end);
          break;
        }
        case 0x53: // SU
          this.scroll(this.p(0, 1));
          break;
        case 0x54: // SD
          this.scroll(-this.p(0, 1));
          break;
        case 0x63: // DA
          this.reply += "\x1b[?62c";
          break;
        case 0x6e: // DSR
          if (this.p(0, 0) === 5) this.reply += "\x1b[0n";
          else if (this.p(0, 0) === 6) {
            this.reply += `\x1b[${this.cursorRow + 1};${this.cursorCol + 1}R`;
          }
          break;
        case 0x72: // DECSTBM
          this.setScrollingRegion(this.p(0, 1), this.p(1, this.h));
          break;
        case 0x68: // SM
        case 0x6c: // RM
          for (let i = 0; i < count; i++) if (this.p(i, 0) === 4) this.insertMode = final === 0x68;
          break;
      }
      return;
    }
    if (collected === Q && (final === 0x68 || final === 0x6c)) {
      for (let i = 0; i < count; i++) this.decMode(this.p(i, 0), final === 0x68);
      return;
    }
    this.wrapPending = false;
    if (collected === Q_DOLLAR && final === 0x70) {
      // DECRQM, answered for synchronized output only (C answers none): 1 set, 2 reset.
      if (this.p(0, 0) === SYNCHRONIZED_OUTPUT) {
        this.reply += `\x1b[?${SYNCHRONIZED_OUTPUT};${this.syncHeld ? 1 : 2}$y`;
      }
    } else if (collected === SPACE && final === 0x71) {
      if (this.paramCount <= 1 && this.p(0, 0) <= 6) this.cursorStyle = this.p(0, 0); // DECSCUSR
    } else if (collected === GT && final === 0x63) {
      this.reply += "\x1b[>1;10;0c"; // secondary DA
    } else if (collected === BANG && final === 0x70) {
      this.softReset();
    }
  }

  /** Parameter `i` of the sequence being dispatched, or `def` if missing, empty, 0 or > 65535. */
  private p(i: number, def: number): number {
    const v = i < this.paramCount ? this.params[i] : def;
    return v < 1 ? def : v;
  }

  /** DECSTR. */
  private softReset(): void {
    this.insertMode = false;
    this.originMode = false;
    this.cursorVisible = true;
    this.appCursorKeys = false;
    this.top = 0;
    this.bottom = this.h - 1;
    this.pen.reset();
    this.saved = HOME;
  }

  /** One DECSET (`on`) or DECRST parameter. */
  private decMode(mode: number, on: boolean): void {
    switch (mode) {
      case 1:
        this.appCursorKeys = on;
        break;
      case 3: // 80/132 columns: only clears the screen and homes the cursor
        this.moveRow(0, false);
        this.moveCol(0, false);
        for (let y = 0; y < this.h; y++) this.resetRowAt(y);
        break;
      case 5:
        this.reverseVideo = on;
        break;
      case 6: // homes the cursor (under the old mode), then sets origin mode
        this.moveRow(0, false);
        this.moveCol(0, false);
        this.originMode = on;
        break;
      case 7:
        this.autoWrap = on;
        break;
      case 25:
        this.cursorVisible = on;
        break;
      case 9:
      case 1000:
      case 1001:
      case 1002:
      case 1003:
        this.mouseReporting = on ? mode as MouseReporting : 0;
        break;
      case 1004:
        this.mouseFocus = on;
        break;
      case 1005:
      case 1006:
      case 1015:
        this.mouseEncoding = on ? mode as MouseEncoding : 0;
        break;
      case 1007:
        this.mouseAlternateScroll = on;
        break;
      case 2004:
        this.bracketedPaste = on;
        break;
      case SYNCHRONIZED_OUTPUT:
        if (on && !this.syncHeld) this.syncHeld = this.clone();
        else if (!on) this.syncHeld = null;
        break;
      case 47:
      case 1047:
      case 1049:
        this.alternate(on, mode === 1049);
        break;
    }
  }

  /** Switches to (`on`) or from the alternate screen; 1049 also saves/restores the cursor. */
  private alternate(on: boolean, withCursor: boolean): void {
    if (on) {
      if (withCursor) this.altSaved = this.saveCursor();
      if (this.mainRows) return;
      this.mainRows = this.rows;
      this.rows = [];
      for (let y = 0; y < this.h; y++) this.rows.push(this.newRow());
    } else {
      if (this.mainRows) {
        this.rows = this.mainRows;
        this.mainRows = null;
      }
      if (withCursor && this.altSaved) {
        this.restoreCursor(this.altSaved);
        this.wrapPending = false;
        this.altSaved = null;
      }
    }
  }

  /** @internal Parser handler: a control sequence with `:` (ignored by mosh; lib/sgr.ts). */
  csiSubDispatch(
    params: Int32Array,
    sub: Uint8Array,
    count: number,
    collected: number,
    final: number,
  ): void {
    if (collected === 0 && final === 0x6d) this.pen.subSgr(params, sub, count);
  }

  /**
   * @internal Parser handler: the end of an OSC string (lib/osc.ts): events, the clipboard (any
   * OSC 52 form, stored as C clients receive it, `52;c;`; a query never stored, so never
   * forwarded), OSC 8 hyperlinks (the extended layer only), window title and icon name.
   */
  oscEnd(data: Uint32Array, length: number): void {
    if (this.sink !== null && isEvent(data, length)) this.sink(codePointsToString(data, 0, length));
    if (isClipboard(data, length)) {
      const text = clipboardText(data, length);
      if (text !== null) this.clipboard = text;
      return;
    }
    const link = hyperlink(data, length);
    if (link !== null) {
      this.pen.link = link;
      return;
    }
    const cmd = titleCommand(data, length);
    if (cmd === null) return;
    this.titleInitialized = true;
    if (cmd.icon) this.iconName = cmd.text;
    if (cmd.title) this.windowTitle = cmd.text;
  }
}

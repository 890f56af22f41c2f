/**
 * SGR (Select Graphic Rendition, `CSI ... m`): the emulator's pen and how SGR parameters change it
 * (docs/PROTOCOL.md §9.3 "SGR"; the extended layer is docs/EXTENSIONS.md "Extended attributes").
 *
 * The pen has two parts:
 *  - mosh's: `fg`, `bg` and `attrs`, changed exactly as C mosh 1.4.0 changes them (`sgr`): its
 *    colour storage, its six attributes, and its reading of every parameter it does not know
 *    (`58;5;n` sets blink there, because C reads the 5 as SGR 5). A sequence holding a `:` never
 *    reaches it: C mosh ignores such a sequence as a whole (lib/parser.ts).
 *  - beyond mosh, the extended layer (lib/framebuffer.ts `ext`): `xattrs`, the attributes as a
 *    modern terminal reads the same parameters (faint 2/22, strikethrough 9/29, overline 53/55,
 *    double underline 21, underline styles `4:0`-`4:5`), `ulColor` (`58;5;n`, `58;2;r;g;b` and
 *    their `:` forms; 59 resets) and `link`, the OSC 8 hyperlink (lib/osc.ts). Colours stay
 *    mosh's alone: a `:` colour form (`38:2::r:g:b`) changes neither part.
 *
 * While the extended part says exactly what mosh's says (`extended` false) cells get no extended
 * rendition, so a session without these attributes never allocates the layer.
 */

import {
  ATTR_BLINK,
  ATTR_BOLD,
  ATTR_INVERSE,
  ATTR_INVISIBLE,
  ATTR_ITALIC,
  ATTR_UNDERLINE,
  TRUE_COLOR,
  UNDERLINE_PALETTE,
  XATTR_FAINT,
  XATTR_OVERLINE,
  XATTR_STRIKE,
  XATTR_UNDERLINE_MASK,
  XATTR_UNDERLINE_SHIFT,
} from "./framebuffer.ts";

/** Underline styles of `4:n` (stored in XATTR_UNDERLINE_MASK; 0 and 1 are both single). */
export const UnderlineStyle = {
  Single: 0,
  Double: 2,
  Curly: 3,
  Dotted: 4,
  Dashed: 5,
} as const;

/** Bits a modern terminal clears on SGR 24 (`4:0`): the underline and its style. */
const UNDERLINE_ALL = ATTR_UNDERLINE | XATTR_UNDERLINE_MASK;

/** The emulator's pen: mosh's renditions plus the extended layer's. */
export class Pen {
  /** Foreground in mosh's storage (lib/framebuffer.ts word 1). */
  fg = 0;
  /** Background in mosh's storage (word 2). */
  bg = 0;
  /** mosh's attribute bits (ATTR_*). */
  attrs = 0;
  /** The attributes as a modern terminal reads them: ATTR_* and XATTR_* bits. */
  xattrs = 0;
  /** Underline colour (ext word 1's storage). */
  ulColor = 0;
  /** The OSC 8 hyperlink (`params;uri`), "" for none. */
  link = "";

  /** True when cells printed now need an extended rendition. */
  get extended(): boolean {
    return this.xattrs !== this.attrs || this.ulColor !== 0 || this.link !== "";
  }

  /** An independent copy. */
  copy(): Pen {
    const p = new Pen();
    p.fg = this.fg;
    p.bg = this.bg;
    p.attrs = this.attrs;
    p.xattrs = this.xattrs;
    p.ulColor = this.ulColor;
    p.link = this.link;
    return p;
  }

  /** SGR 0 on both parts; the hyperlink stays (it is not a rendition). */
  reset(): void {
    this.fg =
      this.bg =
      this.attrs =
      this.xattrs =
      this.ulColor =
        0;
  }

  /** `CSI params m` without sub-parameters: both parts, each with its own reading. */
  sgr(params: Int32Array, count: number): void {
    const plain = this.xattrs === this.attrs && this.ulColor === 0;
    const starts = this.moshSgr(params, count);
    // Fast path: from a plain pen, parameters that start no extended attribute are read alike.
    if (plain && !starts) this.xattrs = this.attrs;
    else this.extendedSgr(params, null, count);
  }

  /** `CSI params m` holding a `:`: the extended part only (C mosh ignores the sequence). */
  subSgr(params: Int32Array, sub: Uint8Array, count: number): void {
    this.extendedSgr(params, sub, count);
  }

  /**
   * mosh's SGR with its colour storage (§9.3 "SGR"). Returns true when a parameter it reads as
   * an attribute may start an extended one (2, 9, 21, 53, 58): the extended reading must run.
   */
  private moshSgr(params: Int32Array, count: number): boolean {
    let starts = false;
    for (let i = 0; i < count; i++) {
      const v = param(params, count, i, 0);
      if ((v === 38 || v === 48) && count - i >= 3 && param(params, count, i + 1, -1) === 5) {
        const n = param(params, count, i + 2, 0);
        if (n <= 255) {
          if (v === 38) this.fg = 30 + n;
          else this.bg = 40 + n;
        }
        i += 2;
        continue;
      }
      if ((v === 38 || v === 48) && count - i >= 5 && param(params, count, i + 1, -1) === 2) {
        const c = trueColor(params, count, i + 2);
        if (v === 38) this.fg = c;
        else this.bg = c;
        i += 4;
        continue;
      }
      if (v === 2 || v === 9 || v === 21 || v === 53 || v === 58) starts = true;
      this.rendition(v);
    }
    return starts;
  }

  /** Applies one mosh SGR parameter that needs no following ones (attributes, 8/16 colours). */
  private rendition(v: number): void {
    if (v === 0) {
      this.fg = this.bg = this.attrs = 0;
    } else if (v === 39) {
      this.fg = 0;
    } else if (v === 49) {
      this.bg = 0;
    } else if (v >= 30 && v <= 37) {
      this.fg = v;
    } else if (v >= 40 && v <= 47) {
      this.bg = v;
    } else if (v >= 90 && v <= 97) {
      this.fg = v - 90 + 38;
    } else if (v >= 100 && v <= 107) {
      this.bg = v - 100 + 48;
    } else {
      const bit = attributeBit(v);
      if (v < 9) this.attrs |= bit;
      else this.attrs &= ~bit;
    }
  }

  /**
   * The extended part's reading of a whole sequence: parameters grouped with their `:`
   * sub-parameters (`sub` null: none); colours are skipped with mosh's rules.
   */
  private extendedSgr(params: Int32Array, sub: Uint8Array | null, count: number): void {
    for (let i = 0; i < count; i++) {
      const v = param(params, count, i, 0);
      let subs = 0;
      if (sub !== null) { while (i + subs + 1 < count && sub[i + subs + 1] === 1) subs++; }
      if (subs > 0) {
        if (v === 4) this.underline(param(params, count, i + 1, 0));
        else if (v === 58) this.underlineColorSub(params, count, i + 1, subs);
        i += subs;
        continue;
      }
      if (v === 38 || v === 48 || v === 58) {
        const kind = param(params, count, i + 1, -1);
        const skip = kind === 5 && count - i >= 3 ? 2 : kind === 2 && count - i >= 5 ? 4 : -1;
        if (skip > 0) {
          if (v === 58 && skip === 2) this.palette(param(params, count, i + 2, 0));
          else if (v === 58) this.ulColor = trueColor(params, count, i + 2);
          i += skip;
          continue;
        }
      }
      this.extendedRendition(v);
    }
  }

  /** One parameter of the extended reading. */
  private extendedRendition(v: number): void {
    switch (v) {
      case 0:
        this.xattrs = this.ulColor = 0;
        return;
      case 2:
        this.xattrs |= XATTR_FAINT;
        return;
      case 4:
        this.underline(1);
        return;
      case 9:
        this.xattrs |= XATTR_STRIKE;
        return;
      case 21:
        this.underline(UnderlineStyle.Double);
        return;
      case 22:
        this.xattrs &= ~(ATTR_BOLD | XATTR_FAINT);
        return;
      case 24:
        this.underline(0);
        return;
      case 29:
        this.xattrs &= ~XATTR_STRIKE;
        return;
      case 53:
        this.xattrs |= XATTR_OVERLINE;
        return;
      case 55:
        this.xattrs &= ~XATTR_OVERLINE;
        return;
      case 59:
        this.ulColor = 0;
        return;
    }
    const bit = attributeBit(v);
    if (v < 9) this.xattrs |= bit;
    else this.xattrs &= ~bit;
  }

  /** `4:style`: 0 none, 1 single, 2 double, 3 curly, 4 dotted, 5 dashed; others are ignored. */
  private underline(style: number): void {
    if (style < 0 || style > 5) return;
    this.xattrs &= ~UNDERLINE_ALL;
    if (style === 0) return;
    const stored = style === 1 ? UnderlineStyle.Single : style;
    this.xattrs |= ATTR_UNDERLINE | (stored << XATTR_UNDERLINE_SHIFT);
  }

  /** Underline colour palette index `n`; above 255 it is ignored, as mosh ignores `38;5;256`. */
  private palette(n: number): void {
    if (n <= 255) this.ulColor = UNDERLINE_PALETTE | n;
  }

  /** `58:5:n`, `58:2::r:g:b` (ITU form with a colour space) or `58:2:r:g:b`. */
  private underlineColorSub(params: Int32Array, count: number, at: number, subs: number): void {
    const kind = param(params, count, at, -1);
    if (kind === 5 && subs >= 2) {
      this.palette(param(params, count, at + 1, 0));
    } else if (kind === 2 && subs >= 5) {
      this.ulColor = trueColor(params, count, at + 2);
    } else if (kind === 2 && subs === 4) {
      this.ulColor = trueColor(params, count, at + 1);
    }
  }
}

/** Parameter `i`, or `def` if missing, empty, 0 or above 65535 (mosh's rule). */
function param(params: Int32Array, count: number, i: number, def: number): number {
  const v = i < count ? params[i] : def;
  return v < 1 ? def : v;
}

/** The true colour of parameters `at`, `at + 1`, `at + 2` as mosh stores it. */
function trueColor(params: Int32Array, count: number, at: number): number {
  return (TRUE_COLOR | (param(params, count, at, 0) << 16) |
    (param(params, count, at + 1, 0) << 8) |
    param(params, count, at + 2, 0)) & 0x1ffffff;
}

/** mosh's attribute bit of SGR `v` (1/22, 3/23, 4/24, 5/25, 7/27, 8/28); 0 for the others. */
function attributeBit(v: number): number {
  switch (v) {
    case 1:
    case 22:
      return ATTR_BOLD;
    case 3:
    case 23:
      return ATTR_ITALIC;
    case 4:
    case 24:
      return ATTR_UNDERLINE;
    case 5:
    case 25:
      return ATTR_BLINK;
    case 7:
    case 27:
      return ATTR_INVERSE;
    case 8:
    case 28:
      return ATTR_INVISIBLE;
  }
  return 0;
}

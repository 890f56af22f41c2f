/**
 * The display diff's extended attributes (docs/PROTOCOL.md §10; beyond mosh, docs/EXTENSIONS.md
 * "Extended attributes"): which of them a receiver shows, and the bytes that give its pen a
 * cell's extended rendition and hyperlink (lib/sgr.ts, lib/framebuffer.ts `ext`).
 *
 * Two receivers:
 *  - our client's emulator (the wire, `exact`): the cell's mosh renditions go first, in mosh's
 *    own SGR form, then the extended rendition as one SGR holding a `:` (`CSI 0;1;2;4:3;58:2::
 *    r:g:b m`), which a mosh emulator ignores as a whole, so each of the two layers gets its own;
 *  - a real terminal: one SGR with what its terminfo entry says it shows (`dim` for faint, `smxx`
 *    for strikethrough, `Smol` for overline, as tmux reads them), then `CSI 4:n m` where `Smulx`
 *    gives underline styles (otherwise a plain underline) and `CSI 58:... m` where `Setulc`
 *    gives underline colours.
 * Hyperlinks are OSC 8 (`ESC ] 8 ; params ; uri BEL`), opened before the first cell of a link
 * and closed (`ESC ] 8 ; ; BEL`) before any other cell, any erase and at the end of the diff.
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
import type { Painter } from "./display_painter.ts";

/** Which extended attributes a receiver shows; a diff without it (C mosh's) shows none. */
export interface AttributeSupport {
  /** SGR 2 (terminfo `dim`). */
  readonly faint: boolean;
  /** SGR 9 (terminfo `smxx`). */
  readonly strike: boolean;
  /** SGR 53 (terminfo `Smol`, tmux's overline capability). */
  readonly overline: boolean;
  /** `4:2`-`4:5` (terminfo `Smulx`); without it a styled underline is a plain one. */
  readonly underlineStyles: boolean;
  /** `58:...` (terminfo `Setulc`). */
  readonly underlineColor: boolean;
  /** OSC 8 (no terminfo capability: terminals without it ignore the OSC). */
  readonly hyperlinks: boolean;
}

/** Everything: the wire to our own client's emulator. */
export const ALL_ATTRIBUTES: AttributeSupport = Object.freeze({
  faint: true,
  strike: true,
  overline: true,
  underlineStyles: true,
  underlineColor: true,
  hyperlinks: true,
});

const SEMI = 0x3b;

/** Opens hyperlink `link` (`params;uri`) on the receiver, or closes the open one (""). */
export function writeLink(p: Painter, link: string): void {
  if (p.exact || p.attributes!.hyperlinks) {
    p.ascii("\x1b]8;");
    if (link === "") p.ascii(";");
    else p.text(link);
    p.ascii("\x07");
  }
  p.link = link;
}

/**
 * The wire: the extended rendition `xattrs` with underline colour `ul`, as one SGR holding a
 * `:` that only the extended layer of our emulator reads (its `0` resets only that layer).
 */
export function writeExtendedSgr(p: Painter, xattrs: number, ul: number): void {
  p.ensure(96);
  p.ascii("\x1b[0");
  writeBits(p, xattrs, ALL_ATTRIBUTES, false);
  p.ascii(";4:");
  p.num(underlineStyle(xattrs));
  writeUnderlineColor(p, ul, true);
  p.buf[p.len++] = 0x6d; // m
  p.xattrs = xattrs;
  p.ulColor = ul;
}

/**
 * A real terminal: the whole pen (mosh's colours, the extended attributes `xattrs` it shows, the
 * underline style and colour where it has them) from a reset.
 */
export function writeTerminalSgr(
  p: Painter,
  fg: number,
  bg: number,
  attrs: number,
  xattrs: number,
  ul: number,
): void {
  const s = p.attributes!;
  const style = underlineStyle(xattrs);
  const styled = style > 1 && s.underlineStyles;
  p.ensure(128);
  p.ascii("\x1b[0");
  writeBits(p, xattrs, s, !styled);
  if (fg !== 0) p.colour(fg, 30);
  if (bg !== 0) p.colour(bg, 40);
  p.buf[p.len++] = 0x6d; // m
  if (styled) {
    p.ascii("\x1b[4:");
    p.num(style);
    p.buf[p.len++] = 0x6d;
  }
  if (ul !== 0 && s.underlineColor && (xattrs & ATTR_UNDERLINE) !== 0) {
    p.ascii("\x1b[");
    writeUnderlineColor(p, ul, false);
    p.buf[p.len++] = 0x6d;
  }
  p.fg = fg;
  p.bg = bg;
  p.attrs = attrs;
  p.xattrs = xattrs;
  p.ulColor = ul;
}

/** The underline style of `xattrs`: 0 none, 1 single, 2-5 double, curly, dotted, dashed. */
function underlineStyle(xattrs: number): number {
  if ((xattrs & ATTR_UNDERLINE) === 0) return 0;
  const style = (xattrs & XATTR_UNDERLINE_MASK) >> XATTR_UNDERLINE_SHIFT;
  return style === 0 ? 1 : style;
}

/** `;1;2;3;4;5;7;8;9;53` for the bits of `xattrs` that `s` shows (`;4` only with `underline`). */
function writeBits(p: Painter, xattrs: number, s: AttributeSupport, underline: boolean): void {
  const buf = p.buf;
  if (xattrs & ATTR_BOLD) (buf[p.len++] = SEMI, buf[p.len++] = 0x31);
  if (xattrs & XATTR_FAINT && s.faint) (buf[p.len++] = SEMI, buf[p.len++] = 0x32);
  if (xattrs & ATTR_ITALIC) (buf[p.len++] = SEMI, buf[p.len++] = 0x33);
  if (xattrs & ATTR_UNDERLINE && underline) (buf[p.len++] = SEMI, buf[p.len++] = 0x34);
  if (xattrs & ATTR_BLINK) (buf[p.len++] = SEMI, buf[p.len++] = 0x35);
  if (xattrs & ATTR_INVERSE) (buf[p.len++] = SEMI, buf[p.len++] = 0x37);
  if (xattrs & ATTR_INVISIBLE) (buf[p.len++] = SEMI, buf[p.len++] = 0x38);
  if (xattrs & XATTR_STRIKE && s.strike) (buf[p.len++] = SEMI, buf[p.len++] = 0x39);
  if (xattrs & XATTR_OVERLINE && s.overline) p.ascii(";53");
}

/** `58:5:n` or `58:2::r:g:b` for underline colour `ul` (nothing for 0), after a `;` if `lead`. */
function writeUnderlineColor(p: Painter, ul: number, lead: boolean): void {
  if (ul === 0) return;
  if (lead) p.buf[p.len++] = SEMI;
  if (ul & TRUE_COLOR) {
    p.ascii("58:2::");
    p.num((ul >> 16) & 0xff);
    p.buf[p.len++] = 0x3a;
    p.num((ul >> 8) & 0xff);
    p.buf[p.len++] = 0x3a;
    p.num(ul & 0xff);
  } else if (ul & UNDERLINE_PALETTE) {
    p.ascii("58:5:");
    p.num(ul & 0xff);
  }
}

/**
 * The title overlay: mosh-client shows `[mosh] ` in front of the window title set by the remote
 * application, and in front of the icon name when the two are equal (docs/PROTOCOL.md §8.3).
 *
 * The client writes a title to the real terminal only once the remote side has set one
 * (`titleInitialized`); the display diff already respects that, so this overlay only edits the
 * strings. MOSH_TITLE_NOPREFIX (any value) turns the prefix off, and on exit the client sets an
 * empty prefix before drawing its last frame.
 */

import type { Framebuffer } from "./framebuffer.ts";

/** The prefix mosh-client puts in front of titles. */
export const TITLE_PREFIX = "[mosh] ";

/** The title prefix the client starts with: "" when MOSH_TITLE_NOPREFIX is set, else `[mosh] `. */
export function titlePrefixFromEnv(noPrefix: string | undefined): string {
  return noPrefix === undefined ? TITLE_PREFIX : "";
}

/** Prefixes window titles (and equal icon names) of the frames drawn. */
export class TitleEngine {
  /** The prefix; "" draws frames unchanged. */
  prefix: string;

  /** @param prefix the prefix, normally titlePrefixFromEnv(Deno.env.get("MOSH_TITLE_NOPREFIX")) */
  constructor(prefix = TITLE_PREFIX) {
    this.prefix = prefix;
  }

  /** `fb` with the prefix applied (`fb` itself when the prefix is empty). */
  apply(fb: Framebuffer): Framebuffer {
    const prefix = this.prefix;
    if (prefix === "") return fb;
    const iconName = fb.iconName === fb.windowTitle ? prefix + fb.iconName : fb.iconName;
    return fb.with({ windowTitle: prefix + fb.windowTitle, iconName });
  }
}

/**
 * What the server asks the C library about its user and locale (lib/libc.ts): the passwd entry
 * (name, home, shell; getpwuid, so every NSS source counts) and a locale's character set
 * (nl_langinfo(CODESET)), used to pick the shell and check for UTF-8 (docs/PROTOCOL.md §7.2).
 */

import { cString, libc } from "./libc.ts";

/**
 * `struct passwd` on LP64 glibc (x86_64, aarch64): five pointers and two 32-bit ids.
 *   pw_name@0, pw_passwd@8, pw_uid@16, pw_gid@20, pw_gecos@24, pw_dir@32, pw_shell@40
 */
const PASSWD = { name: 0, dir: 32, shell: 40 } as const;

const LC_CTYPE_MASK = 1;
const CODESET = 14;

/** The current user's passwd entry (getpwuid(getuid())), if any. */
export function passwdEntry(): { name: string; home: string; shell: string } | null {
  const c = libc();
  const p = c.getpwuid(c.getuid());
  if (p === null) return null;
  const view = new Deno.UnsafePointerView(p);
  const str = (offset: number) => {
    const s = view.getPointer(offset);
    return s === null ? "" : Deno.UnsafePointerView.getCString(s);
  };
  return { name: str(PASSWD.name), home: str(PASSWD.dir), shell: str(PASSWD.shell) };
}

/**
 * The character set of the locale `name` as glibc sees it (nl_langinfo(CODESET), e.g. "UTF-8"
 * or "ANSI_X3.4-1968"), or null if the locale is not installed. "" and "C"/"POSIX" are the C
 * locale.
 */
export function localeCodeset(name: string): string | null {
  const c = libc();
  const loc = c.newlocale(LC_CTYPE_MASK, cString(name === "" ? "C" : name), null);
  if (loc === null) return null;
  try {
    const p = c.nl_langinfo_l(CODESET, loc);
    return p === null ? null : Deno.UnsafePointerView.getCString(p);
  } finally {
    c.freelocale(loc);
  }
}

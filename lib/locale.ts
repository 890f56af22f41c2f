/**
 * The locale check mosh-client makes before it starts (docs/PROTOCOL.md §8.0): the session needs
 * a UTF-8 character set. Its own module so that the client's start does not load the `mosh`
 * wrapper's argument parsing (lib/wrapper_args.ts), which uses it too.
 */

/**
 * The locale name when it names a character set other than UTF-8, as mosh-client checks it
 * (LC_ALL, then LC_CTYPE, then LANG; unset counts as UTF-8); null when it is UTF-8.
 */
export function nonUtf8Locale(env: Record<string, string | undefined>): string | null {
  const lc = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return lc !== "" && !/utf-?8/i.test(lc) ? lc : null;
}

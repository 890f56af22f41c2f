/**
 * The environment every process a test starts gets: this process's environment without what
 * would change mosh's behaviour (MOSH_*, TMUX*, RUST_BACKTRACE), the locale (LANG, LANGUAGE,
 * LC_*) or what npx adds when the suite itself runs through `npx deno` (npm_*: a user's own
 * call has none, and tests check that our launchers add none), then LANG=C.UTF-8 and NO_COLOR=1. So the suite behaves the same whatever locale the
 * developer or CI has set, and a test that wants another locale says so in `extra`.
 */

/** Variables left out of a test process's environment (besides the MOSH_ and LC_ families). */
const DROPPED = new Set(["LANG", "LANGUAGE", "RUST_BACKTRACE"]);

/** The clean environment, then `extra`. For `clearEnv: true`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) {
    if (
      DROPPED.has(k) || k.startsWith("MOSH_") || k.startsWith("LC_") || k.startsWith("TMUX") ||
      k.startsWith("npm_")
    ) {
      delete env[k];
    }
  }
  return { ...env, LANG: "C.UTF-8", NO_COLOR: "1", ...extra };
}

/**
 * Runs `fn` with this process's environment changed by `vars` (undefined removes a variable),
 * then restores every one of them. For tests that call a program's main function in-process.
 */
export async function withEnv<T>(
  vars: Record<string, string | undefined>,
  fn: () => T | Promise<T>,
): Promise<T> {
  const saved = Object.keys(vars).map((k) => [k, Deno.env.get(k)] as const);
  const apply = (entries: Iterable<readonly [string, string | undefined]>) => {
    for (const [k, v] of entries) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  };
  apply(Object.entries(vars));
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/**
 * Byte-array plumbing shared by the modules that build a message from pieces (channel control,
 * the history writer). No protocol section: a helper with one owner.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * const whole = concatBytes([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * if (whole.join() !== "1,2,3") throw new Error("concatBytes");
 * ```
 */

/** The pieces `parts`, in order, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

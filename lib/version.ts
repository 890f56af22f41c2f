/**
 * The version block each program prints for `--version` (and mosh-server when it detaches).
 * No protocol section: what the programs say about themselves.
 */

/** The mosh release this implementation is wire-compatible with. */
export const MOSH_VERSION = "1.4.0";

/** The version block of `program`, lines joined by "\n", without a final newline. */
export function versionText(program: "mosh" | "mosh-client" | "mosh-server"): string {
  return [
    `${program} (mosh-deno) ${MOSH_VERSION} [build mosh-deno ${MOSH_VERSION}, Deno ${Deno.version.deno}]`,
    `A TypeScript/Deno reimplementation of mosh ${MOSH_VERSION} (https://mosh.org), wire-compatible with it.`,
    "mosh is Copyright 2012 Keith Winstein <mosh-devel@mit.edu>.",
    "License GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>.",
    "This is free software: you are free to change and redistribute it.",
    "There is NO WARRANTY, to the extent permitted by law.",
  ].join("\n");
}

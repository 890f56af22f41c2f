/**
 * Writes the deterministic workloads (tests/workload.ts) to files for the benchmarks.
 *
 * CLI: deno run --allow-write bench/workload.ts stream OUT [--seed N] [--size BYTES]
 *      deno run --allow-write bench/workload.ts framediff OUT [--seed N] [--small N] [--large N]
 */

import {
  FRAMEDIFF_LARGE,
  FRAMEDIFF_SEED,
  FRAMEDIFF_SMALL,
  generateFrameDiff,
  generateStream,
  sha256Hex,
  STREAM_SEED,
  STREAM_SIZE,
} from "../tests/workload.ts";

function parseIntArg(name: string, v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new Error(`workload: ${name} needs an integer`);
  return Number(v);
}

async function main(args: string[]): Promise<void> {
  const [mode, out, ...rest] = args;
  if ((mode !== "stream" && mode !== "framediff") || !out) {
    throw new Error(
      "usage: workload.ts stream OUT [--seed N] [--size BYTES] | " +
        "framediff OUT [--seed N] [--small N] [--large N]",
    );
  }
  const opts: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    if (!["--seed", "--size", "--small", "--large"].includes(rest[i])) {
      throw new Error(`workload: unknown option ${rest[i]}`);
    }
    opts[rest[i]] = rest[i + 1];
  }
  const seed = (def: number): bigint | number => {
    const v = opts["--seed"];
    if (v === undefined) return def;
    if (!/^\d+$/.test(v)) throw new Error("workload: --seed needs an integer");
    return BigInt(v);
  };
  const num = (k: string, def: number) => opts[k] === undefined ? def : parseIntArg(k, opts[k]);
  const data = mode === "stream"
    ? generateStream(seed(STREAM_SEED), num("--size", STREAM_SIZE))
    : generateFrameDiff(
      seed(FRAMEDIFF_SEED),
      num("--small", FRAMEDIFF_SMALL),
      num("--large", FRAMEDIFF_LARGE),
    );
  await Deno.writeFile(out, data);
  console.error(`${out}: ${data.length} bytes sha256=${await sha256Hex(data)}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
}

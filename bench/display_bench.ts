/**
 * Display diff benchmark (docs/PROTOCOL.md §10): `diffFrames` on the framediff workload
 * (bench/workload.ts, seed 20240602: 2,000 pairs at 80x24 and 500 at 200x60). For each record a
 * fresh WxH Terminal is fed `base` (frame A), then `edit` (frame B); we time `diffFrames(A, B)`
 * (the server's incremental frame) and `diffFrames(null, B)` (a full repaint), and count bytes.
 * Every diff is first checked: a client in state A that applies it must show B.
 *
 * Usage: deno run bench/display_bench.ts [--reps N]
 *   prints a table per size and edit kind, then one JSON line.
 * Under `deno bench` it registers one entry per size instead.
 *
 * Reference (C mosh 1.4.0 on this machine): 6.9 us / 155 B per diff at 80x24, 29.4 us / 854 B
 * at 200x60; full repaint 27.8 us / 150 us.
 */

import { contentEqual, diffFrames } from "../lib/display.ts";
import type { Framebuffer } from "../lib/framebuffer.ts";
import { Terminal } from "../lib/terminal.ts";
import {
  EDIT_KINDS,
  FRAMEDIFF_LARGE,
  FRAMEDIFF_SEED,
  FRAMEDIFF_SMALL,
  generateFrameDiff,
  parseFrameDiff,
} from "../tests/workload.ts";

/** One benchmark pair. */
export interface FramePair {
  width: number;
  height: number;
  kind: string;
  a: Framebuffer;
  b: Framebuffer;
}

/** The framediff workload as pairs of framebuffers (A after `base`, B after `edit`). */
export function framePairs(
  seed = FRAMEDIFF_SEED,
  small = FRAMEDIFF_SMALL,
  large = FRAMEDIFF_LARGE,
): FramePair[] {
  return parseFrameDiff(generateFrameDiff(seed, small, large)).map((r) => {
    const t = new Terminal(r.width, r.height);
    t.write(r.base);
    const a = t.snapshot();
    t.write(r.edit);
    return { width: r.width, height: r.height, kind: r.kindName, a, b: t.snapshot() };
  });
}

/** Throws unless every incremental diff and every repaint reproduces its frame. */
export function checkPairs(pairs: readonly FramePair[]): void {
  for (const [i, p] of pairs.entries()) {
    const client = new Terminal(p.width, p.height);
    client.write(diffFrames(null, p.a));
    client.write(diffFrames(p.a, p.b));
    const diff = contentEqual(client.snapshot(), p.b);
    if (diff) throw new Error(`display bench: pair ${i} (${p.kind}) does not round-trip: ${diff}`);
  }
}

/** Microseconds per call of `fn` over `items`, best of `reps` passes. */
function timePerItem<T>(items: readonly T[], reps: number, fn: (item: T) => unknown): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const it of items) fn(it);
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1000) / items.length;
}

interface Row {
  size: string;
  kind: string;
  pairs: number;
  usPerDiff: number;
  bytesPerDiff: number;
  usRepaint: number;
  bytesRepaint: number;
}

function measure(size: string, kind: string, pairs: readonly FramePair[], reps: number): Row {
  let bytes = 0, repaintBytes = 0;
  for (const p of pairs) {
    bytes += diffFrames(p.a, p.b).length;
    repaintBytes += diffFrames(null, p.b).length;
  }
  return {
    size,
    kind,
    pairs: pairs.length,
    usPerDiff: timePerItem(pairs, reps, (p) => diffFrames(p.a, p.b)),
    bytesPerDiff: bytes / pairs.length,
    usRepaint: timePerItem(pairs, Math.max(1, reps >> 1), (p) => diffFrames(null, p.b)),
    bytesRepaint: repaintBytes / pairs.length,
  };
}

function main(): void {
  const at = Deno.args.indexOf("--reps");
  const reps = at >= 0 ? Number(Deno.args[at + 1]) : 20;
  if (!Number.isInteger(reps) || reps < 1) throw new Error("display bench: --reps needs N >= 1");
  const pairs = framePairs();
  checkPairs(pairs);
  const rows: Row[] = [];
  for (const size of ["80x24", "200x60"]) {
    const ofSize = pairs.filter((p) => `${p.width}x${p.height}` === size);
    // Warm up the JIT on this size first.
    for (let i = 0; i < 3; i++) for (const p of ofSize) diffFrames(p.a, p.b);
    rows.push(measure(size, "all", ofSize, reps));
    for (const kind of EDIT_KINDS) {
      const ofKind = ofSize.filter((p) => p.kind === kind);
      if (ofKind.length) rows.push(measure(size, kind, ofKind, reps));
    }
  }
  const f = (n: number, d = 1) => n.toFixed(d).padStart(8);
  console.log(
    "size    kind           pairs  us/diff  B/diff  us/repaint  B/repaint",
  );
  for (const r of rows) {
    console.log(
      `${r.size.padEnd(7)} ${r.kind.padEnd(13)} ${String(r.pairs).padStart(6)} ${
        f(r.usPerDiff, 2)
      }` +
        `${f(r.bytesPerDiff)} ${f(r.usRepaint, 1)}    ${f(r.bytesRepaint, 0)}`,
    );
  }
  const json: Record<string, unknown> = { bench: "display", seed: FRAMEDIFF_SEED, reps };
  for (const r of rows) {
    json[`${r.size}.${r.kind}`] = {
      us: +r.usPerDiff.toFixed(3),
      bytes: +r.bytesPerDiff.toFixed(1),
      repaint_us: +r.usRepaint.toFixed(2),
      repaint_bytes: +r.bytesRepaint.toFixed(0),
    };
  }
  console.log(JSON.stringify(json));
}

if (import.meta.main) {
  main();
} else {
  // Under `deno bench`: the pairs are built once, during the first (warm-up) run.
  let cached: FramePair[] | null = null;
  const pairs = (width: number) => (cached ??= framePairs()).filter((p) => p.width === width);
  Deno.bench("diffFrames framediff 80x24 (2000 pairs)", () => {
    for (const p of pairs(80)) diffFrames(p.a, p.b);
  });
  Deno.bench("diffFrames framediff 200x60 (500 pairs)", () => {
    for (const p of pairs(200)) diffFrames(p.a, p.b);
  });
  Deno.bench("diffFrames full repaint 80x24 (2000 frames)", () => {
    for (const p of pairs(80)) diffFrames(null, p.b);
  });
}

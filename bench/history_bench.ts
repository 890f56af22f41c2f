/**
 * The server's scrollback ring (lib/history.ts, docs/EXTENSIONS.md): the cost of storing rows as
 * they scroll off, per 1,000 rows pushed into a 10,000-line ring.
 *
 *   deno bench -A bench/history_bench.ts
 *
 * `seq` rows are 7 digits (what `seq 1 2000000` scrolls off: the end-to-end benchmarks' flood);
 * 80-column rows are full lines of plain text, and of text whose colour changes every 8 cells.
 */

import { CELL_WORDS, Row } from "../lib/framebuffer.ts";
import { HistoryRing } from "../lib/history.ts";

/** 64 different rows of `cells` written cells (`colour`: a new foreground every 8 cells). */
function rows(cells: number, colour: boolean): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < 64; i++) {
    const r = new Row(80);
    for (let x = 0; x < cells; x++) {
      r.data[x * CELL_WORDS] = 0x30 + ((i * 7 + x) % 75);
      if (colour) r.data[x * CELL_WORDS + 1] = 31 + ((x >> 3) % 7);
    }
    r.ink = cells;
    out.push(r);
  }
  return out;
}

function bench(name: string, set: Row[]): void {
  const ring = new HistoryRing(10000);
  Deno.bench(name, { group: "pushRow" }, () => {
    for (let i = 0; i < 1000; i++) ring.pushRow(set[i & 63]);
  });
}

bench("1,000 seq rows (7 cells)", rows(7, false));
bench("1,000 plain 80-column rows", rows(80, false));
bench("1,000 coloured 80-column rows", rows(80, true));

// Unit test of lib/heap_hygiene.ts: one collection per interval, none without an exposed gc.
// That the running client and server have gc exposed: tests/v8_flags_test.ts.
import assert from "node:assert/strict";
import { HEAP_HYGIENE_FIRST, HEAP_HYGIENE_INTERVAL, HeapHygiene } from "../lib/heap_hygiene.ts";

const g = globalThis as { gc?: unknown };

Deno.test("heap hygiene: one collection soon after the start, then one per interval", () => {
  const saved = g.gc;
  try {
    let calls = 0;
    g.gc = () => calls++;
    const h = new HeapHygiene(1000);
    assert.equal(h.enabled, true);
    const at = (t: number) => h.tick(1000 + t);
    const first = HEAP_HYGIENE_FIRST;
    assert.equal(at(0), false);
    assert.equal(at(first - 1), false);
    assert.equal(at(first), true);
    assert.equal(at(first + 1), false);
    assert.equal(at(first + HEAP_HYGIENE_INTERVAL - 1), false);
    assert.equal(at(first + HEAP_HYGIENE_INTERVAL), true);
    assert.equal(at(first + 2 * HEAP_HYGIENE_INTERVAL + 5), true);
    assert.equal(calls, 3);

    g.gc = undefined;
    const off = new HeapHygiene(0);
    assert.equal(off.enabled, false);
    assert.equal(off.tick(10 * HEAP_HYGIENE_INTERVAL), false);
  } finally {
    g.gc = saved;
  }
});

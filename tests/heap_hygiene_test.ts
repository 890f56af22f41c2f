// Unit test of lib/heap_hygiene.ts: one collection per interval, none without an exposed gc.
// That the running client and server have gc exposed: tests/v8_flags_test.ts.
import assert from "node:assert/strict";
import { HEAP_HYGIENE_INTERVAL, HeapHygiene } from "../lib/heap_hygiene.ts";

const g = globalThis as { gc?: unknown };

Deno.test("heap hygiene: one collection per interval, none without an exposed gc", () => {
  const saved = g.gc;
  try {
    let calls = 0;
    g.gc = () => calls++;
    const h = new HeapHygiene(1000);
    assert.equal(h.enabled, true);
    const at = (t: number) => h.tick(1000 + t);
    assert.equal(at(0), false);
    assert.equal(at(HEAP_HYGIENE_INTERVAL - 1), false);
    assert.equal(at(HEAP_HYGIENE_INTERVAL), true);
    assert.equal(at(HEAP_HYGIENE_INTERVAL + 1), false);
    assert.equal(at(2 * HEAP_HYGIENE_INTERVAL + 5), true);
    assert.equal(calls, 2);

    g.gc = undefined;
    const off = new HeapHygiene(0);
    assert.equal(off.enabled, false);
    assert.equal(off.tick(10 * HEAP_HYGIENE_INTERVAL), false);
  } finally {
    g.gc = saved;
  }
});

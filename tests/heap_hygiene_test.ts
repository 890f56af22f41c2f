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

Deno.test("heap hygiene: the launchers' V8 flags expose gc to the client and the server", async () => {
  const root = new URL("../", import.meta.url).pathname;
  for (const file of ["bin/mosh", "bin/mosh-client"]) {
    assert.match(await Deno.readTextFile(root + file), /--v8-flags=[^ ]*--expose-gc/, file);
  }
  assert.match(await Deno.readTextFile(root + "server.ts"), /V8_FLAGS = "[^"]*--expose-gc/);
  // And with that flag Deno gives the program a callable gc.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", "console.log(typeof globalThis.gc)"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "function");
});

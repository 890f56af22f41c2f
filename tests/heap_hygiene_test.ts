import assert from "node:assert/strict";
import {
  HEAP_HYGIENE_FIRST,
  HEAP_HYGIENE_INTERVAL,
  HeapHygiene,
  trimMallocHeap,
} from "../lib/heap_hygiene.ts";

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

Deno.test("heap hygiene: malloc_trim runs where FFI is allowed, and is skipped where it is not", async () => {
  // This test runs with --allow-all: the trim is possible.
  assert.equal(trimMallocHeap(), true);
  const url = new URL("../lib/heap_hygiene.ts", import.meta.url).href;
  // The client's permissions: no --allow-ffi.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(
    `import { trimMallocHeap } from "${url}"; console.log(trimMallocHeap(), trimMallocHeap());`,
  ));
  await w.close();
  const out = await output;
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "false false");
});

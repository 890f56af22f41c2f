// Exactness of the emulator (lib/terminal.ts) on the stream workload: FNV-1a-64 hashes of
// screenText() after the first 1 MiB and 4 MiB, fed in 16 KiB chunks at 80x24. The full-length
// checks are in bench/terminal_run.ts; the hashing is tests/screen_hash.ts.
import assert from "node:assert/strict";
import { Terminal } from "../lib/terminal.ts";
import { feedAndHash, fnv1a64, STREAM_80X24_HASHES } from "./screen_hash.ts";
import { generateStream } from "./workload.ts";

Deno.test("fnv1a64 test vectors", () => {
  const enc = new TextEncoder();
  assert.equal(fnv1a64(new Uint8Array(0)), "cbf29ce484222325");
  assert.equal(fnv1a64(enc.encode("a")), "af63dc4c8601ec8c");
  assert.equal(fnv1a64(enc.encode("foobar")), "85944171f73967e8");
});

Deno.test("stream workload at 80x24: screen hashes after 1 MiB and 4 MiB", () => {
  const data = generateStream(20240601, 4 << 20);
  const want = STREAM_80X24_HASHES.filter(([at]) => at === 1 << 20 || at === 4 << 20);
  const checks = feedAndHash(new Terminal(80, 24), data, want, 4 << 20);
  assert.deepEqual(
    checks.map((c) => [c.at, c.got]),
    want.map(([at, h]) => [at, h]),
  );
});

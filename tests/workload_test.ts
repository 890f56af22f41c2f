// Tests for tests/workload.ts: byte-exact agreement with gen-workload.py, the Python generator of
// the benchmark specification (not part of this repository).
// Reference hashes were produced by the Python script (python3 gen-workload.py ...).
import assert from "node:assert/strict";
import {
  generateFrameDiff,
  generateStream,
  parseFrameDiff,
  sha256Hex,
  STREAM_SIZE,
} from "./workload.ts";

Deno.test("stream workload: the default 50 MiB stream has the published sha256", async () => {
  const data = generateStream();
  assert.equal(data.length, STREAM_SIZE);
  assert.equal(
    await sha256Hex(data),
    "76b969d4bd6b1927302a71561274de6e8f1160d396cc8687c70f6773cec94d71",
  );
});

Deno.test("stream workload: a flush on the last segment overshoots, as in Python", async () => {
  // gen-workload.py stream OUT --size 1048576 writes 1048750 bytes.
  const data = generateStream(20240601, 1 << 20);
  assert.equal(data.length, 1048750);
  assert.equal(
    await sha256Hex(data),
    "1b8f887ab185118d49ba639604148806e69293a7893ce7403d7c2b6678392cc1",
  );
});

Deno.test("stream workload: other seeds, including one above 2**64 (masked)", async () => {
  assert.equal(
    await sha256Hex(generateStream(5, 200000)),
    "816b7bf92adbc64c09e5d0fbe9fe438c3fa10e3fd103eb076af8e1aa32cbeb13",
  );
  assert.equal(
    await sha256Hex(generateStream(18446744073709564961n, 100000)),
    "ec97917974c74a11844ecb7d6da6c17f67cbf3feb6c03836d9bc32bb19ddc4ef",
  );
});

Deno.test("framediff workload: default file matches Python and parses", async () => {
  const data = generateFrameDiff();
  assert.equal(data.length, 8286603);
  assert.equal(
    await sha256Hex(data),
    "3aee6188d51a9e1b3aa6dc87bbe6fb262ef6253f8814258559424af021371df3",
  );
  const recs = parseFrameDiff(data);
  assert.equal(recs.length, 2500);
  assert.deepEqual([recs[0].width, recs[0].height], [80, 24]);
  assert.deepEqual([recs[2499].width, recs[2499].height], [200, 60]);
  const text = new TextDecoder().decode(recs[0].base);
  assert.ok(text.startsWith("\x1b[0m\x1b[H\x1b[2J\x1b[1;1H"), JSON.stringify(text.slice(0, 30)));
  for (const r of recs) assert.ok(r.kindName.length > 0 && r.edit.length > 0);
});

Deno.test("framediff workload: small custom run matches Python", async () => {
  // gen-workload.py framediff OUT --seed 7 --small 20 --large 5
  const data = generateFrameDiff(7, 20, 5);
  assert.equal(
    await sha256Hex(data),
    "adbd7a2a03f5a5c2933b31ed9abbdf28fb5818db5f20da3809cf85c59f28a94e",
  );
  const kinds = parseFrameDiff(data).map((r) => r.kindName);
  assert.equal(kinds.length, 25);
});

Deno.test("parseFrameDiff rejects malformed files with clear errors", () => {
  assert.throws(() => parseFrameDiff(new Uint8Array(4)), /bad magic/);
  const good = generateFrameDiff(7, 1, 0);
  assert.throws(() => parseFrameDiff(good.subarray(0, good.length - 1)), /record 0 body truncated/);
  assert.throws(() => parseFrameDiff(good.subarray(0, 20)), /record 0 header truncated/);
  const extra = new Uint8Array(good.length + 1);
  extra.set(good);
  assert.throws(() => parseFrameDiff(extra), /1 trailing bytes/);
  const badKind = good.slice();
  badKind[12 + 4] = 10;
  assert.throws(() => parseFrameDiff(badKind), /bad kind 10/);
});

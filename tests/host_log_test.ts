// Tests for lib/host_log.ts: the session host's bounded log.
import assert from "node:assert/strict";
import { HostLog } from "../lib/host_log.ts";

Deno.test("host log: bounded, one old file kept, mode 0600", async () => {
  const dir = await Deno.makeTempDir();
  const log = new HostLog(`${dir}/host.log`, 1000);
  for (let i = 0; i < 100; i++) log.line(`line ${i} ${"x".repeat(40)}`);
  const now = await Deno.readTextFile(`${dir}/host.log`);
  const old = await Deno.readTextFile(`${dir}/host.log.1`);
  assert.ok(now.length <= 1000 && old.length <= 1000, `${now.length} ${old.length}`);
  assert.match(now, /line 99 x+\n$/);
  assert.match(old, /^\d{4}-\d\d-\d\dT[\d:.]+Z line \d+ x+$/m);
  assert.equal((await Deno.stat(`${dir}/host.log`)).mode! & 0o777, 0o600);
  await Deno.remove(dir, { recursive: true });
});

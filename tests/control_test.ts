// Tests for lib/control.ts: framing, limits, names and the control directory checks.
import assert from "node:assert/strict";
import {
  checkControlDir,
  encodeFrame,
  MAX_MESSAGE,
  readFrame,
  validName,
  writeFrame,
} from "../lib/control.ts";

Deno.test("control: framing, limits and names", async () => {
  assert.throws(() => encodeFrame({ big: "x".repeat(MAX_MESSAGE) }), /too long/);
  const listener = Deno.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({
    transport: "tcp",
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  const server = await accepted;
  try {
    await writeFrame(client, encodeFrame({ cmd: "list", v: 1 }));
    assert.deepEqual(await readFrame(server, Date.now() + 2000), { cmd: "list", v: 1 });
    await writeFrame(client, new Uint8Array([0, 1, 0, 1]));
    await assert.rejects(readFrame(server, Date.now() + 2000), /message of 65537 bytes/);
    await writeFrame(client, new Uint8Array([0, 0, 0, 9, 1]));
    await assert.rejects(readFrame(server, Date.now() + 200), /deadline passed/);
  } finally {
    client.close();
    server.close();
    listener.close();
  }
  assert.ok(validName("work"));
  assert.ok(validName("a.b-c_d@e+f"));
  for (const bad of ["", "12", "-x".slice(1) + " ", "a/b", "a b", "x".repeat(65), "$(x)"]) {
    assert.ok(!validName(bad), bad);
  }
});

Deno.test("control: the directory checks", async () => {
  const base = await Deno.makeTempDir();
  const uid = Deno.uid() ?? 0;
  const made = `${base}/new`;
  assert.equal(checkControlDir(made, uid, true), null);
  assert.equal((await Deno.lstat(made)).mode! & 0o777, 0o700);
  assert.match(checkControlDir(`${base}/absent`, uid, false)!, /does not exist/);
  await Deno.chmod(made, 0o750);
  assert.match(checkControlDir(made, uid, false)!, /mode 750 gives others access/);
  await Deno.chmod(made, 0o700);
  assert.match(
    checkControlDir(made, uid + 1, false)!,
    new RegExp(`owned by uid ${uid}, not by you`),
  );
  await Deno.symlink(made, `${base}/link`);
  assert.match(checkControlDir(`${base}/link`, uid, true)!, /refusing a symbolic link/);
  await Deno.remove(base, { recursive: true });
});

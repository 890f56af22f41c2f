import assert from "node:assert/strict";
// Tests of lib/heap_hygiene.ts: the collection schedule, and that the programs really run with
// its V8 flags (observed in the running processes' command lines, not read from source files).
import { HEAP_HYGIENE_INTERVAL, HeapHygiene, V8_FLAGS } from "../lib/heap_hygiene.ts";
import {
  cleanEnv,
  cmdline,
  REPO,
  type Server,
  shellCommand,
  startServer,
  stopServer,
} from "./harness.ts";

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

/** Runs `launcher` (in bin/) in wrapper mode with a stand-in ssh; returns the argv of its Deno. */
async function launcherDenoArgv(launcher: string, dir: string): Promise<string[]> {
  // The stand-in ssh records its parent's command line: the Deno that runs client.ts.
  const ssh = `${dir}/ssh`, out = `${dir}/${launcher}.argv`;
  await Deno.writeTextFile(ssh, `#!/bin/sh\ncat /proc/$PPID/cmdline > '${out}'\nexit 1\n`);
  await Deno.chmod(ssh, 0o755);
  // script(1) gives the launcher the terminal the wrapper insists on.
  const command = shellCommand([`${REPO}/bin/${launcher}`, `--ssh=${ssh}`, "localhost"]);
  await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    env: cleanEnv({ TERM: "xterm" }),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return (await Deno.readTextFile(out)).split("\0").filter((a) => a !== "");
}

Deno.test("heap hygiene: the launchers and the server run Deno with V8_FLAGS", async () => {
  const flag = `--v8-flags=${V8_FLAGS}`;
  const dir = await Deno.makeTempDir({ prefix: "v8_flags_test_" });
  let server: Server | null = null;
  try {
    for (const launcher of ["mosh", "mosh-client"]) {
      const argv = await launcherDenoArgv(launcher, dir);
      assert.ok(argv.some((a) => a.endsWith("client.ts")), `${launcher}: ${argv.join(" ")}`);
      assert.ok(argv.includes(flag), `${launcher} runs ${argv.join(" ")}`);
    }
    // The server's detached daemon, started through bin/mosh-server.
    server = await startServer("ours", { launcher: true, command: ["sleep", "30"] });
    const daemon = cmdline(server.pid);
    assert.ok(daemon.includes(flag), `the daemon runs ${daemon.join(" ")}`);
  } finally {
    await stopServer(server);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("heap hygiene: with --expose-gc Deno gives the program a callable gc", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--v8-flags=${V8_FLAGS}`, "console.log(typeof globalThis.gc)"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "function");
});

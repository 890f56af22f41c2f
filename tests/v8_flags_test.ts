// The V8 flags that heap hygiene (lib/heap_hygiene.ts) and the client's flat memory depend on,
// checked on the running programs: a server daemon started through bin/mosh-server and a client
// started through bin/mosh-client in a tmux pane must each be a Deno process whose command line
// carries --expose-gc and --max-semi-space-size=1; and Deno with --v8-flags=--expose-gc must
// give the program a callable gc (what those flags are for).
import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { trimMallocHeap } from "../lib/heap_hygiene.ts";
import { clientPid, cmdline, withSession } from "./harness.ts";

/** The V8 flags on the command line of process `pid` (every --v8-flags=, split at commas). */
function v8Flags(pid: number): string[] {
  return cmdline(pid).filter((a) => a.startsWith("--v8-flags=")).flatMap((a) =>
    a.slice("--v8-flags=".length).split(",")
  );
}

/** Asserts that `pid` is a Deno process running `script` with the heap flags. */
function assertHeapFlags(pid: number, script: string): void {
  const argv = cmdline(pid);
  assert.ok(argv.some((a) => a.endsWith(`/${script}`)), `pid ${pid} runs ${argv.join(" ")}`);
  const flags = v8Flags(pid);
  assert.ok(flags.includes("--expose-gc"), `${script}: V8 flags ${JSON.stringify(flags)}`);
  assert.ok(flags.includes("--max-semi-space-size=1"), `${script}: ${JSON.stringify(flags)}`);
}

Deno.test("v8 flags: Deno's --v8-flags=--expose-gc gives the program a callable gc", async () => {
  const run = async (flags: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", ...flags, "console.log(typeof globalThis.gc)"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await run(["--v8-flags=--max-semi-space-size=1,--expose-gc"]), "function");
  assert.equal(await run([]), "undefined");
});

Deno.test("v8 flags: the running server daemon and client have them", async () => {
  await requireDebianPackages(["tmux"]);
  await withSession({}, async (server, pane) => {
    assertHeapFlags(server.pid, "server.ts");
    await pane.waitFor(/^prompt\$/m, 20000);
    assertHeapFlags(await clientPid(pane), "client.ts");
  });
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

// The session host's test support (lib/host.ts): `server.ts` commands with a test's own control
// directory (MOSH_DENO_DIR), the MOSH CONNECT line they print, and the host's end.
import assert from "node:assert/strict";
import { alive, cleanEnv, OUR_SERVER, PROMPT, type Ran, runCaptured, waitGone } from "./harness.ts";

/** Runs `server.ts args…` with the control directory `dir`. */
export function server(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Ran> {
  return runCaptured(
    [...OUR_SERVER, ...args],
    cleanEnv({ MOSH_DENO_DIR: dir, PS1: PROMPT, HOME: "/tmp", HISTFILE: "/dev/null", ...env }),
  );
}

/** What a `new` or `attach` printed: the port and key to connect to, the host's pid. */
export interface Connect {
  port: number;
  key: string;
  pid: number;
}

/** The MOSH CONNECT port and key and the detached pid of a `new` or `attach`. */
export function connectOf(r: Ran): Connect {
  assert.equal(r.code, 0, r.stderr);
  const connect = /^MOSH CONNECT (\d+) ([A-Za-z0-9+/]{22})\n$/.exec(r.stdout);
  assert.ok(connect, `no MOSH CONNECT line in ${JSON.stringify(r.stdout)}`);
  const detached = /\n\n\[mosh-server detached, pid = (\d+)\]\n$/.exec(r.stderr);
  assert.ok(detached, `no detached line in ${JSON.stringify(r.stderr)}`);
  return { port: Number(connect[1]), key: connect[2], pid: Number(detached[1]) };
}

/** A fresh control directory (mode 0700). */
export async function controlDir(): Promise<string> {
  const base = await Deno.makeTempDir({ prefix: "mosh-host-test-" });
  return `${base}/ctl`;
}

/** Ends the host (SIGTERM, as a user would) and waits for it to go. */
export async function stopHost(pid: number | null): Promise<void> {
  if (pid === null || !alive(pid)) return;
  Deno.kill(pid, "SIGTERM");
  if (!(await waitGone(pid, 8000))) Deno.kill(pid, "SIGKILL");
}

/** The pid of the host whose control directory is `dir` (from its log), or null. */
export async function hostPid(dir: string): Promise<number | null> {
  try {
    const m = /host (\d+) started/.exec(await Deno.readTextFile(`${dir}/host.log`));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** Ends the host of control directory `dir` (for tests that never saw its pid). */
export async function stopHostIn(dir: string): Promise<void> {
  await stopHost(await hostPid(dir));
}

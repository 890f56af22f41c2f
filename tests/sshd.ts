/**
 * A private OpenSSH server for tests: Debian's `sshd` on a free loopback port, with a host key
 * and a client key generated in a temporary directory, public-key login only.
 *
 * ```ts
 * await using sshd = await startSshd();
 * // ssh with sshd.sshCommand (a string for mosh's --ssh=) to root@127.0.0.1
 * ```
 *
 * sshd runs in the foreground (`-D -e -f <config>`) as root with `UsePAM no`, `StrictModes no`
 * (the temporary directory's permissions may vary) and `PermitRootLogin yes`; it accepts the
 * client's LANG and LC_* variables. `stop()` (or `await using`) kills it and removes the
 * directory. Sessions it started end with their ssh connections.
 *
 * `killTagged(tag)` ends every process whose environment holds `MOSH_TEST_TAG=<tag>`: give a
 * server command `env MOSH_TEST_TAG=<tag> …` and whatever it leaves running (a detached
 * mosh-server and its shell) can be found and stopped afterwards.
 */

import { requireDebianPackages } from "./deps.ts";

/** A running private sshd. */
export interface Sshd extends AsyncDisposable {
  /** The loopback TCP port it listens on. */
  port: number;
  /** Temporary directory with the keys and the configuration. */
  dir: string;
  /** The client's private key. */
  keyPath: string;
  /**
   * An ssh command line for this server (`mosh --ssh=...`): port, key, no host key checks,
   * batch mode (never a password prompt).
   */
  sshCommand: string;
  /** Everything sshd logged so far (it logs to stderr with -e). */
  log(): string;
  /** Kills sshd and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts sshd; resolves once it listens. Throws with its log if it does not start. */
export async function startSshd(): Promise<Sshd> {
  await requireDebianPackages(["openssh-server", "openssh-client"]);
  await Deno.mkdir("/run/sshd", { recursive: true }); // sshd's privilege separation directory
  const dir = await Deno.makeTempDir({ prefix: "mosh-sshd-" });
  try {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_key`]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/user_key`]);
    await Deno.copyFile(`${dir}/user_key.pub`, `${dir}/authorized_keys`);
    let lastError = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const sshd = await tryStart(dir, freeTcpPort());
      if ("port" in sshd) return sshd;
      lastError = sshd.error;
    }
    throw new Error(`sshd did not start: ${lastError}`);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

async function tryStart(dir: string, port: number): Promise<Sshd | { error: string }> {
  const config = `${dir}/sshd_config`;
  await Deno.writeTextFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${dir}/host_key`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "PermitRootLogin yes",
      "UsePAM no",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AcceptEnv LANG LC_*",
      "PidFile none",
      "",
    ].join("\n"),
  );
  const child = new Deno.Command("/usr/sbin/sshd", {
    args: ["-D", "-e", "-f", config],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  let ready!: (ok: boolean) => void;
  const readyPromise = new Promise<boolean>((resolve) => ready = resolve);
  const reader = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      log += decoder.decode(chunk, { stream: true });
      if (log.includes("Server listening on")) ready(true);
    }
    ready(false);
  })();
  const timer = setTimeout(() => ready(false), 10000);
  const ok = await readyPromise;
  clearTimeout(timer);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await reader;
  };
  if (!ok) {
    await stop();
    return { error: log.trim() || "no output" };
  }
  const keyPath = `${dir}/user_key`;
  const sshd: Sshd = {
    port,
    dir,
    keyPath,
    sshCommand: `ssh -p ${port} -i ${keyPath} -o StrictHostKeyChecking=no ` +
      "-o UserKnownHostsFile=/dev/null -o BatchMode=yes",
    log: () => log,
    stop: async () => {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]: () => sshd.stop(),
  };
  return sshd;
}

/** The pids of processes whose environment contains `MOSH_TEST_TAG=<tag>`. */
export async function taggedPids(tag: string): Promise<number[]> {
  const needle = `\0MOSH_TEST_TAG=${tag}\0`;
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (pid === Deno.pid) continue;
    try {
      const environ = await Deno.readTextFile(`/proc/${pid}/environ`);
      if (("\0" + environ).includes(needle)) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Sends SIGKILL to every process tagged `tag` (see taggedPids); returns how many. */
export async function killTagged(tag: string): Promise<number> {
  const pids = await taggedPids(tag);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // it ended meanwhile
    }
  }
  return pids.length;
}

// The launchers in bin/, with Deno not on PATH (they fall back to npx) and on it: each one's pid
// is the Deno process running our program, so a signal to it reaches the program; npx never runs
// anything planted in the user's directory (a `deno` package, node_modules/.bin/ssh); the shell of
// a session started through bin/mosh-server inherits only fds 0, 1 and 2 and the user's own
// environment (no npm_* variable, no node_modules/.bin in PATH).

import assert from "node:assert/strict";
import { Pty } from "../lib/pty.ts";
import {
  alive,
  cmdline,
  delay,
  descendants,
  kill,
  REPO,
  startClient,
  startServer,
  stopServer,
  waitGone,
} from "./harness.ts";

/** System directories only: no deno here (checked below), npx is in /usr/bin. */
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

function onPath(name: string, path: string): boolean {
  return path.split(":").some((dir) => {
    try {
      Deno.statSync(`${dir}/${name}`);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * A directory a user might run mosh in, planted with a project that depends on a `deno` package
 * whose program only records that it ran, and a node_modules/.bin/ssh that does the same.
 */
function plantedDirectory(): { dir: string; ran: string } {
  const dir = Deno.makeTempDirSync({ prefix: "mosh-planted-" });
  const ran = `${dir}/ran`;
  const script = (what: string) => `#!/bin/sh\necho "${what} $*" >> '${ran}'\nexit 1\n`;
  Deno.mkdirSync(`${dir}/node_modules/deno`, { recursive: true });
  Deno.mkdirSync(`${dir}/node_modules/.bin`);
  Deno.writeTextFileSync(
    `${dir}/package.json`,
    JSON.stringify({ name: "planted", version: "1.0.0", dependencies: { deno: "2.9.6" } }),
  );
  Deno.writeTextFileSync(
    `${dir}/node_modules/deno/package.json`,
    JSON.stringify({ name: "deno", version: "2.9.6", bin: { deno: "planted.sh" } }),
  );
  Deno.writeTextFileSync(`${dir}/node_modules/deno/planted.sh`, script("planted-deno"), {
    mode: 0o755,
  });
  Deno.symlinkSync("../deno/planted.sh", `${dir}/node_modules/.bin/deno`);
  Deno.writeTextFileSync(`${dir}/node_modules/.bin/ssh`, script("planted-ssh"), { mode: 0o755 });
  return { dir, ran };
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

function exe(pid: number): string {
  try {
    return Deno.readLinkSync(`/proc/${pid}/exe`);
  } catch {
    return "";
  }
}

/** Waits up to `ms` for `pid` to be a Deno process running `script`; returns whether it was. */
async function becomesDeno(pid: number, script: string, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline && alive(pid)) {
    if (exe(pid).endsWith("/deno") && cmdline(pid).includes(`${REPO}/${script}`)) return true;
    await delay(10);
  }
  return false;
}

/** Starts `launcher` on a new pty in `cwd` with `env`, and returns the pty (pid = launcher's). */
function launch(launcher: string, args: string[], cwd: string, env: Record<string, string>): Pty {
  const pty = Pty.open(80, 24);
  pty.spawn({ file: `${REPO}/bin/${launcher}`, argv: [launcher, ...args], env, cwd });
  // Keep the master drained so the program never blocks writing to its terminal.
  (async () => {
    while ((await pty.read()) !== null) { /* discard */ }
  })();
  return pty;
}

function userEnv(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: path,
    HOME: Deno.env.get("HOME") ?? "/root",
    LANG: "C.UTF-8",
    TERM: "xterm-256color",
    ...extra,
  };
}

Deno.test("launchers: without deno on PATH, the launcher's pid is Deno's and SIGTERM ends it; nothing planted runs", async (t) => {
  assert.ok(!onPath("deno", SYSTEM_PATH), "deno must not be on the test's PATH");
  const { dir, ran } = plantedDirectory();
  // The user's own ssh: records its arguments and waits, so bin/mosh waits for it.
  const good = Deno.makeTempDirSync({ prefix: "mosh-goodbin-" });
  const goodRan = `${good}/ran`;
  Deno.writeTextFileSync(
    `${good}/ssh`,
    `#!/bin/sh\necho "$$" >> '${goodRan}'\nexec sleep 60\n`,
    { mode: 0o755 },
  );
  const path = `${good}:${SYSTEM_PATH}`;
  try {
    await t.step("bin/mosh runs the user's ssh, and SIGTERM to its pid ends it", async () => {
      const pty = launch("mosh", ["user@203.0.113.1"], dir, userEnv(path));
      try {
        assert.ok(await becomesDeno(pty.pid, "client.ts", 30000), `pid ${pty.pid} is not Deno`);
        const deadline = performance.now() + 20000;
        while (readOr(goodRan, "") === "" && performance.now() < deadline) await delay(50);
        assert.notEqual(readOr(goodRan, ""), "", "the user's ssh ran");
        assert.equal(readOr(`/proc/${pty.pid}/environ`, "").includes("npm_"), false);
        Deno.kill(pty.pid, "SIGTERM");
        assert.ok(await waitGone(pty.pid, 10000), "SIGTERM ended the wrapper");
      } finally {
        for (const pid of readOr(goodRan, "").split("\n").filter((l) => l !== "")) {
          kill(Number(pid));
        }
        kill(pty.pid);
        await pty.close();
      }
    });

    await t.step("bin/mosh-client's pid is Deno's and SIGTERM ends it", async () => {
      const env = userEnv(path, { MOSH_KEY: "AAAAAAAAAAAAAAAAAAAAAA" });
      const pty = launch("mosh-client", ["127.0.0.1", "9"], dir, env);
      try {
        assert.ok(await becomesDeno(pty.pid, "client.ts", 30000), `pid ${pty.pid} is not Deno`);
        await delay(500);
        Deno.kill(pty.pid, "SIGTERM");
        assert.ok(await waitGone(pty.pid, 10000), "SIGTERM ended the client");
      } finally {
        kill(pty.pid);
        await pty.close();
      }
    });

    await t.step("bin/mosh-server's pid is Deno's", async () => {
      const pty = Pty.open(80, 24);
      let output = "";
      try {
        pty.spawn({
          file: `${REPO}/bin/mosh-server`,
          argv: ["mosh-server", "new", "-p", "0", "-i", "127.0.0.1", "--", "sh"],
          env: userEnv(path),
          cwd: dir,
        });
        assert.ok(await becomesDeno(pty.pid, "server.ts", 30000), `pid ${pty.pid} is not Deno`);
        const decoder = new TextDecoder();
        for (;;) {
          const chunk = await pty.read();
          if (chunk === null) break;
          output += decoder.decode(chunk);
        }
        assert.match(output, /MOSH CONNECT \d+ /);
        assert.deepEqual(await pty.wait(), { code: 0, signal: null });
      } finally {
        const m = /detached, pid = (\d+)/.exec(output);
        if (m !== null) kill(Number(m[1]));
        kill(pty.pid);
        await pty.close();
      }
    });

    await t.step("with deno on PATH, bin/mosh-client execs it: its pid is Deno's", async () => {
      const bin = Deno.makeTempDirSync({ prefix: "mosh-denobin-" });
      Deno.symlinkSync(Deno.execPath(), `${bin}/deno`);
      const env = userEnv(`${bin}:${path}`, { MOSH_KEY: "AAAAAAAAAAAAAAAAAAAAAA" });
      const pty = launch("mosh-client", ["127.0.0.1", "9"], dir, env);
      try {
        assert.ok(await becomesDeno(pty.pid, "client.ts", 30000), `pid ${pty.pid} is not Deno`);
        Deno.kill(pty.pid, "SIGTERM");
        assert.ok(await waitGone(pty.pid, 10000), "SIGTERM ended the client");
      } finally {
        kill(pty.pid);
        await pty.close();
        Deno.removeSync(bin, { recursive: true });
      }
    });

    assert.equal(readOr(ran, ""), "", "a planted program ran");
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(good, { recursive: true });
  }
});

Deno.test("launchers: the shell of a session started through bin/mosh-server has fds 0-2 only and no npm_* variable", async () => {
  for (const verbose of [false, true]) {
    const server = await startServer("ours", {
      launcher: true,
      verbose,
      command: ["sh", "-c", "exec sleep 600"],
      env: { PATH: SYSTEM_PATH },
    });
    const tmux = await startClient(server.port, server.key);
    try {
      // The shell starts on the first client state.
      let shell = 0;
      const deadline = performance.now() + 20000;
      while (shell === 0 && performance.now() < deadline) {
        shell = descendants(server.pid).find((pid) => cmdline(pid)[0] === "sleep") ?? 0;
        if (shell === 0) await delay(50);
      }
      assert.ok(shell !== 0, "the shell started");
      const fds = [...Deno.readDirSync(`/proc/${shell}/fd`)].map((e) => Number(e.name));
      assert.deepEqual(fds.sort((a, b) => a - b), [0, 1, 2], `verbose ${verbose}`);
      const environ = Deno.readTextFileSync(`/proc/${shell}/environ`).split("\0");
      assert.deepEqual(environ.filter((v) => v.startsWith("npm_")), []);
      const shellPath = environ.find((v) => v.startsWith("PATH=")) ?? "";
      assert.equal(shellPath, `PATH=${SYSTEM_PATH}`, "the user's own PATH");
    } finally {
      await tmux.kill();
      await stopServer(server);
    }
  }
});

Deno.test("launchers: found through a relative path, a link to the launcher or a linked bin directory", async () => {
  const base = Deno.makeTempDirSync({ prefix: "mosh-launcher-links-" });
  try {
    Deno.mkdirSync(`${base}/links`);
    Deno.symlinkSync(`${REPO}/bin/mosh-server`, `${base}/links/mosh-server`);
    Deno.symlinkSync(`${REPO}/bin`, `${base}/bin`);
    Deno.symlinkSync(REPO, `${base}/repo`);
    const cases: [string, string, string[]][] = [
      ["./mosh-server", `${REPO}/bin`, []],
      ["sh", `${REPO}/bin`, ["mosh-server"]],
      ["bin//mosh-server", REPO, []],
      ["../bin/./mosh-server", `${REPO}/lib`, []],
      [`${base}/links/mosh-server`, base, []],
      [`${base}/bin/mosh-server`, base, []],
      ["repo/bin/mosh-server", base, []],
    ];
    for (const [program, cwd, args] of cases) {
      const out = await new Deno.Command(program, {
        args: [...args, "--version"],
        cwd,
        env: { PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${SYSTEM_PATH}` },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, `${program} in ${cwd}: ${new TextDecoder().decode(out.stderr)}`);
      assert.match(text, /^mosh-server \(mosh-deno\) /, `${program} in ${cwd}`);
    }
  } finally {
    Deno.removeSync(base, { recursive: true });
  }
});

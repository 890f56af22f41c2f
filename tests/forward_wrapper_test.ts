// -R and -A through our `mosh` wrapper and the session host (docs/EXTENSIONS.md "Forwarding",
// "Before the shell"): the wrapper passes MOSH_DENO_FORWARD to `mosh-server new`, so the -R
// listener and the agent socket exist before the shell starts. The session's command is a script
// whose very first commands connect to the -R port and use the forwarded agent: `ssh-add -l`, and
// `ssh -o BatchMode=yes` to a private sshd (tests/sshd.ts) whose only authorized key is in the
// client's ssh-agent.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { delay, freePort, PROMPT, REPO } from "./harness.ts";
import { stopHostIn } from "./host_harness.ts";
import { startSshd } from "./sshd.ts";
import { Tmux } from "./tmux.ts";

/** A TCP server that answers each connection's first bytes with `pong:` and them. */
function pongServer(): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of l) {
      (async () => {
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        if (n !== null) {
          await conn.write(new TextEncoder().encode("pong:"));
          await conn.write(buf.subarray(0, n));
        }
        conn.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  return { port: (l.addr as Deno.NetAddr).port, close: () => l.close() };
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" }).output();
  assert.equal(out.code, 0, `${cmd}: ${new TextDecoder().decode(out.stderr)}`);
}

Deno.test({
  name: "wrapper -R and -A through the host: the shell's first commands reach both, and ssh " +
    "authenticates through the forwarded agent",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using sshd = await startSshd();
    const dir = await Deno.makeTempDir({ prefix: "mosh-fwd-wrapper-" });
    const ctl = `${dir}/ctl`;
    const sock = `${dir}/agent.sock`;
    const agent = new Deno.Command("ssh-agent", {
      args: ["-D", "-a", sock],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const pong = pongServer();
    let tmux: Tmux | null = null;
    try {
      for (let i = 0; i < 50; i++) {
        if (await Deno.stat(sock).then(() => true, () => false)) break;
        await delay(100);
      }
      await run("ssh-add", [sshd.keyPath], { SSH_AUTH_SOCK: sock });
      const rport = freePort();
      // The session's command: the first thing the shell does.
      await Deno.writeTextFile(
        `${dir}/first.sh`,
        [
          `exec 3<>/dev/tcp/127.0.0.1/${rport} && printf ping >&3 && IFS= read -r -n 9 -t 20 r <&3`,
          'echo "R=[$r]"',
          `case "$SSH_AUTH_SOCK" in ${ctl}/mosh-agent-*) echo SOCK=host;; *) echo SOCK=other;; esac`,
          'stat -c "mode=%a" "$(dirname "$SSH_AUTH_SOCK")"',
          "ssh-add -l",
          `ssh -F /dev/null -p ${sshd.port} -o BatchMode=yes -o StrictHostKeyChecking=no ` +
          `-o UserKnownHostsFile=/dev/null "$(id -un)@127.0.0.1" 'echo AGENT-$((40+2))'`,
          `PS1='${PROMPT}' exec bash --norc --noprofile`,
          "",
        ].join("\n"),
      );
      const mosh = `${REPO}/bin/mosh --local --server=${REPO}/bin/mosh-server ` +
        `-R ${rport}:127.0.0.1:${pong.port} -A 127.0.0.1 -- bash ${dir}/first.sh`;
      tmux = await Tmux.start({
        command: `export PS1='${PROMPT}' HISTFILE=/dev/null MOSH_DENO_DIR='${ctl}' ` +
          `SSH_AUTH_SOCK='${sock}'; ${mosh}; echo CLIENT-EXIT=$?; exec sleep 600`,
        env: { LANG: "C.UTF-8" },
        unsetEnv: ["RUST_BACKTRACE", "MOSH_ESCAPE_KEY", "MOSH_PREDICTION_DISPLAY"],
      });
      const screen = await tmux.waitFor(/^prompt\$/m, 60000);
      assert.match(screen, /^R=\[pong:ping\]$/m);
      assert.match(screen, /^256 SHA256:\S+ .*\(ED25519\)$/m);
      assert.match(screen, /^AGENT-42$/m, "ssh authenticated through the forwarded agent");
      // The shell's socket is the host's (in a 0700 directory in its control directory).
      assert.match(screen, /^SOCK=host$/m);
      assert.match(screen, /^mode=700$/m);
      await tmux.sendText("echo ok-$((6*7))\r");
      await tmux.waitFor(/^ok-42$/m, 15000);
    } finally {
      await tmux?.kill();
      await stopHostIn(ctl);
      pong.close();
      try {
        agent.kill();
      } catch {
        // gone
      }
      await agent.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "wrapper -R and -A against Debian's mosh-server: a one-line warning, and the session works",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await requireDebianPackages(["mosh", "tmux"]);
    let tmux: Tmux | null = null;
    try {
      const mosh = `${REPO}/bin/mosh --local --server=mosh-server -R ${freePort()}:127.0.0.1:9 ` +
        `-A 127.0.0.1 -- bash --norc --noprofile`;
      tmux = await Tmux.start({
        command: `export PS1='${PROMPT}' HISTFILE=/dev/null SSH_AUTH_SOCK=/nonexistent; ${mosh}; ` +
          "echo CLIENT-EXIT=$?; exec sleep 600",
        env: { LANG: "C.UTF-8" },
        unsetEnv: ["RUST_BACKTRACE", "MOSH_ESCAPE_KEY", "MOSH_PREDICTION_DISPLAY"],
      });
      const screen = await tmux.waitFor(/does not support forwarding/, 30000);
      assert.equal(screen.match(/does not support forwarding/g)?.length, 1);
      await tmux.sendText("echo c-$((6*7))\r");
      await tmux.waitFor(/^c-42$/m, 15000);
      await tmux.sendKeys("C-d");
      await tmux.waitFor(/CLIENT-EXIT=0/, 15000);
    } finally {
      await tmux?.kill();
    }
  },
});

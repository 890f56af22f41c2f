// Unit tests of the server's policy (lib/server_session.ts): the shell plan, the motd and the
// timeout variables (docs/PROTOCOL.md §7). The locale fallback asks libc (FFI), so its test is
// in tests/server_test.ts with the server as a process.
import assert from "node:assert/strict";
import { motdText, planShell, timeoutFromEnv } from "../lib/shell_plan.ts";

Deno.test("server helpers: shell plan, motd, timeouts", async () => {
  const options = {
    command: null,
    bindIp: null,
    portRange: { low: 0, high: 0 },
    colors: 8,
    verbose: 0,
    locales: [],
  };
  const home = await Deno.makeTempDir();
  try {
    const plan = planShell(options, { HOME: home, SHELL: "/usr/bin/zsh", STY: "x" }, null);
    assert.equal(plan.file, "/usr/bin/zsh");
    assert.deepEqual(plan.argv, ["-zsh"]);
    assert.equal(plan.login, true);
    assert.equal(plan.cwd, home);
    assert.equal(plan.env.PWD, home);
    assert.equal(plan.env.TERM, "xterm");
    assert.equal(plan.env.NCURSES_NO_UTF8_ACS, "1");
    assert.equal(plan.env.STY, undefined);
    const fromPasswd = planShell(options, { HOME: "/nonexistent-dir" }, {
      home: "/",
      shell: "/bin/dash",
    });
    assert.deepEqual(fromPasswd.argv, ["-dash"]);
    assert.equal(fromPasswd.cwd, undefined);
    assert.equal(planShell(options, {}, null).file, "/bin/sh");
    const cmd = planShell({ ...options, colors: 256, command: ["ls", "-l"] }, {}, null);
    assert.deepEqual([cmd.file, cmd.argv, cmd.login, cmd.env.TERM], [
      "ls",
      ["ls", "-l"],
      false,
      "xterm-256color",
    ]);
    await Deno.writeTextFile(`${home}/.hushlogin`, "");
    assert.equal(motdText(home), "");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
  assert.deepEqual(timeoutFromEnv("X", undefined), { ms: 0, warning: null });
  assert.deepEqual(timeoutFromEnv("X", "7"), { ms: 7000, warning: null });
  assert.deepEqual(timeoutFromEnv("X", "1.5"), {
    ms: 0,
    warning: "X not a valid integer, ignoring",
  });
  assert.deepEqual(timeoutFromEnv("X", "-1"), { ms: 0, warning: "X is negative, ignoring" });
});

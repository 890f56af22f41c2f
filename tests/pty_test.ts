// Tests for lib/pty.ts, lib/fds.ts and lib/system_info.ts: a real child on a real pty
// (docs/PROTOCOL.md §12.1).
import assert from "node:assert/strict";
import { duplicateFd, getWindowSize } from "../lib/fds.ts";
import { Pty, PtyError } from "../lib/pty.ts";
import { libc } from "../lib/libc.ts";
import { passwdEntry } from "../lib/system_info.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function baseEnv(): Record<string, string> {
  return { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", LANG: "C.UTF-8" };
}

/** Reads until `pattern` shows up in the accumulated output (or EOF); returns everything read. */
async function readUntil(pty: Pty, pattern: RegExp, soFar = ""): Promise<string> {
  let out = soFar;
  while (!pattern.test(out)) {
    const chunk = await pty.read();
    if (chunk === null) break;
    out += decoder.decode(chunk);
  }
  return out;
}

async function readAll(pty: Pty): Promise<string> {
  let out = "";
  for (;;) {
    const chunk = await pty.read();
    if (chunk === null) return out;
    out += decoder.decode(chunk);
  }
}

Deno.test("pty: output, window size, resize, input, exit status", async () => {
  const pty = Pty.open(80, 24);
  try {
    assert.match(pty.ptsName, /^\/dev\/pts\/\d+$/);
    const script = 'echo hi; stty size; read line; stty size; echo "got $line"; exit 7';
    const pid = pty.spawn({ file: "sh", argv: ["sh", "-c", script], env: baseEnv() });
    assert.ok(pid > 0);
    let out = await readUntil(pty, /24 80\r\n/);
    assert.match(out, /^hi\r\n24 80\r\n/);
    pty.resize(100, 40);
    pty.write(encoder.encode("abc\n"));
    out = await readUntil(pty, /got abc\r\n/, out);
    out += await readAll(pty);
    // The line discipline echoes the input (abc) before the shell prints the new size.
    assert.match(out, /abc\r\n40 100\r\ngot abc\r\n$/);
    assert.equal(pty.eof, true);
    assert.deepEqual(await pty.wait(), { code: 7, signal: null });
  } finally {
    await pty.close();
  }
});

Deno.test("pty: the child is a session leader with the slave as controlling tty", async () => {
  const pty = Pty.open(80, 24);
  try {
    pty.spawn({
      file: "sh",
      argv: ["sh", "-c", 'echo "$$ $(ps -o sid= -p $$) $(tty)"'],
      env: baseEnv(),
    });
    const out = (await readAll(pty)).trim();
    const [pid, sid, tty] = out.split(/\s+/);
    assert.equal(pid, String(pty.pid));
    assert.equal(sid, pid);
    assert.equal(tty, pty.ptsName);
    assert.deepEqual(await pty.wait(), { code: 0, signal: null });
  } finally {
    await pty.close();
  }
});

Deno.test("pty: argv[0], environment, working directory, IUTF8, default SIGPIPE", async () => {
  const dir = await Deno.makeTempDir();
  const pty = Pty.open(80, 24);
  try {
    const script =
      'echo "0=$0 FOO=$FOO PWD=$(pwd)"; stty -a | grep -o "[-]*iutf8"; yes | head -n 1';
    pty.spawn({
      file: "/bin/sh",
      argv: ["-mysh", "-c", script],
      env: { ...baseEnv(), FOO: "bar baz" },
      cwd: dir,
    });
    const out = await readAll(pty);
    assert.match(out, new RegExp(`^0=-mysh FOO=bar baz PWD=${dir}\r\n`));
    assert.match(out, /^iutf8\r$/m);
    assert.match(out, /^y\r$/m);
    // `yes` dies of SIGPIPE (not ignored in the child), so the shell exits 0 promptly.
    assert.deepEqual(await pty.wait(), { code: 0, signal: null });
  } finally {
    await pty.close();
    await Deno.remove(dir);
  }
});

Deno.test("pty: large output arrives intact and in order", async () => {
  const pty = Pty.open(80, 24);
  try {
    pty.spawn({ file: "sh", argv: ["sh", "-c", "seq 1 50000"], env: baseEnv() });
    const out = await readAll(pty);
    const lines = out.split("\r\n");
    assert.equal(lines.length, 50001);
    assert.equal(lines[0], "1");
    assert.equal(lines[49999], "50000");
    assert.equal(lines[50000], "");
    await pty.wait();
  } finally {
    await pty.close();
  }
});

Deno.test("pty: large input is queued and delivered in order", async () => {
  const pty = Pty.open(80, 24);
  try {
    // Raw mode so the 4 KiB canonical line limit does not apply; the child echoes a checksum.
    // It starts reading only after a pause, so the kernel's buffer fills and the rest must wait.
    pty.spawn({
      file: "sh",
      argv: ["sh", "-c", "stty raw -echo; echo ready; sleep 0.5; head -c 200000 | cksum"],
      env: baseEnv(),
    });
    await readUntil(pty, /ready/);
    const data = new Uint8Array(200000);
    for (let i = 0; i < data.length; i++) data[i] = 97 + (i % 26);
    pty.write(data);
    assert.ok(pty.pendingWrite > 0, "the kernel cannot take 200 KB at once");
    await pty.flushed();
    assert.equal(pty.pendingWrite, 0);
    const out = await readAll(pty);
    const expected = new Deno.Command("cksum", { stdin: "piped", stdout: "piped" }).spawn();
    const w = expected.stdin.getWriter();
    await w.write(data);
    await w.close();
    const want = decoder.decode((await expected.output()).stdout).trim();
    assert.match(out, new RegExp(`${want.replace(/ /g, " +")}`));
    await pty.wait();
  } finally {
    await pty.close();
  }
});

Deno.test("pty: close() ends a pending read and hangs up the child", async () => {
  const pty = Pty.open(80, 24);
  pty.spawn({ file: "sleep", argv: ["sleep", "30"], env: baseEnv() });
  const pending = pty.read();
  await pty.close();
  assert.equal(await pending, null);
  // The kernel sends SIGHUP to the session when the master goes away.
  assert.deepEqual(await pty.wait(), { code: null, signal: 1 });
  assert.throws(() => pty.write(encoder.encode("x")), /write after close/);
});

Deno.test("pty: kill() and a signal exit status", async () => {
  const pty = Pty.open(80, 24);
  try {
    pty.spawn({ file: "sh", argv: ["sh", "-c", "echo up; exec sleep 30"], env: baseEnv() });
    await readUntil(pty, /up/);
    assert.equal(pty.tryWait(), null);
    pty.kill(15);
    assert.deepEqual(await pty.wait(), { code: null, signal: 15 });
    assert.equal(await readAll(pty), "");
  } finally {
    await pty.close();
  }
});

Deno.test("pty: spawn errors are clear", async () => {
  const pty = Pty.open(80, 24);
  try {
    assert.throws(
      () => pty.spawn({ file: "no-such-program-xyz", argv: ["x"], env: baseEnv() }),
      (e: unknown) =>
        e instanceof PtyError &&
        e.message === "posix_spawnp: no-such-program-xyz: No such file or directory",
    );
    assert.throws(() => pty.resize(0, 10), RangeError);
  } finally {
    await pty.close();
  }
});

Deno.test("pty: helpers", async () => {
  const pw = passwdEntry();
  assert.ok(pw !== null);
  assert.ok(pw.shell.startsWith("/"));
  assert.ok(pw.home.startsWith("/"));
  assert.equal(getWindowSize(987654), null);
  const pty = Pty.open(132, 43);
  try {
    assert.deepEqual(getWindowSize(pty.fd), { cols: 132, rows: 43 });
  } finally {
    await pty.close();
  }
});

Deno.test("pty: only 0, 1 and 2 reach the child; duplicateFd copies are close-on-exec", async () => {
  const F_GETFD = 1;
  const FD_CLOEXEC = 1;
  const inherited = 57; // a plain dup2 clears close-on-exec, as an inherited descriptor would be
  const copy = 58;
  assert.ok(libc().dup2(0, inherited) === inherited);
  duplicateFd(0, copy);
  const pty = Pty.open(80, 24);
  try {
    assert.equal(libc().fcntl(copy, F_GETFD, 0) & FD_CLOEXEC, FD_CLOEXEC);
    assert.equal(libc().fcntl(inherited, F_GETFD, 0) & FD_CLOEXEC, 0);
    const pid = pty.spawn({
      file: "sh",
      argv: ["sh", "-c", "echo up; exec sleep 30"],
      env: baseEnv(),
    });
    await readUntil(pty, /up/);
    // Read the descriptors once `sleep` runs: while it starts, the dynamic loader has its
    // libraries open for a moment (fd 3 under load).
    for (let i = 0;; i++) {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      if (stat.includes("(sleep) S ")) break;
      assert.ok(i < 250, `the child did not settle into sleep: ${stat}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].map((e) => Number(e.name));
    assert.deepEqual(fds.sort((a, b) => a - b), [0, 1, 2]);
    pty.kill(15);
    await pty.wait();
  } finally {
    await pty.close();
    libc().close(inherited);
    libc().close(copy);
  }
});

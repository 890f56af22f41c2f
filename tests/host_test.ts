// Tests for the session host (lib/host.ts, lib/host_client.ts, lib/control.ts, lib/udp_port.ts,
// lib/session.ts with several connections): every test has its own control directory
// (MOSH_DENO_DIR) and so its own host, which it ends with SIGTERM.
import assert from "node:assert/strict";
import { U64_MAX } from "../lib/protobuf.ts";
import { requireDebianPackages } from "./deps.ts";
import { alive, cleanEnv, delay, OUR_SERVER, startClient, waitGone } from "./harness.ts";
import { HOST_FLAG } from "../lib/server_args.ts";
import { type Connect, connectOf, controlDir, server, stopHost } from "./host_harness.ts";
import { Probe } from "./probe.ts";
import { Relay } from "./relay.ts";
import type { Tmux } from "./tmux.ts";

const SHELL = ["bash", "--norc", "--noprofile"];

/** Starts a probe on `c` at 80x24 and waits for the shell's prompt. */
async function attachProbe(c: Connect, cols = 80, rows = 24): Promise<Probe> {
  const p = new Probe(c.port, c.key, cols, rows);
  p.resize(cols, rows);
  await p.waitFor(/prompt\$/, 15000);
  return p;
}

async function hostLog(dir: string): Promise<string> {
  try {
    return await Deno.readTextFile(`${dir}/host.log`);
  } catch {
    return "";
  }
}

Deno.test("host: 20 sessions in one host, usable at once; list and kill", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  try {
    const connects: Connect[] = [];
    for (let i = 1; i <= 20; i++) {
      const c = connectOf(
        await server(dir, ["new", "--name", `s${i}`, "-i", "127.0.0.1", "--", ...SHELL]),
      );
      pid ??= c.pid;
      assert.equal(c.pid, pid, "every session is in the one host");
      connects.push(c);
    }
    assert.equal(new Set(connects.map((c) => c.key)).size, 20, "a fresh key per session");
    probes.push(...await Promise.all(connects.map((c) => attachProbe(c))));
    // Type in every session at once; each shows its own result only.
    probes.forEach((p, i) => p.type(`echo R$((${i + 1} * 1000 + 7))\r`));
    await Promise.all(probes.map((p, i) => p.waitFor(new RegExp(`^R${(i + 1) * 1000 + 7}$`, "m"))));
    for (const [i, p] of probes.entries()) {
      const other = (i + 1) % 20 + 1;
      assert.doesNotMatch(p.lines.join("\n"), new RegExp(`^R${other * 1000 + 7}$`, "m"));
    }

    const list = await server(dir, ["list"]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 20, list.stdout);
    for (let i = 1; i <= 20; i++) {
      const line = lines.find((l) => l.split("\t")[1] === `s${i}`);
      assert.ok(line, `s${i} listed in\n${list.stdout}`);
      assert.match(line, /\t80x24\tbash --norc --noprofile\t127\.0\.0\.1:\d+ \(heard \d+s ago\)$/);
    }

    // kill s5: its client gets the clean shutdown; the others go on.
    const killed = await server(dir, ["kill", "s5"]);
    assert.equal(killed.code, 0, killed.stderr);
    await probes[4].until(
      "the shutdown state",
      () => probes[4].transport.remoteStateNum === U64_MAX,
      10000,
    );
    await probes[4].until(
      "our shutdown ack",
      () => probes[4].transport.counterpartyShutdownAckSent,
    );
    probes[5].type("echo STILL$((6*7))\r");
    await probes[5].waitFor(/^STILL42$/m);
    const after = await server(dir, ["list"]);
    assert.equal(after.stdout.trimEnd().split("\n").length, 19, after.stdout);
    assert.doesNotMatch(after.stdout, /\ts5\t/);
    const missing = await server(dir, ["kill", "s5"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "no session s5\n");
    assert.doesNotMatch(
      await hostLog(dir),
      new RegExp(connects[0].key.slice(0, 12).replace(/[+/]/g, "\\$&")),
    );
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: --session creates then attaches; two clients share one session; --detach-others; SIGTERM", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  try {
    const first = connectOf(
      await server(dir, ["--session=work", "new", "-i", "127.0.0.1", "--", ...SHELL]),
    );
    pid = first.pid;
    const a = await attachProbe(first, 100, 30);
    probes.push(a);
    a.type("echo ONE$((1+1))\r");
    await a.waitFor(/^ONE2$/m);

    // The same command again attaches to "work": a fresh key, the current screen.
    const second = connectOf(
      await server(dir, ["--session=work", "new", "-i", "127.0.0.1", "--", ...SHELL]),
    );
    assert.equal(second.pid, pid);
    assert.notEqual(second.key, first.key);
    const b = new Probe(second.port, second.key, 80, 24);
    probes.push(b);
    b.resize(80, 24);
    await b.waitFor(/^ONE2$/m, 10000);

    // Either can type; both see it. The size is the smaller of the two.
    b.type("echo TWO$((2+2)); stty size\r");
    await Promise.all([a.waitFor(/^TWO4$/m), b.waitFor(/^TWO4$/m)]);
    await b.waitFor(/^24 80$/m);
    const list = await server(dir, ["list"]);
    assert.match(
      list.stdout,
      /^1\twork\t\d+s\t80x24\tbash --norc --noprofile\t127\.0\.0\.1:\d+ \(heard \d+s ago\), 127\.0\.0\.1:\d+ \(heard \d+s ago\)\n$/,
    );

    // attach by id, with a trailing `new …` as wrappers append it, and --detach-others.
    const third = connectOf(
      await server(dir, ["attach", "1", "--detach-others", "new", "-s", "--", "ignored"]),
    );
    const c = new Probe(third.port, third.key, 90, 28);
    probes.push(c);
    c.resize(90, 28);
    await c.waitFor(/^TWO4$/m, 10000);
    for (const p of [a, b]) {
      await p.until("the shutdown state", () => p.transport.remoteStateNum === U64_MAX, 10000);
    }
    c.type("echo THREE$((3+3)); stty size\r");
    await c.waitFor(/^THREE6$/m);
    await c.waitFor(/^28 90$/m);

    // SIGTERM to the host: every session shuts down cleanly, then the host exits.
    Deno.kill(pid, "SIGTERM");
    await c.until("the host's shutdown", () => c.transport.remoteStateNum === U64_MAX, 10000);
    await c.until("our shutdown ack", () => c.transport.counterpartyShutdownAckSent);
    assert.ok(await waitGone(pid, 8000), "the host exited with its last session");
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: Debian's mosh-client attaches to a session our client left, and sees its screen", async () => {
  await requireDebianPackages(["mosh", "tmux"]);
  const dir = await controlDir();
  let pid: number | null = null;
  let t: Tmux | null = null;
  const probes: Probe[] = [];
  try {
    const made = connectOf(
      await server(dir, ["new", "--name", "ed", "-i", "127.0.0.1", "--", ...SHELL]),
    );
    pid = made.pid;
    const a = await attachProbe(made);
    a.type("for i in 1 2 3; do echo LINE-$i; done\r");
    await a.waitFor(/^LINE-3$/m);
    const screen = a.lines;
    await a.close(); // the client is gone without a word (as after SIGKILL)

    const attached = connectOf(await server(dir, ["attach", "ed"]));
    t = await startClient(attached.port, attached.key, { client: "debian" });
    await t.waitFor(/^LINE-3$/m, 15000);
    const pane = (await t.capture()).split("\n").map((l) => l.trimEnd());
    assert.deepEqual(pane.slice(0, screen.length), screen);
    await t.sendText("echo DEB$((40+2))\r");
    await t.waitFor(/^DEB42$/m, 10000);

    // Ours attaches too while Debian's stays: both show the same output.
    const ours = connectOf(await server(dir, ["attach", "ed"]));
    const b = new Probe(ours.port, ours.key);
    probes.push(b);
    b.resize(80, 24);
    await b.waitFor(/^DEB42$/m, 10000);
    b.type("echo BOTH$((5*5))\r");
    await b.waitFor(/^BOTH25$/m);
    await t.waitFor(/^BOTH25$/m, 10000);

    // --detach-others ends Debian's client with mosh's message.
    const alone = connectOf(await server(dir, ["attach", "ed", "--detach-others"]));
    const c = new Probe(alone.port, alone.key);
    probes.push(c);
    c.resize(80, 24);
    await c.waitFor(/^BOTH25$/m, 10000);
    await t.waitFor(/CLIENT-EXIT=0/, 15000);
  } finally {
    await t?.kill();
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: a session's shell has its own SSH_CONNECTION and descriptors 0, 1, 2 only", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  try {
    const cmd = [
      "sh",
      "-c",
      'echo "SC=$SSH_CONNECTION"; echo "PID=$$"; exec sleep 60',
    ];
    const one = connectOf(
      await server(dir, ["new", "-i", "127.0.0.1", "--", ...cmd], {
        SSH_CONNECTION: "10.0.0.1 1 10.0.0.2 22",
      }),
    );
    pid = one.pid;
    const two = connectOf(
      await server(dir, ["new", "-i", "127.0.0.1", "--", ...cmd], {
        SSH_CONNECTION: "10.9.9.1 2 10.9.9.2 22",
      }),
    );
    const p1 = new Probe(one.port, one.key), p2 = new Probe(two.port, two.key);
    probes.push(p1, p2);
    p1.resize(80, 24);
    p2.resize(80, 24);
    await p1.waitFor(/^SC=10\.0\.0\.1 1 10\.0\.0\.2 22$/m, 10000);
    await p2.waitFor(/^SC=10\.9\.9\.1 2 10\.9\.9\.2 22$/m, 10000);
    // Read from outside (the shell has exec'd sleep): a listing made by the shell itself raced
    // with the pipe it made for it (`ls | tr` saw the pipe's fd 3 now and then).
    for (const p of [p1, p2]) {
      await p.waitFor(/^PID=\d+$/m, 10000);
      const shell = Number(/^PID=(\d+)$/m.exec(p.lines.join("\n"))![1]);
      const fds = [...Deno.readDirSync(`/proc/${shell}/fd`)].map((e) => Number(e.name));
      assert.deepEqual(fds.sort((a, b) => a - b), [0, 1, 2]);
    }
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: a session that fails inside its loop ends alone", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  try {
    // The test-only trigger works because the host's own environment enables test hooks.
    const env = { MOSH_DENO_TEST_HOOKS: "1", MOSH_DENO_TEST_FAIL_ON: "BOOM-NOW" };
    const a = connectOf(await server(dir, ["new", "-i", "127.0.0.1", "--", ...SHELL], env));
    pid = a.pid;
    const b = connectOf(await server(dir, ["new", "-i", "127.0.0.1", "--", ...SHELL]));
    const pa = await attachProbe(a), pb = await attachProbe(b);
    probes.push(pa, pb);
    pa.type("printf 'BOOM-%s\\n' NOW\r");
    await pa.until(
      "the failed session's shutdown",
      () => pa.transport.remoteStateNum === U64_MAX,
      10000,
    );
    await pa.until("our shutdown ack", () => pa.transport.counterpartyShutdownAckSent);
    pb.type("echo ALIVE$((6*7))\r");
    await pb.waitFor(/^ALIVE42$/m);
    let log = "";
    for (let i = 0; i < 50 && !/session 1 ended: failed/.test(log); i++) {
      await delay(100);
      log = await hostLog(dir);
    }
    assert.match(log, /session 1: session failed: Error: test-only failure trigger/);
    assert.match(log, /session 1 ended: failed/);
    const list = await server(dir, ["list"]);
    assert.match(list.stdout, /^2\t-\t/);
    assert.equal(list.stdout.trimEnd().split("\n").length, 1);
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: three sessions on one port, each client roaming, each keystroke to its own session", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  const relays: Relay[] = [];
  try {
    const blocker = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const port = (blocker.addr as Deno.NetAddr).port;
    blocker.close();
    const connects: Connect[] = [];
    for (let i = 0; i < 3; i++) {
      connects.push(
        connectOf(
          await server(dir, ["new", "-p", String(port), "-i", "127.0.0.1", "--", ...SHELL]),
        ),
      );
    }
    pid = connects[0].pid;
    assert.deepEqual(connects.map((c) => c.port), [port, port, port]);
    for (const c of connects) {
      const relay = Relay.start({ target: { hostname: "127.0.0.1", port } });
      relays.push(relay);
      const p = new Probe(relay.port, c.key, 80, 24);
      probes.push(p);
      p.resize(80, 24);
    }
    await Promise.all(probes.map((p) => p.waitFor(/prompt\$/, 15000)));
    for (let round = 1; round <= 3; round++) {
      relays.forEach((r, i) => r.changeSource({ hostname: `127.0.0.${2 + ((i + round) % 3)}` }));
      probes.forEach((p, i) => p.type(`echo S${i}R${round}X$((${i}+${round}))\r`));
      await Promise.all(
        probes.map((p, i) => p.waitFor(new RegExp(`^S${i}R${round}X${i + round}$`, "m"))),
      );
    }
    for (const [i, p] of probes.entries()) {
      for (let j = 0; j < 3; j++) {
        if (j !== i) assert.doesNotMatch(p.lines.join("\n"), new RegExp(`^S${j}R`, "m"));
      }
    }
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await Promise.all(relays.map((r) => r.close()));
    await stopHost(pid);
  }
});

Deno.test("host: a bad control directory or socket is refused in one line, nothing started", async () => {
  const base = await Deno.makeTempDir({ prefix: "mosh-host-test-" });
  const cases: [string, () => Promise<void>, RegExp][] = [
    [
      `${base}/open`,
      () =>
        Deno.mkdir(`${base}/open`, { mode: 0o755 }).then(() => Deno.chmod(`${base}/open`, 0o755)),
      /mode 755 gives others access/,
    ],
    [`${base}/link`, async () => {
      await Deno.mkdir(`${base}/real`, { mode: 0o700 });
      await Deno.symlink(`${base}/real`, `${base}/link`);
    }, /refusing a symbolic link/],
    [`${base}/file`, () => Deno.writeTextFile(`${base}/file`, ""), /not a directory/],
    [`${base}/sockfile`, async () => {
      await Deno.mkdir(`${base}/sockfile`, { mode: 0o700 });
      await Deno.writeTextFile(`${base}/sockfile/host.sock`, "");
    }, /control socket .*: not a socket/],
  ];
  if (Deno.uid() === 0) {
    cases.push([`${base}/other`, async () => {
      await Deno.mkdir(`${base}/other`, { mode: 0o700 });
      await Deno.chown(`${base}/other`, 65534, 65534);
    }, /owned by uid 65534, not by you/]);
  }
  for (const [dir, make, why] of cases) {
    await make();
    for (const args of [["new", "--", "true"], ["list"], ["kill", "1"], ["attach", "x"]]) {
      const r = await server(dir, args);
      assert.equal(r.code, 1, `${dir} ${args}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^mosh-server: control (directory|socket) \S+: .+\n$/);
      assert.match(r.stderr, why);
    }
    const entries = [];
    try {
      for await (const e of Deno.readDir(dir)) entries.push(e.name);
    } catch {
      // not a directory
    }
    assert.ok(!entries.includes("host.log"), `nothing started in ${dir}`);
  }
});

Deno.test("host: concurrent first calls leave exactly one host; a bad request does not stop it", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  try {
    const runs = await Promise.all(
      [0, 1, 2, 3].map(() => server(dir, ["new", "-i", "127.0.0.1", "--", ...SHELL])),
    );
    const connects = runs.map(connectOf);
    pid = connects[0].pid;
    assert.deepEqual(connects.map((c) => c.pid), [pid, pid, pid, pid]);

    // Junk on the control socket: garbage, an oversized length, a silent client.
    const path = `${dir}/host.sock`;
    const junk = await Deno.connect({ transport: "unix", path });
    await junk.write(new Uint8Array([0, 0, 0, 5, 1, 2, 3, 4, 5]));
    const big = await Deno.connect({ transport: "unix", path });
    await big.write(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    const silent = await Deno.connect({ transport: "unix", path });
    await delay(200);
    junk.close();
    big.close();
    probes.push(await attachProbe(connects[3]));
    probes[0].type("echo OK$((20+1))\r");
    await probes[0].waitFor(/^OK21$/m);
    const list = await server(dir, ["list"]);
    assert.equal(list.stdout.trimEnd().split("\n").length, 4, list.stdout);
    silent.close();
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: before its first session, a connection that ends early does not end the host", async () => {
  // What a host that lost the start race does: it connects to the winner's socket and closes.
  const dir = await controlDir();
  await Deno.mkdir(dir, { mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  const host = new Deno.Command(OUR_SERVER[0], {
    args: [...OUR_SERVER.slice(1), HOST_FLAG, dir],
    env: cleanEnv({ MOSH_DENO_DIR: dir }),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let pid: number | null = host.pid;
  try {
    const deadline = Date.now() + 15000;
    for (;;) {
      try {
        (await Deno.connect({ transport: "unix", path: `${dir}/host.sock` })).close();
        break;
      } catch {
        assert.ok(Date.now() < deadline, "the host did not listen");
        await delay(50);
      }
    }
    await delay(500);
    assert.ok(alive(host.pid), "the host is still there after the probe");
    const c = connectOf(await server(dir, ["new", "-i", "127.0.0.1", "--", ...SHELL]));
    assert.equal(c.pid, host.pid, "`new` reached the host that was probed");
  } finally {
    await stopHost(pid);
    pid = null;
    await host.status;
  }
});

Deno.test("host: a host of another version makes `new` run standalone, saying so in one line", async () => {
  const dir = await controlDir();
  await Deno.mkdir(dir, { mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  const listener = Deno.listen({ transport: "unix", path: `${dir}/host.sock` });
  const answering = (async () => {
    for await (const conn of listener) {
      const body = new TextEncoder().encode(
        JSON.stringify({ ok: false, mismatch: true, error: "the session host is mosh-deno 0.9" }),
      );
      const frame = new Uint8Array(4 + body.length);
      new DataView(frame.buffer).setUint32(0, body.length);
      frame.set(body, 4);
      await conn.read(new Uint8Array(65536));
      await conn.write(frame);
      conn.close();
    }
  })();
  let pid: number | null = null;
  try {
    const r = await server(dir, ["new", "-i", "127.0.0.1", "--", "sleep", "30"]);
    const c = connectOf(r);
    pid = c.pid;
    assert.ok(
      r.stderr.startsWith(
        "mosh-server: the session host is mosh-deno 0.9, not this version; " +
          "running this session standalone.\n",
      ),
      r.stderr,
    );
    assert.notEqual(pid, Deno.pid);
    assert.ok(alive(pid));
  } finally {
    listener.close();
    await answering.catch(() => {});
    if (pid !== null && alive(pid)) {
      Deno.kill(pid, "SIGKILL");
      await waitGone(pid, 5000);
    }
  }
});

Deno.test("host: SIGUSR1 applies each session's own MOSH_SERVER_SIGNAL_TMOUT", async () => {
  const dir = await controlDir();
  let pid: number | null = null;
  const probes: Probe[] = [];
  try {
    const quick = connectOf(
      await server(dir, ["new", "--name", "quick", "-i", "127.0.0.1", "--", ...SHELL], {
        MOSH_SERVER_SIGNAL_TMOUT: "1",
      }),
    );
    pid = quick.pid;
    const slow = connectOf(
      await server(dir, ["new", "--name", "slow", "-i", "127.0.0.1", "--", ...SHELL], {
        MOSH_SERVER_SIGNAL_TMOUT: "3600",
      }),
    );
    const a = await attachProbe(quick), b = await attachProbe(slow);
    probes.push(a, b);
    // Both clients keep acknowledging (heartbeats) but send no new state for 1.5 s.
    await Promise.all([a.run(1500), b.run(1500)]);
    Deno.kill(pid, "SIGUSR1");
    await a.until("quick's shutdown", () => a.transport.remoteStateNum === U64_MAX, 10000);
    await a.until("our shutdown ack", () => a.transport.counterpartyShutdownAckSent);
    b.type("echo SLOW$((8*8))\r");
    await b.waitFor(/^SLOW64$/m);
    const log = await hostLog(dir);
    assert.match(log, /session 1: Network idle for 1 seconds when SIGUSR1 received/);
    assert.doesNotMatch(log, /session 2: Network idle/);
  } finally {
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

Deno.test("host: a client attaching to a session with history first receives what the ring holds", async () => {
  await requireDebianPackages(["tmux"]);
  const dir = await controlDir();
  let pid: number | null = null;
  let t: Tmux | null = null;
  const probes: Probe[] = [];
  try {
    const made = connectOf(
      await server(dir, ["new", "--name", "hist", "-i", "127.0.0.1", "--", ...SHELL]),
    );
    pid = made.pid;
    const a = await attachProbe(made);
    probes.push(a);
    a.type("seq 1 300\r");
    await a.waitFor(/^300$/m);
    // Our client attaches: its pane's scrollback gets the session's history, in order, once.
    const attached = connectOf(await server(dir, ["attach", "hist"]));
    t = await startClient(attached.port, attached.key, { historyLimit: 5000 });
    const deadline = performance.now() + 20000;
    let nums: number[] = [];
    while (performance.now() < deadline) {
      const all = (await t.capture({ history: 5000 })).split("\n");
      nums = all.filter((l) => /^\d+$/.test(l)).map(Number);
      if (nums.length >= 300) break;
      await delay(200);
    }
    assert.deepEqual(nums, Array.from({ length: 300 }, (_, i) => i + 1));
  } finally {
    await t?.kill();
    await Promise.all(probes.map((p) => p.close()));
    await stopHost(pid);
  }
});

// Forwarding options (lib/forward_spec.ts) and their parsing in mosh-client mode (client.ts) and
// the wrapper (lib/wrapper_args.ts); the server's refusal switches.

import assert from "node:assert/strict";
import { forwardingRefusal, ForwardSpecError, parseForwardSpec } from "../lib/forward_spec.ts";
import { detectMode, parseClientArgs } from "../client.ts";
import { parseWrapperArgs } from "../lib/wrapper_args.ts";

Deno.test("-L specs: ssh's syntax, loopback by default, brackets for IPv6, bad ones one line", () => {
  assert.deepEqual(parseForwardSpec("L", "8080:example.org:80"), {
    kind: "L",
    bindHost: "127.0.0.1",
    bindPort: 8080,
    host: "example.org",
    hostPort: 80,
  });
  assert.deepEqual(parseForwardSpec("L", "[::1]:8080:[2001:db8::1]:443"), {
    kind: "L",
    bindHost: "::1",
    bindPort: 8080,
    host: "2001:db8::1",
    hostPort: 443,
  });
  assert.equal(parseForwardSpec("L", "0.0.0.0:1:h:2").bindHost, "0.0.0.0");
  assert.equal(parseForwardSpec("D", "1080").bindPort, 1080);
  for (
    const bad of [
      "8080",
      "8080:h",
      "70000:h:80",
      "8080:h:0",
      "x:h:80",
      "8080::80",
      "[::1:8080:h:80",
    ]
  ) {
    assert.throws(() => parseForwardSpec("L", bad), (e: Error) => {
      assert.ok(e instanceof ForwardSpecError);
      assert.ok(e.message.startsWith(`-L ${bad}: `) && !e.message.includes("\n"), e.message);
      return true;
    });
  }
});

Deno.test("mosh-client mode takes -L before IP PORT; the wrapper takes -L too", () => {
  const args = ["-L", "8080:127.0.0.1:80", "-L9090:h:90", "127.0.0.1", "60001"];
  assert.equal(detectMode(["-L", "8080:127.0.0.1:80", "127.0.0.1", "60001"]), "client");
  const cmd = parseClientArgs(args);
  assert.equal(cmd.kind, "run");
  if (cmd.kind === "run") assert.deepEqual(cmd.forwards.map((f) => f.bindPort), [8080, 9090]);
  const bad = parseClientArgs(["-L", "nope", "127.0.0.1", "60001"]);
  assert.equal(bad.kind, "error");
  const w = parseWrapperArgs(["-L", "8080:localhost:80", "--local", "host"]);
  assert.equal(w.kind, "run");
  if (w.kind === "run") {
    assert.equal(w.options.forwards.length, 1);
    assert.equal(w.options.local, true);
  }
  assert.equal(parseWrapperArgs(["-L", "bad", "host"]).kind, "usage-error");
  const d = parseClientArgs(["-D", "1080", "127.0.0.1", "60001"]);
  assert.equal(d.kind, "run");
  if (d.kind === "run") {
    assert.deepEqual(d.forwards.map((f) => [f.kind, f.bindPort]), [["D", 1080]]);
  }
  assert.equal(detectMode(["-D", "1080", "127.0.0.1", "60001"]), "client");
  const wd = parseWrapperArgs(["-D1080", "host"]);
  assert.ok(wd.kind === "run" && wd.options.forwards[0].kind === "D");
});

Deno.test("the server refuses forwarding with MOSH_SERVER_FORWARDING=0 or a root-owned file", () => {
  const env = (v?: string) => ({
    get: (n: string) => n === "MOSH_SERVER_FORWARDING" ? v : undefined,
  });
  assert.equal(forwardingRefusal(env(), "/nonexistent/no-forwarding"), null);
  assert.match(forwardingRefusal(env("0"), "/nonexistent/no-forwarding") ?? "", /disabled/);
  const file = Deno.makeTempFileSync();
  try {
    // This test runs as root, so a file it makes is root-owned.
    if (Deno.statSync(file).uid === 0) {
      assert.match(forwardingRefusal(env(), file) ?? "", /disabled/);
    } else assert.equal(forwardingRefusal(env(), file), null);
  } finally {
    Deno.removeSync(file);
  }
});

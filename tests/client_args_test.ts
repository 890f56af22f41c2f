// Unit tests of client.ts's mosh-client mode: argument-mode detection, option parsing, the colour
// count of -c, and the firewall hint's wording. The client as a process: tests/client_test.ts.

import assert from "node:assert/strict";
import { detectMode, parseClientArgs } from "../client.ts";
import { colorsFor } from "../lib/terminfo.ts";
import { firewallHint } from "../lib/client_session.ts";

Deno.test("detectMode: mosh-client forms", () => {
  assert.equal(detectMode(["-c"]), "client");
  assert.equal(detectMode(["-c", "extra"]), "client");
  assert.equal(detectMode(["127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-v", "127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-vv", "-v", "::1", "60001"]), "client");
  assert.equal(detectMode(["2001:db8::1", "1"]), "client");
  // mosh's wrapper passes the original command line as one argument after -#.
  assert.equal(detectMode(["-# 127.0.0.1 |", "127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-#", "host |", "127.0.0.1", "60001"]), "client");
  assert.equal(detectMode(["-#x", "1.2.3.4", "6x"]), "client");
});

Deno.test("detectMode: everything else is the mosh wrapper", () => {
  assert.equal(detectMode([]), "wrapper");
  assert.equal(detectMode(["user@host"]), "wrapper");
  assert.equal(detectMode(["localhost", "60001"]), "wrapper"); // host + command
  assert.equal(detectMode(["127.0.0.1", "6x"]), "wrapper"); // host + command "6x"
  assert.equal(detectMode(["127.0.0.1"]), "wrapper");
  assert.equal(detectMode(["127.0.0.1", "60001", "x"]), "wrapper");
  assert.equal(detectMode(["--local", "127.0.0.1"]), "wrapper");
  assert.equal(detectMode(["999.0.0.1", "60001"]), "wrapper");
  assert.equal(detectMode(["-x", "127.0.0.1", "60001"]), "wrapper");
  assert.equal(detectMode(["--help"]), "wrapper");
});

Deno.test("parseClientArgs: --no-scrollback (our extension's switch)", () => {
  assert.deepEqual(parseClientArgs(["--no-scrollback", "127.0.0.1", "60001"]), {
    kind: "run",
    ip: "127.0.0.1",
    port: 60001,
    verbose: 0,
    scrollback: false,
    forwards: [],
    agent: false,
  });
  assert.equal(detectMode(["--no-scrollback", "127.0.0.1", "60001"]), "client");
});

Deno.test("parseClientArgs: getopt-style options", () => {
  assert.deepEqual(parseClientArgs(["127.0.0.1", "60001"]), {
    kind: "run",
    ip: "127.0.0.1",
    port: 60001,
    verbose: 0,
    scrollback: true,
    forwards: [],
    agent: false,
  });
  assert.deepEqual(parseClientArgs(["-# mosh host |", "-vv", "::1", "5"]), {
    kind: "run",
    ip: "::1",
    port: 5,
    verbose: 2,
    scrollback: true,
    forwards: [],
    agent: false,
  });
  assert.deepEqual(parseClientArgs(["-#", "a b", "-v", "10.0.0.1", "65535"]), {
    kind: "run",
    ip: "10.0.0.1",
    port: 65535,
    verbose: 1,
    scrollback: true,
    forwards: [],
    agent: false,
  });
  assert.deepEqual(parseClientArgs(["-vc"]), { kind: "colors" });
  assert.deepEqual(parseClientArgs(["-c", "1", "2", "3"]), { kind: "colors" });
  assert.deepEqual(parseClientArgs(["1", "2", "--help"]), { kind: "help" });
  assert.deepEqual(parseClientArgs(["--version"]), { kind: "version" });
  assert.deepEqual(parseClientArgs(["-#"]), {
    kind: "error",
    message: "mosh-client: option requires an argument -- '#'",
  });
  assert.deepEqual(parseClientArgs(["-x", "1.2.3.4", "1"]), {
    kind: "error",
    message: "mosh-client: invalid option -- 'x'",
  });
  assert.deepEqual(parseClientArgs(["127.0.0.1"]), { kind: "error", message: "" });
  assert.deepEqual(parseClientArgs(["127.0.0.1", "6x"]), {
    kind: "error",
    message: "mosh-client: Bad UDP port (6x)",
  });
  assert.deepEqual(parseClientArgs(["127.0.0.1", "65536"]), {
    kind: "error",
    message: "mosh-client: Bad UDP port (65536)",
  });
  const bad = parseClientArgs(["-#", "x", "localhost", "1"]);
  assert.equal(bad.kind, "error");
  assert.match((bad as { message: string }).message, /^mosh-client: Bad IP address \(localhost\)/);
});

Deno.test("-c: colours from terminfo, 0 for an unknown or unset TERM", () => {
  assert.equal(colorsFor("xterm-256color"), 256);
  assert.equal(colorsFor("xterm"), 8);
  assert.equal(colorsFor("no-such-terminal-type"), 0);
  assert.equal(colorsFor(undefined), 0);
});

Deno.test("firewall hint wording", () => {
  assert.equal(
    firewallHint("127.0.0.1", 60001),
    "\nmosh did not make a successful connection to 127.0.0.1:60001.\n" +
      "Please verify that UDP port 60001 is not firewalled and can reach the server.\n\n" +
      "(By default, mosh uses a UDP port between 60000 and 61000. The -p option\n" +
      "selects a specific UDP port number.)\n",
  );
});

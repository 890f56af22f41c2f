// mosh-client's start (lib/client_start.ts): the first datagram is state 1, our capabilities then
// the real terminal's size, sent before the emulator's modules load; and the server's pty gets
// that size from it (docs/PROTOCOL.md §8.0, §6.1; docs/EXTENSIONS.md). Our client runs through
// bin/mosh-client in a tmux pane of an unusual size (97x31), so a default size cannot pass.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { delay, type Kind, startClient, startServer, stopServer, waitGone } from "./harness.ts";
import { runClient } from "../lib/client_start.ts";
import type { TerminalIo } from "../lib/real_terminal.ts";
import { DatagramCodec, TO_CLIENT } from "../lib/datagram.ts";
import { FragmentAssembly } from "../lib/fragment.ts";
import { generateKey } from "../lib/key.ts";
import type { Instruction } from "../lib/protobuf.ts";
import { UserStream } from "../lib/user_stream.ts";
import {
  AGENT_FORWARDING,
  ATTRIBUTES,
  FORWARDING,
  SCROLLBACK,
  TERMINAL_FEATURES,
} from "../lib/extensions.ts";

const COLS = 97;
const ROWS = 31;

/**
 * A server that never answers: a UDP socket on loopback with a fresh key, which opens (with the
 * session's key, as a server would) and reassembles what the client sends.
 */
class SilentServer {
  readonly key: string;
  readonly port: number;
  readonly #socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  readonly #codec: DatagramCodec;
  readonly #assembly = new FragmentAssembly();

  constructor() {
    const { printable, key } = generateKey();
    this.key = printable;
    this.port = (this.#socket.addr as Deno.NetAddr).port;
    this.#codec = new DatagramCodec(key, TO_CLIENT);
  }

  /** The next instruction the client sent; null once the socket is closed. */
  async next(): Promise<Instruction | null> {
    for (;;) {
      let datagram: Uint8Array;
      try {
        [datagram] = await this.#socket.receive();
      } catch {
        return null; // closed
      }
      const opened = this.#codec.open(datagram);
      assert.ok(opened !== null, "a datagram from the client opens with the session's key");
      const inst = this.#assembly.add(opened.payload);
      if (inst !== null) return inst;
    }
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * Starts our client in a 97x31 pane against a server that never answers, and returns the first
 * instruction it receives.
 */
async function firstInstruction(args: string[], env: Record<string, string>): Promise<Instruction> {
  const server = new SilentServer();
  const pane = await startClient(server.port, server.key, {
    client: "launcher",
    cols: COLS,
    rows: ROWS,
    args,
    env,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no datagram from the client in 20 s")), 20000);
    });
    const inst = await Promise.race([server.next(), timeout]);
    assert.ok(inst !== null);
    return inst;
  } finally {
    clearTimeout(timer);
    await pane.kill();
    server.close();
  }
}

Deno.test("client start: the first datagram is state 1, our capabilities then the pane's size", async () => {
  await requireDebianPackages(["tmux"]);
  const [plain, agent] = await Promise.all([
    firstInstruction([], {}),
    // -A: the forwarding capabilities are announced in the same first state.
    delay(300).then(() => firstInstruction(["-A"], { SSH_AUTH_SOCK: "/tmp/no-such-agent.sock" })),
  ]);
  for (
    const [inst, caps] of [
      [plain, [SCROLLBACK, TERMINAL_FEATURES, ATTRIBUTES]],
      [agent, [SCROLLBACK, TERMINAL_FEATURES, ATTRIBUTES, FORWARDING, AGENT_FORWARDING]],
    ] as const
  ) {
    assert.equal(inst.oldNum, 0n);
    assert.equal(inst.newNum, 1n);
    assert.equal(inst.ackNum, 0n);
    const stream = new UserStream();
    stream.applyString(inst.diff);
    assert.deepEqual(stream.events(), [
      { type: "capabilities", caps: [...caps] },
      { type: "resize", width: COLS, height: ROWS },
    ]);
  }
});

/** Our client in a 97x31 pane against `server`: the shell's first `stty size` shows 31 97. */
async function firstSize(server: Kind): Promise<void> {
  await requireDebianPackages(["mosh", "tmux"]);
  const s = await startServer(server, { launcher: true });
  const pane = await startClient(s.port, s.key, { client: "launcher", cols: COLS, rows: ROWS });
  try {
    await pane.waitFor(/^prompt\$/m, 15000);
    // No resize happened: the pty's size can only have come from the first state.
    await pane.sendText("stty size\r");
    await pane.waitFor(new RegExp(`^${ROWS} ${COLS}$`, "m"), 5000);
  } finally {
    await pane.kill();
    await stopServer(s);
  }
}

Deno.test("client start: our server's pty has the pane's size from the first state", async () => {
  await firstSize("ours");
});

Deno.test("client start: Debian's mosh-server's pty has the pane's size from the first state", async () => {
  await firstSize("debian");
});

/** A terminal that passes the check but cannot be put in raw mode (it went away in between). */
const brokenTerminal: TerminalIo = {
  input: {
    read: () => Promise.resolve(null),
    setRaw: () => {
      throw new Error("tcsetattr: Input/output error (os error 5)");
    },
    isTerminal: () => true,
  },
  output: { writeSync: (bytes) => bytes.length },
  consoleSize: () => ({ columns: 80, rows: 24 }),
};

/**
 * State 1 is out before the terminal is set up, so the server has started the shell when the
 * set-up fails: the client ends the session with the shutdown handshake, and the server (which
 * has no network timeout here) exits at once instead of waiting for the client forever.
 */
async function abandonedSession(kind: Kind): Promise<void> {
  await requireDebianPackages(["mosh"]);
  const s = await startServer(kind);
  try {
    const errors: string[] = [];
    const status = await runClient({
      ip: "127.0.0.1",
      port: s.port,
      key: s.key,
      term: "xterm-256color",
      io: brokenTerminal,
      printErr: (text) => errors.push(text),
      printOut: () => {},
    });
    assert.equal(status, 1);
    assert.equal(
      errors.join(""),
      "mosh-client: cannot set up the terminal: tcsetattr: Input/output error\n",
    );
    assert.ok(await waitGone(s.pid, 5000), `the ${kind} server ended with the session`);
  } finally {
    await stopServer(s);
  }
}

Deno.test("client start: a terminal that cannot be set up ends our server's session", async () => {
  await abandonedSession("ours");
});

Deno.test("client start: a terminal that cannot be set up ends Debian's mosh-server's session", async () => {
  await abandonedSession("debian");
});

Deno.test("client start: after a failed set-up, a shutdown nobody acknowledges is given up in about 2 s", async () => {
  // What the silent server receives: state 1, then the shutdown state u64(-1), resent.
  const server = new SilentServer();
  const states: bigint[] = [];
  const receiving = (async () => {
    for (let inst = await server.next(); inst !== null; inst = await server.next()) {
      states.push(inst.newNum);
    }
  })();
  const t0 = performance.now();
  const status = await runClient({
    ip: "127.0.0.1",
    port: server.port,
    key: server.key,
    term: "xterm-256color",
    io: brokenTerminal,
    printErr: () => {},
    printOut: () => {},
  });
  const took = performance.now() - t0;
  server.close();
  await receiving;
  assert.equal(status, 1);
  assert.ok(took >= 1900 && took < 5000, `gave up after ${took.toFixed(0)} ms`);
  assert.equal(states[0], 1n, "state 1 first");
  assert.ok(states.includes(2n ** 64n - 1n), `the shutdown state was sent: ${states.join(", ")}`);
});

// How soon a typed letter shows over a 500 ms round trip, end to end (docs/PROTOCOL.md §8.4
// epochs and confirmation, §6.3 echo ack): the client on a pty (LANG=C.UTF-8,
// MOSH_PREDICTION_DISPLAY=always) talks to our server or Debian's mosh-server through
// tests/relay.ts, 250 ms each way. Issue 12's defect: after a burst typed before our client had
// its first frames (it starts ~0.4 s later than C's), the first letter waited a round trip.
//
// - Burst at the prompt: `echo ` typed at once, then single letters after pauses of 0.5 s to
//   12 s and a few 150 ms apart. Once the burst's echo has confirmed the epoch, every later
//   letter is a confirmed prediction and must show at once: far below the round trip.
// - Burst before the first frame: the relay holds the server's datagrams while `echo ` is typed,
//   so the client predicts it over a screen the server has not drawn yet (its guesses land at
//   the top-left corner, not after the prompt). Our client takes the server's echo of the typed
//   text at its cursor as the confirmation (lib/prediction.ts, `#echoed`), so here too every
//   later letter shows at once. C mosh kills that epoch instead, and its first letter waits for
//   a round trip: with CLIENT_EXPERIENCE_CLIENT=debian (Debian's mosh-client, which checks the
//   other expectations against C mosh) this scenario asserts that difference instead.
//
// The client runs on a pty the test owns and its output feeds an emulator (tests/pty_client.ts):
// a letter's time is from its write to the pty to its first appearance in its cell, with no tmux
// polling in the way. A letter that waits for the server takes at least the 500 ms round trip;
// a predicted one takes 1-15 ms. The issue asked for every letter within 50 ms, but on this
// 2-core machine under load (load average 14) one letter in 30 now and then took 60-70 ms while
// the process waited for a core, so the bounds are: the median within 50 ms, and every letter
// within 150 ms, still far from the round trip. The scenarios run concurrently but type one at
// a time.

import assert from "node:assert/strict";
import { requireDebianPackages } from "./deps.ts";
import { Relay } from "./relay.ts";
import {
  delay,
  type Kind,
  PROMPT,
  runScenarios,
  type Server,
  startServer,
  stopServer,
} from "./harness.ts";
import { PtyClient } from "./pty_client.ts";

const CLIENT = Deno.env.get("CLIENT_EXPERIENCE_CLIENT") === "debian" ? "debian" : "ours";
/** One-way delay of the relay (ms). */
const ONE_WAY = 250;
/** Every letter must show within this (ms). */
const EACH_BOUND = 150;
/** The median letter must show within this (ms). */
const MEDIAN_BOUND = 50;
/** Pauses (ms) before the single letters typed after the burst. */
const PAUSES = [500, 1500, 3000, 12000, 150, 150, 150, 150];

interface Scene {
  relay: Relay;
  client: PtyClient;
}

/**
 * Starts `kind`'s server, the relay and the client on a pty, then runs `body`. With
 * `holdFirstFrames` the relay holds every datagram to the client from the start.
 */
async function withScene(
  kind: Kind,
  holdFirstFrames: boolean,
  body: (s: Scene) => Promise<void>,
): Promise<void> {
  let server: Server | null = null;
  let relay: Relay | null = null;
  let client: PtyClient | null = null;
  try {
    server = await startServer(kind);
    relay = Relay.start({
      target: { hostname: "127.0.0.1", port: server.port },
      toServer: { delayMs: ONE_WAY },
      toClient: { delayMs: ONE_WAY },
      maxLifetimeMs: 120000,
    });
    if (holdFirstFrames) relay.hold("toClient");
    client = new PtyClient(CLIENT, relay.port, server.key, {
      env: { LANG: "C.UTF-8", MOSH_PREDICTION_DISPLAY: "always" },
    });
    await body({ relay, client });
  } finally {
    await client?.close();
    await relay?.close();
    await stopServer(server);
  }
}

/**
 * The scenarios run concurrently but type one at a time, so that one's keystroke does not slow
 * another's.
 */
let typing: Promise<unknown> = Promise.resolve();

/** Runs `f` when no other scenario is typing. */
function exclusively<T>(f: () => Promise<T>): Promise<T> {
  const run = typing.then(f);
  typing = run.catch(() => {});
  return run;
}

/** Types `ch` at the cursor and returns the ms until it shows there. Throws after 3 s. */
async function typeAndTime(c: PtyClient, ch: string): Promise<number> {
  const at = c.cursor();
  const before = c.latencies.length;
  c.key(ch.charCodeAt(0), at);
  await c.until(`"${ch}" at ${at.row},${at.col}`, () => c.pending.length === 0, 3000);
  return c.latencies[before];
}

/** Letters after PAUSES (at least); returns the time each took to show. */
async function timeLetters(c: PtyClient): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < PAUSES.length; i++) {
    await delay(PAUSES[i]);
    times.push(await exclusively(() => typeAndTime(c, "abcdefghijklmnopqrstuvwxyz"[i])));
  }
  return times;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Asserts that every letter showed within EACH_BOUND and their median within MEDIAN_BOUND. */
function assertAtOnce(times: number[], what: string): void {
  const shown = `${what}: letters took ${times.map((ms) => ms.toFixed(1)).join(", ")} ms`;
  const late = times.filter((ms) => ms > EACH_BOUND);
  assert.equal(late.length, 0, `${shown} (bound ${EACH_BOUND} ms each)`);
  assert.ok(median(times) <= MEDIAN_BOUND, `${shown} (bound ${MEDIAN_BOUND} ms for the median)`);
}

/** Waits until the prompt row reads `line` with the cursor after it. */
async function waitLine(c: PtyClient, line: string, ms = 20000): Promise<void> {
  await c.until(`"${line}"`, () => {
    const { row, col } = c.cursor();
    return c.rowText(row) === line.trimEnd() && col === line.length;
  }, ms);
}

/** `echo ` at the prompt, its echo, then single letters: every one shows at once. */
async function burstAtPrompt(kind: Kind): Promise<void> {
  await withScene(kind, false, async ({ client: c }) => {
    await waitLine(c, PROMPT);
    c.type("echo ");
    await waitLine(c, `${PROMPT}echo `, 10000);
    const times = await timeLetters(c);
    assertAtOnce(times, `${kind} server, burst at the prompt`);
    await waitLine(c, `${PROMPT}echo abcdefgh`);
  });
}

/**
 * `echo ` typed while the relay holds the server's first frames; released, the server's echo
 * shows. Our client: every later letter at once. C mosh: the first one waits a round trip.
 */
async function burstBeforeFirstFrame(kind: Kind): Promise<void> {
  await withScene(kind, true, async ({ relay, client: c }) => {
    // The client runs (and reads its input) once its first datagram has arrived; then give the
    // server time to start the shell (typed ahead of the prompt, "echo " would show twice).
    for (let i = 0; relay.stats.toServer.received === 0; i++) {
      assert.ok(i < 400, "the client sent nothing in 20 s");
      await delay(50);
    }
    await delay(ONE_WAY + 1500);
    const sent = relay.stats.toServer.received;
    c.type("echo ");
    for (let i = 0; relay.stats.toServer.received === sent; i++) {
      assert.ok(i < 100, "the client did not send what was typed");
      await delay(20);
    }
    assert.ok(!c.term.screenText().includes(PROMPT), "a frame reached the client while held");
    relay.release("toClient");
    await waitLine(c, `${PROMPT}echo `, 10000);
    const times = await timeLetters(c);
    const what = `${kind} server, burst before the first frame`;
    if (CLIENT === "ours") {
      assertAtOnce(times, what);
    } else {
      const shown = times.map((ms) => ms.toFixed(1)).join(", ");
      assert.ok(times[0] >= 2 * ONE_WAY, `${what}: C's first letter waited: ${shown} ms`);
      assertAtOnce(times.slice(1), what);
    }
    await waitLine(c, `${PROMPT}echo abcdefgh`);
  });
}

Deno.test("prediction latency: every letter after a burst shows at once over a 500 ms round trip", async (t) => {
  await requireDebianPackages(["mosh", "tmux"]);
  await runScenarios(t, [
    ["our server, burst at the prompt", () => burstAtPrompt("ours")],
    ["Debian's server, burst at the prompt", () => burstAtPrompt("debian")],
    ["our server, burst before the first frame", () => burstBeforeFirstFrame("ours")],
    ["Debian's server, burst before the first frame", () => burstBeforeFirstFrame("debian")],
  ], Deno.env.get("CLIENT_EXPERIENCE_ONLY"));
});

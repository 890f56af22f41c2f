// A large paste into a shell that reads nothing for 5 s (docs/PROTOCOL.md §5, §6.1): the client
// reads at most MAX_UNACKED_INPUT (256 KiB) of keystrokes ahead of the server's
// acknowledgements, and the server takes no new client state while more than 1 MiB waits for
// the shell, so neither program's memory follows the size of the paste; afterwards the paste
// arrives whole, once, in order.
//
// What the client read from its terminal is /proc/PID/io's rchar (read(2) bytes; the UDP
// socket's recvmsg is not counted): while the shell sleeps it must stay near the two bounds
// (1 MiB + 256 KiB), not follow the paste.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { requireDebianPackages } from "./deps.ts";
import {
  clientPid,
  delay,
  procFile,
  rssMiB,
  startClient,
  startServer,
  stopServer,
} from "./harness.ts";
import { tmux as runTmux } from "./tmux.ts";

/** The shell's pause before it starts reading (ms); the stall is observed inside it. */
const STALL_MS = 5000;

/** `bytes` of base64 text in 76-character lines (short lines suit the tty's canonical mode). */
function pasteText(bytes: number): string {
  const raw = new Uint8Array(Math.ceil((bytes * 3) / 4));
  for (let i = 0; i < raw.length; i += 65536) crypto.getRandomValues(raw.subarray(i, i + 65536));
  const b64 = Buffer.from(raw).toString("base64").slice(0, bytes - Math.ceil(bytes / 77));
  return b64.replace(/.{1,76}/g, "$&\n");
}

/**
 * Most the client may have read from its terminal during the stall: the server's 1 MiB queue
 * plus one client state of up to 256 KiB + one read (16 KiB) that crosses it, the client's own
 * 256 KiB + 16 KiB, the tty's 4 KiB, and 512 KiB of slack for the runtime's other reads.
 */
const READ_AHEAD_BOUND = (1 << 20) + 2 * (272 << 10) + (4 << 10) + (512 << 10);

async function sha256(text: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function rchar(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(procFile(pid, "io"))?.[1] ?? NaN);
}

async function pasteIntoSleepingShell(size: number): Promise<void> {
  await requireDebianPackages(["tmux"]);
  const dir = await Deno.makeTempDir({ prefix: "mosh-paste-" });
  const file = `${dir}/pasted`;
  const text = pasteText(size);
  const server = await startServer("ours", {
    command: ["sh", "-c", `stty -echo; echo ready; sleep ${STALL_MS / 1000}; cat > ${file}`],
  });
  const tmux = await startClient(server.port, server.key);
  try {
    await tmux.waitFor(/^ready$/m, 20000);
    const client = await clientPid(tmux);
    const rss0 = { server: rssMiB(server.pid), client: rssMiB(client) };
    const read0 = rchar(client);
    // tmux turns each LF of a pasted buffer into CR; the tty's ICRNL turns it back.
    await Deno.writeTextFile(`${dir}/buffer`, text);
    await runTmux(tmux.socket, ["load-buffer", `${dir}/buffer`]);
    await runTmux(tmux.socket, ["paste-buffer", "-t", "main"]);
    await tmux.sendKeys("C-d"); // cat's end of input, after the paste
    const pastedAt = performance.now();
    // Inside the stall: what the client read, and both programs' memory.
    await delay(STALL_MS - 1500);
    const read = rchar(client) - read0;
    const grown = {
      server: rssMiB(server.pid) - rss0.server,
      client: rssMiB(client) - rss0.client,
    };
    console.log(
      `${size} B paste, ${(performance.now() - pastedAt).toFixed(0)} ms in: client read ` +
        `${read} B; RSS growth server ${grown.server.toFixed(1)} MiB, client ${
          grown.client.toFixed(1)
        } MiB`,
    );
    // Measured (6 MB): with the bounds the client reads 1.6 MB, the server grows 6 MiB and the
    // client 17 MiB; without them 6.2 MB, 18 MiB and 52 MiB. The read-ahead bound is the sharp
    // check; resident memory moves with the collector's timing (the server grew 6-14 MiB over
    // eight runs of either paste on 2026-12-04, with a 1 or 2 MB young generation alike).
    assert.ok(
      read <= READ_AHEAD_BOUND,
      `the client read ${read} B ahead of a shell that reads nothing`,
    );
    assert.ok(grown.server < 16, `server RSS grew ${grown.server.toFixed(1)} MiB`);
    assert.ok(grown.client < 32, `client RSS grew ${grown.client.toFixed(1)} MiB`);
    // The shell reads after the stall; the session ends when cat has everything.
    await tmux.waitFor(/CLIENT-EXIT=/, 60000);
    console.log(`delivered after ${((performance.now() - pastedAt) / 1000).toFixed(1)} s`);
    const got = await Deno.readFile(file);
    assert.equal(got.length, new TextEncoder().encode(text).length, "the whole paste, once");
    assert.equal(await sha256(got), await sha256(text));
  } finally {
    await tmux.kill();
    await stopServer(server);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("paste: 1 MB into a shell that reads nothing for 5 s: bounded, then whole and once", async () => {
  await pasteIntoSleepingShell(1_000_000);
});

Deno.test("paste: 6 MB into a shell that reads nothing for 5 s: bounded, then whole and once", async () => {
  await pasteIntoSleepingShell(6_000_000);
});

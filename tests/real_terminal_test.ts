// Unit tests of lib/real_terminal.ts on a fake terminal: the open and close sequences, raw mode,
// partial writes, and how read errors end the input.

import assert from "node:assert/strict";
import { CLOSE_MODES, RealTerminal, type TerminalIo } from "../lib/real_terminal.ts";

/** A fake terminal for RealTerminal: records writes (in small pieces) and raw-mode changes. */
function fakeIo(reads: (Uint8Array | Error | null)[]) {
  const log: string[] = [];
  let written = "";
  const io: TerminalIo = {
    input: {
      read(buf) {
        const next = reads.shift();
        if (next instanceof Error) return Promise.reject(next);
        if (next === null || next === undefined) return Promise.resolve(null);
        buf.set(next);
        return Promise.resolve(next.length);
      },
      setRaw(mode) {
        log.push(`raw ${mode}`);
      },
      isTerminal: () => true,
    },
    output: {
      writeSync(b) {
        const n = Math.min(b.length, 3); // partial writes: the loop must finish the job
        written += new TextDecoder().decode(b.subarray(0, n));
        return n;
      },
    },
    consoleSize: () => ({ columns: 0, rows: 0 }),
  };
  return { io, log, written: () => written };
}

Deno.test("RealTerminal: open/close sequences, raw mode, partial writes", () => {
  const f = fakeIo([]);
  const rt = new RealTerminal({ smcup: "<smcup>", rmcup: "<rmcup>", io: f.io });
  rt.open();
  assert.equal(f.written(), "<smcup>\x1b[?1h");
  assert.ok(rt.write(new TextEncoder().encode("hello, world")));
  rt.close();
  rt.close(); // idempotent
  assert.equal(
    f.written(),
    "<smcup>\x1b[?1hhello, world\x1b[?1l\x1b[0m\x1b[?25h\x1b[?1003l\x1b[?1002l\x1b[?1001l" +
      "\x1b[?1000l\x1b[?1015l\x1b[?1006l\x1b[?1005l<rmcup>",
  );
  assert.deepEqual(f.log, ["raw true", "raw false"]);
  // A zero size (no terminal size known) falls back to 80x24.
  assert.deepEqual(rt.size(), { cols: 80, rows: 24 });
});

Deno.test("RealTerminal: EOF and EIO end the input; other errors are rethrown", async () => {
  const f = fakeIo([
    new Uint8Array([1, 2]),
    new Error("Input/output error (os error 5)"),
    new Uint8Array([3]),
    null,
    new TypeError("boom"),
  ]);
  const rt = new RealTerminal({ io: f.io });
  const buf = new Uint8Array(16);
  assert.equal(await rt.read(buf), 2);
  assert.equal(await rt.read(buf), null); // EIO: the terminal went away
  assert.equal(await rt.read(buf), 1);
  assert.equal(await rt.read(buf), null); // EOF
  await assert.rejects(() => rt.read(buf), TypeError);
});

Deno.test("RealTerminal: a cursor shape is applied once and reset at close and suspend", () => {
  const f = fakeIo([]);
  const rt = new RealTerminal({ io: f.io });
  rt.open();
  rt.setCursorShape(5);
  rt.setCursorShape(5);
  rt.close(); // suspend or exit
  assert.equal(f.written(), "\x1b[?1h\x1b[5 q\x1b[0 q" + CLOSE_MODES);
  rt.reopen(); // SIGCONT: the next paint applies it again
  rt.setCursorShape(5);
  rt.close();
  assert.ok(f.written().endsWith("\x1b[?1h\x1b[5 q\x1b[0 q" + CLOSE_MODES), f.written());
  // Without a shape, close writes exactly mosh's sequence.
  const g = fakeIo([]);
  const plain = new RealTerminal({ io: g.io });
  plain.open();
  plain.close();
  assert.equal(g.written(), "\x1b[?1h" + CLOSE_MODES);
});

/**
 * `deno bench` entries for synchronized output (lib/synchronized_output.ts, docs/PROTOCOL.md §7.3):
 * the server's cost of a full 200x60 frame drawn in two writes, with and without mode 2026, and
 * without 2026 but published (snapshotted) once per frame, which is what a frame costs whenever
 * the server sends it. Holding an update costs one frozen copy per frame: the copy-on-write of
 * the rows the frame then rewrites, the same as a snapshot.
 */

import { SynchronizedOutput } from "../lib/synchronized_output.ts";
import { TerminalState } from "../lib/terminal_state.ts";

const encoder = new TextEncoder();
let frame = "\x1b[H";
for (let r = 0; r < 60; r++) frame += `row ${r} ${"x".repeat(150)}\r\n`;
const half = frame.length >> 1;

function frames(sync: boolean, snapshot: boolean): () => void {
  const a = encoder.encode((sync ? "\x1b[?2026h" : "") + frame.slice(0, half));
  const b = encoder.encode(frame.slice(half) + (sync ? "\x1b[?2026l" : ""));
  const state = new TerminalState(200, 60);
  const out = new SynchronizedOutput();
  let now = 0;
  return () => {
    for (let i = 0; i < 100; i++) {
      state.terminal.write(a);
      out.publish(state, now);
      state.terminal.write(b);
      const p = out.publish(state, now++);
      if (snapshot) p.terminal.snapshot();
    }
  };
}

Deno.bench({ name: "100 frames 200x60, no 2026", fn: frames(false, false) });
Deno.bench({ name: "100 frames 200x60, no 2026, each published", fn: frames(false, true) });
Deno.bench({ name: "100 frames 200x60, each inside 2026", fn: frames(true, false) });

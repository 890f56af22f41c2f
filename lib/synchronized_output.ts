/**
 * Synchronized output on the server (DEC private mode 2026, beyond mosh; docs/PROTOCOL.md §7.3,
 * §9.3): which state the server publishes to its clients.
 *
 * While the application holds an update (`CSI ? 2026 h` ... `CSI ? 2026 l`), the emulator keeps a
 * frozen copy of the terminal taken when the update began (lib/terminal.ts `synchronizedUpdate`).
 * The server then publishes that copy, with the echo ack it had then (a keystroke echoed inside
 * the update is acknowledged with the update, so the client's prediction never sees its echo as
 * missing), instead of the live state: no client, C or ours, ever receives a half-drawn frame.
 * The rest of the state (our extensions' fields) stays live, so a connection starting during an
 * update still receives the server's announcement.
 *
 * An update that the application never ends is ended after SYNC_HOLD_LIMIT, as terminals do
 * (kitty, foot, WezTerm and Windows Terminal use 150 ms to 1 s): a crashed or stopped program must
 * not freeze the session.
 */

import type { Terminal } from "./terminal.ts";
import type { TerminalState } from "./terminal_state.ts";
import { WAIT_FOREVER } from "./transport.ts";

/**
 * Longest hold of one synchronized update, in ms. One second, the bound xterm.js and WezTerm use:
 * long enough for a TUI that draws a frame in chunks over a slow pty, short enough that a program
 * stopped mid-update (Ctrl-Z, a crash) unfreezes the screen within a second.
 */
export const SYNC_HOLD_LIMIT = 1000;

/**
 * A copy of `live` that shows `terminal` with echo ack `echoAck`; every other part of the state
 * (whatever `clone` copies: extension fields too) is live's.
 */
function showing(live: TerminalState, terminal: Terminal, echoAck: bigint): TerminalState {
  const own = live.terminal;
  live.terminal = terminal;
  try {
    const copy = live.clone();
    copy.echoAck = echoAck;
    return copy;
  } finally {
    live.terminal = own;
  }
}

/** The server's choice between the live state and the frozen copy of a synchronized update. */
export class SynchronizedOutput {
  #held: Terminal | null = null;
  #ack = 0n;
  #since = 0;

  /**
   * The state to publish now for `live`: `live` itself, or while an update is held (at most
   * SYNC_HOLD_LIMIT ms after it was first seen, then the update is ended) a copy showing the
   * frozen terminal and the echo ack of when the update was first seen.
   */
  publish(live: TerminalState, now: number): TerminalState {
    const held = live.terminal.synchronizedUpdate;
    if (held === null) {
      this.#held = null;
      return live;
    }
    if (this.#held === null) {
      this.#since = now;
      this.#ack = live.echoAck;
    }
    this.#held = held;
    if (now - this.#since >= SYNC_HOLD_LIMIT) {
      live.terminal.endSynchronizedUpdate();
      this.#held = null;
      return live;
    }
    return showing(live, held, this.#ack);
  }

  /** True when an update is held and its bound has passed: publish again to release it. */
  expired(now: number): boolean {
    return this.#held !== null && now - this.#since >= SYNC_HOLD_LIMIT;
  }

  /** Ms until `expired` turns true, or WAIT_FOREVER when nothing is held. */
  waitTime(now: number): number {
    return this.#held === null ? WAIT_FOREVER : Math.max(0, this.#since + SYNC_HOLD_LIMIT - now);
  }
}

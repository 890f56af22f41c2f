/**
 * Drives transports over real sockets for tests and benches: runs their timers and receive paths
 * until a condition holds, sleeping until the next timer or until a datagram arrives (`wakeAll`,
 * called from the connections' listeners).
 */

import type { SyncState, Transport } from "../lib/transport.ts";
import { decodeUserMessage } from "../lib/protobuf.ts";

const wakers = new Set<() => void>();

/** Ends the current `pump` wait at once; call it when a datagram arrived. */
export const wakeAll = (): void => [...wakers].forEach((w) => w());

/** Runs the transports' timers until `done()`; throws after `limitMs`. */
export async function pump<L extends SyncState<L>, R extends SyncState<R>>(
  transports: Transport<L, R>[],
  done: () => boolean,
  limitMs = 5000,
): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error("pump: timed out");
    for (const tr of transports) tr.tick();
    const wait = Math.min(20, ...transports.map((tr) => tr.waitTime()));
    await new Promise<void>((resolve) => {
      const id = setTimeout(() => {
        wakers.delete(wake);
        resolve();
      }, wait);
      const wake = () => {
        clearTimeout(id);
        wakers.delete(wake);
        resolve();
      };
      wakers.add(wake);
    });
  }
}

const dec = new TextDecoder();

/** A user diff as text: keys as they are, `<WxH>` for a resize, `<capabilities>`; `|` between. */
export function describeUserDiff(diff: Uint8Array): string {
  return decodeUserMessage(diff).map((e) =>
    e.type === "keys"
      ? dec.decode(e.keys)
      : e.type === "resize"
      ? `<${e.width}x${e.height}>`
      : "<capabilities>"
  ).join("|");
}

/**
 * The client's synchronised state, mosh's `UserStream` (docs/PROTOCOL.md §6.1): the sequence of
 * everything the user did, as events "one input byte" and "resize to W×H", plus our extension's
 * event "these are my capabilities" (lib/extensions.ts; the client's first state holds it before
 * its first resize; it is neither input nor a resize for the server).
 *
 * - `diffFrom(existing)`: `existing` is a prefix of this stream; the events after it become a
 *   ClientBuffers.UserMessage in which each run of consecutive bytes is one `keystroke` and each
 *   resize its own `resize` instruction. Nothing new serializes to the empty string.
 * - `applyString(diff)` appends the message's events; `subtract(prefix)` drops a prefix's events
 *   from the front (the SSP sender does this once the peer acknowledged them).
 * - Equality is event by event.
 *
 * Bytes are stored as immutable chunks, not one object per byte, so pasting a large buffer costs
 * one copy, and clones (made by SSP on every send) share the chunks. Chunk boundaries carry no
 * meaning: equality, diffs and subtraction look only at the event sequence.
 *
 * Resizes outside 1..4096 per side or above 2^20 cells are ignored when applying a received diff
 * and counted in `rejectedResizes` (C mosh accepts any size).
 */

import type { Capability } from "./extensions.ts";
import type { ControlEvent } from "./extension_codec.ts";
import { decodeUserMessage, encodeUserMessage, type UserEvent, validResize } from "./protobuf.ts";
import type { SyncState } from "./transport.ts";

/** Byte chunks smaller than this are merged with the next push, to keep the chunk list short. */
const SMALL_CHUNK = 1024;
const EMPTY = new Uint8Array(0);

interface Resize {
  readonly width: number;
  readonly height: number;
}

interface Capabilities {
  readonly caps: readonly Capability[];
}

interface Control {
  readonly control: ControlEvent;
}

type Segment = Uint8Array | Resize | Capabilities | Control;

/**
 * The client → server state: user input bytes and resizes (docs/PROTOCOL.md §6.1).
 *
 * @example The server's copy follows the client's through diffs
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const client = new UserStream();
 * const server = new UserStream();
 * client.pushResize(80, 24);
 * client.pushBytes(new TextEncoder().encode("ls\r"));
 * server.applyString(client.diffFrom(server));
 * assert.ok(server.equals(client));
 * assert.deepEqual(server.events(), [
 *   { type: "resize", width: 80, height: 24 },
 *   { type: "keys", keys: new TextEncoder().encode("ls\r") },
 * ]);
 * ```
 */
export class UserStream implements SyncState<UserStream> {
  /** Chunks of bytes (never empty) and resizes, oldest first. Shared with clones: immutable. */
  #segments: Segment[] = [];
  #size = 0;
  #rejected = 0;

  /** The number of events (each byte counts as one). */
  get size(): number {
    return this.#size;
  }

  /** True when the stream holds no event. */
  get empty(): boolean {
    return this.#size === 0;
  }

  /** Received resizes ignored as out of range, over this state's whole history. */
  get rejectedResizes(): number {
    return this.#rejected;
  }

  /** Appends input bytes (copied). */
  pushBytes(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const segments = this.#segments;
    const last = segments[segments.length - 1];
    if (last instanceof Uint8Array && last.length < SMALL_CHUNK) {
      const merged = new Uint8Array(last.length + bytes.length);
      merged.set(last);
      merged.set(bytes, last.length);
      segments[segments.length - 1] = merged;
    } else {
      segments.push(bytes.slice());
    }
    this.#size += bytes.length;
  }

  /** Appends a resize event. */
  pushResize(width: number, height: number): void {
    this.#segments.push(Object.freeze({ width, height }));
    this.#size++;
  }

  /** Appends a capabilities announcement (our extension). */
  pushCapabilities(caps: readonly Capability[]): void {
    this.#segments.push(Object.freeze({ caps }));
    this.#size++;
  }

  /** Appends channel control operations (forwarding; lib/channel_control.ts encodes `ops`). */
  pushControl(start: number, ops: Uint8Array): void {
    this.#segments.push(
      Object.freeze({ control: { type: "control", start, ops } as ControlEvent }),
    );
    this.#size++;
  }

  /** The events after the first `skip`, with consecutive bytes merged into one `keys` event. */
  events(skip = 0): UserEvent[] {
    const segments = this.#segments;
    let i = 0;
    let offset = 0;
    let remaining = skip;
    while (i < segments.length && remaining > 0) {
      const seg = segments[i];
      const count = seg instanceof Uint8Array ? seg.length : 1;
      if (count <= remaining) {
        remaining -= count;
        i++;
      } else {
        offset = remaining;
        remaining = 0;
      }
    }
    const out: UserEvent[] = [];
    let run: Uint8Array[] = [];
    let runLength = 0;
    const flush = () => {
      if (runLength === 0) return;
      let keys: Uint8Array;
      if (run.length === 1) keys = run[0];
      else {
        keys = new Uint8Array(runLength);
        let at = 0;
        for (const chunk of run) {
          keys.set(chunk, at);
          at += chunk.length;
        }
      }
      out.push({ type: "keys", keys });
      run = [];
      runLength = 0;
    };
    for (; i < segments.length; i++) {
      const seg = segments[i];
      if (seg instanceof Uint8Array) {
        const chunk = offset > 0 ? seg.subarray(offset) : seg;
        offset = 0;
        run.push(chunk);
        runLength += chunk.length;
      } else if ("caps" in seg) {
        flush();
        out.push({ type: "capabilities", caps: seg.caps });
      } else if ("control" in seg) {
        flush();
        out.push(seg.control);
      } else {
        flush();
        out.push({ type: "resize", width: seg.width, height: seg.height });
      }
    }
    flush();
    return out;
  }

  /** An independent copy (sharing the immutable chunks). */
  clone(): UserStream {
    const copy = new UserStream();
    copy.#segments = this.#segments.slice();
    copy.#size = this.#size;
    copy.#rejected = this.#rejected;
    return copy;
  }

  /** Event-by-event equality. */
  equals(other: UserStream): boolean {
    if (this === other) return true;
    if (this.#size !== other.#size) return false;
    const a = this.#segments;
    const b = other.#segments;
    let i = 0;
    let j = 0;
    let ai = 0;
    let bj = 0;
    while (i < a.length && j < b.length) {
      const x = a[i];
      const y = b[j];
      if (x instanceof Uint8Array) {
        if (!(y instanceof Uint8Array)) return false;
        if (x === y && ai === 0 && bj === 0) {
          i++;
          j++;
          continue;
        }
        const n = Math.min(x.length - ai, y.length - bj);
        for (let k = 0; k < n; k++) {
          if (x[ai + k] !== y[bj + k]) return false;
        }
        ai += n;
        bj += n;
        if (ai === x.length) {
          i++;
          ai = 0;
        }
        if (bj === y.length) {
          j++;
          bj = 0;
        }
      } else if ("caps" in x) {
        if (!("caps" in y) || !sameCapabilities(x.caps, y.caps)) return false;
        i++;
        j++;
      } else if ("control" in x) {
        if (!("control" in y) || x.control.start !== y.control.start) return false;
        i++;
        j++;
      } else {
        if (y instanceof Uint8Array || "caps" in y || "control" in y) return false;
        if (x.width !== y.width || x.height !== y.height) return false;
        i++;
        j++;
      }
    }
    return i === a.length && j === b.length;
  }

  /**
   * The UserMessage holding the events after `existing`, which must be a prefix of this stream;
   * empty when there are none.
   */
  diffFrom(existing: UserStream): Uint8Array {
    if (existing.#size >= this.#size) return EMPTY;
    return encodeUserMessage(this.events(existing.#size));
  }

  /**
   * Appends the events of a UserMessage. Throws ProtocolError for a malformed message (nothing is
   * appended then); out-of-range resizes are skipped and counted.
   */
  applyString(diff: Uint8Array): void {
    for (const event of decodeUserMessage(diff)) {
      if (event.type === "keys") this.pushBytes(event.keys);
      else if (event.type === "capabilities") this.pushCapabilities(event.caps);
      else if (event.type === "control") this.pushControl(event.start, event.ops);
      else if (validResize(event.width, event.height)) this.pushResize(event.width, event.height);
      else this.#rejected++;
    }
  }

  /** Drops `prefix`'s events from the front (`prefix` must be a prefix of this stream). */
  subtract(prefix: UserStream): void {
    let remaining = Math.min(prefix.#size, this.#size);
    if (remaining === 0) return;
    const segments = this.#segments;
    this.#size -= remaining;
    let drop = 0;
    while (remaining > 0) {
      const seg = segments[drop];
      const count = seg instanceof Uint8Array ? seg.length : 1;
      if (count <= remaining) {
        remaining -= count;
        drop++;
      } else {
        segments[drop] = (seg as Uint8Array).subarray(remaining);
        remaining = 0;
      }
    }
    segments.splice(0, drop);
  }
}

function sameCapabilities(a: readonly Capability[], b: readonly Capability[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].name !== b[i].name || a[i].version !== b[i].version) return false;
  }
  return true;
}

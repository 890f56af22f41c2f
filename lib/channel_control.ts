/**
 * Channel control operations: what opens, refuses, resets and closes a forwarded channel
 * (docs/EXTENSIONS.md "Forwarding"). They ride inside the synchronised states (extension field
 * `EXT_CHANNEL_CONTROL` of lib/extensions.ts, docs/PROTOCOL.md §4.4, §13), so SSP delivers them
 * reliably however many datagrams are lost; the bytes of a channel travel in segments instead
 * (lib/channel_segment.ts).
 *
 * One control field holds a run of operations, each:
 * ```
 * kind u8 | channel u32 BE | body
 *   OPEN    1  rule u16, port u16, host length u8, host (UTF-8; empty for -R and -A rules)
 *   OPENED  2  (nothing)
 *   REFUSED 3  reason length u8, reason (UTF-8)
 *   RESET   4  (nothing)
 *   CLOSE   5  (nothing)
 *   LISTEN  6  as OPEN (the -R rule's number, bind port and bind address; channel 0)
 *   LISTEN_FAILED 7  rule u16, reason length u8, reason (channel 0)
 * ```
 */

import { ProtocolError } from "./errors.ts";

/** Operation kinds. */
export const ControlKind: {
  readonly Open: 1;
  readonly Opened: 2;
  readonly Refused: 3;
  readonly Reset: 4;
  readonly Close: 5;
  readonly Listen: 6;
  readonly ListenFailed: 7;
} = Object.freeze({
  /** Open a channel to host:port (client) or for rule `rule` (server). */
  Open: 1,
  /** The target of an OPEN was connected. */
  Opened: 2,
  /** The target of an OPEN was refused, with `reason`. */
  Refused: 3,
  /** The channel is gone at once. */
  Reset: 4,
  /** Both directions of the channel are finished. */
  Close: 5,
  /** Client to server: listen for `-R` rule `rule` on host:port (channel unused, 0). */
  Listen: 6,
  /** Server to client: the listen for `rule` failed, with `reason`. */
  ListenFailed: 7,
});

/** Longest host name or reason carried, bytes. */
export const MAX_CONTROL_TEXT = 255;
/** Most operations accepted in one control field. */
export const MAX_CONTROL_OPS = 1024;

/** One control operation. `host`/`port`/`rule` for OPEN, `reason` for REFUSED. */
export interface ControlOp {
  /** A ControlKind. */
  readonly kind: number;
  /** The channel number (0 for LISTEN and LISTEN_FAILED). */
  readonly channel: number;
  /** The forwarding rule's number (`-R` rules from 0, AGENT_RULE for `-A`). */
  readonly rule?: number;
  /** The target or listen address. */
  readonly host?: string;
  /** The target or listen port. */
  readonly port?: number;
  /** Why an OPEN or a LISTEN failed, one line. */
  readonly reason?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function text(s: string | undefined): Uint8Array {
  const b = encoder.encode(s ?? "");
  return b.length > MAX_CONTROL_TEXT ? b.subarray(0, MAX_CONTROL_TEXT) : b;
}

/** Encodes operations into one control field's bytes. */
export function encodeControl(ops: readonly ControlOp[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const op of ops) {
    let body: Uint8Array;
    if (op.kind === ControlKind.ListenFailed) {
      const reason = text(op.reason);
      const rule = op.rule ?? 0;
      body = new Uint8Array(3 + reason.length);
      body[0] = rule >> 8;
      body[1] = rule & 0xff;
      body[2] = reason.length;
      body.set(reason, 3);
    } else if (op.kind === ControlKind.Open || op.kind === ControlKind.Listen) {
      const host = text(op.host);
      body = new Uint8Array(5 + host.length);
      const rule = op.rule ?? 0;
      const port = op.port ?? 0;
      body[0] = rule >> 8;
      body[1] = rule & 0xff;
      body[2] = port >> 8;
      body[3] = port & 0xff;
      body[4] = host.length;
      body.set(host, 5);
    } else if (op.kind === ControlKind.Refused) {
      const reason = text(op.reason);
      body = new Uint8Array(1 + reason.length);
      body[0] = reason.length;
      body.set(reason, 1);
    } else body = new Uint8Array(0);
    const head = new Uint8Array(5);
    head[0] = op.kind;
    new DataView(head.buffer).setUint32(1, op.channel);
    parts.push(head, body);
    n += 5 + body.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decodes one control field; throws ProtocolError for anything malformed. */
export function decodeControl(b: Uint8Array): ControlOp[] {
  const ops: ControlOp[] = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  const need = (n: number): void => {
    if (at + n > b.length) throw new ProtocolError("channel control: truncated");
  };
  const str = (n: number): string => {
    need(n);
    try {
      return decoder.decode(b.subarray(at, at + n));
    } catch {
      throw new ProtocolError("channel control: text is not UTF-8");
    } finally {
      at += n;
    }
  };
  while (at < b.length) {
    if (ops.length >= MAX_CONTROL_OPS) throw new ProtocolError("channel control: too many ops");
    need(5);
    const kind = b[at];
    const channel = view.getUint32(at + 1);
    at += 5;
    if (kind === ControlKind.ListenFailed) {
      need(3);
      const rule = view.getUint16(at);
      const len = b[at + 2];
      at += 3;
      ops.push({ kind, channel, rule, reason: str(len) });
    } else if (kind === ControlKind.Open || kind === ControlKind.Listen) {
      need(5);
      const rule = view.getUint16(at);
      const port = view.getUint16(at + 2);
      const len = b[at + 4];
      at += 5;
      ops.push({ kind, channel, rule, port, host: str(len) });
    } else if (kind === ControlKind.Refused) {
      need(1);
      const len = b[at++];
      ops.push({ kind, channel, reason: str(len) });
    } else if (kind >= ControlKind.Opened && kind <= ControlKind.Close) {
      ops.push({ kind, channel });
    } else throw new ProtocolError(`channel control: unknown kind ${kind}`);
  }
  return ops;
}

/** The operations one side has sent, numbered from 0 (the server's states share one per connection). */
export class ControlLog {
  readonly #ops: Uint8Array[] = [];

  /** Operations sent so far. */
  get count(): number {
    return this.#ops.length;
  }

  /** Appends one operation; returns its number. */
  push(op: ControlOp): number {
    this.#ops.push(encodeControl([op]));
    return this.#ops.length - 1;
  }

  /** The encoded operations numbered `from` up to (not including) `to`. */
  encode(from: number, to: number): Uint8Array {
    const parts = this.#ops.slice(from, to);
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** The receiving end: hands each numbered operation on exactly once, in order. */
export class ControlInbox {
  /** Operations received so far. */
  received = 0;

  /**
   * The operations of a control field numbered `start` on that were not seen before. Throws
   * ProtocolError for a malformed field or one that leaves a gap.
   */
  receive(start: number, ops: Uint8Array): ControlOp[] {
    const decoded = decodeControl(ops);
    if (start > this.received) {
      throw new ProtocolError(`channel control: operations from ${start}, held ${this.received}`);
    }
    const fresh = decoded.slice(this.received - start);
    this.received = Math.max(this.received, start + decoded.length);
    return fresh;
  }
}

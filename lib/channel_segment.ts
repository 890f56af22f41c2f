/**
 * Channel segments: the datagram payloads that carry forwarded bytes beside SSP (docs/EXTENSIONS.md
 * "Forwarding", which builds on docs/PROTOCOL.md §3.1 and §13).
 *
 * A segment takes the place of a fragment in a sealed datagram (same key, same sequence numbers,
 * same timestamps; §1.3). The rule that tells the two apart: a segment's first byte is 0xFF. An SSP
 * fragment starts with its instruction id as a big-endian u64 (§3.1); ids start at 1 and grow by
 * one per instruction, so a fragment starting with 0xFF would need 2^63 instructions. A receiver
 * treats a 0xFF payload as a segment only once both sides announced forwarding; before that (and
 * always with a C peer, which never announces it) every payload goes to SSP as before.
 *
 * ```
 * data  FF 01 | channel u32 | seq u32 | flags u8 (bit 0 FIN) | bytes ...
 * ack   FF 02 | channel u32 | cum u32 | window u32 | SACK bitmap ... (bit i of byte i>>3, LSB first:
 *                                                    segment cum + 1 + i is held)
 * probe FF 03 | channel u32                 (asks for an ack: the sender is blocked on the window)
 * ```
 * All integers big-endian. `seq` numbers the channel's segments from 0; FIN takes a number.
 */

import { ProtocolError } from "./errors.ts";
import { DATAGRAM_OVERHEAD } from "./datagram.ts";

/** First payload byte of every segment; no SSP fragment starts with it (see above). */
export const SEGMENT_MARKER = 0xff;
/** Segment kinds (second byte). */
export const SegmentKind = Object.freeze({ Data: 1, Ack: 2, Probe: 3 });
/** Header of a data segment, bytes. */
export const DATA_HEADER_LENGTH = 11;
/** Header of an ack before its SACK bitmap, bytes. */
export const ACK_HEADER_LENGTH = 14;
/** Length of a probe, bytes. */
export const PROBE_LENGTH = 6;
/** Longest SACK bitmap, bytes: acks describe at most cum + 1 + 1023. */
export const MAX_SACK_BYTES = 128;
/** Highest segment distance past `cum` a SACK bitmap can describe. */
export const MAX_SACK_SPAN = MAX_SACK_BYTES * 8;
/** Data flag: the sender's last segment (half-close); it carries no more data after it. */
export const FLAG_FIN = 0x01;

/** Bytes of forwarded data one datagram carries at datagram MTU `mtu`. */
export function segmentPayloadSize(mtu: number): number {
  return mtu - DATAGRAM_OVERHEAD - DATA_HEADER_LENGTH;
}

/** True when an opened datagram payload is a segment (only meaningful once forwarding is on). */
export function isSegment(payload: Uint8Array): boolean {
  return payload.length >= PROBE_LENGTH && payload[0] === SEGMENT_MARKER;
}

/** A decoded segment. `bytes` is a view into the payload for data, empty otherwise. */
export interface Segment {
  kind: number;
  channel: number;
  /** Data: segment number. Ack: cumulative (every segment below it is held). */
  seq: number;
  /** Data: flags. */
  flags: number;
  /** Ack: free receive buffer in bytes past `cum`. */
  window: number;
  /** Ack: the SACK bitmap (a view). Data: the bytes (a view). */
  bytes: Uint8Array;
}

function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Encodes a data segment. */
export function encodeData(
  channel: number,
  seq: number,
  flags: number,
  bytes: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(DATA_HEADER_LENGTH + bytes.length);
  out[0] = SEGMENT_MARKER;
  out[1] = SegmentKind.Data;
  writeU32(out, 2, channel);
  writeU32(out, 6, seq);
  out[10] = flags;
  out.set(bytes, DATA_HEADER_LENGTH);
  return out;
}

/** Encodes an ack; `sack` is trimmed of trailing zero bytes by the caller or not at all. */
export function encodeAck(
  channel: number,
  cum: number,
  window: number,
  sack: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(ACK_HEADER_LENGTH + sack.length);
  out[0] = SEGMENT_MARKER;
  out[1] = SegmentKind.Ack;
  writeU32(out, 2, channel);
  writeU32(out, 6, cum);
  writeU32(out, 10, window);
  out.set(sack, ACK_HEADER_LENGTH);
  return out;
}

/** Encodes a window probe. */
export function encodeProbe(channel: number): Uint8Array {
  const out = new Uint8Array(PROBE_LENGTH);
  out[0] = SEGMENT_MARKER;
  out[1] = SegmentKind.Probe;
  writeU32(out, 2, channel);
  return out;
}

/** Decodes a segment; throws ProtocolError for anything malformed. */
export function decodeSegment(p: Uint8Array): Segment {
  if (p.length < PROBE_LENGTH || p[0] !== SEGMENT_MARKER) {
    throw new ProtocolError("segment: bad marker or too short");
  }
  const kind = p[1];
  const channel = readU32(p, 2);
  if (kind === SegmentKind.Data) {
    if (p.length < DATA_HEADER_LENGTH) throw new ProtocolError("segment: short data header");
    const flags = p[10];
    if ((flags & ~FLAG_FIN) !== 0) throw new ProtocolError("segment: unknown data flags");
    return {
      kind,
      channel,
      seq: readU32(p, 6),
      flags,
      window: 0,
      bytes: p.subarray(DATA_HEADER_LENGTH),
    };
  }
  if (kind === SegmentKind.Ack) {
    if (p.length < ACK_HEADER_LENGTH) throw new ProtocolError("segment: short ack");
    if (p.length - ACK_HEADER_LENGTH > MAX_SACK_BYTES) {
      throw new ProtocolError("segment: SACK bitmap too long");
    }
    return {
      kind,
      channel,
      seq: readU32(p, 6),
      flags: 0,
      window: readU32(p, 10),
      bytes: p.subarray(ACK_HEADER_LENGTH),
    };
  }
  if (kind === SegmentKind.Probe) {
    if (p.length !== PROBE_LENGTH) throw new ProtocolError("segment: bad probe length");
    return { kind, channel, seq: 0, flags: 0, window: 0, bytes: p.subarray(PROBE_LENGTH) };
  }
  throw new ProtocolError(`segment: unknown kind ${kind}`);
}

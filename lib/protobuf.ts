/**
 * A small hand-written proto2 codec for mosh's three message types (docs/PROTOCOL.md §4):
 *
 * - TransportBuffers.Instruction (§4.1): the SSP instruction carried in every fragment.
 * - ClientBuffers.UserMessage (§4.2): the client's keystrokes and resizes.
 * - HostBuffers.HostMessage (§4.3): the server's terminal bytes, resizes and echo acks.
 *
 * Proto2 extensions are encoded like ordinary fields, so a UserMessage or HostMessage is a list of
 * field-1 sub-messages ("Instruction"), each holding one extension sub-message (§4.4). Besides
 * mosh's own extensions the messages carry ours (numbers from lib/extensions.ts, layouts in
 * docs/EXTENSIONS.md), whose sub-messages lib/extension_codec.ts encodes and decodes. The wire
 * primitives are lib/proto_wire.ts's.
 *
 * Encoding writes every field in field-number order, as mosh's C++ code does. Decoding accepts any
 * valid proto2 encoding: fields in any order, missing fields as 0 or empty, repeated scalars and
 * sub-messages merged ("last one wins"), and unknown fields of every wire type skipped. Every
 * length is checked against the input, and malformed input throws a ProtocolError; decoded bytes
 * fields are views into the input, so decoding never allocates more than the input size.
 */

import { ProtocolError } from "./errors.ts";
import {
  type Capability,
  EXT_CAPABILITIES,
  EXT_CHANNEL_CONTROL,
  EXT_HISTORY,
  EXT_TERMINAL_FEATURES,
} from "./extensions.ts";
import {
  type CapabilitiesEvent,
  type ControlEvent,
  type FeaturesEvent,
  type HistoryEvent,
  readCapabilities,
  readControl,
  readFeatures,
  readHistory,
  writeCapabilities,
  writeControl,
  writeFeatures,
  writeHistory,
} from "./extension_codec.ts";
import { asInt32, asUint32, EMPTY, LENGTH, Reader, VARINT, Writer } from "./proto_wire.ts";

export { ProtocolError };

/** mosh's protocol version (MOSH_PROTOCOL_VERSION, §2.2). */
export const PROTOCOL_VERSION = 2;

/** A TransportBuffers.Instruction. State numbers are u64 bigints. */
export interface Instruction {
  /** Always PROTOCOL_VERSION (2) when sent by mosh. */
  protocolVersion: number;
  /** The receiver state this diff applies to. */
  oldNum: bigint;
  /** The state the diff produces; 2^64-1 means shutdown. */
  newNum: bigint;
  /** The newest in-order state the sender has received from its peer. */
  ackNum: bigint;
  /** The peer may discard states numbered below this. */
  throwawayNum: bigint;
  /** A serialized UserMessage or HostMessage; empty for a pure ack. */
  diff: Uint8Array;
  /** 0-16 random bytes hiding the true length. */
  chaff: Uint8Array;
}

/** One client-to-server event (an extension of ClientBuffers.Instruction). */
export type UserEvent =
  | { type: "keys"; keys: Uint8Array }
  | { type: "resize"; width: number; height: number }
  | CapabilitiesEvent
  | ControlEvent;

/** One server-to-client event (an extension of HostBuffers.Instruction). */
export type HostEvent =
  | { type: "hostbytes"; data: Uint8Array }
  | { type: "resize"; width: number; height: number }
  | { type: "echoack"; num: bigint }
  | CapabilitiesEvent
  | HistoryEvent
  | ControlEvent
  | FeaturesEvent;

/** The largest uint64; also SSP's shutdown state number, u64(-1) (§5). */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Largest width or height a resize from the peer may ask for. */
export const MAX_RESIZE_SIDE = 4096;
/** Largest width × height a resize from the peer may ask for. */
export const MAX_RESIZE_CELLS = 1 << 20;

/**
 * Whether a peer's resize is within the bounds both sides apply: a hostile peer's 65535x65535
 * would otherwise take minutes and gigabytes to allocate.
 */
export function validResize(width: number, height: number): boolean {
  return Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1 &&
    width <= MAX_RESIZE_SIDE && height <= MAX_RESIZE_SIDE && width * height <= MAX_RESIZE_CELLS;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkU64(name: string, n: bigint): void {
  if (typeof n !== "bigint" || n < 0n || n > U64_MAX) {
    throw new RangeError(`protobuf: ${name} must be a u64 bigint, got ${n}`);
  }
}

function checkInt32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new RangeError(`protobuf: ${name} must be an int32, got ${n}`);
  }
}

/**
 * Serializes an Instruction with all seven fields, in order, as mosh does.
 *
 * @example The 22-byte instruction of docs/PROTOCOL.md §1.3
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeInstruction({
 *   protocolVersion: 2,
 *   oldNum: 0n,
 *   newNum: 1n,
 *   ackNum: 0n,
 *   throwawayNum: 0n,
 *   diff: encodeUserMessage([{ type: "resize", width: 80, height: 24 }]),
 *   chaff: new Uint8Array(0),
 * });
 * const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
 * assert.equal(hex, "08 02 10 00 18 01 20 00 28 00 32 08 0a 06 1a 04 28 50 30 18 3a 00");
 * assert.equal(decodeInstruction(bytes).newNum, 1n);
 * ```
 */
export function encodeInstruction(inst: Instruction): Uint8Array {
  const pv = inst.protocolVersion;
  if (!Number.isInteger(pv) || pv < 0 || pv > 0xffffffff) {
    throw new RangeError(`protobuf: protocolVersion must be a uint32, got ${pv}`);
  }
  checkU64("oldNum", inst.oldNum);
  checkU64("newNum", inst.newNum);
  checkU64("ackNum", inst.ackNum);
  checkU64("throwawayNum", inst.throwawayNum);
  const w = new Writer();
  w.ensure(inst.diff.length + inst.chaff.length + 64);
  w.tag(1, VARINT);
  w.varint32(pv);
  w.tag(2, VARINT);
  w.varintBig(inst.oldNum);
  w.tag(3, VARINT);
  w.varintBig(inst.newNum);
  w.tag(4, VARINT);
  w.varintBig(inst.ackNum);
  w.tag(5, VARINT);
  w.varintBig(inst.throwawayNum);
  w.bytes(6, inst.diff);
  w.bytes(7, inst.chaff);
  return w.finish();
}

function writeResize(w: Writer, width: number, height: number): void {
  checkInt32("width", width);
  checkInt32("height", height);
  const at = w.beginNested(3);
  w.tag(5, VARINT);
  w.int32(width);
  w.tag(6, VARINT);
  w.int32(height);
  w.endNested(at);
}

/** Serializes a ClientBuffers.UserMessage: one Instruction per event. */
export function encodeUserMessage(events: readonly UserEvent[]): Uint8Array {
  const w = new Writer();
  for (const ev of events) {
    const at = w.beginNested(1);
    if (ev.type === "keys") {
      const inner = w.beginNested(2);
      w.bytes(4, ev.keys);
      w.endNested(inner);
    } else if (ev.type === "resize") {
      writeResize(w, ev.width, ev.height);
    } else if (ev.type === "capabilities") {
      writeCapabilities(w, ev.caps);
    } else if (ev.type === "control") {
      writeControl(w, ev);
    } else {
      throw new TypeError(`protobuf: unknown user event type ${(ev as { type: unknown }).type}`);
    }
    w.endNested(at);
  }
  return w.finish();
}

/** Serializes a HostBuffers.HostMessage: one Instruction per event. */
export function encodeHostMessage(events: readonly HostEvent[]): Uint8Array {
  const w = new Writer();
  for (const ev of events) {
    const at = w.beginNested(1);
    if (ev.type === "hostbytes") {
      const inner = w.beginNested(2);
      w.bytes(4, ev.data);
      w.endNested(inner);
    } else if (ev.type === "resize") {
      writeResize(w, ev.width, ev.height);
    } else if (ev.type === "echoack") {
      checkU64("echo ack num", ev.num);
      const inner = w.beginNested(7);
      w.tag(8, VARINT);
      w.varintBig(ev.num);
      w.endNested(inner);
    } else if (ev.type === "capabilities") {
      writeCapabilities(w, ev.caps);
    } else if (ev.type === "history") {
      writeHistory(w, ev);
    } else if (ev.type === "control") {
      writeControl(w, ev);
    } else if (ev.type === "features") {
      writeFeatures(w, ev);
    } else {
      throw new TypeError(`protobuf: unknown host event type ${(ev as { type: unknown }).type}`);
    }
    w.endNested(at);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Parses a TransportBuffers.Instruction; missing fields are 0 or empty. */
export function decodeInstruction(bytes: Uint8Array): Instruction {
  const r = new Reader(bytes, 0, bytes.length);
  const inst: Instruction = {
    protocolVersion: 0,
    oldNum: 0n,
    newNum: 0n,
    ackNum: 0n,
    throwawayNum: 0n,
    diff: EMPTY,
    chaff: EMPTY,
  };
  while (r.pos < r.end) {
    const field = r.key();
    const wt = r.wireType;
    if (wt === VARINT && field >= 1 && field <= 5) {
      if (field === 1) inst.protocolVersion = asUint32(r);
      else if (field === 2) inst.oldNum = r.u64();
      else if (field === 3) inst.newNum = r.u64();
      else if (field === 4) inst.ackNum = r.u64();
      else inst.throwawayNum = r.u64();
    } else if (wt === LENGTH && field === 6) inst.diff = r.bytes();
    else if (wt === LENGTH && field === 7) inst.chaff = r.bytes();
    else r.skip(field);
  }
  return inst;
}

/**
 * Walks the field-1 Instructions of a UserMessage or HostMessage, calling `each` with a reader
 * positioned over each Instruction's bytes.
 */
function forEachInstruction(bytes: Uint8Array, each: (r: Reader) => void): void {
  const outer = new Reader(bytes, 0, bytes.length);
  while (outer.pos < outer.end) {
    const field = outer.key();
    if (field === 1 && outer.wireType === LENGTH) {
      const end = outer.lengthEnd();
      each(new Reader(bytes, outer.pos, end));
      outer.pos = end;
    } else outer.skip(field);
  }
}

/** Merged contents of one ResizeMessage (proto2 merges repeated occurrences). */
interface Resize {
  width: number;
  height: number;
}

function mergeResize(r: Reader, into: Resize): void {
  const end = r.lengthEnd();
  const m = new Reader(r.buf, r.pos, end);
  while (m.pos < m.end) {
    const f = m.key();
    if (f === 5 && m.wireType === VARINT) into.width = asInt32(m);
    else if (f === 6 && m.wireType === VARINT) into.height = asInt32(m);
    else m.skip(f);
  }
  r.pos = end;
}

/** Reads a sub-message holding one bytes field `wanted`; returns its last value or `prev`. */
function mergeBytes(r: Reader, wanted: number, prev: Uint8Array): Uint8Array {
  const end = r.lengthEnd();
  const m = new Reader(r.buf, r.pos, end);
  let value = prev;
  while (m.pos < m.end) {
    const f = m.key();
    if (f === wanted && m.wireType === LENGTH) value = m.bytes();
    else m.skip(f);
  }
  r.pos = end;
  return value;
}

/**
 * Parses a ClientBuffers.UserMessage into events, in order. Each Instruction yields its keystroke
 * and then its resize, if present, after our capabilities extension if present; Instructions with
 * none of these (unknown extensions) yield nothing.
 */
export function decodeUserMessage(bytes: Uint8Array): UserEvent[] {
  const events: UserEvent[] = [];
  forEachInstruction(bytes, (r) => {
    let keys: Uint8Array | null = null;
    let resize: Resize | null = null;
    let caps: Capability[] | null = null;
    let control: ControlEvent | null = null;
    while (r.pos < r.end) {
      const field = r.key();
      if (field === 2 && r.wireType === LENGTH) keys = mergeBytes(r, 4, keys ?? EMPTY);
      else if (field === 3 && r.wireType === LENGTH) {
        mergeResize(r, resize ??= { width: 0, height: 0 });
      } else if (field === EXT_CAPABILITIES && r.wireType === LENGTH) caps = readCapabilities(r);
      else if (field === EXT_CHANNEL_CONTROL && r.wireType === LENGTH) control = readControl(r);
      else r.skip(field);
    }
    if (caps !== null) events.push({ type: "capabilities", caps });
    if (control !== null) events.push(control);
    if (keys !== null) events.push({ type: "keys", keys });
    if (resize !== null) {
      events.push({ type: "resize", width: resize.width, height: resize.height });
    }
  });
  return events;
}

/**
 * Parses a HostBuffers.HostMessage into events, in order. Each Instruction yields our
 * capabilities, its host bytes, resize, echo ack and our history, in that order, for those present;
 * unknown extensions are ignored. (Whether a history event is used depends on the peer's
 * announcement: the state applying the message decides, lib/terminal_state.ts.)
 */
export function decodeHostMessage(bytes: Uint8Array): HostEvent[] {
  const events: HostEvent[] = [];
  forEachInstruction(bytes, (r) => {
    let data: Uint8Array | null = null;
    let resize: Resize | null = null;
    let echoAck: bigint | null = null;
    let caps: Capability[] | null = null;
    let history: HistoryEvent | null = null;
    let control: ControlEvent | null = null;
    let features: FeaturesEvent | null = null;
    while (r.pos < r.end) {
      const field = r.key();
      if (field === 2 && r.wireType === LENGTH) data = mergeBytes(r, 4, data ?? EMPTY);
      else if (field === 3 && r.wireType === LENGTH) {
        mergeResize(r, resize ??= { width: 0, height: 0 });
      } else if (field === 7 && r.wireType === LENGTH) {
        const end = r.lengthEnd();
        const m = new Reader(r.buf, r.pos, end);
        echoAck ??= 0n;
        while (m.pos < m.end) {
          const f = m.key();
          if (f === 8 && m.wireType === VARINT) echoAck = m.u64();
          else m.skip(f);
        }
        r.pos = end;
      } else if (field === EXT_CAPABILITIES && r.wireType === LENGTH) caps = readCapabilities(r);
      else if (field === EXT_HISTORY && r.wireType === LENGTH) history = readHistory(r);
      else if (field === EXT_CHANNEL_CONTROL && r.wireType === LENGTH) control = readControl(r);
      else if (field === EXT_TERMINAL_FEATURES && r.wireType === LENGTH) {
        features = readFeatures(r);
      } else r.skip(field);
    }
    if (caps !== null) events.push({ type: "capabilities", caps });
    if (data !== null) events.push({ type: "hostbytes", data });
    if (resize !== null) {
      events.push({ type: "resize", width: resize.width, height: resize.height });
    }
    if (echoAck !== null) events.push({ type: "echoack", num: echoAck });
    if (history !== null) events.push(history);
    if (control !== null) events.push(control);
    if (features !== null) events.push(features);
  });
  return events;
}

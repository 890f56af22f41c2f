/**
 * A small hand-written proto2 codec for mosh's three message types (docs/PROTOCOL.md §4):
 *
 * - TransportBuffers.Instruction (§4.1): the SSP instruction carried in every fragment.
 * - ClientBuffers.UserMessage (§4.2): the client's keystrokes and resizes.
 * - HostBuffers.HostMessage (§4.3): the server's terminal bytes, resizes and echo acks.
 *
 * Proto2 extensions are encoded like ordinary fields, so a UserMessage or HostMessage is a list of
 * field-1 sub-messages ("Instruction"), each holding one extension sub-message (§4.4). Besides
 * mosh's own extensions it encodes ours (numbers from lib/extensions.ts, layouts in
 * docs/EXTENSIONS.md): `capabilities` both ways and `history` from the server.
 *
 * Encoding writes every field in field-number order, as mosh's C++ code does. Decoding accepts any
 * valid proto2 encoding: fields in any order, missing fields as 0 or empty, repeated scalars and
 * sub-messages merged ("last one wins"), and unknown fields of every wire type skipped. Every
 * length is checked against the input, and malformed input throws a ProtocolError; decoded bytes
 * fields are views into the input, so decoding never allocates more than the input size.
 */

import { ProtocolError } from "./errors.ts";
import {
  CAPABILITIES_ENTRY,
  type Capability,
  CAPABILITY_NAME,
  CAPABILITY_VERSION,
  CONTROL_OPS,
  CONTROL_START,
  EXT_CAPABILITIES,
  EXT_CHANNEL_CONTROL,
  EXT_HISTORY,
  EXT_TERMINAL_FEATURES,
  FEATURES_CURSOR_SHAPE,
  FEATURES_EVENTS_LOST,
  FEATURES_EVENTS_START,
  FEATURES_PIECE,
  HISTORY_LINE,
  HISTORY_LOST,
  HISTORY_START,
  MAX_CAPABILITIES,
  MAX_CAPABILITY_NAME,
  PIECE_LAST,
  PIECE_OFFSET,
  PIECE_TEXT,
} from "./extensions.ts";
import type { EventSegment } from "./terminal_events.ts";

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

/** Our extension (both directions): the sender's capabilities. */
export interface CapabilitiesEvent {
  /** The event kind. */
  type: "capabilities";
  /** The announced (name, version) pairs. */
  caps: readonly Capability[];
}

/**
 * Our extension (both directions, forwarding): channel control operations numbered from `start`
 * (encoded by lib/channel_control.ts; opaque here).
 */
export interface ControlEvent {
  /** Always "control". */
  type: "control";
  /** The number of the first operation in `ops`. */
  start: number;
  /** The operations, as lib/channel_control.ts encodes them. */
  ops: Uint8Array;
}

/**
 * Our extension (server to client): history lines `start + lost` onwards; `lost` lines after
 * `start` left the server's ring before this client had them. Each line is a flags byte followed
 * by UTF-8 text with SGR sequences (lib/history.ts makes them).
 */
export interface HistoryEvent {
  /** The event kind. */
  type: "history";
  /** The history frontier the diff starts from. */
  start: number;
  /** Lines after `start` that left the ring before the client had them. */
  lost: number;
  /** Lines `start + lost` onwards, each a flags byte and the text. */
  lines: Uint8Array[];
}

/**
 * Our extension (server to client): the terminal features' part of a diff
 * (lib/terminal_features.ts): a new cursor shape, and the event stream from `events.start`.
 */
export interface FeaturesEvent {
  /** Field 120 of HostBuffers.Instruction. */
  type: "features";
  /** The new cursor shape (DECSCUSR 0-6), when it changed. */
  shape?: number;
  /** The event stream between two frontiers (lib/terminal_events.ts `EventSegment`). */
  events?: EventSegment;
}

/** Most event pieces accepted in one received diff. */
const MAX_EVENT_PIECES = 64;
/** Longest event piece accepted, in bytes (an event's OSC limit, as UTF-8 at most 4 bytes each). */
const MAX_EVENT_PIECE_BYTES = 1 << 20;

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

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

// Wire types.
const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

// ---------------------------------------------------------------------------------------------
// Encoding

/** A growable byte buffer for building one message. */
class Writer {
  buf = new Uint8Array(64);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** Writes a varint given as low and high 32-bit halves (both unsigned). */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (hi !== 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  /** Writes a non-negative varint below 2^32. */
  varint32(n: number): void {
    this.varint64(n >>> 0, 0);
  }

  /** Writes a u64 varint from a bigint. */
  varintBig(n: bigint): void {
    this.varint64(Number(n & 0xffffffffn), Number(n >> 32n));
  }

  /** Writes an int32 as protobuf does: negative values sign-extend to a 10-byte varint. */
  int32(n: number): void {
    this.varint64(n >>> 0, n < 0 ? 0xffffffff : 0);
  }

  tag(field: number, wireType: number): void {
    this.varint32((field << 3) | wireType);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, LENGTH);
    this.varint32(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Starts a length-delimited field whose length is patched by `endNested`. */
  beginNested(field: number): number {
    this.tag(field, LENGTH);
    this.ensure(1);
    return this.pos++; // one length byte reserved; endNested grows it if needed
  }

  endNested(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    let size = 1;
    for (let n = length; n >= 0x80; n >>>= 7) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let n = length;
    for (let i = at; i < at + size - 1; i++, n >>>= 7) this.buf[i] = (n & 0x7f) | 0x80;
    this.buf[at + size - 1] = n;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

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

function writeCapabilities(w: Writer, caps: readonly Capability[]): void {
  const at = w.beginNested(EXT_CAPABILITIES);
  for (const c of caps) {
    const entry = w.beginNested(CAPABILITIES_ENTRY);
    w.bytes(CAPABILITY_NAME, encoder.encode(c.name));
    w.tag(CAPABILITY_VERSION, VARINT);
    w.varint32(c.version);
    w.endNested(entry);
  }
  w.endNested(at);
}

function writeControl(w: Writer, ev: ControlEvent): void {
  if (!Number.isSafeInteger(ev.start) || ev.start < 0) {
    throw new RangeError(`protobuf: control start must be a safe integer >= 0, got ${ev.start}`);
  }
  const at = w.beginNested(EXT_CHANNEL_CONTROL);
  w.tag(CONTROL_START, VARINT);
  w.varint64(ev.start % 0x100000000, Math.floor(ev.start / 0x100000000));
  w.bytes(CONTROL_OPS, ev.ops);
  w.endNested(at);
}

function writeHistory(w: Writer, ev: HistoryEvent): void {
  for (const n of [ev.start, ev.lost]) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`protobuf: history numbers must be safe integers >= 0, got ${n}`);
    }
  }
  const at = w.beginNested(EXT_HISTORY);
  w.tag(HISTORY_START, VARINT);
  w.varint64(ev.start % 0x100000000, Math.floor(ev.start / 0x100000000));
  if (ev.lost !== 0) {
    w.tag(HISTORY_LOST, VARINT);
    w.varint64(ev.lost % 0x100000000, Math.floor(ev.lost / 0x100000000));
  }
  for (const line of ev.lines) w.bytes(HISTORY_LINE, line);
  w.endNested(at);
}

/** Writes a u64 that is a safe integer >= 0. */
function writeSafeU64(w: Writer, field: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`protobuf: stream offsets must be safe integers >= 0, got ${n}`);
  }
  w.tag(field, VARINT);
  w.varint64(n % 0x100000000, Math.floor(n / 0x100000000));
}

function writeFeatures(w: Writer, ev: FeaturesEvent): void {
  const at = w.beginNested(EXT_TERMINAL_FEATURES);
  if (ev.shape !== undefined) {
    w.tag(FEATURES_CURSOR_SHAPE, VARINT);
    w.varint32(ev.shape);
  }
  if (ev.events !== undefined) {
    writeSafeU64(w, FEATURES_EVENTS_START, ev.events.start);
    if (ev.events.lost !== 0) writeSafeU64(w, FEATURES_EVENTS_LOST, ev.events.lost);
    for (const p of ev.events.pieces) {
      const piece = w.beginNested(FEATURES_PIECE);
      w.tag(PIECE_OFFSET, VARINT);
      w.varint32(p.offset);
      w.bytes(PIECE_TEXT, encoder.encode(p.text));
      if (p.last) {
        w.tag(PIECE_LAST, VARINT);
        w.varint32(1);
      }
      w.endNested(piece);
    }
  }
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

/** A cursor over one message's bytes; every read is bounds-checked. */
class Reader {
  pos: number;
  /** The last varint read, as unsigned 32-bit halves. */
  lo = 0;
  hi = 0;

  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  /** Reads a varint of up to 10 bytes into lo/hi; bits beyond 64 are discarded, as protobuf does. */
  varint(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtocolError("protobuf: truncated varint");
      const b = buf[this.pos++];
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new ProtocolError("protobuf: varint longer than 10 bytes");
  }

  u64(): bigint {
    this.varint();
    return this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Reads a field length and returns the end offset of its bytes. */
  lengthEnd(): number {
    this.varint();
    if (this.hi !== 0 || this.lo > this.end - this.pos) {
      throw new ProtocolError("protobuf: length-delimited field runs past the end of its message");
    }
    return this.pos + this.lo;
  }

  bytes(): Uint8Array {
    const end = this.lengthEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** Wire type of the field key read last by `key()`. */
  wireType = 0;

  /** Reads a field key; returns the field number and leaves the wire type in `wireType`. */
  key(): number {
    this.varint();
    if (this.hi !== 0) throw new ProtocolError("protobuf: field key out of range");
    const wireType = this.lo & 7;
    const field = this.lo >>> 3;
    if (field === 0) throw new ProtocolError("protobuf: field number 0");
    if (wireType > FIXED32) throw new ProtocolError(`protobuf: invalid wire type ${wireType}`);
    this.wireType = wireType;
    return field;
  }

  /** Skips the value of a field whose key was just read. */
  skip(field: number): void {
    switch (this.wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH:
        this.pos = this.lengthEnd();
        return;
      case FIXED32:
        this.advance(4);
        return;
      case START_GROUP:
        this.skipGroup(field);
        return;
      default: // END_GROUP without a start
        throw new ProtocolError("protobuf: unexpected end group");
    }
  }

  /** Skips to the END_GROUP matching `field`, iteratively (nesting costs one stack slot). */
  skipGroup(field: number): void {
    const stack = [field];
    while (stack.length > 0) {
      if (this.pos >= this.end) throw new ProtocolError("protobuf: unterminated group");
      const f = this.key();
      if (this.wireType === END_GROUP) {
        if (stack.pop() !== f) throw new ProtocolError("protobuf: mismatched end group");
      } else if (this.wireType === START_GROUP) stack.push(f);
      else this.skip(f);
    }
  }

  advance(n: number): void {
    if (this.end - this.pos < n) throw new ProtocolError("protobuf: truncated fixed-width field");
    this.pos += n;
  }
}

function asUint32(r: Reader): number {
  r.varint();
  return r.lo;
}

function asInt32(r: Reader): number {
  r.varint();
  return r.lo | 0;
}

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

/** Reads a `Capabilities` sub-message (our extension); bounded in count and name length. */
function readCapabilities(r: Reader): Capability[] {
  const end = r.lengthEnd();
  const m = new Reader(r.buf, r.pos, end);
  const caps: Capability[] = [];
  while (m.pos < m.end) {
    const f = m.key();
    if (f === CAPABILITIES_ENTRY && m.wireType === LENGTH) {
      const entryEnd = m.lengthEnd();
      const e = new Reader(m.buf, m.pos, entryEnd);
      let name = "";
      let version = 0;
      while (e.pos < e.end) {
        const g = e.key();
        if (g === CAPABILITY_NAME && e.wireType === LENGTH) {
          const bytes = e.bytes();
          if (bytes.length > MAX_CAPABILITY_NAME) {
            throw new ProtocolError("protobuf: capability name too long");
          }
          try {
            name = decoder.decode(bytes);
          } catch {
            throw new ProtocolError("protobuf: capability name is not UTF-8");
          }
        } else if (g === CAPABILITY_VERSION && e.wireType === VARINT) version = asUint32(e);
        else e.skip(g);
      }
      m.pos = entryEnd;
      if (caps.length >= MAX_CAPABILITIES) {
        throw new ProtocolError("protobuf: too many capabilities");
      }
      caps.push(Object.freeze({ name, version }));
    } else m.skip(f);
  }
  r.pos = end;
  return caps;
}

/** Reads a u64 that must fit a JavaScript safe integer (history line numbers). */
function safeU64(r: Reader): number {
  r.varint();
  if (r.hi > 0x1fffff) throw new ProtocolError("protobuf: history number out of range");
  return r.hi * 0x100000000 + r.lo;
}

/** Reads a `History` sub-message (our extension). Lines are views into the input. */
function readHistory(r: Reader): HistoryEvent {
  const end = r.lengthEnd();
  const m = new Reader(r.buf, r.pos, end);
  const ev: HistoryEvent = { type: "history", start: 0, lost: 0, lines: [] };
  while (m.pos < m.end) {
    const f = m.key();
    if (f === HISTORY_START && m.wireType === VARINT) ev.start = safeU64(m);
    else if (f === HISTORY_LOST && m.wireType === VARINT) ev.lost = safeU64(m);
    else if (f === HISTORY_LINE && m.wireType === LENGTH) ev.lines.push(m.bytes());
    else m.skip(f);
  }
  r.pos = end;
  return ev;
}

/** Reads a `ChannelControl` sub-message (our extension). `ops` is a view into the input. */
function readControl(r: Reader): ControlEvent {
  const end = r.lengthEnd();
  const m = new Reader(r.buf, r.pos, end);
  const ev: ControlEvent = { type: "control", start: 0, ops: EMPTY };
  while (m.pos < m.end) {
    const f = m.key();
    if (f === CONTROL_START && m.wireType === VARINT) ev.start = safeU64(m);
    else if (f === CONTROL_OPS && m.wireType === LENGTH) ev.ops = m.bytes();
    else m.skip(f);
  }
  r.pos = end;
  return ev;
}

/** Reads a `Features` sub-message (our extension); bounded in pieces and piece size. */
function readFeatures(r: Reader): FeaturesEvent {
  const end = r.lengthEnd();
  const m = new Reader(r.buf, r.pos, end);
  const ev: FeaturesEvent = { type: "features" };
  let start = -1, lost = 0;
  const pieces: { offset: number; text: string; last: boolean }[] = [];
  while (m.pos < m.end) {
    const f = m.key();
    if (f === FEATURES_CURSOR_SHAPE && m.wireType === VARINT) ev.shape = asUint32(m);
    else if (f === FEATURES_EVENTS_START && m.wireType === VARINT) start = safeU64(m);
    else if (f === FEATURES_EVENTS_LOST && m.wireType === VARINT) lost = safeU64(m);
    else if (f === FEATURES_PIECE && m.wireType === LENGTH) {
      if (pieces.length >= MAX_EVENT_PIECES) throw new ProtocolError("protobuf: too many pieces");
      const pieceEnd = m.lengthEnd();
      const e = new Reader(m.buf, m.pos, pieceEnd);
      const piece = { offset: 0, text: "", last: false };
      while (e.pos < e.end) {
        const g = e.key();
        if (g === PIECE_OFFSET && e.wireType === VARINT) piece.offset = asUint32(e);
        else if (g === PIECE_TEXT && e.wireType === LENGTH) {
          const bytes = e.bytes();
          if (bytes.length > MAX_EVENT_PIECE_BYTES) {
            throw new ProtocolError("protobuf: event piece too long");
          }
          try {
            piece.text = decoder.decode(bytes);
          } catch {
            throw new ProtocolError("protobuf: event piece is not UTF-8");
          }
        } else if (g === PIECE_LAST && e.wireType === VARINT) piece.last = asUint32(e) !== 0;
        else e.skip(g);
      }
      m.pos = pieceEnd;
      pieces.push(piece);
    } else m.skip(f);
  }
  r.pos = end;
  if (start >= 0) ev.events = { start, lost, pieces };
  return ev;
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

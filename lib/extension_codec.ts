/**
 * The codecs of our extension sub-messages (docs/EXTENSIONS.md "Field layouts"; carried as proto2
 * extensions of mosh's Instructions, docs/PROTOCOL.md §4.4): `capabilities` (both ways), `history`
 * (server to client, "Scrollback"), `features` (server to client, "Terminal features") and
 * `control` (both ways, "Forwarding"). Field numbers come from lib/extensions.ts; lib/protobuf.ts
 * calls these while encoding and decoding a UserMessage or HostMessage.
 *
 * Each writer emits its extension field (number, length, sub-message) in field-number order; each
 * reader takes a Reader positioned at the extension's length and leaves it after the sub-message.
 * Readers bound counts and sizes and throw a ProtocolError on malformed input; bytes fields are
 * views into the input.
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
import { asUint32, EMPTY, LENGTH, Reader, VARINT, type Writer } from "./proto_wire.ts";
import type { EventSegment } from "./terminal_events.ts";

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

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------------------------------------
// Encoding

/** Writes the `capabilities` extension: one entry (name, version) per capability. */
export function writeCapabilities(w: Writer, caps: readonly Capability[]): void {
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

/** Writes the `control` extension: the first operation's number and the encoded operations. */
export function writeControl(w: Writer, ev: ControlEvent): void {
  if (!Number.isSafeInteger(ev.start) || ev.start < 0) {
    throw new RangeError(`protobuf: control start must be a safe integer >= 0, got ${ev.start}`);
  }
  const at = w.beginNested(EXT_CHANNEL_CONTROL);
  w.tag(CONTROL_START, VARINT);
  w.varint64(ev.start % 0x100000000, Math.floor(ev.start / 0x100000000));
  w.bytes(CONTROL_OPS, ev.ops);
  w.endNested(at);
}

/** Writes the `history` extension: start, lost (when not 0), then the lines. */
export function writeHistory(w: Writer, ev: HistoryEvent): void {
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

/** Writes the `features` extension: the cursor shape and the event stream, those present. */
export function writeFeatures(w: Writer, ev: FeaturesEvent): void {
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

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads a `Capabilities` sub-message (our extension); bounded in count and name length. */
export function readCapabilities(r: Reader): Capability[] {
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
export function readHistory(r: Reader): HistoryEvent {
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
export function readControl(r: Reader): ControlEvent {
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
export function readFeatures(r: Reader): FeaturesEvent {
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

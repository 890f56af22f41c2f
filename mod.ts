/**
 * mosh, the mobile shell, as a Deno library: the pieces of C mosh 1.4.0's State
 * Synchronization Protocol and its terminal, wire-compatible with C mosh.
 *
 * The protocol is described in docs/PROTOCOL.md; the section numbers (§) in this file and in
 * `lib/` refer to it. The layers, in the order data flows (see ARCHITECTURE.md):
 * - crypto and framing: {@link ocb}, {@link parseKey}, {@link DatagramCodec},
 *   {@link Fragmenter} / {@link FragmentAssembly}, the protobuf codec;
 * - the network and SSP: {@link Connection}, {@link Transport}, and the two
 *   synchronised states {@link UserStream} (client to server) and
 *   {@link TerminalState} (server to client);
 * - the terminal: {@link Terminal} (parser plus emulator), {@link Framebuffer}
 *   (an immutable screen) and {@link diffFrames} (the escape string that turns
 *   one screen into another).
 *
 * @example Emulate a terminal and diff two screens
 * ```ts
 * import assert from "node:assert/strict";
 * import { diffFrames, Terminal } from "./mod.ts";
 *
 * const term = new Terminal(80, 24);
 * term.write("hello\r\n\x1b[1;31mworld\x1b[0m");
 * const before = term.snapshot();
 * term.write("!");
 * const after = term.snapshot();
 * assert.equal(after.screenText().split("\n")[1].trimEnd(), "world!");
 *
 * // The bytes that bring a terminal showing `before` to `after`:
 * const patch = diffFrames(before, after);
 * const other = new Terminal(80, 24);
 * other.write(diffFrames(null, before));
 * other.write(patch);
 * assert.equal(other.screenText(), after.screenText());
 * ```
 *
 * @example Seal and open a datagram
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatagramCodec, generateKey, TO_CLIENT, TO_SERVER } from "./mod.ts";
 *
 * const { key } = generateKey();
 * const client = new DatagramCodec(key, TO_SERVER);
 * const server = new DatagramCodec(key, TO_CLIENT);
 * const wire = client.seal(0x1234, 0xffff, new TextEncoder().encode("payload"));
 * const opened = server.open(wire);
 * assert.equal(opened?.timestamp, 0x1234);
 * assert.equal(new TextDecoder().decode(opened?.payload), "payload");
 * assert.equal(client.open(wire), null); // a datagram reflected to its sender is refused
 * ```
 *
 * @module
 */

// Crypto and framing (docs/PROTOCOL.md §1-§4).
export { type Ocb, ocb, OCB_NONCE_LENGTH, OCB_TAG_LENGTH } from "./lib/ocb.ts";
export {
  generateKey,
  KEY_LENGTH,
  parseKey,
  PRINTABLE_KEY_LENGTH,
  printableKey,
} from "./lib/key.ts";
export { CryptoError, KeyError, ProtocolError } from "./lib/errors.ts";
export {
  DatagramCodec,
  type DatagramRejections,
  type Direction,
  type OpenedDatagram,
  timestamp16,
  TIMESTAMP_NONE,
  TO_CLIENT,
  TO_SERVER,
} from "./lib/datagram.ts";
export {
  type CapabilitiesEvent,
  type ControlEvent,
  type FeaturesEvent,
  type HistoryEvent,
} from "./lib/extension_codec.ts";
export {
  decodeHostMessage,
  decodeInstruction,
  decodeUserMessage,
  encodeHostMessage,
  encodeInstruction,
  encodeUserMessage,
  type HostEvent,
  type Instruction,
  PROTOCOL_VERSION,
  U64_MAX,
  type UserEvent,
} from "./lib/protobuf.ts";
export {
  DEFAULT_SEND_MTU,
  FragmentAssembly,
  Fragmenter,
  fragmentMtu,
  IPV4_DATAGRAM_MTU,
  IPV6_DATAGRAM_MTU,
  MAX_INSTRUCTION_SIZE,
} from "./lib/fragment.ts";

// Network and SSP (§2, §5, §6).
export {
  Connection,
  type ConnectionStats,
  parsePortRange,
  type PortRange,
  PortRangeError,
} from "./lib/connection.ts";
export { RttEstimator } from "./lib/rtt.ts";
export {
  type SyncState,
  type TimedState,
  Transport,
  type TransportLink,
  type TransportOptions,
  type TransportStats,
} from "./lib/transport.ts";
export { UserStream } from "./lib/user_stream.ts";
export { HISTORY_BUDGET, TerminalState } from "./lib/terminal_state.ts";
// Our protocol extensions (docs/EXTENSIONS.md): the numbers, scrollback on both sides, and the
// terminal features (cursor shape, notifications, clipboard copies as events).
export {
  AGENT_FORWARDING,
  announces,
  ATTRIBUTES,
  type Capability,
  EXT_CAPABILITIES,
  EXT_CHANNEL_CONTROL,
  EXT_HISTORY,
  EXT_TERMINAL_FEATURES,
  FORWARDING,
  ownCapabilities,
  type OwnExtensions,
  SCROLLBACK,
  TERMINAL_FEATURES,
} from "./lib/extensions.ts";
export { DEFAULT_SCROLLBACK, HistoryRing, scrollbackFromEnv } from "./lib/history.ts";
export {
  ControlInbox,
  ControlKind,
  ControlLog,
  type ControlOp,
  decodeControl,
  encodeControl,
} from "./lib/channel_control.ts";
export { HistoryInbox, HistoryWriter, lostMarker } from "./lib/history_writer.ts";
export { type FeaturesDiff, FeatureState } from "./lib/terminal_features.ts";
export {
  eventBytes,
  EventInbox,
  EventLog,
  type EventPiece,
  type EventSegment,
  noticeText,
} from "./lib/terminal_events.ts";

// The terminal (§9, §10).
export { type ScrollbackSink, Terminal } from "./lib/terminal.ts";
export { type SavedCursor, Screen } from "./lib/screen.ts";
export { type ParserHandler } from "./lib/parser.ts";
export {
  ATTR_BLINK,
  ATTR_BOLD,
  ATTR_INVERSE,
  ATTR_INVISIBLE,
  ATTR_ITALIC,
  ATTR_UNDERLINE,
  Framebuffer,
  type FramebufferFields,
  type MouseEncoding,
  type MouseReporting,
  Row,
  UNDERLINE_PALETTE,
  XATTR_FAINT,
  XATTR_OVERLINE,
  XATTR_STRIKE,
  XATTR_UNDERLINE_MASK,
  XATTR_UNDERLINE_SHIFT,
} from "./lib/framebuffer.ts";
export { Pen, UnderlineStyle } from "./lib/sgr.ts";
export { charWidth, wcwidth } from "./lib/wcwidth.ts";
export { diffFrames, type DiffOptions } from "./lib/display.ts";
export { ALL_ATTRIBUTES, type AttributeSupport } from "./lib/display_attributes.ts";
export { loadTerminfo, type TermCaps } from "./lib/terminfo.ts";

// Client overlays (§8).
export { PredictionEngine } from "./lib/prediction.ts";
export { type PredictionMode } from "./lib/prediction_triggers.ts";
export { NotificationEngine } from "./lib/notification.ts";
export { type EscapeKey, EscapeKeyHandler, parseEscapeKey } from "./lib/escape_key.ts";

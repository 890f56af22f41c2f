/**
 * The protocol extensions between our own client and server (docs/PROTOCOL.md §13; numbers,
 * layouts and rules in docs/EXTENSIONS.md): the one owner of every extension field number and of
 * the capability names.
 *
 * C mosh 1.4.0 declares `extensions 2 to max` on both `ClientBuffers.Instruction` and
 * `HostBuffers.Instruction` and skips an instruction holding only extensions it does not know
 * (docs/PROTOCOL.md §4.4). Our client's first state carries a capabilities instruction (field
 * `EXT_CAPABILITIES`) before its first resize; our server puts its own into its state only after
 * it has seen the client's. A feature is on when both sides announced it, and a feature's fields
 * are read only after the peer announced it. Nothing else in `lib/` writes one of these numbers.
 */

/** Field 100 of both Instruction types: a `Capabilities` message (a list of name/version). */
export const EXT_CAPABILITIES = 100;
/** Field 101 of `HostBuffers.Instruction`: a `History` message (scrollback lines). */
export const EXT_HISTORY = 101;

/** Field 110 of both Instruction types: a `ChannelControl` message (forwarding, issue 16). */
export const EXT_CHANNEL_CONTROL = 110;
/** Field 120 of `HostBuffers.Instruction`: a `Features` message (cursor shape, events). */
export const EXT_TERMINAL_FEATURES = 120;

/** Lowest and highest field numbers of the scrollback extension (101-109). */
export const EXT_SCROLLBACK_FIRST = 101;
export const EXT_SCROLLBACK_LAST = 109;
/** Numbers 110-119: forwarding channels; 120-129: terminal features; 130-199: reserved. */
export const EXT_FORWARDING_FIRST = 110;
export const EXT_TERMINAL_FEATURES_FIRST = 120;
export const EXT_RESERVED_FIRST = 130;
export const EXT_RESERVED_LAST = 199;

// Field numbers inside the extension messages.
/** `Capabilities.capability` (repeated sub-message). */
export const CAPABILITIES_ENTRY = 1;
/** `Capability.name` (string). */
export const CAPABILITY_NAME = 1;
/** `Capability.version` (uint32). */
export const CAPABILITY_VERSION = 2;
/** `History.start` (uint64): the history frontier the diff starts from. */
export const HISTORY_START = 1;
/** `History.lost` (uint64): lines after `start` that left the ring before the client had them. */
export const HISTORY_LOST = 2;
/** `History.line` (repeated bytes): one flags byte, then the line as UTF-8 text with SGR. */
export const HISTORY_LINE = 3;

/** `ChannelControl.start` (uint64): the number of the first operation in `ops`. */
export const CONTROL_START = 1;
/** `ChannelControl.ops` (bytes): operations as lib/channel_control.ts encodes them. */
export const CONTROL_OPS = 2;
/** `Features.cursor_shape` (uint32, present when it changed): DECSCUSR 0-6. */
export const FEATURES_CURSOR_SHAPE = 1;
/** `Features.events_start` (uint64): the event stream offset the diff starts from. */
export const FEATURES_EVENTS_START = 2;
/** `Features.events_lost` (uint64): characters after the start that left the server's log. */
export const FEATURES_EVENTS_LOST = 3;
/** `Features.piece` (repeated `EventPiece`): the stream, cut at event boundaries. */
export const FEATURES_PIECE = 4;
/** `EventPiece.offset` (uint32): where the piece starts within its event. */
export const PIECE_OFFSET = 1;
/** `EventPiece.text` (string): the piece. */
export const PIECE_TEXT = 2;
/** `EventPiece.last` (bool): the piece ends its event. */
export const PIECE_LAST = 3;

/** First byte of a history line: the line wrapped into the next one. */
export const LINE_WRAPPED = 0x01;

/** One announced capability. */
export interface Capability {
  /** The feature's name, e.g. "scrollback". */
  readonly name: string;
  /** The version of the feature the sender implements. */
  readonly version: number;
}

/** The scrollback capability (issue 14). */
export const SCROLLBACK: Capability = Object.freeze({ name: "scrollback", version: 1 });

/** The forwarding capability (issue 16): channels, segments and their control. */
export const FORWARDING: Capability = Object.freeze({ name: "forwarding", version: 1 });

/** Agent forwarding (`-A`, issue 16): the client asks for it in its announcement, so the server
 * can put SSH_AUTH_SOCK into the shell's environment before it starts. */
export const AGENT_FORWARDING: Capability = Object.freeze({ name: "agent-forwarding", version: 1 });
/** The rule number of agent channels in an OPEN (`-A`; `-R` rules are numbered from 0). */
export const AGENT_RULE = 0xffff;
/** The terminal features capability (issue 15): cursor shape, notifications, clipboard copies. */
export const TERMINAL_FEATURES: Capability = Object.freeze({
  name: "terminal-features",
  version: 1,
});

/**
 * The extended attributes capability (issue 15): the server's display diff carries faint,
 * strikethrough, overline, underline styles and colour, and OSC 8 hyperlinks (lib/sgr.ts,
 * lib/display_attributes.ts) inside `hostbytes`. No field of its own.
 */
export const ATTRIBUTES: Capability = Object.freeze({ name: "attributes", version: 1 });

/** Longest capability name accepted from a peer, in bytes. */
export const MAX_CAPABILITY_NAME = 64;
/** Most capabilities accepted in one announcement. */
export const MAX_CAPABILITIES = 32;

/** True when `caps` (a peer's announcement, or null = none yet) contains `wanted`. */
export function announces(caps: readonly Capability[] | null, wanted: Capability): boolean {
  if (caps === null) return false;
  for (const c of caps) if (c.name === wanted.name && c.version >= wanted.version) return true;
  return false;
}

/** The extensions a side has switched on for itself (`--no-scrollback` turns one off). */
export interface OwnExtensions {
  /** Scrollback history (off with `--no-scrollback` or `MOSH_SCROLLBACK=0`). */
  scrollback: boolean;
  /** Terminal features: cursor shape, notifications, clipboard events. */
  features: boolean;
  /** Port forwarding (the client: when it has forwarding options; the server: when allowed). */
  forwarding?: boolean;
  /** Agent forwarding (the client with `-A` and an agent's socket). */
  agent?: boolean;
}

/** The capabilities a side announces, from its own switches (extended attributes always). */
export function ownCapabilities(
  { scrollback, features, forwarding = false, agent = false }: OwnExtensions,
): readonly Capability[] {
  const caps: Capability[] = [];
  if (scrollback) caps.push(SCROLLBACK);
  if (features) caps.push(TERMINAL_FEATURES);
  caps.push(ATTRIBUTES);
  if (forwarding) caps.push(FORWARDING);
  if (agent) caps.push(AGENT_FORWARDING);
  return Object.freeze(caps);
}

/**
 * Fragmentation, reassembly and compression of SSP instructions (docs/PROTOCOL.md §3, §2.2).
 *
 * An Instruction is serialized (protobuf.ts), compressed as a zlib stream (RFC 1950; deflate.ts,
 * a greedy matcher, faster than node:zlib's default level on instructions, whose streams C's
 * uncompress() reads like any other; inflate.ts reads any zlib stream into a bounded output) and
 * cut into fragments, each
 *
 *   u64 BE instruction id ‖ u16 BE (final << 15 | fragment number) ‖ chunk
 *
 * The fragment number counts from 0; the last fragment has the final bit set. The id changes
 * whenever the instruction (apart from its diff) or the MTU changes, so a receiver assembling one
 * id at a time can tell a retransmission from a new instruction.
 *
 * Sizes: makeFragments gets the bytes available for one fragment, i.e. the datagram MTU minus
 * DATAGRAM_OVERHEAD (28); mosh's datagram MTUs are 1252 (IPv4), 1216 (IPv6) and 500 (the initial
 * and fallback value), giving chunks of 1214, 1178 and 462 bytes.
 *
 * The receiver keeps one assembly, capped at 4 MiB of compressed chunks, and inflates into at most
 * 4 MiB (2048 * 2048, mosh's limit), so neither a flood of fragments nor a zlib bomb can make it
 * allocate more. Malformed input throws a ProtocolError for the caller to drop and count.
 */

import { deflate } from "./deflate.ts";
import { inflate } from "./inflate.ts";
import {
  DATAGRAM_OVERHEAD,
  DEFAULT_SEND_MTU,
  IPV4_DATAGRAM_MTU,
  IPV6_DATAGRAM_MTU,
} from "./datagram.ts";

export { DEFAULT_SEND_MTU, IPV4_DATAGRAM_MTU, IPV6_DATAGRAM_MTU };
import { InflateLimitError, ProtocolError } from "./errors.ts";
import { decodeInstruction, encodeInstruction, type Instruction } from "./protobuf.ts";

/** Bytes of fragment header: id and final/number. */
export const FRAGMENT_HEADER_LENGTH = 10;
/** Largest chunk in an IPv4 datagram (1252 - 28 - 10). */
export const IPV4_CHUNK_SIZE = IPV4_DATAGRAM_MTU - DATAGRAM_OVERHEAD - FRAGMENT_HEADER_LENGTH;
/** Largest chunk in an IPv6 datagram (1216 - 28 - 10). */
export const IPV6_CHUNK_SIZE = IPV6_DATAGRAM_MTU - DATAGRAM_OVERHEAD - FRAGMENT_HEADER_LENGTH;
/** Largest chunk in a default-MTU datagram (500 - 28 - 10). */
export const DEFAULT_CHUNK_SIZE = DEFAULT_SEND_MTU - DATAGRAM_OVERHEAD - FRAGMENT_HEADER_LENGTH;
/** Largest serialized Instruction a receiver inflates (mosh: 2048 * 2048 bytes). */
export const MAX_INSTRUCTION_SIZE = 2048 * 2048;
/** Largest total of compressed chunks one assembly may hold. */
export const MAX_COMPRESSED_SIZE = 4 * 1024 * 1024;
/** Fragment numbers are 15 bits: at most this many fragments per instruction. */
export const MAX_FRAGMENTS = 0x8000;

/** The fragment budget (header + chunk) for a datagram MTU: what makeFragments expects. */
export function fragmentMtu(datagramMtu: number): number {
  return datagramMtu - DATAGRAM_OVERHEAD;
}

/**
 * How many fragments an instruction carrying `diff` takes at datagram MTU `datagramMtu` (its
 * other fields at their largest: 10-byte state numbers, 16 bytes of chaff). The server uses it to
 * keep scrollback history from adding a fragment to an instruction (lib/terminal_state.ts).
 */
export function fragmentsFor(diff: Uint8Array, datagramMtu: number): number {
  const big = 0xffff_ffff_ffff_fffen;
  const inst: Instruction = {
    protocolVersion: 2,
    oldNum: big,
    newNum: big,
    ackNum: big,
    throwawayNum: big,
    diff,
    chaff: new Uint8Array(16),
  };
  const size = deflate(encodeInstruction(inst)).length;
  return Math.max(1, Math.ceil(size / (fragmentMtu(datagramMtu) - FRAGMENT_HEADER_LENGTH)));
}

/**
 * Splits instructions into numbered fragments, keeping mosh's instruction id rules.
 *
 * @example A 3,000-byte random diff becomes three fragments at the IPv4 MTU and comes back whole
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const diff = crypto.getRandomValues(new Uint8Array(3000)); // does not compress
 * const inst = {
 *   protocolVersion: 2,
 *   oldNum: 0n,
 *   newNum: 1n,
 *   ackNum: 0n,
 *   throwawayNum: 0n,
 *   diff,
 *   chaff: new Uint8Array(0),
 * };
 * const fragments = new Fragmenter().makeFragments(inst, fragmentMtu(IPV4_DATAGRAM_MTU));
 * assert.equal(fragments.length, 3);
 * const assembly = new FragmentAssembly();
 * assert.equal(assembly.add(fragments[2]), null); // any order; the last one has the F bit
 * assert.equal(assembly.add(fragments[0]), null);
 * assert.deepEqual(assembly.add(fragments[1])?.diff, diff);
 * ```
 */
export class Fragmenter {
  #nextId = 0;
  #last: Instruction | null = null;
  #lastMtu = -1;

  /** The id of the most recent instruction fragmented (0 before the first). */
  get lastId(): bigint {
    return BigInt(this.#nextId);
  }

  /**
   * Serializes, compresses and splits `inst`. `mtu` is the bytes available for a whole fragment
   * (see fragmentMtu); each chunk is at most mtu - 10 bytes. Returns the fragments in order.
   */
  makeFragments(inst: Instruction, mtu: number): Uint8Array[] {
    if (!Number.isInteger(mtu) || mtu <= FRAGMENT_HEADER_LENGTH) {
      throw new RangeError(`fragment: MTU must be an integer above 10, got ${mtu}`);
    }
    if (!this.#sameAsLast(inst, mtu)) {
      this.#nextId++;
      this.#last = { ...inst, diff: new Uint8Array(0), chaff: inst.chaff.slice() };
      this.#lastMtu = mtu;
    }
    const payload = deflate(encodeInstruction(inst));
    const chunkSize = mtu - FRAGMENT_HEADER_LENGTH;
    const count = Math.max(1, Math.ceil(payload.length / chunkSize));
    if (count > MAX_FRAGMENTS) {
      throw new RangeError(`fragment: instruction needs ${count} fragments, more than 32768`);
    }
    const idHi = Math.floor(this.#nextId / 0x1_0000_0000);
    const idLo = this.#nextId >>> 0;
    const fragments: Uint8Array[] = [];
    for (let num = 0; num < count; num++) {
      const chunk = payload.subarray(num * chunkSize, (num + 1) * chunkSize);
      const frag = new Uint8Array(FRAGMENT_HEADER_LENGTH + chunk.length);
      const view = new DataView(frag.buffer);
      view.setUint32(0, idHi);
      view.setUint32(4, idLo);
      view.setUint16(8, (num === count - 1 ? 0x8000 : 0) | num);
      frag.set(chunk, FRAGMENT_HEADER_LENGTH);
      fragments.push(frag);
    }
    return fragments;
  }

  #sameAsLast(inst: Instruction, mtu: number): boolean {
    const last = this.#last;
    if (last === null || mtu !== this.#lastMtu) return false;
    if (
      inst.oldNum !== last.oldNum || inst.newNum !== last.newNum || inst.ackNum !== last.ackNum ||
      inst.throwawayNum !== last.throwawayNum || inst.protocolVersion !== last.protocolVersion ||
      inst.chaff.length !== last.chaff.length
    ) return false;
    for (let i = 0; i < inst.chaff.length; i++) if (inst.chaff[i] !== last.chaff[i]) return false;
    return true;
  }
}

/** A parsed fragment header and its chunk (a view into the fragment). */
export interface Fragment {
  id: bigint;
  final: boolean;
  num: number;
  chunk: Uint8Array;
}

/** Parses a fragment's header; throws ProtocolError if it is shorter than the header. */
export function parseFragment(fragment: Uint8Array): Fragment {
  if (fragment.length < FRAGMENT_HEADER_LENGTH) {
    throw new ProtocolError(
      `fragment: ${fragment.length} bytes is shorter than its 10-byte header`,
    );
  }
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.length);
  const word = view.getUint16(8);
  return {
    id: view.getBigUint64(0),
    final: (word & 0x8000) !== 0,
    num: word & 0x7fff,
    chunk: fragment.subarray(FRAGMENT_HEADER_LENGTH),
  };
}

/** Reassembles the fragments of one instruction at a time and decodes it. */
export class FragmentAssembly {
  #idHi = -1;
  #idLo = -1;
  #chunks: (Uint8Array | undefined)[] = [];
  #arrived = 0;
  #total = -1;
  #bytes = 0;

  /**
   * Adds one fragment (a datagram's payload). Returns the Instruction once all its fragments are
   * present, else null. A fragment with a new id discards the partial assembly; duplicates are
   * ignored. Throws ProtocolError for a fragment shorter than 10 bytes, an assembly over 4 MiB, a
   * zlib error, an instruction inflating past 4 MiB, or invalid protobuf; the assembly is reset
   * after a complete instruction or an error.
   */
  add(fragment: Uint8Array): Instruction | null {
    if (fragment.length < FRAGMENT_HEADER_LENGTH) {
      throw new ProtocolError(
        `fragment: ${fragment.length} bytes is shorter than its 10-byte header`,
      );
    }
    const idHi = ((fragment[0] << 24) | (fragment[1] << 16) | (fragment[2] << 8) | fragment[3]) >>>
      0;
    const idLo = ((fragment[4] << 24) | (fragment[5] << 16) | (fragment[6] << 8) | fragment[7]) >>>
      0;
    const final = (fragment[8] & 0x80) !== 0;
    const num = ((fragment[8] & 0x7f) << 8) | fragment[9];

    if (idHi !== this.#idHi || idLo !== this.#idLo) {
      this.reset();
      this.#idHi = idHi;
      this.#idLo = idLo;
    }
    if (this.#chunks[num] !== undefined) return null; // duplicate
    const chunk = fragment.subarray(FRAGMENT_HEADER_LENGTH);
    if (this.#bytes + chunk.length > MAX_COMPRESSED_SIZE) {
      this.reset();
      throw new ProtocolError("fragment: instruction exceeds 4 MiB of compressed data");
    }
    this.#chunks[num] = chunk;
    this.#bytes += chunk.length;
    this.#arrived++;
    if (final) this.#total = num + 1;
    if (this.#total < 0 || this.#arrived < this.#total) return null;
    for (let i = 0; i < this.#total; i++) if (this.#chunks[i] === undefined) return null;

    const total = this.#total;
    const chunks = this.#chunks;
    this.reset();
    let size = 0;
    for (let i = 0; i < total; i++) size += chunks[i]!.length;
    const compressed = new Uint8Array(size);
    for (let i = 0, at = 0; i < total; at += chunks[i]!.length, i++) compressed.set(chunks[i]!, at);
    let inflated: Uint8Array;
    try {
      inflated = inflate(compressed, MAX_INSTRUCTION_SIZE);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      if (e instanceof InflateLimitError) {
        throw new ProtocolError("fragment: instruction inflates to more than 4 MiB");
      }
      throw new ProtocolError(`fragment: ${e.message}`);
    }
    return decodeInstruction(inflated);
  }

  /** Discards any partial assembly. */
  reset(): void {
    this.#idHi = -1;
    this.#idLo = -1;
    this.#chunks = [];
    this.#arrived = 0;
    this.#total = -1;
    this.#bytes = 0;
  }
}

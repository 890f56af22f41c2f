/**
 * The proto2 wire format (docs/PROTOCOL.md §4.4), the primitives every message codec here is built
 * on: a growable `Writer` that emits varints, tags and length-delimited fields (nested lengths
 * patched in place), and a bounds-checked `Reader` that reads them back and skips unknown fields
 * of every wire type. lib/protobuf.ts (mosh's messages) and lib/extension_codec.ts (ours) use them.
 *
 * Every length is checked against the input and malformed input throws a ProtocolError; bytes read
 * are views into the input, so reading never allocates more than the input size.
 */

import { ProtocolError } from "./errors.ts";

/** An empty bytes field, shared by the codecs (never written to). */
export const EMPTY: Uint8Array = new Uint8Array(0);

// Wire types.
/** Wire type 0: a varint. */
export const VARINT = 0;
/** Wire type 1: eight little-endian bytes. */
const FIXED64 = 1;
/** Wire type 2: a length-delimited field (bytes, strings, sub-messages). */
export const LENGTH = 2;
/** Wire type 3: the start of a (deprecated) group. */
const START_GROUP = 3;
/** Wire type 4: the end of a group. */
const END_GROUP = 4;
/** Wire type 5: four little-endian bytes. */
const FIXED32 = 5;

/** A growable byte buffer for building one message. */
export class Writer {
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

/** A cursor over one message's bytes; every read is bounds-checked. */
export class Reader {
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

/** Reads a varint as a uint32 (its low 32 bits). */
export function asUint32(r: Reader): number {
  r.varint();
  return r.lo;
}

/** Reads a varint as an int32 (its low 32 bits, signed). */
export function asInt32(r: Reader): number {
  r.varint();
  return r.lo | 0;
}

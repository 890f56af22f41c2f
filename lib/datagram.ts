/**
 * Sealing and opening mosh datagrams (docs/PROTOCOL.md §1.2-1.4 and §2.1).
 *
 * On the wire a datagram is
 *
 *   u64 BE (direction << 63 | seq)  ‖  AES-128-OCB ciphertext  ‖  16-byte tag
 *
 * where the OCB nonce is four zero bytes followed by those first 8 bytes, there is no associated
 * data, and the plaintext is u16 BE timestamp ‖ u16 BE timestamp_reply ‖ payload (a fragment).
 * The client sends with direction 0 (TO_SERVER), the server with 1 (TO_CLIENT); a receiver
 * rejects datagrams carrying its own direction, which stops reflection attacks.
 *
 * The sequence number comes from one counter per process, shared by every codec, so a nonce is
 * never reused even when the same key is used from several sockets.
 */

import { CryptoError } from "./errors.ts";
import { type Ocb, ocb } from "./ocb.ts";

/** Direction bit of datagrams sent by the client. */
export const TO_SERVER = 0;
/** Direction bit of datagrams sent by the server. */
export const TO_CLIENT = 1;
/** A direction bit: TO_SERVER (0) or TO_CLIENT (1). */
export type Direction = 0 | 1;

/** Timestamp value meaning "none" (§2.1). */
export const TIMESTAMP_NONE = 0xffff;
/** Bytes on the wire before the ciphertext: the nonce tail. */
export const NONCE_TAIL_LENGTH = 8;
/** Bytes of plaintext header: timestamp and timestamp reply. */
export const TIMESTAMPS_LENGTH = 4;
/** Shortest datagram that can be opened: nonce tail and tag (§1.3). */
export const MIN_DATAGRAM_LENGTH = 24;
/** Bytes a datagram adds around its payload: nonce tail, timestamps and tag (8 + 4 + 16). */
export const DATAGRAM_OVERHEAD = 28;
/** Datagram MTU for IPv4 peers: 1280 - 28 (IP + UDP headers), §2.2. */
export const IPV4_DATAGRAM_MTU = 1252;
/** Datagram MTU for IPv6 peers: 1280 - 64 (IPv6 + two extension headers + UDP), §2.2. */
export const IPV6_DATAGRAM_MTU = 1216;
/**
 * Longest datagram a receiver accepts (C's receive buffer, docs/PROTOCOL.md §1.3): anything longer is
 * dropped unopened. Every MTU above is well below it.
 */
export const MAX_DATAGRAM_LENGTH = 2048;
/** Datagram MTU before the address family is known, and after sendto fails with EMSGSIZE. */
export const DEFAULT_SEND_MTU = 500;

const TWO_32 = 0x1_0000_0000;
const MAX_SEQ = (1n << 63n) - 1n;
/** mosh's per-process limit on encrypted OCB blocks (§1.4). */
const BLOCK_LIMIT = 2 ** 47;

/** The process-wide datagram sequence counter (Crypto::unique() in mosh). */
let nextSeq = 0;
/** OCB blocks sealed by this process. */
let blocksSealed = 0;

/** A datagram that authenticated and parsed. */
export interface OpenedDatagram {
  /** The sender's 63-bit sequence number. */
  seq: bigint;
  /** The sender's u16 clock (ms mod 65536), or TIMESTAMP_NONE. */
  timestamp: number;
  /** The sender's echo of our timestamp, or TIMESTAMP_NONE. */
  timestampReply: number;
  /** The payload after the timestamps (a view into the decrypted plaintext). */
  payload: Uint8Array;
}

/** Counts of datagrams `open` rejected, by reason. */
export interface DatagramRejections {
  /** Shorter than nonce tail plus tag (24 bytes). */
  tooShort: number;
  /** Carried the receiver's own direction bit (a reflected datagram). */
  wrongDirection: number;
  /** Failed OCB authentication ("Packet failed integrity check."). */
  integrity: number;
  /** Authenticated, but the plaintext was shorter than the two timestamps. */
  shortPlaintext: number;
}

/**
 * The current time as a mosh u16 timestamp: milliseconds modulo 65536, with 0xFFFF (which means
 * "none") bumped to 0. `nowMs` defaults to the monotonic clock.
 */
export function timestamp16(nowMs: number = performance.now()): number {
  const t = Math.floor(nowMs) % 65536;
  return t === TIMESTAMP_NONE ? 0 : t;
}

let sealAt: (
  codec: DatagramCodec,
  timestamp: number,
  timestampReply: number,
  payload: Uint8Array,
  seq: bigint,
) => Uint8Array;

/**
 * Seals with a chosen sequence number instead of the process-wide counter: for test vectors
 * only, since reusing a sequence number reuses a nonce. Not part of the public API (mod.ts).
 */
export function sealWithSequence(
  codec: DatagramCodec,
  timestamp: number,
  timestampReply: number,
  payload: Uint8Array,
  seq: bigint,
): Uint8Array {
  return sealAt(codec, timestamp, timestampReply, payload, seq);
}

/** Seals outgoing and opens incoming datagrams for one session key and one side. */
export class DatagramCodec {
  /** The direction this side sends; incoming datagrams must carry the other one. */
  readonly direction: Direction;
  /** Rejections by reason, for diagnostics (-v). */
  readonly rejected: DatagramRejections = {
    tooShort: 0,
    wrongDirection: 0,
    integrity: 0,
    shortPlaintext: 0,
  };
  #cipher: Ocb;
  #nonce = new Uint8Array(12);
  #nonceView = new DataView(this.#nonce.buffer);
  #plain = new Uint8Array(2048);

  /**
   * A codec for one side of a session.
   * @param key the 16-byte session key
   * @param direction the direction this side sends: TO_SERVER for a client, TO_CLIENT for a server
   */
  constructor(key: Uint8Array, direction: Direction) {
    if (direction !== TO_SERVER && direction !== TO_CLIENT) {
      throw new TypeError(`datagram: direction must be 0 or 1, got ${direction}`);
    }
    this.#cipher = ocb(key);
    this.direction = direction;
  }

  /**
   * Builds one datagram carrying `payload`, with the next number of the process-wide sequence
   * counter (so no two datagrams of this process ever share a nonce).
   */
  seal(timestamp: number, timestampReply: number, payload: Uint8Array): Uint8Array {
    return this.#seal(timestamp, timestampReply, payload, undefined);
  }

  static {
    sealAt = (codec, timestamp, timestampReply, payload, seq) =>
      codec.#seal(timestamp, timestampReply, payload, seq);
  }

  #seal(
    timestamp: number,
    timestampReply: number,
    payload: Uint8Array,
    seq: bigint | undefined,
  ): Uint8Array {
    checkU16("timestamp", timestamp);
    checkU16("timestampReply", timestampReply);
    if (!(payload instanceof Uint8Array)) {
      throw new TypeError("datagram: payload must be a Uint8Array");
    }
    let hi: number;
    let lo: number;
    if (seq === undefined) {
      if (nextSeq >= Number.MAX_SAFE_INTEGER) throw new CryptoError("Sequence number exhausted.");
      hi = Math.floor(nextSeq / TWO_32);
      lo = nextSeq >>> 0;
      nextSeq++;
    } else {
      if (typeof seq !== "bigint" || seq < 0n || seq > MAX_SEQ) {
        throw new RangeError(`datagram: seq must be a bigint in [0, 2^63), got ${seq}`);
      }
      hi = Number(seq >> 32n);
      lo = Number(seq & 0xffffffffn);
    }
    const length = TIMESTAMPS_LENGTH + payload.length;
    blocksSealed += (length + 15) >>> 4;
    if (blocksSealed > BLOCK_LIMIT) throw new CryptoError("Encrypted 2^47 blocks.");

    if (this.#plain.length < length) this.#plain = new Uint8Array(length * 2);
    const plain = this.#plain;
    plain[0] = timestamp >>> 8;
    plain[1] = timestamp & 0xff;
    plain[2] = timestampReply >>> 8;
    plain[3] = timestampReply & 0xff;
    plain.set(payload, TIMESTAMPS_LENGTH);

    const out = new Uint8Array(NONCE_TAIL_LENGTH + length + 16);
    const view = this.#nonceView;
    view.setUint32(4, ((this.direction << 31) | hi) >>> 0);
    view.setUint32(8, lo);
    out.set(this.#nonce.subarray(4), 0);
    this.#cipher.encrypt(
      this.#nonce,
      plain.subarray(0, length),
      undefined,
      out.subarray(NONCE_TAIL_LENGTH),
    );
    return out;
  }

  /**
   * Zeroes the key material and the plaintext buffer (when the connection ends); `seal` and
   * `open` throw afterwards.
   */
  wipe(): void {
    this.#cipher.wipe();
    this.#plain.fill(0);
  }

  /**
   * Authenticates and decrypts one received datagram. Returns null, and counts the reason in
   * `rejected`, for a datagram that is too short, has this side's own direction bit, fails
   * authentication, or holds fewer than 4 plaintext bytes. Never throws for any input bytes (only
   * after `wipe()`).
   */
  open(datagram: Uint8Array): OpenedDatagram | null {
    if (datagram.length < MIN_DATAGRAM_LENGTH) {
      this.rejected.tooShort++;
      return null;
    }
    const hi = ((datagram[0] << 24) | (datagram[1] << 16) | (datagram[2] << 8) | datagram[3]) >>>
      0;
    if (hi >>> 31 === this.direction) {
      this.rejected.wrongDirection++;
      return null;
    }
    const nonce = this.#nonce;
    nonce.set(datagram.subarray(0, NONCE_TAIL_LENGTH), 4);
    const plain = this.#cipher.decrypt(nonce, datagram.subarray(NONCE_TAIL_LENGTH));
    if (plain === null) {
      this.rejected.integrity++;
      return null;
    }
    if (plain.length < TIMESTAMPS_LENGTH) {
      this.rejected.shortPlaintext++;
      return null;
    }
    const lo = ((datagram[4] << 24) | (datagram[5] << 16) | (datagram[6] << 8) | datagram[7]) >>>
      0;
    const seqHi = hi & 0x7fffffff;
    return {
      seq: seqHi === 0 ? BigInt(lo) : (BigInt(seqHi) << 32n) | BigInt(lo),
      timestamp: (plain[0] << 8) | plain[1],
      timestampReply: (plain[2] << 8) | plain[3],
      payload: plain.subarray(TIMESTAMPS_LENGTH),
    };
  }
}

function checkU16(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`datagram: ${name} must be an integer in [0, 65535], got ${value}`);
  }
}

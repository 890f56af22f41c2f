/**
 * A minimal mosh client made of the wire modules alone (lib/datagram.ts, lib/fragment.ts,
 * lib/protobuf.ts; docs/PROTOCOL.md §1-§4), for tests that drive Debian's mosh-server
 * instruction by instruction: a UDP socket on loopback, the client-to-server codec, a fragmenter
 * and an assembly, and the timestamp echo of §2 (the server's newest timestamp, adjusted for the
 * time held, replied once within a second). What to send and when is the test's business.
 */

import { DatagramCodec, timestamp16, TIMESTAMP_NONE, TO_SERVER } from "../lib/datagram.ts";
import { DEFAULT_SEND_MTU, FragmentAssembly, Fragmenter, fragmentMtu } from "../lib/fragment.ts";
import { parseKey } from "../lib/key.ts";
import type { Instruction } from "../lib/protobuf.ts";

/** A client socket talking to a mosh server on 127.0.0.1:`port` with `key`. */
export class RawClient {
  /** The client's codec: its `rejected` counts say what failed to open. */
  readonly codec: DatagramCodec;
  /** Round trips (ms) measured from the server's timestamp replies. */
  readonly rtts: number[] = [];
  readonly #socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  readonly #peer: Deno.NetAddr;
  readonly #fragmenter = new Fragmenter();
  readonly #assembly = new FragmentAssembly();
  readonly #mtu: number;
  #receiving: Promise<void> = Promise.resolve();
  #serverTimestamp = TIMESTAMP_NONE;
  #serverTimestampAt = 0;

  /** `datagramMtu`: the largest datagram sent (fragments are cut to fit it). */
  constructor(port: number, key: string, datagramMtu = DEFAULT_SEND_MTU) {
    this.codec = new DatagramCodec(parseKey(key), TO_SERVER);
    this.#peer = { transport: "udp", hostname: "127.0.0.1", port };
    this.#mtu = fragmentMtu(datagramMtu);
  }

  /** Sends `inst` in fragments, with the timestamp reply when one is due. */
  async send(inst: Instruction): Promise<void> {
    let reply = TIMESTAMP_NONE;
    const held = performance.now() - this.#serverTimestampAt;
    if (this.#serverTimestamp !== TIMESTAMP_NONE && held < 1000) {
      reply = (this.#serverTimestamp + Math.floor(held)) & 0xffff;
      this.#serverTimestamp = TIMESTAMP_NONE;
    }
    for (const fragment of this.#fragmenter.makeFragments(inst, this.#mtu)) {
      await this.#socket.send(this.codec.seal(timestamp16(), reply, fragment), this.#peer);
    }
  }

  /**
   * Receives until `close()`: every reassembled instruction goes to `onInstruction` (a datagram
   * that fails to open is dropped and counted in `codec.rejected`). An exception thrown by
   * `onInstruction` ends the loop and is rethrown by `close()`.
   */
  listen(onInstruction: (inst: Instruction) => void): void {
    this.#receiving = (async () => {
      for (;;) {
        let datagram: Uint8Array;
        try {
          [datagram] = await this.#socket.receive();
        } catch {
          return; // the socket is closed
        }
        const opened = this.codec.open(datagram);
        if (!opened) continue;
        if (opened.timestamp !== TIMESTAMP_NONE) {
          this.#serverTimestamp = opened.timestamp;
          this.#serverTimestampAt = performance.now();
        }
        if (opened.timestampReply !== TIMESTAMP_NONE) {
          this.rtts.push((timestamp16() - opened.timestampReply + 65536) % 65536);
        }
        const inst = this.#assembly.add(opened.payload);
        if (inst !== null) onInstruction(inst);
      }
    })();
  }

  /** Closes the socket and waits for the receive loop to end. */
  async close(): Promise<void> {
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
    await this.#receiving;
  }
}

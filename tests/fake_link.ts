// A TransportLink for unit tests of lib/transport.ts and what drives it: it keeps every
// instruction the transport sends, reassembled from its fragments, with the clock's time.
import { FragmentAssembly } from "../lib/fragment.ts";
import type { Instruction } from "../lib/protobuf.ts";
import type { TransportLink } from "../lib/transport.ts";

/** A link that records what the transport sends, decoded; `srtt` and `rto` are settable. */
export class FakeLink implements TransportLink {
  hasRemoteAddr = true;
  srtt = 100;
  rto = 200;
  mtu = 1252;
  lastRoundtripSuccess = -Infinity;
  /** Each instruction sent, when, and the fragments it went in. */
  readonly sent: { time: number; inst: Instruction; fragments: Uint8Array[] }[] = [];
  #assembly = new FragmentAssembly();
  #pending: Uint8Array[] = [];
  constructor(readonly clock: { t: number }) {}
  send(payload: Uint8Array): void {
    this.#pending.push(payload);
    const inst = this.#assembly.add(payload);
    if (inst !== null) {
      this.sent.push({ time: this.clock.t, inst, fragments: this.#pending });
      this.#pending = [];
    }
  }
}

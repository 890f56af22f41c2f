/**
 * OCB and datagram throughput (docs/PROTOCOL.md §1): sealing and opening 1,400-byte datagrams.
 *
 *   deno bench --allow-all bench/crypto_bench.ts
 *
 * Goal: at least 30,000 sealed 1,400-byte datagrams per second on one core.
 */

import { DatagramCodec, TO_CLIENT, TO_SERVER } from "../lib/datagram.ts";
import { ocb } from "../lib/ocb.ts";

const key = crypto.getRandomValues(new Uint8Array(16));
const payload = crypto.getRandomValues(new Uint8Array(1400 - 28));
const server = new DatagramCodec(key, TO_CLIENT);
const client = new DatagramCodec(key, TO_SERVER);
const sealed = server.seal(1234, 0xffff, payload);
if (sealed.length !== 1400) throw new Error(`expected a 1400-byte datagram, got ${sealed.length}`);
if (client.open(sealed) === null) throw new Error("sealed datagram did not open");

const cipher = ocb(key);
const nonce = new Uint8Array(12);
const plaintext = crypto.getRandomValues(new Uint8Array(1400));
const out = new Uint8Array(1400 + 16);
const ciphertext = cipher.encrypt(nonce, plaintext);

Deno.bench("datagram seal, 1400-byte datagram", { group: "datagram" }, () => {
  server.seal(1234, 0xffff, payload);
});

Deno.bench("datagram open, 1400-byte datagram", { group: "datagram" }, () => {
  if (client.open(sealed) === null) throw new Error("open failed");
});

Deno.bench("ocb encrypt 1400 B into a reused buffer", { group: "ocb" }, () => {
  cipher.encrypt(nonce, plaintext, undefined, out);
});

Deno.bench("ocb decrypt 1400 B", { group: "ocb" }, () => {
  if (cipher.decrypt(nonce, ciphertext) === null) throw new Error("decrypt failed");
});

Deno.bench("ocb encrypt 40 B (a keystroke-sized datagram)", { group: "ocb" }, () => {
  cipher.encrypt(nonce, plaintext.subarray(0, 40));
});

// The constant-time alternative to lib/aes.ts's table-based AES: WebCrypto, which is
// asynchronous and has no ECB mode. OCB needs E_K of 88 arbitrary blocks for a 1,400-byte
// datagram (P_i ^ Offset_i: all known up front, but CBC chains them and CTR only takes
// consecutive counters), so the best WebCrypto can do is one call per block, all in flight at
// once: AES-CBC with a zero IV over one block gives E_K(block) as its first 16 bytes.
const BLOCKS_PER_DATAGRAM = Math.ceil(1400 / 16) + 2; // + the pad block and the tag
const webKey = await crypto.subtle.importKey("raw", key, "AES-CBC", false, ["encrypt"]);
const zeroIv = new Uint8Array(16);
const blocks = Array.from(
  { length: BLOCKS_PER_DATAGRAM },
  () => crypto.getRandomValues(new Uint8Array(16)),
);

Deno.bench(
  "webcrypto: E_K of one 1,400-byte datagram's 90 blocks, one AES-CBC call per block",
  { group: "aes alternatives" },
  async () => {
    await Promise.all(
      blocks.map((b) => crypto.subtle.encrypt({ name: "AES-CBC", iv: zeroIv }, webKey, b)),
    );
  },
);

Deno.bench(
  "lib/aes.ts (table-based, through ocb): E_K of 90 blocks",
  { group: "aes alternatives" },
  () => {
    cipher.encrypt(nonce, plaintext.subarray(0, 16 * (BLOCKS_PER_DATAGRAM - 2)), undefined, out);
  },
);

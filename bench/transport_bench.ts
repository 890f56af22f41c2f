// SSP over real UDP on loopback (lib/connection.ts + lib/transport.ts + lib/user_stream.ts):
// keystroke round trips per second (bounded by mosh's own timers, not by CPU), and the bulk
// throughput of a large, incompressible client state. Run: deno bench --allow-all bench/

import { Connection } from "../lib/connection.ts";
import { Transport } from "../lib/transport.ts";
import { UserStream } from "../lib/user_stream.ts";
import { pump as pumpFor, wakeAll } from "../tests/transport_pump.ts";

/** Runs the transports until `done()` (a minute at most). */
const pump = (transports: Transport<UserStream, UserStream>[], done: () => boolean) =>
  pumpFor(transports, done, 60000);

/**
 * A client and a server transport, both synchronising UserStreams, on loopback. With `echo`, the
 * server appends every input byte to its own state, so keystrokes come back to the client.
 */
function session(ip: string, echo: boolean) {
  const key = crypto.getRandomValues(new Uint8Array(16));
  const serverConn = Connection.server({ key, ip, port: "0" });
  const clientConn = Connection.client({ key, ip, port: serverConn.port });
  const server = new Transport({
    link: serverConn,
    initialState: new UserStream(),
    initialRemoteState: new UserStream(),
  });
  const client = new Transport({
    link: clientConn,
    initialState: new UserStream(),
    initialRemoteState: new UserStream(),
    sendMinDelay: 1,
  });
  let serverInput = 0;
  serverConn.listen((p) => {
    const before = server.remoteStateNum;
    server.recv(p);
    if (server.remoteStateNum !== before) {
      // What mosh-server does with new input: take the diff and act on it (here: echo it).
      const input = new UserStream();
      input.applyString(server.getRemoteDiff());
      serverInput += input.size;
      if (echo) {
        for (const e of input.events()) {
          if (e.type === "keys") server.currentState.pushBytes(e.keys);
        }
      }
    }
    wakeAll();
  });
  clientConn.listen((p) => {
    client.recv(p);
    wakeAll();
  });
  return {
    client,
    server,
    serverInput: () => serverInput,
    close: async () => {
      await clientConn.close();
      await serverConn.close();
    },
  };
}

const ROUND_TRIPS = 50;
const BULK_BYTES = 8 << 20;

for (const ip of ["127.0.0.1", "::1"]) {
  Deno.bench({
    name: `keystroke echo round trip (${ip}), ${ROUND_TRIPS} per iteration`,
    n: 3,
    warmup: 1,
    async fn(b) {
      const s = session(ip, true);
      s.client.currentState.pushResize(80, 24);
      await pump([s.client, s.server], () => s.server.getSentStateAcked() > 0n);
      const key = new Uint8Array([0x61]);
      let echoed = 0;
      const echoedBytes = () => {
        const e = s.client.getLatestRemoteState().state.events();
        return e.length === 0 ? 0 : (e[0].type === "keys" ? e[0].keys.length : 0);
      };
      b.start();
      const t0 = performance.now();
      for (let i = 0; i < ROUND_TRIPS; i++) {
        s.client.currentState.pushBytes(key);
        echoed++;
        await pump([s.client, s.server], () => echoedBytes() >= echoed);
      }
      const ms = (performance.now() - t0) / ROUND_TRIPS;
      b.end();
      console.log(
        `  ${ip}: ${ms.toFixed(1)} ms per keystroke echo (${(1000 / ms).toFixed(0)} round trips/s)`,
      );
      await s.close();
    },
  });

  Deno.bench({
    name: `bulk client→server stream (${ip}), ${BULK_BYTES >> 20} MiB incompressible`,
    n: 2,
    warmup: 0,
    async fn(b) {
      const s = session(ip, false);
      const noise = new Uint8Array(1 << 20);
      for (let i = 0; i < noise.length; i += 65536) {
        crypto.getRandomValues(noise.subarray(i, i + 65536));
      }
      const chunk = 64 << 10;
      let pushed = 0;
      b.start();
      const t0 = performance.now();
      while (s.serverInput() < BULK_BYTES) {
        // Keep at most 512 KiB in flight, like a paste fed as fast as SSP drains it.
        while (pushed < BULK_BYTES && pushed - s.serverInput() < 512 << 10) {
          const at = pushed % noise.length;
          s.client.currentState.pushBytes(noise.subarray(at, at + chunk));
          pushed += chunk;
        }
        const target = s.serverInput() + 1;
        await pump([s.client, s.server], () => s.serverInput() >= target);
      }
      const seconds = (performance.now() - t0) / 1000;
      b.end();
      console.log(
        `  ${ip}: ${(BULK_BYTES / seconds / 1e6).toFixed(2)} MB/s client→server ` +
          `(${seconds.toFixed(2)} s for ${BULK_BYTES >> 20} MiB)`,
      );
      await s.close();
    },
  });
}

/**
 * The SOCKS5 server side of `-D` (RFC 1928; docs/EXTENSIONS.md "Forwarding"): the client reads a
 * local application's greeting and CONNECT request, and the target it names (an IPv4 or IPv6
 * address, or a name the server resolves) becomes the channel's OPEN. Only "no authentication"
 * and CONNECT are offered; anything else gets the matching failure reply and is closed.
 */

/** Reply codes (RFC 1928 §6). */
export const SocksReply = Object.freeze({
  Succeeded: 0,
  GeneralFailure: 1,
  HostUnreachable: 4,
  CommandNotSupported: 7,
  AddressTypeNotSupported: 8,
});

/** The target of a CONNECT request. */
export interface SocksTarget {
  readonly host: string;
  readonly port: number;
}

/** Reads exactly `n` bytes; null at end of file. */
async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const k = await conn.read(out.subarray(at));
    if (k === null) return null;
    at += k;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let at = 0; at < b.length;) at += await conn.write(b.subarray(at));
}

/** Sends a reply with code `code` (bound address 0.0.0.0:0). */
export async function socksReply(conn: Deno.Conn, code: number): Promise<void> {
  await writeAll(conn, new Uint8Array([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
}

/**
 * Runs the greeting and reads a CONNECT request. Returns its target, or null after replying with
 * a failure (or when the peer went away); never throws for bad input.
 */
export async function socksHandshake(conn: Deno.Conn): Promise<SocksTarget | null> {
  try {
    const head = await readExactly(conn, 2);
    if (head === null || head[0] !== 5) return null;
    const methods = await readExactly(conn, head[1]);
    if (methods === null) return null;
    if (!methods.includes(0)) {
      await writeAll(conn, new Uint8Array([5, 0xff]));
      return null;
    }
    await writeAll(conn, new Uint8Array([5, 0]));
    const req = await readExactly(conn, 4);
    if (req === null || req[0] !== 5) return null;
    if (req[1] !== 1) {
      await socksReply(conn, SocksReply.CommandNotSupported);
      return null;
    }
    let host: string;
    if (req[3] === 1) {
      const a = await readExactly(conn, 4);
      if (a === null) return null;
      host = a.join(".");
    } else if (req[3] === 3) {
      const len = await readExactly(conn, 1);
      if (len === null || len[0] === 0) return null;
      const name = await readExactly(conn, len[0]);
      if (name === null) return null;
      host = new TextDecoder().decode(name);
    } else if (req[3] === 4) {
      const a = await readExactly(conn, 16);
      if (a === null) return null;
      const words: string[] = [];
      for (let i = 0; i < 16; i += 2) words.push(((a[i] << 8) | a[i + 1]).toString(16));
      host = words.join(":");
    } else {
      await socksReply(conn, SocksReply.AddressTypeNotSupported);
      return null;
    }
    const p = await readExactly(conn, 2);
    if (p === null) return null;
    const port = (p[0] << 8) | p[1];
    if (port === 0) {
      await socksReply(conn, SocksReply.GeneralFailure);
      return null;
    }
    return { host, port };
  } catch {
    return null;
  }
}

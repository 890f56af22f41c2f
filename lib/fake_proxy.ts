/**
 * The `mosh --fake-proxy` ProxyCommand (docs/PROTOCOL.md §8.5, "--fake-proxy"): ssh runs it as
 * `ProxyCommand=<this> --family=F -- %h %p`. It resolves the host the way ssh would (the
 * system resolver, so /etc/hosts counts), connects by TCP to the first address that answers,
 * prints `MOSH IP <address>` on stderr (ssh passes its ProxyCommand's stderr through, so the
 * wrapper learns the exact address ssh reached) and then relays bytes both ways like netcat.
 *
 *   deno run --no-config --allow-net lib/fake_proxy.ts [--family=F] [--] HOST PORT
 *
 * Address families (`--family`): `inet` and `inet6` keep one family; `all` keeps the
 * resolver's order; `prefer-inet` (the default) and `prefer-inet6` put one family first;
 * `auto` uses a host's addresses only if they are all of one family.
 */

import { errorText } from "./errors.ts";
import { stdio, writeAll } from "./write_all.ts";

/** Address-family policies of `--family` (§8.5). */
export const FAMILIES = ["inet", "inet6", "auto", "all", "prefer-inet", "prefer-inet6"] as const;
/** One `--family` policy. */
export type Family = typeof FAMILIES[number];

/** One resolved address. */
export interface ResolvedAddress {
  /** Numeric IPv4 or IPv6 address. */
  address: string;
  /** 4 or 6. */
  family: number;
}

/**
 * Filters and orders `addrs` (resolver order) by the `--family` policy. Returns the addresses
 * to try in order, or the reason there are none.
 */
export function orderAddresses(
  host: string,
  addrs: readonly ResolvedAddress[],
  family: Family,
): { addresses: string[] } | { error: string } {
  const v4 = addrs.filter((a) => a.family === 4).map((a) => a.address);
  const v6 = addrs.filter((a) => a.family === 6).map((a) => a.address);
  let addresses: string[];
  switch (family) {
    case "inet":
      addresses = v4;
      break;
    case "inet6":
      addresses = v6;
      break;
    case "prefer-inet":
      addresses = [...v4, ...v6];
      break;
    case "prefer-inet6":
      addresses = [...v6, ...v4];
      break;
    case "all":
      addresses = addrs.map((a) => a.address);
      break;
    case "auto":
      if (v4.length > 0 && v6.length > 0) {
        return {
          error: `${host} has both IPv4 and IPv6 addresses; ` +
            "choose one with --family=inet (-4), --family=inet6 (-6) or --family=all",
        };
      }
      addresses = addrs.map((a) => a.address);
      break;
  }
  if (addresses.length === 0) {
    const which = family === "inet" ? "IPv4 " : family === "inet6" ? "IPv6 " : "";
    return { error: `could not find an ${which}address for ${host}` };
  }
  return { addresses };
}

/** The system resolver's error codes, in words. */
const RESOLVER_ERRORS: Record<string, string> = {
  ENOTFOUND: "Name or service not known",
  EAI_AGAIN: "Temporary failure in name resolution",
  ENODATA: "No address associated with hostname",
};

/**
 * Resolves `host` with the system resolver (getaddrinfo: /etc/hosts, then DNS) and orders the
 * addresses by `family`. Throws an Error with one clear line when there is none.
 */
export async function resolveHost(host: string, family: Family): Promise<string[]> {
  let addrs: ResolvedAddress[];
  try {
    // Deno has no getaddrinfo of its own (Deno.resolveDns skips /etc/hosts). node:dns is imported
    // here, not at the top: the client imports FAMILIES from this module, and a static import
    // would load Deno's Node compatibility layer (~7 MB resident) into every client.
    const { lookup } = await import("node:dns/promises");
    addrs = await lookup(host, { all: true, verbatim: true });
  } catch (e) {
    const code = (e as { code?: string }).code ?? "";
    const why = RESOLVER_ERRORS[code] ?? errorText(e);
    throw new Error(`could not resolve ${host}: ${why}`);
  }
  const ordered = orderAddresses(host, addrs, family);
  if ("error" in ordered) throw new Error(ordered.error);
  return ordered.addresses;
}

/**
 * Runs the proxy: resolve, connect, announce `MOSH IP`, relay stdin/stdout to the connection
 * until the remote end closes. Returns the exit status (1 with one line on stderr on failure).
 * A read of stdin may still be pending at the end, so the caller should `Deno.exit`.
 */
export async function runFakeProxy(host: string, port: string, family: Family): Promise<number> {
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    stdio.err(`mosh: --fake-proxy: bad port "${port}"\n`);
    return 1;
  }
  let addresses: string[];
  try {
    addresses = await resolveHost(host, family);
  } catch (e) {
    stdio.err(`mosh: ${errorText(e)}\n`);
    return 1;
  }
  let conn: Deno.TcpConn | null = null;
  let lastError = "";
  let lastTried = "";
  for (const address of addresses) {
    lastTried = address;
    try {
      conn = await Deno.connect({ hostname: address, port: Number(port), transport: "tcp" });
      break;
    } catch (e) {
      lastError = errorText(e);
    }
  }
  if (conn === null) {
    stdio.err(`mosh: Could not connect to ${host}, last tried ${lastTried}: ${lastError}\n`);
    return 1;
  }
  stdio.err(`MOSH IP ${lastTried}\n`);
  const tcp = conn;
  // stdin -> TCP; at end of input, half-close so the server sees EOF and finishes.
  (async () => {
    const buf = new Uint8Array(16384);
    try {
      for (;;) {
        const n = await Deno.stdin.read(buf);
        if (n === null) break;
        await writeAll(tcp, buf.subarray(0, n));
      }
      await tcp.closeWrite();
    } catch {
      // The connection is closing; the other direction ends the proxy.
    }
  })();
  // TCP -> stdout until the server closes.
  const buf = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await tcp.read(buf);
      if (n === null) break;
      await writeAll(Deno.stdout, buf.subarray(0, n));
    }
  } catch {
    // Reset by the peer or stdout closed: the session is over either way.
  }
  try {
    tcp.close();
  } catch {
    // already closed
  }
  return 0;
}

/** Parses `[--family=F] [--] HOST PORT` (the ProxyCommand's arguments). */
export function parseFakeProxyArgs(
  args: readonly string[],
): { host: string; port: string; family: Family } | { error: string } {
  let family: Family = "prefer-inet";
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--family=")) {
      const f = a.slice("--family=".length);
      if (!(FAMILIES as readonly string[]).includes(f)) return { error: `unknown family "${f}"` };
      family = f as Family;
    } else if (a.startsWith("-")) {
      return { error: `unknown option ${a}` };
    } else {
      rest.push(a);
    }
  }
  if (rest.length !== 2) return { error: "usage: fake_proxy.ts [--family=F] [--] HOST PORT" };
  return { host: rest[0], port: rest[1], family };
}

if (import.meta.main) {
  const parsed = parseFakeProxyArgs(Deno.args);
  if ("error" in parsed) {
    stdio.err(`mosh --fake-proxy: ${parsed.error}\n`);
    Deno.exit(1);
  }
  Deno.exit(await runFakeProxy(parsed.host, parsed.port, parsed.family));
}

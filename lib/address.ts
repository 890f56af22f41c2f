/**
 * Addresses and ports as mosh's command lines give them (docs/PROTOCOL.md §7.1, §2.4): mosh-server's
 * `-p` port range and the numeric-IP check. Kept apart from connection.ts, which needs the crypto,
 * so that the commands' argument parsing (server.ts's foreground, client.ts) loads none of it.
 */

/** A UDP port or port range, inclusive. `{ low: 0, high: 0 }` lets the kernel choose. */
export interface PortRange {
  /** First port tried. */
  low: number;
  /** Last port tried. */
  high: number;
}

/** mosh-server's default search range (the documentation says 60000–61000). */
export const DEFAULT_PORT_RANGE: Readonly<PortRange> = Object.freeze({ low: 60001, high: 60999 });

/** A `-p` value that mosh-server rejects. */
export class PortRangeError extends Error {
  /** The specific complaint mosh prints first, e.g. "Low port 5 greater than high port 3". */
  readonly detail: string;
  /**
   * The error for a bad `-p` value, with mosh's message.
   * @param spec the rejected `-p` value
   * @param detail the specific complaint
   */
  constructor(spec: string, detail: string) {
    super(`Bad UDP port range (${spec})`);
    this.name = "PortRangeError";
    this.detail = detail;
  }
}

/**
 * Parses mosh-server's `-p` value: `N` or `LOW:HIGH`, each 0-65535, LOW ≤ HIGH, and a range may
 * not start at 0. Numbers follow C's strtol: leading blanks and a sign are allowed, trailing junk
 * is not, and an empty number is 0 (so `-p ""` means "kernel's choice", as in mosh).
 * Throws `PortRangeError` ("Bad UDP port range (…)") with mosh's first-line complaint as `detail`.
 */
export function parsePortRange(spec: string): PortRange {
  const colon = spec.indexOf(":");
  const lowText = colon < 0 ? spec : spec.slice(0, colon);
  const low = parseCLong(lowText);
  if (low === null) throw new PortRangeError(spec, `Invalid (low) port number (${spec})`);
  if (low < 0 || low > 65535) {
    throw new PortRangeError(spec, `(Low) port number ${low} outside valid range [0..65535]`);
  }
  if (colon < 0) return { low, high: low };
  const highText = spec.slice(colon + 1);
  const high = parseCLong(highText);
  if (high === null) throw new PortRangeError(spec, `Invalid high port number (${highText})`);
  if (high < 0 || high > 65535) {
    throw new PortRangeError(spec, `High port number ${high} outside valid range [0..65535]`);
  }
  if (low > high) throw new PortRangeError(spec, `Low port ${low} greater than high port ${high}`);
  if (low === 0) throw new PortRangeError(spec, `Low port 0 incompatible with port ranges`);
  return { low, high };
}

/** strtol(s, &end, 10) with `*end == '\0'` required; null when there is trailing junk. */
function parseCLong(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)$/.exec(text);
  if (m === null) return null;
  if (m[2] === "") return m[1] === "" ? 0 : null;
  const value = Number(m[2]);
  return m[1] === "-" ? -value : value;
}

/** True for a numeric IPv4 (dotted quad) or IPv6 address, as getaddrinfo(AI_NUMERICHOST). */
export function isNumericIp(host: string): boolean {
  if (IPV4_RE.test(host)) return host.split(".").every((part) => Number(part) <= 255);
  if (!host.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(host)) return false;
  try {
    new URL(`http://[${host}]/`);
    return true;
  } catch {
    return false;
  }
}

/** A dotted quad (each part still to be checked for <= 255). */
export const IPV4_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

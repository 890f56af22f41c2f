/**
 * Forwarding options with ssh's syntax (docs/EXTENSIONS.md "Forwarding"): `-L [bind:]port:host:
 * hostport`, `-R [bind:]port:host:hostport`, `-D [bind:]port`, and the server's switch that
 * refuses forwarding. IPv6 addresses go in brackets (`[::1]:8080:[::1]:80`). Listeners bind to
 * loopback unless an address is given.
 */

/** One forwarding rule. `host`/`hostPort` are empty/0 for `-D`. */
export interface ForwardRule {
  readonly kind: "L" | "R" | "D";
  readonly bindHost: string;
  readonly bindPort: number;
  readonly host: string;
  readonly hostPort: number;
}

/** A bad forwarding option (its message is the one-line error). */
export class ForwardSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ForwardSpecError";
  }
}

/** Where listeners bind when the option names no address. */
export const DEFAULT_BIND_HOST = "127.0.0.1";

/** Splits on ':' outside brackets, dropping the brackets. */
function fields(spec: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of spec) {
    if (ch === "[") depth++;
    else if (ch === "]") depth--;
    else if (ch === ":" && depth === 0) {
      out.push(cur);
      cur = "";
      continue;
    } else cur += ch;
    if (depth < 0 || depth > 1) throw new ForwardSpecError("unbalanced brackets");
  }
  if (depth !== 0) throw new ForwardSpecError("unbalanced brackets");
  out.push(cur);
  return out;
}

function port(s: string, what: string, zeroOk: boolean): number {
  if (!/^[0-9]{1,5}$/.test(s)) throw new ForwardSpecError(`bad ${what} '${s}'`);
  const n = Number(s);
  if (n > 65535 || (n === 0 && !zeroOk)) throw new ForwardSpecError(`bad ${what} '${s}'`);
  return n;
}

function hostName(s: string, what: string): string {
  // deno-lint-ignore no-control-regex
  if (s === "" || s.length > 255 || /[\s\x00-\x1f/]/.test(s)) {
    throw new ForwardSpecError(`bad ${what} '${s}'`);
  }
  return s;
}

/** Parses one `-L`, `-R` or `-D` argument; throws ForwardSpecError with a one-line reason. */
export function parseForwardSpec(kind: "L" | "R" | "D", spec: string): ForwardRule {
  try {
    const f = fields(spec);
    if (kind === "D") {
      if (f.length === 1) {
        return {
          kind,
          bindHost: DEFAULT_BIND_HOST,
          bindPort: port(f[0], "port", false),
          host: "",
          hostPort: 0,
        };
      }
      if (f.length === 2) {
        return {
          kind,
          bindHost: hostName(f[0], "bind address"),
          bindPort: port(f[1], "port", false),
          host: "",
          hostPort: 0,
        };
      }
      throw new ForwardSpecError("expected [bind_address:]port");
    }
    if (f.length !== 3 && f.length !== 4) {
      throw new ForwardSpecError("expected [bind_address:]port:host:hostport");
    }
    const bindHost = f.length === 4 ? hostName(f[0], "bind address") : DEFAULT_BIND_HOST;
    const o = f.length - 3;
    return {
      kind,
      bindHost,
      bindPort: port(f[o], "port", kind === "R"),
      host: hostName(f[o + 1], "host"),
      hostPort: port(f[o + 2], "host port", false),
    };
  } catch (e) {
    if (e instanceof ForwardSpecError) throw new ForwardSpecError(`-${kind} ${spec}: ${e.message}`);
    throw e;
  }
}

/** The file whose presence (owned by root) refuses forwarding on this machine. */
export const NO_FORWARDING_FILE = "/etc/mosh-deno/no-forwarding";

/**
 * Why this server refuses forwarding, or null when it allows it: `MOSH_SERVER_FORWARDING=0` in
 * its environment, or a root-owned NO_FORWARDING_FILE.
 */
export function forwardingRefusal(
  env: { get(name: string): string | undefined },
  file = NO_FORWARDING_FILE,
): string | null {
  if (env.get("MOSH_SERVER_FORWARDING") === "0") return "forwarding is disabled on this server";
  try {
    const st = Deno.statSync(file);
    if (st.uid === 0) return "forwarding is disabled on this server";
  } catch {
    // absent: allowed
  }
  return null;
}

/** The environment variable our wrapper sets on `mosh-server new` (lib/forwarding_preset.ts):
 * the `-R` listeners and `-A` to set up before the shell starts. */
export const FORWARD_PRESET_VARIABLE = "MOSH_DENO_FORWARD";
/** The variable's value for these rules (numbered by their index) and `-A`; "" for none. */
export function presetValue(rules: readonly ForwardRule[], agent: boolean): string {
  const words: string[] = [];
  rules.forEach((r, i) => {
    if (r.kind === "R") words.push(`R${i}:${r.bindPort}:${r.bindHost}`);
  });
  if (agent) words.push("A");
  return words.join(" ");
}

/**
 * glibc through Deno FFI (docs/PROTOCOL.md §12.1): the one table of C functions this program calls,
 * loaded once, plus the small conversions every caller needs (errno, strerror, C strings). The
 * pty (lib/pty.ts), the descriptor helpers (lib/fds.ts) and the user/locale lookups
 * (lib/system_info.ts) all call C through here. Linux-only (x86_64 and aarch64 share every
 * constant used by the callers).
 */

const SYMBOLS = {
  posix_openpt: { parameters: ["i32"], result: "i32" },
  grantpt: { parameters: ["i32"], result: "i32" },
  unlockpt: { parameters: ["i32"], result: "i32" },
  ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitpid_blocking: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigfillset: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_adddup2: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addchdir_np: {
    parameters: ["buffer", "buffer"],
    result: "i32",
    optional: true,
  },
  posix_spawn_file_actions_addclosefrom_np: {
    parameters: ["buffer", "i32"],
    result: "i32",
    optional: true,
  },
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  newlocale: { parameters: ["i32", "buffer", "pointer"], result: "pointer" },
  nl_langinfo_l: { parameters: ["i32", "pointer"], result: "pointer" },
  freelocale: { parameters: ["pointer"], result: "void" },
  getuid: { parameters: [], result: "u32" },
  getpwuid: { parameters: ["u32"], result: "pointer" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const;

/** The C functions, typed from the table above. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libcCache: Libc | null = null;

/** Absolute path of glibc's shared object, or the bare soname if none of the usual places has it. */
export function libcPath(): string {
  const candidates = [
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/usr/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib64/libc.so.6",
    "/usr/lib/libc.so.6",
    "/lib/libc.so.6",
  ];
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here; try the next place
    }
  }
  return "libc.so.6";
}

/**
 * What the commands' foreground needs (locale, window size, errors), opened apart from the rest:
 * Deno compiles a call stub for every symbol it opens (~10 ms of CPU for all of SYMBOLS, ~3 ms for
 * these), and `server.ts new` must print MOSH CONNECT quickly.
 */
const QUERY_SYMBOLS: readonly (keyof typeof SYMBOLS)[] = [
  "ioctl",
  "newlocale",
  "nl_langinfo_l",
  "freelocale",
  "__errno_location",
  "strerror",
  "getuid",
  "getpwuid",
];

/**
 * glibc's functions (needs --allow-ffi). Each of the two groups (QUERY_SYMBOLS, the rest) is
 * opened when one of its functions is first looked up.
 */
export function libc(): Libc {
  if (libcCache !== null) return libcCache;
  const path = libcPath();
  const table: Record<string, unknown> = {};
  const names = Object.keys(SYMBOLS) as (keyof typeof SYMBOLS)[];
  const groups = [QUERY_SYMBOLS, names.filter((n) => !QUERY_SYMBOLS.includes(n))];
  let closed = groups.length;
  for (const group of groups) {
    const open = () => {
      const wanted = Object.fromEntries(group.map((n) => [n, SYMBOLS[n]]));
      const symbols = Deno.dlopen(path, wanted as Deno.ForeignLibraryInterface).symbols;
      for (const n of group) {
        Object.defineProperty(table, n, { value: symbols[n], enumerable: true });
      }
      // Once everything is open, later callers get a plain object (fast property loads).
      if (--closed === 0) libcCache = { ...table } as Libc;
    };
    for (const n of group) {
      Object.defineProperty(table, n, {
        configurable: true,
        enumerable: true,
        get: () => (open(), table[n]),
      });
    }
  }
  libcCache = table as Libc;
  return libcCache;
}

const encoder = new TextEncoder();

/** NUL-terminated copy of a string for C. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A NULL-terminated `char *[]` over C strings; the strings must outlive the call. */
export function cStringArray(strings: Uint8Array<ArrayBuffer>[]): BigUint64Array<ArrayBuffer> {
  const out = new BigUint64Array(strings.length + 1);
  for (let i = 0; i < strings.length; i++) {
    out[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(strings[i])));
  }
  return out;
}

/** The calling thread's errno (read right after the failing call). */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** glibc's text for an errno value. */
export function strerror(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `error ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** An Error carrying the C errno, with the message `<what>: <strerror>`. */
export class LibcError extends Error {
  /** The errno value reported by libc. */
  readonly code: number;
  /** Builds the error for `what` failing with `code`. */
  constructor(what: string, code: number) {
    super(`${what}: ${strerror(code)}`);
    this.name = "LibcError";
    this.code = code;
  }
}

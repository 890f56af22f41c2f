/**
 * Debian packages some tests drive as black boxes (mosh-server, tmux, sshd, ssh).
 *
 * `requireDebianPackages(["mosh"])` returns once the package's binaries exist. When they are
 * missing and we run as root it installs them with apt-get (one `apt-get update` per process);
 * otherwise it throws one clear line: "missing Debian packages: X Y (install with: apt-get
 * install X Y)".
 */

/** The binaries that show each supported package is installed. */
const PACKAGE_BINARIES: Record<string, string[]> = {
  "mosh": ["mosh-server", "mosh-client"],
  "tmux": ["tmux"],
  "openssh-server": ["/usr/sbin/sshd"],
  "openssh-client": ["ssh"],
};

/** Packages setup_deps.ts installs before the test suite. */
export const TEST_PACKAGES = Object.keys(PACKAGE_BINARIES);

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Finds `name` on PATH (or checks it directly if it is a path); returns its path or null. */
export async function findBinary(name: string): Promise<string | null> {
  if (name.includes("/")) return (await isFile(name)) ? name : null;
  const dirs = (Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin").split(":");
  for (const dir of [...dirs, "/usr/sbin", "/sbin"]) {
    if (dir && await isFile(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/** Returns those of `pkgs` whose binaries are not all installed. Unknown names throw. */
export async function missingDebianPackages(pkgs: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of pkgs) {
    const bins = PACKAGE_BINARIES[pkg];
    if (bins === undefined) {
      throw new Error(`deps: unknown package ${pkg} (known: ${TEST_PACKAGES.join(" ")})`);
    }
    for (const bin of bins) {
      if (await findBinary(bin) === null) {
        missing.push(pkg);
        break;
      }
    }
  }
  return missing;
}

async function isRoot(): Promise<boolean> {
  try {
    const status = await Deno.readTextFile("/proc/self/status");
    return /^Uid:\s+0\s/m.test(status);
  } catch {
    return false;
  }
}

async function run(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const out = await new Deno.Command(args[0], {
      args: args.slice(1),
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { ok: out.success, output: text };
  } catch (e) {
    return { ok: false, output: (e as Error).message };
  }
}

let aptUpdated: Promise<{ ok: boolean; output: string }> | null = null;

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}

/**
 * Ensures the binaries of `pkgs` ("mosh", "tmux", "openssh-server", "openssh-client") exist,
 * installing them with apt-get when running as root. Throws an Error with one clear line if they
 * are missing and cannot be installed.
 */
export async function requireDebianPackages(pkgs: string[]): Promise<void> {
  const missing = await missingDebianPackages(pkgs);
  if (missing.length === 0) return;
  const hint = `missing Debian packages: ${missing.join(" ")} (install with: apt-get install ${
    missing.join(" ")
  })`;
  if (!await isRoot() || await findBinary("apt-get") === null) throw new Error(hint);
  aptUpdated ??= run(["apt-get", "update"]);
  const update = await aptUpdated;
  if (!update.ok) throw new Error(`${hint}; apt-get update failed: ${lastLine(update.output)}`);
  const install = await run(["apt-get", "install", "-y", "--no-install-recommends", ...missing]);
  if (!install.ok) throw new Error(`${hint}; apt-get install failed: ${lastLine(install.output)}`);
  const still = await missingDebianPackages(missing);
  if (still.length > 0) throw new Error(`${hint}; still missing after apt-get install`);
}

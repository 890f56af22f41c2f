// Tests for lib/terminfo.ts against the compiled entries installed on this machine, cross-checked
// with ncurses' own `tput` and `infocmp`, and against entries compiled here with `tic`.
import assert from "node:assert/strict";
import {
  colorsFor,
  loadTerminfo,
  parseTerminfo,
  terminfoDirs,
  titleSupported,
  XTERM_DEFAULTS,
} from "../lib/terminfo.ts";

const systemEnv = (name: string) => (name === "HOME" ? "/nonexistent-home" : undefined);

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return { ok: r.success, out: new TextDecoder().decode(r.stdout) };
}

/** The capabilities as ncurses reports them (tput for numbers and strings, infocmp for flags). */
async function ncursesCaps(term: string) {
  const info = (await run("infocmp", ["-1", "-x", term])).out;
  const colors = Number((await run("tput", ["-T", term, "colors"])).out.trim());
  const str = async (cap: string) => {
    const r = await run("tput", ["-T", term, cap]);
    return r.ok ? r.out : "";
  };
  return {
    colors,
    ech: /^\tech=/m.test(info),
    bce: /^\tbce,/m.test(info),
    smcup: await str("smcup"),
    rmcup: await str("rmcup"),
  };
}

const TERMS = [
  "xterm",
  "xterm-256color",
  "screen",
  "screen-256color-bce",
  "tmux-256color",
  "dumb",
  "vt100",
  "linux",
  "rxvt",
  "kitty-direct", // extended-number format (magic 01036): colors#0x1000000
  "alacritty",
];

Deno.test("terminfo: the installed entries agree with tput and infocmp", async () => {
  let checked = 0;
  for (const term of TERMS) {
    const caps = loadTerminfo(term, systemEnv);
    if (caps.path === null) continue; // not installed on this machine
    checked++;
    const want = await ncursesCaps(term);
    assert.deepEqual(
      {
        colors: caps.colors,
        ech: caps.ech,
        bce: caps.bce,
        smcup: caps.smcup,
        rmcup: caps.rmcup,
      },
      want,
      `capabilities of ${term} (${caps.path})`,
    );
    assert.equal(colorsFor(term, systemEnv), want.colors);
  }
  assert.ok(checked >= 8, `only ${checked} of the terminal types are installed`);
});

Deno.test("terminfo: known values of common entries", () => {
  const xterm = loadTerminfo("xterm", systemEnv);
  assert.equal(xterm.colors, 8);
  assert.equal(xterm.ech, true);
  assert.equal(xterm.bce, true);
  assert.equal(xterm.smcup, "\x1b[?1049h\x1b[22;0;0t");
  assert.equal(xterm.rmcup, "\x1b[?1049l\x1b[23;0;0t");
  assert.equal(xterm.title, true);
  assert.equal(loadTerminfo("xterm-256color", systemEnv).colors, 256);
  const screen = loadTerminfo("screen", systemEnv);
  assert.deepEqual([screen.ech, screen.bce, screen.colors], [false, false, 8]);
  const dumb = loadTerminfo("dumb", systemEnv);
  assert.deepEqual([dumb.colors, dumb.ech, dumb.bce, dumb.smcup, dumb.title], [
    -1,
    false,
    false,
    "",
    false,
  ]);
  const direct = loadTerminfo("kitty-direct", systemEnv);
  if (direct.path !== null) {
    assert.equal(new DataView(Deno.readFileSync(direct.path).buffer).getUint16(0, true), 0o1036);
    assert.equal(direct.colors, 0x1000000);
  }
});

Deno.test("terminfo: unknown or unusable names give the xterm defaults", () => {
  for (const term of [undefined, "", "no-such-terminal-xyz", "../x/xterm", "x/xterm", ".."]) {
    const caps = loadTerminfo(term, systemEnv);
    assert.equal(caps.path, null, String(term));
    assert.equal(caps.colors, XTERM_DEFAULTS.colors);
    assert.equal(caps.ech, true);
    assert.equal(caps.bce, true);
    assert.equal(caps.smcup, XTERM_DEFAULTS.smcup);
    assert.equal(caps.rmcup, XTERM_DEFAULTS.rmcup);
  }
  // mosh-client -c has no count for a terminal without an entry: 0, as the wrapper uses it.
  assert.equal(colorsFor("no-such-terminal-xyz", systemEnv), 0);
});

Deno.test("terminfo: $TERMINFO, ~/.terminfo, TERMINFO_DIRS and the hex layout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "terminfo_test_" });
  try {
    // A private entry compiled by tic, with padding and a number that needs the 01036 format.
    const src = `${dir}/mosh-test.src`;
    await Deno.writeTextFile(
      src,
      "mosh-test|a test terminal,\n\tbce, colors#100000,\n\tech=\\E[%p1%dX, " +
        "smcup=\\E[?47h$<5>, rmcup=\\E[?47l$<2*/>,\n",
    );
    const tic = await run("tic", ["-x", "-o", `${dir}/a`, src]);
    assert.ok(tic.ok, "tic failed");
    const compiled = `${dir}/a/m/mosh-test`;
    const bytes = await Deno.readFile(compiled);
    assert.equal(bytes[0] | (bytes[1] << 8), 0o1036);

    const viaTerminfo = loadTerminfo(
      "mosh-test",
      (n) => (n === "TERMINFO" ? `${dir}/a` : undefined),
    );
    assert.equal(viaTerminfo.path, compiled);
    assert.deepEqual(
      [viaTerminfo.colors, viaTerminfo.ech, viaTerminfo.bce, viaTerminfo.smcup, viaTerminfo.rmcup],
      [100000, true, true, "\x1b[?47h", "\x1b[?47l"],
    );

    // ~/.terminfo with the hexadecimal directory layout (6d = "m").
    await Deno.mkdir(`${dir}/home/.terminfo/6d`, { recursive: true });
    await Deno.copyFile(compiled, `${dir}/home/.terminfo/6d/mosh-test`);
    const viaHome = loadTerminfo("mosh-test", (n) => (n === "HOME" ? `${dir}/home` : undefined));
    assert.equal(viaHome.path, `${dir}/home/.terminfo/6d/mosh-test`);
    assert.equal(viaHome.colors, 100000);

    // TERMINFO_DIRS, and $TERMINFO searched before the system directories: an "xterm" that
    // claims 42 colours shadows the real one.
    await Deno.writeTextFile(src, "xterm|fake xterm,\n\tcolors#42,\n");
    assert.ok((await run("tic", ["-o", `${dir}/b`, src])).ok);
    const viaDirs = loadTerminfo("xterm", (n) => (n === "TERMINFO_DIRS" ? `${dir}/b:` : undefined));
    assert.equal(viaDirs.colors, 42);
    assert.equal(viaDirs.ech, false);
    const shadowed = loadTerminfo("xterm", (n) => (n === "TERMINFO" ? `${dir}/b` : undefined));
    assert.equal(shadowed.colors, 42);

    // A corrupt entry is skipped and the search goes on to the system directories.
    await Deno.mkdir(`${dir}/c/x`, { recursive: true });
    await Deno.writeFile(`${dir}/c/x/xterm`, new Uint8Array([1, 2, 3, 4]));
    const skipped = loadTerminfo("xterm", (n) => (n === "TERMINFO" ? `${dir}/c` : undefined));
    assert.equal(skipped.colors, 8);
    assert.notEqual(skipped.path, `${dir}/c/x/xterm`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("terminfo: malformed entries are rejected with a clear error", () => {
  const good = Deno.readFileSync(loadTerminfo("xterm", systemEnv).path!);
  assert.match(parseTerminfo(good).names, /^xterm\|/);
  assert.throws(() => parseTerminfo(new Uint8Array(5)), /terminfo: entry too short \(5 bytes\)/);
  const badMagic = good.slice();
  badMagic[0] = 0x99;
  assert.throws(() => parseTerminfo(badMagic), /terminfo: bad magic 0/);
  assert.throws(() => parseTerminfo(good.subarray(0, 200)), /terminfo: entry truncated/);
  // A string offset pointing outside the table.
  const badOffset = good.slice();
  const dv = new DataView(badOffset.buffer);
  const namesSize = dv.getUint16(2, true), bools = dv.getUint16(4, true);
  const nums = dv.getUint16(6, true);
  let strStart = 12 + namesSize + bools;
  if (strStart % 2) strStart++;
  strStart += nums * 2;
  dv.setUint16(strStart, 0xfff0, true);
  assert.throws(() => parseTerminfo(badOffset), /terminfo: string 0 offset 65520 outside/);
});

Deno.test("terminfo: search order and title support", () => {
  assert.deepEqual(
    terminfoDirs((n) => ({ TERMINFO: "/t", HOME: "/h", TERMINFO_DIRS: "/d1::/d2" })[n]),
    ["/t", "/h/.terminfo", "/d1", "/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/d2"],
  );
  assert.deepEqual(terminfoDirs(() => undefined), [
    "/etc/terminfo",
    "/lib/terminfo",
    "/usr/share/terminfo",
  ]);
  for (const t of ["xterm-256color", "rxvt-unicode", "screen", "tmux-256color", "alacritty"]) {
    assert.equal(titleSupported(t), true, t);
  }
  for (const t of [undefined, "", "linux", "vt100", "dumb", "st-256color"]) {
    assert.equal(titleSupported(t), false, String(t));
  }
});

Deno.test("terminfo: extended strings agree with infocmp -x; attributes follow them", async () => {
  let checked = 0;
  for (const term of TERMS) {
    const found = loadTerminfo(term, systemEnv);
    if (found.path === null) continue;
    checked++;
    const entry = parseTerminfo(Deno.readFileSync(found.path));
    // infocmp -1 -x lists one capability a line; the user-defined strings are those not in the
    // standard table, so compare the ones the display reads.
    const info = (await run("infocmp", ["-1", "-x", term])).out;
    for (const cap of ["Smulx", "Setulc", "smxx", "rmxx", "Smol", "Ss", "Se"]) {
      assert.equal(
        entry.extendedStrings.has(cap),
        new RegExp(`^\\t${cap}=`, "m").test(info),
        `${cap} of ${term}`,
      );
    }
    const a = found.attributes;
    assert.equal(a.faint, /^\tdim=/m.test(info), `dim of ${term}`);
    assert.equal(a.strike, /^\tsmxx=/m.test(info), `smxx of ${term}`);
    assert.equal(a.underlineStyles, /^\tSmulx=/m.test(info), `Smulx of ${term}`);
    assert.equal(a.hyperlinks, titleSupported(term), `hyperlinks of ${term}`);
  }
  assert.ok(checked >= 8);
  assert.equal(loadTerminfo("tmux-256color", systemEnv).attributes.underlineStyles, true);
  assert.equal(loadTerminfo("xterm-256color", systemEnv).attributes.underlineStyles, false);
  assert.equal(loadTerminfo("linux", systemEnv).attributes.hyperlinks, false);
});

// Tests for docs/PROTOCOL.md as the code's reference: every section the code cites exists, and no
// file of the repository points to a path outside it. Reads files only; no processes.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROTOCOL = "docs/PROTOCOL.md";
const SELF = "tests/docs_test.ts";

/** Files whose text may cite the protocol document: sources, tests, benches, tools and docs. */
function repositoryFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(ROOT, dir))) {
      const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (
          dir === "." && !["lib", "tests", "bench", "tools", "docs", "bin", ".ci"].includes(path)
        ) {
          continue;
        }
        walk(path);
      } else if (/\.(ts|md)$/.test(entry.name) || dir === "bin" || dir === ".ci") {
        out.push(path);
      }
    }
  };
  walk(".");
  return out.filter((path) => path !== SELF).sort();
}

/** Section numbers of the document's headings: "## 5. SSP" gives 5, "### 5.3 Timers" gives 5.3. */
function sectionsOf(markdown: string): Set<string> {
  const sections = new Set<string>();
  for (const m of markdown.matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)) sections.add(m[1]);
  return sections;
}

/** Every `§N.N` in `text` (range ends such as the 5.4 of "§5.2-5.4" included), except sections of
 * other documents ("RFC 7253 §4.2"). */
function citationsIn(text: string): { section: string; line: number }[] {
  const out: { section: string; line: number }[] = [];
  const re = /(RFC \d+ )?§(\d+(?:\.\d+)*)(?:-§?(\d+(?:\.\d+)*))?/g;
  for (const m of text.matchAll(re)) {
    if (m[1]) continue;
    const line = text.slice(0, m.index).split("\n").length;
    for (const section of [m[2], m[3]]) {
      if (section) out.push({ section: section.replace(/\.$/, ""), line });
    }
  }
  return out;
}

Deno.test("docs: every § cited in the repository is a section of docs/PROTOCOL.md", () => {
  const sections = sectionsOf(Deno.readTextFileSync(join(ROOT, PROTOCOL)));
  // The document keeps the reference's numbering: the layers (0) to the checklist (11), then the
  // platform (12), extensions (13) and differences (14).
  for (const s of ["0", "1.1", "1.3", "2.5", "3.3", "4.4", "5.6", "6.3", "7.3", "8.0", "8.5"]) {
    assert.ok(sections.has(s), `${PROTOCOL} has no section ${s}`);
  }
  for (const s of ["9.6", "10", "11.9", "12.1", "12.3", "13", "14"]) {
    assert.ok(sections.has(s), `${PROTOCOL} has no section ${s}`);
  }
  const missing: string[] = [];
  let count = 0;
  for (const path of repositoryFiles()) {
    for (const { section, line } of citationsIn(Deno.readTextFileSync(join(ROOT, path)))) {
      count++;
      if (!sections.has(section)) missing.push(`${path}:${line}: §${section}`);
    }
  }
  assert.deepEqual(missing, [], `citations of sections ${PROTOCOL} does not have`);
  assert.ok(count > 300, `only ${count} citations found: is the scan looking at the code?`);
});

Deno.test("docs: no file refers to a path outside the repository", () => {
  // The project's former external references, and absolute or parent paths into the machine.
  const outside = [
    /mosh-protocol\.md/,
    /deno-platform\.md/,
    /\bextensions\.md/, // lower case: docs/EXTENSIONS.md is ours
    /\bshared\/(reference|workloads|style)/,
    /\.\.\/shared\b/,
    /\/work\/(main|shared|wt)\b/,
  ];
  const found: string[] = [];
  for (const path of repositoryFiles()) {
    const lines = Deno.readTextFileSync(join(ROOT, path)).split("\n");
    lines.forEach((text, i) => {
      if (outside.some((re) => re.test(text))) found.push(`${path}:${i + 1}: ${text.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

Deno.test("docs: relative links in the Markdown files lead to files of the repository", () => {
  const broken: string[] = [];
  for (const path of repositoryFiles().filter((p) => p.endsWith(".md"))) {
    const text = Deno.readTextFileSync(join(ROOT, path));
    for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const resolved = join(ROOT, dirname(path), target);
      const inside = !relative(ROOT, resolved).startsWith("..");
      let exists = false;
      try {
        Deno.statSync(resolved);
        exists = true;
      } catch {
        exists = false;
      }
      if (!inside || !exists) broken.push(`${path}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("docs: the citation scanner finds sections, ranges and skips other documents", () => {
  const cited = citationsIn("see §5.3 and §8.1-8.4, §1-§5; RFC 7253 §4.2; §2.2.\n§11.9")
    .map((c) => `${c.section}@${c.line}`);
  assert.deepEqual(cited, ["5.3@1", "8.1@1", "8.4@1", "1@1", "5@1", "2.2@1", "11.9@2"]);
  assert.deepEqual(
    [...sectionsOf("# Title\n## 0. Layers\n### 1.1 Key\n#### 9.4 x\n## Notes\n")],
    ["0", "1.1", "9.4"],
  );
});

/**
 * Run before the test suite (the `test` task): makes sure the Debian packages the black-box tests
 * drive are installed, installing them when running as root. Prints one line; exits 1 with one
 * clear line on failure.
 *
 *   deno run --allow-run --allow-read --allow-env tests/setup_deps.ts
 *
 * C.UTF-8 needs no locales package: Debian's libc has it built in.
 */

import { missingDebianPackages, requireDebianPackages, TEST_PACKAGES } from "./deps.ts";

const missing = await missingDebianPackages(TEST_PACKAGES);
if (missing.length === 0) {
  console.log(`setup_deps: ${TEST_PACKAGES.join(", ")} already installed`);
} else {
  try {
    await requireDebianPackages(missing);
    console.log(`setup_deps: installed ${missing.join(" ")}`);
  } catch (e) {
    console.error(`setup_deps: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

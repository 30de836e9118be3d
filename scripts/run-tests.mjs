#!/usr/bin/env node
// `npm test`: type-checks and compiles the sources and tests (tsconfig.test.json, into
// .test-build/, made afresh), then runs every test/**/*.test.ts as its compiled .js with node's own
// test runner. Compiled, not through tsx: tsx compiles with esbuild's keepNames, which wraps every
// function a hot path creates in a defineProperty call, and the suite took ~1.4x as long (it sat at
// the 10-minute bar on 2 cores). RTAP_TEST_TSX=1 runs the TypeScript sources through tsx instead
// (no build; the type check is skipped).
//
// Extra arguments are passed to node --test, e.g. `npm test -- --test-name-pattern=cse`. A path
// argument (test/...) narrows the files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir, availableParallelism } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const BUILD = ".test-build";
const viaTsx = process.env.RTAP_TEST_TSX === "1";

function collect(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

if (!viaTsx) {
  rmSync(BUILD, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const built = spawnSync(process.execPath, [tsc, "-p", "tsconfig.test.json"], { stdio: "inherit" });
  if (built.status !== 0) {
    console.error("rtap tests: the type check / build failed (tsc -p tsconfig.test.json); no test ran");
    process.exit(built.status ?? 1);
  }
}

const args = process.argv.slice(2);
const pathArgs = args.filter((a) => a.startsWith("test/") || a.startsWith("./test/"));
const flagArgs = args.filter((a) => !pathArgs.includes(a));
// test/x/y.test.ts (or a folder) -> the file or folder the runner uses
const wanted = pathArgs.map((p) => {
  const rel = p.replace(/^\.\//, "");
  return viaTsx ? rel : join(BUILD, rel.replace(/\.ts$/, ".js"));
});
const root = viaTsx ? "test" : join(BUILD, "test");
const files = collect(root, viaTsx ? ".test.ts" : ".test.js").filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
const concurrency = Math.max(1, availableParallelism());
const skipFile = join(mkdtempSync(join(tmpdir(), "rtap-tests-")), "skipped.jsonl");
const res = spawnSync(
  process.execPath,
  [
    ...(viaTsx ? ["--import", "tsx"] : ["--enable-source-maps"]),
    "--test", `--test-concurrency=${concurrency}`,
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=./scripts/skip-reporter.mjs", `--test-reporter-destination=${skipFile}`,
    ...flagArgs, ...files,
  ],
  { stdio: "inherit" },
);
// The last line: what was skipped and why, grouped by reason (nothing skipped says so too).
const skipped = existsSync(skipFile)
  ? readFileSync(skipFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
  : [];
const byReason = new Map();
for (const s of skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
console.log(
  skipped.length === 0
    ? "rtap tests: nothing skipped"
    : `rtap tests: ${skipped.length} skipped: ${[...byReason].map(([r, n]) => `${n} because ${r}`).join("; ")}`,
);
process.exit(res.status ?? 1);

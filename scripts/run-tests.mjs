#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (through tsx, since Node 20 cannot
// strip types and has no glob support in --test). Extra arguments are passed to node --test,
// e.g. `npm test -- --test-name-pattern=cse`. A path argument (test/...) narrows the files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const pathArgs = args.filter((a) => a.startsWith("test/") || a.startsWith("./test/"));
const flagArgs = args.filter((a) => !pathArgs.includes(a));
const files = collect("test").filter((f) => pathArgs.length === 0 || pathArgs.some((p) => f.startsWith(p.replace(/^\.\//, ""))));
const concurrency = Math.max(1, availableParallelism());
const skipFile = join(mkdtempSync(join(tmpdir(), "rtap-tests-")), "skipped.jsonl");
const res = spawnSync(
  process.execPath,
  [
    "--import", "tsx", "--test", `--test-concurrency=${concurrency}`,
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

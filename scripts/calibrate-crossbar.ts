/**
 * Regenerates the generated parts of the cost-model docs:
 *  - docs/results.md: the section "Crossbar calibration against DNN+NeuroSim V1.4" (rtap's crossbar
 *    model with configs/crossbar-neurosim22.yaml vs NeuroSim's printout, src/cost/calibration.ts);
 *  - docs/cost-model.md: the parameter tables of every shipped technology file.
 * Each part sits between two marker comments; the rest of each file is left alone.
 *
 *   npx tsx scripts/calibrate-crossbar.ts            # rewrite both parts
 *   npx tsx scripts/calibrate-crossbar.ts --stdout   # print the calibration section instead
 *   npx tsx scripts/calibrate-crossbar.ts --check    # exit 1 if either file is out of date
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { calibrationMarkdown } from "../src/cost/calibration.js";
import { parameterTableMarkdown } from "../src/cost/report.js";
import { SHIPPED_TECHNOLOGIES, loadTechnology } from "../src/cost/technology.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Part {
  file: string;
  start: string;
  end: string;
  body: string;
  fallback: string;
}

const parts: Part[] = [
  {
    file: join(root, "docs", "results.md"),
    start: "<!-- crossbar-calibration:start -->",
    end: "<!-- crossbar-calibration:end -->",
    body: calibrationMarkdown(),
    fallback: "# rtap results\n\n",
  },
  {
    file: join(root, "docs", "cost-model.md"),
    start: "<!-- tech-params:start -->",
    end: "<!-- tech-params:end -->",
    body: `${SHIPPED_TECHNOLOGIES.map((n) => `### ${n}\n\n${parameterTableMarkdown(loadTechnology(n))}\n`).join("\n")}`,
    fallback: "# Cost model\n\n",
  },
];

function render(p: Part): { old: string; next: string } {
  const old = existsSync(p.file) ? readFileSync(p.file, "utf8") : p.fallback;
  const section = `${p.start}\n${p.body}${p.end}`;
  const i = old.indexOf(p.start);
  const j = old.indexOf(p.end);
  const next = i >= 0 && j > i ? `${old.slice(0, i)}${section}${old.slice(j + p.end.length)}` : `${old.trimEnd()}\n\n${section}\n`;
  return { old, next };
}

const args = process.argv.slice(2);
if (args.includes("--stdout")) {
  process.stdout.write(`${parts[0]!.body}\n`);
  process.exit(0);
}
let stale = false;
for (const p of parts) {
  const { old, next } = render(p);
  if (args.includes("--check")) {
    if (next !== old) {
      console.error(`${p.file}: generated section is out of date; run npx tsx scripts/calibrate-crossbar.ts`);
      stale = true;
    }
  } else if (next !== old) {
    writeFileSync(p.file, next);
    console.log(`updated ${p.file}`);
  }
}
if (stale) process.exit(1);
if (args.includes("--check")) console.log("cost docs are up to date");

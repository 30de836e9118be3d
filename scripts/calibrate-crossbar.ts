/**
 * Regenerates the section "Crossbar calibration against DNN+NeuroSim V1.4" of docs/results.md from
 * src/cost/calibration.ts (rtap's crossbar model with configs/crossbar-neurosim22.yaml vs NeuroSim's
 * printout). The section sits between two marker comments; the rest of the file is left alone.
 *
 *   npx tsx scripts/calibrate-crossbar.ts            # rewrite the section in docs/results.md
 *   npx tsx scripts/calibrate-crossbar.ts --stdout   # print it instead
 *   npx tsx scripts/calibrate-crossbar.ts --check    # exit 1 if docs/results.md is out of date
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { calibrationMarkdown } from "../src/cost/calibration.js";

const START = "<!-- crossbar-calibration:start -->";
const END = "<!-- crossbar-calibration:end -->";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const file = join(root, "docs", "results.md");

const section = `${START}\n${calibrationMarkdown()}${END}`;
const args = process.argv.slice(2);
if (args.includes("--stdout")) {
  process.stdout.write(`${section}\n`);
  process.exit(0);
}
const old = existsSync(file) ? readFileSync(file, "utf8") : "# rtap results\n\n";
const i = old.indexOf(START);
const j = old.indexOf(END);
const next = i >= 0 && j > i ? `${old.slice(0, i)}${section}${old.slice(j + END.length)}` : `${old.trimEnd()}\n\n${section}\n`;
if (args.includes("--check")) {
  if (next !== old) {
    console.error("docs/results.md: crossbar calibration section is out of date; run npx tsx scripts/calibrate-crossbar.ts");
    process.exit(1);
  }
  console.log("docs/results.md: crossbar calibration section is up to date");
  process.exit(0);
}
writeFileSync(file, next);
console.log(`wrote the crossbar calibration section of ${file}`);

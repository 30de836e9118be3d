/**
 * The committed report of the Fashion-MNIST network (docs/results/fmnist-resnet8.json, from
 * scripts/results.ts) is what rtap computes today: regenerating it gives the same bytes. It names
 * its files relative to the installation (no path of the machine that generated it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compareModel } from "../../src/compare.js";
import { reportToJson } from "../../src/report/json.js";
import { resultsModels } from "../../scripts/results-models.js";

test("docs/results/fmnist-resnet8.json: regenerating it gives the committed file, with relative file names", async () => {
  const m = resultsModels().find((x) => x.file === "fmnist-resnet8")!;
  const committed = readFileSync(`docs/results/${m.file}.json`, "utf8");
  const { report } = await compareModel(m.spec, { ablation: m.ablation, dataset: m.dataset, images: m.images });
  for (const t of report.targets) for (const f of t.files) assert.ok(!f.startsWith("/"), `${t.target}: ${f}`);
  assert.doesNotMatch(committed, /"\/(work|home|tmp|Users)\//, "no absolute path in the committed report");
  assert.equal(reportToJson(report), committed);
});

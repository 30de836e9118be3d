/**
 * Sweep plans: value lists, linear and log ranges, cartesian products and zipped groups, whole-file
 * choices, stable point ids and compile groups (technology-only changes share a group), and
 * validation errors that name the plan's file:line and, for a bad path, the base file and line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { RtapError } from "../../src/errors.js";
import { existsSync } from "node:fs";
import { compileGroups, expandPlan, loadPlan, parsePlanText } from "../../src/sweep/plan.js";

const FILE = join(process.cwd(), "test", "sweep", "plan.yaml");
const plan = (text: string) => parsePlanText(text, FILE);
const err = (text: string): string => {
  try {
    plan(text);
  } catch (e) {
    assert.ok(e instanceof RtapError, String(e));
    return e.message;
  }
  assert.fail("no error");
};

test("lists, ranges (linear, log, step), cartesian order, whole-file choices, figures", () => {
  const p = plan(`models: [zoo:resnet20]
parameters:
  arch.array.rows: { from: 128, to: 1024, steps: 4, scale: log }
  tech: [rtm-ap, rtm-ap-low]
  tech.prices.write_cells: { from: 0.2, to: 0.6, step: 0.2 }
figures: [energy_j, edp_js]
`);
  assert.deepEqual(p.parameters.map((x) => x.values), [[128, 256, 512, 1024], ["rtm-ap", "rtm-ap-low"], [0.2, 0.4, 0.6]]);
  assert.deepEqual(p.figures, ["energy_j", "edp_js"]);
  const pts = expandPlan(p);
  assert.equal(pts.length, 24);
  assert.deepEqual(pts[0]!.parameters, { "arch.array.rows": 128, tech: "rtm-ap", "tech.prices.write_cells": 0.2 });
  assert.deepEqual(pts[1]!.parameters, { "arch.array.rows": 128, tech: "rtm-ap", "tech.prices.write_cells": 0.4 });
  assert.deepEqual(pts[23]!.parameters, { "arch.array.rows": 1024, tech: "rtm-ap-low", "tech.prices.write_cells": 0.6 });
  assert.deepEqual(pts[5]!.techOverrides.map((o) => [o.path, o.value]), [["prices.write_cells", 0.6]]);
  assert.equal(pts[5]!.tech, "rtm-ap-low");
  assert.match(pts[5]!.archOverrides[0]!.origin, /plan\.yaml:3$/);
  // technology-only points share a compile group: 4 architectures, 6 technologies each
  const groups = compileGroups(pts);
  assert.equal(groups.size, 4);
  for (const g of groups.values()) assert.equal(g.length, 6);
  assert.equal(new Set(pts.map((x) => x.id)).size, 24);
  // ids depend on content, not on how the plan was written
  const again = expandPlan(plan(`models: [zoo:resnet20]\n\n\nparameters:\n  arch.array.rows: [128, 256, 512, 1024]\n  tech: [rtm-ap, rtm-ap-low]\n  tech.prices.write_cells: [0.2, 0.4, 0.6]\n`));
  assert.deepEqual(again.map((x) => x.id), pts.map((x) => x.id));
});

test("targets from the registry give the base files: sram-ap's architecture and technology, a crossbar's technology", () => {
  const sram = plan(`target: sram-ap\nmodels: [zoo:resnet20]\nparameters:\n  arch.array.rows: [256, 512]\n`);
  assert.equal(sram.arch, "sram-ap");
  assert.equal(sram.tech, "sram-ap");
  assert.equal(sram.target.kind, "ap");
  const xb = plan(`target: crossbar-isaac\nmodels: [zoo:resnet20]\nparameters:\n  tech.adc.columnsPerAdc: [32, 64, 128]\n`);
  assert.equal(xb.tech, "crossbar-isaac");
  const pts = expandPlan(xb);
  assert.equal(pts.length, 3);
  assert.equal(compileGroups(pts).size, 1, "a crossbar compiles nothing: one group per model");
  assert.equal(expandPlan(plan(`models: [zoo:resnet20]\n`)).length, 1, "no parameters: the base point");
});

test("examples/sweep-fmnist.yaml: 48 points on the committed model, 16 compile groups of 3 technology scenarios", () => {
  const p = loadPlan(join(process.cwd(), "examples", "sweep-fmnist.yaml"));
  assert.ok(existsSync(p.models[0]!), p.models[0]);
  const pts = expandPlan(p);
  assert.equal(pts.length, 48);
  const groups = compileGroups(pts);
  assert.equal(groups.size, 16);
  for (const g of groups.values()) assert.deepEqual(g.map((x) => x.parameters.tech), ["rtm-ap", "rtm-ap-low", "rtm-ap-destiny"]);
});

test("zip groups and combine: zip", () => {
  const p = plan(`models: [zoo:resnet20]
parameters:
  arch.array.rows: [256, 512]
  arch.chip.tiles: [32, 16]
  tech: [rtm-ap, rtm-ap-low, rtm-ap-destiny]
zip: [[arch.array.rows, arch.chip.tiles]]
`);
  const pts = expandPlan(p);
  assert.equal(pts.length, 6);
  assert.deepEqual(pts.map((x) => [x.parameters["arch.array.rows"], x.parameters["arch.chip.tiles"]]), [[256, 32], [256, 32], [256, 32], [512, 16], [512, 16], [512, 16]]);
  assert.equal(compileGroups(pts).size, 2);
  const z = expandPlan(plan(`models: [zoo:resnet20]\ncombine: zip\nparameters:\n  arch.array.rows: [256, 512]\n  tech: [rtm-ap, rtm-ap-low]\n`));
  assert.deepEqual(z.map((x) => x.parameters), [{ "arch.array.rows": 256, tech: "rtm-ap" }, { "arch.array.rows": 512, tech: "rtm-ap-low" }]);
  // several models: the outermost dimension, named in each point's parameters
  const m = expandPlan(plan(`models: [zoo:resnet20, zoo:vgg-small]\nparameters:\n  tech: [rtm-ap, rtm-ap-low]\n`));
  assert.deepEqual(m.map((x) => x.parameters.model), ["zoo:resnet20", "zoo:resnet20", "zoo:vgg-small", "zoo:vgg-small"]);
  assert.equal(compileGroups(m).size, 2);
});

test("errors name the plan's file:line, the parameter, and for a bad path the base file's line", () => {
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rowz: [1, 2]\n`), /^test\/sweep\/plan\.yaml:3: "array\.rowz": configs\/arch\/rtm-ap\.yaml has no field "rowz" under array \(configs\/arch\/rtm-ap\.yaml:\d+\)/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  tech.prices.search_rowbits: [1]\n`), /plan\.yaml:3: "prices\.search_rowbits": .*rtm-ap\.yaml has no field "search_rowbits" under prices/);
  // a path checked against every whole-file choice
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch: [rtm-ap, sram-ap]\n  arch.array.tracksPerRow: [64]\n`), /plan\.yaml:4: "array\.tracksPerRow": configs\/arch\/sram-ap\.yaml has no field "tracksPerRow"/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  rows: [1]\n`), /plan\.yaml:3: parameter "rows": a parameter is arch\.<path> or tech\.<path>/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rows: { from: 1, to: 8, steps: 0 }\n`), /plan\.yaml:3: parameter "arch\.array\.rows": steps must be a whole number >= 1/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rows: { from: 0, to: 8, steps: 3, scale: log }\n`), /plan\.yaml:3: .*a log range needs from and to > 0/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rows: { from: 1, to: 8, steps: 3, scale: cubic }\n`), /plan\.yaml:3: .*scale must be linear or log/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rows: []\n`), /plan\.yaml:3: .*the list of values is empty/);
  assert.match(err(`models: [zoo:resnet20]\nfigures: [energy_j, joules]\n`), /plan\.yaml:2: figures: unknown figure "joules"/);
  assert.match(err(`models: zoo:resnet20\n`), /plan\.yaml:1: models: must be a non-empty list/);
  assert.match(err(`models: [zoo:resnet20]\nmodles: [x]\n`), /plan\.yaml:2: unknown field "modles"/);
  assert.match(err(`models: [zoo:resnet20]\nimages: 0\n`), /plan\.yaml:2: images: must be a whole number >= 1/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rows: [1, 2]\n  tech: [rtm-ap]\nzip: [[arch.array.rows, tech]]\n`), /plan\.yaml:5: zip: arch\.array\.rows has 2 values, tech has 1 values/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch.array.rows: [1, 2]\nzip: [[arch.array.rows, tech]]\n`), /plan\.yaml:4: zip: "tech" is not one of the parameters/);
  assert.match(err(`models: [zoo:resnet20]\nparameters: [1\n`), /plan\.yaml:\d+:\d+: YAML syntax error/);
  assert.match(err(`models: [zoo:resnet20]\ntech: no-such-tech\nparameters:\n  tech.prices.write_cells: [1]\n`), /plan\.yaml:2: tech: no technology file configs\/tech\/no-such-tech\.yaml/);
  assert.match(err(`models: [nothere.onnx]\n`), /plan\.yaml:1: model: no model file test\/sweep\/nothere\.onnx/);
  assert.match(err(`models: [zoo:resnet20]\nparameters:\n  arch: [rtm-ap, mine.yaml]\n`), /plan\.yaml:3: arch: no architecture file test\/sweep\/mine\.yaml/);
  // targets: a published reference has nothing to sweep; a crossbar has no architecture file
  assert.match(err(`target: reference-puma\nmodels: [zoo:resnet20]\n`), /plan\.yaml:1: target: reference-puma is a published efficiency/);
  assert.match(err(`target: tpu\nmodels: [zoo:resnet20]\n`), /plan\.yaml:1: unknown target "tpu"; targets: rtm-ap, sram-ap, crossbar-isaac/);
  assert.match(err(`target: crossbar-isaac\nmodels: [zoo:resnet20]\nparameters:\n  arch.array.rows: [1]\n`), /plan\.yaml:4: parameter "arch\.array\.rows": a crossbar target \(crossbar-isaac\) has no architecture file/);
});

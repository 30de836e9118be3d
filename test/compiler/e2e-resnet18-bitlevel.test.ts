/**
 * zoo:resnet18 at the bit level: ResNet-18's event counts are otherwise only ever counted by the
 * word-level simulator (compare, results). Here single units of the compiled network run on both
 * simulators from the integer reference's input tensors (one seeded 224x224 image), and must give
 * the same output values, equal to the reference, and the same count of every event. The units
 * cover the stem's max pool (7 arrays), a 56x56 conv with its 3x3x64 receptive field over 7 arrays,
 * the first residual block's second conv (its identity shortcut joins in the unit), the first
 * strided conv of stage 2 (2 arrays, input slices) and its block's second conv with the 1x1
 * projection shortcut as a second term, and the weight-stationary 1000 x 512 FC layer.
 * (A stage-4 conv — 1.4 M steps, one array — agrees too but takes ~35 s at the bit level; not
 * run here.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadArch } from "../../src/ap/config.js";
import { EVENT_KINDS } from "../../src/ap/events.js";
import { compileUnitAt, planNetwork, runUnit, unitMappingAt } from "../../src/compiler/pipeline.js";
import { makeSimContext } from "../../src/compiler/simulate.js";
import { randomImages } from "../../src/data/synthetic.js";
import { loadQuantizedModel } from "../../src/model.js";
import { runReference } from "../../src/reference/integer.js";

const UNITS = ["maxpool.out", "layer1.0.conv1.out", "layer1.0.conv2.out", "layer2.0.conv1.out", "layer2.0.conv2.out", "logits"];

test("zoo:resnet18: bit-level and word-level simulation of single units give the same values and events", (t) => {
  const q = loadQuantizedModel("zoo:resnet18").qgraph;
  const pixels = randomImages([3, 224, 224], 1, 18);
  const reference = runReference(q, pixels, 1, { keepAll: true }).tensors;
  reference.set(q.input, Int32Array.from(pixels));
  const plan = planNetwork(q, { arch: loadArch("rtm-ap"), verify: true });
  for (const name of UNITS) {
    const u = plan.units.findIndex((x) => x.name === name);
    assert.ok(u >= 0, `unit ${name} exists`);
    const cu = compileUnitAt(plan, u);
    const producer = (tensor: string) => {
      const j = plan.units.findIndex((x) => x.output === tensor);
      return j < 0 || j >= u ? ("global" as const) : unitMappingAt(plan, j);
    };
    const run = (mode: "fast" | "bit") => {
      const env = new Map(reference);
      const t0 = performance.now();
      const events = runUnit(plan, makeSimContext(q, plan.arch, plan.layout), cu, producer, env, 1, { mode, events: true });
      return { events, output: env.get(cu.unit.output)!, seconds: (performance.now() - t0) / 1000 };
    };
    const word = run("fast"), bit = run("bit");
    const want = reference.get(cu.unit.output)!;
    assert.deepEqual(bit.output, want, `${name}: bit-level output equals the integer reference`);
    assert.deepEqual(word.output, want, `${name}: word-level output equals the integer reference`);
    for (const k of EVENT_KINDS) {
      assert.equal(bit.events.total[k], word.events.total[k], `${name}: ${k}`);
      assert.equal(bit.events.movement[k], word.events.movement[k], `${name}: movement ${k}`);
    }
    assert.ok(word.events.total.searches > 0 && word.events.total.cycles > 0, `${name}: events counted`);
    t.diagnostic(`${name}: ${cu.program.nSteps} steps on ${cu.mapping.arrays} arrays${cu.stationary ? " (weight-stationary)" : ""}; bit level ${bit.seconds.toFixed(1)} s, word level ${word.seconds.toFixed(1)} s; ${word.events.total.searches} searches, ${word.events.total.writeCells} written cells, equal`);
  }
});

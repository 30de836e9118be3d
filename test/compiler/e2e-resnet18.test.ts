/**
 * zoo:resnet18 (ImageNet, 224x224, synthetic TWN weights): the whole network compiled with the
 * verifier, then one seeded random image on the word level (values only), every unit's output
 * equal to the integer reference. The FC layer (1000 x 512, one position) takes the
 * weight-stationary mapping. On the default interleaved row, the page schedule's domain-wall shifts
 * (every shift of the positions-mapped units) stay under 3e10 track-domain moves per inference
 * (the serial layout needed 3.1e12).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { randomImages } from "../../src/data/synthetic.js";
import { loadQuantizedModel } from "../../src/model.js";
import { walkSchedule } from "../../src/compiler/pages.js";
import { assertBitExact, verifiedRun } from "./helpers.js";

test("zoo:resnet18: compiled with the verifier, one 224x224 image bit-exact on the word level", (t) => {
  const q = loadQuantizedModel("zoo:resnet18").qgraph;
  const net = compileNetwork(q, { verify: true });
  assert.equal(net.units.length, 20);
  const fc = net.units[net.units.length - 1]!;
  assert.ok(fc.stationary, "the 1000 x 512 FC layer is weight-stationary");
  assert.deepEqual([fc.stationary.O, fc.stationary.J], [1000, 512]);
  const steps = net.units.reduce((s, u) => s + u.program.nSteps, 0);
  let shifted = 0;
  for (const u of net.units) {
    if (u.stationary) continue;
    shifted += walkSchedule(u.program, net.layout, net.arch.timing, net.arch.array.rows, null).events.shiftTrackDomains * u.mapping.arrays * u.mapping.passes;
  }
  assert.ok(shifted > 1e9 && shifted <= 3e10, `shift track-domains per inference: ${shifted.toExponential(3)}`);
  t.diagnostic(`shift track-domains per inference (positions-mapped units): ${shifted.toExponential(3)}`);
  const pixels = randomImages([3, 224, 224], 1, 18);
  const r = verifiedRun(net, pixels, 1, { mode: "fast", events: false });
  assertBitExact(r, "resnet18, word level");
  t.diagnostic(`compile ${net.seconds.toFixed(1)} s, ${steps} steps, ${r.compared} values equal`);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { verifyDag } from "../../../src/compiler/cse/dag.js";
import { eliminateCommonSubexpressions } from "../../../src/compiler/cse/eliminate.js";
import { unsignedColumnRanges } from "../../../src/compiler/cse/matrix.js";
import { kaimingNormalWeights, resnet18LayerShapes, twnTernarize } from "../../../src/compiler/cse/resnet18-matrices.js";
import { Rng } from "../../../src/util/random.js";
import { assertComputesMatrix, assertEvaluatesLikeReference, randomInputs } from "./helpers.js";

test("ResNet-18 layer shapes: conv1, 16 3x3 convs, 3 downsamples, fc", () => {
  const shapes = resnet18LayerShapes();
  assert.equal(shapes.length, 21);
  const dims = shapes.map((s) => `${s.outChannels}x${s.inChannels * s.kernel[0] * s.kernel[1]}`);
  assert.equal(dims[0], "64x147");
  assert.equal(shapes[0]!.inputBits, 8);
  assert.deepEqual(
    shapes.filter((s) => s.name.endsWith("downsample")).map((s) => `${s.outChannels}x${s.inChannels}`),
    ["128x64", "256x128", "512x256"],
  );
  assert.equal(dims.filter((d) => d === "512x4608").length, 3);
  assert.equal(dims.filter((d) => d === "64x576").length, 4);
  assert.equal(dims[dims.length - 1], "1000x512");
  assert.ok(shapes.slice(1).every((s) => s.inputBits === 4));
});

test("TWN ternarization: threshold 0.7 mean|w| per row leaves about 42% zeros; seeded", () => {
  const shape = resnet18LayerShapes().find((s) => s.name === "layer3.0.conv1")!;
  const m = twnTernarize(kaimingNormalWeights(shape, new Rng(7)), 256, 1152);
  let zeros = 0;
  for (const v of m.data) if (v === 0) zeros++;
  const fraction = zeros / m.data.length;
  assert.ok(fraction > 0.41 && fraction < 0.44, `zero fraction ${fraction}`);
  // hand check of the rule on one row: |w| > 0.7 mean|w| keeps the sign
  const w = Float64Array.from([0.1, -1, 2, -0.5]); // mean|w| = 0.9, threshold 0.63
  assert.deepEqual(Array.from(twnTernarize(w, 1, 4).data), [0, -1, 1, 0]);
  const again = twnTernarize(kaimingNormalWeights(shape, new Rng(7)), 256, 1152);
  assert.deepEqual(again.data, m.data);
});

test("real scale: 512 x 4608 TWN layer is exact, verified, and at least 2x cheaper in cycles", () => {
  const shape = resnet18LayerShapes().find((s) => s.name === "layer4.1.conv2")!;
  const m = twnTernarize(kaimingNormalWeights(shape, new Rng(3)), 512, 4608);
  const ranges = unsignedColumnRanges(4608, 4);
  const r = eliminateCommonSubexpressions(m, ranges);
  assert.deepEqual(verifyDag(r.dag, r.schedule), []);
  assertEvaluatesLikeReference(r.dag, m, randomInputs(new Rng(1), ranges, 6), r.schedule);
  assert.ok(r.stats.ratioCycles >= 2, `cycles ratio ${r.stats.ratioCycles}`);
});

test("real scale: 256 x 1152 TWN layer computes W exactly (unit-vector proof)", () => {
  const shape = resnet18LayerShapes().find((s) => s.name === "layer3.0.conv1")!;
  const m = twnTernarize(kaimingNormalWeights(shape, new Rng(9)), 256, 1152);
  const r = eliminateCommonSubexpressions(m, unsignedColumnRanges(1152, 4));
  assertComputesMatrix(r.dag, m, r.schedule);
});

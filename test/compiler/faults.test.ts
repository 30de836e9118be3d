/**
 * Faults through the compiled program (bit level): with write-flip probability 1e-3 the outputs
 * of fmnist-resnet8 differ from the integer reference; with both probabilities 0 the run is the
 * fault-free one, values and events alike; a seed reproduces a faulty run exactly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork, runCompiled } from "../../src/compiler/pipeline.js";
import { runReference } from "../../src/reference/integer.js";
import { Rng } from "../../src/util/random.js";
import { fmnistImages, fmnistQGraph, QGraphBuilder, randomPixels } from "./helpers.js";

const q = fmnistQGraph();
const net = compileNetwork(q, { verify: true });
const N = 1;
const { images } = fmnistImages(N);
const reference = runReference(q, images, N, { keepAll: true }).tensors;

test("fault probabilities 0: the fault-free run, values and events", () => {
  const clean = runCompiled(net, images, N, { mode: "bit", reference });
  const zero = runCompiled(net, images, N, { mode: "bit", reference, faults: { shiftFaultProb: 0, writeFlipProb: 0, seed: 9 } });
  assert.equal(clean.mismatches, 0);
  assert.equal(zero.mismatches, 0);
  assert.deepEqual(zero.output, clean.output);
  assert.deepEqual(zero.events, clean.events);
});

test("write flips at 1e-3: outputs differ from the reference; the same seed gives the same faulty run", (t) => {
  const a = runCompiled(net, images, N, { mode: "bit", reference, faults: { writeFlipProb: 1e-3, seed: 1 } });
  assert.ok(a.mismatches > 0, "a flip in 1000 written cells corrupts values");
  const bad = a.units.filter((u) => u.mismatches > 0).map((u) => u.unit);
  assert.ok(bad.length >= 2, `corruption in ${bad.length} unit(s)`);
  const b = runCompiled(net, images, N, { mode: "bit", reference, faults: { writeFlipProb: 1e-3, seed: 1 } });
  assert.deepEqual([b.mismatches, b.output], [a.mismatches, a.output]);
  t.diagnostic(`${a.mismatches} of ${[...net.units].reduce((s, u) => s + reference.get(u.unit.output)!.length, 0)} values differ; units: ${bad.join(", ")}`);
});

test("shift faults at 1e-4: outputs differ from the reference", (t) => {
  const r = runCompiled(net, images, N, { mode: "bit", reference, faults: { shiftFaultProb: 1e-4, seed: 3 } });
  assert.ok(r.mismatches > 0);
  t.diagnostic(`${r.mismatches} values differ`);
});

test("faults reach weight-stationary layers too", () => {
  const g = new QGraphBuilder(new Rng(12));
  const x = g.input("x", [64, 1, 1]);
  const fc = g.conv("fc", x, 32, [1, 1], { fullyConnected: true, density: 0.7 });
  const one = g.build(g.requant("codes", fc), "fc-only");
  const stationary = compileNetwork(one, { fcStationary: "always", verify: true });
  assert.ok(stationary.units[0]!.stationary);
  const pixels = randomPixels([64, 1, 1], 4, 13);
  const ref = runReference(one, pixels, 4, { keepAll: true }).tensors;
  const r = runCompiled(stationary, pixels, 4, { mode: "bit", reference: ref, faults: { writeFlipProb: 0.05, seed: 2 } });
  assert.ok(r.mismatches > 0, "write flips at 5% leave every output intact");
});

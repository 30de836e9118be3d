/**
 * The reliability study (src/faults.ts) on fmnist-resnet8 and the committed Fashion-MNIST slice:
 * rate 0 is the fault-free program exactly; at a shift-fault rate of 1e-3 per nanowire shift
 * (~1e5 faults per inference on the interleaved layout) unprotected accuracy drops by more than 5
 * points while p-ECC keeps it within 0.5 points (every fault corrected); the serial layout is
 * exposed to ~80x more shift trials per inference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadDataset } from "../../src/data/index.js";
import { defaultRates, faultStudy, prepareFaultSetup, runFaultConfig, wilson } from "../../src/faults.js";
import { loadQuantizedModel } from "../../src/model.js";
import { RtapError } from "../../src/errors.js";

const MODEL = "test/fixtures/models/fmnist-resnet8.onnx";
const DATA = "idx:test/fixtures/fashion-mnist-slice";

function accuracy(pred: Int32Array, labels: Uint8Array): number {
  let k = 0;
  pred.forEach((p, i) => (k += p === labels[i] ? 1 : 0));
  return k / pred.length;
}

// 100 images: the unprotected drop measured 16-18 points on them (seeds 1-3), far above the bound;
// p-ECC must change no prediction at all
test("fmnist-resnet8, 100 images, interleaved: rate 0 is fault-free exactly; at 1e-3 unprotected drops >= 5 points, p-ECC stays within 0.5", () => {
  const IMAGES = 100;
  const q = loadQuantizedModel(MODEL, {}).qgraph;
  const ds = loadDataset(DATA, { limit: IMAGES });
  const s = prepareFaultSetup(q, "rtm-ap", ds.images, ds.labels, ds.count);
  const clean = accuracy(s.cleanPred, ds.labels!);
  assert.ok(clean > 0.85, `fault-free accuracy ${clean}`);
  for (const protect of ["none", "pecc"] as const)
    for (const kind of ["shift", "write"] as const) {
      const r = runFaultConfig(s, { protect, kind, rate: 0, seed: 1 });
      assert.deepEqual(Array.from(r.pred), Array.from(s.cleanPred));
      assert.equal(r.faults, 0);
      assert.equal(r.bitUnitRuns, 0);
    }
  const none = runFaultConfig(s, { protect: "none", kind: "shift", rate: 1e-3, seed: 1 });
  const pecc = runFaultConfig(s, { protect: "pecc", kind: "shift", rate: 1e-3, seed: 1 });
  const dropNone = clean - accuracy(none.pred, ds.labels!);
  const dropPecc = clean - accuracy(pecc.pred, ds.labels!);
  assert.ok(dropNone >= 0.05, `unprotected drop ${dropNone}`);
  assert.ok(Math.abs(dropPecc) <= 0.005, `protected drop ${dropPecc}`);
  // ~rate x trials faults per inference, every one corrected (single-step errors, checked every shift)
  const expected = 1e-3 * s.shiftTrials.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(pecc.faults / IMAGES - expected) < 0.02 * expected, `${pecc.faults / IMAGES} vs ${expected}`);
  assert.ok(pecc.corrected >= pecc.faults * 0.99 && pecc.uncorrectable === 0, `${pecc.corrected} of ${pecc.faults}`);
  // the default grid spans 0.1 .. 1e6 expected faults per inference, so it holds 1e-3 between its ends
  const grid = defaultRates(s, "shift");
  assert.equal(grid.length, 8);
  assert.ok(grid[0]! < 1e-8 && grid[7]! >= 1e-3, grid.join(","));
});

test("serial layout: ~80x the shift trials of the interleaved one; rate 0 exact, p-ECC exact at ~1e3 faults per inference", async () => {
  const r = await faultStudy(MODEL, DATA, { limit: 8, archs: ["rtm-ap-serial"], shiftRates: [0, 1.5e-7], writeRates: [], sensitivity: false });
  const a = r.archs[0]!;
  assert.equal(a.layout, "serial");
  assert.ok(a.shift_trials_per_inference > 5e9, String(a.shift_trials_per_inference));
  const zero = r.curves.filter((c) => c.rate === 0);
  assert.equal(zero.length, 2);
  for (const c of zero) {
    assert.equal(c.changed, 0);
    assert.equal(c.accuracy, r.fault_free_accuracy);
  }
  const p = r.curves.find((c) => c.protect === "pecc" && c.rate > 0)!;
  assert.ok(p.faults_per_inference > 300, String(p.faults_per_inference));
  assert.equal(p.changed, 0);
  assert.equal(p.accuracy, r.fault_free_accuracy);
  assert.equal(r.overhead.length, 1);
  assert.ok(r.overhead[0]!.energy_ratio > 1 && r.overhead[0]!.latency_ratio > 1);
});

test("Wilson intervals and bad input", async () => {
  const [lo, hi] = wilson(180, 200);
  assert.ok(Math.abs(lo - 0.8506) < 1e-3 && Math.abs(hi - 0.9343) < 1e-3, `${lo} ${hi}`);
  assert.deepEqual(wilson(0, 0), [0, 1]);
  await assert.rejects(faultStudy(MODEL, DATA, { limit: 2, protect: ["ecc" as never] }), (e: unknown) => e instanceof RtapError && /unknown protection "ecc"/.test(e.message));
  await assert.rejects(faultStudy(MODEL, DATA, { limit: 2, shiftRates: [2] }), (e: unknown) => e instanceof RtapError && /rates must be probabilities/.test(e.message));
  await assert.rejects(faultStudy(MODEL, DATA, { limit: 2, archs: ["sram-ap"] }), (e: unknown) => e instanceof RtapError && /not racetrack memory/.test(e.message));
});

test("shards pool into one curve per rate: default grids (data-dependent for writes) are fixed before sharding", async () => {
  const opts = { limit: 3, archs: ["rtm-ap"], shiftRates: [] as number[], protect: ["none" as const], sensitivity: false };
  const one = await faultStudy(MODEL, DATA, { ...opts, workers: 1 });
  const two = await faultStudy(MODEL, DATA, { ...opts, workers: 2 });
  assert.equal(one.curves.length, 8);
  assert.deepEqual(two.curves, one.curves);
});

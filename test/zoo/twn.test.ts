import { test } from "node:test";
import assert from "node:assert/strict";
import { ternarizeTwn, ternarizeTwnInPlace } from "../../src/zoo/twn.js";
import { RtapError } from "../../src/errors.js";
import { Rng } from "../../src/util/random.js";

/**
 * The rule restated in exact integer arithmetic for a row w = scale * k with integer k and a
 * power-of-two scale: keep iff |k| > 0.7 * mean|k|, i.e. 10 * J * |k| > 7 * sum|k|.
 */
function reference(k: number[], scale: number): { t: number[]; alpha: number } {
  const J = k.length;
  const sumAbs = k.reduce((s, v) => s + Math.abs(v), 0);
  const keep = (v: number): boolean => 10 * J * Math.abs(v) > 7 * sumAbs;
  const t = k.map((v) => (keep(v) ? Math.sign(v) : 0));
  const kept = k.filter(keep);
  const alpha = kept.length === 0 ? 0 : (scale * kept.reduce((s, v) => s + Math.abs(v), 0)) / kept.length;
  return { t, alpha };
}

test("TWN on hand-made channels: threshold 0.7*mean|w|, scale = mean of kept |w|", () => {
  // Row 0: mean|w| = 2.5, delta = 1.75: kept 4, -3, 2 -> alpha 3.
  // Row 1: mean|w| = 10, delta = 7: 7 and -7 are exact ties and become 0; kept 25 -> alpha 25.
  // Row 2: all zero -> alpha 0, ternary all zero.
  // Row 3: equal magnitudes -> all kept, alpha = that magnitude.
  const w = Float32Array.from([
    4, -3, 1, 2, // row 0
    7, -7, 25, 1, // row 1: sum 40, mean 10, delta 7 (exact tie at +-7)
    0, 0, 0, 0, // row 2
    -0.5, 0.5, 0.5, -0.5, // row 3
  ]);
  const r = ternarizeTwn(w, 4);
  assert.deepEqual([...r.ternary], [1, -1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, -1, 1, 1, -1]);
  assert.deepEqual([...r.scale], [3, 25, 0, 0.5]);
  assert.equal(r.sparsity, 8 / 16);
  // Input is untouched.
  assert.deepEqual([...w.slice(0, 4)], [4, -3, 1, 2]);
});

test("TWN: a weight one float32 ulp above the threshold is kept, the tie itself is not", () => {
  // sum|w| = 7 + (7 + e) + (26 - e) + 0 = 40 exactly (e = 2^-19 is one ulp at 16..32), delta = 7.
  const e = 2 ** -19;
  const w = Float32Array.from([7, 7 + e, 26 - e, 0]);
  assert.deepEqual([...w], [7, 7 + e, 26 - e, 0], "values are exact in float32");
  const r = ternarizeTwn(w, 1);
  assert.deepEqual([...r.ternary], [0, 1, 1, 0]);
  assert.equal(r.scale[0], Math.fround((7 + e + 26 - e) / 2));
  // One ulp below the threshold (d = 2^-21 is one float32 ulp in [4, 8)) is dropped.
  const d = 2 ** -21;
  const w2 = Float32Array.from([-(7 - d), 7 + d, 26, 0]); // sum 40, delta 7
  assert.deepEqual([...ternarizeTwn(w2, 1).ternary], [0, 1, 1, 0]);
});

test("TWN matches an exact-arithmetic restatement on ~1000 random rows of mixed length, sign and scale", () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 200; trial++) {
    const O = rng.int(1, 10);
    const J = rng.int(1, 40);
    const w = new Float32Array(O * J);
    const scale = 2 ** rng.int(-10, 10);
    // Small integers times a power of two: exact in float32, with many exact ties and duplicates.
    const k = Array.from({ length: O * J }, () => rng.int(-4, 4));
    for (let i = 0; i < w.length; i++) w[i] = k[i]! * scale;
    const r = ternarizeTwn(w, O);
    const inPlace = Float32Array.from(w);
    const stats = ternarizeTwnInPlace(inPlace, O);
    let zeros = 0;
    for (let o = 0; o < O; o++) {
      const ref = reference(k.slice(o * J, (o + 1) * J), scale);
      assert.deepEqual([...r.ternary.slice(o * J, (o + 1) * J)], ref.t, `trial ${trial} row ${o}`);
      assert.equal(r.scale[o], Math.fround(ref.alpha));
      const z = ref.t.filter((t) => t === 0).length;
      zeros += z;
      assert.equal(stats.zeros[o], z);
      assert.equal(stats.scale[o], r.scale[o]);
      assert.equal(stats.sumSquares[o], r.scale[o]! ** 2 * (J - z));
      for (let j = 0; j < J; j++) assert.equal(inPlace[o * J + j], r.scale[o]! * ref.t[j]! + 0);
    }
    assert.equal(r.sparsity, zeros / w.length);
  }
});

test("TWN sparsity on a large Gaussian draw is 2*Phi(0.7*sqrt(2/pi)) - 1 = 0.4235", () => {
  const rng = new Rng(5);
  const O = 64, J = 4608;
  const w = new Float32Array(O * J);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * 0.05;
  const r = ternarizeTwn(w, O);
  // Phi(0.5585) = 0.71174 -> 0.42348 (normal table); 295k samples: std of the estimate ~0.001.
  assert.ok(Math.abs(r.sparsity - 0.4235) < 0.005, `sparsity ${r.sparsity}`);
  // alpha = E[|w| : |w| > delta] = std * phi(d)/(1-Phi(d)) with d = 0.5585: 0.05 * 0.3415/0.28826 = 0.0592
  let meanScale = 0;
  for (const a of r.scale) meanScale += a / O;
  assert.ok(Math.abs(meanScale - 0.0592) < 0.001, `mean scale ${meanScale}`);
});

test("TWN rejects a matrix that does not split into rows, and non-finite weights", () => {
  assert.throws(() => ternarizeTwn(new Float32Array(10), 3), (e: unknown) => e instanceof RtapError && /10 weights into 3 output channels/.test(e.message));
  assert.throws(() => ternarizeTwn(new Float32Array(4), 0), RtapError);
  assert.throws(() => ternarizeTwn(Float32Array.from([1, NaN, 2, 3]), 2), (e: unknown) => e instanceof RtapError && /output channel 0 has a non-finite/.test(e.message));
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { fillGaussian, gaussian } from "../../src/zoo/gaussian.js";
import { Rng } from "../../src/util/random.js";

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

test("ziggurat samples follow N(0,1): chi-square over 40 bins, moments and both tails", () => {
  const n = 2_000_000;
  const rng = new Rng(2024);
  const edges = Array.from({ length: 39 }, (_, i) => -3.8 + (i * 7.6) / 38);
  const counts = new Float64Array(40);
  let s1 = 0, s2 = 0, s4 = 0, beyondR = 0, beyond4 = 0;
  for (let i = 0; i < n; i++) {
    const z = gaussian(rng);
    s1 += z;
    s2 += z * z;
    s4 += z * z * z * z;
    if (Math.abs(z) > 3.442619855899) beyondR++;
    if (Math.abs(z) > 4) beyond4++;
    let lo = 0, hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (z < edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  let chi2 = 0;
  for (let b = 0; b < 40; b++) {
    const p = (b === 39 ? 1 : phi(edges[b]!)) - (b === 0 ? 0 : phi(edges[b - 1]!));
    chi2 += (counts[b]! - n * p) ** 2 / (n * p);
  }
  // 39 degrees of freedom: the 99.9% quantile is 72.1.
  assert.ok(chi2 < 72.1, `chi-square ${chi2}`);
  assert.ok(Math.abs(s1 / n) < 0.003, `mean ${s1 / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.005, `variance ${s2 / n}`);
  assert.ok(Math.abs(s4 / n - 3) < 0.05, `fourth moment ${s4 / n}`);
  // The tail beyond the ziggurat's base (r = 3.4426) is drawn by a separate method: P = 5.76e-4.
  const pR = 2 * (1 - phi(3.442619855899));
  assert.ok(Math.abs(beyondR / n - pR) < 5 * Math.sqrt(pR / n), `P(|z| > r) = ${beyondR / n}, expected ${pR}`);
  const p4 = 2 * (1 - phi(4));
  assert.ok(Math.abs(beyond4 / n - p4) < 5 * Math.sqrt(p4 / n), `P(|z| > 4) = ${beyond4 / n}, expected ${p4}`);
});

test("fillGaussian is deterministic per seed and scales by std", () => {
  const a = new Float32Array(1000), b = new Float32Array(1000), c = new Float32Array(1000);
  fillGaussian(new Rng(1), a, 0.5);
  fillGaussian(new Rng(1), b, 0.5);
  fillGaussian(new Rng(2), c, 0.5);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const d = new Float32Array(1000);
  fillGaussian(new Rng(1), d, 1);
  // Halving is exact in float32, so std = 0.5 gives exactly half of the std = 1 draw.
  for (let i = 0; i < 1000; i++) assert.equal(a[i], d[i]! * 0.5);
});

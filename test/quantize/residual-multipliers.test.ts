/**
 * The integer multipliers of residual adds (src/quantize/residual.ts): the reported error is the
 * exact worst case, the smallest error any pair within the limit can reach is found (brute force on
 * small limits), and on the operands residual networks add (a 4-bit code and a conv accumulator
 * whose scales differ by 3..1000) the error is within float32 resolution of the sum, where the
 * former fixed-point rule (a 2^F multiplier on the larger scale, F <= 16) left several percent of a
 * code step.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADD_TOLERANCE, addMultipliers, csdWeight } from "../../src/quantize/residual.js";
import { csd } from "../../src/compiler/lower.js";
import { Rng } from "../../src/util/random.js";

const LIMIT = 2 ** 30 - 1;

/** The rule before exact requantization: u = max scale / 2^F, F <= 16 with 2^F * (magA + magB + 1) < 2^30. */
function fixedPoint(sA: number, sB: number, magA: number, magB: number): { mA: number; mB: number; u: number } {
  let F = 16;
  while (F > 0 && 2 ** F * (magA + magB + 1) >= 2 ** 30) F--;
  const u = Math.max(Math.abs(sA), Math.abs(sB)) / 2 ** F;
  return { mA: Math.round(sA / u), mB: Math.round(sB / u), u };
}

function worstError(m: { mA: number; mB: number; u: number }, sA: number, sB: number, magA: number, magB: number): number {
  return Math.abs(m.u * m.mA - sA) * magA + Math.abs(m.u * m.mB - sB) * magB;
}

function randomScale(rng: Rng): number {
  return Math.fround(Math.exp(rng.normal() * 3)) * (rng.bernoulli(0.25) ? -1 : 1);
}

describe("residual add multipliers", () => {
  test("the reported error is the worst case over every operand pair, and the sum stays within the limit", () => {
    const rng = new Rng(1);
    for (let t = 0; t < 200; t++) {
      const sA = randomScale(rng), sB = randomScale(rng);
      const magA = rng.int(1, 40), magB = rng.int(1, 40);
      const limit = rng.bernoulli(0.5) ? LIMIT : rng.int(magA + magB, 5000);
      const m = addMultipliers(sA, sB, magA, magB, limit, { tolerance: rng.bernoulli(0.5) ? 0 : ADD_TOLERANCE });
      assert.ok(Number.isInteger(m.mA) && Number.isInteger(m.mB) && m.u > 0, JSON.stringify(m));
      assert.ok(Math.abs(m.mA) * magA + Math.abs(m.mB) * magB <= limit, `case ${t}: ${JSON.stringify(m)} exceeds ${limit}`);
      assert.ok(m.mA === 0 || Math.sign(m.mA) === Math.sign(sA), "mA carries sA's sign");
      assert.ok(m.mB === 0 || Math.sign(m.mB) === Math.sign(sB), "mB carries sB's sign");
      let worst = 0;
      for (let a = -magA; a <= magA; a++) {
        for (let b = -magB; b <= magB; b++) worst = Math.max(worst, Math.abs(m.u * (m.mA * a + m.mB * b) - (sA * a + sB * b)));
      }
      const R = Math.abs(sA) * magA + Math.abs(sB) * magB;
      assert.ok(Math.abs(worst - m.error) <= 1e-12 * R, `case ${t}: worst ${worst} vs reported ${m.error}`);
    }
  });

  test("tolerance 0: the smallest worst-case error of any pair within the limit (brute force)", () => {
    const rng = new Rng(2);
    for (let t = 0; t < 400; t++) {
      const sA = randomScale(rng), sB = randomScale(rng);
      const magA = rng.int(1, 200), magB = rng.int(1, 200);
      const limit = rng.int(magA + magB, 12000);
      const m = addMultipliers(sA, sB, magA, magB, limit, { tolerance: 0 });
      const SA = Math.abs(sA), SB = Math.abs(sB);
      let best = Infinity;
      for (let p = 0; p * magA <= limit; p++) {
        for (let q = 0; p * magA + q * magB <= limit; q++) {
          // the error is piecewise linear in u: its minimum is where one term vanishes
          if (p > 0) best = Math.min(best, worstError({ mA: p, mB: q, u: SA / p }, SA, SB, magA, magB));
          if (q > 0) best = Math.min(best, worstError({ mA: p, mB: q, u: SB / q }, SA, SB, magA, magB));
        }
      }
      assert.ok(m.error <= best * (1 + 1e-9) + 1e-300, `case ${t}: error ${m.error}, brute force ${best} (${JSON.stringify({ sA, sB, magA, magB, limit, m })})`);
    }
  });

  test("code + accumulator with scales 3..1000 apart: error within float32 resolution of the sum (the fixed-point rule's reached several % of a code step)", (t) => {
    const rng = new Rng(3);
    let worstNew = 0, worstOld = 0;
    for (const ratio of [3, 14, 50, 300, 1000]) {
      for (const codeFirst of [true, false]) {
        for (let k = 0; k < 20; k++) {
          const sCode = Math.fround(0.05 + rng.next()), sAcc = Math.fround((sCode / ratio) * (0.8 + 0.45 * rng.next()));
          const magCode = 15, magAcc = rng.int(100, 9000);
          const [sA, sB, magA, magB] = codeFirst ? [sCode, sAcc, magCode, magAcc] : [sAcc, sCode, magAcc, magCode];
          const R = sCode * magCode + sAcc * magAcc;
          const m = addMultipliers(sA, sB, magA, magB, LIMIT);
          assert.ok(m.error <= ADD_TOLERANCE * R, `ratio ${ratio}: error ${m.error / R} of the range`);
          const old = worstError(fixedPoint(sA, sB, magA, magB), sA, sB, magA, magB);
          worstNew = Math.max(worstNew, m.error / sCode);
          worstOld = Math.max(worstOld, old / sCode);
        }
      }
    }
    t.diagnostic(`worst-case error in steps of the code operand: fixed point ${worstOld.toExponential(2)}, now ${worstNew.toExponential(2)}`);
    assert.ok(worstOld > 1e-2 && worstNew < 1e-4, `${worstOld} ${worstNew}`);
  });

  test("exact ratios give exact, cheap multipliers", () => {
    assert.deepEqual(addMultipliers(0.375, 0.125, 100, 15, LIMIT), { mA: 3, mB: 1, u: 0.125, error: 0 });
    const third = addMultipliers(0.3, 0.1, 100, 15, LIMIT); // 0.3 / 0.1 is not 3 in float64: within rounding
    assert.deepEqual([third.mA, third.mB], [3, 1]);
    assert.ok(third.error <= 1e-14, `${third.error}`);
    const p2 = addMultipliers(0.25, 2, 2000, 15, LIMIT);
    assert.deepEqual([p2.mA, p2.mB, p2.u, p2.error], [1, 8, 0.25, 0]);
    const neg = addMultipliers(-0.5, 1.5, 700, 15, LIMIT);
    assert.deepEqual([neg.mA, neg.mB, neg.u, neg.error], [-1, 3, 0.5, 0]);
  });

  test("an operand that is always 0 (or has scale 0) gets multiplier 0", () => {
    assert.deepEqual(addMultipliers(0.7, 0.2, 0, 15, LIMIT), { mA: 0, mB: 1, u: 0.2, error: 0 });
    assert.deepEqual(addMultipliers(0.7, -0.2, 30, 0, LIMIT), { mA: 1, mB: 0, u: 0.7, error: 0 });
    assert.deepEqual(addMultipliers(0, 0.2, 30, 15, LIMIT), { mA: 0, mB: 1, u: 0.2, error: 0 });
    assert.deepEqual(addMultipliers(0.1, 0.2, 0, 0, LIMIT), { mA: 0, mB: 0, u: 1, error: 0 });
  });

  test("maxMultiplier bounds both multipliers", () => {
    const rng = new Rng(4);
    for (let t = 0; t < 100; t++) {
      const m = addMultipliers(randomScale(rng), randomScale(rng), rng.int(1, 3000), rng.int(1, 3000), LIMIT, { maxMultiplier: 2 ** 12 });
      assert.ok(Math.abs(m.mA) <= 2 ** 12 && Math.abs(m.mB) <= 2 ** 12, JSON.stringify(m));
    }
  });

  test("csdWeight counts the compiler's canonical signed digits", () => {
    for (let m = 0; m <= 5000; m++) assert.equal(csdWeight(m), csd(m).length, `m = ${m}`);
    for (const m of [2 ** 20 - 1, 2 ** 29 + 12345, 2 ** 30 - 1]) assert.equal(csdWeight(m), csd(m).length, `m = ${m}`);
  });
});

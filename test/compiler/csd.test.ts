/**
 * csd() (src/compiler/lower.ts): the canonical signed digits the residual adds use to multiply by
 * an integer constant with shifted adds and subtracts. Exhaustive for 1..4096: the digits
 * reconstruct the integer, no two non-zero digits are adjacent (non-adjacent form), the leading
 * digit is +1, and the digit count is the minimum over all signed-digit representations (checked
 * against an independent dynamic program).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { csd } from "../../src/compiler/lower.js";

/** Minimum number of non-zero digits in any {-1,0,1} base-2 representation of m >= 0. */
function minimalWeights(n: number): Int32Array {
  const w = new Int32Array(n + 2);
  // w(0) = 0; even m: w(m/2) (a trailing 0 digit); odd m: 1 + min(w((m-1)/2), w((m+1)/2)).
  // Computed top-down with memo since (m+1)/2 can exceed m/2 but never m for m >= 2.
  const memo = new Map<number, number>([[0, 0], [1, 1]]);
  const f = (m: number): number => {
    const hit = memo.get(m);
    if (hit !== undefined) return hit;
    const v = m % 2 === 0 ? f(m / 2) : 1 + Math.min(f((m - 1) / 2), f((m + 1) / 2));
    memo.set(m, v);
    return v;
  };
  for (let m = 0; m <= n + 1; m++) w[m] = f(m);
  return w;
}

test("csd(m) for m = 1..4096: exact, non-adjacent, leading +1, minimal digit count, shifts descending", () => {
  const N = 4096;
  const minimal = minimalWeights(N);
  let digitsTotal = 0, binaryTotal = 0;
  for (let m = 1; m <= N; m++) {
    const d = csd(m);
    let v = 0;
    for (const { shift, sign } of d) {
      assert.ok(sign === 1 || sign === -1, `m=${m}: digit sign ${sign}`);
      assert.ok(Number.isInteger(shift) && shift >= 0, `m=${m}: shift ${shift}`);
      v += sign * 2 ** shift;
    }
    assert.equal(v, m, `m=${m}: digits ${JSON.stringify(d)} sum to ${v}`);
    for (let i = 1; i < d.length; i++) assert.ok(d[i - 1]!.shift - d[i]!.shift >= 2, `m=${m}: adjacent non-zero digits at shifts ${d[i - 1]!.shift}, ${d[i]!.shift}`);
    assert.equal(d[0]!.sign, 1, `m=${m}: leading digit`);
    assert.equal(d.length, minimal[m], `m=${m}: ${d.length} digits, minimum is ${minimal[m]}`);
    digitsTotal += d.length;
    binaryTotal += m.toString(2).replace(/0/g, "").length;
  }
  // NAF never needs more non-zero digits than binary; on average about 1/3 of the bits vs 1/2.
  assert.ok(digitsTotal < binaryTotal);
});

test("csd: small cases by hand (the multipliers residual adds use)", () => {
  const fmt = (m: number): string => csd(m).map((d) => `${d.sign > 0 ? "+" : "-"}${d.shift}`).join(" ");
  assert.equal(fmt(1), "+0");
  assert.equal(fmt(2), "+1");
  assert.equal(fmt(3), "+2 -0"); // 4 - 1
  assert.equal(fmt(5), "+2 +0");
  assert.equal(fmt(7), "+3 -0"); // 8 - 1
  assert.equal(fmt(11), "+4 -2 -0"); // 16 - 4 - 1
  assert.equal(fmt(255), "+8 -0");
  assert.equal(fmt(4096), "+12");
});

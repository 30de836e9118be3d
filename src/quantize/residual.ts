/**
 * Integer multipliers of a residual add: `real = sA*a + sB*b` (per channel, a and b integers with
 * |a| <= magA, |b| <= magB) becomes `u * (mA*a + mB*b)` with integer mA, mB and a real output
 * scale u > 0, subject to |mA|*magA + |mB|*magB <= limit (the add's output stays a 31-bit value).
 *
 * The approximation error, in real units, is at most
 *     E = |u*|mA| - |sA|| * magA + |u*|mB| - |sB|| * magB
 * (the worst case over the operands' ranges). Two kinds of candidate pairs are weighed:
 *  - one multiplier a power of two 2^G (a free bit offset on the AP), the other round(s/u), for
 *    every exponent G the limit allows. The rounded multiplier's error is multiplied by its
 *    operand, so the power of two goes to whichever operand that leaves the smaller E — normally
 *    the large accumulator, the rounded multiplier on the 4-bit code;
 *  - the best rational approximations p/q of |sA|/|sB| under the limit (continued-fraction
 *    convergents and semiconvergents, computed exactly on the float64 scales), with u = |sA|/p or
 *    |sB|/q, whichever gives the smaller E. Both multipliers are then general constants, but the
 *    error of the ratio falls to about 1/(p*q).
 * The cheapest candidate whose E is at most `tolerance * R` wins, R = |sA|*magA + |sB|*magB being
 * the largest real value of the sum; when none is that accurate, the one with the smallest E. The
 * cost is the AP's: (signed digits of mA and mB — one shifted add each — plus the requantization's
 * threshold compares) times the bits of the sum.
 */

export interface AddMultipliers {
  mA: number;
  mB: number;
  /** Output scale: real = u * (mA*a + mB*b) (+ the operands' offsets). */
  u: number;
  /** Worst-case absolute error of the integer form, in real units. */
  error: number;
}

/**
 * Default tolerance, relative to R: 2^-26, a quarter of float32's unit roundoff (2^-24) — below
 * what the float model's own float32 Add (and the float32 sums feeding it) leaves on values near
 * the top of the range, so a candidate within it is as exact as the float model can resolve.
 */
export const ADD_TOLERANCE = 2 ** -26;

/** Number of non-zero canonical-signed digits of |m| (the shifted adds that multiply by m). */
export function csdWeight(m: number): number {
  let x = Math.abs(m), n = 0;
  while (x !== 0) {
    if (x % 2 !== 0) {
      x -= x % 4 === 1 ? 1 : -1;
      n++;
    }
    x /= 2;
  }
  return n;
}

/** Exact numerator/denominator of a positive finite double as BigInts. */
function exactRatio(x: number, y: number): [bigint, bigint] {
  const parts = (v: number): [bigint, number] => {
    // v = mant * 2^exp with an integer mantissa
    let exp = 0;
    let m = v;
    while (!Number.isInteger(m)) {
      m *= 2;
      exp--;
    }
    while (m >= 2 ** 53) {
      m /= 2;
      exp++;
    }
    return [BigInt(m), exp];
  };
  const [mx, ex] = parts(x), [my, ey] = parts(y);
  let n = mx, d = my;
  const e = ex - ey;
  if (e > 0) n <<= BigInt(e);
  else if (e < 0) d <<= BigInt(-e);
  return [n, d];
}

/**
 * Best rational approximations p/q of n/d (continued-fraction convergents and the largest
 * semiconvergent between each pair) that satisfy `ok(p, q)`, with p, q >= 1.
 */
function bestApproximations(n: bigint, d: bigint, ok: (p: number, q: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  let [p0, q0, p1, q1] = [0n, 1n, 1n, 0n]; // h_{-2}/k_{-2}, h_{-1}/k_{-1}
  let a = n, b = d;
  while (b !== 0n) {
    const t = a / b;
    [a, b] = [b, a - t * b];
    // semiconvergents (k*p1 + p0)/(k*q1 + q0) for k = 1..t; the last is the convergent
    const feasible = (k: bigint): boolean => {
      const p = k * p1 + p0, q = k * q1 + q0;
      return p >= 1n && q >= 1n && p <= 2n ** 31n && q <= 2n ** 31n && ok(Number(p), Number(q));
    };
    let lo = 0n, hi = t;
    // largest feasible k (feasibility is monotone in k: p and q grow)
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n;
      if (feasible(mid)) lo = mid;
      else hi = mid - 1n;
    }
    if (lo >= 1n) out.push([Number(lo * p1 + p0), Number(lo * q1 + q0)]);
    if (lo < t) break; // the convergent itself is infeasible: later ones are larger still
    [p0, q0, p1, q1] = [p1, q1, t * p1 + p0, t * q1 + q0];
  }
  return out;
}

/**
 * Multipliers for `sA*a + sB*b` with |a| <= magA, |b| <= magB and |mA|*magA + |mB|*magB <= limit.
 * `maxMultiplier` bounds |mA| and |mB| (default: the limit).
 */
export function addMultipliers(
  sA: number, sB: number, magA: number, magB: number, limit: number,
  opts: { tolerance?: number; maxMultiplier?: number; thresholds?: number } = {},
): AddMultipliers {
  // (exactRatio below never ends on a non-finite double: callers must refuse those first)
  if (![sA, sB, magA, magB, limit].every(Number.isFinite)) throw new Error(`addMultipliers: non-finite input (scales ${sA}, ${sB}, magnitudes ${magA}, ${magB})`);
  const SA = Math.abs(sA), SB = Math.abs(sB);
  const sgnA = sA < 0 ? -1 : 1, sgnB = sB < 0 ? -1 : 1;
  const maxM = opts.maxMultiplier ?? limit;
  const tol = (opts.tolerance ?? ADD_TOLERANCE) * (SA * magA + SB * magB);
  // An operand that is always 0 or has scale 0 contributes nothing: multiplier 0, the other 1.
  const deadA = SA === 0 || magA === 0, deadB = SB === 0 || magB === 0;
  if (deadA && deadB) return { mA: 0, mB: 0, u: 1, error: 0 };
  if (deadA) return { mA: 0, mB: sgnB, u: SB, error: 0 };
  if (deadB) return { mA: sgnA, mB: 0, u: SA, error: 0 };
  if (magA + magB > limit) throw new Error(`addMultipliers: operand magnitudes ${magA} + ${magB} exceed ${limit}`);

  const fits = (p: number, q: number): boolean => p <= maxM && q <= maxM && p * magA + q * magB <= limit;
  const errorOf = (p: number, q: number, u: number): number => Math.abs(u * p - SA) * magA + Math.abs(u * q - SB) * magB;
  interface Cand { p: number; q: number; u: number; error: number; cost: number }
  const cands: Cand[] = [];
  // AP cost of the add: its shifted adds (one per signed digit) and the requantization's compares
  // (one per threshold), each sweeping the bits of the sum.
  const L = opts.thresholds ?? 15;
  const push = (p: number, q: number, u: number): void => {
    if (p < 0 || q < 0 || !fits(p, q) || (p === 0 && q === 0)) return;
    const width = Math.floor(Math.log2(p * magA + q * magB)) + 2;
    cands.push({ p, q, u, error: errorOf(p, q, u), cost: (csdWeight(p) + csdWeight(q) + L) * width });
  };
  // A power of two on one operand, the other rounded: the largest exponent that fits.
  for (const pow2OnA of [true, false]) {
    const [SX, SY] = pow2OnA ? [SA, SB] : [SB, SA];
    const pair = (G: number): [number, number] => {
      const x = 2 ** G, y = Math.round((SY * x) / SX);
      return pow2OnA ? [x, y] : [y, x];
    };
    for (let G = 0; G <= 30 && fits(...pair(G)); G++) {
      const [p, q] = pair(G);
      push(p, q, SX / 2 ** G);
    }
  }
  // Best rational approximations of SA/SB, each with the better of the two exact anchors.
  const [n, d] = exactRatio(SA, SB);
  for (const [p, q] of bestApproximations(n, d, fits)) {
    push(p, q, SA / p);
    push(p, q, SB / q);
  }
  if (cands.length === 0) throw new Error(`addMultipliers: no multipliers fit (scales ${sA}, ${sB}, magnitudes ${magA}, ${magB}, limit ${limit})`);
  const good = cands.filter((c) => c.error <= tol);
  const pick = good.length
    ? good.reduce((x, y) => (y.cost < x.cost || (y.cost === x.cost && y.error < x.error) ? y : x))
    : cands.reduce((x, y) => (y.error < x.error || (y.error === x.error && y.cost < x.cost) ? y : x));
  return { mA: sgnA * pick.p, mB: sgnB * pick.q, u: pick.u, error: pick.error };
}

/**
 * The TWN ternarization rule (Li, Zhang & Liu, "Ternary Weight Networks", arXiv 1605.04711, 2016,
 * eqs. (4)-(6) with the approximation Δ* ≈ 0.7·E|W|), applied per output channel rather than per
 * layer: every row o of a weight matrix W [O x J] (J = C·kh·kw for a conv, the input width for a
 * fully connected layer) gets its own threshold and scale:
 *
 *   Δ_o  = 0.7 · mean_j |W[o,j]|
 *   t    = +1 if W > Δ_o, -1 if W < -Δ_o, 0 if |W| <= Δ_o   (a tie |W| = Δ_o becomes 0, as in TWN)
 *   α_o  = mean of |W[o,j]| over the kept weights (t != 0);  α_o = 0 for an all-zero row
 *
 * so W ≈ α_o · t. Δ is evaluated as 7·Σ|W| / (10·J), one correctly rounded division of exact
 * float64 quantities (for rows short enough that the sum is exact), so a weight that equals 0.7·mean
 * exactly is a tie and is decided the same way on every machine.
 *
 * Used by the zoo (synthetic weights) and by the quantizer for float models that are not already
 * ternary.
 */
import { RtapError } from "../errors.js";

export interface TwnResult {
  /** O·J values in {-1, 0, +1}, row-major like the input. */
  ternary: Int8Array;
  /** α_o per output channel (float32, so α·t is exactly representable as float32). */
  scale: Float32Array;
  /** Fraction of zero ternary weights over the whole matrix. */
  sparsity: number;
}

/** Per-row result of the rule, without materialising the ternary matrix. */
export interface TwnRowStats {
  /** α_o per output channel. */
  scale: Float32Array;
  /** Number of zero ternary weights per output channel. */
  zeros: Int32Array;
  /** Σ_j (α_o t[o,j])² per output channel: the energy of the ternarized row. */
  sumSquares: Float64Array;
}

function rowLength(weights: Float32Array, outChannels: number): number {
  if (!Number.isInteger(outChannels) || outChannels <= 0 || weights.length % outChannels !== 0) {
    throw new RtapError(
      `cannot split ${weights.length} weights into ${outChannels} output channels of equal length`,
      "TWN ternarization",
    );
  }
  return weights.length / outChannels;
}

/** Threshold Δ and scale α of one row [lo, lo+J); returns [Δ, α]. */
function rowThresholdAndScale(w: Float32Array, lo: number, J: number): [number, number] {
  let sumAbs = 0;
  for (let j = lo; j < lo + J; j++) sumAbs += Math.abs(w[j]!);
  if (!Number.isFinite(sumAbs)) {
    throw new RtapError(`output channel ${lo / J} has a non-finite weight (NaN or infinity)`, "TWN ternarization");
  }
  const delta = (7 * sumAbs) / (10 * J);
  let keptSum = 0;
  let kept = 0;
  for (let j = lo; j < lo + J; j++) {
    const a = Math.abs(w[j]!);
    if (a > delta) {
      keptSum += a;
      kept++;
    }
  }
  return [delta, kept === 0 ? 0 : Math.fround(keptSum / kept)];
}

/**
 * Ternarizes `weights` (row-major [outChannels][J]) by the TWN rule, per output channel.
 * Does not modify `weights`.
 */
export function ternarizeTwn(weights: Float32Array, outChannels: number): TwnResult {
  const J = rowLength(weights, outChannels);
  const ternary = new Int8Array(weights.length);
  const scale = new Float32Array(outChannels);
  let zeros = 0;
  for (let o = 0; o < outChannels; o++) {
    const lo = o * J;
    const [delta, alpha] = rowThresholdAndScale(weights, lo, J);
    scale[o] = alpha;
    for (let j = lo; j < lo + J; j++) {
      const v = weights[j]!;
      if (v > delta) ternary[j] = 1;
      else if (v < -delta) ternary[j] = -1;
      else zeros++;
    }
  }
  return { ternary, scale, sparsity: weights.length === 0 ? 0 : zeros / weights.length };
}

/**
 * Same rule, but overwrites `weights` with α_o·t (float32, exactly ±α_o or 0) instead of
 * allocating a ternary copy: the zoo uses it so a 100-million-weight layer is stored once.
 */
export function ternarizeTwnInPlace(weights: Float32Array, outChannels: number): TwnRowStats {
  const J = rowLength(weights, outChannels);
  const scale = new Float32Array(outChannels);
  const zeros = new Int32Array(outChannels);
  const sumSquares = new Float64Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const lo = o * J;
    const [delta, alpha] = rowThresholdAndScale(weights, lo, J);
    scale[o] = alpha;
    let z = 0;
    for (let j = lo; j < lo + J; j++) {
      const v = weights[j]!;
      if (v > delta) weights[j] = alpha;
      else if (v < -delta) weights[j] = -alpha;
      else {
        weights[j] = 0;
        z++;
      }
    }
    zeros[o] = z;
    sumSquares[o] = alpha * alpha * (J - z);
  }
  return { scale, zeros, sumSquares };
}

/**
 * Cost accounting shared by CSE, the compiler and the reports.
 *
 * Unit: one bit-serial addition (or subtraction) whose result is w bits wide costs w bit-steps
 * ("cycles"), every AP row in parallel. Copies and negations are free in both the naive and the
 * compiled count: the first term of a sum is not an addition, and a sign that cannot be absorbed
 * into an add/sub is folded into the consumer (requantization thresholds), see dag.ts.
 */
import { bitWidth, type ExprDag } from "./dag.js";
import type { ColumnRanges, TernaryMatrix } from "./matrix.js";

export interface AdditionCost {
  /** Bit-serial additions/subtractions. */
  additions: number;
  /** Sum of their result widths (bit-steps). */
  cycles: number;
}

/**
 * The naive program: every output row sums its non-zero terms in a running accumulator, in column
 * order. The first term is a copy (free); if it is -x_j the accumulator holds the negated sum and
 * the sign is folded at the output (free), so the running value is v_k = s_1 * sum_{i<=k} w_i x_i
 * where s_1 is the first non-zero weight. Each later term is one addition costing
 * bitsFor(range of v_k). Hence additions = sum over rows of (nnz - 1) for rows with nnz >= 1.
 */
export function naiveCost(matrix: TernaryMatrix, ranges: ColumnRanges): AdditionCost {
  const { rows, cols, data } = matrix;
  let additions = 0;
  let cycles = 0;
  for (let o = 0; o < rows; o++) {
    const base = o * cols;
    let first = 0; // sign of the first non-zero weight, 0 until seen
    let lo = 0;
    let hi = 0;
    for (let j = 0; j < cols; j++) {
      const w = data[base + j]!;
      if (w === 0) continue;
      const started = first !== 0;
      if (!started) first = w;
      if (w === first) {
        lo += ranges.min[j]!;
        hi += ranges.max[j]!;
      } else {
        lo -= ranges.max[j]!;
        hi -= ranges.min[j]!;
      }
      if (started) {
        additions++;
        cycles += bitWidth(lo, hi);
      }
    }
  }
  return { additions, cycles };
}

/** Additions and cycles of a DAG: one addition per internal node, costing its width. */
export function dagCost(dag: ExprDag): AdditionCost {
  let cycles = 0;
  for (let id = dag.inputCount; id < dag.nodeCount; id++) cycles += dag.width[id]!;
  return { additions: dag.nodeCount - dag.inputCount, cycles };
}

export interface LivenessProfile {
  /** Most internal values (partial sums) held at once. */
  peakLiveValues: number;
  /** Most bits held at once by internal values (sum of their widths). */
  peakLiveBits: number;
}

/**
 * Live temporaries under a schedule. A value is live from the step that computes it through the
 * last step that reads it. Inputs are not counted (they are resident in the row anyway). An output
 * value is handed to the output stage (requantization) when computed, so it is counted only while
 * a later step still reads it. The result of step k is counted together with its operands
 * (out-of-place add: a, b and a+b coexist), then operands read for the last time are freed.
 * Without a schedule: the identity order (idSchedule).
 */
export function analyzeLiveness(dag: ExprDag, schedule?: Int32Array): LivenessProfile {
  const n = dag.nodeCount;
  const first = dag.inputCount;
  // no schedule: the identity order (the CSE search measures every plan in it, without an array)
  const steps = schedule ? schedule.length : n - first;
  const lastUse = new Int32Array(n).fill(-1);
  for (let step = 0; step < steps; step++) {
    const id = schedule ? schedule[step]! : first + step;
    lastUse[dag.lhs[id]!] = step;
    lastUse[dag.rhs[id]!] = step;
  }
  let live = 0;
  let bits = 0;
  let peakLiveValues = 0;
  let peakLiveBits = 0;
  for (let step = 0; step < steps; step++) {
    const id = schedule ? schedule[step]! : first + step;
    live++;
    bits += dag.width[id]!;
    if (live > peakLiveValues) peakLiveValues = live;
    if (bits > peakLiveBits) peakLiveBits = bits;
    const a = dag.lhs[id]!;
    const b = dag.rhs[id]!;
    if (a >= first && lastUse[a] === step) {
      live--;
      bits -= dag.width[a]!;
    }
    if (b !== a && b >= first && lastUse[b] === step) {
      live--;
      bits -= dag.width[b]!;
    }
    if (lastUse[id] === -1) {
      // never read again: an output handed off (or dead work, which the verifier rejects)
      live--;
      bits -= dag.width[id]!;
    }
  }
  return { peakLiveValues, peakLiveBits };
}

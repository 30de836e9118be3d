/** Shared helpers for the CSE tests: random matrices, reference W·x, exact equivalence checks. */
import assert from "node:assert/strict";
import { evaluateDag, verifyDag, type ExprDag } from "../../../src/compiler/cse/dag.js";
import type { ColumnRanges, TernaryMatrix } from "../../../src/compiler/cse/matrix.js";
import { Rng } from "../../../src/util/random.js";

/** Random ternary matrix with the given probability of a zero weight. */
export function randomMatrix(rng: Rng, rows: number, cols: number, zeroProbability = 0.42): TernaryMatrix {
  const data = new Int8Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() < zeroProbability ? 0 : rng.bernoulli(0.5) ? 1 : -1;
  return { rows, cols, data };
}

/** y[o][p] = sum_j W[o][j] * x[j][p], computed directly. */
export function referenceProduct(matrix: TernaryMatrix, inputs: readonly Int32Array[]): Int32Array[] {
  const positions = inputs[0]!.length;
  const out: Int32Array[] = [];
  for (let o = 0; o < matrix.rows; o++) {
    const y = new Int32Array(positions);
    for (let j = 0; j < matrix.cols; j++) {
      const w = matrix.data[o * matrix.cols + j]!;
      if (w === 0) continue;
      const x = inputs[j]!;
      for (let p = 0; p < positions; p++) y[p] += w * x[p]!;
    }
    out.push(y);
  }
  return out;
}

/** Random inputs within each column's range, including the range ends. */
export function randomInputs(rng: Rng, ranges: ColumnRanges, positions: number): Int32Array[] {
  const cols: Int32Array[] = [];
  for (let j = 0; j < ranges.min.length; j++) {
    const lo = ranges.min[j]!;
    const hi = ranges.max[j]!;
    const x = new Int32Array(positions);
    for (let p = 0; p < positions; p++) x[p] = p === 0 ? lo : p === 1 ? hi : rng.int(lo, hi);
    cols.push(x);
  }
  return cols;
}

/**
 * Proves the DAG computes exactly W·x: the DAG is linear without constants, so evaluating it on
 * the unit vectors e_j (position p has x_j = [j == p]) must give W itself, column by column.
 */
export function assertComputesMatrix(dag: ExprDag, matrix: TernaryMatrix, schedule?: Int32Array): void {
  const J = matrix.cols;
  const batch = 512;
  for (let j0 = 0; j0 < J; j0 += batch) {
    const width = Math.min(batch, J - j0);
    const inputs: Int32Array[] = [];
    for (let j = 0; j < J; j++) {
      const x = new Int32Array(width);
      if (j >= j0 && j < j0 + width) x[j - j0] = 1;
      inputs.push(x);
    }
    const out = evaluateDag(dag, inputs, schedule);
    for (let o = 0; o < matrix.rows; o++) {
      for (let p = 0; p < width; p++) {
        const want = matrix.data[o * J + j0 + p]!;
        if (out[o]![p] !== want) assert.fail(`output ${o}, column ${j0 + p}: DAG coefficient ${out[o]![p]}, W has ${want}`);
      }
    }
  }
}

export function assertValid(dag: ExprDag, schedule?: Int32Array): void {
  assert.deepEqual(verifyDag(dag, schedule), []);
}

/** Direct equality of the DAG outputs with W·x on the given inputs. */
export function assertEvaluatesLikeReference(dag: ExprDag, matrix: TernaryMatrix, inputs: Int32Array[], schedule?: Int32Array): void {
  const got = evaluateDag(dag, inputs, schedule);
  const want = referenceProduct(matrix, inputs);
  for (let o = 0; o < matrix.rows; o++) assert.deepEqual(got[o], want[o], `output row ${o}`);
}

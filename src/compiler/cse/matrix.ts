/**
 * The input of CSE: one layer's ternary weight matrix W (O x J, row-major, entries in {-1,0,+1})
 * and the exact integer range of every input column x_j. Row o is output channel o; column
 * j = (c, kh, kw) flattened as c*KH*KW + kh*KW + kw (the ONNX [O, C, KH, KW] weight layout).
 */
import { RtapError } from "../../errors.js";
import type { QConvOp } from "../../quantize/qgraph.js";

export interface TernaryMatrix {
  /** Output channels O. */
  readonly rows: number;
  /** Reduction terms J (c * kh * kw). */
  readonly cols: number;
  /** rows * cols entries in {-1, 0, +1}, row-major: entry (o, j) at o * cols + j. */
  readonly data: Int8Array;
}

/** Exact inclusive integer range [min[j], max[j]] of every input column x_j. */
export interface ColumnRanges {
  readonly min: ArrayLike<number>;
  readonly max: ArrayLike<number>;
}

/** Largest magnitude any DAG value may reach: the evaluator works in 32-bit integers. */
export const MAX_SAFE_MAGNITUDE = 0x7fffffff;

/** Every column in [min, max]. */
export function uniformColumnRanges(cols: number, min: number, max: number): ColumnRanges {
  return { min: new Float64Array(cols).fill(min), max: new Float64Array(cols).fill(max) };
}

/** Every column an unsigned `bits`-bit activation code: [0, 2^bits - 1]. */
export function unsignedColumnRanges(cols: number, bits: number): ColumnRanges {
  return uniformColumnRanges(cols, 0, 2 ** bits - 1);
}

/**
 * The ternary matrix of a QGraph conv (or fully connected) op: its weights are already O x
 * (C*KH*KW) row-major in {-1,0,+1}, so this is a view, not a copy.
 */
export function ternaryMatrixOfConv(op: QConvOp): TernaryMatrix {
  const cols = op.inChannels * op.kernel[0] * op.kernel[1];
  const matrix = { rows: op.outChannels, cols, data: op.weights };
  validateTernaryMatrix(matrix, `conv "${op.name}"`);
  return matrix;
}

/** Builds a matrix from nested rows (tests, small examples). */
export function ternaryMatrixFromRows(rows: readonly (readonly number[])[], cols?: number): TernaryMatrix {
  const j = cols ?? (rows.length > 0 ? rows[0]!.length : 0);
  const data = new Int8Array(rows.length * j);
  rows.forEach((r, o) => {
    if (r.length !== j) throw new RtapError(`row ${o} has ${r.length} entries, expected ${j}`, "ternary matrix");
    r.forEach((v, c) => (data[o * j + c] = v));
  });
  const m = { rows: rows.length, cols: j, data };
  validateTernaryMatrix(m);
  return m;
}

/** Throws RtapError naming the first problem of a matrix (shape, entry outside {-1,0,+1}). */
export function validateTernaryMatrix(matrix: TernaryMatrix, where = "ternary matrix"): void {
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(rows) || rows < 1) throw new RtapError(`rows must be a positive integer, got ${rows}`, where);
  if (!Number.isInteger(cols) || cols < 1) throw new RtapError(`cols must be a positive integer, got ${cols}`, where);
  if (data.length !== rows * cols) {
    throw new RtapError(`data has ${data.length} entries, expected rows*cols = ${rows}*${cols} = ${rows * cols}`, where);
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v > 1 || v < -1) {
      throw new RtapError(`entry (row ${Math.floor(i / cols)}, col ${i % cols}) is ${v}; weights must be -1, 0 or +1`, where);
    }
  }
}

/**
 * Throws RtapError when the column ranges do not fit the matrix (length, non-integer, min > max)
 * or when a full row sum could leave 32-bit range (the evaluator and the AP words are 32-bit).
 */
export function validateColumnRanges(ranges: ColumnRanges, cols: number, where = "input ranges"): void {
  if (ranges.min.length !== cols || ranges.max.length !== cols) {
    throw new RtapError(`min/max have ${ranges.min.length}/${ranges.max.length} entries, expected one per column (${cols})`, where);
  }
  let total = 0;
  for (let j = 0; j < cols; j++) {
    const lo = ranges.min[j]!;
    const hi = ranges.max[j]!;
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new RtapError(`column ${j}: range [${lo}, ${hi}] is not an integer interval with min <= max`, where);
    }
    total += Math.max(Math.abs(lo), Math.abs(hi));
  }
  if (total > MAX_SAFE_MAGNITUDE) {
    throw new RtapError(`a row sum may reach magnitude ${total}, beyond 32-bit two's complement; narrow the input ranges`, where);
  }
}

/** Number of non-zero entries. */
export function countNonZeros(matrix: TernaryMatrix): number {
  const data = matrix.data;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) n++;
  return n;
}

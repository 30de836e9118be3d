/**
 * Facts about a conv op's ternary weights that every variant compiling the same graph asks for.
 * Computed once per op and thread (the op objects are shared by the variants of one graph): a
 * ResNet-18 stage-4 matrix has 2.4 M weights, and counting them per variant and unit showed up
 * in the compare's allocation profile (a for-of over a typed array allocates in unoptimized code).
 */
import type { QConvOp } from "../quantize/qgraph.js";

const nonZeroCounts = new WeakMap<QConvOp, number>();

/** Non-zero weights of a conv op. */
export function nonZeroWeights(conv: QConvOp): number {
  let n = nonZeroCounts.get(conv);
  if (n === undefined) {
    n = 0;
    const w = conv.weights;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) n++;
    nonZeroCounts.set(conv, n);
  }
  return n;
}

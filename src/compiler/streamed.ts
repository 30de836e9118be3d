/**
 * The page-streamed reduction: how an interleaved racetrack row reduces a block of a ternary layer
 * with (almost) no shifts.
 *
 * The row shows one page per bank at a time (64 columns of 256 on the default RTM-AP), so a
 * reduction DAG whose live values spread over many pages pays a domain-wall shift whenever it
 * touches another page. CSE's shared patterns are such values: they are read by many outputs far
 * apart in the schedule (measured on ResNet-18, see docs/compiler.md). This plan keeps the working
 * set inside the visible columns instead:
 *  - one output at a time; its non-zero terms are read in column order, the order the allocator
 *    lays the codes on the input bank's pages, so the bank sweeps its pages once per output, and
 *    every other output sweeps back (no return trip; the first sweeps down from where the loads
 *    left the bank). (With the allocation pass off the codes are
 *    scattered over the pages and the same order makes the bank jump: that is the pass's cost.);
 *  - terms are summed by a "binary counter" tree: two leaves of one page are added, and equal
 *    levels are joined as soon as they exist. The tree is balanced (narrow-first: every addition
 *    costs about the width of its level) and holds one partial sum per level (O(log terms) values,
 *    which fit the hot pages);
 *  - a leaf left alone at the end of its page (its partner is on the next page, which the bank can
 *    only show after moving) is added to the newest partial sum instead, so no leaf is ever staged.
 * There is no sharing between outputs: on this row it costs more in shifts than it saves in passes
 * (docs/compiler.md, "page-streamed reduction").
 */
import { DagBuilder, OP_ADD, OP_SUB, type ExprDag } from "./cse/dag.js";
import type { ColumnRanges, TernaryMatrix } from "./cse/matrix.js";

interface Item {
  node: number;
  /** The item's value is sign x node. */
  sign: number;
  level: number;
}

/**
 * Per-output binary-counter trees over `matrix` (rows = outputs, cols = leaves); `page[j]` is leaf
 * j's page. Rows alternate the sweep direction: even rows descending column order (the loads
 * leave the bank at the last page), odd rows ascending. Outputs as in ExprDag: the sign of the root, 0 for an all-zero row.
 */
export function streamedTrees(matrix: TernaryMatrix, ranges: ColumnRanges, page: Int32Array): ExprDag {
  const { rows, cols, data } = matrix;
  const b = new DagBuilder(ranges, cols, Math.max(16, rows * 4));
  const outNode = new Int32Array(rows).fill(-1);
  const outSign = new Int8Array(rows);
  const join = (x: Item, y: Item, level: number): Item => ({ node: b.push(x.sign === y.sign ? OP_ADD : OP_SUB, x.node, y.node), sign: x.sign, level });
  for (let r = 0; r < rows; r++) {
    const stack: Item[] = [];
    const push = (it: Item): void => {
      stack.push(it);
      while (stack.length >= 2 && stack[stack.length - 1]!.level === stack[stack.length - 2]!.level) {
        const y = stack.pop()!, x = stack.pop()!;
        stack.push(join(x, y, x.level + 1));
      }
    };
    let pending: { j: number; sign: number } | null = null;
    for (let k = 0; k < cols; k++) {
      const j = r % 2 === 1 ? k : cols - 1 - k;
      const w = data[r * cols + j]!;
      if (w === 0) continue;
      if (pending === null) {
        pending = { j, sign: w };
        continue;
      }
      if (page[pending.j] === page[j]) {
        push(join({ node: pending.j, sign: pending.sign, level: 0 }, { node: j, sign: w, level: 0 }, 1));
        pending = null;
        continue;
      }
      // the pending leaf's partner is on another page: fold it into the newest partial sum
      if (stack.length) {
        const top = stack.pop()!;
        push(join(top, { node: pending.j, sign: pending.sign, level: 0 }, top.level));
      } else push({ node: pending.j, sign: pending.sign, level: 1 });
      pending = { j, sign: w };
    }
    if (pending !== null) {
      if (stack.length) {
        const top = stack.pop()!;
        stack.push(join(top, { node: pending.j, sign: pending.sign, level: 0 }, top.level));
      } else stack.push({ node: pending.j, sign: pending.sign, level: 0 });
    }
    // join what is left, newest first (the narrow ones)
    while (stack.length > 1) {
      const y = stack.pop()!, x = stack.pop()!;
      stack.push(join(x, y, Math.max(x.level, y.level) + 1));
    }
    const root = stack[0];
    if (root) {
      outNode[r] = root.node;
      outSign[r] = root.sign;
    }
  }
  return b.finish(outNode, outSign);
}

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
import { TypedScratch } from "./scratch.js";

/**
 * Storage streamedTrees may reuse from call to call (the lowering calls it per block, ~10^4
 * times per variant): its DAG builder and its stack. A DAG built in it is a view, valid until the
 * next call with the same scratch.
 */
export class StreamedScratch {
  builder: DagBuilder | undefined;
  readonly arrays = new TypedScratch();
}

/**
 * Per-output binary-counter trees over `matrix` (rows = outputs, cols = leaves); `page[j]` is leaf
 * j's page. Rows alternate the sweep direction: even rows descending column order (the loads
 * leave the bank at the last page), odd rows ascending. Outputs as in ExprDag: the sign of the
 * root, 0 for an all-zero row. With `scratch`, the DAG lives in its storage (a view, valid until
 * the next call with it).
 *
 * The partial sums of a row are a stack of (node, sign, level) items in typed arrays: an object
 * per item and a closure per row were the lowering's largest garbage on interleaved rows
 * (~10^4 blocks per ResNet-18 variant).
 */
export function streamedTrees(matrix: TernaryMatrix, ranges: ColumnRanges, page: Int32Array, scratch?: StreamedScratch): ExprDag {
  const { rows, cols, data } = matrix;
  const hint = Math.max(16, rows * 4);
  let b: DagBuilder;
  if (!scratch) b = new DagBuilder(ranges, cols, hint);
  else if (scratch.builder) (b = scratch.builder).reset(ranges, cols, hint);
  else b = scratch.builder = new DagBuilder(ranges, cols, hint);
  const outNode = (scratch ? scratch.arrays.int32(0, rows) : new Int32Array(rows)).fill(-1);
  const outSign = (scratch ? scratch.arrays.int8(0, rows) : new Int8Array(rows)).fill(0);
  // the stack: item k's value is sign[k] x node[k] (at most one item per leaf; written before read)
  const node = scratch ? scratch.arrays.int32(1, cols + 1) : new Int32Array(cols + 1);
  const sign = scratch ? scratch.arrays.int8(1, cols + 1) : new Int8Array(cols + 1);
  const level = scratch ? scratch.arrays.int32(2, cols + 1) : new Int32Array(cols + 1);
  let sp = 0;
  /** Pushes an item without joining. */
  const put = (n: number, s: number, l: number): void => {
    node[sp] = n;
    sign[sp] = s;
    level[sp] = l;
    sp++;
  };
  /** Pushes an item, then joins equal levels on top (x below y: x + y or x - y, x's sign). */
  const push = (n: number, s: number, l: number): void => {
    put(n, s, l);
    while (sp >= 2 && level[sp - 1] === level[sp - 2]) {
      const y = sp - 1, x = sp - 2;
      const joined = b.push(sign[x] === sign[y] ? OP_ADD : OP_SUB, node[x]!, node[y]!);
      const l2 = level[x]! + 1;
      sp -= 2;
      put(joined, sign[x]!, l2);
    }
  };
  for (let r = 0; r < rows; r++) {
    sp = 0;
    let pendingJ = -1, pendingSign = 0;
    for (let k = 0; k < cols; k++) {
      const j = r % 2 === 1 ? k : cols - 1 - k;
      const w = data[r * cols + j]!;
      if (w === 0) continue;
      if (pendingJ < 0) {
        pendingJ = j;
        pendingSign = w;
        continue;
      }
      if (page[pendingJ] === page[j]) {
        push(b.push(pendingSign === w ? OP_ADD : OP_SUB, pendingJ, j), pendingSign, 1);
        pendingJ = -1;
        continue;
      }
      // the pending leaf's partner is on another page: fold it into the newest partial sum
      if (sp > 0) {
        const t = --sp;
        push(b.push(sign[t] === pendingSign ? OP_ADD : OP_SUB, node[t]!, pendingJ), sign[t]!, level[t]!);
      } else push(pendingJ, pendingSign, 1);
      pendingJ = j;
      pendingSign = w;
    }
    if (pendingJ >= 0) {
      if (sp > 0) {
        const t = --sp;
        put(b.push(sign[t] === pendingSign ? OP_ADD : OP_SUB, node[t]!, pendingJ), sign[t]!, level[t]!);
      } else put(pendingJ, pendingSign, 0);
    }
    // join what is left, newest first (the narrow ones)
    while (sp > 1) {
      const y = sp - 1, x = sp - 2;
      const joined = b.push(sign[x] === sign[y] ? OP_ADD : OP_SUB, node[x]!, node[y]!);
      const l2 = Math.max(level[x]!, level[y]!) + 1;
      sp -= 2;
      put(joined, sign[x]!, l2);
    }
    if (sp > 0) {
      outNode[r] = node[0]!;
      outSign[r] = sign[0]!;
    }
  }
  return scratch ? b.view(outNode, outSign) : b.finish(outNode, outSign);
}

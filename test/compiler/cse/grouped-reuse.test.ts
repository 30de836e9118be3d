/**
 * The plan search measures plans in reused storage (buildGrouped with `reuse`): a DAG built there
 * and copied out must equal the same plan built in storage of its own, whatever was built in the
 * pool before it (other group sizes, row blocks, chunk budgets and matrix shapes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyDag, type ExprDag } from "../../../src/compiler/cse/dag.js";
import { buildGrouped, canonicalRows, type CsePlan } from "../../../src/compiler/cse/grouped.js";
import { unsignedColumnRanges } from "../../../src/compiler/cse/matrix.js";
import { Rng } from "../../../src/util/random.js";
import { randomMatrix } from "./helpers.js";

function sameDag(a: ExprDag, b: ExprDag, what: string): void {
  assert.equal(a.inputCount, b.inputCount, what);
  assert.equal(a.nodeCount, b.nodeCount, what);
  for (const k of ["op", "lhs", "rhs", "min", "max", "width", "outputNode", "outputSign"] as const) assert.deepEqual(Array.from(a[k]), Array.from(b[k]), `${what}: ${k}`);
}

test("plans built in the reused storage equal plans built alone, in any order", () => {
  const rng = new Rng(5);
  const shapes: [number, number][] = [[1, 40], [2, 771], [3, 64], [48, 200], [17, 9]];
  const plans: CsePlan[] = [
    { groupSize: 1, rowBlockSize: Infinity, chunkPatternBudget: Infinity },
    { groupSize: 3, rowBlockSize: Infinity, chunkPatternBudget: Infinity },
    { groupSize: 5, rowBlockSize: 4, chunkPatternBudget: 6 },
    { groupSize: 2, rowBlockSize: 1, chunkPatternBudget: 0 },
    { groupSize: 4, rowBlockSize: 8, chunkPatternBudget: 20 },
  ];
  for (let round = 0; round < 3; round++) {
    for (const [rows, cols] of shapes) {
      const m = randomMatrix(rng, rows, cols, 0.3 + 0.3 * rng.next());
      const ranges = unsignedColumnRanges(cols, 4);
      const rowSet = canonicalRows(rows, cols, m.data);
      for (const plan of plans.slice().sort(() => rng.next() - 0.5)) {
        const alone = buildGrouped(rowSet, ranges, { ...plan, rowBlockSize: Math.min(plan.rowBlockSize, rowSet.count || 1) });
        const pooled = buildGrouped(rowSet, ranges, { ...plan, rowBlockSize: Math.min(plan.rowBlockSize, rowSet.count || 1) }, undefined, true);
        const kept = copyDag(pooled.dag);
        sameDag(kept, alone.dag, `${rows}x${cols} g=${plan.groupSize}`);
        assert.deepEqual({ ...pooled, dag: null }, { ...alone, dag: null });
        // a later build in the pool must not change the copy
        buildGrouped(rowSet, ranges, { groupSize: 2, rowBlockSize: 1, chunkPatternBudget: Infinity }, undefined, true);
        sameDag(kept, alone.dag, `${rows}x${cols} g=${plan.groupSize}, after another build`);
      }
    }
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeLiveness, dagCost, naiveCost } from "../../../src/compiler/cse/cost.js";
import { DagBuilder, idSchedule, OP_ADD, OP_SUB } from "../../../src/compiler/cse/dag.js";
import { ternaryMatrixFromRows, unsignedColumnRanges } from "../../../src/compiler/cse/matrix.js";

test("naive cost: running accumulator in column order, each addition costs its result width", () => {
  const m = ternaryMatrixFromRows([
    [1, -1, 1, 0], // x0 | x0-x1 in [-15,15]: 5 | +x2 in [-15,30]: 6  -> 2 adds, 11 cycles
    [-1, -1, 0, 1], // sign folded: x0 | x0+x1 in [0,30]: 5 | -x3 in [-15,30]: 6  -> 2 adds, 11
    [0, 0, 0, 0], // constant 0: nothing
    [0, 0, 1, 0], // a copy: nothing
    [1, 1, 1, 1], // 5 + 6 ([0,45]) + 6 ([0,60]) -> 3 adds, 17
  ]);
  assert.deepEqual(naiveCost(m, unsignedColumnRanges(4, 4)), { additions: 7, cycles: 39 });
  // 8-bit inputs: [0,510] 9 bits, then [0,765] 10 bits
  const first = ternaryMatrixFromRows([[1, 1, 1]]);
  assert.deepEqual(naiveCost(first, unsignedColumnRanges(3, 8)), { additions: 2, cycles: 19 });
  // signed per-column ranges: x0 in [-8,7], x1 in [0,3]: x0 - x1 in [-11, 7] -> 5 bits
  const signed = ternaryMatrixFromRows([[1, -1]]);
  assert.deepEqual(naiveCost(signed, { min: [-8, 0], max: [7, 3] }), { additions: 1, cycles: 5 });
});

test("dagCost counts one addition per internal node at its width", () => {
  const b = new DagBuilder(unsignedColumnRanges(3, 4), 3);
  const s = b.push(OP_ADD, 0, 1); // 5 bits
  const t = b.push(OP_SUB, s, 2); // [-15, 30]: 6 bits
  const dag = b.finish(Int32Array.from([t]), Int8Array.from([1]));
  assert.deepEqual(dagCost(dag), { additions: 2, cycles: 11 });
});

test("analyzeLiveness: values live from definition to last read; outputs hand off; order matters", () => {
  const b = new DagBuilder(unsignedColumnRanges(4, 4), 4);
  const n4 = b.push(OP_ADD, 0, 1); // [0,30] 5b
  const n5 = b.push(OP_ADD, n4, 2); // output, [0,45] 6b
  const n6 = b.push(OP_ADD, 2, 3); // [0,30] 5b
  const n7 = b.push(OP_ADD, n6, 0); // output, [0,45] 6b
  const dag = b.finish(Int32Array.from([n5, n7]), Int8Array.from([1, 1]));
  // n4, then n5 (n4 freed, n5 handed off), then n6, n7: never more than 2 values (n4 + n5: 11 bits)
  assert.deepEqual(analyzeLiveness(dag, Int32Array.from([n4, n5, n6, n7])), { peakLiveValues: 2, peakLiveBits: 11 });
  // n4 and n6 first: n4, n6, n5 coexist (5 + 5 + 6 bits)
  assert.deepEqual(analyzeLiveness(dag, Int32Array.from([n4, n6, n5, n7])), { peakLiveValues: 3, peakLiveBits: 16 });
  // no schedule: the identity order
  assert.deepEqual(analyzeLiveness(dag), analyzeLiveness(dag, idSchedule(dag)));
  assert.deepEqual(analyzeLiveness(dag), { peakLiveValues: 2, peakLiveBits: 11 });
});

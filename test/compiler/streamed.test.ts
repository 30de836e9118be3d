/**
 * The page-streamed reduction (src/compiler/streamed.ts) in reused storage: with a StreamedScratch
 * carried over many blocks of different sizes (larger ones first, so stale entries lie beyond
 * every later block), each DAG equals the one built in fresh storage, array for array, and
 * computes its matrix exactly. The lowering builds ~10^4 such DAGs per ResNet-18 variant in one
 * scratch, so any leak of a previous block into the next would change compiled programs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ExprDag } from "../../src/compiler/cse/dag.js";
import { StreamedScratch, streamedTrees } from "../../src/compiler/streamed.js";
import { Rng } from "../../src/util/random.js";
import { assertComputesMatrix, randomMatrix } from "./cse/helpers.js";

const plain = (d: ExprDag): Record<string, unknown> => ({
  inputCount: d.inputCount, nodeCount: d.nodeCount,
  op: Array.from(d.op), lhs: Array.from(d.lhs), rhs: Array.from(d.rhs), min: Array.from(d.min), max: Array.from(d.max), width: Array.from(d.width),
  outputNode: Array.from(d.outputNode), outputSign: Array.from(d.outputSign),
});

test("streamedTrees in a reused scratch equals streamedTrees in fresh storage, block after block", () => {
  const rng = new Rng(11);
  const scratch = new StreamedScratch();
  const shapes = [[40, 300], [3, 9], [64, 27], [1, 1], [17, 144], [5, 0], [8, 64], [2, 2]] as const;
  for (let round = 0; round < 3; round++) {
    for (const [rows, cols] of shapes) {
      const matrix = randomMatrix(rng, rows, cols, round === 2 ? 0.9 : 0.4);
      const ranges = { min: new Float64Array(cols), max: new Float64Array(cols) };
      for (let j = 0; j < cols; j++) {
        ranges.min[j] = rng.bernoulli(0.5) ? -rng.int(0, 8) : 0;
        ranges.max[j] = rng.int(1, 15);
      }
      const page = Int32Array.from({ length: cols }, (_, j) => Math.floor(j / (1 + rng.int(0, 9))));
      const fresh = streamedTrees(matrix, ranges, page);
      const reused = streamedTrees(matrix, ranges, page, scratch);
      assert.deepEqual(plain(reused), plain(fresh), `${rows}x${cols}, round ${round}`);
      assert.equal(reused.outputNode.length, rows);
      assertComputesMatrix(reused, matrix);
    }
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeLiveness, dagCost, naiveCost } from "../../../src/compiler/cse/cost.js";
import { evaluateDag, OP_ADD } from "../../../src/compiler/cse/dag.js";
import { eliminateCommonSubexpressions, type CseOptions } from "../../../src/compiler/cse/eliminate.js";
import { ternaryMatrixFromRows, ternaryMatrixOfConv, uniformColumnRanges, unsignedColumnRanges, type ColumnRanges, type TernaryMatrix } from "../../../src/compiler/cse/matrix.js";
import { RtapError } from "../../../src/errors.js";
import { Rng } from "../../../src/util/random.js";
import { assertComputesMatrix, assertEvaluatesLikeReference, assertValid, randomInputs, randomMatrix, referenceProduct } from "./helpers.js";

function checkExact(matrix: TernaryMatrix, ranges: ColumnRanges, options: CseOptions, rng: Rng): ReturnType<typeof eliminateCommonSubexpressions> {
  const r = eliminateCommonSubexpressions(matrix, ranges, options);
  assertValid(r.dag, r.schedule);
  assertComputesMatrix(r.dag, matrix, r.schedule);
  assertEvaluatesLikeReference(r.dag, matrix, randomInputs(rng, ranges, 17), r.schedule);
  return r;
}

test("DAG equals W·x exactly for random matrices of many shapes and every group size", () => {
  const rng = new Rng(11);
  const shapes: [number, number][] = [[1, 1], [1, 9], [9, 1], [1, 40], [40, 1], [2, 2], [3, 7], [7, 3], [16, 27], [33, 64], [64, 147], [70, 50]];
  for (const [rows, cols] of shapes) {
    const m = randomMatrix(rng, rows, cols, rng.next() * 0.7);
    for (const groupSize of ["auto", 1, 2, 3, 5, 8] as const) {
      checkExact(m, unsignedColumnRanges(cols, 4), { groupSize }, rng);
    }
    // per-column ranges, signed and unsigned, of different widths (e.g. 8-bit pixels)
    const min: number[] = [];
    const max: number[] = [];
    for (let j = 0; j < cols; j++) {
      const signed = rng.bernoulli(0.3);
      const bits = rng.int(1, 8);
      min.push(signed ? -(2 ** (bits - 1)) : 0);
      max.push(signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1);
    }
    checkExact(m, { min, max }, {}, rng);
    checkExact(m, { min, max }, { groupSize: 3 }, rng);
  }
});

test("DAG equals W·x exhaustively over every input of tiny shapes", () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 30; trial++) {
    const rows = rng.int(1, 5);
    const cols = rng.int(1, 4);
    const m = randomMatrix(rng, rows, cols, 0.3);
    const ranges: ColumnRanges = { min: [], max: [] };
    const lo: number[] = [];
    const hi: number[] = [];
    for (let j = 0; j < cols; j++) {
      const a = rng.int(-4, 3);
      lo.push(a);
      hi.push(a + rng.int(0, 4));
    }
    Object.assign(ranges, { min: lo, max: hi });
    // every combination of inputs, one per position
    const sizes = lo.map((a, j) => hi[j]! - a + 1);
    const total = sizes.reduce((p, s) => p * s, 1);
    const inputs = lo.map(() => new Int32Array(total));
    for (let p = 0; p < total; p++) {
      let rest = p;
      for (let j = 0; j < cols; j++) {
        inputs[j]![p] = lo[j]! + (rest % sizes[j]!);
        rest = Math.floor(rest / sizes[j]!);
      }
    }
    for (const groupSize of [1, 2, 3, 4] as const) {
      const r = eliminateCommonSubexpressions(m, ranges, { groupSize });
      assertValid(r.dag, r.schedule);
      const got = evaluateDag(r.dag, inputs, r.schedule);
      const want = referenceProduct(m, inputs);
      for (let o = 0; o < rows; o++) {
        assert.deepEqual(got[o], want[o]);
        // every value stays inside its proven range (output ranges are exact: ends are attained)
        const node = r.dag.outputNode[o]!;
        if (node >= 0) {
          const s = r.dag.outputSign[o]!;
          let min = Infinity;
          let max = -Infinity;
          for (const v of got[o]!) {
            min = Math.min(min, s * v + 0); // + 0 turns -0 into 0
            max = Math.max(max, s * v + 0);
          }
          assert.deepEqual([min, max], [r.dag.min[node], r.dag.max[node]]);
        }
      }
    }
  }
});

test("zero rows give constant 0, duplicate and negated rows reuse one value", () => {
  const m = ternaryMatrixFromRows([
    [1, -1, 0, 1, 1, -1],
    [0, 0, 0, 0, 0, 0],
    [-1, 1, 0, -1, -1, 1],
    [1, -1, 0, 1, 1, -1],
    [0, 0, 1, 0, 0, 0],
    [0, 0, -1, 0, 0, 0],
  ]);
  const r = checkExact(m, unsignedColumnRanges(6, 4), {}, new Rng(1));
  const { outputNode, outputSign } = r.dag;
  assert.deepEqual([outputNode[1], outputSign[1]], [-1, 0]);
  assert.equal(outputNode[0], outputNode[2]);
  assert.equal(outputNode[0], outputNode[3]);
  assert.equal(outputSign[0], -outputSign[2]!);
  assert.equal(outputSign[0], outputSign[3]);
  assert.deepEqual([outputNode[4], outputSign[4], outputNode[5], outputSign[5]], [2, 1, 2, -1]); // single terms are leaves
  assert.equal(r.stats.zeroRows, 1);
  assert.equal(r.stats.duplicateRows, 3); // rows 2, 3 and 5
  // the one row of 5 terms is computed once: 4 additions for everything
  assert.equal(r.stats.compiled.additions, 4);
  const empty = eliminateCommonSubexpressions({ rows: 3, cols: 4, data: new Int8Array(12) }, unsignedColumnRanges(4, 4), { maxLiveTemporaries: 2 });
  assert.deepEqual([empty.dag.nodeCount, Array.from(empty.dag.outputSign), empty.stats.compiled.cycles, empty.stats.ratioCycles], [4, [0, 0, 0], 0, 1]);
});

test("a shared pair is computed once and reused by every row that has it (or its negation)", () => {
  // x0 + x1 appears in all four rows (negated in row 3); g = 2 makes it one pattern.
  const m = ternaryMatrixFromRows([
    [1, 1, 1, 0],
    [1, 1, 0, 1],
    [1, 1, -1, -1],
    [-1, -1, 1, 0],
  ]);
  const r = checkExact(m, unsignedColumnRanges(4, 4), { groupSize: 2 }, new Rng(2));
  const pairs = [];
  for (let id = r.dag.inputCount; id < r.dag.nodeCount; id++) {
    if (r.dag.op[id] === OP_ADD && r.dag.lhs[id] === 0 && r.dag.rhs[id] === 1) pairs.push(id);
  }
  assert.equal(pairs.length, 1);
  // naive: 2 + 2 + 3 + 2 = 9 additions; shared: x0+x1, x2+x3 (row 3's group) + one per row = 6
  assert.equal(r.stats.naive.additions, 9);
  assert.equal(r.stats.compiled.additions, 6);
});

test("stats are consistent with the DAG, the naive formula and the schedule", () => {
  const rng = new Rng(3);
  const m = randomMatrix(rng, 48, 90);
  const ranges = unsignedColumnRanges(90, 4);
  const r = eliminateCommonSubexpressions(m, ranges);
  const s = r.stats;
  assert.deepEqual(s.compiled, dagCost(r.dag));
  assert.deepEqual(s.naive, naiveCost(m, ranges));
  assert.equal(s.sharing.additions + s.reduction.additions, s.compiled.additions);
  assert.equal(s.sharing.cycles + s.reduction.cycles, s.compiled.cycles);
  assert.equal(s.ratioCycles, s.naive.cycles / s.compiled.cycles);
  assert.equal(s.ratioAdditions, s.naive.additions / s.compiled.additions);
  assert.deepEqual({ peakLiveValues: s.peakLiveValues, peakLiveBits: s.peakLiveBits }, analyzeLiveness(r.dag, r.schedule));
  assert.ok(s.candidates.some((c) => c.groupSize === s.plan.groupSize && c.cycles === s.compiled.cycles));
  assert.ok(s.candidates.every((c) => c.cycles >= s.compiled.cycles));
  let nnz = 0;
  for (const v of m.data) if (v !== 0) nnz++;
  assert.equal(s.nonZeros, nnz);
  assert.ok(s.ratioCycles > 1.5, `ratio ${s.ratioCycles}`);
});

test("the local group-size search finds the exhaustive optimum on TWN-like matrices", () => {
  const rng = new Rng(8);
  for (const [rows, cols] of [[64, 147], [128, 64], [96, 300]] as const) {
    const m = randomMatrix(rng, rows, cols);
    const ranges = unsignedColumnRanges(cols, 4);
    const local = eliminateCommonSubexpressions(m, ranges);
    const all = eliminateCommonSubexpressions(m, ranges, { exhaustiveSearch: true });
    assert.equal(local.stats.compiled.cycles, all.stats.compiled.cycles, `${rows}x${cols}`);
    assert.ok(all.stats.candidates.length >= 8);
  }
});

test("deterministic: same matrix and options give the same DAG", () => {
  const m = randomMatrix(new Rng(21), 40, 120);
  const ranges = unsignedColumnRanges(120, 4);
  for (const options of [{}, { maxLiveTemporaries: 40 }] as CseOptions[]) {
    const a = eliminateCommonSubexpressions(m, ranges, options);
    const b = eliminateCommonSubexpressions(m, ranges, options);
    assert.deepEqual(a.dag, b.dag);
    assert.deepEqual(a.schedule, b.schedule);
    assert.deepEqual(a.stats, b.stats);
  }
});

test("maxLiveTemporaries and maxLiveBits bound the live values of the schedule, at some cost", () => {
  const rng = new Rng(4);
  const m = randomMatrix(rng, 64, 200);
  const ranges = unsignedColumnRanges(200, 4);
  const free = eliminateCommonSubexpressions(m, ranges);
  for (const bound of [2, 3, 8, 30, 100]) {
    const r = checkExact(m, ranges, { maxLiveTemporaries: bound }, rng);
    const live = analyzeLiveness(r.dag, r.schedule);
    assert.ok(live.peakLiveValues <= bound, `bound ${bound}: peak ${live.peakLiveValues}`);
    assert.equal(r.stats.peakLiveValues, live.peakLiveValues);
    assert.ok(r.stats.compiled.cycles >= free.stats.compiled.cycles);
  }
  for (const bits of [64, 300, 1000]) {
    const r = checkExact(m, ranges, { maxLiveBits: bits }, rng);
    assert.ok(analyzeLiveness(r.dag, r.schedule).peakLiveBits <= bits, `bits ${bits}`);
  }
  const both = checkExact(m, ranges, { maxLiveTemporaries: 20, maxLiveBits: 200 }, rng);
  assert.ok(both.stats.peakLiveValues <= 20 && both.stats.peakLiveBits <= 200);
  // with no bound the unbounded plan is feasible for any bound at least its peak
  const loose = eliminateCommonSubexpressions(m, ranges, { maxLiveTemporaries: free.stats.peakLiveValues });
  assert.equal(loose.stats.compiled.cycles, free.stats.compiled.cycles);
});

test("user errors are RtapErrors naming the problem", () => {
  const m = ternaryMatrixFromRows([[1, 0, -1]]);
  const r4 = unsignedColumnRanges(3, 4);
  const throwsRtap = (f: () => unknown, pattern: RegExp): void => {
    assert.throws(f, (e: unknown) => e instanceof RtapError && pattern.test(e.message));
  };
  throwsRtap(() => eliminateCommonSubexpressions({ rows: 1, cols: 3, data: Int8Array.from([1, 2, 0]) }, r4, { where: 'layer "x"' }), /layer "x".*col 1.*-1, 0 or \+1/);
  throwsRtap(() => eliminateCommonSubexpressions({ rows: 2, cols: 3, data: new Int8Array(3) }, r4), /expected rows\*cols/);
  throwsRtap(() => eliminateCommonSubexpressions(m, unsignedColumnRanges(2, 4)), /one per column/);
  throwsRtap(() => eliminateCommonSubexpressions(m, { min: [0, 5, 0], max: [1, 4, 1] }), /column 1/);
  throwsRtap(() => eliminateCommonSubexpressions(m, uniformColumnRanges(3, 0, 2 ** 30)), /32-bit/);
  throwsRtap(() => eliminateCommonSubexpressions(m, r4, { groupSize: 0 }), /groupSize/);
  throwsRtap(() => eliminateCommonSubexpressions(m, r4, { maxLiveTemporaries: 1 }), /maxLiveTemporaries/);
  throwsRtap(() => eliminateCommonSubexpressions(ternaryMatrixFromRows([[1, 1, 1, 1]]), r4.min.length === 3 ? unsignedColumnRanges(4, 4) : r4, { maxLiveBits: 4 }), /no CSE schedule fits.*needs/);
});

test("ternaryMatrixOfConv views a QGraph conv's weights as the O x (C*KH*KW) matrix", () => {
  const weights = Int8Array.from([1, 0, -1, 1, 0, 0, 1, -1]); // O=2, C=1, 2x2 kernel
  const m = ternaryMatrixOfConv({
    kind: "conv", name: "c", origin: [], output: "y", input: "x", outChannels: 2, inChannels: 1,
    kernel: [2, 2], stride: [1, 1], pads: [0, 0, 0, 0], weights, fullyConnected: false,
  });
  assert.deepEqual([m.rows, m.cols], [2, 4]);
  assert.equal(m.data, weights);
  assert.throws(() => ternaryMatrixOfConv({
    kind: "conv", name: "bad", origin: [], output: "y", input: "x", outChannels: 3, inChannels: 1,
    kernel: [2, 2], stride: [1, 1], pads: [0, 0, 0, 0], weights, fullyConnected: false,
  }), /conv "bad"/);
});

test("very wide rows with mixed column widths (deep, uneven trees) stay exact", () => {
  const rng = new Rng(17);
  const cols = 3000;
  const m = randomMatrix(rng, 3, cols, 0.1);
  const min: number[] = [];
  const max: number[] = [];
  for (let j = 0; j < cols; j++) {
    min.push(j % 3 === 0 ? -(2 ** (j % 15)) : 0);
    max.push(2 ** (j % 16));
  }
  for (const options of [{}, { groupSize: 1 }, { maxLiveTemporaries: 6 }] as CseOptions[]) {
    const r = checkExact(m, { min, max }, options, rng);
    assert.ok(r.stats.compiled.cycles < r.stats.naive.cycles);
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { bitWidth, DagBuilder, evaluateDag, idSchedule, OP_ADD, OP_SUB, verifyDag, type ExprDag } from "../../../src/compiler/cse/dag.js";
import { uniformColumnRanges, unsignedColumnRanges } from "../../../src/compiler/cse/matrix.js";
import { bitsFor } from "../../../src/quantize/qgraph.js";
import { formatDag } from "../../../src/compiler/cse/format.js";

test("bitWidth agrees with qgraph bitsFor on every small range and at every power-of-two edge", () => {
  for (let lo = -140; lo <= 140; lo++) for (let hi = lo; hi <= 140; hi++) assert.equal(bitWidth(lo, hi), bitsFor(lo, hi), `[${lo}, ${hi}]`);
  for (let k = 1; k <= 31; k++) {
    for (const v of [2 ** k - 1, 2 ** k, 2 ** k + 1]) {
      if (v > 0x7fffffff) continue;
      assert.equal(bitWidth(0, v), bitsFor(0, v), `[0, ${v}]`);
      assert.equal(bitWidth(-v, 0), bitsFor(-v, 0), `[-${v}, 0]`);
      assert.equal(bitWidth(-v, v), bitsFor(-v, v), `[-${v}, ${v}]`);
    }
  }
});

test("exact ranges and widths of sums of 4-bit inputs", () => {
  const b = new DagBuilder(unsignedColumnRanges(3, 4), 3);
  const sum = b.push(OP_ADD, 0, 1);
  assert.deepEqual([b.min(sum), b.max(sum), b.width(sum)], [0, 30, 5]); // x_a + x_b: 5 bits unsigned
  const diff = b.push(OP_SUB, 0, 1);
  assert.deepEqual([b.min(diff), b.max(diff), b.width(diff)], [-15, 15, 5]); // x_a - x_b: 5 bits signed
  const three = b.push(OP_ADD, sum, 2);
  assert.deepEqual([b.min(three), b.max(three), b.width(three)], [0, 45, 6]);
  const mixed = b.push(OP_SUB, diff, 2); // x_a - x_b - x_c
  assert.deepEqual([b.min(mixed), b.max(mixed), b.width(mixed)], [-30, 15, 6]);
  const negPair = b.push(OP_SUB, diff, sum); // (a - b) - (a + b) = -2b: interval arithmetic, not symbolic
  assert.deepEqual([b.min(negPair), b.max(negPair), b.width(negPair)], [-45, 15, 7]);
  assert.equal(b.width(0), 4);
});

test("signed and per-column leaf ranges", () => {
  const b = new DagBuilder({ min: [-8, 0, -128], max: [7, 255, 127] }, 3);
  assert.deepEqual([b.width(0), b.width(1), b.width(2)], [4, 8, 8]);
  const s = b.push(OP_ADD, 0, 1);
  assert.deepEqual([b.min(s), b.max(s), b.width(s)], [-8, 262, 10]);
  const d = b.push(OP_SUB, 2, 0);
  assert.deepEqual([b.min(d), b.max(d), b.width(d)], [-135, 135, 9]);
});

function smallDag(): ExprDag {
  // y0 = x0 + x1, y1 = -(x0 + x1 - x2), y2 = 0, y3 = x2
  const b = new DagBuilder(unsignedColumnRanges(3, 4), 3);
  const s = b.push(OP_ADD, 0, 1);
  const t = b.push(OP_SUB, s, 2);
  return b.finish(Int32Array.from([s, t, -1, 2]), Int8Array.from([1, -1, 0, 1]));
}

test("evaluateDag computes the outputs, signs and constant zero rows on many positions", () => {
  const dag = smallDag();
  const x = [Int32Array.from([0, 15, 3, 7]), Int32Array.from([0, 15, 9, 1]), Int32Array.from([15, 0, 4, 2])];
  const y = evaluateDag(dag, x);
  assert.deepEqual(y.map((a) => Array.from(a)), [
    [0, 30, 12, 8],
    [15, -30, -8, -6],
    [0, 0, 0, 0],
    [15, 0, 4, 2],
  ]);
  assert.deepEqual(verifyDag(dag, idSchedule(dag)), []);
});

test("verifyDag reports forward references, wrong ranges, dead nodes and bad schedules", () => {
  const good = smallDag();
  const mutate = (f: (d: { -readonly [K in keyof ExprDag]: ExprDag[K] }) => void): ExprDag => {
    const copy = {
      ...good,
      op: good.op.slice(),
      lhs: good.lhs.slice(),
      rhs: good.rhs.slice(),
      min: good.min.slice(),
      max: good.max.slice(),
      width: good.width.slice(),
      outputNode: good.outputNode.slice(),
      outputSign: good.outputSign.slice(),
    };
    f(copy);
    return copy;
  };
  assert.match(verifyDag(mutate((d) => (d.lhs[3] = 4))).join("\n"), /earlier nodes/);
  assert.match(verifyDag(mutate((d) => (d.max[3] = 31))).join("\n"), /range/);
  assert.match(verifyDag(mutate((d) => (d.width[4] = 9))).join("\n"), /width/);
  assert.match(verifyDag(mutate((d) => (d.outputNode[1] = 3))).join("\n"), /dead node/);
  assert.match(verifyDag(mutate((d) => (d.outputSign[2] = 1))).join("\n"), /output 2/);
  assert.match(verifyDag(good, Int32Array.from([4, 3])).join("\n"), /before its operands/);
  assert.match(verifyDag(good, Int32Array.from([3])).join("\n"), /schedule has 1 steps/);
  assert.match(verifyDag(good, Int32Array.from([3, 3])).join("\n"), /listed twice/);
});

test("uniformColumnRanges and unsignedColumnRanges", () => {
  const r = uniformColumnRanges(2, -3, 4);
  assert.deepEqual([Array.from(r.min), Array.from(r.max)], [[-3, -3], [4, 4]]);
  assert.deepEqual(Array.from(unsignedColumnRanges(1, 8).max), [255]);
});

test("formatDag lists additions with ranges and widths, then outputs", () => {
  const dag = smallDag();
  assert.equal(
    formatDag(dag, idSchedule(dag)),
    [
      "# 3 inputs, 2 additions, 4 outputs",
      "n3 = x0 + x1                [0, 30] u5",
      "n4 = n3 - x2                [-15, 30] s6",
      "y0 = +n3",
      "y1 = -n4",
      "y2 = 0",
      "y3 = +x2",
    ].join("\n"),
  );
  assert.match(formatDag(dag, idSchedule(dag), 1, 1), /1 more additions[\s\S]*3 more outputs/);
});

/**
 * The verifier between passes (src/compiler/verify.ts): reduction DAGs checked against their weight
 * matrices after CSE/unrolling, mappings checked after layout. Real CSE results on random and
 * ResNet-sized blocks pass; a DAG with one flipped operation, a swapped output, or a stale range,
 * and a mapping with two positions on one row, are caught with messages that say what is wrong.
 * Compiling fmnist-resnet8 with every pass on and with each pass off passes the verifier.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { eliminateCommonSubexpressions } from "../../src/compiler/cse/eliminate.js";
import { OP_ADD, OP_SUB, type ExprDag } from "../../src/compiler/cse/dag.js";
import { ALL_PASSES } from "../../src/compiler/lower.js";
import { mapPositions } from "../../src/compiler/mapping.js";
import { loadArch } from "../../src/ap/config.js";
import { checkMapping, checkReduction } from "../../src/compiler/verify.js";
import { Rng } from "../../src/util/random.js";
import { randomMatrix } from "./cse/helpers.js";
import { compileNetworkVerified, fmnistQGraph } from "./helpers.js";

function cseCase(seed: number, rows: number, cols: number) {
  const rng = new Rng(seed);
  const matrix = randomMatrix(rng, rows, cols);
  const ranges = { min: new Float64Array(cols), max: new Float64Array(cols).fill(15) };
  const r = eliminateCommonSubexpressions(matrix, ranges, { groupSize: "auto" });
  return { matrix, ranges, dag: r.dag, schedule: r.schedule };
}

/** A copy of the DAG with its typed arrays cloned, then changed by `f`. */
function mutated(dag: ExprDag, f: (d: { -readonly [K in keyof ExprDag]: ExprDag[K] }) => void): ExprDag {
  const d = {
    ...dag, op: dag.op.slice(), lhs: dag.lhs.slice(), rhs: dag.rhs.slice(), min: dag.min.slice(), max: dag.max.slice(),
    width: dag.width.slice(), outputNode: dag.outputNode.slice(), outputSign: dag.outputSign.slice(),
  };
  f(d);
  return d;
}

test("CSE results on random blocks (up to 64 x 576) verify against their matrices", () => {
  for (const [seed, rows, cols] of [[1, 8, 9], [2, 16, 72], [3, 64, 576], [4, 1, 9]] as const) {
    const c = cseCase(seed, rows, cols);
    assert.deepEqual(checkReduction(c.dag, c.schedule, c.matrix, c.ranges), [], `${rows}x${cols}`);
  }
});

test("a flipped add/sub, a swapped output and a wrong sign are caught as wrong results", () => {
  const c = cseCase(5, 16, 72);
  const internal = c.dag.inputCount + 3;
  // a flipped op leaves the stored range stale (or, where it happens to fit, the value wrong): either is reported
  const flipped = mutated(c.dag, (d) => {
    d.op[internal] = d.op[internal] === OP_ADD ? OP_SUB : OP_ADD;
  });
  const p1 = checkReduction(flipped, c.schedule, c.matrix, c.ranges);
  assert.ok(p1.length > 0, "flipped op must be reported");
  assert.match(p1.join("\n"), /range|computes/);

  // two outputs exchanged: the DAG stays perfectly well formed, only the values are wrong
  const o1 = c.dag.outputNode.findIndex((n, o) => n >= 0 && c.dag.outputNode[o + 1] !== undefined && c.dag.outputNode[o + 1] !== n && c.dag.outputNode[o + 1]! >= 0);
  const swapped = mutated(c.dag, (d) => {
    [d.outputNode[o1], d.outputNode[o1 + 1]] = [d.outputNode[o1 + 1]!, d.outputNode[o1]!];
    [d.outputSign[o1], d.outputSign[o1 + 1]] = [d.outputSign[o1 + 1]!, d.outputSign[o1]!];
  });
  const p2 = checkReduction(swapped, c.schedule, c.matrix, c.ranges);
  assert.match(p2.join("\n"), new RegExp(`output row ${o1} computes -?\\d+ on test vector \\d, the weights give -?\\d+`));

  const o2 = c.dag.outputSign.findIndex((s) => s !== 0);
  const negated = mutated(c.dag, (d) => {
    d.outputSign[o2] = -d.outputSign[o2]! as -1 | 1;
  });
  assert.match(checkReduction(negated, c.schedule, c.matrix, c.ranges).join("\n"), new RegExp(`output row ${o2} computes`));
});

test("a DAG for another matrix shape, and a stale range, are reported", () => {
  const c = cseCase(6, 8, 18);
  const other = { rows: 9, cols: 18, data: new Int8Array(9 * 18) };
  assert.match(checkReduction(c.dag, c.schedule, other, c.ranges).join("\n"), /8 outputs, the matrix 9 rows/);
  const stale = mutated(c.dag, (d) => {
    d.max[c.dag.nodeCount - 1] = d.max[c.dag.nodeCount - 1]! + 1;
  });
  assert.match(checkReduction(stale, c.schedule, c.matrix, c.ranges).join("\n"), /range/);
});

test("positions mappings of every fmnist and ResNet-18 output shape verify; a doubled row is caught", () => {
  for (const name of ["rtm-ap", "sram-ap"]) {
    const arch = loadArch(name);
    for (const shape of [[16, 28, 28], [32, 14, 14], [64, 7, 7], [64, 112, 112], [512, 7, 7], [10, 1, 1]] as [number, number, number][]) {
      for (const raster of [true, false]) assert.deepEqual(checkMapping(mapPositions(shape, arch, raster), arch), [], `${name} ${shape} raster=${raster}`);
    }
  }
  const arch = loadArch("rtm-ap");
  const m = mapPositions([16, 28, 28], arch, true);
  const broken = { ...m, place: (p: number) => m.place(p === 5 ? 4 : p) };
  assert.match(checkMapping(broken, arch).join("\n"), /position 5 shares tile 0, array 0, row 4/);
  const outside = { ...m, place: (p: number) => (p === 7 ? { tile: 0, array: 0, row: m.rowsPerArray } : m.place(p)) };
  assert.match(checkMapping(outside, arch).join("\n"), /position 7 placed at tile 0, array 0, row \d+: outside/);
});

test("fmnist-resnet8 compiles through the verifier with every pass on and with each pass off", () => {
  const q = fmnistQGraph();
  const net = compileNetworkVerified(q);
  assert.ok(net.units.length > 0);
  for (const pass of ALL_PASSES) {
    const n = compileNetworkVerified(q, { disable: [pass] });
    assert.equal(n.units.length, net.units.length, pass);
  }
});

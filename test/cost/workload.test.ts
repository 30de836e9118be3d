import { test } from "node:test";
import assert from "node:assert/strict";
import { workloadFromQGraph } from "../../src/cost/workload.js";
import type { QGraph, QTensor, QOp, Shape3 } from "../../src/quantize/qgraph.js";

function tensor(name: string, shape: Shape3, kind: "code" | "int", min: number, max: number): QTensor {
  const c = shape[0];
  return {
    name,
    shape,
    kind,
    minPerChannel: new Int32Array(c).fill(min),
    maxPerChannel: new Int32Array(c).fill(max),
    scale: new Float64Array(c).fill(1),
    offset: new Float64Array(c),
  };
}

test("workloadFromQGraph: conv and fc layers with bit widths, nonzero weights and the non-MAC ops", () => {
  const w1 = new Int8Array(4 * 3 * 3 * 3);
  for (let i = 0; i < w1.length; i++) w1[i] = i % 3 === 0 ? 0 : i % 2 === 0 ? 1 : -1; // 72 nonzero of 108
  const w2 = new Int8Array(10 * 4 * 3 * 3).fill(1);
  w2[0] = 0;
  const ops: QOp[] = [
    { kind: "input", name: "in", origin: [], output: "x", bits: 8 },
    { kind: "conv", name: "c1", origin: [], input: "x", output: "y1", outChannels: 4, inChannels: 3, kernel: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], weights: w1, fullyConnected: false },
    { kind: "requant", name: "r1", origin: [], input: "y1", output: "a1", bits: 4, thresholds: new Int32Array(4 * 15) },
    { kind: "maxpool", name: "p1", origin: [], input: "a1", output: "a2", kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] },
    { kind: "conv", name: "fc", origin: [], input: "a2", output: "logits", outChannels: 10, inChannels: 4, kernel: [3, 3], stride: [1, 1], pads: [0, 0, 0, 0], weights: w2, fullyConnected: true },
  ];
  const tensors = new Map<string, QTensor>([
    ["x", tensor("x", [3, 6, 6], "code", 0, 255)],
    ["y1", tensor("y1", [4, 6, 6], "int", -6885, 6885)],
    ["a1", tensor("a1", [4, 6, 6], "code", 0, 15)],
    ["a2", tensor("a2", [4, 3, 3], "code", 0, 15)],
    ["logits", tensor("logits", [10, 1, 1], "int", -540, 540)],
  ]);
  const qg: QGraph = { name: "tiny", source: "test", input: "x", ops, tensors, output: "logits", activationBits: 4, notes: [] };
  const w = workloadFromQGraph(qg);
  assert.equal(w.layers.length, 2);
  const [c1, fc] = w.layers as [typeof w.layers[0], typeof w.layers[0]];
  assert.deepEqual(
    { kind: c1.kind, C: c1.C, O: c1.O, KH: c1.KH, positions: c1.positions, macs: c1.macs, nonzero: c1.nonzeroWeights, inBits: c1.inputBits, outBits: c1.outputBits },
    { kind: "conv", C: 3, O: 4, KH: 3, positions: 36, macs: 36 * 4 * 27, nonzero: 72, inBits: 8, outBits: 4 },
  );
  assert.deepEqual(
    { kind: fc.kind, C: fc.C, O: fc.O, positions: fc.positions, macs: fc.macs, nonzero: fc.nonzeroWeights, inBits: fc.inputBits, outBits: fc.outputBits },
    { kind: "fc", C: 4, O: 10, positions: 1, macs: 360, nonzero: 359, inBits: 4, outBits: 11 },
  );
  assert.equal(w.totalMacs, 36 * 4 * 27 + 360);
  assert.deepEqual(
    w.aux.map((a) => [a.kind, a.elements, a.operandsPerElement, a.inputBits, a.outputBits]),
    [
      ["requant", 144, 1, 14, 4],
      ["maxpool", 36, 4, 4, 4],
    ],
  );
  assert.equal(w.aux[0]!.thresholds, 15);
});

/** Shared assertions of the quantize tests. */
import assert from "node:assert/strict";
import type { QGraph, QTensor } from "../../src/quantize/qgraph.js";

function assertSameTensor(a: QTensor, b: QTensor): void {
  assert.deepEqual([a.name, a.shape, a.kind], [b.name, b.shape, b.kind]);
  assert.deepEqual([a.minPerChannel, a.maxPerChannel, a.scale, a.offset], [b.minPerChannel, b.maxPerChannel, b.scale, b.offset], `tensor ${a.name}`);
}

/** Identical QGraphs: every op field (weights, thresholds, multipliers...) and every tensor, bit for bit. */
export function assertSameQGraph(a: QGraph, b: QGraph): void {
  assert.equal(a.ops.length, b.ops.length, "number of ops");
  assert.deepEqual([a.input, a.output, a.activationBits], [b.input, b.output, b.activationBits]);
  a.ops.forEach((op, i) => assert.deepEqual(op, b.ops[i], `op ${i} (${op.name})`));
  assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()], "tensor names");
  for (const [name, t] of a.tensors) assertSameTensor(t, b.tensors.get(name)!);
}

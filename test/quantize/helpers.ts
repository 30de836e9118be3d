/** Shared assertions of the quantize tests. */
import assert from "node:assert/strict";
import type { QAddOp, QGraph, QTensor } from "../../src/quantize/qgraph.js";
import { ADD_TOLERANCE } from "../../src/quantize/residual.js";
import type { Graph } from "../../src/import/graph.js";
import { importOnnxBytes } from "../../src/import/onnx.js";
import type { Rng } from "../../src/util/random.js";
import { OnnxModelBuilder, type Attr } from "../import/onnx-builder.js";

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

/** Ternary weights per output channel: a[o] * t with t in {-1, 0, 1}, a of either sign. */
export function ternaryWeights(rng: Rng, O: number, J: number): Float32Array {
  const w = new Float32Array(O * J);
  for (let o = 0; o < O; o++) {
    const a = (0.2 + rng.next()) * (rng.bernoulli(0.2) ? -1 : 1);
    for (let j = 0; j < J; j++) w[o * J + j] = Math.fround(a * rng.int(-1, 1));
  }
  return w;
}

/** A tiny fake-quant float network written as ONNX: ternary convs with bias, Div/Round/Clip/Mul activations. */
export class Net {
  readonly b = new OnnxModelBuilder();
  private k = 0;
  constructor(readonly rng: Rng, readonly input: [number, number, number]) {
    this.b.input("X", [1, ...input]);
  }

  conv(x: string, C: number, O: number, k: number, attrs: Record<string, Attr> = {}, name?: string): string {
    const i = this.k++;
    const w = this.b.floats(`w${i}`, [O, C, k, k], ternaryWeights(this.rng, O, C * k * k));
    const bias = this.b.floats(`b${i}`, [O], Float32Array.from({ length: O }, () => this.rng.normal() * 0.3));
    return this.b.node("Conv", [x, w, bias], 1, { kernel_shape: { ints: [k, k] }, ...attrs }, name);
  }

  /** Div(s) -> Round -> Clip(0, 15) -> Mul(s), the fmnist fake-quant activation. */
  quant(x: string, s: number): string {
    const i = this.k++;
    const sc = this.b.floats(`s${i}`, [], [s]);
    const r = this.b.node("Round", [this.b.node("Div", [x, sc])]);
    const c = this.b.node("Clip", [r, this.b.floats(`lo${i}`, [], [0]), this.b.floats(`hi${i}`, [], [15])]);
    return this.b.node("Mul", [c, sc]);
  }

  graph(out: string): Graph {
    this.b.output(out);
    return importOnnxBytes(this.b.bytes(), "tiny");
  }
}

/**
 * Every residual add's integer form u*(mA*a + mB*b) is within ADD_TOLERANCE (relative to the
 * sum's largest real value) of the exact sA*a + sB*b, over the operands' whole ranges.
 */
export function assertAddsWithinTolerance(q: QGraph): void {
  for (const add of q.ops.filter((o): o is QAddOp => o.kind === "add")) {
    const [A, B] = add.inputs.map((n) => q.tensors.get(n)!) as [QTensor, QTensor];
    const out = q.tensors.get(add.output)!;
    for (let c = 0; c < out.shape[0]; c++) {
      const magA = Math.max(-A.minPerChannel[c]!, A.maxPerChannel[c]!), magB = Math.max(-B.minPerChannel[c]!, B.maxPerChannel[c]!);
      const sA = A.scale[c]!, sB = B.scale[c]!, u = out.scale[c]!;
      const err = Math.abs(u * add.mul[0][c]! - sA) * magA + Math.abs(u * add.mul[1][c]! - sB) * magB;
      assert.ok(err <= ADD_TOLERANCE * (Math.abs(sA) * magA + Math.abs(sB) * magB), `${add.name} channel ${c}: error ${err}`);
    }
  }
}

/**
 * The QGraph semantics documented in src/quantize/qgraph.ts, checked end to end on tiny hand-built
 * float graphs (written as ONNX with onnx-buf, imported, quantized): runReference + dequantizeOutput
 * must reproduce runFloat on random inputs — every activation code exactly equal to the float
 * graph's Round/Clip output, the logits within 1e-5 relative (the float graph sums float32
 * products, the reference an exact integer times one scale).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Graph } from "../../src/import/graph.js";
import { pixelsToInput, runFloat } from "../../src/float/executor.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QGraph, QOp } from "../../src/quantize/qgraph.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { Rng } from "../../src/util/random.js";
import { assertAddsWithinTolerance, Net, ternaryWeights } from "./helpers.js";
import { relativeError } from "../float/ort.js";

interface Comparison {
  codesCompared: number;
  worstLogitError: number;
}

/**
 * Runs `images` random images through both executors; every requant output must equal the float
 * graph's Clip output (the code) of the same activation, the logits within 1e-5 relative.
 */
function compare(g: Graph, q: QGraph, images: number, seed: number): Comparison {
  const rng = new Rng(seed);
  const inT = q.tensors.get(q.input)!;
  const per = inT.shape[0] * inT.shape[1] * inT.shape[2];
  const pixels = Uint8Array.from({ length: images * per }, () => rng.int(0, 255));
  const ref = runReference(q, pixels, images, { keepAll: true });
  const logits = dequantizeOutput(q, ref.output, images);
  // requant output "<...>/Mul" float tensor -> the Clip output before it holds the codes
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const requants = q.ops.filter((o): o is Extract<QOp, { kind: "requant" }> => o.kind === "requant");
  let codesCompared = 0, worst = 0;
  for (let i = 0; i < images; i++) {
    const { output, tensors } = runFloat(g, pixelsToInput(pixels.subarray(i * per, (i + 1) * per)), { keepAll: true });
    for (const op of requants) {
      const mul = producer.get(op.output.replace(/#\d+$/, ""))!;
      assert.equal(mul.opType, "Mul");
      const codes = tensors.get(mul.inputs[0]!)!.data;
      const ours = ref.tensors.get(op.output)!;
      const n = codes.length;
      for (let k = 0; k < n; k++) {
        if (ours[i * n + k] !== codes[k]) assert.fail(`${op.name}: image ${i} element ${k}: reference code ${ours[i * n + k]}, float graph ${codes[k]}`);
      }
      codesCompared += n;
    }
    const err = relativeError(logits[i]!, output.data);
    worst = Math.max(worst, err);
    assert.ok(err <= 1e-5, `image ${i}: logits relative error ${err}`);
  }
  return { codesCompared, worstLogitError: worst };
}

function kinds(q: QGraph): string {
  return q.ops.map((o) => o.kind).join(" ");
}

describe("QGraph semantics: runReference + dequantizeOutput == runFloat on tiny float graphs", () => {
  test("Conv + bias -> Div/Round/Clip/Mul -> Conv (padded, strided)", (t) => {
    const n = new Net(new Rng(1), [2, 9, 9]);
    const a = n.quant(n.conv("X", 2, 6, 3, { pads: { ints: [1, 1, 1, 1] } }), 0.15);
    const g = n.graph(n.conv(a, 6, 4, 3, { strides: { ints: [2, 2] }, pads: { ints: [0, 1, 1, 0] } }));
    const q = quantizeGraph(g);
    assert.equal(kinds(q), "input conv requant conv");
    const inT = q.tensors.get(q.input)!;
    assert.deepEqual([inT.scale[0], inT.offset[0], inT.minPerChannel[0], inT.maxPerChannel[0]], [1 / 255, 0, 0, 255]);
    const conv = q.ops[3]!;
    assert.ok(conv.kind === "conv");
    assert.deepEqual([conv.stride, conv.pads], [[2, 2], [0, 1, 1, 0]]);
    const r = compare(g, q, 24, 11);
    t.diagnostic(`${r.codesCompared} codes equal, worst logit error ${r.worstLogitError.toExponential(2)}`);
  });

  test("residual Add of two activations with different scales -> requant -> Conv", (t) => {
    const n = new Net(new Rng(2), [3, 8, 8]);
    const stem = n.quant(n.conv("X", 3, 4, 3, { pads: { ints: [1, 1, 1, 1] } }), 0.2);
    const branch = n.quant(n.conv(stem, 4, 4, 3, { pads: { ints: [1, 1, 1, 1] } }), 0.13);
    const sum = n.quant(n.b.node("Add", [branch, stem]), 0.3);
    const g = n.graph(n.conv(sum, 4, 5, 8));
    const q = quantizeGraph(g);
    assert.equal(kinds(q), "input conv requant conv requant add requant conv");
    const add = q.ops.find((o) => o.kind === "add")!;
    assert.ok(add.kind === "add");
    // positive integer multipliers whose sum is the real sum within float32 resolution
    for (let c = 0; c < 4; c++) {
      const m = [add.mul[0][c]!, add.mul[1][c]!];
      assert.ok(m.every((x) => Number.isInteger(x) && x > 0), `channel ${c}: ${m}`);
    }
    assertAddsWithinTolerance(q);
    const r = compare(g, q, 24, 12);
    t.diagnostic(`${r.codesCompared} codes equal, worst logit error ${r.worstLogitError.toExponential(2)}`);
  });

  test("MaxPool (3x3/2 with padding, padding ignored) on codes", (t) => {
    const n = new Net(new Rng(3), [1, 10, 10]);
    const a = n.quant(n.conv("X", 1, 4, 3), 0.1);
    const p = n.b.node("MaxPool", [a], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
    const g = n.graph(n.conv(p, 4, 3, 2));
    const q = quantizeGraph(g);
    assert.equal(kinds(q), "input conv requant maxpool conv");
    const mp = q.ops[3]!;
    assert.ok(mp.kind === "maxpool");
    assert.deepEqual([mp.kernel, mp.stride, mp.pads], [[3, 3], [2, 2], [1, 1, 1, 1]]);
    assert.equal(q.tensors.get(mp.output)!.kind, "code");
    const r = compare(g, q, 24, 13);
    t.diagnostic(`${r.codesCompared} codes equal, worst logit error ${r.worstLogitError.toExponential(2)}`);
  });

  test("GlobalAveragePool -> Flatten -> Gemm (sumpool, 1/area folded into the scale)", (t) => {
    const n = new Net(new Rng(4), [2, 7, 7]);
    const a = n.quant(n.conv("X", 2, 8, 3, { pads: { ints: [1, 1, 1, 1] } }), 0.12);
    const f = n.b.node("Flatten", [n.b.node("GlobalAveragePool", [a])]);
    const w = n.b.floats("fc", [5, 8], ternaryWeights(n.rng, 5, 8));
    const g = n.graph(n.b.node("Gemm", [f, w, n.b.floats("fcb", [5], [0.1, -0.2, 0.3, 0, 0.05])], 1, { transB: { int: 1 } }));
    const q = quantizeGraph(g);
    assert.equal(kinds(q), "input conv requant sumpool conv");
    const sp = q.ops[3]!, fc = q.ops[4]!;
    assert.ok(sp.kind === "sumpool" && fc.kind === "conv");
    assert.deepEqual(sp.kernel, [7, 7]);
    const spT = q.tensors.get(sp.output)!, aT = q.tensors.get(sp.input)!;
    assert.ok(Math.abs(spT.scale[0]! - aT.scale[0]! / 49) <= 1e-15, "sumpool scale = input scale / area");
    assert.deepEqual([spT.maxPerChannel[0], spT.minPerChannel[0]], [15 * 49, 0]);
    assert.ok(fc.fullyConnected);
    const r = compare(g, q, 24, 14);
    t.diagnostic(`${r.codesCompared} codes equal, worst logit error ${r.worstLogitError.toExponential(2)}`);
  });

  test("AveragePool 2x2/2 (no padding) -> Flatten -> MatMul", (t) => {
    const n = new Net(new Rng(5), [1, 8, 8]);
    const a = n.quant(n.conv("X", 1, 3, 3, { pads: { ints: [1, 1, 1, 1] } }), 0.1);
    const p = n.b.node("AveragePool", [a], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
    const f = n.b.node("Flatten", [p]);
    const w = ternaryWeights(n.rng, 4, 48);
    // MatMul weights are [K, N]: transpose the [N, K] ternary rows
    const wt = new Float32Array(48 * 4);
    for (let o = 0; o < 4; o++) for (let k = 0; k < 48; k++) wt[k * 4 + o] = w[o * 48 + k]!;
    const g = n.graph(n.b.node("MatMul", [f, n.b.floats("mm", [48, 4], wt)]));
    const q = quantizeGraph(g);
    assert.equal(kinds(q), "input conv requant sumpool conv");
    const r = compare(g, q, 24, 15);
    t.diagnostic(`${r.codesCompared} codes equal, worst logit error ${r.worstLogitError.toExponential(2)}`);
  });

  /**
   * Conv (no bias, per-channel magnitudes a of either sign) -> BatchNormalization -> quant -> Conv.
   * The quantizer keeps |a| as the scale and the sign in the ternary weights; a negative gamma makes
   * the channel decrease with the integer sum, so the quantizer must negate that channel (flip its
   * weights) to express "v >= T" thresholds.
   */
  function convBn(seed: number, a: number[], gamma: number[]): Graph {
    const n = new Net(new Rng(seed), [2, 6, 6]);
    const w = new Float32Array(3 * 18);
    for (let o = 0; o < 3; o++) for (let j = 0; j < 18; j++) w[o * 18 + j] = Math.fround(a[o]! * n.rng.int(-1, 1));
    const c = n.b.node("Conv", ["X", n.b.floats("cw", [3, 2, 3, 3], w)], 1, { pads: { ints: [1, 1, 1, 1] } });
    const bn = n.b.node("BatchNormalization", [c, n.b.floats("g", [3], gamma), n.b.floats("be", [3], [0.2, 0.9, -0.1]), n.b.floats("mu", [3], [0.1, -0.3, 0.2]), n.b.floats("var", [3], [0.9, 1.7, 0.4])]);
    return n.graph(n.conv(n.quant(bn, 0.11), 3, 2, 6));
  }

  test("BatchNormalization (positive gammas) after a bias-free Conv with negative per-channel magnitudes", (t) => {
    const g = convBn(6, [0.5, -0.7, 0.4], [1.3, 0.8, 0.5]);
    const q = quantizeGraph(g);
    assert.equal(kinds(q), "input conv requant conv");
    const r = compare(g, q, 24, 16);
    t.diagnostic(`${r.codesCompared} codes equal, worst logit error ${r.worstLogitError.toExponential(2)}`);
  });

  test(
    "BatchNormalization with a negative gamma after a positive-magnitude Conv",
    () => {
      const g = convBn(7, [0.5, 0.7, 0.4], [1.3, -0.8, 0.5]);
      const q = quantizeGraph(g);
      assert.equal(kinds(q), "input conv requant conv");
      compare(g, q, 24, 17);
    },
  );

});

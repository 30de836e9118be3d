/**
 * Quantization of float models (no fake-quant in the graph): resnet18-torchvision (float weights,
 * ReLU activations) and zoo:resnet20 (TWN-ternary weights, float ReLU activations). The quantizer
 * must ternarize non-ternary weights by the TWN rule, insert calibrated activation quantizers, say
 * so in the notes, and produce the same QGraph every time for the same input.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { importOnnxFile } from "../../src/import/onnx.js";
import type { Graph } from "../../src/import/graph.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QConvOp, QGraph } from "../../src/quantize/qgraph.js";
import { loadModel, loadQuantizedModel } from "../../src/model.js";
import { RESNET18_TORCHVISION, skipNoResnet18 } from "../import/fixtures.js";
import { assertSameQGraph } from "./helpers.js";

/** Every weight in {-1,0,1}, every threshold row non-decreasing, codes 0..2^bits-1. */
function checkIntegerGraph(q: QGraph): { convs: number; requants: number } {
  let convs = 0, requants = 0;
  for (const op of q.ops) {
    if (op.kind === "conv") {
      convs++;
      assert.equal(op.weights.length, op.outChannels * op.inChannels * op.kernel[0] * op.kernel[1]);
      for (const w of op.weights) assert.ok(w === -1 || w === 0 || w === 1, `${op.name}: weight ${w}`);
    }
    if (op.kind === "requant") {
      requants++;
      const L = (1 << op.bits) - 1;
      const C = q.tensors.get(op.input)!.shape[0];
      assert.equal(op.thresholds.length, C * L);
      for (let c = 0; c < C; c++) for (let k = 1; k < L; k++) assert.ok(op.thresholds[c * L + k]! >= op.thresholds[c * L + k - 1]!, `${op.name} channel ${c} thresholds decrease at ${k}`);
      const out = q.tensors.get(op.output)!;
      assert.equal(out.kind, "code");
      assert.ok(out.minPerChannel.every((v) => v === 0) && out.maxPerChannel.every((v) => v <= L));
    }
  }
  return { convs, requants };
}

describe("quantization of float models", () => {
  test("zoo:resnet20: inserted calibrated quantizers are reported, weights stay the zoo's ternary ones, deterministic", () => {
    const m1 = loadQuantizedModel("zoo:resnet20");
    const q = m1.qgraph;
    const notes = q.notes.join("\n");
    assert.match(notes, /inserted 19 4-bit activation quantizer\(s\) after ReLU, scales calibrated on 16 seeded synthetic image\(s\)/);
    assert.doesNotMatch(notes, /ternarized \d+ layer/, "zoo weights are already ternary (alpha * t)");
    assert.match(notes, /zoo:resnet20: synthetic TWN-ternarized/);
    const { convs, requants } = checkIntegerGraph(q);
    assert.equal(convs, 22, "19 convs + 2 projection shortcuts + FC");
    assert.equal(requants, 19);
    assert.deepEqual(q.tensors.get(q.output)!.shape, [10, 1, 1]);

    // The zoo's float weights are alpha_o * t exactly; the QGraph keeps t.
    const g = m1.graph;
    const convNodes = g.nodes.filter((n) => n.opType === "Conv" || n.opType === "Gemm");
    for (const node of convNodes) {
      const op = q.ops.find((o): o is QConvOp => o.kind === "conv" && o.origin.includes(node.name))!;
      const w = g.constants.get(node.inputs[1]!)!.data;
      const O = op.outChannels, J = w.length / O;
      const transposed = node.opType === "Gemm" && (node.attrs["transB"] ?? 0) === 0;
      assert.ok(!transposed);
      for (let o = 0; o < O; o++) for (let j = 0; j < J; j++) assert.equal(Math.sign(w[o * J + j]!), op.weights[o * J + j], `${node.name}[${o},${j}]`);
    }

    // determinism: a second load gives the identical QGraph; another calibration seed does not
    assertSameQGraph(q, loadQuantizedModel("zoo:resnet20").qgraph);
    const other = quantizeGraph(loadModel("zoo:resnet20").graph, { calibrationCount: 16, seed: 1 });
    const thr = (x: QGraph): string => x.ops.map((o) => (o.kind === "requant" ? o.thresholds.join() : "")).join("|");
    assert.notEqual(thr(other), thr(q), "calibration depends on the calibration images");
    assert.match(other.notes.join("\n"), /seed 1/);
  });

  test("resnet18-torchvision.onnx: TWN ternarization of all 21 layers and 17 calibrated quantizers, deterministic", { skip: skipNoResnet18 }, () => {
    const g: Graph = importOnnxFile(RESNET18_TORCHVISION);
    const q = quantizeGraph(g, { calibrationCount: 1 });
    const notes = q.notes.join("\n");
    assert.match(notes, /ternarized 21 layer\(s\) by the TWN rule \(threshold 0\.7\*mean\|w\| per output channel\): \/conv1\/Conv, /);
    assert.match(notes, /\/fc\/Gemm/);
    assert.match(notes, /inserted 17 4-bit activation quantizer\(s\) after ReLU, scales calibrated on 1 seeded synthetic image\(s\)/);
    const { convs, requants } = checkIntegerGraph(q);
    assert.equal(convs, 21);
    assert.equal(requants, 17);
    assert.deepEqual(q.tensors.get(q.output)!.shape, [1000, 1, 1]);
    assert.equal(q.tensors.get(q.input)!.shape.join("x"), "3x224x224");

    // The TWN rule, recomputed independently on the first conv: t = sign(w) where |w| > 0.7 mean|w|
    // of the output channel, and the output scale is alpha_o (mean kept |w|) times the input scale 1/255.
    const node = g.nodes.find((n) => n.name === "/conv1/Conv")!;
    const w = g.constants.get(node.inputs[1]!)!.data;
    const op = q.ops.find((o): o is QConvOp => o.kind === "conv" && o.origin.includes("/conv1/Conv"))!;
    const outT = q.tensors.get(op.output)!;
    const J = w.length / op.outChannels;
    for (let o = 0; o < op.outChannels; o++) {
      let sum = 0;
      for (let j = 0; j < J; j++) sum += Math.abs(w[o * J + j]!);
      const delta = (0.7 * sum) / J;
      let kept = 0, keptSum = 0;
      for (let j = 0; j < J; j++) {
        const x = w[o * J + j]!;
        const want = Math.abs(x) > delta ? Math.sign(x) : 0;
        if (Math.abs(Math.abs(x) - delta) > 1e-12) assert.equal(op.weights[o * J + j], want, `conv1[${o},${j}]`);
        if (want !== 0) {
          kept++;
          keptSum += Math.abs(x);
        }
      }
      const alpha = keptSum / kept;
      assert.ok(Math.abs(outT.scale[o]! - alpha / 255) <= 1e-6 * (alpha / 255), `conv1 channel ${o} scale`);
    }

    assertSameQGraph(q, quantizeGraph(g, { calibrationCount: 1 }));
  });
});

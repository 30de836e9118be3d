/**
 * The three encodings of fmnist-resnet8 describe one network. The QDQ file (int8 weights behind
 * DequantizeLinear, Clip -> QuantizeLinear -> DequantizeLinear activations) must quantize to
 * exactly the QGraph of the plain float file (ternary float weights, Div/Round/Clip/Mul): every
 * conv weight, requant threshold, add multiplier, tensor range, scale and offset. This is what lets
 * the 10,000-image accuracy tests run the plain and .bn files only (test/reference/accuracy-*.test.ts).
 * The .bn file (BatchNormalization kept, evaluated in float32 steps) has the same structure and
 * weights, but BN in float32 rounds differently from the exporter's folding, so a few thresholds of
 * the residual-add requants differ: it gets its own 10k run.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { importOnnxFile } from "../../src/import/onnx.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QGraph } from "../../src/quantize/qgraph.js";
import { fixtureModel } from "../import/fixtures.js";
import { assertSameQGraph } from "./helpers.js";

const load = (file: string): QGraph => quantizeGraph(importOnnxFile(fixtureModel(file)));

describe("fmnist-resnet8 encodings quantize to the same integer network", () => {
  const plain = load("fmnist-resnet8.onnx");

  test("the plain QGraph: 9 ternary convs, 7 requants, 3 residual adds, a sum pool", () => {
    assert.equal(plain.ops.map((o) => o.kind).join(" "), "input conv requant conv requant conv add requant conv requant conv conv add requant conv requant conv conv add requant sumpool conv");
    assert.deepEqual(plain.tensors.get(plain.output)!.shape, [10, 1, 1]);
    assert.deepEqual(plain.notes, ["input: uint8 pixels p, x = p/255 (8-bit codes, scale 1/255)"], "nothing ternarized or inserted");
  });

  test("fmnist-resnet8.qdq.onnx gives a QGraph identical to the plain one", () => {
    assertSameQGraph(plain, load("fmnist-resnet8.qdq.onnx"));
  });

  test("fmnist-resnet8.bn.onnx: same ops, weights and add multipliers; thresholds differ only where BN's float32 rounding does", (t) => {
    const bn = load("fmnist-resnet8.bn.onnx");
    assert.equal(bn.ops.length, plain.ops.length);
    let thresholds = 0, differing = 0;
    plain.ops.forEach((op, i) => {
      const other = bn.ops[i]!;
      assert.equal(other.kind, op.kind);
      assert.equal(other.output, op.output);
      if (op.kind === "conv" && other.kind === "conv") {
        assert.deepEqual([other.weights, other.stride, other.pads, other.kernel], [op.weights, op.stride, op.pads, op.kernel], op.name);
        const a = plain.tensors.get(op.output)!, b = bn.tensors.get(other.output)!;
        assert.deepEqual([a.minPerChannel, a.maxPerChannel], [b.minPerChannel, b.maxPerChannel], `${op.name} ranges`);
      }
      if (op.kind === "add" && other.kind === "add") assert.deepEqual(other.mul, op.mul, op.name);
      if (op.kind === "requant" && other.kind === "requant") {
        thresholds += op.thresholds.length;
        for (let k = 0; k < op.thresholds.length; k++) {
          const d = Math.abs(op.thresholds[k]! - other.thresholds[k]!);
          if (d > 0) differing++;
        }
      }
    });
    t.diagnostic(`${differing} of ${thresholds} thresholds differ between the plain and .bn QGraphs`);
    assert.ok(differing < 0.1 * thresholds);
  });
});

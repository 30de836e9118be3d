/**
 * The three encodings of fmnist-resnet8 describe one network. The QDQ file (int8 weights behind
 * DequantizeLinear, Clip -> QuantizeLinear -> DequantizeLinear activations) must quantize to
 * exactly the QGraph of the plain float file (ternary float weights, Div/Round/Clip/Mul): every
 * conv weight, requant threshold, add multiplier, tensor range, scale and offset. This is what lets
 * the 10,000-image accuracy tests run the plain and .bn files only (test/reference/accuracy-*.test.ts).
 * The .bn file (BatchNormalization kept, evaluated in float32 steps) has the same structure and
 * weights, but BN in float32 rounds differently from the exporter's folding: the scales differ in
 * their last float32 bits, so a few thresholds differ, and so do some residual-add multipliers (the
 * best integer approximation of a ratio moves with its last bits; both graphs' adds are within
 * float32 resolution of their own float model): it gets its own 10k run.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { importOnnxFile } from "../../src/import/onnx.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QGraph } from "../../src/quantize/qgraph.js";
import { fixtureModel } from "../import/fixtures.js";
import { assertAddsWithinTolerance, assertSameQGraph } from "./helpers.js";

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

  test("fmnist-resnet8.bn.onnx: same ops and weights; scales, thresholds and add multipliers differ only where BN's float32 rounding does", (t) => {
    const bn = load("fmnist-resnet8.bn.onnx");
    assert.equal(bn.ops.length, plain.ops.length);
    assertAddsWithinTolerance(plain);
    assertAddsWithinTolerance(bn);
    let thresholds = 0, differing = 0, multipliers = 0, differingMul = 0, realCompared = 0;
    plain.ops.forEach((op, i) => {
      const other = bn.ops[i]!;
      assert.equal(other.kind, op.kind);
      assert.equal(other.output, op.output);
      if (op.kind === "conv" && other.kind === "conv") {
        assert.deepEqual([other.weights, other.stride, other.pads, other.kernel], [op.weights, op.stride, op.pads, op.kernel], op.name);
        const a = plain.tensors.get(op.output)!, b = bn.tensors.get(other.output)!;
        assert.deepEqual([a.minPerChannel, a.maxPerChannel], [b.minPerChannel, b.maxPerChannel], `${op.name} ranges`);
      }
      if (op.kind === "add" && other.kind === "add") {
        for (const n of [0, 1] as const) {
          const sa = plain.tensors.get(op.inputs[n])!.scale, sb = bn.tensors.get(other.inputs[n])!.scale;
          sa.forEach((s, c) => assert.ok(Math.abs(s - sb[c]!) <= 1e-6 * Math.abs(s), `${op.name} operand ${n} channel ${c}: scale ${s} vs ${sb[c]}`));
          multipliers += op.mul[n].length;
          op.mul[n].forEach((m, c) => (differingMul += m === other.mul[n][c] ? 0 : 1));
        }
      }
      if (op.kind === "requant" && other.kind === "requant") {
        // Where an add's multipliers differ, its integers count different units: compare the
        // thresholds as real values (within two units), elsewhere as integers.
        const producer = plain.ops.find((o) => o.output === op.input)!, producerBn = bn.ops.find((o) => o.output === other.input)!;
        const a = plain.tensors.get(op.input)!, b = bn.tensors.get(other.input)!;
        const L = op.thresholds.length / a.shape[0];
        for (let k = 0; k < op.thresholds.length; k++) {
          const c = Math.floor(k / L);
          const Ta = op.thresholds[k]!, Tb = other.thresholds[k]!;
          if (producer.kind === "add" && producerBn.kind === "add" && (producer.mul[0][c] !== producerBn.mul[0][c] || producer.mul[1][c] !== producerBn.mul[1][c])) {
            const ra = a.scale[c]! * Ta + a.offset[c]!, rb = b.scale[c]! * Tb + b.offset[c]!;
            assert.ok(Math.abs(ra - rb) <= 2 * Math.max(a.scale[c]!, b.scale[c]!) + 1e-6 * Math.abs(ra), `${op.name} channel ${c}: threshold ${ra} vs ${rb} (real)`);
            realCompared++;
            continue;
          }
          thresholds++;
          if (Ta !== Tb) differing++;
        }
      }
    });
    t.diagnostic(`${differingMul} of ${multipliers} add multipliers differ between the plain and .bn QGraphs; ${differing} of ${thresholds} thresholds in the same integer units differ, ${realCompared} more agree as real values`);
    assert.ok(differing < 0.1 * thresholds);
  });
});

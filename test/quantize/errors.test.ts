/**
 * Float graphs the integer QGraph cannot express: each must fail with an RtapError that names the
 * problem and the node (`node "<name>" (<op>)`), never a TypeError or a silently wrong graph.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { AttributeProto_AttributeType as AT, AttributeProtoSchema } from "onnx-buf";
import { importOnnxBytes } from "../../src/import/onnx.js";
import type { Graph } from "../../src/import/graph.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { Rng } from "../../src/util/random.js";
import { decodeModel, encodeModel, setInitializer } from "../import/onnx-builder.js";
import { expectRtapError } from "../import/expect-error.js";
import { fixtureModel } from "../import/fixtures.js";
import { Net, ternaryWeights } from "./helpers.js";

const net = (seed = 1, input: [number, number, number] = [2, 8, 8]): Net => new Net(new Rng(seed), input);

describe("unsupported quantization constructs give an RtapError naming the node", () => {
  test("grouped convolution (group=2 on fmnist-resnet8's 16-channel layer)", () => {
    const m = decodeModel(new Uint8Array(readFileSync(fixtureModel("fmnist-resnet8.onnx"))));
    const c1 = m.graph!.node.find((n) => n.name === "/layers/layers.0/c1/Conv")!;
    c1.attribute.push(create(AttributeProtoSchema, { name: "group", type: AT.INT, i: 2n }));
    setInitializer(m.graph!.initializer.find((t) => t.name === c1.input[1])!, [16, 8, 3, 3], ternaryWeights(new Rng(3), 16, 72));
    const g = importOnnxBytes(encodeModel(m), "grouped.onnx"); // the float executor runs grouped convs
    expectRtapError(() => quantizeGraph(g), 'node "/layers/layers.0/c1/Conv" (Conv): grouped/depthwise convolution (group=2) is not supported');
  });

  test("dilated convolution", () => {
    const n = net();
    const a = n.quant(n.conv("X", 2, 3, 3), 0.1);
    const g = n.graph(n.conv(a, 3, 2, 2, { dilations: { ints: [2, 2] } }, "dilated"));
    expectRtapError(() => quantizeGraph(g), 'node "dilated" (Conv): dilated convolution is not supported');
  });

  test("dilated pooling", () => {
    const n = net();
    const a = n.quant(n.conv("X", 2, 3, 3), 0.1);
    const p = n.b.node("MaxPool", [a], 1, { kernel_shape: { ints: [2, 2] }, dilations: { ints: [2, 2] } }, "dpool");
    const g = n.graph(n.conv(p, 3, 2, 4));
    expectRtapError(() => quantizeGraph(g), 'node "dpool" (MaxPool): dilated pooling is not supported');
  });

  test("a Reshape that is not a flatten", () => {
    const n = net();
    const a = n.quant(n.conv("X", 2, 4, 3, { pads: { ints: [1, 1, 1, 1] } }), 0.1);
    const r = n.b.node("Reshape", [a, n.b.initializer("shape", { dtype: "int64", dims: [4], data: [1, 8, 4, 8] })], 1, {}, "unflatten");
    const g = n.graph(n.conv(r, 8, 2, 4));
    expectRtapError(() => quantizeGraph(g), 'node "unflatten" (Reshape): only a flatten to [batch, features] is supported, this produces [1,8,4,8]');
  });

  test("a convolution fed by an activation without ReLU (conv -> conv, float model)", () => {
    const n = net();
    const c = n.conv("X", 2, 3, 3);
    const g = n.graph(n.conv(c, 3, 2, 3, {}, "second"));
    expectRtapError(() => quantizeGraph(g), 'node "second" (Conv): the input of this layer is not a quantized activation with one scale and zero offset');
  });

  test("a convolution fed by a signed activation (Clip(-1, 1) instead of ReLU)", () => {
    const n = net();
    const c = n.b.node("Clip", [n.conv("X", 2, 3, 3), n.b.floats("lo", [], [-1]), n.b.floats("hi", [], [1])]);
    const g = n.graph(n.conv(c, 3, 2, 3, {}, "after_clip"));
    expectRtapError(() => quantizeGraph(g), 'node "after_clip" (Conv): this activation can be negative (no ReLU before it); rtap quantizes only unsigned post-ReLU activations');
  });

  /** conv -> Div/Round/Mul without the Clip at 0: signed codes. */
  function signedFakeQuant(): Graph {
    const n = net();
    const s = n.b.floats("s", [], [0.1]);
    const q = n.b.node("Mul", [n.b.node("Round", [n.b.node("Div", [n.conv("X", 2, 3, 3), s])]), s]);
    return n.graph(n.conv(q, 3, 2, 3, {}, "consumer"));
  }

  /** conv -> Relu -> QuantizeLinear/DequantizeLinear with zero point 3. */
  function zeroPointQdq(): Graph {
    const n = net();
    const s = n.b.floats("s", [], [0.1]);
    const zp = n.b.initializer("zp", { dtype: "uint8", dims: [], data: [3] });
    const q = n.b.node("DequantizeLinear", [n.b.node("QuantizeLinear", [n.b.node("Relu", [n.conv("X", 2, 3, 3)]), s, zp]), s, zp]);
    return n.graph(n.conv(q, 3, 2, 3, {}, "consumer"));
  }

  test("fake-quant without the clip at 0 (signed codes) is reported as a signed activation", () => {
    expectRtapError(() => quantizeGraph(signedFakeQuant()), /node "consumer" \(Conv\): the smallest activation value is -[\d.e+-]+, not 0: rtap supports unsigned activations only/);
  });

  test("a ReLU'd QDQ activation with zero point 3 is supported: codes count from the smallest reachable value (0)", () => {
    const q = quantizeGraph(zeroPointQdq());
    const rq = q.ops.find((o) => o.kind === "requant");
    assert.ok(rq, "a requant op");
    const t = q.tensors.get(rq.output)!;
    assert.equal(t.offset[0], 0);
    assert.ok(Math.abs(t.scale[0]! - 0.1) < 1e-7, `scale ${t.scale[0]}`);
    assert.equal(t.minPerChannel[0], 0);
    // the largest code is bounded by the conv's reachable range, never beyond 255 - 3
    assert.ok(t.maxPerChannel[0]! > 0 && t.maxPerChannel[0]! <= 252, `max code ${t.maxPerChannel[0]}`);
  });

  test("per-channel activation scales", () => {
    const n = net();
    const s = n.b.floats("s", [1, 3, 1, 1], [0.1, 0.2, 0.3]);
    const q = n.b.node("Clip", [n.b.node("Round", [n.b.node("Div", [n.conv("X", 2, 3, 3), s])]), n.b.floats("lo", [], [0]), n.b.floats("hi", [], [15])]);
    const g = n.graph(n.conv(n.b.node("Mul", [q, s]), 3, 2, 3, {}, "consumer"));
    expectRtapError(() => quantizeGraph(g), 'node "consumer" (Conv): per-channel activation scales are not supported');
  });

  test("average pooling whose windows overlap the padding with count_include_pad=0", () => {
    const n = net();
    const a = n.quant(n.conv("X", 2, 3, 3), 0.1);
    const p = n.b.node("AveragePool", [a], 1, { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }, "avg");
    const g = n.graph(n.conv(p, 3, 2, 6));
    expectRtapError(() => quantizeGraph(g), 'node "avg" (AveragePool): average pooling whose windows overlap the border (count_include_pad=0 or ceil_mode) divides by a varying count; not supported');
  });

  test("elementwise forms the QGraph has no op for", () => {
    const n = net();
    const a = n.quant(n.conv("X", 2, 3, 3), 0.1);
    const b = n.quant(n.conv("X", 2, 3, 3), 0.2);
    const g = n.graph(n.conv(n.b.node("Mul", [a, b], 1, {}, "product"), 3, 2, 6));
    expectRtapError(() => quantizeGraph(g), 'node "product" (Mul): Mul of two activations is not supported (only by a constant)');

    const n2 = net(2);
    const d = n2.b.node("Div", [n2.b.floats("one", [], [1]), n2.quant(n2.conv("X", 2, 3, 3), 0.1)], 1, {}, "reciprocal");
    expectRtapError(() => quantizeGraph(n2.graph(n2.conv(d, 3, 2, 6))), 'node "reciprocal" (Div): Div with the constant as first operand is not supported');

    const n3 = net(3);
    const cast = n3.b.node("Cast", [n3.quant(n3.conv("X", 2, 3, 3), 0.1)], 1, { to: { int: 7 } }, "to_int");
    expectRtapError(() => quantizeGraph(n3.graph(cast)), 'node "to_int" (Cast): casts of activations to integer types are not supported');
  });

  test("Gemm with transA=1", () => {
    const n = net(4, [1, 1, 1]);
    const f = n.b.node("Flatten", [n.quant(n.conv("X", 1, 3, 1), 0.1)]);
    const t = n.b.node("Gemm", [f, n.b.floats("W", [1, 4], [1, -1, 0, 1])], 1, { transA: { int: 1 } }, "gemm_tA");
    expectRtapError(() => quantizeGraph(n.graph(t)), 'node "gemm_tA" (Gemm): Gemm with transA=1 is not supported');
  });

  test("a graph whose output is an activation, not logits; activation bits out of range", () => {
    const n = net();
    const g = n.graph(n.b.node("Relu", [n.conv("X", 2, 3, 3)]));
    expectRtapError(() => quantizeGraph(g), /the graph output "relu_\d+_out0" is produced by a nonlinear activation; rtap expects logits from a linear layer/);
    const n2 = net(2);
    const g2 = n2.graph(n2.conv(n2.quant(n2.conv("X", 2, 3, 3), 0.1), 3, 2, 6));
    assert.ok(quantizeGraph(g2, { activationBits: 8 }));
    expectRtapError(() => quantizeGraph(g2, { activationBits: 9 }), "activation bits must be 1..8, got 9");
    expectRtapError(() => quantizeGraph(g2, { activationBits: 0 }), "activation bits must be 1..8, got 0");
  });
});

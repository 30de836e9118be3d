/**
 * Pad (constant mode): run by the float executor in both forms (opset 2-10 attributes, opset 11+
 * inputs), folded at import into the Conv / MaxPool / AveragePool it feeds when that is exact, and
 * kept otherwise. Every model is checked against onnxruntime-node; the TensorFlow/Keras-style
 * padded network must quantize into exactly the QGraph of the same network written with the pads
 * on its convolutions and pools (the PyTorch way), and compile and simulate to the integer
 * reference.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { importOnnxBytes } from "../../src/import/onnx.js";
import { numel, type Graph, type GraphNode } from "../../src/import/graph.js";
import { runFloat, runGraph } from "../../src/float/executor.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { runReference } from "../../src/reference/integer.js";
import { compileNetwork, runCompiled } from "../../src/compiler/pipeline.js";
import { Rng } from "../../src/util/random.js";
import { OnnxModelBuilder, type Attr } from "./onnx-builder.js";
import { expectRtapError } from "./expect-error.js";
import { ortRun, relativeError } from "../float/ort.js";
import { ternaryWeights, assertSameQGraph } from "../quantize/helpers.js";

const TOL = 1e-5;

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

const int64 = (b: OnnxModelBuilder, name: string, data: number[]): string => b.initializer(name, { dtype: "int64", dims: [data.length], data });
/** Opset 11+ Pad: pads (and the value, when given) as initializers. */
let padCount = 0;
const pad11 = (b: OnnxModelBuilder, x: string, pads: number[], value?: number, name?: string): string => {
  const k = padCount++;
  const ins = [x, int64(b, `pads${k}`, pads)];
  if (value !== undefined) ins.push(b.floats(`v${k}`, [], [value]));
  return b.node("Pad", ins, 1, { mode: { str: "constant" } }, name);
};

function ops(g: Graph): string[] {
  return g.nodes.map((n) => n.opType);
}

function node(g: Graph, name: string): GraphNode {
  const n = g.nodes.find((x) => x.name === name);
  assert.ok(n, `node ${name} in ${g.nodes.map((x) => x.name).join(",")}`);
  return n;
}

/** rtap's float run equals onnxruntime on a few random inputs. */
async function matchesOrt(bytes: Uint8Array, g: Graph, dims: number[], key: string, rng: Rng): Promise<void> {
  for (let k = 0; k < 3; k++) {
    const x = randn(rng, numel(dims));
    const ours = runFloat(g, x).output;
    const ref = await ortRun(bytes, x, dims, key);
    assert.deepEqual(ours.dims, ref.dims, `${key}: output shape`);
    const err = relativeError(ours.data, ref.data);
    assert.ok(err <= TOL, `${key}: relative error ${err} vs onnxruntime`);
  }
}

interface PadCase {
  name: string;
  opset?: number;
  input: number[];
  build(b: OnnxModelBuilder, rng: Rng): string;
  /** Pad nodes expected to remain after import (0: all folded). */
  kept: number;
  check?(g: Graph): void;
}

const conv = (b: OnnxModelBuilder, rng: Rng, x: string, O: number, C: number, k: number, attrs: Record<string, Attr> = {}, name?: string): string =>
  b.node("Conv", [x, b.floats(`W${rng.nextU32()}`, [O, C, k, k], randn(rng, O * C * k * k, 0.5)), b.floats(`B${rng.nextU32()}`, [O], randn(rng, O, 0.1))], 1, attrs, name);

const CASES: PadCase[] = [
  {
    name: "TF-style: Pad bottom/right -> stride-2 Conv, Relu -> Pad -> MaxPool, Pad -> AveragePool, Pad -> padded Conv: all folded",
    input: [1, 3, 10, 10],
    build: (b, rng) => {
      let x = conv(b, rng, pad11(b, "X", [0, 0, 0, 0, 0, 0, 1, 1], 0), 4, 3, 3, { strides: { ints: [2, 2] } }, "conv0");
      x = b.node("Relu", [x]);
      x = b.node("MaxPool", [pad11(b, x, [0, 0, 1, 1, 0, 0, 1, 1])], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } }, "maxpool");
      x = b.node("AveragePool", [pad11(b, x, [0, 0, 1, 1, 0, 0, 1, 1], 0)], 1, { kernel_shape: { ints: [3, 3] } }, "avgpool");
      return conv(b, rng, pad11(b, x, [0, 0, 2, 0, 0, 0, 0, 1]), 2, 4, 3, { pads: { ints: [1, 1, 1, 1] } }, "conv1");
    },
    kept: 0,
    check: (g) => {
      assert.deepEqual(node(g, "conv0").attrs["pads"], [0, 0, 1, 1]);
      assert.deepEqual(node(g, "maxpool").attrs["pads"], [1, 1, 1, 1]);
      assert.deepEqual(node(g, "avgpool").attrs["pads"], [1, 1, 1, 1]);
      assert.equal(node(g, "avgpool").attrs["count_include_pad"], 1, "the Pad's zeros were counted: count_include_pad=1");
      assert.deepEqual(node(g, "conv1").attrs["pads"], [3, 1, 1, 2]);
    },
  },
  {
    name: "opset 10 attribute form (pads, value) -> Conv, and value -inf -> MaxPool: folded",
    opset: 10,
    input: [1, 2, 7, 7],
    build: (b, rng) => {
      const p = b.node("Pad", ["X"], 1, { mode: { str: "constant" }, pads: { ints: [0, 0, 1, 0, 0, 0, 1, 2] }, value: { float: 0 } });
      const c = conv(b, rng, p, 3, 2, 3, { strides: { ints: [2, 2] } }, "conv");
      const q = b.node("Pad", [c], 1, { pads: { ints: [0, 0, 1, 1, 0, 0, 1, 1] }, value: { float: -Infinity } });
      return b.node("MaxPool", [q], 1, { kernel_shape: { ints: [2, 2] } }, "maxpool");
    },
    kept: 0,
    check: (g) => {
      assert.deepEqual(node(g, "conv").attrs["pads"], [1, 0, 1, 2]);
      assert.deepEqual(node(g, "maxpool").attrs["pads"], [1, 1, 1, 1]);
    },
  },
  {
    name: "Pad -> Conv with auto_pad SAME_UPPER: resolved on the padded shape, then folded",
    input: [1, 2, 8, 8],
    build: (b, rng) => conv(b, rng, pad11(b, "X", [0, 0, 1, 0, 0, 0, 0, 1]), 3, 2, 3, { auto_pad: { str: "SAME_UPPER" }, strides: { ints: [2, 2] } }, "conv"),
    kept: 0,
    check: (g) => {
      const c = node(g, "conv");
      assert.equal(c.attrs["auto_pad"], undefined);
      // SAME_UPPER, 3x3 stride 2 on the padded 9x9: 1 before and 1 after on both axes; plus the Pad's [1, 0, 0, 1]
      assert.deepEqual(c.attrs["pads"], [2, 1, 1, 2]);
    },
  },
  {
    name: "kept: a non-zero value before Conv, channel pads, Pad before Add",
    input: [1, 2, 6, 6],
    build: (b, rng) => {
      const a = conv(b, rng, pad11(b, "X", [0, 0, 1, 1, 0, 0, 1, 1], 0.5), 2, 2, 3);
      const c = conv(b, rng, pad11(b, "X", [0, 1, 0, 0, 0, 1, 0, 0]), 2, 4, 1);
      return b.node("Add", [a, pad11(b, c, [0, 0, 0, 0, 0, 0, 0, 0])]);
    },
    kept: 3,
  },
  {
    name: "kept: zero Pad -> MaxPool of a possibly negative tensor, and of a Relu output where a window would lie in the padding only",
    input: [1, 2, 6, 6],
    build: (b) => {
      const m1 = b.node("MaxPool", [pad11(b, "X", [0, 0, 1, 1, 0, 0, 1, 1])], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
      // the first row of windows covers only the two padding rows
      const r = b.node("Relu", ["X"]);
      const m2 = b.node("MaxPool", [pad11(b, r, [0, 0, 2, 0, 0, 0, 0, 2])], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
      return b.node("Add", [m1, m2]);
    },
    kept: 2,
  },
  {
    name: "kept: zero Pad -> AveragePool that has pads of its own and count_include_pad=0",
    input: [1, 2, 6, 6],
    build: (b) => b.node("AveragePool", [pad11(b, "X", [0, 0, 1, 1, 0, 0, 1, 1])], 1, { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }),
    kept: 1,
  },
  {
    name: "folded: -inf Pad -> MaxPool with ceil_mode (same output shape)",
    input: [1, 2, 5, 5],
    build: (b) => b.node("MaxPool", [pad11(b, "X", [0, 0, 0, 0, 0, 0, 1, 1], -Infinity)], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { int: 1 } }, "maxpool"),
    kept: 0,
    check: (g) => assert.deepEqual(node(g, "maxpool").attrs["pads"], [0, 0, 1, 1]),
  },
  {
    name: "folded: a Relu -> zero Pad -> MaxPool where every window still covers the input (Keras ZeroPadding2D before MaxPooling2D)",
    input: [1, 2, 9, 9],
    build: (b) => b.node("MaxPool", [pad11(b, b.node("Relu", ["X"]), [0, 0, 1, 1, 0, 0, 1, 1])], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } }, "maxpool"),
    kept: 0,
    check: (g) => assert.deepEqual(node(g, "maxpool").attrs["pads"], [1, 1, 1, 1]),
  },
];

describe("Pad: float execution, folding into Conv and pools, against onnxruntime", () => {
  CASES.forEach((c, i) => {
    test(c.name, async () => {
      const rng = new Rng(7000 + i);
      const b = new OnnxModelBuilder({ opset: c.opset ?? 13, name: `pad${i}` });
      b.input("X", c.input);
      b.output(c.build(b, rng));
      const bytes = b.bytes();
      const g = importOnnxBytes(bytes, `pad case ${i}`);
      assert.equal(ops(g).filter((o) => o === "Pad").length, c.kept, `Pad nodes left: ${ops(g).join(",")}`);
      for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) if (t) assert.ok(g.shapes.has(t), `shape of ${t}`);
      c.check?.(g);
      await matchesOrt(bytes, g, c.input, `pad-${i}`, rng);
    });
  });

  test("a Pad on integer and 2-D tensors runs in the executor (constant_value input, opset 18 axes input)", () => {
    const b = new OnnxModelBuilder({ opset: 18 });
    b.input("X", [2, 3]);
    b.output(b.node("Pad", ["X", int64(b, "pads", [1, 2]), b.floats("v", [], [9]), int64(b, "axes", [-1])]));
    const g = importOnnxBytes(b.bytes(), "pad18", { inputs: "tensors" });
    const out = runGraph(g, new Map([["X", { dtype: "float32" as const, dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }]])).outputs[0]!;
    assert.deepEqual(out.dims, [2, 6]);
    assert.deepEqual(Array.from(out.data), [9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9]);
  });

  test("errors name the node and the unsupported attribute value", () => {
    const one = (attrs: Record<string, Attr>, pads: number[], opset = 13): Uint8Array => {
      const b = new OnnxModelBuilder({ opset });
      b.input("X", [1, 1, 4, 4]);
      b.output(b.node("Pad", ["X", int64(b, "pads", pads)], 1, attrs, "the_pad"));
      return b.bytes();
    };
    expectRtapError(() => importOnnxBytes(one({ mode: { str: "reflect" } }, [0, 0, 1, 1, 0, 0, 1, 1]), "m.onnx"), 'm.onnx: node "the_pad" (Pad): mode="reflect" is not supported (only mode="constant")');
    expectRtapError(() => importOnnxBytes(one({ mode: { str: "edge" } }, [0, 0, 1, 1, 0, 0, 1, 1]), "m.onnx"), 'node "the_pad" (Pad): mode="edge" is not supported');
    expectRtapError(() => importOnnxBytes(one({}, [0, 0, -1, 0, 0, 0, 0, 0]), "n.onnx"), 'node "the_pad" (Pad): negative pads [0,0,-1,0,0,0,0,0] (cropping) are not supported');
    expectRtapError(() => importOnnxBytes(one({}, [0, 0, 1, 1]), "l.onnx"), 'node "the_pad" (Pad): pads [0,0,1,1] must hold 2 x 4 values (begins, then ends) for a rank-4 input');
    const noPads = new OnnxModelBuilder({ opset: 10 });
    noPads.input("X", [1, 1, 4, 4]);
    noPads.output(noPads.node("Pad", ["X"], 1, { value: { float: 0 } }, "the_pad"));
    expectRtapError(() => importOnnxBytes(noPads.bytes(), "p.onnx"), 'node "the_pad" (Pad): has no pads');
    const runtime = new OnnxModelBuilder();
    runtime.input("X", [1, 1, 4, 4]);
    runtime.input("P", [8]);
    runtime.output(runtime.node("Pad", ["X", runtime.node("Cast", ["P"], 1, { to: { int: 7 } })], 1, {}, "the_pad"));
    expectRtapError(() => importOnnxBytes(runtime.bytes(), "r.onnx", { inputs: "tensors" }), 'node "the_pad" (Pad): the pads input must be a constant');
    // a Pad that stays in the graph cannot be quantized: the quantizer says which node
    const kept = new OnnxModelBuilder();
    kept.input("X", [1, 1, 4, 4]);
    kept.output(kept.node("Flatten", [kept.node("Pad", ["X", int64(kept, "pads", [0, 0, 1, 1, 0, 0, 1, 1]), kept.floats("v", [], [1])], 1, {}, "kept_pad")]));
    expectRtapError(() => quantizeGraph(importOnnxBytes(kept.bytes(), "k.onnx"), { calibrationCount: 1 }), 'node "kept_pad" (Pad)');
  });
});

/**
 * The same small network twice: TensorFlow/Keras style (explicit Pad nodes before unpadded
 * convolutions and pools) and PyTorch style (the pads on the convolutions and pools).
 */
function twinNetworks(): { tf: Uint8Array; torch: Uint8Array } {
  const rng = new Rng(42);
  const w0 = ternaryWeights(rng, 4, 9), w1 = ternaryWeights(rng, 4, 36), w2 = ternaryWeights(rng, 10, 4);
  const b0 = randn(rng, 4, 0.1), b1 = randn(rng, 4, 0.1), b2 = randn(rng, 10, 0.1);
  const build = (tf: boolean): Uint8Array => {
    const b = new OnnxModelBuilder({ name: tf ? "tf" : "torch" });
    b.input("X", [1, 1, 12, 12]);
    const W0 = b.floats("w0", [4, 1, 3, 3], w0), B0 = b.floats("b0", [4], b0);
    const W1 = b.floats("w1", [4, 4, 3, 3], w1), B1 = b.floats("b1", [4], b1);
    const W2 = b.floats("w2", [10, 4], w2), B2 = b.floats("b2", [10], b2);
    const padded = (x: string, pads: number[]): string => (tf ? pad11(b, x, pads) : x);
    const own = (pads: number[]): Record<string, Attr> => (tf ? {} : { pads: { ints: pads } });
    let x = b.node("Conv", [padded("X", [0, 0, 0, 0, 0, 0, 1, 1]), W0, B0], ["c0"], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ...own([0, 0, 1, 1]) }, "conv0");
    x = b.node("Relu", [x], ["r0"], {}, "relu0");
    x = b.node("MaxPool", [padded(x, [0, 0, 1, 1, 0, 0, 1, 1])], ["m0"], { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ...own([1, 1, 1, 1]) }, "pool0");
    x = b.node("Conv", [padded(x, [0, 0, 1, 1, 0, 0, 1, 1]), W1, B1], ["c1"], { kernel_shape: { ints: [3, 3] }, ...own([1, 1, 1, 1]) }, "conv1");
    x = b.node("Relu", [x], ["r1"], {}, "relu1");
    x = b.node("AveragePool", [padded(x, [0, 0, 1, 1, 0, 0, 1, 1])], ["a1"], { kernel_shape: { ints: [3, 3] }, ...(tf ? {} : { pads: { ints: [1, 1, 1, 1] }, count_include_pad: { int: 1 } }) }, "pool1");
    x = b.node("GlobalAveragePool", [x], ["g"], {}, "gap");
    x = b.node("Flatten", [x], ["f"], {}, "flatten");
    b.output(b.node("Gemm", [x, W2, B2], ["logits"], { transB: { int: 1 } }, "fc"));
    return b.bytes();
  };
  return { tf: build(true), torch: build(false) };
}

describe("a TF-style padded network end to end", () => {
  test("its Pads fold away at import; float equals onnxruntime; it quantizes into the PyTorch-style twin's QGraph; compiled and simulated it equals the integer reference", async () => {
    const { tf, torch } = twinNetworks();
    const gTf = importOnnxBytes(tf, "tf.onnx"), gTorch = importOnnxBytes(torch, "torch.onnx");
    assert.ok(!ops(gTf).includes("Pad"), `Pad left after import: ${ops(gTf).join(",")}`);
    assert.deepEqual(ops(gTf), ops(gTorch));
    gTf.nodes.forEach((n, i) => assert.deepEqual({ ...n.attrs }, { ...gTorch.nodes[i]!.attrs }, `attributes of ${n.name}`));
    await matchesOrt(tf, gTf, [1, 1, 12, 12], "tf-twin", new Rng(1));

    const qTf = quantizeGraph(gTf), qTorch = quantizeGraph(gTorch);
    assertSameQGraph(qTf, qTorch);
    const count = 8;
    const rng = new Rng(3);
    const pixels = Uint8Array.from({ length: count * 144 }, () => rng.int(0, 255));
    const refTf = runReference(qTf, pixels, count, { keepAll: true });
    assert.deepEqual(refTf.output, runReference(qTorch, pixels, count).output);

    const net = compileNetwork(qTf, { verify: true });
    const run = runCompiled(net, pixels, count, { mode: "fast", reference: refTf.tensors, events: false });
    assert.equal(run.mismatches, 0, "compiled units equal the integer reference");
    assert.deepEqual(run.output, refTf.output);
  });
});

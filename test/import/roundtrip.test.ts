/**
 * Round trip through real ONNX bytes: small models written with onnx-buf, one per supported
 * operator family (and one network that chains them), imported by rtap and run by the float
 * executor, must equal onnxruntime-node (optimizations disabled) within 1e-4 relative, with the
 * same output shape. Constant subgraphs (Constant -> Cast, weight DequantizeLinear, Shape ->
 * Gather -> Unsqueeze -> Concat -> Reshape) must be folded away at import.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { importOnnxBytes } from "../../src/import/onnx.js";
import { numel, type Graph } from "../../src/import/graph.js";
import { runFloat } from "../../src/float/executor.js";
import { Rng } from "../../src/util/random.js";
import { OnnxModelBuilder } from "./onnx-builder.js";
import { ortRun, relativeError } from "../float/ort.js";

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

interface Case {
  name: string;
  input: number[];
  opset?: number;
  /** Builds the graph from input "X"; returns the output tensor name. */
  build(b: OnnxModelBuilder, rng: Rng): string;
  /** Input values (default: seeded normal). */
  data?(n: number, rng: Rng): Float32Array;
  /** Operators that must be gone after import (folded). */
  folded?: string[];
  /** Operators that must remain in the imported graph. */
  kept?: string[];
}

const conv = (b: OnnxModelBuilder, rng: Rng, x: string, O: number, C: number, k: [number, number], attrs: Parameters<OnnxModelBuilder["node"]>[3] = {}, bias = true): string => {
  const w = b.floats(`W${rng.nextU32()}`, [O, C, k[0], k[1]], randn(rng, O * C * k[0] * k[1], 0.5));
  const ins = [x, w];
  if (bias) ins.push(b.floats(`B${rng.nextU32()}`, [O], randn(rng, O, 0.2)));
  return b.node("Conv", ins, 1, attrs);
};

const CASES: Case[] = [
  {
    name: "Conv with asymmetric pads and strides, bias",
    input: [1, 2, 7, 9],
    build: (b, rng) => conv(b, rng, "X", 3, 2, [3, 3], { pads: { ints: [1, 0, 2, 1] }, strides: { ints: [2, 1] }, kernel_shape: { ints: [3, 3] } }),
  },
  {
    name: "Conv auto_pad SAME_UPPER stride 2, 2x3 kernel",
    input: [1, 3, 8, 7],
    build: (b, rng) => conv(b, rng, "X", 4, 3, [2, 3], { auto_pad: { str: "SAME_UPPER" }, strides: { ints: [2, 2] } }),
  },
  {
    name: "Conv auto_pad SAME_LOWER",
    input: [1, 2, 6, 6],
    build: (b, rng) => conv(b, rng, "X", 2, 2, [4, 4], { auto_pad: { str: "SAME_LOWER" } }),
  },
  {
    name: "Conv 1x1 VALID without bias",
    input: [1, 3, 5, 5],
    build: (b, rng) => conv(b, rng, "X", 6, 3, [1, 1], { auto_pad: { str: "VALID" } }, false),
  },
  {
    name: "Conv group=2 and dilations",
    input: [1, 4, 9, 9],
    build: (b, rng) => conv(b, rng, "X", 6, 2, [3, 3], { group: { int: 2 }, dilations: { ints: [2, 1] }, pads: { ints: [1, 1, 1, 1] } }),
  },
  {
    name: "Flatten -> Gemm (transB=1, alpha, beta, broadcast C)",
    input: [1, 2, 3, 4],
    build: (b, rng) => {
      const f = b.node("Flatten", ["X"], 1, { axis: { int: 1 } });
      const w = b.floats("W", [5, 24], randn(rng, 120));
      const c = b.floats("C", [1, 5], randn(rng, 5));
      return b.node("Gemm", [f, w, c], 1, { transB: { int: 1 }, alpha: { float: 0.5 }, beta: { float: 2 } });
    },
  },
  {
    name: "Gemm transB=0 with scalar C, no Flatten axis attribute",
    input: [1, 3, 2, 2],
    build: (b, rng) => {
      const f = b.node("Flatten", ["X"]);
      return b.node("Gemm", [f, b.floats("W", [12, 7], randn(rng, 84)), b.floats("C", [1], [0.25])]);
    },
  },
  {
    name: "Flatten -> MatMul",
    input: [1, 2, 3, 3],
    build: (b, rng) => b.node("MatMul", [b.node("Flatten", ["X"]), b.floats("W", [18, 4], randn(rng, 72))]),
  },
  {
    name: "Add/Sub/Mul/Div with broadcasting (constants on either side, two activations)",
    input: [1, 2, 3, 4],
    build: (b, rng) => {
      const a = b.node("Add", ["X", b.floats("c1", [2, 1, 1], randn(rng, 2))]);
      const m = b.node("Mul", [b.floats("c2", [1, 1, 3, 4], randn(rng, 12)), a]);
      const s = b.node("Sub", [m, b.floats("c3", [1], [0.75])]);
      const d = b.node("Div", [s, b.floats("c4", [4], [1.5, -2, 3, 0.7])]);
      const r = b.node("Sub", [b.floats("c5", [1, 2, 1, 1], [1, -1]), d]);
      return b.node("Add", [r, b.node("Mul", [d, "X"])]);
    },
  },
  {
    name: "Relu",
    input: [1, 3, 4, 4],
    build: (b) => b.node("Relu", ["X"]),
  },
  {
    name: "Clip with min/max inputs, and with only max (min omitted)",
    input: [1, 2, 4, 4],
    build: (b) => {
      const c = b.node("Clip", ["X", b.floats("lo", [], [-0.5]), b.floats("hi", [], [0.8])]);
      return b.node("Clip", [b.node("Mul", [c, b.floats("k", [], [3])]), "", b.floats("hi2", [], [1.25])]);
    },
  },
  {
    name: "Clip with min/max attributes (opset 10)",
    input: [1, 2, 4, 4],
    opset: 10,
    build: (b) => b.node("Clip", ["X"], 1, { min: { float: -0.3 }, max: { float: 0.6 } }),
  },
  {
    name: "BatchNormalization (custom epsilon)",
    input: [1, 3, 4, 5],
    build: (b, rng) =>
      b.node(
        "BatchNormalization",
        ["X", b.floats("g", [3], [1.5, -0.7, 0.2]), b.floats("beta", [3], randn(rng, 3)), b.floats("mu", [3], randn(rng, 3)), b.floats("var", [3], [0.5, 2, 0.01])],
        1,
        { epsilon: { float: 1e-3 } },
      ),
  },
  {
    name: "MaxPool 3x3/2 with pads, and 2x2 ceil_mode",
    input: [1, 2, 7, 8],
    build: (b) => {
      const p = b.node("MaxPool", ["X"], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
      return b.node("MaxPool", [p], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { int: 1 } });
    },
  },
  {
    name: "AveragePool count_include_pad=0 and =1",
    input: [1, 2, 7, 7],
    build: (b) => {
      const p = b.node("AveragePool", ["X"], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
      const q = b.node("AveragePool", ["X"], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] }, count_include_pad: { int: 1 } });
      return b.node("Sub", [p, q]);
    },
  },
  {
    name: "AveragePool ceil_mode (overhanging windows)",
    input: [1, 1, 6, 6],
    build: (b) => b.node("AveragePool", ["X"], 1, { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { int: 1 } }),
  },
  {
    name: "GlobalAveragePool -> Flatten",
    input: [1, 4, 5, 3],
    build: (b) => b.node("Flatten", [b.node("GlobalAveragePool", ["X"])]),
  },
  {
    name: "Reshape with constant shape (0 copies a dim, -1 infers) and Identity",
    input: [1, 2, 3, 4],
    build: (b) => b.node("Identity", [b.node("Reshape", ["X", b.initializer("shape", { dtype: "int64", dims: [3], data: [0, -1, 4] })])]),
  },
  {
    name: "Constant -> Cast feeding Mul and Clip bounds (folded)",
    input: [1, 2, 3, 3],
    folded: ["Constant", "Cast"],
    build: (b) => {
      const k = b.node("Constant", [], 1, { value: { tensor: { dtype: "int64", dims: [], data: [3] } } });
      const kf = b.node("Cast", [k], 1, { to: { int: 1 } });
      const lo = b.node("Cast", [b.node("Constant", [], 1, { value: { tensor: { dtype: "float64", dims: [], data: [-1.5] } } })], 1, { to: { int: 1 } });
      const hi = b.node("Constant", [], 1, { value: { tensor: { dtype: "float32", dims: [], data: [2] } } });
      return b.node("Clip", [b.node("Mul", ["X", kf]), lo, hi]);
    },
  },
  {
    name: "Div -> Round (half to even on exact ties) -> Mul",
    input: [1, 2, 4, 4],
    // multiples of 0.25 divided by 0.5: half of the values land exactly on .5 ties
    data: (n, rng) => Float32Array.from({ length: n }, () => rng.int(-24, 24) * 0.25),
    build: (b) => b.node("Mul", [b.node("Round", [b.node("Div", ["X", b.floats("s", [], [0.5])])]), b.floats("s2", [], [0.5])]),
  },
  {
    name: "QuantizeLinear/DequantizeLinear per tensor (uint8 with zero point, int8)",
    input: [1, 2, 4, 4],
    build: (b) => {
      const q = b.node("QuantizeLinear", ["X", b.floats("s", [], [0.02]), b.initializer("zp", { dtype: "uint8", dims: [], data: [128] })]);
      const d = b.node("DequantizeLinear", [q, "s", "zp"]);
      const q2 = b.node("QuantizeLinear", [d, b.floats("s2", [], [0.015]), b.initializer("zp2", { dtype: "int8", dims: [], data: [-3] })]);
      return b.node("DequantizeLinear", [q2, "s2", "zp2"]);
    },
  },
  {
    name: "QuantizeLinear/DequantizeLinear per axis on an activation (axis 1, int8)",
    input: [1, 3, 4, 4],
    build: (b) => {
      const s = b.floats("s", [3], [0.01, 0.03, 0.005]);
      const zp = b.initializer("zp", { dtype: "int8", dims: [3], data: [0, 5, -10] });
      return b.node("DequantizeLinear", [b.node("QuantizeLinear", ["X", s, zp], 1, { axis: { int: 1 } }), s, zp], 1, { axis: { int: 1 } });
    },
  },
  {
    name: "int8 weights behind a per-channel DequantizeLinear (axis 0) feeding Conv (folded)",
    input: [1, 2, 6, 6],
    folded: ["DequantizeLinear"],
    kept: ["Conv"],
    build: (b, rng) => {
      const wq = b.initializer("Wq", { dtype: "int8", dims: [3, 2, 3, 3], data: Array.from({ length: 54 }, () => rng.int(-1, 1)) });
      const w = b.node("DequantizeLinear", [wq, b.floats("ws", [3], [0.5, 0.25, 1.5]), b.initializer("wz", { dtype: "int8", dims: [3], data: [0, 0, 0] })], 1, { axis: { int: 0 } });
      return b.node("Conv", ["X", w, b.floats("B", [3], randn(rng, 3))], 1, { pads: { ints: [1, 1, 1, 1] } });
    },
  },
  {
    name: "Shape -> Gather -> Unsqueeze -> Concat -> Reshape (folded to a constant shape)",
    input: [1, 3, 2, 5],
    folded: ["Shape", "Gather", "Unsqueeze", "Concat"],
    kept: ["Reshape"],
    build: (b) => {
      const sh = b.node("Shape", ["X"]);
      const n = b.node("Gather", [sh, b.initializer("i0", { dtype: "int64", dims: [], data: [0] })], 1, { axis: { int: 0 } });
      const n1 = b.node("Unsqueeze", [n, b.initializer("ax", { dtype: "int64", dims: [1], data: [0] })]);
      const shape = b.node("Concat", [n1, b.initializer("m1", { dtype: "int64", dims: [1], data: [-1] })], 1, { axis: { int: 0 } });
      return b.node("Reshape", [b.node("Relu", ["X"]), shape]);
    },
  },
  {
    name: "Squeeze and Dropout (inference identity)",
    input: [1, 4, 1, 1],
    build: (b) => b.node("Dropout", [b.node("Squeeze", ["X", b.initializer("axes", { dtype: "int64", dims: [2], data: [2, 3] })])]),
  },
  {
    name: "a small network chaining every family",
    input: [1, 2, 10, 10],
    folded: ["Constant", "Cast", "Shape", "Gather", "Unsqueeze", "Concat"],
    build: (b, rng) => {
      const wq = b.initializer("Wq", { dtype: "int8", dims: [4, 2, 3, 3], data: Array.from({ length: 72 }, () => rng.int(-1, 1)) });
      const w = b.node("DequantizeLinear", [wq, b.floats("ws", [4], [0.3, 0.2, 0.4, 0.1]), b.initializer("wz", { dtype: "int8", dims: [4], data: [0, 0, 0, 0] })], 1, { axis: { int: 0 } });
      const c1 = b.node("Conv", ["X", w], 1, { pads: { ints: [1, 1, 1, 1] }, strides: { ints: [1, 1] } });
      const bn = b.node("BatchNormalization", [c1, b.floats("g", [4], [1, 0.5, 2, 1.2]), b.floats("bb", [4], randn(rng, 4, 0.1)), b.floats("mu", [4], randn(rng, 4, 0.1)), b.floats("v", [4], [1, 2, 0.5, 1])]);
      const r = b.node("Relu", [bn]);
      const s = b.node("Cast", [b.node("Constant", [], 1, { value: { tensor: { dtype: "float64", dims: [], data: [0.1] } } })], 1, { to: { int: 1 } });
      const qa = b.node("Clip", [b.node("Round", [b.node("Div", [r, s])]), b.floats("z", [], [0]), b.floats("f15", [], [15])]);
      const a = b.node("Mul", [qa, s]);
      const mp = b.node("MaxPool", [a], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
      const c2 = conv(b, rng, mp, 4, 4, [3, 3], { pads: { ints: [1, 1, 1, 1] } });
      const q = b.node("QuantizeLinear", [b.node("Clip", [c2, b.floats("lo", [], [0]), b.floats("hi", [], [1.5])]), b.floats("qs", [], [0.1]), b.initializer("qz", { dtype: "uint8", dims: [], data: [0] })]);
      const dq = b.node("DequantizeLinear", [q, "qs", "qz"]);
      const res = b.node("Add", [dq, mp]);
      const ap = b.node("AveragePool", [res], 1, { kernel_shape: { ints: [2, 2] }, strides: { ints: [1, 1] } });
      const gp = b.node("GlobalAveragePool", [ap]);
      const sh = b.node("Shape", [gp]);
      const n = b.node("Unsqueeze", [b.node("Gather", [sh, b.initializer("i0", { dtype: "int64", dims: [], data: [0] })]), b.initializer("ax", { dtype: "int64", dims: [1], data: [0] })]);
      const flat = b.node("Reshape", [gp, b.node("Concat", [n, b.initializer("m1", { dtype: "int64", dims: [1], data: [-1] })], 1, { axis: { int: 0 } })]);
      const g = b.node("Gemm", [flat, b.floats("Wg", [6, 4], randn(rng, 24)), b.floats("Cg", [6], randn(rng, 6))], 1, { transB: { int: 1 } });
      return b.node("Identity", [b.node("MatMul", [g, b.floats("Wm", [6, 3], randn(rng, 18))])]);
    },
  },
];

function opCounts(g: Graph): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of g.nodes) m.set(n.opType, (m.get(n.opType) ?? 0) + 1);
  return m;
}

describe("ONNX round trip: onnx-buf model -> rtap import -> float executor == onnxruntime", () => {
  CASES.forEach((c, i) => {
    test(c.name, async () => {
      const rng = new Rng(1000 + i);
      const b = new OnnxModelBuilder({ opset: c.opset ?? 13, name: `case${i}` });
      b.input("X", c.input);
      const out = c.build(b, rng);
      b.output(out);
      const bytes = b.bytes();
      const g = importOnnxBytes(bytes, `case ${i}`);

      // every tensor the remaining nodes touch has a shape
      for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) if (t) assert.ok(g.shapes.has(t), `shape of ${t}`);
      const ops = opCounts(g);
      for (const op of c.folded ?? []) assert.equal(ops.get(op) ?? 0, 0, `${op} should be folded at import, graph has ${[...ops.keys()].join(",")}`);
      for (const op of c.kept ?? []) assert.ok((ops.get(op) ?? 0) > 0, `${op} should remain`);

      for (let k = 0; k < 3; k++) {
        const n = numel(c.input);
        const x = c.data ? c.data(n, rng) : randn(rng, n);
        const ours = runFloat(g, x).output;
        const ref = await ortRun(bytes, x, c.input, `roundtrip-${i}`);
        assert.deepEqual(ours.dims, ref.dims, "output shape");
        assert.deepEqual(g.shapes.get(g.outputs[0]!), ref.dims, "inferred output shape");
        const err = relativeError(ours.data, ref.data);
        assert.ok(err <= 1e-4, `relative error ${err} > 1e-4 (ours ${Array.from(ours.data.slice(0, 6))} vs ort ${Array.from(ref.data.slice(0, 6))})`);
      }
    });
  });

  test("half-to-even rounding matches ORT exactly on ties", async () => {
    const b = new OnnxModelBuilder();
    b.input("X", [1, 1, 1, 8]);
    b.output(b.node("Round", ["X"]));
    const bytes = b.bytes();
    const x = Float32Array.of(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5);
    const ours = runFloat(importOnnxBytes(bytes, "round"), x).output.data;
    assert.deepEqual(Array.from(ours), [-2, -2, -0, 0, 2, 2, 4, 4]);
    assert.deepEqual(Array.from(ours), Array.from((await ortRun(bytes, x, [1, 1, 1, 8])).data));
  });
});

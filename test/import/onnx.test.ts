/**
 * Import of the real models in ../shared/models (fmnist-resnet8 in three encodings from the
 * fixtures, resnet18-torchvision from ../shared when present): operator counts before and after
 * constant folding, what was folded, inferred shapes of every tensor (checked against the tensors
 * the float executor actually produces), and the output shape.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { importOnnxFile } from "../../src/import/onnx.js";
import { numel, type Graph } from "../../src/import/graph.js";
import { runFloat } from "../../src/float/executor.js";
import { decodeModel, initializerFloats } from "./onnx-builder.js";
import { FMNIST_ENCODINGS, RESNET18_TORCHVISION, SHARED_MODELS, fixtureModel, skipNoResnet18 } from "./fixtures.js";

type Counts = Record<string, number>;

function counts(ops: string[]): Counts {
  const c: Counts = {};
  for (const op of ops) c[op] = (c[op] ?? 0) + 1;
  return c;
}

interface Expected {
  raw: Counts;
  kept: Counts;
  output: number[];
  input: number[];
}

const FMNIST_BODY = { Conv: 9, Add: 3, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 };
const EXPECTED: Record<string, Expected> = {
  "fmnist-resnet8.onnx": {
    raw: { ...FMNIST_BODY, Constant: 28, Div: 7, Round: 7, Clip: 7, Mul: 7 },
    kept: { ...FMNIST_BODY, Div: 7, Round: 7, Clip: 7, Mul: 7 },
    output: [1, 10],
    input: [1, 1, 28, 28],
  },
  "fmnist-resnet8.qdq.onnx": {
    // 17 DequantizeLinear: 10 on weights (9 conv + FC, folded) and 7 on activations (kept)
    raw: { ...FMNIST_BODY, DequantizeLinear: 17, QuantizeLinear: 7, Clip: 7 },
    kept: { ...FMNIST_BODY, DequantizeLinear: 7, QuantizeLinear: 7, Clip: 7 },
    output: [1, 10],
    input: [1, 1, 28, 28],
  },
  "fmnist-resnet8.bn.onnx": {
    raw: { ...FMNIST_BODY, BatchNormalization: 9, Constant: 16, Cast: 14, Identity: 2, Div: 7, Round: 7, Clip: 7, Mul: 7 },
    kept: { ...FMNIST_BODY, BatchNormalization: 9, Div: 7, Round: 7, Clip: 7, Mul: 7 },
    output: [1, 10],
    input: [1, 1, 28, 28],
  },
  "resnet18-torchvision.onnx": {
    // the 16 Identity nodes alias initializers (shared weights in the export); all fold away
    raw: { Conv: 20, Relu: 17, MaxPool: 1, Add: 8, GlobalAveragePool: 1, Flatten: 1, Gemm: 1, Identity: 16 },
    kept: { Conv: 20, Relu: 17, MaxPool: 1, Add: 8, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 },
    output: [1, 1000],
    input: [1, 3, 224, 224],
  },
};

function checkCommon(file: string, path: string): Graph {
  const exp = EXPECTED[file]!;
  const proto = decodeModel(readFileSync(path));
  const g = importOnnxFile(path);
  assert.deepEqual(counts(proto.graph!.node.map((n) => n.opType)), exp.raw, "operators in the file");
  assert.deepEqual(counts(g.nodes.map((n) => n.opType)), exp.kept, "operators after constant folding");
  assert.equal(g.opset, 13);
  assert.equal(g.source, path);
  assert.deepEqual(g.inputs.map((i) => i.dims), [exp.input]);
  assert.equal(g.outputs.length, 1);
  assert.deepEqual(g.shapes.get(g.outputs[0]!), exp.output);

  // Every tensor of the file (graph input, initializers, every node output, folded or not) has a shape and a type.
  const names = [g.inputs[0]!.name, ...proto.graph!.initializer.map((t) => t.name), ...proto.graph!.node.flatMap((n) => n.output)];
  for (const t of names) {
    assert.ok(g.shapes.has(t), `no shape for ${t}`);
    assert.ok(g.dtypes.has(t), `no dtype for ${t}`);
  }
  // Every input of a remaining node is the graph input, a constant, or the output of an earlier node (topological order).
  const defined = new Set<string>([g.inputs[0]!.name, ...g.constants.keys()]);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) assert.ok(defined.has(i), `${n.name} reads ${i} before it is defined`);
    for (const o of n.outputs) if (o) defined.add(o);
  }
  // Constants agree with their recorded shapes; nothing dead is kept.
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  for (const [name, c] of g.constants) {
    assert.deepEqual(c.dims, g.shapes.get(name), `dims of constant ${name}`);
    assert.equal(c.data.length, numel(c.dims), `data of constant ${name}`);
    assert.ok(used.has(name), `constant ${name} is unused but kept`);
  }
  return g;
}

/** Runs one image and checks that every tensor the executor produced has the inferred shape. */
function checkShapesByExecution(g: Graph): void {
  const x = Float32Array.from({ length: numel(g.inputs[0]!.dims) }, (_, i) => ((i * 37) % 256) / 255);
  const { tensors } = runFloat(g, x, { keepAll: true });
  let checked = 0;
  for (const n of g.nodes)
    for (const o of n.outputs) {
      if (!o) continue;
      assert.deepEqual(tensors.get(o)!.dims, g.shapes.get(o), `executed vs inferred shape of ${o}`);
      assert.equal(tensors.get(o)!.dtype, g.dtypes.get(o), `executed vs inferred type of ${o}`);
      checked++;
    }
  assert.equal(checked, g.nodes.length);
}

describe("import of ../shared/models", () => {
  test("fmnist-resnet8.onnx: 28 Constant nodes folded, Div/Round/Clip/Mul activations kept", () => {
    const g = checkCommon("fmnist-resnet8.onnx", fixtureModel("fmnist-resnet8.onnx"));
    checkShapesByExecution(g);
    // Each activation is Div(s) -> Round -> Clip(0, 15) -> Mul(s) with the same folded scalar s.
    for (const clip of g.nodes.filter((n) => n.opType === "Clip")) {
      assert.equal(g.constants.get(clip.inputs[1]!)!.data[0], 0);
      assert.equal(g.constants.get(clip.inputs[2]!)!.data[0], 15);
    }
    for (const div of g.nodes.filter((n) => n.opType === "Div")) {
      const s = g.constants.get(div.inputs[1]!)!;
      assert.equal(numel(s.dims), 1);
      const round = g.nodes.find((n) => n.inputs[0] === div.outputs[0])!;
      const clip = g.nodes.find((n) => n.inputs[0] === round.outputs[0])!;
      const mul = g.nodes.find((n) => n.inputs[0] === clip.outputs[0])!;
      assert.deepEqual([round.opType, clip.opType, mul.opType], ["Round", "Clip", "Mul"]);
      assert.equal(g.constants.get(mul.inputs[1]!)!.data[0], s.data[0], "Mul scale equals Div scale");
    }
    // conv weights are ternary per output channel ({-a, 0, +a})
    for (const conv of g.nodes.filter((n) => n.opType === "Conv")) {
      const w = g.constants.get(conv.inputs[1]!)!;
      const O = w.dims[0]!, J = w.data.length / O;
      for (let o = 0; o < O; o++) {
        const mags = new Set<number>();
        for (let j = 0; j < J; j++) if (w.data[o * J + j] !== 0) mags.add(Math.abs(w.data[o * J + j]!));
        assert.ok(mags.size <= 1, `${conv.name} channel ${o} has ${mags.size} magnitudes`);
      }
    }
  });

  test("fmnist-resnet8.qdq.onnx: the 10 weight DequantizeLinear nodes are folded into float weights", () => {
    const path = fixtureModel("fmnist-resnet8.qdq.onnx");
    const g = checkCommon("fmnist-resnet8.qdq.onnx", path);
    checkShapesByExecution(g);
    const proto = decodeModel(readFileSync(path));
    const inits = new Map(proto.graph!.initializer.map((t) => [t.name, t]));
    // Every weight DQ of the file reads an int8 initializer in {-1,0,1}; its output is now a constant
    // equal to q * scale[o] per output channel (axis 0).
    const weightDqs = proto.graph!.node.filter((n) => n.opType === "DequantizeLinear" && inits.has(n.input[0]!));
    assert.equal(weightDqs.length, 10);
    for (const dq of weightDqs) {
      const folded = g.constants.get(dq.output[0]!);
      assert.ok(folded, `folded weights ${dq.output[0]}`);
      assert.equal(folded.dtype, "float32");
      const q = inits.get(dq.input[0]!)!;
      assert.equal(q.dataType, 3, "int8 weights");
      const qv = Int8Array.from(q.rawData);
      const sc = initializerFloats(inits.get(dq.input[1]!)!);
      const O = folded.dims[0]!, J = folded.data.length / O;
      assert.equal(sc.length, O);
      for (let o = 0; o < O; o++)
        for (let j = 0; j < J; j++) {
          assert.ok(qv[o * J + j]! >= -1 && qv[o * J + j]! <= 1);
          assert.equal(folded.data[o * J + j], Math.fround(qv[o * J + j]! * sc[o]!));
        }
      const user = g.nodes.find((n) => n.inputs.includes(dq.output[0]!))!;
      assert.ok(user.opType === "Conv" || user.opType === "Gemm", `${user.opType} consumes folded weights`);
    }
    // the activation DQs remain, each right after a QuantizeLinear
    for (const dq of g.nodes.filter((n) => n.opType === "DequantizeLinear")) {
      assert.equal(g.nodes.find((n) => n.outputs.includes(dq.inputs[0]!))!.opType, "QuantizeLinear");
      assert.equal(g.dtypes.get(dq.inputs[0]!), "uint8");
    }
  });

  test("fmnist-resnet8.bn.onnx: Constant -> Cast feeding Clip is folded, BatchNormalization kept", () => {
    const path = fixtureModel("fmnist-resnet8.bn.onnx");
    const g = checkCommon("fmnist-resnet8.bn.onnx", path);
    checkShapesByExecution(g);
    const proto = decodeModel(readFileSync(path));
    // In the file, every Clip bound is produced by a Cast of a Constant.
    const producer = new Map(proto.graph!.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const clips = proto.graph!.node.filter((n) => n.opType === "Clip");
    assert.equal(clips.length, 7);
    for (const clip of clips) {
      for (const bound of clip.input.slice(1)) {
        const cast = producer.get(bound)!;
        assert.equal(cast.opType, "Cast");
        assert.equal(producer.get(cast.input[0]!)!.opType, "Constant");
      }
    }
    // After import the bounds are float32 scalar constants 0 and 15.
    for (const clip of g.nodes.filter((n) => n.opType === "Clip")) {
      const [lo, hi] = [g.constants.get(clip.inputs[1]!)!, g.constants.get(clip.inputs[2]!)!];
      assert.equal(lo.dtype, "float32");
      assert.deepEqual([lo.data[0], hi.data[0]], [0, 15]);
    }
    for (const bn of g.nodes.filter((n) => n.opType === "BatchNormalization")) {
      for (const p of bn.inputs.slice(1)) assert.ok(g.constants.has(p), `${bn.name} parameter ${p} is constant`);
    }
  });

  test("resnet18-torchvision.onnx: 16 Identity nodes folded, ImageNet shapes", { skip: skipNoResnet18 }, () => {
    const g = checkCommon("resnet18-torchvision.onnx", RESNET18_TORCHVISION);
    const convOut = (name: string): number[] => g.shapes.get(g.nodes.find((n) => n.name === name)!.outputs[0]!)!;
    assert.deepEqual(convOut("/conv1/Conv"), [1, 64, 112, 112]);
    assert.deepEqual(g.shapes.get(g.nodes.find((n) => n.opType === "MaxPool")!.outputs[0]!), [1, 64, 56, 56]);
    assert.deepEqual(convOut("/layer2/layer2.0/conv1/Conv"), [1, 128, 28, 28]);
    assert.deepEqual(convOut("/layer3/layer3.0/downsample/downsample.0/Conv"), [1, 256, 14, 14]);
    assert.deepEqual(convOut("/layer4/layer4.1/conv2/Conv"), [1, 512, 7, 7]);
    assert.deepEqual(g.shapes.get(g.nodes.find((n) => n.opType === "Flatten")!.outputs[0]!), [1, 512]);
    let weights = 0;
    for (const n of g.nodes) if (n.opType === "Conv" || n.opType === "Gemm") weights += numel(g.constants.get(n.inputs[1]!)!.dims);
    // torchvision resnet18: 11,689,512 parameters = 11,678,912 conv/fc weights + 1,000 fc bias + 9,600 BN (2 x 4,800 channels)
    assert.equal(weights, 11_678_912);
  });

  test("the fixture copies are byte-identical to ../shared/models", { skip: existsSync(SHARED_MODELS) ? false : `${SHARED_MODELS} is absent` }, () => {
    for (const f of [...FMNIST_ENCODINGS, "fmnist-resnet8.json"]) {
      assert.ok(readFileSync(fixtureModel(f)).equals(readFileSync(join(SHARED_MODELS, f))), `${f} differs from ../shared/models`);
    }
  });
});

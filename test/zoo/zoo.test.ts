import { test } from "node:test";
import assert from "node:assert/strict";
import { buildZooModel, isZooSpec, zooCatalog, zooNames, type ZooInfo } from "../../src/zoo/index.js";
import { attrInt, attrInts, numel, type Graph } from "../../src/import/graph.js";
import { RtapError } from "../../src/errors.js";

const NAMES = ["resnet18", "resnet34", "resnet20", "vgg11", "vgg16", "vgg-small"];

/** Built once per name and options, since the big ones take a while. */
const cache = new Map<string, { graph: Graph; info: ZooInfo }>();
function model(name: string, weights: boolean): { graph: Graph; info: ZooInfo } {
  const key = `${name}/${weights}`;
  let m = cache.get(key);
  if (!m) {
    m = buildZooModel(name, { weights });
    cache.set(key, m);
  }
  return m;
}

/**
 * Expected counts. paramsUnfolded: torchvision num_params where it exists (resnet18/34, vgg11/16,
 * pytorch.org/vision model docs); the others are recomputed by hand in the comments. MACs are
 * summed by hand per layer (conv: O*Ho*Wo*C*k*k, FC: in*out) and agree with torchvision's GFLOPS
 * (1.81, 3.66, 7.61, 15.47).
 */
const EXPECTED: Record<string, { params: number; paramsUnfolded: number; macs: number; depth: number; classes: number; input: number[] }> = {
  // 4,800 BN channels: conv1 64 + layer1 4*64 + layers2-4 5*(128, 256, 512).
  resnet18: { params: 11_689_512 - 4_800, paramsUnfolded: 11_689_512, macs: 1_814_073_344, depth: 18, classes: 1000, input: [3, 224, 224] },
  // 8,512 BN channels: 64 + 6*64 + 9*128 + 13*256 + 7*512.
  resnet34: { params: 21_797_672 - 8_512, paramsUnfolded: 21_797_672, macs: 3_663_761_408, depth: 34, classes: 1000, input: [3, 224, 224] },
  // Option A (paper, 0.27M): 269,722; option B adds 1x1 convs 16->32 and 32->64 (2,560 weights)
  // with their BN (2*96): 272,474. Folded: minus 784 BN channels (16*7 + 32*7 + 64*7).
  resnet20: { params: 272_474 - 784, paramsUnfolded: 272_474, macs: 40_551_040 + 262_144, depth: 20, classes: 10, input: [3, 32, 32] },
  vgg11: { params: 132_863_336, paramsUnfolded: 132_863_336, macs: 7_609_090_048, depth: 11, classes: 1000, input: [3, 224, 224] },
  vgg16: { params: 138_357_544, paramsUnfolded: 138_357_544, macs: 15_470_264_320, depth: 16, classes: 1000, input: [3, 224, 224] },
  // Conv weights 4,574,592 + BN 2*1,792 + FC 81,930; MACs 607,518,720 conv + 81,920 FC.
  "vgg-small": { params: 4_658_314, paramsUnfolded: 4_660_106, macs: 607_600_640, depth: 7, classes: 10, input: [3, 32, 32] },
};

/** Independent shape inference from node attributes, checking every tensor's recorded shape. */
function checkShapes(graph: Graph, withWeights: boolean): void {
  const known = new Map<string, number[]>();
  for (const inp of graph.inputs) known.set(inp.name, inp.dims);
  for (const [name, dims] of graph.shapes) if (!graph.nodes.some((n) => n.outputs.includes(name)) && name !== "input") known.set(name, dims);
  for (const [name, c] of graph.constants) {
    assert.deepEqual(c.dims, graph.shapes.get(name), `constant ${name} dims`);
    assert.equal(c.data.length, numel(c.dims), `constant ${name} data length`);
    assert.ok(c.data instanceof Float32Array && c.dtype === "float32");
  }
  const shapeOf = (t: string): number[] => {
    const s = known.get(t);
    assert.ok(s, `tensor ${t} used before it is defined`);
    return s;
  };
  for (const node of graph.nodes) {
    const x = shapeOf(node.inputs[0]!);
    let out: number[];
    switch (node.opType) {
      case "Conv": {
        const w = shapeOf(node.inputs[1]!);
        const [kh, kw] = attrInts(node, "kernel_shape", []);
        const [sh, sw] = attrInts(node, "strides", []);
        const [pt, pl, pb, pr] = attrInts(node, "pads", []);
        assert.deepEqual(attrInts(node, "dilations", []), [1, 1]);
        assert.equal(attrInt(node, "group", 0), 1);
        assert.equal(w[1], x[1], `${node.name}: weight in-channels`);
        assert.deepEqual(w.slice(2), [kh, kw]);
        assert.deepEqual(shapeOf(node.inputs[2]!), [w[0]]);
        out = [1, w[0]!, Math.floor((x[2]! + pt! + pb! - kh!) / sh!) + 1, Math.floor((x[3]! + pl! + pr! - kw!) / sw!) + 1];
        break;
      }
      case "MaxPool": {
        const [kh, kw] = attrInts(node, "kernel_shape", []);
        const [sh, sw] = attrInts(node, "strides", []);
        const [pt, pl, pb, pr] = attrInts(node, "pads", []);
        out = [1, x[1]!, Math.floor((x[2]! + pt! + pb! - kh!) / sh!) + 1, Math.floor((x[3]! + pl! + pr! - kw!) / sw!) + 1];
        break;
      }
      case "Relu":
        out = x;
        break;
      case "Add":
        assert.deepEqual(shapeOf(node.inputs[1]!), x, `${node.name}: Add operands`);
        out = x;
        break;
      case "GlobalAveragePool":
        out = [1, x[1]!, 1, 1];
        break;
      case "Flatten":
        assert.equal(attrInt(node, "axis", 0), 1);
        out = [1, numel(x.slice(1))];
        break;
      case "Gemm": {
        const w = shapeOf(node.inputs[1]!);
        assert.equal(attrInt(node, "transB", 0), 1);
        assert.equal(w[1], x[1], `${node.name}: Gemm in-features`);
        assert.deepEqual(shapeOf(node.inputs[2]!), [w[0]]);
        out = [1, w[0]!];
        break;
      }
      default:
        assert.fail(`unexpected op ${node.opType}`);
    }
    assert.equal(node.outputs.length, 1);
    assert.deepEqual(graph.shapes.get(node.outputs[0]!), out, `${node.name} output shape`);
    known.set(node.outputs[0]!, out);
  }
  // Every tensor has a shape and a dtype, and nothing else is recorded.
  const tensors = new Set<string>(["input"]);
  for (const n of graph.nodes) for (const t of [...n.inputs, ...n.outputs]) tensors.add(t);
  assert.deepEqual(new Set(graph.shapes.keys()), tensors);
  assert.deepEqual(new Set(graph.dtypes.keys()), tensors);
  for (const d of graph.dtypes.values()) assert.equal(d, "float32");
  if (withWeights) {
    for (const n of graph.nodes.filter((n) => n.opType === "Conv" || n.opType === "Gemm")) {
      for (const t of n.inputs.slice(1)) assert.ok(graph.constants.has(t), `${t} has data`);
    }
    assert.equal(graph.constants.size, 2 * graph.nodes.filter((n) => n.opType === "Conv" || n.opType === "Gemm").length);
  } else assert.equal(graph.constants.size, 0);
}

test("zoo names, specs and catalog", () => {
  assert.deepEqual(zooNames(), NAMES);
  assert.ok(isZooSpec("zoo:resnet18"));
  assert.ok(isZooSpec("zoo:nonsense"), "routed to the zoo, which then names the available models");
  assert.ok(!isZooSpec("models/resnet18.onnx"));
  assert.deepEqual(zooCatalog().map((c) => c.name), NAMES);
  for (const c of zooCatalog()) assert.ok(c.source.length > 20 && c.description.length > 20);
});

test("unknown model and bad options raise RtapError naming the problem", () => {
  assert.throws(
    () => buildZooModel("zoo:resnet50"),
    (e: unknown) =>
      e instanceof RtapError &&
      e.message.includes('unknown zoo model "resnet50"') &&
      NAMES.every((n) => e.message.includes(`zoo:${n}`)),
  );
  assert.throws(() => buildZooModel("toString"), RtapError);
  assert.throws(() => buildZooModel("resnet20", { seed: -1 }), (e: unknown) => e instanceof RtapError && /seed/.test(e.message));
  assert.throws(() => buildZooModel("resnet20", { seed: 1.5 }), RtapError);
});

for (const name of NAMES) {
  test(`${name}: params, MACs and depth match the published topology; shapes are consistent`, () => {
    const { graph, info } = model(name, false);
    const e = EXPECTED[name]!;
    assert.equal(info.params, e.params);
    assert.equal(info.paramsUnfolded, e.paramsUnfolded);
    assert.equal(info.macs, e.macs);
    assert.equal(info.classes, e.classes);
    assert.deepEqual(info.inputShape, e.input);
    assert.equal(info.layers.filter((l) => !l.name.includes("downsample")).length, e.depth);
    assert.ok(Number.isNaN(info.sparsity));
    assert.deepEqual(graph.inputs, [{ name: "input", dims: [1, ...e.input], dtype: "float32" }]);
    assert.deepEqual(graph.outputs, ["logits"]);
    assert.deepEqual(graph.shapes.get("logits"), [1, e.classes]);
    assert.equal(graph.source, `zoo:${name}`);
    checkShapes(graph, false);
    // Per-layer counts agree with the graph's own shapes.
    let params = 0, macs = 0;
    for (const node of graph.nodes.filter((n) => n.opType === "Conv" || n.opType === "Gemm")) {
      const w = graph.shapes.get(node.inputs[1]!)!;
      const out = graph.shapes.get(node.outputs[0]!)!;
      const layer = info.layers.find((l) => l.name === node.name)!;
      assert.equal(layer.params, numel(w) + w[0]!);
      assert.equal(layer.macs, numel(w) * numel(out.slice(2)));
      assert.deepEqual([layer.outChannels, layer.inChannels], w.slice(0, 2));
      params += numel(w) + w[0]!;
      macs += layer.macs;
    }
    assert.equal(params, info.params);
    assert.equal(macs, info.macs);
  });
}

test("resnet18 structure: stem, stage strides and projection shortcuts as in torchvision", () => {
  const { graph, info } = model("resnet18", false);
  const layer = (n: string) => info.layers.find((l) => l.name === n)!;
  assert.deepEqual([layer("conv1").kernel, layer("conv1").stride, layer("conv1").pads], [[7, 7], [2, 2], [3, 3, 3, 3]]);
  assert.deepEqual(graph.shapes.get("maxpool.out"), [1, 64, 56, 56]);
  assert.deepEqual(info.layers.filter((l) => l.name.includes("downsample")).map((l) => [l.name, l.kernel, l.stride, l.outShape]), [
    ["layer2.0.downsample", [1, 1], [2, 2], [128, 28, 28]],
    ["layer3.0.downsample", [1, 1], [2, 2], [256, 14, 14]],
    ["layer4.0.downsample", [1, 1], [2, 2], [512, 7, 7]],
  ]);
  assert.deepEqual(graph.shapes.get("avgpool.out"), [1, 512, 1, 1]);
  // Every residual Add is followed by a Relu, and every Conv except the last of a block by a Relu.
  const consumers = (t: string) => graph.nodes.filter((n) => n.inputs.includes(t)).map((n) => n.opType);
  for (const n of graph.nodes.filter((n) => n.opType === "Add")) assert.deepEqual(consumers(n.outputs[0]!), ["Relu"]);
  assert.deepEqual(graph.nodes.map((n) => n.opType).filter((t) => t === "Add").length, 8);
});

test("full builds: weights are TWN-ternary per channel with Kaiming fan-out scale, sparsity ~42%", () => {
  for (const name of ["resnet18", "resnet20", "vgg-small"]) {
    const { graph, info } = model(name, true);
    const topo = model(name, false);
    assert.deepEqual(graph.nodes, topo.graph.nodes, `${name}: same topology with and without weights`);
    assert.deepEqual(graph.shapes, topo.graph.shapes);
    assert.equal(info.params, topo.info.params);
    checkShapes(graph, true);
    let zerosAll = 0, weightsAll = 0;
    for (const layer of info.layers) {
      const w = graph.constants.get(`${layer.name}.weight`)!.data as Float32Array;
      const b = graph.constants.get(`${layer.name}.bias`)!.data as Float32Array;
      const O = layer.outChannels, J = w.length / O;
      let zeros = 0, alphaMean = 0, biasNonZero = 0;
      for (let o = 0; o < O; o++) {
        let alpha = 0;
        for (let j = 0; j < J; j++) {
          const v = w[o * J + j]!;
          if (v === 0) zeros++;
          else if (alpha === 0) alpha = Math.abs(v);
          else assert.equal(Math.abs(v), alpha, `${name} ${layer.name} row ${o}: one magnitude per channel`);
        }
        assert.ok(alpha > 0);
        alphaMean += alpha / O;
        if (b[o] !== 0) biasNonZero++;
      }
      assert.equal(layer.sparsity, zeros / w.length);
      assert.equal(biasNonZero, O, `${layer.name}: seeded biases are non-zero`);
      zerosAll += zeros;
      weightsAll += w.length;
      // alpha = E[|w| : |w| > 0.7 E|w|] = 1.1849 std for a Gaussian (std * phi(d) / (1 - Phi(d)), d = 0.5585).
      const std = layer.kind === "conv" ? Math.sqrt(2 / (O * layer.kernel[0] * layer.kernel[1])) : 0.01;
      if (w.length >= 100_000) assert.ok(Math.abs(alphaMean / std / 1.1849 - 1) < 0.02, `${name} ${layer.name}: alpha/std ${alphaMean / std}`);
    }
    assert.equal(info.sparsity, zerosAll / weightsAll);
    assert.ok(Math.abs(info.sparsity - 0.4235) < 0.005, `${name} sparsity ${info.sparsity}`);
  }
});

test("weights are deterministic per seed; different seeds differ in every layer; bias modes", () => {
  const a = buildZooModel("zoo:resnet20");
  const b = buildZooModel("resnet20", { seed: 0 });
  assert.deepEqual(a.graph.constants, b.graph.constants);
  assert.deepEqual(a.info, b.info);
  const c = buildZooModel("resnet20", { seed: 1 });
  assert.equal(c.info.seed, 1);
  for (const [name, t] of a.graph.constants) assert.notDeepEqual(t.data, c.graph.constants.get(name)!.data, `${name} differs across seeds`);
  const z = buildZooModel("resnet20", { bias: "zero" });
  for (const [name, t] of z.graph.constants) {
    if (name.endsWith(".bias")) assert.ok(t.data.every((v) => v === 0), `${name} is zero`);
    else assert.deepEqual(t.data, a.graph.constants.get(name)!.data, `${name}: bias mode does not change weights`);
  }
});

test("the float executor runs zoo:resnet20 end to end: shapes agree, activations are not degenerate", async () => {
  const { runFloat } = await import("../../src/float/executor.js");
  const { Rng } = await import("../../src/util/random.js");
  const { graph } = model("resnet20", true);
  const rng = new Rng(9);
  const x = new Float32Array(3 * 32 * 32).map(() => rng.int(0, 255) / 255);
  const r = runFloat(graph, x, { keepAll: true });
  for (const node of graph.nodes) {
    const t = r.tensors.get(node.outputs[0]!)!;
    assert.deepEqual(t.dims, graph.shapes.get(node.outputs[0]!), `${node.name} shape`);
    assert.ok(t.data.every(Number.isFinite), `${node.name} finite`);
    if (node.opType === "Relu") {
      // Some but not all activations are cut by ReLU: calibration sees a real range.
      const zeroFraction = t.data.filter((v) => v === 0).length / t.data.length;
      assert.ok(zeroFraction > 0.05 && zeroFraction < 0.75, `${node.name}: ReLU zero fraction ${zeroFraction}`);
    }
  }
  assert.deepEqual(r.output.dims, [1, 10]);
  assert.ok(new Set(r.output.data).size === 10, "logits are distinct");
});

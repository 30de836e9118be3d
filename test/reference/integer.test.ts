/**
 * The integer reference executor against a naive executor of the documented QGraph semantics
 * (test/reference/naive.ts): every tensor, bit for bit, on the fmnist-resnet8 QGraph with real
 * images, on zoo:resnet20 with random images, and on hand-built QGraphs whose signed, wide ranges
 * stress the lane packing. Also: the per-channel ranges the quantizer records bound every value on
 * real data (the lane packing relies on them), batching does not change results, bad input sizes
 * are RtapErrors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadDataset } from "../../src/data/dataset.js";
import { randomImages } from "../../src/data/synthetic.js";
import { importOnnxFile } from "../../src/import/onnx.js";
import { loadQuantizedModel } from "../../src/model.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QConvOp, QGraph, QOp, QTensor, Shape3 } from "../../src/quantize/qgraph.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { Rng } from "../../src/util/random.js";
import { FMNIST_SLICE_SPEC, fixtureModel } from "../import/fixtures.js";
import { expectRtapError } from "../import/expect-error.js";
import { runNaive } from "./naive.js";

/** runReference on a batch vs runNaive per image: every tensor of every image equal. */
function compareWithNaive(q: QGraph, pixels: Uint8Array | Int32Array, batch: number): number {
  const ref = runReference(q, pixels, batch, { keepAll: true });
  const inT = q.tensors.get(q.input)!;
  const per = inT.shape[0] * inT.shape[1] * inT.shape[2];
  let compared = 0;
  for (let i = 0; i < batch; i++) {
    const naive = runNaive(q, pixels.subarray(i * per, (i + 1) * per));
    for (const op of q.ops) {
      const want = naive.get(op.output)!;
      const all = ref.tensors.get(op.output)!;
      const n = want.length;
      assert.equal(all.length, n * batch, `${op.name}: batched tensor size`);
      for (let k = 0; k < n; k++) {
        if (all[i * n + k] !== want[k]) assert.fail(`${op.kind} ${op.name}, image ${i}, element ${k}: reference ${all[i * n + k]}, naive ${want[k]}`);
      }
      compared += n;
    }
  }
  assert.deepEqual(ref.output, ref.tensors.get(q.output));
  return compared;
}

/** Every value of every tensor within its channel's recorded [min, max]. */
function checkRanges(q: QGraph, tensors: Map<string, Int32Array>, batch: number): { tight: number; total: number } {
  let tight = 0, total = 0;
  for (const [name, data] of tensors) {
    const t = q.tensors.get(name)!;
    const [C, H, W] = t.shape;
    const S = H * W;
    assert.equal(data.length, batch * C * S, name);
    for (let c = 0; c < C; c++) {
      let seenMax = -Infinity, seenMin = Infinity;
      for (let n = 0; n < batch; n++)
        for (let i = 0; i < S; i++) {
          const v = data[(n * C + c) * S + i]!;
          seenMax = Math.max(seenMax, v);
          seenMin = Math.min(seenMin, v);
        }
      assert.ok(seenMin >= t.minPerChannel[c]! && seenMax <= t.maxPerChannel[c]!, `${name} channel ${c}: values [${seenMin}, ${seenMax}] outside the recorded range [${t.minPerChannel[c]}, ${t.maxPerChannel[c]}]`);
      if (seenMax === t.maxPerChannel[c]) tight++;
      total++;
    }
  }
  return { tight, total };
}

// ---------------------------------------------------------------- hand-built QGraphs

function tensor(name: string, shape: Shape3, min: number[] | number, max: number[] | number, kind: QTensor["kind"] = "int"): QTensor {
  const C = shape[0];
  const arr = (v: number[] | number): Int32Array => Int32Array.from(typeof v === "number" ? new Array<number>(C).fill(v) : v);
  return { name, shape, kind, minPerChannel: arr(min), maxPerChannel: arr(max), scale: new Float64Array(C).fill(1), offset: new Float64Array(C) };
}

/** Exact conv output ranges from input ranges and ternary weights (0 included when padded). */
function convRange(w: Int8Array, O: number, C: number, KHW: number, inT: QTensor, padded: boolean): [number[], number[]] {
  const lo: number[] = [], hi: number[] = [];
  for (let o = 0; o < O; o++) {
    let a = 0, b = 0;
    for (let c = 0; c < C; c++) {
      const mn = padded ? Math.min(0, inT.minPerChannel[c]!) : inT.minPerChannel[c]!;
      const mx = padded ? Math.max(0, inT.maxPerChannel[c]!) : inT.maxPerChannel[c]!;
      for (let k = 0; k < KHW; k++) {
        const x = w[(o * C + c) * KHW + k]!;
        if (x === 1) (a += mn), (b += mx);
        if (x === -1) (a -= mx), (b -= mn);
      }
    }
    lo.push(a);
    hi.push(b);
  }
  return [lo, hi];
}

/** A small QGraph exercising every op on signed, wide values: conv -> conv -> add(neg mul) -> maxpool -> sumpool -> requant. */
function handBuilt(rng: Rng, density: number): QGraph {
  const tensors = new Map<string, QTensor>();
  const ops: QOp[] = [];
  const add = (t: QTensor): QTensor => (tensors.set(t.name, t), t);
  const inp = add(tensor("in", [3, 11, 9], 0, 255, "code"));
  ops.push({ kind: "input", name: "in", origin: [], output: "in", bits: 8 });
  const conv = (name: string, src: QTensor, O: number, k: [number, number], stride: [number, number], pads: [number, number, number, number], outHW: [number, number]): QTensor => {
    const C = src.shape[0];
    const weights = Int8Array.from({ length: O * C * k[0] * k[1] }, () => (rng.bernoulli(density) ? (rng.bernoulli(0.5) ? 1 : -1) : 0));
    const [lo, hi] = convRange(weights, O, C, k[0] * k[1], src, pads.some((p) => p > 0));
    const out = add(tensor(name, [O, ...outHW], lo, hi));
    const op: QConvOp = { kind: "conv", name, origin: [], input: src.name, output: name, outChannels: O, inChannels: C, kernel: k, stride, pads, weights, fullyConnected: false };
    ops.push(op);
    return out;
  };
  // 11x9, 3x3 stride (2,1), pads top 1 left 0 bottom 2 right 1 -> 6 x 8
  const c1 = conv("c1", inp, 6, [3, 3], [2, 1], [1, 0, 2, 1], [6, 8]);
  // signed input, 2x3 kernel, pads 1 all round -> 7 x 8
  const c2 = conv("c2", c1, 4, [2, 3], [1, 1], [1, 1, 1, 1], [7, 8]);
  const c3 = conv("c3", c1, 4, [2, 3], [1, 1], [1, 1, 1, 1], [7, 8]);
  const mulA = Int32Array.from([3, -2, 1, 7]), mulB = Int32Array.from([-5, 4, 0, -1]);
  const lo: number[] = [], hi: number[] = [];
  for (let c = 0; c < 4; c++) {
    const ta = [mulA[c]! * c2.minPerChannel[c]!, mulA[c]! * c2.maxPerChannel[c]!], tb = [mulB[c]! * c3.minPerChannel[c]!, mulB[c]! * c3.maxPerChannel[c]!];
    lo.push(Math.min(...ta) + Math.min(...tb));
    hi.push(Math.max(...ta) + Math.max(...tb));
  }
  const s = add(tensor("sum", [4, 7, 8], lo, hi));
  ops.push({ kind: "add", name: "sum", origin: [], inputs: ["c2", "c3"], output: "sum", mul: [mulA, mulB] });
  // max pool 3x3/2 with pads 1 -> 4 x 4
  add(tensor("mp", [4, 4, 4], lo, hi));
  ops.push({ kind: "maxpool", name: "mp", origin: [], input: "sum", output: "mp", kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] });
  // sum pool 2x2/2 -> 2 x 2
  add(tensor("sp", [4, 2, 2], lo.map((v) => Math.min(0, v) * 4), hi.map((v) => Math.max(0, v) * 4)));
  ops.push({ kind: "sumpool", name: "sp", origin: [], input: "mp", output: "sp", kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 0] });
  const bits = 3, L = 7;
  const thresholds = new Int32Array(4 * L);
  for (let c = 0; c < 4; c++) {
    const span = Math.max(1, hi[c]! - lo[c]!);
    const ts = Array.from({ length: L }, () => lo[c]! + rng.int(0, span)).sort((a, b) => a - b);
    thresholds.set(ts, c * L);
  }
  add(tensor("codes", [4, 2, 2], 0, L, "code"));
  ops.push({ kind: "requant", name: "codes", origin: [], input: "sp", output: "codes", bits, thresholds });
  return { name: "hand", source: "hand-built", input: "in", ops, tensors, output: "codes", activationBits: bits, notes: [] };
}

describe("integer reference == naive executor of the documented semantics", () => {
  test("fmnist-resnet8: 16 Fashion-MNIST images, every tensor", (t) => {
    const q = quantizeGraph(importOnnxFile(fixtureModel("fmnist-resnet8.onnx")));
    const ds = loadDataset(FMNIST_SLICE_SPEC, { limit: 16 });
    const n = compareWithNaive(q, ds.images, ds.count);
    t.diagnostic(`${n} values equal`);
  });

  test("zoo:resnet20: 2 random 32x32 images, every tensor", (t) => {
    const q = loadQuantizedModel("zoo:resnet20").qgraph;
    const n = compareWithNaive(q, randomImages([3, 32, 32], 2, 5), 2);
    t.diagnostic(`${n} values equal`);
  });

  test("hand-built QGraphs: signed wide inputs to convs, negative add multipliers, padded max pool, sum pool, 3-bit requant", () => {
    for (const [seed, density] of [[1, 0.7], [2, 0.2], [3, 1]] as const) {
      const q = handBuilt(new Rng(seed), density);
      const rng = new Rng(seed + 10);
      const batch = 5;
      const pixels = Uint8Array.from({ length: batch * 3 * 11 * 9 }, () => rng.int(0, 255));
      // extremes too: all 0 and all 255 images reach the range ends
      pixels.fill(0, 0, 297);
      pixels.fill(255, 297, 594);
      compareWithNaive(q, pixels, batch);
      checkRanges(q, runReference(q, pixels, batch, { keepAll: true }).tensors, batch);
    }
  });
});

describe("integer reference: ranges, batching, logits, errors", () => {
  test("fmnist-resnet8: the recorded per-channel ranges bound every value on 256 real images", (t) => {
    const q = quantizeGraph(importOnnxFile(fixtureModel("fmnist-resnet8.onnx")));
    const ds = loadDataset(FMNIST_SLICE_SPEC);
    const r = runReference(q, ds.images, ds.count, { keepAll: true });
    assert.equal(r.tensors.size, q.ops.length);
    const { tight, total } = checkRanges(q, r.tensors, ds.count);
    t.diagnostic(`${tight} of ${total} channels reach their recorded maximum on these images`);
  });

  test("batch size does not change results; input ops and unused tensors", () => {
    const q = quantizeGraph(importOnnxFile(fixtureModel("fmnist-resnet8.qdq.onnx")));
    const ds = loadDataset(FMNIST_SLICE_SPEC, { limit: 20 });
    const all = runReference(q, ds.images, 20);
    const parts = [runReference(q, ds.images.subarray(0, 7 * 784), 7), runReference(q, ds.images.subarray(7 * 784), 13)];
    assert.deepEqual(all.output, Int32Array.from([...parts[0]!.output, ...parts[1]!.output]));
    // without keepAll only the input and the output are kept
    assert.deepEqual([...all.tensors.keys()].sort(), [q.input, q.output].sort());
    // Int32Array input is taken as it is
    assert.deepEqual(runReference(q, Int32Array.from(ds.images), 20).output, all.output);
    // logits: scale * v + offset of the output tensor, per image
    const logits = dequantizeOutput(q, all.output, 20);
    const outT = q.tensors.get(q.output)!;
    assert.equal(logits.length, 20);
    for (let i = 0; i < 20; i++) for (let c = 0; c < 10; c++) assert.equal(logits[i]![c], outT.scale[c]! * all.output[i * 10 + c]! + outT.offset[c]!);
  });

  test("onOp sees every op once, in order", () => {
    const q = quantizeGraph(importOnnxFile(fixtureModel("fmnist-resnet8.onnx")));
    const seen: string[] = [];
    runReference(q, new Uint8Array(784), 1, { onOp: (op, out) => (seen.push(op.name), assert.equal(out.length, q.tensors.get(op.output)!.shape.reduce((a, b) => a * b, 1))) });
    assert.deepEqual(seen, q.ops.filter((o) => o.kind !== "input").map((o) => o.name));
  });

  test("an input of the wrong size is an RtapError naming the shape", () => {
    const q = quantizeGraph(importOnnxFile(fixtureModel("fmnist-resnet8.onnx")));
    expectRtapError(() => runReference(q, new Uint8Array(783), 1), "input has 783 values; 1 image(s) of shape [1,28,28] need 784");
    expectRtapError(() => runReference(q, new Uint8Array(784 * 2), 3), "input has 1568 values; 3 image(s) of shape [1,28,28] need 2352");
  });
});

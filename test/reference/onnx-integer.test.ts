/**
 * The QGraph exported as an ONNX graph of integer-valued float tensors (src/reference/onnx-integer.ts)
 * and run by onnxruntime equals the JS integer reference (runReference) on every tensor, bit for
 * bit: on real Fashion-MNIST images for the three fmnist-resnet8 encodings, on zoo:resnet20 with
 * random and extreme images, and on hand-built QGraphs that force each lowering of requant (affine
 * floor, full and clipped lookup tables, buckets, comparisons, the per-channel mix of affine and
 * tables), float64 adds, padded max pools and sum pools, with images placed on both sides of every
 * threshold. A QGraph whose sums float32 cannot hold is refused with the op and the reason.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadDataset } from "../../src/data/dataset.js";
import { randomImages } from "../../src/data/synthetic.js";
import { importOnnxFile } from "../../src/import/onnx.js";
import { loadQuantizedModel } from "../../src/model.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QGraph, QOp, QTensor, Shape3 } from "../../src/quantize/qgraph.js";
import { runReference } from "../../src/reference/integer.js";
import { EXACT_LIMIT, exportIntegerOnnx, type IntegerOnnxOptions } from "../../src/reference/onnx-integer.js";
import { OrtIntegerExecutor } from "../../src/reference/ort.js";
import { Rng } from "../../src/util/random.js";
import { FMNIST_ENCODINGS, FMNIST_SLICE_SPEC, fixtureModel } from "../import/fixtures.js";
import { expectRtapRejection } from "../import/expect-error.js";

/** Runs the exported graph with every tensor as an output and checks each against runReference. */
async function assertExact(q: QGraph, pixels: Uint8Array, batch: number, opts: IntegerOnnxOptions = {}): Promise<string[]> {
  const created = await OrtIntegerExecutor.create(q, { ...opts, outputs: "all" });
  if (!created.executor) assert.fail(`export refused: ${created.reason}`);
  const ex = created.executor;
  try {
    const got = await ex.run(pixels, batch);
    const ref = runReference(q, pixels, batch, { keepAll: true });
    let compared = 0;
    for (const op of q.ops) {
      if (op.kind === "input") continue;
      const want = ref.tensors.get(op.output)!, have = got.get(op.output);
      assert.ok(have, `${op.name}: not exported`);
      assert.equal(have.length, want.length, `${op.name}: size`);
      for (let i = 0; i < want.length; i++) {
        if (have[i] !== want[i]) assert.fail(`${op.kind} ${op.name}, element ${i}: onnxruntime ${have[i]}, reference ${want[i]} (${ex.exported.steps.find((s) => s.op === op.name)?.lowering})`);
      }
      compared += want.length;
    }
    assert.ok(compared > 0);
    // one exactness step per op, each within its type's exact range
    assert.deepEqual(ex.exported.steps.map((s) => s.op), q.ops.map((o) => o.name));
    for (const s of ex.exported.steps) assert.ok(s.bound <= EXACT_LIMIT[s.dtype], `${s.op}: bound ${s.bound} beyond ${s.dtype}`);
    return ex.exported.steps.map((s) => `${s.kind} ${s.dtype}: ${s.lowering}`);
  } finally {
    await ex.release();
  }
}

describe("integer graph on onnxruntime == runReference, every tensor", () => {
  for (const file of FMNIST_ENCODINGS) {
    test(`${file}: the 256 real Fashion-MNIST images of the slice`, async (t) => {
      const q = quantizeGraph(importOnnxFile(fixtureModel(file)));
      const ds = loadDataset(FMNIST_SLICE_SPEC);
      assert.equal(ds.count, 256);
      const steps = await assertExact(q, ds.images, ds.count);
      t.diagnostic(steps.filter((s) => s.startsWith("requant") || s.startsWith("add")).join("\n"));
      if (file === "fmnist-resnet8.onnx") {
        // the residual requants mix the affine floor with tables on the channels it cannot fit
        assert.ok(steps.some((s) => /^requant float64: floor.* on \d+ of 64 channels; the other \d+ by /.test(s)), steps.join("\n"));
        assert.ok(steps.some((s) => s.startsWith("add float64")), "an add in float64");
      }
    });
  }

  test("zoo:resnet20: 14 random images, an all-black and an all-white one", async () => {
    const q = loadQuantizedModel("zoo:resnet20").qgraph;
    const per = 3 * 32 * 32;
    const px = new Uint8Array(16 * per);
    px.set(randomImages([3, 32, 32], 14, 7));
    px.fill(255, 15 * per);
    await assertExact(q, px, 16);
  });
});

// ---------------------------------------------------------------- hand-built QGraphs

/** Builds QGraphs with exact per-channel bounds (the reference's lane packing relies on them). */
class Builder {
  readonly tensors = new Map<string, QTensor>();
  readonly ops: QOp[] = [];
  constructor(readonly inShape: Shape3) {
    this.tensor("in", inShape, new Array<number>(inShape[0]).fill(0), new Array<number>(inShape[0]).fill(255), "code");
    this.ops.push({ kind: "input", name: "in", origin: [], output: "in", bits: 8 });
  }

  private tensor(name: string, shape: Shape3, lo: number[], hi: number[], kind: QTensor["kind"] = "int"): void {
    const C = shape[0];
    this.tensors.set(name, { name, shape, kind, minPerChannel: Int32Array.from(lo), maxPerChannel: Int32Array.from(hi), scale: new Float64Array(C).fill(1), offset: new Float64Array(C) });
  }

  private t(name: string): QTensor {
    return this.tensors.get(name)!;
  }

  conv(name: string, src: string, O: number, k: [number, number], stride: [number, number], pads: [number, number, number, number], weight: (o: number, c: number, i: number) => number): string {
    const x = this.t(src);
    const [C, H, W] = x.shape;
    const KHW = k[0] * k[1];
    const weights = Int8Array.from({ length: O * C * KHW }, (_, n) => weight(Math.floor(n / (C * KHW)), Math.floor(n / KHW) % C, n % KHW));
    const padded = pads.some((p) => p > 0);
    const lo: number[] = [], hi: number[] = [];
    for (let o = 0; o < O; o++) {
      let a = 0, b = 0;
      for (let c = 0; c < C; c++) {
        const mn = padded ? Math.min(0, x.minPerChannel[c]!) : x.minPerChannel[c]!;
        const mx = padded ? Math.max(0, x.maxPerChannel[c]!) : x.maxPerChannel[c]!;
        for (let i = 0; i < KHW; i++) {
          const w = weights[(o * C + c) * KHW + i]!;
          if (w === 1) (a += mn), (b += mx);
          if (w === -1) (a -= mx), (b -= mn);
        }
      }
      lo.push(a);
      hi.push(b);
    }
    const OH = Math.floor((H + pads[0] + pads[2] - k[0]) / stride[0]) + 1, OW = Math.floor((W + pads[1] + pads[3] - k[1]) / stride[1]) + 1;
    this.tensor(name, [O, OH, OW], lo, hi);
    this.ops.push({ kind: "conv", name, origin: [], input: src, output: name, outChannels: O, inChannels: C, kernel: k, stride, pads, weights, fullyConnected: false });
    return name;
  }

  add(name: string, a: string, b: string, ma: number[], mb: number[]): string {
    const A = this.t(a), B = this.t(b);
    const lo: number[] = [], hi: number[] = [];
    ma.forEach((m, c) => {
      const pa = [m * A.minPerChannel[c]!, m * A.maxPerChannel[c]!], pb = [mb[c]! * B.minPerChannel[c]!, mb[c]! * B.maxPerChannel[c]!];
      lo.push(Math.min(...pa) + Math.min(...pb));
      hi.push(Math.max(...pa) + Math.max(...pb));
    });
    for (const v of [...lo, ...hi]) assert.ok(Math.abs(v) < 2 ** 31, "add values must fit int32");
    this.tensor(name, A.shape, lo, hi);
    this.ops.push({ kind: "add", name, origin: [], inputs: [a, b], output: name, mul: [Int32Array.from(ma), Int32Array.from(mb)] });
    return name;
  }

  /** thresholds: per channel, 2^bits - 1 non-decreasing values. */
  requant(name: string, src: string, bits: number, thresholds: number[][]): string {
    const x = this.t(src);
    const code = (c: number, v: number): number => thresholds[c]!.filter((t) => v >= t).length;
    const lo = thresholds.map((_, c) => code(c, x.minPerChannel[c]!)), hi = thresholds.map((_, c) => code(c, x.maxPerChannel[c]!));
    this.tensor(name, x.shape, lo, hi, "code");
    this.ops.push({ kind: "requant", name, origin: [], input: src, output: name, bits, thresholds: Int32Array.from(thresholds.flat()) });
    return name;
  }

  pool(kind: "maxpool" | "sumpool", name: string, src: string, k: [number, number], stride: [number, number], pads: [number, number, number, number]): string {
    const x = this.t(src);
    const [C, H, W] = x.shape;
    const n = k[0] * k[1];
    const global = k[0] === H && k[1] === W;
    const lo = Array.from(x.minPerChannel, (v) => (kind === "maxpool" ? v : global ? n * v : Math.min(0, v, n * v)));
    const hi = Array.from(x.maxPerChannel, (v) => (kind === "maxpool" ? v : global ? n * v : Math.max(0, v, n * v)));
    const OH = Math.floor((H + pads[0] + pads[2] - k[0]) / stride[0]) + 1, OW = Math.floor((W + pads[1] + pads[3] - k[1]) / stride[1]) + 1;
    this.tensor(name, [C, OH, OW], lo, hi);
    this.ops.push({ kind, name, origin: [], input: src, output: name, kernel: k, stride, pads });
    return name;
  }

  graph(output: string): QGraph {
    return { name: "hand", source: "hand-built", input: "in", ops: this.ops, tensors: this.tensors, output, activationBits: 4, notes: [] };
  }
}

const SUM_MAX = 255 * 256;

/** Images of 1x16x16 pixels whose pixel sums are the given values (each in [0, 255*256]). */
function imagesWithSums(sums: number[]): Uint8Array {
  const px = new Uint8Array(sums.length * 256);
  sums.forEach((s, i) => {
    const full = Math.floor(s / 255);
    px.fill(255, i * 256, i * 256 + full);
    if (full < 256) px[i * 256 + full] = s - full * 255;
  });
  return px;
}

/** Every threshold, one below and one above, the interval's ends and a few values between. */
function probeSums(thresholds: number[][], rng: Rng): number[] {
  const vals = new Set<number>([0, 1, SUM_MAX - 1, SUM_MAX]);
  for (const ts of thresholds) for (const t of ts) for (const v of [t - 1, t, t + 1]) if (v >= 0 && v <= SUM_MAX) vals.add(v);
  for (let i = 0; i < 40; i++) vals.add(rng.int(0, SUM_MAX));
  return [...vals];
}

/** Thresholds ceil(a + k*d), k = 0..L-1: an affine floor reproduces their codes. */
const evenly = (a: number, d: number, L = 15): number[] => Array.from({ length: L }, (_, k) => Math.ceil(a + k * d));

/** Sorted random thresholds in [lo, hi] with a repeated one (a jump of two codes: no affine floor). */
function irregular(rng: Rng, lo: number, hi: number, L = 15, minGap = 1): number[] {
  for (;;) {
    const ts = Array.from({ length: L - 1 }, () => rng.int(lo, hi)).sort((a, b) => a - b);
    if (ts.some((t, i) => i > 0 && t - ts[i - 1]! < minGap)) continue;
    const k = rng.int(0, L - 2);
    ts.splice(k, 0, ts[k]!);
    return ts;
  }
}

/**
 * in [1,16,16] -> conv summing all pixels into C channels -> (optionally) add(s, s) with
 * multipliers ma + mb = 1 (same values, a wider interval) -> requant with the given thresholds.
 */
function sumGraph(thresholds: number[][], mul?: [number, number]): QGraph {
  const b = new Builder([1, 16, 16]);
  const C = thresholds.length;
  let x = b.conv("s", "in", C, [16, 16], [1, 1], [0, 0, 0, 0], () => 1);
  if (mul) x = b.add("x", x, x, new Array<number>(C).fill(mul[0]), new Array<number>(C).fill(mul[1]));
  b.requant("q", x, Math.log2(thresholds[0]!.length + 1), thresholds);
  return b.graph("q");
}

async function checkRequant(q: QGraph, thresholds: number[][], lowering: RegExp, dtype: "float32" | "float64", opts: IntegerOnnxOptions = {}): Promise<void> {
  const sums = probeSums(thresholds, new Rng(3));
  const steps = await assertExact(q, imagesWithSums(sums), sums.length, opts);
  const rq = steps.find((s) => s.startsWith("requant"))!;
  assert.match(rq, lowering);
  assert.ok(rq.startsWith(`requant ${dtype}`), rq);
}

describe("hand-built QGraphs: every requant lowering, exact on both sides of every threshold", () => {
  const rng = new Rng(11);

  test("affine floor (float32), 4 channels of evenly spaced thresholds, one 2-bit", async () => {
    const ts = [evenly(100.3, 3000.7), evenly(-5000.5, 4321.25), evenly(65000, 7.5), evenly(20, 1.5)];
    await checkRequant(sumGraph(ts), ts, /^requant float32: floor\(x \* u\[c\] \+ w\[c\]\) clipped to \[0, L\], checked at every threshold$/, "float32");
    const two = [evenly(1000, 20000, 3), evenly(-3, 1, 3)];
    await checkRequant(sumGraph(two), two, /^requant float32: floor/, "float32");
  });

  test("whole-interval lookup table: repeated thresholds, one channel of 65281 values", async () => {
    const ts = [irregular(rng, 1, SUM_MAX)];
    await checkRequant(sumGraph(ts), ts, /^requant float32: lookup table of 65281 entries$/, "float32");
  });

  test("lookup table of the thresholds' span, after clipping a wider interval", async () => {
    const ts = [irregular(rng, 1000, 40000), irregular(rng, 50000, 60000)];
    await checkRequant(sumGraph(ts, [3, -2]), ts, /lookup table of \d+ entries after clipping$/, "float32");
  });

  test("buckets with one comparison: thresholds across the whole interval, at least 4 apart", async () => {
    const ts = [irregular(rng, 1, SUM_MAX, 15, 4), irregular(rng, 1, SUM_MAX, 15, 4)];
    await checkRequant(sumGraph(ts, [3, -2]), ts, /^requant float32: \d+ buckets of 2\^\d+ values, one comparison$/, "float32");
  });

  test("the definition (comparisons with every threshold) when tables may not exceed 16 entries", async () => {
    const ts = [irregular(rng, 1, SUM_MAX), irregular(rng, 1, 300)];
    await checkRequant(sumGraph(ts, [3, -2]), ts, /^requant float32: compare with 15 thresholds$/, "float32", { lutLimit: 16 });
  });

  test("affine on the channels it fits, tables on the others, merged by a channel permutation", async () => {
    const ts = [evenly(100.3, 3000.7), irregular(rng, 1, SUM_MAX, 15, 4), evenly(-50, 4000.1), irregular(rng, 20000, 20050)];
    await checkRequant(sumGraph(ts, [3, -2]), ts, /^requant float32: floor.* on 2 of 4 channels; the other 2 by (lookup table|\d+ buckets)/, "float32");
  });

  test("float64 add and requant: multipliers 2^14+1 and -2^14 (interval beyond 2^24)", async () => {
    const mul: [number, number] = [2 ** 14 + 1, -(2 ** 14)];
    const ts = [evenly(100.3, 3000.7), irregular(rng, 1, SUM_MAX, 15, 4), evenly(-50, 4000.1)];
    const q = sumGraph(ts, mul);
    const sums = probeSums(ts, new Rng(5));
    const steps = await assertExact(q, imagesWithSums(sums), sums.length);
    assert.ok(steps.some((s) => s.startsWith("add float64")), steps.join("\n"));
    assert.match(steps.find((s) => s.startsWith("requant"))!, /^requant float64: floor.* on 2 of 3 channels; the other 1 by /);
    await checkRequant(q, ts, /^requant float64: floor.* on 2 of 3 channels; the other 1 by compare with 15 thresholds$/, "float64", { lutLimit: 16 });
    const odd = [irregular(rng, 1, SUM_MAX, 15, 4), irregular(rng, 5, 5000)];
    await checkRequant(sumGraph(odd, mul), odd, /^requant float64: compare with 15 thresholds$/, "float64", { lutLimit: 16 });
  });
});

describe("hand-built QGraphs: signed convs, padding, pools", () => {
  test("conv 3x3/(2,1) with uneven pads -> requant -> signed convs -> add with negative multipliers -> padded max pool -> sum pools -> FC", async () => {
    const rng = new Rng(21);
    const tern = (): number => (rng.bernoulli(0.6) ? (rng.bernoulli(0.5) ? 1 : -1) : 0);
    const b = new Builder([3, 11, 9]);
    const c1 = b.conv("c1", "in", 6, [3, 3], [2, 1], [1, 0, 2, 1], tern);
    const q1 = b.requant("q1", c1, 4, Array.from({ length: 6 }, () => irregular(rng, -800, 800)));
    const c2 = b.conv("c2", q1, 4, [2, 3], [1, 1], [1, 1, 1, 1], tern);
    const c3 = b.conv("c3", c1, 4, [2, 3], [1, 1], [1, 1, 1, 1], tern);
    const s = b.add("sum", c2, c3, [3, -2, 1, 7], [-5, 4, 0, -1]);
    const mp = b.pool("maxpool", "mp", s, [3, 3], [2, 2], [1, 1, 1, 1]);
    const sp = b.pool("sumpool", "sp", mp, [2, 2], [1, 1], [1, 1, 0, 0]);
    const q2 = b.requant("q2", sp, 3, Array.from({ length: 4 }, (_, c) => irregular(rng, b.tensors.get(sp)!.minPerChannel[c]!, b.tensors.get(sp)!.maxPerChannel[c]!, 7)));
    const gp = b.pool("sumpool", "gp", q2, [b.tensors.get(q2)!.shape[1], b.tensors.get(q2)!.shape[2]], [1, 1], [0, 0, 0, 0]);
    b.conv("fc", gp, 10, [1, 1], [1, 1], [0, 0, 0, 0], tern);
    const q = b.graph("fc");
    const px = randomImages([3, 11, 9], 30, 4);
    const steps = await assertExact(q, new Uint8Array([...px, ...new Uint8Array(2 * 297).fill(255).fill(0, 297)]), 32);
    assert.ok(steps.some((s) => s.includes("grouped Conv with ones")) && steps.some((s) => s.includes("ReduceSum over H, W")) && steps.some((s) => s.includes("MaxPool")), steps.join("\n"));
  });
});

describe("a QGraph that onnxruntime cannot compute exactly is refused with the reason", () => {
  // a 257x257 kernel of +1 over uint8 pixels: sums up to 255 * 66049 = 16,842,495 > 2^24
  const b = new Builder([1, 257, 257]);
  b.conv("big", "in", 1, [257, 257], [1, 1], [0, 0, 0, 0], () => 1);
  const q = b.graph("big");

  test("exportIntegerOnnx names the op and the bound", () => {
    const r = exportIntegerOnnx(q);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.op, "big");
    assert.equal(r.reason, "partial sums (sum |w| * max|x|) reach 16842495, beyond 2^24 (float32 would round)");
  });

  test("OrtIntegerExecutor.create gives no executor and the reason", async () => {
    const r = await OrtIntegerExecutor.create(q);
    assert.equal(r.executor, null);
    assert.ok(!r.executor && r.reason === "op big: partial sums (sum |w| * max|x|) reach 16842495, beyond 2^24 (float32 would round)");
  });

  test("one kernel fewer fits, and is exact at the extreme", async () => {
    const small = new Builder([1, 256, 256]);
    small.conv("c", "in", 2, [256, 256], [1, 1], [0, 0, 0, 0], (o, _c, i) => (o === 0 ? 1 : i % 3 === 0 ? -1 : 1));
    const px = new Uint8Array(3 * 65536).fill(255, 0, 65536);
    px.set(randomImages([1, 256, 256], 1, 9), 65536);
    px.fill(255, 2 * 65536, 2 * 65536 + 3000);
    await assertExact(small.graph("c"), px, 3);
  });

  test("a wrong input size is an RtapError", async () => {
    const small = new Builder([1, 4, 4]);
    small.conv("c", "in", 1, [1, 1], [1, 1], [0, 0, 0, 0], () => 1);
    const r = await OrtIntegerExecutor.create(small.graph("c"));
    assert.ok(r.executor);
    await expectRtapRejection(r.executor.run(new Uint8Array(15), 1), "input has 15 values; 1 image(s) of shape [1,4,4] need 16");
    await r.executor.release();
  });
});

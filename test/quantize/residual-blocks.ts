/**
 * Fake-quant residual networks written as ONNX, for the residual-add agreement tests: the float
 * fake-quant model (run by onnxruntime) against rtap's import -> quantize -> integer reference.
 *
 *   X -> Conv3x3(3->C)+b -> Q = a                                   (stem, 4-bit codes)
 *   per block: a -> Conv3x3(C->C)+b -> Q -> Conv3x3(C->C)+b = branch   (accumulator scale |w2|*s1)
 *              shortcut = a (identity, its code scale) or Conv1x1(C->C)+b on a (projection)
 *              a <- Q(Relu(Add(branch, shortcut)))
 *   a -> Flatten -> Gemm -> logits
 *
 * Q is the fake-quant activation Div(s) -> Round -> Clip(0, 15) -> Mul(s). A block's branch weight
 * magnitudes make its accumulator scale the shortcut's divided by `ratio` (per channel jittered by
 * -20%..+25%, some channels negative): the residual add sums operands whose scales differ by that
 * factor. Activation scales are calibrated in order on seeded random images (99.9th percentile of
 * the positive float values / 15), so the codes use their range. Ternary rows lean towards +1 so
 * the accumulators are large (hundreds to thousands), as in trained networks.
 */
import * as ort from "onnxruntime-node";
import { Rng } from "../../src/util/random.js";
import { importOnnxBytes } from "../../src/import/onnx.js";
import type { Graph } from "../../src/import/graph.js";
import { argmax, pixelsToInput, runFloat } from "../../src/float/executor.js";
import type { QAddOp, QGraph, QRequantOp } from "../../src/quantize/qgraph.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { OnnxModelBuilder } from "../import/onnx-builder.js";

export interface BlockSpec {
  /** Scale of the shortcut operand / scale of the branch accumulator. */
  ratio: number;
  shortcut: "identity" | "projection";
}

export interface NetSpec {
  seed: number;
  /** Channels of every layer. */
  channels: number;
  /** Height = width of the images. */
  size: number;
  blocks: BlockSpec[];
}

interface Layer {
  t: Int8Array;
  /** Per output channel: the weight magnitude (stem, conv1, fc) or a signed jitter (conv2, projection). */
  m: Float32Array;
  b: Float32Array;
}

/** Random draws, independent of the activation scales (recalibration keeps every weight pattern). */
interface Params {
  stem: Layer;
  blocks: { conv1: Layer; conv2: Layer; proj: Layer }[];
  fc: Layer;
}

/** Ternary rows: P(+1) = 0.45, P(0) = 0.3, P(-1) = 0.25. */
function ternary(rng: Rng, n: number): Int8Array {
  const t = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    t[i] = u < 0.45 ? 1 : u < 0.75 ? 0 : -1;
  }
  return t;
}

/** O rows of F values: a third +1, a third -1, the rest 0, shuffled. */
function balancedRows(rng: Rng, O: number, F: number): Int8Array {
  const t = new Int8Array(O * F);
  const third = Math.floor(F / 3);
  for (let o = 0; o < O; o++) {
    const row = t.subarray(o * F, (o + 1) * F);
    row.fill(1, 0, third);
    row.fill(-1, third, 2 * third);
    for (let i = F - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [row[i], row[j]] = [row[j]!, row[i]!];
    }
  }
  return t;
}

function draw(spec: NetSpec): Params {
  const rng = new Rng(spec.seed);
  const C = spec.channels;
  const vec = (n: number, f: () => number): Float32Array => Float32Array.from({ length: n }, f);
  const jitter = (): number => (rng.bernoulli(0.15) ? -1 : 1) * (0.8 + 0.45 * rng.next());
  const layer = (n: number, O: number, m: () => number, bias: number): Layer => ({ t: ternary(rng, n), m: vec(O, m), b: vec(O, () => rng.normal() * bias) });
  return {
    stem: layer(C * 27, C, () => 0.5 + rng.next(), 0.5),
    blocks: spec.blocks.map(() => ({
      conv1: layer(C * C * 9, C, () => 0.5 + rng.next(), 2),
      conv2: layer(C * C * 9, C, jitter, 1),
      proj: layer(C * C, C, jitter, 1),
    })),
    // rows of one magnitude with as many +1 as -1 (no common mode): the classes compete closely
    fc: { t: balancedRows(rng, 10, C * spec.size * spec.size), m: vec(10, () => 0.25), b: vec(10, () => rng.normal() * 0.1) },
  };
}

/** Tensor names of one quantizer. */
interface QuantNames {
  /** Div input: the float value calibrated on. */
  pre: string;
  /** Div output: the value Round rounds, in steps. */
  steps: string;
  /** Clip output: the codes. */
  codes: string;
}

interface Built {
  bytes: Uint8Array;
  /** Every quantizer in order: stem, then per block the branch's and the one after the add. */
  quants: QuantNames[];
}

/** e.g. "residual-i50-p3": the blocks' shortcut kinds and scale ratios. */
export function netName(spec: NetSpec): string {
  return `residual-${spec.blocks.map((x) => `${x.shortcut[0]}${x.ratio >= 1 ? x.ratio : `1/${Math.round(1 / x.ratio)}`}`).join("-")}`;
}

function build(spec: NetSpec, p: Params, scales: number[], batch: number, ortOutputs: boolean): Built {
  const C = spec.channels;
  const b = new OnnxModelBuilder({ name: netName(spec) });
  b.input("X", [batch, 3, spec.size, spec.size]);
  let k = 0;
  const quants: QuantNames[] = [];
  const conv = (x: string, cin: number, ks: number, l: Layer, mag: (o: number) => number): string => {
    const i = k++;
    const J = cin * ks * ks;
    const w = new Float32Array(C * J);
    for (let o = 0; o < C; o++) for (let j = 0; j < J; j++) w[o * J + j] = Math.fround(mag(o) * l.t[o * J + j]!);
    const pad = (ks - 1) / 2;
    return b.node("Conv", [x, b.floats(`w${i}`, [C, cin, ks, ks], w), b.floats(`b${i}`, [C], l.b)], 1, { kernel_shape: { ints: [ks, ks] }, pads: { ints: [pad, pad, pad, pad] } });
  };
  const quant = (x: string): string => {
    const i = k++;
    const sc = b.floats(`s${i}`, [], [scales[quants.length] ?? 1]);
    const steps = b.node("Div", [x, sc]);
    const codes = b.node("Clip", [b.node("Round", [steps]), b.floats(`lo${i}`, [], [0]), b.floats(`hi${i}`, [], [15])]);
    quants.push({ pre: x, steps, codes });
    return b.node("Mul", [codes, sc]);
  };
  let a = quant(conv("X", 3, 3, p.stem, (o) => p.stem.m[o]!));
  let sA = scales[0] ?? 1;
  spec.blocks.forEach((blk, i) => {
    const l = p.blocks[i]!;
    const a1 = quant(conv(a, C, 3, l.conv1, (o) => l.conv1.m[o]!));
    const s1 = scales[quants.length - 1] ?? 1;
    // projection shortcut: accumulator scale sA/5 (jittered); the branch's is the shortcut's / ratio
    const short = blk.shortcut === "identity" ? a : conv(a, C, 1, l.proj, (o) => l.proj.m[o]! / 5);
    const sShort = blk.shortcut === "identity" ? sA : sA / 5;
    const branch = conv(a1, C, 3, l.conv2, (o) => (l.conv2.m[o]! * sShort) / (blk.ratio * s1));
    a = quant(b.node("Relu", [b.node("Add", [branch, short])]));
    sA = scales[quants.length - 1] ?? 1;
  });
  // fully connected on every code (no pooling), so that a code changing can change the argmax
  const F = C * spec.size * spec.size;
  const fw = new Float32Array(10 * F);
  for (let o = 0; o < 10; o++) for (let f = 0; f < F; f++) fw[o * F + f] = Math.fround(p.fc.m[o]! * p.fc.t[o * F + f]!);
  b.output(b.node("Gemm", [b.node("Flatten", [a]), b.floats("fcw", [10, F], fw), b.floats("fcb", [10], p.fc.b)], 1, { transB: { int: 1 } }));
  if (ortOutputs) for (const q of quants.filter((_, j) => j > 0 && j % 2 === 0)) b.output(q.codes).output(q.steps);
  return { bytes: b.bytes(), quants };
}

function percentile(values: number[], q: number): number {
  const v = values.slice().sort((x, y) => x - y);
  return v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
}

export interface ResidualNet {
  spec: NetSpec;
  /** Activation scales: stem, then per block the branch's and the post-add quantizer's. */
  scales: number[];
  /** Batch-1 model with the logits as its only output (what rtap imports). */
  graph: Graph;
  /** Batch-N model for onnxruntime; outputs: logits, then per block the post-add codes and steps. */
  ortBytes(batch: number): Uint8Array;
}

/** The network with its activation scales calibrated in order on `calibration` seeded random images (rtap's float executor). */
export function residualNet(spec: NetSpec, calibration = 16): ResidualNet {
  const p = draw(spec);
  const rng = new Rng(spec.seed + 1000);
  const per = 3 * spec.size * spec.size;
  const images = Array.from({ length: calibration }, () => Uint8Array.from({ length: per }, () => rng.int(0, 255)));
  const scales: number[] = [];
  const nQuant = 1 + 2 * spec.blocks.length;
  while (scales.length < nQuant) {
    const built = build(spec, p, scales, 1, false);
    const g = importOnnxBytes(built.bytes, "calibration");
    const which = built.quants[scales.length]!.pre;
    const values: number[] = [];
    for (const img of images) for (const x of runFloat(g, pixelsToInput(img), { keepAll: true }).tensors.get(which)!.data) if (x > 0) values.push(x);
    scales.push(Math.fround(percentile(values, 0.999) / 15));
  }
  return {
    spec,
    scales,
    graph: importOnnxBytes(build(spec, p, scales, 1, false).bytes, netName(spec)),
    ortBytes: (batch) => build(spec, p, scales, batch, true).bytes,
  };
}

export interface Agreement {
  images: number;
  /** Images whose float and integer argmax agree. */
  argmaxAgree: number;
  /** Images whose every post-add code (all blocks) agrees. */
  imagesExact: number;
  /** Images whose every post-add code agrees except at float rounding ties (TIE_WINDOW). */
  imagesUpToTies: number;
  codes: number;
  codesAgree: number;
  /** For each code that differs: how far the float model's value was from a .5 rounding tie, in steps. */
  tieDistances: number[];
}

/**
 * A float32 rounding tie, in quantizer steps: the float model's value that rounds to a code sits
 * this close to a .5 boundary, within the rounding noise of its own float32 sums.
 */
export const TIE_WINDOW = 1e-5;

/**
 * Runs `images` seeded random images through onnxruntime (the float fake-quant model, in batches,
 * optimizations off) and rtap (import -> quantize -> integer reference, `q`), comparing every
 * block's post-add codes and the argmax of the logits.
 */
export async function measureAgreement(net: ResidualNet, q: QGraph, images: number, seed: number, batch = 250): Promise<Agreement> {
  const adds = q.ops.filter((o): o is QAddOp => o.kind === "add");
  const rqs = adds.map((a) => q.ops.find((o): o is QRequantOp => o.kind === "requant" && o.input === a.output)!);
  const { size } = net.spec;
  const per = 3 * size * size;
  const rng = new Rng(seed);
  const res: Agreement = { images: 0, argmaxAgree: 0, imagesExact: 0, imagesUpToTies: 0, codes: 0, codesAgree: 0, tieDistances: [] };
  const session = await ort.InferenceSession.create(net.ortBytes(batch), { graphOptimizationLevel: "disabled" });
  try {
    for (let done = 0; done < images; done += batch) {
      const pixels = Uint8Array.from({ length: batch * per }, () => rng.int(0, 255));
      const outs = await session.run({ [session.inputNames[0]!]: new ort.Tensor("float32", pixelsToInput(pixels), [batch, 3, size, size]) });
      const out = (i: number): Float32Array => outs[session.outputNames[i]!]!.data as Float32Array;
      const ref = runReference(q, pixels, batch, { keepAll: true });
      const logits = dequantizeOutput(q, ref.output, batch);
      const exact = new Uint8Array(batch).fill(1), upToTies = new Uint8Array(batch).fill(1);
      rqs.forEach((rq, j) => {
        const ours = ref.tensors.get(rq.output)!, codes = out(1 + 2 * j), steps = out(2 + 2 * j);
        const n = ours.length / batch;
        for (let e = 0; e < ours.length; e++) {
          res.codes++;
          if (ours[e] === codes[e]) {
            res.codesAgree++;
            continue;
          }
          const d = Math.abs(steps[e]! - (Math.floor(steps[e]!) + 0.5));
          res.tieDistances.push(d);
          exact[Math.floor(e / n)] = 0;
          if (d > TIE_WINDOW) upToTies[Math.floor(e / n)] = 0;
        }
      });
      const fl = out(0);
      for (let i = 0; i < batch; i++) {
        res.images++;
        if (argmax(logits[i]!) === argmax(fl.subarray(i * 10, i * 10 + 10))) res.argmaxAgree++;
        res.imagesExact += exact[i]!;
        res.imagesUpToTies += upToTies[i]!;
      }
    }
  } finally {
    await session.release();
  }
  return res;
}

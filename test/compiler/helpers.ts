/**
 * Shared pieces of the compiler tests: the fmnist-resnet8 QGraphs and images, a verified run (every
 * unit's output against the integer reference, chunk by chunk), a builder of small hand-made
 * QGraphs with exact ranges, and architectures with a modified row.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { archConfigDir, loadArch, parseArch, type ApArch, type ArraySpec } from "../../src/ap/config.js";
import { addEvents, zeroEvents, type ApEvents } from "../../src/ap/events.js";
import type { FaultOptions } from "../../src/ap/faults.js";
import { compileNetwork, runCompiled, type CompiledNetwork } from "../../src/compiler/pipeline.js";
import type { SimMode } from "../../src/compiler/simulate.js";
import { loadDataset } from "../../src/data/dataset.js";
import { importOnnxFile } from "../../src/import/onnx.js";
import type { QConvOp, QGraph, QOp, QTensor, Shape3 } from "../../src/quantize/qgraph.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { argmax } from "../../src/float/executor.js";
import { Rng } from "../../src/util/random.js";
import { fixtureModel, FMNIST_SPEC, type FmnistEncoding } from "../import/fixtures.js";

export { FMNIST_SPEC, HAVE_FASHION_MNIST, skipNoFashionMnist } from "../import/fixtures.js";

// ---------------------------------------------------------------- fmnist-resnet8

const qgraphs = new Map<string, QGraph>();

/** The quantized fmnist-resnet8 in one of its three encodings (cached per process). */
export function fmnistQGraph(file: FmnistEncoding = "fmnist-resnet8.onnx"): QGraph {
  let q = qgraphs.get(file);
  if (!q) {
    q = quantizeGraph(importOnnxFile(fixtureModel(file)));
    qgraphs.set(file, q);
  }
  return q;
}

/** The first n Fashion-MNIST test images (the full set when installed, else the 256-image slice). */
export function fmnistImages(n: number): { images: Uint8Array; labels: Uint8Array; count: number } {
  const ds = loadDataset(FMNIST_SPEC, { limit: n });
  return { images: ds.images, labels: ds.labels, count: ds.count };
}

/** Top-1 accuracy of the network's integer logits (output codes, image-major) against labels. */
export function accuracyOf(q: QGraph, output: Int32Array, labels: Uint8Array, count: number): number {
  const logits = dequantizeOutput(q, output.subarray(0, count * 10), count);
  let correct = 0;
  for (let i = 0; i < count; i++) if (argmax(logits[i]!) === labels[i]) correct++;
  return correct / count;
}

// ---------------------------------------------------------------- verified runs

export interface VerifiedRun {
  images: number;
  /** Output values compared with the reference (all units, all images). */
  compared: number;
  mismatches: number;
  /** Per unit name: mismatching values. */
  unitMismatches: Map<string, number>;
  events: ApEvents;
  movement: ApEvents;
  /** Per unit: events summed over the chunks. */
  unitEvents: ApEvents[];
  /** Outputs of the network (image-major), concatenated over the chunks. */
  output: Int32Array;
}

/**
 * Runs the compiled network on `count` images in chunks, each checked unit by unit against the
 * integer reference (runReference keepAll). Asserts the reference holds every unit's output, so a
 * zero mismatch count is never vacuous. Returns the totals; the caller asserts on them.
 */
export function verifiedRun(
  net: CompiledNetwork, pixels: Uint8Array, count: number,
  opts: { mode: SimMode; events?: boolean; chunk?: number; faults?: FaultOptions } = { mode: "fast" },
): VerifiedRun {
  const q = net.q;
  const s = q.tensors.get(q.input)!.shape;
  const per = s[0] * s[1] * s[2];
  assert.ok(pixels.length >= count * per, `need ${count} images, have ${pixels.length / per}`);
  const chunk = opts.chunk ?? count;
  const unitMismatches = new Map<string, number>();
  const unitEvents = net.units.map(() => zeroEvents());
  const events = zeroEvents(), movement = zeroEvents();
  const outSize = q.tensors.get(q.output)!.shape.reduce((a, b) => a * b, 1);
  const output = new Int32Array(count * outSize);
  let compared = 0, mismatches = 0;
  for (let b = 0; b < count; b += chunk) {
    const nb = Math.min(chunk, count - b);
    const pix = pixels.subarray(b * per, (b + nb) * per);
    const ref = runReference(q, pix, nb, { keepAll: true });
    for (const cu of net.units) {
      const t = ref.tensors.get(cu.unit.output);
      assert.ok(t, `the reference has no tensor ${cu.unit.output} (unit ${cu.unit.name})`);
      compared += t.length;
    }
    const r = runCompiled(net, pix, nb, { mode: opts.mode, reference: ref.tensors, events: opts.events ?? true, ...(opts.faults ? { faults: opts.faults } : {}) });
    mismatches += r.mismatches;
    r.units.forEach((u, i) => {
      unitMismatches.set(u.unit, (unitMismatches.get(u.unit) ?? 0) + u.mismatches);
      addEvents(unitEvents[i]!, u.events);
    });
    addEvents(events, r.events);
    addEvents(movement, r.movement);
    output.set(r.output, b * outSize);
  }
  return { images: count, compared, mismatches, unitMismatches, events, movement, unitEvents, output };
}

/** Every unit's output equals the reference: total and per unit, with the offending units named. */
export function assertBitExact(r: VerifiedRun, what: string): void {
  const bad = [...r.unitMismatches].filter(([, n]) => n > 0);
  assert.deepEqual(bad, [], `${what}: units whose output differs from the integer reference`);
  assert.equal(r.mismatches, 0, `${what}: mismatching values`);
  assert.ok(r.compared > 0, `${what}: nothing compared`);
}

// ---------------------------------------------------------------- hand-made QGraphs

/**
 * Builds small QGraphs by hand with exact per-channel ranges (the compiler derives every bit width
 * from them): ternary convs of a given density, residual adds with integer multipliers, pools and
 * requants with thresholds spread over the input range.
 */
export class QGraphBuilder {
  readonly tensors = new Map<string, QTensor>();
  readonly ops: QOp[] = [];
  private inputName = "";

  constructor(readonly rng: Rng) {}

  tensor(name: string, shape: Shape3, min: number[] | number, max: number[] | number, kind: QTensor["kind"] = "int"): QTensor {
    const C = shape[0];
    const arr = (v: number[] | number): Int32Array => Int32Array.from(typeof v === "number" ? new Array<number>(C).fill(v) : v);
    const t: QTensor = { name, shape, kind, minPerChannel: arr(min), maxPerChannel: arr(max), scale: new Float64Array(C).fill(1), offset: new Float64Array(C) };
    this.tensors.set(name, t);
    return t;
  }

  input(name: string, shape: Shape3, bits = 8): QTensor {
    this.inputName = name;
    this.ops.push({ kind: "input", name, origin: [], output: name, bits });
    return this.tensor(name, shape, 0, (1 << bits) - 1, "code");
  }

  /** A ternary conv; `weights` overrides the random ones (O*C*KH*KW values). */
  conv(
    name: string, src: QTensor, O: number, kernel: [number, number],
    opts: { stride?: [number, number]; pads?: [number, number, number, number]; density?: number; weights?: Int8Array; fullyConnected?: boolean } = {},
  ): QTensor {
    const [C, H, W] = src.shape;
    const stride = opts.stride ?? [1, 1];
    const pads = opts.pads ?? [0, 0, 0, 0];
    const K = kernel[0] * kernel[1];
    const density = opts.density ?? 0.6;
    const weights = opts.weights ?? Int8Array.from({ length: O * C * K }, () => (this.rng.bernoulli(density) ? (this.rng.bernoulli(0.5) ? 1 : -1) : 0));
    assert.equal(weights.length, O * C * K);
    const padded = pads.some((p) => p > 0);
    const lo: number[] = [], hi: number[] = [];
    for (let o = 0; o < O; o++) {
      let a = 0, b = 0;
      for (let c = 0; c < C; c++) {
        const mn = padded ? Math.min(0, src.minPerChannel[c]!) : src.minPerChannel[c]!;
        const mx = padded ? Math.max(0, src.maxPerChannel[c]!) : src.maxPerChannel[c]!;
        for (let k = 0; k < K; k++) {
          const w = weights[(o * C + c) * K + k]!;
          if (w === 1) (a += mn), (b += mx);
          if (w === -1) (a -= mx), (b -= mn);
        }
      }
      lo.push(a);
      hi.push(b);
    }
    const OH = Math.floor((H + pads[0] + pads[2] - kernel[0]) / stride[0]) + 1;
    const OW = Math.floor((W + pads[1] + pads[3] - kernel[1]) / stride[1]) + 1;
    const out = this.tensor(name, [O, OH, OW], lo, hi);
    const op: QConvOp = { kind: "conv", name, origin: [name], input: src.name, output: name, outChannels: O, inChannels: C, kernel, stride, pads, weights, fullyConnected: opts.fullyConnected ?? false };
    this.ops.push(op);
    return out;
  }

  add(name: string, a: QTensor, b: QTensor, mulA: number[], mulB: number[]): QTensor {
    const C = a.shape[0];
    const lo: number[] = [], hi: number[] = [];
    for (let c = 0; c < C; c++) {
      const ta = [mulA[c]! * a.minPerChannel[c]!, mulA[c]! * a.maxPerChannel[c]!];
      const tb = [mulB[c]! * b.minPerChannel[c]!, mulB[c]! * b.maxPerChannel[c]!];
      lo.push(Math.min(...ta) + Math.min(...tb));
      hi.push(Math.max(...ta) + Math.max(...tb));
    }
    const out = this.tensor(name, [...a.shape], lo, hi);
    this.ops.push({ kind: "add", name, origin: [name], inputs: [a.name, b.name], output: name, mul: [Int32Array.from(mulA), Int32Array.from(mulB)] });
    return out;
  }

  pool(kind: "maxpool" | "sumpool", name: string, src: QTensor, kernel: [number, number], stride: [number, number], pads: [number, number, number, number] = [0, 0, 0, 0]): QTensor {
    const [C, H, W] = src.shape;
    const OH = Math.floor((H + pads[0] + pads[2] - kernel[0]) / stride[0]) + 1;
    const OW = Math.floor((W + pads[1] + pads[3] - kernel[1]) / stride[1]) + 1;
    const K = kernel[0] * kernel[1];
    const padded = pads.some((p) => p > 0);
    const lo = Array.from(src.minPerChannel, (v) => (kind === "maxpool" ? v : K * (padded ? Math.min(0, v) : v)));
    const hi = Array.from(src.maxPerChannel, (v) => (kind === "maxpool" ? v : K * (padded ? Math.max(0, v) : v)));
    const out = this.tensor(name, [C, OH, OW], lo, hi);
    this.ops.push({ kind, name, origin: [name], input: src.name, output: name, kernel, stride, pads });
    return out;
  }

  /** Requant to `bits`-bit codes with thresholds drawn inside each channel's range (sorted). */
  requant(name: string, src: QTensor, bits = 4): QTensor {
    const C = src.shape[0];
    const L = (1 << bits) - 1;
    const thresholds = new Int32Array(C * L);
    for (let c = 0; c < C; c++) {
      const lo = src.minPerChannel[c]!, hi = src.maxPerChannel[c]!;
      const ts = Array.from({ length: L }, () => this.rng.int(lo, Math.max(lo, hi)));
      ts.sort((a, b) => a - b);
      thresholds.set(ts, c * L);
    }
    const out = this.tensor(name, [...src.shape], 0, L, "code");
    this.ops.push({ kind: "requant", name, origin: [name], input: src.name, output: name, bits, thresholds });
    return out;
  }

  build(output: QTensor, name = "hand-made", activationBits = 4): QGraph {
    return { name, source: name, input: this.inputName, ops: this.ops, tensors: this.tensors, output: output.name, activationBits, notes: [] };
  }
}

/**
 * A network touching every unit kind on 8-bit inputs: stem conv (8-bit codes, stride 2, uneven
 * pads) -> requant; a residual block whose two convs (one 1x1 shortcut, one 3x2 kernel) fuse with a
 * negative-multiplier add -> requant; an identity-shortcut conv; a padded max pool; an add unit of
 * two pooled tensors (no conv can absorb it); a sum pool; an FC layer without requant.
 */
export function handMadeNet(seed: number, density = 0.6): QGraph {
  const g = new QGraphBuilder(new Rng(seed));
  const x = g.input("x", [2, 9, 11]);
  const c0 = g.conv("c0", x, 4, [3, 3], { stride: [2, 2], pads: [1, 0, 1, 1], density });
  const a0 = g.requant("a0", c0);
  const c1 = g.conv("c1", a0, 4, [3, 2], { pads: [1, 0, 1, 1], density });
  const sc = g.conv("sc", a0, 4, [1, 1], { density });
  const s1 = g.add("s1", c1, sc, [3, -2, 1, 5], [-1, 4, 2, 0]);
  const a1 = g.requant("a1", s1);
  const c2 = g.conv("c2", a1, 4, [3, 3], { pads: [1, 1, 1, 1], density });
  const s2 = g.add("s2", c2, a1, [1, 2, 1, 3], [2, -1, 1, 1]);
  const a2 = g.requant("a2", s2);
  const m1 = g.pool("maxpool", "m1", a2, [3, 3], [2, 2], [1, 1, 1, 1]);
  const m2 = g.pool("maxpool", "m2", a1, [3, 3], [2, 2], [1, 1, 1, 1]);
  const s3 = g.add("s3", m1, m2, [1, 3, -2, 2], [2, 1, 1, -1]);
  const a3 = g.requant("a3", s3, 3);
  const gp = g.pool("sumpool", "gp", a3, [a3.shape[1], a3.shape[2]], [1, 1]);
  const fc = g.conv("fc", gp, 5, [1, 1], { density, fullyConnected: true });
  return g.build(fc, `hand-made-${seed}`);
}

/** n random 8-bit images plus an all-0 and an all-255 image at the front (range extremes). */
export function randomPixels(shape: Shape3, n: number, seed: number): Uint8Array {
  const per = shape[0] * shape[1] * shape[2];
  const rng = new Rng(seed);
  const out = Uint8Array.from({ length: n * per }, () => rng.int(0, 255));
  if (n >= 2) {
    out.fill(0, 0, per);
    out.fill(255, per, 2 * per);
  }
  return out;
}

// ---------------------------------------------------------------- architectures

/** The default RTM-AP with some array fields replaced (an in-code architecture). */
export function archWith(array: Partial<ArraySpec>, chip: { tiles?: number; arraysPerTile?: number } = {}, base = "rtm-ap"): ApArch {
  const a = loadArch(base);
  return { ...a, name: `${a.name}-test`, ...chip, array: { ...a.array, ...array } };
}

/**
 * The text of configs/arch/rtm-ap.yaml with some `array:` values replaced (e.g. tracksPerRow),
 * validated by parseArch so the file a test writes is one the loader accepts.
 */
export function archYamlWith(array: Record<string, number | number[] | string>, name = "test-arch"): string {
  const doc = parseYaml(readFileSync(`${archConfigDir()}/rtm-ap.yaml`, "utf8")) as { name: string; array: Record<string, { value: unknown } | string> };
  doc.name = name;
  for (const [k, v] of Object.entries(array)) {
    if (k === "layout") {
      doc.array.layout = v as string;
      continue;
    }
    assert.ok(doc.array[k], `rtm-ap.yaml has no array.${k}`);
    (doc.array[k] as { value: unknown }).value = v;
  }
  const text = stringifyYaml(doc);
  parseArch(text, name);
  return text;
}

// ---------------------------------------------------------------- end-to-end on fmnist-resnet8

/**
 * One encoding of fmnist-resnet8 end to end: compiled with the verifier, then every unit's output
 * checked against the integer reference on `bit` images with the bit-level simulator and `fast`
 * images with the word-level one (values only, chunks of 250). Returns the figures for diagnostics.
 */
export function fmnistEndToEnd(file: FmnistEncoding, bit: number, fast: number): { net: CompiledNetwork; bit: VerifiedRun; fast: VerifiedRun } {
  const net = compileNetworkVerified(fmnistQGraph(file));
  const { images, count } = fmnistImages(Math.max(bit, fast));
  const b = verifiedRun(net, images, Math.min(bit, count), { mode: "bit" });
  assertBitExact(b, `${file}: bit level, ${b.images} images`);
  const f = verifiedRun(net, images, Math.min(fast, count), { mode: "fast", events: false, chunk: 250 });
  assertBitExact(f, `${file}: word level, ${f.images} images`);
  return { net, bit: b, fast: f };
}

/** compileNetwork with the verifier on (what every compiler test does). */
export function compileNetworkVerified(q: QGraph, opts: Omit<Parameters<typeof compileNetwork>[1] & object, "verify"> = {}): CompiledNetwork {
  return compileNetwork(q, { ...opts, verify: true });
}

// ---------------------------------------------------------------- ablation

export interface AblationFigures {
  pass: string;
  addsCompiled: number;
  addCycles: number;
  stagingCopies: number;
  steps: number;
  events: ApEvents;
}

/** Compile-time and run-time figures of one configuration (fast run with events, verified). */
export function ablationFigures(net: CompiledNetwork, run: VerifiedRun, pass: string): AblationFigures {
  let addsCompiled = 0, addCycles = 0, stagingCopies = 0, steps = 0;
  for (const u of net.units) {
    addsCompiled += u.stats.addsCompiled;
    addCycles += u.stats.cyclesCompiled;
    stagingCopies += u.stats.stagingCopies;
    steps += u.program.nSteps;
  }
  return { pass, addsCompiled, addCycles, stagingCopies, steps, events: run.events };
}

export function formatFigures(f: AblationFigures): string {
  const e = f.events;
  return `${f.pass}: adds ${f.addsCompiled}, add cycles ${f.addCycles}, staging ${f.stagingCopies}, steps ${f.steps}; run: cycles ${e.cycles}, searches ${e.searches}, searchRowBits ${e.searchRowBits}, writeCells ${e.writeCells}, shifts ${e.shifts}, shiftTrackDomains ${e.shiftTrackDomains}, transferBitsArray ${e.transferBitsArray}, transferBitsTile ${e.transferBitsTile}, transferBitsChip ${e.transferBitsChip}`;
}

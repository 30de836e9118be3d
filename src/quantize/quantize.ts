/**
 * Quantization: float graph IR -> integer-only QGraph.
 *
 * The pass walks the source graph in topological order and keeps, for every float tensor, a
 * description `FVal` of how it is computed from an integer QGraph tensor: an elementwise chain
 * (src/quantize/chain.ts) over `real(base) = scale[c] * v + offset[c]`. Linear operations (bias,
 * batch-norm, Mul/Div by constants) extend the chain for free; operations that need integers
 * (convolution, fully connected, residual add, pooling, the graph output) "materialize" their
 * inputs:
 *  - a chain that rounds (Div/Round/Clip/Mul fake-quant, Clip/QuantizeLinear/DequantizeLinear QDQ)
 *    becomes a `requant` op whose per-channel integer thresholds reproduce the chain exactly on
 *    every integer input (found by binary search over the monotone chain, evaluated in float32
 *    steps as the source graph does);
 *  - a chain that does not round but ends in ReLU (a float model) gets a k-bit quantizer inserted,
 *    its scale calibrated on sample inputs (MSE-optimal clipping) — reported in the notes;
 *  - a linear chain composes into the tensor's scale/offset.
 * Convolutions and Gemm/MatMul become ternary `conv` ops: weights already ternary per output
 * channel ({-a,0,+a}, including int8 {-1,0,1} behind a per-channel DequantizeLinear, folded at
 * import) are used as they are; others are ternarized by the TWN rule (reported).
 */
import { RtapError } from "../errors.js";
import type { ConstTensor, Graph, GraphNode } from "../import/graph.js";
import { attrFloat, attrInt, attrInts, nodeWhere, numel } from "../import/graph.js";
import { runOp } from "../reference/integer.js";
import { Rng } from "../util/random.js";
import { ternarizeTwn } from "../zoo/twn.js";
import { chainGrid, composeLinear, evalChain, isLinear, type ChainOp } from "./chain.js";
import type { QConvOp, QGraph, QOp, QTensor, Shape3 } from "./qgraph.js";
import { bitsFor } from "./qgraph.js";
import { addMultipliers } from "./residual.js";

export interface QuantizeOptions {
  /** Bits of the activation quantizers rtap inserts into float models (default 4). */
  activationBits?: number;
  /** Calibration images (uint8 pixels, CHW, concatenated) for inserted quantizers. */
  calibrationImages?: Uint8Array;
  /** Number of synthetic calibration images when none are given (default 4). */
  calibrationCount?: number;
  /** Seed of the synthetic calibration images (default 0). */
  seed?: number;
  /** Residual adds: bound on each integer multiplier, |m| <= 2^bits (default: only the 31-bit output range bounds them). */
  addMultiplierBits?: number;
  /**
   * Residual adds: worst-case error of the integer form accepted in exchange for cheaper
   * multipliers (fewer shifted adds, narrower sums), relative to the sum's largest real value
   * (default 2^-26, a quarter of float32's unit roundoff; src/quantize/residual.ts).
   */
  addTolerance?: number;
}

interface FVal {
  base: string;
  ops: ChainOp[];
  /** The float tensor is the flattened [1, C*H*W] view of the base. */
  flat: boolean;
}

const INT_LIMIT = 2 ** 30;
/** Largest |value| of a residual add's output: 31-bit two's complement on the AP (bitsFor <= 31). */
const ADD_LIMIT = 2 ** 30 - 1;

export function quantizeGraph(graph: Graph, opts: QuantizeOptions = {}): QGraph {
  return new Quantizer(graph, opts).run();
}

class Quantizer {
  private readonly q: QGraph;
  private readonly vals = new Map<string, FVal>();
  private readonly codesOf = new Map<string, string>(); // float tensor -> materialized codes tensor
  private readonly consumers = new Map<string, number>(); // QGraph tensor -> ops consuming it
  private readonly bits: number;
  private ternarized: string[] = [];
  private inserted: string[] = [];
  private calib: { n: number; env: Map<string, Int32Array>; done: number } | undefined;
  private names = new Set<string>();

  constructor(private readonly g: Graph, private readonly opts: QuantizeOptions) {
    this.bits = opts.activationBits ?? 4;
    if (!Number.isInteger(this.bits) || this.bits < 1 || this.bits > 8) throw new RtapError(`activation bits must be 1..8, got ${this.bits}`);
    this.q = { name: g.name, source: g.source, input: "", ops: [], tensors: new Map(), output: "", activationBits: this.bits, notes: [] };
  }

  run(): QGraph {
    const inp = this.g.inputs[0]!;
    const [, C, H, W] = inp.dims as [number, number, number, number];
    const inName = this.addTensor(inp.name, [C, H, W], "code", new Int32Array(C).fill(0), new Int32Array(C).fill(255), new Float64Array(C).fill(1 / 255), new Float64Array(C));
    this.q.input = inName;
    this.q.ops.push({ kind: "input", name: inName, origin: [], output: inName, bits: 8 });
    this.vals.set(inp.name, { base: inName, ops: [], flat: false });
    this.q.notes.push("input: uint8 pixels p, x = p/255 (8-bit codes, scale 1/255)");

    for (const node of this.g.nodes) this.visit(node);

    const outName = this.g.outputs[0]!;
    const ov = this.val(outName, undefined);
    if (ov.ops.some((o) => !isLinear(o))) throw new RtapError(`the graph output "${outName}" is produced by a nonlinear activation; rtap expects logits from a linear layer`);
    const base = this.q.tensors.get(ov.base)!;
    if (ov.ops.length) {
      const { mul, add } = composeLinear(ov.ops, base.shape[0]);
      for (let c = 0; c < base.shape[0]; c++) {
        base.offset[c] = base.offset[c]! * mul[c]! + add[c]!;
        base.scale[c]! *= mul[c]!;
      }
    }
    this.q.output = ov.base;
    if (this.ternarized.length) {
      this.q.notes.push(`ternarized ${this.ternarized.length} layer(s) by the TWN rule (threshold 0.7*mean|w| per output channel): ${this.ternarized.join(", ")}`);
    }
    if (this.inserted.length) {
      const n = this.calib?.n ?? 0;
      const src = this.opts.calibrationImages ? `${n} given image(s)` : `${n} seeded synthetic image(s) (uniform random pixels, seed ${this.opts.seed ?? 0})`;
      this.q.notes.push(`inserted ${this.inserted.length} ${this.bits}-bit activation quantizer(s) after ReLU, scales calibrated on ${src} by MSE-optimal clipping`);
    }
    return this.q;
  }

  // ------------------------------------------------------------------ bookkeeping

  private uniqueName(want: string): string {
    let n = want;
    for (let i = 1; this.names.has(n); i++) n = `${want}#${i}`;
    this.names.add(n);
    return n;
  }

  private addTensor(
    name: string, shape: Shape3, kind: QTensor["kind"], min: Int32Array, max: Int32Array, scale: Float64Array, offset: Float64Array,
  ): string {
    const n = this.uniqueName(name);
    for (let c = 0; c < shape[0]; c++) {
      if (Math.abs(min[c]!) > INT_LIMIT || Math.abs(max[c]!) > INT_LIMIT) {
        throw new RtapError(`integer range [${min[c]}, ${max[c]}] of channel ${c} exceeds the 31-bit range rtap supports`, `tensor "${name}"`);
      }
    }
    this.q.tensors.set(n, { name: n, shape, kind, minPerChannel: min, maxPerChannel: max, scale, offset });
    return n;
  }

  private pushOp(op: QOp): void {
    this.q.ops.push(op);
    const ins = op.kind === "input" ? [] : op.kind === "add" ? op.inputs : [op.input];
    for (const i of ins) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
  }

  private val(name: string, node: GraphNode | undefined): FVal {
    const v = this.vals.get(name);
    if (!v) {
      if (this.g.constants.has(name)) {
        throw new RtapError(`constant input "${name}" is used where rtap expects an activation`, node ? nodeWhere(node) : undefined);
      }
      throw new RtapError(`tensor "${name}" has no integer form (unsupported producer)`, node ? nodeWhere(node) : undefined);
    }
    return v;
  }

  private constOf(node: GraphNode, i: number, what: string): ConstTensor {
    const name = node.inputs[i];
    const t = name ? this.g.constants.get(name) : undefined;
    if (!t) throw new RtapError(`${what} must be a constant (initializer)`, nodeWhere(node));
    return t;
  }

  /** Per-channel constant operand of an elementwise op: scalar, [C], [C,1,1] or [1,C,1,1]. */
  private channelConst(node: GraphNode, t: ConstTensor, C: number): Float64Array {
    const n = numel(t.dims);
    if (n === 1) return Float64Array.of(t.data[0]!);
    const nonOne = t.dims.filter((d) => d !== 1);
    if (n === C && nonOne.length === 1 && (t.dims.length === 1 || t.dims[t.dims.length - 3] === C || t.dims.length === 2)) {
      return Float64Array.from(t.data);
    }
    throw new RtapError(`constant operand of shape [${t.dims.join(",")}] is not a scalar or a per-channel vector of ${C} values`, nodeWhere(node));
  }

  // ------------------------------------------------------------------ nodes

  private visit(node: GraphNode): void {
    const out = node.outputs[0]!;
    const extend = (v: FVal, op: ChainOp): void => {
      this.vals.set(out, { base: v.base, ops: [...v.ops, op], flat: v.flat });
    };
    const C = (v: FVal): number => this.q.tensors.get(v.base)!.shape[0];
    switch (node.opType) {
      case "Identity":
      case "Dropout":
      case "Cast":
        if (node.opType === "Cast" && !["float32", "float64"].includes(this.g.dtypes.get(out) ?? "")) {
          throw new RtapError("casts of activations to integer types are not supported", nodeWhere(node));
        }
        this.vals.set(out, this.val(node.inputs[0]!, node));
        return;
      case "Relu":
        extend(this.val(node.inputs[0]!, node), { kind: "relu" });
        return;
      case "Clip": {
        const v = this.val(node.inputs[0]!, node);
        const lo = node.inputs[1] ? this.constOf(node, 1, "Clip min").data[0]! : attrFloat(node, "min", -Infinity);
        const hi = node.inputs[2] ? this.constOf(node, 2, "Clip max").data[0]! : attrFloat(node, "max", Infinity);
        extend(v, { kind: "clip", lo, hi });
        return;
      }
      case "Round":
        extend(this.val(node.inputs[0]!, node), { kind: "round" });
        return;
      case "Add":
      case "Sub":
      case "Mul":
      case "Div": {
        const [a, b] = node.inputs as [string, string];
        const ca = this.g.constants.has(a), cb = this.g.constants.has(b);
        if (ca && cb) throw new RtapError("both operands are constant but were not folded", nodeWhere(node));
        if (!ca && !cb) {
          if (node.opType === "Add" || node.opType === "Sub") return this.residualAdd(node);
          throw new RtapError(`${node.opType} of two activations is not supported (only by a constant)`, nodeWhere(node));
        }
        if (ca && node.opType !== "Add" && node.opType !== "Mul") {
          throw new RtapError(`${node.opType} with the constant as first operand is not supported`, nodeWhere(node));
        }
        const v = this.val(ca ? b : a, node);
        const k = this.channelConst(node, this.g.constants.get(ca ? a : b)!, C(v));
        const kind = node.opType.toLowerCase() as "add" | "sub" | "mul" | "div";
        extend(v, { kind, k });
        return;
      }
      case "BatchNormalization": {
        const v = this.val(node.inputs[0]!, node);
        const [sc, bi, mean, variance] = [1, 2, 3, 4].map((i) => this.constOf(node, i, "BatchNormalization parameter"));
        const eps = attrFloat(node, "epsilon", 1e-5);
        const f = Math.fround;
        const n = C(v);
        const mul = new Float64Array(n), add = new Float64Array(n);
        for (let c = 0; c < n; c++) {
          mul[c] = f(f(1 / f(Math.sqrt(f(variance!.data[c]! + f(eps))))) * sc!.data[c]!);
          add[c] = f(bi!.data[c]! - f(mean!.data[c]! * mul[c]!));
        }
        extend(v, { kind: "bn", mul, add });
        return;
      }
      case "QuantizeLinear": {
        const v = this.val(node.inputs[0]!, node);
        const s = this.channelConst(node, this.constOf(node, 1, "y_scale"), C(v));
        const zpT = node.inputs[2] ? this.constOf(node, 2, "y_zero_point") : undefined;
        const zp = zpT ? this.channelConst(node, zpT, C(v)) : new Float64Array(1);
        const signed = zpT?.dtype === "int8";
        extend(v, { kind: "quantize", scale: s, zp, lo: signed ? -128 : 0, hi: signed ? 127 : 255 });
        return;
      }
      case "DequantizeLinear": {
        const v = this.val(node.inputs[0]!, node);
        const s = this.channelConst(node, this.constOf(node, 1, "x_scale"), C(v));
        const zp = node.inputs[2] ? this.channelConst(node, this.constOf(node, 2, "x_zero_point"), C(v)) : new Float64Array(1);
        extend(v, { kind: "dequantize", scale: s, zp });
        return;
      }
      case "Flatten":
      case "Reshape": {
        const v = this.val(node.inputs[0]!, node);
        const dims = this.g.shapes.get(out)!;
        if (dims.length !== 2 || dims[0] !== 1) {
          throw new RtapError(`only a flatten to [batch, features] is supported, this produces [${dims.join(",")}]`, nodeWhere(node));
        }
        this.vals.set(out, { ...v, flat: true });
        return;
      }
      case "Conv":
        return this.conv(node);
      case "Gemm":
      case "MatMul":
        return this.dense(node);
      case "MaxPool":
      case "AveragePool":
      case "GlobalAveragePool":
        return this.pool(node);
      default:
        throw new RtapError(`operator ${node.opType} cannot be expressed in rtap's integer graph`, nodeWhere(node));
    }
  }

  // ------------------------------------------------------------------ materialization

  /** The integer tensor and its exact real meaning, for consumers that need integers. */
  private materialize(name: string, node: GraphNode): string {
    const cached = this.codesOf.get(name);
    if (cached) return cached;
    const v = this.val(name, node);
    let result: string;
    if (v.ops.length === 0) {
      result = v.base;
    } else if (v.ops.every(isLinear)) {
      // Re-express the base with composed scale/offset: an alias tensor is not possible without
      // data, so fold the linear chain into a copy of the base tensor's meaning when the base has
      // no other use yet, else keep it by materializing through the requant-free path below.
      result = this.foldLinear(v, node);
    } else {
      result = this.requantize(v, name, node);
    }
    this.codesOf.set(name, result);
    return result;
  }

  /** A linear chain on a tensor: update the tensor's meaning (valid only if nothing else reads its old meaning). */
  private foldLinear(v: FVal, node: GraphNode): string {
    const t = this.q.tensors.get(v.base)!;
    const { mul, add } = composeLinear(v.ops, t.shape[0]);
    const usedElsewhere = [...this.vals.entries()].some(([, o]) => o.base === v.base && o !== v && !sameOps(o.ops, v.ops) && o.ops.length === 0);
    if (usedElsewhere && (this.consumers.get(v.base) ?? 0) > 0) {
      throw new RtapError("a tensor is used both with and without a following linear operation (bias/batch-norm/scale); rtap cannot fold that", nodeWhere(node));
    }
    for (let c = 0; c < t.shape[0]; c++) {
      t.offset[c] = t.offset[c]! * mul[c]! + add[c]!;
      t.scale[c]! *= mul[c]!;
    }
    // The chain is now part of the tensor's meaning.
    for (const o of this.vals.values()) if (o.base === v.base && sameOps(o.ops, v.ops)) o.ops = [];
    return v.base;
  }

  /** Requant op reproducing a rounding chain (or an inserted calibrated quantizer) on integers. */
  private requantize(v: FVal, name: string, node: GraphNode): string {
    const t = this.q.tensors.get(v.base)!;
    const C = t.shape[0];
    this.makeMonotone(v, node);
    let ops = v.ops;
    const realLo = new Float64Array(C), realHi = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const a = t.scale[c]! * t.minPerChannel[c]! + t.offset[c]!, b = t.scale[c]! * t.maxPerChannel[c]! + t.offset[c]!;
      realLo[c] = Math.min(a, b);
      realHi[c] = Math.max(a, b);
    }
    let grid = chainGrid(ops, C, realLo, realHi);
    if (!grid) {
      // A float activation: insert clamp(round(x / s), 0, 2^k - 1) after it.
      const probe = evalInterval0(ops, C, realLo);
      if (probe < 0) {
        throw new RtapError("this activation can be negative (no ReLU before it); rtap quantizes only unsigned post-ReLU activations", nodeWhere(node));
      }
      const s = this.calibrateScale(v, node);
      const L = (1 << this.bits) - 1;
      ops = [...ops, { kind: "div", k: Float64Array.of(s) }, { kind: "round" }, { kind: "clip", lo: 0, hi: L }, { kind: "mul", k: Float64Array.of(s) }];
      grid = chainGrid(ops, C, realLo, realHi)!;
      this.inserted.push(node.name);
    }
    const step = grid.step[0]!;
    const kLo = grid.kLo;
    for (let c = 0; c < C; c++) {
      if (Math.abs(grid.step[c]! - step) > 1e-6 * step) throw new RtapError("per-channel activation scales are not supported (the next layer sums across channels)", nodeWhere(node));
    }
    // Codes count grid steps from the smallest reachable value, which must stand for 0 (a ReLU or
    // clip at 0 before the quantizer): signed activations would need an offset in every sum.
    for (let c = 0; c < C; c++) {
      const zeroAt = grid.offset[c]! + kLo * grid.step[c]!;
      if (Math.abs(zeroAt) > 1e-6 * step) {
        throw new RtapError(
          zeroAt < 0
            ? `the smallest activation value is ${zeroAt.toPrecision(4)}, not 0: rtap supports unsigned activations only (add a ReLU or clip at 0 before the quantizer)`
            : `the smallest activation value is ${zeroAt.toPrecision(4)}, not 0 (the quantizer's zero point leaves code 0 unused below a positive value); rtap needs the value 0 to be representable`,
          nodeWhere(node),
        );
      }
    }
    const kHi = grid.kHi - kLo;
    const bits = bitsFor(0, kHi);
    if (bits > 16) throw new RtapError(`activation has ${kHi + 1} levels; rtap supports at most 16-bit activations`, nodeWhere(node));
    const L = (1 << bits) - 1;
    const T = new Int32Array(C * L);
    for (let c = 0; c < C; c++) {
      const vmin = t.minPerChannel[c]!, vmax = t.maxPerChannel[c]!;
      const codeOf = (x: number): number => {
        const y = evalChain(ops, c, t.scale[c]! * x + t.offset[c]!);
        return Math.round((y - grid!.offset[c]!) / grid!.step[c]!) - kLo;
      };
      for (let k = 1; k <= L; k++) {
        // smallest x in [vmin, vmax+1] with code(x) >= k (vmax+1 = never reached)
        let lo = vmin, hi = vmax + 1;
        while (lo < hi) {
          const mid = Math.floor((lo + hi) / 2);
          if (codeOf(mid) >= k) hi = mid;
          else lo = mid + 1;
        }
        T[c * L + k - 1] = lo;
      }
      // The binary search assumes a monotone chain; check the thresholds reproduce it at their edges.
      for (let k = 1; k <= L; k++) {
        const x = T[c * L + k - 1]!;
        if ((x <= vmax && codeOf(x) < k) || (x > vmin && codeOf(x - 1) >= k)) {
          throw new RtapError(`activation chain is not monotone in channel ${c}; cannot express it as thresholds`, nodeWhere(node));
        }
      }
    }
    const out = this.addTensor(name, [...t.shape] as Shape3, "code", new Int32Array(C), new Int32Array(C).fill(kHi), new Float64Array(C).fill(step), new Float64Array(C));
    this.pushOp({ kind: "requant", name: out, origin: [node.name], input: v.base, output: out, bits, thresholds: T });
    this.calibStep();
    return out;
  }

  /**
   * Makes every channel's chain increase with the integer: a channel whose linear prefix (before
   * the first rounding/clipping op) has a negative overall factor (e.g. a negative batch-norm
   * gamma) is negated at its producer (conv weight row or add multipliers; real values unchanged),
   * so thresholds read "v >= T". Factors after the first nonlinear op must be positive.
   */
  private makeMonotone(v: FVal, node: GraphNode): void {
    const t = this.q.tensors.get(v.base)!;
    const C = t.shape[0];
    const factorOf = (op: ChainOp, c: number): number | undefined => {
      const k = op.kind === "mul" || op.kind === "div" ? op.k : op.kind === "bn" ? op.mul : op.kind === "quantize" || op.kind === "dequantize" ? op.scale : undefined;
      return k ? (k.length === 1 ? k[0]! : k[c]!) : undefined;
    };
    const flip: number[] = [];
    for (let c = 0; c < C; c++) {
      let sign = t.scale[c]! < 0 ? -1 : 1;
      let prefix = true;
      for (const op of v.ops) {
        const k = factorOf(op, c);
        if (prefix) {
          if (k !== undefined) sign *= k < 0 ? -1 : 1;
          if (k === 0) throw new RtapError(`a zero scale in channel ${c} makes the activation constant in a way rtap cannot express`, nodeWhere(node));
          if (!isLinear(op)) prefix = false;
        } else if (k !== undefined && !(k > 0)) {
          throw new RtapError(`a non-positive scale after the activation's rounding (channel ${c}) makes it decrease; not supported`, nodeWhere(node));
        }
      }
      if (sign < 0) flip.push(c);
    }
    if (flip.length === 0) return;
    const producer = this.q.ops.find((o) => o.output === v.base);
    if (!producer || (producer.kind !== "conv" && producer.kind !== "add") || (this.consumers.get(v.base) ?? 0) > 0) {
      throw new RtapError("activation decreases with its input (a negative scale) and its producer cannot be negated; not supported", nodeWhere(node));
    }
    for (const c of flip) {
      if (producer.kind === "conv") {
        const K = producer.inChannels * producer.kernel[0] * producer.kernel[1];
        for (let k = 0; k < K; k++) producer.weights[c * K + k] = -producer.weights[c * K + k]! as -1 | 0 | 1;
      } else {
        producer.mul[0][c] = -producer.mul[0][c]!;
        producer.mul[1][c] = -producer.mul[1][c]!;
      }
      const mn = t.minPerChannel[c]!;
      t.minPerChannel[c] = -t.maxPerChannel[c]!;
      t.maxPerChannel[c] = -mn;
      t.scale[c] = -t.scale[c]!;
      if (this.calib?.env.has(v.base)) {
        // keep calibration data consistent with the negated channel
        const data = this.calib.env.get(v.base)!;
        const S = t.shape[1] * t.shape[2];
        for (let n = 0; n < this.calib.n; n++) for (let i = 0; i < S; i++) data[(n * C + c) * S + i] = -data[(n * C + c) * S + i]!;
      }
    }
  }

  // ------------------------------------------------------------------ calibration

  private calibStep(): void {
    if (!this.calib) return;
    for (; this.calib.done < this.q.ops.length; this.calib.done++) {
      const op = this.q.ops[this.calib.done]!;
      if (op.kind === "input") continue;
      this.calib.env.set(op.output, runOp(this.q, op, this.calib.env, this.calib.n));
    }
  }

  private ensureCalibration(): void {
    if (this.calib) return;
    const inT = this.q.tensors.get(this.q.input)!;
    const per = inT.shape[0] * inT.shape[1] * inT.shape[2];
    let images = this.opts.calibrationImages;
    if (!images) {
      const n = this.opts.calibrationCount ?? 4;
      const rng = new Rng(this.opts.seed ?? 0);
      images = new Uint8Array(n * per);
      for (let i = 0; i < images.length; i++) images[i] = rng.nextU32() & 255;
    }
    if (images.length % per !== 0 || images.length === 0) throw new RtapError(`calibration images: ${images.length} values is not a whole number of [${inT.shape.join(",")}] images`);
    this.calib = { n: images.length / per, env: new Map([[this.q.input, Int32Array.from(images)]]), done: 0 };
    this.calibStep();
  }

  /** MSE-optimal clipping scale for the activation `v` on the calibration images. */
  private calibrateScale(v: FVal, node: GraphNode): number {
    this.ensureCalibration();
    this.calibStep();
    const t = this.q.tensors.get(v.base)!;
    const data = this.calib!.env.get(v.base)!;
    const [C, H, W] = t.shape;
    const S = H * W;
    const n = this.calib!.n;
    const total = n * C * S;
    // Histogram of the activation (4096 bins over [0, max]); the MSE of each candidate clipping
    // value is computed from bin centres, which is exact to within a bin width.
    const values = new Float64Array(total);
    let maxV = 0;
    for (let i = 0; i < total; i++) {
      const c = Math.floor(i / S) % C;
      const y = evalChain(v.ops, c, t.scale[c]! * data[i]! + t.offset[c]!);
      values[i] = y;
      if (y > maxV) maxV = y;
    }
    if (!(maxV > 0)) return 1; // dead on the calibration data: any positive scale is exact
    const BINS = 4096;
    const hist = new Float64Array(BINS);
    for (let i = 0; i < total; i++) hist[Math.min(BINS - 1, Math.floor((values[i]! / maxV) * BINS))]! += 1;
    const L = (1 << this.bits) - 1;
    let best = maxV / L, bestErr = Infinity;
    for (let i = 100; i >= 10; i--) {
      const s = (maxV * i) / 100 / L;
      let err = 0;
      for (let b = 0; b < BINS; b++) {
        const cnt = hist[b]!;
        if (cnt === 0) continue;
        const y = ((b + 0.5) / BINS) * maxV;
        const qv = Math.min(L, Math.round(y / s)) * s;
        err += cnt * (y - qv) * (y - qv);
      }
      if (err < bestErr) {
        bestErr = err;
        best = s;
      }
    }
    void node;
    return Math.fround(best);
  }

  // ------------------------------------------------------------------ layers

  private convInput(name: string, node: GraphNode): { t: QTensor; id: string } {
    const id = this.materialize(name, node);
    const t = this.q.tensors.get(id)!;
    const s = t.scale[0]!;
    for (let c = 0; c < t.shape[0]; c++) {
      if (Math.abs(t.scale[c]! - s) > 1e-9 * Math.abs(s) || Math.abs(t.offset[c]!) > 1e-9 * Math.abs(s)) {
        throw new RtapError(
          "the input of this layer is not a quantized activation with one scale and zero offset (e.g. a convolution directly after a convolution without activation); rtap cannot express it with ternary weights",
          nodeWhere(node),
        );
      }
    }
    if (!(s > 0)) throw new RtapError("the input of this layer has a non-positive scale", nodeWhere(node));
    return { t, id };
  }

  private ternaryWeights(node: GraphNode, w: Float32Array | Float64Array | Int32Array, O: number): { t: Int8Array; a: Float64Array } {
    const J = w.length / O;
    const t = new Int8Array(w.length);
    const a = new Float64Array(O);
    let allTernary = true;
    for (let o = 0; o < O && allTernary; o++) {
      let m = 0;
      for (let j = 0; j < J; j++) m = Math.max(m, Math.abs(w[o * J + j]!));
      a[o] = m;
      for (let j = 0; j < J; j++) {
        const x = w[o * J + j]!;
        if (x === 0) continue;
        if (Math.abs(Math.abs(x) - m) > 1e-6 * m) {
          allTernary = false;
          break;
        }
        t[o * J + j] = x > 0 ? 1 : -1;
      }
    }
    if (allTernary) return { t, a };
    const twn = ternarizeTwn(w instanceof Float32Array ? w : Float32Array.from(w), O);
    this.ternarized.push(node.name);
    return { t: twn.ternary, a: Float64Array.from(twn.scale) };
  }

  private convOutRange(weights: Int8Array, O: number, C: number, KHW: number, inT: QTensor, padded: boolean): [Int32Array, Int32Array] {
    const mn = new Int32Array(O), mx = new Int32Array(O);
    for (let o = 0; o < O; o++) {
      let lo = 0, hi = 0;
      for (let c = 0; c < C; c++) {
        let cl = inT.minPerChannel[c]!, ch = inT.maxPerChannel[c]!;
        if (padded) {
          cl = Math.min(cl, 0);
          ch = Math.max(ch, 0);
        }
        for (let k = 0; k < KHW; k++) {
          const w = weights[(o * C + c) * KHW + k]!;
          if (w === 1) {
            lo += cl;
            hi += ch;
          } else if (w === -1) {
            lo -= ch;
            hi -= cl;
          }
        }
      }
      if (Math.abs(lo) > INT_LIMIT || Math.abs(hi) > INT_LIMIT) throw new RtapError(`accumulator range exceeds 31 bits in output channel ${o}`, `conv`);
      mn[o] = lo;
      mx[o] = hi;
    }
    return [mn, mx];
  }

  private conv(node: GraphNode): void {
    const where = nodeWhere(node);
    if (attrInt(node, "group", 1) !== 1) throw new RtapError(`grouped/depthwise convolution (group=${attrInt(node, "group", 1)}) is not supported`, where);
    if (attrInts(node, "dilations", [1, 1]).some((d) => d !== 1)) throw new RtapError("dilated convolution is not supported", where);
    const { t: inT, id: inId } = this.convInput(node.inputs[0]!, node);
    const W = this.constOf(node, 1, "convolution weights");
    const bias = node.inputs[2] ? this.constOf(node, 2, "convolution bias") : undefined;
    const [O, C, KH, KW] = W.dims as [number, number, number, number];
    const outDims = this.g.shapes.get(node.outputs[0]!)!;
    // Recover pads/strides from the output shape inference (auto_pad resolved there).
    const strides = attrInts(node, "strides", [1, 1]) as [number, number];
    const pads = padsOf(node, inT.shape, [KH, KW], strides, [outDims[2]!, outDims[3]!]);
    const { t: tern, a } = this.ternaryWeights(node, W.data, O);
    const sIn = inT.scale[0]!;
    const scale = Float64Array.from(a, (x) => x * sIn);
    const offset = new Float64Array(O);
    if (bias) for (let o = 0; o < O; o++) offset[o] = bias.data[o]!;
    const padded = pads.some((p) => p > 0);
    const [mn, mx] = this.convOutRange(tern, O, C, KH * KW, inT, padded);
    const out = this.addTensor(node.outputs[0]!, [O, outDims[2]!, outDims[3]!], "int", mn, mx, scale, offset);
    const op: QConvOp = {
      kind: "conv", name: out, origin: [node.name], input: inId, output: out, outChannels: O, inChannels: C,
      kernel: [KH, KW], stride: strides, pads, weights: tern, fullyConnected: false,
    };
    this.pushOp(op);
    this.calibStep();
    this.vals.set(node.outputs[0]!, { base: out, ops: [], flat: false });
  }

  private dense(node: GraphNode): void {
    const where = nodeWhere(node);
    const v = this.val(node.inputs[0]!, node);
    const baseShape = this.q.tensors.get(v.base)!.shape;
    if (!v.flat && !(baseShape[1] === 1 && baseShape[2] === 1)) throw new RtapError("the input of a fully connected layer must be a flattened activation", where);
    const { t: inT, id: inId } = this.convInput(node.inputs[0]!, node);
    const [C, H, Wd] = inT.shape;
    const K = C * H * Wd;
    const B = this.constOf(node, 1, "weights");
    let wRows: Float32Array;
    let N: number;
    let alpha = 1, beta = 1;
    if (node.opType === "Gemm") {
      if (attrInt(node, "transA", 0) !== 0) throw new RtapError("Gemm with transA=1 is not supported", where);
      alpha = attrFloat(node, "alpha", 1);
      beta = attrFloat(node, "beta", 1);
      const tB = attrInt(node, "transB", 0) === 1;
      N = tB ? B.dims[0]! : B.dims[1]!;
      wRows = transposeIfNeeded(B.data, tB, K, N);
    } else {
      N = B.dims[1]!;
      wRows = transposeIfNeeded(B.data, false, K, N);
    }
    if (B.dims[0]! * B.dims[1]! !== K * N) throw new RtapError(`weights [${B.dims.join(",")}] do not match ${K} input features`, where);
    if (!(alpha > 0)) throw new RtapError(`Gemm alpha=${alpha} is not supported (must be positive)`, where);
    const { t: tern, a } = this.ternaryWeights(node, wRows, N);
    const sIn = inT.scale[0]!;
    const scale = Float64Array.from(a, (x) => x * sIn * alpha);
    const offset = new Float64Array(N);
    if (node.inputs[2]) {
      const cT = this.constOf(node, 2, "bias");
      if (numel(cT.dims) !== N && numel(cT.dims) !== 1) throw new RtapError(`bias of shape [${cT.dims.join(",")}] does not match ${N} outputs`, where);
      for (let o = 0; o < N; o++) offset[o] = beta * cT.data[numel(cT.dims) === 1 ? 0 : o]!;
    }
    const [mn, mx] = this.convOutRange(tern, N, C, H * Wd, inT, false);
    const out = this.addTensor(node.outputs[0]!, [N, 1, 1], "int", mn, mx, scale, offset);
    this.pushOp({
      kind: "conv", name: out, origin: [node.name], input: inId, output: out, outChannels: N, inChannels: C,
      kernel: [H, Wd], stride: [1, 1], pads: [0, 0, 0, 0], weights: tern, fullyConnected: true,
    });
    this.calibStep();
    this.vals.set(node.outputs[0]!, { base: out, ops: [], flat: true });
  }

  private residualAdd(node: GraphNode): void {
    const where = nodeWhere(node);
    const ids = node.inputs.map((n) => this.materialize(n, node)) as [string, string];
    const [A, B] = ids.map((id) => this.q.tensors.get(id)!) as [QTensor, QTensor];
    if (A.shape.join() !== B.shape.join()) throw new RtapError(`operand shapes [${A.shape}] and [${B.shape}] differ (broadcasting activations is not supported)`, where);
    const C = A.shape[0];
    const sign = node.opType === "Sub" ? -1 : 1;
    const mA = new Int32Array(C), mB = new Int32Array(C);
    const scale = new Float64Array(C), offset = new Float64Array(C), mn = new Int32Array(C), mx = new Int32Array(C);
    const maxMultiplier = this.opts.addMultiplierBits === undefined ? undefined : 2 ** this.opts.addMultiplierBits;
    for (let c = 0; c < C; c++) {
      const sa = A.scale[c]!, sb = sign * B.scale[c]!;
      const magA = Math.max(Math.abs(A.minPerChannel[c]!), Math.abs(A.maxPerChannel[c]!));
      const magB = Math.max(Math.abs(B.minPerChannel[c]!), Math.abs(B.maxPerChannel[c]!));
      if (!Number.isFinite(sa) || !Number.isFinite(sb)) throw new RtapError(`the operand scales of channel ${c} (${sa}, ${sb}) are not finite`, where);
      if (magA + magB > ADD_LIMIT) throw new RtapError(`operand ranges of channel ${c} (|a| <= ${magA}, |b| <= ${magB}) leave no room for multipliers in 31 bits`, where);
      // real = sa*a + sb*b ~ u*(mA*a + mB*b), worst-case error within float32 resolution of the
      // sum when int32 allows (src/quantize/residual.ts)
      const m = addMultipliers(sa, sb, magA, magB, ADD_LIMIT, { tolerance: this.opts.addTolerance, maxMultiplier, thresholds: (1 << this.bits) - 1 });
      mA[c] = m.mA;
      mB[c] = m.mB;
      scale[c] = m.u;
      offset[c] = A.offset[c]! + sign * B.offset[c]!;
      const termsLo = [mA[c]! * A.minPerChannel[c]!, mA[c]! * A.maxPerChannel[c]!], termsHi = [mB[c]! * B.minPerChannel[c]!, mB[c]! * B.maxPerChannel[c]!];
      mn[c] = Math.min(...termsLo) + Math.min(...termsHi);
      mx[c] = Math.max(...termsLo) + Math.max(...termsHi);
    }
    const out = this.addTensor(node.outputs[0]!, [...A.shape] as Shape3, "int", mn, mx, scale, offset);
    this.pushOp({ kind: "add", name: out, origin: [node.name], inputs: ids, output: out, mul: [mA, mB] });
    this.calibStep();
    this.vals.set(node.outputs[0]!, { base: out, ops: [], flat: false });
  }

  private pool(node: GraphNode): void {
    const where = nodeWhere(node);
    const isMax = node.opType === "MaxPool";
    const v = this.val(node.inputs[0]!, node);
    let id: string;
    if (isMax && v.ops.length > 0 && !v.ops.every(isLinear)) id = this.materialize(node.inputs[0]!, node);
    else id = this.materialize(node.inputs[0]!, node);
    const inT = this.q.tensors.get(id)!;
    const [C, H, W] = inT.shape;
    const outDims = this.g.shapes.get(node.outputs[0]!)!;
    const [OH, OW] = [outDims[2]!, outDims[3]!];
    let kernel: [number, number], stride: [number, number], pads: [number, number, number, number];
    if (node.opType === "GlobalAveragePool") {
      kernel = [H, W];
      stride = [1, 1];
      pads = [0, 0, 0, 0];
    } else {
      const ks = attrInts(node, "kernel_shape", []);
      kernel = [ks[0]!, ks[1]!];
      stride = attrInts(node, "strides", [1, 1]) as [number, number];
      pads = padsOf(node, inT.shape, kernel, stride, [OH, OW]);
      if (attrInts(node, "dilations", [1, 1]).some((d) => d !== 1)) throw new RtapError("dilated pooling is not supported", where);
    }
    const area = kernel[0] * kernel[1];
    const mn = new Int32Array(C), mx = new Int32Array(C), scale = new Float64Array(C), offset = new Float64Array(C);
    if (isMax) {
      for (let c = 0; c < C; c++) {
        if (!(inT.scale[c]! > 0)) throw new RtapError("max-pool over a channel with a non-positive scale is not supported", where);
        mn[c] = inT.minPerChannel[c]!;
        mx[c] = inT.maxPerChannel[c]!;
        scale[c] = inT.scale[c]!;
        offset[c] = inT.offset[c]!;
      }
    } else {
      // Average = sum / area: valid only if every window covers `area` counted positions.
      const includePad = attrInt(node, "count_include_pad", 0) === 1;
      const overhang = (OH - 1) * stride[0] + kernel[0] > H + pads[0] + pads[2] || (OW - 1) * stride[1] + kernel[1] > W + pads[1] + pads[3];
      if ((pads.some((p) => p > 0) && !includePad) || overhang) {
        throw new RtapError("average pooling whose windows overlap the border (count_include_pad=0 or ceil_mode) divides by a varying count; not supported", where);
      }
      const padded = pads.some((p) => p > 0);
      for (let c = 0; c < C; c++) {
        const lo = padded ? Math.min(0, inT.minPerChannel[c]!) : inT.minPerChannel[c]!;
        const hi = padded ? Math.max(0, inT.maxPerChannel[c]!) : inT.maxPerChannel[c]!;
        mn[c] = lo * area;
        mx[c] = hi * area;
        scale[c] = inT.scale[c]! / area;
        offset[c] = inT.offset[c]!;
        if (padded && inT.offset[c] !== 0) throw new RtapError("average pooling with padding over a tensor with an offset is not supported", where);
      }
    }
    const out = this.addTensor(node.outputs[0]!, [C, OH, OW], isMax ? inT.kind : "int", mn, mx, scale, offset);
    this.pushOp({ kind: isMax ? "maxpool" : "sumpool", name: out, origin: [node.name], input: id, output: out, kernel, stride, pads });
    this.calibStep();
    this.vals.set(node.outputs[0]!, { base: out, ops: [], flat: false });
  }
}

function sameOps(a: readonly ChainOp[], b: readonly ChainOp[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function evalInterval0(ops: readonly ChainOp[], C: number, lo: Float64Array): number {
  let m = Infinity;
  for (let c = 0; c < C; c++) m = Math.min(m, evalChain(ops, c, lo[c]!));
  return m;
}

function transposeIfNeeded(data: ArrayLike<number>, rowsAreOutputs: boolean, K: number, N: number): Float32Array {
  const w = new Float32Array(K * N);
  if (rowsAreOutputs) for (let i = 0; i < K * N; i++) w[i] = data[i]!;
  else for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) w[n * K + k] = data[k * N + n]!;
  return w;
}

/** Explicit [top, left, bottom, right] pads, resolving auto_pad from the inferred output size. */
function padsOf(node: GraphNode, inShape: Shape3, kernel: [number, number], stride: [number, number], out: [number, number]): [number, number, number, number] {
  const explicit = attrInts(node, "pads", [0, 0, 0, 0]);
  const autoPad = node.attrs["auto_pad"];
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const tot = [0, 1].map((a) => Math.max(0, (out[a]! - 1) * stride[a]! + kernel[a]! - inShape[a + 1]!));
    const lo = tot.map((t) => (autoPad === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    return [lo[0]!, lo[1]!, tot[0]! - lo[0]!, tot[1]! - lo[1]!];
  }
  if (autoPad === "VALID") return [0, 0, 0, 0];
  if (attrInt(node, "ceil_mode", 0) === 1) {
    // extend the bottom/right pad so floor arithmetic gives the ceil-mode size
    const b = Math.max(explicit[2]!, (out[0] - 1) * stride[0] + kernel[0] - inShape[1] - explicit[0]!);
    const r = Math.max(explicit[3]!, (out[1] - 1) * stride[1] + kernel[1] - inShape[2] - explicit[1]!);
    return [explicit[0]!, explicit[1]!, b, r];
  }
  return [explicit[0]!, explicit[1]!, explicit[2]!, explicit[3]!];
}

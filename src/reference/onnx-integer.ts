/**
 * The QGraph as an ONNX graph that onnxruntime computes exactly: every tensor is a float32 or
 * float64 tensor holding integers, and this module proves, op by op, from per-channel value
 * intervals, that no value the runtime forms (products, partial sums in any order, comparisons,
 * table indices) falls outside the range where its float type represents every integer
 * (|v| <= 2^24 for float32, 2^53 for float64). Within that range float addition and
 * multiplication of integers are exact whatever the summation order, blocking or FMA use, so the
 * runtime's results equal the integer semantics of src/quantize/qgraph.ts. When an op cannot be
 * proven exact the export fails with the reason, and callers use the JS reference
 * (src/reference/integer.ts), which stays the golden executor. test/reference/onnx-integer.test.ts
 * checks every tensor against it bit for bit on real images.
 *
 * The intervals are propagated here from the input (uint8 pixels, [0, 255]) through the ops'
 * definitions, independently of the bounds the quantizer stored in the QGraph.
 *
 * Lowering (opset 13; the session must run with graph optimizations disabled, so the runtime
 * executes these nodes as written):
 *  - input   -> Cast(uint8 -> float32).
 *  - conv    -> Conv with float32 weights in {-1, 0, +1}; exact when sum_k |w[o,k]| * max|x_k| <=
 *               2^24 for every output channel o (bounds every partial sum of any subset of terms).
 *               A float64 input is cast to float32 first, if its values fit.
 *  - add     -> Mul by the per-channel multipliers, Add; float32 when every product and sum fits
 *               2^24 and both inputs are float32, else float64 (inputs cast up, exactly) when they
 *               fit 2^53; beyond that the export fails.
 *  - requant -> a lookup table when the values that matter are few: the code is constant below
 *               the first threshold and above the last, so x is clipped (Max, Min) to that span
 *               intersected with its interval, shifted to a table index (Add; Cast to int64) and
 *               looked up (Gather); otherwise the definition itself: GreaterOrEqual against the
 *               [L,1,C,1,1] thresholds, Cast to float32, ReduceSum over the L axis.
 *  - maxpool -> MaxPool (padding never wins: every window overlaps the input, checked).
 *  - sumpool -> ReduceSum over H, W when the window is the whole input, else a float32 grouped Conv
 *               with ones (zero padding), both exact when KH*KW*max|x| fits.
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AT,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType as DT,
  ValueInfoProtoSchema,
} from "onnx-buf";
import type { QAddOp, QConvOp, QGraph, QPoolOp, QRequantOp } from "../quantize/qgraph.js";

export type IntegerDType = "float32" | "float64";

/** Largest magnitude up to which every integer is exactly representable. */
export const EXACT_LIMIT: Record<IntegerDType, number> = { float32: 2 ** 24, float64: 2 ** 53 };

export interface IntegerOnnxOptions {
  /** Graph outputs: the QGraph output only (default) or every tensor (for layer-by-layer checks). */
  outputs?: "output" | "all";
  /** Largest requant lookup table, in entries, summed over channels (default 2^20). */
  lutLimit?: number;
}

/** What the exactness argument found for one op. */
export interface ExactnessStep {
  op: string;
  kind: string;
  dtype: IntegerDType;
  /** The largest magnitude of any value the runtime forms for this op (partial sums included). */
  bound: number;
  /** How the op is lowered (e.g. "lut 5379 entries", "compare 15 thresholds"). */
  lowering: string;
}

export interface IntegerOnnx {
  /** The serialized ModelProto. */
  bytes: Uint8Array;
  /** Name of the uint8 input [N, C, H, W]. */
  input: string;
  /** QGraph tensor name -> ONNX graph output name (float32 or float64 tensors of integers). */
  outputs: Map<string, string>;
  steps: ExactnessStep[];
}

export type IntegerOnnxExport = { ok: true; model: IntegerOnnx } | { ok: false; op: string; reason: string };

/** Per-channel closed interval of the values of a tensor, and where it lives in the ONNX graph. */
interface Val {
  name: string;
  dtype: IntegerDType;
  lo: Float64Array;
  hi: Float64Array;
  shape: [number, number, number];
}

class NotExact extends Error {
  constructor(readonly op: string, reason: string) {
    super(reason);
  }
}

const pow2 = (x: number): string => {
  const e = Math.log2(x);
  return Number.isInteger(e) ? `2^${e}` : String(x);
};

function magnitude(v: Val, c: number): number {
  return Math.max(Math.abs(v.lo[c]!), Math.abs(v.hi[c]!));
}

function maxOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, a[i]!);
  return m;
}

type AttrInit =
  | { ints: number[] }
  | { int: number };

class Builder {
  readonly nodes: MessageInitShape<typeof NodeProtoSchema>[] = [];
  readonly inits: MessageInitShape<typeof TensorProtoSchema>[] = [];
  private k = 0;

  fresh(hint: string): string {
    return `${hint}_${this.k++}`;
  }

  node(opType: string, inputs: string[], attrs: Record<string, AttrInit> = {}, out?: string): string {
    const o = out ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      name: `${opType}_${this.nodes.length}`,
      opType,
      input: inputs,
      output: [o],
      attribute: Object.entries(attrs).map(([name, a]) => ("ints" in a ? { name, type: AT.INTS, ints: a.ints.map(BigInt) } : { name, type: AT.INT, i: BigInt(a.int) })),
    });
    return o;
  }

  constant(hint: string, dtype: IntegerDType | "int64", dims: number[], data: ArrayLike<number>): string {
    const name = this.fresh(hint);
    // little-endian raw_data, as ONNX requires (typed arrays are little-endian on every platform
    // onnxruntime-node ships for)
    const typed = dtype === "float32" ? Float32Array.from(data) : dtype === "float64" ? Float64Array.from(data) : BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
    const raw = new Uint8Array(typed.buffer as ArrayBuffer);
    this.inits.push({ name, dims: dims.map(BigInt), dataType: dtype === "float32" ? DT.FLOAT : dtype === "float64" ? DT.DOUBLE : DT.INT64, rawData: raw });
    return name;
  }
}

const DT_OF: Record<IntegerDType, DT> = { float32: DT.FLOAT, float64: DT.DOUBLE };

function valueInfo(name: string, elemType: DT, dims: (number | string)[]): MessageInitShape<typeof ValueInfoProtoSchema> {
  return {
    name,
    type: {
      value: {
        case: "tensorType",
        value: {
          elemType,
          shape: { dim: dims.map((d) => (typeof d === "string" ? { value: { case: "dimParam" as const, value: d } } : { value: { case: "dimValue" as const, value: BigInt(d) } })) },
        },
      },
    },
  };
}

/** Exports the QGraph, or says which op cannot be proven exact and why. */
export function exportIntegerOnnx(q: QGraph, opts: IntegerOnnxOptions = {}): IntegerOnnxExport {
  try {
    return { ok: true, model: lower(q, opts) };
  } catch (e) {
    if (e instanceof NotExact) return { ok: false, op: e.op, reason: e.message };
    throw e;
  }
}

function lower(q: QGraph, opts: IntegerOnnxOptions): IntegerOnnx {
  const b = new Builder();
  const vals = new Map<string, Val>();
  const steps: ExactnessStep[] = [];
  const lutLimit = opts.lutLimit ?? 2 ** 20;
  const INPUT = "pixels";
  const shapeOf = (name: string): [number, number, number] => q.tensors.get(name)!.shape;
  const get = (name: string, op: string): Val => {
    const v = vals.get(name);
    if (!v) throw new NotExact(op, `tensor ${name} is not computed before it is used`);
    return v;
  };
  const check = (op: string, what: string, bound: number, dtype: IntegerDType): void => {
    if (!(bound <= EXACT_LIMIT[dtype])) throw new NotExact(op, `${what} reach ${bound}, beyond ${pow2(EXACT_LIMIT[dtype])} (${dtype} would round)`);
  };
  /** The value as float32 (a Cast when it is float64 and fits). */
  const asF32 = (v: Val, op: string): Val => {
    if (v.dtype === "float32") return v;
    for (let c = 0; c < v.lo.length; c++) check(op, "input values", magnitude(v, c), "float32");
    return { ...v, dtype: "float32", name: b.node("Cast", [v.name], { to: { int: DT.FLOAT } }) };
  };
  const asF64 = (v: Val): Val => (v.dtype === "float64" ? v : { ...v, dtype: "float64", name: b.node("Cast", [v.name], { to: { int: DT.DOUBLE } }) });

  for (const op of q.ops) {
    const shape = shapeOf(op.output);
    const C = shape[0];
    let out: Val;
    switch (op.kind) {
      case "input": {
        const name = b.node("Cast", [INPUT], { to: { int: DT.FLOAT } });
        out = { name, dtype: "float32", lo: new Float64Array(C), hi: new Float64Array(C).fill(255), shape };
        steps.push({ op: op.name, kind: op.kind, dtype: "float32", bound: 255, lowering: "cast uint8" });
        break;
      }
      case "conv":
        out = conv(b, op, asF32(get(op.input, op.name), op.name), shape, steps, check);
        break;
      case "add":
        out = add(b, op, get(op.inputs[0], op.name), get(op.inputs[1], op.name), shape, steps, check, asF64);
        break;
      case "requant":
        out = requant(b, op, get(op.input, op.name), shape, steps, lutLimit, check);
        break;
      case "maxpool":
      case "sumpool":
        out = pool(b, op, get(op.input, op.name), shape, steps, check, asF32);
        break;
    }
    for (let c = 0; c < C; c++) check(op.name, "output values", magnitude(out, c), out.dtype);
    vals.set(op.output, out);
  }

  const outputs = new Map<string, string>();
  const graphOutputs: MessageInitShape<typeof ValueInfoProtoSchema>[] = [];
  const exposed = opts.outputs === "all" ? q.ops.filter((o) => o.kind !== "input").map((o) => o.output) : [q.output];
  for (const t of exposed) {
    const v = vals.get(t)!;
    if (outputs.has(t)) continue;
    let name = v.name;
    // a graph output must be a node output with its own name; one identity per exposed tensor
    name = b.node("Identity", [name], {}, `out_${outputs.size}`);
    outputs.set(t, name);
    graphOutputs.push(valueInfo(name, DT_OF[v.dtype], ["N", ...v.shape]));
  }
  const inShape = shapeOf(q.input);
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: "", version: 13n }],
    producerName: "rtap",
    graph: {
      name: `${q.name} (integer)`,
      node: b.nodes,
      initializer: b.inits,
      input: [valueInfo(INPUT, DT.UINT8, ["N", ...inShape])],
      output: graphOutputs,
    },
  });
  return { bytes: toBinary(ModelProtoSchema, model), input: INPUT, outputs, steps };
}

type Check = (op: string, what: string, bound: number, dtype: IntegerDType) => void;

function convOutSize(n: number, k: number, s: number, p0: number, p1: number): number {
  return Math.floor((n + p0 + p1 - k) / s) + 1;
}

function conv(b: Builder, op: QConvOp, x: Val, shape: [number, number, number], steps: ExactnessStep[], check: Check): Val {
  const [C, H, W] = x.shape;
  const [O, OH, OW] = shape;
  const [KH, KW] = op.kernel;
  const [PT, PL, PB, PR] = op.pads;
  if (op.inChannels !== C || op.outChannels !== O) throw new NotExact(op.name, `channel counts ${op.inChannels}->${op.outChannels} do not match the tensors (${C}->${O})`);
  if (convOutSize(H, KH, op.stride[0], PT, PB) !== OH || convOutSize(W, KW, op.stride[1], PL, PR) !== OW) {
    throw new NotExact(op.name, `output ${OH}x${OW} is not what ONNX Conv gives for this input, kernel, stride and pads`);
  }
  const padded = op.pads.some((p) => p > 0);
  const KHW = KH * KW, K = C * KHW;
  // per input channel: the interval of what the kernel reads (0 included when the layer pads)
  const lo = new Float64Array(C), hi = new Float64Array(C), mag = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    lo[c] = padded ? Math.min(x.lo[c]!, 0) : x.lo[c]!;
    hi[c] = padded ? Math.max(x.hi[c]!, 0) : x.hi[c]!;
    mag[c] = Math.max(Math.abs(lo[c]!), Math.abs(hi[c]!));
  }
  const oLo = new Float64Array(O), oHi = new Float64Array(O);
  let bound = 0;
  for (let o = 0; o < O; o++) {
    let s = 0, l = 0, h = 0;
    for (let k = 0; k < K; k++) {
      const w = op.weights[o * K + k]!;
      if (w === 0) continue;
      if (w !== 1 && w !== -1) throw new NotExact(op.name, `weight ${w} is not ternary`);
      const c = Math.floor(k / KHW);
      s += mag[c]!;
      if (w === 1) {
        l += lo[c]!;
        h += hi[c]!;
      } else {
        l -= hi[c]!;
        h -= lo[c]!;
      }
    }
    oLo[o] = l;
    oHi[o] = h;
    bound = Math.max(bound, s);
  }
  check(op.name, "partial sums (sum |w| * max|x|)", bound, "float32");
  const w = b.constant("w", "float32", [O, C, KH, KW], op.weights);
  const name = b.node("Conv", [x.name, w], { kernel_shape: { ints: [KH, KW] }, strides: { ints: [...op.stride] }, pads: { ints: [PT, PL, PB, PR] } });
  steps.push({ op: op.name, kind: op.kind, dtype: "float32", bound, lowering: "Conv" });
  return { name, dtype: "float32", lo: oLo, hi: oHi, shape };
}

function add(
  b: Builder, op: QAddOp, a: Val, c2: Val, shape: [number, number, number], steps: ExactnessStep[], check: Check, asF64: (v: Val) => Val,
): Val {
  const C = shape[0];
  const [mA, mB] = op.mul;
  const lo = new Float64Array(C), hi = new Float64Array(C);
  let bound = 0;
  for (let c = 0; c < C; c++) {
    const ma = mA[c]!, mb = mB[c]!;
    if (!Number.isInteger(ma) || !Number.isInteger(mb)) throw new NotExact(op.name, `multiplier ${ma}/${mb} of channel ${c} is not an integer`);
    const pa = [ma * a.lo[c]!, ma * a.hi[c]!], pb = [mb * c2.lo[c]!, mb * c2.hi[c]!];
    lo[c] = Math.min(pa[0]!, pa[1]!) + Math.min(pb[0]!, pb[1]!);
    hi[c] = Math.max(pa[0]!, pa[1]!) + Math.max(pb[0]!, pb[1]!);
    bound = Math.max(bound, Math.abs(ma), Math.abs(mb), Math.abs(ma) * magnitude(a, c), Math.abs(mb) * magnitude(c2, c), Math.abs(lo[c]!), Math.abs(hi[c]!));
  }
  const dtype: IntegerDType = bound <= EXACT_LIMIT.float32 && a.dtype === "float32" && c2.dtype === "float32" ? "float32" : "float64";
  check(op.name, "products and sums", bound, dtype);
  const [xa, xb] = dtype === "float64" ? [asF64(a), asF64(c2)] : [a, c2];
  const scaled = (v: Val, m: ArrayLike<number>): string => {
    for (let c = 0; c < C; c++) if (m[c] !== 1) return b.node("Mul", [v.name, b.constant("mul", dtype, [C, 1, 1], m)]);
    return v.name;
  };
  const name = b.node("Add", [scaled(xa, mA), scaled(xb, mB)]);
  steps.push({ op: op.name, kind: op.kind, dtype, bound, lowering: `Mul, Add (multipliers up to ${Math.max(maxOf(Array.from(mA, Math.abs)), maxOf(Array.from(mB, Math.abs)))})` });
  return { name, dtype, lo, hi, shape };
}

/** A requant lowering's result before it is recorded as a step. */
interface Lowered {
  val: Val;
  dtype: IntegerDType;
  bound: number;
  lowering: string;
}

function requant(b: Builder, op: QRequantOp, x: Val, shape: [number, number, number], steps: ExactnessStep[], lutLimit: number, check: Check): Val {
  const C = shape[0];
  const L = 2 ** op.bits - 1;
  if (op.thresholds.length !== C * L) throw new NotExact(op.name, `${op.thresholds.length} thresholds for ${C} channels of ${L}`);
  const T = Float64Array.from(op.thresholds);
  const codes = codeRange(x, T, L);
  // 1. a per-channel affine map and floor, on every channel where one reproduces the codes
  const fits: (AffineFit | null)[] = [];
  const failing: number[] = [];
  for (let c = 0; c < C; c++) {
    const f = fitAffineChannel(x.dtype, x.lo[c]!, x.hi[c]!, L, relevantThresholds(x.lo[c]!, x.hi[c]!, T, c, L), (v) => codeOf(T, c, L, v));
    fits.push(f);
    if (!f) failing.push(c);
  }
  let done: Lowered;
  if (failing.length === 0) done = affine(b, x, fits, L, codes);
  else if (failing.length === C) done = requantTables(b, op.name, x, T, L, codes, lutLimit, check);
  else {
    // 2. the channels without a fit gathered and lowered by tables or comparisons, the results
    //    merged back by a channel permutation (Concat, Gather: no arithmetic)
    const aff = affine(b, x, fits, L, codes);
    const idx = b.constant("channels", "int64", [failing.length], failing);
    const sub: Val = {
      name: b.node("Gather", [x.name, idx], { axis: { int: 1 } }),
      dtype: x.dtype,
      lo: Float64Array.from(failing, (c) => x.lo[c]!),
      hi: Float64Array.from(failing, (c) => x.hi[c]!),
      shape: [failing.length, x.shape[1], x.shape[2]],
    };
    const subT = new Float64Array(failing.length * L);
    failing.forEach((c, j) => subT.set(T.subarray(c * L, (c + 1) * L), j * L));
    const rest = requantTables(b, op.name, sub, subT, L, codeRange(sub, subT, L), lutLimit, check);
    const affF32 = aff.dtype === "float32" ? aff.val.name : b.node("Cast", [aff.val.name], { to: { int: DT.FLOAT } });
    const restF32 = rest.dtype === "float32" ? rest.val.name : b.node("Cast", [rest.val.name], { to: { int: DT.FLOAT } });
    const perm = new Array<number>(C);
    for (let c = 0; c < C; c++) perm[c] = c;
    failing.forEach((c, j) => (perm[c] = C + j));
    const both = b.node("Concat", [affF32, restF32], { axis: { int: 1 } });
    const name = b.node("Gather", [both, b.constant("perm", "int64", [C], perm)], { axis: { int: 1 } });
    done = {
      val: { name, dtype: "float32", lo: codes.lo, hi: codes.hi, shape },
      dtype: aff.dtype === "float64" || rest.dtype === "float64" ? "float64" : "float32",
      bound: Math.max(aff.bound, rest.bound),
      lowering: `${aff.lowering} on ${C - failing.length} of ${C} channels; the other ${failing.length} by ${rest.lowering}`,
    };
  }
  steps.push({ op: op.name, kind: op.kind, dtype: done.dtype, bound: done.bound, lowering: done.lowering });
  return { ...done.val, shape };
}

/** The code of value v on channel c: #{k : v >= T[c][k]}. */
function codeOf(T: Float64Array, c: number, L: number, v: number): number {
  let n = 0;
  for (let k = 0; k < L; k++) if (v >= T[c * L + k]!) n++;
  return n;
}

/** Per channel, the codes of the interval's ends: the interval of the requant's output. */
function codeRange(x: Val, T: Float64Array, L: number): { lo: Float64Array; hi: Float64Array } {
  const C = x.lo.length;
  const lo = new Float64Array(C), hi = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    lo[c] = codeOf(T, c, L, x.lo[c]!);
    hi[c] = codeOf(T, c, L, x.hi[c]!);
  }
  return { lo, hi };
}

/**
 * The distinct thresholds t with lo < t <= hi: only they change the code inside [lo, hi]; the code
 * is constant below the first of them and from the last one up.
 */
function relevantThresholds(lo: number, hi: number, T: Float64Array, c: number, L: number): number[] {
  const ts: number[] = [];
  for (let k = 0; k < L; k++) {
    const t = T[c * L + k]!;
    if (t > lo && t <= hi && t !== ts.at(-1)) ts.push(t);
  }
  return ts;
}

/** floor(x * u[c] + w[c]) clipped to [0, L]; channels without a fit get u = w = 0 (replaced later). */
function affine(b: Builder, x: Val, fits: (AffineFit | null)[], L: number, codes: { lo: Float64Array; hi: Float64Array }): Lowered {
  const C = fits.length;
  const u = Float64Array.from(fits, (f) => f?.u ?? 0), w = Float64Array.from(fits, (f) => f?.w ?? 0);
  const mul = b.node("Mul", [x.name, b.constant("u", x.dtype, [C, 1, 1], u)]);
  const f = b.node("Floor", [b.node("Add", [mul, b.constant("w", x.dtype, [C, 1, 1], w)])]);
  const name = b.node("Clip", [f, b.constant("zero", x.dtype, [], [0]), b.constant("top", x.dtype, [], [L])]);
  return {
    val: { name, dtype: x.dtype, lo: codes.lo, hi: codes.hi, shape: x.shape },
    dtype: x.dtype,
    bound: maxOf(fits.map((ft) => ft?.bound ?? 0)),
    lowering: "floor(x * u[c] + w[c]) clipped to [0, L], checked at every threshold",
  };
}

/**
 * Requant without arithmetic on x beyond exact integer offsets: lookup tables, buckets with one
 * comparison, or the definition itself. T holds x's channels' thresholds, [c][k].
 */
function requantTables(
  b: Builder, opName: string, x: Val, T: Float64Array, L: number, codes: { lo: Float64Array; hi: Float64Array }, lutLimit: number, check: Check,
): Lowered {
  const C = x.lo.length;
  const code = (c: number, v: number): number => codeOf(T, c, L, v);
  const { lo, hi } = codes;
  const relevant: number[][] = [];
  const a = new Float64Array(C), z = new Float64Array(C);
  let full = 0, clippedTotal = 0, gap = Infinity, span = 0;
  for (let c = 0; c < C; c++) {
    const ts = relevantThresholds(x.lo[c]!, x.hi[c]!, T, c, L);
    for (let i = 1; i < ts.length; i++) gap = Math.min(gap, ts[i]! - ts[i - 1]!);
    relevant.push(ts);
    a[c] = ts.length ? ts[0]! - 1 : x.lo[c]!;
    z[c] = ts.length ? ts.at(-1)! : x.lo[c]!;
    full += x.hi[c]! - x.lo[c]! + 1;
    clippedTotal += z[c]! - a[c]! + 1;
    span = Math.max(span, x.hi[c]! - x.lo[c]! + 1);
  }
  const out = (name: string): Val => ({ name, dtype: "float32", lo, hi, shape: x.shape });
  const tableOver = (from: Float64Array, to: Float64Array, total: number, clip: boolean): Lowered => {
    // index = clip(x) + shift[c], in [0, total): the shift, clip bounds and index must be exact
    const table = new Float32Array(total);
    const shift = new Float64Array(C);
    let start = 0, bound = total;
    for (let c = 0; c < C; c++) {
      for (let v = from[c]!; v <= to[c]!; v++) table[start + v - from[c]!] = code(c, v);
      shift[c] = start - from[c]!;
      start += to[c]! - from[c]! + 1;
      bound = Math.max(bound, Math.abs(shift[c]!), Math.abs(from[c]!), Math.abs(to[c]!));
    }
    check(opName, "table indices and shifts", bound, x.dtype);
    let v = x.name;
    if (clip) {
      v = b.node("Max", [v, b.constant("lo", x.dtype, [C, 1, 1], from)]);
      v = b.node("Min", [v, b.constant("hi", x.dtype, [C, 1, 1], to)]);
    }
    const idx = b.node("Cast", [b.node("Add", [v, b.constant("shift", x.dtype, [C, 1, 1], shift)])], { to: { int: DT.INT64 } });
    const name = b.node("Gather", [b.constant("lut", "float32", [total], table), idx], { axis: { int: 0 } });
    return { val: out(name), dtype: x.dtype, bound, lowering: `lookup table of ${total} entries${clip ? " after clipping" : ""}` };
  };
  // the whole interval tabulated, when small
  if (full <= Math.min(lutLimit, 2 ** 16)) return tableOver(x.lo, x.hi, full, false);
  // the span between the first and last relevant threshold tabulated
  if (clippedTotal <= Math.min(lutLimit, 2 ** 16)) return tableOver(a, z, clippedTotal, true);
  // buckets of 2^s values, each holding at most one distinct relevant threshold: the bucket's
  // threshold and the codes below and from it are looked up, one comparison picks the code.
  const sBits = Math.min(52, gap === Infinity ? Math.ceil(Math.log2(span)) : Math.floor(Math.log2(gap)));
  const width = 2 ** sBits;
  let buckets = 0;
  for (let c = 0; c < C; c++) buckets += Math.floor((x.hi[c]! - x.lo[c]!) / width) + 1;
  if (sBits >= 1 && buckets <= lutLimit) {
    const thr = new Float64Array(buckets), below = new Float32Array(buckets), from = new Float32Array(buckets);
    const shift = new Float64Array(C);
    let start = 0, bound = 0;
    for (let c = 0; c < C; c++) {
      const n = Math.floor((x.hi[c]! - x.lo[c]!) / width) + 1;
      const ts = relevant[c]!;
      let i = 0;
      for (let j = 0; j < n; j++) {
        const first = x.lo[c]! + j * width;
        while (i < ts.length && ts[i]! < first) i++;
        const t = i < ts.length && ts[i]! < first + width ? ts[i]! : undefined;
        thr[start + j] = t ?? first;
        below[start + j] = code(c, first);
        from[start + j] = code(c, t ?? first);
      }
      // u = x + shift[c] = start*2^s + (x - lo) >= 0; u * 2^-s truncated = start + bucket
      shift[c] = start * width - x.lo[c]!;
      start += n;
      bound = Math.max(bound, Math.abs(shift[c]!), start * width);
    }
    // float32 values whose offsets do not fit are cast up to float64 (exact)
    const dtype: IntegerDType = bound <= EXACT_LIMIT.float32 && x.dtype === "float32" ? "float32" : "float64";
    check(opName, "bucket offsets", bound, dtype);
    const xv = dtype === x.dtype ? x.name : b.node("Cast", [x.name], { to: { int: DT.DOUBLE } });
    const u = b.node("Add", [xv, b.constant("shift", dtype, [C, 1, 1], shift)]);
    const idx = b.node("Cast", [b.node("Mul", [u, b.constant("scale", dtype, [], [2 ** -sBits])])], { to: { int: DT.INT64 } });
    const t = b.node("Gather", [b.constant("thr", dtype, [buckets], thr), idx], { axis: { int: 0 } });
    const ge = b.node("GreaterOrEqual", [xv, t]);
    const name = b.node("Where", [ge, b.node("Gather", [b.constant("from", "float32", [buckets], from), idx], { axis: { int: 0 } }), b.node("Gather", [b.constant("below", "float32", [buckets], below), idx], { axis: { int: 0 } })]);
    return { val: out(name), dtype, bound, lowering: `${buckets} buckets of 2^${sBits} values, one comparison` };
  }
  if (clippedTotal <= lutLimit) return tableOver(a, z, clippedTotal, true);
  // the definition: x >= T[c][k] for x in [lo, hi] equals x >= clamp(T, lo, hi + 1), which fits the type
  const Tc = new Float64Array(L * C);
  let bound = 0;
  for (let c = 0; c < C; c++)
    for (let k = 0; k < L; k++) {
      const t = Math.min(Math.max(T[c * L + k]!, x.lo[c]!), x.hi[c]! + 1);
      Tc[k * C + c] = t;
      bound = Math.max(bound, Math.abs(t));
    }
  check(opName, "clamped thresholds", bound, x.dtype);
  const ge = b.node("GreaterOrEqual", [x.name, b.constant("thresholds", x.dtype, [L, 1, C, 1, 1], Tc)]);
  const ones = b.node("Cast", [ge], { to: { int: DT.FLOAT } });
  const name = b.node("ReduceSum", [ones, b.constant("axes", "int64", [1], [0])], { keepdims: { int: 0 } });
  return { val: out(name), dtype: x.dtype, bound, lowering: `compare with ${L} thresholds` };
}

export interface AffineFit {
  u: number;
  w: number;
  /** Largest magnitude the runtime forms: |x * u| + |w| + 1 at the checked points. */
  bound: number;
}

/**
 * Constants u >= 0 and w (rounded to the tensor's type) such that clip(floor(fl(fl(x * u) + w)), 0, L)
 * equals code(x) for every integer x in [lo, hi], computed with the type's IEEE round-to-nearest
 * operations as the runtime's Mul, Add, Floor and Clip do; or null. The left side is
 * non-decreasing in x (each step is), and so is the code, which is constant between consecutive
 * relevant thresholds; so equality at lo, hi and at t-1 and t for every relevant threshold t is
 * equality on the whole interval, and that is what is checked. (u, w) come from the linear
 * constraints code(t) <= t*u + w < code(t-1) + 1 (maximal slack in w, slope by ternary search on
 * the concave slack).
 */
export function fitAffineChannel(dtype: IntegerDType, lo: number, hi: number, L: number, relevant: readonly number[], code: (v: number) => number): AffineFit | null {
  const f32 = dtype === "float32";
  const round = f32 ? Math.fround : (v: number): number => v;
  // w >= p - a*u (lower) and w < q - b*u (upper) for each constraint
  const la: number[] = [], lp: number[] = [], ua: number[] = [], uq: number[] = [];
  const c0 = code(lo), cm = code(hi);
  if (c0 > 0) la.push(lo), lp.push(c0);
  if (c0 < L) ua.push(lo), uq.push(c0 + 1);
  if (cm < L) ua.push(hi), uq.push(cm + 1);
  if (cm > 0) la.push(hi), lp.push(cm);
  for (const t of relevant) {
    const k = code(t);
    if (code(t - 1) !== k - 1) return null; // a jump of two codes at one value: no affine floor
    la.push(t), lp.push(k);
    ua.push(t - 1), uq.push(k);
  }
  const lower = (uu: number): number => {
    let m = -Infinity;
    for (let i = 0; i < la.length; i++) m = Math.max(m, lp[i]! - la[i]! * uu);
    return m;
  };
  const upper = (uu: number): number => {
    let m = Infinity;
    for (let i = 0; i < ua.length; i++) m = Math.min(m, uq[i]! - ua[i]! * uu);
    return m;
  };
  const slack = (uu: number): number => upper(uu) - lower(uu);
  let l = 0, r = relevant.length ? 2 : 0;
  for (let i = 0; i < 200 && r > l; i++) {
    const m1 = l + (r - l) / 3, m2 = r - (r - l) / 3;
    if (m1 === l && m2 === r) break; // no representable point left between
    if (slack(m1) < slack(m2)) l = m1;
    else r = m2;
  }
  const uc = (l + r) / 2;
  const lb = lower(uc), ub = upper(uc);
  if (!(ub - lb > 0)) return null;
  const u = round(uc), w = round((lb + ub) / 2);
  const g = (v: number): number => {
    // float64: JS arithmetic is the runtime's. float32: the double product of two 24-bit
    // significands is exact, so fround gives the float32 product; the double sum of two float32
    // values is checked exact (two-sum error 0), so fround gives the float32 sum.
    const p = round(v * u);
    const s = p + w;
    if (f32) {
      const bb = s - p;
      if (p - (s - bb) + (w - bb) !== 0) return NaN;
    }
    return Math.min(L, Math.max(0, Math.floor(round(s))));
  };
  let bound = 0;
  const points = [lo, hi];
  for (const t of relevant) points.push(t, t - 1);
  for (const v of points) {
    if (v < lo || v > hi) continue;
    if (g(v) !== code(v)) return null;
    bound = Math.max(bound, Math.abs(v * u) + Math.abs(w) + 1);
  }
  return { u, w, bound };
}

function pool(b: Builder, op: QPoolOp, x: Val, shape: [number, number, number], steps: ExactnessStep[], check: Check, asF32: (v: Val, op: string) => Val): Val {
  const [C, H, W] = x.shape;
  const [, OH, OW] = shape;
  const [KH, KW] = op.kernel;
  const [SH, SW] = op.stride;
  const [PT, PL, PB, PR] = op.pads;
  if (convOutSize(H, KH, SH, PT, PB) !== OH || convOutSize(W, KW, SW, PL, PR) !== OW) {
    throw new NotExact(op.name, `output ${OH}x${OW} is not what ONNX pooling gives for this input, kernel, stride and pads`);
  }
  const n = KH * KW;
  const lo = new Float64Array(C), hi = new Float64Array(C);
  if (op.kind === "maxpool") {
    // every window must hold an input position, so that padding never decides the maximum
    if (PT >= KH || PL >= KW || (OH - 1) * SH - PT > H - 1 || (OW - 1) * SW - PL > W - 1) throw new NotExact(op.name, "a pooling window lies entirely in the padding");
    lo.set(x.lo);
    hi.set(x.hi);
    const name = b.node("MaxPool", [x.name], { kernel_shape: { ints: [KH, KW] }, strides: { ints: [SH, SW] }, pads: { ints: [PT, PL, PB, PR] } });
    steps.push({ op: op.name, kind: op.kind, dtype: x.dtype, bound: maxOf(Array.from({ length: C }, (_, c) => magnitude(x, c))), lowering: "MaxPool" });
    return { name, dtype: x.dtype, lo, hi, shape };
  }
  const global = KH === H && KW === W && OH === 1 && OW === 1 && op.pads.every((p) => p === 0);
  let bound = 0;
  for (let c = 0; c < C; c++) {
    bound = Math.max(bound, n * magnitude(x, c));
    // a window sums between 0 (all padding) and n input positions; exactly n when global
    lo[c] = global ? n * x.lo[c]! : Math.min(0, x.lo[c]!, n * x.lo[c]!);
    hi[c] = global ? n * x.hi[c]! : Math.max(0, x.hi[c]!, n * x.hi[c]!);
  }
  if (global) {
    check(op.name, "window sums", bound, x.dtype);
    const name = b.node("ReduceSum", [x.name, b.constant("axes", "int64", [2], [2, 3])], { keepdims: { int: 1 } });
    steps.push({ op: op.name, kind: op.kind, dtype: x.dtype, bound, lowering: "ReduceSum over H, W" });
    return { name, dtype: x.dtype, lo, hi, shape };
  }
  check(op.name, "window sums", bound, "float32");
  const x32 = asF32(x, op.name);
  const ones = b.constant("ones", "float32", [C, 1, KH, KW], new Float32Array(C * n).fill(1));
  const name = b.node("Conv", [x32.name, ones], { kernel_shape: { ints: [KH, KW] }, strides: { ints: [SH, SW] }, pads: { ints: [PT, PL, PB, PR] }, group: { int: C } });
  steps.push({ op: op.name, kind: op.kind, dtype: "float32", bound, lowering: "grouped Conv with ones" });
  return { name, dtype: "float32", lo, hi, shape };
}

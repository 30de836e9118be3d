/**
 * Operator definitions shared by shape inference, constant folding and the float executor: for
 * each supported ONNX operator, `infer` computes output shapes/types from input shapes (and the
 * constant inputs it needs, e.g. Reshape's target shape), and `run` computes it in float32
 * semantics (float32 storage after every op, like a float32 runtime; convolution and matrix
 * products accumulate in float64 before the single rounding to float32).
 *
 * Every check that depends on the model raises an RtapError naming the node.
 */
import { RtapError } from "../errors.js";
import type { DType, GraphNode } from "../import/graph.js";
import { attrFloat, attrInt, attrInts, attrString, nodeWhere, numel } from "../import/graph.js";
import { allocData, isFloat, makeTensor, roundHalfEven, strides, type Tensor } from "./tensor.js";

export interface ShapeInfo {
  dims: number[];
  dtype: DType;
}

export interface OpDef {
  /** Smallest and largest number of inputs (optional inputs may be ""). */
  arity: [number, number];
  infer(node: GraphNode, inputs: (ShapeInfo | undefined)[], consts: (Tensor | undefined)[]): ShapeInfo[];
  run(node: GraphNode, inputs: (Tensor | undefined)[]): Tensor[];
}

function fail(node: GraphNode, msg: string): never {
  throw new RtapError(msg, nodeWhere(node));
}

function need<T>(node: GraphNode, v: T | undefined, what: string): T {
  if (v === undefined) fail(node, `missing ${what}`);
  return v;
}

function shapeStr(d: readonly number[]): string {
  return `[${d.join(",")}]`;
}

// ---------------------------------------------------------------- broadcasting elementwise

function broadcastDims(node: GraphNode, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(node, `shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Index map from an output index to the flat index of a broadcast input. */
function broadcastIndex(outDims: readonly number[], inDims: readonly number[]): Int32Array | null {
  const n = numel(outDims);
  if (inDims.length === outDims.length && inDims.every((d, i) => d === outDims[i])) return null;
  const idx = new Int32Array(n);
  const os = strides(outDims);
  const padded = new Array<number>(outDims.length - inDims.length).fill(1).concat(inDims);
  const is = strides(padded);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let k = 0; k < outDims.length; k++) {
      const q = Math.floor(rem / os[k]!);
      rem -= q * os[k]!;
      if (padded[k] !== 1) off += q * is[k]!;
    }
    idx[i] = off;
  }
  return idx;
}

function binaryOp(fn: (a: number, b: number) => number): OpDef {
  return {
    arity: [2, 2],
    infer(node, [a, b]) {
      const A = need(node, a, "input A"), B = need(node, b, "input B");
      return [{ dims: broadcastDims(node, A.dims, B.dims), dtype: A.dtype }];
    },
    run(node, [a, b]) {
      const A = need(node, a, "input A"), B = need(node, b, "input B");
      const dims = broadcastDims(node, A.dims, B.dims);
      const out = makeTensor(A.dtype, dims);
      const ad = A.data, bd = B.data, od = out.data;
      const intType = !isFloat(A.dtype);
      if (bd.length === 1 && ad.length === od.length) {
        // Fast path: tensor (op) scalar, the common case of fake-quant scales.
        const bv = bd[0]!;
        for (let i = 0; i < od.length; i++) od[i] = fn(ad[i]!, bv);
      } else {
        const ia = broadcastIndex(dims, A.dims), ib = broadcastIndex(dims, B.dims);
        for (let i = 0; i < od.length; i++) od[i] = fn(ad[ia ? ia[i]! : i]!, bd[ib ? ib[i]! : i]!);
      }
      if (intType) for (let i = 0; i < od.length; i++) od[i] = Math.trunc(od[i]!);
      return [out];
    },
  };
}

function unaryOp(fn: (x: number) => number): OpDef {
  return {
    arity: [1, 1],
    infer(node, [x]) {
      const X = need(node, x, "input");
      return [{ dims: [...X.dims], dtype: X.dtype }];
    },
    run(node, [x]) {
      const X = need(node, x, "input");
      const out = makeTensor(X.dtype, X.dims);
      for (let i = 0; i < X.data.length; i++) out.data[i] = fn(X.data[i]!);
      return [out];
    },
  };
}

function identityOp(maxInputs = 1): OpDef {
  return {
    arity: [1, maxInputs],
    infer(node, [x]) {
      const X = need(node, x, "input");
      return [{ dims: [...X.dims], dtype: X.dtype }];
    },
    run(node, [x]) {
      const X = need(node, x, "input");
      return [{ dtype: X.dtype, dims: [...X.dims], data: X.data }];
    },
  };
}

// ---------------------------------------------------------------- convolution and pooling

interface Window2d {
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number]; // top, left, bottom, right
  dilations: [number, number];
}

function window2d(node: GraphNode, inDims: readonly number[], kernelFromWeights?: [number, number]): Window2d {
  if (inDims.length !== 4) fail(node, `expects a 4-D NCHW input, got shape ${shapeStr(inDims)}`);
  const ks = attrInts(node, "kernel_shape", kernelFromWeights ?? []);
  if (ks.length !== 2 || ks.some((k) => !(k >= 1))) fail(node, `kernel_shape must be 2 positive values (2-D only), got ${shapeStr(ks)}`);
  const st = attrInts(node, "strides", [1, 1]);
  const dl = attrInts(node, "dilations", [1, 1]);
  if (st.length !== 2 || st.some((s) => s < 1)) fail(node, `unsupported strides ${shapeStr(st)}`);
  if (dl.length !== 2 || dl.some((s) => s < 1)) fail(node, `unsupported dilations ${shapeStr(dl)}`);
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  let pads = attrInts(node, "pads", [0, 0, 0, 0]);
  if (pads.length !== 4 || pads.some((p) => p < 0)) fail(node, `unsupported pads ${shapeStr(pads)}`);
  const H = inDims[2]!, W = inDims[3]!;
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const total = [0, 1].map((a) => {
      const inSz = a === 0 ? H : W;
      const out = Math.ceil(inSz / st[a]!);
      return Math.max(0, (out - 1) * st[a]! + (ks[a]! - 1) * dl[a]! + 1 - inSz);
    });
    const lo = total.map((t) => (autoPad === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [lo[0]!, lo[1]!, total[0]! - lo[0]!, total[1]! - lo[1]!];
  } else if (autoPad === "VALID") {
    pads = [0, 0, 0, 0];
  } else if (autoPad !== "NOTSET") {
    fail(node, `unsupported auto_pad "${autoPad}"`);
  }
  // ONNX pads are [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right].
  return {
    kernel: [ks[0]!, ks[1]!],
    strides: [st[0]!, st[1]!],
    pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
    dilations: [dl[0]!, dl[1]!],
  };
}

function windowOut(node: GraphNode, inSz: number, k: number, s: number, d: number, pBeg: number, pEnd: number, ceil: boolean): number {
  const eff = (k - 1) * d + 1;
  const num = inSz + pBeg + pEnd - eff;
  if (num < 0) fail(node, `kernel ${k} (dilation ${d}) does not fit input size ${inSz} with pads ${pBeg}+${pEnd}`);
  let out = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  // With ceil_mode the last window must start inside the input or left padding.
  if (ceil && (out - 1) * s >= inSz + pBeg) out--;
  return out;
}

function convOutDims(node: GraphNode, x: readonly number[], w: readonly number[]): { dims: number[]; win: Window2d; group: number } {
  if (w.length !== 4) fail(node, `weights must be 4-D [O, C/group, kh, kw], got ${shapeStr(w)}`);
  const win = window2d(node, x, [w[2]!, w[3]!]);
  if (win.kernel[0] !== w[2] || win.kernel[1] !== w[3]) {
    fail(node, `kernel_shape ${shapeStr(win.kernel)} does not match weight shape ${shapeStr(w)}`);
  }
  const group = attrInt(node, "group", 1);
  if (group < 1 || x[1]! % group !== 0 || w[0]! % group !== 0) fail(node, `group=${group} does not divide the channels`);
  if (x[1]! / group !== w[1]) fail(node, `input has ${x[1]} channels but weights expect ${w[1]! * group} (shape ${shapeStr(w)}, group ${group})`);
  const OH = windowOut(node, x[2]!, win.kernel[0], win.strides[0], win.dilations[0], win.pads[0], win.pads[2], false);
  const OW = windowOut(node, x[3]!, win.kernel[1], win.strides[1], win.dilations[1], win.pads[1], win.pads[3], false);
  return { dims: [x[0]!, w[0]!, OH, OW], win, group };
}

const conv: OpDef = {
  arity: [2, 3],
  infer(node, [x, w, b]) {
    const X = need(node, x, "input X"), W = need(node, w, "weights W");
    const { dims } = convOutDims(node, X.dims, W.dims);
    if (b && (b.dims.length !== 1 || b.dims[0] !== W.dims[0])) fail(node, `bias shape ${shapeStr(b.dims)} does not match ${W.dims[0]} output channels`);
    return [{ dims, dtype: X.dtype }];
  },
  run(node, [x, w, b]) {
    const X = need(node, x, "input X"), W = need(node, w, "weights W");
    const { dims, win, group } = convOutDims(node, X.dims, W.dims);
    const [N, C, H, Wd] = X.dims as [number, number, number, number];
    const [, O, OH, OW] = dims as [number, number, number, number];
    const [KH, KW] = win.kernel;
    const [SH, SW] = win.strides;
    const [DH, DW] = win.dilations;
    const [PT, PL] = [win.pads[0], win.pads[1]];
    const Cg = C / group, Og = O / group;
    const out = makeTensor(X.dtype, dims);
    const xd = X.data instanceof Float32Array ? X.data : Float32Array.from(X.data);
    const wd = W.data instanceof Float32Array ? W.data : Float32Array.from(W.data);
    const bias = b ? Float64Array.from(b.data) : new Float64Array(O);
    const od = out.data instanceof Float32Array ? out.data : new Float32Array(out.data.length);
    convCore(xd, wd, bias, od, N, C, H, Wd, O, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, group);
    if (od !== out.data) out.data.set(od);
    return [out];
  },
};

/**
 * Convolution as im2col + a weight-stationary loop: for every output channel and every non-zero
 * weight, one long contiguous pass over the output positions (V8 keeps that loop tight). Float64
 * accumulation, one rounding to float32 at the end.
 */
function convCore(
  xd: Float32Array, wd: Float32Array, bias: Float64Array, od: Float32Array,
  N: number, C: number, H: number, Wd: number, O: number, OH: number, OW: number,
  KH: number, KW: number, SH: number, SW: number, DH: number, DW: number, PT: number, PL: number, group: number,
): void {
  const Cg = C / group, Og = O / group;
  const P = OH * OW, K = Cg * KH * KW;
  const col = new Float32Array(K * P);
  const acc = new Float64Array(P);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      im2col(xd, col, (n * C + g * Cg) * H * Wd, Cg, H, Wd, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL);
      for (let og = 0; og < Og; og++) {
        const o = g * Og + og;
        acc.fill(bias[o]!);
        const wBase = o * K;
        for (let k = 0; k < K; k++) {
          const wv = wd[wBase + k]!;
          if (wv === 0) continue;
          const cBase = k * P;
          for (let p = 0; p < P; p++) acc[p] += wv * col[cBase + p]!;
        }
        od.set(acc, (n * O + o) * P);
      }
    }
  }
}

/** col[(c*KH+ky)*KW+kx][oy*OW+ox] = x[c][iy][ix] (0 outside the input). */
function im2col(
  xd: Float32Array, col: Float32Array, xOff: number, C: number, H: number, W: number, OH: number, OW: number,
  KH: number, KW: number, SH: number, SW: number, DH: number, DW: number, PT: number, PL: number,
): void {
  const P = OH * OW;
  let r = 0;
  for (let c = 0; c < C; c++) {
    const base = xOff + c * H * W;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++, r++) {
        const rowOff = r * P;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * SH - PT + ky * DH;
          const dst = rowOff + oy * OW;
          if (iy < 0 || iy >= H) {
            col.fill(0, dst, dst + OW);
            continue;
          }
          const src = base + iy * W;
          for (let ox = 0; ox < OW; ox++) {
            const ix = ox * SW - PL + kx * DW;
            col[dst + ox] = ix >= 0 && ix < W ? xd[src + ix]! : 0;
          }
        }
      }
    }
  }
}

function poolDims(node: GraphNode, x: readonly number[]): { dims: number[]; win: Window2d; ceil: boolean } {
  const win = window2d(node, x);
  const ceil = attrInt(node, "ceil_mode", 0) === 1;
  if (attrInt(node, "storage_order", 0) !== 0) fail(node, "storage_order=1 is not supported");
  const OH = windowOut(node, x[2]!, win.kernel[0], win.strides[0], win.dilations[0], win.pads[0], win.pads[2], ceil);
  const OW = windowOut(node, x[3]!, win.kernel[1], win.strides[1], win.dilations[1], win.pads[1], win.pads[3], ceil);
  return { dims: [x[0]!, x[1]!, OH, OW], win, ceil };
}

function pool(kind: "max" | "avg"): OpDef {
  return {
    arity: [1, 1],
    infer(node, [x]) {
      const X = need(node, x, "input");
      if (node.outputs.length > 1 && node.outputs[1]) fail(node, "the Indices output of MaxPool is not supported");
      return [{ dims: poolDims(node, X.dims).dims, dtype: X.dtype }];
    },
    run(node, [x]) {
      const X = need(node, x, "input");
      const { dims, win } = poolDims(node, X.dims);
      const [N, C, H, W] = X.dims as [number, number, number, number];
      const [, , OH, OW] = dims as [number, number, number, number];
      const includePad = attrInt(node, "count_include_pad", 0) === 1;
      const out = makeTensor(X.dtype, dims);
      const xd = X.data, od = out.data;
      for (let nc = 0; nc < N * C; nc++) {
        const base = nc * H * W;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            let m = -Infinity, s = 0, cnt = 0, padCnt = 0;
            for (let ky = 0; ky < win.kernel[0]; ky++) {
              const iy = oy * win.strides[0] - win.pads[0] + ky * win.dilations[0];
              for (let kx = 0; kx < win.kernel[1]; kx++) {
                const ix = ox * win.strides[1] - win.pads[1] + kx * win.dilations[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
                  // Positions in the explicit padding count for count_include_pad; positions beyond
                  // it (ceil_mode overhang) never do.
                  if (iy >= -win.pads[0] && iy < H + win.pads[2] && ix >= -win.pads[1] && ix < W + win.pads[3]) padCnt++;
                  continue;
                }
                const v = xd[base + iy * W + ix]!;
                if (v > m) m = v;
                s += v;
                cnt++;
              }
            }
            od[nc * OH * OW + oy * OW + ox] = kind === "max" ? m : s / (includePad ? cnt + padCnt : cnt);
          }
        }
      }
      return [out];
    },
  };
}

const globalAveragePool: OpDef = {
  arity: [1, 1],
  infer(node, [x]) {
    const X = need(node, x, "input");
    if (X.dims.length < 3) fail(node, `expects an N x C x spatial input, got ${shapeStr(X.dims)}`);
    return [{ dims: [X.dims[0]!, X.dims[1]!, ...X.dims.slice(2).map(() => 1)], dtype: X.dtype }];
  },
  run(node, [x]) {
    const X = need(node, x, "input");
    const [N, C] = X.dims as [number, number];
    const S = numel(X.dims.slice(2));
    const out = makeTensor(X.dtype, [N, C, ...X.dims.slice(2).map(() => 1)]);
    for (let i = 0; i < N * C; i++) {
      let s = 0;
      for (let k = 0; k < S; k++) s += X.data[i * S + k]!;
      out.data[i] = s / S;
    }
    return [out];
  },
};

// ---------------------------------------------------------------- dense

function gemmDims(node: GraphNode, a: readonly number[], b: readonly number[]): [number, number, number] {
  if (a.length !== 2 || b.length !== 2) fail(node, `Gemm expects 2-D inputs, got ${shapeStr(a)} and ${shapeStr(b)}`);
  const tA = attrInt(node, "transA", 0), tB = attrInt(node, "transB", 0);
  const M = tA ? a[1]! : a[0]!, K = tA ? a[0]! : a[1]!;
  const Kb = tB ? b[1]! : b[0]!, Nn = tB ? b[0]! : b[1]!;
  if (K !== Kb) fail(node, `inner dimensions differ: A ${shapeStr(a)}${tA ? "ᵀ" : ""} x B ${shapeStr(b)}${tB ? "ᵀ" : ""}`);
  return [M, K, Nn];
}

const gemm: OpDef = {
  arity: [2, 3],
  infer(node, [a, b, c]) {
    const A = need(node, a, "input A"), B = need(node, b, "input B");
    const [M, , N] = gemmDims(node, A.dims, B.dims);
    if (c) broadcastDims(node, [M, N], c.dims);
    return [{ dims: [M, N], dtype: A.dtype }];
  },
  run(node, [a, b, c]) {
    const A = need(node, a, "input A"), B = need(node, b, "input B");
    const [M, K, N] = gemmDims(node, A.dims, B.dims);
    const tA = attrInt(node, "transA", 0), tB = attrInt(node, "transB", 0);
    const alpha = attrFloat(node, "alpha", 1), beta = attrFloat(node, "beta", 1);
    const out = makeTensor(A.dtype, [M, N]);
    const ci = c ? broadcastIndex([M, N], c.dims) : null;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = A.data[tA ? k * M + m : m * K + k]!;
          if (av === 0) continue;
          s += av * B.data[tB ? n * K + k : k * N + n]!;
        }
        const idx = m * N + n;
        out.data[idx] = alpha * s + (c ? beta * c.data[ci ? ci[idx]! : idx]! : 0);
      }
    }
    return [out];
  },
};

const matMul: OpDef = {
  arity: [2, 2],
  infer(node, [a, b]) {
    const A = need(node, a, "input A"), B = need(node, b, "input B");
    if (A.dims.length !== 2 || B.dims.length !== 2) fail(node, `only 2-D MatMul is supported, got ${shapeStr(A.dims)} x ${shapeStr(B.dims)}`);
    if (A.dims[1] !== B.dims[0]) fail(node, `inner dimensions differ: ${shapeStr(A.dims)} x ${shapeStr(B.dims)}`);
    return [{ dims: [A.dims[0]!, B.dims[1]!], dtype: A.dtype }];
  },
  run(node, [a, b]) {
    const A = need(node, a, "input A"), B = need(node, b, "input B");
    const [M, K] = A.dims as [number, number];
    const N = B.dims[1]!;
    const out = makeTensor(A.dtype, [M, N]);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A.data[m * K + k]! * B.data[k * N + n]!;
        out.data[m * N + n] = s;
      }
    return [out];
  },
};

// ---------------------------------------------------------------- normalisation, activation, quantization

const batchNorm: OpDef = {
  arity: [5, 5],
  infer(node, [x, ...params]) {
    const X = need(node, x, "input X");
    if (X.dims.length < 2) fail(node, `expects N x C x ..., got ${shapeStr(X.dims)}`);
    for (const [i, p] of params.entries()) {
      const P = need(node, p, ["scale", "B", "mean", "var"][i]!);
      if (P.dims.length !== 1 || P.dims[0] !== X.dims[1]) fail(node, `parameter ${i + 1} has shape ${shapeStr(P.dims)}, expected [${X.dims[1]}]`);
    }
    if (node.outputs.filter((o) => o !== "").length > 1) fail(node, "training-mode BatchNormalization (extra outputs) is not supported");
    return [{ dims: [...X.dims], dtype: X.dtype }];
  },
  run(node, [x, scale, bias, mean, variance]) {
    const X = need(node, x, "input X");
    const eps = attrFloat(node, "epsilon", 1e-5);
    const [N, C] = X.dims as [number, number];
    const S = numel(X.dims.slice(2));
    const out = makeTensor(X.dtype, X.dims);
    // Folded to y = x * k + (B - mean * k) with float32 rounding at each step, the way float32
    // runtimes (onnxruntime's CPU kernel among them) evaluate it.
    const f = Math.fround;
    for (let c = 0; c < C; c++) {
      const k = f(f(1 / f(Math.sqrt(f(variance!.data[c]! + f(eps))))) * scale!.data[c]!);
      const b0 = f(bias!.data[c]! - f(mean!.data[c]! * k));
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * S;
        for (let i = 0; i < S; i++) out.data[base + i] = f(f(X.data[base + i]! * k) + b0);
      }
    }
    return [out];
  },
};

function scalarOf(node: GraphNode, t: Tensor | undefined, what: string, dflt: number): number {
  if (!t) return dflt;
  if (t.data.length !== 1) fail(node, `${what} must be a scalar, got shape ${shapeStr(t.dims)}`);
  return t.data[0]!;
}

const clip: OpDef = {
  arity: [1, 3],
  infer(node, [x, lo, hi]) {
    const X = need(node, x, "input");
    for (const [t, what] of [[lo, "min"], [hi, "max"]] as const) if (t && numel(t.dims) !== 1) fail(node, `${what} must be a scalar, got shape ${shapeStr(t.dims)}`);
    return [{ dims: [...X.dims], dtype: X.dtype }];
  },
  run(node, [x, lo, hi]) {
    const X = need(node, x, "input");
    const mn = scalarOf(node, lo, "min", attrFloat(node, "min", -Infinity));
    const mx = scalarOf(node, hi, "max", attrFloat(node, "max", Infinity));
    const out = makeTensor(X.dtype, X.dims);
    for (let i = 0; i < X.data.length; i++) out.data[i] = Math.min(mx, Math.max(mn, X.data[i]!));
    return [out];
  },
};

/** Per-tensor or per-axis parameters of Quantize/DequantizeLinear, expanded per element index. */
function quantParams(node: GraphNode, xDims: readonly number[], scale: Tensor, zp: Tensor | undefined): (i: number) => [number, number] {
  const n = numel(scale.dims);
  if (n === 1) {
    const s = scale.data[0]!, z = zp ? zp.data[0]! : 0;
    return () => [s, z];
  }
  let axis = attrInt(node, "axis", 1);
  if (axis < 0) axis += xDims.length;
  if (scale.dims.length !== 1 || xDims[axis] !== n) fail(node, `per-axis scale of shape ${shapeStr(scale.dims)} does not match axis ${axis} of ${shapeStr(xDims)}`);
  if (zp && numel(zp.dims) !== n) fail(node, `zero point shape ${shapeStr(zp.dims)} does not match scale ${shapeStr(scale.dims)}`);
  const inner = numel(xDims.slice(axis + 1));
  return (i) => {
    const c = Math.floor(i / inner) % n;
    return [scale.data[c]!, zp ? zp.data[c]! : 0];
  };
}

const quantizeLinear: OpDef = {
  arity: [2, 3],
  infer(node, [x, s, z]) {
    const X = need(node, x, "input");
    need(node, s, "y_scale");
    const dtype: DType = z ? z.dtype : "uint8";
    if (dtype !== "uint8" && dtype !== "int8") fail(node, `quantizing to ${dtype} is not supported (uint8 or int8 only)`);
    return [{ dims: [...X.dims], dtype }];
  },
  run(node, [x, s, z]) {
    const X = need(node, x, "input"), S = need(node, s, "y_scale");
    const dtype: DType = z ? z.dtype : "uint8";
    const [lo, hi] = dtype === "uint8" ? [0, 255] : [-128, 127];
    const p = quantParams(node, X.dims, S, z);
    const out = makeTensor(dtype, X.dims);
    for (let i = 0; i < X.data.length; i++) {
      const [sc, zp] = p(i);
      out.data[i] = Math.min(hi, Math.max(lo, roundHalfEven(Math.fround(X.data[i]! / sc)) + zp));
    }
    return [out];
  },
};

const dequantizeLinear: OpDef = {
  arity: [2, 3],
  infer(node, [x, s]) {
    const X = need(node, x, "input");
    need(node, s, "x_scale");
    return [{ dims: [...X.dims], dtype: "float32" }];
  },
  run(node, [x, s, z]) {
    const X = need(node, x, "input"), S = need(node, s, "x_scale");
    const p = quantParams(node, X.dims, S, z);
    const out = makeTensor("float32", X.dims);
    for (let i = 0; i < X.data.length; i++) {
      const [sc, zp] = p(i);
      out.data[i] = (X.data[i]! - zp) * sc;
    }
    return [out];
  },
};

// ---------------------------------------------------------------- shape manipulation

const flatten: OpDef = {
  arity: [1, 1],
  infer(node, [x]) {
    const X = need(node, x, "input");
    let axis = attrInt(node, "axis", 1);
    if (axis < 0) axis += X.dims.length;
    if (axis < 0 || axis > X.dims.length) fail(node, `axis ${attrInt(node, "axis", 1)} out of range for rank ${X.dims.length}`);
    return [{ dims: [numel(X.dims.slice(0, axis)), numel(X.dims.slice(axis))], dtype: X.dtype }];
  },
  run(node, [x]) {
    const X = need(node, x, "input");
    const [info] = flatten.infer(node, [X], []);
    return [{ dtype: X.dtype, dims: info!.dims, data: X.data }];
  },
};

function reshapeDims(node: GraphNode, inDims: readonly number[], shape: Tensor): number[] {
  const allowZero = attrInt(node, "allowzero", 0) === 1;
  const target = Array.from(shape.data, (v, i) => (v === 0 && !allowZero ? inDims[i]! : v));
  const total = numel(inDims);
  const neg = target.filter((d) => d === -1).length;
  if (neg > 1 || target.some((d) => d < -1)) fail(node, `invalid target shape ${shapeStr(Array.from(shape.data))}`);
  if (neg === 1) {
    const known = numel(target.filter((d) => d !== -1));
    if (known === 0 || total % known !== 0) fail(node, `cannot reshape ${shapeStr(inDims)} to ${shapeStr(Array.from(shape.data))}`);
    target[target.indexOf(-1)] = total / known;
  }
  if (numel(target) !== total) fail(node, `cannot reshape ${shapeStr(inDims)} (${total} elements) to ${shapeStr(target)}`);
  return target;
}

const reshape: OpDef = {
  arity: [2, 2],
  infer(node, [x], [, shape]) {
    const X = need(node, x, "input");
    if (!shape) fail(node, "the target shape must be a constant (computed shapes are folded at import only when their inputs are known)");
    return [{ dims: reshapeDims(node, X.dims, shape), dtype: X.dtype }];
  },
  run(node, [x, shape]) {
    const X = need(node, x, "input");
    return [{ dtype: X.dtype, dims: reshapeDims(node, X.dims, need(node, shape, "shape")), data: X.data }];
  },
};

function axesOf(node: GraphNode, axesInput: Tensor | undefined, rank: number): number[] {
  const raw = axesInput ? Array.from(axesInput.data) : attrInts(node, "axes", []);
  return raw.map((a) => (a < 0 ? a + rank : a));
}

const unsqueeze: OpDef = {
  arity: [1, 2],
  infer(node, [x], [, axes]) {
    const X = need(node, x, "input");
    if (node.inputs[1] && !axes) fail(node, "axes must be a constant");
    const outRank = X.dims.length + axesOf(node, axes, 0).length;
    const ax = axesOf(node, axes, outRank).sort((a, b) => a - b);
    const dims = [...X.dims];
    for (const a of ax) dims.splice(a, 0, 1);
    return [{ dims, dtype: X.dtype }];
  },
  run(node, [x, axes]) {
    const X = need(node, x, "input");
    const [info] = unsqueeze.infer(node, [X], [undefined, axes]);
    return [{ dtype: X.dtype, dims: info!.dims, data: X.data }];
  },
};

const squeeze: OpDef = {
  arity: [1, 2],
  infer(node, [x], [, axes]) {
    const X = need(node, x, "input");
    if (node.inputs[1] && !axes) fail(node, "axes must be a constant");
    const ax = axesOf(node, axes, X.dims.length);
    const dims = X.dims.filter((d, i) => (ax.length ? !ax.includes(i) : d !== 1));
    return [{ dims, dtype: X.dtype }];
  },
  run(node, [x, axes]) {
    const X = need(node, x, "input");
    const [info] = squeeze.infer(node, [X], [undefined, axes]);
    return [{ dtype: X.dtype, dims: info!.dims, data: X.data }];
  },
};

const shapeOp: OpDef = {
  arity: [1, 1],
  infer(node, [x]) {
    const X = need(node, x, "input");
    return [{ dims: [X.dims.length], dtype: "int64" }];
  },
  run(node, [x]) {
    const X = need(node, x, "input");
    return [makeTensor("int64", [X.dims.length], Float64Array.from(X.dims))];
  },
};

const gather: OpDef = {
  arity: [2, 2],
  infer(node, [x, idx]) {
    const X = need(node, x, "data"), I = need(node, idx, "indices");
    let axis = attrInt(node, "axis", 0);
    if (axis < 0) axis += X.dims.length;
    return [{ dims: [...X.dims.slice(0, axis), ...I.dims, ...X.dims.slice(axis + 1)], dtype: X.dtype }];
  },
  run(node, [x, idx]) {
    const X = need(node, x, "data"), I = need(node, idx, "indices");
    let axis = attrInt(node, "axis", 0);
    if (axis < 0) axis += X.dims.length;
    const outer = numel(X.dims.slice(0, axis)), inner = numel(X.dims.slice(axis + 1)), len = X.dims[axis]!;
    const [info] = gather.infer(node, [X, I], []);
    const out = makeTensor(X.dtype, info!.dims);
    let p = 0;
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < I.data.length; k++) {
        let j = I.data[k]!;
        if (j < 0) j += len;
        if (j < 0 || j >= len) fail(node, `index ${I.data[k]} out of range for axis of size ${len}`);
        for (let i = 0; i < inner; i++) out.data[p++] = X.data[(o * len + j) * inner + i]!;
      }
    return [out];
  },
};

const concat: OpDef = {
  arity: [1, 64],
  infer(node, inputs) {
    const xs = inputs.map((x, i) => need(node, x, `input ${i}`));
    let axis = attrInt(node, "axis", 0);
    const rank = xs[0]!.dims.length;
    if (axis < 0) axis += rank;
    const dims = [...xs[0]!.dims];
    dims[axis] = 0;
    for (const x of xs) {
      if (x.dims.length !== rank || x.dims.some((d, i) => i !== axis && d !== xs[0]!.dims[i])) fail(node, `inputs ${xs.map((t) => shapeStr(t.dims)).join(", ")} cannot be concatenated on axis ${axis}`);
      dims[axis]! += x.dims[axis]!;
    }
    return [{ dims, dtype: xs[0]!.dtype }];
  },
  run(node, inputs) {
    const xs = inputs.map((x, i) => need(node, x, `input ${i}`));
    const [info] = concat.infer(node, xs, []);
    let axis = attrInt(node, "axis", 0);
    if (axis < 0) axis += xs[0]!.dims.length;
    const outer = numel(info!.dims.slice(0, axis));
    const out = makeTensor(xs[0]!.dtype, info!.dims);
    let p = 0;
    for (let o = 0; o < outer; o++)
      for (const x of xs) {
        const chunk = numel(x.dims.slice(axis));
        for (let i = 0; i < chunk; i++) out.data[p++] = x.data[o * chunk + i]!;
      }
    return [out];
  },
};

const ONNX_DTYPES: Record<number, DType> = { 1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool", 11: "float64" };

export function onnxDType(code: number): DType | undefined {
  return ONNX_DTYPES[code];
}

const cast: OpDef = {
  arity: [1, 1],
  infer(node, [x]) {
    const X = need(node, x, "input");
    const to = onnxDType(attrInt(node, "to", 1));
    if (!to) fail(node, `casting to ONNX type ${attrInt(node, "to", 1)} is not supported`);
    return [{ dims: [...X.dims], dtype: to }];
  },
  run(node, [x]) {
    const X = need(node, x, "input");
    const to = onnxDType(attrInt(node, "to", 1))!;
    const out = makeTensor(to, X.dims);
    for (let i = 0; i < X.data.length; i++) {
      const v = X.data[i]!;
      out.data[i] = isFloat(to) ? v : to === "bool" ? (v !== 0 ? 1 : 0) : Math.trunc(v);
    }
    return [out];
  },
};

const constantOp: OpDef = {
  arity: [0, 0],
  infer(node) {
    const v = node.attrs["value"];
    if (!v || typeof v !== "object" || Array.isArray(v)) fail(node, "only the tensor 'value' attribute of Constant is supported");
    return [{ dims: [...v.dims], dtype: v.dtype }];
  },
  run(node) {
    const v = node.attrs["value"];
    if (!v || typeof v !== "object" || Array.isArray(v)) fail(node, "only the tensor 'value' attribute of Constant is supported");
    return [v];
  },
};

export const OPS: Record<string, OpDef> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  Add: binaryOp((a, b) => a + b),
  Sub: binaryOp((a, b) => a - b),
  Mul: binaryOp((a, b) => a * b),
  Div: binaryOp((a, b) => a / b),
  Relu: unaryOp((x) => (x > 0 ? x : 0)),
  Round: unaryOp(roundHalfEven),
  Clip: clip,
  BatchNormalization: batchNorm,
  MaxPool: pool("max"),
  AveragePool: pool("avg"),
  GlobalAveragePool: globalAveragePool,
  Flatten: flatten,
  Reshape: reshape,
  Identity: identityOp(),
  Dropout: identityOp(3),
  Constant: constantOp,
  Cast: cast,
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  Shape: shapeOp,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
};

export const SUPPORTED_OPS = Object.keys(OPS).sort();

export function opDef(node: GraphNode): OpDef {
  const def = OPS[node.opType];
  if (!def) throw new RtapError(`unsupported operator ${node.opType}; rtap supports ${SUPPORTED_OPS.join(", ")}`, nodeWhere(node));
  return def;
}

export { allocData };

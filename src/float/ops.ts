/**
 * Operator definitions shared by shape inference, constant folding and the float executor: for
 * each supported ONNX operator, `infer` computes output shapes/types from input shapes (and the
 * constant inputs it needs, e.g. Reshape's target shape), and `run` computes it in float32
 * semantics (float32 storage after every op, like a float32 runtime; convolution and matrix
 * products accumulate in float64 before the single rounding to float32).
 *
 * Every check that depends on the model raises an RtapError naming the node.
 */
import { TensorProto_DataType as DataType } from "onnx-buf";
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
      if (intType) {
        // Integer arithmetic: quotients truncate toward zero, results wrap to the element type
        // (uint8 200 + 100 = 44), as in C++ and numpy.
        const wrap = wrapInt(A.dtype);
        for (let i = 0; i < od.length; i++) od[i] = wrap(Math.trunc(od[i]!));
      }
      return [out];
    },
  };
}

/** Two's-complement wrap-around of an integer to `dtype` (int64 is exact up to 2^53 only). */
export function wrapInt(dtype: DType): (v: number) => number {
  switch (dtype) {
    case "uint8":
      return (v) => v & 0xff;
    case "int8":
      return (v) => (v << 24) >> 24;
    case "int32":
      return (v) => v | 0;
    case "bool":
      return (v) => (v !== 0 ? 1 : 0);
    default:
      return (v) => v;
  }
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

export interface Window2d {
  kernel: [number, number];
  strides: [number, number];
  pads: [number, number, number, number]; // top, left, bottom, right
  dilations: [number, number];
}

export function window2d(node: GraphNode, inDims: readonly number[], kernelFromWeights?: [number, number]): Window2d {
  const ks = attrInts(node, "kernel_shape", kernelFromWeights ?? []);
  if (node.attrs["kernel_shape"] !== undefined && ks.length !== 2) {
    fail(node, `kernel_shape ${shapeStr(ks)} is ${ks.length}-D; rtap supports 2-D windows only (input shape ${shapeStr(inDims)})`);
  }
  if (inDims.length !== 4) fail(node, `expects a 4-D NCHW input, got shape ${shapeStr(inDims)}`);
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
  const order = attrInt(node, "storage_order", 0);
  if (order !== 0 && order !== 1) fail(node, `storage_order=${order} is not valid (0 row major, 1 column major)`);
  const OH = windowOut(node, x[2]!, win.kernel[0], win.strides[0], win.dilations[0], win.pads[0], win.pads[2], ceil);
  const OW = windowOut(node, x[3]!, win.kernel[1], win.strides[1], win.dilations[1], win.pads[1], win.pads[3], ceil);
  return { dims: [x[0]!, x[1]!, OH, OW], win, ceil };
}

/**
 * MaxPool / AveragePool. MaxPool's optional second output (Indices) is the flat index of each
 * maximum in the input tensor (the first one of a tie), row major or, with storage_order=1,
 * column major within each H x W plane.
 */
function pool(kind: "max" | "avg"): OpDef {
  const withIndices = (node: GraphNode): boolean => kind === "max" && node.outputs.length > 1 && node.outputs[1] !== "";
  return {
    arity: [1, 1],
    infer(node, [x]) {
      const X = need(node, x, "input");
      if (kind === "avg" && !isFloat(X.dtype)) fail(node, `average pooling of ${X.dtype} is not supported (float only)`);
      const { dims } = poolDims(node, X.dims);
      return withIndices(node) ? [{ dims, dtype: X.dtype }, { dims: [...dims], dtype: "int64" }] : [{ dims, dtype: X.dtype }];
    },
    run(node, [x]) {
      const X = need(node, x, "input");
      if (kind === "avg" && !isFloat(X.dtype)) fail(node, `average pooling of ${X.dtype} is not supported (float only)`);
      const { dims, win } = poolDims(node, X.dims);
      const [N, C, H, W] = X.dims as [number, number, number, number];
      const [, , OH, OW] = dims as [number, number, number, number];
      const includePad = attrInt(node, "count_include_pad", 0) === 1;
      const colMajor = attrInt(node, "storage_order", 0) === 1;
      const out = makeTensor(X.dtype, dims);
      const indices = withIndices(node) ? makeTensor("int64", dims) : undefined;
      const xd = X.data, od = out.data;
      for (let nc = 0; nc < N * C; nc++) {
        const base = nc * H * W;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            let m = -Infinity, s = 0, cnt = 0, padCnt = 0, at = -1;
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
                if (v > m || at < 0) {
                  if (v > m) m = v;
                  at = base + (colMajor ? ix * H + iy : iy * W + ix);
                }
                s += v;
                cnt++;
              }
            }
            const o = nc * OH * OW + oy * OW + ox;
            od[o] = kind === "max" ? m : s / (includePad ? cnt + padCnt : cnt);
            if (indices) indices.data[o] = at;
          }
        }
      }
      return indices ? [out, indices] : [out];
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

/** numpy matmul shapes: 1-D operands promoted (and the added dimension dropped), batch dimensions broadcast. */
function matMulShape(node: GraphNode, a: readonly number[], b: readonly number[]) {
  if (a.length === 0 || b.length === 0) fail(node, `MatMul operands must have rank >= 1, got ${shapeStr(a)} x ${shapeStr(b)}`);
  const A = a.length === 1 ? [1, a[0]!] : [...a];
  const B = b.length === 1 ? [b[0]!, 1] : [...b];
  const M = A[A.length - 2]!, K = A[A.length - 1]!, Kb = B[B.length - 2]!, N = B[B.length - 1]!;
  if (K !== Kb) fail(node, `inner dimensions differ: ${shapeStr(a)} x ${shapeStr(b)}`);
  const aBatch = A.slice(0, -2), bBatch = B.slice(0, -2);
  const batch = broadcastDims(node, aBatch, bBatch);
  const dims = [...batch, ...(a.length === 1 ? [] : [M]), ...(b.length === 1 ? [] : [N])];
  return { M, K, N, aBatch, bBatch, batch, dims };
}

const matMul: OpDef = {
  arity: [2, 2],
  infer(node, [a, b]) {
    const A = need(node, a, "input A"), B = need(node, b, "input B");
    return [{ dims: matMulShape(node, A.dims, B.dims).dims, dtype: A.dtype }];
  },
  run(node, [a, b]) {
    const A = need(node, a, "input A"), B = need(node, b, "input B");
    const { M, K, N, aBatch, bBatch, batch, dims } = matMulShape(node, A.dims, B.dims);
    const out = makeTensor(A.dtype, dims);
    const nb = numel(batch);
    const ia = broadcastIndex(batch, aBatch), ib = broadcastIndex(batch, bBatch);
    const ad = A.data, bd = B.data, od = out.data;
    const wrap = isFloat(A.dtype) ? null : wrapInt(A.dtype);
    for (let t = 0; t < nb; t++) {
      const aOff = (ia ? ia[t]! : aBatch.length ? t : 0) * M * K;
      const bOff = (ib ? ib[t]! : bBatch.length ? t : 0) * K * N;
      const oOff = t * M * N;
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += ad[aOff + m * K + k]! * bd[bOff + k * N + n]!;
          od[oOff + m * N + n] = wrap ? wrap(s) : s;
        }
    }
    return [out];
  },
};

// ---------------------------------------------------------------- normalisation, activation, quantization

/** Inference-mode BatchNormalization only: training mode normalises by batch statistics and updates running ones. */
function batchNormInference(node: GraphNode): void {
  const training = attrInt(node, "training_mode", 0);
  if (training !== 0) fail(node, `training_mode=${training} is not supported (inference only: rtap normalises with the stored mean and variance)`);
  if (node.outputs.filter((o) => o !== "").length > 1) fail(node, "the running-statistics outputs of training-mode BatchNormalization are not supported (inference only)");
}

const batchNorm: OpDef = {
  arity: [5, 5],
  infer(node, [x, ...params]) {
    const X = need(node, x, "input X");
    if (X.dims.length < 2) fail(node, `expects N x C x ..., got ${shapeStr(X.dims)}`);
    for (const [i, p] of params.entries()) {
      const P = need(node, p, ["scale", "B", "mean", "var"][i]!);
      if (P.dims.length !== 1 || P.dims[0] !== X.dims[1]) fail(node, `parameter ${i + 1} has shape ${shapeStr(P.dims)}, expected [${X.dims[1]}]`);
    }
    batchNormInference(node);
    return [{ dims: [...X.dims], dtype: X.dtype }];
  },
  run(node, [x, scale, bias, mean, variance]) {
    const X = need(node, x, "input X");
    batchNormInference(node);
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

/** Shape's output: the dims from `start` to `end` (opset 15; negative counts from the end, clamped to the rank). */
export function shapeSlice(node: GraphNode, dims: readonly number[]): number[] {
  const r = dims.length;
  const clampAxis = (v: number): number => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = clampAxis(attrInt(node, "start", 0));
  const end = node.attrs["end"] === undefined ? r : clampAxis(attrInt(node, "end", r));
  return dims.slice(start, Math.max(start, end));
}

const shapeOp: OpDef = {
  arity: [1, 1],
  infer(node, [x]) {
    const X = need(node, x, "input");
    return [{ dims: [shapeSlice(node, X.dims).length], dtype: "int64" }];
  },
  run(node, [x]) {
    const X = need(node, x, "input");
    const d = shapeSlice(node, X.dims);
    return [makeTensor("int64", [d.length], Float64Array.from(d))];
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

/** An ONNX element type for messages: `FLOAT16 (10)`. */
export function onnxTypeName(code: number): string {
  const name = (DataType as unknown as Record<number, string | undefined>)[code];
  return name ? `${name} (${code})` : `${code}`;
}

function castTarget(node: GraphNode): DType {
  const code = attrInt(node, "to", 1);
  const to = onnxDType(code);
  if (!to) fail(node, `to=${onnxTypeName(code)} is not supported (rtap casts to FLOAT, DOUBLE, INT64, INT32, INT8, UINT8 and BOOL)`);
  return to;
}

const cast: OpDef = {
  arity: [1, 1],
  infer(node, [x]) {
    const X = need(node, x, "input");
    return [{ dims: [...X.dims], dtype: castTarget(node) }];
  },
  run(node, [x]) {
    const X = need(node, x, "input");
    const to = castTarget(node);
    const out = makeTensor(to, X.dims);
    const wrap = wrapInt(to);
    for (let i = 0; i < X.data.length; i++) {
      const v = X.data[i]!;
      out.data[i] = isFloat(to) ? v : to === "bool" ? (v !== 0 ? 1 : 0) : wrap(Math.trunc(v));
    }
    return [out];
  },
};

/** True when Dropout runs as the identity: inference mode, or training with ratio 0. */
function dropoutCheck(node: GraphNode, ratio: Tensor | undefined, training: Tensor | undefined): void {
  if (!training || training.data.length === 0 || training.data[0] === 0) return;
  const r = ratio && ratio.data.length > 0 ? ratio.data[0]! : node.attrs["ratio"] !== undefined ? attrFloat(node, "ratio", 0.5) : 0.5;
  if (r !== 0) fail(node, `training_mode=true with ratio ${r} drops values at random; rtap runs Dropout in inference mode only (training_mode false, or ratio 0)`);
}

/** Dropout in inference mode: the identity, and a mask of all true (the optional second output). */
const dropout: OpDef = {
  arity: [1, 3],
  infer(node, [x], [, ratio, training]) {
    const X = need(node, x, "input");
    dropoutCheck(node, ratio, training);
    const out: ShapeInfo[] = [{ dims: [...X.dims], dtype: X.dtype }];
    if (node.outputs[1]) out.push({ dims: [...X.dims], dtype: "bool" });
    return out;
  },
  run(node, [x, ratio, training]) {
    const X = need(node, x, "input");
    dropoutCheck(node, ratio, training);
    const out: Tensor[] = [{ dtype: X.dtype, dims: [...X.dims], data: X.data }];
    if (node.outputs[1]) out.push(makeTensor("bool", X.dims, new Int32Array(X.data.length).fill(1)));
    return out;
  },
};

// ---------------------------------------------------------------- Pad

/** Pad's constant operands, resolved: one [begin, end] pair per axis of the input. */
export interface PadSpec {
  /** Per axis of the input: [begin, end]. */
  pads: [number, number][];
  value: number;
}

/**
 * Pad in constant mode, both forms: opset 2-10 attributes (`pads`, `value`) and opset 11+ inputs
 * (pads, optional constant_value, optional axes since opset 18). The pads (and axes) must be
 * constants; the value may be a runtime tensor, whose value is then NaN here (known when the node runs).
 */
export function padSpec(node: GraphNode, rank: number, padsT: Tensor | undefined, valueT: Tensor | undefined, axesT: Tensor | undefined): PadSpec {
  const mode = attrString(node, "mode", "constant");
  if (mode !== "constant") fail(node, `mode="${mode}" is not supported (only mode="constant")`);
  let raw: number[];
  if (node.inputs.length > 1 && node.inputs[1]) {
    if (!padsT) fail(node, "the pads input must be a constant (an initializer or folded at import)");
    raw = Array.from(padsT.data);
  } else {
    if (node.attrs["pads"] === undefined) fail(node, "has no pads (neither the pads input nor the opset 2-10 pads attribute)");
    raw = attrInts(node, "pads", []);
  }
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (node.inputs[3]) {
    if (!axesT) fail(node, "the axes input must be a constant");
    axes = Array.from(axesT.data, (a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a < 0 || a >= rank) || new Set(axes).size !== axes.length) fail(node, `axes ${shapeStr(Array.from(axesT.data))} are not distinct axes of a rank-${rank} input`);
  }
  if (raw.length !== 2 * axes.length) fail(node, `pads ${shapeStr(raw)} must hold 2 x ${axes.length} values (begins, then ends) for a rank-${rank} input`);
  if (raw.some((p) => !Number.isSafeInteger(p))) fail(node, `pads ${shapeStr(raw)} are not integers`);
  if (raw.some((p) => p < 0)) fail(node, `negative pads ${shapeStr(raw)} (cropping) are not supported`);
  const pads: [number, number][] = Array.from({ length: rank }, () => [0, 0]);
  axes.forEach((a, i) => (pads[a] = [raw[i]!, raw[i + axes.length]!]));
  let value = 0;
  if (node.inputs[2]) {
    if (valueT) {
      if (valueT.data.length !== 1) fail(node, `constant_value must be a scalar, got shape ${shapeStr(valueT.dims)}`);
      value = valueT.data[0]!;
    } else value = NaN; // runtime value, known only when the node runs
  } else value = attrFloat(node, "value", 0);
  return { pads, value };
}

const pad: OpDef = {
  arity: [1, 4],
  infer(node, [x], [, padsT, valueT, axesT]) {
    const X = need(node, x, "input");
    const { pads } = padSpec(node, X.dims.length, padsT, valueT, axesT);
    const dims = X.dims.map((d, i) => d + pads[i]![0] + pads[i]![1]);
    if (numel(dims) > 2 ** 28) fail(node, `pads ${shapeStr(pads.flat())} make a tensor of ${numel(dims)} elements (shape ${shapeStr(dims)})`);
    return [{ dims, dtype: X.dtype }];
  },
  run(node, [x, padsT, valueT, axesT]) {
    const X = need(node, x, "input");
    const { pads, value } = padSpec(node, X.dims.length, padsT, valueT, axesT);
    const dims = X.dims.map((d, i) => d + pads[i]![0] + pads[i]![1]);
    if (numel(dims) > 2 ** 28) fail(node, `pads ${shapeStr(pads.flat())} make a tensor of ${numel(dims)} elements (shape ${shapeStr(dims)})`);
    const out = makeTensor(X.dtype, dims);
    out.data.fill(value);
    const rank = dims.length;
    if (numel(X.dims) === 0) return [out];
    // Copy the input row by row (the innermost axis is contiguous in both).
    const os = strides(dims), inner = X.dims[rank - 1] ?? 1;
    const rows = numel(X.dims) / inner;
    const outer = X.dims.slice(0, -1);
    const idx = new Array<number>(outer.length).fill(0);
    for (let r = 0; r < rows; r++) {
      let off = rank > 0 ? pads[rank - 1]![0] : 0;
      for (let k = 0; k < outer.length; k++) off += (idx[k]! + pads[k]![0]) * os[k]!;
      out.data.set(X.data.subarray(r * inner, (r + 1) * inner), off);
      for (let k = outer.length - 1; k >= 0; k--) {
        if (++idx[k]! < outer[k]!) break;
        idx[k] = 0;
      }
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
  Dropout: dropout,
  Constant: constantOp,
  Cast: cast,
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  Shape: shapeOp,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Pad: pad,
};

export const SUPPORTED_OPS = Object.keys(OPS).sort();

export function opDef(node: GraphNode): OpDef {
  const def = OPS[node.opType];
  if (!def) throw new RtapError(`unsupported operator ${node.opType}; rtap supports ${SUPPORTED_OPS.join(", ")}`, nodeWhere(node));
  return def;
}

export { allocData };

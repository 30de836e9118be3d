/**
 * The integer reference executor: the golden model. It runs a QGraph on a batch of images using
 * nothing but integer arithmetic, with exactly the semantics documented in
 * src/quantize/qgraph.ts. Every simulation of a compiled program must equal its tensors bit for
 * bit.
 *
 * Tensors are batched: an [C,H,W] tensor of N images is an Int32Array of N*C*H*W, image-major.
 */
import { RtapError } from "../errors.js";
import type { QAddOp, QConvOp, QGraph, QOp, QPoolOp, QRequantOp, QTensor } from "../quantize/qgraph.js";

export interface ReferenceOptions {
  /** Keep every tensor (default: only the output). */
  keepAll?: boolean;
  /** Called after each op with its output (for progress and layer-by-layer checks). */
  onOp?: (op: QOp, out: Int32Array) => void;
}

export interface ReferenceResult {
  batch: number;
  output: Int32Array;
  /** All tensors when keepAll was set, else only input and output. */
  tensors: Map<string, Int32Array>;
}

/** Runs `batch` images; `pixels` holds batch*C*H*W input codes (uint8 pixels). */
export function runReference(q: QGraph, pixels: Uint8Array | Int32Array, batch: number, opts: ReferenceOptions = {}): ReferenceResult {
  const inT = q.tensors.get(q.input)!;
  const per = inT.shape[0] * inT.shape[1] * inT.shape[2];
  if (pixels.length !== batch * per) {
    throw new RtapError(`input has ${pixels.length} values; ${batch} image(s) of shape [${inT.shape.join(",")}] need ${batch * per}`, q.source);
  }
  const env = new Map<string, Int32Array>();
  env.set(q.input, pixels instanceof Int32Array ? pixels : Int32Array.from(pixels));
  const lastUse = new Map<string, number>();
  q.ops.forEach((op, i) => {
    for (const x of inputsOf(op)) lastUse.set(x, i);
  });
  q.ops.forEach((op, i) => {
    if (op.kind === "input") return;
    const out = runOp(q, op, env, batch);
    env.set(op.output, out);
    opts.onOp?.(op, out);
    if (!opts.keepAll) for (const x of inputsOf(op)) if (lastUse.get(x) === i && x !== q.output && x !== q.input) env.delete(x);
  });
  return { batch, output: env.get(q.output)!, tensors: env };
}

function inputsOf(op: QOp): string[] {
  return op.kind === "input" ? [] : op.kind === "add" ? op.inputs : [op.input];
}

/** Executes one op given its inputs in `env` (used by the executor and by calibration). */
export function runOp(q: QGraph, op: QOp, env: Map<string, Int32Array>, batch: number): Int32Array {
  const t = (name: string): QTensor => q.tensors.get(name)!;
  const get = (name: string): Int32Array => {
    const v = env.get(name);
    if (!v) throw new Error(`reference: tensor ${name} not computed before op ${op.name}`);
    return v;
  };
  switch (op.kind) {
    case "input":
      return get(op.output);
    case "conv":
      return conv(op, get(op.input), t(op.input), t(op.output), batch);
    case "add":
      return add(op, get(op.inputs[0]), get(op.inputs[1]), t(op.output), batch);
    case "requant":
      return requant(op, get(op.input), t(op.input), batch);
    case "maxpool":
    case "sumpool":
      return pool(op, get(op.input), t(op.input), t(op.output), batch);
  }
}

/** Per output channel: flat im2col row indices of the +1 and -1 weights. */
interface TernaryRows {
  plus: Int32Array[];
  minus: Int32Array[];
}

const rowCache = new WeakMap<Int8Array, TernaryRows>();

function ternaryRows(op: QConvOp): TernaryRows {
  let r = rowCache.get(op.weights);
  if (r) return r;
  const K = op.inChannels * op.kernel[0] * op.kernel[1];
  r = { plus: [], minus: [] };
  for (let o = 0; o < op.outChannels; o++) {
    const p: number[] = [], m: number[] = [];
    for (let k = 0; k < K; k++) {
      const w = op.weights[o * K + k]!;
      if (w === 1) p.push(k);
      else if (w === -1) m.push(k);
    }
    r.plus.push(Int32Array.from(p));
    r.minus.push(Int32Array.from(m));
  }
  rowCache.set(op.weights, r);
  return r;
}

/**
 * Ternary convolution: im2col over a chunk of the batch (columns = images x output positions, so
 * deep layers with few positions still get long inner loops), then per output channel the sum of
 * the +1 rows minus the -1 rows.
 *
 * Speed trick (exact): every input is shifted to x' = x - m_c in [0, R_c] and a -1 term is added
 * as (R_c - x'), so every addend is non-negative and bounded; then `lanes` output positions are
 * packed into one float64 (each lane wide enough for the largest possible sum), and a single
 * float64 add performs `lanes` integer adds. The constant sum_plus(m) - sum_minus(R + m) is added
 * back per channel when unpacking. All sums stay below 2^53, so the result is exact.
 */
function conv(op: QConvOp, x: Int32Array, xt: QTensor, ot: QTensor, batch: number): Int32Array {
  const [C, H, W] = xt.shape;
  const [O, OH, OW] = ot.shape;
  const [KH, KW] = op.kernel;
  const [SH, SW] = op.stride;
  const [PT, PL] = op.pads;
  const Pimg = OH * OW;
  const K = C * KH * KW;
  const KHW = KH * KW;
  const rows = ternaryRows(op);
  const padded = op.pads.some((p) => p > 0);
  // Per input row k: offset m and range R of x (0 included when the layer pads).
  const mRow = new Float64Array(K), rRow = new Float64Array(K);
  for (let c = 0; c < C; c++) {
    let lo = xt.minPerChannel[c]!, hi = xt.maxPerChannel[c]!;
    if (padded) {
      lo = Math.min(lo, 0);
      hi = Math.max(hi, 0);
    }
    for (let k = c * KHW; k < (c + 1) * KHW; k++) {
      mRow[k] = lo;
      rRow[k] = hi - lo;
    }
  }
  let maxLane = 1;
  const constant = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    let s = 0, cst = 0;
    for (const k of rows.plus[o]!) {
      s += rRow[k]!;
      cst += mRow[k]!;
    }
    for (const k of rows.minus[o]!) {
      s += rRow[k]!;
      cst -= rRow[k]! + mRow[k]!;
    }
    constant[o] = cst;
    maxLane = Math.max(maxLane, s);
  }
  const laneBits = Math.ceil(Math.log2(maxLane + 1));
  const lanes = Math.max(1, Math.min(4, Math.floor(52 / laneBits)));
  const laneScale = 2 ** laneBits;
  // Chunk of images per pass: im2col of the chunk within a few tens of MB.
  const chunk = Math.max(1, Math.min(batch, Math.floor(4_000_000 / Math.max(1, K * Pimg))));
  const out = new Int32Array(batch * O * Pimg);
  const col = new Int32Array(K * chunk * Pimg);
  const PLmax = Math.ceil((chunk * Pimg) / lanes);
  const colPos = new Float64Array(K * PLmax), colNeg = new Float64Array(K * PLmax);
  const acc = new Float64Array(PLmax);
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const nb = Math.min(chunk, batch - b0);
    const P = nb * Pimg;
    const PLn = Math.ceil(P / lanes);
    for (let bi = 0; bi < nb; bi++) im2colInt(x, col, (b0 + bi) * C * H * W, C, H, W, OH, OW, KH, KW, SH, SW, PT, PL, P, bi * Pimg);
    packLanes(col, colPos, colNeg, mRow, rRow, K, P, PLn, lanes, laneScale);
    for (let o = 0; o < O; o++) {
      accumulatePacked(acc, colPos, colNeg, rows.plus[o]!, rows.minus[o]!, PLn);
      unpackLanes(acc, out, PLn, P, lanes, laneScale, constant[o]!, Pimg, O, o, b0);
    }
  }
  return out;
}

/**
 * Peels the lanes off the packed sums (lowest lane first) and writes lane l's values, positions
 * l*PLn .. l*PLn+PLn-1, in contiguous runs per image.
 */
function unpackLanes(
  acc: Float64Array, out: Int32Array, PLn: number, P: number, lanes: number, laneScale: number, cst: number,
  Pimg: number, O: number, o: number, b0: number,
): void {
  for (let l = 0; l < lanes; l++) {
    const p0 = l * PLn;
    const p1 = Math.min(P, p0 + PLn);
    let i = 0;
    for (let p = p0; p < p1; ) {
      const bi = Math.floor(p / Pimg);
      const end = Math.min(p1, (bi + 1) * Pimg);
      const base = ((b0 + bi) * O + o) * Pimg - bi * Pimg;
      for (; p < end; p++, i++) {
        const v = acc[i]!;
        const hi = Math.floor(v / laneScale);
        out[base + p] = v - hi * laneScale + cst;
        acc[i] = hi;
      }
    }
    // elements past P in the last lane only carry padding; still peel them for the next lane
    for (; i < PLn; i++) acc[i] = Math.floor(acc[i]! / laneScale);
  }
}

/** Lane l of packed element i holds position l*PLn + i: x - m (colPos) and R - (x - m) (colNeg). */
function packLanes(
  col: Int32Array, colPos: Float64Array, colNeg: Float64Array, mRow: Float64Array, rRow: Float64Array,
  K: number, P: number, PLn: number, lanes: number, laneScale: number,
): void {
  for (let k = 0; k < K; k++) {
    const m = mRow[k]!, R = rRow[k]!;
    const src = k * P, dst = k * PLn;
    for (let i = 0; i < PLn; i++) {
      let pos = 0, neg = 0, mult = 1;
      for (let l = 0; l < lanes; l++) {
        const p = l * PLn + i;
        if (p < P) {
          const xv = col[src + p]! - m;
          pos += xv * mult;
          neg += (R - xv) * mult;
        }
        mult *= laneScale;
      }
      colPos[dst + i] = pos;
      colNeg[dst + i] = neg;
    }
  }
}

function accumulatePacked(acc: Float64Array, colPos: Float64Array, colNeg: Float64Array, plus: Int32Array, minus: Int32Array, n: number): void {
  acc.fill(0, 0, n);
  for (let i = 0; i < plus.length; i++) {
    const base = plus[i]! * n;
    for (let p = 0; p < n; p++) acc[p] += colPos[base + p]!;
  }
  for (let i = 0; i < minus.length; i++) {
    const base = minus[i]! * n;
    for (let p = 0; p < n; p++) acc[p] += colNeg[base + p]!;
  }
}

/** col[k][colOff + oy*OW + ox] for one image; row stride P. Zero outside the input. */
function im2colInt(
  x: Int32Array, col: Int32Array, xOff: number, C: number, H: number, W: number, OH: number, OW: number,
  KH: number, KW: number, SH: number, SW: number, PT: number, PL: number, P: number, colOff: number,
): void {
  let r = 0;
  for (let c = 0; c < C; c++) {
    const base = xOff + c * H * W;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++, r++) {
        const rowOff = r * P + colOff;
        for (let oy = 0; oy < OH; oy++) {
          const iy = oy * SH - PT + ky;
          const dst = rowOff + oy * OW;
          if (iy < 0 || iy >= H) {
            col.fill(0, dst, dst + OW);
            continue;
          }
          const src = base + iy * W;
          for (let ox = 0; ox < OW; ox++) {
            const ix = ox * SW - PL + kx;
            col[dst + ox] = ix >= 0 && ix < W ? x[src + ix]! : 0;
          }
        }
      }
    }
  }
}

function add(op: QAddOp, a: Int32Array, b: Int32Array, ot: QTensor, batch: number): Int32Array {
  const [C, H, W] = ot.shape;
  const S = H * W;
  const out = new Int32Array(batch * C * S);
  const [ma, mb] = op.mul;
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      const xa = ma[c]!, xb = mb[c]!;
      for (let i = 0; i < S; i++) out[base + i] = xa * a[base + i]! + xb * b[base + i]!;
    }
  return out;
}

function requant(op: QRequantOp, x: Int32Array, xt: QTensor, batch: number): Int32Array {
  const [C, H, W] = xt.shape;
  const S = H * W;
  const L = (1 << op.bits) - 1;
  const out = new Int32Array(batch * C * S);
  const T = op.thresholds;
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * S;
      const tb = c * L;
      for (let i = 0; i < S; i++) {
        const v = x[base + i]!;
        // thresholds are non-decreasing: the code is the number of thresholds <= v
        let lo = 0, hi = L;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (v >= T[tb + mid]!) lo = mid + 1;
          else hi = mid;
        }
        out[base + i] = lo;
      }
    }
  return out;
}

function pool(op: QPoolOp, x: Int32Array, xt: QTensor, ot: QTensor, batch: number): Int32Array {
  const [C, H, W] = xt.shape;
  const [, OH, OW] = ot.shape;
  const [KH, KW] = op.kernel;
  const [SH, SW] = op.stride;
  const [PT, PL] = op.pads;
  const isMax = op.kind === "maxpool";
  const out = new Int32Array(batch * C * OH * OW);
  for (let nc = 0; nc < batch * C; nc++) {
    const base = nc * H * W;
    const obase = nc * OH * OW;
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let m = -2147483648, s = 0;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * SH - PT + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * SW - PL + kx;
            if (ix < 0 || ix >= W) continue;
            const v = x[base + iy * W + ix]!;
            if (v > m) m = v;
            s += v;
          }
        }
        out[obase + oy * OW + ox] = isMax ? m : s;
      }
  }
  return out;
}

/** Float logits of the output tensor: scale[c] * v + offset[c], per image. */
export function dequantizeOutput(q: QGraph, output: Int32Array, batch: number): Float64Array[] {
  const t = q.tensors.get(q.output)!;
  const [C, H, W] = t.shape;
  const S = C * H * W;
  const res: Float64Array[] = [];
  for (let n = 0; n < batch; n++) {
    const v = new Float64Array(S);
    for (let i = 0; i < S; i++) {
      const c = Math.floor(i / (H * W));
      v[i] = t.scale[c]! * output[n * S + i]! + t.offset[c]!;
    }
    res.push(v);
  }
  return res;
}

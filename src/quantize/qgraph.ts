/**
 * The integer-only graph (QGraph): what quantization produces and what the integer reference,
 * the compiler and the crossbar cost model consume. Every tensor holds integers; its real meaning
 * is `real = scale[c] * v + offset[c]` per channel c, kept only for interpretation (the final
 * logits) and for reports — no executor multiplies by a scale.
 *
 * Layout is CHW per image; fully connected layers are convolutions on [C, 1, 1] (or, right after a
 * flatten, a convolution whose kernel covers the whole [C, H, W] input), so every tensor is 3-D.
 *
 * Semantics of each op (these are what "bit-exact" means throughout rtap):
 *  - input:    v = the uint8 pixel p (scale 1/255, offset 0).
 *  - conv:     out[o,y,x] = sum_{c,i,j} w[o,c,i,j] * in[c, y*sh - pt + i, x*sw - pl + j],
 *              w in {-1,0,+1}, positions outside the input contribute 0.
 *  - add:      out[c,y,x] = mulA[c] * a[c,y,x] + mulB[c] * b[c,y,x]  (integer multipliers).
 *  - requant:  out[c,y,x] = #{ k in 1..2^bits-1 : in[c,y,x] >= T[c][k-1] }, T non-decreasing;
 *              this folds bias, batch-norm, ReLU/clip and k-bit rounding into thresholds.
 *  - maxpool:  out = max over the window of the positions inside the input (padding is ignored).
 *  - sumpool:  out = sum over the window (padding contributes 0); the 1/area of an average pool
 *              is folded into the output scale, so the value stays an exact integer.
 */

export type Shape3 = [number, number, number];

export interface QTensor {
  name: string;
  /** [C, H, W] */
  shape: Shape3;
  /** "code": unsigned k-bit activation codes (input or requant output); "int": any other integer. */
  kind: "code" | "int";
  /** Exact bounds of the value per channel (from weights and input ranges, not from data). */
  minPerChannel: Int32Array;
  maxPerChannel: Int32Array;
  /** real = scale[c] * v + offset[c] */
  scale: Float64Array;
  offset: Float64Array;
}

interface QOpBase {
  /** Unique op name (usually the ONNX node that produced the output). */
  name: string;
  /** Names of the source-graph nodes this op stands for (conv + BN + bias, quantizer chain...). */
  origin: string[];
  output: string;
}

export interface QInputOp extends QOpBase {
  kind: "input";
  bits: number;
}

export interface QConvOp extends QOpBase {
  kind: "conv";
  input: string;
  outChannels: number;
  inChannels: number;
  kernel: [number, number];
  stride: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  /** O * C * KH * KW values in {-1, 0, +1}, row-major [o][c][i][j]. */
  weights: Int8Array;
  /** True when the op came from Gemm/MatMul (a fully connected layer). */
  fullyConnected: boolean;
}

export interface QAddOp extends QOpBase {
  kind: "add";
  inputs: [string, string];
  /** Per-channel integer multipliers for the two inputs. */
  mul: [Int32Array, Int32Array];
}

export interface QRequantOp extends QOpBase {
  kind: "requant";
  input: string;
  bits: number;
  /** C * (2^bits - 1) thresholds, row-major [c][k-1], non-decreasing along k. */
  thresholds: Int32Array;
}

export interface QPoolOp extends QOpBase {
  kind: "maxpool" | "sumpool";
  input: string;
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
}

export type QOp = QInputOp | QConvOp | QAddOp | QRequantOp | QPoolOp;

export interface QGraph {
  name: string;
  source: string;
  /** Name of the input tensor (its op is ops[0], kind "input"). */
  input: string;
  /** Topologically ordered. */
  ops: QOp[];
  tensors: Map<string, QTensor>;
  /** The output tensor; its scale/offset turn it into float logits. */
  output: string;
  /** Activation bit width used by the requant ops. */
  activationBits: number;
  /** What quantization did that the user should know (ternarized layers, inserted quantizers...). */
  notes: string[];
}

/** The inputs of an op, in order. */
export function opInputs(op: QOp): string[] {
  switch (op.kind) {
    case "input":
      return [];
    case "add":
      return [...op.inputs];
    default:
      return [op.input];
  }
}

/** Bits needed to hold every integer in [min, max]: unsigned when min >= 0, else two's complement. */
export function bitsFor(min: number, max: number): number {
  if (min >= 0) return max <= 0 ? 1 : magnitudeBits(max);
  const mag = Math.max(-min - 1, max);
  return (mag <= 0 ? 0 : magnitudeBits(mag)) + 1;
}

/**
 * floor(log2(x)) + 1 for x > 0: by clz32 from 1 up to 2^31 (the same result: log2 of an integer
 * below 2^31 is never rounded across an integer), Math.log2 (~25 ns here; the compiler asks
 * millions of times) elsewhere.
 */
function magnitudeBits(x: number): number {
  return x >= 1 && x < 2147483648 ? 32 - Math.clz32(x) : Math.floor(Math.log2(x)) + 1;
}

export function tensorMin(t: QTensor): number {
  let m = Infinity;
  for (const v of t.minPerChannel) m = Math.min(m, v);
  return m;
}

export function tensorMax(t: QTensor): number {
  let m = -Infinity;
  for (const v of t.maxPerChannel) m = Math.max(m, v);
  return m;
}

/** Number of multiply-accumulates of a conv op (including zero weights), per image. */
export function convMacs(op: QConvOp, outShape: Shape3): number {
  return outShape[0] * outShape[1] * outShape[2] * op.inChannels * op.kernel[0] * op.kernel[1];
}

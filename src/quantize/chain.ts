/**
 * Elementwise chains: how a float tensor of the source graph relates to an integer tensor of the
 * QGraph. A float tensor is `ops(real(base))` where `real(base) = scale[c] * v + offset[c]` for the
 * integer tensor `base`, and `ops` is a list of per-channel elementwise operations (linear ones,
 * ReLU/Clip, rounding, Quantize/DequantizeLinear) evaluated in float32 steps exactly as the source
 * graph does. The quantizer turns a chain into integer thresholds by evaluating it on integers.
 */
import { roundHalfEven } from "../float/tensor.js";

export type ChainOp =
  | { kind: "mul" | "div" | "add" | "sub"; k: Float64Array } // per channel (length C) or scalar (length 1)
  | { kind: "bn"; mul: Float64Array; add: Float64Array } // y = x*mul + add, float32 steps
  | { kind: "relu" }
  | { kind: "clip"; lo: number; hi: number }
  | { kind: "round" }
  | { kind: "quantize"; scale: Float64Array; zp: Float64Array; lo: number; hi: number }
  | { kind: "dequantize"; scale: Float64Array; zp: Float64Array };

const f = Math.fround;

function at(a: Float64Array, c: number): number {
  return a.length === 1 ? a[0]! : a[c]!;
}

/** Applies the chain to one float32 value of channel c. */
export function evalChain(ops: readonly ChainOp[], c: number, x: number): number {
  let v = f(x);
  for (const op of ops) {
    switch (op.kind) {
      case "mul":
        v = f(v * at(op.k, c));
        break;
      case "div":
        v = f(v / at(op.k, c));
        break;
      case "add":
        v = f(v + at(op.k, c));
        break;
      case "sub":
        v = f(v - at(op.k, c));
        break;
      case "bn":
        v = f(f(v * at(op.mul, c)) + at(op.add, c));
        break;
      case "relu":
        v = v > 0 ? v : 0;
        break;
      case "clip":
        v = Math.min(op.hi, Math.max(op.lo, v));
        break;
      case "round":
        v = roundHalfEven(v);
        break;
      case "quantize":
        v = Math.min(op.hi, Math.max(op.lo, roundHalfEven(f(v / at(op.scale, c))) + at(op.zp, c)));
        break;
      case "dequantize":
        v = f((v - at(op.zp, c)) * at(op.scale, c));
        break;
    }
  }
  return v;
}

export function isLinear(op: ChainOp): boolean {
  return op.kind === "mul" || op.kind === "div" || op.kind === "add" || op.kind === "sub" || op.kind === "bn";
}

/** Composes a linear-only chain into y = mul[c]*x + add[c] (float64), for C channels. */
export function composeLinear(ops: readonly ChainOp[], C: number): { mul: Float64Array; add: Float64Array } {
  const mul = new Float64Array(C).fill(1);
  const add = new Float64Array(C);
  for (const op of ops) {
    for (let c = 0; c < C; c++) {
      switch (op.kind) {
        case "mul":
          mul[c]! *= at(op.k, c);
          add[c]! *= at(op.k, c);
          break;
        case "div":
          mul[c]! /= at(op.k, c);
          add[c]! /= at(op.k, c);
          break;
        case "add":
          add[c]! += at(op.k, c);
          break;
        case "sub":
          add[c]! -= at(op.k, c);
          break;
        case "bn":
          mul[c]! *= at(op.mul, c);
          add[c] = add[c]! * at(op.mul, c) + at(op.add, c);
          break;
        default:
          throw new Error(`composeLinear: ${op.kind} is not linear`);
      }
    }
  }
  return { mul, add };
}

/**
 * The grid of values a chain can produce after its last rounding step, per channel:
 * value = step * k + offset for integer k in [kLo, kHi]. Returns undefined when the chain does not
 * round (a float activation that still needs a quantizer).
 */
export interface Grid {
  step: Float64Array;
  offset: Float64Array;
  kLo: number;
  kHi: number;
}

export function chainGrid(ops: readonly ChainOp[], C: number, inLo: Float64Array, inHi: Float64Array): Grid | undefined {
  // Interval propagation of the value range (for the clip bounds of the grid), and the affine
  // map from the integer grid index to the value after the last rounding op.
  let lo = Float64Array.from(inLo), hi = Float64Array.from(inHi);
  let grid: { step: Float64Array; offset: Float64Array } | undefined;
  for (const op of ops) {
    for (let c = 0; c < C; c++) {
      const a = evalInterval(op, c, lo[c]!, hi[c]!);
      lo[c] = a[0];
      hi[c] = a[1];
    }
    if (op.kind === "round" || op.kind === "quantize") {
      grid = { step: new Float64Array(C).fill(1), offset: new Float64Array(C) };
    } else if (grid) {
      for (let c = 0; c < C; c++) {
        switch (op.kind) {
          case "mul":
            grid.step[c]! *= at(op.k, c);
            grid.offset[c]! *= at(op.k, c);
            break;
          case "div":
            grid.step[c]! /= at(op.k, c);
            grid.offset[c]! /= at(op.k, c);
            break;
          case "add":
            grid.offset[c]! += at(op.k, c);
            break;
          case "sub":
            grid.offset[c]! -= at(op.k, c);
            break;
          case "bn":
            grid.step[c]! *= at(op.mul, c);
            grid.offset[c] = grid.offset[c]! * at(op.mul, c) + at(op.add, c);
            break;
          case "dequantize":
            grid.step[c]! *= at(op.scale, c);
            grid.offset[c] = (grid.offset[c]! - at(op.zp, c)) * at(op.scale, c);
            break;
          default: // relu/clip only narrow the range
        }
      }
    }
  }
  if (!grid) return undefined;
  let kLo = Infinity, kHi = -Infinity;
  for (let c = 0; c < C; c++) {
    const s = grid.step[c]!;
    if (!(s > 0)) return undefined;
    kLo = Math.min(kLo, Math.round((lo[c]! - grid.offset[c]!) / s));
    kHi = Math.max(kHi, Math.round((hi[c]! - grid.offset[c]!) / s));
  }
  return { step: grid.step, offset: grid.offset, kLo, kHi };
}

function evalInterval(op: ChainOp, c: number, lo: number, hi: number): [number, number] {
  const both = (g: (x: number) => number): [number, number] => {
    const a = g(lo), b = g(hi);
    return a <= b ? [a, b] : [b, a];
  };
  switch (op.kind) {
    case "mul":
      return both((x) => x * at(op.k, c));
    case "div":
      return both((x) => x / at(op.k, c));
    case "add":
      return [lo + at(op.k, c), hi + at(op.k, c)];
    case "sub":
      return [lo - at(op.k, c), hi - at(op.k, c)];
    case "bn":
      return both((x) => x * at(op.mul, c) + at(op.add, c));
    case "relu":
      return [Math.max(0, lo), Math.max(0, hi)];
    case "clip":
      return [Math.min(op.hi, Math.max(op.lo, lo)), Math.min(op.hi, Math.max(op.lo, hi))];
    case "round":
      return [Math.round(lo), Math.round(hi)];
    case "quantize": {
      const [a, b] = both((x) => x / at(op.scale, c));
      return [Math.min(op.hi, Math.max(op.lo, Math.round(a) + at(op.zp, c))), Math.min(op.hi, Math.max(op.lo, Math.round(b) + at(op.zp, c)))];
    }
    case "dequantize":
      return both((x) => (x - at(op.zp, c)) * at(op.scale, c));
  }
}

/** True when every op is monotone non-decreasing in its input (so thresholds exist). */
export function chainIsMonotone(ops: readonly ChainOp[], C: number): boolean {
  for (const op of ops) {
    for (let c = 0; c < C; c++) {
      if ((op.kind === "mul" || op.kind === "div") && !(at(op.k, c) > 0)) return false;
      if (op.kind === "bn" && !(at(op.mul, c) > 0)) return false;
      if ((op.kind === "quantize" || op.kind === "dequantize") && !(at(op.scale, c) > 0)) return false;
    }
  }
  return true;
}

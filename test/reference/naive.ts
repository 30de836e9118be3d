/**
 * A deliberately naive executor of the QGraph semantics, written from the comment at the top of
 * src/quantize/qgraph.ts and nothing else: one image, plain loops, exact integer arithmetic (values
 * stay far below 2^53). The tests compare src/reference/integer.ts (lane-packed float64 sums,
 * im2col, batching) against it tensor by tensor.
 */
import type { QGraph } from "../../src/quantize/qgraph.js";

export function runNaive(q: QGraph, pixels: ArrayLike<number>): Map<string, Int32Array> {
  const env = new Map<string, Int32Array>();
  env.set(q.input, Int32Array.from(pixels));
  for (const op of q.ops) {
    if (op.kind === "input") continue;
    const [O, OH, OW] = q.tensors.get(op.output)!.shape;
    const out = new Int32Array(O * OH * OW);
    switch (op.kind) {
      case "conv": {
        const x = env.get(op.input)!;
        const [C, H, W] = q.tensors.get(op.input)!.shape;
        const [KH, KW] = op.kernel;
        for (let o = 0; o < O; o++)
          for (let y = 0; y < OH; y++)
            for (let xx = 0; xx < OW; xx++) {
              let s = 0;
              for (let c = 0; c < C; c++)
                for (let i = 0; i < KH; i++)
                  for (let j = 0; j < KW; j++) {
                    const iy = y * op.stride[0] - op.pads[0] + i, ix = xx * op.stride[1] - op.pads[1] + j;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                    s += op.weights[((o * C + c) * KH + i) * KW + j]! * x[(c * H + iy) * W + ix]!;
                  }
              out[(o * OH + y) * OW + xx] = s;
            }
        break;
      }
      case "add": {
        const a = env.get(op.inputs[0])!, b = env.get(op.inputs[1])!;
        const S = OH * OW;
        for (let i = 0; i < out.length; i++) {
          const c = Math.floor(i / S);
          out[i] = op.mul[0][c]! * a[i]! + op.mul[1][c]! * b[i]!;
        }
        break;
      }
      case "requant": {
        const x = env.get(op.input)!;
        const L = (1 << op.bits) - 1, S = OH * OW;
        for (let i = 0; i < out.length; i++) {
          const c = Math.floor(i / S);
          let k = 0;
          for (let t = 0; t < L; t++) if (x[i]! >= op.thresholds[c * L + t]!) k++;
          out[i] = k;
        }
        break;
      }
      case "maxpool":
      case "sumpool": {
        const x = env.get(op.input)!;
        const [, H, W] = q.tensors.get(op.input)!.shape;
        for (let c = 0; c < O; c++)
          for (let y = 0; y < OH; y++)
            for (let xx = 0; xx < OW; xx++) {
              let m = -Infinity, s = 0;
              for (let i = 0; i < op.kernel[0]; i++)
                for (let j = 0; j < op.kernel[1]; j++) {
                  const iy = y * op.stride[0] - op.pads[0] + i, ix = xx * op.stride[1] - op.pads[1] + j;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  const v = x[(c * H + iy) * W + ix]!;
                  m = Math.max(m, v);
                  s += v;
                }
              out[(c * OH + y) * OW + xx] = op.kind === "maxpool" ? m : s;
            }
        break;
      }
    }
    env.set(op.output, out);
  }
  return env;
}

/**
 * onnxruntime-node as a test oracle (a dev dependency, used only by tests). Sessions run with graph
 * optimizations disabled: with them ORT fuses QuantizeLinear/DequantizeLinear pairs into integer
 * kernels, which is a different computation from the float graph rtap's float executor runs.
 */
import * as ort from "onnxruntime-node";

export interface OrtOutput {
  dims: number[];
  data: Float32Array;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** One session per model file (or per byte buffer when `key` is given). */
export function ortSession(model: string | Uint8Array, key?: string): Promise<ort.InferenceSession> {
  const k = typeof model === "string" ? model : key;
  const make = (): Promise<ort.InferenceSession> =>
    typeof model === "string"
      ? ort.InferenceSession.create(model, { graphOptimizationLevel: "disabled" })
      : ort.InferenceSession.create(model, { graphOptimizationLevel: "disabled" });
  if (k === undefined) return make();
  let s = sessions.get(k);
  if (!s) {
    s = make();
    sessions.set(k, s);
  }
  return s;
}

/** Runs the model's single input -> single output on one float32 tensor. */
export async function ortRun(model: string | Uint8Array, input: Float32Array, dims: number[], key?: string): Promise<OrtOutput> {
  const s = await ortSession(model, key);
  const feeds = { [s.inputNames[0]!]: new ort.Tensor("float32", input, dims) };
  const out = (await s.run(feeds))[s.outputNames[0]!]!;
  const data = out.data instanceof Float32Array ? out.data : Float32Array.from(out.data as ArrayLike<number>);
  return { dims: out.dims.map(Number), data };
}

/** max |a - b| / max |b|: the relative error of `a` against the reference `b` over a whole tensor. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
  }
  if (Number.isNaN(maxDiff)) return Infinity;
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

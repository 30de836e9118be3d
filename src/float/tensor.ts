/**
 * Runtime tensors of the float executor and of constant folding. Same representation as graph
 * constants: float32 -> Float32Array (so every store rounds to float32, exactly like a float32
 * runtime), float64 and int64 -> Float64Array (exact to 2^53), other integer types -> Int32Array.
 */
import type { ConstTensor, DType, TensorData } from "../import/graph.js";
import { numel } from "../import/graph.js";

export type Tensor = ConstTensor;

export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
    case "int64":
      return new Float64Array(n);
    default:
      return new Int32Array(n);
  }
}

export function makeTensor(dtype: DType, dims: number[], data?: TensorData): Tensor {
  const n = numel(dims);
  if (data && data.length !== n) throw new Error(`tensor data has ${data.length} elements, shape ${dims.join("x")} needs ${n}`);
  return { dtype, dims: [...dims], data: data ?? allocData(dtype, n) };
}

export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** Row-major strides. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Round half to even (ONNX Round, numpy/PyTorch round, IEEE nearbyint). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; fix exact ties to the even neighbour.
  if (Math.abs(x - Math.trunc(x)) === 0.5) return 2 * Math.round(x / 2);
  return r;
}

/**
 * The graph IR that every importer produces (ONNX files and the built-in zoo alike): a
 * topologically sorted list of nodes over named tensors, float weights as constants, and the
 * shape of every tensor inferred. Batch is the leading dimension of every activation shape and is
 * fixed to 1 at import; executors run any batch size N by replacing that leading 1.
 */

export type DType = "float32" | "float64" | "int32" | "int64" | "int8" | "uint8" | "bool";

/** Float types are stored as Float32Array/Float64Array, every integer type as Int32Array. */
export type TensorData = Float32Array | Float64Array | Int32Array;

export interface ConstTensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

export type AttrValue = number | number[] | string | string[] | ConstTensor;

export interface GraphNode {
  /** Unique name (ONNX name, or `<opType>_<index>` when the file left it empty). */
  name: string;
  opType: string;
  /** Tensor names; "" marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface GraphInput {
  name: string;
  dims: number[];
  dtype: DType;
}

export interface Graph {
  name: string;
  /** Where the graph came from (file path or zoo name), for messages and reports. */
  source: string;
  opset: number;
  inputs: GraphInput[];
  outputs: string[];
  /** Topologically sorted; constant subgraphs are already folded into `constants`. */
  nodes: GraphNode[];
  /** Initializers and folded constants. */
  constants: Map<string, ConstTensor>;
  /** Shape of every tensor (activations, constants, outputs). */
  shapes: Map<string, number[]>;
  /** Element type of every tensor. */
  dtypes: Map<string, DType>;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** `node "<name>" (<opType>)`, the way every message names a node. */
export function nodeWhere(node: Pick<GraphNode, "name" | "opType">): string {
  return `node "${node.name}" (${node.opType})`;
}

export function attrInt(node: GraphNode, name: string, dflt: number): number {
  const v = node.attrs[name];
  return typeof v === "number" ? v : dflt;
}

export function attrInts(node: GraphNode, name: string, dflt: number[]): number[] {
  const v = node.attrs[name];
  return Array.isArray(v) && (v.length === 0 || typeof v[0] === "number") ? (v as number[]) : dflt;
}

export function attrFloat(node: GraphNode, name: string, dflt: number): number {
  const v = node.attrs[name];
  return typeof v === "number" ? v : dflt;
}

export function attrString(node: GraphNode, name: string, dflt: string): string {
  const v = node.attrs[name];
  return typeof v === "string" ? v : dflt;
}

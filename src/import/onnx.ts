/**
 * ONNX import: protobuf bytes -> graph IR (src/import/graph.ts).
 *
 * Decoding uses onnx-buf (the ONNX 1.20 schema compiled for @bufbuild/protobuf). After decoding:
 *  1. tensors (initializers, Constant values) become typed arrays, raw_data copied out of the file
 *     buffer (it is rarely 4-byte aligned) and checked against their dims;
 *  2. nodes are validated (known operator, arity, every input defined) and topologically sorted;
 *  3. constant subgraphs are folded (any node whose inputs are all constant, e.g. Constant -> Cast
 *     feeding Clip bounds, or Shape of a tensor with a known shape);
 *  4. every tensor's shape and type is inferred (src/float/ops.ts);
 *  5. constant-mode Pad nodes are folded into the Conv or pool they feed where exact
 *     (src/import/fold-pad.ts).
 * Every problem is an RtapError that names the file and the node.
 *
 * A model rtap compiles has one float32 image input [N, C, H, W] and one output (the logits); that
 * rule is the default. `inputs: "tensors"` lifts it (any number of inputs and outputs, any rank and
 * supported element type) to run other graphs through the same operator kernels, as the ONNX
 * backend conformance tests do.
 */
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { AttributeProto_AttributeType as AT, ModelProtoSchema, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from "onnx-buf";
import { RtapError } from "../errors.js";
import { onnxDType, onnxTypeName, opDef, shapeSlice, type ShapeInfo } from "../float/ops.js";
import { foldPads } from "./fold-pad.js";
import type { AttrValue, ConstTensor, DType, Graph, GraphInput, GraphNode } from "./graph.js";
import { nodeWhere, numel } from "./graph.js";

export interface ImportOptions {
  /** Name used in messages (defaults to the path). */
  displayName?: string;
  /**
   * "image" (default): exactly one float32 [N, C, H, W] input (a symbolic batch becomes 1) and one
   * output, what quantization and compilation need. "tensors": any number of inputs of any rank
   * and supported element type (every dimension fixed), and any number of outputs.
   */
  inputs?: "image" | "tensors";
}

/**
 * Operators whose definition has not changed since opset 1 (the later versions only added types or
 * attributes whose defaults keep the old behaviour); models of opsets 1..6 may use these only.
 */
const UNCHANGED_SINCE_OPSET_1 = new Set([
  "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "MatMul", "Relu", "Flatten", "Identity", "Constant", "Gather", "Shape", "Squeeze", "Unsqueeze",
]);

export function importOnnxFile(path: string, opts: ImportOptions = {}): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RtapError(`cannot read model file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
  return importOnnxBytes(bytes, opts.displayName ?? path, opts);
}

export function importOnnxBytes(bytes: Uint8Array, source: string, opts: Pick<ImportOptions, "inputs"> = {}): Graph {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new RtapError(`not a valid ONNX file (protobuf decoding failed: ${(e as Error).message})`, source);
  }
  try {
    return buildGraph(model, source, opts.inputs ?? "image");
  } catch (e) {
    if (e instanceof RtapError) throw new RtapError(e.message, source);
    throw e;
  }
}

function buildGraph(model: ModelProto, source: string, inputMode: "image" | "tensors"): Graph {
  const g = model.graph;
  if (!g || g.node.length === 0) throw new RtapError("the file holds no graph (is it an ONNX model?)");
  const opsetEntry = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx");
  const opset = opsetEntry ? Number(opsetEntry.version) : 0;
  if (!opsetEntry) throw new RtapError("the model imports no default-domain opset");
  if (opset < 1) throw new RtapError(`opset ${opset} is not a valid opset version`);
  if (opset < 7) {
    const i = g.node.findIndex((n) => !UNCHANGED_SINCE_OPSET_1.has(n.opType));
    if (i >= 0) {
      const changed = g.node[i]!;
      throw new RtapError(
        `opset ${opset} is too old for ${changed.opType} (node "${changed.name || `${changed.opType}_${i}`}"); rtap supports opset 7 and newer, and older opsets only for operators whose definition has not changed since`,
      );
    }
  }

  const constants = new Map<string, ConstTensor>();
  for (const t of g.initializer) {
    if (!t.name) throw new RtapError("an initializer has no name");
    constants.set(t.name, tensorFromProto(t, `initializer "${t.name}"`));
  }

  const inputs: GraphInput[] = [];
  for (const vi of g.input) {
    if (constants.has(vi.name)) continue; // old exporters list initializers as inputs too
    inputs.push(graphInput(vi, inputMode));
  }
  if (inputMode === "image" && inputs.length !== 1) {
    throw new RtapError(`rtap expects exactly one graph input (an image batch), found ${inputs.length}: ${inputs.map((i) => i.name).join(", ") || "none"}`);
  }

  const used = new Set<string>();
  let nodes: GraphNode[] = g.node.map((n, i) => convertNode(n, i, used));
  nodes = topoSort(nodes, new Set([...constants.keys(), ...inputs.map((i) => i.name)]));

  const shapes = new Map<string, number[]>();
  const dtypes = new Map<string, DType>();
  for (const [name, t] of constants) {
    shapes.set(name, t.dims);
    dtypes.set(name, t.dtype);
  }
  for (const inp of inputs) {
    shapes.set(inp.name, inp.dims);
    dtypes.set(inp.name, inp.dtype);
  }

  // Fold constant subgraphs and infer shapes in one topological sweep.
  const kept: GraphNode[] = [];
  for (const node of nodes) {
    const def = opDef(node);
    const nIn = node.inputs.length;
    if (nIn < def.arity[0] || nIn > def.arity[1]) {
      throw new RtapError(`expects ${def.arity[0]}..${def.arity[1]} inputs, has ${nIn}`, nodeWhere(node));
    }
    const inInfo: (ShapeInfo | undefined)[] = node.inputs.map((n) => (n === "" ? undefined : { dims: shapes.get(n)!, dtype: dtypes.get(n)! }));
    const inConst = node.inputs.map((n) => (n === "" ? undefined : constants.get(n)));
    const foldable = node.opType === "Shape" || node.inputs.every((n, i) => n === "" || inConst[i] !== undefined);
    let outInfo: ShapeInfo[];
    if (foldable) {
      const args = node.opType === "Shape" ? [{ dtype: inInfo[0]!.dtype, dims: inInfo[0]!.dims, data: new Float32Array(0) }] : inConst;
      const outs = node.opType === "Shape" ? shapeOf(node, inInfo[0]!.dims) : def.run(node, args);
      outs.forEach((t, i) => {
        const name = node.outputs[i];
        if (name) constants.set(name, t);
      });
      outInfo = outs.map((t) => ({ dims: t.dims, dtype: t.dtype }));
    } else {
      outInfo = def.infer(node, inInfo, inConst);
      kept.push(node);
    }
    node.outputs.forEach((name, i) => {
      if (!name || !outInfo[i]) return;
      shapes.set(name, outInfo[i]!.dims);
      dtypes.set(name, outInfo[i]!.dtype);
    });
  }

  const outputs = g.output.map((o) => o.name);
  for (const o of outputs) if (!shapes.has(o)) throw new RtapError(`graph output "${o}" is not produced by any node`);
  if (inputMode === "image" && outputs.length !== 1) throw new RtapError(`rtap expects exactly one graph output (the logits), found ${outputs.length}`);

  const { nodes: remaining } = foldPads({ nodes: kept, constants, shapes, dtypes, outputs });
  kept.length = 0;
  kept.push(...remaining);

  // Drop constants nothing uses any more (folded intermediates), keep graph outputs.
  const live = new Set<string>(outputs);
  for (const n of kept) for (const i of n.inputs) if (i) live.add(i);
  for (const name of [...constants.keys()]) if (!live.has(name)) constants.delete(name);

  return { name: g.name || "graph", source, opset, inputs, outputs, nodes: kept, constants, shapes, dtypes };
}

function shapeOf(node: GraphNode, dims: readonly number[]): ConstTensor[] {
  const d = shapeSlice(node, dims);
  return [{ dtype: "int64", dims: [d.length], data: Float64Array.from(d) }];
}

function graphInput(vi: ValueInfoProto, mode: "image" | "tensors"): GraphInput {
  const where = `graph input "${vi.name}"`;
  const tt = vi.type?.value;
  if (!tt || tt.case !== "tensorType") throw new RtapError(`is ${tt?.case ? `of kind ${tt.case}` : "untyped"}; rtap takes tensor inputs only`, where);
  const dtype = onnxDType(tt.value.elemType);
  if (mode === "tensors") {
    if (!dtype) throw new RtapError(`has element type ${onnxTypeName(tt.value.elemType)}, which rtap does not support`, where);
    if (!tt.value.shape) throw new RtapError("has no shape; rtap needs every input dimension", where);
    const dims = tt.value.shape.dim.map((d, i) => {
      if (d.value.case === "dimValue" && d.value.value >= 0n) return Number(d.value.value);
      throw new RtapError(`dimension ${i} is not a fixed size`, where);
    });
    return { name: vi.name, dims, dtype };
  }
  if (dtype !== "float32") throw new RtapError(`has element type ${dtype ?? onnxTypeName(tt.value.elemType)}; rtap expects float32 images`, where);
  const dimsProto = tt.value.shape?.dim ?? [];
  const dims = dimsProto.map((d, i) => {
    if (d.value.case === "dimValue") return Number(d.value.value);
    if (i === 0) return 1; // symbolic batch
    throw new RtapError(`dimension ${i} is symbolic ("${d.value.case === "dimParam" ? d.value.value : "?"}"); only the batch dimension may be`, where);
  });
  if (dims.length !== 4) throw new RtapError(`has shape [${dims.join(",")}]; rtap expects an image batch [N, C, H, W]`, where);
  dims[0] = 1;
  if (dims.some((d) => d < 1)) throw new RtapError(`has an invalid shape [${dims.join(",")}]`, where);
  return { name: vi.name, dims, dtype };
}

function convertNode(n: NodeProto, index: number, used: Set<string>): GraphNode {
  let name = n.name || `${n.opType}_${index}`;
  if (used.has(name)) name = `${name}#${index}`;
  used.add(name);
  const node: GraphNode = { name, opType: n.opType, inputs: [...n.input], outputs: [...n.output], attrs: {} };
  if (n.domain && n.domain !== "ai.onnx") {
    throw new RtapError(`operator domain "${n.domain}" is not supported (only the default ONNX domain)`, nodeWhere(node));
  }
  for (const a of n.attribute) {
    const v = attrValue(a.type, a, nodeWhere(node));
    if (v !== undefined) node.attrs[a.name] = v;
  }
  return node;
}

function attrValue(type: AT, a: NodeProto["attribute"][number], where: string): AttrValue | undefined {
  switch (type) {
    case AT.FLOAT:
      return a.f;
    case AT.INT:
      return Number(a.i);
    case AT.STRING:
      return new TextDecoder().decode(a.s);
    case AT.TENSOR:
      if (!a.t) throw new RtapError(`attribute "${a.name}" has no tensor`, where);
      return tensorFromProto(a.t, `${where} attribute "${a.name}"`);
    case AT.FLOATS:
      return [...a.floats];
    case AT.INTS:
      return a.ints.map((x) => Number(x));
    case AT.STRINGS:
      return a.strings.map((s) => new TextDecoder().decode(s));
    default:
      // Graph/sparse/type attributes: none of the supported operators uses them.
      return undefined;
  }
}

function topoSort(nodes: GraphNode[], available: Set<string>): GraphNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) =>
    n.outputs.forEach((o) => {
      if (!o) return;
      if (producer.has(o) || available.has(o)) throw new RtapError(`tensor "${o}" is produced twice`, nodeWhere(n));
      producer.set(o, i);
    }),
  );
  for (const n of nodes)
    for (const i of n.inputs)
      if (i && !available.has(i) && !producer.has(i)) {
        throw new RtapError(`input "${i}" is not a graph input, an initializer or the output of any node (missing initializer?)`, nodeWhere(n));
      }
  const state = new Uint8Array(nodes.length); // 0 new, 1 visiting, 2 done
  const order: GraphNode[] = [];
  const visit = (root: number): void => {
    // iterative DFS so deep graphs cannot overflow the stack
    const stack: [number, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [i, k] = top;
      const n = nodes[i]!;
      if (k === 0) {
        if (state[i] === 2) {
          stack.pop();
          continue;
        }
        state[i] = 1;
      }
      if (k < n.inputs.length) {
        top[1]++;
        const p = producer.get(n.inputs[k]!);
        if (p === undefined) continue;
        if (state[p] === 1) throw new RtapError("the graph has a cycle", nodeWhere(n));
        if (state[p] === 0) stack.push([p, 0]);
        continue;
      }
      state[i] = 2;
      order.push(n);
      stack.pop();
    }
  };
  for (let i = 0; i < nodes.length; i++) if (state[i] === 0) visit(i);
  return order;
}

/** TensorProto -> typed array, checked against its dims. */
export function tensorFromProto(t: TensorProto, where: string): ConstTensor {
  const dtype = onnxDType(t.dataType);
  if (!dtype) throw new RtapError(`has element type ${onnxTypeName(t.dataType)}, which rtap does not support`, where);
  if (t.dataLocation === 1 || t.externalData.length > 0) throw new RtapError("uses external data files, which rtap does not read; re-export with weights embedded", where);
  const dims = t.dims.map((d) => Number(d));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new RtapError(`has invalid dims [${dims.join(",")}]`, where);
  const n = numel(dims);
  const raw = t.rawData;
  const elemBytes: Record<DType, number> = { float32: 4, float64: 8, int32: 4, int64: 8, int8: 1, uint8: 1, bool: 1 };
  let data: Float32Array | Float64Array | Int32Array;
  if (raw.length > 0) {
    if (raw.length !== n * elemBytes[dtype]) {
      throw new RtapError(`raw data has ${raw.length} bytes but shape [${dims.join(",")}] of ${dtype} needs ${n * elemBytes[dtype]}`, where);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (dtype) {
      case "float32":
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
        break;
      case "float64":
        data = new Float64Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getFloat64(i * 8, true);
        break;
      case "int64":
        data = new Float64Array(n);
        for (let i = 0; i < n; i++) data[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case "int32":
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getInt32(i * 4, true);
        break;
      case "int8":
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getInt8(i);
        break;
      default:
        data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = view.getUint8(i);
    }
  } else {
    const src: ArrayLike<number> =
      dtype === "float32" ? t.floatData : dtype === "float64" ? t.doubleData : dtype === "int64" ? t.int64Data.map((x) => Number(x)) : t.int32Data;
    if (src.length !== n) throw new RtapError(`holds ${src.length} values but shape [${dims.join(",")}] needs ${n}`, where);
    data = dtype === "float32" ? Float32Array.from(src) : dtype === "float64" || dtype === "int64" ? Float64Array.from(src) : Int32Array.from(src);
  }
  return { dtype, dims, data };
}

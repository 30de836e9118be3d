/**
 * A small ONNX writer for tests (onnx-buf + @bufbuild/protobuf): build a ModelProto node by node,
 * serialize it, and feed the bytes to rtap's importer and to onnxruntime. Also decode/encode helpers
 * to edit real model files (rename an operator, drop an initializer...).
 */
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AT,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType as DT,
  type ModelProto,
  type TensorProto,
} from "onnx-buf";

export type TensorDType = "float32" | "float64" | "int64" | "int32" | "int8" | "uint8";

export interface TensorSpec {
  dtype: TensorDType;
  dims: number[];
  data: ArrayLike<number>;
}

export type Attr =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { floats: number[] }
  | { str: string }
  | { tensor: TensorSpec };

const DT_OF: Record<TensorDType, DT> = {
  float32: DT.FLOAT,
  float64: DT.DOUBLE,
  int64: DT.INT64,
  int32: DT.INT32,
  int8: DT.INT8,
  uint8: DT.UINT8,
};

/** Little-endian raw_data of a tensor, the way exporters write initializers. */
function rawData(t: TensorSpec): Uint8Array<ArrayBuffer> {
  const n = t.data.length;
  const size = { float32: 4, float64: 8, int64: 8, int32: 4, int8: 1, uint8: 1 }[t.dtype];
  const buf = new Uint8Array(n * size);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    const v = t.data[i]!;
    switch (t.dtype) {
      case "float32":
        view.setFloat32(i * 4, v, true);
        break;
      case "float64":
        view.setFloat64(i * 8, v, true);
        break;
      case "int64":
        view.setBigInt64(i * 8, BigInt(v), true);
        break;
      case "int32":
        view.setInt32(i * 4, v, true);
        break;
      case "int8":
        view.setInt8(i, v);
        break;
      case "uint8":
        view.setUint8(i, v);
        break;
    }
  }
  return buf;
}

export function tensorProto(name: string, t: TensorSpec): MessageInitShape<typeof TensorProtoSchema> {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) throw new Error(`tensor ${name}: ${t.data.length} values for dims [${t.dims.join(",")}]`);
  return { name, dims: t.dims.map((d) => BigInt(d)), dataType: DT_OF[t.dtype], rawData: rawData(t) };
}

function valueInfo(name: string, dims: number[] | undefined, elemType: DT = DT.FLOAT) {
  return {
    name,
    type: {
      value: {
        case: "tensorType" as const,
        value: { elemType, ...(dims ? { shape: { dim: dims.map((d) => ({ value: { case: "dimValue" as const, value: BigInt(d) } })) } } : {}) },
      },
    },
  };
}

function attrProto(name: string, a: Attr) {
  if ("int" in a) return { name, type: AT.INT, i: BigInt(a.int) };
  if ("ints" in a) return { name, type: AT.INTS, ints: a.ints.map((x) => BigInt(x)) };
  if ("float" in a) return { name, type: AT.FLOAT, f: a.float };
  if ("floats" in a) return { name, type: AT.FLOATS, floats: a.floats };
  if ("str" in a) return { name, type: AT.STRING, s: new TextEncoder().encode(a.str) };
  return { name, type: AT.TENSOR, t: tensorProto("", a.tensor) };
}

export class OnnxModelBuilder {
  private readonly nodes: MessageInitShape<typeof NodeProtoSchema>[] = [];
  private readonly inits: MessageInitShape<typeof TensorProtoSchema>[] = [];
  private readonly inputs: ReturnType<typeof valueInfo>[] = [];
  private readonly outputs: ReturnType<typeof valueInfo>[] = [];
  private counter = 0;

  constructor(private readonly opts: { opset?: number; name?: string } = {}) {}

  input(name: string, dims: number[]): this {
    this.inputs.push(valueInfo(name, dims));
    return this;
  }

  output(name: string, dims?: number[]): this {
    this.outputs.push(valueInfo(name, dims));
    return this;
  }

  initializer(name: string, t: TensorSpec): string {
    this.inits.push(tensorProto(name, t));
    return name;
  }

  /** A float32 initializer (shorthand). */
  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    return this.initializer(name, { dtype: "float32", dims, data });
  }

  /** Adds a node; returns its first output name. Node names default to `<op>_<k>`. */
  node(opType: string, inputs: string[], outputs: string[] | number = 1, attrs: Record<string, Attr> = {}, name?: string): string {
    const k = this.counter++;
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => `${opType.toLowerCase()}_${k}_out${i}`) : outputs;
    this.nodes.push({
      name: name ?? `${opType}_${k}`,
      opType,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([n, a]) => attrProto(n, a)),
    });
    return outs[0]!;
  }

  model(): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [{ domain: "", version: BigInt(this.opts.opset ?? 13) }],
      producerName: "rtap-tests",
      graph: { name: this.opts.name ?? "test", node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
  }

  bytes(): Uint8Array {
    return encodeModel(this.model());
  }
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return fromBinary(ModelProtoSchema, bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

/** Float32 values of a float initializer (raw_data or float_data). */
export function initializerFloats(t: TensorProto): Float32Array {
  if (t.rawData.length > 0) {
    // a copy: raw_data may be a view into the file buffer (Buffer.slice does not copy, offsets are unaligned)
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData);
}

/** Replaces a float initializer's dims and data. */
export function setInitializer(t: TensorProto, dims: number[], data: ArrayLike<number>): void {
  t.dims = dims.map((d) => BigInt(d));
  t.dataType = DT.FLOAT;
  t.rawData = rawData({ dtype: "float32", dims, data });
  t.floatData = [];
}

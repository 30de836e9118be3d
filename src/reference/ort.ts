/**
 * onnxruntime-node as the fast executor of evaluation runs: the integer QGraph exported by
 * ./onnx-integer.ts (exact by construction; the JS reference in ./integer.ts stays the golden
 * model and the tests compare the two bit for bit), and the source float ONNX model.
 *
 * Sessions run on one thread each (parallelism comes from evaluation's worker threads) with graph
 * optimizations disabled: the runtime executes the nodes as written, which the integer export's
 * exactness argument needs and which keeps the float model's arithmetic that of the source graph
 * (with optimizations on, ORT fuses QuantizeLinear/DequantizeLinear pairs into integer kernels and
 * folds batch norms, a different float computation).
 *
 * onnxruntime-node is loaded on first use, so rtap runs without it (eval's `engine: "js"`).
 */
import { RtapError } from "../errors.js";
import type { QGraph } from "../quantize/qgraph.js";
import { exportIntegerOnnx, type IntegerOnnx, type IntegerOnnxOptions } from "./onnx-integer.js";

/*
 * The part of onnxruntime-node's API used here, declared locally: onnxruntime-node is an optional
 * dependency, and rtap builds and runs (on the js engine) without it.
 */
interface OrtTensor {
  readonly data: unknown;
}
interface OrtSessionOptions {
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: "sequential" | "parallel";
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}
interface Session {
  readonly inputMetadata: readonly ({ name: string; isTensor: true; shape: readonly (number | string)[] } | { name: string; isTensor: false })[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface Ort {
  InferenceSession: { create(model: string | Uint8Array, options?: OrtSessionOptions): Promise<Session> };
  Tensor: new (type: "uint8" | "float32", data: Uint8Array | Float32Array, dims: readonly number[]) => OrtTensor;
}

let ortPromise: Promise<Ort> | undefined;

/** The onnxruntime-node module, or an RtapError saying why it cannot be loaded. */
export function loadOrt(): Promise<Ort> {
  // a computed specifier: the type checker must not need the (optional) package
  const name = "onnxruntime-node";
  ortPromise ??= (import(name) as Promise<{ default?: Ort } & Ort>).then(
    (m) => m.InferenceSession ? m : m.default!,
    (e: unknown) => {
      ortPromise = undefined;
      throw new RtapError(`onnxruntime-node cannot be loaded (${(e as Error).message.split("\n")[0]})`);
    },
  );
  return ortPromise;
}

export const SESSION_OPTIONS: OrtSessionOptions = {
  graphOptimizationLevel: "disabled",
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  logSeverityLevel: 3,
};

function toInt32(data: unknown, what: string): Int32Array {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) throw new Error(`onnxruntime returned ${what} as ${Object.prototype.toString.call(data)}`);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // the export proves exactness; this only guards the conversion itself
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new Error(`onnxruntime returned ${v} in ${what}, not an int32`);
    out[i] = v;
  }
  return out;
}

/** The integer QGraph on onnxruntime. */
export class OrtIntegerExecutor {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly exported: IntegerOnnx,
    private readonly q: QGraph,
  ) {}

  /**
   * Exports and loads the QGraph; null with the reason when an op cannot be proven exact (the
   * caller then runs the JS reference).
   */
  static async create(q: QGraph, opts: IntegerOnnxOptions = {}): Promise<{ executor: OrtIntegerExecutor } | { executor: null; reason: string }> {
    const ex = exportIntegerOnnx(q, opts);
    if (!ex.ok) return { executor: null, reason: `op ${ex.op}: ${ex.reason}` };
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(ex.model.bytes, SESSION_OPTIONS);
    return { executor: new OrtIntegerExecutor(ort, session, ex.model, q) };
  }

  /**
   * Runs `batch` images (uint8 pixels, batch*C*H*W) and returns the exposed tensors as Int32Array
   * (image-major, like runReference): the QGraph output, or every tensor when exported with
   * `outputs: "all"`.
   */
  async run(pixels: Uint8Array, batch: number): Promise<Map<string, Int32Array>> {
    const [C, H, W] = this.q.tensors.get(this.q.input)!.shape;
    if (pixels.length !== batch * C * H * W) {
      throw new RtapError(`input has ${pixels.length} values; ${batch} image(s) of shape [${C},${H},${W}] need ${batch * C * H * W}`, this.q.source);
    }
    const feeds = { [this.exported.input]: new this.ort.Tensor("uint8", pixels, [batch, C, H, W]) };
    const res = await this.session.run(feeds);
    const out = new Map<string, Int32Array>();
    for (const [t, name] of this.exported.outputs) out.set(t, toInt32(res[name]!.data, t));
    return out;
  }

  /** The QGraph output of `batch` images. */
  async runOutput(pixels: Uint8Array, batch: number): Promise<Int32Array> {
    return (await this.run(pixels, batch)).get(this.q.output)!;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** A float ONNX model (one float32 input [N or 1, C, H, W], logits out) on onnxruntime. */
export class OrtFloatExecutor {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly input: string,
    private readonly output: string,
    /** Images per run: 1 when the file fixes the batch dimension to 1, else any number. */
    readonly maxBatch: number,
  ) {}

  static async create(model: string | Uint8Array, input: string, output: string): Promise<OrtFloatExecutor> {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(model, SESSION_OPTIONS);
    const meta = session.inputMetadata.find((m) => m.name === input);
    const n = meta && meta.isTensor ? meta.shape[0] : undefined;
    if (typeof n === "number" && n > 1) {
      await session.release();
      throw new Error(`input ${input} has a fixed batch of ${n}`);
    }
    return new OrtFloatExecutor(ort, session, input, output, n === 1 ? 1 : Infinity);
  }

  /** Logits of `batch` images given as float32 model inputs (batch*C*H*W), image-major. */
  async run(input: Float32Array, batch: number, dims: [number, number, number]): Promise<Float32Array> {
    if (batch > this.maxBatch) throw new Error(`the model takes ${this.maxBatch} image(s) per run, not ${batch}`);
    const res = await this.session.run({ [this.input]: new this.ort.Tensor("float32", input, [batch, ...dims]) }, [this.output]);
    const data = res[this.output]!.data;
    if (!(data instanceof Float32Array)) throw new Error(`onnxruntime returned ${this.output} as ${Object.prototype.toString.call(data)}`);
    return data;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Accuracy evaluation: the float model (source graph, float32 semantics) and the integer reference
 * (QGraph) on a real dataset, with their agreement. Large runs are sharded over worker threads
 * (each worker loads the model itself; quantization is deterministic, so every worker holds the
 * same QGraph).
 *
 * Two engines compute the same predictions:
 *  - "ort": the QGraph exported as an ONNX graph of integer-valued float tensors that
 *    onnxruntime-node computes exactly (src/reference/onnx-integer.ts proves it op by op; the
 *    tests check it against the JS reference on every tensor), and the source float ONNX file on
 *    onnxruntime with graph optimizations disabled. One runtime thread per worker.
 *  - "js": the JS integer reference (src/reference/integer.ts, the golden model) and rtap's float
 *    executor.
 * By default "ort" is used where it can be (onnxruntime-node loads, the export is proven exact, the
 * model is an ONNX file onnxruntime accepts), and "js" for the rest, with a one-line notice.
 */
import { availableParallelism } from "node:os";
import { runWorkerJob } from "./util/worker.js";
import { RtapError } from "./errors.js";
import { loadDataset } from "./data/dataset.js";
import { argmax, pixelsToInput, runFloat } from "./float/executor.js";
import { loadQuantizedModel, type ModelOptions, type QuantizedModel } from "./model.js";
import type { QuantizeOptions } from "./quantize/quantize.js";
import { dequantizeOutput, runReference } from "./reference/integer.js";
import { loadOrt, OrtFloatExecutor, OrtIntegerExecutor } from "./reference/ort.js";

export type EvalEngine = "ort" | "js";

export interface EvalOptions extends ModelOptions, QuantizeOptions {
  limit?: number;
  offset?: number;
  /** Run the float model too (default true). */
  float?: boolean;
  /** Images per batch (default 64). */
  batch?: number;
  /** Worker threads (default: up to the number of cores, one per 500 images; 2000 on onnxruntime). */
  workers?: number;
  /**
   * "ort" (onnxruntime-node; an error when it cannot load or cannot run the integer graph exactly),
   * "js" (rtap's own executors), or unset: "ort" where it can run, "js" elsewhere, with a notice.
   */
  engine?: EvalEngine;
  onProgress?: (done: number, total: number) => void;
}

/** Which engine computed each side. */
export interface EngineUse {
  integer: EvalEngine;
  /** null when the float model was not run. */
  float: EvalEngine | null;
}

export interface EvalResult {
  model: string;
  dataset: string;
  images: number;
  float_accuracy: number | null;
  integer_accuracy: number;
  /** Fraction of images whose float and integer predictions agree. */
  agreement: number | null;
  float_correct: number | null;
  integer_correct: number;
  notes: string[];
  engine: EngineUse;
  /** Why a side runs on the js engine although onnxruntime was not refused (one line), else null. */
  engine_notice: string | null;
  workers: number;
  seconds: number;
}

export interface ShardRequest {
  model: string;
  dataset: string;
  offset: number;
  count: number;
  opts: Omit<EvalOptions, "onProgress" | "workers" | "limit" | "offset">;
}

export interface ShardResult {
  images: number;
  labels: Uint8Array;
  intPred: Int16Array;
  floatPred: Int16Array | null;
  notes: string[];
  engine: EngineUse;
  engineNotice: string | null;
}

/** The executors of one evaluation: onnxruntime sessions where chosen, else null (js). */
export interface Engines {
  use: EngineUse;
  notice: string | null;
  integer: OrtIntegerExecutor | null;
  float: OrtFloatExecutor | null;
  release(): Promise<void>;
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

/**
 * Chooses the engine of each side (see EvalOptions.engine) and opens the onnxruntime sessions.
 * `load` stands in for loading onnxruntime-node (tests).
 */
export async function chooseEngines(
  m: QuantizedModel, requested: EvalEngine | undefined, withFloat: boolean, load: typeof loadOrt = loadOrt,
): Promise<Engines> {
  const notices: string[] = [];
  let integer: OrtIntegerExecutor | null = null, float: OrtFloatExecutor | null = null;
  const done = (): Engines => ({
    use: { integer: integer ? "ort" : "js", float: withFloat ? (float ? "ort" : "js") : null },
    notice: notices.length ? notices.join("; ") : null,
    integer,
    float,
    release: async () => {
      await integer?.release();
      await float?.release();
    },
  });
  if (requested === "js") return done();
  try {
    await load();
  } catch (e) {
    const why = e instanceof RtapError ? e.message : `onnxruntime-node cannot be loaded (${firstLine(e)})`;
    if (requested === "ort") throw new RtapError(`--engine ort: ${why}`, m.spec);
    notices.push(`${why}; evaluating on the js engine`);
    return done();
  }
  let created: Awaited<ReturnType<typeof OrtIntegerExecutor.create>>;
  try {
    created = await OrtIntegerExecutor.create(m.qgraph);
  } catch (e) {
    created = { executor: null, reason: `onnxruntime rejects the exported integer graph (${firstLine(e)})` };
  }
  if (!created.executor) {
    // the float model may still run on onnxruntime: only the integer side falls back
    if (requested === "ort") throw new RtapError(`--engine ort: the integer graph cannot run exactly on onnxruntime: ${created.reason}`, m.spec);
    notices.push(`the integer graph cannot run exactly on onnxruntime (${created.reason}); the integer reference runs on the js engine`);
  } else integer = created.executor;
  if (withFloat) {
    if (m.zoo) notices.push(`${m.spec} has no ONNX file; the float model runs on the js engine`);
    else {
      const inp = m.graph.inputs[0]!;
      try {
        float = await OrtFloatExecutor.create(m.spec, inp.name, m.graph.outputs[0]!);
      } catch (e) {
        notices.push(`onnxruntime cannot load the float model (${firstLine(e)}); it runs on the js engine`);
      }
    }
  }
  return done();
}

/** Evaluates images [offset, offset+count) in this thread. */
export async function evaluateShard(req: ShardRequest, onProgress?: (done: number) => void): Promise<ShardResult> {
  const m = loadQuantizedModel(req.model, req.opts);
  const ds = loadDataset(req.dataset, { offset: req.offset, limit: req.count });
  const inShape = m.qgraph.tensors.get(m.qgraph.input)!.shape;
  if (ds.shape.join("x") !== inShape.join("x")) {
    throw new RtapError(`dataset images are ${ds.shape.join("x")} but the model expects ${inShape.join("x")}`, req.dataset);
  }
  const classes = m.qgraph.tensors.get(m.qgraph.output)!.shape[0];
  if (ds.classes > classes) throw new RtapError(`dataset has ${ds.classes} classes but the model outputs ${classes}`, req.dataset);
  const per = inShape[0] * inShape[1] * inShape[2];
  const n = ds.count;
  const withFloat = req.opts.float !== false;
  const intPred = new Int16Array(n);
  const floatPred = withFloat ? new Int16Array(n) : null;
  const B = req.opts.batch ?? 64;
  const engines = await chooseEngines(m, req.opts.engine, withFloat);
  try {
    for (let b = 0; b < n; b += B) {
      const nb = Math.min(B, n - b);
      const pix = ds.images.subarray(b * per, (b + nb) * per);
      const out = engines.integer ? await engines.integer.runOutput(pix, nb) : runReference(m.qgraph, pix, nb).output;
      const logits = dequantizeOutput(m.qgraph, out, nb);
      for (let i = 0; i < nb; i++) intPred[b + i] = argmax(logits[i]!);
      if (floatPred) {
        if (engines.float) {
          const f = engines.float;
          for (let s = 0; s < nb; s += Math.min(nb, f.maxBatch)) {
            const ns = Math.min(f.maxBatch, nb - s);
            const y = await f.run(pixelsToInput(pix.subarray(s * per, (s + ns) * per)), ns, inShape);
            const k = y.length / ns;
            for (let i = 0; i < ns; i++) floatPred[b + s + i] = argmax(y.subarray(i * k, (i + 1) * k));
          }
        } else {
          for (let i = 0; i < nb; i++) floatPred[b + i] = argmax(runFloat(m.graph, pixelsToInput(pix.subarray(i * per, (i + 1) * per))).output.data);
        }
      }
      onProgress?.(b + nb);
    }
  } finally {
    await engines.release();
  }
  return { images: n, labels: ds.labels, intPred, floatPred, notes: m.qgraph.notes, engine: engines.use, engineNotice: engines.notice };
}

export async function evaluate(model: string, dataset: string, opts: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  // Resolve the range once (also validates the dataset before any worker starts).
  const probe = loadDataset(dataset, { offset: opts.offset, limit: opts.limit });
  const total = probe.count;
  const offset = probe.offset;
  const { onProgress, workers: wantWorkers, limit: _l, offset: _o, ...shardOpts } = opts;
  // onnxruntime evaluates ~4x faster than the js engine: fewer images repay a worker's start-up
  let perWorker = 500;
  if (opts.engine !== "js" && !wantWorkers) perWorker = await loadOrt().then(() => 2000, () => 500);
  const workers = Math.max(1, Math.min(wantWorkers ?? availableParallelism(), wantWorkers ? total : Math.ceil(total / perWorker)));
  const shards: ShardRequest[] = [];
  const per = Math.ceil(total / workers);
  for (let w = 0; w < workers; w++) {
    const off = offset + w * per;
    const count = Math.min(per, total - w * per);
    if (count > 0) shards.push({ model, dataset, offset: off, count, opts: shardOpts });
  }
  const done = new Array<number>(shards.length).fill(0);
  const report = (i: number, d: number): void => {
    done[i] = d;
    onProgress?.(done.reduce((a, b) => a + b, 0), total);
  };
  const results = shards.length === 1 ? [await evaluateShard(shards[0]!, (d) => report(0, d))] : await Promise.all(shards.map((s, i) => runInWorker(s, (d) => report(i, d))));
  let intCorrect = 0, floatCorrect = 0, agree = 0;
  const hasFloat = opts.float !== false;
  for (const r of results) {
    for (let i = 0; i < r.images; i++) {
      if (r.intPred[i] === r.labels[i]) intCorrect++;
      if (r.floatPred) {
        if (r.floatPred[i] === r.labels[i]) floatCorrect++;
        if (r.floatPred[i] === r.intPred[i]) agree++;
      }
    }
  }
  return {
    model,
    dataset,
    images: total,
    float_accuracy: hasFloat ? floatCorrect / total : null,
    integer_accuracy: intCorrect / total,
    agreement: hasFloat ? agree / total : null,
    float_correct: hasFloat ? floatCorrect : null,
    integer_correct: intCorrect,
    notes: results[0]?.notes ?? [],
    // every shard loads the same model and decides alike
    engine: results[0]?.engine ?? { integer: "js", float: hasFloat ? "js" : null },
    engine_notice: results[0]?.engineNotice ?? null,
    workers: shards.length,
    seconds: (performance.now() - t0) / 1000,
  };
}

function runInWorker(req: ShardRequest, onProgress: (done: number) => void): Promise<ShardResult> {
  return runWorkerJob<ShardResult>("eval-worker", import.meta.url, req, "evaluation", onProgress);
}

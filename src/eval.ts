/**
 * Accuracy evaluation: the float model (source graph, float32 semantics) and the integer reference
 * (QGraph) on a real dataset, with their agreement. Large runs are sharded over worker threads
 * (each worker loads the model itself; quantization is deterministic, so every worker holds the
 * same QGraph).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { loadDataset } from "./data/dataset.js";
import { argmax, pixelsToInput, runFloat } from "./float/executor.js";
import { loadQuantizedModel, type ModelOptions } from "./model.js";
import type { QuantizeOptions } from "./quantize/quantize.js";
import { dequantizeOutput, runReference } from "./reference/integer.js";

export interface EvalOptions extends ModelOptions, QuantizeOptions {
  limit?: number;
  offset?: number;
  /** Run the float model too (default true). */
  float?: boolean;
  /** Images per integer-reference batch (default 64). */
  batch?: number;
  /** Worker threads (default: up to the number of cores, one per 500 images). */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
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
}

/** Evaluates images [offset, offset+count) in this thread. */
export function evaluateShard(req: ShardRequest, onProgress?: (done: number) => void): ShardResult {
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
  const intPred = new Int16Array(n);
  const floatPred = req.opts.float === false ? null : new Int16Array(n);
  const B = req.opts.batch ?? 64;
  for (let b = 0; b < n; b += B) {
    const nb = Math.min(B, n - b);
    const pix = ds.images.subarray(b * per, (b + nb) * per);
    const r = runReference(m.qgraph, pix, nb);
    const logits = dequantizeOutput(m.qgraph, r.output, nb);
    for (let i = 0; i < nb; i++) {
      intPred[b + i] = argmax(logits[i]!);
      if (floatPred) floatPred[b + i] = argmax(runFloat(m.graph, pixelsToInput(pix.subarray(i * per, (i + 1) * per))).output.data);
    }
    onProgress?.(b + nb);
  }
  return { images: n, labels: ds.labels, intPred, floatPred, notes: m.qgraph.notes };
}

export async function evaluate(model: string, dataset: string, opts: EvalOptions = {}): Promise<EvalResult> {
  const t0 = performance.now();
  // Resolve the range once (also validates the dataset before any worker starts).
  const probe = loadDataset(dataset, { offset: opts.offset, limit: opts.limit });
  const total = probe.count;
  const offset = probe.offset;
  const { onProgress, workers: wantWorkers, limit: _l, offset: _o, ...shardOpts } = opts;
  const workers = Math.max(1, Math.min(wantWorkers ?? availableParallelism(), wantWorkers ? total : Math.ceil(total / 500)));
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
  const results = shards.length === 1 ? [evaluateShard(shards[0]!, (d) => report(0, d))] : await Promise.all(shards.map((s, i) => runInWorker(s, (d) => report(i, d))));
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
    workers: shards.length,
    seconds: (performance.now() - t0) / 1000,
  };
}

function runInWorker(req: ShardRequest, onProgress: (done: number) => void): Promise<ShardResult> {
  const isTs = import.meta.url.endsWith(".ts");
  const url = new URL(`./eval-worker.${isTs ? "ts" : "js"}`, import.meta.url);
  // Under tsx (tests, development) the worker must register the TypeScript loader itself.
  const worker = isTs
    ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: req })
    : new Worker(url, { workerData: req });
  return new Promise((resolve, reject) => {
    worker.on("message", (m: { kind: "progress"; done: number } | { kind: "done"; result: ShardResult } | { kind: "error"; message: string; rtap: boolean }) => {
      if (m.kind === "progress") onProgress(m.done);
      else if (m.kind === "done") resolve(m.result);
      else reject(m.rtap ? new RtapError(m.message) : new Error(m.message));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (code !== 0) reject(new Error(`evaluation worker exited with code ${code}`));
    });
  });
}

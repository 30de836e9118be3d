/**
 * `npm run bench -- eval [--json] [--model path.onnx] [--dataset spec] [--limit N] [--workers N] [--engine ort|js]`:
 * `rtap eval` of the 10,000 Fashion-MNIST test images on ../shared/models/fmnist-resnet8.onnx
 * (float model and integer reference, their agreement), and onnxruntime-node running the same
 * float ONNX file on the same images in the same run: one session on one thread with its default
 * graph optimizations, batches of 64 (the way a user would run it). Figures: `images_per_s` (rtap,
 * end to end: model load and quantization, worker start-up, both models), `ort_images_per_s`,
 * their ratio, and the CPU seconds of each (process-wide, so rtap's worker threads count).
 *
 * It runs the built code in dist/ (`npm run bench` builds it first), as `npx rtap eval` does.
 */
import { fileURLToPath } from "node:url";
import { option, r3, type BenchArgs, type Figures } from "./harness.js";
import type * as DatasetModule from "../src/data/dataset.js";
import type * as EvalModule from "../src/eval.js";
import type * as FloatModule from "../src/float/executor.js";

export const description = "rtap eval of 10,000 Fashion-MNIST images on fmnist-resnet8 vs onnxruntime-node (one thread) on the same file and images";

const DEFAULT_MODEL = fileURLToPath(new URL("../../shared/models/fmnist-resnet8.onnx", import.meta.url));
const BATCH = 64;

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

export async function run(args: BenchArgs): Promise<Figures> {
  const model = option(args.argv, "--model") ?? DEFAULT_MODEL;
  const dataset = option(args.argv, "--dataset") ?? "fashion-mnist";
  const limit = option(args.argv, "--limit");
  const workers = option(args.argv, "--workers");
  const engine = option(args.argv, "--engine");
  if (engine !== undefined && engine !== "ort" && engine !== "js") throw new Error(`--engine takes ort or js, not ${engine}`);
  // a computed specifier: the type checker must not depend on dist/ existing
  const dist = new URL("../dist/src/", import.meta.url).href;
  const { evaluate } = (await import(`${dist}eval.js`)) as typeof EvalModule;
  const { loadDataset } = (await import(`${dist}data/dataset.js`)) as typeof DatasetModule;
  const { argmax } = (await import(`${dist}float/executor.js`)) as typeof FloatModule;
  const ort = await import("onnxruntime-node");

  // onnxruntime-node on the float model
  const ds = loadDataset(dataset, { limit: limit ? Number(limit) : undefined });
  const [C, H, W] = ds.shape;
  const per = C * H * W;
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" });
  const input = session.inputNames[0]!, output = session.outputNames[0]!;
  const meta = session.inputMetadata[0];
  const maxBatch = meta?.isTensor && typeof meta.shape[0] === "number" && meta.shape[0] > 0 ? meta.shape[0] : BATCH;
  let ortCorrect = 0;
  for (let b = 0; b < ds.count; b += maxBatch) {
    const nb = Math.min(maxBatch, ds.count - b);
    const x = new Float32Array(nb * per);
    for (let i = 0; i < x.length; i++) x[i] = ds.images[b * per + i]! / 255;
    const y = (await session.run({ [input]: new ort.Tensor("float32", x, [nb, C, H, W]) }))[output]!.data as Float32Array;
    const k = y.length / nb;
    for (let i = 0; i < nb; i++) if (argmax(y.subarray(i * k, (i + 1) * k)) === ds.labels[b + i]) ortCorrect++;
  }
  const ortSeconds = (performance.now() - t0) / 1000;
  const ortCpu = cpuSeconds(cpu0);
  await session.release();
  args.log(`  onnxruntime: ${ds.count} images in ${ortSeconds.toFixed(2)} s (${ortCpu.toFixed(2)} s CPU)`);

  // rtap eval
  cpu0 = process.cpuUsage();
  t0 = performance.now();
  const r = await evaluate(model, dataset, {
    limit: limit ? Number(limit) : undefined,
    workers: workers ? Number(workers) : undefined,
    engine: engine as EvalModule.EvalEngine | undefined,
  });
  const evalSeconds = (performance.now() - t0) / 1000;
  const evalCpu = cpuSeconds(cpu0);
  if (r.engine_notice) args.log(`  note: ${r.engine_notice}`);
  args.log(`  rtap eval: ${r.images} images in ${evalSeconds.toFixed(2)} s (${evalCpu.toFixed(2)} s CPU, ${r.workers} worker(s))`);

  const images_per_s = r.images / evalSeconds;
  const ort_images_per_s = ds.count / ortSeconds;
  return {
    model,
    dataset,
    images: r.images,
    images_per_s: Math.round(images_per_s),
    ort_images_per_s: Math.round(ort_images_per_s),
    ort_over_rtap: Math.round((ort_images_per_s / images_per_s) * 100) / 100,
    eval_seconds: r3(evalSeconds),
    eval_cpu_seconds: r3(evalCpu),
    ort_seconds: r3(ortSeconds),
    ort_cpu_seconds: r3(ortCpu),
    cpu_ratio: Math.round(((evalCpu / r.images) / (ortCpu / ds.count)) * 100) / 100,
    workers: r.workers,
    engine_integer: r.engine.integer,
    engine_float: r.engine.float,
    float_accuracy: r.float_accuracy,
    integer_accuracy: r.integer_accuracy,
    agreement: r.agreement,
    ort_accuracy: ortCorrect / ds.count,
  };
}

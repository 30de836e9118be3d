/**
 * `npm run bench -- faults [--json] [--model path.onnx] [--dataset spec] [--limit N] [--arch a]
 * [--protect none|none,pecc] [--workers N]`: the reliability study's cost: 8 shift-fault rates (the
 * default grid: 0.1 .. 1e5 expected faults per inference) x 500 Fashion-MNIST images of
 * fmnist-resnet8 on the interleaved RTM-AP, unprotected, no sensitivity or write curves. Figures:
 * `seconds` (runner), `images_per_s` (image x rate runs per second, end to end: compile, reference,
 * trial counting, worker start-up), `cpu_seconds` (all threads), and the curve itself.
 *
 * It runs the built code in dist/ (`npm run bench` builds it first), as `npx rtap faults` does.
 */
import { fileURLToPath } from "node:url";
import { option, r3, type BenchArgs, type Figures } from "./harness.js";
import type * as FaultsModule from "../src/faults.js";

export const description = "rtap faults: 8 shift-fault rates x 500 Fashion-MNIST images of fmnist-resnet8 on the interleaved RTM-AP (bit-level fault simulation)";

const DEFAULT_MODEL = fileURLToPath(new URL("../../shared/models/fmnist-resnet8.onnx", import.meta.url));

export async function run(args: BenchArgs): Promise<Figures> {
  const model = option(args.argv, "--model") ?? DEFAULT_MODEL;
  const dataset = option(args.argv, "--dataset") ?? "fashion-mnist";
  const limit = Number(option(args.argv, "--limit") ?? 500);
  const arch = option(args.argv, "--arch") ?? "rtm-ap";
  const protect = (option(args.argv, "--protect") ?? "none").split(",") as FaultsModule.ProtectName[];
  const workers = option(args.argv, "--workers");
  const dist = new URL("../dist/src/", import.meta.url).href;
  const { faultStudy } = (await import(`${dist}faults.js`)) as typeof FaultsModule;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastLog = 0;
  const r = await faultStudy(model, dataset, {
    limit, archs: [arch], protect, writeRates: [], sensitivity: false, workers: workers ? Number(workers) : undefined,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - lastLog > 30000) {
        lastLog = now;
        args.log(`  ${done}/${total} image runs after ${((now - t0) / 1000).toFixed(0)} s`);
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const runs = r.curves.reduce((a, c) => a + c.trials, 0);
  for (const c of r.curves)
    args.log(`  ${c.protect} rate ${c.rate.toExponential(1)}: ${c.faults_per_inference.toPrecision(3)} faults/inference, accuracy ${(100 * c.accuracy!).toFixed(1)} %, changed ${(100 * c.changed).toFixed(1)} %`);
  return {
    model, dataset, arch, images: r.images, rates: r.curves.length / protect.length, workers: r.workers,
    study_seconds: r3(seconds),
    // process-wide (worker threads included): wall clock on a shared machine says little alone
    cpu_seconds: r3((cpu.user + cpu.system) / 1e6),
    images_per_s: Math.round((runs / seconds) * 100) / 100,
    fault_free_accuracy: r.fault_free_accuracy,
    curve: r.curves.map((c) => ({ protect: c.protect, rate: c.rate, faults_per_inference: c.faults_per_inference, accuracy: c.accuracy, changed: c.changed })),
  };
}

/**
 * `npm run bench -- import [--json] [--model <path.onnx>] [--repeat N]`
 *
 * ONNX import and quantization time: every model in ../shared/models imported (the bar:
 * each in under 2 s), then the headline, resnet18-torchvision.onnx (46 MB, the reference case
 * study's topology) imported and quantized to its integer QGraph, timed separately. Quantization of
 * this float model includes TWN ternarization of 21 layers and calibration of 17 inserted
 * activation quantizers on one synthetic image (as loadQuantizedModel does for 224x224 inputs).
 * With --repeat N the headline figures are the fastest of N runs (the first run includes JIT
 * warm-up; all runs are listed).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { r3, option, type BenchArgs, type Figures } from "./harness.js";
import { importOnnxFile } from "../src/import/onnx.js";
import { quantizeGraph } from "../src/quantize/quantize.js";

export const description = "ONNX import of every shared model, and import + quantize of resnet18-torchvision.onnx (seconds each)";

const SHARED = fileURLToPath(new URL("../../shared/models", import.meta.url));

function seconds<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, (performance.now() - t0) / 1000];
}

export async function run({ argv, log }: BenchArgs): Promise<Figures> {
  const model = option(argv, "--model") ?? join(SHARED, "resnet18-torchvision.onnx");
  const repeat = Math.max(1, Number(option(argv, "--repeat") ?? 1));
  if (!existsSync(model)) throw new Error(`${model} does not exist (the 46 MB ResNet-18 lives in ../shared/models; pass --model <file.onnx>)`);

  // Every shared model: import time (each must be well under 2 s).
  const perModel: Record<string, number> = {};
  if (existsSync(SHARED)) {
    for (const f of readdirSync(SHARED).filter((f) => f.endsWith(".onnx")).sort()) {
      const [g, s] = seconds(() => importOnnxFile(join(SHARED, f)));
      perModel[f] = r3(s);
      log(`import ${f}: ${s.toFixed(3)} s, ${g.nodes.length} nodes, ${g.constants.size} constants`);
    }
  }

  // The headline: import + quantize of the ResNet-18 file.
  const runs: { import_seconds: number; quantize_seconds: number }[] = [];
  let summary = { nodes: 0, convs: 0, requants: 0, notes: 0 };
  for (let k = 0; k < repeat; k++) {
    const [g, importS] = seconds(() => importOnnxFile(model));
    const dims = g.inputs[0]!.dims;
    const calibrationCount = Math.max(1, Math.min(16, Math.floor(200_000 / (dims[1]! * dims[2]! * dims[3]!))));
    const [q, quantS] = seconds(() => quantizeGraph(g, { calibrationCount }));
    runs.push({ import_seconds: r3(importS), quantize_seconds: r3(quantS) });
    summary = { nodes: g.nodes.length, convs: q.ops.filter((o) => o.kind === "conv").length, requants: q.ops.filter((o) => o.kind === "requant").length, notes: q.notes.length };
    log(`run ${k + 1}: import ${importS.toFixed(3)} s, quantize ${quantS.toFixed(3)} s`);
  }
  const best = runs.reduce((a, b) => (a.import_seconds + a.quantize_seconds <= b.import_seconds + b.quantize_seconds ? a : b));
  return {
    model,
    model_mb: r3(statSync(model).size / 1e6),
    import_seconds: best.import_seconds,
    quantize_seconds: best.quantize_seconds,
    import_quantize_seconds: r3(best.import_seconds + best.quantize_seconds),
    max_import_seconds_shared: Object.keys(perModel).length ? Math.max(...Object.values(perModel)) : null,
    import_seconds_per_model: perModel,
    graph_nodes: summary.nodes,
    qgraph_convs: summary.convs,
    qgraph_requants: summary.requants,
    runs,
  };
}

/**
 * Model specs, the way every command names a network: a path to an ONNX file, or `zoo:<name>` for
 * a built-in model. `loadModel` gives the float graph; `loadQuantizedModel` also runs the
 * quantizer (with calibration options for float models).
 */
import { existsSync } from "node:fs";
import { RtapError } from "./errors.js";
import type { Graph } from "./import/graph.js";
import { importOnnxFile } from "./import/onnx.js";
import type { QGraph } from "./quantize/qgraph.js";
import { quantizeGraph, type QuantizeOptions } from "./quantize/quantize.js";
import { buildZooModel, isZooSpec, zooNames, type ZooInfo } from "./zoo/index.js";

export interface LoadedModel {
  spec: string;
  graph: Graph;
  /** Set for zoo models. */
  zoo?: ZooInfo;
}

export interface ModelOptions {
  /** Seed of zoo weights (default 0). */
  seed?: number;
}

export function loadModel(spec: string, opts: ModelOptions = {}): LoadedModel {
  if (isZooSpec(spec)) {
    const { graph, info } = buildZooModel(spec.slice(4), { seed: opts.seed });
    return { spec, graph, zoo: info };
  }
  if (!existsSync(spec)) {
    throw new RtapError(`no such model file; give a path to an .onnx file or one of ${zooNames().map((n) => `zoo:${n}`).join(", ")}`, spec);
  }
  return { spec, graph: importOnnxFile(spec) };
}

export interface QuantizedModel extends LoadedModel {
  qgraph: QGraph;
}

export function loadQuantizedModel(spec: string, opts: ModelOptions & QuantizeOptions = {}): QuantizedModel {
  const m = loadModel(spec, opts);
  const inShape = m.graph.inputs[0]!.dims;
  const pixels = inShape[1]! * inShape[2]! * inShape[3]!;
  // Calibration images for float models: enough values per activation without slowing big models.
  const calibrationCount = opts.calibrationCount ?? Math.max(1, Math.min(16, Math.floor(200_000 / pixels)));
  const qgraph = quantizeGraph(m.graph, { ...opts, calibrationCount });
  if (m.zoo) qgraph.notes.push(`zoo:${m.zoo.name}: synthetic TWN-ternarized Kaiming-normal weights (seed ${m.zoo.seed}), sparsity ${(m.zoo.sparsity * 100).toFixed(1)}%`);
  return { ...m, qgraph };
}

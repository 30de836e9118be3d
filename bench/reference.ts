/**
 * `npm run bench -- reference [--json] [--model <spec>] [--seed N]`
 *
 * Integer reference inference of zoo:resnet18 (ImageNet, 224x224, 1.8 GMAC) on one seeded random
 * image: the time to build the zoo graph, to quantize it (calibration on one synthetic image, as
 * loadQuantizedModel does), and the headline, one runReference inference (target: under 5 s),
 * with its time per op kind and the ternary MAC rate.
 */
import { r3, option, type BenchArgs, type Figures } from "./harness.js";
import { randomImages } from "../src/data/synthetic.js";
import { loadModel } from "../src/model.js";
import { convMacs, type QOp } from "../src/quantize/qgraph.js";
import { quantizeGraph } from "../src/quantize/quantize.js";
import { runReference } from "../src/reference/integer.js";

export const description = "integer reference inference of zoo:resnet18 on one 224x224 image (build, quantize, inference seconds)";

export async function run({ argv, log }: BenchArgs): Promise<Figures> {
  const spec = option(argv, "--model") ?? "zoo:resnet18";
  const seed = Number(option(argv, "--seed") ?? 0);

  let t0 = performance.now();
  const m = loadModel(spec, { seed });
  const buildSeconds = (performance.now() - t0) / 1000;
  log(`build ${spec}: ${buildSeconds.toFixed(2)} s`);

  const dims = m.graph.inputs[0]!.dims;
  const shape: [number, number, number] = [dims[1]!, dims[2]!, dims[3]!];
  const calibrationCount = Math.max(1, Math.min(16, Math.floor(200_000 / (shape[0] * shape[1] * shape[2]))));
  t0 = performance.now();
  const q = quantizeGraph(m.graph, { calibrationCount, seed });
  const quantizeSeconds = (performance.now() - t0) / 1000;
  log(`quantize: ${quantizeSeconds.toFixed(2)} s`);

  const image = randomImages(shape, 1, seed + 1);
  const perKind: Record<string, number> = {};
  let macs = 0;
  let last = performance.now();
  const onOp = (op: QOp): void => {
    const now = performance.now();
    perKind[op.kind] = (perKind[op.kind] ?? 0) + (now - last) / 1000;
    if (op.kind === "conv") macs += convMacs(op, q.tensors.get(op.output)!.shape);
    last = now;
  };
  t0 = performance.now();
  last = t0;
  const r = runReference(q, image, 1, { onOp });
  const inferenceSeconds = (performance.now() - t0) / 1000;
  log(`inference: ${inferenceSeconds.toFixed(3)} s (${(macs / 1e9).toFixed(2)} GMAC)`);
  let checksum = 0;
  for (const v of r.output) checksum = (checksum * 31 + v) | 0;

  return {
    model: spec,
    build_seconds: r3(buildSeconds),
    quantize_seconds: r3(quantizeSeconds),
    inference_seconds: r3(inferenceSeconds),
    gmacs: r3(macs / 1e9),
    gmacs_per_second: r3(macs / 1e9 / inferenceSeconds),
    inference_seconds_by_op: Object.fromEntries(Object.entries(perKind).map(([k, v]) => [k, r3(v)])),
    ops: q.ops.length,
    output_checksum: checksum,
  };
}

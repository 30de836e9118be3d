/**
 * The full 10,000-image Fashion-MNIST accuracy of the integer reference for one fmnist-resnet8
 * encoding. Shared by accuracy-*.test.ts (one encoding per test file, so node's test runner puts
 * them on different cores).
 *
 * The 10,000 images run on the integer graph exported to onnxruntime (src/reference/onnx-integer.ts:
 * exact by a per-op proof, equal to runReference on every tensor in test/reference/onnx-integer.test.ts),
 * ~25x faster than runReference in one thread (~50 s per encoding, most of the suite's budget); the
 * first 500 images also run on runReference and must give the same output codes. Without
 * onnxruntime (or when the export refuses an op) all 10,000 run on runReference.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { loadDataset } from "../../src/data/dataset.js";
import { argmax } from "../../src/float/executor.js";
import { importOnnxFile } from "../../src/import/onnx.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { OrtIntegerExecutor } from "../../src/reference/ort.js";
import { fixtureModel } from "../import/fixtures.js";

/** Measured by PyTorch and onnxruntime on the float graph (fmnist-resnet8.json), and by rtap's integer reference. */
export const FMNIST_RESNET8_ACCURACY = 0.9248;

const CROSS_CHECK_IMAGES = 500;

export async function integerAccuracyFull(t: TestContext, file: string): Promise<void> {
  const q = quantizeGraph(importOnnxFile(fixtureModel(file)));
  const ds = loadDataset("fashion-mnist");
  assert.equal(ds.count, 10_000);
  const per = 28 * 28, B = 500;
  let ort: OrtIntegerExecutor | null = null;
  try {
    const created = await OrtIntegerExecutor.create(q);
    ort = created.executor;
    if (!created.executor) t.diagnostic(`integer graph not exported (${created.reason}): runReference on all images`);
  } catch (e) {
    t.diagnostic(`onnxruntime unavailable (${(e as Error).message}): runReference on all images`);
  }
  let correct = 0;
  const perClass = new Int32Array(10), perClassTotal = new Int32Array(10);
  for (let b = 0; b < ds.count; b += B) {
    const n = Math.min(B, ds.count - b);
    const pixels = ds.images.subarray(b * per, (b + n) * per);
    let codes: Int32Array;
    if (ort) {
      codes = await ort.runOutput(pixels, n);
      if (b < CROSS_CHECK_IMAGES) assert.deepEqual(codes, runReference(q, pixels, n).output, `images ${b}..${b + n - 1}: onnxruntime's integer graph differs from runReference`);
    } else codes = runReference(q, pixels, n).output;
    const logits = dequantizeOutput(q, codes, n);
    for (let i = 0; i < n; i++) {
      const label = ds.labels[b + i]!;
      perClassTotal[label]!++;
      if (argmax(logits[i]!) === label) {
        correct++;
        perClass[label]!++;
      }
    }
  }
  await ort?.release();
  const acc = correct / ds.count;
  t.diagnostic(`${file}: integer reference ${correct}/${ds.count} = ${(acc * 100).toFixed(2)}% (float graph: ${(FMNIST_RESNET8_ACCURACY * 100).toFixed(2)}%)${ort ? `; onnxruntime's integer graph, the first ${CROSS_CHECK_IMAGES} images also on runReference` : ""}`);
  t.diagnostic(`per class: ${Array.from(perClass, (c, k) => `${k}:${((c / perClassTotal[k]!) * 100).toFixed(1)}%`).join(" ")}`);
  assert.ok(Math.abs(acc - FMNIST_RESNET8_ACCURACY) <= 0.002, `integer accuracy ${acc} is not within 0.2 points of ${FMNIST_RESNET8_ACCURACY}`);
}

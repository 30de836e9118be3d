/**
 * The full 10,000-image Fashion-MNIST accuracy of the integer reference for one fmnist-resnet8
 * encoding. Shared by accuracy-*.test.ts: one encoding per test file, so node's test runner puts
 * the two ~70 s runs on different cores.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { loadDataset } from "../../src/data/dataset.js";
import { argmax } from "../../src/float/executor.js";
import { importOnnxFile } from "../../src/import/onnx.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { fixtureModel } from "../import/fixtures.js";

/** Measured by PyTorch and onnxruntime on the float graph (fmnist-resnet8.json), and by rtap's integer reference. */
export const FMNIST_RESNET8_ACCURACY = 0.9248;

export function integerAccuracyFull(t: TestContext, file: string): void {
  const q = quantizeGraph(importOnnxFile(fixtureModel(file)));
  const ds = loadDataset("fashion-mnist");
  assert.equal(ds.count, 10_000);
  const per = 28 * 28, B = 100;
  let correct = 0;
  const perClass = new Int32Array(10), perClassTotal = new Int32Array(10);
  for (let b = 0; b < ds.count; b += B) {
    const n = Math.min(B, ds.count - b);
    const logits = dequantizeOutput(q, runReference(q, ds.images.subarray(b * per, (b + n) * per), n).output, n);
    for (let i = 0; i < n; i++) {
      const label = ds.labels[b + i]!;
      perClassTotal[label]!++;
      if (argmax(logits[i]!) === label) {
        correct++;
        perClass[label]!++;
      }
    }
  }
  const acc = correct / ds.count;
  t.diagnostic(`${file}: integer reference ${correct}/${ds.count} = ${(acc * 100).toFixed(2)}% (float graph: ${(FMNIST_RESNET8_ACCURACY * 100).toFixed(2)}%)`);
  t.diagnostic(`per class: ${Array.from(perClass, (c, k) => `${k}:${((c / perClassTotal[k]!) * 100).toFixed(1)}%`).join(" ")}`);
  assert.ok(Math.abs(acc - FMNIST_RESNET8_ACCURACY) <= 0.002, `integer accuracy ${acc} is not within 0.2 points of ${FMNIST_RESNET8_ACCURACY}`);
}

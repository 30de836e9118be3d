/**
 * fmnist-resnet8.onnx (../shared/models, plain encoding) compiled and simulated end to end: every
 * unit's output equals the integer reference bit for bit on 100 Fashion-MNIST test images with the
 * bit-level simulator and on 500 with the word-level one. (One encoding per file, so the runner
 * puts them on different cores.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracyOf, fmnistEndToEnd, fmnistImages, HAVE_FASHION_MNIST } from "./helpers.js";

test("fmnist-resnet8.onnx: bit-exact on 100 images (bit level) and 500 (word level)", (t) => {
  const r = fmnistEndToEnd("fmnist-resnet8.onnx", 100, 500);
  const { labels, count } = fmnistImages(500);
  if (HAVE_FASHION_MNIST) assert.deepEqual([r.bit.images, r.fast.images], [100, 500]);
  const acc = accuracyOf(r.net.q, r.fast.output, labels, r.fast.images);
  t.diagnostic(`bit level: ${r.bit.images} images, ${r.bit.compared} values equal; word level: ${r.fast.images} images, ${r.fast.compared} values equal; AP accuracy ${(acc * 100).toFixed(1)}% on ${count}`);
  assert.ok(acc > 0.88, `accuracy ${acc}`);
});

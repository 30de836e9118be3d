/**
 * Float model vs integer reference on real data: for every fmnist-resnet8 encoding, on 1000
 * Fashion-MNIST test images for the plain encoding and 500 for the two others (disjoint ranges;
 * the QDQ QGraph is proven identical to the plain one in test/quantize), the float graph and the integer
 * QGraph predict the same class for at least 99.8% of the images, and both are accurate. Runs
 * through evaluate(), so the worker-thread sharding is exercised too.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { evaluate } from "../../src/eval.js";
import { FMNIST_ENCODINGS, fixtureModel, skipNoFashionMnist } from "../import/fixtures.js";

const IMAGES_PER_ENCODING = [1000, 500, 500];
const OFFSETS = [0, 1000, 1500];

describe("float/integer agreement on Fashion-MNIST", { skip: skipNoFashionMnist }, () => {
  FMNIST_ENCODINGS.forEach((file, k) => {
    const IMAGES = IMAGES_PER_ENCODING[k]!;
    test(`${file}: >= 99.8% agreement on test images ${OFFSETS[k]}..${OFFSETS[k]! + IMAGES - 1}`, async (t) => {
      const r = await evaluate(fixtureModel(file), "fashion-mnist", { offset: OFFSETS[k], limit: IMAGES, workers: 2 });
      t.diagnostic(
        `${file}: float ${r.float_correct}/${r.images}, integer ${r.integer_correct}/${r.images}, agreement ${(r.agreement! * 100).toFixed(1)}% (${r.workers} workers, ${r.seconds.toFixed(1)} s)`,
      );
      assert.equal(r.images, IMAGES);
      assert.equal(r.workers, 2);
      assert.ok(r.agreement! >= 0.998, `agreement ${r.agreement}`);
      // both near the 92.48% of the full test set (a 1000-image subset varies by a few points)
      assert.ok(r.float_accuracy! > 0.88 && r.integer_accuracy > 0.88, `accuracies ${r.float_accuracy} / ${r.integer_accuracy}`);
      assert.ok(Math.abs(r.float_correct! - r.integer_correct) <= (1 - r.agreement!) * IMAGES);
    });
  });
});

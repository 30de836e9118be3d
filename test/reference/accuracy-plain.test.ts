/**
 * Integer reference accuracy of fmnist-resnet8.onnx on the full Fashion-MNIST test set: within 0.2
 * points of the float model's 92.48%. (The QDQ encoding quantizes to a QGraph identical to the
 * plain one, proven in test/quantize/encodings.test.ts, so it needs no run of its own.)
 */
import { test } from "node:test";
import { skipNoFashionMnist } from "../import/fixtures.js";
import { integerAccuracyFull } from "./accuracy.js";

test("fmnist-resnet8.onnx: integer accuracy on all 10,000 Fashion-MNIST test images within 0.2 points of 92.48%", { skip: skipNoFashionMnist }, async (t) => {
  await integerAccuracyFull(t, "fmnist-resnet8.onnx");
});

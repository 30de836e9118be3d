/**
 * The serial racetrack layout (configs/arch/rtm-ap-serial.yaml: operand bits along the tracks, one
 * shift per bit step) is bit-exact like the default interleaved one: fmnist-resnet8.onnx on 100
 * Fashion-MNIST test images with the bit-level simulator, every unit equal to the integer
 * reference, and the word-level simulator's events on the same images equal unit by unit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { assertBitExact, fmnistImages, fmnistQGraph, HAVE_FASHION_MNIST, verifiedRun } from "./helpers.js";

test("fmnist-resnet8.onnx on rtm-ap-serial: bit-exact on 100 images (bit level), word-level events identical unit by unit", (t) => {
  const net = compileNetwork(fmnistQGraph(), { arch: "rtm-ap-serial", verify: true });
  assert.equal(net.layout.kind, "serial");
  const { images, count } = fmnistImages(100);
  const n = Math.min(100, count);
  if (HAVE_FASHION_MNIST) assert.equal(n, 100);
  const bit = verifiedRun(net, images, n, { mode: "bit" });
  assertBitExact(bit, "rtm-ap-serial, bit level");
  const fast = verifiedRun(net, images, n, { mode: "fast" });
  assertBitExact(fast, "rtm-ap-serial, word level");
  net.units.forEach((u, i) => assert.deepEqual(bit.unitEvents[i], fast.unitEvents[i], `events of unit ${u.unit.name}`));
  t.diagnostic(`${bit.images} images, ${bit.compared} values equal; shift track-domains per image ${fast.events.shiftTrackDomains / n}`);
});

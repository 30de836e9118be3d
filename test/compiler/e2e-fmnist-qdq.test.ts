/**
 * fmnist-resnet8.qdq.onnx (int8 weights behind DequantizeLinear, QuantizeLinear/DequantizeLinear
 * activations). Its QGraph is identical to the plain encoding's (test/quantize/encodings.test.ts)
 * and compilation is deterministic, so its compiled programs are the plain ones step for step
 * (checked here) and the 100/1000-image runs of e2e-fmnist-plain.test.ts cover it; it still runs
 * on its own on 8 images (bit level) and 100 (word level).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { fmnistEndToEnd, fmnistQGraph } from "./helpers.js";

test("fmnist-resnet8.qdq.onnx compiles to exactly the plain encoding's programs", () => {
  const plain = compileNetwork(fmnistQGraph("fmnist-resnet8.onnx"), { verify: true });
  const qdq = compileNetwork(fmnistQGraph("fmnist-resnet8.qdq.onnx"), { verify: true });
  assert.equal(qdq.units.length, plain.units.length);
  qdq.units.forEach((u, i) => {
    const a = u.program, b = plain.units[i]!.program;
    const what = `unit ${u.unit.name}`;
    assert.equal(u.unit.name, plain.units[i]!.unit.name);
    assert.deepEqual([a.nSteps, a.nValues], [b.nSteps, b.nValues], what);
    for (const k of ["op", "dst", "a", "b", "imm", "width", "signed", "cell0", "reg", "min", "max"] as const) assert.deepEqual(a[k], b[k], `${what}: ${k}`);
    assert.deepEqual(a.loads, b.loads, `${what}: loads`);
    assert.deepEqual(a.thresholds, b.thresholds, `${what}: thresholds`);
    assert.deepEqual(u.stats, plain.units[i]!.stats, `${what}: stats`);
  });
});

test("fmnist-resnet8.qdq.onnx: bit-exact on 8 images (bit level) and 100 (word level)", (t) => {
  const r = fmnistEndToEnd("fmnist-resnet8.qdq.onnx", 8, 100);
  t.diagnostic(`bit level: ${r.bit.compared} values equal; word level: ${r.fast.compared} values equal`);
});

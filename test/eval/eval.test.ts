/**
 * evaluate() and model specs: the counts it reports equal a direct computation with runFloat and
 * runReference, sharding over worker threads changes nothing, zoo models load like files, and
 * every user mistake (unknown model or dataset, dataset/model mismatch) is an RtapError — also
 * when it happens inside a worker.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx } from "../../src/data/idx.js";
import { loadDataset } from "../../src/data/dataset.js";
import { evaluate } from "../../src/eval.js";
import { argmax, pixelsToInput, runFloat } from "../../src/float/executor.js";
import { importOnnxFile } from "../../src/import/onnx.js";
import { loadModel, loadQuantizedModel } from "../../src/model.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { dequantizeOutput, runReference } from "../../src/reference/integer.js";
import { FMNIST_SLICE_SPEC, fixtureModel } from "../import/fixtures.js";
import { expectRtapError, expectRtapRejection } from "../import/expect-error.js";
import { writeCifarBatch } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "rtap-eval-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("evaluate()", () => {
  test("counts equal a direct float + integer computation on images 10..41 of the slice", async () => {
    const r = await evaluate(PLAIN, FMNIST_SLICE_SPEC, { offset: 10, limit: 32 });
    const g = importOnnxFile(PLAIN);
    const q = quantizeGraph(g);
    const ds = loadDataset(FMNIST_SLICE_SPEC, { offset: 10, limit: 32 });
    const logits = dequantizeOutput(q, runReference(q, ds.images, 32).output, 32);
    let intCorrect = 0, floatCorrect = 0, agree = 0;
    for (let i = 0; i < 32; i++) {
      const fp = argmax(runFloat(g, pixelsToInput(ds.images.subarray(i * 784, (i + 1) * 784))).output.data);
      const ip = argmax(logits[i]!);
      if (ip === ds.labels[i]) intCorrect++;
      if (fp === ds.labels[i]) floatCorrect++;
      if (fp === ip) agree++;
    }
    assert.deepEqual(
      [r.model, r.dataset, r.images, r.integer_correct, r.float_correct, r.integer_accuracy, r.float_accuracy, r.agreement, r.workers],
      [PLAIN, FMNIST_SLICE_SPEC, 32, intCorrect, floatCorrect, intCorrect / 32, floatCorrect / 32, agree / 32, 1],
    );
    assert.deepEqual(r.notes, q.notes);
    assert.ok(r.seconds > 0);
  });

  test("sharding over 2 worker threads gives the same counts as one thread; --no-float leaves float fields null", async () => {
    const spec = fixtureModel("fmnist-resnet8.qdq.onnx");
    const one = await evaluate(spec, FMNIST_SLICE_SPEC, { limit: 24, workers: 1 });
    let progress = 0;
    const two = await evaluate(spec, FMNIST_SLICE_SPEC, { limit: 24, workers: 2, onProgress: (done, total) => ((progress = done), assert.equal(total, 24)) });
    assert.equal(two.workers, 2);
    assert.equal(progress, 24);
    assert.deepEqual([two.images, two.integer_correct, two.float_correct, two.agreement], [one.images, one.integer_correct, one.float_correct, one.agreement]);
    const intOnly = await evaluate(spec, FMNIST_SLICE_SPEC, { limit: 24, float: false, workers: 2 });
    assert.deepEqual([intOnly.float_accuracy, intOnly.float_correct, intOnly.agreement, intOnly.integer_correct], [null, null, null, one.integer_correct]);
  });

  test("a zoo model evaluates on a CIFAR-10 batch like a file", async (t) => {
    const dir = tempDir(t);
    writeCifarBatch(dir, 3, 1);
    const r = await evaluate("zoo:resnet20", `cifar10:${dir}`, {});
    assert.equal(r.images, 3);
    assert.ok(r.integer_correct >= 0 && r.integer_correct <= 3);
    assert.ok(r.agreement !== null && r.agreement >= 0 && r.agreement <= 1);
    assert.ok(r.notes.some((n) => /inserted 19 4-bit activation quantizer/.test(n)));
  });
});

describe("model specs", () => {
  test('loadQuantizedModel("zoo:resnet20") gives a runnable QGraph of the CIFAR ResNet-20', () => {
    const m = loadQuantizedModel("zoo:resnet20");
    assert.equal(m.spec, "zoo:resnet20");
    assert.equal(m.zoo?.name, "resnet20");
    assert.deepEqual(m.qgraph.tensors.get(m.qgraph.input)!.shape, [3, 32, 32]);
    assert.deepEqual(m.qgraph.tensors.get(m.qgraph.output)!.shape, [10, 1, 1]);
    assert.match(m.qgraph.notes.at(-1)!, /^zoo:resnet20: synthetic TWN-ternarized Kaiming-normal weights \(seed 0\), sparsity \d+\.\d%$/);
    const out = runReference(m.qgraph, new Uint8Array(3 * 32 * 32).fill(128), 1).output;
    assert.equal(out.length, 10);
    // another seed gives other weights
    const other = loadQuantizedModel("zoo:resnet20", { seed: 1 });
    const w = (x: typeof m): string => x.qgraph.ops.map((o) => (o.kind === "conv" ? o.weights.slice(0, 64).join() : "")).join("|");
    assert.notEqual(w(other), w(m));
  });

  test("an unknown file or zoo name is an RtapError listing the zoo", () => {
    expectRtapError(() => loadModel("no/such/model.onnx"), "no/such/model.onnx: no such model file; give a path to an .onnx file or one of zoo:resnet18", "zoo:vgg-small");
    expectRtapError(() => loadModel("zoo:resnet99"), "resnet99");
  });
});

describe("evaluate() rejects user mistakes with an RtapError", () => {
  test("an unknown dataset directory and an unknown dataset spec", async () => {
    await expectRtapRejection(evaluate(PLAIN, "idx:/no/such/dir", { limit: 5 }), "/no/such/dir");
    await expectRtapRejection(evaluate(PLAIN, "mnist", { limit: 5 }), 'dataset "mnist": unknown dataset spec; use one of: fashion-mnist, idx:<dir>, cifar10:<dir>');
  });

  test("dataset images of another shape than the model's input, in this thread and in a worker", async (t) => {
    const dir = tempDir(t);
    writeCifarBatch(dir, 4, 2);
    const msg = `cifar10:${dir}: dataset images are 3x32x32 but the model expects 1x28x28`;
    await expectRtapRejection(evaluate(PLAIN, `cifar10:${dir}`, {}), msg);
    await expectRtapRejection(evaluate(PLAIN, `cifar10:${dir}`, { workers: 2 }), msg);
  });

  test("a dataset with more classes than the model outputs", async (t) => {
    const dir = tempDir(t);
    const n = 4;
    writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), gzipSync(encodeIdx([n, 28, 28], new Uint8Array(n * 784).fill(50))));
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), gzipSync(encodeIdx([n], Uint8Array.from([0, 5, 11, 19]))));
    await expectRtapRejection(evaluate(PLAIN, `idx:${dir}`, {}), "dataset has 20 classes but the model outputs 10");
  });

  test("a model file that cannot be imported or quantized", async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "junk.onnx"), new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
    await expectRtapRejection(evaluate(join(dir, "junk.onnx"), FMNIST_SLICE_SPEC, { limit: 2 }), "junk.onnx: ");
    await expectRtapRejection(evaluate(join(dir, "missing.onnx"), FMNIST_SLICE_SPEC, { limit: 2, workers: 2 }), "missing.onnx: no such model file");
  });
});

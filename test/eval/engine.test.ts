/**
 * Evaluation engines: onnxruntime ("ort": the exported integer graph and the source float ONNX file)
 * and rtap's own executors ("js") give the same predictions image by image, so the same accuracies
 * and agreement; the default picks ort, and falls back to js with a one-line notice when
 * onnxruntime-node cannot load or the integer graph cannot be proven exact on it (an error when
 * ort was asked for); zoo models run their float side on js.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseEngines, evaluate, evaluateShard, type EvalEngine, type EvalResult } from "../../src/eval.js";
import type { Graph } from "../../src/import/graph.js";
import type { QuantizedModel } from "../../src/model.js";
import type { QGraph, QTensor } from "../../src/quantize/qgraph.js";
import { FMNIST_ENCODINGS, FMNIST_SLICE_SPEC, fixtureModel } from "../import/fixtures.js";
import { expectRtapRejection } from "../import/expect-error.js";
import { decodeModel, encodeModel } from "../import/onnx-builder.js";
import { writeCifarBatch } from "./helpers.js";

const IMAGES = 96;

describe("ort and js engines: identical predictions", () => {
  for (const file of FMNIST_ENCODINGS) {
    test(`${file}: images 100..${100 + IMAGES - 1} of the slice, every integer and float prediction`, async () => {
      const req = (engine: EvalEngine) => ({ model: fixtureModel(file), dataset: FMNIST_SLICE_SPEC, offset: 100, count: IMAGES, opts: { engine } });
      const ort = await evaluateShard(req("ort"));
      const js = await evaluateShard(req("js"));
      assert.deepEqual(ort.engine, { integer: "ort", float: "ort" });
      assert.deepEqual(js.engine, { integer: "js", float: "js" });
      assert.equal(ort.engineNotice, null);
      assert.deepEqual(ort.labels, js.labels);
      assert.deepEqual(ort.intPred, js.intPred);
      assert.deepEqual(ort.floatPred, js.floatPred);
      assert.equal(ort.images, IMAGES);
    });
  }

  test("evaluate(): the same counts, accuracies and agreement on 2 workers (ort) as on one thread (js)", async () => {
    const pick = (r: EvalResult) => [r.images, r.integer_correct, r.float_correct, r.integer_accuracy, r.float_accuracy, r.agreement, r.notes];
    const ort = await evaluate(fixtureModel("fmnist-resnet8.onnx"), FMNIST_SLICE_SPEC, { offset: 40, limit: 64, workers: 2 });
    const js = await evaluate(fixtureModel("fmnist-resnet8.onnx"), FMNIST_SLICE_SPEC, { offset: 40, limit: 64, workers: 1, engine: "js" });
    assert.deepEqual(ort.engine, { integer: "ort", float: "ort" }, "ort is the default");
    assert.deepEqual([ort.workers, ort.engine_notice, js.engine_notice], [2, null, null]);
    assert.deepEqual(js.engine, { integer: "js", float: "js" });
    assert.deepEqual(pick(ort), pick(js));
    const intOnly = await evaluate(fixtureModel("fmnist-resnet8.onnx"), FMNIST_SLICE_SPEC, { offset: 40, limit: 64, float: false });
    assert.deepEqual(intOnly.engine, { integer: "ort", float: null });
    assert.equal(intOnly.integer_correct, js.integer_correct);
  });
});

describe("float files onnxruntime runs image by image, or not at all", () => {
  /** fmnist-resnet8.onnx with its input's batch dimension fixed to n. */
  function fixedBatch(dir: string, n: number): string {
    const m = decodeModel(new Uint8Array(readFileSync(fixtureModel("fmnist-resnet8.onnx"))));
    const t = m.graph!.input[0]!.type!.value;
    assert.equal(t.case, "tensorType");
    t.value.shape!.dim[0]!.value = { case: "dimValue", value: BigInt(n) };
    const file = join(dir, `batch${n}.onnx`);
    writeFileSync(file, encodeModel(m));
    return file;
  }

  test("a batch fixed to 1: one image per run, the same predictions; a batch fixed to 4: the float model on js, with a notice", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "rtap-engine-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const req = (model: string, engine: EvalEngine) => ({ model, dataset: FMNIST_SLICE_SPEC, offset: 0, count: 20, opts: { engine } });
    const js = await evaluateShard(req(fixtureModel("fmnist-resnet8.onnx"), "js"));
    const one = await evaluateShard(req(fixedBatch(dir, 1), "ort"));
    assert.deepEqual([one.engine, one.engineNotice], [{ integer: "ort", float: "ort" }, null]);
    assert.deepEqual([one.intPred, one.floatPred], [js.intPred, js.floatPred]);
    const four = await evaluateShard(req(fixedBatch(dir, 4), "ort"));
    assert.deepEqual(four.engine, { integer: "ort", float: "js" });
    assert.equal(four.engineNotice, "onnxruntime cannot load the float model (input input has a fixed batch of 4); it runs on the js engine");
    assert.deepEqual([four.intPred, four.floatPred], [js.intPred, js.floatPred]);
  });
});

describe("choosing the engine", () => {
  // a conv whose sums float32 cannot hold: 257x257 kernel of +1 over uint8 pixels
  const K = 257 * 257;
  const tensor = (name: string, shape: [number, number, number], lo: number, hi: number): QTensor => ({
    name, shape, kind: "int", minPerChannel: Int32Array.of(lo), maxPerChannel: Int32Array.of(hi), scale: Float64Array.of(1), offset: Float64Array.of(0),
  });
  const q: QGraph = {
    name: "big", source: "hand-built", input: "in", output: "big", activationBits: 4, notes: [],
    tensors: new Map([["in", tensor("in", [1, 257, 257], 0, 255)], ["big", tensor("big", [1, 1, 1], 0, 255 * K)]]),
    ops: [
      { kind: "input", name: "in", origin: [], output: "in", bits: 8 },
      { kind: "conv", name: "big", origin: [], input: "in", output: "big", outChannels: 1, inChannels: 1, kernel: [257, 257], stride: [1, 1], pads: [0, 0, 0, 0], weights: new Int8Array(K).fill(1), fullyConnected: false },
    ],
  };
  const model: QuantizedModel = { spec: "big.onnx", graph: {} as Graph, qgraph: q };
  const noOrt = (): Promise<never> => Promise.reject(new Error("libonnxruntime.so.1: cannot open shared object file\nmore"));

  test("an integer graph without an exactness proof: js with a notice by default, an error with ort", async () => {
    const e = await chooseEngines(model, undefined, false);
    assert.deepEqual(e.use, { integer: "js", float: null });
    assert.equal(e.integer, null);
    assert.equal(
      e.notice,
      "the integer graph cannot run exactly on onnxruntime (op big: partial sums (sum |w| * max|x|) reach 16842495, beyond 2^24 (float32 would round)); the integer reference runs on the js engine",
    );
    await expectRtapRejection(chooseEngines(model, "ort", false), "big.onnx: --engine ort: the integer graph cannot run exactly on onnxruntime: op big: partial sums");
  });

  test("onnxruntime-node that cannot load: js with a notice by default, an error with ort; js never loads it", async () => {
    const e = await chooseEngines(model, undefined, true, noOrt);
    assert.deepEqual(e.use, { integer: "js", float: "js" });
    assert.equal(e.notice, "onnxruntime-node cannot be loaded (libonnxruntime.so.1: cannot open shared object file); evaluating on the js engine");
    await expectRtapRejection(chooseEngines(model, "ort", true, noOrt), "big.onnx: --engine ort: onnxruntime-node cannot be loaded (libonnxruntime.so.1");
    const js = await chooseEngines(model, "js", true, () => assert.fail("js must not load onnxruntime"));
    assert.deepEqual([js.use, js.notice], [{ integer: "js", float: "js" }, null]);
  });

  test("a zoo model: integer graph on ort, float model on js with a notice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rtap-engine-"));
    try {
      writeCifarBatch(dir, 2, 5);
      const ort = await evaluate("zoo:resnet20", `cifar10:${dir}`, {});
      const js = await evaluate("zoo:resnet20", `cifar10:${dir}`, { engine: "js" });
      assert.deepEqual(ort.engine, { integer: "ort", float: "js" });
      assert.equal(ort.engine_notice, "zoo:resnet20 has no ONNX file; the float model runs on the js engine");
      assert.deepEqual([ort.integer_correct, ort.float_correct, ort.agreement], [js.integer_correct, js.float_correct, js.agreement]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * `rtap eval` in-process: the JSON line and the human report on fmnist-resnet8, a zoo model on a
 * synthetic CIFAR-10 batch, and every user mistake printed as one `rtap: ...` line with exit code 1
 * and no stack trace.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AttributeProto_AttributeType as AT, AttributeProtoSchema } from "onnx-buf";
import { fixtureModel, FMNIST_SLICE_SPEC } from "../import/fixtures.js";
import { decodeModel, encodeModel, setInitializer } from "../import/onnx-builder.js";
import { writeCifarBatch } from "../eval/helpers.js";
import { assertUserError, lastLine, rtap } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "rtap-cli-eval-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface EvalJson {
  model: string;
  dataset: string;
  images: number;
  float_accuracy: number | null;
  integer_accuracy: number;
  agreement: number | null;
  float_correct: number | null;
  integer_correct: number;
  notes: string[];
  engine: { integer: string; float: string | null };
  engine_notice: string | null;
  seconds: number;
}

describe("rtap eval", () => {
  test("--json on fmnist-resnet8 ends stdout with one JSON line: images, float_accuracy, integer_accuracy, agreement", async () => {
    const r = await rtap(["eval", PLAIN, "--dataset", FMNIST_SLICE_SPEC, "--limit", "40", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith("}\n"));
    assert.equal(r.stdout.trimEnd().split("\n").length, 1, "with --json stdout is the JSON line only");
    const j = JSON.parse(lastLine(r.stdout)) as EvalJson;
    assert.equal(j.images, 40);
    assert.equal(j.model, PLAIN);
    assert.equal(j.dataset, FMNIST_SLICE_SPEC);
    for (const k of ["float_accuracy", "integer_accuracy", "agreement"] as const) assert.equal(typeof j[k], "number", k);
    assert.equal(j.integer_accuracy, j.integer_correct / 40);
    assert.equal(j.float_accuracy, j.float_correct! / 40);
    assert.ok(j.agreement! >= 39 / 40 && j.integer_accuracy > 0.85);
    assert.deepEqual(j.notes, ["input: uint8 pixels p, x = p/255 (8-bit codes, scale 1/255)"]);
  });

  test("human output: the table of float and integer accuracy and the agreement line", async () => {
    const r = await rtap(["eval", fixtureModel("fmnist-resnet8.bn.onnx"), "--dataset", FMNIST_SLICE_SPEC, "--limit", "16"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fmnist-resnet8\.bn\.onnx on idx:.*fashion-mnist-slice: 16 images/);
    assert.match(r.stdout, /float \(source graph\)\s+.*\d+\s+.*\d+\.\d\d%/);
    assert.match(r.stdout, /integer reference\s+.*\d+\s+.*\d+\.\d\d%/);
    assert.match(r.stdout, /float\/integer agreement: \d+\.\d\d% of images/);
  });

  test("--engine ort and --engine js: the same figures; JSON and the human report name the engine", async () => {
    const args = ["eval", PLAIN, "--dataset", FMNIST_SLICE_SPEC, "--offset", "60", "--limit", "24"];
    const runs = await Promise.all(["ort", "js"].map((e) => rtap([...args, "--engine", e, "--json"])));
    const [ort, js] = runs.map((r) => (assert.equal(r.code, 0, r.stderr), assert.equal(r.stderr, ""), JSON.parse(lastLine(r.stdout)) as EvalJson));
    assert.deepEqual([ort!.engine, ort!.engine_notice], [{ integer: "ort", float: "ort" }, null]);
    assert.deepEqual([js!.engine, js!.engine_notice], [{ integer: "js", float: "js" }, null]);
    const figures = (j: EvalJson) => [j.images, j.integer_correct, j.float_correct, j.integer_accuracy, j.float_accuracy, j.agreement];
    assert.deepEqual(figures(ort!), figures(js!));
    const human = await rtap(args);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^engine: onnxruntime$/m);
    assert.match((await rtap([...args, "--engine", "js"])).stdout, /^engine: js$/m);
  });

  test("--engine with another value is a usage error (exit 2)", async () => {
    const r = await rtap(["eval", PLAIN, "--dataset", FMNIST_SLICE_SPEC, "--engine", "tvm"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--engine <engine>' argument 'tvm' is invalid\. Allowed choices are ort, js/);
  });

  test("--no-float: integer only, float fields null", async () => {
    const r = await rtap(["eval", PLAIN, "--dataset", FMNIST_SLICE_SPEC, "--limit", "8", "--no-float", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(lastLine(r.stdout)) as EvalJson;
    assert.deepEqual([j.images, j.float_accuracy, j.agreement, j.float_correct], [8, null, null, null]);
  });

  test("zoo:vgg-small on a synthetic CIFAR-10 test_batch.bin", async (t) => {
    const dir = tempDir(t);
    writeCifarBatch(dir, 2, 3);
    const r = await rtap(["eval", "zoo:vgg-small", "--dataset", `cifar10:${dir}`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(lastLine(r.stdout)) as EvalJson;
    assert.equal(j.images, 2);
    assert.equal(j.model, "zoo:vgg-small");
    assert.ok(j.agreement !== null && j.float_accuracy !== null);
    assert.ok(j.notes.some((n) => /^inserted 6 4-bit activation quantizer\(s\) after ReLU/.test(n)), j.notes.join("\n"));
    assert.ok(j.notes.some((n) => n.startsWith("zoo:vgg-small: synthetic TWN-ternarized")));
    // the zoo has no ONNX file for onnxruntime: the float model runs on rtap's executor, said once on stderr
    assert.deepEqual(j.engine, { integer: "ort", float: "js" });
    assert.equal(r.stderr, "rtap: note: zoo:vgg-small has no ONNX file; the float model runs on the js engine\n");
  });
});

describe("rtap eval: user mistakes print one `rtap: ...` line and exit 1", () => {
  test("a model file that does not exist, and an unknown zoo name", async () => {
    assertUserError(await rtap(["eval", "no/such.onnx", "--dataset", FMNIST_SLICE_SPEC]), "no/such.onnx: no such model file");
    assertUserError(await rtap(["eval", "zoo:resnet99", "--dataset", FMNIST_SLICE_SPEC]), "resnet99");
  });

  test("a truncated ONNX file, random bytes", async (t) => {
    const dir = tempDir(t);
    const cut = join(dir, "cut.onnx");
    writeFileSync(cut, readFileSync(PLAIN).subarray(0, 50_000));
    assertUserError(await rtap(["eval", cut, "--dataset", FMNIST_SLICE_SPEC, "--limit", "2"]), `${cut}: `);
    const junk = join(dir, "junk.onnx");
    writeFileSync(junk, Buffer.from("this is not a protobuf message at all, just text\n"));
    assertUserError(await rtap(["eval", junk, "--dataset", FMNIST_SLICE_SPEC, "--limit", "2"]), `${junk}: `);
  });

  test("an unsupported operator names the node", async (t) => {
    const dir = tempDir(t);
    const m = decodeModel(new Uint8Array(readFileSync(PLAIN)));
    m.graph!.node.find((n) => n.name === "/layers/layers.1/c2/Conv")!.opType = "LSTM";
    const file = join(dir, "lstm.onnx");
    writeFileSync(file, encodeModel(m));
    assertUserError(await rtap(["eval", file, "--dataset", FMNIST_SLICE_SPEC, "--limit", "2"]), 'node "/layers/layers.1/c2/Conv" (LSTM): unsupported operator LSTM');
  });

  test("a missing initializer names the node", async (t) => {
    const dir = tempDir(t);
    const m = decodeModel(new Uint8Array(readFileSync(PLAIN)));
    const gemm = m.graph!.node.find((n) => n.opType === "Gemm")!;
    m.graph!.initializer = m.graph!.initializer.filter((i) => i.name !== gemm.input[1]);
    const file = join(dir, "noinit.onnx");
    writeFileSync(file, encodeModel(m));
    assertUserError(await rtap(["eval", file, "--dataset", FMNIST_SLICE_SPEC, "--limit", "2"]), `node "${gemm.name}" (Gemm): input "${gemm.input[1]}" is not a graph input, an initializer`);
  });

  test("a grouped convolution the quantizer cannot express names the node", async (t) => {
    const dir = tempDir(t);
    const m = decodeModel(new Uint8Array(readFileSync(PLAIN)));
    const c1 = m.graph!.node.find((n) => n.name === "/layers/layers.0/c1/Conv")!;
    c1.attribute.push(create(AttributeProtoSchema, { name: "group", type: AT.INT, i: 2n }));
    setInitializer(m.graph!.initializer.find((i) => i.name === c1.input[1])!, [16, 8, 3, 3], new Float32Array(16 * 72).fill(0.25));
    const file = join(dir, "grouped.onnx");
    writeFileSync(file, encodeModel(m));
    assertUserError(await rtap(["eval", file, "--dataset", FMNIST_SLICE_SPEC, "--limit", "2"]), 'node "/layers/layers.0/c1/Conv" (Conv): grouped/depthwise convolution (group=2) is not supported');
  });

  test("an unknown dataset directory, an unknown dataset spec", async () => {
    assertUserError(await rtap(["eval", PLAIN, "--dataset", "idx:/no/such/dir"]), "/no/such/dir");
    assertUserError(await rtap(["eval", PLAIN, "--dataset", "imagenet"]), 'dataset "imagenet": unknown dataset spec');
  });

  test("a dataset whose images do not fit the model", async (t) => {
    const dir = tempDir(t);
    writeCifarBatch(dir, 2, 4);
    assertUserError(await rtap(["eval", PLAIN, "--dataset", `cifar10:${dir}`]), "dataset images are 3x32x32 but the model expects 1x28x28");
  });
});

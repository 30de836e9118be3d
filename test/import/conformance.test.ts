/**
 * ONNX backend conformance: the official node tests of every operator rtap supports, as Debian's
 * libonnx-testdata ships them (/usr/share/libonnx-testdata/data/node/<case>/: model.onnx and
 * test_data_set_*\/{input,output}_<i>.pb TensorProtos).
 *
 * A case belongs to the suite when every operator of its model is one rtap supports (SUPPORTED_OPS
 * of src/float/ops.ts); that also takes in the "_expanded" cases whose function body uses only
 * such operators, and leaves out tests of other operators with a similar name (ConvTranspose,
 * GatherElements...). Each case runs twice through rtap's importer (`inputs: "tensors"`, which
 * lifts the one-image-input rule) and operator kernels:
 *  - "runtime": the graph inputs are fed to the float executor (runGraph), except the operands
 *    rtap requires to be constant (Reshape's shape, Squeeze/Unsqueeze axes, Pad's pads and axes),
 *    which become initializers;
 *  - "folded": every input becomes an initializer, so the whole graph is evaluated by constant
 *    folding at import.
 * Each output must have the expected element type and shape and match within ONNX's backend-test
 * tolerance (numpy assert_allclose with rtol 1e-3, atol 1e-7; integers exactly).
 *
 * The only cases allowed to fail are listed in EXPECTED_ERRORS, each with the RtapError it must
 * give (naming the node and the unsupported attribute, or the graph input and its type). A listed
 * case that starts to pass fails the test, so the list cannot go stale.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clone, fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProtoSchema, type ModelProto, type TensorProto } from "onnx-buf";
import { importOnnxBytes, tensorFromProto } from "../../src/import/onnx.js";
import { runGraph } from "../../src/float/executor.js";
import { isFloat, type Tensor } from "../../src/float/tensor.js";
import { SUPPORTED_OPS, onnxDType } from "../../src/float/ops.js";
import { RtapError } from "../../src/errors.js";
import { encodeModel } from "./onnx-builder.js";

export const ONNX_NODE_TESTS = "/usr/share/libonnx-testdata/data/node";
const skipNoTestdata: string | false = existsSync(ONNX_NODE_TESTS)
  ? false
  : `${ONNX_NODE_TESTS} is absent (Debian package libonnx-testdata; scripts/setup.sh installs it)`;

/** ONNX's backend test runner defaults (onnx/backend/test/runner: rtol 1e-3, atol 1e-7). */
const RTOL = 1e-3;
const ATOL = 1e-7;

/**
 * The cases rtap refuses, and the message each must give: fragments of the RtapError's message,
 * in both modes unless `folded` gives the folded mode's own.
 */
const EXPECTED_ERRORS: Record<string, { why: string; error: string[]; folded?: string[] }> = {
  // 1-D and 3-D pooling: rtap's windows are 2-D (the quantizer and compiler work on [C, H, W])
  test_averagepool_1d_default: { why: "1-D window", error: ['node "AveragePool_0" (AveragePool): kernel_shape [2] is 1-D; rtap supports 2-D windows only'] },
  test_averagepool_3d_default: { why: "3-D window", error: ['node "AveragePool_0" (AveragePool): kernel_shape [2,2,2] is 3-D; rtap supports 2-D windows only'] },
  test_maxpool_1d_default: { why: "1-D window", error: ['node "MaxPool_0" (MaxPool): kernel_shape [2] is 1-D; rtap supports 2-D windows only'] },
  test_maxpool_3d_default: { why: "3-D window", error: ['node "MaxPool_0" (MaxPool): kernel_shape [2,2,2] is 3-D; rtap supports 2-D windows only'] },
  // training mode: batch statistics and running-statistics outputs
  test_batchnorm_epsilon_training_mode: { why: "training_mode=1", error: ['node "BatchNormalization_0" (BatchNormalization): training_mode=1 is not supported'] },
  test_batchnorm_example_training_mode: { why: "training_mode=1", error: ['node "BatchNormalization_0" (BatchNormalization): training_mode=1 is not supported'] },
  // Dropout in training mode with ratio > 0 is random
  test_training_dropout: { why: "training_mode=true, random", error: ['node "Dropout_0" (Dropout): training_mode=true with ratio 0.75 drops values at random'] },
  test_training_dropout_mask: { why: "training_mode=true, random", error: ['node "Dropout_0" (Dropout): training_mode=true with ratio 0.75 drops values at random'] },
  test_training_dropout_default: { why: "training_mode=true, random", error: ['node "Dropout_0" (Dropout): training_mode=true with ratio 0.5 drops values at random'] },
  test_training_dropout_default_mask: { why: "training_mode=true, random", error: ['node "Dropout_0" (Dropout): training_mode=true with ratio 0.5 drops values at random'] },
  // Pad modes other than constant
  test_edge_pad: { why: 'mode="edge"', error: ['node "Pad_0" (Pad): mode="edge" is not supported (only mode="constant")'] },
  test_reflect_pad: { why: 'mode="reflect"', error: ['node "Pad_0" (Pad): mode="reflect" is not supported (only mode="constant")'] },
  // element types rtap has no tensors for: FLOAT16, BFLOAT16, STRING (as Cast's target, or as a
  // graph input; CastLike's expansion keeps its unused "like" input, of the target type)
  ...Object.fromEntries(
    [
      ["test_cast_DOUBLE_to_FLOAT16", "FLOAT16 (10)"],
      ["test_cast_FLOAT_to_BFLOAT16", "BFLOAT16 (16)"],
      ["test_cast_FLOAT_to_FLOAT16", "FLOAT16 (10)"],
      ["test_cast_FLOAT_to_STRING", "STRING (8)"],
    ].map(([name, type]) => [name, { why: `to=${type!.split(" ")[0]}`, error: [`node "Cast_0" (Cast): to=${type} is not supported`] }]),
  ),
  ...Object.fromEntries(
    [
      ["test_cast_FLOAT16_to_DOUBLE", "input", "FLOAT16 (10)"],
      ["test_cast_FLOAT16_to_FLOAT", "input", "FLOAT16 (10)"],
      ["test_cast_STRING_to_FLOAT", "input", "STRING (8)"],
      ["test_castlike_FLOAT16_to_DOUBLE_expanded", "input", "FLOAT16 (10)"],
      ["test_castlike_FLOAT16_to_FLOAT_expanded", "input", "FLOAT16 (10)"],
      ["test_castlike_STRING_to_FLOAT_expanded", "input", "STRING (8)"],
      ["test_castlike_DOUBLE_to_FLOAT16_expanded", "like", "FLOAT16 (10)"],
      ["test_castlike_FLOAT_to_FLOAT16_expanded", "like", "FLOAT16 (10)"],
      ["test_castlike_FLOAT_to_STRING_expanded", "like", "STRING (8)"],
    ].map(([name, input, type]) => [name, { why: `${type!.split(" ")[0]} input`, error: [`"${input}": has element type ${type}, which rtap does not support`] }]),
  ),
  // BFLOAT16 inputs: the data files store them as UINT16 tensors
  ...Object.fromEntries(
    [
      ["test_cast_BFLOAT16_to_FLOAT", "input"],
      ["test_castlike_BFLOAT16_to_FLOAT_expanded", "input"],
      ["test_castlike_FLOAT_to_BFLOAT16_expanded", "like"],
    ].map(([name, input]) => [
      name,
      { why: "BFLOAT16 input", error: [`graph input "${input}": has element type BFLOAT16 (16), which rtap does not support`], folded: [`initializer "${input}": has element type UINT16 (4), which rtap does not support`] },
    ]),
  ),
  // optional and sequence values (ONNX 1.10+ Identity): rtap's values are tensors
  test_identity_opt: { why: "optional input", error: ['graph input "opt_in": is of kind optionalType; rtap takes tensor inputs only'] },
  test_identity_sequence: { why: "sequence input", error: ['graph input "x": is of kind sequenceType; rtap takes tensor inputs only'] },
};

/** Operands rtap requires to be constant at import (they decide shapes): made initializers in the "runtime" mode too. */
const CONSTANT_OPERANDS: Record<string, number[]> = { Reshape: [1], Squeeze: [1], Unsqueeze: [1], Pad: [1, 3] };

interface DataSet {
  name: string;
  inputs: Uint8Array[];
  outputs: Uint8Array[];
}

interface Case {
  name: string;
  model: ModelProto;
  ops: string[];
  sets: DataSet[];
}

function pbFiles(dir: string, prefix: string): Uint8Array[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith(".pb"));
  files.sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
  return files.map((f) => readFileSync(join(dir, f)));
}

function discover(): Case[] {
  if (skipNoTestdata) return [];
  const supported = new Set(SUPPORTED_OPS);
  const cases: Case[] = [];
  for (const name of readdirSync(ONNX_NODE_TESTS).sort()) {
    const dir = join(ONNX_NODE_TESTS, name);
    if (!existsSync(join(dir, "model.onnx"))) continue;
    const model = fromBinary(ModelProtoSchema, readFileSync(join(dir, "model.onnx")));
    const ops = [...new Set(model.graph?.node.map((n) => n.opType) ?? [])];
    if (ops.length === 0 || !ops.every((o) => supported.has(o))) continue;
    const sets = readdirSync(dir)
      .filter((d) => d.startsWith("test_data_set_"))
      .sort()
      .map((d) => ({ name: d, inputs: pbFiles(join(dir, d), "input_"), outputs: pbFiles(join(dir, d), "output_") }));
    cases.push({ name, model, ops, sets });
  }
  return cases;
}

const tensorOf = (bytes: Uint8Array, where: string): Tensor => tensorFromProto(fromBinary(TensorProtoSchema, bytes), where);

/** The graph inputs proper (initializers listed as inputs by old exporters excluded), in order. */
function graphInputs(model: ModelProto): string[] {
  const inits = new Set(model.graph!.initializer.map((t) => t.name));
  return model.graph!.input.map((i) => i.name).filter((n) => !inits.has(n));
}

/** The model with the given graph inputs turned into initializers holding this data set's values. */
function withInitializers(model: ModelProto, set: DataSet, names: Set<string>): Uint8Array {
  const m = clone(ModelProtoSchema, model);
  graphInputs(model).forEach((name, i) => {
    if (!names.has(name)) return;
    const t: TensorProto = fromBinary(TensorProtoSchema, set.inputs[i]!);
    t.name = name;
    m.graph!.initializer.push(t);
  });
  return encodeModel(m);
}

function constantOperands(model: ModelProto): Set<string> {
  const out = new Set<string>();
  for (const n of model.graph!.node) for (const i of CONSTANT_OPERANDS[n.opType] ?? []) if (n.input[i]) out.add(n.input[i]!);
  return out;
}

/** Runs one data set in one mode; returns the outputs in graph order. */
function runCase(c: Case, set: DataSet, mode: "runtime" | "folded"): Tensor[] {
  const all = graphInputs(c.model);
  const consts = mode === "folded" ? new Set(all) : constantOperands(c.model);
  const bytes = consts.size > 0 ? withInitializers(c.model, set, consts) : encodeModel(c.model);
  const g = importOnnxBytes(bytes, c.name, { inputs: "tensors" });
  const feeds = new Map<string, Tensor>();
  all.forEach((name, i) => {
    if (!consts.has(name)) feeds.set(name, tensorOf(set.inputs[i]!, `${set.name}/input_${i}.pb`));
  });
  return runGraph(g, feeds).outputs;
}

/** numpy.testing.assert_allclose(actual, expected, rtol, atol), integers exactly; plus type and shape. */
function checkOutput(actual: Tensor, expectedBytes: Uint8Array, what: string): void {
  const proto = fromBinary(TensorProtoSchema, expectedBytes);
  const expected = tensorFromProto(proto, what);
  assert.equal(actual.dtype, onnxDType(proto.dataType), `${what}: element type`);
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  const float = isFloat(expected.dtype);
  let bad = 0, first = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!, e = expected.data[i]!;
    const ok = float ? (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= ATOL + RTOL * Math.abs(e)) : a === e;
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
  }
  assert.equal(bad, 0, `${what}: ${bad} of ${expected.data.length} values differ beyond rtol ${RTOL}, atol ${ATOL}; first at ${first}: ${actual.data[first]} vs ${expected.data[first]}`);
}

const CASES = discover();
const results = { passed: new Map<string, number>(), refused: new Map<string, number>() };
const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

describe("ONNX backend node tests (libonnx-testdata) through rtap's importer and kernels", { skip: skipNoTestdata }, () => {
  for (const c of CASES) {
    const group = c.ops.join("+");
    const expected = EXPECTED_ERRORS[c.name];
    test(`${c.name} (${group})${expected ? `: refused, ${expected.why}` : ""}`, () => {
      assert.ok(c.sets.length > 0, "the case has data sets");
      for (const set of c.sets) {
        for (const mode of ["runtime", "folded"] as const) {
          const where = `${c.name}/${set.name} (${mode})`;
          if (expected) {
            // The folded mode needs every input as a tensor initializer: not for optional/sequence inputs.
            if (mode === "folded" && c.model.graph!.input.some((i) => i.type?.value.case !== "tensorType")) continue;
            let err: unknown;
            try {
              runCase(c, set, mode);
            } catch (e) {
              err = e;
            }
            assert.ok(err !== undefined, `${where}: listed in EXPECTED_ERRORS (${expected.why}) but it ran; if rtap supports it now, remove it from the list`);
            assert.ok(err instanceof RtapError, `${where}: expected an RtapError, got ${(err as Error).stack}`);
            for (const f of (mode === "folded" && expected.folded) || expected.error) assert.ok(err.message.includes(f), `${where}: message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
            continue;
          }
          const outs = runCase(c, set, mode);
          assert.equal(outs.length, set.outputs.length, `${where}: number of outputs`);
          outs.forEach((o, i) => checkOutput(o, set.outputs[i]!, `${where} output ${i}`));
        }
      }
      bump(expected ? results.refused : results.passed, group);
    });
  }

  test("summary: every supported operator is covered, every listed exception exists", (t) => {
    const names = new Set(CASES.map((c) => c.name));
    for (const name of Object.keys(EXPECTED_ERRORS)) assert.ok(names.has(name), `EXPECTED_ERRORS lists ${name}, which is not a case of the suite`);
    for (const op of SUPPORTED_OPS) assert.ok((results.passed.get(op) ?? 0) > 0, `no node test of ${op} passed`);
    const passed = [...results.passed.values()].reduce((a, b) => a + b, 0);
    const refused = [...results.refused.values()].reduce((a, b) => a + b, 0);
    const groups = [...new Set([...results.passed.keys(), ...results.refused.keys()])].sort();
    t.diagnostic(`${CASES.length} node tests of ${SUPPORTED_OPS.length} operators: ${passed} pass, ${refused} refused as listed`);
    t.diagnostic(groups.map((g) => `${g} ${results.passed.get(g) ?? 0}${results.refused.has(g) ? `+${results.refused.get(g)} refused` : ""}`).join(", "));
    assert.equal(passed + refused, CASES.length, "every case ran (a failing case fails its own test)");
  });
});

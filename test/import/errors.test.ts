/**
 * Bad ONNX input: every problem is an RtapError whose message names the file, the problem and,
 * when a node is at fault, the node as `node "<name>" (<op>)`. Most cases edit the real
 * fmnist-resnet8.onnx with onnx-buf (rename an operator, drop an initializer, change an attribute).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, type ModelProto, type NodeProto } from "onnx-buf";
import { importOnnxBytes, importOnnxFile } from "../../src/import/onnx.js";
import { Rng } from "../../src/util/random.js";
import { decodeModel, encodeModel, OnnxModelBuilder, setInitializer } from "./onnx-builder.js";
import { fixtureModel } from "./fixtures.js";
import { expectRtapError } from "./expect-error.js";

const FILE = "fmnist-resnet8.onnx";
const BYTES = new Uint8Array(readFileSync(fixtureModel(FILE)));
const STEM = "/stem/stem.0/Conv";
const C1 = "/layers/layers.0/c1/Conv";

/** The fixture model edited by `edit`, re-serialized. */
function edited(edit: (m: ModelProto) => void): Uint8Array {
  const m = decodeModel(BYTES);
  edit(m);
  return encodeModel(m);
}

function nodeNamed(m: ModelProto, name: string): NodeProto {
  const n = m.graph!.node.find((x) => x.name === name);
  assert.ok(n, `node ${name} in the fixture`);
  return n;
}

function setAttr(n: NodeProto, name: string, value: { i?: bigint; ints?: bigint[]; s?: string }): void {
  n.attribute = n.attribute.filter((a) => a.name !== name);
  const type = value.i !== undefined ? AT.INT : value.ints ? AT.INTS : AT.STRING;
  n.attribute.push(
    create(AttributeProtoSchema, { name, type, i: value.i ?? 0n, ints: value.ints ?? [], s: value.s !== undefined ? new TextEncoder().encode(value.s) : new Uint8Array() }),
  );
}

describe("bad ONNX input gives an RtapError naming the problem and the node", () => {
  test("truncated files", () => {
    for (const n of [0, 1, 10, 100, 1000, BYTES.length >> 1, BYTES.length - 100, BYTES.length - 1]) {
      expectRtapError(() => importOnnxBytes(BYTES.subarray(0, n), "cut.onnx"), "cut.onnx: ");
    }
    expectRtapError(() => importOnnxBytes(BYTES.subarray(0, BYTES.length >> 1), "cut.onnx"), "not a valid ONNX file (protobuf decoding failed");
  });

  test("random bytes, an empty file, a text file", () => {
    const rng = new Rng(7);
    for (let k = 0; k < 20; k++) {
      const junk = Uint8Array.from({ length: rng.int(1, 5000) }, () => rng.int(0, 255));
      expectRtapError(() => importOnnxBytes(junk, "junk.onnx"), "junk.onnx: ");
    }
    expectRtapError(() => importOnnxBytes(new Uint8Array(0), "empty.onnx"), "empty.onnx: the file holds no graph");
    expectRtapError(() => importOnnxBytes(new TextEncoder().encode("hello, this is not a model\n"), "text.onnx"), "text.onnx: ");
  });

  test("a file that does not exist", () => {
    const dir = mkdtempSync(join(tmpdir(), "rtap-import-"));
    try {
      expectRtapError(() => importOnnxFile(join(dir, "nope.onnx")), "nope.onnx: cannot read model file: ENOENT");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an unsupported operator (Conv renamed to LSTM)", () => {
    const bytes = edited((m) => (nodeNamed(m, C1).opType = "LSTM"));
    expectRtapError(() => importOnnxBytes(bytes, FILE), `${FILE}: node "${C1}" (LSTM): unsupported operator LSTM; rtap supports `, "Conv, ");
  });

  test("an operator from another domain", () => {
    const bytes = edited((m) => (nodeNamed(m, C1).domain = "com.microsoft"));
    expectRtapError(() => importOnnxBytes(bytes, FILE), `node "${C1}" (Conv): operator domain "com.microsoft" is not supported`);
  });

  test("a missing initializer (the stem's weights dropped)", () => {
    let weight = "";
    const bytes = edited((m) => {
      weight = nodeNamed(m, STEM).input[1]!;
      m.graph!.initializer = m.graph!.initializer.filter((t) => t.name !== weight);
    });
    expectRtapError(() => importOnnxBytes(bytes, FILE), `node "${STEM}" (Conv): input "${weight}" is not a graph input, an initializer or the output of any node (missing initializer?)`);
  });

  test("conv weights with the wrong input-channel count", () => {
    const bytes = edited((m) => {
      const w = m.graph!.initializer.find((t) => t.name === nodeNamed(m, C1).input[1])!;
      setInitializer(w, [16, 8, 3, 3], new Float32Array(16 * 8 * 9).fill(0.5));
    });
    expectRtapError(() => importOnnxBytes(bytes, FILE), `node "${C1}" (Conv): input has 16 channels but weights expect 8 (shape [16,8,3,3], group 1)`);
  });

  test("an initializer whose raw data does not match its dims", () => {
    const bytes = edited((m) => {
      const w = m.graph!.initializer.find((t) => t.name === nodeNamed(m, STEM).input[1])!;
      w.rawData = w.rawData.subarray(0, w.rawData.length - 4);
    });
    expectRtapError(() => importOnnxBytes(bytes, FILE), /initializer ".*": raw data has \d+ bytes but shape \[16,1,3,3\] of float32 needs 576/);
  });

  test("Conv group=2 on the 1-channel stem (does not divide)", () => {
    const bytes = edited((m) => setAttr(nodeNamed(m, STEM), "group", { i: 2n }));
    expectRtapError(() => importOnnxBytes(bytes, FILE), `node "${STEM}" (Conv): group=2 does not divide the channels`);
  });

  test('auto_pad="FOO"', () => {
    const bytes = edited((m) => setAttr(nodeNamed(m, C1), "auto_pad", { s: "FOO" }));
    expectRtapError(() => importOnnxBytes(bytes, FILE), `node "${C1}" (Conv): unsupported auto_pad "FOO"`);
  });

  test("kernel_shape that contradicts the weights, 3-D kernels, negative pads, zero strides", () => {
    const cases: [(n: NodeProto) => void, string][] = [
      [(n) => setAttr(n, "kernel_shape", { ints: [5n, 5n] }), "kernel_shape [5,5] does not match weight shape [16,16,3,3]"],
      [(n) => setAttr(n, "kernel_shape", { ints: [3n, 3n, 3n] }), "kernel_shape [3,3,3] is 3-D; rtap supports 2-D windows only (input shape [1,16,28,28])"],
      [(n) => setAttr(n, "kernel_shape", { ints: [0n, 3n] }), "kernel_shape must be 2 positive values (2-D only), got [0,3]"],
      [(n) => setAttr(n, "pads", { ints: [-1n, 1n, 1n, 1n] }), "unsupported pads [-1,1,1,1]"],
      [(n) => setAttr(n, "strides", { ints: [0n, 1n] }), "unsupported strides [0,1]"],
    ];
    for (const [edit, msg] of cases) {
      const bytes = edited((m) => edit(nodeNamed(m, C1)));
      expectRtapError(() => importOnnxBytes(bytes, FILE), `node "${C1}" (Conv): ${msg}`);
    }
  });

  test("a tensor produced twice, a cycle, a dangling graph output", () => {
    const twice = edited((m) => (nodeNamed(m, C1).output[0] = nodeNamed(m, STEM).output[0]!));
    expectRtapError(() => importOnnxBytes(twice, FILE), `node "${C1}" (Conv): tensor "${"/stem/stem.0/Conv_output_0"}" is produced twice`);
    const cycle = edited((m) => (nodeNamed(m, STEM).input[0] = nodeNamed(m, C1).output[0]!));
    expectRtapError(() => importOnnxBytes(cycle, FILE), /: node "[^"]+" \((Conv|Div|Round|Clip|Mul)\): the graph has a cycle$/);
    const dangling = edited((m) => (m.graph!.output[0]!.name = "nowhere"));
    expectRtapError(() => importOnnxBytes(dangling, FILE), `${FILE}: graph output "nowhere" is not produced by any node`);
  });

  test("graph inputs rtap cannot feed: two inputs, a non-image shape, an integer type, an old opset", () => {
    const b = (): OnnxModelBuilder => new OnnxModelBuilder();
    const two = b().input("X", [1, 1, 4, 4]).input("Y", [1, 1, 4, 4]);
    two.output(two.node("Add", ["X", "Y"]));
    expectRtapError(() => importOnnxBytes(two.bytes(), "two.onnx"), "two.onnx: rtap expects exactly one graph input (an image batch), found 2: X, Y");
    const flat = b().input("X", [1, 784]);
    flat.output(flat.node("Relu", ["X"]));
    expectRtapError(() => importOnnxBytes(flat.bytes(), "flat.onnx"), 'graph input "X": has shape [1,784]; rtap expects an image batch [N, C, H, W]');
    // Add changed in opset 7 (numpy broadcasting replaced the broadcast/axis attributes)
    const old = new OnnxModelBuilder({ opset: 6 }).input("X", [1, 1, 4, 4]);
    old.output(old.node("Add", ["X", old.node("Relu", ["X"])], 1, {}, "old_add"));
    expectRtapError(() => importOnnxBytes(old.bytes(), "old.onnx"), 'old.onnx: opset 6 is too old for Add (node "old_add"); rtap supports opset 7 and newer, and older opsets only for operators whose definition has not changed since');
    // Relu alone has not changed since opset 1: such a model imports
    const relu = new OnnxModelBuilder({ opset: 6 }).input("X", [1, 1, 4, 4]);
    relu.output(relu.node("Relu", ["X"]));
    assert.equal(importOnnxBytes(relu.bytes(), "relu6.onnx").opset, 6);
    const int = edited((m) => {
      const t = m.graph!.input[0]!.type!.value;
      assert.equal(t.case, "tensorType");
      if (t.case === "tensorType") t.value.elemType = 2;
    });
    expectRtapError(() => importOnnxBytes(int, FILE), 'graph input "input": has element type uint8; rtap expects float32 images');
  });

  test("shape errors inside the graph name the node", () => {
    const b = new OnnxModelBuilder().input("X", [1, 2, 4, 4]);
    b.output(b.node("Add", ["X", b.floats("k", [3], [1, 2, 3])], 1, {}, "bad_add"));
    expectRtapError(() => importOnnxBytes(b.bytes(), "bc.onnx"), 'node "bad_add" (Add): shapes [1,2,4,4] and [3] cannot be broadcast');
    const r = new OnnxModelBuilder().input("X", [1, 2, 4, 4]);
    r.output(r.node("Reshape", ["X", r.initializer("s", { dtype: "int64", dims: [2], data: [5, -1] })], 1, {}, "bad_reshape"));
    expectRtapError(() => importOnnxBytes(r.bytes(), "rs.onnx"), 'node "bad_reshape" (Reshape): cannot reshape [1,2,4,4] to [5,-1]');
    const g = new OnnxModelBuilder().input("X", [1, 2, 4, 4]);
    g.output(g.node("Gemm", [g.node("Flatten", ["X"]), g.floats("W", [5, 7], new Float32Array(35))], 1, {}, "bad_gemm"));
    expectRtapError(() => importOnnxBytes(g.bytes(), "gemm.onnx"), 'node "bad_gemm" (Gemm): inner dimensions differ: A [1,32] x B [5,7]');
    const p = new OnnxModelBuilder().input("X", [1, 1, 2, 2]);
    p.output(p.node("MaxPool", ["X"], 1, { kernel_shape: { ints: [3, 3] } }, "big_pool"));
    expectRtapError(() => importOnnxBytes(p.bytes(), "pool.onnx"), 'node "big_pool" (MaxPool): kernel 3 (dilation 1) does not fit input size 2 with pads 0+0');
  });
});

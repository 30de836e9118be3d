/**
 * Fuzzing the importer and the quantizer with mutated copies of fmnist-resnet8.qdq.onnx: flipped
 * bits, random bytes, truncation, duplicated byte ranges, overwritten varints; and, at the protobuf
 * level, with well-formed files whose operators, attributes, initializer dims/types and node inputs
 * are replaced by random ones (every fmnist encoding). Whatever the bytes,
 * importOnnxBytes (and quantizeGraph, and one integer inference, when import succeeds) must either
 * work or throw an RtapError — never a TypeError, RangeError or any other crash. Mutations favour
 * the node list at the head of the file and the graph inputs/outputs and opset at its tail (the
 * middle is mostly raw weight bytes, where a flip rarely changes the structure).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { AttributeProto_AttributeType as AT, AttributeProtoSchema, type ModelProto } from "onnx-buf";
import { RtapError } from "../../src/errors.js";
import { SUPPORTED_OPS } from "../../src/float/ops.js";
import { importOnnxBytes } from "../../src/import/onnx.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import { runReference } from "../../src/reference/integer.js";
import { Rng } from "../../src/util/random.js";
import { FMNIST_ENCODINGS, fixtureModel } from "./fixtures.js";
import { decodeModel, encodeModel } from "./onnx-builder.js";

const MUTATIONS = 1000;
const ORIGINAL = new Uint8Array(readFileSync(fixtureModel("fmnist-resnet8.qdq.onnx")));

/** A byte position: a third in the node list (head), a third in the tail, a third anywhere. */
function position(rng: Rng, n: number): number {
  switch (rng.int(0, 2)) {
    case 0:
      return rng.int(0, Math.min(n - 1, 6000));
    case 1:
      return rng.int(Math.max(0, n - 3000), n - 1);
    default:
      return rng.int(0, n - 1);
  }
}

const VARINTS = [[0xff, 0xff, 0xff, 0xff, 0x0f], [0x00], [0x7f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x81, 0x01], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]];
const KINDS = ["flip bits", "random byte", "truncate", "duplicate range", "overwrite varint", "delete range"] as const;
type Kind = (typeof KINDS)[number];

function mutate(rng: Rng, src: Uint8Array): { bytes: Uint8Array; kind: Kind } {
  let b = src.slice();
  const kind = KINDS[rng.int(0, KINDS.length - 1)]!;
  const rounds = rng.int(1, 3);
  for (let r = 0; r < rounds; r++) {
    switch (kind) {
      case "flip bits":
        for (let i = rng.int(1, 8); i > 0; i--) b[position(rng, b.length)]! ^= 1 << rng.int(0, 7);
        break;
      case "random byte":
        b[position(rng, b.length)] = rng.int(0, 255);
        break;
      case "truncate":
        b = b.slice(0, rng.int(0, b.length - 1));
        break;
      case "duplicate range": {
        const from = position(rng, b.length), len = rng.int(1, Math.min(2048, b.length - from)), at = position(rng, b.length);
        const out = new Uint8Array(b.length + len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(from, from + len), at);
        out.set(b.subarray(at), at + len);
        b = out;
        break;
      }
      case "overwrite varint": {
        const v = VARINTS[rng.int(0, VARINTS.length - 1)]!;
        const at = position(rng, b.length);
        b.set(v.slice(0, b.length - at), at);
        break;
      }
      case "delete range": {
        const from = position(rng, b.length), len = rng.int(1, Math.min(256, b.length - from));
        b = Uint8Array.from([...b.subarray(0, from), ...b.subarray(from + len)]);
        break;
      }
    }
    if (b.length === 0) break;
  }
  return { bytes: b, kind };
}

describe("fuzzing import + quantization of mutated ONNX bytes", () => {
  test(`${MUTATIONS} seeded mutations of fmnist-resnet8.qdq.onnx: every failure is an RtapError`, (t) => {
    const outcomes = { valid: 0, "rtap-error": 0, crash: 0 };
    const stage = { decode: 0, import: 0, quantize: 0, reference: 0 };
    const byKind = new Map<Kind, { valid: number; rtap: number }>();
    const crashes: string[] = [];
    const image = new Uint8Array(784).fill(99);
    for (let seed = 0; seed < MUTATIONS; seed++) {
      const { bytes, kind } = mutate(new Rng(seed), ORIGINAL);
      const k = byKind.get(kind) ?? { valid: 0, rtap: 0 };
      byKind.set(kind, k);
      let at: keyof typeof stage = "import";
      try {
        const g = importOnnxBytes(bytes, `mutant-${seed}.onnx`);
        at = "quantize";
        const q = quantizeGraph(g);
        at = "reference";
        // a QGraph must also run (the mutated graph may still be 1x28x28 or not)
        const inT = q.tensors.get(q.input)!;
        const per = inT.shape[0] * inT.shape[1] * inT.shape[2];
        if (per <= 3 * 64 * 64) runReference(q, per === 784 ? image : new Uint8Array(per), 1);
        outcomes.valid++;
        k.valid++;
      } catch (e) {
        if (e instanceof RtapError) {
          outcomes["rtap-error"]++;
          k.rtap++;
          stage[at === "import" && e.message.includes("protobuf decoding failed") ? "decode" : at]++;
        } else {
          outcomes.crash++;
          crashes.push(`seed ${seed} (${kind}) in ${at}: ${(e as Error)?.stack ?? String(e)}`);
        }
      }
    }
    t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
    t.diagnostic(`RtapErrors by stage: ${JSON.stringify(stage)}`);
    t.diagnostic(`by mutation: ${[...byKind].map(([kind, c]) => `${kind} ${c.valid} valid / ${c.rtap} rtap-error`).join("; ")}`);
    assert.deepEqual(crashes.slice(0, 5), [], `${crashes.length} crash(es)`);
    assert.equal(outcomes.valid + outcomes["rtap-error"], MUTATIONS);
    // the fuzzer exercises both outcomes and every stage that can reject
    assert.ok(outcomes.valid > 50 && outcomes["rtap-error"] > 50);
    assert.ok(stage.decode > 0 && stage.import > 0);
  });

  const STRUCTURED = 200;
  const ATTRS = ["kernel_shape", "strides", "pads", "dilations", "group", "axis", "auto_pad", "ceil_mode", "count_include_pad", "transA", "transB", "to", "axes", "epsilon", "alpha", "allowzero", "storage_order"];

  /** One random well-formed edit: operator, attribute, initializer dims or type, or a node input. */
  function editModel(rng: Rng, m: ModelProto): string {
    const nodes = m.graph!.node, inits = m.graph!.initializer;
    const n = nodes[rng.int(0, nodes.length - 1)]!;
    switch (rng.int(0, 4)) {
      case 0:
        n.opType = SUPPORTED_OPS[rng.int(0, SUPPORTED_OPS.length - 1)]!;
        return `op of ${n.name} -> ${n.opType}`;
      case 1: {
        const name = ATTRS[rng.int(0, ATTRS.length - 1)]!;
        n.attribute = n.attribute.filter((a) => a.name !== name);
        const ints = (): bigint[] => Array.from({ length: rng.int(0, 5) }, () => BigInt(rng.int(-3, 40)));
        const kinds = [
          { name, type: AT.INT, i: BigInt(rng.int(-5, 40)) },
          { name, type: AT.INTS, ints: ints() },
          { name, type: AT.STRING, s: new TextEncoder().encode(["SAME_UPPER", "VALID", "NOTSET", "x"][rng.int(0, 3)]!) },
          { name, type: AT.FLOAT, f: rng.normal() },
        ];
        n.attribute.push(create(AttributeProtoSchema, kinds[rng.int(0, 3)]!));
        return `attribute ${name} of ${n.name}`;
      }
      case 2: {
        const t = inits[rng.int(0, inits.length - 1)]!;
        t.dims = Array.from({ length: rng.int(0, 4) }, () => BigInt(rng.int(0, 20)));
        return `dims of ${t.name}`;
      }
      case 3: {
        const t = inits[rng.int(0, inits.length - 1)]!;
        t.dataType = rng.int(0, 16);
        return `type of ${t.name}`;
      }
      default: {
        if (n.input.length === 0) return "nothing";
        const choices = ["", inits[rng.int(0, inits.length - 1)]!.name, nodes[rng.int(0, nodes.length - 1)]!.output[0]!];
        n.input[rng.int(0, n.input.length - 1)] = choices[rng.int(0, 2)]!;
        return `an input of ${n.name}`;
      }
    }
  }

  test(`${STRUCTURED} well-formed files with random operators/attributes/dims/inputs: every failure is an RtapError`, (t) => {
    const originals = FMNIST_ENCODINGS.map((f) => new Uint8Array(readFileSync(fixtureModel(f))));
    let valid = 0, rtap = 0;
    const crashes: string[] = [];
    for (let seed = 0; seed < STRUCTURED; seed++) {
      const rng = new Rng(100_000 + seed);
      const m = decodeModel(originals[rng.int(0, originals.length - 1)]!);
      const what = editModel(rng, m);
      try {
        const q = quantizeGraph(importOnnxBytes(encodeModel(m), `edited-${seed}.onnx`));
        const inT = q.tensors.get(q.input)!;
        runReference(q, new Uint8Array(inT.shape[0] * inT.shape[1] * inT.shape[2]).fill(77), 1);
        valid++;
      } catch (e) {
        if (e instanceof RtapError) rtap++;
        else crashes.push(`seed ${100_000 + seed} (${what}): ${(e as Error)?.stack ?? String(e)}`);
      }
    }
    t.diagnostic(`outcomes: {"valid":${valid},"rtap-error":${rtap},"crash":${crashes.length}}`);
    assert.deepEqual(crashes.slice(0, 5), [], `${crashes.length} crash(es)`);
    assert.ok(valid > 10 && rtap > 10);
  });
});

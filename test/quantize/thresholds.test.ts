/**
 * Exactness of the requantization thresholds of the fmnist-resnet8 QGraphs (all three encodings).
 *
 * For every requant op and every channel, the code given by the thresholds
 * (#{k : v >= T[c][k-1]}) must equal the code the source graph computes from the same integer v:
 * real = scale[c] * v + offset[c] of the requant's input tensor, rounded to float32, then the
 * source graph's own nodes (Div -> Round -> Clip -> Mul, BatchNormalization first in the .bn file,
 * Clip -> QuantizeLinear -> DequantizeLinear in the QDQ file) run by the float executor's operator
 * implementations on a [1, C, 1, n] tensor. The check is exhaustive over the channel's whole
 * [min, max] range when it has at most 2e5 integers (every conv output); the residual-add outputs
 * (fixed-point multipliers, ranges up to 3e8) get a dense even sample of the whole range, every
 * integer within 512 of each threshold, and the whole band where the code changes when it has at
 * most 2e5 integers. A meta-test checks that the comparison catches a threshold off by one.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { importOnnxFile } from "../../src/import/onnx.js";
import type { Graph, GraphNode } from "../../src/import/graph.js";
import { opDef } from "../../src/float/ops.js";
import type { Tensor } from "../../src/float/tensor.js";
import { quantizeGraph } from "../../src/quantize/quantize.js";
import type { QGraph, QRequantOp } from "../../src/quantize/qgraph.js";
import { FMNIST_ENCODINGS, fixtureModel } from "../import/fixtures.js";

const EXHAUSTIVE_LIMIT = 200_000;
const SAMPLE = 50_000;
const NEIGHBOURHOOD = 512;
const ELEMENTWISE = new Set(["Div", "Mul", "Add", "Sub", "Round", "Clip", "Relu", "BatchNormalization", "QuantizeLinear", "DequantizeLinear", "Identity"]);

interface SourceChain {
  /** Elementwise nodes from the requant's input tensor to its float output, in order. */
  nodes: GraphNode[];
  /** The node whose output is the integer code (QuantizeLinear, or the Clip after Round). */
  codeNode: GraphNode;
}

/** Walks the source graph back from the requant's float tensor to its integer input tensor. */
function sourceChain(g: Graph, op: QRequantOp): SourceChain {
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const nodes: GraphNode[] = [];
  let cur = op.output.replace(/#\d+$/, "");
  while (cur !== op.input) {
    const n = producer.get(cur);
    assert.ok(n && ELEMENTWISE.has(n.opType), `${op.name}: ${cur} is produced by ${n?.opType ?? "nothing"}, not an elementwise node`);
    nodes.unshift(n);
    const act = n.inputs.filter((i) => i && !g.constants.has(i));
    assert.equal(act.length, 1, `${n.name} has one activation input`);
    cur = act[0]!;
  }
  const q = nodes.filter((n) => n.opType === "QuantizeLinear");
  const roundAt = nodes.findIndex((n) => n.opType === "Round");
  const codeNode = q.length ? q[q.length - 1]! : nodes.slice(roundAt).find((n) => n.opType === "Clip")!;
  assert.ok(codeNode, `${op.name}: no rounding step in ${nodes.map((n) => n.opType).join(" -> ")}`);
  return { nodes, codeNode };
}

/**
 * Runs the chain on values[c] (integers of the input tensor, per channel, all the same length):
 * returns the codes and the chain's final float values.
 */
function runChain(g: Graph, q: QGraph, op: QRequantOp, chain: SourceChain, values: Int32Array[]): { codes: Int32Array[]; out: Float32Array } {
  const t = q.tensors.get(op.input)!;
  const C = t.shape[0], n = values[0]!.length;
  const x = new Float32Array(C * n);
  for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) x[c * n + i] = t.scale[c]! * values[c]![i]! + t.offset[c]!; // float32 store rounds
  let cur: Tensor = { dtype: "float32", dims: [1, C, 1, n], data: x };
  let code: Tensor | undefined;
  for (const node of chain.nodes) {
    const ins = node.inputs.map((i) => (i === "" ? undefined : (g.constants.get(i) ?? cur)));
    cur = opDef(node).run(node, ins)[0]!;
    if (node === chain.codeNode) code = cur;
  }
  const codes = Array.from({ length: C }, (_, c) => Int32Array.from(code!.data.subarray(c * n, (c + 1) * n)));
  return { codes, out: cur.data as Float32Array };
}

function thresholdCode(T: Int32Array, base: number, L: number, v: number): number {
  let k = 0;
  while (k < L && v >= T[base + k]!) k++;
  return k;
}

/** The integers to check per channel, and whether that list is the whole range. */
function valuesToCheck(op: QRequantOp, min: number, max: number, c: number): { values: number[]; exhaustive: boolean } {
  const range = max - min + 1;
  if (range <= EXHAUSTIVE_LIMIT) return { values: Array.from({ length: range }, (_, i) => min + i), exhaustive: true };
  const L = (1 << op.bits) - 1;
  const T = op.thresholds.subarray(c * L, (c + 1) * L);
  const set = new Set<number>();
  for (let i = 0; i < SAMPLE; i++) set.add(min + Math.floor((i * (range - 1)) / (SAMPLE - 1)));
  for (const th of T) for (let d = -NEIGHBOURHOOD; d <= NEIGHBOURHOOD; d++) set.add(th + d);
  // the band where codes change, whole when small
  const lo = T[0]! - 2, hi = T[L - 1]! + 2;
  if (hi - lo <= EXHAUSTIVE_LIMIT) for (let v = lo; v <= hi; v++) set.add(v);
  return { values: [...set].filter((v) => v >= min && v <= max).sort((a, b) => a - b), exhaustive: false };
}

interface CheckResult {
  checked: number;
  exhaustiveChannels: number;
  sampledChannels: number;
  /** The first few disagreements (empty when exact). */
  mismatches: string[];
}

/** Compares threshold codes with the source chain on every value of valuesToCheck, per channel. */
function checkRequant(g: Graph, q: QGraph, op: QRequantOp, channels?: number[]): CheckResult {
  const chain = sourceChain(g, op);
  const tIn = q.tensors.get(op.input)!, tOut = q.tensors.get(op.output)!;
  const C = tIn.shape[0], L = (1 << op.bits) - 1;
  const res: CheckResult = { checked: 0, exhaustiveChannels: 0, sampledChannels: 0, mismatches: [] };
  const active = new Set(channels ?? Array.from({ length: C }, (_, c) => c));
  // value lists per channel, padded to one length with the channel's last value
  const lists = Array.from({ length: C }, (_, c) =>
    active.has(c) ? valuesToCheck(op, tIn.minPerChannel[c]!, tIn.maxPerChannel[c]!, c) : { values: [tIn.minPerChannel[c]!], exhaustive: false },
  );
  for (const c of active) {
    if (lists[c]!.exhaustive) res.exhaustiveChannels++;
    else res.sampledChannels++;
    res.checked += lists[c]!.values.length;
  }
  const n = Math.max(...lists.map((l) => l.values.length));
  const CHUNK = 16_384;
  for (let start = 0; start < n; start += CHUNK) {
    const len = Math.min(CHUNK, n - start);
    const values = lists.map((l) => Int32Array.from({ length: len }, (_, i) => l.values[Math.min(start + i, l.values.length - 1)]!));
    const { codes, out } = runChain(g, q, op, chain, values);
    for (const c of active) {
      for (let i = 0; i < len && res.mismatches.length < 5; i++) {
        const v = values[c]![i]!;
        const want = codes[c]![i]!;
        const got = thresholdCode(op.thresholds, c * L, L, v);
        if (got !== want) res.mismatches.push(`channel ${c}: v=${v} thresholds give code ${got}, the float chain ${want}`);
        // the requant output's meaning (scale * code + offset) is the float chain's output value
        const y = out[c * len + i]!;
        if (!(Math.abs(tOut.scale[c]! * got + tOut.offset[c]! - y) <= 1e-6 * Math.max(1, Math.abs(y)))) {
          res.mismatches.push(`channel ${c}: v=${v} code ${got} means ${tOut.scale[c]! * got + tOut.offset[c]!}, the float chain gives ${y}`);
        }
      }
    }
  }
  for (const c of active) {
    for (let k = 1; k < L; k++) if (op.thresholds[c * L + k]! < op.thresholds[c * L + k - 1]!) res.mismatches.push(`channel ${c}: thresholds decrease at ${k}`);
    if (!(op.thresholds[c * L]! >= tIn.minPerChannel[c]! && op.thresholds[c * L + L - 1]! <= tIn.maxPerChannel[c]! + 1)) res.mismatches.push(`channel ${c}: thresholds outside [min, max+1]`);
  }
  return res;
}

describe("requant thresholds reproduce the source graph's float chain on every integer input", () => {
  for (const file of FMNIST_ENCODINGS) {
    test(file, (t) => {
      const g = importOnnxFile(fixtureModel(file));
      const q = quantizeGraph(g);
      const requants = q.ops.filter((o): o is QRequantOp => o.kind === "requant");
      assert.equal(requants.length, 7);
      let checked = 0, exhaustiveChannels = 0, sampledChannels = 0;
      for (const op of requants) {
        const r = checkRequant(g, q, op);
        assert.deepEqual(r.mismatches, [], `${file} ${op.name}`);
        checked += r.checked;
        exhaustiveChannels += r.exhaustiveChannels;
        sampledChannels += r.sampledChannels;
      }
      t.diagnostic(`${file}: ${checked} (op, channel, value) triples checked; ${exhaustiveChannels} channels exhaustive, ${sampledChannels} sampled`);
    });
  }

  test("the check catches a threshold moved by one (meta-test)", () => {
    const g = importOnnxFile(fixtureModel("fmnist-resnet8.onnx"));
    const q = quantizeGraph(g);
    for (const op of q.ops.filter((o): o is QRequantOp => o.kind === "requant").slice(0, 3)) {
      const L = (1 << op.bits) - 1;
      const k = 7, c = 1;
      for (const delta of [-1, 1]) {
        const bad: QRequantOp = { ...op, thresholds: op.thresholds.slice() };
        bad.thresholds[c * L + k]! += delta;
        const r = checkRequant(g, q, bad, [c]);
        assert.ok(r.mismatches.length > 0, `${op.name}: threshold ${k} of channel ${c} moved by ${delta} went unnoticed`);
      }
    }
  });
});

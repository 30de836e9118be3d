/**
 * Compute units (src/compiler/units.ts): how the QGraph is cut into the pieces the compiler maps
 * one at a time. fmnist-resnet8: conv+requant, conv+add(identity)+requant, conv+shortcut conv+add+
 * requant fused into one unit, the global pool, the FC layer without requant. A hand-made network
 * adds an add unit no conv can absorb and max pools. Every QGraph op is covered exactly once.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildUnits, unitInputs, type ComputeUnit } from "../../src/compiler/units.js";
import type { QAddOp, QGraph } from "../../src/quantize/qgraph.js";
import { loadQuantizedModel } from "../../src/model.js";
import { fmnistQGraph, handMadeNet } from "./helpers.js";

function assertCoverage(q: QGraph, units: ComputeUnit[]): void {
  const seen = new Map<string, number>();
  for (const u of units) for (const op of u.ops) seen.set(op.name, (seen.get(op.name) ?? 0) + 1);
  for (const op of q.ops) {
    if (op.kind === "input") continue;
    assert.equal(seen.get(op.name), 1, `op ${op.kind} "${op.name}" covered ${seen.get(op.name) ?? 0} times`);
  }
  // units in execution order: every input is the network input or an earlier unit's output
  const stored = new Set([q.input]);
  for (const u of units) {
    for (const t of unitInputs(u)) assert.ok(stored.has(t), `unit ${u.name} reads ${t} before it is stored`);
    stored.add(u.output);
  }
  assert.equal(units[units.length - 1]!.output, q.output);
}

describe("buildUnits on fmnist-resnet8", () => {
  const q = fmnistQGraph();
  const units = buildUnits(q);
  const addOf = (name: string): QAddOp => q.ops.find((o) => o.kind === "add" && o.name === name) as QAddOp;

  test("9 units; the QGraph's 22 non-input ops each covered once, in execution order", () => {
    assert.deepEqual(units.map((u) => u.kind), ["conv", "conv", "conv", "conv", "conv", "conv", "conv", "sumpool", "conv"]);
    assertCoverage(q, units);
    assert.deepEqual(units.map((u) => u.ops.map((o) => o.kind).join("+")), [
      "conv+requant", "conv+requant", "conv+add+requant", "conv+requant", "conv+conv+add+requant",
      "conv+requant", "conv+conv+add+requant", "sumpool", "conv",
    ]);
  });

  test("identity shortcut: conv + add + requant, the block input is a stored term with the add's multiplier", () => {
    const u = units[2]!;
    assert.equal(u.kind, "conv");
    if (u.kind !== "conv") return;
    const add = addOf("/layers/layers.0/Add_output_0");
    assert.equal(u.terms.length, 1);
    assert.equal(u.preRequant, add.output);
    const mine = add.inputs.indexOf(u.terms[0]!.conv.output);
    assert.ok(mine >= 0);
    assert.deepEqual(u.terms[0]!.mul, add.mul[mine]);
    assert.ok(u.stored);
    assert.equal(u.stored.tensor, add.inputs[1 - mine]);
    assert.equal(u.stored.tensor, units[0]!.output, "the block input is the stem's output");
    assert.deepEqual(u.stored.mul, add.mul[1 - mine]);
    assert.ok(u.requant);
    assert.equal(u.output, u.requant.output);
    assert.deepEqual(unitInputs(u), [units[1]!.output, units[0]!.output]);
  });

  test("shortcut conv fused: both convs in one unit with the add's per-channel multipliers, no stored term", () => {
    for (const [i, addName] of [[4, "/layers/layers.1/Add_output_0"], [6, "/layers/layers.2/Add_output_0"]] as const) {
      const u = units[i]!;
      assert.equal(u.kind, "conv");
      if (u.kind !== "conv") continue;
      const add = addOf(addName);
      assert.equal(u.terms.length, 2);
      assert.equal(u.stored, null);
      assert.deepEqual(u.terms.map((t) => t.conv.kernel), [[3, 3], [1, 1]]);
      u.terms.forEach((t) => assert.deepEqual(t.mul, add.mul[add.inputs.indexOf(t.conv.output)]!));
      // the 3x3 conv reads the block's first conv, the 1x1 shortcut the block input
      assert.deepEqual(u.terms.map((t) => t.conv.input), [units[i - 1]!.output, units[i - 2]!.output]);
      assert.deepEqual(unitInputs(u), [units[i - 1]!.output, units[i - 2]!.output]);
      assert.equal(u.name, u.terms[0]!.conv.name);
    }
  });

  test("the FC layer: a conv on [64,1,1] without requant whose output is the network output", () => {
    const u = units[8]!;
    assert.equal(u.kind, "conv");
    if (u.kind !== "conv") return;
    assert.equal(u.requant, null);
    assert.equal(u.output, q.output);
    assert.equal(u.preRequant, q.output);
    assert.deepEqual([u.terms[0]!.conv.outChannels, u.terms[0]!.conv.inChannels, ...u.terms[0]!.conv.kernel], [10, 64, 1, 1]);
    assert.deepEqual([...u.terms[0]!.mul], new Array(10).fill(1));
    assert.equal(units[7]!.kind, "sumpool");
    assert.deepEqual(unitInputs(units[7]!), [units[6]!.output]);
  });
});

describe("buildUnits elsewhere", () => {
  test("hand-made net: two-conv residual, identity residual, max pools, an add unit of two pooled tensors, sum pool, FC", () => {
    const q = handMadeNet(1);
    const units = buildUnits(q);
    assertCoverage(q, units);
    assert.deepEqual(units.map((u) => `${u.kind}:${u.name}:${u.ops.map((o) => o.name).join("+")}`), [
      "conv:c0:c0+a0",
      "conv:c1:c1+sc+s1+a1",
      "conv:c2:c2+s2+a2",
      "maxpool:m1:m1",
      "maxpool:m2:m2",
      "add:s3:s3+a3",
      "sumpool:gp:gp",
      "conv:fc:fc",
    ]);
    const add = units[5]!;
    assert.equal(add.kind, "add");
    if (add.kind === "add") {
      assert.deepEqual(add.inputs.map((i) => [i.tensor, [...i.mul]]), [["m1", [1, 3, -2, 2]], ["m2", [2, 1, 1, -1]]]);
      assert.equal(add.output, "a3");
    }
    assert.deepEqual(unitInputs(units[1]!), ["a0", "a0"]);
    assert.deepEqual(unitInputs(units[2]!), ["a1", "a1"]);
  });

  test("zoo:resnet20: 21 units; identity blocks fuse conv+add+requant with a stored shortcut, downsampling blocks fuse the 1x1 shortcut conv", () => {
    const q = loadQuantizedModel("zoo:resnet20").qgraph;
    const units = buildUnits(q);
    assertCoverage(q, units);
    assert.equal(units.length, 21);
    const stored = units.filter((u) => u.kind === "conv" && u.stored !== null).length;
    const twoTerm = units.filter((u) => u.kind === "conv" && u.terms.length === 2).length;
    assert.deepEqual([stored, twoTerm], [7, 2]);
  });
});

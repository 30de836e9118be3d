/**
 * zoo:resnet18's deepest stage at the bit level: e2e-resnet18-bitlevel.test.ts checks six units of
 * stages 1-2 and the FC layer, but no stage-4 conv (a whole one is 2.8-2.9 M steps, ~3 minutes at
 * the bit level). Here layer4.0.conv2 — the 3x3 512 -> 512 conv over a 512 x 4608 receptive field
 * fused with its block's 1x1 stride-2 projection shortcut from stage 3 (a second conv term), the
 * residual add's multipliers and the requant — runs on both simulators from the integer
 * reference's input tensors (one seeded 224x224 image), restricted to its first output block: a
 * prefix of the unit's own compiled program up to the first block's last store and frees, which
 * is a complete block (every input slice of both terms, accumulators on the spill bank's pages,
 * staging copies, the combination, the thresholds, the stores). Slicing positions would not help:
 * the unit's 49 positions share one array, and the bit level's time is per step. Asserted: the
 * stored channels equal the reference on both simulators, the outputs are identical, and every
 * event count (total and movement) is identical.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadArch } from "../../src/ap/config.js";
import { EVENT_KINDS } from "../../src/ap/events.js";
import { compileUnitAt, planNetwork, runUnit, unitMappingAt, type CompiledUnit } from "../../src/compiler/pipeline.js";
import { OP_COPY, OP_FREE, OP_LOAD, OP_STORE, OP_THRESHOLD, UnitProgram } from "../../src/compiler/program.js";
import { makeSimContext } from "../../src/compiler/simulate.js";
import { randomImages } from "../../src/data/synthetic.js";
import { loadQuantizedModel } from "../../src/model.js";
import { runReference } from "../../src/reference/integer.js";

const UNIT = "layer4.0.conv2.out";

/** The first `nSteps` steps of a program (the same typed arrays, read only). */
function programPrefix(p: UnitProgram, nSteps: number): UnitProgram {
  return Object.assign(Object.create(UnitProgram.prototype) as UnitProgram, p, { nSteps });
}

/**
 * Where the first output block ends: after the store of its last channel and the frees that follow
 * it, i.e. at the first load of a conv term's input after the first store (the next block reloads
 * its receptive field; loads of a stored shortcut tensor are not term inputs).
 */
function firstBlockEnd(p: UnitProgram, termInputs: Set<string>): number {
  let stored = false;
  for (let i = 0; i < p.nSteps; i++) {
    const o = p.op[i]!;
    if (o === OP_STORE) stored = true;
    else if (stored && o === OP_LOAD && termInputs.has(p.loads[p.imm[i]!]!.tensor)) {
      let end = i;
      while (p.op[end - 1] === OP_FREE) end--;
      assert.equal(p.op[end - 1], OP_STORE, "the block ends with its stores (then frees)");
      return i;
    }
  }
  return p.nSteps;
}

test(`zoo:resnet18 ${UNIT}, its first output block: bit level and word level give the same values (the reference's) and the same count of every event`, (t) => {
  const t0 = performance.now();
  const q = loadQuantizedModel("zoo:resnet18").qgraph;
  const pixels = randomImages([3, 224, 224], 1, 18);
  const reference = runReference(q, pixels, 1, { keepAll: true }).tensors;
  reference.set(q.input, Int32Array.from(pixels));
  const plan = planNetwork(q, { arch: loadArch("rtm-ap"), verify: true });
  const u = plan.units.findIndex((x) => x.name === UNIT);
  assert.ok(u >= 0, `unit ${UNIT} exists`);
  const whole = compileUnitAt(plan, u);
  assert.equal(whole.unit.kind, "conv");
  assert.ok(!whole.stationary, "positions-mapped");
  const terms = whole.unit.kind === "conv" ? whole.unit.terms : [];
  assert.equal(terms.length, 2, "the 3x3 conv and the 1x1 projection shortcut are one unit");
  const p = whole.program;
  const cut = firstBlockEnd(p, new Set(terms.map((x) => x.conv.input)));
  const prefix = programPrefix(p, cut);
  const cu: CompiledUnit = { ...whole, program: prefix };
  const prep = (performance.now() - t0) / 1000;

  // what the slice holds: a whole block of output channels through both terms
  const stores: number[] = [];
  const loadedTensors = new Set<string>();
  let thresholds = 0, copies = 0;
  for (let i = 0; i < cut; i++) {
    const o = p.op[i]!;
    if (o === OP_STORE) stores.push(p.b[i]!);
    else if (o === OP_LOAD) loadedTensors.add(p.loads[p.imm[i]!]!.tensor);
    else if (o === OP_THRESHOLD) thresholds++;
    else if (o === OP_COPY) copies++;
  }
  const [OC, OH, OW] = q.tensors.get(cu.unit.output)!.shape;
  assert.deepEqual(stores, Array.from({ length: stores.length }, (_, k) => k), "the block stores channels 0..n-1 once each");
  assert.ok(stores.length > 1 && stores.length < OC, `a block of channels (${stores.length} of ${OC})`);
  assert.equal(thresholds, stores.length, "every stored channel is requantized");
  for (const x of terms) assert.ok(loadedTensors.has(x.conv.input), `the block reads term ${x.conv.name}'s input`);
  assert.equal(cu.mapping.arrays, 1, "stage 4's 7x7 positions sit on one array");

  const producer = (tensor: string) => {
    const j = plan.units.findIndex((x) => x.output === tensor);
    return j < 0 || j >= u ? ("global" as const) : unitMappingAt(plan, j);
  };
  const run = (mode: "fast" | "bit") => {
    const env = new Map(reference);
    const t1 = performance.now();
    const events = runUnit(plan, makeSimContext(q, plan.arch, plan.layout), cu, producer, env, 1, { mode, events: true });
    return { events, output: env.get(cu.unit.output)!, seconds: (performance.now() - t1) / 1000 };
  };
  const word = run("fast"), bit = run("bit");

  const P = OH * OW;
  const want = reference.get(cu.unit.output)!;
  const n = stores.length * P;
  assert.deepEqual(bit.output.subarray(0, n), want.subarray(0, n), "bit level: the block's channels equal the integer reference");
  assert.deepEqual(word.output.subarray(0, n), want.subarray(0, n), "word level: the block's channels equal the integer reference");
  assert.ok(want.subarray(0, n).some((v) => v !== 0) && new Set(want.subarray(0, n)).size > 2, "the block's reference codes are not trivial");
  assert.deepEqual(bit.output, word.output, "identical outputs (channels past the block unstored on both)");
  for (const k of EVENT_KINDS) {
    assert.equal(bit.events.total[k], word.events.total[k], `${UNIT} block 0: ${k}`);
    assert.equal(bit.events.movement[k], word.events.movement[k], `${UNIT} block 0: movement ${k}`);
  }
  const e = word.events.total;
  assert.ok(e.searches > 0 && e.writeCells > 0 && e.flagWriteCells > 0 && e.shifts > 0, "compute and page switches counted");
  assert.ok(word.events.movement.bufferWriteBits > 0 && word.events.movement.cycles > 0, "loads counted (the inputs sit in the same array: buffer writes, no transfers)");
  t.diagnostic(
    `${UNIT}: block 0 = channels 0..${stores.length - 1} of ${OC}, ${cut} of ${p.nSteps} steps (${copies} copies), loads from ${[...loadedTensors].join(", ")}; ` +
      `model, reference, plan and unit compile ${prep.toFixed(1)} s; bit level ${bit.seconds.toFixed(1)} s, word level ${word.seconds.toFixed(1)} s; ` +
      `equal: searches ${e.searches}, searchRowBits ${e.searchRowBits}, writes ${e.writes}, writeCells ${e.writeCells}, shifts ${e.shifts}, shiftTrackDomains ${e.shiftTrackDomains}, cycles ${e.cycles}`,
  );
});

/**
 * Count-only expansions (src/ap/steps.ts MicroTally, expandMacro's countOnly): the word level
 * prices structural classes from tallied micro-ops instead of micro-op objects. Every macro-op of
 * fmnist-resnet8's compiled units, on the interleaved RTM row, the serial RTM row (shifts inside
 * ops) and the SRAM row, from where the page schedule puts its groups and from home, with and
 * without the return home, must give the same static events, offsets, detail and first-use offsets
 * (where a serial row's op starts) either way.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadArch } from "../../src/ap/config.js";
import { expandMacro, macroSignature } from "../../src/ap/macro.js";
import { compileUnitAt, planNetwork } from "../../src/compiler/pipeline.js";
import { offsetsFor, stepNeeds } from "../../src/compiler/pages.js";
import { OP_ADDOUT, OP_FREE, OP_LOAD, OP_MAC, OP_STORE, OP_SUBOUT } from "../../src/compiler/program.js";
import { serialStart, toMacroOp } from "../../src/compiler/simulate.js";
import { fmnistQGraph } from "../compiler/helpers.js";

const ARCHS: { name: string; arch: string; layout?: "serial" }[] = [
  { name: "interleaved RTM row", arch: "rtm-ap" },
  { name: "serial RTM row", arch: "rtm-ap", layout: "serial" },
  { name: "SRAM row", arch: "sram-ap" },
];

for (const spec of ARCHS) {
  test(`count-only expansions price every macro-op of fmnist-resnet8 like its micro-ops (${spec.name})`, () => {
    const loaded = loadArch(spec.arch);
    const arch = spec.layout ? { ...loaded, array: { ...loaded.array, layout: spec.layout } } : loaded;
    const plan = planNetwork(fmnistQGraph(), { arch });
    const seen = new Set<string>();
    let checked = 0, withShifts = 0;
    const kinds = new Set<string>();
    // (every threshold, copy, negate... and up to ~600 distinct additions per row layout: a few seconds)
    for (let u = 0; u < plan.units.length; u++) {
      const cu = compileUnitAt(plan, u);
      if (cu.stationary) continue;
      const p = cu.program;
      let additions = 0;
      for (let i = 0; i < p.nSteps; i++) {
        const o = p.op[i]!;
        if (o === OP_LOAD || o === OP_STORE || o === OP_FREE || o === OP_MAC) continue;
        if ((o === OP_ADDOUT || o === OP_SUBOUT) && additions >= 600 / plan.units.length) continue;
        const op = toMacroOp(p, i, plan.layout)!;
        const needs = stepNeeds(p, i, plan.layout);
        for (const offsets of [undefined, offsetsFor(needs, plan.layout.geom.groups)]) {
          for (const returnHome of [false, true]) {
            const key = `${macroSignature(op)}|${offsets ? Array.from(offsets).join(",") : ""}|${returnHome}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const full = expandMacro(op, plan.layout.geom, { offsets, returnHome });
            const counted = expandMacro(op, plan.layout.geom, { offsets, returnHome, countOnly: true });
            assert.equal(counted.micro.length, 0);
            for (const rows of [1, 37, plan.layout.geom.rows]) {
              assert.deepEqual(counted.staticEvents(arch.timing, rows), full.staticEvents(arch.timing, rows), `${key}, ${rows} rows`);
            }
            assert.deepEqual(counted.startOffsets, full.startOffsets);
            assert.deepEqual(counted.endOffsets, full.endOffsets);
            assert.deepEqual(counted.detail, full.detail);
            assert.equal(counted.countedShift, full.micro.some((m) => m.op === "shift"));
            // where each group is first used: the serial schedule's start offsets (serialStart)
            assert.deepEqual(Array.from(serialStart(counted, plan.layout.geom)), Array.from(serialStart(full, plan.layout.geom)), `${key}: first use`);
            if (counted.countedShift) withShifts++;
            kinds.add(op.kind);
            checked++;
            if (o === OP_ADDOUT || o === OP_SUBOUT) additions++;
          }
        }
      }
      p.recycle();
    }
    // every kind the network uses, and on the serial row the shifts inside ops, were exercised
    for (const k of ["addOut", "subOut", "threshold"]) assert.ok(kinds.has(k), `${k} exercised`);
    if (spec.layout === "serial") assert.ok(withShifts > 0, "serial expansions with shifts");
    assert.ok(checked > 100, `${checked} expansions compared`);
  });
}

/**
 * Program storage (src/compiler/program.ts): arrays grow without zeroing, recycled programs hand
 * their buffers (stale contents and all) to the next ones, and a program may reserve a like
 * program's sizes up front. None of it may change a compiled program: fmnist-resnet8's units,
 * compiled after other units were recycled and with other units' sizes reserved, equal their plain
 * compiles array for array.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileUnitAt, planNetwork } from "../../src/compiler/pipeline.js";
import type { UnitProgram } from "../../src/compiler/program.js";
import { fmnistQGraph } from "./helpers.js";

/** Every per-value and per-step array at its count, and the tables, as plain data. */
function snapshot(p: UnitProgram): Record<string, unknown> {
  const arrays = ["width", "signed", "region", "kind", "tag", "tag2", "min", "max", "cell0", "reg", "lane", "laneBit", "op", "dst", "a", "b", "imm", "freeList"] as const;
  const out: Record<string, unknown> = { nValues: p.nValues, nSteps: p.nSteps, nFree: p.nFree, segStart: p.segStart, segPart: p.segPart, segRole: p.segRole };
  for (const k of arrays) out[k] = Array.from(p[k]);
  out.loads = p.loads.map((s) => ({ ...s }));
  out.thresholds = p.thresholds.map((t) => Array.from(t));
  return out;
}

for (const arch of ["rtm-ap", "sram-ap"]) {
  test(`${arch}: units compiled on recycled storage and with another unit's sizes reserved equal their plain compiles`, () => {
    const q = fmnistQGraph();
    const plan = planNetwork(q, { arch });
    const units = plan.units.map((_, i) => i).filter((i) => !plan.stationary.has(i));
    assert.ok(units.length >= 6);
    const plain = units.map((i) => snapshot(compileUnitAt(plan, i).program));
    // the largest unit first: its buffers, recycled, carry stale entries into the smaller ones
    const bySize = [...units].sort((x, y) => (plain[units.indexOf(y)]!.nSteps as number) - (plain[units.indexOf(x)]!.nSteps as number));
    let previous = compileUnitAt(plan, bySize[0]!).program;
    for (const i of bySize.slice(1)) {
      const sizes = previous.sizes;
      previous.recycle();
      const cu = compileUnitAt(plan, i, sizes);
      assert.ok(cu.program.op.buffer.byteLength >= sizes.steps, "the reserved room is taken");
      assert.deepEqual(snapshot(cu.program), plain[units.indexOf(i)], `unit "${cu.unit.name}"`);
      previous = cu.program;
    }
    previous.recycle();
  });
}

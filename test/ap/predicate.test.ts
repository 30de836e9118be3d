/**
 * Predicated macro-ops (weight-stationary layers): every compare also requires a stored bit, so
 * only rows holding it change. Checked on the bit-level array against integer arithmetic, and the
 * counted events against the plan's static events plus evalMacro on the active rows only.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApArray } from "../../src/ap/array.js";
import { loadArch } from "../../src/ap/config.js";
import { addEvents, zeroEvents, EVENT_KINDS } from "../../src/ap/events.js";
import { ApGeometry } from "../../src/ap/geometry.js";
import { expandMacro, type MacroOp } from "../../src/ap/macro.js";
import { evalMacro } from "../../src/ap/semantics.js";
import { RtapError } from "../../src/errors.js";
import { Rng } from "../../src/util/random.js";

const arch = loadArch("rtm-ap");

function wrap(x: number, w: number, signed: boolean): number {
  const m = 2 ** w;
  const u = ((x % m) + m) % m;
  return signed && u >= m / 2 ? u - m : u;
}

test("predicated addConst and add/sub change exactly the rows whose predicate cell holds the bit", () => {
  const rows = 256;
  const geom = new ApGeometry({ ...arch.array, rows });
  const rng = new Rng(11);
  // accumulator aligned in a temporary group, predicate bits stored across an input group at a level
  const acc = geom.alongTrack("acc", 70, 0, 12, true);
  const x = geom.alongTrack("x", 100, 32, 4, false);
  for (const level of [0, 5, 17]) {
    for (const bit of [0, 1] as const) {
      const predCell = geom.cellOf(3, level);
      for (const op of [
        { kind: "addConst", dst: acc, k: 13 } as MacroOp,
        { kind: "addConst", dst: acc, k: -7 } as MacroOp,
        { kind: "add", dst: acc, src: x } as MacroOp,
        { kind: "sub", dst: acc, src: x } as MacroOp,
      ]) {
        const pop = { ...op, predicate: [{ cell: predCell, bit }] } as MacroOp;
        const plan = expandMacro(pop, geom);
        const arr = new ApArray(geom, arch.timing);
        const d0 = Int32Array.from({ length: rows }, () => rng.int(-2048, 2047));
        const xs = Int32Array.from({ length: rows }, () => rng.int(0, 15));
        const p = Int32Array.from({ length: rows }, () => rng.int(0, 1));
        arr.setValue(acc, d0);
        arr.setValue(x, xs);
        for (let r = 0; r < rows; r++) arr.setCell(predCell, r, p[r]!);
        arr.resetEvents();
        arr.run(plan.micro);
        const got = arr.getValue(acc);
        const active: number[] = [];
        for (let r = 0; r < rows; r++) {
          const on = p[r] === bit;
          if (on) active.push(r);
          const delta = op.kind === "addConst" ? op.k : op.kind === "add" ? xs[r]! : -xs[r]!;
          assert.equal(got[r], on ? wrap(d0[r]! + delta, 12, true) : d0[r], `${op.kind} row ${r} level ${level} bit ${bit}`);
        }
        // events = static (all rows searched) + writes of the active rows only
        const want = zeroEvents();
        addEvents(want, plan.staticEvents(arch.timing, rows));
        const ev = evalMacro(plan, geom, { dst: Int32Array.from(active, (r) => d0[r]!), src: Int32Array.from(active, (r) => xs[r]!) });
        want.writeCells += ev.writeCells;
        want.flagWriteCells += ev.flagWriteCells;
        for (const k of EVENT_KINDS) assert.equal(arr.events[k], want[k], `${op.kind} ${k} level ${level}`);
        // the predicate bit joins every compare: search row bits grow by rows per compare
        const plain = expandMacro(op, geom).staticEvents(arch.timing, rows);
        const pred = plan.staticEvents(arch.timing, rows);
        assert.equal(pred.searches, plain.searches);
        assert.equal(pred.searchRowBits, plain.searchRowBits + rows * plain.searches);
      }
    }
  }
});

test("a predicate on an op that needs tag logic, or on a destination bit, is rejected", () => {
  const geom = new ApGeometry(arch.array);
  const acc = geom.alongTrack("acc", 70, 0, 8, false);
  const code = geom.alongTrack("code", 71, 0, 4, false);
  assert.throws(() => expandMacro({ kind: "threshold", dst: code, src: acc, thresholds: [1, 2, 3], predicate: [{ cell: geom.cellOf(3, 0), bit: 1 }] }, geom), RtapError);
  assert.throws(() => expandMacro({ kind: "addConst", dst: acc, k: 1, predicate: [{ cell: acc.cells[0]!, bit: 1 }] }, geom), RtapError);
});

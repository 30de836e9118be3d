/** Shared fixtures for test/ap: architectures, operand placements, and the macro-op checker. */
import assert from "node:assert/strict";
import { ApArray } from "../../src/ap/array.js";
import { loadArch, type ApArch } from "../../src/ap/config.js";
import { addEvents, zeroEvents } from "../../src/ap/events.js";
import { ApGeometry } from "../../src/ap/geometry.js";
import { expandMacro, type MacroOp, type MacroPlan } from "../../src/ap/macro.js";
import { evalMacro, type MacroValues } from "../../src/ap/semantics.js";
import type { ApValue } from "../../src/ap/value.js";

export const RTM: ApArch = loadArch("rtm-ap");
export const SRAM: ApArch = loadArch("sram-ap");

/**
 * Placements the macro-op tests run on:
 *  - rtm:       every value along a track of shift group 0, LSBs at domain 0 (port 0 at home);
 *               operands read with shift s stored s domains higher (aligned).
 *  - rtm-port1: the same around port 1 (domain 32).
 *  - rtm-split: destination in group 0 at domain 5, operands in group 1 at domain 9 (misaligned
 *               across groups: both groups shift every step).
 *  - rtm-across: every value one bit per track (group 0), all at domain 0: never shifts.
 *  - sram:      SRAM-CAM columns.
 */
export type Layout = "rtm" | "rtm-port1" | "rtm-split" | "rtm-across" | "sram";
export const LAYOUTS: readonly Layout[] = ["rtm", "rtm-port1", "rtm-split", "rtm-across", "sram"];

export function archOf(layout: Layout): ApArch {
  return layout === "sram" ? SRAM : RTM;
}

export function geometryFor(layout: Layout, rows: number): ApGeometry {
  return new ApGeometry(archOf(layout).array).withRows(rows);
}

/** Places value `role` (0 = destination, 1 = first operand, 2 = second, 3 = extra) of `width` bits. */
export function place(
  geom: ApGeometry,
  layout: Layout,
  role: number,
  width: number,
  signed: boolean,
  name: string,
  shift = 0,
): ApValue {
  switch (layout) {
    case "rtm":
      return geom.alongTrack(name, role, shift, width, signed);
    case "rtm-port1":
      return geom.alongTrack(name, role, 32 + shift, width, signed);
    case "rtm-split":
      return role === 0 ? geom.alongTrack(name, 0, 5, width, signed) : geom.alongTrack(name, 32 + role, 9 + shift, width, signed);
    case "rtm-across":
      return geom.acrossTracks(name, role * 8, 0, width, signed);
    case "sram":
      return geom.acrossTracks(name, role * 40, 0, width, signed);
  }
}

export function wrap(x: number, width: number, signed: boolean): number {
  const m = 2 ** width;
  const u = ((x % m) + m) % m;
  return signed && u >= m / 2 ? u - m : u;
}

export function range(width: number, signed: boolean): number[] {
  const lo = signed ? -(2 ** (width - 1)) : 0;
  return Array.from({ length: 2 ** width }, (_, i) => lo + i);
}

export interface Input {
  value: ApValue;
  data: Int32Array;
  /** Which MacroValues field these values are. */
  as: keyof MacroValues;
}

/**
 * Runs a macro-op on a bit-level array holding `inputs` (one row per entry) and checks, beyond the
 * result: operands other than the destination untouched; flags back to 0 and shift groups home;
 * the integer semantics (evalMacro) gives the same result; and the counted events equal the
 * plan's static events plus evalMacro's data-dependent cells, exactly.
 */
export function checkMacro(
  layout: Layout,
  geom: ApGeometry,
  op: MacroOp,
  inputs: Input[],
  expected: ArrayLike<number>,
  label: string,
): { plan: MacroPlan; array: ApArray } {
  const arch = archOf(layout);
  const plan = expandMacro(op, geom);
  const array = new ApArray(geom, arch.timing);
  for (const inp of inputs) array.setValue(inp.value, inp.data);
  array.run(plan.micro);
  const got = array.getValue(op.dst);
  for (let r = 0; r < geom.rows; r++) {
    if (got[r] !== expected[r]) {
      const ins = inputs.map((i) => `${i.as}=${i.data[r]}`).join(" ");
      assert.fail(`${label}: row ${r} (${ins}) got ${got[r]}, want ${expected[r]}`);
    }
  }
  for (const inp of inputs) {
    if (inp.value === op.dst || inp.value.cells.some((c) => op.dst.cells.includes(c))) continue;
    assert.deepEqual(array.getValue(inp.value), inp.data, `${label}: operand ${inp.value.name} changed`);
  }
  for (let f = 0; f < geom.flags; f++)
    for (let r = 0; r < geom.rows; r++) if (array.getCell(geom.flagCell(f), r)) assert.fail(`${label}: flag ${f} left set in row ${r}`);
  for (const c of op.scratch ?? []) for (let r = 0; r < geom.rows; r++) if (array.getCell(c, r)) assert.fail(`${label}: scratch left set`);
  assert.deepEqual([...array.offsets], new Array(geom.groups).fill(0), `${label}: groups not home`);
  const vals: MacroValues = {};
  for (const inp of inputs) vals[inp.as] = inp.data;
  const sem = evalMacro(plan, geom, vals);
  assert.deepEqual(sem.dst, got, `${label}: evalMacro result differs from the bit-level result`);
  const want = addEvents(zeroEvents(), plan.staticEvents(arch.timing));
  want.writeCells = sem.writeCells;
  want.flagWriteCells = sem.flagWriteCells;
  assert.deepEqual({ ...array.events }, want, `${label}: events`);
  return { plan, array };
}

/** All pairs (x, y) with x in xs and y in ys, as two columns. */
export function pairs(xs: number[], ys: number[]): [Int32Array, Int32Array] {
  const a = new Int32Array(xs.length * ys.length);
  const b = new Int32Array(xs.length * ys.length);
  let r = 0;
  for (const y of ys)
    for (const x of xs) {
      a[r] = x;
      b[r] = y;
      r++;
    }
  return [a, b];
}

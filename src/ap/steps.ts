/**
 * Bit steps and their lowering to micro-ops. A step is a group of LUT passes (or raw compares,
 * writes and tag ops) over cells that must all be under a port at once. Lowering a list of steps
 * plans the shifts: before each step every shift group holding one of its cells moves to the legal
 * offset nearest to where it is that shows all of them (so bits stored along a track cost one
 * one-domain shift per step), then each cell is replaced by the column that sees it.
 */
import { RtapError } from "../errors.js";
import type { ApGeometry } from "./geometry.js";
import type { Lut } from "./lut.js";
import type { ApTiming } from "./config.js";
import type { ApEvents } from "./events.js";
import type { Combine, MicroOp, TagFn } from "./microop.js";

/** A LUT applied to concrete cells (cells[j] plays LUT column j). */
export interface LutUse {
  readonly kind: "lut";
  readonly lut: Lut;
  readonly cells: readonly number[];
  /** Bit j set: column j is read inverted (its key bits are flipped); it is never written. */
  readonly invert: number;
}

export interface RawCompare {
  readonly kind: "compare";
  readonly cells: readonly number[];
  readonly bits: readonly number[];
  readonly combine: Combine;
}
export interface RawWrite {
  readonly kind: "write";
  readonly cells: readonly number[];
  readonly bits: readonly number[];
}
export interface RawTag {
  readonly kind: "tag";
  readonly fn: TagFn;
}

export type StepUse = LutUse | RawCompare | RawWrite | RawTag;

export interface Step {
  /** For dumps: e.g. "bit 3", "cleanup carry". */
  readonly label: string;
  readonly uses: readonly StepUse[];
}

export function lutUse(lut: Lut, cells: readonly number[], invert = 0): LutUse {
  if (cells.length !== lut.columns.length) throw new Error(`LUT ${lut.name} needs ${lut.columns.length} cells`);
  return { kind: "lut", lut, cells, invert };
}

function cellsOf(step: Step): number[] {
  const out: number[] = [];
  for (const u of step.uses) if (u.kind !== "tag") out.push(...u.cells);
  return out;
}

/**
 * Legal offsets per shift group at which every given cell is under a port (flags are always
 * visible). Returns null when some group has none.
 */
export function feasibleOffsets(geom: ApGeometry, cells: readonly number[]): Map<number, readonly number[]> | null {
  const byGroup = new Map<number, readonly number[]>();
  for (const c of cells) {
    const g = geom.groupOfCell(c);
    if (g < 0) continue;
    const shows = geom.offsetsShowing(c);
    const prev = byGroup.get(g);
    byGroup.set(g, prev === undefined || prev === shows ? shows : prev.filter((o) => shows.includes(o)));
  }
  for (const offs of byGroup.values()) if (offs.length === 0) return null;
  return byGroup;
}

/** Appends the micro-ops of `steps` to `out`, moving `offsets` (one per group) as it shifts. */
export function lowerSteps(
  geom: ApGeometry,
  steps: readonly Step[],
  offsets: Int32Array,
  out: MicroOp[],
  where: string,
  predicate?: readonly { cell: number; bit: 0 | 1 }[],
): void {
  const pred = predicate ?? [];
  const shift = (group: number, n: number): void => void out.push({ op: "shift", group, n });
  const colOf = (cell: number): number => visibleColumn(geom, cell, offsets);
  for (const step of steps) {
    moveForStep(geom, step, pred, offsets, where, shift);
    for (const u of step.uses) {
      switch (u.kind) {
        case "lut":
          for (const p of u.lut.passes) {
            // (micro-ops are never mutated: without a predicate or inversion they share the LUT's bit arrays)
            out.push({
              op: "compare",
              cols: pred.length ? [...p.keyCols.map((j) => colOf(u.cells[j]!)), ...pred.map((q) => colOf(q.cell))] : p.keyCols.map((j) => colOf(u.cells[j]!)),
              bits: pred.length || u.invert ? [...p.keyCols.map((j, k) => p.keyBits[k]! ^ ((u.invert >>> j) & 1)), ...pred.map((q) => q.bit)] : p.keyBits,
              combine: "set",
            });
            if (u.invert) for (const j of p.writeCols) if ((u.invert >>> j) & 1) throw new Error(`internal: inverted column written`);
            out.push({ op: "write", cols: p.writeCols.map((j) => colOf(u.cells[j]!)), bits: p.writeBits });
          }
          break;
        case "compare":
          out.push({ op: "compare", cols: [...u.cells.map(colOf), ...pred.map((q) => colOf(q.cell))], bits: [...u.bits, ...pred.map((q) => q.bit)], combine: u.combine });
          break;
        case "write":
          out.push({ op: "write", cols: u.cells.map(colOf), bits: [...u.bits] });
          break;
        case "tag":
          if (pred.length) throw new RtapError(`${step.label}: a tag operation cannot be predicated`, where);
          out.push({ op: "tag", fn: u.fn });
          break;
      }
    }
  }
}

/**
 * The static events of the micro-ops lowerSteps would emit, without the micro-ops: per micro-op its
 * kind and the numbers its events depend on, in emission order. The word-level simulator prices
 * each structural class of steps once and never reads its micro-ops (except on serial rows, whose
 * schedule replays them), and the micro-ops of ~4,000 per-channel requantization thresholds per
 * ResNet-18 variant (about a thousand objects with arrays each) were a third of its garbage.
 * tallySteps shares lowerSteps' shift plan (moveForStep) and visibility checks, and counts what
 * lowerSteps emits per use; a test holds their events equal on every op kind and layout.
 */
export class MicroTally {
  /** TALLY_COMPARE, TALLY_WRITE, TALLY_TAG or TALLY_SHIFT per micro-op. */
  readonly kind: number[] = [];
  /** Compare: non-flag columns; shift: n. */
  readonly x: number[] = [];
  /** Compare: flag columns; shift: group. */
  readonly y: number[] = [];
  /** Compare: 1 when it combines into the tags (and/or), 0 when it sets them. */
  readonly z: number[] = [];
  /**
   * Per shift group, where it was when a compare or write first used a column of it (else where
   * it started): the offsets serialStart (src/compiler/simulate.ts) finds by replaying micro-ops.
   */
  firstUse: Int32Array | null = null;
  private used: Uint8Array | null = null;

  /** Starts recording firstUse, from the offsets the expansion starts at. */
  recordFirstUse(start: Int32Array): void {
    this.firstUse = Int32Array.from(start);
    this.used = new Uint8Array(start.length);
  }

  /** A compare or write uses a column of group g (-1: a flag column) while the groups are at `offsets`. */
  use(g: number, offsets: Int32Array): void {
    const used = this.used;
    if (used === null || g < 0 || used[g]) return;
    used[g] = 1;
    this.firstUse![g] = offsets[g]!;
  }

  push(kind: number, x = 0, y = 0, z = 0): void {
    this.kind.push(kind);
    this.x.push(x);
    this.y.push(y);
    this.z.push(z);
  }

  get hasShift(): boolean {
    return this.kind.includes(TALLY_SHIFT);
  }

  /** addStaticEvents (src/ap/microop.ts) of the tallied micro-ops: the same sums in the same order. */
  addStaticEvents(e: ApEvents, geom: ApGeometry, timing: ApTiming, rows: number = geom.rows): void {
    const n = this.kind.length;
    for (let i = 0; i < n; i++) {
      switch (this.kind[i]) {
        case TALLY_COMPARE:
          e.searches++;
          e.searchRowBits += rows * this.x[i]!;
          e.flagSearchRowBits += rows * this.y[i]!;
          if (this.z[i]) e.tagOps++;
          e.cycles += timing.compare;
          break;
        case TALLY_WRITE:
          e.writes++;
          e.cycles += timing.write;
          break;
        case TALLY_TAG:
          e.tagOps++;
          e.cycles += timing.tagOp;
          break;
        case TALLY_SHIFT: {
          const a = Math.abs(this.x[i]!);
          e.shifts++;
          e.shiftSteps += a;
          e.shiftTrackDomains += rows * geom.tracksPerGroup * a;
          e.cycles += a * timing.shiftPerDomain;
          break;
        }
      }
    }
  }
}

export const TALLY_COMPARE = 1;
export const TALLY_WRITE = 2;
export const TALLY_TAG = 3;
export const TALLY_SHIFT = 4;

/** lowerSteps into a MicroTally (see there). */
export function tallySteps(
  geom: ApGeometry,
  steps: readonly Step[],
  offsets: Int32Array,
  out: MicroTally,
  where: string,
  predicate?: readonly { cell: number; bit: 0 | 1 }[],
): void {
  const pred = predicate ?? [];
  const shift = (group: number, n: number): void => out.push(TALLY_SHIFT, n, group);
  // (every column a compare or write of lowerSteps uses goes through here: firstUse sees them all)
  const colOf = (cell: number): number => {
    const c = visibleColumn(geom, cell, offsets);
    if (out.firstUse) out.use(geom.groupOfCell(cell), offsets);
    return c;
  };
  // predicate columns, counted into every compare (as lowerSteps appends them)
  const predFlags = (): number => {
    let f = 0;
    for (const q of pred) if (geom.isFlagColumn(colOf(q.cell))) f++;
    return f;
  };
  for (const step of steps) {
    moveForStep(geom, step, pred, offsets, where, shift);
    for (const u of step.uses) {
      switch (u.kind) {
        case "lut":
          for (const p of u.lut.passes) {
            let flags = pred.length ? predFlags() : 0;
            for (const j of p.keyCols) if (geom.isFlagColumn(colOf(u.cells[j]!))) flags++;
            out.push(TALLY_COMPARE, p.keyCols.length + pred.length - flags, flags, 0);
            if (u.invert) for (const j of p.writeCols) if ((u.invert >>> j) & 1) throw new Error(`internal: inverted column written`);
            for (const j of p.writeCols) colOf(u.cells[j]!);
            out.push(TALLY_WRITE);
          }
          break;
        case "compare": {
          let flags = 0;
          for (const c of u.cells) if (geom.isFlagColumn(colOf(c))) flags++;
          flags += predFlags();
          out.push(TALLY_COMPARE, u.cells.length + pred.length - flags, flags, u.combine !== "set" ? 1 : 0);
          break;
        }
        case "write":
          for (const c of u.cells) colOf(c);
          out.push(TALLY_WRITE);
          break;
        case "tag":
          if (pred.length) throw new RtapError(`${step.label}: a tag operation cannot be predicated`, where);
          out.push(TALLY_TAG);
          break;
      }
    }
  }
}

/** returnHome into a MicroTally. */
export function tallyReturnHome(offsets: Int32Array, out: MicroTally): void {
  moveHome(offsets, (group, n) => out.push(TALLY_SHIFT, n, group));
}

/** Shifts every group back to offset 0. */
export function returnHome(offsets: Int32Array, out: MicroOp[]): void {
  moveHome(offsets, (group, n) => void out.push({ op: "shift", group, n }));
}

/** Moves every group back to offset 0, reporting each move (returnHome, tallyReturnHome). */
function moveHome(offsets: Int32Array, shift: (group: number, n: number) => void): void {
  for (let g = 0; g < offsets.length; g++) {
    if (offsets[g] !== 0) {
      shift(g, -offsets[g]!);
      offsets[g] = 0;
    }
  }
}

/**
 * The shift plan of one step, shared by lowerSteps and tallySteps: every shift group holding one of
 * its cells (predicate cells included) moves to the legal offset nearest to where it is that shows
 * all of them, groups in ascending order; `shift` sees each move.
 */
function moveForStep(
  geom: ApGeometry, step: Step, pred: readonly { cell: number }[], offsets: Int32Array, where: string,
  shift: (group: number, n: number) => void,
): void {
  const cells = cellsOf(step);
  for (const p of pred) cells.push(p.cell);
  for (const c of cells) geom.checkCell(c, where);
  const feasible = feasibleOffsets(geom, cells);
  if (feasible === null) throw placementError(geom, cells, where, step.label);
  for (const g of [...feasible.keys()].sort((a, b) => a - b)) {
    const offs = feasible.get(g)!;
    const cur = offsets[g]!;
    let best = offs[0]!;
    for (const o of offs) if (Math.abs(o - cur) < Math.abs(best - cur)) best = o;
    if (best !== cur) {
      shift(g, best - cur);
      offsets[g] = best;
    }
  }
}

/** The column that sees `cell` at `offsets` (the step's moves made it visible). */
function visibleColumn(geom: ApGeometry, cell: number, offsets: Int32Array): number {
  const c = geom.columnOfCell(cell, offsets);
  if (c < 0) throw new Error(`internal: cell ${geom.describeCell(cell)} not under a port after shifting`);
  return c;
}

function placementError(geom: ApGeometry, cells: readonly number[], where: string, label: string): RtapError {
  const groups = new Map<number, string[]>();
  for (const c of cells) {
    const g = geom.groupOfCell(c);
    if (g < 0) continue;
    const list = groups.get(g) ?? [];
    list.push(geom.describeCell(c));
    groups.set(g, list);
  }
  const detail = [...groups.entries()].map(([g, cs]) => `group ${g}: ${cs.join(", ")}`).join("; ");
  return new RtapError(
    `${label}: cells ${detail} cannot be under ports at the same time (a shift group has one offset); ` +
      `align the operands (same domain for bits used together) or put them in different shift groups`,
    where,
  );
}

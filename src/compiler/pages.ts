/**
 * The page schedule: when the shift groups of a row move, and what that costs. One rule, used by
 * the allocator while it lowers (src/compiler/lower.ts), by both simulators and by `--emit pages`:
 *
 *   before a step, every shift group that holds a cell the step uses moves to the offset the step
 *   needs (no other group moves); after the step it is where the step left it; at the end of a
 *   unit every group returns home.
 *
 *  - Interleaved rows (pages): the offset a step needs in a group is the page of its values there
 *    (all bits of a value lie at one page). Macro-ops then run with no shift inside; loads and
 *    stores need their value's page too (the row buffer reads and writes the bits under the ports).
 *  - Serial rows (bits along tracks): a step needs each of its groups at the offset of its first
 *    bit step, sweeps them one domain per bit step, and leaves them where its sweep ended; the way
 *    back is paid only when the next step that uses the group starts, straight to where that
 *    step begins ("moves back only when the next op needs it"). Loads and stores are priced by the
 *    movement model alone, as before.
 * A shift of n domains costs (rows) x (tracks of the group) x |n| track-domain moves
 * (ApEvents.shiftTrackDomains), |n| shift steps and |n| x shiftPerDomain cycles.
 */
import type { ApTiming } from "../ap/config.js";
import { zeroEvents, type ApEvents } from "../ap/events.js";
import type { ApGeometry } from "../ap/geometry.js";
import { OP_FREE, OP_LOAD, OP_MAC, OP_STORE, OP_THRESHOLD, type UnitProgram } from "./program.js";
import type { RowLayout } from "./rowlayout.js";

/** Groups (ordered: dst, a, b, then threshold scratch) a step uses, and the offset it needs in each. */
export interface StepNeeds {
  groups: number[];
  starts: number[];
}

const NONE: StepNeeds = { groups: [], starts: [] };

/** Whether this layout schedules shifts at all. */
export function schedulesShifts(layout: RowLayout): boolean {
  return layout.kind !== "sram" && layout.geom.canShift;
}

/** The groups step i uses and the offsets it needs there (empty for free steps, and on SRAM). */
export function stepNeeds(p: UnitProgram, i: number, layout: RowLayout): StepNeeds {
  const G = layout.geom.groups;
  const groups = new Int32Array(G), starts = new Int32Array(G);
  const n = stepNeedsInto(p, i, layout, groups, starts);
  return n === 0 ? NONE : { groups: Array.from(groups.subarray(0, n)), starts: Array.from(starts.subarray(0, n)) };
}

/**
 * stepNeeds into the caller's arrays (each at least `geom.groups` long), returning how many groups
 * the step uses: the schedule walks millions of steps, and the arrays per step were the largest
 * allocation of a deep unit's simulation.
 */
export function stepNeedsInto(p: UnitProgram, i: number, layout: RowLayout, groups: Int32Array, starts: Int32Array): number {
  const o = p.op[i]!;
  if (o === OP_FREE || !schedulesShifts(layout)) return 0;
  const interleaved = layout.kind === "interleaved";
  if ((o === OP_LOAD || o === OP_STORE) && !interleaved) return 0;
  const geom = layout.geom;
  let n = 0;
  if (o === OP_LOAD) n = addNeed(geom, interleaved, p.cell0[p.dst[i]!]!, groups, starts, n);
  else if (o === OP_STORE) n = addNeed(geom, interleaved, p.cell0[p.a[i]!]!, groups, starts, n);
  else {
    const d = p.dst[i]!, a = p.a[i]!, b = p.b[i]!;
    if (d >= 0) n = addNeed(geom, interleaved, p.cell0[d]!, groups, starts, n);
    if (a >= 0) n = addNeed(geom, interleaved, p.cell0[a]!, groups, starts, n);
    if (o !== OP_MAC && b >= 0) n = addNeed(geom, interleaved, p.cell0[b]!, groups, starts, n);
    if (o === OP_THRESHOLD) for (const c of layout.scratchCells) n = addNeed(geom, interleaved, c, groups, starts, n);
  }
  return n;
}

/** Adds the group of cell c (if new) and the offset it needs; returns the new count. */
function addNeed(geom: ApGeometry, interleaved: boolean, c: number, groups: Int32Array, starts: Int32Array, n: number): number {
  const g = geom.groupOfCell(c);
  if (g < 0) return n;
  for (let r = 0; r < n; r++) if (groups[r] === g) return n;
  groups[n] = g;
  starts[n] = interleaved ? geom.firstOffsetShowing(c) : 0;
  return n + 1;
}

/** Adds the events of a shift of `n` domains of one group in an array of `rows` rows. */
export function addShift(e: ApEvents, n: number, rows: number, geom: ApGeometry, timing: ApTiming): void {
  if (n === 0) return;
  const a = Math.abs(n);
  e.shifts++;
  e.shiftSteps += a;
  e.shiftTrackDomains += rows * geom.tracksPerGroup * a;
  e.cycles += a * timing.shiftPerDomain;
}

/** What the schedule did to one program (per array, per image). */
export interface ShiftSchedule {
  /** Shift events of the page switches (interleaved) or lazy returns (serial), unit end included. */
  events: ApEvents;
  /** Group moves (shift micro-ops) and domains moved, per group. */
  movesPerGroup: Int32Array;
  domainsPerGroup: Float64Array;
}

/**
 * Walks a program with the schedule rule. `serialOps(i)` gives, for a serial row's compute step,
 * the offsets it starts and ends at in each group it uses (by position in its StepNeeds; its
 * sweep in between belongs to the op's own events); without it the step needs its groups at
 * needs.starts and leaves them there (interleaved rows). `onShift` sees every scheduled shift
 * (step index, group, n) in order.
 */
export function walkSchedule(
  p: UnitProgram, layout: RowLayout, timing: ApTiming, rows: number,
  serialOps: ((i: number) => { starts: readonly number[]; ends: readonly number[] }) | null,
  onShift?: (i: number, group: number, n: number) => void,
): ShiftSchedule {
  const geom = layout.geom;
  const events = zeroEvents();
  const movesPerGroup = new Int32Array(geom.groups);
  const domainsPerGroup = new Float64Array(geom.groups);
  const cur = new Int32Array(geom.groups);
  const move = (i: number, g: number, n: number): void => {
    if (n === 0) return;
    addShift(events, n, rows, geom, timing);
    movesPerGroup[g]!++;
    domainsPerGroup[g]! += Math.abs(n);
    onShift?.(i, g, n);
  };
  if (schedulesShifts(layout)) {
    const groups = new Int32Array(geom.groups), needed = new Int32Array(geom.groups);
    for (let i = 0; i < p.nSteps; i++) {
      const n = stepNeedsInto(p, i, layout, groups, needed);
      if (n === 0) continue;
      const o = p.op[i]!;
      const op = serialOps && o !== OP_LOAD && o !== OP_STORE ? serialOps(i) : null;
      for (let r = 0; r < n; r++) {
        const g = groups[r]!, start = op ? op.starts[r]! : needed[r]!;
        move(i, g, start - cur[g]!);
        cur[g] = start;
      }
      if (op) for (let r = 0; r < n; r++) cur[groups[r]!] = op.ends[r]!;
    }
    for (let g = 0; g < geom.groups; g++) {
      move(p.nSteps, g, -cur[g]!);
      cur[g] = 0;
    }
  }
  return { events, movesPerGroup, domainsPerGroup };
}

/** Offsets (one per group) showing every needed group at its start offset, the others at 0. */
export function offsetsFor(needs: StepNeeds, groups: number): Int32Array {
  const o = new Int32Array(groups);
  needs.groups.forEach((g, r) => (o[g] = needs.starts[r]!));
  return o;
}

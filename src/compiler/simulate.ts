/**
 * Execution of compiled unit programs, with event counts:
 *  - "fast": word level. Macro-ops are evaluated on integers by the AP's own semantics
 *    (`evalMacro`, one number per row); static events come from the expanded plan of one
 *    representative per structural class (ops that differ only in where they sit); the
 *    data-dependent writes from `evalMacro` on every row of every used array (idle rows are
 *    identical, so one simulated idle row stands for all of them). With events off, plain integer
 *    loops compute the values only (several times faster; used for long verification runs).
 *  - "bit": bit level. Every macro-op is expanded to micro-ops and run on the bit-sliced arrays
 *    (src/ap/array.ts), one simulated array per physical array the unit uses.
 * Loads and stores are priced by the movement model (src/compiler/mapping.ts) in both modes, so
 * the two modes agree on every value and every event count (tested). Shift groups move by the page
 * schedule (src/compiler/pages.ts): the fast simulator prices its static walk, the bit-level one
 * issues the same shifts to its arrays; macro-ops expand from where the schedule put the groups
 * and do not return home.
 */
import type { ApArch } from "../ap/config.js";
import { ApArray } from "../ap/array.js";
import { addEvents, addScaledEvents, zeroEvents, type ApEvents } from "../ap/events.js";
import type { FaultOptions } from "../ap/faults.js";
import type { ApGeometry } from "../ap/geometry.js";
import { MacroPlanCache, expandMacro, type MacroOp, type MacroPlan } from "../ap/macro.js";
import type { MicroOp } from "../ap/microop.js";
import { lowMask } from "../ap/bits.js";
import { evalMacro } from "../ap/semantics.js";
import { makeValue, shl, type ApValue } from "../ap/value.js";
import { RtapError } from "../errors.js";
import type { QGraph } from "../quantize/qgraph.js";
import { loadEvents, movementCycles, storeEvents, type MovementContext, type UnitMapping } from "./mapping.js";
import { offsetsFor, stepNeeds, walkSchedule, addShift, type ShiftSchedule, type StepNeeds } from "./pages.js";
import {
  OP_ADD, OP_ADDOUT, OP_COPY, OP_FREE, OP_LOAD, OP_MAC, OP_MAX, OP_NEGATE, OP_SET, OP_STORE, OP_SUB, OP_SUBOUT, OP_THRESHOLD,
  REGION_TMP, releaseSpareArray, takeSpareInt32, type LoadSource, type UnitProgram,
} from "./program.js";
import type { RowLayout } from "./rowlayout.js";
import { scheduleUnit, type UnitSchedule } from "./schedule.js";

export type SimMode = "fast" | "bit";

/** Cycles of each part of a unit program by role, one image, movement included (see partProfile). */
export interface PartProfile {
  compute: Float64Array;
  reduce: Float64Array;
  final: Float64Array;
  /** Macro-op and page-switch cycles of one pass (per array stream). */
  staticCycles: number;
  /** Load and store cycles (the movement clock, all passes). */
  movementCycles: number;
}

/** Steps with equal structural keys: one expansion, its static events, its word-level semantics. */
export interface StructuralClass {
  plan: MacroPlan;
  events: ApEvents;
  /** MAC steps (weight folding off): the predicated subtract that goes with the add in `plan`. */
  sub?: { plan: MacroPlan; events: ApEvents };
  /** Serial rows: where the op needs (first bit step) and leaves each group it uses (by position in its StepNeeds). */
  startByRank?: number[];
  endByRank?: number[];
  /** Serial MAC steps: the move between the add's sweep and the subtract's. */
  macReturn?: ApEvents;
}

export interface SimContext {
  q: QGraph;
  arch: ApArch;
  geom: ApGeometry;
  layout: RowLayout;
  cache: MacroPlanCache;
  classes: StructuralClass[];
  classIndex: ClassIndex;
  /** Per program: the structural class of every compute step (-1 otherwise). */
  stepClasses: WeakMap<UnitProgram, Int32Array>;
  /** Arrays on the thread's spare storage (the step classes) that releaseSimContext gives back. */
  spareArrays: Int32Array[];
  /** Per program: the page schedule's shifts (per array, per image). */
  schedules: WeakMap<UnitProgram, ShiftSchedule>;
  /** Per program: the page schedule's shift cycles by program segment (UnitProgram.segStart). */
  segmentShiftCycles: WeakMap<UnitProgram, Float64Array>;
  /** Per program: macro-op and page-switch cycles by segment (see segmentStaticCycles). */
  segmentStatic: WeakMap<UnitProgram, { rows: number; cycles: Float64Array }>;
  /** Fault injection (bit mode only). */
  faults?: FaultOptions;
  /** Skip the chip schedule (the fault study: its runs report accuracy, and cycles stay the serial stream's). */
  noSchedule?: boolean;
  /** Per program: its part profile for the chip schedule, with the placement and movement model it was made for. */
  profiles?: WeakMap<UnitProgram, { mapping: UnitMapping; local: boolean; profile: PartProfile }>;
  /**
   * Register buffers of finished units, by length, for the next unit with as many rows: a unit
   * allocates one per IN position and TMP slot (up to ~4000 x 12,545 rows on the SRAM-AP), and
   * reallocating them per unit made garbage collection a third of the simulation time.
   */
  buffers?: Map<number, Int32Array[]>;
  /**
   * Bit level, weight folding off: two track cells (P, M) of every row that hold a MAC step's
   * stored weight (P = 1 for +1, M = 1 for -1); the step runs as an add predicated on P = 1, M = 0
   * and a subtract predicated on M = 1, P = 0 (both bits in every search key: the word level's
   * model of it). The compiler reserves no cells for weights, so without these the bit level
   * refuses MAC steps; a caller gives two cells no value of the program uses, under a port
   * wherever the page schedule leaves their group (interleaved: a hot bank's home page; serial
   * rows have none and stay refused). The weight is put into the rows the way loads are
   * (testbench writes, not events): the word level prices no weight writes either.
   */
  macWeightCells?: readonly [number, number];
  /**
   * Word level: structural classes shared with other contexts of the same row layout and timing
   * (see SharedClasses), consulted before expanding a class afresh.
   */
  sharedClasses?: SharedClasses;
  /** Bit level: images simulated side by side per chunk, times the unit's arrays (default 64). */
  bitChunkRows?: number;
  /** Bit level: expanded steps of programs run more than once (see BitStepCache). */
  bitSteps?: BitStepCache;
}

/**
 * The bit level's expanded steps, kept per program: the fault study runs every unit once per
 * (configuration, faulted image set), and chunked runs once per chunk; expanding every macro-op
 * afresh each time (toMacroOp, value names, expandMacro, stepNeeds) took ~60% of a fault run on
 * fmnist-resnet8 (profiled). A step's expansion depends on the program and on the group offsets
 * the controller has reached there (the page schedule's, the same on every run: faults misalign
 * the arrays, not the controller), and an entry is reused only from the offsets it was made at.
 * Bounded by micro-ops held (a big network has millions of distinct ops): past the bound, steps
 * are expanded afresh as before.
 */
export class BitStepCache {
  private readonly byProgram = new WeakMap<UnitProgram, (BitStep | undefined)[]>();
  private readonly needsByProgram = new WeakMap<UnitProgram, StepNeeds[]>();
  /**
   * Micro-ops are interned: fmnist-resnet8's fault runs expand 3.3 M micro-ops, of which 45
   * thousand differ (the same LUT passes on the same cells over and over); held one object each,
   * they took 430 MB. Found by a numeric hash (string keys made interning cost more than it saved).
   */
  private readonly microByHash = new Map<number, MicroOp[]>();
  private held = 0;

  /** `maxHeld`: most interned micro-ops, micro-op references and steps kept (~10-100 bytes each). */
  constructor(readonly maxHeld = 4_000_000) {}

  /** Interned micro-ops, references, steps and step needs held. */
  get size(): number {
    return this.held;
  }

  /** stepNeeds of step i, kept per program (it allocates per step). */
  needs(p: UnitProgram, i: number, layout: RowLayout): StepNeeds {
    let all = this.needsByProgram.get(p);
    const known = all?.[i];
    if (known) return known;
    const n = stepNeeds(p, i, layout);
    if (this.held >= this.maxHeld) return n;
    if (!all) this.needsByProgram.set(p, (all = new Array(p.nSteps)));
    all[i] = n;
    this.held++;
    return n;
  }

  /** The step's expansion if it was made from these offsets. */
  get(p: UnitProgram, i: number, offsets: Int32Array): BitStep | undefined {
    const e = this.byProgram.get(p)?.[i];
    if (!e) return undefined;
    for (let g = 0; g < offsets.length; g++) if (e.offsets[g] !== offsets[g]) return undefined;
    return e;
  }

  /** Keeps a step's expansion (its micro-ops interned), unless the cache is full. */
  put(p: UnitProgram, i: number, step: BitStep): void {
    if (this.held + step.micro.length + 1 > this.maxHeld) return;
    const list = new Array<MicroOp>(step.micro.length);
    for (let k = 0; k < list.length; k++) list[k] = this.intern(step.micro[k]!);
    this.held += list.length;
    let steps = this.byProgram.get(p);
    if (!steps) this.byProgram.set(p, (steps = new Array(p.nSteps)));
    if (!steps[i]) this.held++;
    steps[i] = { ...step, micro: list };
  }

  private intern(m: MicroOp): MicroOp {
    const h = microHash(m);
    let bucket = this.microByHash.get(h);
    if (!bucket) this.microByHash.set(h, (bucket = []));
    for (const x of bucket) if (sameMicro(x, m)) return x;
    bucket.push(m);
    this.held++;
    return m;
  }
}

function hashNumbers(h: number, xs: readonly number[] | null): number {
  if (xs === null) return Math.imul(h ^ 0x9e3779b9, 0x01000193);
  for (let i = 0; i < xs.length; i++) h = Math.imul(h ^ (xs[i]! + 1), 0x01000193);
  return Math.imul(h ^ xs.length, 0x01000193);
}

const MICRO_KINDS: Record<MicroOp["op"], number> = { compare: 1, write: 2, tag: 3, shift: 4, readRow: 5, writeRow: 6 };
const TAG_FNS: Record<string, number> = { set: 1, clear: 2, not: 3, first: 4, and: 5, or: 6 };

function microHash(m: MicroOp): number {
  let h = Math.imul(0x811c9dc5 ^ MICRO_KINDS[m.op], 0x01000193);
  switch (m.op) {
    case "compare":
      return hashNumbers(hashNumbers(Math.imul(h ^ TAG_FNS[m.combine]!, 0x01000193), m.cols), m.bits);
    case "write":
      return hashNumbers(hashNumbers(h, m.cols), m.bits);
    case "tag":
      return Math.imul(h ^ TAG_FNS[m.fn]!, 0x01000193);
    case "shift":
      h = Math.imul(h ^ m.group, 0x01000193);
      return Math.imul(h ^ (m.n + 1024), 0x01000193);
    case "readRow":
    case "writeRow":
      return hashNumbers(Math.imul(h ^ m.row, 0x01000193), m.cols);
  }
}

function sameNumbers(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameMicro(x: MicroOp, m: MicroOp): boolean {
  if (x.op !== m.op) return false;
  switch (m.op) {
    case "compare": {
      const c = x as typeof m;
      return c.combine === m.combine && sameNumbers(c.cols, m.cols) && sameNumbers(c.bits, m.bits);
    }
    case "write": {
      const c = x as typeof m;
      return sameNumbers(c.cols, m.cols) && sameNumbers(c.bits, m.bits);
    }
    case "tag":
      return (x as typeof m).fn === m.fn;
    case "shift":
      return (x as typeof m).group === m.group && (x as typeof m).n === m.n;
    case "readRow":
    case "writeRow": {
      const c = x as typeof m;
      return c.row === m.row && sameNumbers(c.cols, m.cols);
    }
  }
}

/**
 * A compute step expanded for the bit level: its micro-ops from `offsets`, after moving groups to
 * `start` (serial rows), ending at `endOffsets` (the plan's micro-ops only: the plan itself holds
 * the op, its values and its bit steps, several times the memory).
 */
export interface BitStep {
  offsets: Int32Array;
  start?: Int32Array;
  micro: readonly MicroOp[];
  endOffsets: readonly number[];
}

/**
 * Structural classes shared between the simulation contexts of one architecture (row layout,
 * geometry, timing): a class's static events and word-level semantics depend on its structural
 * key and the array's row count only, so one unit met in several variants (the compare ablation
 * recompiles every unit seven times) or several units with equal steps expand it once per thread.
 * The requantization thresholds alone are one class per output channel (~3,900 per ResNet-18
 * variant, ~1.5 ms each to expand). Kept compact: the op, its detail and its events, not the
 * micro-ops (whole plans kept across units grew the heap to 600 MB of small objects), so only the
 * word level may use them; `maxClasses` bounds the store (cleared when full).
 */
export class SharedClasses {
  private readonly byRows = new Map<number, Map<number | string, StructuralClass>>();
  private count = 0;
  constructor(readonly maxClasses = 200_000) {}

  get(rows: number, key: number | string): StructuralClass | undefined {
    return this.byRows.get(rows)?.get(key);
  }

  set(rows: number, key: number | string, cl: StructuralClass): void {
    if (this.count >= this.maxClasses) {
      this.byRows.clear();
      this.count = 0;
    }
    let m = this.byRows.get(rows);
    if (!m) this.byRows.set(rows, (m = new Map()));
    m.set(key, cl);
    this.count++;
  }

  get size(): number {
    return this.count;
  }
}

/**
 * Class indices by structural key. Number keys (exact doubles below 2^52, one per step) live in an
 * open-addressing table of typed arrays: as Map keys they were boxed, one heap number per step of
 * every program. String keys (thresholds) stay in a Map.
 */
export class ClassIndex {
  private hi = new Int32Array(1024);
  private lo = new Int32Array(1024);
  private value = new Int32Array(1024).fill(-1);
  private count = 0;
  private readonly strings = new Map<string, number>();

  get(key: number | string): number | undefined {
    if (typeof key === "string") return this.strings.get(key);
    const hi = Math.floor(key / 4294967296) | 0, lo = key | 0;
    const mask = this.value.length - 1;
    for (let h = ClassIndex.hash(hi, lo) & mask; ; h = (h + 1) & mask) {
      const v = this.value[h]!;
      if (v < 0) return undefined;
      if (this.hi[h] === hi && this.lo[h] === lo) return v;
    }
  }

  /** Sets a key that is not in the index yet. */
  set(key: number | string, c: number): void {
    if (typeof key === "string") {
      this.strings.set(key, c);
      return;
    }
    if (2 * (this.count + 1) > this.value.length) this.grow();
    this.put(Math.floor(key / 4294967296) | 0, key | 0, c);
    this.count++;
  }

  private put(hi: number, lo: number, c: number): void {
    const mask = this.value.length - 1;
    let h = ClassIndex.hash(hi, lo) & mask;
    while (this.value[h]! >= 0) h = (h + 1) & mask;
    this.hi[h] = hi;
    this.lo[h] = lo;
    this.value[h] = c;
  }

  private grow(): void {
    const { hi, lo, value } = this;
    this.hi = new Int32Array(2 * value.length);
    this.lo = new Int32Array(2 * value.length);
    this.value = new Int32Array(2 * value.length).fill(-1);
    for (let k = 0; k < value.length; k++) if (value[k]! >= 0) this.put(hi[k]!, lo[k]!, value[k]!);
  }

  private static hash(hi: number, lo: number): number {
    const h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    return (h ^ (h >>> 15)) >>> 0;
  }
}

/** A plan's op, detail and offsets without its micro-ops: all the word level reads of a class. */
function compactPlan(p: MacroPlan): MacroPlan {
  return {
    op: p.op, detail: p.detail, startOffsets: p.startOffsets, endOffsets: p.endOffsets, micro: [], steps: [],
    staticEvents: () => {
      throw new Error("internal: a shared structural class keeps no micro-ops (word level only)");
    },
  };
}

export function makeSimContext(q: QGraph, arch: ApArch, layout: RowLayout): SimContext {
  return {
    q, arch, geom: layout.geom, layout, cache: new MacroPlanCache(layout.geom), classes: [], classIndex: new ClassIndex(), stepClasses: new WeakMap(), spareArrays: [],
    schedules: new WeakMap(), segmentShiftCycles: new WeakMap(), segmentStatic: new WeakMap(), bitSteps: new BitStepCache(),
  };
}

/**
 * Gives the context's arrays on spare storage back to the thread (the next task's programs and
 * contexts reuse them). The caller promises it reads nothing of this context again.
 */
export function releaseSimContext(ctx: SimContext): void {
  for (const a of ctx.spareArrays) releaseSpareArray(a);
  ctx.spareArrays.length = 0;
  ctx.stepClasses = new WeakMap();
}

export interface UnitEvents {
  /** Events of the unit for the whole batch (sum over arrays and images; cycles: per image x batch). */
  total: ApEvents;
  /** Of which: movement (loads and stores; not the partial sums the chip schedule moves). */
  movement: ApEvents;
  /** The chip schedule of the unit (src/compiler/schedule.ts): its cycles replace the serial stream's in `total`. */
  schedule?: UnitSchedule;
}

/** Wraps x to `width` bits, two's complement when signed (width <= 31): what a width-bit value keeps. */
export function wrap(x: number, width: number, signed: boolean): number {
  const s = 32 - width;
  return signed ? (x << s) >> s : (x << s) >>> s;
}

function apValue(p: UnitProgram, id: number): ApValue {
  return makeValue(p.name(id), p.cells(id), p.signed[id] === 1);
}

/** The AP macro-op of compute step i (null for load/store/free/mac). */
export function toMacroOp(p: UnitProgram, i: number, layout: RowLayout): MacroOp | null {
  const d = p.dst[i]!, a = p.a[i]!, b = p.b[i]!, imm = p.imm[i]!;
  const v = (id: number): ApValue => apValue(p, id);
  switch (p.op[i]) {
    case OP_ADDOUT:
      return { kind: "addOut", dst: v(d), a: v(a), b: v(b), dstInit: "any" };
    case OP_SUBOUT:
      return { kind: "subOut", dst: v(d), a: v(a), b: v(b), dstInit: "any" };
    case OP_ADD:
      return { kind: "add", dst: v(d), src: imm ? shl(v(a), imm) : v(a) };
    case OP_SUB:
      return { kind: "sub", dst: v(d), src: imm ? shl(v(a), imm) : v(a) };
    case OP_COPY:
      return { kind: "copy", dst: v(d), src: imm ? shl(v(a), imm) : v(a), dstInit: "any" };
    case OP_NEGATE:
      return { kind: "negate", dst: v(d), src: v(a), dstInit: "any" };
    case OP_SET:
      return { kind: "set", dst: v(d), k: imm, dstInit: "any" };
    case OP_MAX:
      return { kind: "max", dst: v(d), src: v(a) };
    case OP_THRESHOLD:
      return { kind: "threshold", dst: v(d), src: v(a), thresholds: Array.from(p.thresholds[imm]!), dstInit: "any", scratch: layout.scratchCells };
    default:
      return null;
  }
}

/**
 * A key that identifies a step up to where it sits: per value its width, signedness, shift group
 * (renamed in order of appearance) and distance from its port, plus the op's constants. Steps with
 * equal keys have equal static events and equal evalMacro results (values are contiguous cells).
 */
/** An op code and three 16-bit fields as one exact double (< 2^52). */
function packKey(o: number, x: number, y: number, z: number): number {
  return ((o * 65536 + x) * 65536 + y) * 65536 + z;
}

/** Groups of the step being keyed, in order of appearance (structuralKey's renaming). */
const seenGroups = new Int32Array(3);

/** A value of the step being keyed, packed in 16 bits (see structuralKey). */
function describeValue(p: UnitProgram, id: number, geom: ApGeometry, domainDelta: Int8Array): number {
  const c = p.cell0[id]!;
  const g = geom.canShift ? geom.groupOfCell(c) : 0;
  let r: number;
  if (g === seenGroups[0]) r = 0;
  else if (g === seenGroups[1]) r = 1;
  else if (g === seenGroups[2]) r = 2;
  else if (seenGroups[0] === -2) (seenGroups[0] = g), (r = 0);
  else if (seenGroups[1] === -2) (seenGroups[1] = g), (r = 1);
  else (seenGroups[2] = g), (r = 2);
  return (p.signed[id]! << 15) | (p.width[id]! << 9) | (r << 7) | domainDelta[c % geom.domains]!;
}

function structuralKey(p: UnitProgram, i: number, geom: ApGeometry, domainDelta: Int8Array): number | string {
  // Groups renamed in order of appearance (up to 4 distinct per op), each value packed in 16 bits:
  // signed (1) | width (5) | group rank (2) | distance from its port (7). The key packs the op code
  // and up to three such fields in one exact double (< 2^52): a number, not a string per step.
  seenGroups[0] = seenGroups[1] = seenGroups[2] = -2;
  const o = p.op[i]!, d = p.dst[i]!, a = p.a[i]!, b = p.b[i]!, imm = p.imm[i]!;
  const dd = describeValue(p, d, geom, domainDelta);
  switch (o) {
    case OP_ADDOUT:
    case OP_SUBOUT:
      return packKey(o, dd, describeValue(p, a, geom, domainDelta), describeValue(p, b, geom, domainDelta));
    case OP_ADD:
    case OP_SUB:
    case OP_COPY:
    case OP_MAC:
      return packKey(o, dd, describeValue(p, a, geom, domainDelta), imm & 0xffff);
    case OP_NEGATE:
      return packKey(o, dd, a === d ? 0xffff : describeValue(p, a, geom, domainDelta), 0);
    case OP_MAX:
      return packKey(o, dd, describeValue(p, a, geom, domainDelta), 0);
    case OP_SET:
      return packKey(o, dd, imm & 0xffff, (imm >>> 16) & 0xffff);
    case OP_THRESHOLD:
      return String.fromCharCode(o, dd, describeValue(p, a, geom, domainDelta)) + p.thresholds[imm]!.join(",");
    default:
      return "";
  }
}

function classesOf(ctx: SimContext, p: UnitProgram, rows: number): Int32Array {
  let cls = ctx.stepClasses.get(p);
  if (cls) return cls;
  // on the thread's spare storage (fresh, its pages faulted in per task: ~11 MB on a deep unit);
  // every entry is written below
  cls = takeSpareInt32(p.nSteps);
  ctx.spareArrays.push(cls);
  // distance of each domain from the port below it (0 for SRAM)
  const geom = ctx.geom;
  // (interleaved rows: all 0 — a value is visible whole at its page, so its page does not matter)
  const interleaved = ctx.layout.kind === "interleaved";
  const domainDelta = new Int8Array(geom.domains);
  if (!interleaved) {
    for (let dm = 0; dm < geom.domains; dm++) {
      let delta = dm;
      for (const pp of geom.portPositions) if (dm >= pp) delta = Math.min(delta, dm - pp);
      domainDelta[dm] = delta;
    }
  }
  for (let i = 0; i < p.nSteps; i++) {
    const o = p.op[i]!;
    if (o === OP_LOAD || o === OP_STORE || o === OP_FREE) {
      cls[i] = -1;
      continue;
    }
    const key = structuralKey(p, i, geom, domainDelta);
    let c = ctx.classIndex.get(key);
    if (c === undefined) {
      const shared = ctx.sharedClasses?.get(rows, key);
      if (shared) {
        c = ctx.classes.push(shared) - 1;
        ctx.classIndex.set(key, c);
        cls[i] = c;
        continue;
      }
      let op: MacroOp;
      if (o === OP_MAC) {
        // represented by its add; the sub is derived when pricing
        op = { kind: "add", dst: apValue(p, p.dst[i]!), src: apValue(p, p.a[i]!) };
      } else op = toMacroOp(p, i, ctx.layout)!;
      const needs = stepNeeds(p, i, ctx.layout);
      const plan = planAt(ctx, op, needs, p.unit);
      const cl: StructuralClass = { plan, events: plan.staticEvents(ctx.arch.timing, rows) };
      if (ctx.layout.kind === "serial") {
        cl.startByRank = needs.groups.map((g) => plan.startOffsets[g]!);
        cl.endByRank = needs.groups.map((g) => plan.endOffsets[g]!);
        if (o === OP_MAC) {
          cl.sub = subOfClass(ctx, plan, rows);
          cl.endByRank = needs.groups.map((g) => cl.sub!.plan.endOffsets[g]!);
          cl.macReturn = zeroEvents();
          for (let g = 0; g < geom.groups; g++) addShift(cl.macReturn, cl.sub.plan.startOffsets[g]! - plan.endOffsets[g]!, rows, geom, ctx.arch.timing);
        }
      }
      if (ctx.sharedClasses) {
        if (o === OP_MAC) cl.sub ??= subOfClass(ctx, plan, rows);
        cl.plan = compactPlan(cl.plan);
        if (cl.sub) cl.sub = { plan: compactPlan(cl.sub.plan), events: cl.sub.events };
        ctx.sharedClasses.set(rows, key, cl);
      }
      c = ctx.classes.push(cl) - 1;
      ctx.classIndex.set(key, c);
    }
    cls[i] = c;
  }
  ctx.stepClasses.set(p, cls);
  const serial = ctx.layout.kind === "serial" ? (i: number) => ({ starts: ctx.classes[cls![i]!]!.startByRank!, ends: ctx.classes[cls![i]!]!.endByRank! }) : null;
  // the page switches' cycles by program segment (the chip schedule's part profile)
  const segShift = new Float64Array(Math.max(1, p.segStart.length));
  let seg = 0;
  const onShift = (i: number, _g: number, n: number): void => {
    while (seg + 1 < p.segStart.length && p.segStart[seg + 1]! <= i) seg++;
    segShift[seg]! += Math.abs(n) * ctx.arch.timing.shiftPerDomain;
  };
  ctx.schedules.set(p, walkSchedule(p, ctx.layout, ctx.arch.timing, rows, serial, onShift));
  ctx.segmentShiftCycles.set(p, segShift);
  return cls;
}

/**
 * A step's expansion from where the page schedule puts its groups, not returning home:
 * interleaved rows at the step's pages (the plan must then shift nothing), serial rows at the
 * offsets of their first bit step (serialStart), SRAM rows anywhere.
 */
function planAt(ctx: SimContext, op: MacroOp, needs: ReturnType<typeof stepNeeds>, unit: string): MacroPlan {
  // The word level needs a class plan's events, offsets and detail, never its micro-ops (a shared
  // class drops them anyway), so none are made (countOnly); serial rows find where the op starts
  // from the count-only expansion from home (serialStartCounted).
  if (ctx.layout.kind === "serial") return ctx.cache.plan(op, { offsets: serialStartCounted(ctx, op), returnHome: false, countOnly: true });
  if (ctx.layout.kind !== "interleaved") return ctx.cache.plan(op, { returnHome: false, countOnly: true });
  const plan = ctx.cache.plan(op, { offsets: offsetsFor(needs, ctx.geom.groups), returnHome: false, countOnly: true });
  if (plan.countedShift) throw new Error(`internal: ${op.kind} in unit "${unit}" needs a shift inside its expansion on an interleaved row (operands on two pages of one group)`);
  return plan;
}

/**
 * Serial rows: per group, the offset at which the op first reads or writes one of its cells (its
 * expansion from home, replayed); the schedule moves each group straight there from wherever the
 * last op left it, and the op's expansion from these offsets starts with no move of its own.
 */
export function serialStart(fromHome: MacroPlan, geom: ApGeometry): Int32Array {
  if (fromHome.firstUseOffsets) return Int32Array.from(fromHome.firstUseOffsets);
  const at = Int32Array.from(fromHome.startOffsets);
  const start = Int32Array.from(fromHome.startOffsets);
  const fixed = new Uint8Array(at.length);
  for (const m of fromHome.micro) {
    if (m.op === "shift") at[m.group]! += m.n;
    else if (m.op === "compare" || m.op === "write") {
      for (const c of m.cols) {
        const g = geom.columnGroup[c]!;
        if (g >= 0 && !fixed[g]) {
          fixed[g] = 1;
          start[g] = at[g]!;
        }
      }
    }
  }
  return start;
}

/** serialStart of an op from its count-only expansion from home (no micro-ops made; the same offsets). */
function serialStartCounted(ctx: SimContext, op: MacroOp): Int32Array {
  return serialStart(ctx.cache.plan(op, { returnHome: false, countOnly: true }), ctx.geom);
}

/**
 * Most bytes of gathered input columns the word level keeps per unit (shared by the IN registers
 * that load them; beyond it, loads gather into the register as before).
 */
const LOAD_COLUMN_BYTES = 64 * 2 ** 20;

/** Runs one unit program on `batch` images; reads input tensors from env, writes the output tensor. */
export function simulateUnit(
  ctx: SimContext, program: UnitProgram, outputName: string, mapping: UnitMapping, mv: MovementContext,
  env: Map<string, Int32Array>, batch: number, mode: SimMode, withEvents = true,
): UnitEvents {
  const ue = mode === "fast" ? simulateFast(ctx, program, outputName, mapping, mv, env, batch, withEvents) : simulateBits(ctx, program, outputName, mapping, mv, env, batch);
  // the chip schedule: the unit's latency replaces the serial stream's cycles
  if ((withEvents || mode === "bit") && !ctx.noSchedule) {
    const s = scheduleUnit(program, cachedPartProfile(ctx, program, mapping, mv), mapping, ctx.arch);
    ue.total.cycles += (s.cycles - s.serialCycles) * batch;
    addScaledEvents(ue.total, s.transfer, batch);
    ue.schedule = s;
  }
  return ue;
}

/** Movement cycles: loads and stores are batched per run of consecutive steps (one row write/read per run). */
class MovementClock {
  private bits = 0;
  private remote = 0;
  private global = 0;
  private kind: "load" | "store" | null = null;
  cycles = 0;
  constructor(private readonly arch: ApArch, private readonly mapping: UnitMapping) {}
  add(kind: "load" | "store", bits: number, remoteBits: number, globalBits = 0): void {
    if (this.kind !== kind) this.flush();
    this.kind = kind;
    this.bits += bits;
    this.remote += remoteBits;
    this.global += globalBits;
  }
  flush(): void {
    if (this.kind && this.bits > 0) this.cycles += movementCycles(this.arch, this.mapping, this.bits, this.kind, this.remote / this.bits, this.global / this.bits);
    this.bits = 0;
    this.remote = 0;
    this.global = 0;
    this.kind = null;
  }
}

/**
 * Movement of a unit's loads and stores: events per distinct access (priced once, by the movement
 * model) times how often it happens, and the cycles of each run of consecutive loads or stores.
 * Per step it only counts (a program has millions of steps).
 */
class MovementTracker {
  private readonly byLoad = new Map<number | string, ApEvents>();
  /** Per load index of the program (p.loads holds each source once): the slot of its events by width. */
  private readonly byLoadIndex: (number[] | undefined)[] = [];
  private readonly tensorIds = new Map<string, number>();
  /** Per store width: the slot of its events. */
  private readonly byStore: number[] = [];
  /** Distinct events in order of first use, with how often each happened. */
  private readonly slotOf = new Map<ApEvents, number>();
  private readonly used: ApEvents[] = [];
  private readonly counts: number[] = [];
  /** Per slot, the bits one access adds to the movement clock within the arrays' tile and across the chip (per position). */
  private readonly localBits: number[] = [];
  private readonly chipBits: number[] = [];
  readonly clock: MovementClock;
  constructor(private readonly ctx: SimContext, private readonly p: UnitProgram, private readonly mv: MovementContext, mapping: UnitMapping, private readonly P: number) {
    this.clock = new MovementClock(ctx.arch, mapping);
  }
  private slot(e: ApEvents): number {
    let k = this.slotOf.get(e);
    if (k === undefined) {
      this.slotOf.set(e, (k = this.used.length));
      this.used.push(e);
      this.counts.push(0);
      const P = this.P;
      this.localBits.push(P > 0 ? (e.transferBitsArray + e.transferBitsTile) / P : 0);
      this.chipBits.push(P > 0 ? e.transferBitsChip / P : 0);
    }
    return k;
  }
  /**
   * The slot of a load's events, remembered per load index and width: an index stands for one
   * source, a (channel, tap), loaded again and again (~10^7 times per variant with interchange or
   * unrolling off: an array lookup, not a Map by object or by a boxed number key).
   */
  private loadSlot(i: number): number {
    const p = this.p, w = p.width[p.dst[i]!]!, k = p.imm[i]!;
    const widths = (this.byLoadIndex[k] ??= []);
    return (widths[w] ??= this.slot(this.loadEventsOf(p.loads[k]!, w)));
  }
  /** Events of a load: they depend on the tensor, strides, offsets and width only (not the channel). */
  private loadEventsOf(s: LoadSource, w: number): ApEvents {
    let t = this.tensorIds.get(s.tensor);
    if (t === undefined) this.tensorIds.set(s.tensor, (t = this.tensorIds.size));
    // a number key, no string per step (strides < 64, offsets within +-512, width < 64; else a string)
    const fits = s.sy < 64 && s.sx < 64 && Math.abs(s.dy) < 512 && Math.abs(s.dx) < 512 && w < 64;
    const key = fits ? ((((t * 64 + s.sy) * 64 + s.sx) * 1024 + s.dy + 512) * 1024 + s.dx + 512) * 64 + w : `${t}|${s.sy},${s.sx},${s.dy},${s.dx}|${w}`;
    let e = this.byLoad.get(key);
    if (!e) this.byLoad.set(key, (e = loadEvents(this.mv, s, w, this.ctx.q.tensors.get(s.tensor)!.shape)));
    return e;
  }
  private storeSlot(w: number): number {
    return (this.byStore[w] ??= this.slot(storeEvents(this.mv, w)));
  }
  step(i: number): void {
    const p = this.p, o = p.op[i]!;
    if (o !== OP_LOAD && o !== OP_STORE) {
      if (o !== OP_FREE) this.clock.flush();
      return;
    }
    const w = o === OP_LOAD ? p.width[p.dst[i]!]! : p.width[p.a[i]!]!;
    const k = o === OP_LOAD ? this.loadSlot(i) : this.storeSlot(w);
    this.counts[k]!++;
    this.clock.add(o === OP_LOAD ? "load" : "store", w, this.localBits[k]!, this.chipBits[k]!);
  }
  /** The movement events of `batch` images (cycles: the clock's, per image x batch). */
  finish(batch: number): ApEvents {
    this.clock.flush();
    const movement = zeroEvents();
    this.used.forEach((e, k) => addScaledEvents(movement, e, this.counts[k]! * batch));
    movement.cycles = this.clock.cycles * batch;
    return movement;
  }
}

/**
 * The movement events of one image of a unit program, cycles included (each run of consecutive
 * loads or stores as the simulators clock it): what the ablation swaps when only the placement or
 * the movement model changes.
 */
export function programMovement(q: QGraph, arch: ApArch, p: UnitProgram, mapping: UnitMapping, mv: MovementContext): ApEvents {
  const ctx = { q, arch } as SimContext;
  const shape = q.tensors.get(p.storeTensor[0] ?? "")?.shape;
  const P = shape ? shape[1] * shape[2] : mapping.positions;
  const t = new MovementTracker(ctx, p, mv, mapping, P);
  for (let i = 0; i < p.nSteps; i++) t.step(i);
  return t.finish(1);
}

/** The tensor a load reads, from the run's tensors. */
function loadedTensor(env: Map<string, Int32Array>, s: LoadSource, unit: string): Int32Array {
  const src = env.get(s.tensor);
  if (!src) throw new Error(`fast sim: tensor ${s.tensor} not available (${unit})`);
  return src;
}

function fillLoad(d: Int32Array, src: Int32Array, s: UnitProgram["loads"][number], shape: readonly number[], batch: number, OH: number, OW: number): void {
  const [C, H, W] = shape as [number, number, number];
  const P = OH * OW;
  for (let n = 0; n < batch; n++) {
    const base = (n * C + s.channel) * H * W;
    for (let oy = 0; oy < OH; oy++) {
      const iy = oy * s.sy + s.dy;
      const rb = n * P + oy * OW;
      if (iy < 0 || iy >= H) {
        d.fill(s.pad, rb, rb + OW);
        continue;
      }
      for (let ox = 0; ox < OW; ox++) {
        const ix = ox * s.sx + s.dx;
        d[rb + ox] = ix >= 0 && ix < W ? src[base + iy * W + ix]! : s.pad;
      }
    }
  }
}

function simulateFast(
  ctx: SimContext, p: UnitProgram, outputName: string, mapping: UnitMapping, mv: MovementContext,
  env: Map<string, Int32Array>, batch: number, withEvents: boolean,
): UnitEvents {
  const q = ctx.q;
  const outT = q.tensors.get(outputName)!;
  const [OC, OH, OW] = outT.shape;
  const P = OH * OW;
  const R = mapping.rowsPerArray;
  const arraysTotal = mapping.arrays * mapping.passes;
  // Sim rows: the batch's real rows (image-major), then one idle row per image standing for the
  // `idle` identical idle rows of the arrays (only needed to count their writes).
  const idle = withEvents ? arraysTotal * R - P : 0;
  const realRows = batch * P;
  const N = realRows + (idle > 0 ? batch : 0);
  const out = new Int32Array(batch * OC * P);
  // Registers: one buffer per TMP slot and per IN position (values never share one while live).
  const regs: (Int32Array | undefined)[] = [];
  // Raw bit patterns of the TMP lanes (what "any" destinations overwrite), events mode only: a
  // value's bits are bits laneBit.. of its lane's word (serial and SRAM rows: lane = slot, bit 0).
  const pats: (Int32Array | undefined)[] = [];
  const pool = (ctx.buffers ??= new Map()).get(N) ?? [];
  const taken: Int32Array[] = [];
  /** A zeroed buffer of N rows (recycled from earlier units; returned to the pool at the end). */
  const zeroed = (): Int32Array => {
    const x = pool.pop()?.fill(0) ?? new Int32Array(N);
    taken.push(x);
    return x;
  };
  // Gathered IN columns by load index (see OP_LOAD; p.loads holds each source once), and the
  // registers that show one
  const loadColumns: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(p.loads.length);
  let loadColumnBytes = 0;
  let maxReg = 0;
  for (let v = 0; v < p.nValues; v++) if (p.reg[v]! > maxReg) maxReg = p.reg[v]!;
  const sharedReg = new Uint8Array(maxReg + 1);
  // every register index present from the start: IN registers sit above the TMP slots, and
  // assigning them one by one into an empty array made it sparse (a dictionary) in V8
  for (let r = 0; r <= maxReg; r++) regs.push(undefined);
  const reg = (id: number): Int32Array => {
    const r = p.reg[id]!;
    let x = regs[r];
    if (!x) {
      x = zeroed();
      regs[r] = x;
    }
    return x;
  };
  const total = zeroEvents();
  const moves = new MovementTracker(ctx, p, mv, mapping, P);
  const cls = withEvents ? classesOf(ctx, p, R) : null;

  // The old contents of a destination, as its width reads them. One buffer, reused: callers only
  // read it before the next oldOf.
  const oldBuf = new Int32Array(N);
  /** Results of copyKernel (copied into the destination's register by setResult). */
  const copyOut = withEvents ? new Int32Array(N) : oldBuf;
  const oldOf = (id: number): Int32Array => {
    const res = oldBuf;
    const pat = pats[p.lane[id]!];
    if (!pat) return res.fill(0);
    const sh = 32 - p.width[id]!, lb = p.laneBit[id]!;
    if (p.signed[id]) for (let r = 0; r < N; r++) res[r] = ((pat[r]! >>> lb) << sh) >> sh;
    else for (let r = 0; r < N; r++) res[r] = ((pat[r]! >>> lb) << sh) >>> sh;
    return res;
  };
  const setResult = (id: number, data: Int32Array): void => {
    const dst = reg(id);
    if (data !== dst) dst.set(data);
    if (!withEvents || p.region[id] !== REGION_TMP) return;
    const r = p.lane[id]!;
    let pat = pats[r];
    if (!pat) {
      pat = zeroed();
      pats[r] = pat;
    }
    const w = p.width[id]!, lb = p.laneBit[id]!;
    const m = lowMask(w) | 0;
    const ml = m << lb;
    for (let k = 0; k < N; k++) pat[k] = (pat[k]! & ~ml) | ((data[k]! & m) << lb);
  };
  const evalCounted = (plan: MacroPlan, vals: { dst?: Int32Array; src?: Int32Array; a?: Int32Array; b?: Int32Array }): Int32Array => {
    const r = evalMacro(plan, ctx.geom, vals);
    total.writeCells += r.writeCells;
    total.flagWriteCells += r.flagWriteCells;
    if (idle > 1) {
      const ri = evalMacro(plan, ctx.geom, { dst: idleRows(vals.dst, realRows), src: idleRows(vals.src, realRows), a: idleRows(vals.a, realRows), b: idleRows(vals.b, realRows) });
      total.writeCells += (idle - 1) * ri.writeCells;
      total.flagWriteCells += (idle - 1) * ri.flagWriteCells;
    }
    return r.dst;
  };
  // Static events are summed per structural class at the end (count x events).
  const classCount = withEvents ? new Float64Array(ctx.classes.length) : new Float64Array(0);
  const macCount = withEvents ? new Float64Array(ctx.classes.length) : new Float64Array(0);
  const priceStatic = (ev: ApEvents, count: number, extraKeyBits: number): void => {
    addScaledEvents(total, ev, count * arraysTotal * batch);
    total.cycles += ev.cycles * count * (mapping.passes - arraysTotal) * batch;
    if (extraKeyBits) total.searchRowBits += extraKeyBits * ev.searches * count * R * arraysTotal * batch;
  };
  // dst <- dst +/- (src << s) in place: the fused kernel when the destination is all track cells
  // (always, for compiled programs), else evalMacro.
  const inPlaceStep = (plan: MacroPlan, d: number, a: number): void => {
    const info = inPlaceInfo(plan, ctx.geom);
    if (!info) {
      setResult(d, evalCounted(plan, { dst: reg(d), src: reg(a) }));
      return;
    }
    let pat: Int32Array | undefined;
    if (p.region[d] === REGION_TMP) pat = pats[p.lane[d]!] ??= zeroed();
    const k = inPlaceKernel(info, reg(d), reg(a), pat, p.laneBit[d]!, N, realRows, idle);
    total.writeCells += k[0]!;
    addScratchCells(total, ctx.geom, info.chainCell, k[1]!);
    addScratchCells(total, ctx.geom, info.signCell, k[2]!);
  };
  for (let i = 0; i < p.nSteps; i++) {
    const o = p.op[i]!, d = p.dst[i]!, a = p.a[i]!, b = p.b[i]!, imm = p.imm[i]!;
    if (withEvents) moves.step(i);
    switch (o) {
      case OP_LOAD: {
        const r = p.reg[d]!;
        if (p.region[d] !== REGION_TMP) {
          // IN codes: gathered once per load source and unit, then shared by reference (IN
          // registers are only read; one-output blocks reload every source once per output:
          // ~10^7 loads per variant with interchange or unrolling off, so no lookup by object here)
          let col = loadColumns[imm];
          if (!col && loadColumnBytes + 4 * N <= LOAD_COLUMN_BYTES) {
            const s = p.loads[imm]!;
            col = new Int32Array(N); // idle rows are never loaded: IN cells stay 0
            fillLoad(col, loadedTensor(env, s, p.unit), s, q.tensors.get(s.tensor)!.shape, batch, OH, OW);
            loadColumns[imm] = col;
            loadColumnBytes += 4 * N;
          }
          if (col) {
            regs[r] = col;
            sharedReg[r] = 1;
            break;
          }
        }
        if (sharedReg[r]) {
          // the register shows a shared column: give it a buffer of its own before writing
          regs[r] = zeroed();
          sharedReg[r] = 0;
        }
        const s = p.loads[imm]!;
        const x = reg(d);
        const keep = idle > 0 && p.region[d] === REGION_TMP ? oldOf(d) : null;
        fillLoad(x, loadedTensor(env, s, p.unit), s, q.tensors.get(s.tensor)!.shape, batch, OH, OW);
        // idle rows are never loaded: a TMP slot keeps what it held, IN cells stay 0
        if (keep) x.set(keep.subarray(realRows), realRows);
        else if (idle > 0) x.fill(0, realRows);
        setResult(d, x);
        break;
      }
      case OP_STORE: {
        const x = reg(a);
        for (let n = 0; n < batch; n++) out.set(x.subarray(n * P, (n + 1) * P), (n * OC + b) * P);
        break;
      }
      case OP_FREE:
        break;
      case OP_MAC: {
        // Weight folding off: a predicated add and a predicated subtract on 2 stored weight bits.
        // Both run on every MAC (static events, counted per class); only the one the weight
        // selects changes cells.
        const w = p.width[d]!, sg = p.signed[d] === 1;
        if (withEvents) {
          const ci = cls![i]!;
          const c = ctx.classes[ci]!;
          macCount[ci]!++;
          if (imm !== 0) {
            const plan = imm > 0 ? c.plan : (c.sub ??= subOfClass(ctx, c.plan, R)).plan;
            inPlaceStep(plan, d, a);
          }
        } else if (imm !== 0) {
          const x = reg(d), y = reg(a);
          for (let r = 0; r < N; r++) x[r] = wrap(x[r]! + imm * y[r]!, w, sg);
        }
        break;
      }
      default: {
        if (!withEvents) {
          valueStep(p, i, reg, N);
          break;
        }
        const ci = cls![i]!;
        const c = ctx.classes[ci]!;
        classCount[ci]!++;
        if (o === OP_ADD || o === OP_SUB) {
          inPlaceStep(c.plan, d, a);
          break;
        }
        if (o === OP_ADDOUT || o === OP_SUBOUT) {
          // The hot path (~99% of a ResNet's steps): one fused kernel computes the values, their
          // written cells, and the slot's new raw pattern.
          const dv = reg(d);
          // only TMP slots hold stale bits; other regions start from zeros and keep no pattern
          const pat = p.region[d] === REGION_TMP ? (pats[p.lane[d]!] ??= zeroed()) : undefined;
          const det = c.plan.detail;
          const k = addOutKernel(
            o === OP_ADDOUT, reg(a), reg(b), pat, p.laneBit[d]!, dv, N, realRows, idle,
            p.width[d]!, p.signed[d] === 1, p.width[a]!, p.signed[a] === 1, p.width[b]!, p.signed[b] === 1,
            det.signA >= 0, det.signB >= 0,
          );
          total.writeCells += k[0]!;
          addScratchCells(total, ctx.geom, det.chain, k[1]!);
          addScratchCells(total, ctx.geom, det.signA, k[2]!);
          addScratchCells(total, ctx.geom, det.signB, k[3]!);
          break;
        }
        if (o === OP_COPY) {
          const info = copyInfo(c.plan, ctx.geom);
          if (info) {
            // staging and eviction copies (thousands per deep unit): a fused kernel, not evalMacro
            const k = copyKernel(info, reg(a), oldOf(d), copyOut, N, realRows, idle);
            total.writeCells += k[0]!;
            addScratchCells(total, ctx.geom, info.signCell, k[1]!);
            setResult(d, copyOut);
            break;
          }
        }
        const vals: { dst?: Int32Array; src?: Int32Array; a?: Int32Array; b?: Int32Array } = {};
        if (o === OP_MAX || (o === OP_NEGATE && a === d)) {
          vals.dst = reg(d);
          vals.src = reg(a);
        } else if (o === OP_COPY || o === OP_NEGATE || o === OP_THRESHOLD) {
          vals.src = reg(a);
          vals.dst = oldOf(d);
        } else vals.dst = oldOf(d);
        setResult(d, evalCounted(c.plan, vals));
      }
    }
  }
  if (withEvents) {
    for (let ci = 0; ci < classCount.length; ci++) {
      const c = ctx.classes[ci]!;
      if (classCount[ci]) priceStatic(c.events, classCount[ci]!, 0);
      if (macCount[ci]) {
        // the weight's 2 bits join every search key of both the add and the subtract
        priceStatic(c.events, macCount[ci]!, 2);
        priceStatic((c.sub ??= subOfClass(ctx, c.plan, R)).events, macCount[ci]!, 2);
        if (c.macReturn) priceStatic(c.macReturn, macCount[ci]!, 0);
      }
    }
    // the page schedule's shifts (page switches; serial: the lazy returns home)
    priceStatic(ctx.schedules.get(p)!.events, 1, 0);
  }
  env.set(outputName, out);
  for (const x of taken) pool.push(x);
  ctx.buffers.set(N, pool);
  const movement = withEvents ? moves.finish(batch) : zeroEvents();
  addEvents(total, movement);
  return { total, movement };
}

/** The subtract of a MAC class (same values as its add). */
function subOfClass(ctx: SimContext, addPlan: MacroPlan, rows: number): { plan: MacroPlan; events: ApEvents } {
  const op = addPlan.op as Extract<MacroOp, { kind: "add" }>;
  const interleaved = ctx.layout.kind === "interleaved";
  const sub = { kind: "sub" as const, dst: op.dst, src: op.src };
  // (count-only, like the class plans: see planAt)
  const plan = interleaved
    ? ctx.cache.plan(sub, { offsets: addPlan.startOffsets, returnHome: false, countOnly: true })
    : ctx.cache.plan(sub, { offsets: serialStartCounted(ctx, sub), returnHome: false, countOnly: true });
  return { plan, events: plan.staticEvents(ctx.arch.timing, rows) };
}

/** What inPlaceKernel needs of an in-place add/sub plan (null: the destination has flag cells). */
interface InPlaceInfo {
  isAdd: boolean;
  wd: number;
  dSigned: boolean;
  shift: number;
  srcWidth: number;
  srcSigned: boolean;
  capture: boolean;
  chainCell: number;
  signCell: number;
}

const inPlaceInfos = new WeakMap<MacroPlan, InPlaceInfo | null>();

function inPlaceInfo(plan: MacroPlan, geom: ApGeometry): InPlaceInfo | null {
  let info = inPlaceInfos.get(plan);
  if (info !== undefined) return info;
  const op = plan.op as Extract<MacroOp, { kind: "add" | "sub" }>;
  const src = "value" in op.src ? op.src : { value: op.src, shift: 0 };
  info = op.dst.cells.some((c) => geom.isFlagCell(c))
    ? null
    : {
        isAdd: op.kind === "add", wd: op.dst.width, dSigned: op.dst.signed, shift: src.shift, srcWidth: src.value.width, srcSigned: src.value.signed,
        capture: plan.detail.signA >= 0, chainCell: plan.detail.chain, signCell: plan.detail.signA,
      };
  inPlaceInfos.set(plan, info);
  return info;
}

/**
 * dst <- dst +/- (src << shift) in place, with its written cells: evalMacro's "add"/"sub" closed
 * forms (destination: popcount(old XOR new); carry/borrow flag: 2 x runs of 1s in the carry vector
 * above the shift; sign capture: 2 per negative source) in one loop, no closures. Rows from
 * `realRows` on stand for `idle` rows each; `pat` (the slot's raw pattern, TMP slots) is updated.
 * Fills kernelCounts with [dst, chain, sign] cells. Tested against evalMacro and the bit level.
 */
function inPlaceKernel(info: InPlaceInfo, dv: Int32Array, sv: Int32Array, pat: Int32Array | undefined, lb: number, N: number, realRows: number, idle: number): Float64Array {
  const { wd, dSigned, shift: s, srcSigned, capture } = info;
  const mask = lowMask(wd) | 0;
  const laneMask = mask << lb;
  const vm = srcSigned ? -1 : lowMask(info.srcWidth) | 0;
  const live = s < wd;
  const chainMask = live ? lowMask(wd - s) | 0 : 0;
  const sgn = info.isAdd ? 1 : -1;
  const sh = 32 - wd;
  let dstW = 0, chainW = 0, signW = 0;
  if (wd <= 16 && live) {
    // Destinations of at most 16 bits (every MAC accumulator of a ResNet): one POPCOUNT16 lookup
    // per counted word and a loop per case, no per-row tests (weight folding off runs ~1e9 rows).
    const ext = dSigned ? sh : 0;
    for (let seg = 0; seg < 2; seg++) {
      const r0 = seg === 0 ? 0 : realRows, r1 = seg === 0 ? realRows : N;
      if (r1 <= r0) continue;
      if (pat) narrowInPlaceIntoLane(dv, sv, pat, lb, r0, r1, mask, vm, s, sgn, chainMask, ext);
      else narrowInPlaceFresh(dv, sv, r0, r1, mask, vm, s, sgn, chainMask, ext);
      const weight = seg === 0 ? 1 : idle;
      dstW += weight * inPlaceSums[0]!;
      chainW += weight * 2 * inPlaceSums[1]!;
      signW += weight * 2 * inPlaceSums[2]!;
    }
    kernelCounts[0] = dstW;
    kernelCounts[1] = chainW;
    kernelCounts[2] = capture ? signW : 0;
    return kernelCounts;
  }
  let weight = 1;
  let end = realRows;
  for (let r = 0; r < N; ) {
    let flips = 0, chain = 0, neg = 0;
    for (; r < end; r++) {
      const x = dv[r]!, y = sv[r]!;
      const du = x & mask;
      const su = live ? ((y & vm) << s) & mask : 0;
      // (| 0: a 32-bit sum may leave the int32 range; only its low 32 bits are read, see wideRows)
      const full = (du + sgn * su) | 0;
      const nu = full & mask;
      dv[r] = dSigned ? (nu << sh) >> sh : (nu << sh) >>> sh;
      if (pat) pat[r] = (pat[r]! & ~laneMask) | (nu << lb);
      const f = du ^ nu;
      // carries (borrows) out of bits s..wd-1, bit 31 included (see wideRows)
      const out = sgn > 0 ? (du & su) | ((du ^ su) & ~full) : (~du & su) | (~(du ^ su) & full);
      let c = (out >>> s) & chainMask;
      c = c & ~(c << 1);
      flips += POPCOUNT16[f & 0xffff]! + POPCOUNT16[f >>> 16]!;
      chain += POPCOUNT16[c & 0xffff]! + POPCOUNT16[c >>> 16]!;
      neg += y >>> 31;
    }
    dstW += weight * flips;
    chainW += weight * 2 * chain;
    signW += weight * 2 * neg;
    weight = idle;
    end = N;
  }
  kernelCounts[0] = dstW;
  kernelCounts[1] = chainW;
  kernelCounts[2] = capture ? signW : 0;
  return kernelCounts;
}

/** [flipped destination cells, carry runs, negative sources] of the last narrow in-place row loop (reused). */
const inPlaceSums = new Float64Array(3);

/**
 * Rows r0..r1-1 of inPlaceKernel for destinations of at most 16 bits (shift below the width) whose
 * slot keeps a lane pattern `pat` (old bits read from and new bits written to it); inPlaceSums.
 */
function narrowInPlaceIntoLane(
  dv: Int32Array, sv: Int32Array, pat: Int32Array, lb: number, r0: number, r1: number,
  mask: number, vm: number, s: number, sgn: number, chainMask: number, ext: number,
): void {
  const keep = ~(mask << lb);
  let flips = 0, chain = 0, neg = 0;
  // A loop per sign (no multiply by the sign per row), two rows per iteration (independent chains
  // the CPU overlaps, as in narrowRowsIntoLane; both rows are read before either is written, so
  // dv and sv may be one register), then an odd last row.
  let r = r0;
  if (sgn > 0) {
    for (; r + 1 < r1; r += 2) {
      const y = sv[r]!, y1 = sv[r + 1]!;
      const du = dv[r]! & mask, du1 = dv[r + 1]! & mask;
      const su = ((y & vm) << s) & mask, su1 = ((y1 & vm) << s) & mask;
      const full = du + su, nu = full & mask, full1 = du1 + su1, nu1 = full1 & mask;
      dv[r] = (nu << ext) >> ext;
      dv[r + 1] = (nu1 << ext) >> ext;
      pat[r] = (pat[r]! & keep) | (nu << lb);
      pat[r + 1] = (pat[r + 1]! & keep) | (nu1 << lb);
      let c = ((du ^ su ^ full) >>> (s + 1)) & chainMask, c1 = ((du1 ^ su1 ^ full1) >>> (s + 1)) & chainMask;
      c &= ~(c << 1);
      c1 &= ~(c1 << 1);
      flips += POPCOUNT16[du ^ nu]! + POPCOUNT16[du1 ^ nu1]!;
      chain += POPCOUNT16[c]! + POPCOUNT16[c1]!;
      neg += (y >>> 31) + (y1 >>> 31);
    }
  } else {
    for (; r + 1 < r1; r += 2) {
      const y = sv[r]!, y1 = sv[r + 1]!;
      const du = dv[r]! & mask, du1 = dv[r + 1]! & mask;
      const su = ((y & vm) << s) & mask, su1 = ((y1 & vm) << s) & mask;
      const full = du - su, nu = full & mask, full1 = du1 - su1, nu1 = full1 & mask;
      dv[r] = (nu << ext) >> ext;
      dv[r + 1] = (nu1 << ext) >> ext;
      pat[r] = (pat[r]! & keep) | (nu << lb);
      pat[r + 1] = (pat[r + 1]! & keep) | (nu1 << lb);
      let c = ((du ^ su ^ full) >>> (s + 1)) & chainMask, c1 = ((du1 ^ su1 ^ full1) >>> (s + 1)) & chainMask;
      c &= ~(c << 1);
      c1 &= ~(c1 << 1);
      flips += POPCOUNT16[du ^ nu]! + POPCOUNT16[du1 ^ nu1]!;
      chain += POPCOUNT16[c]! + POPCOUNT16[c1]!;
      neg += (y >>> 31) + (y1 >>> 31);
    }
  }
  if (r < r1) {
    const y = sv[r]!;
    const du = dv[r]! & mask;
    const su = ((y & vm) << s) & mask;
    const full = du + sgn * su, nu = full & mask;
    dv[r] = (nu << ext) >> ext;
    pat[r] = (pat[r]! & keep) | (nu << lb);
    let c = ((du ^ su ^ full) >>> (s + 1)) & chainMask;
    c &= ~(c << 1);
    flips += POPCOUNT16[du ^ nu]!;
    chain += POPCOUNT16[c]!;
    neg += y >>> 31;
  }
  inPlaceSums[0] = flips;
  inPlaceSums[1] = chain;
  inPlaceSums[2] = neg;
}

/** narrowInPlaceIntoLane for a destination without a lane pattern to keep. */
function narrowInPlaceFresh(
  dv: Int32Array, sv: Int32Array, r0: number, r1: number, mask: number, vm: number, s: number, sgn: number, chainMask: number, ext: number,
): void {
  let flips = 0, chain = 0, neg = 0;
  if (sgn > 0) {
    for (let r = r0; r < r1; r++) {
      const y = sv[r]!;
      const du = dv[r]! & mask;
      const su = ((y & vm) << s) & mask;
      const full = du + su, nu = full & mask;
      dv[r] = (nu << ext) >> ext;
      let c = ((du ^ su ^ full) >>> (s + 1)) & chainMask;
      c &= ~(c << 1);
      flips += POPCOUNT16[du ^ nu]!;
      chain += POPCOUNT16[c]!;
      neg += y >>> 31;
    }
  } else {
    for (let r = r0; r < r1; r++) {
      const y = sv[r]!;
      const du = dv[r]! & mask;
      const su = ((y & vm) << s) & mask;
      const full = du - su, nu = full & mask;
      dv[r] = (nu << ext) >> ext;
      let c = ((du ^ su ^ full) >>> (s + 1)) & chainMask;
      c &= ~(c << 1);
      flips += POPCOUNT16[du ^ nu]!;
      chain += POPCOUNT16[c]!;
      neg += y >>> 31;
    }
  }
  inPlaceSums[0] = flips;
  inPlaceSums[1] = chain;
  inPlaceSums[2] = neg;
}

/** What copyKernel needs of a copy plan (null: the destination has flag cells). */
interface CopyInfo {
  wd: number;
  dSigned: boolean;
  shift: number;
  srcWidth: number;
  srcSigned: boolean;
  /** Destination bits that are the source's own cells (never written). */
  alias: number;
  /** Destination "zero": no old contents to clear. */
  zero: boolean;
  capture: boolean;
  signCell: number;
}

const copyInfos = new WeakMap<MacroPlan, CopyInfo | null>();

function copyInfo(plan: MacroPlan, geom: ApGeometry): CopyInfo | null {
  let info = copyInfos.get(plan);
  if (info !== undefined) return info;
  const op = plan.op as Extract<MacroOp, { kind: "copy" }>;
  const src = "value" in op.src ? op.src : { value: op.src, shift: 0 };
  let alias = 0;
  for (let i = 0; i < op.dst.width; i++) {
    const j = i - src.shift;
    if (j >= 0 && j < src.value.width && src.value.cells[j] === op.dst.cells[i]) alias |= 1 << i;
  }
  info = op.dst.cells.some((c) => geom.isFlagCell(c))
    ? null
    : {
        wd: op.dst.width, dSigned: op.dst.signed, shift: src.shift, srcWidth: src.value.width, srcSigned: src.value.signed,
        alias, zero: op.dstInit === "zero", capture: plan.detail.signA >= 0, signCell: plan.detail.signA,
      };
  copyInfos.set(plan, info);
  return info;
}

/**
 * dst <- src << shift (evalMacro's "copy": destination cells written = popcount((old XOR new) &
 * ~alias), sign capture 2 per negative source) in one loop into `out`; `old` holds the
 * destination's old contents as its width reads them. Rows from `realRows` on stand for `idle`
 * rows each. Fills kernelCounts with [dst, sign] cells. Tested against evalMacro through the
 * bit-level simulator (test/compiler/simulators.test.ts).
 */
function copyKernel(info: CopyInfo, sv: Int32Array, old: Int32Array, out: Int32Array, N: number, realRows: number, idle: number): Float64Array {
  const { wd, dSigned, shift: s, srcSigned, capture } = info;
  const mask = lowMask(wd) | 0;
  const vm = srcSigned ? -1 : lowMask(info.srcWidth) | 0;
  const live = s < wd;
  const keep = ~info.alias;
  const sh = 32 - wd;
  let dstW = 0, signW = 0;
  let weight = 1;
  let end = realRows;
  for (let r = 0; r < N; ) {
    let flips = 0, neg = 0;
    for (; r < end; r++) {
      const y = sv[r]!;
      const nu = live ? ((y & vm) << s) & mask : 0;
      out[r] = dSigned ? (nu << sh) >> sh : (nu << sh) >>> sh;
      const f = ((info.zero ? 0 : old[r]! & mask) ^ nu) & keep;
      flips += POPCOUNT16[f & 0xffff]! + POPCOUNT16[f >>> 16]!;
      neg += y >>> 31;
    }
    dstW += weight * flips;
    signW += weight * 2 * neg;
    weight = idle;
    end = N;
  }
  kernelCounts[0] = dstW;
  kernelCounts[1] = capture ? signW : 0;
  return kernelCounts;
}

/** The idle rows (from `realRows` on) of a register, if given. */
function idleRows(x: Int32Array | undefined, realRows: number): Int32Array | undefined {
  return x ? x.subarray(realRows) : undefined;
}

/** Written cells of a scratch cell (carry chain, sign capture): a flag cell or a track cell. */
function addScratchCells(total: ApEvents, geom: ApGeometry, cell: number, n: number): void {
  if (n === 0) return;
  if (geom.isFlagCell(cell)) total.flagWriteCells += n;
  else total.writeCells += n;
}

/** Set bits of every 16-bit number (a table beats the shift-and-add popcount here by ~20%). */
const POPCOUNT16 = (() => {
  const t = new Uint8Array(65536);
  for (let i = 1; i < 65536; i++) t[i] = t[i >> 1]! + (i & 1);
  return t;
})();

/** Results of addOutKernel (reused: the kernel runs millions of times per network). */
const kernelCounts = new Float64Array(4);

/**
 * dst <- a +/- b (destination "any") with its written cells, in tight row loops: the closed forms
 * of src/ap/semantics.ts (destination: popcount(old) + popcount(new); carry/borrow flag: 2 x runs
 * of 1s in the carry vector; sign captures: 2 per negative operand whose sign is captured). Rows
 * from `realRows` on are idle rows, each standing for `idle` rows. The slot's raw bit pattern
 * `pat` (TMP slots; none: the old contents are zeros) is updated in place (low wd bits replaced
 * by the result). Fills `kernelCounts` with
 * [dst, chain, signA, signB] cells. No closures: this loop sees ~7e8 rows per ResNet-18 image.
 * Tested against evalMacro and the bit-level simulator; exported for bench/add-kernel.ts.
 */
export function addOutKernel(
  isAdd: boolean, av: Int32Array, bv: Int32Array, pat: Int32Array | undefined, lb: number, out: Int32Array, N: number, realRows: number, idle: number,
  wd: number, dSigned: boolean, aw: number, aSigned: boolean, bw: number, bSigned: boolean, capA: boolean, capB: boolean,
): Float64Array {
  const mask = lowMask(wd) | 0;
  const am = (aSigned ? -1 : lowMask(aw)) & mask, bm = (bSigned ? -1 : lowMask(bw)) & mask;
  // sign extension by shifting up and back (0: unsigned values stay as they are)
  const ext = dSigned ? 32 - wd : 0;
  const sgn = isAdd ? 1 : -1;
  let dstW = 0, chainW = 0;
  // The real rows, then the idle row(s) weighted by `idle`: separate loops, no per-row branch on it.
  // Destinations of at most 16 bits (most DAG nodes) count every word with one POPCOUNT16 lookup
  // and have a loop per case (TMP lane or fresh cells); together ~18% faster than one general
  // loop (measured).
  for (let seg = 0; seg < 2; seg++) {
    const r0 = seg === 0 ? 0 : realRows, r1 = seg === 0 ? realRows : N;
    if (r1 <= r0) continue;
    if (wd > 16) wideRows(av, bv, sgn, pat, lb, out, r0, r1, mask, am, bm, ext);
    else if (pat === undefined) narrowRowsFresh(av, bv, sgn, out, r0, r1, mask, am, bm, ext);
    else narrowRowsIntoLane(av, bv, sgn, pat, lb, out, r0, r1, mask, am, bm, ext);
    const weight = seg === 0 ? 1 : idle;
    dstW += weight * rowSums[0]!;
    chainW += weight * 2 * rowSums[1]!;
  }
  if (capA || capB) signCaptures(av, bv, N, realRows, idle);
  kernelCounts[0] = dstW;
  kernelCounts[1] = chainW;
  kernelCounts[2] = capA ? signSums[0]! : 0;
  kernelCounts[3] = capB ? signSums[1]! : 0;
  return kernelCounts;
}

/** [destination cells, carry runs] of the last row loop below (reused, no allocation per step). */
const rowSums = new Float64Array(2);

/** [a, b] sign-capture cells of the last signCaptures (reused, no allocation per step). */
const signSums = new Float64Array(2);

/** Sign-capture cells of addOutKernel into signSums: 2 per negative operand, idle rows weighted. */
function signCaptures(av: Int32Array, bv: Int32Array, N: number, realRows: number, idle: number): void {
  let sa = 0, sb = 0, saIdle = 0, sbIdle = 0;
  for (let r = 0; r < realRows; r++) {
    sa += av[r]! >>> 31;
    sb += bv[r]! >>> 31;
  }
  for (let r = realRows; r < N; r++) {
    saIdle += av[r]! >>> 31;
    sbIdle += bv[r]! >>> 31;
  }
  signSums[0] = 2 * (sa + idle * saIdle);
  signSums[1] = 2 * (sb + idle * sbIdle);
}

/**
 * Rows r0..r1-1 of addOutKernel for destinations of 17-32 bits (two lookups per counted word;
 * rowSums). A loop per sign, and sums taken `| 0`: a 32-bit a + b can leave the int32 range, and
 * V8 then ran the whole loop in doubles; the sum's uses read its low 32 bits only, which `| 0`
 * keeps. The carry (borrow) out of every bit comes from the operands and the sum's bits,
 * (a & b) | ((a ^ b) & ~sum) (borrow: (~a & b) | (~(a ^ b) & diff)): the carries-in form,
 * (a ^ b ^ sum) >>> 1, lost the carry out of bit 31 of a 32-bit destination, which starts a run
 * of its own only for operands beyond +/-2^30 (no network value comes near; the kernel test
 * checks such operands). Two rows per iteration were not faster here (measured).
 */
function wideRows(
  av: Int32Array, bv: Int32Array, sgn: number, pat: Int32Array | undefined, lb: number, out: Int32Array, r0: number, r1: number,
  mask: number, am: number, bm: number, ext: number,
): void {
  const keep = ~(mask << lb);
  let dst = 0, chain = 0;
  if (sgn > 0) {
    for (let r = r0; r < r1; r++) {
      const au = av[r]! & am, bu = bv[r]! & bm;
      const full = (au + bu) | 0, nu = full & mask;
      out[r] = (nu << ext) >> ext;
      if (pat !== undefined) {
        const w = pat[r]!, f = (w >>> lb) & mask;
        pat[r] = (w & keep) | (nu << lb);
        dst += POPCOUNT16[f & 0xffff]! + POPCOUNT16[f >>> 16]!;
      }
      let c = ((au & bu) | ((au ^ bu) & ~full)) & mask;
      c &= ~(c << 1);
      dst += POPCOUNT16[nu & 0xffff]! + POPCOUNT16[nu >>> 16]!;
      chain += POPCOUNT16[c & 0xffff]! + POPCOUNT16[c >>> 16]!;
    }
  } else {
    for (let r = r0; r < r1; r++) {
      const au = av[r]! & am, bu = bv[r]! & bm;
      const full = (au - bu) | 0, nu = full & mask;
      out[r] = (nu << ext) >> ext;
      if (pat !== undefined) {
        const w = pat[r]!, f = (w >>> lb) & mask;
        pat[r] = (w & keep) | (nu << lb);
        dst += POPCOUNT16[f & 0xffff]! + POPCOUNT16[f >>> 16]!;
      }
      let c = ((~au & bu) | (~(au ^ bu) & full)) & mask;
      c &= ~(c << 1);
      dst += POPCOUNT16[nu & 0xffff]! + POPCOUNT16[nu >>> 16]!;
      chain += POPCOUNT16[c & 0xffff]! + POPCOUNT16[c >>> 16]!;
    }
  }
  rowSums[0] = dst;
  rowSums[1] = chain;
}

/**
 * Rows r0..r1-1 of dst <- a +/- b (at most 16 bits) into a TMP lane (old bits read from and new
 * bits written to `pat`). An addition and a subtraction have a loop each: one loop multiplying by
 * the sign cost up to ~10% of the kernel, one negating by (b ^ neg) - neg 1-4% (measured with
 * the kernel alone, two builds in alternation). Two rows per iteration: their chains of loads,
 * adds and lookups are independent, and the CPU overlaps them (~15% faster per row than one row
 * per iteration, the kernel alone, two builds in alternation); then an odd last row.
 */
function narrowRowsIntoLane(
  av: Int32Array, bv: Int32Array, sgn: number, pat: Int32Array, lb: number, out: Int32Array, r0: number, r1: number, mask: number, am: number, bm: number, ext: number,
): void {
  const keep = ~(mask << lb);
  let dst = 0, chain = 0;
  let r = r0;
  if (sgn > 0) {
    for (; r + 1 < r1; r += 2) {
      const au = av[r]! & am, bu = bv[r]! & bm, au1 = av[r + 1]! & am, bu1 = bv[r + 1]! & bm;
      const full = au + bu, nu = full & mask, full1 = au1 + bu1, nu1 = full1 & mask;
      out[r] = (nu << ext) >> ext;
      out[r + 1] = (nu1 << ext) >> ext;
      const w = pat[r]!, w1 = pat[r + 1]!;
      pat[r] = (w & keep) | (nu << lb);
      pat[r + 1] = (w1 & keep) | (nu1 << lb);
      let c = ((au ^ bu ^ full) >>> 1) & mask, c1 = ((au1 ^ bu1 ^ full1) >>> 1) & mask;
      c &= ~(c << 1);
      c1 &= ~(c1 << 1);
      dst += POPCOUNT16[(w >>> lb) & mask]! + POPCOUNT16[nu]! + POPCOUNT16[(w1 >>> lb) & mask]! + POPCOUNT16[nu1]!;
      chain += POPCOUNT16[c]! + POPCOUNT16[c1]!;
    }
  } else {
    for (; r + 1 < r1; r += 2) {
      const au = av[r]! & am, bu = bv[r]! & bm, au1 = av[r + 1]! & am, bu1 = bv[r + 1]! & bm;
      const full = au - bu, nu = full & mask, full1 = au1 - bu1, nu1 = full1 & mask;
      out[r] = (nu << ext) >> ext;
      out[r + 1] = (nu1 << ext) >> ext;
      const w = pat[r]!, w1 = pat[r + 1]!;
      pat[r] = (w & keep) | (nu << lb);
      pat[r + 1] = (w1 & keep) | (nu1 << lb);
      let c = ((au ^ bu ^ full) >>> 1) & mask, c1 = ((au1 ^ bu1 ^ full1) >>> 1) & mask;
      c &= ~(c << 1);
      c1 &= ~(c1 << 1);
      dst += POPCOUNT16[(w >>> lb) & mask]! + POPCOUNT16[nu]! + POPCOUNT16[(w1 >>> lb) & mask]! + POPCOUNT16[nu1]!;
      chain += POPCOUNT16[c]! + POPCOUNT16[c1]!;
    }
  }
  if (r < r1) {
    const au = av[r]! & am, bu = bv[r]! & bm;
    const full = au + sgn * bu, nu = full & mask;
    out[r] = (nu << ext) >> ext;
    const w = pat[r]!;
    pat[r] = (w & keep) | (nu << lb);
    let c = ((au ^ bu ^ full) >>> 1) & mask;
    c &= ~(c << 1);
    dst += POPCOUNT16[(w >>> lb) & mask]! + POPCOUNT16[nu]!;
    chain += POPCOUNT16[c]!;
  }
  rowSums[0] = dst;
  rowSums[1] = chain;
}

/** Rows r0..r1-1 of dst <- a +/- b (at most 16 bits) into cells that held zeros (no lane pattern to keep; a loop per sign). */
function narrowRowsFresh(
  av: Int32Array, bv: Int32Array, sgn: number, out: Int32Array, r0: number, r1: number, mask: number, am: number, bm: number, ext: number,
): void {
  let dst = 0, chain = 0;
  if (sgn > 0) {
    for (let r = r0; r < r1; r++) {
      const au = av[r]! & am, bu = bv[r]! & bm;
      const full = au + bu, nu = full & mask;
      out[r] = (nu << ext) >> ext;
      let c = ((au ^ bu ^ full) >>> 1) & mask;
      c &= ~(c << 1);
      dst += POPCOUNT16[nu]!;
      chain += POPCOUNT16[c]!;
    }
  } else {
    for (let r = r0; r < r1; r++) {
      const au = av[r]! & am, bu = bv[r]! & bm;
      const full = au - bu, nu = full & mask;
      out[r] = (nu << ext) >> ext;
      let c = ((au ^ bu ^ full) >>> 1) & mask;
      c &= ~(c << 1);
      dst += POPCOUNT16[nu]!;
      chain += POPCOUNT16[c]!;
    }
  }
  rowSums[0] = dst;
  rowSums[1] = chain;
}

/** A compute step on integers (values only): the macro-op semantics in plain loops. */
function valueStep(p: UnitProgram, i: number, reg: (id: number) => Int32Array, N: number): void {
  const o = p.op[i]!, dId = p.dst[i]!, aId = p.a[i]!, bId = p.b[i]!, imm = p.imm[i]!;
  const w = p.width[dId]!, sg = p.signed[dId] === 1;
  const sh = 32 - w;
  const d = reg(dId);
  switch (o) {
    case OP_ADDOUT:
    case OP_SUBOUT: {
      const a = reg(aId), b = reg(bId);
      if (o === OP_ADDOUT) {
        if (sg) for (let r = 0; r < N; r++) d[r] = ((a[r]! + b[r]!) << sh) >> sh;
        else for (let r = 0; r < N; r++) d[r] = ((a[r]! + b[r]!) << sh) >>> sh;
      } else if (sg) for (let r = 0; r < N; r++) d[r] = ((a[r]! - b[r]!) << sh) >> sh;
      else for (let r = 0; r < N; r++) d[r] = ((a[r]! - b[r]!) << sh) >>> sh;
      return;
    }
    case OP_ADD:
    case OP_SUB: {
      const x = reg(aId);
      if (o === OP_ADD) for (let r = 0; r < N; r++) d[r] = wrap(d[r]! + (x[r]! << imm), w, sg);
      else for (let r = 0; r < N; r++) d[r] = wrap(d[r]! - (x[r]! << imm), w, sg);
      return;
    }
    case OP_COPY: {
      const x = reg(aId);
      for (let r = 0; r < N; r++) d[r] = wrap(x[r]! << imm, w, sg);
      return;
    }
    case OP_NEGATE: {
      const x = reg(aId);
      for (let r = 0; r < N; r++) d[r] = wrap(-x[r]!, w, sg);
      return;
    }
    case OP_SET:
      d.fill(wrap(imm, w, sg));
      return;
    case OP_MAX: {
      const x = reg(aId);
      for (let r = 0; r < N; r++) if (x[r]! > d[r]!) d[r] = x[r]!;
      return;
    }
    case OP_THRESHOLD: {
      const x = reg(aId);
      const T = p.thresholds[imm]!;
      const L = T.length;
      for (let r = 0; r < N; r++) {
        const v = x[r]!;
        let k = 0;
        while (k < L && v >= T[k]!) k++;
        d[r] = k;
      }
      return;
    }
    default:
      throw new Error(`valueStep: op ${o}`);
  }
  void bId;
}

function simulateBits(
  ctx: SimContext, p: UnitProgram, outputName: string, mapping: UnitMapping, mv: MovementContext,
  env: Map<string, Int32Array>, batch: number,
): UnitEvents {
  const q = ctx.q;
  const outT = q.tensors.get(outputName)!;
  const [OC, OH, OW] = outT.shape;
  const P = OH * OW;
  const R = mapping.rowsPerArray;
  const arraysTotal = mapping.arrays * mapping.passes;
  const out = new Int32Array(batch * OC * P);
  const total = zeroEvents();
  const moves = new MovementTracker(ctx, p, mv, mapping, P);
  // Which simulated array and row each position occupies (arrays indexed pass-major).
  const perPass = Math.ceil(P / mapping.passes);
  const posArray = new Int32Array(P), posRow = new Int32Array(P);
  for (let pos = 0; pos < P; pos++) {
    const pl = mapping.place(pos);
    posArray[pos] = Math.floor(pos / perPass) * mapping.arrays + pl.tile * ctx.arch.arraysPerTile + pl.array;
    posRow[pos] = pl.row;
  }
  const values = new Map<number, ApValue>();
  const val = (id: number): ApValue => {
    let v = values.get(id);
    if (!v) {
      v = apValue(p, id);
      values.set(id, v);
    }
    return v;
  };
  // Images run side by side: image n owns rows n*R .. n*R+R-1 of every simulated array (rows are
  // independent under SIMD, so each image's events are exactly those of its own R-row array).
  const chunk = Math.max(1, Math.min(batch, Math.floor((ctx.bitChunkRows ?? 64) / Math.max(1, arraysTotal)) || 1));
  const scratch = new Int32Array(P);
  const loadRows = new Int32Array(P);
  for (let n0 = 0; n0 < batch; n0 += chunk) {
    const nb = Math.min(chunk, batch - n0);
    const geom = ctx.geom.withRows(R * nb);
    const arrays: ApArray[] = [];
    for (let k = 0; k < arraysTotal; k++) {
      // (a fault stream numbers the batch's images itself: image n0 + n of this chunk)
      arrays.push(new ApArray(geom, ctx.arch.timing, ctx.faults ? { faults: { ...ctx.faults, seed: (ctx.faults.seed ?? 0) + k * 7919 + n0 * 104729, imageBase: n0 } } : {}));
    }
    // where the shift groups are (the page schedule, src/compiler/pages.ts)
    const cur = new Int32Array(ctx.geom.groups);
    const shiftTo = (g: number, to: number): void => {
      const n = to - cur[g]!;
      if (n === 0) return;
      for (const arr of arrays) arr.run([{ op: "shift", group: g, n }]);
      cur[g] = to;
    };
    for (let i = 0; i < p.nSteps; i++) {
      const o = p.op[i]!;
      if (n0 === 0) moves.step(i);
      const needs = ctx.bitSteps ? ctx.bitSteps.needs(p, i, ctx.layout) : stepNeeds(p, i, ctx.layout);
      // (serial rows' compute steps move below, straight to their first bit step)
      if (ctx.layout.kind !== "serial" || o === OP_LOAD || o === OP_STORE) needs.groups.forEach((g, r) => shiftTo(g, needs.starts[r]!));
      switch (o) {
        case OP_LOAD: {
          const s = p.loads[p.imm[i]!]!;
          const t = q.tensors.get(s.tensor)!;
          const per = t.shape[0] * t.shape[1] * t.shape[2];
          const v = val(p.dst[i]!);
          // only the rows that hold positions are written (idle rows keep their contents: never loaded)
          for (let n = 0; n < nb; n++) {
            fillLoad(scratch, env.get(s.tensor)!.subarray((n0 + n) * per, (n0 + n + 1) * per), s, t.shape, 1, OH, OW);
            for (let pos = 0; pos < P; pos++) loadRows[pos] = n * R + posRow[pos]!;
            for (let k = 0; k < arraysTotal; k++) arrays[k]!.setRows(v, loadRows, scratch, posArray, k, P);
          }
          break;
        }
        case OP_STORE: {
          const v = val(p.a[i]!);
          const vals = arrays.map((arr) => arr.getValue(v));
          for (let n = 0; n < nb; n++) {
            const off = ((n0 + n) * OC + p.b[i]!) * P;
            for (let pos = 0; pos < P; pos++) out[off + pos] = vals[posArray[pos]!]![n * R + posRow[pos]!]!;
          }
          break;
        }
        case OP_FREE:
          break;
        case OP_MAC: {
          const wc = ctx.macWeightCells;
          if (!wc) throw new RtapError("bit-level simulation of a program compiled with weight folding off is not supported (weights stored in rows need predicated LUTs); use --sim fast");
          // (serial rows: every group sweeps under some op, so no cell stays under a port for the weight)
          if (ctx.layout.kind === "serial") throw new RtapError("bit-level simulation of weight folding off runs on interleaved and SRAM rows only; use --sim fast");
          const w = p.imm[i]!;
          for (const arr of arrays) {
            const W = arr.words;
            arr.state.fill(w === 1 ? 0xffffffff : 0, wc[0] * W, (wc[0] + 1) * W);
            arr.state.fill(w === -1 ? 0xffffffff : 0, wc[1] * W, (wc[1] + 1) * W);
          }
          const dst = val(p.dst[i]!), src = val(p.a[i]!);
          for (const [kind, on, off] of [["add", wc[0], wc[1]], ["sub", wc[1], wc[0]]] as const) {
            // both weight bits join every search key (P = 1, M = 0 for the add; M = 1, P = 0 for the subtract)
            const predicate = [{ cell: on, bit: 1 as const }, { cell: off, bit: 0 as const }];
            const plan = expandMacro({ kind, dst, src, predicate }, ctx.geom, { offsets: cur, returnHome: false });
            if (plan.micro.some((m) => m.op === "shift")) throw new Error(`internal: mac in unit "${p.unit}" needs a shift inside its expansion (weight cells not under a port)`);
            for (const arr of arrays) arr.run(plan.micro);
            cur.set(plan.endOffsets);
          }
          break;
        }
        default: {
          // expanded from where the groups are, not returning home (kept for the next run: BitStepCache)
          let step = ctx.bitSteps?.get(p, i, cur);
          if (!step) {
            const offsets = Int32Array.from(cur);
            const op = toMacroOp(p, i, ctx.layout)!;
            let start: Int32Array | undefined;
            if (ctx.layout.kind === "serial") {
              // straight to the first bit step's offsets (the schedule's move, src/compiler/pages.ts)
              start = serialStart(expandMacro(op, ctx.geom, { returnHome: false }), ctx.geom);
              needs.groups.forEach((g) => shiftTo(g, start![g]!));
            }
            const plan = expandMacro(op, ctx.geom, { offsets: cur, returnHome: false });
            if (ctx.layout.kind === "interleaved" && plan.micro.some((m) => m.op === "shift")) {
              throw new Error(`internal: ${op.kind} in unit "${p.unit}" needs a shift inside its expansion on an interleaved row`);
            }
            step = { offsets, micro: plan.micro, endOffsets: plan.endOffsets };
            if (start) step.start = start;
            ctx.bitSteps?.put(p, i, step);
          } else if (step.start) {
            const start = step.start;
            needs.groups.forEach((g) => shiftTo(g, start[g]!));
          }
          for (const arr of arrays) arr.run(step.micro);
          cur.set(step.endOffsets);
        }
      }
    }
    for (let g = 0; g < ctx.geom.groups; g++) shiftTo(g, 0);
    const sum = zeroEvents();
    let cyc = 0;
    for (const arr of arrays) {
      addEvents(sum, arr.events);
      cyc = Math.max(cyc, arr.events.cycles);
    }
    // Per-operation counters (not per row) happened once for the nb images side by side; on the
    // machine each image runs its own stream. Row counters (row bits, cells) are already summed.
    for (const k of ["searches", "writes", "tagOps", "shifts", "shiftSteps"] as const) sum[k] *= nb;
    sum.cycles = cyc * mapping.passes * nb;
    addEvents(total, sum);
  }
  env.set(outputName, out);
  const movement = moves.finish(batch);
  addEvents(total, movement);
  return { total, movement };
}

/**
 * partProfile, kept per program for the last placement and movement model it was asked for: runs
 * in chunks, and compare's full-placement movement row after the unit's run, reuse it.
 */
export function cachedPartProfile(ctx: SimContext, p: UnitProgram, mapping: UnitMapping, mv: MovementContext): PartProfile {
  const known = ctx.profiles?.get(p);
  if (known && known.mapping === mapping && known.local === mv.local) return known.profile;
  const profile = partProfile(ctx, p, mapping, mv);
  (ctx.profiles ??= new WeakMap()).set(p, { mapping, local: mv.local, profile });
  return profile;
}

/**
 * Macro-op and page-switch cycles of each segment of a program (per array stream, one pass):
 * they depend on the program and the row count only, so every placement and movement model of
 * the program (compare's layout-off and movement-off rows) shares them.
 */
function segmentStaticCycles(ctx: SimContext, p: UnitProgram, rows: number): Float64Array {
  const known = ctx.segmentStatic.get(p);
  if (known && known.rows === rows) return known.cycles;
  const cls = classesOf(ctx, p, rows);
  const shift = ctx.segmentShiftCycles.get(p)!;
  const segs = p.segStart.length;
  const out = new Float64Array(Math.max(1, segs));
  if (segs === 0) out[0] = shift[0]!;
  for (let k = 0; k < segs; k++) {
    const end = Math.min(k + 1 < segs ? p.segStart[k + 1]! : p.nSteps, p.nSteps); // (a program cut short keeps its labels)
    let c = shift[k]!;
    for (let i = p.segStart[k]!; i < end; i++) {
      const ci = cls[i]!;
      if (ci < 0) continue;
      const cl = ctx.classes[ci]!;
      c += cl.events.cycles;
      if (p.op[i] === OP_MAC) {
        c += (cl.sub ??= subOfClass(ctx, cl.plan, rows)).events.cycles;
        if (cl.macReturn) c += cl.macReturn.cycles;
      }
    }
    out[k] = c;
  }
  ctx.segmentStatic.set(p, { rows, cycles: out });
  return out;
}

/**
 * Cycles of every part of a program by role (one image): its macro-ops' static cycles and the page
 * switches before them (per array stream, per pass), from the same structural classes and page
 * schedule the word level prices, plus its loads and stores on the movement clock (each run of
 * consecutive loads or stores to the part and role of its steps). src/compiler/schedule.ts turns
 * them into the unit's latency.
 */
export function partProfile(ctx: SimContext, p: UnitProgram, mapping: UnitMapping, mv: MovementContext): PartProfile {
  const rows = mapping.rowsPerArray;
  const n = Math.max(1, p.parts.length);
  const prof: PartProfile = { compute: new Float64Array(n), reduce: new Float64Array(n), final: new Float64Array(n), staticCycles: 0, movementCycles: 0 };
  const byRole = [prof.compute, prof.reduce, prof.final];
  const segs = p.segStart.length;
  const seg = segmentStaticCycles(ctx, p, rows);
  for (let k = 0; k < seg.length; k++) {
    const c = seg[k]!;
    byRole[segs ? p.segRole[k]! : 0]![segs ? p.segPart[k]! : 0]! += c * mapping.passes;
    prof.staticCycles += c;
  }
  const shape = ctx.q.tensors.get(p.storeTensor[0] ?? "")?.shape;
  const moves = new MovementTracker(ctx, p, mv, mapping, shape ? shape[1] * shape[2] : mapping.positions);
  const clock = moves.clock;
  // a run's cycles appear when it is flushed: they belong to the run's last load or store
  let lastInto = prof.compute, lastPart = 0;
  for (let k = 0; k < segs; k++) {
    const part = p.segPart[k]!, into = byRole[p.segRole[k]!]!;
    const end = Math.min(k + 1 < segs ? p.segStart[k + 1]! : p.nSteps, p.nSteps); // (a program cut short keeps its labels)
    for (let i = p.segStart[k]!; i < end; i++) {
      const o = p.op[i]!;
      const before = clock.cycles;
      moves.step(i);
      if (clock.cycles !== before) lastInto[lastPart]! += clock.cycles - before;
      if (o === OP_LOAD || o === OP_STORE) {
        lastInto = into;
        lastPart = part;
      }
    }
  }
  const before = clock.cycles;
  clock.flush();
  lastInto[lastPart]! += clock.cycles - before;
  prof.movementCycles = clock.cycles;
  return prof;
}

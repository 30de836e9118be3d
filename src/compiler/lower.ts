/**
 * Lowering of compute units to AP programs (src/compiler/program.ts), with the compiler passes
 * applied on the way:
 *  - constant weight folding: a weight is an instruction (add, subtract, skip) — never stored;
 *  - loop interchange: output positions across rows; the reduction over (c, kh, kw) and the loop
 *    over output channels o become the serial program, blocked so accumulators fit the row;
 *  - unrolling: a whole block of output channels is one expression DAG (exposes sharing across o);
 *  - CSE (src/compiler/cse): shared signed partial sums computed once, narrow-first trees;
 *  - bit-width inference: every value gets the exact width of its range;
 *  - scheduling and allocation: the CSE schedule (low peak liveness) and the row allocator
 *    (src/compiler/rowlayout.ts), staging copies where two inputs are not in lockstep;
 *  - requantization by per-channel thresholds on the AP, residual adds by constant multiplies
 *    (canonical signed digits, shifted adds), max-pool by max trees, sum-pool by add trees.
 */
import { InsertionOrderedSet } from "../util/ordered-set.js";
import { RtapError } from "../errors.js";
import type { QConvOp, QGraph, QTensor } from "../quantize/qgraph.js";
import { bitsFor } from "../quantize/qgraph.js";
import { checkReduction } from "./verify.js";
import { DagBuilder, OP_ADD as DAG_ADD, OP_SUB as DAG_SUB, idSchedule, type ExprDag } from "./cse/dag.js";
import { eliminateCommonSubexpressions } from "./cse/eliminate.js";
import { dagCost, naiveCost } from "./cse/cost.js";
import { PagedAllocator } from "./pagelayout.js";
import { StreamedScratch, streamedTrees } from "./streamed.js";
import { TypedScratch } from "./scratch.js";
import { nonZeroWeights } from "./weights.js";
import {
  OP_ADD, OP_ADDOUT, OP_COPY, OP_MAC, OP_MAX, OP_NEGATE, OP_SET, OP_SUB, OP_SUBOUT, OP_THRESHOLD, REGION_IN, REGION_TMP, ROLE_COMPUTE, ROLE_FINAL, ROLE_REDUCE, UnitProgram,
  VK_ACC, VK_COMB, VK_CODE, VK_CONST, VK_IN, VK_LOADTMP, VK_MAC, VK_NODE, VK_STAGED, type LoadSource, type ProgramSizes,
} from "./program.js";
import { RowAllocator, type InSlot, type RowLayout } from "./rowlayout.js";
import type { ComputeUnit, ConvTerm, ConvUnit } from "./units.js";

export interface PassSwitches {
  weightFolding: boolean;
  interchange: boolean;
  unroll: boolean;
  cse: boolean;
  bitwidth: boolean;
  allocation: boolean;
  layout: boolean;
  movement: boolean;
}

export const ALL_PASSES: readonly (keyof PassSwitches)[] = ["weightFolding", "interchange", "unroll", "cse", "bitwidth", "allocation", "layout", "movement"];

export function allPassesOn(): PassSwitches {
  return { weightFolding: true, interchange: true, unroll: true, cse: true, bitwidth: true, allocation: true, layout: true, movement: true };
}

/** Per-unit compile statistics (the CSE table and the mapping). */
export interface UnitStats {
  unit: string;
  kind: ComputeUnit["kind"];
  /** Ternary matrix shape per conv term [O, J]. */
  matrices: { name: string; rows: number; cols: number; nonZeros: number }[];
  addsNaive: number;
  addsCompiled: number;
  cyclesNaive: number;
  cyclesCompiled: number;
  slices: number;
  blocks: number;
  stagingCopies: number;
  /** Interleaved rows: temporaries placed on the spill bank because the hot pages were full. */
  spills: number;
  peakTmpSlots: number;
  peakTmpBits: number;
  peakInBits: number;
  /** The chip schedule's split: the chosen one first, then the fastest others considered (conv units with slots). */
  splits?: SplitOption[];
  /** The split the row's capacity alone makes (the energy budget's reference). */
  splitBase?: SplitOption;
  /** The energy budget the split was chosen under (fraction above splitBase's estimate). */
  splitBudget?: number;
}

export interface LowerContext {
  q: QGraph;
  layout: RowLayout;
  passes: PassSwitches;
  /** Check every reduction DAG against its matrix before lowering it (src/compiler/verify.ts). */
  verify?: boolean;
  /** Parts of this unit the chip schedule can run at once (src/compiler/schedule.ts; default 1). */
  slots?: number;
  /** Cycles of a run of loads of this many bits per row on the unit's mapping (the split estimate). */
  loadCycles?: (bitsPerRow: number) => number;
  /** The chip schedule's split may cost this fraction more estimated energy (default SPLIT_ENERGY_BUDGET). */
  splitEnergyBudget?: number;
  /** Sizes a like program reached (UnitProgram's `expected`): room reserved up front. */
  expectedSizes?: ProgramSizes;
}

/** Controller cycles per bit step of an addition, for estimates only (ResNet-18: 6.6e8 cycles / 4.1e7 add bit steps). */
const CYCLES_PER_ADD_BIT = 16;
/**
 * Energy of the split estimate in add bit steps per position: a bit a load writes into a row, and
 * a partial-sum bit moved to the reducer (read, bus or link, write). From the default technology
 * file: a row's add bit step costs ~1.3 pJ (ResNet-18: 8.85 mJ of search, write, shift and
 * controller energy over 6.9e9 row bit steps), a loaded bit 0.69 pJ (buffer_write_bits) plus the
 * bus, a moved bit also the read and the link. Estimates for the choice, not prices: the simulator
 * counts the real events.
 */
const SPLIT_LOAD_BIT = 1;
const SPLIT_TRANSFER_BIT = 2;
/**
 * How much more estimated energy than the capacity's split the chip schedule's split may cost by
 * default (a compiler policy: latency where it is nearly free; `--split-budget`, docs/compiler.md 2.8a).
 */
export const SPLIT_ENERGY_BUDGET = 0.05;

/** One way to split a conv unit into parts (parallelSplit), with its estimates. */
export interface SplitOption {
  blocks: number;
  outputsPerBlock: number;
  slices: number;
  channelsPerSlice: number;
  parts: number;
  /** Estimated latency (controller cycles) and energy (add bit steps per position). */
  cycles: number;
  energy: number;
  chosen: boolean;
}

const FULL_WIDTH = 31;

interface ReduceResult {
  dag: ExprDag;
  schedule: Int32Array;
  /** The block's naive cost (CSE and chains report it; the page-streamed path does not compute it). */
  naive?: { additions: number; cycles: number };
  compiled: { additions: number; cycles: number };
  /** Set once the verifier has checked this DAG (memoized results are checked once). */
  verified?: boolean;
}

/**
 * CSE results of one process, per conv weight array and block: compiling the same network again
 * (another architecture with the same row budget, an ablation variant) reuses them.
 */
const cseMemo = new WeakMap<Int8Array, Map<string, ReduceResult>>();

/**
 * Per conv op of a quantized graph: its naive cost (it depends on the weights and the input
 * tensor's ranges only). Every variant compiling the same graph in this thread reuses it: a
 * ResNet-18 stage-4 matrix has 2.4 M weights, walked per variant before.
 */
const termBaselines = new WeakMap<QConvOp, { additions: number; cycles: number }>();

/** The lowering of one unit: its program and statistics. */
export function lowerUnit(u: ComputeUnit, ctx: LowerContext): { program: UnitProgram; stats: UnitStats } {
  const b = new UnitProgram(u.name, ctx.layout.cellStride, ctx.expectedSizes);
  const alloc = ctx.layout.kind === "interleaved" ? new PagedAllocator(ctx.layout, ctx.layout.pages) : new RowAllocator(ctx.layout);
  const stats: UnitStats = {
    unit: u.name, kind: u.kind, matrices: [], addsNaive: 0, addsCompiled: 0, cyclesNaive: 0, cyclesCompiled: 0,
    slices: 0, blocks: 0, stagingCopies: 0, spills: 0, peakTmpSlots: 0, peakTmpBits: 0, peakInBits: 0,
  };
  const L = new Lowerer(u, ctx, b, alloc, stats);
  if (ctx.layout.scratchCells.length < 15 && hasRequant(u)) {
    throw new RtapError(`requantization needs up to 15 scratch cells visible beside the accumulator; this row offers ${ctx.layout.scratchCells.length} (use more tracks per shift group or more ports)`, `unit "${u.name}"`);
  }
  try {
    switch (u.kind) {
      case "conv":
        L.conv(u);
        break;
      case "add":
        L.add(u);
        break;
      case "maxpool":
      case "sumpool":
        L.pool(u);
        break;
    }
  } catch (e) {
    // name the unit in allocation and capacity errors raised deep in the lowering
    if (e instanceof RtapError && !e.message.includes(`unit "${u.name}"`) && !e.message.startsWith("op ")) throw new RtapError(e.message, `unit "${u.name}"`);
    throw e;
  }
  stats.peakTmpSlots = alloc.peakTmpSlots;
  if (alloc instanceof PagedAllocator) stats.spills = alloc.spills;
  stats.peakTmpBits = alloc.peakTmpBits;
  stats.peakInBits = alloc.peakInBits;
  b.peakTmpBits = alloc.peakTmpBits;
  b.peakTmpSlots = alloc.peakTmpSlots;
  b.peakInBits = alloc.peakInBits;
  return { program: b.finish(), stats };
}

/** No operand ids (tmp's default `near`: one shared array, not one per temporary). */
const NO_IDS: readonly number[] = [];

/** "a W-bit value", per width (allocation messages; built once, not per temporary). */
const VALUE_OF_WIDTH: string[] = [];

interface Operand {
  id: number;
  /** Set for IN values. */
  slot?: InSlot;
}

/** Per-block arrays of Lowerer.convSlice: see TypedScratch (src/compiler/scratch.ts). */
interface SliceScratch {
  arrays: TypedScratch;
  streamed: StreamedScratch;
  busy: boolean;
}
const newSliceScratch = (): SliceScratch => ({ arrays: new TypedScratch(), streamed: new StreamedScratch(), busy: false });
/** This thread's (lowering is synchronous: one convSlice at a time; `busy` guards nesting). */
const sliceScratch = newSliceScratch();

/** Per-DAG arrays and hot set of Lowerer.emitDag. */
interface EmitScratch {
  arrays: TypedScratch;
  hotNodes: InsertionOrderedSet;
  busy: boolean;
}
const newEmitScratch = (): EmitScratch => ({ arrays: new TypedScratch(), hotNodes: new InsertionOrderedSet(1024), busy: false });
const emitScratch = newEmitScratch();

class Lowerer {
  private readonly q: QGraph;
  /** Load sources per conv of the unit, by (input channel, kernel tap): see UnitProgram.load. */
  private readonly loadSources = new Map<object, LoadSource[]>();
  /** Set on interleaved (paged) rows. */
  private readonly paged: PagedAllocator | null;
  /** The operands of the temporary being placed, and their pages on demand (one closure, not one per temporary). */
  private nearIds: readonly number[] = NO_IDS;
  private readonly pinsOfNear = (): Map<number, number> => this.pinsOf(this.nearIds);
  /** A DAG node's two operands (emitDag: reused for every node). */
  private readonly operandPair = [0, 0];
  constructor(
    private readonly u: ComputeUnit,
    private readonly ctx: LowerContext,
    private readonly b: UnitProgram,
    private readonly alloc: RowAllocator | PagedAllocator,
    private readonly stats: UnitStats,
  ) {
    this.q = ctx.q;
    this.paged = alloc instanceof PagedAllocator ? alloc : null;
  }

  private tensor(name: string): QTensor {
    return this.q.tensors.get(name)!;
  }

  private where(): string {
    return `unit "${this.u.name}"`;
  }

  // ---------------------------------------------------------------- value helpers

  /**
   * A TMP value of the exact width of [min, max] (or the full width with bit-width inference off).
   * Serial rows: in a TMP group, away from `avoidGroup` when possible. Interleaved rows: on a hot
   * page, else on the spill bank beside the pages of `near` (the op's operands); accumulators
   * (VK_ACC) on the spill bank's pages.
   */
  private tmp(kind: number, tag: number, tag2: number, min: number, max: number, avoidGroup = -1, near: readonly number[] = NO_IDS): number {
    const exact = bitsFor(min, max);
    const width = this.ctx.passes.bitwidth ? exact : Math.max(exact, FULL_WIDTH);
    if (width > FULL_WIDTH) throw new RtapError(`a value needs ${width} bits; the AP handles at most ${FULL_WIDTH}`, this.where());
    if (this.paged) {
      const what = (VALUE_OF_WIDTH[width] ??= `a ${width}-bit value`);
      // the operands' pages matter only when the value spills: made then, not per temporary
      this.nearIds = near;
      const t = kind === VK_ACC ? this.paged.allocAcc(width, what) : this.paged.allocTmp(width, what, this.pinsOfNear);
      return this.b.addValue(width, min < 0, REGION_TMP, kind, tag, tag2, min, max, t.cell0, t.slot, t.lane, t.bit);
    }
    const t = (this.alloc as RowAllocator).allocTmp(width, `a ${width}-bit value`, avoidGroup);
    return this.b.addValue(width, min < 0, REGION_TMP, kind, tag, tag2, min, max, t.cell0, t.slot);
  }

  private groupOf(id: number): number {
    return this.alloc.groupOf(this.b.cell0[id]!);
  }

  private freeTmp(id: number): void {
    if (this.b.region[id] !== REGION_TMP) return;
    this.alloc.freeTmp(this.b.reg[id]!, this.b.width[id]!);
    this.b.freeOne(id);
  }

  // ---------------------------------------------------------------- pages (interleaved rows)

  /** Bank -> page of the given values (the pages an op on them needs under the ports). */
  private pinsOf(ids: readonly number[]): Map<number, number> {
    const pins = new Map<number, number>();
    for (const id of ids) {
      if (id < 0) continue;
      const c = this.b.cell0[id]!;
      pins.set(this.paged!.groupOf(c), this.paged!.pageOf(c));
    }
    return pins;
  }

  /** The first of (x, y, z) that sits in a bank an earlier one needs at another page (-1: none). */
  private conflict(x: number, y: number, z: number): number {
    const paged = this.paged!, cell0 = this.b.cell0;
    const gx = x >= 0 ? paged.groupOf(cell0[x]!) : -1, px = x >= 0 ? paged.pageOf(cell0[x]!) : 0;
    const gy = y >= 0 ? paged.groupOf(cell0[y]!) : -1, py = y >= 0 ? paged.pageOf(cell0[y]!) : 0;
    if (gy >= 0 && gy === gx && py !== px) return y;
    if (z < 0) return -1;
    const gz = paged.groupOf(cell0[z]!), pz = paged.pageOf(cell0[z]!);
    if ((gz === gx && pz !== px) || (gz === gy && pz !== py)) return z;
    return -1;
  }

  /** Records that the op on these values brings their pages under the ports (the schedule rule of pages.ts). */
  private touch(x: number, y = -1, z = -1): void {
    // three calls, not a loop over [x, y, z]: an array per step was a third of emit's garbage
    this.touchOne(x);
    this.touchOne(y);
    this.touchOne(z);
  }

  private touchOne(id: number): void {
    if (id < 0) return;
    const paged = this.paged!, c = this.b.cell0[id]!;
    paged.current[paged.groupOf(c)] = paged.pageOf(c);
  }

  /**
   * Emits a compute step. On interleaved rows, an operand whose bank is needed at another page by
   * another operand is first copied to a hot page (its bank cannot show two pages at once).
   */
  private emit(op: number, dst: number, a: number, b: number, imm: number, thresholds?: Int32Array): void {
    let staged: number[] | undefined; // rare: no array per step
    if (this.paged) {
      for (;;) {
        const bad = this.conflict(dst, a, b);
        if (bad < 0) break;
        if (bad === dst) throw new Error(`internal: destination ${this.b.name(dst)} conflicts with an operand's page`);
        const c = this.stageHot(bad);
        (staged ??= []).push(c);
        if (a === bad) a = c;
        if (b === bad) b = c;
      }
      this.touch(dst, a, b);
    }
    if (op === OP_THRESHOLD) this.b.threshold(dst, a, thresholds!);
    else this.b.step(op, dst, a, b, imm);
    if (staged) for (const c of staged) this.freeTmp(c);
  }

  /** Interleaved rows: a copy of `id` on a hot page (staging an operand whose bank is busy). */
  private stageHot(id: number): number {
    // a TMP value: the full width with bit-width inference off, like every temporary
    const w = this.ctx.passes.bitwidth ? this.b.width[id]! : Math.max(this.b.width[id]!, FULL_WIDTH);
    const t = this.paged!.allocHot(w, `a staged ${w}-bit value`);
    if (!t) throw new RtapError(`out of row storage: the hot pages are full while staging ${this.b.name(id)} (a value on another page of its bank)`, this.where());
    const c = this.b.addValue(w, this.b.signed[id] === 1, REGION_TMP, VK_STAGED, id, 0, this.b.min[id]!, this.b.max[id]!, t.cell0, t.slot, t.lane, t.bit);
    this.touch(c, id);
    this.b.step(OP_COPY, c, id, -1, 0);
    this.stats.stagingCopies++;
    return c;
  }

  private loadIn(tag: number, tag2: number, src: LoadSource, width: number, min: number, max: number, signed: boolean): Operand {
    const slot = this.alloc.allocIn();
    if (this.paged) {
      // IN registers start at tmpSlots; the IN bank's lanes are not tracked for stale bits (loads overwrite)
      const id = this.b.addValue(width, signed, REGION_IN, VK_IN, tag, tag2, min, max, slot.cell0, this.ctx.layout.tmpSlots + slot.index, -1, 0);
      this.b.load(id, src);
      return { id, slot };
    }
    const id = this.b.addValue(width, signed, REGION_IN, VK_IN, tag, tag2, min, max, slot.cell0, this.ctx.layout.tmpSlots + slot.index);
    this.b.load(id, src);
    return { id, slot };
  }

  /** A stored value loaded into a TMP slot (identity shortcut codes, add-unit operands). */
  private loadTmp(channel: number, src: LoadSource, t: QTensor, c: number): number {
    const lo = Math.min(t.minPerChannel[c]!, src.pad), hi = Math.max(t.maxPerChannel[c]!, src.pad);
    const id = this.tmp(VK_LOADTMP, channel, 0, lo, hi);
    this.b.load(id, src);
    return id;
  }

  /** Copies a value into a fresh TMP slot (lockstep staging, or before an op that needs TMP). */
  private stage(id: number, avoidGroup = -1): number {
    const c = this.tmp(VK_STAGED, id, 0, this.b.min[id]!, this.b.max[id]!, avoidGroup, [id]);
    if (this.paged) this.emit(OP_COPY, c, id, -1, 0);
    else this.b.step(OP_COPY, c, id, -1, 0);
    this.stats.stagingCopies++;
    return c;
  }

  // ---------------------------------------------------------------- conv units

  conv(u: ConvUnit): void {
    const passes = this.ctx.passes;
    const outT = this.tensor(u.output);
    const O = outT.shape[0];
    // Terms with the smaller matrix first: their accumulators wait for the last term.
    const terms = [...u.terms].sort((a, b) => a.conv.inChannels * a.conv.kernel[0] * a.conv.kernel[1] - b.conv.inChannels * b.conv.kernel[0] * b.conv.kernel[1]);
    const plans = terms.map((t) => this.planTerm(t));
    /** Outputs per block the row's accumulator space allows, given which terms accumulate. */
    const maxBlock = (needAcc: readonly boolean[]): number => {
      const accTerms = needAcc.filter(Boolean).length;
      if (!passes.interchange || !passes.unroll) return 1;
      if (accTerms > 0 && this.paged) {
        // accumulators live on the spill bank's pages; keep a quarter of it for spilled temporaries
        const pg = this.paged.pg;
        let accWidth = 1;
        terms.forEach((t, i) => {
          if (!needAcc[i]) return;
          const ct = this.tensor(t.conv.output);
          for (let o = 0; o < O; o++) accWidth = Math.max(accWidth, bitsFor(ct.minPerChannel[o]!, ct.maxPerChannel[o]!));
        });
        if (!passes.bitwidth) accWidth = FULL_WIDTH;
        const perPage = pg.laneTracks.reduce((n, tr) => n + Math.floor(tr / accWidth), 0) * pg.geom.ports;
        return Math.max(1, Math.min(O, Math.floor((0.75 * perPage * pg.pages) / accTerms)));
      }
      if (accTerms > 0) {
        const budget = Math.floor(this.ctx.layout.tmpSlots / 2);
        const perSlot = this.ctx.layout.rtm ? 1 : 20; // SRAM counts bits: ~20 bits per accumulator
        return Math.max(1, Math.min(O, Math.floor(budget / perSlot / accTerms)));
      }
      return O;
    };
    const accOf = (): boolean[] => terms.map((_, i) => i < terms.length - 1 || plans[i]!.slices > 1);
    let Ob = maxBlock(accOf());
    // The chip schedule runs a unit's parts on arrays of their own: where it has room for more
    // parts than the row's capacity makes, split further (page-streamed rows only: there an
    // output's additions do not depend on the split, see parallelSplit).
    const slots = this.ctx.slots ?? 1;
    if (slots > 1 && this.paged && passes.weightFolding && passes.interchange && passes.unroll && passes.cse) {
      const split = this.parallelSplit(terms, plans, O, Ob, slots, maxBlock);
      const main = plans[plans.length - 1]!;
      main.cg = split.cg;
      main.slices = Math.ceil(terms[terms.length - 1]!.conv.inChannels / split.cg);
      Ob = split.Ob;
    }
    const needAcc = accOf();
    const blocks = Math.ceil(O / Ob);
    this.stats.blocks = blocks;
    this.stats.slices = plans.reduce((s, p) => s + p.slices, 0);
    for (const t of terms) {
      const K = t.conv.inChannels * t.conv.kernel[0] * t.conv.kernel[1];
      // The naive baseline, independent of blocks and slices: every output a running sum of its
      // whole receptive field in column order (src/compiler/cse/cost.ts naiveCost).
      let naive = termBaselines.get(t.conv);
      if (!naive) termBaselines.set(t.conv, (naive = naiveCost({ rows: t.conv.outChannels, cols: K, data: t.conv.weights }, this.columnRanges(t))));
      this.stats.matrices.push({ name: t.conv.name, rows: t.conv.outChannels, cols: K, nonZeros: nonZeroWeights(t.conv) });
      this.stats.addsNaive += naive.additions;
      this.stats.cyclesNaive += naive.cycles;
    }
    const preT = this.tensor(u.preRequant);
    for (let blk = 0; blk < blocks; blk++) {
      const o0 = blk * Ob, o1 = Math.min(O, o0 + Ob);
      // accumulators[termIndex][o - o0]
      const accs: (number | undefined)[][] = terms.map(() => new Array<number | undefined>(o1 - o0));
      const finalize = (o: number, lastTermValue: number, lastSign: number): void => {
        const parts: { id: number; mul: number; sign: number }[] = [];
        terms.forEach((t, i) => {
          if (i === terms.length - 1) parts.push({ id: lastTermValue, mul: t.mul[o]!, sign: lastSign });
          else parts.push({ id: accs[i]![o - o0]!, mul: t.mul[o]!, sign: 1 });
        });
        let storedId: number | undefined;
        if (u.stored) {
          const st = this.tensor(u.stored.tensor);
          storedId = this.loadTmp(o, { tensor: u.stored.tensor, channel: o, sy: 1, sx: 1, dy: 0, dx: 0, pad: 0 }, st, o);
          parts.push({ id: storedId, mul: u.stored.mul[o]!, sign: 1 });
        }
        this.combineAndStore(u, o, parts.filter((p) => p.mul !== 0 && p.sign !== 0), preT);
        if (storedId !== undefined) this.freeTmp(storedId);
        terms.forEach((_, i) => {
          if (i < terms.length - 1) this.freeTmp(accs[i]![o - o0]!);
        });
      };
      terms.forEach((t, ti) => {
        const plan = plans[ti]!;
        const isLast = ti === terms.length - 1;
        const convOut = this.tensor(t.conv.output);
        for (let s = 0; s < plan.slices; s++) {
          const c0 = s * plan.cg, c1 = Math.min(t.conv.inChannels, c0 + plan.cg);
          const lastSlice = s === plan.slices - 1;
          // A part of the chip schedule (src/compiler/schedule.ts); the block's last part reduces.
          const reducer = isLast && lastSlice;
          this.b.beginPart(blk, ti, s, [{ tensor: t.conv.input, c0, c1 }], [o0, o1]);
          // the reducer's final steps load the stored residual input of the block's channels
          if (reducer && u.stored) this.b.noteRead({ tensor: u.stored.tensor, c0: o0, c1: o1 });
          // Output handler for this (block, term, slice): accumulate or finalize.
          const onOutput = (o: number, id: number, sign: number, isTmp: boolean): void => {
            if (needAcc[ti]) {
              this.b.setRole(ROLE_REDUCE);
              // a partial sum computed away from the reducer travels there
              if (sign !== 0 && !reducer) this.b.noteTransfer(this.b.width[id]!);
              const cur = accs[ti]![o - o0];
              if (cur === undefined) {
                const acc = this.tmp(VK_ACC, o, ti, convOut.minPerChannel[o]!, convOut.maxPerChannel[o]!);
                if (sign === 0) this.emit(OP_SET, acc, -1, -1, 0);
                else {
                  this.emit(OP_COPY, acc, id, -1, 0);
                  if (sign < 0) this.emit(OP_NEGATE, acc, acc, -1, 0);
                }
                accs[ti]![o - o0] = acc;
              } else if (sign !== 0) {
                this.emit(sign > 0 ? OP_ADD : OP_SUB, cur, id, -1, 0);
                // accumulating a slice's partial sum is an addition of the compiled program too
                this.stats.addsCompiled++;
                this.stats.cyclesCompiled += this.b.width[cur]!;
              }
              if (isLast && lastSlice) {
                this.b.setRole(ROLE_FINAL);
                finalize(o, accs[ti]![o - o0]!, 1);
                this.freeTmp(accs[ti]![o - o0]!);
              }
              this.b.setRole(ROLE_COMPUTE);
              return;
            }
            // No accumulation: this is the last term's only slice (the reducer).
            this.b.setRole(ROLE_FINAL);
            if (sign === 0) {
              const z = this.tmp(VK_CONST, o, 0, 0, 0);
              this.emit(OP_SET, z, -1, -1, 0);
              finalize(o, z, 1);
              this.freeTmp(z);
              this.b.setRole(ROLE_COMPUTE);
              return;
            }
            let src = id;
            let staged: number | undefined;
            if (!isTmp) {
              // an input code as the whole sum: bring it into a TMP slot first
              staged = this.stage(id);
              src = staged;
            }
            finalize(o, src, sign);
            if (staged !== undefined) this.freeTmp(staged);
            this.b.setRole(ROLE_COMPUTE);
          };
          // accumulators this slice creates (first slice of an accumulating term) stay live beside the DAG
          const reserve = needAcc[ti] && s === 0 ? o1 - o0 : 0;
          this.convSlice(t, plan, o0, o1, c0, c1, onOutput, reserve);
        }
      });
    }
  }

  /**
   * Outputs per block and channels per slice of the unit's largest term for the chip schedule
   * (`ob0`: the row's own outputs per block).
   * On page-streamed rows an output's additions are the same for every split (one tree per slice,
   * plus one accumulation per extra slice: nnz - 1 in all); a split changes
   *  - latency: (rounds of parts) x (work per part + its loads) + the block's accumulations at the
   *    reducer (one add of the accumulator's width per extra slice and output), work at ~8 bit
   *    steps per addition (a tree's mean width) and CYCLES_PER_ADD_BIT;
   *  - energy: every block loads the whole receptive field again, every part but a block's last
   *    sends its partial sums to the reducer (estimated in add bit steps per position, see
   *    SPLIT_LOAD_BIT and SPLIT_TRANSFER_BIT).
   * The choice: the lowest estimated latency among the splits whose estimated energy stays within
   * SPLIT_ENERGY_BUDGET of the capacity's split (the one the row forces anyway); ties go to fewer
   * parts. Every split considered is kept in the unit's statistics (`--emit interchange`).
   */
  private parallelSplit(
    terms: ConvTerm[], plans: { slices: number; cg: number; inWidth: number }[], O: number, ob0: number, slots: number, maxBlock: (needAcc: readonly boolean[]) => number,
  ): { Ob: number; cg: number } {
    const main = terms[terms.length - 1]!, mainPlan = plans[plans.length - 1]!;
    const C = main.conv.inChannels;
    let nnz = 0, fieldBits = 0;
    for (const [i, t] of terms.entries()) {
      nnz += nonZeroWeights(t.conv);
      fieldBits += t.conv.inChannels * t.conv.kernel[0] * t.conv.kernel[1] * plans[i]!.inWidth;
    }
    const work = nnz * 8;
    const ct = this.tensor(main.conv.output);
    let accWidth = 1;
    for (let o = 0; o < O; o++) accWidth = Math.max(accWidth, bitsFor(ct.minPerChannel[o]!, ct.maxPerChannel[o]!));
    const otherSlices = plans.slice(0, -1).reduce((n, p) => n + p.slices, 0);
    const K = main.conv.kernel[0] * main.conv.kernel[1];
    const loadCycles = this.ctx.loadCycles ?? (() => 0);
    const estimate = (B: number, G: number, cg: number, Ob: number): SplitOption => {
      const partsPerBlock = G + otherSlices, parts = B * partsPerBlock;
      const rounds = Math.ceil(parts / slots);
      const cycles = rounds * ((work * CYCLES_PER_ADD_BIT) / parts + loadCycles(cg * K * mainPlan.inWidth)) + (partsPerBlock - 1) * Ob * accWidth * CYCLES_PER_ADD_BIT * rounds;
      const energy = work + B * fieldBits * SPLIT_LOAD_BIT + B * (partsPerBlock - 1) * Ob * accWidth * SPLIT_TRANSFER_BIT;
      return { blocks: B, outputsPerBlock: Ob, slices: G, channelsPerSlice: cg, parts, cycles: Math.round(cycles), energy: Math.round(energy), chosen: false };
    };
    const options: SplitOption[] = [];
    const base = estimate(Math.ceil(O / ob0), mainPlan.slices, mainPlan.cg, ob0);
    options.push(base);
    for (let cg = mainPlan.cg, lastG = 0; cg >= 1; cg--) {
      const G = Math.ceil(C / cg);
      if (G === lastG) continue;
      lastG = G;
      if (G + otherSlices > slots) break;
      const obMax = maxBlock(terms.map((_, i) => i < terms.length - 1 || G > 1));
      for (let B = Math.ceil(O / obMax); B <= O; B++) {
        const Ob = Math.ceil(O / B);
        if (Math.ceil(O / Ob) !== B) continue;
        if (B * (G + otherSlices) > slots && B > Math.ceil(O / obMax)) break;
        if (B === base.blocks && G === base.slices) continue;
        options.push(estimate(B, G, cg, Ob));
      }
    }
    const budget = this.ctx.splitEnergyBudget ?? SPLIT_ENERGY_BUDGET;
    this.stats.splitBudget = budget;
    let best = base;
    for (const o of options) {
      if (o.energy > base.energy * (1 + budget)) continue;
      if (o.cycles < best.cycles * 0.999 || (o.cycles <= best.cycles * 1.001 && o.parts < best.parts)) best = o;
    }
    best.chosen = true;
    // the chosen split and the fastest few of the others, for --emit interchange
    this.stats.splits = [best, ...options.filter((o) => o !== best).sort((a, b) => a.cycles - b.cycles).slice(0, 5)];
    this.stats.splitBase = base;
    return { Ob: best.outputsPerBlock, cg: best.channelsPerSlice };
  }

  /** Ranges of the columns (c, ky, kx) of a conv term's matrix: the input channel's, with 0 for padding. */
  private columnRanges(t: ConvTerm): { min: Float64Array; max: Float64Array } {
    const conv = t.conv;
    const inT = this.tensor(conv.input);
    const K = conv.kernel[0] * conv.kernel[1];
    const padded = conv.pads.some((p) => p > 0);
    const J = conv.inChannels * K;
    const min = new Float64Array(J), max = new Float64Array(J);
    for (let j = 0; j < J; j++) {
      const c = Math.floor(j / K);
      min[j] = padded ? Math.min(0, inT.minPerChannel[c]!) : inT.minPerChannel[c]!;
      max[j] = padded ? Math.max(0, inT.maxPerChannel[c]!) : inT.maxPerChannel[c]!;
    }
    return { min, max };
  }

  private planTerm(t: ConvTerm): { slices: number; cg: number; inWidth: number; inSigned: boolean } {
    const inT = this.tensor(t.conv.input);
    let lo = 0, hi = 0;
    for (let c = 0; c < inT.shape[0]; c++) {
      lo = Math.min(lo, inT.minPerChannel[c]!);
      hi = Math.max(hi, inT.maxPerChannel[c]!);
    }
    const inWidth = bitsFor(lo, hi);
    const K = t.conv.kernel[0] * t.conv.kernel[1];
    const cap = this.ctx.layout.inCapacity(inWidth);
    const cg = Math.floor(cap / K);
    if (cg < 1) {
      throw new RtapError(
        `a ${t.conv.kernel.join("x")} window of ${inWidth}-bit inputs (${K} values) does not fit the row's input region (${cap} values); use an architecture with more tracks per row`,
        `op "${t.conv.name}"`,
      );
    }
    return { slices: Math.ceil(t.conv.inChannels / cg), cg, inWidth, inSigned: lo < 0 };
  }

  /**
   * Loads the receptive field of channels [c0, c1) and emits the reduction DAG of output channels
   * [o0, o1) over it; calls onOutput(o, valueId, sign, isTmp) for each output as soon as its value
   * exists (the value may be freed after the call unless the DAG still needs it).
   */
  private convSlice(
    t: ConvTerm, plan: { inWidth: number; inSigned: boolean }, o0: number, o1: number, c0: number, c1: number,
    onOutput: (o: number, id: number, sign: number, isTmp: boolean) => void,
    reserve: number,
  ): void {
    // per-block arrays on this thread's slice scratch (a nested call, none today, gets its own)
    const own = !sliceScratch.busy;
    const scratch = own ? sliceScratch : newSliceScratch();
    scratch.busy = true;
    try {
      this.convSliceIn(scratch, t, plan, o0, o1, c0, c1, onOutput, reserve);
    } finally {
      if (own) sliceScratch.busy = false;
    }
  }

  /** convSlice on `scratch`'s arrays (column ranges, weight block, pages, schedule: valid for this call). */
  private convSliceIn(
    scratch: SliceScratch,
    t: ConvTerm, plan: { inWidth: number; inSigned: boolean }, o0: number, o1: number, c0: number, c1: number,
    onOutput: (o: number, id: number, sign: number, isTmp: boolean) => void,
    reserve: number,
  ): void {
    const conv = t.conv;
    const inT = this.tensor(conv.input);
    const [KH, KW] = conv.kernel;
    const K = KH * KW;
    const C = conv.inChannels;
    const J = (c1 - c0) * K;
    const padded = conv.pads.some((p) => p > 0);
    // Columns in (c, ky, kx) order: consecutive columns share a packing level.
    const colMin = scratch.arrays.float64(0, J), colMax = scratch.arrays.float64(1, J);
    this.alloc.resetIn(plan.inWidth);
    const leaves: Operand[] = new Array(J);
    const order = columnPlacementOrder(J, this.ctx.passes.allocation);
    // one load source per (channel, tap) of the term, shared by every block that loads it
    let sources = this.loadSources.get(conv);
    if (!sources) this.loadSources.set(conv, (sources = new Array<LoadSource>(C * K)));
    const loaded: Operand[] = new Array(J);
    for (const j of order) {
      const c = c0 + Math.floor(j / K), k = j % K;
      const ky = Math.floor(k / KW), kx = k % KW;
      const lo = padded ? Math.min(0, inT.minPerChannel[c]!) : inT.minPerChannel[c]!;
      const hi = padded ? Math.max(0, inT.maxPerChannel[c]!) : inT.maxPerChannel[c]!;
      colMin[j] = lo;
      colMax[j] = hi;
      const src = (sources[c * K + k] ??= { tensor: conv.input, channel: c, sy: conv.stride[0], sx: conv.stride[1], dy: ky - conv.pads[0], dx: kx - conv.pads[1], pad: 0 });
      loaded[j] = this.loadIn(c, k, src, plan.inWidth, lo, hi, plan.inSigned);
    }
    for (let j = 0; j < J; j++) leaves[j] = loaded[j]!;
    // The block's ternary matrix (rows o0..o1-1, columns of this slice).
    const rows = o1 - o0;
    const data = scratch.arrays.int8(0, rows * J); // every entry written below
    for (let o = o0; o < o1; o++)
      for (let c = c0; c < c1; c++)
        for (let k = 0; k < K; k++) data[(o - o0) * J + (c - c0) * K + k] = conv.weights[(o * C + c) * K + k]!;
    const matrix = { rows, cols: J, data };
    const ranges = { min: colMin, max: colMax };
    if (!this.ctx.passes.weightFolding) {
      this.unfoldedSlice(matrix, leaves, o0, onOutput);
    } else if (this.paged && this.ctx.passes.unroll && this.ctx.passes.cse) {
      // interleaved rows: the page-streamed reduction (src/compiler/streamed.ts)
      const page = scratch.arrays.int32(0, J);
      for (let j = 0; j < J; j++) page[j] = leaves[j]!.slot!.level;
      const dag = streamedTrees(matrix, ranges, page, scratch.streamed);
      const schedule = idSchedule(dag, scratch.arrays.int32(1, dag.nodeCount - dag.inputCount));
      // (no naive cost here: the unit's naive baseline is counted per term, see conv)
      const compiled = dagCost(dag);
      const r = this.checked({ dag, schedule, compiled }, matrix, ranges, conv.name);
      this.stats.addsCompiled += compiled.additions;
      this.stats.cyclesCompiled += this.ctx.passes.bitwidth ? compiled.cycles : compiled.additions * FULL_WIDTH;
      this.emitDag(r.dag, r.schedule, leaves, o0, onOutput);
    } else {
      // (the column ranges follow from the input tensor, the padding and the slice: named, not
      // joined into a string per block, ~10^4 blocks of up to 4,608 columns with unrolling off)
      const key = `${o0},${o1},${c0},${c1},${K},${conv.input},${padded ? 1 : 0},${plan.inWidth}`;
      const { dag, schedule, compiled } = this.reduce(matrix, ranges, conv.name, reserve, { weights: conv.weights, key });
      this.stats.addsCompiled += compiled.additions;
      // without bit-width inference every addition sweeps the full width
      this.stats.cyclesCompiled += this.ctx.passes.bitwidth ? compiled.cycles : compiled.additions * FULL_WIDTH;
      this.emitDag(dag, schedule, leaves, o0, onOutput);
    }
    this.b.free(leaves.map((l) => l.id));
    for (let j = 0; j < J; j++) this.alloc.freeIn(plan.inWidth);
  }

  /** The reduction DAG of a block: CSE, trees only (CSE off), or chains (unrolling off). */
  private reduce(
    matrix: { rows: number; cols: number; data: Int8Array }, ranges: { min: Float64Array; max: Float64Array }, name: string, reserve = 0,
    memo?: { weights: Int8Array; key: string },
  ): ReduceResult {
    const passes = this.ctx.passes;
    if (!passes.unroll) {
      const naive = naiveChain(matrix, ranges);
      return this.checked({ dag: naive.dag, schedule: idSchedule(naive.dag), naive: naive.cost, compiled: naive.cost }, matrix, ranges, name);
    }
    // Row storage left for the DAG's temporaries: slots minus accumulators, staging and combination headroom.
    const free = Math.max(2, (this.paged ? 128 : this.ctx.layout.tmpSlots) - this.alloc.tmpSlotsInUse - reserve - 8);
    const key = memo ? `${memo.key}|${passes.cse ? "cse" : "trees"}|${free}` : "";
    const cached = memo ? cseMemo.get(memo.weights)?.get(key) : undefined;
    if (cached) return this.checked(cached, matrix, ranges, name);
    const res = eliminateCommonSubexpressions(matrix, ranges, {
      groupSize: passes.cse ? "auto" : 1,
      maxLiveTemporaries: free,
      where: `op "${name}"`,
    });
    const out = { dag: res.dag, schedule: res.schedule, naive: res.stats.naive, compiled: res.stats.compiled };
    if (memo) {
      let m = cseMemo.get(memo.weights);
      if (!m) cseMemo.set(memo.weights, (m = new Map()));
      m.set(key, out);
    }
    return this.checked(out, matrix, ranges, name);
  }

  /** With the verifier on: the DAG must be sound and compute exactly `matrix` (src/compiler/verify.ts). */
  private checked(
    r: ReduceResult, matrix: { rows: number; cols: number; data: Int8Array }, ranges: { min: Float64Array; max: Float64Array }, name: string,
  ): ReduceResult {
    if (!this.ctx.verify || r.verified) return r;
    const problems = checkReduction(r.dag, r.schedule, matrix, ranges);
    if (problems.length) throw new RtapError(`verifier after ${this.ctx.passes.cse ? "CSE" : "unrolling"}: ${problems.join("; ")}`, `op "${name}"`);
    r.verified = true;
    return r;
  }

  private emitDag(dag: ExprDag, schedule: Int32Array, leaves: Operand[], o0: number, onOutput: (o: number, id: number, sign: number, isTmp: boolean) => void): void {
    // per-DAG bookkeeping on this thread's scratch (a nested call, none today, gets its own)
    const own = !emitScratch.busy;
    const scratch = own ? emitScratch : newEmitScratch();
    scratch.busy = true;
    try {
      this.emitDagIn(scratch, dag, schedule, leaves, o0, onOutput);
    } finally {
      if (own) emitScratch.busy = false;
    }
  }

  /** emitDag with its per-node arrays and hot set in `scratch` (valid for this call). */
  private emitDagIn(
    scratch: EmitScratch, dag: ExprDag, schedule: Int32Array, leaves: Operand[], o0: number, onOutput: (o: number, id: number, sign: number, isTmp: boolean) => void,
  ): void {
    const n = dag.nodeCount;
    const lastUse = scratch.arrays.int32(0, n).fill(-1);
    for (let i = 0; i < schedule.length; i++) {
      const node = schedule[i]!;
      lastUse[dag.lhs[node]!] = Math.max(lastUse[dag.lhs[node]!]!, i);
      lastUse[dag.rhs[node]!] = Math.max(lastUse[dag.rhs[node]!]!, i);
    }
    // outputs grouped by node, in row order: a list per node through firstOut/nextOut (-1 ends it)
    const rowsOut = dag.outputNode.length;
    // (lastOut[node] is written before it is read)
    const firstOut = scratch.arrays.int32(1, n).fill(-1), lastOut = scratch.arrays.int32(2, n), nextOut = scratch.arrays.int32(3, rowsOut).fill(-1);
    for (let r = 0; r < rowsOut; r++) {
      const node = dag.outputNode[r]!;
      if (dag.outputSign[r] === 0 || node < dag.inputCount) continue;
      if (firstOut[node]! < 0) firstOut[node] = r;
      else nextOut[lastOut[node]!] = r;
      lastOut[node] = r;
    }
    // Outputs that are zero or a single input: handled first (no DAG work).
    for (let r = 0; r < dag.outputNode.length; r++) {
      const node = dag.outputNode[r]!;
      if (dag.outputSign[r] === 0) onOutput(o0 + r, -1, 0, true);
      else if (node < dag.inputCount) onOutput(o0 + r, leaves[node]!.id, dag.outputSign[r]!, false);
    }
    const ids = scratch.arrays.int32(4, n).fill(-1);
    // Interleaved rows: DAG values on hot pages (evictable to the spill bank when the hot pages are full)
    if (scratch.hotNodes.capacity < n) scratch.hotNodes = new InsertionOrderedSet(Math.max(n, 2 * scratch.hotNodes.capacity));
    const hotNodes = scratch.hotNodes;
    hotNodes.clear();
    for (let i = 0; i < schedule.length; i++) {
      const node = schedule[i]!;
      // operand ids (no Operand object per node: the IN slots matter on serial rows only)
      const lhsNode = dag.lhs[node]!, rhsNode = dag.rhs[node]!;
      const aId = lhsNode < dag.inputCount ? leaves[lhsNode]!.id : ids[lhsNode]!;
      let bId = rhsNode < dag.inputCount ? leaves[rhsNode]!.id : ids[rhsNode]!;
      let staged: number | undefined;
      if (!this.paged && lhsNode < dag.inputCount && rhsNode < dag.inputCount) {
        const sa = leaves[lhsNode]!.slot, sb = leaves[rhsNode]!.slot;
        if (sa && sb && !RowAllocator.lockstep(sa, sb)) {
          staged = this.stage(bId);
          bId = staged;
        }
      }
      if (this.paged) this.makeHotRoom(dag, node, hotNodes, ids, lastUse, i);
      this.operandPair[0] = aId;
      this.operandPair[1] = bId;
      const dst = this.tmp(VK_NODE, node, 0, dag.min[node]!, dag.max[node]!, -1, this.operandPair);
      if (this.paged && this.paged.isHot(this.b.cell0[dst]!)) hotNodes.add(node);
      this.emit(dag.op[node] === DAG_ADD ? OP_ADDOUT : OP_SUBOUT, dst, aId, bId, 0);
      ids[node] = dst;
      if (staged !== undefined) this.freeTmp(staged);
      // operands whose last use this was (once each, if both are the same node)
      const lhs = dag.lhs[node]!, rhs = dag.rhs[node]!;
      for (let k = 0; k < 2; k++) {
        const operand = k === 0 ? lhs : rhs;
        if (k === 1 && rhs === lhs) break;
        if (operand >= dag.inputCount && lastUse[operand] === i) {
          this.freeTmp(ids[operand]!);
          hotNodes.delete(operand);
        }
      }
      for (let r = firstOut[node]!; r >= 0; r = nextOut[r]!) onOutput(o0 + r, ids[node]!, dag.outputSign[r]!, true);
      if (lastUse[node]! <= i) {
        this.freeTmp(ids[node]!);
        hotNodes.delete(node);
      }
    }
  }

  /**
   * Interleaved rows, before step i creates `node`: while the hot pages lack room for it, move the
   * hot DAG value read farthest in the future (not an operand of this step) to the spill bank, so
   * that the values in use stay visible without a shift (keep hot temporaries at home).
   */
  private makeHotRoom(dag: ExprDag, node: number, hotNodes: InsertionOrderedSet, ids: Int32Array, lastUse: Int32Array, i: number): void {
    const paged = this.paged!;
    const width = this.ctx.passes.bitwidth ? bitsFor(dag.min[node]!, dag.max[node]!) : FULL_WIDTH;
    while (!paged.hasHotRoom(width)) {
      let victim = -1;
      for (let v = hotNodes.first(); v >= 0; v = hotNodes.after(v)) {
        if (v === dag.lhs[node] || v === dag.rhs[node]) continue;
        if (victim < 0 || lastUse[v]! > lastUse[victim]!) victim = v;
      }
      if (victim < 0) return; // nothing to evict: the new value spills
      const old = ids[victim]!;
      const w = this.b.width[old]!;
      const t = paged.allocSpilled(w, `a ${w}-bit value moved off the hot pages`);
      const c = this.b.addValue(w, this.b.signed[old] === 1, REGION_TMP, VK_NODE, victim, 0, this.b.min[old]!, this.b.max[old]!, t.cell0, t.slot, t.lane, t.bit);
      this.emit(OP_COPY, c, old, -1, 0);
      this.stats.stagingCopies++;
      this.freeTmp(old);
      ids[victim] = c;
      hotNodes.delete(victim);
      void i;
    }
  }

  /** Weight folding off: every weight (zeros included) is a stored multiplier: acc += w*x per term. */
  private unfoldedSlice(matrix: { rows: number; cols: number; data: Int8Array }, leaves: Operand[], o0: number, onOutput: (o: number, id: number, sign: number, isTmp: boolean) => void): void {
    for (let r = 0; r < matrix.rows; r++) {
      let lo = 0, hi = 0;
      for (let j = 0; j < matrix.cols; j++) {
        const id = leaves[j]!.id;
        const lim = Math.max(Math.abs(this.b.min[id]!), Math.abs(this.b.max[id]!));
        lo -= lim;
        hi += lim;
      }
      const acc = this.tmp(VK_MAC, o0 + r, 0, lo, hi);
      this.emit(OP_SET, acc, -1, -1, 0);
      for (let j = 0; j < matrix.cols; j++) {
        const w = matrix.data[r * matrix.cols + j]!;
        this.emit(OP_MAC, acc, leaves[j]!.id, -1, w);
        this.stats.addsCompiled += 1;
        this.stats.cyclesCompiled += 2 * this.b.width[acc]!;
      }
      onOutput(o0 + r, acc, 1, true);
      this.freeTmp(acc);
    }
  }

  /** v = sum of mul*sign*part (canonical signed digits), then requant and store. */
  private combineAndStore(u: { requant: { thresholds: Int32Array; bits: number } | null; output: string; name: string }, o: number, parts: { id: number; mul: number; sign: number }[], preT: QTensor): void {
    const lo = preT.minPerChannel[o]!, hi = preT.maxPerChannel[o]!;
    let v: number;
    let ownV = false;
    if (parts.length === 0) {
      v = this.tmp(VK_CONST, o, 0, 0, 0);
      this.emit(OP_SET, v, -1, -1, 0);
      ownV = true;
    } else if (parts.length === 1 && parts[0]!.mul * parts[0]!.sign === 1) {
      v = parts[0]!.id;
    } else {
      // v goes to another shift group than the first part, and a part read shifted from v's own
      // group is staged to another group first (shifted operands in one group are misaligned).
      v = this.tmp(VK_COMB, o, 0, lo, hi, this.groupOf(parts[0]!.id), parts.map((p) => p.id));
      ownV = true;
      const staged: number[] = [];
      const vGroup = this.paged ? -1 : this.groupOf(v);
      const partIds = parts.map((p) => {
        const shifted = csd(Math.abs(p.mul)).some((d) => d.shift > 0);
        if (vGroup < 0 || !shifted || this.groupOf(p.id) !== vGroup) return p.id;
        const c = this.stage(p.id, vGroup);
        staged.push(c);
        return c;
      });
      const digits: { id: number; shift: number; sign: number }[] = [];
      parts.forEach((p, i) => {
        for (const d of csd(Math.abs(p.mul))) digits.push({ id: partIds[i]!, shift: d.shift, sign: d.sign * Math.sign(p.mul) * p.sign });
      });
      const first = digits.findIndex((d) => d.sign > 0);
      const start = first >= 0 ? first : 0;
      const d0 = digits[start]!;
      this.emit(OP_COPY, v, d0.id, -1, d0.shift);
      digits.forEach((d, i) => {
        if (i === start) return;
        const sign = first >= 0 ? d.sign : -d.sign;
        this.emit(sign > 0 ? OP_ADD : OP_SUB, v, d.id, -1, d.shift);
      });
      if (first < 0) this.emit(OP_NEGATE, v, v, -1, 0);
      for (const c of staged) this.freeTmp(c);
    }
    const outT = this.tensor(u.output);
    if (u.requant) {
      const L = (1 << u.requant.bits) - 1;
      const code = this.tmp(VK_CODE, o, 0, outT.minPerChannel[o]!, outT.maxPerChannel[o]!);
      const thresholds = u.requant.thresholds.slice(o * L, (o + 1) * L);
      if (this.b.min[v] === this.b.max[v]) {
        // constant input (all-zero channel): the code is a constant
        let k = 0;
        for (const t of thresholds) if (this.b.min[v]! >= t) k++;
        this.emit(OP_SET, code, -1, -1, k);
      } else this.emit(OP_THRESHOLD, code, v, -1, 0, thresholds);
      this.b.store(code, u.output, o);
      this.freeTmp(code);
    } else {
      this.b.store(v, u.output, o);
    }
    if (ownV) this.freeTmp(v);
  }

  // ---------------------------------------------------------------- other units

  /**
   * Units whose channels are independent (residual adds, pools): channel c's steps belong to part
   * floor(c x G / C) of G = min(C, slots) parts, each a block of its own (nothing to reduce), so
   * the chip schedule runs them side by side.
   */
  private channelPart(c: number, C: number, inputs: readonly string[]): void {
    const G = Math.min(C, this.ctx.slots ?? 1);
    if (G < 2) return;
    const g = Math.floor((c * G) / C);
    if (c === 0 || g !== Math.floor(((c - 1) * G) / C)) {
      // channels c .. (the first channel of group g + 1) - 1
      let c1 = c + 1;
      while (c1 < C && Math.floor((c1 * G) / C) === g) c1++;
      this.b.beginPart(g, 0, 0, inputs.map((tensor) => ({ tensor, c0: c, c1 })), [c, c1]);
    }
  }

  add(u: Extract<ComputeUnit, { kind: "add" }>): void {
    const preT = this.tensor(u.preRequant);
    const C = preT.shape[0];
    for (let c = 0; c < C; c++) {
      this.channelPart(c, C, u.inputs.map((inp) => inp.tensor));
      const ids = u.inputs.map((inp) => this.loadTmp(c, { tensor: inp.tensor, channel: c, sy: 1, sx: 1, dy: 0, dx: 0, pad: 0 }, this.tensor(inp.tensor), c));
      this.combineAndStore(u, c, u.inputs.map((inp, i) => ({ id: ids[i]!, mul: inp.mul[c]!, sign: 1 })).filter((p) => p.mul !== 0), preT);
      ids.forEach((id) => this.freeTmp(id));
    }
  }

  pool(u: Extract<ComputeUnit, { kind: "maxpool" | "sumpool" }>): void {
    const op = u.op;
    const inT = this.tensor(u.input), outT = this.tensor(u.output);
    const C = inT.shape[0];
    const [KH, KW] = op.kernel;
    const K = KH * KW;
    let lo = 0, hi = 0;
    for (let c = 0; c < C; c++) {
      lo = Math.min(lo, inT.minPerChannel[c]!);
      hi = Math.max(hi, inT.maxPerChannel[c]!);
    }
    const inW = bitsFor(lo, hi);
    const cap = this.ctx.layout.inCapacity(inW);
    if (K > cap) throw new RtapError(`a ${KH}x${KW} pooling window of ${inW}-bit values does not fit the row's input region (${cap} values)`, `op "${op.name}"`);
    const isMax = u.kind === "maxpool";
    for (let c = 0; c < C; c++) {
      this.channelPart(c, C, [u.input]);
      this.alloc.resetIn(inW);
      // Max-pool ignores window positions outside the input: they load the channel minimum,
      // which never wins. Sum-pool counts them as 0 (the QGraph semantics).
      const pad = isMax ? inT.minPerChannel[c]! : 0;
      const tlo = Math.min(lo, pad), thi = Math.max(hi, pad);
      const taps: Operand[] = [];
      for (let k = 0; k < K; k++) {
        const ky = Math.floor(k / KW), kx = k % KW;
        taps.push(this.loadIn(c, k, { tensor: u.input, channel: c, sy: op.stride[0], sx: op.stride[1], dy: ky - op.pads[0], dx: kx - op.pads[1], pad }, inW, tlo, thi, lo < 0));
      }
      if (isMax) {
        // max needs operands of one width and signedness: the result takes the taps' format
        const v = this.tmp(VK_CODE, c, 0, Math.min(lo, pad), Math.max(hi, pad));
        this.emit(OP_COPY, v, taps[0]!.id, -1, 0);
        for (let k = 1; k < K; k++) this.emit(OP_MAX, v, taps[k]!.id, -1, 0);
        this.b.store(v, u.output, c);
        this.freeTmp(v);
      } else {
        // balanced tree, narrow first
        const matrix = { rows: 1, cols: K, data: new Int8Array(K).fill(1) };
        const ranges = { min: new Float64Array(K).fill(tlo), max: new Float64Array(K).fill(thi) };
        const res = eliminateCommonSubexpressions(matrix, ranges, { groupSize: 1, where: `op "${op.name}"` });
        this.checked({ dag: res.dag, schedule: res.schedule, naive: res.stats.naive, compiled: res.stats.compiled }, matrix, ranges, op.name);
        this.emitDag(res.dag, res.schedule, taps, c, (o, id, sign, isTmp) => {
          let src = id;
          let own = false;
          if (!isTmp || sign < 0) {
            src = this.tmp(VK_STAGED, c, 0, outT.minPerChannel[c]!, outT.maxPerChannel[c]!);
            own = true;
            this.emit(OP_COPY, src, id, -1, 0);
            if (sign < 0) this.emit(OP_NEGATE, src, src, -1, 0);
          }
          this.b.store(src, u.output, o);
          if (own) this.freeTmp(src);
        });
      }
      this.b.free(taps.map((t) => t.id));
      for (let k = 0; k < K; k++) this.alloc.freeIn(inW);
    }
  }
}

function hasRequant(u: ComputeUnit): boolean {
  return (u.kind === "conv" || u.kind === "add") && u.requant !== null && (1 << u.requant.bits) - 1 > 0;
}

/** Column placement order: natural (CSE groups share a packing level) or scattered (allocation off). */
function columnPlacementOrder(J: number, optimized: boolean): Int32Array {
  const key = optimized ? J : -J - 1;
  let order = placementOrders.get(key);
  if (order) return order;
  order = new Int32Array(J);
  if (optimized) for (let j = 0; j < J; j++) order[j] = j;
  else {
    // Interleave with a stride so consecutive columns land on different packing levels.
    const stride = 7;
    let n = 0;
    for (let s = 0; s < stride; s++) for (let j = s; j < J; j += stride) order[n++] = j;
  }
  placementOrders.set(key, order);
  return order;
}

/** columnPlacementOrder's results (read only), by J (natural) and -J-1 (scattered): blocks repeat them. */
const placementOrders = new Map<number, Int32Array>();

/** The naive reduction: every row a running sum of its non-zero terms in column order. */
function naiveChain(matrix: { rows: number; cols: number; data: Int8Array }, ranges: { min: Float64Array; max: Float64Array }): { dag: ExprDag; cost: { additions: number; cycles: number } } {
  const b = new DagBuilder(ranges, matrix.cols);
  const outNode = new Int32Array(matrix.rows).fill(-1);
  const outSign = new Int8Array(matrix.rows);
  let additions = 0, cycles = 0;
  for (let r = 0; r < matrix.rows; r++) {
    let cur = -1, s1 = 0;
    for (let j = 0; j < matrix.cols; j++) {
      const w = matrix.data[r * matrix.cols + j]!;
      if (w === 0) continue;
      if (cur < 0) {
        cur = j;
        s1 = w;
        continue;
      }
      cur = b.push(w * s1 > 0 ? DAG_ADD : DAG_SUB, cur, j);
      additions++;
      cycles += b.width(cur);
    }
    outNode[r] = cur;
    outSign[r] = cur < 0 ? 0 : s1;
  }
  return { dag: b.finish(outNode, outSign), cost: { additions, cycles } };
}

/** Canonical signed digits of a positive integer: m = sum sign * 2^shift (non-adjacent form). */
export function csd(m: number): { shift: number; sign: number }[] {
  const out: { shift: number; sign: number }[] = [];
  let x = m;
  let k = 0;
  while (x !== 0) {
    if (x & 1) {
      const d = 2 - (x & 3); // +1 if x % 4 == 1, -1 if x % 4 == 3
      out.push({ shift: k, sign: d });
      x -= d;
    }
    x = Math.floor(x / 2);
    k++;
  }
  return out.reverse();
}

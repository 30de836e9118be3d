/**
 * Macro-ops: typed operations on values, expanded into micro-ops (see docs/ap.md for the pass
 * lists and the cost formulas). Every macro-op runs bit-serially, LSB first, SIMD over all rows,
 * and keeps two invariants between macro-ops so its cost depends only on its own operands:
 *  - scratch flags (carry, sign, marker, threshold flags) are 0 before and after;
 *  - with `returnHome` (the default) every shift group is back at offset 0 afterwards.
 *
 * Semantics: results wrap to the destination width (two's complement); an operand narrower than
 * the destination is sign-extended if signed, zero-extended otherwise; an operand with `shift` s
 * reads as value << s. `dstInit: "zero"` promises the destination cells are 0 beforehand (fresh
 * cells), which saves a clear pass per bit on out-of-place ops.
 */
import { RtapError } from "../errors.js";
import { ctz32 } from "./bits.js";
import type { ApTiming } from "./config.js";
import { zeroEvents, type ApEvents } from "./events.js";
import type { ApGeometry } from "./geometry.js";
import type { Lut } from "./lut.js";
import {
  addCarryLut,
  addConstLut,
  addLut,
  addOutLut,
  clearLut,
  copyLut,
  lessThanLut,
  maxCompareLut,
  maxSelectLut,
  negInPlaceLut,
  negOutLut,
  setBitLut,
  signCaptureLut,
  subBorrowLut,
  subLut,
} from "./luts.js";
import { staticEvents, type MicroOp } from "./microop.js";
import { feasibleOffsets, lowerSteps, lutUse, MicroTally, returnHome, tallyReturnHome, tallySteps, type Step, type StepUse } from "./steps.js";
import { asOperand, toPattern, valueRange, type ApValue, type Operand } from "./value.js";

export type DstInit = "any" | "zero";
export type OperandLike = ApValue | Operand;

/** A row condition added to every compare of an op: the op acts only on rows where each cell holds its bit. */
export interface PredicateBit {
  cell: number;
  bit: 0 | 1;
}

interface MacroBase {
  /**
   * Rows the op acts on: every compare of its passes also requires these cells to hold these bits
   * (e.g. a stored weight bit), so other rows are never tagged and never written. Supported by the
   * in-place add, sub and addConst (LUT passes only).
   */
  predicate?: readonly PredicateBit[];
  /**
   * Cells to use instead of the static flags for this op's scratch bits, in order: the chain flag
   * (carry/borrow/negation/max), the sign of src/a, the sign of b, the marker — or, for
   * threshold, one "v < t" flag per distinct threshold. They must be 0 and are left 0.
   */
  scratch?: readonly number[];
}

/** dst += src (in place). */
export interface AddOp extends MacroBase {
  kind: "add";
  dst: ApValue;
  src: OperandLike;
}
/** dst -= src (in place). */
export interface SubOp extends MacroBase {
  kind: "sub";
  dst: ApValue;
  src: OperandLike;
}
/** dst <- a + b. */
export interface AddOutOp extends MacroBase {
  kind: "addOut";
  dst: ApValue;
  a: OperandLike;
  b: OperandLike;
  dstInit?: DstInit;
}
/** dst <- a - b. */
export interface SubOutOp extends MacroBase {
  kind: "subOut";
  dst: ApValue;
  a: OperandLike;
  b: OperandLike;
  dstInit?: DstInit;
}
/** dst <- -src (in place when dst and src are the same cells). */
export interface NegateOp extends MacroBase {
  kind: "negate";
  dst: ApValue;
  src: OperandLike;
  dstInit?: DstInit;
}
/** dst <- src, extended (sign or zero) or truncated to dst's width. Bits of src that are the same
 *  cells as the matching dst bits are left alone, so copy(wide, lowPartOfWide) extends in place. */
export interface CopyOp extends MacroBase {
  kind: "copy";
  dst: ApValue;
  src: OperandLike;
  dstInit?: DstInit;
}
/** dst += k. */
export interface AddConstOp extends MacroBase {
  kind: "addConst";
  dst: ApValue;
  k: number;
}
/** dst <- k (k = 0 clears). */
export interface SetOp extends MacroBase {
  kind: "set";
  dst: ApValue;
  k: number;
  dstInit?: DstInit;
}
/** dst <- max(dst, src); both signed or both unsigned, src no wider than dst. */
export interface MaxOp extends MacroBase {
  kind: "max";
  dst: ApValue;
  src: ApValue;
}
/** dst <- #{ i : src >= thresholds[i] } (thresholds non-decreasing): requantization. */
export interface ThresholdOp extends MacroBase {
  kind: "threshold";
  dst: ApValue;
  src: ApValue;
  thresholds: readonly number[];
  dstInit?: DstInit;
}

export type MacroOp = AddOp | SubOp | AddOutOp | SubOutOp | NegateOp | CopyOp | AddConstOp | SetOp | MaxOp | ThresholdOp;

/** dst <- (src >= t ? 1 : 0), a 1-bit destination: threshold with one threshold. */
export function geConst(dst: ApValue, src: ApValue, t: number, dstInit: DstInit = "any"): ThresholdOp {
  return { kind: "threshold", dst, src, thresholds: [t], dstInit };
}

/** Thresholds as the expander uses them (see threshold in docs/ap.md). */
export interface ThresholdPlan {
  /** Count of thresholds <= min(src): always met. */
  base: number;
  /** Distinct thresholds in (min(src), max(src)], ascending; each gets a flag "src < u". */
  distinct: number[];
  /** codes[q]: the code of a src in [distinct[q-1], distinct[q]) (q = 0..distinct.length). */
  codes: number[];
}

/** Facts about an expansion that the data-dependent counts need. */
export interface PlanDetail {
  /** Chain flag cell (carry, borrow, F, G), or -1 if the op used none. */
  chain: number;
  /** Sign-capture cell for src/a and b, or -1 when the sign bit was read in place / not needed. */
  signA: number;
  signB: number;
  /** Marker cell (in-place negation), or -1. */
  marker: number;
  /** Threshold flags (one per distinct threshold). */
  ltCells: readonly number[];
  threshold: ThresholdPlan | null;
}

export interface MacroPlan {
  readonly op: MacroOp;
  readonly micro: readonly MicroOp[];
  /** Bit steps (including cleanups and captures), each one position of the shift groups. */
  readonly steps: readonly Step[];
  readonly startOffsets: readonly number[];
  readonly endOffsets: readonly number[];
  readonly detail: PlanDetail;
  /** Every event that does not depend on data, for an array of `rows` rows (default: the geometry's). */
  staticEvents(timing: ApTiming, rows?: number): ApEvents;
  /** Plans expanded with `countOnly` (no micro-ops): whether the tallied micro-ops include a shift. */
  readonly countedShift?: boolean;
  /**
   * Plans expanded with `countOnly`: per shift group, the offset at which a compare or write
   * first uses one of its columns (the start offset if none does). From home on a serial row,
   * that is where the op starts (serialStart).
   */
  readonly firstUseOffsets?: readonly number[];
}

export interface ExpandOptions {
  /** Offsets of the shift groups when the op starts (default: all 0, home). */
  offsets?: ArrayLike<number>;
  /** Shift every group back to 0 at the end (default true). */
  returnHome?: boolean;
  /**
   * Only the static events: the plan's `micro` stays empty (src/ap/steps.ts MicroTally). For the
   * word level, which prices a class of steps once and never replays its micro-ops.
   */
  countOnly?: boolean;
}

type Bit = { zero: true } | { zero: false; cell: number };
const ZERO: Bit = { zero: true };

interface OperandInfo {
  op: Operand;
  /** Cell holding the sign during extension: the MSB itself, or a capture flag. */
  signCell: number;
  captureCell: number;
}

/** Bit i of operand `o` extended to any width (shift, then sign/zero extension). */
function bitOf(o: OperandInfo, i: number): Bit {
  const j = i - o.op.shift;
  if (j < 0) return ZERO;
  if (j < o.op.value.width) return { zero: false, cell: o.op.value.cells[j]! };
  return o.op.value.signed ? { zero: false, cell: o.signCell } : ZERO;
}

/** Which scratch cells an op gets: the static flags in order, or the op's `scratch` list. */
class Scratch {
  constructor(
    private readonly geom: ApGeometry,
    private readonly op: MacroOp,
    private readonly where: string,
  ) {}
  cell(index: number, role: string): number {
    if (this.op.scratch) {
      const c = this.op.scratch[index];
      if (c === undefined)
        throw new RtapError(`needs scratch cell #${index} (${role}) but only ${this.op.scratch.length} were given`, this.where);
      this.geom.checkCell(c, this.where);
      return c;
    }
    if (index >= this.geom.flags)
      throw new RtapError(
        `needs flag ${index} (${role}) but the array has ${this.geom.flags} flag bits; pass scratch cells`,
        this.where,
      );
    return this.geom.flagCell(index);
  }
}

const SLOT_CHAIN = 0;
const SLOT_SIGN_A = 1;
const SLOT_SIGN_B = 2;
const SLOT_MARKER = 3;

/** Whether a row can end the LUT step with column `col` = 1. */
function canSet(lut: Lut, col: number): boolean {
  for (let s = 0; s < lut.post.length; s++) if (lut.occupied[s] && ((lut.post[s]! >>> col) & 1) === 1) return true;
  return false;
}

function writesColumn(lut: Lut, col: number): boolean {
  return lut.passes.some((p) => p.writeCols.includes(col));
}

export function macroWhere(op: MacroOp): string {
  return `macro-op ${op.kind} (dst "${op.dst.name}")`;
}

/** Expands a macro-op into micro-ops for arrays of geometry `geom`. */
export function expandMacro(op: MacroOp, geom: ApGeometry, opts: ExpandOptions = {}): MacroPlan {
  const where = macroWhere(op);
  const offsets = new Int32Array(geom.groups);
  if (opts.offsets) for (let g = 0; g < geom.groups; g++) offsets[g] = opts.offsets[g] ?? 0;
  const startOffsets = [...offsets];
  for (const c of op.dst.cells) geom.checkCell(c, where);
  const scratch = new Scratch(geom, op, where);

  // Build the steps; when an operand's sign bit cannot stay visible during extension, rebuild with
  // a capture of the sign into a flag.
  let capture = { a: false, b: false };
  let built = buildSteps(op, geom, scratch, capture, where);
  const needA = built.signSteps.a.some((i) => feasibleOffsets(geom, cellsOfStep(built.steps[i]!)) === null);
  const needB = built.signSteps.b.some((i) => feasibleOffsets(geom, cellsOfStep(built.steps[i]!)) === null);
  if (needA || needB) {
    capture = { a: needA, b: needB };
    built = buildSteps(op, geom, scratch, capture, where);
  }
  const micro: MicroOp[] = [];
  if (op.predicate && op.predicate.length) {
    if (op.kind !== "add" && op.kind !== "sub" && op.kind !== "addConst") {
      throw new RtapError(`a predicate is supported on add, sub and addConst only`, where);
    }
    for (const p of op.predicate) {
      geom.checkCell(p.cell, where);
      if (op.dst.cells.includes(p.cell)) throw new RtapError(`predicate cell ${geom.describeCell(p.cell)} is a bit of the destination`, where);
    }
  }
  const tally = opts.countOnly ? new MicroTally() : null;
  if (tally) {
    tally.recordFirstUse(offsets);
    tallySteps(geom, built.steps, offsets, tally, where, op.predicate);
    if (opts.returnHome ?? true) tallyReturnHome(offsets, tally);
  } else {
    lowerSteps(geom, built.steps, offsets, micro, where, op.predicate);
    if (opts.returnHome ?? true) returnHome(offsets, micro);
  }
  const endOffsets = [...offsets];
  // Memoized per (timing, rows): a word-level simulator asks for the same plan's events often.
  const memo = new Map<number, ApEvents>();
  let memoTiming: ApTiming | null = null;
  return {
    op,
    micro,
    steps: built.steps,
    startOffsets,
    endOffsets,
    detail: built.detail,
    ...(tally ? { countedShift: tally.hasShift, firstUseOffsets: Array.from(tally.firstUse!) } : {}),
    staticEvents: (timing, rows) => {
      const n = rows ?? geom.rows;
      if (memoTiming !== timing) {
        memo.clear();
        memoTiming = timing;
      }
      let e = memo.get(n);
      if (!e) {
        if (tally) {
          e = zeroEvents();
          tally.addStaticEvents(e, geom, timing, n);
        } else e = staticEvents(micro, geom, timing, n);
        memo.set(n, e);
      }
      return { ...e };
    },
  };
}

/** A string that identifies a macro-op's expansion (kind, cells, widths, signs, shifts, constants). */
export function macroSignature(op: MacroOp): string {
  const v = (x: ApValue): string => `${x.signed ? "s" : "u"}${x.cells.join(",")}`;
  const o = (x: OperandLike): string => {
    const p = asOperand(x);
    return `${v(p.value)}<<${p.shift}`;
  };
  const parts: string[] = [op.kind, v(op.dst), op.scratch ? op.scratch.join(",") : "-", op.predicate ? op.predicate.map((p) => `${p.cell}=${p.bit}`).join(",") : "-"];
  switch (op.kind) {
    case "add":
    case "sub":
      parts.push(o(op.src));
      break;
    case "addOut":
    case "subOut":
      parts.push(o(op.a), o(op.b), op.dstInit ?? "any");
      break;
    case "negate":
    case "copy":
      parts.push(o(op.src), op.dstInit ?? "any");
      break;
    case "addConst":
      parts.push(String(op.k));
      break;
    case "set":
      parts.push(String(op.k), op.dstInit ?? "any");
      break;
    case "max":
      parts.push(v(op.src));
      break;
    case "threshold":
      parts.push(v(op.src), op.thresholds.join(","), op.dstInit ?? "any");
      break;
  }
  return parts.join("|");
}

/**
 * Expansions cached by macroSignature and start offsets, for a word-level simulator that charges
 * the same macro-ops (same placements) many times. Plans are immutable; `clear()` bounds memory.
 */
export class MacroPlanCache {
  private readonly plans = new Map<string, MacroPlan>();
  constructor(readonly geom: ApGeometry) {}

  plan(op: MacroOp, opts: ExpandOptions = {}): MacroPlan {
    const offs = opts.offsets ? Array.from(opts.offsets).join(",") : "";
    const key = `${macroSignature(op)}|${offs}|${opts.returnHome ?? true}|${opts.countOnly ? "count" : "micro"}`;
    let p = this.plans.get(key);
    if (!p) {
      p = expandMacro(op, this.geom, opts);
      this.plans.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.plans.size;
  }

  clear(): void {
    this.plans.clear();
  }
}

function cellsOfStep(s: Step): number[] {
  const out: number[] = [];
  for (const u of s.uses) if (u.kind !== "tag") out.push(...u.cells);
  return out;
}

interface Built {
  steps: Step[];
  detail: PlanDetail;
  /** Steps that read a sign bit in place (candidates for capture). */
  signSteps: { a: number[]; b: number[] };
}

function buildSteps(
  op: MacroOp,
  geom: ApGeometry,
  scratch: Scratch,
  capture: { a: boolean; b: boolean },
  where: string,
): Built {
  const steps: Step[] = [];
  const signSteps = { a: [] as number[], b: [] as number[] };
  const detail: PlanDetail = { chain: -1, signA: -1, signB: -1, marker: -1, ltCells: [], threshold: null };
  const dst = op.dst;
  const wd = dst.width;
  const D = (i: number): number => dst.cells[i]!;
  const push = (label: string, uses: StepUse[]): void => {
    if (uses.length === 0) return;
    if (uses.every((u) => u.kind === "lut" && u.lut.passes.length === 0)) return;
    steps.push({ label, uses });
  };
  const pushLut = (label: string, lut: Lut, cells: number[]): void => push(label, [lutUse(lut, cells)]);

  const operand = (x: OperandLike, which: "a" | "b"): OperandInfo => {
    const o = asOperand(x);
    for (const c of o.value.cells) geom.checkCell(c, where);
    const cap = which === "a" ? capture.a : capture.b;
    const msb = o.value.cells[o.value.width - 1]!;
    const info: OperandInfo = { op: o, signCell: msb, captureCell: -1 };
    if (cap) {
      info.captureCell = scratch.cell(which === "a" ? SLOT_SIGN_A : SLOT_SIGN_B, `sign of ${o.value.name}`);
      info.signCell = info.captureCell;
      if (which === "a") detail.signA = info.captureCell;
      else detail.signB = info.captureCell;
    }
    return info;
  };
  /** Bit i of an operand; records sign reads and pushes the sign capture before the MSB is consumed. */
  const read = (o: OperandInfo, which: "a" | "b", i: number): Bit => {
    const j = i - o.op.shift;
    if (j === o.op.value.width - 1 && o.captureCell >= 0 && o.op.shift + o.op.value.width < wd)
      pushLut(`capture sign of ${o.op.value.name}`, signCaptureLut(), [o.op.value.cells[j]!, o.captureCell]);
    const b = bitOf(o, i);
    if (!b.zero && j >= o.op.value.width && o.captureCell < 0) (which === "a" ? signSteps.a : signSteps.b).push(steps.length);
    return b;
  };
  const cleanup = (cell: number, what: string): void => pushLut(`cleanup ${what}`, clearLut(), [cell]);
  const cleanupSigns = (a?: OperandInfo, b?: OperandInfo): void => {
    if (a && a.captureCell >= 0 && a.op.value.signed && a.op.shift + a.op.value.width < wd) cleanup(a.captureCell, "sign");
    if (b && b.captureCell >= 0 && b.op.value.signed && b.op.shift + b.op.value.width < wd) cleanup(b.captureCell, "sign");
  };
  const noOverlap = (v: ApValue, role: string): void => {
    const s = new Set(dst.cells);
    if (v.cells.some((c) => s.has(c)))
      throw new RtapError(`${role} "${v.name}" shares cells with the destination; this op is not in place`, where);
  };
  const noScratchClash = (cells: readonly number[], values: ApValue[]): void => {
    for (const v of values)
      for (const c of cells)
        if (c >= 0 && v.cells.includes(c))
          throw new RtapError(`value "${v.name}" occupies scratch cell ${geom.describeCell(c)} that the op needs`, where);
  };

  switch (op.kind) {
    case "add":
    case "sub": {
      const src = operand(op.src, "a");
      noOverlap(src.op.value, "source");
      const chain = scratch.cell(SLOT_CHAIN, op.kind === "add" ? "carry" : "borrow");
      detail.chain = chain;
      noScratchClash([chain, src.captureCell], [dst, src.op.value]);
      let chainZero = true;
      for (let i = src.op.shift; i < wd; i++) {
        const b = read(src, "a", i);
        let lut: Lut;
        if (b.zero) {
          if (chainZero) continue;
          lut = op.kind === "add" ? addCarryLut() : subBorrowLut();
          pushLut(`bit ${i}`, lut, [D(i), chain]);
          continue;
        }
        lut = op.kind === "add" ? addLut(chainZero) : subLut(chainZero);
        pushLut(`bit ${i}`, lut, [b.cell, D(i), chain]);
        chainZero = chainZero && !canSet(lut, 2);
      }
      if (!chainZero) cleanup(chain, op.kind === "add" ? "carry" : "borrow");
      cleanupSigns(src);
      break;
    }
    case "addOut":
    case "subOut": {
      const kind = op.kind === "addOut" ? "add" : "sub";
      const a = operand(op.a, "a");
      const b = operand(op.b, "b");
      noOverlap(a.op.value, "operand a");
      noOverlap(b.op.value, "operand b");
      const chain = scratch.cell(SLOT_CHAIN, kind === "add" ? "carry" : "borrow");
      detail.chain = chain;
      noScratchClash([chain, a.captureCell, b.captureCell], [dst, a.op.value, b.op.value]);
      let chainZero = true;
      for (let i = 0; i < wd; i++) {
        const uses: StepUse[] = [];
        if ((op.dstInit ?? "any") === "any") push(`clear bit ${i}`, [lutUse(clearLut(), [D(i)])]);
        const ba = read(a, "a", i);
        const bb = read(b, "b", i);
        if (ba.zero && bb.zero && chainZero) continue;
        const lut = addOutLut(kind, chainZero, ba.zero, bb.zero);
        const cells = [...(ba.zero ? [] : [ba.cell]), ...(bb.zero ? [] : [bb.cell]), chain, D(i)];
        uses.push(lutUse(lut, cells));
        push(`bit ${i}`, uses);
        chainZero = chainZero && !canSet(lut, lut.columns.length - 2);
      }
      if (!chainZero) cleanup(chain, kind === "add" ? "carry" : "borrow");
      cleanupSigns(a, b);
      break;
    }
    case "negate": {
      const src = operand(op.src, "a");
      const sameCells =
        src.op.shift === 0 &&
        src.op.value.width === wd &&
        src.op.value.cells.every((c, i) => c === dst.cells[i]);
      const chain = scratch.cell(SLOT_CHAIN, "negation flag");
      detail.chain = chain;
      if (sameCells) {
        const marker = scratch.cell(SLOT_MARKER, "marker");
        detail.marker = marker;
        noScratchClash([chain, marker], [dst]);
        let fZero = true;
        for (let i = 0; i < wd; i++) {
          const lut = negInPlaceLut(fZero);
          pushLut(`bit ${i}`, lut, [D(i), chain, marker]);
          if (writesColumn(lut, 2)) cleanup(marker, "marker");
          fZero = fZero && !canSet(lut, 1);
        }
        if (!fZero) cleanup(chain, "negation flag");
        break;
      }
      noOverlap(src.op.value, "source");
      noScratchClash([chain, src.captureCell], [dst, src.op.value]);
      let fZero = true;
      for (let i = 0; i < wd; i++) {
        if ((op.dstInit ?? "any") === "any") push(`clear bit ${i}`, [lutUse(clearLut(), [D(i)])]);
        const b = read(src, "a", i);
        if (b.zero) {
          if (fZero) continue;
          pushLut(`bit ${i}`, negOutLut(false, true), [chain, D(i)]);
          continue;
        }
        const lut = negOutLut(fZero, false);
        pushLut(`bit ${i}`, lut, [b.cell, chain, D(i)]);
        fZero = fZero && !canSet(lut, 1);
      }
      if (!fZero) cleanup(chain, "negation flag");
      cleanupSigns(src);
      break;
    }
    case "copy": {
      const src = operand(op.src, "a");
      const dstIndex = new Map(dst.cells.map((c, i) => [c, i]));
      // Only exact aliasing (bit i of src is bit i of dst) may overlap: anything else would read a
      // bit after it was overwritten.
      for (let i = 0; i < wd; i++) {
        const j = i - src.op.shift;
        if (j < 0 || j >= src.op.value.width) continue;
        const at = dstIndex.get(src.op.value.cells[j]!);
        if (at !== undefined && at !== i)
          throw new RtapError(`source "${src.op.value.name}" bit ${j} is destination bit ${at}, not bit ${i}`, where);
      }
      const extends_ = src.op.value.signed && src.op.shift + src.op.value.width < wd;
      if (extends_) {
        const at = dstIndex.get(src.op.value.cells[src.op.value.width - 1]!);
        if (at !== undefined && at !== src.op.shift + src.op.value.width - 1)
          throw new RtapError(`the sign bit of "${src.op.value.name}" is overwritten before it is read`, where);
      }
      noScratchClash([src.captureCell], [dst, src.op.value]);
      const zero = op.dstInit === "zero";
      for (let i = 0; i < wd; i++) {
        const b = read(src, "a", i);
        if (!b.zero && b.cell === D(i)) continue;
        if (b.zero) {
          if (!zero) pushLut(`bit ${i}`, setBitLut(0), [D(i)]);
          continue;
        }
        pushLut(`bit ${i}`, copyLut(zero), [b.cell, D(i)]);
      }
      cleanupSigns(src);
      break;
    }
    case "addConst": {
      checkConstant(op.k, where);
      const k = toPattern(op.k, wd);
      if (k === 0) break;
      const chain = scratch.cell(SLOT_CHAIN, "carry");
      detail.chain = chain;
      noScratchClash([chain], [dst]);
      let chainZero = true;
      for (let i = ctz32(k); i < wd; i++) {
        const lut = addConstLut(((k >>> i) & 1) as 0 | 1, chainZero);
        pushLut(`bit ${i}`, lut, [D(i), chain]);
        chainZero = chainZero && !canSet(lut, 1);
      }
      if (!chainZero) cleanup(chain, "carry");
      break;
    }
    case "set": {
      checkConstant(op.k, where);
      const k = toPattern(op.k, wd);
      const zero = op.dstInit === "zero";
      for (let i = 0; i < wd; i++) {
        const bit = ((k >>> i) & 1) as 0 | 1;
        if (zero && bit === 0) continue;
        pushLut(`bit ${i}`, setBitLut(bit, zero), [D(i)]);
      }
      break;
    }
    case "max": {
      if (op.src.signed !== dst.signed)
        throw new RtapError(`source "${op.src.name}" and destination must be both signed or both unsigned`, where);
      if (op.src.width > wd)
        throw new RtapError(`source "${op.src.name}" (${op.src.width} bits) is wider than the destination (${wd})`, where);
      const src = operand(op.src, "a");
      noOverlap(src.op.value, "source");
      const g = scratch.cell(SLOT_CHAIN, "comparison flag");
      detail.chain = g;
      noScratchClash([g, src.captureCell], [dst, src.op.value]);
      let gZero = true;
      for (let i = 0; i < wd; i++) {
        const b = read(src, "a", i);
        const lut = maxCompareLut(gZero, dst.signed && i === wd - 1, b.zero);
        pushLut(`compare bit ${i}`, lut, b.zero ? [D(i), g] : [b.cell, D(i), g]);
        gZero = gZero && !canSet(lut, lut.columns.length - 1);
      }
      if (!gZero) {
        for (let i = wd - 1; i >= 0; i--) {
          const b = bitOf(src, i);
          pushLut(`select bit ${i}`, maxSelectLut(b.zero), b.zero ? [g, D(i)] : [g, b.cell, D(i)]);
        }
        cleanup(g, "comparison flag");
      }
      cleanupSigns(src);
      break;
    }
    case "threshold":
      buildThreshold(op, geom, scratch, steps, detail, where);
      break;
  }
  return { steps, detail, signSteps };
}

function checkConstant(k: number, where: string): void {
  if (!Number.isInteger(k) || Math.abs(k) > 2 ** 31) throw new RtapError(`constant must be an integer within +/-2^31 (got ${k})`, where);
}

/** Normalizes requantization thresholds against the range of src (see ThresholdPlan). */
export function planThresholds(src: { width: number; signed: boolean }, thresholds: readonly number[], where = "threshold"): ThresholdPlan {
  const [lo, hi] = valueRange(src);
  let base = 0;
  const distinct: number[] = [];
  const mult: number[] = [];
  for (let j = 0; j < thresholds.length; j++) {
    const t = thresholds[j]!;
    if (!Number.isInteger(t)) throw new RtapError(`threshold ${j} is not an integer (${t})`, where);
    if (j > 0 && t < thresholds[j - 1]!)
      throw new RtapError(`thresholds must be non-decreasing (threshold ${j} = ${t} < ${thresholds[j - 1]})`, where);
    if (t <= lo) base++;
    else if (t <= hi) {
      if (distinct.length > 0 && distinct[distinct.length - 1] === t) mult[mult.length - 1]!++;
      else {
        distinct.push(t);
        mult.push(1);
      }
    }
  }
  const codes = [base];
  for (const m of mult) codes.push(codes[codes.length - 1]! + m);
  return { base, distinct, codes };
}

function buildThreshold(
  op: ThresholdOp,
  geom: ApGeometry,
  scratch: Scratch,
  steps: Step[],
  detail: PlanDetail,
  where: string,
): void {
  const v = op.src;
  const dst = op.dst;
  for (const c of v.cells) geom.checkCell(c, where);
  if (v.cells.some((c) => dst.cells.includes(c)))
    throw new RtapError(`source "${v.name}" shares cells with the destination`, where);
  const plan = planThresholds(v, op.thresholds, where);
  detail.threshold = plan;
  const maxCode = plan.codes[plan.codes.length - 1]!;
  const [, dstMax] = valueRange(dst);
  if (maxCode > dstMax)
    throw new RtapError(`code ${maxCode} does not fit the ${dst.width}-bit destination (max ${dstMax})`, where);
  const n = plan.distinct.length;
  const lt: number[] = [];
  for (let q = 0; q < n; q++) lt.push(scratch.cell(q, `flag "src < ${plan.distinct[q]}"`));
  detail.ltCells = lt;
  for (const c of lt)
    if (v.cells.includes(c) || dst.cells.includes(c))
      throw new RtapError(`scratch cell ${geom.describeCell(c)} is also a bit of a value of the op`, where);
  const m = v.width;
  const [vmin] = valueRange(v);
  const tOff = plan.distinct.map((u) => u - vmin); // thresholds in offset binary, 1..2^m-1
  // Sweep: one "src < t" flag per distinct threshold, all updated at each bit of src.
  for (let i = 0; i < m; i++) {
    const invert = v.signed && i === m - 1 ? 1 : 0; // offset binary: the sign bit reads inverted
    const uses: StepUse[] = [];
    for (let q = 0; q < n; q++) {
      const t = tOff[q]!;
      const lut = lessThanLut(((t >>> i) & 1) as 0 | 1, i <= ctz32(t));
      if (lut.passes.length > 0) uses.push(lutUse(lut, [v.cells[i]!, lt[q]!], invert));
    }
    if (uses.length > 0) steps.push({ label: `compare bit ${i}`, uses });
  }
  // Encode: code bit b is 1 on maximal runs of intervals [q1, q2]: flag q1 = 0 and flag q2+1 = 1.
  const k = dst.width;
  for (let b = 0; b < k; b++) {
    if ((op.dstInit ?? "any") === "any") steps.push({ label: `clear bit ${b}`, uses: [lutUse(clearLut(), [dst.cells[b]!])] });
    const uses: StepUse[] = [];
    let runs = 0;
    for (let q = 0; q <= n; q++) {
      if (((plan.codes[q]! >>> b) & 1) === 0 || (q > 0 && ((plan.codes[q - 1]! >>> b) & 1) === 1)) continue;
      let q2 = q;
      while (q2 + 1 <= n && ((plan.codes[q2 + 1]! >>> b) & 1) === 1) q2++;
      const cells: number[] = [];
      const bits: number[] = [];
      if (q >= 1) {
        cells.push(lt[q - 1]!);
        bits.push(0);
      }
      if (q2 + 1 <= n) {
        cells.push(lt[q2]!);
        bits.push(1);
      }
      if (cells.length === 0) uses.push({ kind: "tag", fn: "set" });
      else uses.push({ kind: "compare", cells, bits, combine: runs === 0 ? "set" : "or" });
      runs++;
    }
    if (runs > 0) {
      uses.push({ kind: "write", cells: [dst.cells[b]!], bits: [1] });
      steps.push({ label: `code bit ${b}`, uses });
    }
  }
  for (let q = 0; q < n; q++) steps.push({ label: `cleanup flag ${q}`, uses: [lutUse(clearLut(), [lt[q]!])] });
}

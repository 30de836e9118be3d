/**
 * Public entry point of CSE: picks the best construction plan for a layer's ternary matrix by
 * measured bit-serial cost (not by additions), under an optional memory bound, and reports the
 * cost before and after. See docs/cse.md for the algorithm, its complexity and the cost rules.
 */
import { RtapError } from "../../errors.js";
import { analyzeLiveness, dagCost, naiveCost, type AdditionCost } from "./cost.js";
import { bitWidth, copyDag, idSchedule, type ExprDag } from "./dag.js";
import { buildGrouped, canonicalRows, groupTerms, MAX_PATTERN_SLOTS, patternSlots, type CsePlan, type GroupedBuild, type GroupTerms, type RowSet } from "./grouped.js";
import { countNonZeros, validateColumnRanges, validateTernaryMatrix, type ColumnRanges, type TernaryMatrix } from "./matrix.js";
import { MAX_GROUP_SIZE } from "./patterns.js";

export interface CseOptions {
  /** Columns per pattern group, or "auto" (default): try 1..maxGroupSize, keep the cheapest. */
  groupSize?: number | "auto";
  /** Largest group size "auto" tries (default 8, at most 10). */
  maxGroupSize?: number;
  /**
   * Bound on internal values (partial sums) live at once under the returned schedule. Met by
   * smaller row blocks (less sharing) and column chunks (a running accumulator per row); the
   * search keeps the cheapest plan that meets it. At least 2.
   */
  maxLiveTemporaries?: number;
  /** Bound on the bits those live values occupy (sum of their widths), e.g. a row's free bits. */
  maxLiveBits?: number;
  /** Measure every group size instead of the local search from the predicted one (slower). */
  exhaustiveSearch?: boolean;
  /** Names the layer in error messages, e.g. `layer "layer4.0.conv2"`. */
  where?: string;
}

/** One plan the search measured. */
export interface CseCandidate extends CsePlan {
  chunks: number;
  rowBlocks: number;
  additions: number;
  cycles: number;
  peakLiveValues: number;
  peakLiveBits: number;
  /** Meets the memory bounds (always true without bounds). */
  feasible: boolean;
}

export interface CseStats {
  rows: number;
  cols: number;
  nonZeros: number;
  /** All-zero weight rows (output constant 0). */
  zeroRows: number;
  /** Rows equal to an earlier row or to its negation (they reuse its value). */
  duplicateRows: number;
  /** Every row a running sum of its terms in column order (see naiveCost). */
  naive: AdditionCost;
  /** The DAG: one addition per internal node, costing its width. */
  compiled: AdditionCost;
  /** Part of `compiled` spent building shared patterns (partial sums inside a column group). */
  sharing: AdditionCost;
  /** Part of `compiled` spent in per-row reduction trees and accumulations. */
  reduction: AdditionCost;
  /** naive / compiled. */
  ratioAdditions: number;
  ratioCycles: number;
  /** The chosen plan. */
  plan: CsePlan;
  chunks: number;
  rowBlocks: number;
  /** Under the returned schedule (analyzeLiveness). */
  peakLiveValues: number;
  peakLiveBits: number;
  /** Sum of the widths of the distinct non-constant output values. */
  outputBits: number;
  /** Every plan measured, in search order. */
  candidates: CseCandidate[];
}

export interface CseResult {
  dag: ExprDag;
  /** Evaluation order of the internal nodes (the DAG's id order: nodes are created in it). */
  schedule: Int32Array;
  stats: CseStats;
}

const DEFAULT_MAX_GROUP_SIZE = 8;

/**
 * Common-subexpression elimination on one layer: W (O x J ternary) and the exact range of every
 * input column -> an expression DAG computing W·x exactly, a low-memory schedule and cost stats.
 * Deterministic: the same matrix and options give the same DAG.
 */
export function eliminateCommonSubexpressions(matrix: TernaryMatrix, ranges: ColumnRanges, options: CseOptions = {}): CseResult {
  const where = options.where ?? "CSE";
  validateTernaryMatrix(matrix, where);
  validateColumnRanges(ranges, matrix.cols, where);
  const groupSizes = chooseGroupSizes(matrix.cols, options, where);
  const maxValues = boundOption(options.maxLiveTemporaries, "maxLiveTemporaries", 2, where);
  const maxBits = boundOption(options.maxLiveBits, "maxLiveBits", 1, where);
  const bounded = Number.isFinite(maxValues) || Number.isFinite(maxBits);

  const rowSet = canonicalRows(matrix.rows, matrix.cols, matrix.data);
  const candidates: CseCandidate[] = [];
  let best: { build: GroupedBuild; candidate: CseCandidate } | undefined;
  // the group terms of each group size tried (the bounded search builds several plans per size)
  const termsBySize = new Map<number, GroupTerms>();
  const consider = (plan: CsePlan): CseCandidate => {
    let terms = termsBySize.get(plan.groupSize);
    if (!terms) termsBySize.set(plan.groupSize, (terms = groupTerms(rowSet, ranges, plan.groupSize)));
    // measured in reused storage: only the best plan's DAG is copied out (most plans lose)
    const build = buildGrouped(rowSet, ranges, plan, terms, true);
    const cost = dagCost(build.dag);
    const live = analyzeLiveness(build.dag); // (the identity order: nodes are created in it)
    const candidate: CseCandidate = {
      ...plan,
      chunks: build.chunks,
      rowBlocks: build.rowBlocks,
      ...cost,
      ...live,
      feasible: live.peakLiveValues <= maxValues && live.peakLiveBits <= maxBits,
    };
    candidates.push(candidate);
    if (candidate.feasible && (!best || better(candidate, best.candidate))) best = { build: { ...build, dag: copyDag(build.dag) }, candidate };
    return candidate;
  };

  const limits: SearchLimits = { maxValues, maxBits, ...widthEstimates(matrix, ranges, rowSet) };
  const unboundedCost = memo((g: number): number => {
    const c = consider({ groupSize: g, rowBlockSize: rowSet.count, chunkPatternBudget: Infinity });
    return c.feasible ? c.cycles : Infinity;
  });
  const boundedCost = memo((g: number): number => bestFeasibleForGroupSize(g, rowSet, limits, consider));
  const start = clampTo(groupSizes, predictedGroupSize(rowSet.count));
  // Under a bound, the unrestricted plan is still the best when it fits: try it first (unless a
  // cheap lower bound on its peak already exceeds the bound).
  let search = unboundedCost;
  if (bounded) {
    const floor = unrestrictedPeakLowerBound(start, rowSet, ranges);
    const mayFit = floor.values <= maxValues && floor.bits <= maxBits;
    if (!mayFit || !Number.isFinite(unboundedCost(start))) search = boundedCost;
  }
  if (options.exhaustiveSearch) for (const g of groupSizes) search(g);
  else if (search === unboundedCost) hillClimb(groupSizes, start, search);
  else hillClimb(groupSizes, predictedGroupSize(blockRowsFor(start, rowSet, limits)), search);
  if (bounded && !best) {
    // The leanest program there is: one row at a time, a running accumulator, one column at a time.
    const c = consider({ groupSize: 1, rowBlockSize: 1, chunkPatternBudget: 0 });
    if (!c.feasible) {
      throw new RtapError(
        `no CSE schedule fits the memory bound (maxLiveTemporaries ${fmt(maxValues)}, maxLiveBits ${fmt(maxBits)}); ` +
          `the leanest schedule needs ${c.peakLiveValues} values / ${c.peakLiveBits} bits`,
        where,
      );
    }
  }
  if (!best) throw new Error("CSE search produced no plan"); // unreachable: unbounded plans are always feasible
  const { build, candidate } = best;
  const naive = naiveCost(matrix, ranges);
  const compiled: AdditionCost = { additions: candidate.additions, cycles: candidate.cycles };
  const stats: CseStats = {
    rows: matrix.rows,
    cols: matrix.cols,
    nonZeros: countNonZeros(matrix),
    zeroRows: countZeroRows(rowSet),
    duplicateRows: matrix.rows - countZeroRows(rowSet) - rowSet.count,
    naive,
    compiled,
    sharing: build.sharing,
    reduction: build.reduction,
    ratioAdditions: ratio(naive.additions, compiled.additions),
    ratioCycles: ratio(naive.cycles, compiled.cycles),
    plan: { groupSize: candidate.groupSize, rowBlockSize: candidate.rowBlockSize, chunkPatternBudget: candidate.chunkPatternBudget },
    chunks: build.chunks,
    rowBlocks: build.rowBlocks,
    peakLiveValues: candidate.peakLiveValues,
    peakLiveBits: candidate.peakLiveBits,
    outputBits: outputBits(build.dag),
    candidates,
  };
  return { dag: build.dag, schedule: idSchedule(build.dag), stats };
}

interface SearchLimits {
  maxValues: number;
  maxBits: number;
  /** Width of the widest output (a running accumulator's worst case). */
  accumulatorBits: number;
  /** Width of a full pattern of one column (per-column estimate, scaled by g in use). */
  columnBits: number;
}

/**
 * Local search over group sizes: start at `start`, step towards the cheaper neighbour while the
 * cost falls. Cost is unimodal in g in every layer measured (docs/cse.md), so this finds the
 * exhaustive optimum with about three builds instead of eight.
 */
function hillClimb(sizes: number[], start: number, cost: (g: number) => number): void {
  if (sizes.length === 0) return;
  let i = sizes.findIndex((g) => g >= start);
  if (i < 0) i = sizes.length - 1;
  const at = (k: number): number => (k < 0 || k >= sizes.length ? Infinity : cost(sizes[k]!));
  let here = at(i);
  const step = at(i + 1) < here ? 1 : at(i - 1) < here ? -1 : 0;
  if (step === 0 && !Number.isFinite(here)) {
    // nothing feasible around the start: walk down to smaller groups (fewer live patterns)
    for (let k = i - 1; k >= 0 && !Number.isFinite(here); k--) here = at(k);
    return;
  }
  while (step !== 0 && at(i + step) < here) {
    i += step;
    here = at(i);
  }
}

/** Start of the group-size search: about log3 of the rows sharing patterns (measured optimum). */
function predictedGroupSize(rows: number): number {
  return Math.max(1, Math.round(Math.log(Math.max(rows, 1)) / Math.log(3) - 0.3));
}

/** Rows per block the bound can hold with about half of it left for patterns (an estimate). */
function blockRowsFor(g: number, rowSet: RowSet, limits: SearchLimits): number {
  const slackValues = 4 + Math.ceil(Math.log2(Math.ceil(rowSet.cols / g) + 1));
  return Math.max(
    1,
    Math.min(
      rowSet.count,
      Math.floor((limits.maxValues - slackValues) / 2),
      Math.floor((limits.maxBits - slackValues * limits.accumulatorBits) / (2 * limits.accumulatorBits)),
    ),
  );
}

/**
 * Cheapest feasible plan for one group size under memory bounds. Row block: blockRowsFor (larger
 * blocks share more; halving it never won in measurements). Chunk budget: what the bound leaves
 * after the block's accumulators, halved while the measured peak exceeds the bound; then, since
 * the peak is about (block rows x accumulator width) + slope x budget, a budget aimed at 95% of the
 * bound uses the room the conservative estimate left (halfway if that overshoots). Returns the best
 * feasible cycles (Infinity if none).
 */
function bestFeasibleForGroupSize(g: number, rowSet: RowSet, limits: SearchLimits, consider: (plan: CsePlan) => CseCandidate): number {
  const groups = Math.ceil(rowSet.cols / g);
  const slackValues = 4 + Math.ceil(Math.log2(groups + 1));
  const patternBits = limits.columnBits + Math.ceil(Math.log2(g)) + 1;
  const rows = blockRowsFor(g, rowSet, limits);
  const byValues = limits.maxValues - rows - slackValues;
  const byBits = (limits.maxBits - (rows + slackValues) * limits.accumulatorBits) / patternBits;
  let budget = Math.max(1, Math.floor(Math.min(byValues, byBits, groups * 3 ** g)));
  let first: CseCandidate | undefined;
  for (let tries = 0; tries < 5 && !first; tries++) {
    const c = consider({ groupSize: g, rowBlockSize: rows, chunkPatternBudget: budget });
    if (c.feasible) first = c;
    else if (budget === 1) break;
    else budget = Math.max(1, Math.floor(budget / 2));
  }
  if (!first) return Infinity;
  let best = first.cycles;
  if (first.chunks <= first.rowBlocks) return best; // one chunk per block already: nothing to grow
  // Peak ~ accumulators + slope * budget: fit the slope on the first plan, aim at 95% of the bound.
  const aim = (bound: number, fixed: number, peak: number): number => {
    const slope = (peak - fixed) / budget;
    return Number.isFinite(bound) && slope > 0 ? (0.95 * bound - fixed) / slope : Infinity;
  };
  const target = Math.floor(
    Math.min(
      aim(limits.maxValues, rows, first.peakLiveValues),
      aim(limits.maxBits, rows * limits.accumulatorBits, first.peakLiveBits),
      groups * 3 ** g,
    ),
  );
  for (const next of [target, Math.floor((budget + target) / 2)]) {
    if (!(next > budget)) break;
    const c = consider({ groupSize: g, rowBlockSize: rows, chunkPatternBudget: next });
    if (c.feasible) {
      best = Math.min(best, c.cycles);
      break;
    }
  }
  return best;
}

/**
 * A lower bound on the peak of the unrestricted plan (one block, one chunk) with group size g:
 * the first row creates all its patterns, and those a later row also needs stay live after it.
 * Lets the bounded search skip building that plan when it cannot fit.
 */
function unrestrictedPeakLowerBound(g: number, rowSet: RowSet, ranges: ColumnRanges): { values: number; bits: number } {
  const { canonical, cols, count } = rowSet;
  let values = 0;
  let bits = 0;
  for (let j0 = 0; j0 < cols; j0 += g) {
    const j1 = Math.min(cols, j0 + g);
    let nnz = 0;
    let sign = 0;
    let lo = 0;
    let hi = 0;
    for (let j = j0; j < j1; j++) {
      const w = canonical[j]!;
      if (w === 0) continue;
      nnz++;
      if (sign === 0) sign = w;
      if (w === sign) {
        lo += ranges.min[j]!;
        hi += ranges.max[j]!;
      } else {
        lo -= ranges.max[j]!;
        hi -= ranges.min[j]!;
      }
    }
    if (nnz < 2) continue;
    for (let u = 1; u < count; u++) {
      const base = u * cols;
      let s = 0;
      let same = true;
      for (let j = j0; j < j1 && same; j++) {
        const w = canonical[base + j]!;
        if (s === 0 && w !== 0) s = w * sign;
        same = w === s * canonical[j]! || (s === 0 && canonical[j] === 0);
      }
      if (same && s !== 0) {
        values++;
        bits += bitWidth(lo, hi);
        break;
      }
    }
  }
  return { values, bits };
}

function widthEstimates(matrix: TernaryMatrix, ranges: ColumnRanges, rowSet: RowSet): { accumulatorBits: number; columnBits: number } {
  let columnBits = 1;
  for (let j = 0; j < matrix.cols; j++) columnBits = Math.max(columnBits, bitWidth(-Math.max(Math.abs(ranges.min[j]!), Math.abs(ranges.max[j]!)), Math.max(Math.abs(ranges.min[j]!), Math.abs(ranges.max[j]!))));
  let accumulatorBits = 1;
  const { canonical, cols, count } = rowSet;
  for (let u = 0; u < count; u++) {
    let lo = 0;
    let hi = 0;
    for (let j = 0; j < cols; j++) {
      const w = canonical[u * cols + j]!;
      if (w > 0) {
        lo += ranges.min[j]!;
        hi += ranges.max[j]!;
      } else if (w < 0) {
        lo -= ranges.max[j]!;
        hi -= ranges.min[j]!;
      }
    }
    accumulatorBits = Math.max(accumulatorBits, bitWidth(lo, hi));
  }
  return { accumulatorBits, columnBits };
}

function memo(f: (g: number) => number): (g: number) => number {
  const known = new Map<number, number>();
  return (g) => {
    let v = known.get(g);
    if (v === undefined) {
      v = f(g);
      known.set(g, v);
    }
    return v;
  };
}

/** The member of the ascending list `sizes` nearest above `g` (or its last). */
function clampTo(sizes: number[], g: number): number {
  return sizes.find((s) => s >= g) ?? sizes[sizes.length - 1]!;
}

function better(a: CseCandidate, b: CseCandidate): boolean {
  if (a.cycles !== b.cycles) return a.cycles < b.cycles;
  if (a.additions !== b.additions) return a.additions < b.additions;
  return a.peakLiveBits < b.peakLiveBits;
}

function chooseGroupSizes(cols: number, options: CseOptions, where: string): number[] {
  const fixed = options.groupSize ?? "auto";
  if (fixed !== "auto") {
    if (!Number.isInteger(fixed) || fixed < 1 || fixed > MAX_GROUP_SIZE) {
      throw new RtapError(`groupSize must be "auto" or an integer in 1..${MAX_GROUP_SIZE}, got ${String(fixed)}`, where);
    }
    if (patternSlots(cols, fixed) > MAX_PATTERN_SLOTS) {
      throw new RtapError(`groupSize ${fixed} needs a pattern table of ${patternSlots(cols, fixed)} entries for ${cols} columns; use a smaller group`, where);
    }
    return [fixed];
  }
  const limit = options.maxGroupSize ?? DEFAULT_MAX_GROUP_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GROUP_SIZE) {
    throw new RtapError(`maxGroupSize must be an integer in 1..${MAX_GROUP_SIZE}, got ${limit}`, where);
  }
  const sizes: number[] = [];
  for (let g = 1; g <= Math.min(limit, cols); g++) if (patternSlots(cols, g) <= MAX_PATTERN_SLOTS) sizes.push(g);
  return sizes;
}

function boundOption(value: number | undefined, name: string, least: number, where: string): number {
  if (value === undefined || value === Infinity) return Infinity;
  if (!Number.isInteger(value) || value < least) throw new RtapError(`${name} must be an integer >= ${least}, got ${value}`, where);
  return value;
}

function countZeroRows(rowSet: RowSet): number {
  let n = 0;
  for (const u of rowSet.uniqueOf) if (u < 0) n++;
  return n;
}

function outputBits(dag: ExprDag): number {
  const seen = new Set<number>();
  let bits = 0;
  for (const node of dag.outputNode) {
    if (node < 0 || seen.has(node)) continue;
    seen.add(node);
    bits += dag.width[node]!;
  }
  return bits;
}

function ratio(a: number, b: number): number {
  return b === 0 ? (a === 0 ? 1 : Infinity) : a / b;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(v) : "unbounded";
}

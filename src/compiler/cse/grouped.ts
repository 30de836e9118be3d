/**
 * The CSE construction: column-group pattern sharing ("Four Russians" on ternary patterns) with
 * narrow-first per-row reduction trees, built and scheduled in one pass. See docs/cse.md.
 *
 * Given a plan (group size g, row block size, chunk budget):
 *  - columns are cut into G = ceil(J/g) groups of g consecutive columns; the restriction of a row
 *    to a group is a ternary pattern; its canonical form (first non-zero +1) times a sign;
 *  - a pattern's partial sum is a DAG node shared by every row (of the current row block) that
 *    contains the pattern or its negation. Patterns are built from each other: a new pattern p is
 *    a ± b of two disjoint sub-patterns already built (one addition), found by checking the
 *    "remove one column" splits first, then every split; missing parts are built recursively;
 *  - each row then sums its group terms (plus its running accumulator) with a Huffman-style tree
 *    that always joins the two narrowest values (ties: oldest first, which gives balanced trees),
 *    emitted in post-order with the child needing more registers first (Sethi-Ullman), so a row
 *    holds O(log terms) temporaries;
 *  - nodes are created in evaluation order (patterns lazily, just before their first use), so the
 *    identity order is the schedule;
 *  - row blocks and column chunks bound memory: within a block, groups are processed chunk by chunk
 *    (a chunk closes when the distinct patterns it needs exceed the budget), each row keeps one
 *    running accumulator across chunks, and patterns are rebuilt for each row block (less sharing,
 *    fewer live values).
 */
import { bitWidth, DagBuilder, MAX_WIDTH, OP_ADD, OP_SUB, type ExprDag } from "./dag.js";
import type { AdditionCost } from "./cost.js";
import type { ColumnRanges } from "./matrix.js";
import { patternTable } from "./patterns.js";

/** How one CSE construction is parameterised (chosen by the search in eliminate.ts). */
export interface CsePlan {
  /** Columns per group (1 = no sharing, only narrow-first trees and duplicate rows). */
  groupSize: number;
  /** Unique rows per block; patterns are shared within a block only. */
  rowBlockSize: number;
  /**
   * Most distinct non-zero patterns (single columns included) a column chunk may hold before it
   * is closed; Infinity = one chunk, 0 = one group per chunk (a running sum, group by group).
   */
  chunkPatternBudget: number;
}

/** Distinct non-zero weight rows up to sign; duplicates and negated rows share one DAG value. */
export interface RowSet {
  readonly cols: number;
  /** Unique canonical rows (first non-zero +1), row-major, count x cols. */
  readonly canonical: Int8Array;
  readonly count: number;
  /** Per original row: index of its unique row, or -1 for an all-zero row. */
  readonly uniqueOf: Int32Array;
  /** Per original row: original = sign * canonical (0 for zero rows). */
  readonly signOf: Int8Array;
}

export interface GroupedBuild {
  dag: ExprDag;
  /** Patterns (shared partial sums, including intermediates). */
  sharing: AdditionCost;
  /** Per-row reduction trees and accumulations. */
  reduction: AdditionCost;
  /** Column chunks summed over row blocks. */
  chunks: number;
  rowBlocks: number;
}

/** Largest pattern lookup table (groups x 3^g entries) a plan may allocate. */
export const MAX_PATTERN_SLOTS = 1 << 23;

export function patternSlots(cols: number, g: number): number {
  return Math.ceil(cols / g) * 3 ** g;
}

/** Finds zero, duplicate and negated rows. */
export function canonicalRows(rows: number, cols: number, data: Int8Array): RowSet {
  const uniqueOf = new Int32Array(rows).fill(-1);
  const signOf = new Int8Array(rows);
  const buckets = new Map<number, number[]>();
  const canonical = new Int8Array(rows * cols);
  let count = 0;
  for (let o = 0; o < rows; o++) {
    const base = o * cols;
    let sign = 0;
    for (let j = 0; j < cols && sign === 0; j++) sign = data[base + j]!;
    if (sign === 0) continue;
    let h = 0x811c9dc5;
    for (let j = 0; j < cols; j++) h = Math.imul(h ^ (sign * data[base + j]! + 1), 0x01000193);
    const bucket = buckets.get(h);
    let found = -1;
    if (bucket) {
      for (const u of bucket) {
        const ub = u * cols;
        let same = true;
        for (let j = 0; j < cols && same; j++) same = canonical[ub + j] === sign * data[base + j]!;
        if (same) {
          found = u;
          break;
        }
      }
    }
    if (found < 0) {
      found = count++;
      const ub = found * cols;
      for (let j = 0; j < cols; j++) canonical[ub + j] = sign * data[base + j]!;
      if (bucket) bucket.push(found);
      else buckets.set(h, [found]);
    }
    uniqueOf[o] = found;
    signOf[o] = sign;
  }
  return { cols, canonical: canonical.slice(0, count * cols), count, uniqueOf, signOf };
}

// Item kinds of a row's reduction plan.
const ITEM_EXISTING = 0; // an already computed node (the row's accumulator)
const ITEM_PATTERN = 1; // a group pattern, created lazily when emitted
const ITEM_SUM = 2; // a planned addition of two items

/**
 * Pattern code and value range of every (unique row, group) term for group size g, as the row has
 * it (not canonical). They depend on the rows, the ranges and g only: the plan search builds
 * several plans per group size (chunk budgets) and computes them once (see buildGrouped's `terms`).
 */
export interface GroupTerms {
  groupSize: number;
  codes: Int32Array;
  termLo: Float64Array;
  termHi: Float64Array;
}

export function groupTerms(rowSet: RowSet, ranges: ColumnRanges, g: number): GroupTerms {
  const J = rowSet.cols;
  const U = rowSet.count;
  const G = Math.ceil(J / g);
  const { pow3 } = patternTable(g);
  // (typed arrays as they come: copying them through Float64Array.from was a tenth of a search)
  const colMin = ranges.min instanceof Float64Array ? ranges.min : Float64Array.from(ranges.min);
  const colMax = ranges.max instanceof Float64Array ? ranges.max : Float64Array.from(ranges.max);
  const codes = new Int32Array(U * G);
  const termLo = new Float64Array(U * G);
  const termHi = new Float64Array(U * G);
  for (let u = 0; u < U; u++) {
    const rb = u * J;
    for (let gi = 0; gi < G; gi++) {
      const j0 = gi * g;
      const j1 = Math.min(J, j0 + g);
      let code = 0;
      let lo = 0;
      let hi = 0;
      for (let j = j0; j < j1; j++) {
        const w = rowSet.canonical[rb + j]!;
        if (w > 0) {
          code += pow3[j - j0]!;
          lo += colMin[j]!;
          hi += colMax[j]!;
        } else if (w < 0) {
          code += 2 * pow3[j - j0]!;
          lo -= colMax[j]!;
          hi -= colMin[j]!;
        }
      }
      codes[u * G + gi] = code;
      termLo[u * G + gi] = lo;
      termHi[u * G + gi] = hi;
    }
  }
  return { groupSize: g, codes, termLo, termHi };
}

/** Per-item scratch of buildGrouped's row plans (see there), grown to the largest plan so far. */
interface ItemScratch {
  size: number;
  itemKind: Uint8Array;
  itemNode: Int32Array;
  itemGroup: Int32Array;
  itemCode: Int32Array;
  itemSign: Int8Array;
  itemLo: Float64Array;
  itemHi: Float64Array;
  itemWidth: Uint8Array;
  itemFirst: Int32Array;
  itemSecond: Int32Array;
  itemOp: Uint8Array;
  itemNeed: Int32Array;
  queueNext: Int32Array;
  emitStack: Int32Array;
  emitState: Uint8Array;
}

let pooledItems: ItemScratch | undefined;

function itemScratch(n: number): ItemScratch {
  if (pooledItems && pooledItems.size >= n) return pooledItems;
  const size = Math.max(n, 2 * (pooledItems?.size ?? 0), 1024);
  pooledItems = {
    size,
    itemKind: new Uint8Array(size),
    itemNode: new Int32Array(size),
    itemGroup: new Int32Array(size),
    itemCode: new Int32Array(size),
    itemSign: new Int8Array(size),
    itemLo: new Float64Array(size),
    itemHi: new Float64Array(size),
    itemWidth: new Uint8Array(size),
    itemFirst: new Int32Array(size),
    itemSecond: new Int32Array(size),
    itemOp: new Uint8Array(size),
    itemNeed: new Int32Array(size),
    queueNext: new Int32Array(size),
    emitStack: new Int32Array(size),
    emitState: new Uint8Array(size),
  };
  return pooledItems;
}

/**
 * Storage the plan search reuses from build to build (buildGrouped with `reuse`): the DAG builder
 * and the pattern table. A search measures ~3-8 plans per block and keeps one; the SRAM-AP and
 * serial rows of ResNet-18 run ~8,000 searches (blocks of 1-3 outputs on the SRAM-AP) and
 * allocating a builder and two tables of groups x 3^g entries per plan cost ~10% of their compile.
 */
let pooledBuilder: DagBuilder | undefined;
let pooledPatNode = new Int32Array(0);
let pooledPatStamp = new Int32Array(0);
/** Row-block stamps of the pooled pattern table: entries of earlier blocks (any build) are older. */
let pooledStamp = 0;
const POOLED_DAG_NODES = 1 << 18;
const POOLED_PATTERN_SLOTS = 1 << 20;

/**
 * Builds the DAG of one plan; `terms`: groupTerms of the same rows, ranges and group size, when
 * the caller has them. With `reuse`, the DAG is a view of storage the next `reuse` build
 * overwrites (copyDag keeps it): for measuring plans.
 */
export function buildGrouped(rowSet: RowSet, ranges: ColumnRanges, plan: CsePlan, terms?: GroupTerms, reuse = false): GroupedBuild {
  const J = rowSet.cols;
  const U = rowSet.count;
  const g = plan.groupSize;
  const T = patternTable(g);
  const G = Math.ceil(J / g);
  const P3 = T.count;
  const { canon, sign: codeSign, nnz, firstPos, pow3 } = T;
  if (terms && terms.groupSize !== g) throw new Error(`internal: group terms of size ${terms.groupSize} for a plan of size ${g}`);
  const { codes, termLo, termHi } = terms ?? groupTerms(rowSet, ranges, g);

  // (storage for larger plans is not kept: the pool stays below ~7 MB and ~8 MB)
  const poolDag = reuse && J + U * G + 1024 <= POOLED_DAG_NODES;
  const poolPatterns = reuse && G * P3 <= POOLED_PATTERN_SLOTS;
  let b: DagBuilder;
  if (poolDag && pooledBuilder) (b = pooledBuilder).reset(ranges, J, U * G + 1024);
  else b = new DagBuilder(ranges, J, U * G + 1024);
  if (poolDag) pooledBuilder = b;
  // Pattern node per (group, canonical code), valid when its stamp is the current row block's.
  let patNode: Int32Array, patStamp: Int32Array, stamp: number;
  if (poolPatterns) {
    if (pooledPatStamp.length < G * P3 || pooledStamp > 2 ** 30) {
      pooledPatNode = new Int32Array(Math.min(POOLED_PATTERN_SLOTS, Math.max(G * P3, 2 * pooledPatNode.length)));
      pooledPatStamp = new Int32Array(pooledPatNode.length);
      pooledStamp = 0;
    }
    patNode = pooledPatNode;
    patStamp = pooledPatStamp;
    stamp = pooledStamp;
  } else {
    patNode = new Int32Array(G * P3);
    patStamp = new Int32Array(G * P3);
    stamp = 0;
  }
  let sharingAdds = 0;
  let sharingCycles = 0;

  const costOf = (gi: number, x: number): number => {
    const m = nnz[x]!;
    if (m <= 1) return 0;
    return patStamp[gi * P3 + x] === stamp ? 0 : m - 1;
  };
  const digitPos = new Int32Array(16);
  const digitRaw = new Int32Array(16);

  /** Node of canonical pattern c in group gi, building it (and missing parts) if needed. */
  const ensure = (gi: number, c: number): number => {
    if (nnz[c] === 1) return gi * g + firstPos[c]!;
    const key = gi * P3 + c;
    if (patStamp[key] === stamp) return patNode[key]!;
    // Support of c: positions and their raw digit contributions (digit * 3^pos).
    let m = 0;
    for (let i = 0, rest = c; i < g; i++) {
      const d = rest % 3;
      rest = (rest - d) / 3;
      if (d !== 0) {
        digitPos[m] = i;
        digitRaw[m] = d * pow3[i]!;
        m++;
      }
    }
    // c = a + (rest), a holds the first position (so a is canonical); rest = sb * canon(rest).
    let bestA = -1;
    let bestRest = -1;
    let bestCost = Infinity;
    // Remove-one splits first: c minus one column, plus that column.
    for (let i = m - 1; i >= 1 && bestCost > 0; i--) {
      const a = c - digitRaw[i]!;
      const cost = costOf(gi, a);
      if (cost < bestCost) {
        bestCost = cost;
        bestA = a;
        bestRest = digitRaw[i]!;
      }
    }
    if (bestCost > 0) {
      const a = digitRaw[0]!;
      const cost = costOf(gi, canon[c - a]!);
      if (cost < bestCost) {
        bestCost = cost;
        bestA = a;
        bestRest = c - a;
      }
    }
    // Every other split (rest = any non-empty subset of positions 1..m-1).
    if (bestCost > 0 && m > 2) {
      const full = (1 << (m - 1)) - 1;
      for (let mask = 1; mask <= full && bestCost > 0; mask++) {
        let raw = 0;
        for (let i = 1; i < m; i++) if (mask & (1 << (i - 1))) raw += digitRaw[i]!;
        const a = c - raw;
        const cost = costOf(gi, a) + costOf(gi, canon[raw]!);
        if (cost < bestCost) {
          bestCost = cost;
          bestA = a;
          bestRest = raw;
        }
      }
    }
    const na = ensure(gi, bestA);
    const nb = ensure(gi, canon[bestRest]!);
    const id = b.push(codeSign[bestRest]! > 0 ? OP_ADD : OP_SUB, na, nb);
    patStamp[key] = stamp;
    patNode[key] = id;
    sharingAdds++;
    sharingCycles += b.width(id);
    return id;
  };

  // Scratch for one row's reduction plan (items are terms, then planned sums): every entry is
  // written before it is read, so the arrays of an earlier build serve (allocating ~16 typed
  // arrays per measured plan was ~5% of a search)
  const maxItems = 2 * (G + 2);
  const items = itemScratch(maxItems);
  const { itemKind, itemNode, itemGroup, itemCode, itemSign, itemLo, itemHi, itemWidth, itemFirst, itemSecond, itemOp, itemNeed, queueNext } = items;
  // Narrowest-first queue: one FIFO per width; FIFO order is item order, so ties go oldest first.
  const queueHead = new Int32Array(MAX_WIDTH + 1);
  const queueTail = new Int32Array(MAX_WIDTH + 1);
  let queueMin = 0;
  const enqueue = (item: number): void => {
    const w = itemWidth[item]!;
    queueNext[item] = -1;
    if (queueHead[w] === -1) queueHead[w] = item;
    else queueNext[queueTail[w]!] = item;
    queueTail[w] = item;
    if (w < queueMin) queueMin = w;
  };
  const dequeue = (): number => {
    while (queueHead[queueMin] === -1) queueMin++;
    const item = queueHead[queueMin]!;
    queueHead[queueMin] = queueNext[item]!;
    return item;
  };

  /**
   * Creates the nodes of a planned tree in post-order, the child needing more registers first
   * (iterative: a tree over thousands of terms must not depend on the call stack).
   */
  const { emitStack, emitState } = items;
  const emit = (root: number): number => {
    let sp = 0;
    emitStack[sp++] = root;
    emitState[root] = 0;
    while (sp > 0) {
      const k = emitStack[sp - 1]!;
      const kind = itemKind[k]!;
      if (kind !== ITEM_SUM) {
        if (kind === ITEM_PATTERN) itemNode[k] = ensure(itemGroup[k]!, itemCode[k]!);
        sp--;
        continue;
      }
      const f = itemFirst[k]!;
      const s = itemSecond[k]!;
      const early = itemNeed[s]! > itemNeed[f]! ? s : f;
      const state = emitState[k]!;
      if (state < 2) {
        const child = state === 0 ? early : early === f ? s : f;
        emitState[k] = state + 1;
        emitState[child] = 0;
        emitStack[sp++] = child;
        continue;
      }
      itemNode[k] = b.push(itemOp[k] === OP_ADD ? OP_ADD : OP_SUB, itemNode[f]!, itemNode[s]!);
      sp--;
    }
    return itemNode[root]!;
  };

  const accSign = new Int8Array(U);
  const accNode = new Int32Array(U).fill(-1);
  const seen = new Int32Array(P3);
  let seenStamp = 0;
  let chunks = 0;
  let rowBlocks = 0;
  const blockSize = Math.max(1, Math.min(U, plan.rowBlockSize));

  for (let u0 = 0; u0 < U; u0 += blockSize) {
    const u1 = Math.min(U, u0 + blockSize);
    stamp++;
    rowBlocks++;
    // Column chunks of this block: close a chunk when its distinct patterns exceed the budget.
    const chunkEnds: number[] = [];
    let inChunk = 0;
    for (let gi = 0; gi < G; gi++) {
      let distinct = 0;
      if (Number.isFinite(plan.chunkPatternBudget)) {
        seenStamp++;
        for (let u = u0; u < u1; u++) {
          const c = canon[codes[u * G + gi]!]!;
          if (c !== 0 && seen[c] !== seenStamp) {
            seen[c] = seenStamp;
            distinct++;
          }
        }
      }
      if (inChunk > 0 && inChunk + distinct > plan.chunkPatternBudget) {
        chunkEnds.push(gi);
        inChunk = 0;
      }
      inChunk += distinct;
    }
    chunkEnds.push(G);
    chunks += chunkEnds.length;

    let g0 = 0;
    for (const g1 of chunkEnds) {
      for (let u = u0; u < u1; u++) {
        let n = 0;
        if (accSign[u] !== 0) {
          const node = accNode[u]!;
          itemKind[n] = ITEM_EXISTING;
          itemNode[n] = node;
          itemSign[n] = accSign[u]!;
          itemLo[n] = b.min(node);
          itemHi[n] = b.max(node);
          itemWidth[n] = b.width(node);
          itemNeed[n] = 0;
          n++;
        }
        const cb = u * G;
        for (let gi = g0; gi < g1; gi++) {
          const code = codes[cb + gi]!;
          if (code === 0) continue;
          const c = canon[code]!;
          const sign = codeSign[code]!;
          // the node holds the canonical pattern: range of sign * (row's term)
          const lo = sign > 0 ? termLo[cb + gi]! : -termHi[cb + gi]!;
          const hi = sign > 0 ? termHi[cb + gi]! : -termLo[cb + gi]!;
          itemKind[n] = ITEM_PATTERN;
          itemGroup[n] = gi;
          itemCode[n] = c;
          itemSign[n] = sign;
          itemLo[n] = lo;
          itemHi[n] = hi;
          itemWidth[n] = bitWidth(lo, hi);
          itemNeed[n] = nnz[c]! >= 2 && patStamp[gi * P3 + c] !== stamp ? 1 : 0;
          n++;
        }
        if (n === 0) continue;
        let root = 0;
        if (n > 1) {
          queueHead.fill(-1);
          queueMin = MAX_WIDTH;
          const terms = n;
          for (let i = 0; i < terms; i++) enqueue(i);
          for (let left = terms; left > 1; left--) {
            const i = dequeue();
            const j = dequeue();
            const k = n++;
            planSum(k, i, j);
            enqueue(k);
          }
          root = n - 1;
        }
        accNode[u] = emit(root);
        accSign[u] = itemSign[root]!;
      }
      g0 = g1;
    }
  }

  /** Plans item k = item i + item j (signed values), choosing the narrower node orientation. */
  function planSum(k: number, i: number, j: number): void {
    itemKind[k] = ITEM_SUM;
    const si = itemSign[i]!;
    const sj = itemSign[j]!;
    if (si === sj) {
      itemOp[k] = OP_ADD;
      itemFirst[k] = i;
      itemSecond[k] = j;
      itemSign[k] = si;
      itemLo[k] = itemLo[i]! + itemLo[j]!;
      itemHi[k] = itemHi[i]! + itemHi[j]!;
    } else {
      // node = i - j carries sign si; node = j - i carries sign sj.
      const loA = itemLo[i]! - itemHi[j]!;
      const hiA = itemHi[i]! - itemLo[j]!;
      const loB = itemLo[j]! - itemHi[i]!;
      const hiB = itemHi[j]! - itemLo[i]!;
      const wA = bitWidth(loA, hiA);
      const wB = bitWidth(loB, hiB);
      const useA = wA < wB || (wA === wB && si > 0);
      itemOp[k] = OP_SUB;
      itemFirst[k] = useA ? i : j;
      itemSecond[k] = useA ? j : i;
      itemSign[k] = useA ? si : sj;
      itemLo[k] = useA ? loA : loB;
      itemHi[k] = useA ? hiA : hiB;
    }
    itemWidth[k] = bitWidth(itemLo[k]!, itemHi[k]!);
    const ni = itemNeed[i]!;
    const nj = itemNeed[j]!;
    itemNeed[k] = ni === nj ? ni + 1 : Math.max(ni, nj);
  }

  const outputNode = new Int32Array(rowSet.uniqueOf.length).fill(-1);
  const outputSign = new Int8Array(rowSet.uniqueOf.length);
  for (let o = 0; o < outputNode.length; o++) {
    const u = rowSet.uniqueOf[o]!;
    if (u < 0) continue;
    outputNode[o] = accNode[u]!;
    outputSign[o] = rowSet.signOf[o]! * accSign[u]!;
  }
  if (poolPatterns) pooledStamp = stamp;
  const dag = reuse ? b.view(outputNode, outputSign) : b.finish(outputNode, outputSign);
  let totalCycles = 0;
  for (let id = J; id < dag.nodeCount; id++) totalCycles += dag.width[id]!;
  const totalAdds = dag.nodeCount - J;
  return {
    dag,
    sharing: { additions: sharingAdds, cycles: sharingCycles },
    reduction: { additions: totalAdds - sharingAdds, cycles: totalCycles - sharingCycles },
    chunks,
    rowBlocks,
  };
}

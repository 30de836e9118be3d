/**
 * The ternary expression DAG: the IR that CSE produces and the compiler schedules.
 *
 * Node ids 0..inputCount-1 are the leaves x_j (input column j). Every later id is an internal node
 * `lhs + rhs` or `lhs - rhs` of two earlier ids, so ids are a topological order by construction
 * (the verifier checks it). There are no negation, copy or constant nodes: a sign that cannot be
 * absorbed into an add/sub is carried outwards to the output (`outputSign`), where the compiler
 * folds it into requantization (compare against negated thresholds) instead of spending cycles.
 *
 * Output row o is `outputSign[o] * node(outputNode[o])`; sign 0 with node -1 is the constant 0
 * (an all-zero weight row); a row with one non-zero weight points at a leaf.
 *
 * Every node carries its exact value range [min, max] (from the leaf ranges and the signs, no
 * overestimation beyond interval arithmetic, which is exact for sums of independent columns) and
 * its width in bits (`bitsFor`: unsigned when min >= 0, else two's complement): a bit-serial add
 * producing that node costs `width` bit-steps.
 */
import { bitsFor } from "../../quantize/qgraph.js";
import type { ColumnRanges } from "./matrix.js";

/** Widest value a DAG may hold (ranges are validated to fit 32-bit two's complement). */
export const MAX_WIDTH = 32;

/**
 * bitsFor (src/quantize/qgraph.ts) for integers within 32-bit range, without the logarithm: the
 * CSE hot loops call it per planned sum. Tests check both agree.
 */
export function bitWidth(min: number, max: number): number {
  if (min >= 0) return max <= 0 ? 1 : 32 - Math.clz32(max);
  const mag = Math.max(-min - 1, max);
  return (mag <= 0 ? 0 : 32 - Math.clz32(mag)) + 1;
}

export const OP_INPUT = 0;
export const OP_ADD = 1;
export const OP_SUB = 2;

export interface ExprDag {
  /** Number of leaves; leaf j is input column x_j. */
  readonly inputCount: number;
  /** Leaves + internal nodes. */
  readonly nodeCount: number;
  /** Per node: OP_INPUT (leaves), OP_ADD or OP_SUB. */
  readonly op: Uint8Array;
  /** Per node: operand ids (both < the node's id); -1 for leaves. */
  readonly lhs: Int32Array;
  readonly rhs: Int32Array;
  /** Per node: exact value range. */
  readonly min: Float64Array;
  readonly max: Float64Array;
  /** Per node: bitsFor(min, max). */
  readonly width: Uint8Array;
  /** Per output row: node id, or -1 for the constant 0. */
  readonly outputNode: Int32Array;
  /** Per output row: +1, -1 (output = -node), or 0 (constant 0). */
  readonly outputSign: Int8Array;
}

/**
 * Identity schedule: internal nodes in id order (always valid, ids are topological). `into`: an
 * array of exactly nodeCount - inputCount entries to fill (the lowering's reused scratch).
 */
export function idSchedule(dag: ExprDag, into?: Int32Array): Int32Array {
  const s = into ?? new Int32Array(dag.nodeCount - dag.inputCount);
  if (s.length !== dag.nodeCount - dag.inputCount) throw new Error(`internal: idSchedule into ${s.length} entries for ${dag.nodeCount - dag.inputCount} nodes`);
  for (let i = 0; i < s.length; i++) s[i] = dag.inputCount + i;
  return s;
}

/** Appends nodes to growable typed arrays; computes ranges and widths as it goes. */
export class DagBuilder {
  /** Leaves of the DAG being built (reset may change it). */
  inputCount: number;
  private count: number;
  private op: Uint8Array;
  private lhs: Int32Array;
  private rhs: Int32Array;
  private lo: Float64Array;
  private hi: Float64Array;
  private w: Uint8Array;

  constructor(ranges: ColumnRanges, cols: number, capacityHint = 1024) {
    this.inputCount = cols;
    const cap = Math.max(cols + capacityHint, 16);
    this.op = new Uint8Array(cap);
    this.lhs = new Int32Array(cap);
    this.rhs = new Int32Array(cap);
    this.lo = new Float64Array(cap);
    this.hi = new Float64Array(cap);
    this.w = new Uint8Array(cap);
    this.count = 0;
    this.setInputs(ranges, cols);
  }

  /**
   * Starts a new DAG over `cols` leaves in this builder's storage (growing it if needed): what
   * the CSE search does for every plan it measures, instead of allocating a builder per plan.
   * Views (`view`) of the previous DAG become invalid.
   */
  reset(ranges: ColumnRanges, cols: number, capacityHint = 1024): void {
    this.inputCount = cols;
    const cap = Math.max(cols + capacityHint, 16);
    if (this.op.length < cap) {
      this.op = new Uint8Array(cap);
      this.lhs = new Int32Array(cap);
      this.rhs = new Int32Array(cap);
      this.lo = new Float64Array(cap);
      this.hi = new Float64Array(cap);
      this.w = new Uint8Array(cap);
    }
    this.setInputs(ranges, cols);
  }

  private setInputs(ranges: ColumnRanges, cols: number): void {
    for (let j = 0; j < cols; j++) {
      this.op[j] = OP_INPUT;
      this.lhs[j] = -1;
      this.rhs[j] = -1;
      this.lo[j] = ranges.min[j]!;
      this.hi[j] = ranges.max[j]!;
      this.w[j] = bitWidth(this.lo[j]!, this.hi[j]!);
    }
    this.count = cols;
  }

  get nodeCount(): number {
    return this.count;
  }
  min(id: number): number {
    return this.lo[id]!;
  }
  max(id: number): number {
    return this.hi[id]!;
  }
  width(id: number): number {
    return this.w[id]!;
  }

  /** New node a + b (op OP_ADD) or a - b (OP_SUB); returns its id. */
  push(op: typeof OP_ADD | typeof OP_SUB, a: number, b: number): number {
    if (this.count === this.op.length) this.grow();
    const id = this.count++;
    this.op[id] = op;
    this.lhs[id] = a;
    this.rhs[id] = b;
    const lo = op === OP_ADD ? this.lo[a]! + this.lo[b]! : this.lo[a]! - this.hi[b]!;
    const hi = op === OP_ADD ? this.hi[a]! + this.hi[b]! : this.hi[a]! - this.lo[b]!;
    this.lo[id] = lo;
    this.hi[id] = hi;
    this.w[id] = bitWidth(lo, hi);
    return id;
  }

  private grow(): void {
    const cap = this.op.length * 2;
    const g = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.op = g(this.op, (n) => new Uint8Array(n));
    this.lhs = g(this.lhs, (n) => new Int32Array(n));
    this.rhs = g(this.rhs, (n) => new Int32Array(n));
    this.lo = g(this.lo, (n) => new Float64Array(n));
    this.hi = g(this.hi, (n) => new Float64Array(n));
    this.w = g(this.w, (n) => new Uint8Array(n));
  }

  /**
   * The DAG so far without copying: its arrays are views of the builder's storage, valid until
   * the builder grows, is reset or pushes again (copyDag keeps one).
   */
  view(outputNode: Int32Array, outputSign: Int8Array): ExprDag {
    const n = this.count;
    return {
      inputCount: this.inputCount,
      nodeCount: n,
      op: this.op.subarray(0, n),
      lhs: this.lhs.subarray(0, n),
      rhs: this.rhs.subarray(0, n),
      min: this.lo.subarray(0, n),
      max: this.hi.subarray(0, n),
      width: this.w.subarray(0, n),
      outputNode,
      outputSign,
    };
  }

  /** Freezes the DAG (arrays of its own, trimmed to size). */
  finish(outputNode: Int32Array, outputSign: Int8Array): ExprDag {
    return copyDag(this.view(outputNode, outputSign));
  }

}

/** A DAG with arrays of its own (of a view, see DagBuilder.view). */
export function copyDag(dag: ExprDag): ExprDag {
  return {
    inputCount: dag.inputCount,
    nodeCount: dag.nodeCount,
    op: dag.op.slice(),
    lhs: dag.lhs.slice(),
    rhs: dag.rhs.slice(),
    min: dag.min.slice(),
    max: dag.max.slice(),
    width: dag.width.slice(),
    outputNode: dag.outputNode,
    outputSign: dag.outputSign,
  };
}

/**
 * Evaluates every output on P positions at once: `inputs[j]` holds x_j at each position (all the
 * same length P); returns one Int32Array of P values per output row. Nodes are computed in
 * `schedule` order (default: id order) and a node's buffer is recycled after its last use, so
 * memory follows the schedule's live values, not the DAG size.
 */
export function evaluateDag(dag: ExprDag, inputs: readonly Int32Array[], schedule: Int32Array = idSchedule(dag)): Int32Array[] {
  if (inputs.length !== dag.inputCount) {
    throw new Error(`evaluateDag: ${inputs.length} input columns, the DAG has ${dag.inputCount}`);
  }
  const positions = inputs.length > 0 ? inputs[0]!.length : 0;
  for (const col of inputs) if (col.length !== positions) throw new Error("evaluateDag: input columns differ in length");
  const lastUse = lastUseSteps(dag, schedule);
  const values: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(dag.nodeCount);
  for (let j = 0; j < dag.inputCount; j++) values[j] = inputs[j];
  const pool: Int32Array[] = [];
  const { op, lhs, rhs } = dag;
  for (let step = 0; step < schedule.length; step++) {
    const id = schedule[step]!;
    const a = values[lhs[id]!];
    const b = values[rhs[id]!];
    if (!a || !b) throw new Error(`evaluateDag: node ${id} scheduled before its operands`);
    const out = pool.pop() ?? new Int32Array(positions);
    if (op[id] === OP_ADD) for (let p = 0; p < positions; p++) out[p] = (a[p]! + b[p]!) | 0;
    else for (let p = 0; p < positions; p++) out[p] = (a[p]! - b[p]!) | 0;
    values[id] = out;
    for (const operand of lhs[id] === rhs[id] ? [lhs[id]!] : [lhs[id]!, rhs[id]!]) {
      if (operand >= dag.inputCount && lastUse[operand] === step) {
        pool.push(values[operand]!);
        values[operand] = undefined;
      }
    }
  }
  const result: Int32Array[] = [];
  for (let o = 0; o < dag.outputNode.length; o++) {
    const out = new Int32Array(positions);
    const sign = dag.outputSign[o]!;
    if (sign !== 0) {
      const v = values[dag.outputNode[o]!];
      if (!v) throw new Error(`evaluateDag: output ${o} node ${dag.outputNode[o]} was never computed`);
      for (let p = 0; p < positions; p++) out[p] = sign * v[p]!;
    }
    result.push(out);
  }
  return result;
}

/**
 * Step (index into schedule) at which each node is last read, -1 if never; output nodes count as
 * read at the end (schedule.length) so the evaluator keeps them.
 */
function lastUseSteps(dag: ExprDag, schedule: Int32Array): Int32Array {
  const last = new Int32Array(dag.nodeCount).fill(-1);
  for (let step = 0; step < schedule.length; step++) {
    const id = schedule[step]!;
    last[dag.lhs[id]!] = step;
    last[dag.rhs[id]!] = step;
  }
  for (let o = 0; o < dag.outputNode.length; o++) if (dag.outputNode[o]! >= 0) last[dag.outputNode[o]!] = schedule.length;
  return last;
}

/**
 * Structural check of a DAG (and optionally a schedule). Returns the problems found, empty when
 * valid: operands are earlier nodes (acyclic), leaves are plain inputs, every range and width is
 * exactly what the operands imply, outputs are well formed, every internal node feeds some output
 * (no dead work), and the schedule lists every internal node once, after its operands.
 */
export function verifyDag(dag: ExprDag, schedule?: Int32Array, maxProblems = 20): string[] {
  const problems: string[] = [];
  const report = (msg: string): boolean => {
    problems.push(msg);
    return problems.length >= maxProblems;
  };
  const n = dag.nodeCount;
  for (const [name, arr] of Object.entries({ op: dag.op, lhs: dag.lhs, rhs: dag.rhs, min: dag.min, max: dag.max, width: dag.width })) {
    if (arr.length !== n) return [`array ${name} has ${arr.length} entries, expected nodeCount ${n}`];
  }
  if (dag.outputNode.length !== dag.outputSign.length) return ["outputNode and outputSign differ in length"];
  for (let id = 0; id < n; id++) {
    if (id < dag.inputCount) {
      if (dag.op[id] !== OP_INPUT || dag.lhs[id] !== -1 || dag.rhs[id] !== -1) {
        if (report(`leaf ${id} is not a plain input`)) return problems;
      }
      if (dag.width[id] !== bitsFor(dag.min[id]!, dag.max[id]!) || dag.min[id]! > dag.max[id]!) {
        if (report(`leaf ${id} has an inconsistent range/width`)) return problems;
      }
      continue;
    }
    const a = dag.lhs[id]!;
    const b = dag.rhs[id]!;
    const o = dag.op[id]!;
    if (o !== OP_ADD && o !== OP_SUB) {
      if (report(`node ${id} has op ${o}; internal nodes are add or sub`)) return problems;
      continue;
    }
    if (a < 0 || b < 0 || a >= id || b >= id) {
      if (report(`node ${id} reads ${a}, ${b}: operands must be earlier nodes (cycle or forward reference)`)) return problems;
      continue;
    }
    const lo = o === OP_ADD ? dag.min[a]! + dag.min[b]! : dag.min[a]! - dag.max[b]!;
    const hi = o === OP_ADD ? dag.max[a]! + dag.max[b]! : dag.max[a]! - dag.min[b]!;
    if (lo !== dag.min[id] || hi !== dag.max[id]) {
      if (report(`node ${id} range [${dag.min[id]}, ${dag.max[id]}] but its operands give [${lo}, ${hi}]`)) return problems;
    }
    if (dag.width[id] !== bitsFor(lo, hi)) {
      if (report(`node ${id} width ${dag.width[id]} but [${lo}, ${hi}] needs ${bitsFor(lo, hi)} bits`)) return problems;
    }
    if (Math.max(-lo, hi) > 0x7fffffff) {
      if (report(`node ${id} range [${lo}, ${hi}] exceeds 32 bits`)) return problems;
    }
  }
  const used = new Uint8Array(n);
  for (let o = 0; o < dag.outputNode.length; o++) {
    const node = dag.outputNode[o]!;
    const sign = dag.outputSign[o]!;
    if (sign === 0 ? node !== -1 : (sign !== 1 && sign !== -1) || node < 0 || node >= n) {
      if (report(`output ${o} is (sign ${sign}, node ${node}); expected sign 0 with node -1, or sign +-1 with a valid node`)) return problems;
      continue;
    }
    if (node >= 0) used[node] = 1;
  }
  for (let id = n - 1; id >= dag.inputCount; id--) {
    if (!used[id]) {
      if (report(`node ${id} feeds no output (dead node)`)) return problems;
      continue;
    }
    used[dag.lhs[id]!] = 1;
    used[dag.rhs[id]!] = 1;
  }
  if (schedule) {
    const internal = n - dag.inputCount;
    if (schedule.length !== internal) {
      report(`schedule has ${schedule.length} steps, the DAG has ${internal} internal nodes`);
      return problems;
    }
    const done = new Uint8Array(n);
    done.fill(1, 0, dag.inputCount);
    for (let step = 0; step < schedule.length; step++) {
      const id = schedule[step]!;
      if (id < dag.inputCount || id >= n || done[id]) {
        if (report(`schedule step ${step} is node ${id}: not an internal node, or listed twice`)) return problems;
        continue;
      }
      if (!done[dag.lhs[id]!] || !done[dag.rhs[id]!]) {
        if (report(`schedule step ${step} computes node ${id} before its operands`)) return problems;
      }
      done[id] = 1;
    }
  }
  return problems;
}

/**
 * LUT generator: turns the truth table of one bit step of an AP operation into an ordered list of
 * compare/write passes.
 *
 * Model. A bit step looks at n columns (n <= 5): e.g. for in-place add the operand bit A, the
 * accumulator bit B and the carry C. A row starting the step in state s (bit j = column j) must end
 * with every column at its target (0/1), except "free" columns, whose final value does not matter
 * (scratch). A pass is a compare with a ternary key (a cube of states) followed by a write of
 * constant bits to some columns of the tagged rows.
 *
 * Rules the generated order obeys (checked again by `verifyLut` on every state):
 *  1. A row written by one pass never matches a later pass of the same step (so every row is
 *     written at most once per step, and the order is correct by construction).
 *  2. Writes are exact: a pass writes a column only if it changes it in every row it tags, so
 *     the cells a row writes equal the bits that flip in it (the event model relies on this:
 *     `writeCells` can be computed from values without simulating).
 *  3. A pass never tags a row that is already correct, unless it only flips that row's free columns.
 *
 * Search: breadth-first over "which starting states are done and where did their rows go", so the
 * pass count is minimal under these rules; ties are broken by fewer written cells (summed over
 * starting states), then fewer key bits (search energy). Truth tables whose rule-1 dependencies
 * are cyclic (e.g. in-place negation, where 01 -> 11 and 11 -> 01) have no order; they need a
 * free marker column, which the search then uses.
 */
import { popcount32 } from "./bits.js";

export type TargetBit = 0 | 1 | null;

export interface LutSpec {
  /** Unique name (the cache key). */
  name: string;
  columns: readonly string[];
  /**
   * Target of every column for a row that starts the step in state `bits` (bits[j] = column j):
   * 0 or 1, or null when the final value is free. Read-only columns return their own bit.
   */
  target: (bits: readonly number[]) => readonly TargetBit[];
  /** States rows can be in when the step starts (default: all), e.g. "the carry is 0 at bit 0". */
  initial?: (bits: readonly number[]) => boolean;
}

export interface LutPass {
  /** Columns in the compare key and their bits (columns not listed are masked out). */
  readonly keyCols: readonly number[];
  readonly keyBits: readonly number[];
  /** Columns written in tagged rows and the bits written. */
  readonly writeCols: readonly number[];
  readonly writeBits: readonly number[];
}

export interface Lut {
  readonly name: string;
  readonly columns: readonly string[];
  readonly passes: readonly LutPass[];
  /** Per state: can a row start the step in it. */
  readonly occupied: readonly boolean[];
  /** Per state: the state a row starting there ends in (-1 if the state cannot occur). */
  readonly post: Int16Array;
  /** Per state: index of the pass that writes it, -1 if none. */
  readonly passOf: Int8Array;
  /** Per state: cells written in a row starting there. */
  readonly cells: Uint8Array;
}

export const MAX_LUT_COLUMNS = 5;

interface Node {
  pending: number;
  arrived: number;
  cells: number;
  keyBits: number;
  parent: string | null;
  pass: LutPass | null;
}

function bitsOf(s: number, n: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < n; j++) out.push((s >>> j) & 1);
  return out;
}

/** Generates (and verifies) the pass list of a truth table. Throws if no order exists. */
export function generateLut(spec: LutSpec): Lut {
  const n = spec.columns.length;
  if (n < 1 || n > MAX_LUT_COLUMNS) throw new Error(`LUT ${spec.name}: 1..${MAX_LUT_COLUMNS} columns supported (got ${n})`);
  const N = 1 << n;
  const targets: (readonly TargetBit[])[] = [];
  let occupiedMask = 0;
  let dirtyMask = 0;
  const need = new Int32Array(N); // columns that must flip
  const free = new Int32Array(N); // columns whose final value is free
  for (let s = 0; s < N; s++) {
    const b = bitsOf(s, n);
    const t = spec.target(b);
    if (t.length !== n) throw new Error(`LUT ${spec.name}: target must give ${n} bits`);
    targets.push(t);
    if (spec.initial && !spec.initial(b)) continue;
    occupiedMask = (occupiedMask | (1 << s)) >>> 0;
    for (let j = 0; j < n; j++) {
      if (t[j] === null) free[s] = free[s]! | (1 << j);
      else if (t[j] !== b[j]) need[s] = need[s]! | (1 << j);
    }
    if (need[s] !== 0) dirtyMask = (dirtyMask | (1 << s)) >>> 0;
  }

  // Every cube (care mask, care values) with the states it covers.
  const cubes: { cm: number; cv: number; covered: number; keyBits: number }[] = [];
  for (let cm = 0; cm < N; cm++) {
    for (let cv = 0; cv < N; cv++) {
      if ((cv & ~cm) !== 0) continue;
      let covered = 0;
      for (let s = 0; s < N; s++) if ((s & cm) === cv) covered = (covered | (1 << s)) >>> 0;
      cubes.push({ cm, cv, covered, keyBits: popcount32(cm) });
    }
  }

  const key = (p: number, a: number): string => `${p}:${a}`;
  const seen = new Set<string>();
  let level = new Map<string, Node>();
  const all = new Map<string, Node>();
  const start: Node = { pending: occupiedMask, arrived: 0, cells: 0, keyBits: 0, parent: null, pass: null };
  level.set(key(start.pending, start.arrived), start);
  seen.add(key(start.pending, start.arrived));
  all.set(key(start.pending, start.arrived), start);
  let goal: Node | null = (occupiedMask & dirtyMask) === 0 ? start : null;

  for (let depth = 0; goal === null; depth++) {
    if (level.size === 0 || depth > 16)
      throw new Error(
        `LUT ${spec.name}: no pass order exists in which written rows never match a later pass ` +
          `(the truth table is cyclic; add a free marker column)`,
      );
    const next = new Map<string, Node>();
    for (const [nodeKey, node] of level) {
      for (const cube of cubes) {
        if ((cube.covered & node.arrived) !== 0) continue;
        const P = (cube.covered & node.pending) >>> 0;
        if ((P & dirtyMask) === 0) continue;
        // Columns that must be written, and the common starting bits of the covered rows.
        let req = 0;
        let ok = true;
        let first = -1;
        for (let s = 0; s < N; s++) {
          if (((P >>> s) & 1) === 0) continue;
          req |= need[s]!;
          if (first < 0) first = s;
        }
        const optionalCandidates: number[] = [];
        for (let s = 0; s < N && ok; s++) {
          if (((P >>> s) & 1) === 0) continue;
          // Written columns must flip in every covered row: same starting bit, and allowed to change.
          if (((s ^ first) & req) !== 0) ok = false;
          if ((req & ~(need[s]! | free[s]!)) !== 0) ok = false;
        }
        if (!ok) continue;
        for (let j = 0; j < n; j++) {
          const bit = 1 << j;
          if ((req & bit) !== 0) continue;
          let cand = true;
          for (let s = 0; s < N && cand; s++) {
            if (((P >>> s) & 1) === 0) continue;
            if ((free[s]! & bit) === 0 || ((s ^ first) & bit) !== 0) cand = false;
          }
          if (cand) optionalCandidates.push(bit);
        }
        const nOpt = optionalCandidates.length;
        for (let o = 0; o < 1 << nOpt; o++) {
          let U = req;
          for (let k = 0; k < nOpt; k++) if ((o >>> k) & 1) U |= optionalCandidates[k]!;
          if (U === 0) continue;
          let posts = 0;
          for (let s = 0; s < N; s++) if ((P >>> s) & 1) posts = (posts | (1 << (s ^ U))) >>> 0;
          const pending = (node.pending & ~P) >>> 0;
          const arrived = (node.arrived | posts) >>> 0;
          if ((arrived & pending & dirtyMask) !== 0) continue; // those rows could never be finished
          const k2 = key(pending, arrived);
          if (seen.has(k2)) continue;
          const cells = node.cells + popcount32(P) * popcount32(U);
          const keyBits = node.keyBits + cube.keyBits;
          const prev = next.get(k2);
          if (prev && (prev.cells < cells || (prev.cells === cells && prev.keyBits <= keyBits))) continue;
          const keyCols: number[] = [];
          const keyBitsArr: number[] = [];
          const writeCols: number[] = [];
          const writeBits: number[] = [];
          for (let j = 0; j < n; j++) {
            if ((cube.cm >>> j) & 1) {
              keyCols.push(j);
              keyBitsArr.push((cube.cv >>> j) & 1);
            }
            if ((U >>> j) & 1) {
              writeCols.push(j);
              writeBits.push(((first >>> j) & 1) ^ 1);
            }
          }
          next.set(k2, {
            pending,
            arrived,
            cells,
            keyBits,
            parent: nodeKey,
            pass: { keyCols, keyBits: keyBitsArr, writeCols, writeBits },
          });
        }
      }
    }
    for (const [k2, node] of next) {
      seen.add(k2);
      all.set(k2, node);
      if ((node.pending & dirtyMask) === 0) {
        if (goal === null || node.cells < goal.cells || (node.cells === goal.cells && node.keyBits < goal.keyBits))
          goal = node;
      }
    }
    level = next;
  }

  const passes: LutPass[] = [];
  for (let nd: Node | undefined = goal; nd && nd.pass; nd = nd.parent === null ? undefined : all.get(nd.parent))
    passes.unshift(nd.pass);
  const lut = tabulate(spec, passes, occupiedMask);
  verifyLut(lut, spec);
  return lut;
}

/** Runs every starting state through the passes (the same thing the hardware does). */
function tabulate(spec: LutSpec, passes: readonly LutPass[], occupiedMask: number): Lut {
  const n = spec.columns.length;
  const N = 1 << n;
  const post = new Int16Array(N).fill(-1);
  const passOf = new Int8Array(N).fill(-1);
  const cells = new Uint8Array(N);
  const occupied: boolean[] = [];
  for (let s = 0; s < N; s++) {
    occupied.push(((occupiedMask >>> s) & 1) === 1);
    if (!occupied[s]) continue;
    let x = s;
    passes.forEach((p, i) => {
      if (p.keyCols.every((c, k) => ((x >>> c) & 1) === p.keyBits[k])) {
        if (passOf[s] === -1) passOf[s] = i;
        p.writeCols.forEach((c, k) => {
          if (((x >>> c) & 1) !== p.writeBits[k]) cells[s] = cells[s]! + 1;
          x = (x & ~(1 << c)) | (p.writeBits[k]! << c);
        });
      }
    });
    post[s] = x;
  }
  return { name: spec.name, columns: [...spec.columns], passes, occupied, post, passOf, cells };
}

/**
 * Checks a LUT against its truth table on every starting state: final values meet the targets,
 * each row is tagged by at most one pass, and every write flips the bits it writes. Throws on a
 * violation (a generator bug).
 */
export function verifyLut(lut: Lut, spec: LutSpec): void {
  const n = spec.columns.length;
  for (let s = 0; s < 1 << n; s++) {
    if (!lut.occupied[s]) continue;
    let x = s;
    let tagged = 0;
    for (const p of lut.passes) {
      if (!p.keyCols.every((c, k) => ((x >>> c) & 1) === p.keyBits[k])) continue;
      tagged++;
      p.writeCols.forEach((c, k) => {
        if (((x >>> c) & 1) === p.writeBits[k]) throw new Error(`LUT ${lut.name}: state ${s} rewrites a bit it already holds`);
        x ^= 1 << c;
      });
    }
    if (tagged > 1) throw new Error(`LUT ${lut.name}: state ${s} is tagged by ${tagged} passes`);
    const t = spec.target(bitsOf(s, n));
    for (let j = 0; j < n; j++) {
      if (t[j] !== null && ((x >>> j) & 1) !== t[j])
        throw new Error(`LUT ${lut.name}: state ${s} ends with column ${spec.columns[j]} = ${(x >>> j) & 1}, want ${t[j]}`);
    }
  }
}

const cache = new Map<string, Lut>();

/** generateLut with a cache keyed by the spec name. */
export function lutFor(spec: LutSpec): Lut {
  let lut = cache.get(spec.name);
  if (!lut) {
    lut = generateLut(spec);
    cache.set(spec.name, lut);
  }
  return lut;
}

/** Sum of key bits over the passes (search size per row per step). */
export function lutKeyBits(lut: Lut): number {
  return lut.passes.reduce((s, p) => s + p.keyCols.length, 0);
}

/** A LUT as a markdown table: one line per pass, key and write as `col=bit` lists. */
export function formatLut(lut: Lut): string {
  const lines = [`| pass | compare key | write |`, `|---|---|---|`];
  lut.passes.forEach((p, i) => {
    const key = p.keyCols.map((c, k) => `${lut.columns[c]}=${p.keyBits[k]}`).join(", ") || "(all rows)";
    const wr = p.writeCols.map((c, k) => `${lut.columns[c]}=${p.writeBits[k]}`).join(", ");
    lines.push(`| ${i + 1} | ${key} | ${wr} |`);
  });
  return lines.join("\n");
}

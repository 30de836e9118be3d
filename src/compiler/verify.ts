/**
 * The verifier between passes. `compileNetwork({ verify: true })` (the tests always set it) checks
 * the result of each pass before the next one consumes it:
 *
 *   weight folding / interchange / unroll / CSE -> `checkReduction`: the reduction DAG of every
 *       block is structurally sound (`verifyDag`: operands earlier, exact ranges and widths, no dead
 *       nodes, schedule topological) and computes exactly the block's ternary matrix times its
 *       inputs, checked by evaluating it on the column ranges' corners and on random vectors
 *       inside them (a wrong coefficient shows on almost every random vector);
 *   bit-width inference / allocation / lowering -> `verifyProgram` (src/compiler/pipeline.ts):
 *       every value defined before use and freed once, widths hold the exact ranges, live values
 *       never share cells, cells stay in the row;
 *   layout -> `checkMapping`: every output position has one row of its own inside the chip, and the
 *       per-array row counts match the placement.
 *
 * Each check returns the problems found (empty when valid); the pipeline turns them into one
 * RtapError naming the unit and the pass.
 */
import { evaluateDag, verifyDag, type ExprDag } from "./cse/dag.js";
import type { ApArch } from "../ap/config.js";
import type { UnitMapping } from "./mapping.js";

/** Random vectors checked per block beyond the two corners (minimum and maximum of every column). */
const RANDOM_VECTORS = 3;

/** Deterministic PRNG (mulberry32) so a verifier failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Checks that `dag` (with `schedule`) is sound and computes `matrix` x over inputs within `ranges`.
 * Cost: a few evaluations of the DAG and of the matrix, linear in their sizes.
 */
export function checkReduction(
  dag: ExprDag, schedule: Int32Array,
  matrix: { rows: number; cols: number; data: Int8Array },
  ranges: { min: Float64Array; max: Float64Array },
): string[] {
  const problems = verifyDag(dag, schedule, 5);
  if (problems.length) return problems;
  if (dag.inputCount !== matrix.cols) return [`the DAG reads ${dag.inputCount} columns, the matrix has ${matrix.cols}`];
  if (dag.outputNode.length !== matrix.rows) return [`the DAG has ${dag.outputNode.length} outputs, the matrix ${matrix.rows} rows`];
  const { rows, cols, data } = matrix;
  const V = 2 + RANDOM_VECTORS;
  // inputs[j][v]: column j in test vector v
  const inputs: Int32Array[] = [];
  const rand = rng(rows * 7919 + cols);
  for (let j = 0; j < cols; j++) {
    const lo = ranges.min[j]!, hi = ranges.max[j]!;
    const col = new Int32Array(V);
    col[0] = lo;
    col[1] = hi;
    for (let v = 2; v < V; v++) col[v] = lo + Math.floor(rand() * (hi - lo + 1));
    inputs.push(col);
  }
  const got = evaluateDag(dag, inputs, schedule);
  for (let o = 0; o < rows && problems.length < 5; o++) {
    for (let v = 0; v < V; v++) {
      let want = 0;
      for (let j = 0; j < cols; j++) {
        const w = data[o * cols + j]!;
        if (w !== 0) want += w * inputs[j]![v]!;
      }
      if (got[o]![v] !== want) {
        problems.push(`output row ${o} computes ${got[o]![v]} on test vector ${v}, the weights give ${want}`);
        break;
      }
    }
  }
  return problems;
}

/** Checks a positions mapping: one row per output position, inside the chip, counts consistent. */
export function checkMapping(m: UnitMapping, arch: ApArch): string[] {
  const problems: string[] = [];
  const A = arch.arraysPerTile;
  const perPass = Math.ceil(m.positions / m.passes);
  if (m.positions !== m.shape[1] * m.shape[2]) problems.push(`${m.positions} positions for an output of ${m.shape[1]}x${m.shape[2]}`);
  if (m.tiles > arch.tiles) problems.push(`${m.tiles} tiles used, the chip has ${arch.tiles}`);
  const taken = new Set<number>();
  const counted = new Int32Array(m.rowsInArray.length);
  for (let p = 0; p < m.positions && problems.length < 5; p++) {
    const { tile, array, row } = m.place(p);
    const g = tile * A + array;
    if (array < 0 || array >= A || tile < 0 || tile >= arch.tiles || row < 0 || row >= m.rowsPerArray || g >= m.arrays) {
      problems.push(`position ${p} placed at tile ${tile}, array ${array}, row ${row}: outside the ${m.arrays} array(s) of ${m.rowsPerArray} rows`);
      continue;
    }
    const key = (Math.floor(p / perPass) * m.arrays + g) * m.rowsPerArray + row;
    if (taken.has(key)) problems.push(`position ${p} shares tile ${tile}, array ${array}, row ${row} with another position of its pass`);
    taken.add(key);
    if (p < perPass) counted[g]!++;
  }
  for (let g = 0; g < counted.length && problems.length < 5; g++) {
    if (counted[g] !== m.rowsInArray[g]) problems.push(`array ${g}: ${m.rowsInArray[g]} active rows recorded, ${counted[g]} positions placed`);
  }
  return problems;
}

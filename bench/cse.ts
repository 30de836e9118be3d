/**
 * `npm run bench -- cse [--json] [--seed N] [--layers a,b] [--max-live-bits N] [--max-live-values N]`
 *
 * CSE on every ResNet-18 layer matrix (ImageNet shapes, TWN-ternarized seeded Kaiming-normal
 * weights, 4-bit inputs, 8-bit for conv1): additions and bit-serial add cycles naive vs compiled,
 * the share of narrow-first trees alone (no sharing), peak live values, compile time. Every DAG is
 * verified (structure, ranges) and evaluated against W·x on random inputs.
 */
import Table from "cli-table3";
import { option, type BenchArgs, type Figures } from "./harness.js";
import { verifyDag, evaluateDag } from "../src/compiler/cse/dag.js";
import { eliminateCommonSubexpressions, type CseOptions } from "../src/compiler/cse/eliminate.js";
import { unsignedColumnRanges, type TernaryMatrix } from "../src/compiler/cse/matrix.js";
import { resnet18LayerMatrices } from "../src/compiler/cse/resnet18-matrices.js";
import { Rng } from "../src/util/random.js";

export const description =
  "CSE on ResNet-18 TWN layer matrices: additions and bit-serial add cycles, naive vs compiled, per layer and total";

/** Checks y = W·x on a few random positions (the tests prove exactness; this guards the bench). */
function checkOnRandomInputs(matrix: TernaryMatrix, inputBits: number, result: ReturnType<typeof eliminateCommonSubexpressions>, rng: Rng): void {
  const positions = 3;
  const inputs: Int32Array[] = [];
  for (let j = 0; j < matrix.cols; j++) {
    const x = new Int32Array(positions);
    for (let p = 0; p < positions; p++) x[p] = rng.int(0, 2 ** inputBits - 1);
    inputs.push(x);
  }
  const y = evaluateDag(result.dag, inputs, result.schedule);
  for (let o = 0; o < matrix.rows; o++) {
    for (let p = 0; p < positions; p++) {
      let want = 0;
      for (let j = 0; j < matrix.cols; j++) want += matrix.data[o * matrix.cols + j]! * inputs[j]![p]!;
      if (y[o]![p] !== want) throw new Error(`CSE result differs from W·x at output ${o}, position ${p}`);
    }
  }
}

export async function run({ argv, log }: BenchArgs): Promise<Figures> {
  const seed = Number(option(argv, "--seed") ?? 1);
  const only = option(argv, "--layers")?.split(",");
  const maxLiveBits = option(argv, "--max-live-bits");
  const maxLiveValues = option(argv, "--max-live-values");
  const options: CseOptions = {};
  if (maxLiveBits) options.maxLiveBits = Number(maxLiveBits);
  if (maxLiveValues) options.maxLiveTemporaries = Number(maxLiveValues);

  const t0 = performance.now();
  const layers = resnet18LayerMatrices(seed).filter((l) => !only || only.includes(l.shape.name));
  const generateSeconds = (performance.now() - t0) / 1000;
  const rng = new Rng(seed + 1000);
  const table = new Table({
    head: ["layer", "O x J", "nnz", "adds naive", "adds CSE", "cycles naive", "cycles CSE", "ratio", "trees only", "g", "peak live", "s"],
    style: { head: [], border: [] },
  });
  const rows: Record<string, unknown>[] = [];
  let addsNaive = 0;
  let addsCompiled = 0;
  let cyclesNaive = 0;
  let cyclesCompiled = 0;
  let cyclesTrees = 0;
  let cyclesSharing = 0;
  let compileSeconds = 0;
  for (const { shape, matrix } of layers) {
    const ranges = unsignedColumnRanges(matrix.cols, shape.inputBits);
    const t = performance.now();
    const r = eliminateCommonSubexpressions(matrix, ranges, { ...options, where: `layer "${shape.name}"` });
    const seconds = (performance.now() - t) / 1000;
    compileSeconds += seconds;
    const problems = verifyDag(r.dag, r.schedule);
    if (problems.length > 0) throw new Error(`layer ${shape.name}: invalid DAG: ${problems.join("; ")}`);
    checkOnRandomInputs(matrix, shape.inputBits, r, rng);
    // Reference point: no sharing, only narrow-first balanced trees per row (group size 1).
    const trees = eliminateCommonSubexpressions(matrix, ranges, { ...options, groupSize: 1 }).stats.compiled.cycles;
    const s = r.stats;
    addsNaive += s.naive.additions;
    addsCompiled += s.compiled.additions;
    cyclesNaive += s.naive.cycles;
    cyclesCompiled += s.compiled.cycles;
    cyclesTrees += trees;
    cyclesSharing += s.sharing.cycles;
    table.push([
      shape.name,
      `${matrix.rows} x ${matrix.cols}`,
      s.nonZeros,
      s.naive.additions,
      s.compiled.additions,
      s.naive.cycles,
      s.compiled.cycles,
      s.ratioCycles.toFixed(2),
      (s.naive.cycles / trees).toFixed(2),
      s.plan.groupSize,
      `${s.peakLiveValues} / ${s.peakLiveBits}b`,
      seconds.toFixed(2),
    ]);
    rows.push({
      layer: shape.name,
      rows: matrix.rows,
      cols: matrix.cols,
      nnz: s.nonZeros,
      adds_naive: s.naive.additions,
      adds_compiled: s.compiled.additions,
      add_cycles_naive: s.naive.cycles,
      add_cycles_compiled: s.compiled.cycles,
      add_cycles_sharing: s.sharing.cycles,
      add_cycles_reduction: s.reduction.cycles,
      add_cycles_trees_only: trees,
      ratio_cycles: round(s.ratioCycles),
      group_size: s.plan.groupSize,
      row_block: s.plan.rowBlockSize,
      chunks: s.chunks,
      peak_live_values: s.peakLiveValues,
      peak_live_bits: s.peakLiveBits,
      seconds: round(seconds),
    });
    log(`  ${shape.name}: ${s.ratioCycles.toFixed(2)}x cycles in ${seconds.toFixed(2)} s`);
  }
  table.push([
    "total",
    "",
    "",
    addsNaive,
    addsCompiled,
    cyclesNaive,
    cyclesCompiled,
    (cyclesNaive / cyclesCompiled).toFixed(2),
    (cyclesNaive / cyclesTrees).toFixed(2),
    "",
    "",
    compileSeconds.toFixed(2),
  ]);
  log(table.toString());
  log(
    `cycles ratio ${(cyclesNaive / cyclesCompiled).toFixed(2)}x (narrow-first trees alone ${(cyclesNaive / cyclesTrees).toFixed(2)}x); ` +
      `shared patterns are ${((100 * cyclesSharing) / cyclesCompiled).toFixed(1)}% of compiled cycles, per-row reduction trees the rest`,
  );
  return {
    seed,
    layers_count: layers.length,
    max_live_bits: options.maxLiveBits ?? null,
    max_live_values: options.maxLiveTemporaries ?? null,
    adds_naive: addsNaive,
    adds_compiled: addsCompiled,
    add_cycles_naive: cyclesNaive,
    add_cycles_compiled: cyclesCompiled,
    add_cycles_trees_only: cyclesTrees,
    add_cycles_sharing: cyclesSharing,
    ratio_adds: round(addsNaive / addsCompiled),
    ratio_cycles: round(cyclesNaive / cyclesCompiled),
    ratio_cycles_trees_only: round(cyclesNaive / cyclesTrees),
    compile_seconds: round(compileSeconds),
    generate_seconds: round(generateSeconds),
    layers: rows,
  };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

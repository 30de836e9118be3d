/**
 * `npm run bench -- cse-blocks [--json] [--seed N] [--blocks 64,128,256,512] [--layers a,b]`
 *
 * How much CSE saves as output blocks widen: every ResNet-18 layer matrix (TWN-ternarized seeded
 * Kaiming-normal weights, 4-bit inputs, 8-bit for conv1) cut into blocks of N output channels
 * over its whole receptive field (no input-channel slices, no row capacity limit), each block
 * reduced by CSE on its own. Prints bit-serial add cycles, naive vs compiled, per layer and block
 * width, the total ratio per width, and the width that is best per layer. Every block's DAG is
 * verified. The compiler's blocks today: 64 outputs on serial and SRAM rows (128 temporaries),
 * and no sharing at all on the interleaved rows (docs/compiler.md 2.4).
 */
import Table from "cli-table3";
import { option, type BenchArgs, type Figures } from "./harness.js";
import { verifyDag } from "../src/compiler/cse/dag.js";
import { eliminateCommonSubexpressions } from "../src/compiler/cse/eliminate.js";
import { unsignedColumnRanges, type TernaryMatrix } from "../src/compiler/cse/matrix.js";
import { resnet18LayerMatrices } from "../src/compiler/cse/resnet18-matrices.js";

export const description = "CSE add-cycle ratio on ResNet-18 layers with output blocks of 64, 128, 256 and 512 channels";

/** Rows [r0, r1) of a ternary matrix. */
function rowBlock(m: TernaryMatrix, r0: number, r1: number): TernaryMatrix {
  return { rows: r1 - r0, cols: m.cols, data: m.data.subarray(r0 * m.cols, r1 * m.cols) };
}

export async function run({ argv, log }: BenchArgs): Promise<Figures> {
  const seed = Number(option(argv, "--seed") ?? 1);
  const widths = (option(argv, "--blocks") ?? "64,128,256,512").split(",").map(Number);
  const only = option(argv, "--layers")?.split(",");
  const layers = resnet18LayerMatrices(seed).filter((l) => !only || only.includes(l.shape.name));
  const naiveTotal = new Map<number, number>(), compiledTotal = new Map<number, number>();
  const bestTotal = { naive: 0, compiled: 0 };
  const table = new Table({ head: ["layer", "O x J", ...widths.map((w) => `${w}/block`), "best"], style: { head: [], border: [] } });
  const perLayer: Record<string, unknown>[] = [];
  for (const { shape, matrix } of layers) {
    const ranges = unsignedColumnRanges(matrix.cols, shape.inputBits);
    const ratios: Record<string, number> = {};
    let best = { width: 0, naive: 0, compiled: Infinity };
    for (const w of widths) {
      const width = Math.min(w, matrix.rows);
      let naive = 0, compiled = 0;
      for (let r0 = 0; r0 < matrix.rows; r0 += width) {
        const block = rowBlock(matrix, r0, Math.min(matrix.rows, r0 + width));
        const r = eliminateCommonSubexpressions(block, ranges, { where: `layer "${shape.name}" rows ${r0}..` });
        const problems = verifyDag(r.dag, r.schedule);
        if (problems.length) throw new Error(`layer ${shape.name}, block at ${r0}: ${problems.join("; ")}`);
        naive += r.stats.naive.cycles;
        compiled += r.stats.compiled.cycles;
      }
      naiveTotal.set(w, (naiveTotal.get(w) ?? 0) + naive);
      compiledTotal.set(w, (compiledTotal.get(w) ?? 0) + compiled);
      ratios[String(w)] = Math.round((naive / compiled) * 1000) / 1000;
      if (compiled < best.compiled) best = { width: w, naive, compiled };
      log(`  ${shape.name}, ${w} outputs per block: ${(naive / compiled).toFixed(2)}x`);
    }
    bestTotal.naive += best.naive;
    bestTotal.compiled += best.compiled;
    table.push([shape.name, `${matrix.rows} x ${matrix.cols}`, ...widths.map((w) => `${ratios[String(w)]!.toFixed(2)}x`), `${best.width}`]);
    perLayer.push({ layer: shape.name, rows: matrix.rows, cols: matrix.cols, ratio_cycles: ratios, best_block: best.width });
  }
  const totals: Record<string, number> = {};
  for (const w of widths) totals[String(w)] = Math.round((naiveTotal.get(w)! / compiledTotal.get(w)!) * 1000) / 1000;
  table.push(["total", "", ...widths.map((w) => `${totals[String(w)]!.toFixed(2)}x`), `${(bestTotal.naive / bestTotal.compiled).toFixed(2)}x`]);
  log(table.toString());
  return {
    seed,
    blocks: widths,
    ratio_cycles: totals,
    ratio_cycles_best_per_layer: Math.round((bestTotal.naive / bestTotal.compiled) * 1000) / 1000,
    layers: perLayer,
  };
}

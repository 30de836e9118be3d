/**
 * `npm run bench -- add-kernel [--json]`
 *
 * The word level's fused out-of-place add kernel (src/compiler/simulate.ts addOutKernel: values,
 * written cells and the TMP lane's new bits in one row loop), alone, on the row counts of
 * ResNet-18's stages (1 image: 12,545 / 3,137 / 785 / 197 / 50 rows with the idle row). Each call
 * adds a 4-bit input column (unsigned code) to a 9-bit signed partial sum into a 10-bit lane of a
 * TMP word, like the page-streamed trees do. Columns are picked at random from a small set (hot
 * in the caches) and from as many as the stage's conv reads (C x 3 x 3 gathered input columns:
 * 147 at 12,545 rows up to 4,608 at 50 rows, 0.9-7.4 MB), so the figures say whether the kernel
 * waits for memory or for its own work. ns_per_row is the figure; the compare bench spends ~1e9
 * rows per AP program here.
 */

/** Rows of a ResNet-18 stage (one image, idle row included) -> input columns of its convs. */
const STAGE_COLUMNS: [number, number][] = [[50, 4608], [197, 2304], [785, 1152], [3137, 576], [12545, 147]];
import type { BenchArgs, Figures } from "./harness.js";
import type * as SimulateModule from "../src/compiler/simulate.js";

export const description = "the word level's fused add kernel alone: ns per row at ResNet-18's row counts, on hot input columns and on as many as each stage reads";

/** A deterministic xorshift stream (the inputs only need to look like codes and partial sums). */
function stream(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export async function run({ log }: BenchArgs): Promise<Figures> {
  // the built code, as the word level runs it (a computed specifier: no type dependency on dist/)
  const dist = new URL("../dist/src/", import.meta.url).href;
  const { addOutKernel } = (await import(`${dist}compiler/simulate.js`)) as typeof SimulateModule;
  const rnd = stream(7);
  const hot: Record<string, number> = {};
  const stage: Record<string, number> = {};
  for (const [N, stageColumns] of STAGE_COLUMNS) {
    for (const [label, columns, into] of [["hot", 64, hot], ["stage", stageColumns, stage]] as const) {
      const ins: Int32Array[] = [];
      for (let k = 0; k < columns; k++) ins.push(Int32Array.from({ length: N }, () => Math.floor(rnd() * 16)));
      const sums: Int32Array[] = [];
      for (let k = 0; k < 32; k++) sums.push(Int32Array.from({ length: N }, () => Math.floor(rnd() * 512) - 256));
      const lanes: Int32Array[] = [];
      for (let k = 0; k < 16; k++) lanes.push(new Int32Array(N));
      const out = new Int32Array(N);
      const calls = Math.max(1000, Math.floor(2e8 / N));
      const pick = Int32Array.from({ length: calls }, () => Math.floor(rnd() * columns));
      let cells = 0;
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) {
        const k = addOutKernel(
          (i & 1) === 0, ins[pick[i]!]!, sums[i & 31]!, lanes[i & 15]!, (i & 1) * 16, out, N, N - 1, 400,
          10, true, 4, false, 9, true, false, false,
        );
        cells += k[0]!;
      }
      const ns = ((performance.now() - t0) * 1e6) / (calls * N);
      into[String(N)] = Math.round(ns * 100) / 100;
      log(`  ${String(N).padStart(5)} rows, ${label.padEnd(5)} input columns (${columns}): ${ns.toFixed(2)} ns per row (${cells > 0 ? "cells counted" : "no cells"})`);
    }
  }
  return { ns_per_row: hot, ns_per_row_stage_inputs: stage };
}

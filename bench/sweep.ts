/**
 * `npm run bench -- sweep [--json] [--model zoo:resnet18]`: a technology-only sweep (3 RTM
 * scenarios x 6 shift prices x 6 clock periods = 108 points) with the local executor, which
 * compiles and simulates the network once and prices every point from its events; then one
 * `rtap compare --no-ablation` on the same model in the same run, for scale.
 *
 * Figures: points, compiles, seconds (the sweep alone, written over the runner's total),
 * peak_rss_mb (the process's peak after the sweep, before the compare), single_compare_seconds.
 * Aim (issue 12): seconds <= 1.5 x single_compare_seconds. Runs the built code in dist/.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peakRssMb, r3, type BenchArgs, type Figures } from "./harness.js";
import type * as CompareModule from "../src/compare.js";
import type * as LocalModule from "../src/sweep/local.js";
import type * as PlanModule from "../src/sweep/plan.js";

export const description = "technology-only sweep of 108 points on zoo:resnet18 (one compile) vs one rtap compare --no-ablation";

export async function run(args: BenchArgs): Promise<Figures> {
  const model = args.argv.find((a) => a.startsWith("--model="))?.slice(8) ?? "zoo:resnet18";
  const dist = new URL("../dist/src/", import.meta.url).href;
  const { runLocal } = (await import(`${dist}sweep/local.js`)) as typeof LocalModule;
  const { loadPlan } = (await import(`${dist}sweep/plan.js`)) as typeof PlanModule;
  const { compareModel } = (await import(`${dist}compare.js`)) as typeof CompareModule;
  const dir = mkdtempSync(join(tmpdir(), "rtap-bench-sweep-"));
  try {
    const planFile = join(dir, "plan.yaml");
    writeFileSync(
      planFile,
      `name: bench technology-only sweep
models: [${model}]
parameters:
  tech: [rtm-ap, rtm-ap-low, rtm-ap-destiny]
  tech.prices.shift_track_domains: { from: 0.5, to: 10, steps: 6, scale: log }   # fJ/domain
  tech.clockPeriod: [2, 2.5, 3, 4, 5, 6]                                         # ns
`,
    );
    const t0 = performance.now();
    const counts = await runLocal(loadPlan(planFile), { out: join(dir, "out"), onStage: (s) => args.log(`  [${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}`) });
    const sweepSeconds = (performance.now() - t0) / 1000;
    const sweepRss = peakRssMb();
    args.log(`  sweep: ${counts.points} points, ${counts.compiles} compile(s), ${counts.failed} failed in ${sweepSeconds.toFixed(1)} s`);
    const t1 = performance.now();
    await compareModel(model, { ablation: false, onStage: (s) => args.log(`  compare [${((performance.now() - t1) / 1000).toFixed(1)} s] ${s}`) });
    const compareSeconds = (performance.now() - t1) / 1000;
    return {
      model,
      points: counts.points,
      failed: counts.failed,
      compiles: counts.compiles,
      simulations: counts.simulations,
      seconds: r3(sweepSeconds),
      peak_rss_mb: sweepRss,
      single_compare_seconds: r3(compareSeconds),
      sweep_vs_compare: r3(sweepSeconds / compareSeconds),
      peak_rss_mb_with_compare: peakRssMb(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

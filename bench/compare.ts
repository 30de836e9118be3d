/**
 * `npm run bench -- compare [--json] [--model zoo:resnet18] [--no-ablation] [--no-sensitivity]`:
 * `rtap compare` end to end (quantize, compile and simulate both APs with exact events, price the
 * crossbars, ablation, sensitivity, render the report in memory). Figures: seconds per stage and
 * the headline ratios.
 *
 * It runs the built code in dist/ (`npm run bench` builds it first), as `npx rtap compare` does:
 * through tsx the same work takes ~1.4x longer (its transform adds helpers to every function).
 */
import type { BenchArgs, Figures } from "./harness.js";
import type * as CompareModule from "../src/compare.js";
import type * as ReportModule from "../src/report/index.js";

export const description = "rtap compare end to end on zoo:resnet18 (or --model), with the ablation unless --no-ablation";

export async function run(args: BenchArgs): Promise<Figures> {
  const model = args.argv.find((a) => a.startsWith("--model="))?.slice(8) ?? "zoo:resnet18";
  const ablation = !args.argv.includes("--no-ablation");
  const sensitivity = !args.argv.includes("--no-sensitivity");
  // a computed specifier: the type checker must not depend on dist/ existing
  const dist = new URL("../dist/src/", import.meta.url).href;
  const { compareModel } = (await import(`${dist}compare.js`)) as typeof CompareModule;
  const { reportToHtml } = (await import(`${dist}report/index.js`)) as typeof ReportModule;
  const t0 = performance.now();
  // CPU time of the whole process, worker threads included (on a shared machine the wall clock
  // says little; on an idle 2-core one seconds ~ cpu_seconds / 2)
  const cpu0 = process.cpuUsage();
  const stages: Record<string, number> = {};
  let last = t0, lastName = "start";
  const { report } = await compareModel(model, {
    ablation,
    sensitivity,
    onStage: (s) => {
      const now = performance.now();
      stages[lastName] = Math.round(now - last) / 1000;
      args.log(`  [${((now - t0) / 1000).toFixed(1)} s] ${s}`);
      last = now;
      lastName = s;
    },
  });
  const html = await reportToHtml(report);
  stages[lastName] = Math.round(performance.now() - last) / 1000;
  const rtm = report.targets.find((t) => t.target === "rtm-ap");
  const sram = report.targets.find((t) => t.target === "sram-ap");
  return {
    model,
    ablation,
    compare_seconds: Math.round(performance.now() - t0) / 1000,
    cpu_seconds: (() => {
      const c = process.cpuUsage(cpu0);
      return Math.round((c.user + c.system) / 1e3) / 1000;
    })(),
    rtm_ap_energy_j: rtm?.energyJ ?? null,
    sram_ap_energy_j: sram?.energyJ ?? null,
    rtm_ap_vs_crossbar: rtm?.energyRatioVsCrossbar ?? null,
    rtm_ap_shift_track_domains: rtm?.events?.shift_track_domains ?? null,
    rtm_ap_scenarios_energy_j: rtm?.scenarios ? Object.fromEntries(rtm.scenarios.map((s) => [s.technology, s.energyJ])) : null,
    sram_ap_vs_crossbar: sram?.energyRatioVsCrossbar ?? null,
    html_bytes: html.length,
    stage_seconds: stages,
  };
}

/**
 * Crossbar cost model: the calibration figures against DNN+NeuroSim V1.4 (ResNet-18, runs A and B)
 * and how fast the model prices a whole ResNet-18 (technology load, one evaluation, a full tornado
 * sweep's worth of evaluations).
 */
import { r3, type BenchArgs, type Figures } from "./harness.js";
import { calibrateNeuroSim } from "../src/cost/calibration.js";
import { crossbarCost } from "../src/cost/crossbar.js";
import { NEUROSIM_RUN_A, NEUROSIM_RUN_B, neurosimResnet18Workload } from "../src/cost/neurosim.js";
import { loadCrossbarTechnology } from "../src/cost/technology.js";
import { scaleParam } from "../src/cost/overrides.js";

export const description =
  "crossbar model vs DNN+NeuroSim V1.4 on ResNet-18 (energy ratios per component) and pricing speed (evaluations/s)";

export async function run({ log }: BenchArgs): Promise<Figures> {
  let t0 = performance.now();
  const neurosim = loadCrossbarTechnology("crossbar-neurosim22");
  const isaac = loadCrossbarTechnology("crossbar-isaac");
  const loadMs = (performance.now() - t0) / 2;

  const a = calibrateNeuroSim(NEUROSIM_RUN_A);
  const b = calibrateNeuroSim(NEUROSIM_RUN_B);
  const ratios = (c: typeof a): Record<string, number> =>
    Object.fromEntries([...c.components, c.total].map((r) => [r.component, r3(r.ratio)]));
  log(`run A total ${a.total.ratio.toFixed(3)}x, run B total ${b.total.ratio.toFixed(3)}x`);

  const padded = neurosimResnet18Workload("padded");
  const iters = 200;
  t0 = performance.now();
  for (let i = 0; i < iters; i++) crossbarCost(padded, i % 2 ? isaac : neurosim);
  const evalMs = (performance.now() - t0) / iters;
  // a tornado point = copy the technology with one parameter scaled, then price the network
  t0 = performance.now();
  for (let i = 0; i < iters; i++) crossbarCost(padded, scaleParam(neurosim, "adc.energy.perLevel", i % 2 ? 0.5 : 2));
  const scaledEvalMs = (performance.now() - t0) / iters;

  const isaacCost = crossbarCost(padded, isaac);
  const nsPadded = crossbarCost(padded, neurosim);
  return {
    neurosim_runA_total_ratio: r3(a.total.ratio),
    neurosim_runB_total_ratio: r3(b.total.ratio),
    neurosim_runA_ratios: ratios(a),
    neurosim_runB_ratios: ratios(b),
    rtap_neurosim22_valid_uJ: r3(a.cost.total.dynamicJ * 1e6),
    rtap_neurosim22_padded_uJ: r3(nsPadded.total.dynamicJ * 1e6),
    rtap_isaac_padded_uJ: r3(isaacCost.total.dynamicJ * 1e6),
    tech_load_ms: r3(loadMs),
    resnet18_eval_ms: r3(evalMs),
    resnet18_scaled_eval_ms: r3(scaledEvalMs),
    evals_per_s: Math.round(1000 / scaledEvalMs),
  };
}

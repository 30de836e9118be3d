/**
 * The crossbar targets' side of the Target registry: the crossbar model (src/cost/crossbar.ts) on
 * the network's integer graph, as a comparison row and as a sweep point's figures.
 */
import { crossbarCost } from "../cost/crossbar.js";
import { crossbarPrecision } from "../cost/reference.js";
import type { CrossbarTechnology } from "../cost/technology.js";
import { workloadFromQGraph } from "../cost/workload.js";
import type { QuantizedModel } from "../model.js";
import type { QGraph } from "../quantize/qgraph.js";
import type { LayerResult, TargetResult } from "../report/types.js";
import { reportPath } from "../util/paths.js";
import type { SweepFigures } from "./types.js";

export function crossbarRow(id: string, label: string, file: string, q: QuantizedModel, tech: CrossbarTechnology): TargetResult {
  const c = crossbarCost(workloadFromQGraph(q.qgraph), tech);
  const comp = c.total.components as unknown as Record<string, number>;
  const layers: LayerResult[] = c.perLayer.map((l) => {
    const e = l.energy as unknown as Record<string, number>;
    const total = Object.values(e).reduce((a, b) => a + b, 0);
    return { name: l.name, energyJ: total, components: { ...e }, latencyS: l.latencyS, movementJ: (e.interconnect ?? 0) + (e.buffers ?? 0) };
  });
  // digital non-MAC ops (residual add, pooling, requant) as one layer row so layers sum to the total
  const auxJ = c.aux.reduce((s, a) => s + a.energy + a.bufferEnergy, 0);
  if (auxJ > 0) layers.push({ name: "non-MAC ops", energyJ: auxJ, components: { other: c.aux.reduce((s, a) => s + a.energy, 0), buffers: c.aux.reduce((s, a) => s + a.bufferEnergy, 0) }, latencyS: 0, movementJ: 0 });
  return {
    target: id,
    label,
    kind: "crossbar",
    files: [reportPath(file)],
    precision: crossbarPrecision(tech, q.qgraph.activationBits),
    energyJ: c.total.energyJ,
    latencyS: c.total.latencyS,
    areaMm2: c.total.areaMm2,
    inferencesPerJ: 1 / c.total.energyJ,
    movementShare: ((comp.interconnect ?? 0) + (comp.buffers ?? 0)) / c.total.energyJ,
    energyRatioVsCrossbar: {},
    components: { ...comp },
    layers,
  };
}


/** A sweep point's figures: the crossbar model with `tech` on the network (no compile, no simulation). */
export function crossbarFigures(q: QGraph, tech: CrossbarTechnology, crossbarIsaacJ: number): SweepFigures {
  const c = crossbarCost(workloadFromQGraph(q), tech);
  const comp = c.total.components as unknown as Record<string, number>;
  const e = c.total.energyJ;
  return {
    energy_j: e,
    latency_s: c.total.latencyS,
    area_mm2: c.total.areaMm2,
    edp_js: e * c.total.latencyS,
    inferences_per_j: 1 / e,
    movement_share: ((comp.interconnect ?? 0) + (comp.buffers ?? 0)) / e,
    energy_vs_crossbar_isaac: e / crossbarIsaacJ,
    search_j: 0,
    write_j: 0,
    shift_j: 0,
    periphery_j: 0,
    movement_j: comp.interconnect ?? 0,
    buffers_j: comp.buffers ?? 0,
    leakage_j: comp.leakage ?? 0,
    arrays: c.total.arrays,
  };
}

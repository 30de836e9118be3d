/**
 * The published reference rows' side of the Target registry: a published efficiency as energy =
 * 2 x MACs / efficiency, with no model (latency, area and movement unknown).
 */
import { OPS_PER_MAC, referenceEnergyJ } from "../cost/reference.js";
import type { ReferenceTechnology } from "../cost/technology.js";
import type { TargetResult } from "../report/types.js";
import { reportPath } from "../util/paths.js";

/** A published efficiency as a reference row: energy = 2 x MACs / efficiency; latency, area, movement unknown. */
export function referenceRow(id: string, label: string, ref: ReferenceTechnology, macs: number): TargetResult {
  const energyJ = referenceEnergyJ(ref, macs);
  const e = ref.efficiency.given;
  return {
    target: id,
    label: `${label}: ${e.value} ${e.unit} (${ref.precision}${ref.node !== undefined ? `, ${ref.node} nm` : ""}), energy = ${OPS_PER_MAC} x MACs / efficiency`,
    kind: "reference",
    files: [reportPath(ref.file)],
    precision: ref.precision,
    energyJ,
    latencyS: null,
    areaMm2: null,
    inferencesPerJ: 1 / energyJ,
    movementShare: null,
    energyRatioVsCrossbar: {},
    components: {},
    layers: [],
    reference: { efficiencyOpsPerJ: ref.efficiency.value, ops: OPS_PER_MAC * macs, source: ref.efficiency.source ?? ref.efficiency.note ?? "" },
  };
}


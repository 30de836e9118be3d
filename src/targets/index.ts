/**
 * The Target registry: every accelerator rtap prices, for `rtap compare` (a row each) and
 * `rtap sweep` (a plan's `target`). A new accelerator model is one module with a row (and figures)
 * function and one entry here.
 *
 *   rtm-ap, sram-ap                       associative processors: compiled and simulated
 *   crossbar-isaac, crossbar-neurosim22   crossbar models on the integer graph
 *   reference-isaac, reference-puma       published efficiencies
 */
import { loadApTechnology, loadCrossbarTechnology, loadReferenceTechnology, RTM_SCENARIOS } from "../cost/technology.js";
import { RtapError } from "../errors.js";
import { apFigures, apRow } from "./ap.js";
import { crossbarFigures, crossbarRow } from "./crossbar.js";
import { referenceRow } from "./reference.js";
import type { ApTarget, CrossbarTarget, ReferenceTarget, Target } from "./types.js";

export type { ApTarget, CrossbarTarget, ReferenceTarget, Target } from "./types.js";
export { FIGURES, type FigureName, type SweepFigures } from "./types.js";

function apTarget(id: string, label: string, arch: string, tech: string, technology: "rtm" | "sram", scenarios?: readonly string[]): ApTarget {
  return {
    id,
    label,
    kind: "ap",
    arch,
    tech,
    technology,
    ...(scenarios ? { scenarios } : {}),
    loadTech: (spec, overrides) => loadApTechnology(spec, overrides),
    row: (run, c) => apRow(id, c.label, c.files, run, c.tech, c.arch, c.precision, c.scenarios),
    figures: apFigures,
  };
}

function crossbarTarget(id: string, label: string, tech: string): CrossbarTarget {
  return {
    id,
    label,
    kind: "crossbar",
    tech,
    loadTech: (spec, overrides) => loadCrossbarTechnology(spec, overrides),
    row: (m, t) => crossbarRow(id, label, t.file, m, t),
    figures: crossbarFigures,
  };
}

function referenceTarget(id: string, label: string, tech: string): ReferenceTarget {
  return { id, label, kind: "reference", tech, loadTech: (spec, overrides) => loadReferenceTechnology(spec, overrides), row: (ref, macs) => referenceRow(id, label, ref, macs) };
}

/** Every target, in the comparison's order. */
export const TARGETS: readonly Target[] = [
  apTarget("rtm-ap", "RTM-AP", "rtm-ap", "rtm-ap", "rtm", RTM_SCENARIOS),
  apTarget("sram-ap", "SRAM-CAM AP", "sram-ap", "sram-ap", "sram"),
  crossbarTarget("crossbar-isaac", "Crossbar CIM, ISAAC-style (32 nm numbers scaled to 22 nm)", "crossbar-isaac"),
  crossbarTarget("crossbar-neurosim22", "Crossbar CIM, DNN+NeuroSim V1.4 calibrated (22 nm RRAM)", "crossbar-neurosim22"),
  referenceTarget("reference-isaac", "ISAAC, published efficiency", "reference-isaac"),
  referenceTarget("reference-puma", "PUMA, published efficiency", "reference-puma"),
];

const BY_ID = new Map(TARGETS.map((t) => [t.id, t]));

export function targetIds(kind?: Target["kind"]): string[] {
  return TARGETS.filter((t) => !kind || t.kind === kind).map((t) => t.id);
}

/** The target with this id; an unknown id is an RtapError listing them. */
export function getTarget(id: string, where?: string): Target {
  const t = BY_ID.get(id);
  if (!t) throw new RtapError(`unknown target "${id}"; targets: ${targetIds().join(", ")}`, where);
  return t;
}

export function isTarget(id: string): boolean {
  return BY_ID.has(id);
}

/**
 * The AP targets' side of the Target registry (src/targets/index.ts): a run of compiled and
 * simulated programs (events per unit per inference) priced into a comparison row, with every
 * technology scenario priced from the same events, and into a sweep point's figures.
 */
import type { ApArch } from "../ap/config.js";
import { addEvents, EVENT_KINDS, zeroEvents, type ApEvents } from "../ap/events.js";
import { networkEvents, type MovementVariants, type UnitInfo, type UnitTaskResult } from "../compare-units.js";
import { AP_PRICED_KINDS, apCostPerLayer, type ApCost } from "../cost/ap.js";
import { loadApTechnology, technologyPath, type ApTechnology } from "../cost/technology.js";
import type { LayerResult, ScenarioResult, TargetResult } from "../report/types.js";
import { reportPath } from "../util/paths.js";
import type { SweepFigures } from "./types.js";

export const AP_COMPONENTS = ["search", "write", "shift", "periphery", "movement", "buffers", "leakage"] as const;

/** "shiftTrackDomains" -> "shift_track_domains" (the JSON names of event kinds). */
export function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Events per inference of an AP run by kind: every simulator counter (snake_case, summed over
 * units) and then the derived priced kinds that are not counters themselves (search_rows,
 * micro_ops, tag_row_ops, global_buffer_bits, array_seconds = arrays x latency at the target's clock).
 */
export function eventsByKind(perUnit: readonly { events: ApEvents }[], total: ApCost): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of EVENT_KINDS) out[snakeCase(k)] = perUnit.reduce((s, u) => s + u.events[k], 0);
  for (const k of AP_PRICED_KINDS) if (!(k in out)) out[k] = total.counts[k];
  return out;
}

/** An AP program's run: events per inference per unit, what the report shows per unit, totals. */
export interface ApRun {
  perUnit: { name: string; events: ApEvents }[];
  units: UnitInfo[];
  total: ApEvents;
  addCycles: number;
  /** Per unit: movement events under the full placement, layout off, movement off (RTM-AP with the ablation). */
  movement?: MovementVariants[];
}

/** A variant's unit results (in unit order) as a run, per inference (batch events / n). */
export function apRunOf(results: readonly UnitTaskResult[], n: number): ApRun {
  // per image, with the network schedule's cycles (units overlap where their data allow)
  const perUnit = networkEvents(results, n);
  const total = zeroEvents();
  let addCycles = 0;
  results.forEach((r, i) => {
    addEvents(total, perUnit[i]!);
    if (!r.stationary) addCycles += r.info.addCycles;
  });
  const movement = results.every((r) => r.movement) ? results.map((r) => r.movement!) : undefined;
  return { perUnit: results.map((r, i) => ({ name: r.name, events: perUnit[i]! })), units: results.map((r) => r.info), total, addCycles, ...(movement ? { movement } : {}) };
}

export function apRow(id: string, label: string, files: string[], run: ApRun, tech: ApTechnology, arch: ApArch, precision: string, scenarios: readonly string[]): TargetResult {
  const perUnit = run.perUnit.map((u) => ({ name: u.name, events: u.events }));
  const priced = apCostPerLayer(perUnit, tech, arch);
  const layers: LayerResult[] = priced.perLayer.map((l, i) => {
    const cu = run.units[i]!;
    return {
      name: l.name,
      energyJ: l.energyJ,
      components: Object.fromEntries(AP_COMPONENTS.map((k) => [k, l.energy[k]])),
      latencyS: l.latencyS,
      movementJ: l.energy.movement + l.energy.buffers,
      extra: {
        add_cycles: cu.addCycles,
        add_cycles_naive: cu.addCyclesNaive,
        shifts: run.perUnit[i]!.events.shifts,
        row_utilization: cu.utilization,
        arrays: cu.arrays,
      },
    };
  });
  const t = priced.total;
  // the same events priced with every technology scenario (no re-simulation)
  const scenarioResults: ScenarioResult[] = scenarios.map((name) => {
    const isDefault = name === tech.name;
    const c = isDefault ? t : apCostPerLayer(perUnit, loadApTechnology(name), arch).total;
    return {
      technology: name,
      file: reportPath(isDefault ? tech.file : technologyPath(name)),
      isDefault,
      energyJ: c.energyJ,
      latencyS: c.latencyS,
      components: Object.fromEntries(AP_COMPONENTS.map((k) => [k, c.energy[k]])),
      energyRatioVsCrossbar: {},
    };
  });
  return {
    target: id,
    label,
    kind: "ap",
    files,
    precision,
    energyJ: t.energyJ,
    latencyS: t.latencyS,
    areaMm2: t.areaMm2,
    inferencesPerJ: 1 / t.energyJ,
    movementShare: (t.energy.movement + t.energy.buffers) / t.energyJ,
    energyRatioVsCrossbar: {},
    components: Object.fromEntries(AP_COMPONENTS.map((k) => [k, t.energy[k]])),
    layers,
    events: eventsByKind(run.perUnit, t),
    ...(scenarioResults.length ? { scenarios: scenarioResults } : {}),
  };
}


/** A sweep point's figures: the run's events priced with `tech` on `arch` (the same sum as apRow's). */
export function apFigures(perUnit: ReadonlyArray<{ name: string; events: ApEvents }>, arch: ApArch, tech: ApTechnology, crossbarIsaacJ: number): SweepFigures {
  const c = apCostPerLayer(perUnit, tech, arch).total;
  const e = c.energy;
  return {
    energy_j: c.energyJ,
    latency_s: c.latencyS,
    area_mm2: c.areaMm2,
    edp_js: c.energyJ * c.latencyS,
    inferences_per_j: 1 / c.energyJ,
    movement_share: (e.movement + e.buffers) / c.energyJ,
    energy_vs_crossbar_isaac: c.energyJ / crossbarIsaacJ,
    search_j: e.search,
    write_j: e.write,
    shift_j: e.shift,
    periphery_j: e.periphery,
    movement_j: e.movement,
    buffers_j: e.buffers,
    leakage_j: e.leakage,
    arrays: c.arrays,
  };
}

/**
 * Terminal forms of a ComparisonReport: TableSpecs for the CLI's table printer
 * (`printTable(ctx, spec)` / `renderTable(ctx, spec)` in src/cli/output.ts) and plain lines, all
 * numbers formatted with src/cli/format.ts. `reportText(ctx, r)` puts them together the way
 * `rtap compare` / `rtap report` print them.
 */
import type { CliContext } from "../cli/context.js";
import { formatCount, formatEnergy, formatPercent, formatRatio, formatSig, formatTime } from "../cli/format.js";
import { renderTable, type TableSpec } from "../cli/output.js";
import {
  areaText,
  consistencyWarnings,
  crossbarIds,
  entriesBySwing,
  factorLabel,
  headline,
  largestComponent,
  ratioAgainst,
  ratioWords,
  sensitivityRange,
} from "./derive.js";
import type { ComparisonReport, SensitivityResult, TargetResult } from "./types.js";

/**
 * Per target: precision, energy per inference, inferences per joule, latency, area, movement share,
 * and the energy against each baseline, crossbar or published reference ("7.56x less"; "—" for a
 * baseline against itself and for what a reference row does not know).
 */
export function targetTable(r: ComparisonReport): TableSpec {
  const xs = crossbarIds(r);
  return {
    head: ["target", "precision", "energy/inf", "inf/J", "latency", "area", "movement", ...xs.map((x) => `vs ${x}`)],
    rows: r.targets.map((t) => [
      t.target,
      t.precision ?? "—",
      formatEnergy(t.energyJ),
      formatCount(t.inferencesPerJ),
      t.latencyS === null ? "—" : formatTime(t.latencyS),
      areaText(t.areaMm2),
      t.movementShare === null ? "—" : formatPercent(t.movementShare),
      ...xs.map((x) => {
        const q = ratioAgainst(t, x);
        return q === undefined ? "—" : ratioWords(q);
      }),
    ]),
    align: ["left", "left", "right", "right", "right", "right", "right", ...xs.map(() => "right" as const)],
  };
}

/**
 * One AP target's technology scenarios (the same events priced with each technology file): energy
 * per inference, its largest component, and the energy against each baseline. Undefined when the
 * target has no scenarios.
 */
export function scenarioTable(r: ComparisonReport, t: TargetResult): TableSpec | undefined {
  if (!t.scenarios?.length) return undefined;
  const xs = crossbarIds(r).filter((x) => x !== t.target);
  return {
    head: ["technology", "energy/inf", "largest component", ...xs.map((x) => `vs ${x}`)],
    rows: t.scenarios.map((s) => [
      s.isDefault ? `${s.technology} (default)` : s.technology,
      formatEnergy(s.energyJ),
      largestComponent(s.components, s.energyJ),
      ...xs.map((x) => (s.energyRatioVsCrossbar[x] === undefined ? "—" : ratioWords(s.energyRatioVsCrossbar[x]!))),
    ]),
    align: ["left", "right", "left", ...xs.map(() => "right" as const)],
  };
}

/** Per layer of one target: energy, latency, movement and each component's energy. */
export function layerTable(t: TargetResult): TableSpec {
  const comps = Object.keys(t.components);
  for (const l of t.layers) for (const c of Object.keys(l.components)) if (!comps.includes(c)) comps.push(c);
  const e = (x: number | undefined): string => (x === undefined ? "—" : formatEnergy(x));
  return {
    head: ["layer", "energy", "latency", "act. movement", ...comps],
    rows: [
      ...t.layers.map((l) => [l.name, e(l.energyJ), formatTime(l.latencyS), e(l.movementJ), ...comps.map((c) => e(l.components[c]))]),
      ["total", e(t.energyJ), t.latencyS === null ? "—" : formatTime(t.latencyS), e(t.movementShare === null ? undefined : t.movementShare * t.energyJ), ...comps.map((c) => e(t.components[c]))],
    ],
    align: ["left", ...Array.from({ length: 3 + comps.length }, () => "right" as const)],
  };
}

/** The compiler-pass ablation: energy, energy vs the full pipeline, latency, add cycles. */
export function ablationTable(r: ComparisonReport): TableSpec {
  return {
    head: ["pass off", "energy/inf", "vs full", "latency", "add cycles"],
    rows: r.ablation.map((a) => [
      a.pass === "none" ? "none (full)" : a.pass,
      formatEnergy(a.energyJ),
      formatRatio(a.energyVsFull),
      formatTime(a.latencyS),
      formatCount(a.addCycles),
    ]),
    align: ["left", "right", "right", "right", "right"],
  };
}

/** The tornado of one crossbar as a table, largest swing first, with the factor that alone reaches the target. */
export function sensitivityTable(s: SensitivityResult): TableSpec {
  const take = new Map(s.whatItTakes.map((w) => [w.parameter, w]));
  const entries = entriesBySwing(s);
  return {
    head: ["parameter", "ratio at low", "ratio at high", `alone to reach ${formatRatio(s.targetRatio)}`],
    rows: entries.map((e) => {
      const w = take.get(e.parameter);
      return [
        e.parameter,
        `${formatRatio(e.ratioAtLow)} (${factorLabel(e.lowFactor)})`,
        `${formatRatio(e.ratioAtHigh)} (${factorLabel(e.highFactor)})`,
        w === undefined ? "—" : w.factor === null ? "not alone" : `×${formatSig(w.factor, 3)}`,
      ];
    }),
    align: ["left", "right", "right", "right"],
  };
}

/**
 * One line per crossbar: the ratio's definition and base value, then the range a single parameter
 * moves it over, e.g. "crossbar-isaac energy / rtm-ap energy (higher = RTM-AP better) = 7.56x;
 * 5.36x–11.0x with one parameter at ×0.5–×2, widest: wire energy per bit per mm (both); 6 of 6
 * parameters alone reach 7.50x".
 */
export function sensitivityLines(r: ComparisonReport): string[] {
  return r.sensitivity.map((s) => {
    const range = sensitivityRange(s);
    const e0 = s.entries[0];
    const factors = e0 ? ` at ${factorLabel(e0.lowFactor)}–${factorLabel(e0.highFactor)}` : "";
    return (
      `${s.ratioDefinition} = ${formatRatio(s.baseRatio)}; ` +
      `${formatRatio(range.min)}–${formatRatio(range.max)} with one parameter${factors}` +
      `${range.widest !== undefined ? `, widest: ${range.widest}` : ""}; ` +
      `${range.reachable} of ${s.whatItTakes.length} parameters alone reach ${formatRatio(s.targetRatio)}`
    );
  });
}

/**
 * The whole terminal summary: headline, target table (with precision and the ratio against every
 * crossbar and reference row), the RTM-AP's technology scenarios, ablation table and sensitivity
 * lines, plus consistency warnings; with `layers`, the per-layer table of every target. No trailing
 * newline.
 */
export function reportText(ctx: CliContext, r: ComparisonReport, opts: { layers?: boolean } = {}): string {
  const parts: string[] = [];
  const h = headline(r);
  parts.push(`${r.model} (rtap ${r.rtapVersion})${h ? `\n${h}` : ""}`);
  if (r.targets.length) parts.push(renderTable(ctx, targetTable(r)));
  for (const t of r.targets) {
    const spec = scenarioTable(r, t);
    if (spec) parts.push(`${t.target} under each technology scenario (same events, priced with each file):\n${renderTable(ctx, spec)}`);
  }
  if (opts.layers) for (const t of r.targets) if (t.layers.length) parts.push(`${t.target} per layer:\n${renderTable(ctx, layerTable(t))}`);
  if (r.ablation.length) parts.push(`Compiler-pass ablation (RTM-AP):\n${renderTable(ctx, ablationTable(r))}`);
  const sens = sensitivityLines(r);
  if (sens.length) parts.push(`Sensitivity:\n${sens.map((l) => `  ${l}`).join("\n")}`);
  const warn = consistencyWarnings(r);
  if (warn.length) parts.push(warn.map((w) => `warning: ${w}`).join("\n"));
  return parts.join("\n\n");
}

/**
 * CSV views of a ComparisonReport (RFC 4180: comma-separated, CRLF line ends, a field is quoted
 * when it holds a comma, quote, CR or LF, or starts/ends with a space; quotes inside are doubled).
 * Numbers are written as JavaScript prints them (no rounding); an empty field means "not
 * applicable". Columns are documented in docs/report.md.
 *
 *  - summaryToCsv: one row per target (and per technology scenario of a target that has them):
 *    kind, precision, energy, latency, area, movement share and the ratio against every baseline;
 *  - reportToCsv: long format, one row per (target, layer, component) — what a script pivots;
 *  - ablationToCsv: one row per compiler-pass ablation;
 *  - sensitivityToCsv: one row per (crossbar, parameter) of the tornado and "what it takes".
 */
import { RtapError } from "../errors.js";
import { crossbarIds } from "./derive.js";
import type { ComparisonReport } from "./types.js";

/** Row label of totals: the layer column of a target's whole-network rows, the component column of a layer's sum. */
export const TOTAL = "TOTAL";

export type CsvCell = string | number | null;

/** One field, quoted when needed. Numbers must be finite; null is an empty field. */
export function csvField(v: CsvCell, where = "csv"): string {
  if (v === null) return "";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RtapError(`${String(v)} cannot be written to CSV (numbers must be finite)`, where);
    return String(v);
  }
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A whole CSV text: header, rows, every line ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[], where = "csv"): string {
  const lines = [header.map((h) => csvField(h, where)).join(",")];
  rows.forEach((row, i) => lines.push(row.map((c) => csvField(c, `${where} row ${i + 1}`)).join(",")));
  return `${lines.join("\r\n")}\r\n`;
}

export const SUMMARY_CSV_COLUMNS = ["target", "kind", "precision", "technology", "default_technology", "energy_j", "latency_s", "area_mm2", "movement_share"] as const;

/**
 * One row per target, in report order; a target priced under several technology scenarios (the
 * RTM-AP) gets one row per scenario instead (technology = the file's name, default_technology =
 * true for the one its other figures use). Then one `energy_ratio_vs_<baseline id>` column per
 * baseline (crossbars and reference rows): this row's energy / the baseline's. Empty fields: not
 * known (a reference row's latency, area, movement) or not applicable.
 */
export function summaryToCsv(r: ComparisonReport): string {
  const xs = crossbarIds(r);
  const rows: CsvCell[][] = [];
  const ratios = (m: Record<string, number>): CsvCell[] => xs.map((x) => m[x] ?? null);
  for (const t of r.targets) {
    if (t.scenarios?.length) {
      for (const s of t.scenarios) {
        rows.push([t.target, t.kind, t.precision ?? null, s.technology, s.isDefault ? "true" : "false", s.energyJ, s.latencyS, t.areaMm2, s.isDefault ? t.movementShare : null, ...ratios(s.energyRatioVsCrossbar)]);
      }
    } else {
      rows.push([t.target, t.kind, t.precision ?? null, null, null, t.energyJ, t.latencyS, t.areaMm2, t.movementShare, ...ratios(t.energyRatioVsCrossbar)]);
    }
  }
  return toCsv([...SUMMARY_CSV_COLUMNS, ...xs.map((x) => `energy_ratio_vs_${x}`)], rows, "report-summary.csv");
}

export const REPORT_CSV_COLUMNS = ["target", "layer", "component", "energy_j", "latency_s"] as const;

/**
 * Energy per (target, layer, component) in long format. For each target, in report order:
 *  - per layer, one row per component (energy_j; latency_s empty, latency is not split by
 *    component), then the layer's row with component "TOTAL" (its energy and latency);
 *  - then the whole network: layer "TOTAL", one row per component of the target's totals, then
 *    layer "TOTAL", component "TOTAL" (energy per inference and latency per inference).
 * Summing the component rows of a target's layers gives its TOTAL rows when the producer's layers
 * account for all of its energy (docs/report.md).
 */
export function reportToCsv(r: ComparisonReport): string {
  const rows: CsvCell[][] = [];
  for (const t of r.targets) {
    for (const l of t.layers) {
      for (const [c, e] of Object.entries(l.components)) rows.push([t.target, l.name, c, e, null]);
      rows.push([t.target, l.name, TOTAL, l.energyJ, l.latencyS]);
    }
    for (const [c, e] of Object.entries(t.components)) rows.push([t.target, TOTAL, c, e, null]);
    rows.push([t.target, TOTAL, TOTAL, t.energyJ, t.latencyS]);
  }
  return toCsv(REPORT_CSV_COLUMNS, rows, "report.csv");
}

export const ABLATION_CSV_COLUMNS = ["pass", "energy_j", "latency_s", "add_cycles", "energy_vs_full"] as const;

/** One row per ablation ("none" = the full pipeline), in report order. */
export function ablationToCsv(r: ComparisonReport): string {
  return toCsv(
    ABLATION_CSV_COLUMNS,
    r.ablation.map((a) => [a.pass, a.energyJ, a.latencyS, a.addCycles, a.energyVsFull]),
    "report-ablation.csv",
  );
}

export const SENSITIVITY_CSV_COLUMNS = [
  "crossbar",
  "parameter",
  "base_ratio",
  "low_factor",
  "ratio_at_low",
  "high_factor",
  "ratio_at_high",
  "target_ratio",
  "factor_to_target",
  "note",
] as const;

/**
 * One row per (crossbar, parameter): the tornado bar (tornado order, largest swing first) joined
 * with the "what it takes" answer for the same parameter; parameters only in one of the two get
 * empty fields for the other. factor_to_target is empty when the parameter alone cannot reach it.
 */
export function sensitivityToCsv(r: ComparisonReport): string {
  const rows: CsvCell[][] = [];
  for (const s of r.sensitivity) {
    const take = new Map(s.whatItTakes.map((w) => [w.parameter, w]));
    const seen = new Set<string>();
    for (const e of s.entries) {
      const w = take.get(e.parameter);
      seen.add(e.parameter);
      rows.push([s.crossbar, e.parameter, s.baseRatio, e.lowFactor, e.ratioAtLow, e.highFactor, e.ratioAtHigh, s.targetRatio, w?.factor ?? null, w?.note ?? null]);
    }
    for (const w of s.whatItTakes) {
      if (!seen.has(w.parameter)) rows.push([s.crossbar, w.parameter, s.baseRatio, null, null, null, null, s.targetRatio, w.factor, w.note]);
    }
  }
  return toCsv(SENSITIVITY_CSV_COLUMNS, rows, "report-sensitivity.csv");
}

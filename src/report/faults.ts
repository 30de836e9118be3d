/**
 * Outputs of the reliability study (`rtap faults`): CSV of the curves and the per-layer
 * sensitivity, and one HTML page with accuracy-vs-rate curves (with and without protection, per
 * architecture and fault kind, Wilson 95 % bands) and per-layer sensitivity bars.
 */
import type { FaultStudyReport } from "../faults.js";
import { renderSvg, type ChartSpec } from "./charts.js";
import { toCsv } from "./csv.js";
import { escapeHtml } from "./html.js";

export const FAULT_CURVE_CSV_COLUMNS = [
  "arch", "layout", "protect", "kind", "rate", "trials", "accuracy", "ci_low", "ci_high", "changed", "changed_ci_low", "changed_ci_high",
  "faults_per_inference", "expected_faults_per_inference", "corrected_per_inference", "uncorrectable_per_inference", "miscorrected_per_inference",
] as const;

export function faultCurvesToCsv(r: FaultStudyReport): string {
  return toCsv(FAULT_CURVE_CSV_COLUMNS, r.curves.map((c) => FAULT_CURVE_CSV_COLUMNS.map((k) => c[k] as string | number | null)));
}

export const FAULT_SENSITIVITY_CSV_COLUMNS = ["arch", "kind", "rate", "unit", "accuracy", "changed", "changed_ci_low", "changed_ci_high", "faults_per_inference"] as const;

export function faultSensitivityToCsv(r: FaultStudyReport): string {
  return toCsv(FAULT_SENSITIVITY_CSV_COLUMNS, r.sensitivity.map((c) => FAULT_SENSITIVITY_CSV_COLUMNS.map((k) => c[k] as string | number | null)));
}

function curveChart(r: FaultStudyReport): ChartSpec {
  const metric = r.fault_free_accuracy !== null ? "accuracy" : "changed";
  const values = r.curves
    .filter((c) => c.rate > 0)
    .map((c) => ({
      series: `${c.arch} ${c.kind} ${c.protect}`, arch: c.arch, kind: c.kind, protect: c.protect, rate: c.rate,
      y: metric === "accuracy" ? c.accuracy : c.changed, lo: metric === "accuracy" ? c.ci_low : c.changed_ci_low, hi: metric === "accuracy" ? c.ci_high : c.changed_ci_high,
    }));
  const enc = {
    x: { field: "rate", type: "quantitative", scale: { type: "log" }, title: "fault rate (per nanowire shift / per written cell)", axis: { format: ".0e" } },
    color: { field: "protect", type: "nominal", title: "protection" },
  } as const;
  return {
    id: "chart-fault-curves",
    title: `${metric} vs fault rate`,
    caption: `One panel per architecture and fault kind; bands are Wilson 95 % intervals over ${r.images} images x ${r.seeds} seed(s); the dashed line marks the reported physical shift-fault rate, ~1e-8 per shift. Fault-free accuracy: ${r.fault_free_accuracy === null ? "n/a" : (100 * r.fault_free_accuracy).toFixed(2) + " %"}.`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: { values },
      facet: { row: { field: "arch", type: "nominal", title: null }, column: { field: "kind", type: "nominal", title: null } },
      spec: {
        width: 320, height: 200,
        layer: [
          { mark: { type: "area", opacity: 0.2 }, encoding: { ...enc, y: { field: "lo", type: "quantitative", title: metric, scale: { domain: [0, 1] } }, y2: { field: "hi" } } },
          { mark: { type: "line", point: true }, encoding: { ...enc, y: { field: "y", type: "quantitative" } } },
          // the reported physical shift-fault rate, ~1e-8 per shift (Roxy et al., arXiv 2203.08303)
          { transform: [{ filter: "datum.kind === 'shift'" }], mark: { type: "rule", strokeDash: [4, 3], color: "#888" }, encoding: { x: { datum: 1e-8 } } },
        ],
      },
      resolve: { scale: { x: "independent" } },
      config: { background: "white", font: "sans-serif" },
    } as ChartSpec["spec"],
  };
}

function sensitivityChart(r: FaultStudyReport): ChartSpec {
  return {
    id: "chart-fault-sensitivity",
    title: "per-layer sensitivity (shift faults in one unit at a time)",
    caption: "Fraction of predictions changed when only that unit receives shift faults (unprotected), at the grid's highest shift rate.",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: { values: r.sensitivity.map((s) => ({ ...s, label: `${s.arch} @ ${s.rate.toExponential(1)}` })) },
      facet: { row: { field: "label", type: "nominal", title: null } },
      spec: {
        width: 420,
        mark: "bar",
        encoding: {
          y: { field: "unit", type: "nominal", sort: null, title: null, axis: { labelLimit: 400 } },
          x: { field: "changed", type: "quantitative", title: "predictions changed", axis: { format: "%" } },
        },
      },
      resolve: { scale: { y: "independent" } },
      config: { background: "white", font: "sans-serif" },
    } as ChartSpec["spec"],
  };
}

export async function faultReportToHtml(r: FaultStudyReport): Promise<string> {
  const charts = [curveChart(r), ...(r.sensitivity.length ? [sensitivityChart(r)] : [])];
  const figs: string[] = [];
  for (const c of charts) figs.push(`<figure><figcaption><strong>${escapeHtml(c.title)}</strong><br>${escapeHtml(c.caption)}</figcaption>\n${await renderSvg(c)}</figure>`);
  const rows = r.overhead
    .map((o) => `<tr><td>${escapeHtml(o.arch)}</td><td>${o.scheme}</td><td>${o.energy_ratio.toFixed(4)}</td><td>${o.latency_ratio.toFixed(4)}</td><td>${o.area_ratio.toFixed(3)}</td><td>${o.extra_domains_per_track}</td><td>${escapeHtml(o.assumptions.join("; "))}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rtap faults: ${escapeHtml(r.model)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#1f2933}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}figure svg{display:block;max-width:100%;height:auto}</style>
</head><body>
<h1>Reliability: ${escapeHtml(r.model)} on ${escapeHtml(r.dataset)}</h1>
<p>${r.images} images x ${r.seeds} seed(s); fault-free accuracy ${r.fault_free_accuracy === null ? "n/a" : (100 * r.fault_free_accuracy).toFixed(2) + " %"}; intervals: Wilson score, 95 %.</p>
${figs.join("\n")}
<h2>Protection overhead (fault-free, per inference, relative to unprotected)</h2>
<table><tr><th>arch</th><th>scheme</th><th>energy</th><th>latency</th><th>area</th><th>extra domains / track</th><th>assumptions</th></tr>
${rows}
</table>
</body></html>
`;
}

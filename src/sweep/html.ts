/**
 * sweep.html: one self-contained page (no scripts, no external resources) with the Pareto front
 * (energy vs latency and energy vs area, the non-dominated points of energy, latency and area
 * marked), one chart per varied parameter (energy, latency and area of every point against the
 * parameter's value), the Pareto table and the failed points. Charts are vega-lite rendered to SVG
 * in Node, as the comparison report's.
 */
import { basename } from "node:path";
import type * as vl from "vega-lite";
import { formatEnergy, formatSig, formatTime } from "../cli/format.js";
import { renderSvg, type ChartSpec } from "../report/charts.js";
import { escapeHtml as esc } from "../report/html.js";
import { FIGURES, type FigureName, type ParamValue } from "./plan.js";
import type { SweepReport, SweepRow } from "./report.js";

const CONFIG: vl.Config = {
  background: "white",
  padding: 8,
  font: "sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e8e8e8", labelLimit: 300 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13, anchor: "start" },
};

/** A parameter value as shown: files by their base name, lists joined. */
export function valueText(v: ParamValue | undefined): string {
  if (v === undefined) return "";
  if (Array.isArray(v)) return `[${v.join(", ")}]`;
  if (typeof v === "string" && (v.includes("/") || v.endsWith(".yaml") || v.endsWith(".onnx"))) return basename(v).replace(/\.ya?ml$/, "");
  return String(v);
}

function describe(r: SweepReport, row: SweepRow): string {
  const params = r.parameters.map((p) => `${p} = ${valueText(row.parameters[p])}`).join(", ");
  const f = row.figures!;
  return `point ${row.index}: ${params}; ${formatEnergy(f.energy_j)}, ${formatTime(f.latency_s)}, ${formatSig(f.area_mm2)} mm²${row.pareto ? " (Pareto)" : ""}`;
}

function dataOf(r: SweepReport): Array<Record<string, unknown>> {
  return r.rows
    .filter((x) => x.status === "ok" && x.figures)
    .map((x) => ({
      energy_uj: x.figures!.energy_j * 1e6,
      latency_ms: x.figures!.latency_s * 1e3,
      area_mm2: x.figures!.area_mm2,
      front: x.pareto ? "Pareto front" : "dominated",
      desc: describe(r, x),
      // field names without dots (vega-lite reads a dot as a nested field)
      ...Object.fromEntries(r.parameters.map((p, i) => [`p${i}`, valueText(x.parameters[p])])),
    }));
}

const FRONT_SCALE = { domain: ["Pareto front", "dominated"], range: ["#e15759", "#9aa5b1"] };

function paretoChart(r: SweepReport): ChartSpec {
  const scatter = (y: "latency_ms" | "area_mm2", title: string): vl.TopLevelSpec => ({
    width: 360,
    height: 280,
    mark: { type: "point", filled: true, size: 60, opacity: 0.85 },
    encoding: {
      x: { field: "energy_uj", type: "quantitative", scale: { type: "log" }, title: "energy per inference (µJ)" },
      y: { field: y, type: "quantitative", scale: { type: "log" }, title },
      color: { field: "front", type: "nominal", scale: FRONT_SCALE, title: null },
      shape: { field: "front", type: "nominal", scale: { domain: FRONT_SCALE.domain, range: ["diamond", "circle"] }, title: null },
      description: { field: "desc" },
    },
  }) as unknown as vl.TopLevelSpec;
  return {
    id: "chart-pareto",
    title: "Pareto front: energy, latency and area",
    caption: "Every point of the sweep; red diamonds are not dominated on energy, latency and area together (lower is better on all three), so a point can be on the front in one panel and look dominated in the other.",
    spec: { $schema: "https://vega.github.io/schema/vega-lite/v6.json", config: CONFIG, data: { values: dataOf(r) }, hconcat: [scatter("latency_ms", "latency per inference (ms)"), scatter("area_mm2", "chip area (mm²)")] } as unknown as vl.TopLevelSpec,
  };
}

function parameterChart(r: SweepReport, p: string, i: number): ChartSpec {
  const order = [...new Set(r.rows.map((x) => valueText(x.parameters[p])))];
  const panel = (field: string, title: string): unknown => ({
    width: 220,
    height: 200,
    mark: { type: "point", filled: true, size: 50, opacity: 0.8 },
    encoding: {
      x: { field: `p${i}`, type: "ordinal", sort: order, title: p, axis: { labelAngle: 0 } },
      y: { field, type: "quantitative", scale: { type: "log" }, title },
      color: { field: "front", type: "nominal", scale: FRONT_SCALE, title: null },
      description: { field: "desc" },
    },
  });
  return {
    id: `chart-param-${i + 1}`,
    title: `By ${p}`,
    caption: `Energy, latency and area of every point against ${p}; points at one value differ in the other parameters.`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      config: CONFIG,
      data: { values: dataOf(r) },
      hconcat: [panel("energy_uj", "energy (µJ)"), panel("latency_ms", "latency (ms)"), panel("area_mm2", "area (mm²)")],
    } as unknown as vl.TopLevelSpec,
  };
}

function figureText(f: FigureName, v: number | undefined): string {
  if (v === undefined) return "—";
  if (f.endsWith("_j")) return formatEnergy(v);
  if (f === "latency_s") return formatTime(v);
  return v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(3) : formatSig(v, 4);
}

function table(r: SweepReport, rows: SweepRow[], figs: FigureName[]): string {
  const head = ["#", ...r.parameters, ...figs].map((h) => `<th scope="col">${esc(h)}</th>`).join("");
  const body = rows
    .map((x) => `<tr><td>${x.index}</td>${r.parameters.map((p) => `<td>${esc(valueText(x.parameters[p]))}</td>`).join("")}${figs.map((f) => `<td class="num">${esc(figureText(f, x.figures?.[f]))}</td>`).join("")}</tr>`)
    .join("\n");
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

const CSS = `
body { font: 14px/1.45 sans-serif; color: #1f2933; margin: 0 auto; max-width: 1240px; padding: 16px 24px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #dde2e7; }
figure { margin: 12px 0; overflow-x: auto; } figcaption { color: #5b6675; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; } th, td { border: 1px solid #dde2e7; padding: 3px 8px; }
th { background: #eef1f5; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; } .muted { color: #5b6675; } code { font-size: 13px; }
`;

export async function sweepHtml(r: SweepReport): Promise<string> {
  const ok = r.rows.filter((x) => x.status === "ok");
  const failed = r.rows.filter((x) => x.status === "failed");
  const missing = r.rows.filter((x) => x.status === "missing");
  const front = r.rows.filter((x) => x.pareto);
  const charts = ok.length ? [paretoChart(r), ...r.parameters.map((p, i) => parameterChart(r, p, i))] : [];
  const figs = [...new Set<FigureName>(["energy_j", "latency_s", "area_mm2", ...r.figures])];
  const figures: string[] = [];
  for (const c of charts) figures.push(`<figure>\n${await renderSvg(c)}\n<figcaption><strong>${esc(c.title)}.</strong> ${esc(c.caption)}</figcaption>\n</figure>`);
  const [pareto, ...perParam] = figures;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rtap ${esc(r.rtapVersion)}">
<title>rtap sweep: ${esc(r.name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>rtap sweep: ${esc(r.name)}</h1>
<p class="muted">Plan <code>${esc(r.plan)}</code> · ${r.rows.length} points in ${r.groups} compile group(s) · ${ok.length} ok, ${failed.length} failed${missing.length ? `, ${missing.length} not run yet` : ""} · ${front.length} on the Pareto front · rtap ${esc(r.rtapVersion)}</p>
</header>
<main>
<section id="pareto"><h2>Pareto front</h2>
${pareto ?? '<p class="muted">No point has figures yet.</p>'}
${front.length ? table(r, front, figs) : ""}
</section>
<section id="parameters"><h2>By parameter</h2>
${perParam.length ? perParam.join("\n") : '<p class="muted">No varied parameter.</p>'}
</section>
${failed.length ? `<section id="failed"><h2>Failed points</h2>\n<ul>${failed.map((x) => `<li>point ${x.index} (${esc(r.parameters.map((p) => `${p} = ${valueText(x.parameters[p])}`).join(", "))}): ${esc(x.error ?? "")}</li>`).join("\n")}</ul>\n</section>` : ""}
<section id="points"><h2>All points</h2>
<p class="muted">Figures: ${esc(figs.map((f) => `${f} = ${FIGURES[f]}`).join("; "))}. Every point's file and all figures are in sweep.json and sweep.csv.</p>
${table(r, ok, figs)}
</section>
</main>
<footer class="muted">Written by rtap ${esc(r.rtapVersion)}. Self-contained: no scripts, no external resources.</footer>
</body>
</html>
`;
}

/**
 * report.html: one self-contained page (inline CSS, charts inlined as SVG, no script, no external
 * resource, no URL at all) with the summary, charts and tables of a ComparisonReport. Every string
 * that comes from the report is escaped; numbers are formatted like the terminal tables
 * (src/cli/format.ts). Layout described in docs/report.md.
 */
import { formatCount, formatEnergy, formatPercent, formatRatio, formatSig, formatTime } from "../cli/format.js";
import { renderCharts, type RenderedChart } from "./charts.js";
import {
  areaText,
  consistencyWarnings,
  crossbarIds,
  entriesBySwing,
  factorLabel,
  headline,
  kindName,
  largestComponent,
  ratioAgainst,
  ratioWords,
  sensitivityRange,
} from "./derive.js";
import type { ComparisonReport, SensitivityResult, TargetResult } from "./types.js";

/** Text for HTML content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const esc = escapeHtml;

/** A model-info number: integers with separators, others to 4 significant digits. */
const infoNumber = (v: number): string => (Number.isInteger(v) ? formatCount(v) : String(Number(v.toPrecision(4))));

const CSS = `
:root { color-scheme: light; --fg: #1f2933; --muted: #5b6675; --line: #dde2e7; --head: #eef1f5; --accent: #4e79a7; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h1 code { font-size: 0.9em; background: none; }
h2 { font-size: 19px; margin: 0 0 10px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; background: #eef1f5; padding: 0 3px; border-radius: 3px; }
.meta, .muted { color: var(--muted); }
.headline { font-size: 17px; margin: 10px 0 0; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; list-style: none; padding: 0; margin: 12px 0 0; font-size: 14px; }
nav a { color: var(--accent); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 22px 18px; margin: 18px 0; }
dl.info { display: grid; grid-template-columns: max-content auto; gap: 0 16px; margin: 10px 0 0; font-size: 14px; }
dl.info dt { color: var(--muted); }
dl.info dd { margin: 0; }
.table-wrap { overflow-x: auto; margin: 8px 0; }
table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--head); border-bottom: 1px solid #c9d0d8; vertical-align: bottom; }
tbody tr:nth-child(even) { background: #fafbfc; }
tfoot td, tfoot th { font-weight: 600; border-top: 2px solid #c9d0d8; }
th[scope="row"] { font-weight: 600; }
.num { text-align: right; }
td.num { white-space: nowrap; }
.label { display: block; font-weight: normal; color: var(--muted); font-size: 12.5px; min-width: 22ch; max-width: 36ch; }
.better { color: #1f7a3a; }
.worse { color: #b3261e; }
figure { margin: 14px 0 6px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13.5px; max-width: 95ch; margin-top: 6px; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
ul.notes li { margin: 4px 0; }
.warning { color: #8a5a00; }
footer { color: var(--muted); font-size: 13px; padding-bottom: 28px; }
@media print { body { background: #fff; } section { border: none; padding: 0; break-inside: avoid-page; } nav { display: none; } }
`;

interface Column {
  head: string;
  num?: boolean;
}

/** A table with a caption and column headers; `rows` are already-escaped cell HTML, the first cell a row header. */
function table(caption: string, cols: Column[], rows: string[][], foot?: string[]): string {
  const cell = (tag: "td" | "th", html: string, i: number, scope?: string): string =>
    `<${tag}${scope ? ` scope="${scope}"` : ""}${cols[i]?.num ? ' class="num"' : ""}>${html}</${tag}>`;
  const head = `<thead><tr>${cols.map((c, i) => cell("th", esc(c.head), i, "col")).join("")}</tr></thead>`;
  const body = rows.map((r) => `<tr>${r.map((h, i) => (i === 0 ? cell("th", h, i, "row") : cell("td", h, i))).join("")}</tr>`).join("\n");
  const tfoot = foot ? `<tfoot><tr>${foot.map((h, i) => (i === 0 ? cell("th", h, i, "row") : cell("td", h, i))).join("")}</tr></tfoot>` : "";
  return `<div class="table-wrap"><table>\n<caption>${esc(caption)}</caption>\n${head}\n<tbody>\n${body}\n</tbody>${tfoot}\n</table></div>`;
}

function ratioCell(q: number | undefined): string {
  if (q === undefined) return "—";
  const cls = q < 1 ? "better" : q > 1 ? "worse" : "";
  return `<span${cls ? ` class="${cls}"` : ""} title="energy / baseline energy = ${esc(formatSig(q, 4))}">${esc(ratioWords(q))}</span>`;
}

/** A baseline column head: "energy vs crossbar-isaac (W2/A4)". */
function baselineHead(r: ComparisonReport, x: string): string {
  const p = r.targets.find((t) => t.target === x)?.precision;
  return `energy vs ${x}${p ? ` (${p})` : ""}`;
}

function summaryTable(r: ComparisonReport): string {
  const xs = crossbarIds(r);
  const cols: Column[] = [
    { head: "target" },
    { head: "precision" },
    { head: "energy / inference", num: true },
    { head: "latency / inference", num: true },
    { head: "area", num: true },
    { head: "movement share", num: true },
    ...xs.map((x) => ({ head: baselineHead(r, x), num: true })),
  ];
  // (inferences per joule, 1 / energy, is in the terminal table, report.json and report-summary.csv)
  const rows = r.targets.map((t) => [
    `${esc(t.target)}<span class="label">${esc(kindName(t.kind))}: ${esc(t.label)}</span>`,
    esc(t.precision ?? "—"),
    esc(formatEnergy(t.energyJ)),
    t.latencyS === null ? "—" : esc(formatTime(t.latencyS)),
    esc(areaText(t.areaMm2)),
    t.movementShare === null ? "—" : esc(formatPercent(t.movementShare)),
    ...xs.map((x) => ratioCell(ratioAgainst(t, x))),
  ]);
  return table("Per target, per inference", cols, rows);
}

/** Every AP target with technology scenarios: one table of the same events priced with each file. */
function scenarioTables(r: ComparisonReport): string {
  const xs = crossbarIds(r);
  return r.targets
    .filter((t) => t.scenarios?.length)
    .map((t) => {
      const cols: Column[] = [
        { head: "technology" },
        { head: "energy / inference", num: true },
        { head: "largest component" },
        ...xs.map((x) => ({ head: baselineHead(r, x), num: true })),
      ];
      const rows = t.scenarios!.map((s) => [
        `${esc(s.technology)}${s.isDefault ? " (default)" : ""}<span class="label"><code>${esc(s.file)}</code></span>`,
        esc(formatEnergy(s.energyJ)),
        esc(largestComponent(s.components, s.energyJ)),
        ...xs.map((x) => ratioCell(s.energyRatioVsCrossbar[x])),
      ]);
      return table(`${t.target}: the same events priced with each technology scenario`, cols, rows);
    })
    .join("\n");
}

/** The published figures behind the reference rows. */
function referenceTable(r: ComparisonReport): string {
  const refs = r.targets.filter((t) => t.reference !== undefined);
  if (refs.length === 0) return "";
  const cols: Column[] = [{ head: "reference" }, { head: "precision" }, { head: "efficiency", num: true }, { head: "ops / inference", num: true }, { head: "energy / inference", num: true }, { head: "source" }];
  const rows = refs.map((t) => [
    esc(t.target),
    esc(t.precision ?? "—"),
    esc(`${Number((t.reference!.efficiencyOpsPerJ / 1e9).toPrecision(6))} GOPS/W`),
    esc(formatCount(t.reference!.ops)),
    esc(formatEnergy(t.energyJ)),
    esc(t.reference!.source),
  ]);
  return table("Published reference rows: energy = ops / efficiency, ops = 2 x MACs (no model; the paper's own precision and node)", cols, rows);
}

function figure(c: RenderedChart, after = ""): string {
  return `<figure id="${esc(c.id)}-figure" aria-labelledby="${esc(c.id)}-caption">
${c.svg}
<figcaption id="${esc(c.id)}-caption"><strong>${esc(c.title)}.</strong> ${esc(c.caption)}</figcaption>${after}
</figure>`;
}

function layerDetails(t: TargetResult): string {
  const comps = Object.keys(t.components);
  for (const l of t.layers) for (const c of Object.keys(l.components)) if (!comps.includes(c)) comps.push(c);
  const extras: string[] = [];
  for (const l of t.layers) for (const k of Object.keys(l.extra ?? {})) if (!extras.includes(k)) extras.push(k);
  const cols: Column[] = [
    { head: "layer" },
    { head: "energy", num: true },
    { head: "latency", num: true },
    { head: "activation movement", num: true },
    ...comps.map((c) => ({ head: c, num: true })),
    ...extras.map((k) => ({ head: k, num: true })),
  ];
  const e = (x: number | undefined): string => (x === undefined ? "—" : esc(formatEnergy(x)));
  const rows = t.layers.map((l) => [
    esc(l.name),
    e(l.energyJ),
    esc(formatTime(l.latencyS)),
    e(l.movementJ),
    ...comps.map((c) => e(l.components[c])),
    ...extras.map((k) => (l.extra?.[k] === undefined ? "—" : esc(formatSig(l.extra[k]!, 4)))),
  ]);
  const movementJ = t.movementShare === null ? undefined : t.movementShare * t.energyJ;
  const foot = ["total", e(t.energyJ), t.latencyS === null ? "—" : esc(formatTime(t.latencyS)), e(movementJ), ...comps.map((c) => e(t.components[c])), ...extras.map(() => "")];
  return `<details>
<summary>${esc(t.target)}: ${t.layers.length} layers</summary>
${table(`${t.target}: energy and latency per layer`, cols, rows, foot)}
</details>`;
}

function ablationTable(r: ComparisonReport): string {
  const cols: Column[] = [
    { head: "pass switched off" },
    { head: "energy / inference", num: true },
    { head: "vs full pipeline", num: true },
    { head: "latency / inference", num: true },
    { head: "add cycles", num: true },
  ];
  const rows = r.ablation.map((a) => [
    esc(a.pass === "none" ? "none (full pipeline)" : a.pass),
    esc(formatEnergy(a.energyJ)),
    esc(formatRatio(a.energyVsFull)),
    esc(formatTime(a.latencyS)),
    esc(formatCount(a.addCycles)),
  ]);
  return table("RTM-AP with one compiler pass switched off", cols, rows);
}

function sensitivityTable(s: SensitivityResult): string {
  const take = new Map(s.whatItTakes.map((w) => [w.parameter, w]));
  const entries = entriesBySwing(s);
  const lo = entries[0] ? factorLabel(entries[0].lowFactor) : "low";
  const hi = entries[0] ? factorLabel(entries[0].highFactor) : "high";
  const cols: Column[] = [
    { head: "parameter" },
    { head: `ratio at ${lo}`, num: true },
    { head: `ratio at ${hi}`, num: true },
    { head: "swing", num: true },
    { head: `multiplier alone to reach ${formatRatio(s.targetRatio)}`, num: true },
    { head: "note" },
  ];
  const factorCell = (f: number | null | undefined): string => (f === undefined ? "—" : f === null ? "not reachable alone" : esc(`×${formatSig(f, 3)}`));
  const rows = entries.map((e) => {
    const sameFactors = factorLabel(e.lowFactor) === lo && factorLabel(e.highFactor) === hi;
    const at = (f: number, q: number): string => esc(sameFactors ? formatRatio(q) : `${formatRatio(q)} (${factorLabel(f)})`);
    const w = take.get(e.parameter);
    return [
      esc(e.parameter),
      at(e.lowFactor, e.ratioAtLow),
      at(e.highFactor, e.ratioAtHigh),
      esc(formatSig(Math.abs(e.ratioAtHigh - e.ratioAtLow), 3)),
      factorCell(w?.factor),
      esc(w?.note ?? ""),
    ];
  });
  const inTornado = new Set(entries.map((e) => e.parameter));
  for (const w of s.whatItTakes) if (!inTornado.has(w.parameter)) rows.push([esc(w.parameter), "—", "—", "—", factorCell(w.factor), esc(w.note)]);
  return table(`Ratio against ${s.crossbar} (base ${formatRatio(s.baseRatio)}) and what it takes to reach ${formatRatio(s.targetRatio)}`, cols, rows);
}

function sensitivitySection(r: ComparisonReport, charts: RenderedChart[]): string {
  if (r.sensitivity.length === 0) return "";
  const parts = r.sensitivity.map((s, i) => {
    const c = charts.find((x) => x.id === `chart-tornado-${i + 1}`);
    const range = sensitivityRange(s);
    const intro = `<p>${esc(s.ratioDefinition)}: base <strong>${esc(formatRatio(s.baseRatio))}</strong>; one parameter at a time it spans ${esc(formatRatio(range.min))} to ${esc(formatRatio(range.max))}. ${range.reachable} of ${s.whatItTakes.length} parameters alone reach ${esc(formatRatio(s.targetRatio))}.</p>`;
    const tbl = sensitivityTable(s);
    return `<h3>Against ${esc(s.crossbar)}</h3>\n${intro}\n${c ? figure(c, `\n${tbl}`) : tbl}`;
  });
  return `<section id="sensitivity" aria-labelledby="sensitivity-h">\n<h2 id="sensitivity-h">Sensitivity</h2>\n${parts.join("\n")}\n</section>`;
}

function notesSection(r: ComparisonReport): string {
  const warnings = consistencyWarnings(r);
  const notes = [...r.notes.map((n) => `<li>${esc(n)}</li>`), ...warnings.map((w) => `<li class="warning">${esc(w)}</li>`)];
  const files = table(
    "Files behind each target's numbers",
    [{ head: "target" }, { head: "label" }, { head: "files" }],
    r.targets.map((t) => [esc(t.target), esc(t.label), t.files.length ? t.files.map((f) => `<code>${esc(f)}</code>`).join("<br>") : "—"]),
  );
  return `<section id="notes" aria-labelledby="notes-h">
<h2 id="notes-h">Notes and sources</h2>
${notes.length ? `<ul class="notes">\n${notes.join("\n")}\n</ul>` : '<p class="muted">No notes.</p>'}
${files}
</section>`;
}

/** The whole report page. Renders the charts (vega, in Node); same report, same bytes. */
export async function reportToHtml(r: ComparisonReport): Promise<string> {
  const charts = await renderCharts(r);
  const chart = (id: string): RenderedChart | undefined => charts.find((c) => c.id === id);
  const sections: Array<{ id: string; title: string; html: string }> = [];

  const headlineText = headline(r);
  sections.push({
    id: "summary",
    title: "Summary",
    html: `${headlineText ? `<p class="headline">${esc(headlineText)}</p>\n` : ""}${summaryTable(r)}
<p class="muted">Ratios compare energy per inference: “7.50x less” means the baseline (a modelled crossbar or a published reference row, at the precision in its column head) spends 7.5 times this target's energy.</p>`,
  });
  const scen = scenarioTables(r);
  const refs = referenceTable(r);
  if (scen || refs) {
    sections.push({
      id: "scenarios",
      title: "Technology scenarios and reference rows",
      html: `${scen ? `<p>The RTM-AP's events are priced with each technology file without re-simulating: typical device-level numbers (the default), a low end (SOT/skyrmion-class shifts and writes) and the array-level RTSim/DESTINY numbers.</p>\n${scen}\n` : ""}${refs}`,
    });
  }
  const targets = chart("chart-targets");
  if (targets) sections.push({ id: "targets", title: "Targets side by side", html: figure(targets) });
  const layers = chart("chart-layers");
  if (layers) {
    sections.push({
      id: "layers",
      title: "Energy per layer",
      html: `${figure(layers)}\n<h3>Per-layer tables</h3>\n${r.targets.filter((t) => t.layers.length > 0).map(layerDetails).join("\n")}`,
    });
  }
  const movement = chart("chart-movement");
  if (movement) sections.push({ id: "movement", title: "Activation movement", html: figure(movement) });
  if (r.ablation.length > 0) {
    const a = chart("chart-ablation");
    sections.push({ id: "ablation", title: "Compiler-pass ablation", html: `${ablationTable(r)}\n${a ? figure(a) : ""}` });
  }

  const body = sections.map((s) => `<section id="${s.id}" aria-labelledby="${s.id}-h">\n<h2 id="${s.id}-h">${esc(s.title)}</h2>\n${s.html}\n</section>`);
  const sens = sensitivitySection(r, charts);
  const toc = [...sections.map((s) => [s.id, s.title]), ...(sens ? [["sensitivity", "Sensitivity"]] : []), ["notes", "Notes and sources"]];
  const info = Object.entries(r.modelInfo)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(typeof v === "number" ? infoNumber(v) : v)}</dd>`)
    .join("");

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rtap ${esc(r.rtapVersion)}">
<title>rtap report: ${esc(r.model)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>rtap comparison report: <code>${esc(r.model)}</code></h1>
<p class="meta">rtap ${esc(r.rtapVersion)} · ${r.targets.length} target${r.targets.length === 1 ? "" : "s"} · energy, latency and area per inference</p>
${info ? `<dl class="info">${info}</dl>` : ""}
<nav aria-label="Contents"><ol>${toc.map(([id, t]) => `<li><a href="#${id}">${esc(t!)}</a></li>`).join("")}</ol></nav>
</header>
<main>
${body.join("\n")}
${sens}
${notesSection(r)}
</main>
<footer>Written by rtap ${esc(r.rtapVersion)}. This page is self-contained: no scripts, no external resources. The same data is in report.json and report.csv.</footer>
</body>
</html>
`;
}

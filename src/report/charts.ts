/**
 * The report's charts: Vega-Lite specs built from a ComparisonReport, rendered to SVG strings in
 * Node (vega's headless "none" renderer; no browser, no canvas). The SVG is post-processed for
 * inlining into one HTML page: no namespace URLs, ids unique per chart and independent of how many
 * charts the process rendered before (vega numbers clip paths with a global counter), a <title>
 * tooltip on every mark, and an accessible name.
 *
 * Charts (docs/report.md):
 *  - targets:   energy per inference per target (log scale) annotated with its precision and the
 *               ratio vs each baseline (crossbars and reference rows), then latency and area
 *               (targets that have them: reference rows are published efficiencies only);
 *  - layers:    energy per layer stacked by component, one panel per target (linear: a log scale
 *               cannot stack), each panel titled with the target's total;
 *  - movement:  activation-movement share of each target's energy (100% stacked bars);
 *  - ablation:  RTM-AP energy with one compiler pass off, relative to the full pipeline;
 *  - tornado-N: per crossbar baseline, the energy ratio with each parameter at its low and high
 *               factor around the base ratio, largest swing first, with the target ratio marked.
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { formatEnergy, formatPercent, formatRatio, formatSig, formatTime } from "../cli/format.js";
import {
  areaText,
  componentColors,
  crossbarIds,
  entriesBySwing,
  factorLabel,
  ratioAgainst,
  ratioWords,
} from "./derive.js";
import type { ComparisonReport, SensitivityResult, TargetResult } from "./types.js";

export interface ChartSpec {
  /** Stable id, also the prefix of every id inside the chart's SVG ("chart-layers"). */
  id: string;
  /** Short title (the figure's heading and the SVG's accessible name). */
  title: string;
  /** One or two sentences saying how to read the chart. */
  caption: string;
  spec: vl.TopLevelSpec;
}

export interface RenderedChart extends Omit<ChartSpec, "spec"> {
  /** Self-contained <svg> element, ready to inline in HTML. */
  svg: string;
}

const TITLE_COLOR = "#1f2933";
const CONFIG: vl.Config = {
  background: "white",
  padding: 8,
  view: { stroke: null },
  font: "sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, labelColor: "#333", titleColor: TITLE_COLOR, gridColor: "#e8e8e8", labelLimit: 400 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400, titleLimit: 400 },
  title: { fontSize: 14, anchor: "start", offset: 10, color: TITLE_COLOR, limit: 1200 },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

const KIND_COLORS = { ap: "#4e79a7", crossbar: "#e15759", reference: "#9c755f" } as const;
const KIND_NAMES = { ap: "associative processor", crossbar: "crossbar CIM", reference: "published reference" } as const;

/** The SI prefix putting `maxAbs` in [1, 1000): values are divided by `factor` and labelled `unit`. */
export function siUnit(maxAbs: number, unit: string): { factor: number; unit: string } {
  const prefixes: Array<[number, string]> = [[-15, "f"], [-12, "p"], [-9, "n"], [-6, "µ"], [-3, "m"], [0, ""], [3, "k"], [6, "M"]];
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return { factor: 1, unit };
  const exp = Math.min(6, Math.max(-15, Math.floor(Math.log10(maxAbs) / 3) * 3));
  const symbol = prefixes.find(([e]) => e === exp)![1];
  return { factor: 10 ** exp, unit: `${symbol}${unit}` };
}

// ---------------------------------------------------------------------------------------------
// targets side by side

function targetsChart(r: ComparisonReport): ChartSpec {
  const crossbars = crossbarIds(r);
  const energyUnit = siUnit(Math.max(0, ...r.targets.map((t) => t.energyJ)), "J");
  const latencyUnit = siUnit(Math.max(0, ...r.targets.map((t) => t.latencyS ?? 0)), "s");
  const rows = r.targets.map((t) => {
    const ratios = crossbars
      .map((x) => [x, ratioAgainst(t, x)] as const)
      .filter((p): p is readonly [string, number] => p[1] !== undefined)
      .map(([x, q]) => `${ratioWords(q)} than ${x}`);
    const first = `${formatEnergy(t.energyJ)}${t.precision ? ` (${t.precision})` : ""}`;
    const facts = [t.latencyS === null ? undefined : formatTime(t.latencyS), t.areaMm2 === null ? undefined : areaText(t.areaMm2)].filter((x) => x !== undefined);
    return {
      target: t.target,
      kind: KIND_NAMES[t.kind],
      energy: t.energyJ / energyUnit.factor,
      latency: t.latencyS === null ? null : t.latencyS / latencyUnit.factor,
      area: t.areaMm2,
      energyText: [first, ...ratios].join("\n"),
      latencyText: t.latencyS === null ? "" : formatTime(t.latencyS),
      areaText: t.areaMm2 === null ? "" : areaText(t.areaMm2),
      desc: `${t.target}: ${first} per inference${facts.length ? `, ${facts.join(", ")}` : ""}${ratios.length ? `; ${ratios.join(", ")}` : ""}`,
    };
  });
  const order = r.targets.map((t) => t.target);
  const kinds = [...new Set(r.targets.map((t) => t.kind))];
  const color = {
    field: "kind",
    type: "nominal",
    title: null,
    scale: { domain: kinds.map((k) => KIND_NAMES[k]), range: kinds.map((k) => KIND_COLORS[k]) },
    legend: { orient: "bottom", direction: "horizontal" },
  };
  const lines = 1 + Math.max(0, ...r.targets.map((t) => crossbars.filter((x) => ratioAgainst(t, x) !== undefined).length));
  const bandHeight = Math.max(30, 14 * lines + 8);
  const y = { field: "target", type: "nominal", sort: order, title: null, axis: { labelFontSize: 12, labelFontWeight: "bold" } };
  // A bar chart with a value label at each bar's end; log scale when the values span > 50x.
  const small = (field: "latency" | "area", textField: string, title: string): object => {
    const known = rows.filter((row) => row[field] !== null);
    const values = known.map((row) => row[field]!).filter((v) => v > 0);
    const spread = values.length ? Math.max(...values) / Math.min(...values) : 1;
    const scale = spread > 50 ? { type: "log" } : { type: "linear", zero: true };
    return {
      width: 230,
      height: { step: 26 },
      data: { values: known },
      layer: [
        {
          mark: { type: "bar", height: 18 },
          encoding: {
            x: { field, type: "quantitative", scale, stack: null, title, axis: { format: ".3~r", tickCount: 4, grid: true } },
            color,
            description: { field: "desc" },
          },
        },
        {
          mark: { type: "text", align: "left", baseline: "middle", dx: 4, fontSize: 11, color: "#222" },
          encoding: { x: { field, type: "quantitative", stack: null }, text: { field: textField } },
        },
      ],
      encoding: { y: { field: "target", type: "nominal", sort: order.filter((id) => known.some((row) => row.target === id)), title: null } },
    };
  };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    data: { values: rows },
    vconcat: [
      {
        title: { text: "Energy per inference (log scale), with the ratio against each baseline" },
        width: 420,
        height: { step: bandHeight },
        layer: [
          {
            mark: { type: "bar", height: Math.min(28, bandHeight - 10) },
            encoding: {
              x: {
                field: "energy",
                type: "quantitative",
                scale: { type: "log" },
                stack: null,
                title: `energy per inference (${energyUnit.unit}, log scale)`,
                axis: { format: ".3~r", grid: true },
              },
              color,
              description: { field: "desc" },
            },
          },
          {
            // vega puts the first line at the bar's middle and the others below it: lift the block by
            // half its height (of the longest label) so every label stays inside its band
            mark: { type: "text", align: "left", baseline: "middle", dx: 5, dy: (-(lines - 1) * 14) / 2, fontSize: 11, lineBreak: "\n", lineHeight: 14, color: "#222" },
            encoding: { x: { field: "energy", type: "quantitative", stack: null }, text: { field: "energyText" } },
          },
        ],
        encoding: { y },
      },
      {
        hconcat: [
          small("latency", "latencyText", `latency per inference (${latencyUnit.unit})`),
          small("area", "areaText", "area (mm²)"),
        ],
        resolve: { scale: { x: "independent" } },
      },
    ],
    spacing: 24,
    resolve: { scale: { x: "independent" } },
  };
  return {
    id: "chart-targets",
    title: "Targets side by side",
    caption:
      "Energy per inference of every target on a log scale, each bar annotated with its energy, its precision and how many times less (or more) it spends than each baseline (modelled crossbars and published reference rows); below, latency per inference and chip area of the targets that have them (reference rows are published efficiencies only).",
    spec: spec as vl.TopLevelSpec,
  };
}

// ---------------------------------------------------------------------------------------------
// energy per layer, stacked by component, one panel per target

function layerPanel(r: ComparisonReport, t: TargetResult, layerOrder: string[], colors: Map<string, string>, last: boolean): object {
  const maxLayer = Math.max(0, ...t.layers.map((l) => Object.values(l.components).reduce((a, b) => a + Math.max(0, b), 0)));
  const { factor, unit } = siUnit(maxLayer, "J");
  const comps = Object.keys(t.components);
  for (const l of t.layers) for (const c of Object.keys(l.components)) if (!comps.includes(c)) comps.push(c);
  const share = (c: string): string => (t.energyJ > 0 ? formatPercent((t.components[c] ?? 0) / t.energyJ) : "");
  const legendLabel = (c: string): string => `${c} (${share(c)})`;
  const rows = t.layers.flatMap((l) =>
    comps
      .filter((c) => l.components[c] !== undefined)
      .map((c) => ({
        layer: l.name,
        component: legendLabel(c),
        order: comps.indexOf(c),
        value: l.components[c]! / factor,
        desc: `${t.target} / ${l.name} / ${c}: ${formatEnergy(l.components[c]!)} of ${formatEnergy(l.energyJ)}`,
      })),
  );
  const covered = t.layers.reduce((s, l) => s + l.energyJ, 0);
  return {
    title: {
      text: `${t.target}: ${formatEnergy(t.energyJ)} per inference`,
      subtitle: `layers sum to ${formatEnergy(covered)}; ${comps.length} components`,
      subtitleFontSize: 11,
      subtitleColor: "#555",
    },
    width: { step: 24 },
    height: 150,
    data: { values: rows },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "layer",
        type: "nominal",
        sort: layerOrder,
        scale: { domain: layerOrder },
        title: null,
        axis: last ? { labelAngle: -50, labelLimit: 160, labelFontSize: 10 } : { labels: false, ticks: false },
      },
      y: { field: "value", type: "quantitative", stack: "zero", title: `energy (${unit})`, axis: { tickCount: 4, grid: true, minExtent: 40 } },
      color: {
        field: "component",
        type: "nominal",
        title: "component (share of total)",
        scale: { domain: comps.map(legendLabel), range: comps.map((c) => colors.get(c) ?? "#999") },
        legend: { orient: "right", symbolType: "square" },
      },
      order: { field: "order", type: "quantitative" },
      description: { field: "desc" },
    },
  };
}

function layersChart(r: ComparisonReport): ChartSpec {
  const colors = componentColors(r);
  const layerOrder: string[] = [];
  const seen = new Set<string>();
  for (const t of r.targets) for (const l of t.layers) if (!seen.has(l.name)) (seen.add(l.name), layerOrder.push(l.name));
  const withLayers = r.targets.filter((t) => t.layers.length > 0);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    vconcat: withLayers.map((t, i) => layerPanel(r, t, layerOrder, colors, i === withLayers.length - 1)),
    spacing: 18,
    resolve: { scale: { color: "independent", y: "independent" }, legend: { color: "independent" } },
  };
  return {
    id: "chart-layers",
    title: "Energy per layer, stacked by component",
    caption:
      "Energy of each layer split by component, one panel per target. Each panel has its own linear scale (stacking needs a linear axis), so compare targets by the totals in the panel titles; the legend gives each component's share of the target's total.",
    spec: spec as vl.TopLevelSpec,
  };
}

// ---------------------------------------------------------------------------------------------
// movement share

function movementChart(r: ComparisonReport): ChartSpec {
  const known = r.targets.filter((t): t is TargetResult & { movementShare: number } => t.movementShare !== null);
  const order = known.map((t) => t.target);
  const parts = ["activation movement", "compute and everything else"];
  const rows = known.flatMap((t) => [
    { target: t.target, part: parts[0], share: t.movementShare, label: formatPercent(t.movementShare), order: 0, desc: `${t.target}: activation movement ${formatPercent(t.movementShare)} of ${formatEnergy(t.energyJ)}` },
    { target: t.target, part: parts[1], share: 1 - t.movementShare, label: "", order: 1, desc: `${t.target}: compute and everything else ${formatPercent(1 - t.movementShare)}` },
  ]);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    title: { text: "Activation-movement share of energy" },
    data: { values: rows },
    width: 460,
    height: { step: 30 },
    encoding: { y: { field: "target", type: "nominal", sort: order, title: null, axis: { labelFontSize: 12, labelFontWeight: "bold" } } },
    layer: [
      {
        mark: { type: "bar", height: 20 },
        encoding: {
          x: { field: "share", type: "quantitative", stack: "normalize", title: "share of energy per inference", axis: { format: "%", grid: true } },
          color: { field: "part", type: "nominal", title: null, scale: { domain: parts, range: ["#f28e2b", "#d9dee3"] }, legend: { orient: "top", direction: "horizontal" } },
          order: { field: "order", type: "quantitative" },
          description: { field: "desc" },
        },
      },
      {
        transform: [{ filter: "datum.order == 0" }],
        mark: { type: "text", align: "left", dx: 4, fontSize: 11, color: "#222" },
        encoding: { x: { field: "share", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  };
  return {
    id: "chart-movement",
    title: "Activation-movement share",
    caption:
      "Share of each target's energy spent moving activations (row transfers, buffers and wires between arrays and tiles) against compute and everything else.",
    spec: spec as vl.TopLevelSpec,
  };
}

// ---------------------------------------------------------------------------------------------
// ablation

function ablationChart(r: ComparisonReport): ChartSpec {
  const rows = r.ablation.map((a) => ({
    pass: a.pass === "none" ? "none (full pipeline)" : `without ${a.pass}`,
    vsFull: a.energyVsFull,
    label: `${formatRatio(a.energyVsFull)} (${formatEnergy(a.energyJ)})`,
    desc: `${a.pass}: ${formatEnergy(a.energyJ)}, ${formatRatio(a.energyVsFull)} the full pipeline's energy, ${formatSig(a.addCycles)} add cycles`,
  }));
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    title: { text: "Energy with one compiler pass switched off, relative to the full pipeline" },
    data: { values: rows },
    width: 420,
    height: { step: 24 },
    layer: [
      {
        mark: { type: "bar", height: 16, color: "#4e79a7" },
        encoding: {
          y: { field: "pass", type: "nominal", sort: rows.map((x) => x.pass), title: null },
          x: { field: "vsFull", type: "quantitative", title: "energy / full pipeline energy", scale: { zero: true }, axis: { grid: true } },
          description: { field: "desc" },
        },
      },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 11, color: "#222" },
        encoding: { y: { field: "pass", type: "nominal", sort: rows.map((x) => x.pass) }, x: { field: "vsFull", type: "quantitative" }, text: { field: "label" } },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: "rule", color: "#222", strokeDash: [4, 3] },
        encoding: { x: { field: "one", type: "quantitative" } },
      },
    ],
  };
  return {
    id: "chart-ablation",
    title: "Compiler-pass ablation",
    caption: "RTM-AP energy per inference with one compiler pass switched off, as a multiple of the full pipeline's (dashed line at 1x).",
    spec: spec as vl.TopLevelSpec,
  };
}

// ---------------------------------------------------------------------------------------------
// sensitivity tornado

function tornadoChart(s: SensitivityResult, index: number): ChartSpec {
  const entries = entriesBySwing(s);
  const order = entries.map((e) => e.parameter);
  const lowName = (f: number): string => `parameter ${factorLabel(f)}`;
  const ends = [...new Set(entries.flatMap((e) => [lowName(e.lowFactor), lowName(e.highFactor)]))];
  const bars = entries.flatMap((e) =>
    ([[e.lowFactor, e.ratioAtLow], [e.highFactor, e.ratioAtHigh]] as const).map(([f, q]) => ({
      parameter: e.parameter,
      end: lowName(f),
      from: s.baseRatio,
      to: q,
      label: formatRatio(q),
      align: q >= s.baseRatio ? "left" : "right",
      desc: `${e.parameter} ${factorLabel(f)}: ratio ${formatRatio(q)} (base ${formatRatio(s.baseRatio)})`,
    })),
  );
  const all = [s.baseRatio, s.targetRatio, ...bars.map((b) => b.to)];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = (hi - lo) * 0.18 || Math.abs(hi) * 0.1 || 1;
  const domain = [Math.max(0, lo - pad), hi + pad];
  const x = { type: "quantitative", scale: { domain, zero: false, nice: false } } as const;
  // The two reference lines' labels point away from each other so they never overlap.
  const targetRight = s.targetRatio >= s.baseRatio;
  const refs = [
    { value: s.baseRatio, label: `base ${formatRatio(s.baseRatio)}`, dash: [1, 0], color: "#222", align: targetRight ? "right" : "left" },
    { value: s.targetRatio, label: `target ${formatRatio(s.targetRatio)}`, dash: [5, 4], color: "#2c7a3f", align: targetRight ? "left" : "right" },
  ];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CONFIG,
    title: { text: `Sensitivity of the energy ratio against ${s.crossbar}`, subtitle: s.ratioDefinition, subtitleFontSize: 11, subtitleColor: "#555" },
    width: 440,
    height: { step: 30 },
    layer: [
      {
        data: { values: bars },
        mark: { type: "bar", height: 18 },
        encoding: {
          y: { field: "parameter", type: "nominal", sort: order, title: null },
          x: { field: "from", ...x, title: "energy ratio (x)", axis: { grid: true } },
          x2: { field: "to" },
          color: { field: "end", type: "nominal", title: null, scale: { domain: ends, range: ["#76b7b2", "#f28e2b", "#b07aa1", "#9c755f"].slice(0, ends.length) }, legend: { orient: "top", direction: "horizontal" } },
          description: { field: "desc" },
        },
      },
      {
        data: { values: bars.filter((b) => b.align === "left") },
        mark: { type: "text", align: "left", baseline: "middle", dx: 4, fontSize: 10, color: "#222" },
        encoding: { y: { field: "parameter", type: "nominal", sort: order }, x: { field: "to", ...x }, text: { field: "label" } },
      },
      {
        data: { values: bars.filter((b) => b.align === "right") },
        mark: { type: "text", align: "right", baseline: "middle", dx: -4, fontSize: 10, color: "#222" },
        encoding: { y: { field: "parameter", type: "nominal", sort: order }, x: { field: "to", ...x }, text: { field: "label" } },
      },
      {
        data: { values: refs },
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: {
          x: { field: "value", ...x },
          color: { field: "color", type: "nominal", scale: null, legend: null },
          strokeDash: { field: "dash", type: "nominal", scale: null, legend: null },
        },
      },
      {
        data: { values: refs.filter((ref) => ref.align === "left") },
        mark: { type: "text", align: "left", baseline: "bottom", dx: 3, dy: -3, fontSize: 10, fontWeight: "bold" },
        encoding: {
          x: { field: "value", ...x },
          y: { value: 0 },
          text: { field: "label" },
          color: { field: "color", type: "nominal", scale: null, legend: null },
        },
      },
      {
        data: { values: refs.filter((ref) => ref.align === "right") },
        mark: { type: "text", align: "right", baseline: "bottom", dx: -3, dy: -3, fontSize: 10, fontWeight: "bold" },
        encoding: {
          x: { field: "value", ...x },
          y: { value: 0 },
          text: { field: "label" },
          color: { field: "color", type: "nominal", scale: null, legend: null },
        },
      },
    ],
    resolve: { scale: { color: "independent", strokeDash: "independent" } },
  };
  return {
    id: `chart-tornado-${index + 1}`,
    title: `Sensitivity vs ${s.crossbar}`,
    caption: `Each bar spans the energy ratio with one parameter alone at its low and high factor, the others unchanged; largest swing first. Solid line: base ratio ${formatRatio(s.baseRatio)}; dashed: target ${formatRatio(s.targetRatio)}. Ratio: ${s.ratioDefinition}.`,
    spec: spec as vl.TopLevelSpec,
  };
}

// ---------------------------------------------------------------------------------------------

/** Every chart of the report, in page order (charts without data are left out). */
export function chartSpecs(r: ComparisonReport): ChartSpec[] {
  const out: ChartSpec[] = [];
  if (r.targets.length > 0) out.push(targetsChart(r));
  if (r.targets.some((t) => t.layers.length > 0)) out.push(layersChart(r));
  if (r.targets.some((t) => t.movementShare !== null)) out.push(movementChart(r));
  if (r.ablation.length > 0) out.push(ablationChart(r));
  r.sensitivity.forEach((s, i) => {
    if (s.entries.length > 0) out.push(tornadoChart(s, i));
  });
  return out;
}

const escapeAttr = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * Makes vega's standalone SVG fit for inlining: drops the namespace declarations (HTML's parser
 * puts <svg> in the SVG namespace itself, and the page then holds no URL at all), renames every id
 * to `<prefix>-<n>` in order of appearance (unique on the page, same bytes on every run), gives
 * each mark a <title> (its aria-label) so hovering shows the value, and names the chart.
 */
export function inlineSvg(svg: string, prefix: string, title: string): string {
  let out = svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, "");
  const ids = new Map<string, string>();
  for (const m of out.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}-${ids.size + 1}`);
  out = out.replace(/(\sid=")([^"]+)(")/g, (_all, a: string, id: string, b: string) => `${a}${ids.get(id) ?? id}${b}`);
  out = out.replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)!})` : all));
  out = out.replace(/(xlink:)?href="#([^"]+)"/g, (all, x: string | undefined, id: string) => (ids.has(id) ? `${x ?? ""}href="#${ids.get(id)!}"` : all));
  // A self-closed mark with an aria-label gets a <title> child (native tooltip, no script needed).
  out = out.replace(/<(path|rect|circle|line)(\s[^>]*?aria-label="([^"]*)"[^>]*?)\/>/g, (_all, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${label}</title></${tag}>`);
  out = out.replace(/^<svg\s/, `<svg id="${prefix}" role="img" aria-label="${escapeAttr(title)}" `);
  return out;
}

/** Renders one Vega-Lite spec to an inline-ready SVG string (see inlineSvg). */
export async function renderSvg(chart: ChartSpec): Promise<string> {
  const compiled = vl.compile(chart.spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return inlineSvg(await view.toSVG(), chart.id, chart.title);
  } finally {
    view.finalize();
  }
}

/** Every chart of the report rendered to SVG, in page order. */
export async function renderCharts(r: ComparisonReport): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const c of chartSpecs(r)) out.push({ id: c.id, title: c.title, caption: c.caption, svg: await renderSvg(c) });
  return out;
}

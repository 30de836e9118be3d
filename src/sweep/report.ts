/**
 * The sweep's merged report, the same whichever executor produced the result files: every point of
 * the plan (ok, failed or missing) with its parameters and figures, the Pareto front over energy,
 * latency and area (per model, all minimised), written as sweep.json, sweep.csv and sweep.html.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { RTAP_VERSION } from "../version.js";
import { reportPath } from "../util/paths.js";
import { expandPlan, FIGURES, PARETO_FIGURES, type FigureName, type ParamValue, type SweepPlan } from "./plan.js";
import { readPoint, type PointResult } from "./points.js";

export interface SweepRow {
  index: number;
  id: string;
  group: string;
  model: string;
  parameters: Record<string, ParamValue>;
  status: "ok" | "failed" | "missing";
  figures?: Record<FigureName, number>;
  arch?: { name: string; file: string };
  tech?: { name: string; file: string };
  error?: string;
  pareto: boolean;
}

export interface SweepReport {
  plan: string;
  name: string;
  rtapVersion: string;
  /** The varied parameters in plan order (model first when the plan has several). */
  parameters: string[];
  figures: FigureName[];
  rows: SweepRow[];
  groups: number;
}

/** Indices of the rows not dominated on (energy, latency, area) by another ok row of the same model. */
export function paretoFront(rows: ReadonlyArray<Pick<SweepRow, "model" | "status" | "figures">>): Set<number> {
  const front = new Set<number>();
  rows.forEach((a, i) => {
    if (a.status !== "ok" || !a.figures) return;
    const dominated = rows.some((b, j) => {
      if (j === i || b.status !== "ok" || !b.figures || b.model !== a.model) return false;
      const le = PARETO_FIGURES.every((f) => b.figures![f] <= a.figures![f]);
      const lt = PARETO_FIGURES.some((f) => b.figures![f] < a.figures![f]);
      return le && lt;
    });
    if (!dominated) front.add(i);
  });
  return front;
}

/** Reads every point's result file of the plan from `out` and merges them. */
export function collectReport(plan: SweepPlan, out: string): SweepReport {
  const points = expandPlan(plan);
  const rows: SweepRow[] = points.map((p) => {
    const r: PointResult | undefined = readPoint(out, p.id);
    // a model file is named relative to the working directory (or the installation), as reports name files
    const base = { index: p.index, id: p.id, group: p.group, model: p.model.startsWith("zoo:") ? p.model : reportPath(p.model), parameters: p.parameters, pareto: false };
    if (!r) return { ...base, status: "missing" as const };
    return {
      ...base,
      status: r.status,
      ...(r.figures ? { figures: r.figures } : {}),
      ...(r.arch ? { arch: r.arch } : {}),
      ...(r.tech ? { tech: r.tech } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  });
  for (const i of paretoFront(rows)) rows[i]!.pareto = true;
  const names = points[0] ? Object.keys(points[0].parameters) : [];
  return { plan: reportPath(plan.file), name: plan.name, rtapVersion: RTAP_VERSION, parameters: names, figures: plan.figures, rows, groups: new Set(points.map((p) => p.group)).size };
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? "" : Array.isArray(v) ? v.join(" ") : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per point: parameters, status, every figure, Pareto flag, error. */
export function sweepCsv(r: SweepReport): string {
  const figs = Object.keys(FIGURES) as FigureName[];
  const head = ["index", "id", ...r.parameters, "status", ...figs, "pareto", "arch", "tech", "error"];
  const lines = [head.join(",")];
  for (const row of r.rows) {
    lines.push(
      [row.index, row.id, ...r.parameters.map((p) => row.parameters[p]), row.status, ...figs.map((f) => row.figures?.[f]), row.pareto ? 1 : 0, row.arch?.name, row.tech?.name, row.error].map(csvCell).join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** A Pareto point as the --json line and sweep.json list it: parameters and the plan's figures (and the Pareto three). */
export function paretoJson(r: SweepReport): Array<{ index: number; id: string; model: string; parameters: Record<string, ParamValue>; figures: Partial<Record<FigureName, number>> }> {
  const figs = [...new Set<FigureName>([...PARETO_FIGURES, ...r.figures])];
  return r.rows
    .filter((x) => x.pareto)
    .map((x) => ({ index: x.index, id: x.id, model: x.model, parameters: x.parameters, figures: Object.fromEntries(figs.map((f) => [f, x.figures![f]])) }));
}

export function sweepJson(r: SweepReport): Record<string, unknown> {
  return {
    plan: r.plan,
    name: r.name,
    rtap_version: r.rtapVersion,
    parameters: r.parameters,
    figures: r.figures,
    points: r.rows.length,
    ok: r.rows.filter((x) => x.status === "ok").length,
    failed: r.rows.filter((x) => x.status === "failed").length,
    missing: r.rows.filter((x) => x.status === "missing").length,
    groups: r.groups,
    pareto: paretoJson(r),
    rows: r.rows,
  };
}

/** Writes sweep.json, sweep.csv and sweep.html into `out`; returns the files. */
export async function writeSweepReport(r: SweepReport, out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true });
  const { sweepHtml } = await import("./html.js");
  const files = [join(out, "sweep.json"), join(out, "sweep.csv"), join(out, "sweep.html")];
  writeFileSync(files[0]!, `${JSON.stringify(sweepJson(r), null, 1)}\n`);
  writeFileSync(files[1]!, sweepCsv(r));
  writeFileSync(files[2]!, await sweepHtml(r));
  return files;
}

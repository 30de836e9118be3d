/**
 * The sweep's files and the work on one compile group, shared by both executors.
 *
 * Output directory:
 *   points/<id>.json          one result per point (ok or failed); a point whose file says ok is done
 *   groups/<group>.json       a compile group's events per unit per inference (the only costly
 *                             part of a point); any later point of that group is priced from it
 *   groups/<group>.arch.yaml  the group's architecture file after the plan's overrides
 *   slurm/...                 batch scripts, job ids and logs of the Slurm executor
 *   sweep.json, sweep.csv, sweep.html   the merged report
 *
 * Events do not depend on technology: pricing a point is apCostPerLayer(events, tech, arch), the
 * same sum `rtap compare` uses, so a point at the shipped files equals compare's RTM-AP row.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { archFilePath, loadArch, type ApArch } from "../ap/config.js";
import type { ApEvents } from "../ap/events.js";
import { compareInputs, type ApWorkerData } from "../compare.js";
import { networkEvents, UnitTaskRunner, unitTaskCost, type UnitInfo, type UnitTaskResult } from "../compare-units.js";
import { buildUnits } from "../compiler/units.js";
import { crossbarCost } from "../cost/crossbar.js";
import { loadCrossbarTechnology, type ApTechnology } from "../cost/technology.js";
import type { ApTarget, CrossbarTarget } from "../targets/index.js";
import { workloadFromQGraph } from "../cost/workload.js";
import { RtapError } from "../errors.js";
import { loadQuantizedModel } from "../model.js";
import type { QGraph } from "../quantize/qgraph.js";
import { reportPath } from "../util/paths.js";
import { readSourcedFile, sourcedText } from "../util/sourced-yaml.js";
import type { FigureName, ParamValue, SweepPlan, SweepPoint } from "./plan.js";

/** The result file of a point. */
export interface PointResult {
  id: string;
  index: number;
  group: string;
  model: string;
  parameters: Record<string, ParamValue>;
  status: "ok" | "failed";
  /** Architecture and technology that produced the figures (name and file). */
  arch?: { name: string; file: string };
  tech?: { name: string; file: string };
  figures?: Record<FigureName, number>;
  error?: string;
}

/** A compile group's events: what compiling and simulating its architecture on its model gave. */
export interface GroupEvents {
  group: string;
  model: string;
  /** Per unit, events per inference (the batch's events / images). */
  units: Array<{ name: string; events: ApEvents; info: UnitInfo }>;
  /** The ISAAC-style crossbar's energy on the same network (for energy_vs_crossbar_isaac). */
  crossbarIsaacJ: number;
  /** Wall time of the compile and simulation (s), summed over units. */
  seconds: number;
}

export function pointFile(out: string, id: string): string {
  return join(out, "points", `${id}.json`);
}

export function groupFile(out: string, group: string): string {
  return join(out, "groups", `${group}.json`);
}

/** Writes a file whole or not at all (a rename), so a reader or a resumed run never sees half of it. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(join(file, ".."), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined; // a torn or foreign file counts as absent: the point runs again
  }
}

/** The result of a point, if one was written. */
export function readPoint(out: string, id: string): PointResult | undefined {
  return readJson<PointResult>(pointFile(out, id));
}

/** True when the point's result file exists and says ok (failed points are retried on resume). */
export function pointDone(out: string, id: string): boolean {
  return readPoint(out, id)?.status === "ok";
}

export function writePoint(out: string, r: PointResult): void {
  writeAtomic(pointFile(out, r.id), `${JSON.stringify(r)}\n`);
}

export function failedPoint(p: SweepPoint, error: string): PointResult {
  return { id: p.id, index: p.index, group: p.group, model: p.model, parameters: p.parameters, status: "failed", error };
}

/** A group's architecture after the plan's overrides (loaded, and written out for worker threads and the record). */
export function groupArch(out: string, p: SweepPoint): { arch: ApArch; file: string } {
  const arch = loadArch(p.arch, p.archOverrides);
  const file = join(out, "groups", `${p.group}.arch.yaml`);
  if (!existsSync(file)) writeAtomic(file, sourcedText(readSourcedFile(archFilePath(p.arch), p.arch), p.archOverrides));
  return { arch, file };
}

/** The technology of an AP point, checked against its architecture's technology. */
export function pointTech(plan: SweepPlan, p: SweepPoint, arch: ApArch): ApTechnology {
  const target = plan.target as ApTarget;
  const tech = target.loadTech(p.tech, p.techOverrides);
  if (tech.technology !== arch.array.technology)
    throw new RtapError(`technology file ${tech.name} is for ${tech.technology} arrays but architecture ${arch.name} is ${arch.array.technology}`, reportPath(tech.file));
  return tech;
}

/** Every figure of an AP point: its group's events priced with its technology on its architecture (the target's sum). */
export function priceFigures(plan: SweepPlan, ev: GroupEvents, arch: ApArch, tech: ApTechnology): Record<FigureName, number> {
  return (plan.target as ApTarget).figures(ev.units, arch, tech, ev.crossbarIsaacJ);
}

function settle(out: string, p: SweepPoint, make: () => PointResult): PointResult {
  let r: PointResult;
  try {
    r = make();
  } catch (e) {
    if (!(e instanceof RtapError)) throw e;
    r = failedPoint(p, e.message);
  }
  writePoint(out, r);
  return r;
}

/** Prices an AP point from its group's events and writes its result file; a failure is recorded, not thrown. */
export function pricePoint(plan: SweepPlan, out: string, p: SweepPoint, ev: GroupEvents, arch: ApArch): PointResult {
  return settle(out, p, () => {
    const tech = pointTech(plan, p, arch);
    return {
      id: p.id,
      index: p.index,
      group: p.group,
      model: p.model,
      parameters: p.parameters,
      status: "ok",
      arch: { name: arch.name, file: reportPath(archFilePath(p.arch)) },
      tech: { name: tech.name, file: reportPath(tech.file) },
      figures: priceFigures(plan, ev, arch, tech),
    };
  });
}

/** Prices a point of a modelled target (a crossbar: nothing to compile) on the model's integer graph. */
export function priceModelPoint(plan: SweepPlan, out: string, p: SweepPoint, info: ModelInfo): PointResult {
  return settle(out, p, () => {
    const target = plan.target as CrossbarTarget;
    const tech = target.loadTech(p.tech, p.techOverrides);
    return { id: p.id, index: p.index, group: p.group, model: p.model, parameters: p.parameters, status: "ok", tech: { name: tech.name, file: reportPath(tech.file) }, figures: target.figures(info.q, tech, info.crossbarIsaacJ) };
  });
}

/** What a model contributes to every group: its integer graph, inputs, units and the crossbar baseline. */
export interface ModelInfo {
  q: QGraph;
  unitCount: number;
  /** Per unit, an estimate of its compile and simulation work (unitTaskCost), to start the largest first. */
  unitCosts: number[];
  crossbarIsaacJ: number;
}

export function modelInfo(plan: SweepPlan, model: string): ModelInfo {
  const q = loadQuantizedModel(model, { seed: plan.seed }).qgraph;
  const units = buildUnits(q);
  const unitCosts = units.map((u) => unitTaskCost(q, u));
  return { q, unitCount: units.length, unitCosts, crossbarIsaacJ: crossbarCost(workloadFromQGraph(q), loadCrossbarTechnology("crossbar-isaac")).total.energyJ };
}

/** A group's events from its units' task results (batch events / images, as `rtap compare` does). */
export function groupEventsOf(group: string, model: string, results: readonly UnitTaskResult[], images: number, crossbarIsaacJ: number, seconds: number): GroupEvents {
  return {
    group,
    model,
    // per image, with the network schedule's cycles (units overlap where their data allow)
    units: networkEvents(results, images).map((ev, i) => ({ name: results[i]!.name, events: ev, info: results[i]!.info })),
    crossbarIsaacJ,
    seconds,
  };
}

/** The worker-thread data: per model, its compile groups as variants of one task runner. */
export interface SweepWorkerData {
  /** Per model: its quantized network, input images and compile groups (as variants), as compare's AP workers get them. */
  models: ApWorkerData[];
}

/** Compiles and simulates one group in this thread (the Slurm task's path), unit by unit. */
export function computeGroupHere(plan: SweepPlan, p: SweepPoint, archFile: string, info: ModelInfo, onUnit?: () => void): GroupEvents {
  const t0 = performance.now();
  const { pixels, count } = compareInputs(info.q, { dataset: plan.dataset, images: plan.images, seed: plan.seed });
  const runner = new UnitTaskRunner(info.q, pixels, count, [{ key: p.group, arch: archFile }]);
  const results: UnitTaskResult[] = [];
  for (let u = 0; u < runner.unitCount; u++) {
    results.push(runner.run(0, u));
    onUnit?.();
  }
  return groupEventsOf(p.group, p.model, results, count, info.crossbarIsaacJ, (performance.now() - t0) / 1000);
}

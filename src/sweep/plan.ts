/**
 * Sweep plans (`rtap sweep <plan.yaml>`): the models, the base architecture and technology files,
 * the parameters to vary by dotted path into either file, how they combine, and the figures to
 * report. A plan expands into points; each point is a model, an architecture (file + overrides) and
 * a technology (file + overrides). Points with the same model and architecture form a compile
 * group: they share one compile and one simulation (events do not depend on technology).
 *
 *   models: [../test/fixtures/models/fmnist-resnet8.onnx]   # paths relative to the plan; zoo:<name>
 *   arch: rtm-ap                # a configs/arch name or a file
 *   tech: rtm-ap                # a configs/tech name or a file
 *   parameters:
 *     arch.array.rows: [256, 512, 1024]                     # a list
 *     arch.array.tracksPerRow: { from: 64, to: 256, steps: 3, scale: log }
 *     tech: [rtm-ap, rtm-ap-low, rtm-ap-destiny]            # whole-file choice
 *     tech.prices.write_cells: { from: 0.2, to: 1.0, steps: 5 }   # in the file's unit (pJ)
 *   combine: cartesian          # or zip (all parameters move together)
 *   zip: [[arch.array.rows, arch.chip.tiles]]               # groups that move together
 *   figures: [energy_j, latency_s, area_mm2, edp_js]
 *
 * Every validation error names the plan's file:line and the parameter; a path that does not exist
 * in the base file also names that file and line.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { archFilePath } from "../ap/config.js";
import { technologyPath } from "../cost/technology.js";
import { RtapError } from "../errors.js";
import { reportPath } from "../util/paths.js";
import { FIGURES, getTarget, targetIds, type ApTarget, type CrossbarTarget, type FigureName } from "../targets/index.js";
import { applyOverride, parseSourcedText, readSourcedFile, whereOf, type Override, type SourcedDoc } from "../util/sourced-yaml.js";

/** Figures every point gets (a plan's `figures` picks those reported); defined with the targets. */
export { FIGURES, type FigureName } from "../targets/index.js";
export const DEFAULT_FIGURES: readonly FigureName[] = ["energy_j", "latency_s", "area_mm2"];
/** The Pareto front is over these three, all minimised. */
export const PARETO_FIGURES = ["energy_j", "latency_s", "area_mm2"] as const;

export type ParamValue = number | string | boolean | number[];

export interface PlanParameter {
  /** "arch.array.rows", "tech.prices.write_cells", "arch", "tech" or "model". */
  name: string;
  values: ParamValue[];
  /** Where it is written: "plan.yaml:12". */
  where: string;
}

export interface SweepPlan {
  file: string;
  name: string;
  /** The target swept (src/targets): an associative processor (compiled) or a crossbar model. */
  target: ApTarget | CrossbarTarget;
  models: string[];
  arch: string;
  tech: string;
  seed: number;
  images: number;
  dataset: string | undefined;
  parameters: PlanParameter[];
  combine: "cartesian" | "zip";
  zip: string[][];
  figures: FigureName[];
}

export interface SweepPoint {
  /** Position in the plan's expansion. */
  index: number;
  /** Stable id (hash of model, architecture and technology after overrides): the result file's name. */
  id: string;
  /** Compile group (hash of model and architecture after overrides). */
  group: string;
  model: string;
  arch: string;
  archOverrides: Override[];
  tech: string;
  techOverrides: Override[];
  /** The varied values, by parameter name (model included when the plan has several). */
  parameters: Record<string, ParamValue>;
}

const TOP_KEYS = ["name", "target", "models", "arch", "tech", "seed", "images", "dataset", "parameters", "combine", "zip", "figures"];

/** Rounds away float noise of generated ranges (128 * 2^(1/1) = 255.99999999999997 -> 256). */
function clean(x: number): number {
  return Number(x.toPrecision(12));
}

function expandValues(raw: unknown, where: string, name: string): ParamValue[] {
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new RtapError(`parameter "${name}": the list of values is empty`, where);
    for (const v of raw) {
      const ok = typeof v === "number" ? Number.isFinite(v) : typeof v === "string" || typeof v === "boolean" || (Array.isArray(v) && v.every((x) => typeof x === "number"));
      if (!ok) throw new RtapError(`parameter "${name}": values must be numbers, strings, booleans or lists of numbers (got ${JSON.stringify(v)})`, where);
    }
    return raw as ParamValue[];
  }
  if (typeof raw === "object" && raw !== null) {
    const r = raw as Record<string, unknown>;
    const unknown = Object.keys(r).filter((k) => !["from", "to", "steps", "step", "scale"].includes(k));
    if (unknown.length) throw new RtapError(`parameter "${name}": unknown range field(s) ${unknown.join(", ")} (a range has from, to and steps or step, and scale: linear | log)`, where);
    const { from, to, steps, step } = r;
    const scale = r.scale ?? "linear";
    if (typeof from !== "number" || typeof to !== "number" || !Number.isFinite(from) || !Number.isFinite(to)) throw new RtapError(`parameter "${name}": a range needs numbers from and to`, where);
    if (scale !== "linear" && scale !== "log") throw new RtapError(`parameter "${name}": scale must be linear or log (got ${JSON.stringify(scale)})`, where);
    if (step !== undefined) {
      if (scale !== "linear") throw new RtapError(`parameter "${name}": step is for linear ranges; give steps (a count) for a log range`, where);
      if (typeof step !== "number" || !(step > 0)) throw new RtapError(`parameter "${name}": step must be a number > 0`, where);
      if (steps !== undefined) throw new RtapError(`parameter "${name}": give steps or step, not both`, where);
      const n = Math.floor((to - from) / step + 1e-9) + 1;
      if (!(n >= 1) || n > 100000) throw new RtapError(`parameter "${name}": from ${from} to ${to} by ${step} is ${n} values`, where);
      return Array.from({ length: n }, (_, i) => clean(from + i * step));
    }
    if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 1) throw new RtapError(`parameter "${name}": steps must be a whole number >= 1`, where);
    if (scale === "log" && (from <= 0 || to <= 0)) throw new RtapError(`parameter "${name}": a log range needs from and to > 0`, where);
    if (steps === 1) return [from];
    return Array.from({ length: steps }, (_, i) => {
      const t = i / (steps - 1);
      return clean(scale === "log" ? from * (to / from) ** t : from + (to - from) * t);
    });
  }
  if (typeof raw === "number" || typeof raw === "string" || typeof raw === "boolean") return [raw];
  throw new RtapError(`parameter "${name}": give a list of values or a range { from, to, steps, scale }`, where);
}

/** A model spec as written in the plan: zoo:<name> stays, a path is made relative to the plan's folder. */
function resolveSpec(spec: string, planDir: string, kind: "model" | "arch" | "tech"): string {
  if (kind === "model") return spec.startsWith("zoo:") || isAbsolute(spec) ? spec : resolve(planDir, spec);
  const isName = !spec.includes("/") && !spec.includes("\\") && !/\.ya?ml$/i.test(spec);
  return isName ? spec : resolve(planDir, spec);
}

/** Loads and validates a plan file. */
export function loadPlan(file: string): SweepPlan {
  const d = readSourcedFile(resolve(file), reportPath(resolve(file)), "cannot read sweep plan");
  return parsePlan(d);
}

export function parsePlanText(text: string, file: string): SweepPlan {
  return parsePlan(parseSourcedText(text, resolve(file), reportPath(resolve(file))));
}

function parsePlan(d: SourcedDoc): SweepPlan {
  const raw = d.doc.toJS() as unknown;
  const at = (...path: Array<string | number>): string => whereOf(d, path);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new RtapError("a sweep plan is a YAML mapping (models, arch, tech, parameters, figures)", d.where);
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!TOP_KEYS.includes(k)) throw new RtapError(`unknown field "${k}" (a plan has ${TOP_KEYS.join(", ")})`, at(k));
  const planDir = dirname(d.file);
  const str = (k: string, dflt?: string): string => {
    const v = r[k] ?? dflt;
    if (typeof v !== "string" || v === "") throw new RtapError(`${k}: must be ${k === "arch" ? "an architecture name or file" : k === "tech" ? "a technology name or file" : "a string"}${v === undefined ? " (missing)" : ` (got ${JSON.stringify(v)})`}`, at(k));
    return v;
  };
  const models = r.models;
  if (!Array.isArray(models) || models.length === 0 || !models.every((m) => typeof m === "string" && m !== "")) throw new RtapError("models: must be a non-empty list of model files or zoo:<name>", at("models"));
  const intField = (k: string, dflt: number, min: number): number => {
    const v = r[k] ?? dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new RtapError(`${k}: must be a whole number >= ${min} (got ${JSON.stringify(v)})`, at(k));
    return v;
  };
  const targetId = r.target ?? "rtm-ap";
  if (typeof targetId !== "string") throw new RtapError(`target: must be one of ${targetIds().join(", ")}`, at("target"));
  const target = getTarget(targetId, at("target"));
  if (target.kind === "reference") throw new RtapError(`target: ${target.id} is a published efficiency, not a model: nothing to sweep (targets: ${[...targetIds("ap"), ...targetIds("crossbar")].join(", ")})`, at("target"));
  if (target.kind === "crossbar") {
    if (r.arch !== undefined) throw new RtapError(`arch: a crossbar target (${target.id}) has no architecture file: its geometry is in its technology file`, at("arch"));
    const archParam = Object.keys((r.parameters ?? {}) as object).find((k) => k === "arch" || k.startsWith("arch."));
    if (archParam) throw new RtapError(`parameter "${archParam}": a crossbar target (${target.id}) has no architecture file; vary tech.<path> (its array, ADC and tile fields)`, at("parameters", archParam));
  }
  const combine = r.combine ?? "cartesian";
  if (combine !== "cartesian" && combine !== "zip") throw new RtapError(`combine: must be cartesian or zip (got ${JSON.stringify(combine)})`, at("combine"));
  const plan: SweepPlan = {
    file: d.file,
    name: typeof r.name === "string" ? r.name : d.where,
    target,
    models: (models as string[]).map((m) => resolveSpec(m, planDir, "model")),
    arch: target.kind === "ap" ? resolveSpec(str("arch", target.arch), planDir, "arch") : "",
    tech: resolveSpec(str("tech", target.tech), planDir, "tech"),
    seed: intField("seed", 0, 0),
    images: intField("images", 1, 1),
    dataset: r.dataset === undefined ? undefined : str("dataset"),
    parameters: [],
    combine,
    zip: [],
    figures: [...DEFAULT_FIGURES],
  };
  const params = r.parameters ?? {};
  if (typeof params !== "object" || params === null || Array.isArray(params)) throw new RtapError("parameters: must be a mapping of dotted path -> values (e.g. arch.array.rows: [256, 512])", at("parameters"));
  for (const [name, v] of Object.entries(params as Record<string, unknown>)) {
    const where = at("parameters", name);
    if (!/^(arch|tech)(\..+)?$/.test(name) && name !== "model")
      throw new RtapError(`parameter "${name}": a parameter is arch.<path> or tech.<path> (a dotted path into the architecture or technology file), arch or tech (whole files), or model`, where);
    let values = expandValues(v, where, name);
    if (name === "arch" || name === "tech" || name === "model") {
      if (!values.every((x) => typeof x === "string")) throw new RtapError(`parameter "${name}": values must be ${name === "model" ? "model files or zoo:<name>" : "file names or paths"}`, where);
      values = (values as string[]).map((x) => resolveSpec(x, planDir, name));
    }
    plan.parameters.push({ name, values, where });
  }
  if (plan.parameters.some((p) => p.name === "model") && r.models !== undefined && (models as unknown[]).length > 1)
    throw new RtapError('give the models either in "models" or as the parameter "model", not both', at("parameters", "model"));
  const zip = r.zip ?? [];
  if (!Array.isArray(zip) || !zip.every((g) => Array.isArray(g) && g.length >= 2 && g.every((x) => typeof x === "string")))
    throw new RtapError("zip: must be a list of groups, each a list of two or more parameter names", at("zip"));
  const seen = new Set<string>();
  (zip as string[][]).forEach((g, gi) => {
    for (const name of g) {
      const p = plan.parameters.find((x) => x.name === name);
      if (!p) throw new RtapError(`zip: "${name}" is not one of the parameters (${plan.parameters.map((x) => x.name).join(", ")})`, at("zip", gi));
      if (seen.has(name)) throw new RtapError(`zip: "${name}" is in two groups`, at("zip", gi));
      seen.add(name);
      if (p.values.length !== plan.parameters.find((x) => x.name === g[0])!.values.length)
        throw new RtapError(`zip: ${g.map((n) => `${n} has ${plan.parameters.find((x) => x.name === n)!.values.length} values`).join(", ")}; zipped parameters need as many values each`, at("zip", gi));
    }
  });
  plan.zip = zip as string[][];
  if (combine === "zip" && plan.parameters.length > 1) {
    const n = plan.parameters[0]!.values.length;
    const bad = plan.parameters.find((p) => p.values.length !== n);
    if (bad) throw new RtapError(`combine: zip needs as many values in every parameter: ${plan.parameters.map((p) => `${p.name} has ${p.values.length}`).join(", ")}`, bad.where);
  }
  if (r.figures !== undefined) {
    const f = r.figures;
    if (!Array.isArray(f) || f.length === 0) throw new RtapError(`figures: must be a list of figures (${Object.keys(FIGURES).join(", ")})`, at("figures"));
    f.forEach((x, i) => {
      if (typeof x !== "string" || !(x in FIGURES)) throw new RtapError(`figures: unknown figure ${JSON.stringify(x)} (figures: ${Object.keys(FIGURES).join(", ")})`, at("figures", i));
    });
    plan.figures = [...new Set(f as FigureName[])];
  }
  // every file the plan names exists (named at the line that names it)
  const exists = (kind: "arch" | "tech" | "model", spec: string, where: string): void => {
    if (kind === "model" && spec.startsWith("zoo:")) return;
    const file = kind === "arch" ? archFilePath(spec) : kind === "tech" ? technologyPath(spec) : spec;
    if (!existsSync(file))
      throw new RtapError(`${kind}: no ${kind === "arch" ? "architecture" : kind === "tech" ? "technology" : "model"} file ${reportPath(file)}${kind === "model" ? "" : ` (a name means configs/${kind}/<name>.yaml; a path is relative to the plan)`}`, where);
  };
  plan.models.forEach((m, i) => exists("model", m, at("models", i)));
  if (target.kind === "ap") exists("arch", plan.arch, at("arch"));
  exists("tech", plan.tech, at("tech"));
  for (const p of plan.parameters) if (p.name === "arch" || p.name === "tech" || p.name === "model") for (const v of p.values) exists(p.name, v as string, p.where);
  checkPaths(plan);
  return plan;
}

/**
 * Every dotted path must exist in every base file it can apply to: tried on the base file (and on
 * each whole-file choice) with the parameter's first value, so a typo fails before anything runs.
 * Value errors (a rows count the architecture rejects) are failed points, recorded per point.
 */
function checkPaths(plan: SweepPlan): void {
  const files = (kind: "arch" | "tech"): string[] => {
    const choice = plan.parameters.find((p) => p.name === kind);
    return choice ? (choice.values as string[]) : [plan[kind]];
  };
  for (const kind of ["arch", "tech"] as const) {
    const paths = plan.parameters.filter((p) => p.name.startsWith(`${kind}.`));
    if (!paths.length) continue;
    for (const f of files(kind)) {
      const file = kind === "arch" ? archFilePath(f) : technologyPath(f);
      const d = readSourcedFile(file, reportPath(file), `cannot read ${kind === "arch" ? "architecture" : "technology"} file`);
      for (const p of paths) applyOverride(d, { path: p.name.slice(kind.length + 1), value: p.values[0], origin: p.where });
    }
  }
}

/** The combinations of parameter values: cartesian over parameters and zip groups, or all zipped. */
function combinations(plan: SweepPlan): Array<Record<string, ParamValue>> {
  if (plan.parameters.length === 0) return [{}];
  // dimensions: each zip group is one dimension; other parameters one each
  const dims: PlanParameter[][] = [];
  if (plan.combine === "zip") dims.push(plan.parameters);
  else {
    const zipped = new Set(plan.zip.flat());
    for (const g of plan.zip) dims.push(g.map((n) => plan.parameters.find((p) => p.name === n)!));
    for (const p of plan.parameters) if (!zipped.has(p.name)) dims.push([p]);
    // keep the plan's order of first appearance
    dims.sort((a, b) => plan.parameters.indexOf(a[0]!) - plan.parameters.indexOf(b[0]!));
  }
  let out: Array<Record<string, ParamValue>> = [{}];
  for (const dim of dims) {
    const n = dim[0]!.values.length;
    const next: Array<Record<string, ParamValue>> = [];
    for (const partial of out) for (let i = 0; i < n; i++) {
      const c = { ...partial };
      for (const p of dim) c[p.name] = p.values[i]!;
      next.push(c);
    }
    out = next;
  }
  return out;
}

function hash(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 16);
}

/** What identifies a configuration: its file's content and the overrides' paths and values (not where they were written). */
function configKey(kind: "arch" | "tech", spec: string, overrides: readonly Override[], cache: Map<string, string>): string {
  let text = cache.get(`${kind}\0${spec}`);
  if (text === undefined) {
    const file = kind === "arch" ? archFilePath(spec) : technologyPath(spec);
    text = readSourcedFile(file, spec, `cannot read ${kind === "arch" ? "architecture" : "technology"} file`).doc.toString();
    cache.set(`${kind}\0${spec}`, text);
  }
  return JSON.stringify([hash(text), overrides.map((o) => [o.path, o.value])]);
}

/** The plan's points, in order: models outermost, then the combinations. */
export function expandPlan(plan: SweepPlan): SweepPoint[] {
  const modelParam = plan.parameters.find((p) => p.name === "model");
  const models = modelParam ? (modelParam.values as string[]) : plan.models;
  const combos = combinations(plan);
  const cache = new Map<string, string>();
  const points: SweepPoint[] = [];
  const outer = modelParam ? [undefined] : models;
  for (const m of outer) {
    for (const c of combos) {
      const model = (modelParam ? c.model : m) as string;
      const archOverrides: Override[] = [];
      const techOverrides: Override[] = [];
      let arch = plan.arch, tech = plan.tech;
      for (const p of plan.parameters) {
        const v = c[p.name]!;
        if (p.name === "arch") arch = v as string;
        else if (p.name === "tech") tech = v as string;
        else if (p.name.startsWith("arch.")) archOverrides.push({ path: p.name.slice(5), value: v, origin: p.where });
        else if (p.name.startsWith("tech.")) techOverrides.push({ path: p.name.slice(5), value: v, origin: p.where });
      }
      // ids from the files' content after overrides: the same design gets the same id in any plan
      // a compile group: one model on one architecture (a crossbar target compiles nothing: one group per model)
      const group = hash(JSON.stringify([model, plan.seed, plan.images, plan.dataset ?? null, plan.target.kind === "ap" ? configKey("arch", arch, archOverrides, cache) : plan.target.id]));
      const id = hash(JSON.stringify([group, plan.target.id, configKey("tech", tech, techOverrides, cache)]));
      const parameters: Record<string, ParamValue> = {};
      if (!modelParam && models.length > 1) parameters.model = model;
      for (const p of plan.parameters) parameters[p.name] = c[p.name]!;
      points.push({ index: points.length, id, group, model, arch, archOverrides, tech, techOverrides, parameters });
    }
  }
  return points;
}

/** Points by compile group, in order of first appearance. */
export function compileGroups(points: readonly SweepPoint[]): Map<string, SweepPoint[]> {
  const out = new Map<string, SweepPoint[]>();
  for (const p of points) {
    let g = out.get(p.group);
    if (!g) out.set(p.group, (g = []));
    g.push(p);
  }
  return out;
}

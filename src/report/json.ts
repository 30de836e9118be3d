/**
 * report.json: the ComparisonReport as JSON, and back.
 *
 * Writing is canonical so the same report gives the same bytes however its objects were built:
 * the fields of every record type come in the order src/report/types.ts declares them, maps keyed
 * by data (components, modelInfo, extra, energyRatioVsCrossbar, events) keep the producer's order (it is the
 * presentation order, e.g. a cost model's component order), fields outside the types are dropped.
 * Numbers are written as JavaScript prints them (shortest text that reads back to the same double),
 * so nothing is rounded; a non-finite number (which JSON cannot hold) is an error naming its field.
 *
 * Reading (`parseReportJson`) validates the shape and names the file and field of any problem, so
 * `rtap report <report.json>` can re-render a saved report.
 */
import * as z from "zod";
import { RtapError } from "../errors.js";
import type {
  AblationResult,
  ComparisonReport,
  LayerResult,
  ScenarioResult,
  SensitivityEntry,
  SensitivityResult,
  TargetResult,
  WhatItTakes,
} from "./types.js";

/** The report with every object rebuilt in declared field order (the canonical form written). */
export function canonicalReport(r: ComparisonReport): ComparisonReport {
  return {
    model: r.model,
    modelInfo: { ...r.modelInfo },
    rtapVersion: r.rtapVersion,
    targets: r.targets.map(canonicalTarget),
    ablation: r.ablation.map(canonicalAblation),
    sensitivity: r.sensitivity.map(canonicalSensitivity),
    notes: [...r.notes],
  };
}

function canonicalTarget(t: TargetResult): TargetResult {
  const out: Record<string, unknown> = { target: t.target, label: t.label, kind: t.kind, files: [...t.files] };
  if (t.precision !== undefined) out.precision = t.precision;
  out.energyJ = t.energyJ;
  out.latencyS = t.latencyS;
  out.areaMm2 = t.areaMm2;
  out.inferencesPerJ = t.inferencesPerJ;
  out.movementShare = t.movementShare;
  out.energyRatioVsCrossbar = { ...t.energyRatioVsCrossbar };
  out.components = { ...t.components };
  out.layers = t.layers.map(canonicalLayer);
  if (t.events !== undefined) out.events = { ...t.events };
  if (t.scenarios !== undefined) out.scenarios = t.scenarios.map(canonicalScenario);
  if (t.reference !== undefined) out.reference = { efficiencyOpsPerJ: t.reference.efficiencyOpsPerJ, ops: t.reference.ops, source: t.reference.source };
  return out as unknown as TargetResult;
}

function canonicalScenario(s: ScenarioResult): ScenarioResult {
  return {
    technology: s.technology,
    file: s.file,
    isDefault: s.isDefault,
    energyJ: s.energyJ,
    latencyS: s.latencyS,
    components: { ...s.components },
    energyRatioVsCrossbar: { ...s.energyRatioVsCrossbar },
  };
}

function canonicalLayer(l: LayerResult): LayerResult {
  const out: LayerResult = {
    name: l.name,
    energyJ: l.energyJ,
    components: { ...l.components },
    latencyS: l.latencyS,
    movementJ: l.movementJ,
  };
  if (l.extra !== undefined) out.extra = { ...l.extra };
  return out;
}

function canonicalAblation(a: AblationResult): AblationResult {
  return { pass: a.pass, energyJ: a.energyJ, latencyS: a.latencyS, addCycles: a.addCycles, energyVsFull: a.energyVsFull };
}

function canonicalSensitivity(s: SensitivityResult): SensitivityResult {
  return {
    crossbar: s.crossbar,
    ratioDefinition: s.ratioDefinition,
    baseRatio: s.baseRatio,
    entries: s.entries.map(
      (e): SensitivityEntry => ({
        parameter: e.parameter,
        lowFactor: e.lowFactor,
        highFactor: e.highFactor,
        ratioAtLow: e.ratioAtLow,
        ratioAtHigh: e.ratioAtHigh,
      }),
    ),
    targetRatio: s.targetRatio,
    whatItTakes: s.whatItTakes.map((w): WhatItTakes => ({ parameter: w.parameter, factor: w.factor, note: w.note })),
  };
}

/** Throws an RtapError naming the first non-finite number (JSON would silently turn it into null). */
export function assertFiniteNumbers(value: unknown, path = "report"): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RtapError(`${String(value)} cannot be written to a report (numbers must be finite)`, path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => assertFiniteNumbers(v, `${path}[${i}]`));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) assertFiniteNumbers(v, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
  }
}

/** The report as pretty-printed canonical JSON (2-space indent, trailing newline). */
export function reportToJson(r: ComparisonReport): string {
  const c = canonicalReport(r);
  assertFiniteNumbers(c);
  return `${JSON.stringify(c, null, 2)}\n`;
}

const numberMap = z.record(z.string(), z.number());

const layerSchema = z.object({
  name: z.string(),
  energyJ: z.number(),
  components: numberMap,
  latencyS: z.number(),
  movementJ: z.number(),
  extra: numberMap.optional(),
});

const scenarioSchema = z.object({
  technology: z.string(),
  file: z.string(),
  isDefault: z.boolean(),
  energyJ: z.number(),
  latencyS: z.number(),
  components: numberMap,
  energyRatioVsCrossbar: numberMap,
});

const targetSchema = z.object({
  target: z.string(),
  label: z.string(),
  kind: z.enum(["ap", "crossbar", "reference"]),
  files: z.array(z.string()),
  precision: z.string().optional(),
  energyJ: z.number(),
  latencyS: z.number().nullable(),
  areaMm2: z.number().nullable(),
  inferencesPerJ: z.number(),
  movementShare: z.number().nullable(),
  energyRatioVsCrossbar: numberMap,
  components: numberMap,
  layers: z.array(layerSchema),
  events: numberMap.optional(),
  scenarios: z.array(scenarioSchema).optional(),
  reference: z.object({ efficiencyOpsPerJ: z.number(), ops: z.number(), source: z.string() }).optional(),
});

const reportSchema = z.object({
  model: z.string(),
  modelInfo: z.record(z.string(), z.union([z.string(), z.number()])),
  rtapVersion: z.string(),
  targets: z.array(targetSchema),
  ablation: z.array(
    z.object({ pass: z.string(), energyJ: z.number(), latencyS: z.number(), addCycles: z.number(), energyVsFull: z.number() }),
  ),
  sensitivity: z.array(
    z.object({
      crossbar: z.string(),
      ratioDefinition: z.string(),
      baseRatio: z.number(),
      entries: z.array(
        z.object({ parameter: z.string(), lowFactor: z.number(), highFactor: z.number(), ratioAtLow: z.number(), ratioAtHigh: z.number() }),
      ),
      targetRatio: z.number(),
      whatItTakes: z.array(z.object({ parameter: z.string(), factor: z.number().nullable(), note: z.string() })),
    }),
  ),
  notes: z.array(z.string()),
}) satisfies z.ZodType<ComparisonReport>;

/**
 * Reads a report written by reportToJson (or any JSON of the ComparisonReport shape). `file` names
 * the source in error messages. Unknown fields are ignored.
 */
export function parseReportJson(text: string, file = "report.json"): ComparisonReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RtapError(`not valid JSON (${(e as Error).message})`, file);
  }
  const parsed = reportSchema.safeParse(raw);
  if (!parsed.success) throw new RtapError(`not a comparison report\n${z.prettifyError(parsed.error)}`, file);
  return parsed.data;
}

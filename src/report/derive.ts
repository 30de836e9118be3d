/**
 * Quantities every report view derives the same way from a ComparisonReport: the crossbar
 * baselines, how an energy ratio reads in words, the component order and colours shared by the
 * charts, consistency checks between a target's layers and its totals, and sensitivity ranges.
 */
import { formatArea, formatEnergy, formatPercent, formatRatio } from "../cli/format.js";
import type { ComparisonReport, SensitivityResult, TargetResult } from "./types.js";

/**
 * The baselines, in report order (the columns of every "vs crossbar" view): the modelled crossbars
 * and the published reference rows. TargetResult.energyRatioVsCrossbar is keyed by these ids.
 */
export function crossbarIds(r: ComparisonReport): string[] {
  return r.targets.filter((t) => t.kind === "crossbar" || t.kind === "reference").map((t) => t.target);
}

/** "crossbar-isaac (W2/A4)": a target id with the precision it holds for, when known. */
export function withPrecision(r: ComparisonReport, id: string): string {
  const p = r.targets.find((t) => t.target === id)?.precision;
  return p ? `${id} (${p})` : id;
}

/** What a target kind is, in words. */
export function kindName(kind: TargetResult["kind"]): string {
  return kind === "ap" ? "associative processor" : kind === "crossbar" ? "crossbar" : "published reference";
}

/** The largest component of an energy split and its share, e.g. "write 61%" ("—" when empty). */
export function largestComponent(components: Record<string, number>, totalJ: number): string {
  const top = Object.entries(components).sort((a, b) => b[1] - a[1])[0];
  return top && totalJ > 0 ? `${top[0]} ${formatPercent(top[1] / totalJ)}` : "—";
}

/**
 * `ratio` is this target's energy / the crossbar's (TargetResult.energyRatioVsCrossbar), so below 1
 * means this target spends less: 0.132 reads "7.58x less", 2 reads "2.00x more".
 */
export function ratioWords(ratio: number): string {
  if (!(ratio > 0) || !Number.isFinite(ratio)) return String(ratio);
  if (ratio === 1) return "same energy";
  return ratio < 1 ? `${formatRatio(1 / ratio)} less` : `${formatRatio(ratio)} more`;
}

/** Ratio of `t` against crossbar `x`, or undefined when absent or when `t` is that crossbar. */
export function ratioAgainst(t: TargetResult, x: string): number | undefined {
  return t.target === x ? undefined : t.energyRatioVsCrossbar[x];
}

/** Every component name of every target, in order of first appearance (targets, then their order). */
export function componentOrder(r: ComparisonReport): string[] {
  const seen = new Set<string>();
  for (const t of r.targets) {
    for (const c of Object.keys(t.components)) seen.add(c);
    for (const l of t.layers) for (const c of Object.keys(l.components)) seen.add(c);
  }
  return [...seen];
}

/**
 * Colour-blind-friendly categorical palette (Tableau 10, then Tableau 20's light tones), so the same
 * component keeps one colour in every chart of a report.
 */
const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
  "#a0cbe8", "#ffbe7d", "#ff9d9a", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#86bcb6", "#79706e",
];

/**
 * One colour per component name, the same in every chart of the report. Colours are handed out
 * target by target, each new component taking the first palette colour no other component of the
 * same target has, so a target's own components are always distinguishable.
 */
export function componentColors(r: ComparisonReport): Map<string, string> {
  const colors = new Map<string, string>();
  const groups = r.targets.map((t) => {
    const names = new Set(Object.keys(t.components));
    for (const l of t.layers) for (const c of Object.keys(l.components)) names.add(c);
    return [...names];
  });
  for (const names of groups) {
    const used = new Set(names.map((c) => colors.get(c)).filter((c) => c !== undefined));
    for (const c of names) {
      if (colors.has(c)) continue;
      const free = PALETTE.find((p) => !used.has(p)) ?? PALETTE[colors.size % PALETTE.length]!;
      colors.set(c, free);
      used.add(free);
    }
  }
  return colors;
}

/** Sum of a target's layer energies over its total energy (1 when the layers account for everything). */
export function layerCoverage(t: TargetResult): number {
  const sum = t.layers.reduce((s, l) => s + l.energyJ, 0);
  return t.energyJ === 0 ? (sum === 0 ? 1 : Number.POSITIVE_INFINITY) : sum / t.energyJ;
}

/** Differences between a target's layers and its totals worth telling the reader (> 0.1%). */
export function consistencyWarnings(r: ComparisonReport): string[] {
  const out: string[] = [];
  for (const t of r.targets) {
    if (t.layers.length === 0) continue;
    const cov = layerCoverage(t);
    if (Math.abs(cov - 1) > 1e-3) {
      out.push(`${t.target}: its layers sum to ${formatPercent(cov)} of its total energy (the rest is not attributed to a layer).`);
    }
    const compSum = Object.values(t.components).reduce((a, b) => a + b, 0);
    if (t.energyJ > 0 && Object.keys(t.components).length > 0 && Math.abs(compSum / t.energyJ - 1) > 1e-3) {
      out.push(`${t.target}: its components sum to ${formatPercent(compSum / t.energyJ)} of its total energy.`);
    }
  }
  return out;
}

export interface SensitivityRange {
  /** Lowest and highest ratio any single parameter reaches at its low or high factor. */
  min: number;
  max: number;
  /** The parameter with the largest swing (first entry: entries come sorted by swing). */
  widest: string | undefined;
  /** Parameters that alone reach the target ratio. */
  reachable: number;
}

export function sensitivityRange(s: SensitivityResult): SensitivityRange {
  let min = s.baseRatio;
  let max = s.baseRatio;
  let widest: string | undefined;
  let widestSwing = -1;
  for (const e of s.entries) {
    min = Math.min(min, e.ratioAtLow, e.ratioAtHigh);
    max = Math.max(max, e.ratioAtLow, e.ratioAtHigh);
    const swing = Math.abs(e.ratioAtHigh - e.ratioAtLow);
    if (swing > widestSwing) {
      widestSwing = swing;
      widest = e.parameter;
    }
  }
  return { min, max, widest, reachable: s.whatItTakes.filter((w) => w.factor !== null).length };
}

/** Tornado entries sorted by swing, largest first (stable for equal swings). */
export function entriesBySwing(s: SensitivityResult): SensitivityResult["entries"] {
  return [...s.entries].sort((a, b) => Math.abs(b.ratioAtHigh - b.ratioAtLow) - Math.abs(a.ratioAtHigh - a.ratioAtLow));
}

/** "×0.5" style factor label. */
export function factorLabel(f: number): string {
  return `×${Number(f.toPrecision(3))}`;
}

/** Area given in mm² (TargetResult.areaMm2), formatted like every other area ("11.8 mm²"). */
export function areaText(mm2: number | null): string {
  return mm2 === null ? "—" : formatArea(mm2 * 1e-6);
}

/** The AP the report is about: "rtm-ap" when present, else the first AP target. */
export function primaryAp(r: ComparisonReport): TargetResult | undefined {
  return r.targets.find((t) => t.target === "rtm-ap") ?? r.targets.find((t) => t.kind === "ap");
}

/**
 * One sentence with the result: the primary AP's energy against each baseline (with the precision
 * the baseline holds for) and its movement share, e.g. "rtm-ap: 4.46 µJ per inference, 7.56x less
 * energy than crossbar-isaac (W2/A4), 6.59x less than crossbar-neurosim22 (W2/A4); activation
 * movement 3.0% of its energy." Empty without an AP.
 */
export function headline(r: ComparisonReport): string {
  const ap = primaryAp(r);
  if (!ap) return "";
  const vs = crossbarIds(r)
    .map((x) => [x, ratioAgainst(ap, x)] as const)
    .filter((p): p is readonly [string, number] => p[1] !== undefined)
    .map(([x, q], i) => `${ratioWords(q)}${i === 0 ? " energy" : ""} than ${withPrecision(r, x)}`);
  const movement = ap.movementShare === null ? "" : `; activation movement ${formatPercent(ap.movementShare)} of its energy`;
  return `${ap.target}: ${formatEnergy(ap.energyJ)} per inference${vs.length ? `, ${vs.join(", ")}` : ""}${movement}.`;
}

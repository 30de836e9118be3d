/**
 * What a target is, for every study (compare, sweep): an associative processor that is compiled
 * and simulated (its events then priced with a technology file on its architecture), a modelled
 * crossbar, or a published reference efficiency. src/targets/index.ts is the registry.
 */
import type { ApArch } from "../ap/config.js";
import type { ApEvents } from "../ap/events.js";
import type { ApTechnology, CrossbarTechnology, ReferenceTechnology } from "../cost/technology.js";
import type { Override } from "../util/sourced-yaml.js";
import type { QuantizedModel } from "../model.js";
import type { QGraph } from "../quantize/qgraph.js";
import type { TargetResult } from "../report/types.js";
import type { ApRun } from "./ap.js";

/** Figures of one design point (a sweep's row); every target gives all of them. */
export const FIGURES = {
  energy_j: "energy per inference (J)",
  latency_s: "latency per inference (s)",
  area_mm2: "chip area (mm²)",
  edp_js: "energy-delay product (J·s)",
  inferences_per_j: "inferences per joule",
  movement_share: "share of energy in activation movement",
  energy_vs_crossbar_isaac: "energy / the ISAAC-style crossbar's energy on the same network",
  search_j: "search energy (J)",
  write_j: "write energy (J)",
  shift_j: "shift energy (J)",
  periphery_j: "periphery energy (J)",
  movement_j: "movement energy (J; crossbars: interconnect)",
  buffers_j: "global-buffer energy (J)",
  leakage_j: "leakage energy (J)",
  arrays: "arrays on the chip",
} as const;
export type FigureName = keyof typeof FIGURES;
export type SweepFigures = Record<FigureName, number>;

interface TargetBase {
  id: string;
  /** Row label in reports. */
  label: string;
  /** Default technology file (a configs/tech name). */
  tech: string;
}

/** An associative processor: compile and simulate for `arch`, then price the events with `tech`. */
export interface ApTarget extends TargetBase {
  kind: "ap";
  /** Default architecture file (a configs/arch name). */
  arch: string;
  /** Array technology its architecture and technology files must have. */
  technology: "rtm" | "sram";
  /** Technology files the same events are also priced with (default first). */
  scenarios?: readonly string[];
  loadTech(spec: string, overrides?: readonly Override[]): ApTechnology;
  /** The comparison row of a run. */
  row(run: ApRun, ctx: { label: string; files: string[]; tech: ApTechnology; arch: ApArch; precision: string; scenarios: readonly string[] }): TargetResult;
  /** A sweep point's figures from a run's events per unit per inference. */
  figures(perUnit: ReadonlyArray<{ name: string; events: ApEvents }>, arch: ApArch, tech: ApTechnology, crossbarIsaacJ: number): SweepFigures;
}

/** A crossbar accelerator model on the network's integer graph (nothing to compile). */
export interface CrossbarTarget extends TargetBase {
  kind: "crossbar";
  loadTech(spec: string, overrides?: readonly Override[]): CrossbarTechnology;
  row(m: QuantizedModel, tech: CrossbarTechnology): TargetResult;
  figures(q: QGraph, tech: CrossbarTechnology, crossbarIsaacJ: number): SweepFigures;
}

/** A published efficiency (no model): energy = 2 x MACs / efficiency. */
export interface ReferenceTarget extends TargetBase {
  kind: "reference";
  loadTech(spec: string, overrides?: readonly Override[]): ReferenceTechnology;
  row(ref: ReferenceTechnology, macs: number): TargetResult;
}

export type Target = ApTarget | CrossbarTarget | ReferenceTarget;

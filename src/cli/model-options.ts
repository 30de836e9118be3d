/**
 * Options shared by the commands that compile a model: model seed, activation bits, architecture
 * file, passes to switch off.
 */
import { Option } from "commander";
import { RtapError } from "../errors.js";
import type { PassSwitches } from "../compiler/lower.js";
import { PASS_NAMES, passByName } from "../compiler/pipeline.js";
import { parsePositiveInt } from "./options.js";

export interface ModelCliOptions {
  seed: number;
  activationBits: number;
  arch: string;
  disable?: string;
  splitBudget?: number;
}

/** --split-budget: a fraction >= 0, or "none" for the fastest split whatever it costs. */
export function parseSplitBudget(v: string): number {
  if (v === "none") return Infinity;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || x < 0) throw new RtapError(`--split-budget expects a fraction >= 0 (0.05 = 5%) or "none", got "${v}"`);
  return x;
}

export function splitBudgetOption(): Option {
  return new Option(
    "--split-budget <fraction>",
    'how much more estimated energy the chip schedule may spend to split a layer into more parts that run at once (default 0.05; "none": the fastest split); docs/compiler.md 2.8a',
  ).argParser(parseSplitBudget);
}

export function parseSeed(v: string): number {
  if (!/^\d+$/.test(v)) throw new RtapError(`--seed expects a non-negative integer, got "${v}"`);
  return Number(v);
}

export function modelOptions(): Option[] {
  return [
    new Option("--seed <n>", "seed of zoo weights and synthetic calibration images").argParser(parseSeed).default(0),
    new Option("--activation-bits <k>", "bits of activation quantizers inserted into float models").argParser(parsePositiveInt).default(4),
  ];
}

export function compilerOptions(): Option[] {
  return [
    new Option("--arch <name|file>", "AP architecture: rtm-ap (interleaved racetrack pages), rtm-ap-serial (bits along the tracks), sram-ap or a YAML file (configs/arch/)").default("rtm-ap"),
    new Option("--disable <passes>", `compiler passes to switch off, comma-separated: ${Object.values(PASS_NAMES).join(", ")}`),
    splitBudgetOption(),
  ];
}

export function disabledPasses(list: string | undefined): (keyof PassSwitches)[] {
  if (!list) return [];
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(passByName);
}

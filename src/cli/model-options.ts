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

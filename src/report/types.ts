/**
 * The data of a comparison report: what `rtap compare` computes and `rtap report` writes as JSON,
 * CSV and HTML. Plain JSON-compatible objects (numbers in SI units: J, s, mm^2).
 */

/** Energy of one layer (or the whole network) split by component, in joules. */
export type ComponentEnergy = Record<string, number>;

export interface LayerResult {
  /** Layer (compute unit) name, e.g. "layer1.0.conv1". */
  name: string;
  energyJ: number;
  components: ComponentEnergy;
  latencyS: number;
  /** Activation-movement energy of this layer (J). */
  movementJ: number;
  /** Free-form numbers worth showing per layer (row utilisation, add cycles, shifts...). */
  extra?: Record<string, number>;
}

export interface TargetResult {
  /** Target id: "rtm-ap", "sram-ap", "crossbar-isaac", "crossbar-neurosim22", ... */
  target: string;
  /** Human label, e.g. "RTM-AP (configs/arch/rtm-ap.yaml, configs/tech/rtm-ap.yaml)". */
  label: string;
  kind: "ap" | "crossbar";
  /** Files that produced the numbers (architecture, technology). */
  files: string[];
  energyJ: number;
  latencyS: number;
  areaMm2: number;
  inferencesPerJ: number;
  /** Activation-movement share of energy (0..1). */
  movementShare: number;
  /** This target's energy divided by each crossbar baseline's energy, keyed by crossbar target id. */
  energyRatioVsCrossbar: Record<string, number>;
  components: ComponentEnergy;
  layers: LayerResult[];
}

/** RTM-AP with one compiler pass switched off. */
export interface AblationResult {
  /** Pass name ("cse", "unroll", ...), or "none" for the full pipeline. */
  pass: string;
  energyJ: number;
  latencyS: number;
  /** Bit-serial add cycles of the program. */
  addCycles: number;
  /** Energy relative to the full pipeline. */
  energyVsFull: number;
}

/** One bar of the tornado: the RTM-AP/crossbar energy ratio with a parameter at 0.5x and 2x. */
export interface SensitivityEntry {
  parameter: string;
  lowFactor: number;
  highFactor: number;
  ratioAtLow: number;
  ratioAtHigh: number;
}

export interface WhatItTakes {
  parameter: string;
  /** Multiplier of the parameter alone that reaches the target ratio, or null if unreachable. */
  factor: number | null;
  note: string;
}

export interface SensitivityResult {
  /** Which crossbar the ratio is against. */
  crossbar: string;
  /** Ratio definition, e.g. "crossbar energy / RTM-AP energy" (higher = RTM-AP better). */
  ratioDefinition: string;
  baseRatio: number;
  entries: SensitivityEntry[];
  targetRatio: number;
  whatItTakes: WhatItTakes[];
}

export interface ComparisonReport {
  /** Model spec as given (file path or zoo:name). */
  model: string;
  /** Short model description (layers, MACs, sparsity...). */
  modelInfo: Record<string, string | number>;
  rtapVersion: string;
  targets: TargetResult[];
  ablation: AblationResult[];
  sensitivity: SensitivityResult[];
  /** Notes: quantization notes, assumptions, caveats. */
  notes: string[];
}

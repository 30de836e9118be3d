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

/**
 * What a target is: an associative processor (compiled, simulated, priced), a modelled crossbar, or a
 * published reference efficiency (energy = ops / efficiency, no model; latency, area and movement
 * unknown).
 */
export type TargetKind = "ap" | "crossbar" | "reference";

/** The same AP events priced with another technology file (a technology scenario). */
export interface ScenarioResult {
  /** Technology name (the file's `name`), e.g. "rtm-ap-low". */
  technology: string;
  /** The technology file. */
  file: string;
  /** True for the target's own technology (its energyJ is the target's). */
  isDefault: boolean;
  energyJ: number;
  latencyS: number;
  components: ComponentEnergy;
  /** This scenario's energy divided by each baseline's energy, keyed by target id. */
  energyRatioVsCrossbar: Record<string, number>;
}

/** The published figure behind a reference row. */
export interface ReferenceFigure {
  /** Published efficiency in operations per joule (GOPS/W x 1e9). */
  efficiencyOpsPerJ: number;
  /** Operations per inference it is applied to: 2 x the network's MACs. */
  ops: number;
  source: string;
}

export interface TargetResult {
  /** Target id: "rtm-ap", "sram-ap", "crossbar-isaac", "crossbar-neurosim22", "reference-isaac", ... */
  target: string;
  /** Human label, e.g. "RTM-AP (configs/arch/rtm-ap.yaml, configs/tech/rtm-ap.yaml)". */
  label: string;
  kind: TargetKind;
  /** Files that produced the numbers (architecture, technology). */
  files: string[];
  /** Weight/activation precision the numbers hold for ("W2/A4", "16-bit"; reference rows say when unknown). */
  precision?: string;
  energyJ: number;
  /** null when not known (reference rows). */
  latencyS: number | null;
  /** null when not known (reference rows). */
  areaMm2: number | null;
  inferencesPerJ: number;
  /** Activation-movement share of energy (0..1); null when not known (reference rows). */
  movementShare: number | null;
  /**
   * This target's energy divided by each baseline's energy, keyed by baseline target id. Baselines
   * are the crossbar targets and the reference rows (src/report/derive.ts `crossbarIds`).
   */
  energyRatioVsCrossbar: Record<string, number>;
  components: ComponentEnergy;
  layers: LayerResult[];
  /** AP targets: events per inference by kind (snake_case: the simulator's counters and the priced kinds). */
  events?: Record<string, number>;
  /** AP targets priced under several technology scenarios from the same events (default first). */
  scenarios?: ScenarioResult[];
  /** Reference rows: the published figure. */
  reference?: ReferenceFigure;
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

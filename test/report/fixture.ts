/**
 * A realistic synthetic ComparisonReport for the report-writer tests: ResNet-18's 21 compute units
 * on four modelled targets (two APs, two crossbars) with 6-8 energy components each, two published
 * reference rows (no layers, components, latency, area or movement), the RTM-AP priced under three
 * technology scenarios with its event counts, every target with its precision, 8 ablation rows and
 * two sensitivity studies of 6 parameters. Magnitudes follow docs/results.md (crossbar ~30 µJ per
 * image, RTM-AP several times less, activation movement ~3% on the RTM-AP).
 *
 * The numbers are internally consistent: every target's components and layers sum to its totals,
 * ratios are recomputed from the energies. Some names carry characters that need escaping in HTML
 * and quoting in CSV (`<`, `&`, `"`, `,`), and a note tries to inject markup.
 */
import { Rng } from "../../src/util/random.js";
import type {
  AblationResult,
  ComparisonReport,
  LayerResult,
  ScenarioResult,
  SensitivityResult,
  TargetResult,
} from "../../src/report/types.js";

/** A layer name that needs HTML escaping and CSV quoting. */
export const DANGEROUS_LAYER = 'layer4.1.conv2 <fused "relu", add> & requant';
/** A component name with a comma and a quote. */
export const DANGEROUS_COMPONENT = 'buffers, "eDRAM"';
/** A note that would inject a script if it were not escaped. */
export const DANGEROUS_NOTE = 'Calibrated on <script>alert("x")</script> & 100 images, "seed" 1';
/** A sensitivity parameter name that needs escaping. */
export const DANGEROUS_PARAMETER = "AP search energy <per bit> & match line";

export const LAYER_NAMES: readonly string[] = [
  "conv1",
  "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2",
  "layer2.0.conv1", "layer2.0.conv2", "layer2.0.downsample", "layer2.1.conv1", "layer2.1.conv2",
  "layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample", "layer3.1.conv1", "layer3.1.conv2",
  "layer4.0.conv1", "layer4.0.conv2", "layer4.0.downsample", "layer4.1.conv1", DANGEROUS_LAYER,
  "fc",
];

/** Relative work per layer (NeuroSim run A dynamic energy per layer, µJ; docs/results.md). */
const LAYER_WEIGHT = [
  4.81, 3.84, 3.76, 3.82, 3.8, 1.64, 1.8, 0.41, 1.78, 1.84, 0.8, 1.04, 0.21, 1.14, 0.99, 0.51, 0.59, 0.13, 0.47, 0.54, 0.0073,
];
/** Output positions per layer (rows the AP can fill). */
const POSITIONS = [12544, 3136, 3136, 3136, 3136, 784, 784, 784, 784, 784, 196, 196, 196, 196, 196, 49, 49, 49, 49, 49, 1];

interface TargetSpec {
  target: string;
  label: string;
  kind: "ap" | "crossbar";
  files: string[];
  precision: string;
  /** Energy per image (J). */
  totalJ: number;
  /** Share of each component in the total (normalised below). */
  mix: Record<string, number>;
  /** Components that count as activation movement. */
  movement: string[];
  latencyS: number;
  areaMm2: number;
  /** How the per-layer energy follows the layer's work: exponent on rows used (APs), 0 for crossbars. */
  positionExponent: number;
}

const SPECS: TargetSpec[] = [
  {
    target: "rtm-ap",
    label: "RTM-AP (configs/arch/rtm-ap.yaml & configs/tech/rtm-ap.yaml)",
    kind: "ap",
    files: ["configs/arch/rtm-ap.yaml", "configs/tech/rtm-ap.yaml"],
    precision: "W2/A4",
    totalJ: 4.46e-6,
    mix: { search: 0.41, write: 0.27, shift: 0.12, periphery: 0.08, movement: 0.03, buffers: 0.05, leakage: 0.04 },
    movement: ["movement"],
    latencyS: 1.9e-3,
    areaMm2: 11.8,
    positionExponent: 0.15,
  },
  {
    target: "sram-ap",
    label: "SRAM-AP (configs/arch/sram-ap.yaml, configs/tech/sram-cam.yaml)",
    kind: "ap",
    files: ["configs/arch/sram-ap.yaml", "configs/tech/sram-cam.yaml"],
    precision: "W2/A4",
    totalJ: 9.7e-6,
    mix: { search: 0.38, write: 0.33, periphery: 0.09, movement: 0.05, buffers: 0.06, leakage: 0.09 },
    movement: ["movement"],
    latencyS: 1.2e-3,
    areaMm2: 38.5,
    positionExponent: 0.15,
  },
  {
    target: "crossbar-isaac",
    label: 'Crossbar "ISAAC-style" ReRAM (configs/tech/crossbar-isaac.yaml)',
    kind: "crossbar",
    files: ["configs/tech/crossbar-isaac.yaml"],
    precision: "W2/A4",
    totalJ: 3.37e-5,
    mix: { adcArray: 0.31, dac: 0.06, accumulation: 0.05, interconnect: 0.44, [DANGEROUS_COMPONENT]: 0.05, buffers: 0.02, other: 0.04, leakage: 0.03 },
    movement: ["interconnect", DANGEROUS_COMPONENT, "buffers"],
    latencyS: 6.1e-4,
    areaMm2: 85.2,
    positionExponent: 0,
  },
  {
    target: "crossbar-neurosim22",
    label: "Crossbar NeuroSim V1.4, 22 nm (configs/tech/crossbar-neurosim22.yaml)",
    kind: "crossbar",
    files: ["configs/tech/crossbar-neurosim22.yaml"],
    precision: "W2/A4",
    totalJ: 2.94e-5,
    mix: { adcArray: 0.26, dac: 0.07, accumulation: 0.05, interconnect: 0.52, buffers: 0.012, other: 0.06, leakage: 0.028 },
    movement: ["interconnect", "buffers"],
    latencyS: 8.4e-4,
    areaMm2: 59.7,
    positionExponent: 0,
  },
];

function normalise(w: number[]): number[] {
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

function buildTarget(spec: TargetSpec, rng: Rng): Omit<TargetResult, "energyRatioVsCrossbar"> {
  const layerShare = normalise(LAYER_WEIGHT.map((w, i) => w * POSITIONS[i]! ** spec.positionExponent));
  const latencyShare = normalise(LAYER_WEIGHT.map((w) => w * (0.8 + 0.4 * rng.next())));
  const names = Object.keys(spec.mix);
  const mix = normalise(names.map((n) => spec.mix[n]!));
  const layers: LayerResult[] = LAYER_NAMES.map((name, li) => {
    // Each layer's component mix wobbles around the target's mix (early layers move more data).
    const wobble = normalise(mix.map((m) => m * (0.7 + 0.6 * rng.next())));
    const energyJ = spec.totalJ * layerShare[li]!;
    const components: Record<string, number> = {};
    names.forEach((n, ci) => (components[n] = energyJ * wobble[ci]!));
    const movementJ = spec.movement.reduce((s, n) => s + components[n]!, 0);
    const layer: LayerResult = {
      name,
      energyJ: Object.values(components).reduce((a, b) => a + b, 0),
      components,
      latencyS: spec.latencyS * latencyShare[li]!,
      movementJ,
    };
    if (spec.kind === "ap") {
      layer.extra = { rowUtilisation: Math.min(1, POSITIONS[li]! / 4096), addCycles: Math.round(1e5 * LAYER_WEIGHT[li]!) };
    }
    return layer;
  });
  const components: Record<string, number> = {};
  for (const n of names) components[n] = layers.reduce((s, l) => s + l.components[n]!, 0);
  const energyJ = layers.reduce((s, l) => s + l.energyJ, 0);
  const movementJ = layers.reduce((s, l) => s + l.movementJ, 0);
  return {
    target: spec.target,
    label: spec.label,
    kind: spec.kind,
    files: spec.files,
    precision: spec.precision,
    energyJ,
    latencyS: layers.reduce((s, l) => s + l.latencyS, 0),
    areaMm2: spec.areaMm2,
    inferencesPerJ: 1 / energyJ,
    movementShare: movementJ / energyJ,
    components,
    layers,
  };
}

const ABLATION: Array<[pass: string, energyVsFull: number, cyclesVsFull: number]> = [
  ["none", 1, 1],
  ["cse", 2.41, 2.86],
  ["unroll", 1.37, 1.52],
  ["loop-interchange", 1.68, 1.21],
  ["weight-folding", 3.9, 1.0],
  ["bit-width", 1.29, 1.44],
  ["track-placement", 1.11, 1.0],
  ["requant-fusion", 1.06, 1.03],
];

const SENS_PARAMS: Array<[name: string, side: "ap" | "crossbar", weight: number]> = [
  [DANGEROUS_PARAMETER, "ap", 0.41],
  ["AP write energy per cell", "ap", 0.27],
  ["AP shift energy per track-domain", "ap", 0.12],
  ["crossbar ADC energy", "crossbar", 0.3],
  ["crossbar array read energy", "crossbar", 0.08],
  ["wire energy per bit per mm (both)", "crossbar", 0.45],
];

function sensitivityAgainst(crossbar: TargetResult, ap: TargetResult, targetRatio: number): SensitivityResult {
  const base = crossbar.energyJ / ap.energyJ;
  // The parameter's share of its side's energy: scaling it by f scales that side by 1 + w (f - 1).
  const ratioAt = (side: "ap" | "crossbar", w: number, f: number): number =>
    side === "ap" ? base / (1 + w * (f - 1)) : base * (1 + w * (f - 1));
  const entries = SENS_PARAMS.map(([parameter, side, w]) => ({
    parameter,
    lowFactor: 0.5,
    highFactor: 2,
    ratioAtLow: ratioAt(side, w, 0.5),
    ratioAtHigh: ratioAt(side, w, 2),
  }));
  entries.sort((a, b) => Math.abs(b.ratioAtHigh - b.ratioAtLow) - Math.abs(a.ratioAtHigh - a.ratioAtLow));
  const whatItTakes = SENS_PARAMS.map(([parameter, side, w]) => {
    // Solve ratioAt(side, w, f) = targetRatio for f.
    const f = side === "ap" ? 1 + (base / targetRatio - 1) / w : 1 + (targetRatio / base - 1) / w;
    return f > 1e-3 && f < 1e3
      ? { parameter, factor: f, note: `x${f.toPrecision(3)} alone reaches ${targetRatio}x` }
      : { parameter, factor: null, note: `not reachable alone (ratio stays below ${ratioAt(side, w, 1e-3).toFixed(2)}x)` };
  });
  return {
    crossbar: crossbar.target,
    ratioDefinition: `${crossbar.target} energy / rtm-ap energy (higher = RTM-AP better)`,
    baseRatio: base,
    entries,
    targetRatio,
    whatItTakes,
  };
}

/** Published reference rows: efficiency (GOPS/W) and precision; ops = 2 x 1.814 GMAC. */
const REFERENCES: Array<[id: string, gopsPerW: number, precision: string]> = [
  ["reference-isaac", 627.5, "16-bit"],
  ["reference-puma", 837, "not stated in the abstract"],
];

function referenceTarget([id, gopsPerW, precision]: (typeof REFERENCES)[number]): Omit<TargetResult, "energyRatioVsCrossbar"> {
  const ops = 2 * 1.814e9;
  const energyJ = ops / (gopsPerW * 1e9);
  return {
    target: id,
    label: `${id}: ${gopsPerW} GOPS/W (${precision}), energy = 2 x MACs / efficiency`,
    kind: "reference",
    files: [`configs/tech/${id}.yaml`],
    precision,
    energyJ,
    latencyS: null,
    areaMm2: null,
    inferencesPerJ: 1 / energyJ,
    movementShare: null,
    components: {},
    layers: [],
    reference: { efficiencyOpsPerJ: gopsPerW * 1e9, ops, source: `rtm-energies.md §5: ${id} <published> & "abstract"` },
  };
}

/** The RTM-AP's components under the other scenarios: multipliers on the default's components. */
const SCENARIO_FACTORS: Array<[technology: string, factors: Record<string, number>]> = [
  ["rtm-ap-low", { search: 0.3, write: 0.15, shift: 0.3 }],
  ["rtm-ap-destiny", { search: 0.4, write: 4.9, shift: 3.1 }],
];

/** Event counts per inference of the RTM-AP (snake_case, as rtap compare writes them). */
const RTM_EVENTS: Record<string, number> = {
  searches: 1.21e8, search_row_bits: 1.9e11, flag_search_row_bits: 6.2e10, writes: 1.19e8, write_cells: 3.4e9,
  flag_write_cells: 4.1e8, tag_ops: 2.2e5, shifts: 4.1e5, shift_steps: 5.2e5, shift_track_domains: 2.1e10,
  buffer_read_bits: 2.3e7, buffer_write_bits: 1.7e8, transfer_bits_array: 6.1e6, transfer_bits_tile: 1.2e6,
  transfer_bit_hops_tile: 2.4e6, transfer_bits_chip: 5.4e6, cycles: 7.6e5, search_rows: 6.2e10, micro_ops: 2.4e8,
  tag_row_ops: 1.1e8, global_buffer_bits: 5.4e6, array_seconds: 0.49,
};

/** The fixture report (deterministic: same bytes every call). */
export function fixtureReport(): ComparisonReport {
  const rng = new Rng(20240125);
  const partial = [...SPECS.map((s) => buildTarget(s, rng)), ...REFERENCES.map(referenceTarget)];
  const crossbars = partial.filter((t) => t.kind === "crossbar");
  const baselines = partial.filter((t) => t.kind === "crossbar" || t.kind === "reference");
  const ratios = (energyJ: number): Record<string, number> => Object.fromEntries(baselines.map((x) => [x.target, energyJ / x.energyJ]));
  const targets: TargetResult[] = partial.map((t) => ({ ...t, energyRatioVsCrossbar: ratios(t.energyJ) }));
  const rtm = targets[0]!;
  const scenarios: ScenarioResult[] = [
    { technology: "rtm-ap", file: "configs/tech/rtm-ap.yaml", isDefault: true, energyJ: rtm.energyJ, latencyS: rtm.latencyS!, components: { ...rtm.components }, energyRatioVsCrossbar: ratios(rtm.energyJ) },
    ...SCENARIO_FACTORS.map(([technology, f]): ScenarioResult => {
      const components = Object.fromEntries(Object.entries(rtm.components).map(([c, j]) => [c, j * (f[c] ?? 1)]));
      const energyJ = Object.values(components).reduce((a, b) => a + b, 0);
      return { technology, file: `configs/tech/${technology}.yaml`, isDefault: false, energyJ, latencyS: rtm.latencyS!, components, energyRatioVsCrossbar: ratios(energyJ) };
    }),
  ];
  rtm.events = { ...RTM_EVENTS };
  rtm.scenarios = scenarios;
  const fullCycles = 3.1e7;
  const ablation: AblationResult[] = ABLATION.map(([pass, ev, cv]) => ({
    pass,
    energyJ: rtm.energyJ * ev,
    latencyS: rtm.latencyS! * cv,
    addCycles: Math.round(fullCycles * cv),
    energyVsFull: ev,
  }));
  return {
    // SYNTHETIC: invented numbers in a ResNet-18-like shape, to exercise the report writers; the
    // rendered page says so (model name and first note), so nobody reads it as a result
    model: 'SYNTHETIC TEST FIXTURE (not a measurement) <"resnet18-like", 224x224> & TWN',
    modelInfo: {
      "synthetic fixture": "yes: made-up figures for testing the report, not a result of rtap",
      layers: 21,
      "input shape": "3x224x224",
      MACs: 1.814e9,
      "weight sparsity": 0.43,
      "activation bits": 4,
    },
    rtapVersion: "0.1.0",
    targets,
    ablation,
    sensitivity: crossbars.map((x) => sensitivityAgainst(targets.find((t) => t.target === x.target)!, rtm, 7.5)),
    notes: [
      "SYNTHETIC TEST FIXTURE: every figure on this page is invented to test the report writers; none is a measurement.",
      "Weights ternarised with per-channel scales; BN, ReLU and 4-bit activation quantization folded into integer thresholds.",
      DANGEROUS_NOTE,
      "Crossbar leakage counted over the evaluated latency; the AP's over its own.",
    ],
  };
}

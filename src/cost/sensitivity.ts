/**
 * Sensitivity of the headline number — how many times less energy the RTM-AP spends than a crossbar
 * on the same network — to the technology numbers that are least certain.
 *
 * `tornado` varies each uncertain parameter alone (x0.5 and x2 by default) and returns the ratio at
 * both ends, sorted by swing (tornado-chart data). `solveMultiplier` answers "what would it take":
 * the multiplier one parameter alone needs to reach a target ratio (e.g. the paper's 7.5x), found
 * by bisection on log(multiplier), or "not reachable by this parameter alone". Nothing here tunes
 * the shipped files; the answer is reported, not applied.
 */
import type { ApArch } from "../ap/config.js";
import { RtapError } from "../errors.js";
import { apCost, type ApEventCounts, type ApShape } from "./ap.js";
import { crossbarCost } from "./crossbar.js";
import { getParam, scaleParam } from "./overrides.js";
import type { ApTechnology, CrossbarTechnology } from "./technology.js";
import type { Workload } from "./workload.js";

/** Ratio as a function of parameter multipliers ({ name: factor }; absent names mean x1). */
export type RatioEvaluator = (factors: Readonly<Record<string, number>>) => number;

export interface TornadoBar {
  name: string;
  lowFactor: number;
  highFactor: number;
  /** Ratio with the parameter at lowFactor / highFactor (others at x1). */
  atLow: number;
  atHigh: number;
  /** |atHigh - atLow| */
  swing: number;
}

export interface TornadoData {
  base: number;
  bars: TornadoBar[];
}

export function tornado(evaluate: RatioEvaluator, names: readonly string[], factors: readonly [number, number] = [0.5, 2]): TornadoData {
  const [lo, hi] = factors;
  if (!(lo > 0 && hi > 0)) throw new RtapError(`tornado factors must be > 0, got ${lo} and ${hi}`);
  const base = evaluate({});
  const bars = names.map((name) => {
    const atLow = evaluate({ [name]: lo });
    const atHigh = evaluate({ [name]: hi });
    return { name, lowFactor: lo, highFactor: hi, atLow, atHigh, swing: Math.abs(atHigh - atLow) };
  });
  bars.sort((a, b) => b.swing - a.swing || a.name.localeCompare(b.name));
  return { base, bars };
}

export type SolveResult =
  | { reachable: true; name: string; target: number; multiplier: number; ratio: number }
  | { reachable: false; name: string; target: number; reason: string; range: [number, number] };

/**
 * The multiplier m in [minFactor, maxFactor] with evaluate({name: m}) = target, assuming the ratio
 * is monotonic in m over that range (true for every energy parameter: each enters one side's sum
 * linearly). Bisection on log m to a relative tolerance of 1e-6.
 */
export function solveMultiplier(
  evaluate: RatioEvaluator,
  name: string,
  target: number,
  opts: { minFactor?: number; maxFactor?: number } = {},
): SolveResult {
  const minF = opts.minFactor ?? 1e-3;
  const maxF = opts.maxFactor ?? 1e3;
  const f = (m: number): number => evaluate({ [name]: m }) - target;
  let a = Math.log(minF);
  let b = Math.log(maxF);
  let fa = f(minF);
  const fb = f(maxF);
  const range: [number, number] = [Math.min(fa, fb) + target, Math.max(fa, fb) + target];
  if (fa === 0) return { reachable: true, name, target, multiplier: minF, ratio: target };
  if (fb === 0) return { reachable: true, name, target, multiplier: maxF, ratio: target };
  if (Math.sign(fa) === Math.sign(fb)) {
    return {
      reachable: false,
      name,
      target,
      range,
      reason:
        `not reachable by this parameter alone: the ratio stays within ` +
        `[${range[0].toPrecision(3)}, ${range[1].toPrecision(3)}] for multipliers x${minF} .. x${maxF}`,
    };
  }
  for (let i = 0; i < 200 && b - a > 1e-6; i++) {
    const mid = (a + b) / 2;
    const fm = f(Math.exp(mid));
    if (fm === 0) {
      a = b = mid;
      break;
    }
    if (Math.sign(fm) === Math.sign(fa)) {
      a = mid;
      fa = fm;
    } else b = mid;
  }
  const m = Math.exp((a + b) / 2);
  return { reachable: true, name, target, multiplier: m, ratio: f(m) + target };
}

/** One uncertain quantity and the technology parameters it scales (on either side). */
export interface UncertainParameter {
  name: string;
  targets: Array<{ side: "ap" | "crossbar"; path: string }>;
}

/** The ADC energy parameters of a crossbar file (all table entries, or fixed + perLevel). */
function adcEnergyPaths(x: CrossbarTechnology): string[] {
  const m = x.adc.energy;
  return m.model === "levels" ? ["adc.energy.fixed", "adc.energy.perLevel"] : Object.keys(m.perBits).map((b) => `adc.energy.perBits.${b}`);
}

/**
 * The parameters the sensitivity analysis varies by default: the AP's prices per key bit, per
 * match line, per written cell (cell writes and row writes from the buffer, one device number),
 * per shift domain-length, per row-read bit, per micro-op and its leakage; the crossbar's ADC,
 * array-read, row-drive and accumulation energies; and the wire energy on both sides at once.
 */
export function defaultUncertainParameters(ap: ApTechnology, x: CrossbarTechnology): UncertainParameter[] {
  const apOnly = (name: string, ...paths: string[]): UncertainParameter => ({ name, targets: paths.map((path) => ({ side: "ap" as const, path })) });
  const xOnly = (name: string, ...paths: string[]): UncertainParameter => ({ name, targets: paths.map((path) => ({ side: "crossbar" as const, path })) });
  return [
    apOnly("AP search energy per key bit per row", "prices.search_row_bits"),
    apOnly("AP match-line energy per row", "prices.search_rows"),
    apOnly("AP write energy per cell", "prices.write_cells", "prices.buffer_write_bits"),
    apOnly("AP shift energy per domain-length", "prices.shift_track_domains"),
    apOnly("AP row read energy per bit", "prices.buffer_read_bits"),
    apOnly("AP controller energy per micro-op", "prices.micro_ops"),
    apOnly("AP leakage per array", "prices.array_seconds"),
    xOnly("crossbar ADC energy", ...adcEnergyPaths(x)),
    xOnly("crossbar array read energy", "array.readEnergy"),
    xOnly("crossbar row drive (DAC) energy", "inputs.rowDriveEnergy"),
    xOnly("crossbar accumulation energy", "accumulation.adderPerBit"),
    {
      name: "wire energy per bit per mm (both)",
      targets: [
        { side: "ap", path: "interconnect.wire.energyPerBitPerMm" },
        { side: "crossbar", path: "interconnect.wire.energyPerBitPerMm" },
      ],
    },
  ];
}

export interface RatioInputs {
  ap: ApTechnology;
  /** The AP run's events (a whole network). */
  apEvents: Readonly<ApEventCounts>;
  /** The machine the AP program ran on (its architecture, or the shape of it). */
  apMachine: ApShape | ApArch;
  crossbar: CrossbarTechnology;
  workload: Workload;
  params: readonly UncertainParameter[];
}

/**
 * Evaluator of crossbar energy / RTM-AP energy per image (how many times more energy-efficient the
 * AP is; the paper's claim is 7.5) under parameter multipliers.
 */
export function energyRatioEvaluator(inp: RatioInputs): RatioEvaluator {
  const byName = new Map(inp.params.map((p) => [p.name, p]));
  for (const p of inp.params) for (const t of p.targets) getParam(t.side === "ap" ? inp.ap : inp.crossbar, t.path);
  return (factors) => {
    let ap = inp.ap;
    let x = inp.crossbar;
    for (const [name, f] of Object.entries(factors)) {
      const p = byName.get(name);
      if (!p) throw new RtapError(`unknown sensitivity parameter "${name}" (known: ${[...byName.keys()].join(", ")})`);
      if (f === 1) continue;
      for (const t of p.targets) {
        if (t.side === "ap") ap = scaleParam(ap, t.path, f);
        else x = scaleParam(x, t.path, f);
      }
    }
    const apJ = apCost(inp.apEvents, ap, inp.apMachine).energyJ;
    const xJ = crossbarCost(inp.workload, x).total.energyJ;
    return xJ / apJ;
  };
}

export interface SensitivityStudy {
  /** Tornado data, largest swing first. */
  tornado: TornadoData;
  /** For each parameter: the multiplier that alone reaches `target` (or why it cannot). */
  toReachTarget: SolveResult[];
  target: number;
}

/**
 * The whole sensitivity study for one AP/crossbar pair: tornado over `params` and, for each, the
 * multiplier that alone would reach `target` (default 7.5, the paper's ResNet-18 claim).
 */
export function sensitivityStudy(inp: RatioInputs, target = 7.5, factors: readonly [number, number] = [0.5, 2]): SensitivityStudy {
  const evaluate = energyRatioEvaluator(inp);
  const names = inp.params.map((p) => p.name);
  return {
    tornado: tornado(evaluate, names, factors),
    toReachTarget: names.map((n) => solveMultiplier(evaluate, n, target)),
    target,
  };
}

/**
 * The comparison (`rtap compare`): one network, priced on every target under one cost model.
 *
 *  - AP targets (RTM-AP, SRAM-CAM AP): compile for the architecture file, simulate at word level on
 *    the inputs (exact event counts), price the events with the technology file, per unit.
 *    The RTM-AP's events are also priced with every technology scenario (RTM_SCENARIOS: typical,
 *    low, DESTINY array level), with no re-simulation.
 *  - Crossbar targets (ISAAC-style, NeuroSim-calibrated): the crossbar model on the same integer
 *    graph (src/cost/crossbar.ts), with the precision it holds for ("W2/A4").
 *  - Reference rows: published efficiencies (ISAAC 627.5 GOPS/W at 16 bit, PUMA 837 GOPS/W) as
 *    energy = 2 x MACs / efficiency (src/cost/reference.ts). Ratios are against every crossbar and
 *    reference row (energyRatioVsCrossbar, keyed by their ids).
 *  - Ablation: the RTM-AP with each compiler pass switched off (programs recompiled and
 *    re-simulated; the layout and movement passes change only the placement, so their events are
 *    the full pipeline's compute events plus the re-planned movement).
 *  - Sensitivity: the RTM-AP/crossbar energy ratio with each uncertain parameter at 0.5x and 2x, and
 *    the factor one parameter alone would need to reach the paper's 7.5x.
 */
import { availableParallelism, freemem } from "node:os";

import type { Worker } from "node:worker_threads";
import { loadArch, type ApArch } from "./ap/config.js";
import { EVENT_KINDS, type ApEvents } from "./ap/events.js";
import type { PassSwitches } from "./compiler/lower.js";
import { PASS_NAMES } from "./compiler/pipeline.js";
import { AP_WORKER_BYTES, AP_WORKER_YOUNG_GENERATION_MB, referenceTensors, UnitTaskRunner, type ApVariantSpec, type UnitTaskResult } from "./compare-units.js";
import { networkCycleDeltas } from "./compiler/schedule.js";
import { apCostPerLayer } from "./cost/ap.js";
import { OPS_PER_MAC } from "./cost/reference.js";
import { defaultUncertainParameters, energyRatioEvaluator, solveMultiplier, tornado } from "./cost/sensitivity.js";
import { loadCrossbarTechnology, RTM_SCENARIOS } from "./cost/technology.js";
import type { ApTechnology } from "./cost/technology.js";
import { workloadFromQGraph } from "./cost/workload.js";
import { loadDataset, randomImages } from "./data/index.js";
import { RtapError } from "./errors.js";
import { loadQuantizedModel } from "./model.js";
import { convMacs, type QConvOp, type QGraph } from "./quantize/qgraph.js";
import type { AblationResult, ComparisonReport, SensitivityResult, TargetResult } from "./report/types.js";
import { RTAP_VERSION } from "./version.js";
import { TARGETS, type ApTarget, type CrossbarTarget, type ReferenceTarget } from "./targets/index.js";
import { apRunOf, type ApRun } from "./targets/ap.js";
export { snakeCase } from "./targets/ap.js";
import { reportPath } from "./util/paths.js";
import { startWorker } from "./util/worker.js";

/** From this many MACs per inference on, AP programs compile and simulate in worker threads. */
const LARGE_NETWORK_MACS = 3e8;

/** AP targets of the registry (src/targets): architecture, default technology, scenarios priced from the same events (default first). */
export const AP_TARGETS: Record<string, ApTarget> = Object.fromEntries(TARGETS.filter((t): t is ApTarget => t.kind === "ap").map((t) => [t.id, t]));

export const CROSSBAR_TARGETS: Record<string, CrossbarTarget> = Object.fromEntries(TARGETS.filter((t): t is CrossbarTarget => t.kind === "crossbar").map((t) => [t.id, t]));

/** Published efficiencies shown as labelled reference rows (configs/tech/reference-*.yaml). */
export const REFERENCE_TARGETS: Record<string, ReferenceTarget> = Object.fromEntries(TARGETS.filter((t): t is ReferenceTarget => t.kind === "reference").map((t) => [t.id, t]));

/** The ablation row of the serial RTM layout (configs/arch/rtm-ap-serial.yaml's row on the same machine). */
export const SERIAL_LAYOUT_ROW = "serial layout";

export const DEFAULT_TARGETS = TARGETS.map((t) => t.id);

/** `crossbar` in a target list stands for both crossbar baselines, `reference` for both reference rows. */
export function expandTargets(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of list) {
    if (t === "crossbar") out.push(...Object.keys(CROSSBAR_TARGETS));
    else if (t === "reference") out.push(...Object.keys(REFERENCE_TARGETS));
    else if (t in AP_TARGETS || t in CROSSBAR_TARGETS || t in REFERENCE_TARGETS) out.push(t);
    else
      throw new RtapError(
        `unknown target "${t}"; targets: ${[...Object.keys(AP_TARGETS), "crossbar", ...Object.keys(CROSSBAR_TARGETS), "reference", ...Object.keys(REFERENCE_TARGETS)].join(", ")}`,
      );
  }
  return [...new Set(out)];
}

export interface CompareOptions {
  targets?: readonly string[];
  seed?: number;
  /** Inputs: a dataset spec (first `images` images) or seeded random images (default). */
  dataset?: string;
  images?: number;
  ablation?: boolean;
  sensitivity?: boolean;
  /** Ratio the sensitivity study solves for (the paper's 7.5x). */
  targetRatio?: number;
  onStage?: (stage: string) => void;
  /** Progress of the AP programs: (variant, unit) tasks done of all. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads for the AP programs besides the main RTM-AP one (other AP targets, ablation
   * variants). Default: the core count, capped by free memory, for networks over 3e8 MACs; else 1
   * (= everything in this thread).
   */
  workers?: number;
  /** Architecture of the RTM-AP target: a config name (rtm-ap, rtm-ap-serial) or a YAML file (default rtm-ap). */
  rtmArch?: string;
  /** CompileOptions.splitEnergyBudget for every AP program (default: the compiler's). */
  splitEnergyBudget?: number;
  /** Technology of the RTM-AP target: a configs/tech name or a YAML file (default rtm-ap); priced beside the shipped scenarios. */
  rtmTech?: string;
}

export interface CompareResult {
  report: ComparisonReport;
  seconds: number;
}

/** The input images the AP targets are simulated on (deterministic: workers recompute them). */
export function compareInputs(q: QGraph, opts: Pick<CompareOptions, "dataset" | "images" | "seed">): { pixels: Uint8Array; inputs: string; count: number } {
  const inShape = q.tensors.get(q.input)!.shape;
  const n = opts.images ?? 1;
  if (opts.dataset) {
    const ds = loadDataset(opts.dataset, { limit: n });
    if (ds.shape.join("x") !== inShape.join("x")) throw new RtapError(`dataset images are ${ds.shape.join("x")} but the model expects ${inShape.join("x")}`, opts.dataset);
    return { pixels: ds.images, inputs: `${ds.count} image(s) of ${ds.spec}`, count: ds.count };
  }
  return { pixels: randomImages(inShape, n, (opts.seed ?? 0) + 1), inputs: `${n} seeded random image(s)`, count: n };
}

/**
 * What an AP worker thread needs: the quantized network and its input images (structured-cloned
 * from the main thread, which has them already: re-quantizing ResNet-18 in every worker cost
 * ~5 s before its first task), and the variants.
 */
export interface ApWorkerData {
  qgraph: QGraph;
  pixels: Uint8Array;
  count: number;
  variants: ApVariantSpec[];
}

/**
 * The (variant, unit) task runner of a network, in this thread or a worker (see compare-units.ts);
 * `reference`: referenceTensors of the data, when the caller has them.
 */
export function makeTaskRunner(d: ApWorkerData, reference?: Map<string, Int32Array>): UnitTaskRunner {
  return new UnitTaskRunner(d.qgraph, d.pixels, d.count, d.variants, reference);
}

type WorkerReply =
  | { kind: "ready"; costs: number[] }
  | { kind: "done"; result: UnitTaskResult }
  | { kind: "error"; message: string; rtap: boolean };

/**
 * The (variant, unit) tasks of a comparison, handed out with affinity by unit: a worker that asks
 * for work gets the next variant of a unit it has started, else the largest unit nobody has
 * started, else (at the end) the next variant of the largest unit left, whoever started it. Units
 * go largest first by their cost estimate (the same for every variant), so the last tasks are
 * small and the workers finish together.
 */
export class UnitTaskQueue<W = unknown> {
  /** Units by falling cost, each with the variants it still has to run. */
  private readonly units: { u: number; left: number[]; owner?: W }[];
  private remaining: number;
  constructor(costs: readonly number[], variants: number) {
    this.units = costs
      .map((c, u) => ({ c, u }))
      .sort((x, y) => y.c - x.c || x.u - y.u)
      .map(({ u }) => ({ u, left: Array.from({ length: variants }, (_, v) => v) }));
    this.remaining = costs.length * variants;
  }

  /** Tasks not yet handed out. */
  get size(): number {
    return this.remaining;
  }

  /** Per worker, whether it starts new units from the small end. */
  private readonly fromSmall = new Map<W, boolean>();

  take(worker: W): { v: number; u: number } | undefined {
    let small = this.fromSmall.get(worker);
    if (small === undefined) this.fromSmall.set(worker, (small = this.fromSmall.size % 2 === 1));
    const fresh = (x: { left: number[]; owner?: W }): boolean => x.left.length > 0 && x.owner === undefined;
    const pick =
      this.units.find((x) => x.left.length && x.owner === worker) ??
      (small ? this.units.findLast(fresh) : this.units.find(fresh)) ??
      this.units.find((x) => x.left.length);
    if (!pick) return undefined;
    pick.owner ??= worker;
    this.remaining--;
    return { v: pick.left.shift()!, u: pick.u };
  }
}

/**
 * Runs every unit of every variant, on `workers` worker threads (each rebuilds the network and
 * takes a task whenever it is free), or in this thread when workers <= 1. Returns the results per
 * variant, in unit order.
 *
 * Tasks go to workers by unit (see UnitTaskQueue): a worker runs every variant of the units it
 * has started, and CSE results are memoized per thread by weights and block, so the variants
 * that reuse the full pipeline's reduction DAGs find them there (an ablation variant alone took
 * 30 s on ResNet-18, after the full pipeline in the same thread 18 s: measured).
 */
async function runVariants(d: ApWorkerData, workers: number, live: Set<Worker>, onTask: (done: number, total: number) => void): Promise<UnitTaskResult[][]> {
  const V = d.variants.length;
  if (workers <= 1) {
    const runner = makeTaskRunner(d);
    const U = runner.unitCount;
    const out: UnitTaskResult[][] = [];
    for (let v = 0; v < V; v++) {
      const row: UnitTaskResult[] = [];
      for (let u = 0; u < U; u++) {
        row.push(runner.run(v, u));
        onTask(v * U + u + 1, V * U);
      }
      out.push(row);
    }
    return out;
  }
  const resourceLimits = { maxYoungGenerationSizeMb: AP_WORKER_YOUNG_GENERATION_MB };
  const out: UnitTaskResult[][] = Array.from({ length: V }, () => []);
  return new Promise((resolve, reject) => {
    let tasks: UnitTaskQueue | undefined;
    let done = 0, total = 0, failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of live) void w.terminate();
      reject(e);
    };
    const feed = (w: Worker): void => {
      if (!tasks || failed) return;
      const t = tasks.take(w);
      if (t) w.postMessage({ kind: "task", variant: t.v, unit: t.u });
      else w.postMessage({ kind: "exit" });
    };
    for (let i = 0; i < workers; i++) {
      const w = startWorker("compare-worker", import.meta.url, { workerData: d, resourceLimits });
      live.add(w);
      w.on("message", (m: WorkerReply) => {
        if (m.kind === "error") return fail(m.rtap ? new RtapError(m.message) : new Error(m.message));
        if (m.kind === "ready") {
          if (!tasks) {
            tasks = new UnitTaskQueue(m.costs, V);
            total = tasks.size;
          }
        } else {
          out[m.result.variant]![m.result.unit] = m.result;
          onTask(++done, total);
          if (done === total) {
            for (const x of live) x.postMessage({ kind: "exit" });
            resolve(out);
            return;
          }
        }
        feed(w);
      });
      w.on("error", (e) => fail(e));
      w.on("exit", (code) => {
        live.delete(w);
        if (code !== 0 && !failed && done < total) fail(new Error(`AP worker thread exited with code ${code}`));
      });
    }
    // The integer reference, once, here, while the workers load their modules (each computed it
    // after loading: ~1 s of ResNet-18 per worker before its first task); then sent to every worker.
    try {
      const reference = referenceTensors(d.qgraph, d.pixels, d.count);
      for (const w of live) w.postMessage({ kind: "reference", tensors: reference });
    } catch (e) {
      fail(e as Error);
    }
  });
}

export async function compareModel(model: string, opts: CompareOptions = {}): Promise<CompareResult> {
  const live = new Set<Worker>();
  try {
    return await compareWith(model, opts, live);
  } finally {
    for (const w of live) void w.terminate(); // only after a failure: finished workers have exited
  }
}

async function compareWith(model: string, opts: CompareOptions, live: Set<Worker>): Promise<CompareResult> {
  const t0 = performance.now();
  const stage = opts.onStage ?? (() => {});
  const targets = expandTargets(opts.targets ?? DEFAULT_TARGETS);
  stage("quantize");
  const m = loadQuantizedModel(model, { seed: opts.seed });
  const q = m.qgraph;
  const { pixels, inputs, count } = compareInputs(q, opts);
  let macs = 0;
  for (const op of q.ops) if (op.kind === "conv") macs += convMacs(op as QConvOp, q.tensors.get(op.output)!.shape);
  // Large networks compile and simulate their AP programs unit by unit in worker threads: one
  // worker per core, capped by free memory. Small ones run faster in this thread than a worker starts.
  const byMemory = Math.max(1, Math.floor(freemem() / AP_WORKER_BYTES));
  const workers = Math.max(1, opts.workers ?? (macs > LARGE_NETWORK_MACS ? Math.min(availableParallelism(), byMemory) : 1));

  // Every AP program to run: the AP targets, then the ablation's recompiled variants.
  const apIds = targets.filter((id) => id in AP_TARGETS);
  const apSpecs = new Map<string, { archSpec: string; arch: ApArch; tech: ApTechnology }>();
  for (const id of apIds) {
    const archSpec = id === "rtm-ap" && opts.rtmArch ? opts.rtmArch : AP_TARGETS[id]!.arch;
    const arch = loadArch(archSpec);
    if (id === "rtm-ap" && arch.array.technology !== "rtm") throw new RtapError(`--arch: the RTM-AP target needs an RTM architecture (technology: rtm); ${arch.name} is ${arch.array.technology}`, archSpec);
    const techSpec = id === "rtm-ap" && opts.rtmTech ? opts.rtmTech : AP_TARGETS[id]!.tech;
    const tech = AP_TARGETS[id]!.loadTech(techSpec);
    if (id === "rtm-ap" && tech.technology !== "rtm") throw new RtapError(`--tech: the RTM-AP target needs an RTM technology file (technology: rtm); ${tech.name} is ${tech.technology}`, techSpec);
    apSpecs.set(id, { archSpec, arch, tech });
  }
  const rtmSpec = apSpecs.get("rtm-ap");
  const withAblation = opts.ablation !== false && rtmSpec !== undefined;
  const budget = opts.splitEnergyBudget !== undefined ? { splitEnergyBudget: opts.splitEnergyBudget } : {};
  const variants: ApVariantSpec[] = apIds.map((id) => ({ key: id, arch: apSpecs.get(id)!.archSpec, movementVariants: id === "rtm-ap" && withAblation, ...budget }));
  // The layout and movement passes change only placement and movement: priced from the full
  // pipeline's programs (movementVariants). The other passes change the programs: recompiled.
  const recompile = (Object.keys(PASS_NAMES) as (keyof PassSwitches)[]).filter((p) => p !== "layout" && p !== "movement");
  // On an interleaved RTM row the ablation also compiles the serial layout (operand bits along
  // the tracks, one shift per bit step), every pass on: what the racetrack layout itself buys.
  const serialRow = withAblation && (rtmSpec.arch.array.layout ?? "interleaved") === "interleaved";
  if (withAblation) {
    for (const pass of recompile) variants.push({ key: `ablation: ${PASS_NAMES[pass]} off`, arch: rtmSpec.archSpec, disable: [pass], ...budget });
    if (serialRow) variants.push({ key: `ablation: ${SERIAL_LAYOUT_ROW}`, arch: rtmSpec.archSpec, layout: "serial", ...budget });
  }
  const runs = new Map<string, ApRun>();
  if (variants.length) {
    stage(
      `compile and simulate ${variants.map((v) => v.key).join(", ")}: unit by unit${workers > 1 ? ` on ${workers} worker threads` : ""}`,
    );
    const results = await runVariants({ qgraph: q, pixels, count, variants }, workers, live, opts.onProgress ?? (() => {}));
    variants.forEach((v, i) => runs.set(v.key, apRunOf(results[i]!, count)));
  }
  const byTarget = new Map<string, TargetResult>();
  const workload = workloadFromQGraph(q);
  let rtm: { run: ApRun; tech: ApTechnology; arch: ApArch } | undefined;
  for (const id of apIds) {
    const spec = AP_TARGETS[id]!;
    const { archSpec, arch, tech } = apSpecs.get(id)!;
    const run = runs.get(id)!;
    // ternary weights (sign + magnitude, folded into the instruction stream) on k-bit activations
    const precision = `W2/A${q.activationBits}`;
    // a technology file given with --tech is priced first, beside the shipped scenarios
    const scenarios = spec.scenarios && !spec.scenarios.includes(tech.name) ? [tech.name, ...spec.scenarios] : (spec.scenarios ?? []);
    byTarget.set(id, spec.row(run, { label: `${spec.label} (${arch.name}, ${tech.name})`, files: [reportPath(arch.file ?? archSpec), reportPath(tech.file)], tech, arch, precision, scenarios }));
    if (id === "rtm-ap") rtm = { run, tech, arch };
  }
  for (const id of targets) {
    if (id in CROSSBAR_TARGETS) {
      const spec = CROSSBAR_TARGETS[id]!;
      stage(`price ${id}`);
      byTarget.set(id, spec.row(m, spec.loadTech(spec.tech)));
    }
  }
  for (const id of targets) {
    if (id in REFERENCE_TARGETS) {
      const spec = REFERENCE_TARGETS[id]!;
      byTarget.set(id, spec.row(spec.loadTech(spec.tech), workload.totalMacs));
    }
  }
  const result = targets.map((id) => byTarget.get(id)!);
  const crossbars = result.filter((r) => r.kind === "crossbar");
  // baselines: the modelled crossbars and the published reference rows, keyed by their ids
  const baselines = result.filter((r) => r.kind === "crossbar" || r.kind === "reference");
  for (const r of result) {
    for (const x of baselines) r.energyRatioVsCrossbar[x.target] = r.energyJ / x.energyJ;
    for (const s of r.scenarios ?? []) for (const x of baselines) s.energyRatioVsCrossbar[x.target] = s.energyJ / x.energyJ;
  }

  const ablation: AblationResult[] = [];
  if (withAblation && rtm) {
    const full = rtm;
    const fullEnergy = result.find((r) => r.target === "rtm-ap")!.energyJ;
    const price = (perUnit: { name: string; events: ApEvents }[]): { energyJ: number; latencyS: number } => {
      const c = apCostPerLayer(perUnit, full.tech, full.arch).total;
      return { energyJ: c.energyJ, latencyS: c.latencyS };
    };
    const base = price(full.run.perUnit);
    ablation.push({ pass: "none", energyJ: base.energyJ, latencyS: base.latencyS, addCycles: full.run.addCycles, energyVsFull: base.energyJ / fullEnergy });
    const moved = full.run.movement!;
    for (const pass of Object.keys(PASS_NAMES) as (keyof PassSwitches)[]) {
      let v: { perUnit: { name: string; events: ApEvents }[]; addCycles: number };
      if (pass === "layout" || pass === "movement") {
        // same programs, other placement or movement model: swap the movement events (cycles too:
        // a run of loads through the global buffer takes longer than a local one), and schedule
        // the network again with the units' latencies under that movement
        const key = pass === "layout" ? "layoutOff" : "movementOff";
        const deltas = networkCycleDeltas(moved.map((m) => m.summaries[key]));
        v = {
          addCycles: full.run.addCycles,
          perUnit: full.run.perUnit.map((u, i) => {
            const e = { ...u.events };
            const other = moved[i]![key];
            for (const k of EVENT_KINDS) if (k !== "cycles") e[k] += other[k] - moved[i]!.full[k];
            // the unit's cycles: its latency alone under that movement, plus the network schedule's change
            e.cycles = moved[i]!.summaries[key].cycles + (deltas ? deltas[i]! : 0);
            return { name: u.name, events: e };
          }),
        };
      } else v = runs.get(`ablation: ${PASS_NAMES[pass]} off`)!;
      const c = price(v.perUnit);
      ablation.push({ pass: PASS_NAMES[pass], energyJ: c.energyJ, latencyS: c.latencyS, addCycles: v.addCycles, energyVsFull: c.energyJ / fullEnergy });
    }
    if (serialRow) {
      const v = runs.get(`ablation: ${SERIAL_LAYOUT_ROW}`)!;
      const c = price(v.perUnit);
      ablation.push({ pass: SERIAL_LAYOUT_ROW, energyJ: c.energyJ, latencyS: c.latencyS, addCycles: v.addCycles, energyVsFull: c.energyJ / fullEnergy });
    }
  }

  const sensitivity: SensitivityResult[] = [];
  if (opts.sensitivity !== false && rtm) {
    stage("sensitivity");
    const targetRatio = opts.targetRatio ?? 7.5;
    for (const x of crossbars) {
      const tech = loadCrossbarTechnology(CROSSBAR_TARGETS[x.target]!.tech);
      const params = defaultUncertainParameters(rtm.tech, tech);
      const evaluate = energyRatioEvaluator({ ap: rtm.tech, apEvents: rtm.run.total, apMachine: rtm.arch, crossbar: tech, workload, params });
      const names = params.map((p) => p.name);
      const td = tornado(evaluate, names);
      sensitivity.push({
        crossbar: x.target,
        ratioDefinition: `${x.target} energy / RTM-AP energy (higher = RTM-AP better)`,
        baseRatio: td.base,
        entries: td.bars.map((b) => ({ parameter: b.name, lowFactor: b.lowFactor, highFactor: b.highFactor, ratioAtLow: b.atLow, ratioAtHigh: b.atHigh })),
        targetRatio,
        whatItTakes: names.map((name) => {
          const s = solveMultiplier(evaluate, name, targetRatio, { minFactor: 1e-9, maxFactor: 1e9 });
          return s.reachable
            ? { parameter: name, factor: s.multiplier, note: `x${s.multiplier.toPrecision(3)} alone gives ${s.ratio.toPrecision(3)}x` }
            : { parameter: name, factor: null, note: s.reason };
        }),
      });
    }
  }

  const report: ComparisonReport = {
    model,
    modelInfo: {
      "compute units": rtm?.run.perUnit.length ?? 0,
      MACs: macs,
      inputs,
      "activation bits": q.activationBits,
      ...(m.zoo ? { "zoo model": m.zoo.name, "weight sparsity": Math.round(m.zoo.sparsity * 1000) / 1000 } : {}),
    },
    rtapVersion: RTAP_VERSION,
    targets: result,
    ablation,
    sensitivity,
    notes: [
      ...q.notes,
      `AP energies come from exact event counts of the compiled program simulated on ${inputs} (per inference); crossbar energies from the crossbar model on the same integer graph.`,
      ...(targets.includes("rtm-ap")
        ? [`The RTM-AP's events are priced with every technology scenario (${RTM_SCENARIOS.join(", ")}: typical device level, SOT/skyrmion-class low end, array-level RTSim/DESTINY) without re-simulation; the headline and the sensitivity study use ${rtm && rtm.tech.name !== AP_TARGETS["rtm-ap"]!.tech ? `${rtm.tech.name} (${reportPath(rtm.tech.file)})` : `the default, ${AP_TARGETS["rtm-ap"]!.tech}`}.`]
        : []),
      ...(result.some((r) => r.kind === "reference")
        ? [`Reference rows are published efficiencies, not models: energy = ${OPS_PER_MAC} x ${workload.totalMacs} MACs / efficiency, at the paper's own precision and node. Ratios against them show what a "7.5x" would be measured against.`]
        : []),
      "Every number in the technology and architecture files carries its source or is marked as an assumption (configs/tech, configs/arch); see docs/cost-model.md and docs/results.md.",
    ],
  };
  return { report, seconds: (performance.now() - t0) / 1000 };
}

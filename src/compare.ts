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

import { Worker } from "node:worker_threads";
import { loadArch, type ApArch, type RowLayoutKind } from "./ap/config.js";
import { EVENT_KINDS, zeroEvents, type ApEvents } from "./ap/events.js";
import type { PassSwitches } from "./compiler/lower.js";
import { mapPositions, type UnitMapping } from "./compiler/mapping.js";
import { compileNetwork, PASS_NAMES, runCompiled, type CompiledNetwork } from "./compiler/pipeline.js";
import { programMovement } from "./compiler/simulate.js";
import { AP_PRICED_KINDS, apCostPerLayer, type ApCost } from "./cost/ap.js";
import { crossbarCost } from "./cost/crossbar.js";
import { crossbarPrecision, OPS_PER_MAC, referenceEnergyJ } from "./cost/reference.js";
import { defaultUncertainParameters, energyRatioEvaluator, solveMultiplier, tornado } from "./cost/sensitivity.js";
import { loadApTechnology, loadCrossbarTechnology, loadReferenceTechnology, RTM_SCENARIOS, technologyPath } from "./cost/technology.js";
import type { ApTechnology, CrossbarTechnology, ReferenceTechnology } from "./cost/technology.js";
import { workloadFromQGraph } from "./cost/workload.js";
import { loadDataset, randomImages } from "./data/index.js";
import { RtapError } from "./errors.js";
import { loadQuantizedModel, type QuantizedModel } from "./model.js";
import { convMacs, type QConvOp, type QGraph } from "./quantize/qgraph.js";
import type { AblationResult, ComparisonReport, LayerResult, ScenarioResult, SensitivityResult, TargetResult } from "./report/types.js";
import { RTAP_VERSION } from "./version.js";
import { reportPath } from "./util/paths.js";

/** Free memory reserved per AP worker thread (ResNet-18 programs peak at 1.6-3.6 GB, measured). */
const AP_WORKER_BYTES = 4 * 2 ** 30;

/** Young-generation size of AP worker threads (3 semi-spaces of 64 MB). */
const WORKER_YOUNG_GENERATION_MB = 192;

/** From this many MACs per inference on, AP programs compile and simulate in worker threads. */
const LARGE_NETWORK_MACS = 3e8;

/** AP targets: architecture, default technology, and the technology scenarios priced from the same events (default first). */
export const AP_TARGETS: Record<string, { arch: string; tech: string; label: string; scenarios?: readonly string[] }> = {
  "rtm-ap": { arch: "rtm-ap", tech: "rtm-ap", label: "RTM-AP", scenarios: RTM_SCENARIOS },
  "sram-ap": { arch: "sram-ap", tech: "sram-ap", label: "SRAM-CAM AP" },
};

export const CROSSBAR_TARGETS: Record<string, { tech: string; label: string }> = {
  "crossbar-isaac": { tech: "crossbar-isaac", label: "Crossbar CIM, ISAAC-style (32 nm numbers scaled to 22 nm)" },
  "crossbar-neurosim22": { tech: "crossbar-neurosim22", label: "Crossbar CIM, DNN+NeuroSim V1.4 calibrated (22 nm RRAM)" },
};

/** Published efficiencies shown as labelled reference rows (configs/tech/reference-*.yaml). */
export const REFERENCE_TARGETS: Record<string, { tech: string; label: string }> = {
  "reference-isaac": { tech: "reference-isaac", label: "ISAAC, published efficiency" },
  "reference-puma": { tech: "reference-puma", label: "PUMA, published efficiency" },
};

/** The ablation row of the serial RTM layout (configs/arch/rtm-ap-serial.yaml's row on the same machine). */
export const SERIAL_LAYOUT_ROW = "serial layout";

export const DEFAULT_TARGETS = ["rtm-ap", "sram-ap", "crossbar-isaac", "crossbar-neurosim22", "reference-isaac", "reference-puma"];

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
  /**
   * Worker threads for the AP programs besides the main RTM-AP one (other AP targets, ablation
   * variants). Default: the core count, capped by free memory, for networks over 3e8 MACs; else 1
   * (= everything in this thread).
   */
  workers?: number;
  /** Architecture of the RTM-AP target: a config name (rtm-ap, rtm-ap-serial) or a YAML file (default rtm-ap). */
  rtmArch?: string;
}

export interface CompareResult {
  report: ComparisonReport;
  seconds: number;
}

const AP_COMPONENTS = ["search", "write", "shift", "periphery", "movement", "buffers", "leakage"] as const;

/** "shiftTrackDomains" -> "shift_track_domains" (the JSON names of event kinds). */
export function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Events per inference of an AP run by kind: every simulator counter (snake_case, summed over
 * units) and then the derived priced kinds that are not counters themselves (search_rows,
 * micro_ops, tag_row_ops, global_buffer_bits, array_seconds = arrays x latency at the target's clock).
 */
function eventsByKind(perUnit: readonly { events: ApEvents }[], total: ApCost): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of EVENT_KINDS) out[snakeCase(k)] = perUnit.reduce((s, u) => s + u.events[k], 0);
  for (const k of AP_PRICED_KINDS) if (!(k in out)) out[k] = total.counts[k];
  return out;
}

/** What the report shows per unit besides its events (kept so a run can travel from a worker). */
interface UnitInfo {
  addCycles: number;
  addCyclesNaive: number;
  utilization: number;
  arrays: number;
}

interface ApRun {
  /** The compiled network (main-thread runs of the RTM-AP only: the ablation re-plans its movement). */
  net?: CompiledNetwork;
  perUnit: { name: string; events: ApEvents }[];
  units: UnitInfo[];
  total: ApEvents;
  addCycles: number;
}

function simulateAp(net: CompiledNetwork, pixels: Uint8Array, n: number): ApRun {
  const r = runCompiled(net, pixels, n, { mode: "fast", events: true });
  const scale = (e: ApEvents): ApEvents => {
    const o = zeroEvents();
    for (const k of Object.keys(e) as (keyof ApEvents)[]) o[k] = e[k] / n;
    return o;
  };
  let addCycles = 0;
  for (const u of net.units) if (!u.stationary) addCycles += u.stats.cyclesCompiled;
  // drop the simulation's expansion caches and tensors (large for ImageNet networks)
  net.sim = undefined;
  r.tensors.clear();
  const units = net.units.map((cu) => ({ addCycles: cu.stats.cyclesCompiled, addCyclesNaive: cu.stats.cyclesNaive, utilization: cu.mapping.utilization, arrays: cu.mapping.arrays }));
  return { net, perUnit: r.units.map((u) => ({ name: u.unit, events: scale(u.events) })), units, total: scale(r.events), addCycles };
}

/** Movement events (and their cycles) of a compiled network, per unit, per image. */
function movementOnly(net: CompiledNetwork): ApEvents[] {
  const q = net.q;
  const producer = new Map<string, UnitMapping>();
  const out: ApEvents[] = [];
  for (const cu of net.units) {
    const mv = { arch: net.arch, mapping: cu.mapping, producerMapping: (t: string) => (t === q.input ? ("global" as const) : (producer.get(t) ?? ("global" as const))), local: net.passes.movement };
    out.push(cu.stationary ? zeroEvents() : programMovement(q, net.arch, cu.program, cu.mapping, mv));
    producer.set(cu.unit.output, cu.mapping);
  }
  return out;
}

function apTarget(id: string, label: string, files: string[], run: ApRun, tech: ApTechnology, arch: ApArch, precision: string, scenarios: readonly string[]): TargetResult {
  const perUnit = run.perUnit.map((u) => ({ name: u.name, events: u.events }));
  const priced = apCostPerLayer(perUnit, tech, arch);
  const layers: LayerResult[] = priced.perLayer.map((l, i) => {
    const cu = run.units[i]!;
    return {
      name: l.name,
      energyJ: l.energyJ,
      components: Object.fromEntries(AP_COMPONENTS.map((k) => [k, l.energy[k]])),
      latencyS: l.latencyS,
      movementJ: l.energy.movement + l.energy.buffers,
      extra: {
        add_cycles: cu.addCycles,
        add_cycles_naive: cu.addCyclesNaive,
        shifts: run.perUnit[i]!.events.shifts,
        row_utilization: cu.utilization,
        arrays: cu.arrays,
      },
    };
  });
  const t = priced.total;
  // the same events priced with every technology scenario (no re-simulation)
  const scenarioResults: ScenarioResult[] = scenarios.map((name) => {
    const isDefault = name === tech.name;
    const c = isDefault ? t : apCostPerLayer(perUnit, loadApTechnology(name), arch).total;
    return {
      technology: name,
      file: reportPath(isDefault ? tech.file : technologyPath(name)),
      isDefault,
      energyJ: c.energyJ,
      latencyS: c.latencyS,
      components: Object.fromEntries(AP_COMPONENTS.map((k) => [k, c.energy[k]])),
      energyRatioVsCrossbar: {},
    };
  });
  return {
    target: id,
    label,
    kind: "ap",
    files,
    precision,
    energyJ: t.energyJ,
    latencyS: t.latencyS,
    areaMm2: t.areaMm2,
    inferencesPerJ: 1 / t.energyJ,
    movementShare: (t.energy.movement + t.energy.buffers) / t.energyJ,
    energyRatioVsCrossbar: {},
    components: Object.fromEntries(AP_COMPONENTS.map((k) => [k, t.energy[k]])),
    layers,
    events: eventsByKind(run.perUnit, t),
    ...(scenarioResults.length ? { scenarios: scenarioResults } : {}),
  };
}

function crossbarTarget(id: string, label: string, file: string, q: QuantizedModel, tech: CrossbarTechnology): TargetResult {
  const c = crossbarCost(workloadFromQGraph(q.qgraph), tech);
  const comp = c.total.components as unknown as Record<string, number>;
  const layers: LayerResult[] = c.perLayer.map((l) => {
    const e = l.energy as unknown as Record<string, number>;
    const total = Object.values(e).reduce((a, b) => a + b, 0);
    return { name: l.name, energyJ: total, components: { ...e }, latencyS: l.latencyS, movementJ: (e.interconnect ?? 0) + (e.buffers ?? 0) };
  });
  // digital non-MAC ops (residual add, pooling, requant) as one layer row so layers sum to the total
  const auxJ = c.aux.reduce((s, a) => s + a.energy + a.bufferEnergy, 0);
  if (auxJ > 0) layers.push({ name: "non-MAC ops", energyJ: auxJ, components: { other: c.aux.reduce((s, a) => s + a.energy, 0), buffers: c.aux.reduce((s, a) => s + a.bufferEnergy, 0) }, latencyS: 0, movementJ: 0 });
  return {
    target: id,
    label,
    kind: "crossbar",
    files: [reportPath(file)],
    precision: crossbarPrecision(tech, q.qgraph.activationBits),
    energyJ: c.total.energyJ,
    latencyS: c.total.latencyS,
    areaMm2: c.total.areaMm2,
    inferencesPerJ: 1 / c.total.energyJ,
    movementShare: ((comp.interconnect ?? 0) + (comp.buffers ?? 0)) / c.total.energyJ,
    energyRatioVsCrossbar: {},
    components: { ...comp },
    layers,
  };
}

/** A published efficiency as a reference row: energy = 2 x MACs / efficiency; latency, area, movement unknown. */
function referenceTarget(id: string, label: string, ref: ReferenceTechnology, macs: number): TargetResult {
  const energyJ = referenceEnergyJ(ref, macs);
  const e = ref.efficiency.given;
  return {
    target: id,
    label: `${label}: ${e.value} ${e.unit} (${ref.precision}${ref.node !== undefined ? `, ${ref.node} nm` : ""}), energy = ${OPS_PER_MAC} x MACs / efficiency`,
    kind: "reference",
    files: [reportPath(ref.file)],
    precision: ref.precision,
    energyJ,
    latencyS: null,
    areaMm2: null,
    inferencesPerJ: 1 / energyJ,
    movementShare: null,
    energyRatioVsCrossbar: {},
    components: {},
    layers: [],
    reference: { efficiencyOpsPerJ: ref.efficiency.value, ops: OPS_PER_MAC * macs, source: ref.efficiency.source ?? ref.efficiency.note ?? "" },
  };
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

/** One AP program to compile and simulate apart from the main thread's (see apJob). */
export interface ApJobRequest {
  model: string;
  seed?: number;
  dataset?: string;
  images?: number;
  /** Architecture: a config name or file. */
  arch: string;
  /** The pass switched off (ablation variants); none for a target's full pipeline. */
  pass?: keyof PassSwitches;
  /** Another RTM row layout for the same architecture (the ablation's serial-layout row). */
  layout?: RowLayoutKind;
}

export type ApJobResult = Omit<ApRun, "net">;

/**
 * An AP target or ablation variant from scratch (model, inputs, compile, simulate with events):
 * what a worker thread runs, so that it needs nothing from the main thread but this request.
 */
export function apJob(req: ApJobRequest): ApJobResult {
  const q = loadQuantizedModel(req.model, { seed: req.seed }).qgraph;
  const { pixels, count } = compareInputs(q, req);
  const loaded = loadArch(req.arch);
  const arch = req.layout ? { ...loaded, name: `${loaded.name} (${req.layout} layout)`, array: { ...loaded.array, layout: req.layout } } : loaded;
  const net = compileNetwork(q, { arch, disable: req.pass ? [req.pass] : [] });
  const { perUnit, units, total, addCycles } = simulateAp(net, pixels, count);
  return { perUnit, units, total, addCycles };
}

/** Runs an AP job in a worker thread; `live` holds the worker while it runs (to stop it on failure). */
function runApJobInWorker(req: ApJobRequest, live: Set<Worker>): Promise<ApJobResult> {
  const isTs = import.meta.url.endsWith(".ts");
  const url = new URL(`./compare-worker.${isTs ? "ts" : "js"}`, import.meta.url);
  // A larger young generation: compile and simulation allocate many short-lived objects beside a
  // multi-GB heap of programs; with V8's default, scavenges took ~25% of an ablation variant
  // (measured on ResNet-18: unroll off 73 s -> 60 s, interchange off 82 s -> 75 s).
  const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
  const worker = isTs
    ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: req, resourceLimits })
    : new Worker(url, { workerData: req, resourceLimits });
  live.add(worker);
  return new Promise((resolve, reject) => {
    worker.on("message", (m: { kind: "done"; result: ApJobResult } | { kind: "error"; message: string; rtap: boolean }) => {
      if (m.kind === "done") resolve(m.result);
      else reject(m.rtap ? new RtapError(m.message) : new Error(m.message));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      live.delete(worker);
      if (code !== 0) reject(new Error(`AP worker thread exited with code ${code}`));
    });
  });
}

/** Runs tasks with at most `width` at once, results in order. */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, lane));
  return out;
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
  // Large networks compile and simulate their AP programs in worker threads, side by side: one
  // worker per core, capped by free memory (a ResNet-18 program peaks at 1.6-3.6 GB, measured).
  // Small ones run faster in this thread than a worker starts.
  const byMemory = Math.max(1, Math.floor(freemem() / AP_WORKER_BYTES));
  const workers = Math.max(1, opts.workers ?? (macs > LARGE_NETWORK_MACS ? Math.min(availableParallelism(), byMemory) : 1));

  const apIds = targets.filter((id) => id in AP_TARGETS);
  // The RTM-AP (else the first AP target) runs in this thread: the ablation needs its compiled
  // network. With spare workers the others start now and run alongside it.
  const mainAp = apIds.includes("rtm-ap") ? "rtm-ap" : apIds[0];
  const offThread = new Map<string, Promise<ApJobResult>>();
  if (workers > 1)
    for (const id of apIds)
      if (id !== mainAp) {
        const job = runApJobInWorker({ model, seed: opts.seed, dataset: opts.dataset, images: opts.images, arch: AP_TARGETS[id]!.arch }, live);
        job.catch(() => {}); // awaited below; a failure surfaces there, not as an unhandled rejection
        offThread.set(id, job);
      }
  const byTarget = new Map<string, TargetResult>();
  const workload = workloadFromQGraph(q);
  let rtm: { run: ApRun; tech: ApTechnology; arch: ApArch; archSpec: string } | undefined;
  for (const id of targets) {
    if (id in AP_TARGETS) {
      const spec = AP_TARGETS[id]!;
      const archSpec = id === "rtm-ap" && opts.rtmArch ? opts.rtmArch : spec.arch;
      const arch = loadArch(archSpec);
      if (id === "rtm-ap" && arch.array.technology !== "rtm") throw new RtapError(`--arch: the RTM-AP target needs an RTM architecture (technology: rtm); ${arch.name} is ${arch.array.technology}`, archSpec);
      const tech = loadApTechnology(spec.tech);
      let run: ApRun;
      const pending = offThread.get(id);
      if (pending) {
        stage(`wait for ${id} (worker thread)`);
        run = await pending;
      } else {
        stage(`compile ${id}${offThread.size ? ` (${[...offThread.keys()].join(", ")} in a worker thread)` : ""}`);
        const net = compileNetwork(q, { arch });
        stage(`simulate ${id}`);
        run = simulateAp(net, pixels, count);
      }
      // ternary weights (sign + magnitude, folded into the instruction stream) on k-bit activations
      const precision = `W2/A${q.activationBits}`;
      byTarget.set(id, apTarget(id, `${spec.label} (${arch.name}, ${tech.name})`, [reportPath(arch.file ?? archSpec), reportPath(technologyPath(spec.tech))], run, tech, arch, precision, spec.scenarios ?? []));
      if (id === "rtm-ap") rtm = { run, tech, arch, archSpec };
      else run.net = undefined; // only the RTM-AP's programs are needed later (ablation)
    }
  }
  for (const id of targets) {
    if (id in CROSSBAR_TARGETS) {
      const spec = CROSSBAR_TARGETS[id]!;
      stage(`price ${id}`);
      byTarget.set(id, crossbarTarget(id, spec.label, technologyPath(spec.tech), m, loadCrossbarTechnology(spec.tech)));
    }
  }
  for (const id of targets) {
    if (id in REFERENCE_TARGETS) {
      const spec = REFERENCE_TARGETS[id]!;
      byTarget.set(id, referenceTarget(id, spec.label, loadReferenceTechnology(spec.tech), workload.totalMacs));
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
  if (opts.ablation !== false && rtm) {
    const full = rtm;
    const fullEnergy = result.find((r) => r.target === "rtm-ap")!.energyJ;
    const price = (perUnit: { name: string; events: ApEvents }[]): { energyJ: number; latencyS: number } => {
      const c = apCostPerLayer(perUnit, full.tech, full.arch).total;
      return { energyJ: c.energyJ, latencyS: c.latencyS };
    };
    const base = price(full.run.perUnit);
    ablation.push({ pass: "none", energyJ: base.energyJ, latencyS: base.latencyS, addCycles: full.run.addCycles, energyVsFull: base.energyJ / fullEnergy });
    const fullNet = full.run.net!;
    const fullMovement = movementOnly(fullNet);
    const byPass = new Map<keyof PassSwitches, { perUnit: { name: string; events: ApEvents }[]; addCycles: number }>();
    for (const pass of ["layout", "movement"] as const) {
      // same programs, other placement or movement model: swap the movement events
      const passes = { ...fullNet.passes, [pass]: false };
      const net: CompiledNetwork = {
        ...fullNet,
        passes,
        units: fullNet.units.map((u) => ({ ...u, mapping: pass === "layout" && !u.stationary ? mapPositions(u.mapping.shape, full.arch, false) : u.mapping })),
      };
      const mv = movementOnly(net);
      byPass.set(pass, {
        addCycles: full.run.addCycles,
        perUnit: full.run.perUnit.map((u, i) => {
          const e = { ...u.events };
          // (cycles too: a run of loads through the global buffer takes longer than a local one)
          for (const k of Object.keys(e) as (keyof ApEvents)[]) e[k] += mv[i]![k] - fullMovement[i]![k];
          return { name: u.name, events: e };
        }),
      });
    }
    // The other passes change the programs: recompile and re-simulate, in worker threads on large
    // networks (the main thread's compiled network is released first; each worker rebuilds the
    // same QGraph).
    full.run.net = undefined;
    const recompile = (Object.keys(PASS_NAMES) as (keyof PassSwitches)[]).filter((p) => !byPass.has(p));
    stage(`ablation: ${recompile.map((p) => PASS_NAMES[p]).join(", ")} off, serial layout${workers > 1 ? ` (${workers} worker threads)` : ""}`);
    const archRef = full.archSpec;
    // On an interleaved RTM row the ablation also compiles the serial layout (operand bits along
    // the tracks, one shift per bit step), every pass on: what the racetrack layout itself buys.
    const serialRow = full.arch.array.technology === "rtm" && (full.arch.array.layout ?? "interleaved") === "interleaved";
    const requests: ApJobRequest[] = recompile.map((pass) => ({ model, seed: opts.seed, dataset: opts.dataset, images: opts.images, arch: archRef, pass }));
    if (serialRow) requests.push({ model, seed: opts.seed, dataset: opts.dataset, images: opts.images, arch: archRef, layout: "serial" });
    const variants = await pool(
      requests.map((req) => () => (workers > 1 ? runApJobInWorker(req, live) : Promise.resolve(apJob(req)))),
      Math.max(1, workers),
    );
    recompile.forEach((p, i) => byPass.set(p, variants[i]!));
    for (const pass of Object.keys(PASS_NAMES) as (keyof PassSwitches)[]) {
      const v = byPass.get(pass)!;
      const c = price(v.perUnit);
      ablation.push({ pass: PASS_NAMES[pass], energyJ: c.energyJ, latencyS: c.latencyS, addCycles: v.addCycles, energyVsFull: c.energyJ / fullEnergy });
    }
    if (serialRow) {
      const v = variants[variants.length - 1]!;
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
        ? [`The RTM-AP's events are priced with every technology scenario (${RTM_SCENARIOS.join(", ")}: typical device level, SOT/skyrmion-class low end, array-level RTSim/DESTINY) without re-simulation; the headline and the sensitivity study use the default, ${AP_TARGETS["rtm-ap"]!.tech}.`]
        : []),
      ...(result.some((r) => r.kind === "reference")
        ? [`Reference rows are published efficiencies, not models: energy = ${OPS_PER_MAC} x ${workload.totalMacs} MACs / efficiency, at the paper's own precision and node. Ratios against them show what a "7.5x" would be measured against.`]
        : []),
      "Every number in the technology and architecture files carries its source or is marked as an assumption (configs/tech, configs/arch); see docs/cost-model.md and docs/results.md.",
    ],
  };
  return { report, seconds: (performance.now() - t0) / 1000 };
}

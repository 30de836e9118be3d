/**
 * The reliability study (`rtap faults`, docs/reliability.md): RTM shift faults and write flips
 * injected into the bit-level simulator on real images, with and without a shift-fault protection
 * scheme (src/ap/faults.ts ProtectionSpec), per architecture (interleaved and serial layouts).
 *
 * How a curve is computed (per architecture, protection, fault kind, rate, seed):
 *  - the network is compiled once; the integer reference gives every unit's fault-free output for
 *    every image (the compiled program equals it bit for bit: tested), hence the fault-free
 *    predictions;
 *  - every image has its own fault process (src/ap/faults.ts FaultStream): a countdown to the next
 *    fault over a fixed, data-independent order of trials. Each unit's trial counts per image are
 *    measured once by a counting run of the bit-level simulator;
 *  - unit by unit: an image whose countdown passes the unit's trial count receives no fault there,
 *    so the unit's output is the fault-free one (inputs unchanged) or the word-level simulator's on
 *    its changed inputs (the program is exact when no fault lands); only images with a fault in the
 *    unit run on the bit-level simulator, with their countdowns, which continue into the next unit.
 *    This is the same random process as simulating everything at the bit level, at a fraction of
 *    the cost at low rates.
 * Confidence intervals: Wilson score intervals (95 %) on the pooled (image, seed) trials.
 */
import { availableParallelism } from "node:os";
import { runWorkerJob } from "./util/worker.js";
import { loadArch } from "./ap/config.js";
import { addEvents, zeroEvents, type ApEvents } from "./ap/events.js";
import { FaultStream, geometricGap, type ProtectionSpec } from "./ap/faults.js";
import { compileNetwork, runUnit, type CompiledNetwork, type CompiledUnit } from "./compiler/pipeline.js";
import { makeSimContext, type SimContext } from "./compiler/simulate.js";
import type { UnitMapping } from "./compiler/mapping.js";
import { apCost } from "./cost/ap.js";
import { loadApTechnology } from "./cost/technology.js";
import { RtapError } from "./errors.js";
import { argmax } from "./float/executor.js";
import type { QGraph } from "./quantize/qgraph.js";
import { dequantizeOutput, runReference } from "./reference/integer.js";
import { Rng } from "./util/random.js";

export type FaultKind = "shift" | "write";
export type ProtectName = "none" | "pecc";
export const PROTECT_SCHEMES: readonly ProtectName[] = ["none", "pecc"];

/** Assumed sizes of the p-ECC scheme (no published figure was retrieved: parameters, see docs/reliability.md). */
export interface PeccParams {
  /** Check after every `interval`-th shift of a group. Default 1. */
  interval: number;
  /** Extra read heads per nanowire sensing the code. Default 2 (position modulo 4). */
  heads: number;
  /** Guard domains at each end of a track (hold bits pushed past the end). Default 2. */
  guardDomains: number;
}

export const DEFAULT_PECC: PeccParams = { interval: 1, heads: 2, guardDomains: 2 };

/** A network ready for fault runs on one architecture. */
export interface FaultSetup {
  arch: string;
  layout: string;
  net: CompiledNetwork;
  q: QGraph;
  count: number;
  /** Index of image 0 in the dataset (seeds each image's fault process, so shards give the same results). */
  firstImage: number;
  labels: Uint8Array | null;
  /** Fault-free tensors of every image (the integer reference). */
  clean: Map<string, Int32Array>;
  cleanPred: Int32Array;
  /** Per unit: shift and write trials per image (counting run of the bit-level simulator). */
  shiftTrials: number[];
  writeTrials: number[];
  /**
   * Per unit: cells the fault-free program's write micro-ops write per image (what write flips can
   * hit; the first image's count: it depends on the data). Loads and stores are testbench writes in
   * the bit-level simulator and receive no faults.
   */
  writtenCells: number[];
  /** Per unit, per image: fault-free events (the counting run: one image). */
  unitEvents: ApEvents[];
  producer: Map<string, UnitMapping>;
  sim: SimContext;
  /** Per unit: the unit with its mapping cut to the rows that hold positions (bit-level fault runs). */
  compact: CompiledUnit[];
}

/** The unit with rowsPerArray cut to the rows that hold positions (rows are independent under SIMD). */
function compactUnit(cu: CompiledUnit): CompiledUnit {
  let used = 0;
  for (let p = 0; p < cu.mapping.positions; p++) used = Math.max(used, cu.mapping.place(p).row + 1);
  return { ...cu, mapping: { ...cu.mapping, rowsPerArray: used } };
}

/** Compiles `q` for `arch`, runs the reference on the images and counts every unit's trials. */
export function prepareFaultSetup(q: QGraph, arch: string, images: Uint8Array, labels: Uint8Array | null, count: number, firstImage = 0): FaultSetup {
  const net = compileNetwork(q, { arch });
  for (const cu of net.units)
    if (cu.stationary) throw new RtapError(`unit "${cu.unit.name}" uses the weight-stationary mapping, which the fault study does not model; compile with --fc-mapping rows`);
  if (net.arch.array.technology !== "rtm") throw new RtapError(`architecture "${arch}" is not racetrack memory (shift faults need RTM)`, "--arch");
  const ref = runReference(q, images, count, { keepAll: true });
  const clean = ref.tensors;
  const cleanPred = predictions(q, clean.get(q.output)!, count);
  const producer = new Map<string, UnitMapping>();
  for (const cu of net.units) producer.set(cu.unit.output, cu.mapping);
  net.sim ??= makeSimContext(q, net.arch, net.layout);
  const sim = net.sim;
  // counting run: one image, probabilities 0
  const shiftTrials: number[] = [], writeTrials: number[] = [], writtenCells: number[] = [], unitEvents: ApEvents[] = [];
  const env = new Map<string, Int32Array>();
  for (const [k, v] of clean) env.set(k, sliceImages(v, count, [0]));
  const compact = net.units.map(compactUnit);
  net.units.forEach((cu, u) => {
    const stream = new FaultStream({ shiftProb: 0, writeProb: 0, rowsPerImage: cu.mapping.rowsPerArray, rngs: [new Rng(1)] });
    const ue = runUnit(net, { ...sim, faults: { stream }, noSchedule: true }, cu, producerOf(q, producer), env, 1, { mode: "bit" });
    shiftTrials.push(stream.shiftTrials[0]!);
    writeTrials.push(stream.writeTrials[0]!);
    unitEvents.push(ue.total);
    writtenCells.push(ue.total.writeCells - ue.movement.writeCells + ue.total.flagWriteCells - ue.movement.flagWriteCells);
    // the compact unit counts the same trials and computes the same output
    const c = new FaultStream({ shiftProb: 0, writeProb: 0, rowsPerImage: cu.mapping.rowsPerArray, simRowsPerImage: compact[u]!.mapping.rowsPerArray, rngs: [new Rng(1)] });
    const e2 = new Map(env);
    runUnit(net, { ...sim, faults: { stream: c }, noSchedule: true }, compact[u]!, producerOf(q, producer), e2, 1, { mode: "bit" });
    const a = env.get(cu.unit.output)!, b = e2.get(cu.unit.output)!;
    if (c.shiftTrials[0] !== stream.shiftTrials[0] || c.writeTrials[0] !== stream.writeTrials[0] || a.some((v, i) => v !== b[i]))
      throw new Error(`internal: the compact simulation of unit "${cu.unit.name}" differs from the full one`);
  });
  return { arch, layout: net.layout.kind, net, q, count, firstImage, labels, clean, cleanPred, shiftTrials, writeTrials, writtenCells, unitEvents, producer, sim, compact };
}

function producerOf(q: QGraph, producer: Map<string, UnitMapping>): (t: string) => UnitMapping | "global" {
  return (t) => (t === q.input ? "global" : (producer.get(t) ?? "global"));
}

function predictions(q: QGraph, out: Int32Array, count: number): Int32Array {
  const logits = dequantizeOutput(q, out, count);
  return Int32Array.from(logits, (l) => argmax(l));
}

/** The images `idx` of a batch tensor (per-image blocks). */
function sliceImages(t: Int32Array, count: number, idx: readonly number[]): Int32Array {
  const per = t.length / count;
  const out = new Int32Array(idx.length * per);
  idx.forEach((n, i) => out.set(t.subarray(n * per, (n + 1) * per), i * per));
  return out;
}

/** One run: a fault kind at a rate with a protection, on every image. */
export interface FaultConfig {
  protect: ProtectName;
  kind: FaultKind;
  rate: number;
  seed: number;
  /** Faults in this unit only (per-layer sensitivity); all units otherwise. */
  onlyUnit?: number;
  pecc?: PeccParams;
}

export interface FaultRunResult {
  /** Per image: prediction under faults. */
  pred: Int32Array;
  faults: number;
  corrected: number;
  uncorrectable: number;
  miscorrected: number;
  /** Unit runs on the bit level (image x unit). */
  bitUnitRuns: number;
}

/** Runs one configuration on every image of the setup. */
export function runFaultConfig(s: FaultSetup, cfg: FaultConfig): FaultRunResult {
  const { net, q, count } = s;
  const protect: ProtectionSpec | null = cfg.protect === "pecc" ? { scheme: "pecc", interval: (cfg.pecc ?? DEFAULT_PECC).interval } : null;
  if (!(cfg.rate >= 0 && cfg.rate <= 1)) throw new RtapError(`fault rate must be in 0..1 (got ${cfg.rate})`);
  const shiftProb = cfg.kind === "shift" ? cfg.rate : 0;
  const writeProb = cfg.kind === "write" ? cfg.rate : 0;
  const rngs = Array.from({ length: count }, (_, n) => new Rng((((cfg.seed * 1000003) ^ ((s.firstImage + n) * 7919 + 17)) >>> 0) + 1));
  const shiftLeft = new Float64Array(count), writeLeft = new Float64Array(count);
  for (let n = 0; n < count; n++) {
    shiftLeft[n] = geometricGap(rngs[n]!, shiftProb);
    writeLeft[n] = geometricGap(rngs[n]!, writeProb);
  }
  const dirty = new Uint8Array(count);
  const env = new Map<string, Int32Array>([[q.input, s.clean.get(q.input)!]]);
  let faults = 0, corrected = 0, uncorrectable = 0, miscorrected = 0, bitUnitRuns = 0;
  const prod = producerOf(q, s.producer);
  net.units.forEach((cu, u) => {
    const Ns = s.shiftTrials[u]!, Nw = s.writeTrials[u]!;
    const faulted: number[] = [], rerun: number[] = [];
    const active = cfg.onlyUnit === undefined || cfg.onlyUnit === u;
    for (let n = 0; n < count; n++) {
      if (active && (shiftLeft[n]! < Ns || writeLeft[n]! < Nw)) faulted.push(n);
      else {
        if (active) {
          shiftLeft[n]! -= Ns;
          writeLeft[n]! -= Nw;
        }
        if (dirty[n]) rerun.push(n);
      }
    }
    const clean = s.clean.get(cu.unit.output)!;
    if (faulted.length === 0 && rerun.length === 0) {
      env.set(cu.unit.output, clean);
      return;
    }
    const out = Int32Array.from(clean);
    const per = clean.length / count;
    const inputs = [...new Set(cu.program.loads.map((l) => l.tensor))];
    const subEnv = (idx: number[]): Map<string, Int32Array> => {
      const m = new Map<string, Int32Array>();
      for (const t of inputs) m.set(t, sliceImages(env.get(t) ?? s.clean.get(t)!, count, idx));
      return m;
    };
    const take = (idx: number[], got: Int32Array): void => {
      idx.forEach((n, i) => {
        const src = got.subarray(i * per, (i + 1) * per);
        out.set(src, n * per);
        if (!dirty[n]) for (let k = 0; k < per; k++) if (src[k] !== clean[n * per + k]) {
          dirty[n] = 1;
          break;
        }
      });
    };
    if (rerun.length) {
      const e = subEnv(rerun);
      runUnit(net, s.sim, cu, prod, e, rerun.length, { mode: "fast", events: false });
      take(rerun, e.get(cu.unit.output)!);
    }
    if (faulted.length) {
      const stream = new FaultStream({
        shiftProb, writeProb, rowsPerImage: cu.mapping.rowsPerArray, simRowsPerImage: s.compact[u]!.mapping.rowsPerArray, protect,
        rngs: faulted.map((n) => rngs[n]!), shiftLeft: faulted.map((n) => shiftLeft[n]!), writeLeft: faulted.map((n) => writeLeft[n]!),
      });
      const e = subEnv(faulted);
      // compact rows: more images side by side per simulated array (~16k rows)
      const cm = s.compact[u]!.mapping;
      const bitChunkRows = Math.max(1, Math.floor(16384 / cm.rowsPerArray)) * cm.arrays * cm.passes;
      runUnit(net, { ...s.sim, faults: { stream }, bitChunkRows, noSchedule: true }, s.compact[u]!, prod, e, faulted.length, { mode: "bit" });
      faulted.forEach((n, i) => {
        if (stream.shiftTrials[i] !== Ns || stream.writeTrials[i] !== Nw)
          throw new Error(`internal: unit "${cu.unit.name}" ran ${stream.shiftTrials[i]}/${stream.writeTrials[i]} trials, counted ${Ns}/${Nw}`);
        shiftLeft[n] = stream.shiftLeft[i]!;
        writeLeft[n] = stream.writeLeft[i]!;
        const st = stream.stats[i]!;
        faults += st.shiftFaults + st.writeFlips;
        corrected += st.corrected;
        uncorrectable += st.uncorrectable;
        miscorrected += st.miscorrected;
      });
      bitUnitRuns += faulted.length;
      take(faulted, e.get(cu.unit.output)!);
    }
    env.set(cu.unit.output, out);
  });
  const final = env.get(q.output)!;
  const pred = final === s.clean.get(q.output) ? s.cleanPred : predictions(q, final, count);
  return { pred, faults, corrected, uncorrectable, miscorrected, bitUnitRuns };
}

/** Wilson score interval (95 %) of k successes in n trials. */
export function wilson(k: number, n: number, z = 1.959963984540054): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/**
 * Faults per inference per unit of rate: shift trials, or the cells the fault-free program writes
 * (write trials also count untagged rows, where a drawn flip does nothing).
 */
export function trialsPerInference(s: Pick<FaultSetup, "shiftTrials" | "writtenCells">, kind: FaultKind): number {
  return (kind === "shift" ? s.shiftTrials : s.writtenCells).reduce((a, b) => a + b, 0);
}

/**
 * The default rate grid: 8 rates, log-spaced, at which 0.1 ... 1e5 faults per inference are
 * expected (capped at 0.5). Most faults land in idle rows or low-order bits, so the knee of
 * fmnist-resnet8 lies near 1e4 .. 1e5 faults per inference (docs/reliability.md).
 */
export function defaultRates(s: Pick<FaultSetup, "shiftTrials" | "writtenCells">, kind: FaultKind, points = 8): number[] {
  const N = trialsPerInference(s, kind);
  const out: number[] = [];
  for (let i = 0; i < points; i++) {
    const lambda = 10 ** (-1 + (6 * i) / (points - 1));
    out.push(Number(Math.min(0.5, lambda / N).toPrecision(2)));
  }
  return out;
}

/** Energy, latency and area of a protection scheme relative to the unprotected program (fault-free, per inference). */
export interface ProtectionOverhead {
  arch: string;
  scheme: ProtectName;
  energy_ratio: number;
  latency_ratio: number;
  area_ratio: number;
  extra_domains_per_track: number;
  extra_heads_per_track: number;
  checks_per_inference: number;
  check_bits_per_inference: number;
  energy_j: number;
  latency_s: number;
  base_energy_j: number;
  base_latency_s: number;
  assumptions: string[];
}

/**
 * Prices p-ECC on the fault-free events: after every `interval`-th shift micro-op a check senses
 * `heads` code bits of every nanowire of the group in every row (priced as track search bits, one
 * search and `compare` cycles per check); the code needs (offset range + heads - 1) domains per
 * track plus 2 x guardDomains, and `heads` more read heads (priced as port cells). Corrections are
 * one-domain shifts of single nanowires, rare at physical rates: counted per rate in the curves,
 * not here.
 */
export function protectionOverhead(s: FaultSetup, tech = "rtm-ap", p: PeccParams = DEFAULT_PECC): ProtectionOverhead {
  const arch = s.net.arch;
  const t = loadApTechnology(tech);
  const base = zeroEvents(), prot = zeroEvents();
  let checks = 0, bits = 0;
  s.net.units.forEach((cu, u) => {
    const e = s.unitEvents[u]!;
    addEvents(base, e);
    const arrays = cu.mapping.arrays * cu.mapping.passes;
    const shiftsPerArray = e.shifts / arrays;
    const c = e.shifts / p.interval;
    const b = (s.shiftTrials[u]! * p.heads) / p.interval;
    checks += c;
    bits += b;
    const extra = zeroEvents();
    extra.searches = c;
    extra.searchRowBits = b;
    extra.cycles = (shiftsPerArray / p.interval) * arch.timing.compare * cu.mapping.passes;
    addEvents(prot, extra);
  });
  addEvents(prot, base);
  const g = s.net.layout.geom;
  const codeDomains = g.maxOffset - g.minOffset + p.heads;
  const extraDomains = codeDomains + 2 * p.guardDomains;
  const c0 = apCost(base, t, arch), c1 = apCost(prot, t, arch);
  const shape = { tiles: arch.tiles, arraysPerTile: arch.arraysPerTile, rows: arch.array.rows, tracksPerRow: arch.array.tracks, domainsPerTrack: arch.array.domains, portsPerTrack: arch.array.ports };
  const a1 = apCost(prot, t, { ...shape, domainsPerTrack: shape.domainsPerTrack + extraDomains + p.heads, portsPerTrack: shape.portsPerTrack + p.heads });
  return {
    arch: s.arch, scheme: "pecc",
    energy_ratio: c1.energyJ / c0.energyJ,
    latency_ratio: c1.latencyS / c0.latencyS,
    area_ratio: a1.areaMm2 / c0.areaMm2,
    extra_domains_per_track: extraDomains,
    extra_heads_per_track: p.heads,
    checks_per_inference: checks,
    check_bits_per_inference: bits,
    energy_j: c1.energyJ, latency_s: c1.latencyS, base_energy_j: c0.energyJ, base_latency_s: c0.latencyS,
    assumptions: [
      `check after every ${p.interval === 1 ? "" : `${p.interval}th `}shift, ${p.heads} code heads per nanowire sensed like search bits (assumption)`,
      `code domains = offset range ${g.maxOffset - g.minOffset + 1} + ${p.heads - 1}, guard ${p.guardDomains} per end (assumption)`,
      `technology ${tech}`,
    ],
  };
}

// --- the study ------------------------------------------------------------------------------------

export interface FaultStudyOptions {
  limit?: number;
  offset?: number;
  /** Architectures (default both RTM layouts: rtm-ap, rtm-ap-serial). */
  archs?: string[];
  /** Explicit rates (all architectures); default: defaultRates per architecture. Empty: skip the kind. */
  shiftRates?: number[];
  writeRates?: number[];
  seeds?: number;
  protect?: ProtectName[];
  pecc?: Partial<PeccParams>;
  /** Per-layer sensitivity (default true). */
  sensitivity?: boolean;
  /** Worker threads (default: one per 100 images, up to the core count). */
  workers?: number;
  /** Model options (zoo seed, activation bits of inserted quantizers). */
  seed?: number;
  activationBits?: number;
  technology?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface CurvePoint {
  arch: string;
  layout: string;
  protect: ProtectName;
  kind: FaultKind;
  rate: number;
  /** Pooled over images x seeds. */
  trials: number;
  accuracy: number | null;
  changed: number;
  /** Wilson 95 % interval of the accuracy (of `changed` without labels). */
  ci_low: number;
  ci_high: number;
  changed_ci_low: number;
  changed_ci_high: number;
  faults_per_inference: number;
  expected_faults_per_inference: number;
  corrected_per_inference: number;
  uncorrectable_per_inference: number;
  miscorrected_per_inference: number;
}

export interface SensitivityPoint {
  arch: string;
  kind: FaultKind;
  rate: number;
  unit: string;
  accuracy: number | null;
  changed: number;
  changed_ci_low: number;
  changed_ci_high: number;
  faults_per_inference: number;
}

export interface FaultStudyReport {
  model: string;
  dataset: string;
  images: number;
  seeds: number;
  ci_method: "wilson-95";
  fault_free_accuracy: number | null;
  archs: Array<{ arch: string; layout: string; shift_trials_per_inference: number; write_trials_per_inference: number; written_cells_per_inference: number; units: Array<{ unit: string; shift_trials: number; write_trials: number }> }>;
  curves: CurvePoint[];
  sensitivity: SensitivityPoint[];
  overhead: ProtectionOverhead[];
  workers: number;
  seconds: number;
}

function countCorrect(pred: Int32Array, labels: Uint8Array | null): number {
  if (!labels) return 0;
  let k = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) k++;
  return k;
}

function countChanged(pred: Int32Array, clean: Int32Array): number {
  let k = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] !== clean[i]) k++;
  return k;
}

function checkRates(rates: number[] | undefined, flag: string): void {
  for (const r of rates ?? [])
    if (!(typeof r === "number" && Number.isFinite(r) && r >= 0 && r <= 1)) throw new RtapError(`rates must be probabilities in 0..1 (got ${String(r)})`, flag);
}

/** One shard of the study: a range of images on one architecture (run in a worker thread or inline). */
export interface FaultShardRequest {
  model: string;
  dataset: string;
  offset: number;
  limit: number;
  seed: number;
  activationBits: number;
  arch: string;
  shiftRates?: number[];
  writeRates?: number[];
  protects: ProtectName[];
  seeds: number;
  pecc: PeccParams;
  sensitivity: boolean;
  technology: string;
  /** Price the protection (one shard per architecture does). */
  overhead: boolean;
}

/** Sums of one configuration over a shard's images. */
export interface ShardTally {
  correct: number;
  changed: number;
  n: number;
  faults: number;
  corrected: number;
  uncorrectable: number;
  miscorrected: number;
}

export interface FaultShardResult {
  arch: string;
  layout: string;
  images: number;
  cleanCorrect: number;
  labelled: boolean;
  units: string[];
  shiftTrials: number[];
  writeTrials: number[];
  writtenCells: number[];
  jobs: Array<{ cfg: FaultConfig; tally: ShardTally }>;
  sensitivity: Array<{ unit: string; rate: number; tally: ShardTally }>;
  overhead: ProtectionOverhead | null;
}

/** The runs of one architecture, in order (every shard derives the same list from the same trial counts). */
function jobsOf(s: Pick<FaultSetup, "shiftTrials" | "writtenCells">, req: FaultShardRequest): FaultConfig[] {
  const list: FaultConfig[] = [];
  for (const kind of ["shift", "write"] as const) {
    const rates = (kind === "shift" ? req.shiftRates : req.writeRates) ?? defaultRates(s, kind);
    for (const protect of req.protects) {
      if (kind === "write" && protect !== "none") continue; // p-ECC protects positions, not written bits
      for (const rate of rates) for (let k = 0; k < req.seeds; k++) list.push({ protect, kind, rate, seed: k + 1, pecc: req.pecc });
    }
  }
  return list;
}

/** Sensitivity runs at the highest shift rate of the grid (unprotected, one unit at a time). */
function sensitivityRate(s: Pick<FaultSetup, "shiftTrials" | "writtenCells">, req: FaultShardRequest): number | null {
  if (!req.sensitivity) return null;
  const rates = req.shiftRates ?? defaultRates(s, "shift");
  const r = Math.max(0, ...rates);
  return r > 0 ? r : null;
}

function tally(r: FaultRunResult, s: FaultSetup): ShardTally {
  return {
    correct: countCorrect(r.pred, s.labels), changed: countChanged(r.pred, s.cleanPred), n: s.count,
    faults: r.faults, corrected: r.corrected, uncorrectable: r.uncorrectable, miscorrected: r.miscorrected,
  };
}

/**
 * Images of a study: a dataset spec, or "random:N" (N seeded random images of the model's input
 * shape, no labels: for zoo models, whose weights are synthetic; only "changed" is meaningful).
 */
async function loadStudyImages(spec: string, q: QGraph, limit: number | undefined, offset: number | undefined, seed: number): Promise<{ images: Uint8Array; labels: Uint8Array | null; count: number; spec: string }> {
  const shape = q.tensors.get(q.input)!.shape;
  if (spec.startsWith("random:")) {
    const n = Number(spec.slice(7));
    if (!Number.isInteger(n) || n < 1) throw new RtapError(`"random:N" needs a positive integer N`, `dataset "${spec}"`);
    const { randomImages } = await import("./data/index.js");
    const all = randomImages(shape, n, seed + 1);
    const per = shape[0] * shape[1] * shape[2];
    const from = Math.min(n, offset ?? 0), to = Math.min(n, from + (limit ?? n));
    return { images: all.slice(from * per, to * per), labels: null, count: to - from, spec: `random:${n} (seed ${seed + 1})` };
  }
  const { loadDataset } = await import("./data/index.js");
  const ds = loadDataset(spec, { limit, offset });
  if (ds.shape.join("x") !== shape.join("x")) throw new RtapError(`dataset images are ${ds.shape.join("x")} but the model expects ${shape.join("x")}`, spec);
  return { images: ds.images, labels: ds.labels, count: ds.count, spec: ds.spec };
}

export async function runFaultShard(req: FaultShardRequest, onProgress?: (done: number) => void): Promise<FaultShardResult> {
  const { loadQuantizedModel } = await import("./model.js");
  const q = loadQuantizedModel(req.model, { seed: req.seed, activationBits: req.activationBits }).qgraph;
  const ds = await loadStudyImages(req.dataset, q, req.limit, req.offset, req.seed);
  const s = prepareFaultSetup(q, req.arch, ds.images, ds.labels, ds.count, req.offset);
  const jobs = jobsOf(s, req);
  let done = 0;
  const out: FaultShardResult = {
    arch: req.arch, layout: s.layout, images: ds.count, cleanCorrect: countCorrect(s.cleanPred, ds.labels), labelled: !!ds.labels,
    units: s.net.units.map((cu) => cu.unit.name), shiftTrials: s.shiftTrials, writeTrials: s.writeTrials, writtenCells: s.writtenCells,
    jobs: [], sensitivity: [], overhead: req.overhead && req.protects.includes("pecc") ? protectionOverhead(s, req.technology, req.pecc) : null,
  };
  for (const cfg of jobs) {
    out.jobs.push({ cfg, tally: tally(runFaultConfig(s, cfg), s) });
    onProgress?.((done += ds.count));
  }
  const rate = sensitivityRate(s, req);
  if (rate !== null)
    s.net.units.forEach((cu, u) => {
      out.sensitivity.push({ unit: cu.unit.name, rate, tally: tally(runFaultConfig(s, { protect: "none", kind: "shift", rate, seed: 1, onlyUnit: u }), s) });
      onProgress?.((done += ds.count));
    });
  return out;
}

function runShardInWorker(req: FaultShardRequest, onProgress: (done: number) => void): Promise<FaultShardResult> {
  return runWorkerJob<FaultShardResult>("faults-worker", import.meta.url, req, "fault-study", onProgress);
}

/** The whole study on one model and dataset (what `rtap faults` prints). */
export async function faultStudy(model: string, datasetSpec: string, opts: FaultStudyOptions = {}): Promise<FaultStudyReport> {
  const t0 = performance.now();
  const { loadQuantizedModel } = await import("./model.js");
  const archs = opts.archs ?? ["rtm-ap", "rtm-ap-serial"];
  if (archs.length === 0) throw new RtapError("give at least one architecture", "--arch");
  const protects = opts.protect ?? ["none", "pecc"];
  for (const p of protects) if (!PROTECT_SCHEMES.includes(p)) throw new RtapError(`unknown protection "${p}" (known: ${PROTECT_SCHEMES.join(", ")})`, "--protect");
  if (protects.length === 0) throw new RtapError("give at least one protection (none, pecc)", "--protect");
  checkRates(opts.shiftRates, "--shift-rates");
  checkRates(opts.writeRates, "--write-rates");
  const seeds = opts.seeds ?? 1;
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new RtapError(`must be a positive integer (got ${seeds})`, "--seeds");
  const pecc: PeccParams = { ...DEFAULT_PECC, ...opts.pecc };
  if (!(Number.isInteger(pecc.interval) && pecc.interval >= 1)) throw new RtapError(`must be a positive integer (got ${pecc.interval})`, "--pecc-interval");
  // validate model, dataset, architectures up front (clear errors before any worker starts)
  const m = loadQuantizedModel(model, { seed: opts.seed ?? 0, activationBits: opts.activationBits ?? 4 });
  const q = m.qgraph;
  const ds = await loadStudyImages(datasetSpec, q, opts.limit, opts.offset, opts.seed ?? 0);
  for (const arch of archs) {
    const a = loadArch(arch);
    if (a.array.technology !== "rtm") throw new RtapError(`architecture "${arch}" is not racetrack memory (shift faults need RTM)`, "--arch");
  }
  const N = ds.count;
  const offset = opts.offset ?? 0;
  const W = Math.max(1, opts.workers ? Math.min(opts.workers, N) : Math.min(availableParallelism(), Math.ceil(N / 100)));
  const base = { model, dataset: datasetSpec, seed: opts.seed ?? 0, activationBits: opts.activationBits ?? 4, shiftRates: opts.shiftRates, writeRates: opts.writeRates, protects, seeds, pecc, sensitivity: opts.sensitivity !== false, technology: opts.technology ?? "rtm-ap" };
  const requests: FaultShardRequest[] = [];
  for (const arch of archs) {
    // Default grids depend on the written cells, which depend on the data: with several shards, fix
    // them here from the study's first image (what a single shard would use), so shards pool.
    let grid: Pick<FaultShardRequest, "shiftRates" | "writeRates"> = {};
    if (W > 1 && (!opts.shiftRates || !opts.writeRates)) {
      const per = ds.images.length / N;
      const one = prepareFaultSetup(q, arch, ds.images.subarray(0, per), null, 1, offset);
      grid = { shiftRates: opts.shiftRates ?? defaultRates(one, "shift"), writeRates: opts.writeRates ?? defaultRates(one, "write") };
    }
    for (let w = 0; w < W; w++) {
      const from = Math.floor((w * N) / W), to = Math.floor(((w + 1) * N) / W);
      if (to > from) requests.push({ ...base, ...grid, arch, offset: offset + from, limit: to - from, overhead: w === 0 });
    }
  }
  // progress: every shard runs the same number of jobs per image; the total is known after the first reports
  const progress = new Array<number>(requests.length).fill(0);
  const perImage = (protects.length + 1) * 8 * seeds + (opts.sensitivity === false ? 0 : 10); // estimate until known
  let total = perImage * N * archs.length;
  const report = (i: number, d: number): void => {
    progress[i] = d;
    const done = progress.reduce((a, b) => a + b, 0);
    opts.onProgress?.(Math.min(done, total), total);
  };
  const results: FaultShardResult[] = [];
  // architectures one after another, each sharded over the workers
  for (const arch of archs) {
    const idx = requests.map((r, i) => (r.arch === arch ? i : -1)).filter((i) => i >= 0);
    const got = idx.length === 1
      ? [await runFaultShard(requests[idx[0]!]!, (d) => report(idx[0]!, d))]
      : await Promise.all(idx.map((i) => runShardInWorker(requests[i]!, (d) => report(i, d))));
    results.push(...got);
    // exact total once an architecture's job list is known
    const jobsPer = got[0]!.jobs.length + got[0]!.sensitivity.length;
    total += jobsPer * N - perImage * N;
  }
  opts.onProgress?.(total, total);
  const out: FaultStudyReport = {
    model, dataset: ds.spec, images: N, seeds, ci_method: "wilson-95", fault_free_accuracy: null,
    archs: [], curves: [], sensitivity: [], overhead: [], workers: W, seconds: 0,
  };
  const labelled = results[0]!.labelled;
  for (const arch of archs) {
    const shards = results.filter((r) => r.arch === arch);
    const first = shards[0]!;
    if (out.fault_free_accuracy === null && labelled) out.fault_free_accuracy = shards.reduce((a, r) => a + r.cleanCorrect, 0) / N;
    const sTrials = first.shiftTrials.reduce((a, b) => a + b, 0), wTrials = first.writeTrials.reduce((a, b) => a + b, 0);
    const wCells = trialsPerInference(first, "write");
    out.archs.push({
      arch, layout: first.layout, shift_trials_per_inference: sTrials, write_trials_per_inference: wTrials, written_cells_per_inference: wCells,
      units: first.units.map((unit, u) => ({ unit, shift_trials: first.shiftTrials[u]!, write_trials: first.writeTrials[u]! })),
    });
    const pooled = new Map<string, { cfg: FaultConfig; t: ShardTally }>();
    for (const r of shards)
      for (const { cfg, tally: t } of r.jobs) {
        const key = `${cfg.protect}|${cfg.kind}|${cfg.rate}`;
        const p = pooled.get(key);
        if (!p) pooled.set(key, { cfg, t: { ...t } });
        else for (const k of Object.keys(t) as (keyof ShardTally)[]) p.t[k] += t[k];
      }
    for (const { cfg, t } of pooled.values()) {
      const [cl, ch] = wilson(t.changed, t.n);
      const [al, ah] = labelled ? wilson(t.correct, t.n) : [cl, ch];
      out.curves.push({
        arch, layout: first.layout, protect: cfg.protect, kind: cfg.kind, rate: cfg.rate, trials: t.n,
        accuracy: labelled ? t.correct / t.n : null, changed: t.changed / t.n, ci_low: al, ci_high: ah, changed_ci_low: cl, changed_ci_high: ch,
        faults_per_inference: t.faults / t.n, expected_faults_per_inference: cfg.rate * (cfg.kind === "shift" ? sTrials : wCells),
        corrected_per_inference: t.corrected / t.n, uncorrectable_per_inference: t.uncorrectable / t.n, miscorrected_per_inference: t.miscorrected / t.n,
      });
    }
    first.sensitivity.forEach((sp, u) => {
      const t: ShardTally = { correct: 0, changed: 0, n: 0, faults: 0, corrected: 0, uncorrectable: 0, miscorrected: 0 };
      for (const r of shards) for (const k of Object.keys(t) as (keyof ShardTally)[]) t[k] += r.sensitivity[u]!.tally[k];
      const [cl, ch] = wilson(t.changed, t.n);
      out.sensitivity.push({
        arch, kind: "shift", rate: sp.rate, unit: sp.unit, accuracy: labelled ? t.correct / t.n : null,
        changed: t.changed / t.n, changed_ci_low: cl, changed_ci_high: ch, faults_per_inference: t.faults / t.n,
      });
    });
    if (first.overhead) out.overhead.push(first.overhead);
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/**
 * The compiler pipeline: QGraph + architecture -> one AP program per compute unit, plus the
 * mapping of its positions onto rows, arrays and tiles. Passes (each switchable, see PassSwitches):
 *
 *   weight-folding -> interchange -> unroll -> cse -> bitwidth -> allocation -> layout -> movement
 *   -> lowering
 *
 * The first six act inside `lowerUnit` (src/compiler/lower.ts), layout and movement choose the
 * physical placement and the movement model, lowering turns program steps into AP macro-ops
 * (src/compiler/simulate.ts `toMacroOp`). With `verify`, the verifier runs between passes
 * (src/compiler/verify.ts): every reduction DAG against its weight matrix after CSE, every program
 * after allocation and lowering, every mapping after layout (and the tests always verify).
 */
import { loadArch, type ApArch } from "../ap/config.js";
import { ApGeometry } from "../ap/geometry.js";
import { RtapError } from "../errors.js";
import type { QGraph } from "../quantize/qgraph.js";
import { bitsFor } from "../quantize/qgraph.js";
import { allPassesOn, lowerUnit, type PassSwitches, type UnitStats } from "./lower.js";
import { mapPositions, movementCycles, type MovementContext, type UnitMapping } from "./mapping.js";
import { UnitProgram, OP_ADD, OP_ADDOUT, OP_COPY, OP_FREE, OP_LOAD, OP_MAC, OP_MAX, OP_NEGATE, OP_SET, OP_STORE, OP_SUB, OP_SUBOUT, OP_THRESHOLD, type ProgramSizes } from "./program.js";
import { rowLayout, type RowLayout } from "./rowlayout.js";
import { dedicatedSummary, networkCycleDeltas, scheduleSlots, type ScheduleSummary, type UnitSchedule } from "./schedule.js";
import { makeSimContext, simulateUnit, type SimContext, type SimMode, type UnitEvents } from "./simulate.js";
import { planStationary, preferStationary, simulateStationary, type FcPlan } from "./fc-stationary.js";
import { naiveCost } from "./cse/cost.js";
import { buildUnits, type ComputeUnit } from "./units.js";
import { checkMapping } from "./verify.js";
import { addEvents, zeroEvents, type ApEvents } from "../ap/events.js";
import type { FaultOptions } from "../ap/faults.js";

export const PASS_NAMES: Record<keyof PassSwitches, string> = {
  weightFolding: "weight-folding",
  interchange: "interchange",
  unroll: "unroll",
  cse: "cse",
  bitwidth: "bitwidth",
  allocation: "allocation",
  layout: "layout",
  movement: "movement",
};

export function passByName(name: string): keyof PassSwitches {
  const hit = (Object.keys(PASS_NAMES) as (keyof PassSwitches)[]).find((k) => PASS_NAMES[k] === name || k === name);
  if (!hit) throw new RtapError(`unknown compiler pass "${name}"; passes: ${Object.values(PASS_NAMES).join(", ")}`);
  return hit;
}

export interface CompileOptions {
  /** Architecture name (configs/arch/<name>.yaml), path, or a loaded ApArch (default rtm-ap). */
  arch?: string | ApArch;
  /** Passes to switch off (default: all on). */
  disable?: readonly (keyof PassSwitches)[];
  /** Run the verifier on every unit (default false; tests set it). */
  verify?: boolean;
  /**
   * Fully connected layers (one output position) on the weight-stationary mapping: "auto" (default)
   * when O x J >= 100k, "always" for every one, "never".
   */
  fcStationary?: "auto" | "always" | "never";
  /**
   * The chip schedule's split of a layer may cost this fraction more estimated energy than the
   * row's own split (default 0.05, lower.ts SPLIT_ENERGY_BUDGET; Infinity: the fastest split).
   */
  splitEnergyBudget?: number;
  onProgress?: (done: number, total: number, unit: string) => void;
}

export interface CompiledUnit {
  unit: ComputeUnit;
  program: UnitProgram;
  stats: UnitStats;
  mapping: UnitMapping;
  /** Set when the unit uses the weight-stationary mapping (fully connected, one position). */
  stationary?: FcPlan;
}

export interface CompiledNetwork {
  q: QGraph;
  arch: ApArch;
  layout: RowLayout;
  passes: PassSwitches;
  units: CompiledUnit[];
  seconds: number;
  /** Expansion caches shared by every run of this network (filled lazily). */
  sim?: SimContext;
}

export function compileNetwork(q: QGraph, opts: CompileOptions = {}): CompiledNetwork {
  const t0 = performance.now();
  const plan = planNetwork(q, opts);
  const compiled: CompiledUnit[] = [];
  plan.units.forEach((u, i) => {
    compiled.push(compileUnitAt(plan, i));
    opts.onProgress?.(i + 1, plan.units.length, u.name);
  });
  return { q, arch: plan.arch, layout: plan.layout, passes: plan.passes, units: compiled, seconds: (performance.now() - t0) / 1000 };
}

/**
 * What every unit of a network compiles against, fixed before any unit is lowered: the
 * architecture, row layout, pass switches, compute units, and the weight-stationary units (planned
 * here, in unit order, because each one's arrays follow the previous ones'). Units then compile
 * independently (`compileUnitAt`), in any order or thread: what lets `rtap compare` stream units
 * instead of holding every program of a network.
 */
export interface NetworkPlan {
  q: QGraph;
  arch: ApArch;
  layout: RowLayout;
  passes: PassSwitches;
  units: ComputeUnit[];
  /** Weight-stationary units by unit index, already compiled (a plan, no program). */
  stationary: Map<number, CompiledUnit>;
  verify: boolean;
  /** CompileOptions.splitEnergyBudget, when given. */
  splitEnergyBudget?: number;
}

export function planNetwork(q: QGraph, opts: Omit<CompileOptions, "onProgress"> = {}): NetworkPlan {
  const budget = opts.splitEnergyBudget;
  if (budget !== undefined && !(budget >= 0)) throw new RtapError(`the split energy budget must be a number >= 0 (a fraction: 0.05 = 5%), got ${budget}`);
  const arch = typeof opts.arch === "object" ? opts.arch : loadArch(opts.arch ?? "rtm-ap");
  const layout = rowLayout(new ApGeometry(arch.array));
  const passes = allPassesOn();
  for (const p of opts.disable ?? []) passes[p] = false;
  const units = buildUnits(q);
  const stationary = new Map<number, CompiledUnit>();
  let dedicated = 0; // arrays at the chip's end kept by weight-stationary layers
  const fcMode = opts.fcStationary ?? "auto";
  units.forEach((u, i) => {
    if (u.kind === "conv" && u.terms.length === 1 && !u.stored && fcMode !== "never" && isFc(u.terms[0]!.conv, q) && (fcMode === "always" || preferStationary(u.terms[0]!.conv, q))) {
      const c = compileStationary(q, u, layout, arch, dedicated);
      dedicated += c.stationary!.arraysPerSlice * c.stationary!.G;
      stationary.set(i, c);
    }
  });
  return { q, arch, layout, passes, units, stationary, verify: opts.verify ?? false, ...(budget !== undefined ? { splitEnergyBudget: budget } : {}) };
}

/**
 * Unit i of a planned network: lowered to its program (verified when the plan says so) and placed.
 * `expectedSizes`: a like program's sizes, reserved up front (UnitProgram's `expected`).
 */
export function compileUnitAt(plan: NetworkPlan, i: number, expectedSizes?: ProgramSizes): CompiledUnit {
  const st = plan.stationary.get(i);
  if (st) return st;
  const u = plan.units[i]!;
  const mapping = unitMappingAt(plan, i);
  const raster = mapping.raster ? mapping : mapPositions(mapping.shape, plan.arch, true);
  const { program, stats } = lowerUnit(u, { q: plan.q, layout: plan.layout, passes: plan.passes, verify: plan.verify,
    slots: scheduleSlots(mapping, plan.arch),
    // raster placement whatever the layout pass says: the layout-off ablation keeps the same programs
    loadCycles: (bits) => movementCycles(plan.arch, raster, bits, "load", 0),
    ...(plan.splitEnergyBudget !== undefined ? { splitEnergyBudget: plan.splitEnergyBudget } : {}),
    ...(expectedSizes ? { expectedSizes } : {}),
  });
  if (plan.verify) {
    const problems = verifyProgram(program, plan.passes.bitwidth, plan.layout.geom.cells);
    if (problems.length) throw new RtapError(`verifier after allocation and lowering: ${problems.slice(0, 5).join("; ")}`, `unit "${u.name}"`);
  }
  if (plan.verify) {
    const problems = checkMapping(mapping, plan.arch);
    if (problems.length) throw new RtapError(`verifier after layout: ${problems.join("; ")}`, `unit "${u.name}"`);
  }
  return { unit: u, program, stats, mapping };
}

/** Where unit i's positions sit (rows, arrays, tiles), without lowering it. */
export function unitMappingAt(plan: NetworkPlan, i: number): UnitMapping {
  return plan.stationary.get(i)?.mapping ?? mapPositions(plan.q.tensors.get(plan.units[i]!.output)!.shape, plan.arch, plan.passes.layout);
}

function isFc(conv: { output: string }, q: QGraph): boolean {
  const s = q.tensors.get(conv.output)!.shape;
  return s[1] * s[2] === 1;
}

/** A fully connected unit on the weight-stationary mapping (src/compiler/fc-stationary.ts). */
function compileStationary(q: QGraph, u: Extract<ComputeUnit, { kind: "conv" }>, layout: RowLayout, arch: ApArch, dedicated: number): CompiledUnit {
  const conv = u.terms[0]!.conv;
  const plan = planStationary(q, conv, u.requant, u.output, layout, arch, dedicated);
  const J = plan.J;
  const ranges = { min: new Float64Array(J), max: new Float64Array(J).fill(2 ** plan.inWidth - 1) };
  const naive = naiveCost({ rows: plan.O, cols: J, data: conv.weights }, ranges);
  const stats: UnitStats = {
    unit: u.name, kind: "conv", matrices: [{ name: conv.name, rows: plan.O, cols: J, nonZeros: conv.weights.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0) }],
    addsNaive: naive.additions, addsCompiled: 2 * J, cyclesNaive: naive.cycles, cyclesCompiled: 2 * J * plan.acc.width,
    slices: plan.G, blocks: 1, stagingCopies: 0, spills: 0, peakTmpSlots: 3 + plan.thresholds.length, peakTmpBits: 0, peakInBits: 2 * plan.Jg,
  };
  const A = plan.arraysPerSlice * plan.G;
  const first = plan.firstArray;
  const mapping: UnitMapping = {
    shape: q.tensors.get(u.output)!.shape,
    positions: 1,
    rowsPerArray: arch.array.rows,
    arrays: A,
    tiles: Math.ceil((first + A) / arch.arraysPerTile) - Math.floor(first / arch.arraysPerTile),
    passes: 1,
    utilization: plan.O / (plan.arraysPerSlice * arch.array.rows),
    raster: true,
    place: () => ({ tile: Math.floor(first / arch.arraysPerTile), array: first % arch.arraysPerTile, row: 0 }),
    rowsInArray: new Int32Array(A).fill(Math.min(arch.array.rows, plan.O)),
  };
  return { unit: u, program: new UnitProgram(u.name).finish(), stats, mapping, stationary: plan };
}

/**
 * Structural checks of a unit program: every value defined before use and freed exactly once,
 * live values never share cells, every width holds the value's exact range (and equals it when
 * bit-width inference is on), cells stay inside the row.
 */
export function verifyProgram(p: UnitProgram, exactWidths: boolean, cellsPerRow = Infinity): string[] {
  const problems: string[] = [];
  const live = new Uint8Array(p.nValues);
  const freed = new Uint8Array(p.nValues);
  const cellOwner = new Map<number, number>();
  const use = (id: number, at: number): void => {
    if (!live[id]) problems.push(`step ${at}: ${p.name(id)} used while not live`);
  };
  const define = (id: number, at: number): void => {
    if (live[id]) return;
    if (freed[id]) {
      problems.push(`step ${at}: ${p.name(id)} defined after being freed`);
      return;
    }
    const need = bitsFor(p.min[id]!, p.max[id]!);
    const w = p.width[id]!;
    if (w < need || (exactWidths && w !== need)) problems.push(`${p.name(id)}: width ${w}, range [${p.min[id]}, ${p.max[id]}] needs ${need}`);
    const c0 = p.cell0[id]!, stride = p.cellStride;
    const last = c0 + (w - 1) * stride;
    if (c0 < 0 || last >= cellsPerRow) problems.push(`${p.name(id)}: cells ${c0}..${last} outside the row`);
    for (let c = c0; c <= last; c += stride) {
      const o = cellOwner.get(c);
      if (o !== undefined && live[o]) problems.push(`step ${at}: ${p.name(id)} reuses cell ${c} of live ${p.name(o)}`);
      cellOwner.set(c, id);
    }
    live[id] = 1;
  };
  for (let i = 0; i < p.nSteps && problems.length < 20; i++) {
    const d = p.dst[i]!, a = p.a[i]!, b = p.b[i]!;
    switch (p.op[i]) {
      case OP_LOAD:
        define(d, i);
        break;
      case OP_STORE:
        use(a, i);
        break;
      case OP_ADDOUT:
      case OP_SUBOUT:
        use(a, i);
        use(b, i);
        define(d, i);
        break;
      case OP_COPY:
      case OP_THRESHOLD:
        use(a, i);
        define(d, i);
        break;
      case OP_NEGATE:
        use(a, i);
        if (a !== d) define(d, i);
        break;
      case OP_ADD:
      case OP_SUB:
      case OP_MAX:
      case OP_MAC:
        use(a, i);
        use(d, i);
        break;
      case OP_SET:
        define(d, i);
        break;
      case OP_FREE:
        for (const id of p.freed(i)) {
          if (!live[id]) problems.push(`step ${i}: ${p.name(id)} freed while not live`);
          live[id] = 0;
          freed[id] = 1;
        }
        break;
    }
  }
  const leftover: string[] = [];
  for (let id = 0; id < p.nValues && leftover.length < 5; id++) if (live[id]) leftover.push(p.name(id));
  if (leftover.length) problems.push(`values never freed: ${leftover.join(", ")}`);
  return problems;
}

export interface RunOptions {
  mode?: SimMode;
  /** Compare every unit's output with these reference tensors (from runReference keepAll). */
  reference?: Map<string, Int32Array>;
  faults?: FaultOptions;
  /** Count events (default true); values-only runs are several times faster (fast mode). */
  events?: boolean;
  onUnit?: (done: number, total: number, unit: string) => void;
}

export interface UnitRunResult {
  unit: string;
  events: ApEvents;
  movement: ApEvents;
  /** Output values that differ from the reference (when given). */
  mismatches: number;
  /** The unit's chip schedule (src/compiler/schedule.ts; absent for weight-stationary units). */
  schedule?: UnitSchedule;
}

export interface RunResult {
  output: Int32Array;
  tensors: Map<string, Int32Array>;
  units: UnitRunResult[];
  events: ApEvents;
  movement: ApEvents;
  mismatches: number;
}

/**
 * Simulates one compiled unit on `batch` images: its input tensors come from `env`, its output
 * goes into `env`. `producerMapping` says where each input tensor was stored (the producing unit's
 * mapping, or "global" for the network input), for the movement model.
 */
export function runUnit(
  net: Pick<CompiledNetwork, "q" | "arch" | "layout" | "passes">, sim: SimContext, cu: CompiledUnit,
  producerMapping: (tensor: string) => UnitMapping | "global", env: Map<string, Int32Array>, batch: number, opts: RunOptions = {},
): UnitEvents {
  const mv: MovementContext = { arch: net.arch, mapping: cu.mapping, producerMapping, local: net.passes.movement };
  if (cu.stationary) {
    const plan = cu.stationary;
    const x = env.get((cu.unit as Extract<ComputeUnit, { kind: "conv" }>).terms[0]!.conv.input)!;
    const prod = mv.producerMapping(plan.conv.input);
    const r = simulateStationary(plan, net.q, net.arch, net.layout, sim.cache, x, batch, prod, opts.mode ?? "fast", net.passes.movement, sim.faults);
    env.set(cu.unit.output, r.output);
    return { total: r.events, movement: r.movement };
  }
  return simulateUnit(sim, cu.program, cu.unit.output, cu.mapping, mv, env, batch, opts.mode ?? "fast", opts.events ?? true);
}

/** A weight-stationary unit for the network schedule (its own arrays; `cycles` per image). */
export function stationarySummary(q: QGraph, arch: ApArch, cu: CompiledUnit, cycles: number): ScheduleSummary {
  const conv = (cu.unit as Extract<ComputeUnit, { kind: "conv" }>).terms[0]!.conv;
  return dedicatedSummary(cu.unit.output, q.tensors.get(cu.unit.output)!.shape[0], conv.input, cycles, arch);
}

/** Executes the compiled network on `batch` images (pixels: batch*C*H*W uint8 codes). */
export function runCompiled(net: CompiledNetwork, pixels: Uint8Array | Int32Array, batch: number, opts: RunOptions = {}): RunResult {
  const q = net.q;
  const env = new Map<string, Int32Array>([[q.input, pixels instanceof Int32Array ? pixels : Int32Array.from(pixels)]]);
  net.sim ??= makeSimContext(q, net.arch, net.layout);
  const sim: SimContext = opts.faults ? { ...net.sim, faults: opts.faults } : net.sim;
  const producer = new Map<string, UnitMapping>();
  const results: UnitRunResult[] = [];
  const summaries: (ScheduleSummary | undefined)[] = [];
  const events = zeroEvents(), movement = zeroEvents();
  let mismatches = 0;
  net.units.forEach((cu, i) => {
    const ue = runUnit(net, sim, cu, (t) => (t === q.input ? "global" : (producer.get(t) ?? "global")), env, batch, opts);
    producer.set(cu.unit.output, cu.mapping);
    let bad = 0;
    const ref = opts.reference?.get(cu.unit.output);
    if (ref) {
      const got = env.get(cu.unit.output)!;
      for (let k = 0; k < ref.length; k++) if (got[k] !== ref[k]) bad++;
    }
    mismatches += bad;
    addEvents(events, ue.total);
    addEvents(movement, ue.movement);
    results.push({ unit: cu.unit.name, events: ue.total, movement: ue.movement, mismatches: bad, ...(ue.schedule ? { schedule: ue.schedule } : {}) });
    summaries.push(ue.schedule?.summary ?? (cu.stationary && !sim.noSchedule && opts.events !== false ? stationarySummary(q, net.arch, cu, ue.total.cycles / batch) : undefined));
    opts.onUnit?.(i + 1, net.units.length, cu.unit.name);
  });
  // the network schedule: units overlap where their data allow (src/compiler/schedule.ts)
  const deltas = networkCycleDeltas(summaries);
  if (deltas) {
    results.forEach((r, i) => {
      r.events.cycles += deltas[i]! * batch;
      events.cycles += deltas[i]! * batch;
    });
  }
  return { output: env.get(q.output)!, tensors: env, units: results, events, movement, mismatches };
}

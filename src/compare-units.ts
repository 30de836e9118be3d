/**
 * The comparison's AP work as independent (variant, unit) tasks.
 *
 * A variant is one AP program of the network: a target (RTM-AP, SRAM-AP) or an ablation variant
 * (a pass off, the serial row layout). Every unit of every variant compiles and simulates on its
 * own: its inputs are the integer reference's tensors (which every simulation equals, bit for bit:
 * the run checks it), its producers' placements come from the network plan without compiling
 * them, and its events depend on nothing else (each unit's simulation starts from cleared rows).
 * So `rtap compare` never holds a whole network's programs (one unit's program per thread at a
 * time, instead of 1.6-3.6 GB per ResNet-18 variant) and spreads the tasks over worker threads by
 * size, largest first, instead of one thread per variant waiting for the slowest.
 *
 * Event counts are identical to `runCompiled` on the whole compiled network (tested on
 * fmnist-resnet8 and zoo:resnet20).
 */
import { loadArch, type ApArch, type RowLayoutKind } from "./ap/config.js";
import { addEvents, EVENT_KINDS, zeroEvents, type ApEvents } from "./ap/events.js";
import type { PassSwitches } from "./compiler/lower.js";
import { mapPositions, type MovementContext, type UnitMapping } from "./compiler/mapping.js";
import { compileUnitAt, planNetwork, runUnit, stationarySummary, unitMappingAt, type NetworkPlan } from "./compiler/pipeline.js";
import { cachedPartProfile, makeSimContext, programMovement, releaseSimContext, SharedClasses } from "./compiler/simulate.js";
import { networkCycleDeltas, scheduleUnit, type ScheduleSummary } from "./compiler/schedule.js";
import type { ProgramSizes } from "./compiler/program.js";
import type { ComputeUnit } from "./compiler/units.js";
import { RtapError } from "./errors.js";
import type { QGraph } from "./quantize/qgraph.js";
import { runReference } from "./reference/integer.js";

/** Free memory reserved per thread that runs unit tasks (it holds one unit's program at a time; measured on ResNet-18). */
export const AP_WORKER_BYTES = 1.5 * 2 ** 30;

/**
 * Young-generation size of unit-task worker threads (3 semi-spaces of 64 MB): compile and
 * simulation allocate many short-lived objects beside the programs; with V8's default, scavenges
 * took ~25% of an ablation variant (measured on ResNet-18).
 */
export const AP_WORKER_YOUNG_GENERATION_MB = 192;

/**
 * A cost estimate of a unit's task, to start the largest first: lowering grows with the weight
 * matrix, simulation with matrix x positions.
 */
export function unitTaskCost(q: QGraph, u: ComputeUnit): number {
  const shape = q.tensors.get(u.output)!.shape;
  let weights = 0;
  if (u.kind === "conv") for (const t of u.terms) weights += t.conv.weights.length;
  return weights * (1 + (shape[1] * shape[2]) / 64) + shape[0] * shape[1] * shape[2];
}

/** Most bytes of free register buffers a runner keeps between tasks. */
const BUFFER_POOL_BYTES = 256 * 2 ** 20;

/** Drops free buffers beyond `budget` bytes, in the order their row counts were first pooled. */
function trimPool(pool: Map<number, Int32Array[]>, budget: number): void {
  let bytes = 0;
  for (const [, list] of pool) for (const b of list) bytes += b.byteLength;
  for (const [n, list] of pool) {
    if (bytes <= budget) return;
    while (list.length && bytes > budget) bytes -= list.pop()!.byteLength;
    if (!list.length) pool.delete(n);
  }
}

/** Every tensor of the integer reference on `batch` images, the network input included (what unit tasks read and check). */
export function referenceTensors(q: QGraph, pixels: Uint8Array, batch: number): Map<string, Int32Array> {
  const tensors = runReference(q, pixels, batch, { keepAll: true }).tensors;
  tensors.set(q.input, Int32Array.from(pixels));
  return tensors;
}

/** One AP program of the network to compile and simulate. */
export interface ApVariantSpec {
  /** "rtm-ap", "sram-ap", "ablation:cse", "ablation:serial layout", ... */
  key: string;
  /** Architecture: a config name or file. */
  arch: string;
  /** Another row layout for the same architecture (the ablation's serial-layout row). */
  layout?: RowLayoutKind;
  /** Passes switched off. */
  disable?: (keyof PassSwitches)[];
  /** CompileOptions.splitEnergyBudget (default: the compiler's). */
  splitEnergyBudget?: number;
  /**
   * Also price this variant's programs with the layout pass off and with the movement pass off
   * (the two ablation rows that keep the programs and change only placement or movement).
   */
  movementVariants?: boolean;
}

/**
 * Per unit, the events of a variant's tasks with the network schedule's cycles (units overlap
 * where their data allow; src/compiler/schedule.ts), per image (`images` = the batch), as copies.
 */
export function networkEvents(results: readonly UnitTaskResult[], images: number): ApEvents[] {
  const deltas = networkCycleDeltas(results.map((r) => r.schedule));
  return results.map((r, i) => {
    const e = zeroEvents();
    addEvents(e, r.events);
    for (const k of EVENT_KINDS) e[k] /= images;
    if (deltas) e.cycles += deltas[i]!;
    return e;
  });
}

/** What the report shows per unit besides its events. */
export interface UnitInfo {
  addCycles: number;
  addCyclesNaive: number;
  utilization: number;
  arrays: number;
}

/**
 * Loads and stores of one image of a unit under the full placement, layout off, movement off;
 * their `cycles` are the unit's latency under its chip schedule with that movement.
 */
export interface MovementVariants {
  full: ApEvents;
  layoutOff: ApEvents;
  movementOff: ApEvents;
  /** The unit for the network schedule under each (networkSchedule). */
  summaries: { full: ScheduleSummary; layoutOff: ScheduleSummary; movementOff: ScheduleSummary };
}

export interface UnitTaskResult {
  variant: number;
  unit: number;
  name: string;
  /** Events of the whole batch (divide by the image count for per-inference figures). */
  events: ApEvents;
  info: UnitInfo;
  stationary: boolean;
  movement?: MovementVariants;
  /** The unit for the network schedule (absent when the run counted no events). */
  schedule?: ScheduleSummary;
}

/** A variant's plan, made on first use in each thread. */
interface VariantState {
  plan: NetworkPlan;
  /** The same network with the layout pass off (placements only, for movementVariants). */
  layoutOff?: NetworkPlan;
}

/** Compiles and simulates (variant, unit) tasks of one network on one batch of images. */
export class UnitTaskRunner {
  private readonly reference: Map<string, Int32Array>;
  private readonly states = new Map<number, VariantState>();
  private readonly mappings = new WeakMap<NetworkPlan, Map<number, UnitMapping>>();
  /** Free register buffers of finished tasks, by row count. */
  private readonly buffers = new Map<number, Int32Array[]>();
  /** Structural classes by architecture (every variant on one architecture shares them). */
  private readonly classes = new Map<string, SharedClasses>();
  /**
   * Sizes of the last program of each unit this thread compiled (any variant): the next variant's
   * program of that unit reserves them up front (variants differ by up to ~2x: a larger one still
   * grows by doubling, a smaller one leaves the rest of the room unused until it is recycled).
   */
  private readonly unitSizes = new Map<number, ProgramSizes>();

  /**
   * `reference`: every tensor of the integer reference on these images (runReference with keepAll,
   * the input included: referenceTensors), when the caller has them already (compare's worker
   * threads receive them from the main thread); else computed here.
   */
  constructor(
    readonly q: QGraph,
    pixels: Uint8Array,
    readonly batch: number,
    readonly variants: readonly ApVariantSpec[],
    reference?: Map<string, Int32Array>,
  ) {
    this.reference = reference ?? referenceTensors(q, pixels, batch);
  }

  /** Units per variant (the same compute units for every variant of a network). */
  get unitCount(): number {
    return this.state(0).plan.units.length;
  }

  /** unitTaskCost of a unit. */
  estimatedCost(unit: number): number {
    return unitTaskCost(this.q, this.state(0).plan.units[unit]!);
  }

  private state(v: number): VariantState {
    let s = this.states.get(v);
    if (s) return s;
    const spec = this.variants[v];
    if (!spec) throw new Error(`no variant ${v}`);
    const loaded: ApArch = loadArch(spec.arch);
    const arch = spec.layout ? { ...loaded, name: `${loaded.name} (${spec.layout} layout)`, array: { ...loaded.array, layout: spec.layout } } : loaded;
    const budget = spec.splitEnergyBudget !== undefined ? { splitEnergyBudget: spec.splitEnergyBudget } : {};
    const plan = planNetwork(this.q, { arch, disable: spec.disable ?? [], ...budget });
    s = { plan };
    if (spec.movementVariants) s.layoutOff = planNetwork(this.q, { arch, disable: [...(spec.disable ?? []), "layout"], ...budget });
    this.states.set(v, s);
    return s;
  }

  /**
   * Where the network input and every unit output before `unit` sit, under a plan. Mappings are
   * made once per plan: the movement model asks for one per distinct load of a unit.
   */
  private producers(plan: NetworkPlan, unit: number): (tensor: string) => UnitMapping | "global" {
    let made = this.mappings.get(plan);
    if (!made) this.mappings.set(plan, (made = new Map()));
    const cache = made;
    const byTensor = new Map<string, number>();
    for (let j = 0; j < unit; j++) byTensor.set(plan.units[j]!.output, j);
    return (t) => {
      const j = byTensor.get(t);
      if (j === undefined) return "global";
      let m = cache.get(j);
      if (!m) cache.set(j, (m = unitMappingAt(plan, j)));
      return m;
    };
  }

  run(variant: number, unit: number): UnitTaskResult {
    const st = this.state(variant);
    const { plan } = st;
    const cu = compileUnitAt(plan, unit, this.unitSizes.get(unit));
    if (!cu.stationary) this.unitSizes.set(unit, cu.program.sizes);
    const env = new Map(this.reference);
    const producerMapping = this.producers(plan, unit);
    // A fresh simulation context per task: the expansion caches of one unit are rarely another's,
    // and kept across units they grew the JS heap to 600 MB of small objects, which made every
    // full garbage collection ~15x slower (ResNet-18: 31 s per variant instead of 43 s, measured).
    // Register buffers do carry over (by row count, up to BUFFER_POOL_BYTES): units of one stage
    // have as many rows in every variant, and reallocating them per task cost kernel time.
    const sim = makeSimContext(this.q, plan.arch, plan.layout);
    sim.buffers = this.buffers;
    // Classes (expansions and their static events) do carry over, compact, between the variants
    // of one architecture: the pass-off variants meet the same steps (per-channel thresholds above all).
    const archKey = JSON.stringify([plan.arch, plan.layout.kind]);
    let shared = this.classes.get(archKey);
    if (!shared) this.classes.set(archKey, (shared = new SharedClasses()));
    sim.sharedClasses = shared;
    const ue = runUnit(plan, sim, cu, producerMapping, env, this.batch, { mode: "fast", events: true });
    trimPool(this.buffers, BUFFER_POOL_BYTES);
    const got = env.get(cu.unit.output)!, want = this.reference.get(cu.unit.output)!;
    let bad = 0;
    for (let k = 0; k < want.length; k++) if (got[k] !== want[k]) bad++;
    if (bad) throw new RtapError(`internal error: the simulated unit differs from the integer reference in ${bad} of ${want.length} values`, `${this.variants[variant]!.key}, unit "${cu.unit.name}"`);
    const events = zeroEvents();
    addEvents(events, ue.total);
    const result: UnitTaskResult = {
      variant,
      unit,
      name: cu.unit.name,
      events,
      info: { addCycles: cu.stats.cyclesCompiled, addCyclesNaive: cu.stats.cyclesNaive, utilization: cu.mapping.utilization, arrays: cu.mapping.arrays },
      stationary: cu.stationary !== undefined,
    };
    const own = ue.schedule?.summary ?? (cu.stationary ? stationarySummary(this.q, plan.arch, cu, ue.total.cycles / this.batch) : undefined);
    if (own) result.schedule = own;
    if (st.layoutOff) {
      // weight-stationary units keep their placement and movement in both rows
      const zero = zeroEvents();
      const local = plan.passes.movement;
      // a variant's loads and stores of one image, with the unit's latency under its chip schedule
      // as `cycles` (compare swaps these into the full run's per-image events)
      const variant = (mapping: UnitMapping, mv: MovementContext): { events: ApEvents; summary: ScheduleSummary } => {
        const events = programMovement(this.q, plan.arch, cu.program, mapping, mv);
        const s = scheduleUnit(cu.program, cachedPartProfile(sim, cu.program, mapping, mv), mapping, plan.arch);
        events.cycles = s.cycles;
        return { events, summary: s.summary };
      };
      if (cu.stationary) result.movement = { full: zero, layoutOff: zero, movementOff: zero, summaries: { full: own!, layoutOff: own!, movementOff: own! } };
      else {
        const full = variant(cu.mapping, { arch: plan.arch, mapping: cu.mapping, producerMapping, local });
        const layoutMapping = mapPositions(cu.mapping.shape, plan.arch, false);
        const layoutOff = variant(layoutMapping, { arch: plan.arch, mapping: layoutMapping, producerMapping: this.producers(st.layoutOff!, unit), local });
        const movementOff = variant(cu.mapping, { arch: plan.arch, mapping: cu.mapping, producerMapping, local: false });
        result.movement = {
          full: full.events, layoutOff: layoutOff.events, movementOff: movementOff.events,
          summaries: { full: full.summary, layoutOff: layoutOff.summary, movementOff: movementOff.summary },
        };
      }
    }
    // the program is this task's alone (weight-stationary units keep theirs in the plan): its
    // storage goes to the next task's program
    if (!cu.stationary) cu.program.recycle();
    releaseSimContext(sim);
    return result;
  }
}

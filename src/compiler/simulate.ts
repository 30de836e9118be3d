/**
 * Execution of compiled unit programs, with event counts:
 *  - "fast": word level. Macro-ops are evaluated on integers by the AP's own semantics
 *    (`evalMacro`, one number per row), static events come from the expanded plan (cached), and
 *    the data-dependent writes from `evalMacro` on every row of every used array (idle rows are
 *    identical, so one stands for all of them).
 *  - "bit": bit level. Every macro-op is expanded to micro-ops and run on the bit-sliced arrays
 *    (src/ap/array.ts), one simulated array per physical array the unit uses.
 * Loads and stores are priced by the movement model (src/compiler/mapping.ts) in both modes, so
 * the two modes must agree on every value and every event count.
 */
import type { ApArch } from "../ap/config.js";
import { ApArray } from "../ap/array.js";
import { addEvents, addScaledEvents, zeroEvents, type ApEvents } from "../ap/events.js";
import type { FaultOptions } from "../ap/faults.js";
import { ApGeometry } from "../ap/geometry.js";
import { MacroPlanCache, type MacroOp, type MacroPlan } from "../ap/macro.js";
import { evalMacro } from "../ap/semantics.js";
import { makeValue, shl, type ApValue } from "../ap/value.js";
import { RtapError } from "../errors.js";
import type { QGraph } from "../quantize/qgraph.js";
import { loadEvents, movementCycles, storeEvents, type MovementContext, type UnitMapping } from "./mapping.js";
import type { PStep, PValue, UnitProgram } from "./program.js";
import type { RowLayout } from "./rowlayout.js";

export type SimMode = "fast" | "bit";

export interface SimContext {
  q: QGraph;
  arch: ApArch;
  geom: ApGeometry;
  layout: RowLayout;
  cache: MacroPlanCache;
  /** Word-level plans and static events by structural key (see structuralKey). */
  structural: Map<string, { plan: MacroPlan; events: ApEvents }>;
  /** Fault injection (bit mode only). */
  faults?: FaultOptions;
}

export function makeSimContext(q: QGraph, arch: ApArch, layout: RowLayout): SimContext {
  return { q, arch, geom: layout.geom, layout, cache: new MacroPlanCache(layout.geom), structural: new Map() };
}

/**
 * A key that identifies a macro-op up to where it sits: per value its width, signedness, read
 * shift, shift group (renamed in order of appearance), distance from its port and whether it is in
 * flags. Ops with equal keys have equal static events and equal evalMacro results, so the word-level
 * simulator expands one representative per key (the bit-level one needs every op's own cells).
 */
export function structuralKey(op: MacroOp, geom: ApGeometry): string {
  const groups = new Map<number, number>();
  const desc = (cells: readonly number[]): string => {
    const c = cells[0]!;
    if (geom.isFlagCell(c)) return `f${c - geom.trackCells}`;
    const g = geom.groupOfCell(c);
    if (!groups.has(g)) groups.set(g, groups.size);
    const d = c % geom.domains;
    let delta = d;
    for (const p of geom.portPositions) if (d >= p) delta = Math.min(delta, d - p);
    // values are contiguous along a track; a different layout gets its own full key
    const contiguous = cells.every((x, i) => x === c + i);
    return `g${groups.get(g)}d${delta}${contiguous ? "" : `[${cells.join(",")}]`}`;
  };
  const val = (v: ApValue): string => `${v.signed ? "s" : "u"}${v.width}${desc(v.cells)}`;
  const opnd = (x: ApValue | { value: ApValue; shift: number }): string => ("value" in x ? `${val(x.value)}<<${x.shift}` : val(x));
  const parts: string[] = [op.kind, val(op.dst)];
  switch (op.kind) {
    case "add":
    case "sub":
    case "copy":
    case "negate":
      parts.push(opnd(op.src), "dstInit" in op ? String(op.dstInit) : "");
      break;
    case "addOut":
    case "subOut":
      parts.push(opnd(op.a), opnd(op.b), String(op.dstInit));
      break;
    case "max":
      parts.push(val(op.src));
      break;
    case "threshold":
      parts.push(val(op.src), op.thresholds.join(","), String(op.dstInit));
      break;
    case "set":
      parts.push(String(op.k), String(op.dstInit));
      break;
    case "addConst":
      parts.push(String(op.k));
      break;
  }
  if (op.scratch) parts.push(`scr:${op.scratch.map((c) => desc([c])).join(",")}`);
  return parts.join("|");
}

function structuralPlan(ctx: SimContext, op: MacroOp, rows: number): { plan: MacroPlan; events: ApEvents } {
  const key = structuralKey(op, ctx.geom);
  let hit = ctx.structural.get(key);
  if (!hit) {
    const plan = ctx.cache.plan(op);
    hit = { plan, events: plan.staticEvents(ctx.arch.timing, rows) };
    ctx.structural.set(key, hit);
  }
  return hit;
}

export interface UnitEvents {
  /** Events of the unit for the whole batch (sum over arrays and images; cycles: per image x batch). */
  total: ApEvents;
  /** Of which: movement (loads and stores). */
  movement: ApEvents;
}

/** The AP macro-op of a compute step (null for load/store/free/mac). */
export function toMacroOp(step: PStep, p: UnitProgram, layout: RowLayout): MacroOp | null {
  const v = (id: number): ApValue => {
    const x = p.values[id]!;
    return makeValue(x.name, x.cells!, x.signed);
  };
  switch (step.op) {
    case "addOut":
    case "subOut":
      return { kind: step.op, dst: v(step.dst), a: v(step.a), b: v(step.b), dstInit: "any" };
    case "add":
    case "sub":
      return { kind: step.op, dst: v(step.dst), src: step.shift ? shl(v(step.src), step.shift) : v(step.src) };
    case "copy":
      return { kind: "copy", dst: v(step.dst), src: step.shift ? shl(v(step.src), step.shift) : v(step.src), dstInit: "any" };
    case "negate":
      return { kind: "negate", dst: v(step.dst), src: v(step.src), dstInit: "any" };
    case "set":
      return { kind: "set", dst: v(step.dst), k: step.k, dstInit: "any" };
    case "max":
      return { kind: "max", dst: v(step.dst), src: v(step.src) };
    case "threshold":
      return { kind: "threshold", dst: v(step.dst), src: v(step.src), thresholds: step.thresholds, dstInit: "any", scratch: layout.scratchCells };
    default:
      return null;
  }
}

/** Wraps x to `width` bits, two's complement when signed (width <= 31): what a width-bit value keeps. */
export function wrap(x: number, width: number, signed: boolean): number {
  const s = 32 - width;
  return signed ? (x << s) >> s : (x << s) >>> s;
}

/** Slot key of a TMP value (its first cell) for tracking what the cells held before. */
function slotOf(v: PValue): number {
  return v.cells![0]!;
}

function lowMaskOf(w: number): number {
  return w >= 32 ? 0xffffffff : (2 ** w - 1) >>> 0;
}

function toSigned(pattern: number, w: number, signed: boolean): number {
  return signed && pattern >= 2 ** (w - 1) ? pattern - 2 ** w : pattern;
}

interface StepBuffers {
  /** Per value: per sim-row integer values. */
  vals: Map<number, Int32Array>;
  /** Per TMP slot (first cell): the bit pattern the slot's cells hold, per sim-row. */
  slots: Map<number, Int32Array>;
}

/**
 * Runs one unit program. Rows of the simulation: per image, the unit's P positions and (when the
 * arrays have idle rows) one idle row standing for all of them.
 */
export function simulateUnit(
  ctx: SimContext, program: UnitProgram, outputName: string, mapping: UnitMapping, mv: MovementContext,
  env: Map<string, Int32Array>, batch: number, mode: SimMode, withEvents = true,
): UnitEvents {
  return mode === "fast" ? simulateFast(ctx, program, outputName, mapping, mv, env, batch, withEvents) : simulateBits(ctx, program, outputName, mapping, mv, env, batch);
}

function movementStep(ctx: SimContext, program: UnitProgram, s: PStep, mv: MovementContext, cache: Map<string, ApEvents>): ApEvents | null {
  if (s.op === "load") {
    const w = program.values[s.dst]!.width;
    const key = `${s.src.tensor}|${s.src.sy},${s.src.sx},${s.src.dy},${s.src.dx}|${w}`;
    let e = cache.get(key);
    if (!e) {
      e = loadEvents(mv, s.src, w, ctx.q.tensors.get(s.src.tensor)!.shape);
      cache.set(key, e);
    }
    return e;
  }
  if (s.op === "store") return storeEvents(mv, program.values[s.src]!.width);
  return null;
}

/** Movement cycles: loads and stores are batched per run of consecutive steps (one row write/read per run). */
class MovementClock {
  private bits = 0;
  private remote = 0;
  private kind: "load" | "store" | null = null;
  cycles = 0;
  constructor(private readonly arch: ApArch, private readonly mapping: UnitMapping) {}
  add(kind: "load" | "store", bits: number, remoteBits: number): void {
    if (this.kind !== kind) this.flush();
    this.kind = kind;
    this.bits += bits;
    this.remote += remoteBits;
  }
  flush(): void {
    if (this.kind && this.bits > 0) this.cycles += movementCycles(this.arch, this.mapping, this.bits, this.kind, this.remote / this.bits);
    this.bits = 0;
    this.remote = 0;
    this.kind = null;
  }
}

function simulateFast(
  ctx: SimContext, program: UnitProgram, outputName: string, mapping: UnitMapping, mv: MovementContext,
  env: Map<string, Int32Array>, batch: number, withEvents: boolean,
): UnitEvents {
  const q = ctx.q;
  const outT = q.tensors.get(outputName)!;
  const [OC, OH, OW] = outT.shape;
  const P = OH * OW;
  const R = mapping.rowsPerArray;
  const arraysTotal = mapping.arrays * mapping.passes;
  // Sim rows: the batch's real rows (image-major), then one idle row per image standing for the
  // `idle` identical idle rows of the arrays (only needed to count their writes).
  const idle = withEvents ? arraysTotal * R - P : 0;
  const realRows = batch * P;
  const N = realRows + (idle > 0 ? batch : 0);
  const out = new Int32Array(batch * OC * P);
  const vals = new Map<number, Int32Array>();
  const slots = new Map<number, Int32Array>();
  const total = zeroEvents();
  const movement = zeroEvents();
  const moveCache = new Map<string, ApEvents>();
  const clock = new MovementClock(ctx.arch, mapping);
  const V = (id: number): Int32Array => {
    const x = vals.get(id);
    if (!x) throw new Error(`fast sim: ${program.values[id]?.name} used before definition (${program.unit})`);
    return x;
  };
  /** Old contents of a TMP value's cells, as integers of its format. */
  const oldOf = (v: PValue): Int32Array => {
    const res = new Int32Array(N);
    const pat = slots.get(slotOf(v));
    if (!pat) return res;
    const w = v.width, sh = 32 - w;
    if (v.signed) for (let r = 0; r < N; r++) res[r] = (pat[r]! << sh) >> sh;
    else for (let r = 0; r < N; r++) res[r] = (pat[r]! << sh) >>> sh;
    return res;
  };
  const writeSlot = (v: PValue, data: Int32Array): void => {
    if (!withEvents) return;
    const k = slotOf(v);
    let pat = slots.get(k);
    if (!pat) {
      pat = new Int32Array(N);
      slots.set(k, pat);
    }
    const m = lowMaskOf(v.width) | 0;
    for (let r = 0; r < N; r++) pat[r] = (pat[r]! & ~m) | (data[r]! & m);
  };
  const evalCounted = (plan: MacroPlan, mv2: { dst?: Int32Array; src?: Int32Array; a?: Int32Array; b?: Int32Array }): Int32Array => {
    const r = evalMacro(plan, ctx.geom, mv2);
    total.writeCells += r.writeCells;
    total.flagWriteCells += r.flagWriteCells;
    if (idle > 1) {
      // the idle rows beyond the one simulated: same writes as it
      const sub = (x?: Int32Array): Int32Array | undefined => (x ? x.subarray(realRows) : undefined);
      const ri = evalMacro(plan, ctx.geom, { dst: sub(mv2.dst), src: sub(mv2.src), a: sub(mv2.a), b: sub(mv2.b) });
      total.writeCells += (idle - 1) * ri.writeCells;
      total.flagWriteCells += (idle - 1) * ri.flagWriteCells;
    }
    return r.dst;
  };
  for (const s of program.steps) {
    if (withEvents) {
      const mvEv = movementStep(ctx, program, s, mv, moveCache);
      if (mvEv) {
        addScaledEvents(movement, mvEv, batch);
        const w = s.op === "load" ? program.values[s.dst]!.width : s.op === "store" ? program.values[s.src]!.width : 0;
        const remote = mvEv.transferBitsArray + mvEv.transferBitsTile;
        clock.add(s.op === "load" ? "load" : "store", w, P > 0 ? remote / P : 0);
      } else if (s.op !== "free") clock.flush();
    }
    switch (s.op) {
      case "load": {
        const src = env.get(s.src.tensor);
        const t = q.tensors.get(s.src.tensor)!;
        if (!src) throw new Error(`fast sim: tensor ${s.src.tensor} not available (${program.unit})`);
        const [C, H, W] = t.shape;
        const d = new Int32Array(N);
        for (let n = 0; n < batch; n++) {
          const base = (n * C + s.src.channel) * H * W;
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * s.src.sy + s.src.dy;
            const rb = n * P + oy * OW;
            if (iy < 0 || iy >= H) {
              d.fill(s.src.pad, rb, rb + OW);
              continue;
            }
            for (let ox = 0; ox < OW; ox++) {
              const ix = ox * s.src.sx + s.src.dx;
              d[rb + ox] = ix >= 0 && ix < W ? src[base + iy * W + ix]! : s.src.pad;
            }
          }
        }
        const v = program.values[s.dst]!;
        if (idle > 0 && v.region === "tmp") {
          // idle rows are never loaded: a TMP slot keeps what it held (IN cells stay 0)
          const old = oldOf(v);
          d.set(old.subarray(realRows), realRows);
        }
        vals.set(s.dst, d);
        if (v.region === "tmp") writeSlot(v, d);
        break;
      }
      case "store": {
        const x = V(s.src);
        for (let n = 0; n < batch; n++) out.set(x.subarray(n * P, (n + 1) * P), (n * OC + s.channel) * P);
        break;
      }
      case "free":
        for (const id of s.ids) vals.delete(id);
        break;
      case "mac": {
        // Weight folding off: a predicated add and a predicated subtract on the stored weight bits.
        const dst = program.values[s.dst]!;
        const src = program.values[s.src]!;
        if (withEvents) {
          const mk = (kind: "add" | "sub"): MacroOp => ({ kind, dst: makeValue(dst.name, dst.cells!, dst.signed), src: makeValue(src.name, src.cells!, src.signed) });
          const sa = structuralPlan(ctx, mk("add"), R), ss = structuralPlan(ctx, mk("sub"), R);
          for (const st of [sa.events, ss.events]) {
            addScaledEvents(total, st, arraysTotal * batch);
            // the two stored weight bits join every compare
            total.searchRowBits += 2 * st.searches * R * arraysTotal * batch;
            total.cycles += st.cycles * mapping.passes * batch - st.cycles * arraysTotal * batch;
          }
          if (s.weight !== 0) {
            const res = evalCounted(s.weight > 0 ? sa.plan : ss.plan, { dst: V(s.dst), src: V(s.src) });
            vals.set(s.dst, res);
            writeSlot(dst, res);
          }
        } else if (s.weight !== 0) {
          const d = V(s.dst), x = V(s.src);
          for (let r = 0; r < N; r++) d[r] = wrap(d[r]! + s.weight * x[r]!, dst.width, dst.signed);
        }
        break;
      }
      default: {
        const dstV = program.values[(s as { dst: number }).dst]!;
        if (!withEvents) {
          vals.set(dstV.id, valueStep(s, dstV, V, N, vals));
          break;
        }
        const op = toMacroOp(s, program, ctx.layout)!;
        const { plan, events: st } = structuralPlan(ctx, op, R);
        addScaledEvents(total, st, arraysTotal * batch);
        total.cycles += st.cycles * mapping.passes * batch - st.cycles * arraysTotal * batch;
        const mv2: { dst?: Int32Array; src?: Int32Array; a?: Int32Array; b?: Int32Array } = {};
        if (s.op === "addOut" || s.op === "subOut") {
          mv2.a = V(s.a);
          mv2.b = V(s.b);
          mv2.dst = oldOf(dstV);
        } else if (s.op === "add" || s.op === "sub" || s.op === "max") {
          mv2.dst = V(s.dst);
          mv2.src = V(s.src);
        } else if (s.op === "negate" && s.src === s.dst) {
          mv2.dst = V(s.dst);
          mv2.src = V(s.src);
        } else if (s.op === "copy" || s.op === "negate" || s.op === "threshold") {
          mv2.src = V(s.src);
          mv2.dst = oldOf(dstV);
        } else mv2.dst = oldOf(dstV);
        const res = evalCounted(plan, mv2);
        vals.set(dstV.id, res);
        writeSlot(dstV, res);
      }
    }
  }
  clock.flush();
  if (vals.size > 0) {
    const leaked = [...vals.keys()].map((id) => program.values[id]!.name).slice(0, 5);
    throw new RtapError(`internal: values never freed in unit ${program.unit}: ${leaked.join(", ")}`);
  }
  env.set(outputName, out);
  movement.cycles = clock.cycles * batch;
  addEvents(total, movement);
  return { total, movement };
}

/** A compute step on integers (values only): the macro-op semantics in plain loops. */
function valueStep(s: PStep, m: PValue, V: (id: number) => Int32Array, N: number, vals: Map<number, Int32Array>): Int32Array {
  const w = m.width, sg = m.signed;
  switch (s.op) {
    case "addOut":
    case "subOut": {
      const a = V(s.a), b = V(s.b), d = new Int32Array(N);
      if (s.op === "addOut") for (let r = 0; r < N; r++) d[r] = wrap(a[r]! + b[r]!, w, sg);
      else for (let r = 0; r < N; r++) d[r] = wrap(a[r]! - b[r]!, w, sg);
      return d;
    }
    case "add":
    case "sub": {
      const x = V(s.src), d = V(s.dst);
      const sh = s.shift;
      if (s.op === "add") for (let r = 0; r < N; r++) d[r] = wrap(d[r]! + (x[r]! << sh), w, sg);
      else for (let r = 0; r < N; r++) d[r] = wrap(d[r]! - (x[r]! << sh), w, sg);
      return d;
    }
    case "copy": {
      const x = V(s.src), d = new Int32Array(N);
      for (let r = 0; r < N; r++) d[r] = wrap(x[r]! << s.shift, w, sg);
      return d;
    }
    case "negate": {
      const x = V(s.src), d = s.src === s.dst ? x : new Int32Array(N);
      for (let r = 0; r < N; r++) d[r] = wrap(-x[r]!, w, sg);
      return d;
    }
    case "set":
      return new Int32Array(N).fill(wrap(s.k, w, sg));
    case "max": {
      const x = V(s.src), d = V(s.dst);
      for (let r = 0; r < N; r++) if (x[r]! > d[r]!) d[r] = x[r]!;
      return d;
    }
    case "threshold": {
      const x = V(s.src), d = new Int32Array(N);
      const T = s.thresholds;
      for (let r = 0; r < N; r++) {
        const v = x[r]!;
        let k = 0;
        while (k < T.length && v >= T[k]!) k++;
        d[r] = k;
      }
      return d;
    }
    default:
      throw new Error(`valueStep: ${s.op}`);
  }
  void vals;
}

function simulateBits(
  ctx: SimContext, program: UnitProgram, outputName: string, mapping: UnitMapping, mv: MovementContext,
  env: Map<string, Int32Array>, batch: number,
): UnitEvents {
  const q = ctx.q;
  const outT = q.tensors.get(outputName)!;
  const [OC, OH, OW] = outT.shape;
  const P = OH * OW;
  const R = mapping.rowsPerArray;
  const arraysTotal = mapping.arrays * mapping.passes;
  const geom = ctx.geom.rows === R ? ctx.geom : ctx.geom.withRows(R);
  const out = new Int32Array(batch * OC * P);
  const total = zeroEvents();
  const movement = zeroEvents();
  const moveCache = new Map<string, ApEvents>();
  const clock = new MovementClock(ctx.arch, mapping);
  // Which (array, row) each position occupies; arrays indexed globally (pass-major).
  const perPass = Math.ceil(P / mapping.passes);
  const posArray = new Int32Array(P), posRow = new Int32Array(P);
  for (let p = 0; p < P; p++) {
    const pl = mapping.place(p);
    posArray[p] = Math.floor(p / perPass) * mapping.arrays + pl.tile * ctx.arch.arraysPerTile + pl.array;
    posRow[p] = pl.row;
  }
  for (let n = 0; n < batch; n++) {
    const arrays: ApArray[] = [];
    for (let a = 0; a < arraysTotal; a++) arrays.push(new ApArray(geom, ctx.arch.timing, ctx.faults ? { faults: { ...ctx.faults, seed: (ctx.faults.seed ?? 0) + a * 7919 + n * 104729 } } : {}));
    const apv = (id: number): ApValue => {
      const x = program.values[id]!;
      return makeValue(x.name, x.cells!, x.signed);
    };
    for (const s of program.steps) {
      const mvEv = movementStep(ctx, program, s, mv, moveCache);
      if (mvEv) {
        if (n === 0) {
          addScaledEvents(movement, mvEv, batch);
          const w = s.op === "load" ? program.values[s.dst]!.width : s.op === "store" ? program.values[s.src]!.width : 0;
          const remote = mvEv.transferBitsArray + mvEv.transferBitsTile;
          clock.add(s.op === "load" ? "load" : "store", w, P > 0 ? remote / P : 0);
        }
      } else if (s.op !== "free" && n === 0) clock.flush();
      switch (s.op) {
        case "load": {
          const src = env.get(s.src.tensor)!;
          const t = q.tensors.get(s.src.tensor)!;
          const [C, H, W] = t.shape;
          const per: Int32Array[] = arrays.map(() => new Int32Array(R));
          const touched = new Uint8Array(arraysTotal);
          const base = (n * C + s.src.channel) * H * W;
          for (let p = 0; p < P; p++) {
            const oy = Math.floor(p / OW), ox = p % OW;
            const iy = oy * s.src.sy + s.src.dy, ix = ox * s.src.sx + s.src.dx;
            per[posArray[p]!]![posRow[p]!] = iy >= 0 && iy < H && ix >= 0 && ix < W ? src[base + iy * W + ix]! : s.src.pad;
            touched[posArray[p]!] = 1;
          }
          const v = apv(s.dst);
          arrays.forEach((arr, a) => {
            if (!touched[a]) return;
            // write only the active rows (idle rows are never loaded)
            const cur = arr.getValue(v);
            for (let p = 0; p < P; p++) if (posArray[p] === a) cur[posRow[p]!] = per[a]![posRow[p]!]!;
            arr.setValue(v, cur);
          });
          break;
        }
        case "store": {
          const v = apv(s.src);
          const vals = arrays.map((arr) => arr.getValue(v));
          const o = (n * OC + s.channel) * P;
          for (let p = 0; p < P; p++) out[o + p] = vals[posArray[p]!]![posRow[p]!]!;
          break;
        }
        case "free":
          break;
        case "mac":
          throw new RtapError("bit-level simulation of a program compiled with weight folding off is not supported (weights stored in rows need predicated LUTs); use --sim fast");
        default: {
          const plan = ctx.cache.plan(toMacroOp(s, program, ctx.layout)!);
          for (const arr of arrays) arr.run(plan.micro);
        }
      }
    }
    if (n === 0) clock.flush();
    const parts = arrays.map((a) => a.events);
    const sum = zeroEvents();
    for (const e of parts) addEvents(sum, e);
    sum.cycles = Math.max(...parts.map((e) => e.cycles)) * mapping.passes;
    addEvents(total, sum);
  }
  env.set(outputName, out);
  movement.cycles = clock.cycles * batch;
  addEvents(total, movement);
  return { total, movement };
}

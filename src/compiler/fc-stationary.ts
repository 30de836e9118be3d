/**
 * The weight-stationary mapping of fully connected layers (one output position): rows over output
 * neurons instead of positions (DESIGN.md, "the final fully connected layer").
 *
 * With one position, the positions mapping runs the whole O x J expression DAG in a single row.
 * Here row (o, g) of slice g holds the ternary weights w[o, j] of the inputs j of slice g as two
 * stored bits (P = w > 0, M = w < 0) and an accumulator. The controller broadcasts each input
 * value x_j as the constant of a predicated add: `acc += x_j` on rows whose P_j bit is 1 and
 * `acc += -x_j` on rows whose M_j bit is 1 (src/ap: predicate). Zero inputs are skipped (the
 * controller sees the value). Slices sit in their own arrays (dedicated to this layer: the weights
 * stay there between inferences); their partial sums are added up by a transfer-and-add tree
 * across the slice arrays. Requantization uses per-row thresholds stored beside the weights:
 * code = sum_k [acc >= T_k], each term as 1 - sign(acc - T_k).
 *
 * Both simulators: word level (values + static events of cached plans + evalMacro on the rows
 * that act) and bit level (the arrays, with weights and thresholds written at deployment).
 */
import type { ApArch } from "../ap/config.js";
import type { FaultOptions } from "../ap/faults.js";
import { ApArray } from "../ap/array.js";
import { addEvents, addScaledEvents, zeroEvents, type ApEvents } from "../ap/events.js";
import type { ApGeometry } from "../ap/geometry.js";
import { MacroPlanCache, type MacroOp, type MacroPlan } from "../ap/macro.js";
import { evalMacro } from "../ap/semantics.js";
import { makeValue, slice as sliceValue, type ApValue } from "../ap/value.js";
import { RtapError } from "../errors.js";
import type { QConvOp, QGraph, QRequantOp } from "../quantize/qgraph.js";
import { bitsFor } from "../quantize/qgraph.js";
import { tileHops, type UnitMapping } from "./mapping.js";
import { RowAllocator, type RowLayout } from "./rowlayout.js";
import { PagedAllocator } from "./pagelayout.js";
import { addShift } from "./pages.js";
import { nonZeroWeights } from "./weights.js";

export interface FcPlan {
  conv: QConvOp;
  requant: QRequantOp | null;
  output: string;
  O: number;
  J: number;
  /** Inputs per slice, and slices. */
  Jg: number;
  G: number;
  /** Arrays per slice (rows over output neurons) and the first array index (dedicated, at the chip's end). */
  arraysPerSlice: number;
  firstArray: number;
  rows: number;
  /** Cells: weight bits per local input index, accumulator, incoming partial, thresholds, code. */
  pCell: Int32Array;
  mCell: Int32Array;
  acc: ApValue;
  inc: ApValue;
  diff: ApValue;
  code: ApValue | null;
  thresholds: ApValue[];
  /** Bounds of the accumulators (thresholds are clamped to [accLo, accHi + 1]). */
  accLo: number;
  accHi: number;
  /** Bits of the broadcast inputs. */
  inWidth: number;
  /** Counts for reports: predicated ops if every input were non-zero. */
  maxOps: number;
}

/** True when this conv unit is better served by the weight-stationary mapping. */
export function preferStationary(conv: QConvOp, q: QGraph): boolean {
  const out = q.tensors.get(conv.output)!.shape;
  const J = conv.inChannels * conv.kernel[0] * conv.kernel[1];
  return out[1] * out[2] === 1 && conv.outChannels * J >= 100_000;
}

export function planStationary(q: QGraph, conv: QConvOp, requant: QRequantOp | null, output: string, layout: RowLayout, arch: ApArch, firstFreeArrayFromEnd: number): FcPlan {
  const where = `op "${conv.name}" (weight-stationary)`;
  const O = conv.outChannels;
  const J = conv.inChannels * conv.kernel[0] * conv.kernel[1];
  const geom = layout.geom;
  const alloc = layout.kind === "interleaved" ? new PagedAllocator(layout, layout.pages) : new RowAllocator(layout);
  alloc.resetIn(1);
  const cap = Math.floor(layout.inCapacity(1) / 2);
  if (cap < 1) throw new RtapError("the row's input region cannot hold weight bits", where);
  const G = Math.ceil(J / cap);
  const Jg = Math.ceil(J / G);
  const pCell = new Int32Array(Jg), mCell = new Int32Array(Jg);
  // P and M bits of input j share a packing level (different tracks), so one shift shows both.
  for (let j = 0; j < Jg; j++) {
    pCell[j] = alloc.allocIn().cell0;
    mCell[j] = alloc.allocIn().cell0;
  }
  const outT = q.tensors.get(conv.output)!;
  let lo = 0, hi = 0;
  for (let o = 0; o < O; o++) {
    lo = Math.min(lo, outT.minPerChannel[o]!);
    hi = Math.max(hi, outT.maxPerChannel[o]!);
  }
  const m = bitsFor(lo, hi);
  if (m > 30) throw new RtapError(`accumulators need ${m} bits; at most 30 supported here`, where);
  // Interleaved rows: the values every op reads together (acc, the difference, the code) on the
  // hot pages; the incoming partial and the stored thresholds, each read beside them only, on the
  // spill bank's pages.
  const tmp = (name: string, w: number, signed: boolean): ApValue => makeValue(name, cellsOf(layout, alloc.allocTmp(w, name).cell0, w), signed);
  const hot = (name: string, w: number, signed: boolean): ApValue => {
    if (!(alloc instanceof PagedAllocator)) return tmp(name, w, signed);
    const t = alloc.allocHot(w, name);
    if (!t) throw new RtapError(`the hot pages cannot hold the ${w}-bit ${name} beside the accumulator (use wider shift groups)`, where);
    return makeValue(name, cellsOf(layout, t.cell0, w), signed);
  };
  const paged = (name: string, w: number, signed: boolean): ApValue =>
    alloc instanceof PagedAllocator ? makeValue(name, cellsOf(layout, alloc.allocAcc(w, name).cell0, w), signed) : tmp(name, w, signed);
  const acc = hot("acc", m, lo < 0);
  // thresholds clamped to [lo, hi + 1] compare the same; acc - T then lies in [lo - hi - 1, hi - lo]
  const diff = hot("d", bitsFor(lo - hi - 1, hi - lo), true);
  const code: ApValue | null = requant ? hot("code", requant.bits, false) : null;
  const inc = paged("inc", m, lo < 0);
  const thresholds: ApValue[] = [];
  if (requant) {
    const L = (1 << requant.bits) - 1;
    for (let k = 0; k < L; k++) thresholds.push(paged(`T${k + 1}`, bitsFor(lo, hi + 1), lo < 0));
  }
  const inT = q.tensors.get(conv.input)!;
  let ilo = 0, ihi = 0;
  for (let c = 0; c < inT.shape[0]; c++) {
    ilo = Math.min(ilo, inT.minPerChannel[c]!);
    ihi = Math.max(ihi, inT.maxPerChannel[c]!);
  }
  if (ilo < 0) throw new RtapError("weight-stationary layers need unsigned inputs", where);
  const R = arch.array.rows;
  const arraysPerSlice = Math.ceil(O / R);
  const total = arraysPerSlice * G;
  const chip = arch.tiles * arch.arraysPerTile;
  const firstArray = chip - firstFreeArrayFromEnd - total;
  if (firstArray < 0) throw new RtapError(`needs ${total} dedicated arrays (${G} slices x ${arraysPerSlice}); the chip has ${chip} (${firstFreeArrayFromEnd} already dedicated)`, where);
  const nnz = nonZeroWeights(conv);
  return { conv, requant, output, O, J, Jg, G, arraysPerSlice, firstArray, rows: R, pCell, mCell, acc, inc, diff, code, thresholds, accLo: lo, accHi: hi, inWidth: bitsFor(0, ihi), maxOps: Math.min(2 * J, nnz) };
}

function cellsOf(layout: RowLayout, c0: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => c0 + i * layout.cellStride);
}

/** Groups (and the offset showing each) of the cells an op reads or writes, interleaved rows. */
function pagesOfOp(op: MacroOp, geom: ApGeometry): Map<number, number> {
  const cells: number[] = [...op.dst.cells];
  const add = (x: unknown): void => {
    if (!x || typeof x !== "object") return;
    const v = "value" in (x as object) ? (x as { value: ApValue }).value : (x as ApValue);
    if (v && Array.isArray(v.cells)) cells.push(...v.cells);
  };
  const o = op as unknown as Record<string, unknown>;
  add(o["src"]);
  add(o["a"]);
  add(o["b"]);
  for (const p of op.predicate ?? []) cells.push(p.cell);
  const out = new Map<number, number>();
  for (const c of cells) {
    const g = geom.groupOfCell(c);
    if (g >= 0 && !out.has(g)) out.set(g, geom.offsetsShowing(c)[0]!);
  }
  return out;
}

/** Physical placement of slice g's array a (for movement distances). */
function arrayPlace(plan: FcPlan, arch: ApArch, g: number, a: number): { tile: number; array: number } {
  const idx = plan.firstArray + g * plan.arraysPerSlice + a;
  return { tile: Math.floor(idx / arch.arraysPerTile), array: idx % arch.arraysPerTile };
}

export interface FcRun {
  output: Int32Array;
  events: ApEvents;
  movement: ApEvents;
}

/**
 * Runs the layer for `batch` images: `x` is the input tensor (batch x J), `producer` where its
 * values live (for the broadcast's movement), mode fast or bit.
 */
export function simulateStationary(
  plan: FcPlan, q: QGraph, arch: ApArch, layout: RowLayout, cache: MacroPlanCache, x: Int32Array, batch: number,
  producer: UnitMapping | "global", mode: "fast" | "bit", local: boolean, faults?: FaultOptions,
): FcRun {
  const { O, J, Jg, G, rows: R, arraysPerSlice: A } = plan;
  const geom = layout.geom;
  const w = plan.conv.weights;
  const events = zeroEvents();
  const movement = zeroEvents();
  const out = new Int32Array(batch * O);
  const m = plan.acc.width;
  const T = plan.requant?.thresholds;
  const L = plan.requant ? (1 << plan.requant.bits) - 1 : 0;
  const timing = arch.timing;
  // Static events are priced from the plans in fast mode; in bit mode the arrays count them.
  // Interleaved rows: before an op, the groups it uses move to its pages (the page schedule of
  // src/compiler/pages.ts, per slice: `cur[g]`), and the op expands there with no shift.
  const interleaved = layout.kind === "interleaved";
  const cur = Array.from({ length: G }, () => new Int32Array(geom.groups));
  let sliceArrays: ApArray[][] = [];
  const moveTo = (g: number, group: number, to: number, arrays: number): void => {
    const n = to - cur[g]![group]!;
    if (n === 0) return;
    cur[g]![group] = to;
    tileCycles[arrayPlace(plan, arch, g, 0).tile]! += Math.abs(n) * timing.shiftPerDomain;
    if (mode === "bit") {
      for (const arr of sliceArrays[g] ?? []) arr.run([{ op: "shift", group, n }]);
    } else {
      const e = zeroEvents();
      addShift(e, n, R, geom, timing);
      e.cycles = 0;
      addScaledEvents(events, e, arrays);
    }
  };
  const price = (op: MacroOp, arrays: number, g: number): MacroPlan => {
    let p: MacroPlan;
    if (interleaved) {
      for (const [group, page] of pagesOfOp(op, geom)) moveTo(g, group, page, arrays);
      p = cache.plan(op, { offsets: cur[g]!, returnHome: false });
    } else p = cache.plan(op);
    if (mode === "fast") {
      const st = p.staticEvents(timing, R);
      addScaledEvents(events, st, arrays);
      events.cycles -= st.cycles * arrays;
    }
    return p;
  };
  const tileCycles = new Float64Array(arch.tiles);
  const charge = (p: MacroPlan, g: number): void => {
    tileCycles[arrayPlace(plan, arch, g, 0).tile]! += p.staticEvents(timing, R).cycles;
  };
  const outTensor = q.tensors.get(plan.conv.output)!;
  for (let n = 0; n < batch; n++) {
    const xn = x.subarray(n * J, (n + 1) * J);
    tileCycles.fill(0);
    // per slice: accumulators over the rows o (and idle rows, all zero)
    const accs: Int32Array[] = [];
    const arrays: ApArray[][] = [];
    sliceArrays = arrays;
    for (let g = 0; g < G; g++) {
      const accv = new Int32Array(O);
      let arrs: ApArray[] = [];
      if (mode === "bit") {
        arrs = Array.from({ length: A }, (_, a) =>
          new ApArray(geom.rows === R ? geom : geom.withRows(R), timing, faults ? { faults: { ...faults, seed: (faults.seed ?? 0) + 7919 * (g * A + a) + 104729 * n + 1 } } : {}),
        );
        // deployment: weight bits (and thresholds, below) are written once, not per inference
        for (let o = 0; o < O; o++) {
          const arr = arrs[Math.floor(o / R)]!, row = o % R;
          for (let jl = 0; jl < Jg; jl++) {
            const j = g * Jg + jl;
            if (j >= J) break;
            const wt = w[o * J + j]!;
            if (wt === 1) arr.setCell(plan.pCell[jl]!, row, 1);
            else if (wt === -1) arr.setCell(plan.mCell[jl]!, row, 1);
          }
        }
        if (g === 0 && T) {
          for (let k = 0; k < L; k++) {
            for (let a = 0; a < A; a++) {
              const vals = new Int32Array(R);
              for (let r = 0; r < R; r++) {
                const o = a * R + r;
                vals[r] = o < O ? clampT(T[o * L + k]!, plan) : 0;
              }
              arrs[a]!.setValue(plan.thresholds[k]!, vals);
            }
          }
        }
        for (const arr of arrs) arr.resetEvents();
      }
      arrays.push(arrs);
      // acc <- 0
      const clear = price({ kind: "set", dst: plan.acc, k: 0, dstInit: "any" }, A, g);
      charge(clear, g);
      // (fresh accumulators hold 0 in both simulators: no cells flip)
      if (mode === "bit") for (const arr of arrs) arr.run(clear.micro);
      // broadcast every input of the slice
      const inputMovement = { bits: 0, tile: 0, hops: 0, array: 0 };
      for (let jl = 0; jl < Jg; jl++) {
        const j = g * Jg + jl;
        if (j >= J) break;
        const xv = xn[j]!;
        // the controller reads x_j from where its producer stored it
        inputMovement.bits += plan.inWidth;
        if (producer !== "global" && local) {
          const from = producer.place(0);
          const to = arrayPlace(plan, arch, g, 0);
          if (from.tile !== to.tile) {
            inputMovement.tile += plan.inWidth;
            inputMovement.hops += plan.inWidth * tileHops(arch, from.tile, to.tile);
          } else inputMovement.array += plan.inWidth;
        }
        if (xv === 0) continue; // nothing to add: the controller skips zero inputs
        for (const [cells, sign] of [[plan.pCell, 1], [plan.mCell, -1]] as const) {
          const active: number[] = [];
          for (let o = 0; o < O; o++) if (w[o * J + j] === sign) active.push(o);
          if (active.length === 0) continue;
          const op: MacroOp = { kind: "addConst", dst: plan.acc, k: sign * xv, predicate: [{ cell: cells[jl]!, bit: 1 }] };
          const p = price(op, A, g);
          charge(p, g);
          if (mode === "bit") {
            for (const arr of arrs) arr.run(p.micro);
          } else {
            const dv = Int32Array.from(active, (o) => accv[o]!);
            const r = evalMacro(p, geom, { dst: dv });
            events.writeCells += r.writeCells;
            events.flagWriteCells += r.flagWriteCells;
            active.forEach((o, i) => (accv[o] = r.dst[i]!));
          }
        }
      }
      // input movement: the values read from the producer's buffer and sent to this slice's tile
      movement.bufferReadBits += inputMovement.bits;
      if (!local || producer === "global") movement.transferBitsChip += inputMovement.bits;
      movement.transferBitsArray += inputMovement.array;
      movement.transferBitsTile += inputMovement.tile;
      movement.transferBitHopsTile += inputMovement.hops;
      if (mode === "bit") {
        for (let a = 0; a < A; a++) {
          const v = arrs[a]!.getValue(plan.acc);
          for (let r = 0; r < R && a * R + r < O; r++) accv[a * R + r] = v[r]!;
        }
      }
      accs.push(accv);
    }
    // reduction tree across slices: slice g += slice g+s
    for (let s = 1; s < G; s *= 2) {
      for (let g = 0; g + s < G; g += 2 * s) {
        const src = accs[g + s]!, dst = accs[g]!;
        // move the partial sums row by row (same row index, another array)
        const from = arrayPlace(plan, arch, g + s, 0), to = arrayPlace(plan, arch, g, 0);
        const bits = m * O;
        movement.bufferReadBits += bits;
        movement.bufferWriteBits += bits;
        if (from.tile === to.tile) movement.transferBitsArray += bits;
        else {
          movement.transferBitsTile += bits;
          movement.transferBitHopsTile += bits * tileHops(arch, from.tile, to.tile);
        }
        const p = price({ kind: "add", dst: plan.acc, src: plan.inc }, A, g);
        charge(p, g);
        if (mode === "bit") {
          for (let a = 0; a < A; a++) {
            const vals = new Int32Array(R);
            for (let r = 0; r < R && a * R + r < O; r++) vals[r] = src[a * R + r]!;
            arrays[g]![a]!.setValue(plan.inc, vals);
            arrays[g]![a]!.run(p.micro);
          }
          for (let a = 0; a < A; a++) {
            const v = arrays[g]![a]!.getValue(plan.acc);
            for (let r = 0; r < R && a * R + r < O; r++) dst[a * R + r] = v[r]!;
          }
        } else {
          const r = evalMacro(p, geom, { dst: withIdle(dst, A * R), src: withIdle(src, A * R) });
          events.writeCells += r.writeCells;
          events.flagWriteCells += r.flagWriteCells;
          dst.set(r.dst.subarray(0, O));
        }
      }
    }
    const final = accs[0]!;
    // requantization with per-row thresholds: code = sum_k (1 - sign(acc - T_k))
    let result = final;
    if (plan.code && T) {
      const code = new Int32Array(O);
      const pSet = price({ kind: "set", dst: plan.code, k: 0, dstInit: "any" }, A, 0);
      charge(pSet, 0);
      if (mode === "bit") for (const arr of arrays[0]!) arr.run(pSet.micro);
      const sign = sliceValue(plan.diff, plan.diff.width - 1, 1, false, "sign");
      let diffOld: Int32Array = new Int32Array(A * R);
      let codeVals: Int32Array = new Int32Array(A * R);
      const accAll = withIdle(final, A * R);
      for (let k = 0; k < L; k++) {
        const tAll = new Int32Array(A * R);
        for (let o = 0; o < O; o++) tAll[o] = clampT(T[o * L + k]!, plan);
        const pSub = price({ kind: "subOut", dst: plan.diff, a: plan.acc, b: plan.thresholds[k]!, dstInit: "any" }, A, 0);
        const pInc = price({ kind: "addConst", dst: plan.code, k: 1 }, A, 0);
        const pDec = price({ kind: "sub", dst: plan.code, src: sign }, A, 0);
        charge(pSub, 0);
        charge(pInc, 0);
        charge(pDec, 0);
        if (mode === "bit") {
          for (const arr of arrays[0]!) {
            arr.run(pSub.micro);
            arr.run(pInc.micro);
            arr.run(pDec.micro);
          }
        } else {
          const r1 = evalMacro(pSub, geom, { dst: diffOld, a: accAll, b: tAll });
          const r2 = evalMacro(pInc, geom, { dst: codeVals });
          const signs = Int32Array.from(r1.dst, (d) => (d < 0 ? 1 : 0));
          const r3 = evalMacro(pDec, geom, { dst: r2.dst, src: signs });
          events.writeCells += r1.writeCells + r2.writeCells + r3.writeCells;
          events.flagWriteCells += r1.flagWriteCells + r2.flagWriteCells + r3.flagWriteCells;
          diffOld = r1.dst;
          codeVals = r3.dst;
        }
      }
      if (mode === "bit") {
        for (let a = 0; a < A; a++) {
          const v = arrays[0]![a]!.getValue(plan.code);
          for (let r = 0; r < R && a * R + r < O; r++) code[a * R + r] = v[r]!;
        }
      } else code.set(codeVals.subarray(0, O));
      result = code;
    }
    // every group back home (the next inference starts there)
    if (interleaved) for (let g = 0; g < G; g++) for (let group = 0; group < geom.groups; group++) moveTo(g, group, 0, A);
    // store: every row's result to its array buffer
    movement.bufferReadBits += (plan.code ? plan.code.width : m) * O;
    if (!local) movement.transferBitsChip += (plan.code ? plan.code.width : m) * O;
    out.set(result, n * O);
    if (mode === "bit") for (const arrs of arrays) for (const arr of arrs) addEvents(events, { ...arr.events, cycles: 0 });
    events.cycles += Math.max(...tileCycles);
  }
  void outTensor;
  movement.cycles = 0;
  addEvents(events, movement);
  return { output: out, events, movement };
}

function withIdle(v: Int32Array, n: number): Int32Array {
  const a = new Int32Array(n);
  a.set(v);
  return a;
}

/** A threshold clamped to [accLo, accHi + 1]: acc >= T gives the same answer for every reachable acc. */
function clampT(t: number, plan: FcPlan): number {
  return Math.max(plan.accLo, Math.min(plan.accHi + 1, t));
}

/**
 * Readable dumps of what each compiler stage decided (`rtap compile --emit <stage>`), for one unit
 * or all of them. Each stage prints the information its pass produced:
 *   units           the compute units (fused ops) in execution order
 *   weight-folding  per conv term: the ternary matrix (O x J), non-zeros, +1/-1 counts
 *   interchange     loop structure: output blocks x input-channel slices, loads per row
 *   cse             the expression DAG of the unit's first (block, slice), one line per addition
 *   bitwidth        value widths: histogram and examples with their exact ranges
 *   allocation      values with their cells (track.domain) and registers
 *   pages           interleaved rows: what lies on which page, the page switches and shift distance
 *   layout          positions -> tiles/arrays/rows, row utilisation
 *   movement        bits loaded per row by distance (same array, tile bus, interconnect, global)
 *   lowering        the unit program (load / macro-ops / store / free)
 *   micro           the first macro-ops expanded to AP micro-ops
 */
import { expandMacro } from "../ap/macro.js";
import { formatProgram as formatMicro } from "../ap/microop.js";
import { RtapError } from "../errors.js";
import { bitsFor } from "../quantize/qgraph.js";
import { formatDag } from "./cse/format.js";
import { eliminateCommonSubexpressions } from "./cse/eliminate.js";
import { loadEvents, type UnitMapping } from "./mapping.js";
import type { CompiledNetwork, CompiledUnit } from "./pipeline.js";
import { formatProgram, OP_FREE, OP_LOAD, OP_STORE, REGION_IN } from "./program.js";
import { serialStart, toMacroOp } from "./simulate.js";
import { offsetsFor, stepNeeds, walkSchedule } from "./pages.js";
import { OP_NAMES, VK_ACC } from "./program.js";
import { scheduleSlots } from "./schedule.js";
import { SPLIT_ENERGY_BUDGET, type SplitOption } from "./lower.js";

export const EMIT_STAGES = ["units", "weight-folding", "interchange", "cse", "bitwidth", "allocation", "pages", "layout", "movement", "lowering", "micro"] as const;
export type EmitStage = (typeof EMIT_STAGES)[number];

export function isEmitStage(s: string): s is EmitStage {
  return (EMIT_STAGES as readonly string[]).includes(s);
}

export interface EmitOptions {
  /** Only this unit (name or index); default: every unit. */
  unit?: string;
  /** Lines per unit for long dumps (default 60). */
  maxLines?: number;
}

export function emitStage(net: CompiledNetwork, stage: EmitStage, opts: EmitOptions = {}): string {
  const units = selectUnits(net, opts.unit);
  const max = opts.maxLines ?? 60;
  const out: string[] = [];
  for (const cu of units) {
    out.push(`== ${cu.unit.kind} unit "${cu.unit.name}" -> ${cu.unit.output}`);
    out.push(...emitUnit(net, cu, stage, max));
    out.push("");
  }
  return out.join("\n");
}

function selectUnits(net: CompiledNetwork, unit: string | undefined): CompiledUnit[] {
  if (unit === undefined) return net.units;
  const byIndex = /^\d+$/.test(unit) ? net.units[Number(unit)] : undefined;
  const hit = byIndex ?? net.units.find((u) => u.unit.name === unit || u.unit.output === unit || u.unit.name.includes(unit));
  if (!hit) throw new RtapError(`no compute unit "${unit}"; units: ${net.units.map((u, i) => `${i}:${u.unit.name}`).join(", ")}`);
  return [hit];
}

/** What each stage means for a weight-stationary unit (rows over output neurons, no program DAG). */
function emitStationary(net: CompiledNetwork, cu: CompiledUnit, stage: EmitStage): string[] {
  const f = cu.stationary!;
  const g = net.layout.geom;
  const head = `  weight-stationary fully connected layer: ${f.O} outputs x ${f.J} inputs; rows = output neurons in ${f.G} slice(s) of ${f.Jg} inputs, ${f.arraysPerSlice} array(s) per slice (dedicated arrays ${f.firstArray}..${f.firstArray + f.G * f.arraysPerSlice - 1})`;
  switch (stage) {
    case "units":
      return [`  ops: ${cu.unit.ops.map((o) => `${o.kind}(${o.name})`).join(" -> ")}`];
    case "weight-folding":
      return [head, `  ternary weights are stored per row as two bits (P = +1, M = -1), not folded into instructions; ${cu.stats.matrices[0]?.nonZeros ?? 0} non-zero weights`];
    case "pages":
      return [head, `  ${net.layout.describe()}`, "  weights stay on the input bank's pages; each broadcast add brings the page of its weight bits under the ports (the inputs are read in page order)"];
    case "interchange":
    case "layout":
      return [head, `  row utilisation ${(cu.mapping.utilization * 100).toFixed(1)}% (outputs / rows of a slice's arrays)`];
    case "cse":
      return [head, "  no expression DAG: each input is broadcast once to every row (predicated add-constant), so nothing is recomputed"];
    case "bitwidth":
      return [head, `  accumulator ${f.acc.signed ? "signed" : "unsigned"} ${f.acc.width} bits (range [${f.accLo}, ${f.accHi}]); inputs ${f.inWidth} bits; difference for requantization ${f.diff.width} bits`];
    case "allocation":
      return [
        head,
        `  P/M weight bits: ${f.Jg} pairs in the input region (first ${g.describeCell(f.pCell[0]!)}, ${g.describeCell(f.mCell[0]!)}); accumulator ${g.describeCell(f.acc.cells[0]!)}..; incoming partial ${g.describeCell(f.inc.cells[0]!)}..; ${f.thresholds.length} stored thresholds`,
      ];
    case "movement":
      return [head, `  per inference: the ${f.J} inputs are read from the producer's buffer and broadcast (${f.J * f.inWidth} bits); partial sums move between slice arrays in a ${Math.ceil(Math.log2(Math.max(1, f.G)))}-level tree (${f.acc.width} bits per row per level)`];
    case "lowering":
    case "micro":
      return [
        head,
        `  per slice: set acc <- 0; for each input j with x_j != 0: addConst acc += x_j predicated on P_j = 1, addConst acc += -x_j predicated on M_j = 1;`,
        `  then acc += partial of the next slice (tree); ${f.requant ? "requant: code = sum_k (1 - sign(acc - T_k)) with per-row stored thresholds; " : ""}store`,
      ];
  }
}

function emitUnit(net: CompiledNetwork, cu: CompiledUnit, stage: EmitStage, max: number): string[] {
  if (cu.stationary) return emitStationary(net, cu, stage);
  const u = cu.unit, s = cu.stats, p = cu.program;
  switch (stage) {
    case "units":
      return [`  ops: ${u.ops.map((o) => `${o.kind}(${o.name})`).join(" -> ")}`];
    case "weight-folding": {
      if (u.kind !== "conv") return ["  (no weights)"];
      return u.terms.map((t) => {
        let plus = 0, minus = 0;
        for (const w of t.conv.weights) if (w === 1) plus++;
        else if (w === -1) minus++;
        const J = t.conv.inChannels * t.conv.kernel[0] * t.conv.kernel[1];
        return `  ${t.conv.name}: W ${t.conv.outChannels} x ${J} (c*kh*kw), +1: ${plus}, -1: ${minus}, 0: ${t.conv.weights.length - plus - minus} (${((100 * (plus + minus)) / t.conv.weights.length).toFixed(1)}% non-zero) -> ${plus + minus} add/sub instructions before CSE`;
      });
    }
    case "interchange": {
      const slots = scheduleSlots(cu.mapping, net.arch);
      const lines = [
        `  output positions across rows: ${cu.mapping.positions}; program over ${s.blocks} output block(s) x ${s.slices} input-channel slice(s)`,
        `  receptive-field loads per row: ${countOps(p, OP_LOAD)}; peak input-region bits ${p.peakInBits}`,
        `  chip schedule: ${Math.max(1, p.parts.length)} part(s), ${slots} can run at once (tiles x tile.controllers streams / streams per part)`,
      ];
      if (s.splits && s.splitBase) {
        const b = s.splitBase, budget = s.splitBudget ?? SPLIT_ENERGY_BUDGET;
        const row = (o: SplitOption): string =>
          `    ${o.chosen ? "*" : " "} ${String(o.blocks).padStart(4)} blocks of ${String(o.outputsPerBlock).padStart(3)} outputs x ${String(o.parts / o.blocks).padStart(3)} parts (${o.slices} slice(s) of ${o.channelsPerSlice} channels in the largest term) = ${String(o.parts).padStart(4)} parts, est. ${o.cycles.toLocaleString("en-US")} cycles, energy ${(o.energy / b.energy).toFixed(3)}x${o.energy > b.energy * (1 + budget) ? " (over the energy budget)" : ""}`;
        lines.push(`  splits considered (* chosen: the fastest within +${Math.round(budget * 1000) / 10}% of the estimated energy of the row's own split, ${b.blocks} block(s) x ${b.parts / b.blocks} part(s)):`);
        for (const o of s.splits) lines.push(row(o));
      }
      return lines;
    }
    case "cse":
      return cseDump(net, cu, max);
    case "bitwidth": {
      const hist = new Map<number, number>();
      for (let id = 0; id < p.nValues; id++) hist.set(p.width[id]!, (hist.get(p.width[id]!) ?? 0) + 1);
      const lines = [`  values by width: ${[...hist.entries()].sort((a, b) => a[0] - b[0]).map(([w, n]) => `${w}b x${n}`).join(", ")}`];
      for (let id = 0; id < Math.min(p.nValues, max); id++) {
        lines.push(`  ${p.name(id).padEnd(14)} [${p.min[id]}, ${p.max[id]}] -> ${p.signed[id] ? "signed" : "unsigned"} ${p.width[id]} bits (exact ${bitsFor(p.min[id]!, p.max[id]!)})`);
      }
      return lines;
    }
    case "allocation": {
      const g = net.layout.geom;
      const lines = [`  ${net.layout.describe()}`, `  peak: ${p.peakTmpSlots} temporary slots (${p.peakTmpBits} bits), ${p.peakInBits} input bits; staging copies ${s.stagingCopies}`];
      for (let id = 0; id < Math.min(p.nValues, max); id++) {
        const c = p.cell0[id]!;
        const last = c + (p.width[id]! - 1) * p.cellStride;
        const page = net.layout.pages ? `, page ${net.layout.pages.pageOfCell(c)}` : "";
        lines.push(`  ${p.name(id).padEnd(14)} ${p.region[id] === REGION_IN ? "IN " : "TMP"} ${g.describeCell(c)}..${g.describeCell(last)} (group ${g.canShift ? g.groupOfCell(c) : 0}${page}) reg ${p.reg[id]}`);
      }
      return lines;
    }
    case "pages":
      return pagesDump(net, cu, max);
    case "layout":
      return [layoutLine(cu.mapping)];
    case "movement":
      return movementDump(net, cu);
    case "lowering":
      return formatProgram(p, max).split("\n").map((l) => `  ${l}`);
    case "micro": {
      const lines: string[] = [];
      let shown = 0;
      for (let i = 0; i < p.nSteps && shown < 3; i++) {
        const o = p.op[i]!;
        if (o === OP_LOAD || o === OP_STORE || o === OP_FREE) continue;
        const op = toMacroOp(p, i, net.layout);
        if (!op) continue;
        // expanded where the page schedule puts the groups (src/compiler/pages.ts)
        const needs = stepNeeds(p, i, net.layout);
        const plan =
          net.layout.kind === "interleaved"
            ? expandMacro(op, net.layout.geom, { offsets: offsetsFor(needs, net.layout.geom.groups), returnHome: false })
            : net.layout.kind === "serial"
              ? expandMacro(op, net.layout.geom, { offsets: serialStart(expandMacro(op, net.layout.geom, { returnHome: false }), net.layout.geom), returnHome: false })
              : expandMacro(op, net.layout.geom);
        lines.push(`  -- ${formatProgram(sliceProgram(p, i), 1).trim()} => ${plan.micro.length} micro-ops`);
        lines.push(...formatMicro(plan.micro.slice(0, max), net.layout.geom).split("\n").map((l) => `     ${l}`));
        shown++;
      }
      return lines;
    }
  }
}

function sliceProgram(p: CompiledUnit["program"], i: number): CompiledUnit["program"] {
  // a one-step view for printing
  const view = Object.create(p) as CompiledUnit["program"];
  view.nSteps = 1;
  view.op = p.op.subarray(i, i + 1);
  view.dst = p.dst.subarray(i, i + 1);
  view.a = p.a.subarray(i, i + 1);
  view.b = p.b.subarray(i, i + 1);
  view.imm = p.imm.subarray(i, i + 1);
  return view;
}

function countOps(p: CompiledUnit["program"], op: number): number {
  let n = 0;
  for (let i = 0; i < p.nSteps; i++) if (p.op[i] === op) n++;
  return n;
}

export function layoutLine(m: UnitMapping): string {
  return `  ${m.positions} positions (${m.shape[1]}x${m.shape[2]}) -> ${m.arrays} array(s) of ${m.rowsPerArray} rows on ${m.tiles} tile(s), ${m.passes} pass(es), ${m.raster ? "raster" : "scattered"} order; row utilisation ${(m.utilization * 100).toFixed(1)}%`;
}

function movementDump(net: CompiledNetwork, cu: CompiledUnit): string[] {
  const p = cu.program;
  const prodMap = new Map<string, UnitMapping>();
  for (const o of net.units) prodMap.set(o.unit.output, o.mapping);
  let bus = 0, link = 0, global = 0, written = 0, loads = 0;
  const seen = new Map<string, ReturnType<typeof loadEvents>>();
  for (let i = 0; i < p.nSteps; i++) {
    if (p.op[i] !== OP_LOAD) continue;
    loads++;
    const src = p.loads[p.imm[i]!]!;
    const w = p.width[p.dst[i]!]!;
    const key = `${src.tensor}|${src.sy},${src.sx},${src.dy},${src.dx}|${w}`;
    let e = seen.get(key);
    if (!e) {
      e = loadEvents(
        { arch: net.arch, mapping: cu.mapping, producerMapping: (t) => (t === net.q.input ? "global" : (prodMap.get(t) ?? "global")), local: net.passes.movement },
        src, w, net.q.tensors.get(src.tensor)!.shape,
      );
      seen.set(key, e);
    }
    bus += e.transferBitsArray;
    link += e.transferBitsTile;
    global += e.transferBitsChip;
    written += e.bufferWriteBits;
  }
  return [
    `  ${loads} load steps writing ${written} bits into rows per inference; fetched over the tile bus ${bus}, the interconnect ${link}, from the global buffer ${global};`,
    `  the other ${written - bus - link - global} bits come from the same array or are padding constants`,
    `  stores: every active row's results to its array buffer (${countOps(p, OP_STORE)} store steps)`,
  ];
}

function cseDump(net: CompiledNetwork, cu: CompiledUnit, max: number): string[] {
  const u = cu.unit;
  if (u.kind !== "conv") return ["  (no ternary matrix)"];
  const t = u.terms[u.terms.length - 1]!.conv;
  const K = t.kernel[0] * t.kernel[1];
  const J = Math.min(t.inChannels * K, 64);
  const O = Math.min(t.outChannels, 16);
  const data = new Int8Array(O * J);
  for (let o = 0; o < O; o++) for (let j = 0; j < J; j++) data[o * J + j] = t.weights[o * t.inChannels * K + j]!;
  const ranges = { min: new Float64Array(J), max: new Float64Array(J).fill(15) };
  const res = eliminateCommonSubexpressions({ rows: O, cols: J, data }, ranges, { where: `op "${t.name}"` });
  return [
    `  a ${O} x ${J} corner of ${t.name} (4-bit inputs), to read: additions ${res.stats.naive.additions} -> ${res.stats.compiled.additions}, bit-serial cycles ${res.stats.naive.cycles} -> ${res.stats.compiled.cycles}`,
    ...formatDag(res.dag, res.schedule, max, O).split("\n").map((l) => `  ${l}`),
    `  (whole unit: additions ${cu.stats.addsNaive} -> ${cu.stats.addsCompiled}, cycles ${cu.stats.cyclesNaive} -> ${cu.stats.cyclesCompiled})`,
  ];
  void net;
}

/** Interleaved rows: the pages each region uses, the schedule's page switches and shift distance. */
function pagesDump(net: CompiledNetwork, cu: CompiledUnit, max: number): string[] {
  const L = net.layout, p = cu.program, g = L.geom;
  if (L.kind !== "interleaved") {
    return [`  ${L.describe()}`, `  no pages: ${L.kind === "sram" ? "every SRAM bit is its own column" : "values lie along the tracks; each bit step of an op shifts its group (rtap run counts them)"}`];
  }
  const pg = L.pages!;
  const pagesOf = new Map<number, Set<number>>();
  let spilled = 0;
  for (let id = 0; id < p.nValues; id++) {
    const c = p.cell0[id]!;
    const bank = g.groupOfCell(c), page = pg.pageOfCell(c);
    let set = pagesOf.get(bank);
    if (!set) pagesOf.set(bank, (set = new Set()));
    set.add(page);
    if (bank === pg.spillBank && p.kind[id] !== VK_ACC) spilled++;
  }
  const role = (b: number): string => (b === pg.inBank ? "IN" : b === pg.spillBank ? "SPILL" : "HOT");
  const lines = [`  ${L.describe()}`];
  for (const [bank, pages] of [...pagesOf.entries()].sort((a, b) => a[0] - b[0])) {
    const sorted = [...pages].sort((a, b) => a - b);
    lines.push(`  bank ${bank} (${role(bank)}): page${sorted.length > 1 ? "s" : ""} ${sorted.length > 8 ? `${sorted[0]}..${sorted[sorted.length - 1]} (${sorted.length} pages)` : sorted.join(", ")}`);
  }
  const switches: string[] = [];
  const s = walkSchedule(p, L, net.arch.timing, net.arch.array.rows, null, (i, group, n) => {
    if (switches.length < Math.min(max, 20)) switches.push(`    before step ${i}${i < p.nSteps ? ` (${OP_NAMES[p.op[i]!]})` : " (unit end)"}: bank ${group} ${n > 0 ? "+" : ""}${n} domain(s)`);
  });
  const arrays = cu.mapping.arrays * cu.mapping.passes;
  lines.push(
    `  page schedule: ${s.events.shifts} page switches moving ${s.events.shiftSteps} domains per array (per bank: ${Array.from(s.domainsPerGroup).join(", ")}); ` +
      `${s.events.shiftTrackDomains} track-domain moves per array of ${net.arch.array.rows} rows, ${s.events.shiftTrackDomains * arrays} per inference over ${arrays} array(s)`,
    `  temporaries spilled off the hot pages: ${cu.stats.spills}; values on the spill bank other than accumulators: ${spilled}; staging copies: ${cu.stats.stagingCopies}`,
    `  first page switches:`,
    ...switches,
  );
  return lines;
}

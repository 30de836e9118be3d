/**
 * Crossbar compute-in-memory cost model: the same quantized network, mapped onto crossbar arrays,
 * priced per layer and per component from a crossbar technology file. Every formula is in
 * docs/cost-model.md ("Crossbar model"); the comments here say why each count is what it is.
 *
 * Mapping. A layer's weights unroll to a matrix of R = C*KH*KW rows by O output channels. Each
 * weight takes `colsPerWeight` columns (differential: a positive and a negative column per
 * magnitude bit; offset: ceil(bits/cellBits) columns of the unsigned code). Rows are packed into
 * row groups of `rows` (or, with perKernelPosition, each kernel offset gets its own groups, which
 * is NeuroSim's novel mapping), columns into column groups of `cols`; arrays = rowGroups*colGroups.
 *
 * Per output position and input bit (bit-serial inputs, 1-bit DACs) every array is read once; every
 * used column is converted once by its ADC. Conversions are shifted and added into partial sums;
 * partial sums of the row groups are added. Activations move through a hierarchy of levels (chip
 * network, tile bus, PE bus), each with its own traffic, distance and buffer.
 */
import { RtapError } from "../errors.js";
import type { CrossbarTechnology } from "./technology.js";
import { describeTechnology } from "./technology.js";
import type { MacLayer, Workload, AuxOp } from "./workload.js";

/** Energy per component (J). */
export interface CrossbarEnergy {
  /** ADC conversions plus array read (cells, bit lines) — NeuroSim's "ADC" category. */
  adcArray: number;
  /** Row drive: DACs / word-line switch matrix. */
  dac: number;
  /** Shift-and-add of conversions and partial-sum adder trees. */
  accumulation: number;
  /** Wires of every level (chip network, tile and PE buses). */
  interconnect: number;
  /** Buffers of every level. */
  buffers: number;
  /** Digital non-MAC ops (residual add, pooling, requantization). */
  other: number;
  /** Static energy of the allocated arrays over the evaluated time. */
  leakage: number;
}

/** Event counts behind the energies (so a reader can check the arithmetic). */
export interface CrossbarCounts {
  rowGroups: number;
  colGroups: number;
  /** Array reads (one per array per position per input cycle per parallel-row pass). */
  arrayReads: number;
  conversions: number;
  rowDrives: number;
  /** Bits added in shift-and-add and adder trees. */
  adderBits: number;
  /** Bits entering and leaving each level, in level order. */
  levelInputBits: number[];
  levelOutputBits: number[];
}

export interface CrossbarLayerCost {
  name: string;
  energy: CrossbarEnergy;
  /** Split of adcArray. */
  adcOnly: number;
  arrayRead: number;
  /** Dynamic energy (everything but leakage). */
  dynamicJ: number;
  latencyS: number;
  /** Arrays holding one copy of the layer's weights. */
  arrays: number;
  duplication: number;
  arraysAllocated: number;
  tiles: number;
  areaM2: number;
  counts: CrossbarCounts;
}

export interface CrossbarCost {
  technology: string;
  workload: string;
  perLayer: CrossbarLayerCost[];
  /** Digital non-MAC ops (only workloads built from an integer graph have them). */
  aux: Array<{ name: string; kind: AuxOp["kind"]; energy: number; bufferEnergy: number }>;
  total: {
    /** Dynamic + leakage. */
    energyJ: number;
    dynamicJ: number;
    /** One image through every layer (sum of layer latencies). */
    latencyS: number;
    /** Pipeline stage time (slowest layer) when pipelined, else equal to latencyS. */
    periodS: number;
    areaMm2: number;
    arrays: number;
    tiles: number;
    components: CrossbarEnergy;
  };
}

const ZERO: CrossbarEnergy = { adcArray: 0, dac: 0, accumulation: 0, interconnect: 0, buffers: 0, other: 0, leakage: 0 };

export function addEnergy(a: CrossbarEnergy, b: CrossbarEnergy): CrossbarEnergy {
  return {
    adcArray: a.adcArray + b.adcArray,
    dac: a.dac + b.dac,
    accumulation: a.accumulation + b.accumulation,
    interconnect: a.interconnect + b.interconnect,
    buffers: a.buffers + b.buffers,
    other: a.other + b.other,
    leakage: a.leakage + b.leakage,
  };
}

export function sumEnergy(e: CrossbarEnergy, withLeakage = true): number {
  return e.adcArray + e.dac + e.accumulation + e.interconnect + e.buffers + e.other + (withLeakage ? e.leakage : 0);
}

/** Columns one weight occupies. */
export function colsPerWeight(t: CrossbarTechnology): number {
  const perMagnitude = Math.ceil(t.weights.bits.value / t.array.cellBits.value);
  return t.weights.encoding === "differential" ? 2 * perMagnitude : perMagnitude;
}

/** Energy of one conversion at the file's ADC resolution. */
export function adcEnergyPerConversion(t: CrossbarTechnology, bits = t.adc.bits.value): number {
  const m = t.adc.energy;
  if (m.model === "levels") return m.fixed.value + m.perLevel.value * (2 ** bits - 1);
  const p = m.perBits[String(bits)];
  if (!p) {
    throw new RtapError(
      `adc.energy.perBits has no entry for ${bits} bits (entries: ${Object.keys(m.perBits).join(", ")})`,
      t.file,
    );
  }
  return p.value;
}

/** Width of a sub-array output: ADC code shifted by input and weight significance, plus sign. */
export function subarrayOutputBits(t: CrossbarTechnology, inputBits: number): number {
  return t.adc.bits.value + inputBits + t.array.cellBits.value * (colsPerWeight(t) - 1) + 1;
}

/** Whether a layer uses the per-kernel-position row split. */
function splitsKernel(t: CrossbarTechnology, l: MacLayer): boolean {
  if (t.weights.rowSplit !== "perKernelPosition") return false;
  if (l.KH * l.KW === 1) return false;
  const k = t.weights.kernelSplitSize?.value;
  if (k !== undefined && (l.KH !== k || l.KW !== k)) return false;
  return l.C * l.KH * l.KW >= t.array.rows.value;
}

/** Partial sums per output that cross a level whose sums are merged over blocks of `mergeRows` rows. */
function psumBlocks(l: MacLayer, split: boolean, mergeRows: number | undefined): number {
  if (mergeRows === undefined) return 1;
  return split ? l.KH * l.KW * Math.ceil(l.C / mergeRows) : Math.ceil((l.C * l.KH * l.KW) / mergeRows);
}

export function crossbarLayerCost(l: MacLayer, t: CrossbarTechnology): CrossbarLayerCost {
  const rows = t.array.rows.value;
  const cols = t.array.cols.value;
  const cpw = colsPerWeight(t);
  const R = l.C * l.KH * l.KW;
  const split = splitsKernel(t, l);
  const rowGroups = split ? l.KH * l.KW * Math.ceil(l.C / rows) : Math.ceil(R / rows);
  const usedCols = l.O * cpw;
  const colGroups = Math.ceil(usedCols / cols);
  const arrays = rowGroups * colGroups;
  const P = l.positions;
  const inputCycles = Math.ceil(l.inputBits / t.inputs.bitsPerCycle.value);
  // Rows driven together: a group holds at most `rows` rows; parallelRows < rows needs several passes.
  const passes = Math.ceil(Math.min(rows, R) / t.array.parallelRows.value);
  const density = l.inputBitDensity ?? t.inputs.bitDensity.value;

  const arrayReads = P * inputCycles * arrays * passes;
  const conversions = P * inputCycles * passes * rowGroups * usedCols;
  const adcOnly = conversions * adcEnergyPerConversion(t);
  // Array read energy is given for a full array; charge the fraction of rows that hold weights.
  const arrayRead = P * inputCycles * colGroups * (R / rows) * t.array.readEnergy.value;
  const adcPhases = t.inputs.redrivePerAdcPhase ? Math.min(t.adc.columnsPerAdc.value, cols) : 1;
  const rowDrives = P * inputCycles * R * colGroups * density * adcPhases;
  const dac = rowDrives * t.inputs.rowDriveEnergy.value;

  const base = subarrayOutputBits(t, l.inputBits);
  const treeBits = base + Math.ceil(Math.log2(Math.max(1, rowGroups)));
  const adderBits = conversions * base + P * l.O * (rowGroups - 1) * treeBits;
  const accumulation = adderBits * t.accumulation.adderPerBit.value;

  const eWire = t.interconnect.wire.energyPerBitPerMm.value; // J per bit per m
  let interconnect = 0;
  let buffers = 0;
  const levelInputBits: number[] = [];
  const levelOutputBits: number[] = [];
  for (const lv of t.levels) {
    const im2col = P * R * l.inputBits;
    const inBits =
      lv.inputs === "featureMap"
        ? l.inH * l.inW * l.C * l.inputBits
        : lv.inputs === "im2colPerKernelColumn" && split
          ? im2col / l.KW
          : im2col;
    const outBits =
      lv.outputs === "activations"
        ? P * l.O * l.outputBits * l.outputFraction
        : P * l.O * (base + lv.psumGrowthBits.value) * psumBlocks(l, split, lv.psumMergeRows?.value);
    levelInputBits.push(inBits);
    levelOutputBits.push(outBits);
    const contiguous = t.weights.rowSplit === "perKernelPosition" && !split;
    const inDist = (contiguous ? lv.contiguousInputDistance : undefined) ?? lv.inputDistance;
    const outDist = (contiguous ? lv.contiguousOutputDistance : undefined) ?? lv.outputDistance;
    interconnect +=
      inBits * t.toggle.input.value * inDist.value * eWire +
      outBits * t.toggle.output.value * outDist.value * eWire +
      (inBits + outBits) * lv.fixedEnergyPerBit.value;
    buffers += (inBits + outBits) * lv.bufferEnergyPerBit.value;
  }

  let tiles = Math.ceil(arrays / t.organisation.arraysPerTile.value);
  let duplication = 1;
  if (t.organisation.duplicateToFillTile) {
    duplication = Math.max(1, Math.min(P, Math.floor((tiles * t.organisation.arraysPerTile.value) / arrays)));
  }
  const arraysAllocated = t.organisation.duplicateToFillTile ? tiles * t.organisation.arraysPerTile.value : arrays;
  tiles = Math.max(tiles, 1);
  // One read: drive the rows, then each ADC converts its multiplexed columns one after another.
  const tRead = t.array.readLatency.value + Math.min(t.adc.columnsPerAdc.value, cols) * t.adc.latency.value;
  const latencyS = Math.ceil(P / duplication) * inputCycles * passes * tRead;

  const adcsPerArray = Math.ceil(cols / t.adc.columnsPerAdc.value);
  const areaM2 =
    arraysAllocated * (t.array.area.value + adcsPerArray * t.adc.area.value + t.area.peripheryPerArray.value) +
    (t.organisation.duplicateToFillTile ? tiles : arrays / t.organisation.arraysPerTile.value) * t.area.perTile.value;

  const energy: CrossbarEnergy = { adcArray: adcOnly + arrayRead, dac, accumulation, interconnect, buffers, other: 0, leakage: 0 };
  return {
    name: l.name,
    energy,
    adcOnly,
    arrayRead,
    dynamicJ: sumEnergy(energy, false),
    latencyS,
    arrays,
    duplication,
    arraysAllocated,
    tiles,
    areaM2,
    counts: { rowGroups, colGroups, arrayReads, conversions, rowDrives, adderBits, levelInputBits, levelOutputBits },
  };
}

/** Digital cost of a non-MAC op: one add/compare per operand bit; requant binary-searches its thresholds. */
function auxCost(op: AuxOp, t: CrossbarTechnology): { energy: number; bufferEnergy: number } {
  const perBit = t.accumulation.adderPerBit.value;
  const compares = op.kind === "requant" ? Math.ceil(Math.log2((op.thresholds ?? 1) + 1)) : op.operandsPerElement;
  const energy = op.elements * compares * op.inputBits * perBit;
  const bits = op.elements * (op.operandsPerElement * op.inputBits + op.outputBits);
  const bufferEnergy = bits * (t.levels[0]?.bufferEnergyPerBit.value ?? 0);
  return { energy, bufferEnergy };
}

/** Prices a workload on a crossbar technology. */
export function crossbarCost(w: Workload, t: CrossbarTechnology): CrossbarCost {
  if (w.layers.length === 0) throw new RtapError(`workload "${w.name}" has no conv or fully connected layers to map`);
  const perLayer = w.layers.map((l) => crossbarLayerCost(l, t));
  const latencyS = perLayer.reduce((s, c) => s + c.latencyS, 0);
  const periodS = t.organisation.pipeline ? Math.max(...perLayer.map((c) => c.latencyS)) : latencyS;
  // Leakage: in a pipeline every layer's arrays leak for one stage period per image; layer by layer,
  // all arrays leak for the whole image; with power gating an array leaks only while its layer runs.
  const window = t.organisation.pipeline ? periodS : latencyS;
  for (const c of perLayer) {
    const on = t.organisation.powerGating ? c.latencyS : window;
    c.energy.leakage = c.arraysAllocated * t.leakage.powerPerArray.value * on;
  }
  const aux = w.aux.map((op) => ({ name: op.name, kind: op.kind, ...auxCost(op, t) }));
  let components = perLayer.reduce((acc, c) => addEnergy(acc, c.energy), ZERO);
  for (const a of aux) components = addEnergy(components, { ...ZERO, other: a.energy, buffers: a.bufferEnergy });
  const arrays = perLayer.reduce((s, c) => s + c.arraysAllocated, 0);
  const tiles = perLayer.reduce((s, c) => s + c.tiles, 0);
  const areaM2 = perLayer.reduce((s, c) => s + c.areaM2, 0) + t.area.global.value;
  return {
    technology: describeTechnology(t),
    workload: w.name,
    perLayer,
    aux,
    total: {
      energyJ: sumEnergy(components),
      dynamicJ: sumEnergy(components, false),
      latencyS,
      periodS,
      areaMm2: areaM2 / 1e-6,
      arrays,
      tiles,
      components,
    },
  };
}

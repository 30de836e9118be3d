/**
 * The shape of rtap technology files (configs/tech/*.yaml). Three kinds:
 *  - `interconnect`: wire energy per bit per mm, buffer access energies, router hop energy;
 *  - `ap`: an associative processor built from RTM-CAM or SRAM-CAM arrays (search, write, shift,
 *    tag, controller, movement, leakage, array geometry and area);
 *  - `crossbar`: a compute-in-memory crossbar accelerator (array, weight mapping, bit-serial inputs,
 *    ADC with resolution scaling, accumulation, the interconnect/buffer hierarchy, area, leakage).
 * Every number is a `param(...)` (value + unit + source or assumption), see params.ts.
 */
import * as z from "zod";
import { param } from "./params.js";

const header = {
  version: z.number().int().positive(),
  name: z.string().min(1),
  /** Node (nm) every energy and area in the file is expressed at (after scaling). */
  node: z.number().int().positive(),
  description: z.string().min(1),
};

export const interconnectSection = z.strictObject({
  wire: z.strictObject({
    /** Energy to move one bit one mm with one full transition (0->1 or 1->0). */
    energyPerBitPerMm: param("energyPerBitLength"),
    /** Fraction of transmitted bits that toggle the wire (data activity). */
    toggleRate: param("ratio", { fraction: true }),
  }),
  buffer: z.strictObject({
    readEnergyPerBit: param("energy"),
    writeEnergyPerBit: param("energy"),
  }),
  router: z.strictObject({
    energyPerBit: param("energy"),
  }),
});

export const interconnectFile = z.strictObject({
  kind: z.literal("interconnect"),
  ...header,
  ...interconnectSection.shape,
});

/** An `interconnect:` field: the name of an interconnect file in configs/tech, or an inline section. */
const interconnectRef = z.union([z.string().min(1), interconnectSection]);

export const apFile = z.strictObject({
  kind: z.literal("ap"),
  ...header,
  technology: z.enum(["rtm", "sram"]),
  array: z.strictObject({
    rows: param("count", { positive: true, integer: true }),
    /** CAM columns per row (one track per column in RTM, one SRAM cell in SRAM). */
    tracksPerRow: param("count", { positive: true, integer: true }),
    /** Bits stored along each track (1 for SRAM). */
    domainsPerTrack: param("count", { positive: true, integer: true }),
    /** Access ports per track (bits that can take part in one search or write). */
    portsPerTrack: param("count", { positive: true, integer: true }),
    /** Area of one CAM cell under a port (compare logic + access devices). */
    cellArea: param("area"),
    /** Area of each further domain stored along a track (0 for SRAM). */
    domainArea: param("area"),
    /** Per-array periphery: key/mask registers, drivers, sense amplifiers, tag logic. */
    peripheryArea: param("area"),
  }),
  organisation: z.strictObject({
    arraysPerTile: param("count", { positive: true, integer: true }),
    tiles: param("count", { positive: true, integer: true }),
    /** Controller and tile-level area (instruction memory, sequencer, tile buffer). */
    tileOverheadArea: param("area"),
  }),
  search: z.strictObject({
    /** Per cell compared (row x key bit) per search. */
    energyPerBit: param("energy"),
    /** Per row searched: match-line precharge and sense, tag update. */
    energyPerRow: param("energy"),
    latency: param("time", { positive: true }),
  }),
  write: z.strictObject({
    /** Per cell written. */
    energyPerCell: param("energy"),
    /** Per write micro-op per array: drivers and column selection. */
    energyPerOp: param("energy"),
    latency: param("time", { positive: true }),
  }),
  shift: z.strictObject({
    /** Per track moved by one domain (0 for SRAM, which never shifts). */
    energyPerTrackDomain: param("energy"),
    latency: param("time"),
  }),
  read: z.strictObject({
    energyPerBit: param("energy"),
    latency: param("time", { positive: true }),
  }),
  flags: z.strictObject({
    /** Per static flag bit (carry, sign: CMOS latches beside the tag) compared, per row. */
    searchEnergyPerBit: param("energy"),
    /** Per flag cell written. */
    writeEnergyPerCell: param("energy"),
  }),
  tag: z.strictObject({
    /** Per row per tag-logic operation (set/clear/and/or/first). */
    energyPerRow: param("energy"),
    latency: param("time", { positive: true }),
  }),
  controller: z.strictObject({
    /** Per micro-op issued per array (decode, key/mask broadcast control). */
    energyPerOp: param("energy"),
    /** Controller clock: latency = the simulator's cycle count x this period. */
    clockPeriod: param("time", { positive: true }),
  }),
  movement: z.strictObject({
    /** Every transfer reads its bits at the source and writes them at the destination (read.energyPerBit +
     *  write.energyPerCell); transfers that leave an array also cross wires. */
    /** Wire distance between neighbouring arrays of a tile. */
    interArrayDistance: param("length"),
    /** Wire distance between tiles (average hop). */
    interTileDistance: param("length"),
    /** Router hops per inter-tile transfer. */
    interTileHops: param("count"),
  }),
  leakage: z.strictObject({
    powerPerArray: param("power"),
  }),
  interconnect: interconnectRef,
});

const trafficIn = z.enum(["im2col", "im2colPerKernelColumn", "featureMap"]);
const trafficOut = z.enum(["activations", "partialSums"]);

export const crossbarLevel = z.strictObject({
  name: z.string().min(1),
  /** Which input bits cross this level: every array row's bit (im2col), im2col / KW, or the map once. */
  inputs: trafficIn,
  inputDistance: param("length"),
  /** What leaves: quantized activations, or partial sums (wider) still to be accumulated above. */
  outputs: trafficOut,
  outputDistance: param("length"),
  /** Distances for layers packed contiguously when the file splits kernels (NeuroSim maps those
   *  onto smaller conventional tiles); default: the distances above. */
  contiguousInputDistance: param("length").optional(),
  contiguousOutputDistance: param("length").optional(),
  /** Energy per bit per crossing independent of distance (e.g. a router or a bus driver). */
  fixedEnergyPerBit: param("energy"),
  /** Buffer energy per bit passing through this level (written once and read once). */
  bufferEnergyPerBit: param("energy"),
  /** Bits a partial sum grows by on its way up to this level (adder-tree stages). */
  psumGrowthBits: param("count", { integer: true }),
  /** With outputs: partialSums, the partial sums crossing this level are already merged over blocks
   *  of this many weight rows (per kernel offset when kernels are split), e.g. the rows of one PE;
   *  absent: one fully merged sum per output crosses. */
  psumMergeRows: param("count", { positive: true, integer: true }).optional(),
});

const adcEnergy = z.discriminatedUnion("model", [
  z.strictObject({
    model: z.literal("table"),
    /** Energy per conversion by resolution (bits as keys). */
    perBits: z.record(z.string().regex(/^\d+$/, "keys are ADC resolutions in bits"), param("energy")),
  }),
  z.strictObject({
    model: z.literal("levels"),
    /** Resolution-independent part per conversion. */
    fixed: param("energy"),
    /** Per comparator level (2^bits - 1 levels), e.g. a multi-level sense amplifier. */
    perLevel: param("energy"),
  }),
]);

export const crossbarFile = z.strictObject({
  kind: z.literal("crossbar"),
  ...header,
  array: z.strictObject({
    rows: param("count", { positive: true, integer: true }),
    cols: param("count", { positive: true, integer: true }),
    cellBits: param("count", { positive: true, integer: true }),
    /** Rows driven at once (all rows for a fully parallel read). */
    parallelRows: param("count", { positive: true, integer: true }),
    /** Energy of one array read with every row driven (cells + bit lines), scaled by rows used. */
    readEnergy: param("energy"),
    readLatency: param("time"),
    /** Cell-array area of one array. */
    area: param("area"),
  }),
  weights: z.strictObject({
    /** differential: a +1/-1 weight is one ON cell in a positive or a negative column (ternary);
     *  offset: w -> unsigned (w + 2^(bits-1)) split over ceil(bits/cellBits) columns (NeuroSim). */
    encoding: z.enum(["differential", "offset"]),
    /** Stored weight precision: magnitude bits for differential, total bits for offset. */
    bits: param("count", { positive: true, integer: true }),
    /** contiguous: unrolled C*KH*KW rows packed into arrays; perKernelPosition: each kernel offset
     *  gets its own arrays (NeuroSim's "novel mapping"), for KxK layers with C*K*K >= rows. */
    rowSplit: z.enum(["contiguous", "perKernelPosition"]),
    /** With perKernelPosition: only KxK layers with this K are split (NeuroSim builds its novel-mapped
     *  tiles for the most common kernel, 3x3 in ResNet-18); other layers are packed contiguously. */
    kernelSplitSize: param("count", { positive: true, integer: true }).optional(),
  }),
  inputs: z.strictObject({
    /** Input bits applied per cycle (1 = bit-serial with 1-bit DACs). */
    bitsPerCycle: param("count", { positive: true, integer: true }),
    /** Per driven row per cycle (DAC / word-line driver). */
    rowDriveEnergy: param("energy"),
    /** Fraction of input bits that are 1 when the workload carries no measured density. */
    bitDensity: param("ratio", { fraction: true }),
    /** true: the rows are driven again for every ADC multiplexing phase (NeuroSim's switch matrix);
     *  false: driven once per input cycle and held by sample-and-hold (ISAAC). */
    redrivePerAdcPhase: z.boolean(),
  }),
  adc: z.strictObject({
    bits: param("count", { positive: true, integer: true }),
    columnsPerAdc: param("count", { positive: true, integer: true }),
    energy: adcEnergy,
    latency: param("time"),
    area: param("area"),
  }),
  accumulation: z.strictObject({
    /** Per bit of one addition: each conversion is shifted and added into its partial sum (one add
     *  as wide as the sub-array output), and partial sums of row groups are added in adder trees. */
    adderPerBit: param("energy"),
  }),
  toggle: z.strictObject({
    input: param("ratio", { fraction: true }),
    output: param("ratio", { fraction: true }),
  }),
  levels: z.array(crossbarLevel).min(1),
  organisation: z.strictObject({
    arraysPerTile: param("count", { positive: true, integer: true }),
    /** true: layers run as a pipeline (report the slowest stage as the period). */
    pipeline: z.boolean(),
    /** true: copy a layer's weights into the unused arrays of its tiles to split its positions. */
    duplicateToFillTile: z.boolean(),
    /** true: arrays leak only while their layer computes (idle arrays power-gated); false: every
     *  allocated array leaks for the whole evaluation window (pipeline period or image latency). */
    powerGating: z.boolean(),
  }),
  area: z.strictObject({
    /** Per array: drivers, muxes, S/H, shift-add, local buffers (besides cells and ADCs). */
    peripheryPerArray: param("area"),
    /** Per tile: tile buffers, H-tree, accumulation. */
    perTile: param("area"),
    /** Chip level: global buffer, global bus, activation/pooling units. */
    global: param("area"),
  }),
  leakage: z.strictObject({
    powerPerArray: param("power"),
  }),
  interconnect: interconnectRef,
});

export const technologyFile = z.discriminatedUnion("kind", [interconnectFile, apFile, crossbarFile]);

export type InterconnectSectionRaw = z.infer<typeof interconnectSection>;
export type InterconnectFileRaw = z.infer<typeof interconnectFile>;
export type ApFileRaw = z.infer<typeof apFile>;
export type CrossbarFileRaw = z.infer<typeof crossbarFile>;
export type CrossbarLevelRaw = z.infer<typeof crossbarLevel>;
export type TechnologyFileRaw = z.infer<typeof technologyFile>;

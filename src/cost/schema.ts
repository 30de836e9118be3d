/**
 * The shape of rtap technology files (configs/tech/*.yaml). Four kinds:
 *  - `interconnect`: wire energy per bit per mm, buffer access energies, router hop energy;
 *  - `ap`: an associative processor built from RTM-CAM or SRAM-CAM arrays: one device-level price
 *    per event kind, area per cell/domain/periphery, clock period, floorplan distances. No geometry:
 *    rows, tracks, domains, ports, tiles and arrays live only in the architecture file (configs/arch);
 *  - `crossbar`: a compute-in-memory crossbar accelerator (array, weight mapping, bit-serial inputs,
 *    ADC with resolution scaling, accumulation, the interconnect/buffer hierarchy, area, leakage);
 *  - `reference`: a published efficiency (GOPS/W) and its precision, for labelled reference rows.
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

/**
 * The device-level price of each AP event kind a technology file states (src/cost/ap.ts lists every
 * kind, its count and its component). One sourced number per kind:
 *  - energies per event (J..aJ), except
 *  - `shift_track_domains`: energy per domain-length of track (fJ/domain). A shift drives current
 *    through the whole track, so the price of one track moving one domain is this times the
 *    architecture's domains per track (rtm-energies.md §1.1);
 *  - `array_seconds`: leakage power per array (W = J per array-second).
 * The movement kinds (transfer_bits_*, transfer_bit_hops_tile, global_buffer_bits) are priced from
 * the interconnect file and the `movement` distances, not listed here.
 */
export const apPrices = z.strictObject({
  /** Per key bit per row searched: the port cell's compare (search line and cell). */
  search_row_bits: param("energy"),
  /** Per row per search: match-line precharge and sense, tag update. */
  search_rows: param("energy"),
  /** Per flag bit (CMOS latch beside the tag) in the key, per row. */
  flag_search_row_bits: param("energy"),
  /** Per track cell written (data-dependent: tagged rows x written columns). */
  write_cells: param("energy"),
  /** Per flag cell written. */
  flag_write_cells: param("energy"),
  /** Per domain-length of track; x domains per track (architecture) = per track moved one domain. */
  shift_track_domains: param("energyPerDomain"),
  /** Per micro-op (compare, write, shift, tag op) per array: decode, key/mask broadcast, sequencing. */
  micro_ops: param("energy"),
  /** Per row per tag-logic micro-op (set/clear/and/or/first). */
  tag_row_ops: param("energy"),
  /** Per bit read from a row into the array's buffer (through the port). */
  buffer_read_bits: param("energy"),
  /** Per bit written from the array's buffer into a row. */
  buffer_write_bits: param("energy"),
  /** Leakage power per array (the price of one array-second). */
  array_seconds: param("power"),
});

export const apFile = z.strictObject({
  kind: z.literal("ap"),
  ...header,
  technology: z.enum(["rtm", "sram"]),
  prices: apPrices,
  area: z.strictObject({
    /** One CAM cell under a port (compare logic and access devices); per port per track. */
    portCell: param("area"),
    /** Each further domain stored along a track (0 for SRAM). */
    domain: param("area"),
    /** Per array: key/mask registers, drivers, sense amplifiers, tag logic, row buffer. */
    peripheryPerArray: param("area"),
    /** Per tile: controller (sequencer, micro-op memory) and tile buffer. */
    perTile: param("area"),
    /** Each controller of a tile beyond its first (architecture tile.controllers): a sequencer and its micro-op memory. */
    perExtraController: param("area").optional(),
  }),
  /** Controller clock: latency = the simulator's cycle count x this period. */
  clockPeriod: param("time", { positive: true }),
  movement: z.strictObject({
    /** Wire distance between neighbouring arrays of a tile (transfer_bits_array). */
    interArrayDistance: param("length"),
    /** Wire distance between tiles, and from an array to the global buffer (transfer_bits_tile, transfer_bits_chip). */
    interTileDistance: param("length"),
  }),
  interconnect: interconnectRef,
});

/**
 * A published accelerator efficiency used as a labelled reference row (rtap compare): its energy per
 * inference is ops / efficiency with ops = 2 x the network's MACs. No model behind it: the number is
 * what papers compare against, at the paper's own precision and node.
 */
export const referenceFile = z.strictObject({
  kind: z.literal("reference"),
  version: header.version,
  name: header.name,
  /** Node of the published figure, when the source states it (the figure is never scaled). */
  node: header.node.optional(),
  description: header.description,
  /** Precision the figure holds for, as the source states it (e.g. "16-bit"), or why it is unknown. */
  precision: z.string().min(1),
  efficiency: param("efficiency", { positive: true }),
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

export const technologyFile = z.discriminatedUnion("kind", [interconnectFile, apFile, crossbarFile, referenceFile]);

export type InterconnectSectionRaw = z.infer<typeof interconnectSection>;
export type InterconnectFileRaw = z.infer<typeof interconnectFile>;
export type ApFileRaw = z.infer<typeof apFile>;
export type CrossbarFileRaw = z.infer<typeof crossbarFile>;
export type ReferenceFileRaw = z.infer<typeof referenceFile>;
export type ApPricesRaw = z.infer<typeof apPrices>;
export type CrossbarLevelRaw = z.infer<typeof crossbarLevel>;
export type TechnologyFileRaw = z.infer<typeof technologyFile>;

/**
 * Pricing an associative processor run, Accelergy energy-reference-table style: the AP simulator
 * counts events (src/ap/events.ts); this module turns them, with the architecture's geometry, into
 * counts per *priced event kind* and multiplies each count by the technology file's price for that
 * kind. Energy = sum over kinds of count x price: one function for every AP technology, so a new
 * technology is a YAML file. The components (search, write, shift, periphery, movement, buffers,
 * leakage) are a fixed grouping of kinds. Formulas and sources: docs/cost-model.md ("AP model").
 *
 * Geometry (rows, tracks, domains, ports, tiles, arrays) comes only from the architecture
 * (configs/arch, src/ap/config.ts); the technology file holds prices, areas, the clock and the
 * floorplan distances.
 */
import type { ApArch } from "../ap/config.js";
import type { ApEvents } from "../ap/events.js";
import { RtapError } from "../errors.js";
import type { ApTechnology } from "./technology.js";
import { describeTechnology } from "./technology.js";

/** The AP event counters (src/ap/events.ts, one definition for the simulator and the cost model). */
export type ApEventCounts = Omit<ApEvents, "shiftSteps"> & Partial<Pick<ApEvents, "shiftSteps">>;

/** The machine geometry pricing needs (from an architecture file: `apShapeOfArch`). */
export interface ApShape {
  tiles: number;
  arraysPerTile: number;
  rows: number;
  tracksPerRow: number;
  domainsPerTrack: number;
  portsPerTrack: number;
  /** Independent micro-op streams per tile (architecture tile.controllers; default 1). */
  controllersPerTile?: number;
}

export function apShapeOfArch(a: ApArch): ApShape {
  return {
    tiles: a.tiles,
    arraysPerTile: a.arraysPerTile,
    rows: a.array.rows,
    tracksPerRow: a.array.tracks,
    domainsPerTrack: a.array.domains,
    portsPerTrack: a.array.ports,
    ...(a.controllersPerTile && a.controllersPerTile > 1 ? { controllersPerTile: a.controllersPerTile } : {}),
  };
}

function shapeOf(m: ApShape | ApArch): ApShape {
  return "array" in m ? apShapeOfArch(m) : m;
}

/** Energy per component (J). */
export interface ApEnergy {
  /** Track-cell compares and match lines, flag compares. */
  search: number;
  /** Track-cell and flag writes. */
  write: number;
  /** Domain-wall shifts. */
  shift: number;
  /** Controller per micro-op and tag logic. */
  periphery: number;
  /** Row reads/writes to the array buffer and wires between arrays and tiles (activation movement). */
  movement: number;
  /** Global buffer accesses. */
  buffers: number;
  leakage: number;
}

/**
 * The priced event kinds, in report order. Each has one count (derived from the simulator's
 * counters and the architecture, `apKindCounts`) and one price (`apPrices`). Counters not priced:
 * `shiftSteps` and `cycles` are latency (cycles x clock period); `cycles` enters energy only
 * through leakage (array_seconds). `searches`, `writes`, `shifts`, `tagOps` are priced through
 * search_rows, micro_ops and tag_row_ops.
 */
export const AP_PRICED_KINDS = [
  "search_row_bits",
  "search_rows",
  "flag_search_row_bits",
  "write_cells",
  "flag_write_cells",
  "shift_track_domains",
  "micro_ops",
  "tag_row_ops",
  "buffer_read_bits",
  "buffer_write_bits",
  "transfer_bits_array",
  "transfer_bits_tile",
  "transfer_bit_hops_tile",
  "transfer_bits_chip",
  "global_buffer_bits",
  "array_seconds",
] as const;
export type ApPricedKind = (typeof AP_PRICED_KINDS)[number];

/** Which component each kind's energy counts towards (the documented grouping). */
export const AP_KIND_COMPONENT: Readonly<Record<ApPricedKind, keyof ApEnergy>> = {
  search_row_bits: "search",
  search_rows: "search",
  flag_search_row_bits: "search",
  write_cells: "write",
  flag_write_cells: "write",
  shift_track_domains: "shift",
  micro_ops: "periphery",
  tag_row_ops: "periphery",
  buffer_read_bits: "movement",
  buffer_write_bits: "movement",
  transfer_bits_array: "movement",
  transfer_bits_tile: "movement",
  transfer_bit_hops_tile: "movement",
  transfer_bits_chip: "movement",
  global_buffer_bits: "buffers",
  array_seconds: "leakage",
};

export type ApKindCounts = Record<ApPricedKind, number>;

/**
 * Counts per priced kind of one run (events summed over arrays): R = rows per array, A = arrays of
 * the chip, latency = cycles x the technology's clock period.
 */
export function apKindCounts(e: Readonly<ApEventCounts>, machine: ApShape | ApArch, latencyS: number): ApKindCounts {
  const s = shapeOf(machine);
  const R = s.rows;
  return {
    search_row_bits: e.searchRowBits,
    search_rows: e.searches * R,
    flag_search_row_bits: e.flagSearchRowBits,
    write_cells: e.writeCells,
    flag_write_cells: e.flagWriteCells,
    shift_track_domains: e.shiftTrackDomains,
    micro_ops: e.searches + e.writes + e.shifts + e.tagOps,
    tag_row_ops: e.tagOps * R,
    buffer_read_bits: e.bufferReadBits,
    buffer_write_bits: e.bufferWriteBits,
    transfer_bits_array: e.transferBitsArray,
    transfer_bits_tile: e.transferBitsTile,
    transfer_bit_hops_tile: e.transferBitHopsTile,
    transfer_bits_chip: e.transferBitsChip,
    global_buffer_bits: e.transferBitsChip,
    array_seconds: s.tiles * s.arraysPerTile * latencyS,
  };
}

/** Price of one event of a kind (J; J per array-second for array_seconds) and where it comes from. */
export interface ApPrice {
  joules: number;
  /** The technology parameter(s) it is made of, e.g. "prices.shift_track_domains x 64 domains per track". */
  from: string;
}

export type ApPriceTable = Record<ApPricedKind, ApPrice>;

/**
 * The price table of a technology on a machine: the file's device-level prices, with
 * shift_track_domains = price per domain-length x the architecture's domains per track, and the
 * movement kinds from the interconnect file (wire energy x toggle rate x distance, router energy
 * per bit-hop, global-buffer read + write per bit / 2).
 */
export function apPrices(t: ApTechnology, machine: ApShape | ApArch): ApPriceTable {
  const s = shapeOf(machine);
  const p = t.prices;
  const file = (k: keyof typeof p): ApPrice => ({ joules: p[k].value, from: `prices.${k}` });
  const wire = t.interconnect.wire.energyPerBitPerMm.value * t.interconnect.wire.toggleRate.value; // J per bit per m
  const wireFrom = "interconnect.wire.energyPerBitPerMm x interconnect.wire.toggleRate";
  const buf = t.interconnect.buffer;
  return {
    search_row_bits: file("search_row_bits"),
    search_rows: file("search_rows"),
    flag_search_row_bits: file("flag_search_row_bits"),
    write_cells: file("write_cells"),
    flag_write_cells: file("flag_write_cells"),
    shift_track_domains: {
      joules: p.shift_track_domains.value * s.domainsPerTrack,
      from: `prices.shift_track_domains (per domain-length) x ${s.domainsPerTrack} domains per track`,
    },
    micro_ops: file("micro_ops"),
    tag_row_ops: file("tag_row_ops"),
    buffer_read_bits: file("buffer_read_bits"),
    buffer_write_bits: file("buffer_write_bits"),
    transfer_bits_array: { joules: wire * t.movement.interArrayDistance.value, from: `${wireFrom} x movement.interArrayDistance` },
    transfer_bits_tile: { joules: wire * t.movement.interTileDistance.value, from: `${wireFrom} x movement.interTileDistance` },
    transfer_bit_hops_tile: { joules: t.interconnect.router.energyPerBit.value, from: "interconnect.router.energyPerBit" },
    transfer_bits_chip: { joules: wire * t.movement.interTileDistance.value, from: `${wireFrom} x movement.interTileDistance` },
    global_buffer_bits: {
      joules: (buf.readEnergyPerBit.value + buf.writeEnergyPerBit.value) / 2,
      from: "(interconnect.buffer.readEnergyPerBit + interconnect.buffer.writeEnergyPerBit) / 2 (each bit crosses the global buffer once, written or read)",
    },
    array_seconds: file("array_seconds"),
  };
}

export interface ApCost {
  technology: string;
  energy: ApEnergy;
  energyJ: number;
  latencyS: number;
  areaMm2: number;
  arrays: number;
  shape: ApShape;
  /** Count per priced kind. */
  counts: ApKindCounts;
  /** Energy per priced kind (J): counts[k] x price[k]. */
  kindEnergy: Record<ApPricedKind, number>;
}

export function sumApEnergy(e: ApEnergy, withLeakage = true): number {
  return e.search + e.write + e.shift + e.periphery + e.movement + e.buffers + (withLeakage ? e.leakage : 0);
}

function zeroEnergy(): ApEnergy {
  return { search: 0, write: 0, shift: 0, periphery: 0, movement: 0, buffers: 0, leakage: 0 };
}

function zeroKinds(): Record<ApPricedKind, number> {
  return Object.fromEntries(AP_PRICED_KINDS.map((k) => [k, 0])) as Record<ApPricedKind, number>;
}

/**
 * Area of the machine (m^2): per track, one port cell per port plus the further domains; per array,
 * rows x tracks of those plus the array periphery; per tile, its arrays plus the tile overhead.
 */
export function apAreaM2(t: ApTechnology, machine: ApShape | ApArch): number {
  const s = shapeOf(machine);
  const extraDomains = Math.max(0, s.domainsPerTrack - s.portsPerTrack);
  const perTrack = s.portsPerTrack * t.area.portCell.value + extraDomains * t.area.domain.value;
  const perArray = s.rows * s.tracksPerRow * perTrack + t.area.peripheryPerArray.value;
  const extraControllers = Math.max(0, (s.controllersPerTile ?? 1) - 1) * (t.area.perExtraController?.value ?? 0);
  return s.tiles * (s.arraysPerTile * perArray + t.area.perTile.value + extraControllers);
}

/** The generic sum: energy per kind = count x price, grouped into components. */
export function priceKinds(counts: Readonly<ApKindCounts>, prices: Readonly<ApPriceTable>): { kindEnergy: Record<ApPricedKind, number>; energy: ApEnergy } {
  const kindEnergy = zeroKinds();
  const energy = zeroEnergy();
  for (const k of AP_PRICED_KINDS) {
    const j = counts[k] * prices[k].joules;
    kindEnergy[k] = j;
    energy[AP_KIND_COMPONENT[k]] += j;
  }
  return { kindEnergy, energy };
}

/**
 * Energy, latency and area of one AP run (one layer or a whole network) from its event counts on
 * `machine` (the architecture the program was compiled for, or its shape).
 */
export function apCost(events: Readonly<ApEventCounts>, t: ApTechnology, machine: ApShape | ApArch): ApCost {
  for (const [k, v] of Object.entries(events)) {
    if (typeof v === "number" && (!Number.isFinite(v) || v < 0)) {
      throw new RtapError(`AP event count "${k}" must be a finite number >= 0, got ${v}`);
    }
  }
  const shape = shapeOf(machine);
  const latencyS = events.cycles * t.clockPeriod.value;
  const counts = apKindCounts(events, shape, latencyS);
  const { kindEnergy, energy } = priceKinds(counts, apPrices(t, shape));
  return {
    technology: describeTechnology(t),
    energy,
    energyJ: sumApEnergy(energy),
    latencyS,
    areaMm2: apAreaM2(t, shape) / 1e-6,
    arrays: shape.tiles * shape.arraysPerTile,
    shape,
    counts,
    kindEnergy,
  };
}

/** Per-layer pricing: each layer's events priced alone (leakage over that layer's cycles), then summed. */
export function apCostPerLayer(
  layers: ReadonlyArray<{ name: string; events: Readonly<ApEventCounts> }>,
  t: ApTechnology,
  machine: ApShape | ApArch,
): { perLayer: Array<ApCost & { name: string }>; total: ApCost } {
  const shape = shapeOf(machine);
  const perLayer = layers.map((l) => ({ name: l.name, ...apCost(l.events, t, shape) }));
  const energy = zeroEnergy();
  const counts = zeroKinds();
  const kindEnergy = zeroKinds();
  let latencyS = 0;
  for (const c of perLayer) {
    for (const k of Object.keys(energy) as Array<keyof ApEnergy>) energy[k] += c.energy[k];
    for (const k of AP_PRICED_KINDS) {
      counts[k] += c.counts[k];
      kindEnergy[k] += c.kindEnergy[k];
    }
    latencyS += c.latencyS;
  }
  return {
    perLayer,
    total: {
      technology: describeTechnology(t),
      energy,
      energyJ: sumApEnergy(energy),
      latencyS,
      areaMm2: apAreaM2(t, shape) / 1e-6,
      arrays: shape.tiles * shape.arraysPerTile,
      shape,
      counts,
      kindEnergy,
    },
  };
}

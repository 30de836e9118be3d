/**
 * Pricing an associative processor run: the AP simulator counts events (compares, writes, shifts,
 * tag ops, row buffer accesses, transfers, cycles); this module multiplies them by a technology
 * file's per-event energies and adds leakage, latency and area. Formulas: docs/cost-model.md ("AP
 * model").
 *
 * `ApEventCounts` is src/ap/events.ts's `ApEvents` (type only: the cost model does not load the
 * simulator).
 */
import type { ApEvents } from "../ap/events.js";
import { RtapError } from "../errors.js";
import type { ApTechnology } from "./technology.js";
import { describeTechnology } from "./technology.js";

/**
 * The AP event counters (src/ap/events.ts, one definition for the simulator and the cost model);
 * `shiftSteps` is not priced (shift energy scales with track-domain moves, latency is in cycles).
 */
export type ApEventCounts = Omit<ApEvents, "shiftSteps"> & Partial<Pick<ApEvents, "shiftSteps">>;

/** How big the machine is; defaults to the technology file's default geometry. */
export interface ApShape {
  tiles: number;
  arraysPerTile: number;
  rows: number;
  tracksPerRow: number;
  domainsPerTrack: number;
  portsPerTrack: number;
}

/** Energy per component (J). */
export interface ApEnergy {
  /** Track-cell compares and match lines, flag compares. */
  search: number;
  /** Track-cell and flag writes, write drivers. */
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

export interface ApCost {
  technology: string;
  energy: ApEnergy;
  energyJ: number;
  latencyS: number;
  areaMm2: number;
  arrays: number;
  shape: ApShape;
}

export function apShapeOf(t: ApTechnology): ApShape {
  return {
    tiles: t.organisation.tiles.value,
    arraysPerTile: t.organisation.arraysPerTile.value,
    rows: t.array.rows.value,
    tracksPerRow: t.array.tracksPerRow.value,
    domainsPerTrack: t.array.domainsPerTrack.value,
    portsPerTrack: t.array.portsPerTrack.value,
  };
}

export function sumApEnergy(e: ApEnergy, withLeakage = true): number {
  return e.search + e.write + e.shift + e.periphery + e.movement + e.buffers + (withLeakage ? e.leakage : 0);
}

/** Area of the machine (m^2): arrays of port cells plus extra domains plus periphery, plus tiles. */
export function apAreaM2(t: ApTechnology, s: ApShape): number {
  const extraDomains = Math.max(0, s.domainsPerTrack - s.portsPerTrack);
  const perTrack = s.portsPerTrack * t.array.cellArea.value + extraDomains * t.array.domainArea.value;
  const perArray = s.rows * s.tracksPerRow * perTrack + t.array.peripheryArea.value;
  return s.tiles * (s.arraysPerTile * perArray + t.organisation.tileOverheadArea.value);
}

/**
 * Energy, latency and area of one AP run (one layer or a whole network) from its event counts.
 * `shape` is the machine the program ran on (default: the technology file's default geometry).
 */
export function apCost(events: Readonly<ApEventCounts>, t: ApTechnology, shape: ApShape = apShapeOf(t)): ApCost {
  for (const [k, v] of Object.entries(events)) {
    if (typeof v === "number" && (!Number.isFinite(v) || v < 0)) {
      throw new RtapError(`AP event count "${k}" must be a finite number >= 0, got ${v}`);
    }
  }
  const rows = shape.rows;
  const search =
    events.searchRowBits * t.search.energyPerBit.value +
    events.searches * rows * t.search.energyPerRow.value +
    events.flagSearchRowBits * t.flags.searchEnergyPerBit.value;
  const write =
    events.writeCells * t.write.energyPerCell.value +
    events.writes * t.write.energyPerOp.value +
    events.flagWriteCells * t.flags.writeEnergyPerCell.value;
  const shift = events.shiftTrackDomains * t.shift.energyPerTrackDomain.value;
  const ops = events.searches + events.writes + events.shifts + events.tagOps;
  const periphery = ops * t.controller.energyPerOp.value + events.tagOps * rows * t.tag.energyPerRow.value;
  const wire = t.interconnect.wire.energyPerBitPerMm.value * t.interconnect.wire.toggleRate.value; // J per bit per m
  const movement =
    events.bufferReadBits * t.read.energyPerBit.value +
    events.bufferWriteBits * t.write.energyPerCell.value +
    events.transferBitsArray * t.movement.interArrayDistance.value * wire +
    events.transferBitsTile * t.movement.interTileDistance.value * wire +
    events.transferBitHopsTile * t.interconnect.router.energyPerBit.value +
    events.transferBitsChip * t.movement.interTileDistance.value * wire;
  const buffers =
    (events.transferBitsChip * (t.interconnect.buffer.readEnergyPerBit.value + t.interconnect.buffer.writeEnergyPerBit.value)) / 2;
  const latencyS = events.cycles * t.controller.clockPeriod.value;
  const arrays = shape.tiles * shape.arraysPerTile;
  const leakage = arrays * t.leakage.powerPerArray.value * latencyS;
  const energy: ApEnergy = { search, write, shift, periphery, movement, buffers, leakage };
  return {
    technology: describeTechnology(t),
    energy,
    energyJ: sumApEnergy(energy),
    latencyS,
    areaMm2: apAreaM2(t, shape) / 1e-6,
    arrays,
    shape,
  };
}

/** Per-layer pricing: each layer's events priced alone, leakage over that layer's cycles. */
export function apCostPerLayer(
  layers: ReadonlyArray<{ name: string; events: Readonly<ApEventCounts> }>,
  t: ApTechnology,
  shape: ApShape = apShapeOf(t),
): { perLayer: Array<ApCost & { name: string }>; total: ApCost } {
  const perLayer = layers.map((l) => ({ name: l.name, ...apCost(l.events, t, shape) }));
  const energy: ApEnergy = { search: 0, write: 0, shift: 0, periphery: 0, movement: 0, buffers: 0, leakage: 0 };
  let latencyS = 0;
  for (const c of perLayer) {
    for (const k of Object.keys(energy) as Array<keyof ApEnergy>) energy[k] += c.energy[k];
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
    },
  };
}

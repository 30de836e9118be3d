/**
 * Row layout: where values live inside an AP row, and the allocator that hands out cells.
 *
 * RTM rows (tracks of D domains, P ports per track, tracks shifting in groups). A bit-serial
 * macro-op advances its operands one domain per bit step, so operands in the same shift group must
 * sit at the same distance δ from their port ("lockstep"); operands in different groups shift
 * independently. The layout therefore splits the groups in two regions:
 *  - IN (the first half of the groups): the receptive-field codes a unit loads, packed along the
 *    tracks: level λ holds one code per (track, port) at δ = λ·w. Codes that a CSE column group
 *    combines are consecutive, so they share a level (lockstep) or sit in different groups.
 *  - TMP (the other groups): one value per (track, port) slot at δ = 0, up to D/P bits, so any two
 *    TMP values are in lockstep and a sweep of m bits costs exactly the aligned formulas.
 *  - Scratch: one-bit cells at δ = 0 of the first IN level, reserved for the per-threshold flags of
 *    the requantization op (they stay under a port while TMP groups sweep).
 * That is the SERIAL layout (configs/arch/rtm-ap-serial.yaml). The default RTM layout is
 * INTERLEAVED (a value across tracks at one domain, a page: src/compiler/pagelayout.ts).
 * SRAM rows (every bit visible, no shifting): IN and TMP are column ranges, values contiguous.
 */
import { RtapError } from "../errors.js";
import type { ApGeometry } from "../ap/geometry.js";
import { inCapacityOf, PageGeometry, pageScratchCells } from "./pagelayout.js";

export interface InSlot {
  /** IN group index (RTM) or 0 (SRAM). */
  group: number;
  /** Packing level: values on the same level of the same group are in lockstep. */
  level: number;
  /** First cell (the value's bits are contiguous from here). */
  cell0: number;
  /** Position in the IN packing order (a register index for the word-level simulator). */
  index: number;
}

export interface TmpSlot {
  slot: number;
  cell0: number;
}

export interface RowLayout {
  geom: ApGeometry;
  rtm: boolean;
  /** serial (RTM, bits along a track), interleaved (RTM pages), sram. */
  kind: "serial" | "interleaved" | "sram";
  /** Cells between consecutive bits of a value (the track length for interleaved rows, else 1). */
  cellStride: number;
  /** Interleaved rows: banks, pages, lanes. */
  pages?: PageGeometry;
  /** Width of a TMP slot (largest value). */
  slotBits: number;
  /** TMP slots (serial, SRAM); interleaved: an upper bound of live TMP values (IN registers start there). */
  tmpSlots: number;
  /** Codes of `width` bits the IN region holds. */
  inCapacity(width: number): number;
  scratchCells: number[];
  describe(): string;
}

export function rowLayout(geom: ApGeometry, scratchCount = 16): RowLayout {
  if (geom.canShift && (geom.spec.layout ?? "interleaved") === "interleaved") {
    const pg = new PageGeometry(geom);
    const scratchCells = pageScratchCells(pg, scratchCount);
    const hotBits = pg.hotBanks.length * pg.lanesPerPage * pg.laneTracks[0]! - scratchCells.length;
    return {
      geom,
      rtm: true,
      kind: "interleaved",
      cellStride: geom.domains,
      pages: pg,
      slotBits: pg.laneBits,
      tmpSlots: pg.laneCount * 32,
      inCapacity: (w) => inCapacityOf(pg, w),
      scratchCells,
      describe: () =>
        `RTM row, interleaved: ${geom.tracks} tracks x ${geom.domains} domains, ${geom.ports} ports, ${pg.banks} shift groups (banks) of ${geom.tracksPerGroup} tracks, ` +
        `${pg.pages} pages of ${pg.lanesPerPage * geom.tracksPerGroup / pg.laneTracks.length} columns per bank; ` +
        `IN = bank 0 (codes in load order, pages from home), HOT = bank${pg.hotBanks.length > 1 ? "s" : ""} ${pg.hotBanks.join(", ")} at home (${hotBits} columns), ` +
        `SPILL = bank ${pg.spillBank} (accumulators and overflow on any page), ${scratchCells.length} scratch cells`,
    };
  }
  if (geom.canShift) {
    if (geom.groups < 2) throw new RtapError(`the RTM row has ${geom.groups} shift group; the compiler needs at least 2 (inputs and temporaries shift independently)`, "architecture");
    const spacing = portSpacing(geom);
    const inGroups = Math.floor(geom.groups / 2);
    const tracksPerGroup = geom.tracksPerGroup;
    const perLevel = tracksPerGroup * geom.ports;
    const tmpSlots = (geom.groups - inGroups) * tracksPerGroup * geom.ports;
    const reserved = Math.min(scratchCount, perLevel);
    const scratchCells: number[] = [];
    for (let i = 0; i < reserved; i++) {
      const track = Math.floor(i / geom.ports), port = i % geom.ports;
      scratchCells.push(geom.cellOf(track, geom.portPositions[port]!));
    }
    return {
      geom,
      rtm: true,
      kind: "serial",
      cellStride: 1,
      slotBits: Math.min(spacing, 31),
      tmpSlots,
      inCapacity: (w) => Math.max(0, inGroups * perLevel * Math.floor(spacing / w) - (w <= spacing ? reserved : 0)),
      scratchCells,
      describe: () =>
        `RTM row, serial: ${geom.tracks} tracks x ${geom.domains} domains, ${geom.ports} ports, ${geom.groups} shift groups; ` +
        `IN = groups 0..${inGroups - 1} (packed codes), TMP = groups ${inGroups}..${geom.groups - 1} (${tmpSlots} slots of ${Math.min(spacing, 31)} bits), ${reserved} scratch cells`,
    };
  }
  const cols = geom.tracks;
  const inCols = Math.floor(cols / 2);
  const tmpCols = cols - inCols - scratchCount;
  const slotBits = 31;
  const scratchCells: number[] = [];
  for (let i = 0; i < scratchCount; i++) scratchCells.push(geom.cellOf(inCols + i, 0));
  return {
    geom,
    rtm: false,
    kind: "sram",
    cellStride: 1,
    slotBits,
    // capped at the RTM-AP's 128 slots so both APs compile to the same CSE plans (a fair comparison)
    tmpSlots: Math.min(128, Math.floor(tmpCols / slotBits)),
    inCapacity: (w) => Math.floor(inCols / w),
    scratchCells,
    describe: () => `SRAM row: ${cols} columns; IN = columns 0..${inCols - 1}, ${scratchCount} scratch columns, TMP = ${Math.min(128, Math.floor(tmpCols / slotBits))} slots of ${slotBits} columns`,
  };
}

function portSpacing(geom: ApGeometry): number {
  const p = [...geom.portPositions].sort((a, b) => a - b);
  if (p.length === 1) return geom.domains - p[0]!;
  let s = Infinity;
  for (let i = 1; i < p.length; i++) s = Math.min(s, p[i]! - p[i - 1]!);
  return Math.min(s, geom.domains - p[p.length - 1]!);
}

/**
 * Hands out cells. IN codes are allocated in order (a unit frees a whole slice at once); a TMP value
 * takes a free slot in the group with the most free slots (see allocTmp).
 */
export class RowAllocator {
  private readonly spacing: number;
  private readonly inGroups: number;
  private inNext = 0;
  private inWidth = 0;
  private readonly tmpFree: Uint8Array;
  private readonly perGroup: number;
  private readonly tmpGroups: number;
  /** Free slots per TMP group. */
  private readonly groupFree: Int32Array;
  private readonly sramTmpBase: number;
  private tmpSlotsUsed = 0;
  /** Bits of TMP in use now and at peak. */
  tmpBits = 0;
  peakTmpBits = 0;
  peakTmpSlots = 0;
  inBits = 0;
  peakInBits = 0;

  constructor(readonly layout: RowLayout) {
    const g = layout.geom;
    this.spacing = g.canShift ? portSpacing(g) : 1;
    this.inGroups = g.canShift ? Math.floor(g.groups / 2) : 1;
    this.tmpFree = new Uint8Array(layout.tmpSlots).fill(1);
    this.perGroup = g.canShift ? g.tracksPerGroup * g.ports : layout.tmpSlots;
    this.tmpGroups = g.canShift ? g.groups - this.inGroups : 1;
    this.groupFree = new Int32Array(this.tmpGroups).fill(this.perGroup);
    this.sramTmpBase = Math.floor(g.tracks / 2) + layout.scratchCells.length;
  }

  get tmpSlotsInUse(): number {
    return this.tmpSlotsUsed;
  }

  /** Starts a new IN packing of codes of `width` bits (after the previous codes were freed). */
  resetIn(width: number): void {
    this.inNext = 0;
    this.inWidth = width;
    this.inBits = 0;
  }

  /** Next IN slot for a code of the current width. */
  allocIn(): InSlot {
    const g = this.layout.geom;
    const w = this.inWidth;
    if (w < 1) throw new Error("resetIn not called");
    const cap = this.layout.inCapacity(w);
    if (this.inNext >= cap) throw new RtapError(`the receptive field needs more than the ${cap} ${w}-bit codes a row's input region holds`, "row allocation");
    this.inBits += w;
    this.peakInBits = Math.max(this.peakInBits, this.inBits);
    const index = this.inNext++;
    if (!g.canShift) return { group: 0, level: 0, cell0: g.cellOf(index * w, 0), index };
    // Skip the reserved scratch positions (the first (track, port) pairs of level 0, group 0).
    const perLevel = g.tracksPerGroup * g.ports;
    const idx = index + Math.min(this.layout.scratchCells.length, perLevel);
    const levels = Math.floor(this.spacing / w);
    const group = Math.floor(idx / (perLevel * levels));
    const inGroup = idx % (perLevel * levels);
    const level = Math.floor(inGroup / perLevel);
    const k = inGroup % perLevel;
    const track = group * g.tracksPerGroup + Math.floor(k / g.ports);
    const port = k % g.ports;
    return { group, level, cell0: g.cellOf(track, g.portPositions[port]! + level * w), index };
  }

  /** Shift group of a cell (-1 when the row cannot shift). */
  groupOf(cell: number): number {
    return this.layout.geom.canShift ? this.layout.geom.groupOfCell(cell) : -1;
  }

  /**
   * A TMP slot for a value of `width` bits: in the TMP group with the most free slots, outside
   * `avoidGroup` when possible, so every group keeps room for values that must sit apart from their
   * operands (shifted reads).
   */
  allocTmp(width: number, what: string, avoidGroup = -1): TmpSlot {
    const g = this.layout.geom;
    if (width > this.layout.slotBits) throw new RtapError(`${what} needs ${width} bits; a row slot holds ${this.layout.slotBits}`, "row allocation");
    let best = -1, bestFree = 0;
    for (let pass = 0; pass < 2 && best < 0; pass++) {
      for (let gi = 0; gi < this.tmpGroups; gi++) {
        if (pass === 0 && this.inGroups + gi === avoidGroup) continue;
        const free = this.groupFree[gi]!;
        if (free > bestFree) {
          bestFree = free;
          best = gi;
        }
      }
    }
    const slot = best < 0 ? -1 : this.tmpFree.indexOf(1, best * this.perGroup);
    if (slot >= 0) this.groupFree[best]!--;
    if (slot < 0) throw new RtapError(`out of row storage: all ${this.tmpFree.length} temporary slots are live (${what})`, "row allocation");
    this.tmpFree[slot] = 0;
    this.tmpSlotsUsed++;
    this.peakTmpSlots = Math.max(this.peakTmpSlots, this.tmpSlotsUsed);
    this.tmpBits += width;
    this.peakTmpBits = Math.max(this.peakTmpBits, this.tmpBits);
    if (!g.canShift) return { slot, cell0: g.cellOf(this.sramTmpBase + slot * this.layout.slotBits, 0) };
    const group = this.inGroups + Math.floor(slot / this.perGroup);
    const k = slot % this.perGroup;
    const track = group * g.tracksPerGroup + Math.floor(k / g.ports);
    return { slot, cell0: g.cellOf(track, g.portPositions[k % g.ports]!) };
  }

  freeTmp(slot: number, width: number): void {
    this.tmpFree[slot] = 1;
    this.groupFree[Math.floor(slot / this.perGroup)]!++;
    this.tmpSlotsUsed--;
    this.tmpBits -= width;
  }

  freeIn(width: number): void {
    this.inBits -= width;
  }

  /** True when two IN slots can be read in the same bit step (different groups, or same level). */
  static lockstep(a: InSlot, b: InSlot): boolean {
    return a.group !== b.group || a.level === b.level;
  }
}

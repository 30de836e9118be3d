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
 * SRAM rows (every bit visible, no shifting): IN and TMP are column ranges, values contiguous.
 */
import { RtapError } from "../errors.js";
import type { ApGeometry } from "../ap/geometry.js";

export interface InSlot {
  /** IN group index (RTM) or 0 (SRAM). */
  group: number;
  /** Packing level: values on the same level of the same group are in lockstep. */
  level: number;
  cells: number[];
}

export interface RowLayout {
  geom: ApGeometry;
  rtm: boolean;
  /** Width of a TMP slot (largest value). */
  slotBits: number;
  tmpSlots: number;
  /** Codes of `width` bits the IN region holds. */
  inCapacity(width: number): number;
  scratchCells: number[];
  describe(): string;
}

export function rowLayout(geom: ApGeometry, scratchCount = 16): RowLayout {
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
      slotBits: Math.min(spacing, 31),
      tmpSlots,
      inCapacity: (w) => Math.max(0, inGroups * perLevel * Math.floor(spacing / w) - (w <= spacing ? reserved : 0)),
      scratchCells,
      describe: () =>
        `RTM row: ${geom.tracks} tracks x ${geom.domains} domains, ${geom.ports} ports, ${geom.groups} shift groups; ` +
        `IN = groups 0..${inGroups - 1} (packed codes), TMP = groups ${inGroups}..${geom.groups - 1} (${tmpSlots} slots of ${Math.min(spacing, 31)} bits), ${reserved} scratch cells`,
    };
  }
  const cols = geom.tracks;
  const inCols = Math.floor(cols / 2);
  const tmpCols = cols - inCols - scratchCount;
  const scratchCells: number[] = [];
  for (let i = 0; i < scratchCount; i++) scratchCells.push(geom.cellOf(inCols + i, 0));
  return {
    geom,
    rtm: false,
    slotBits: 31,
    tmpSlots: tmpCols, // bits, for SRAM the allocator is bit-granular
    inCapacity: (w) => Math.floor(inCols / w),
    scratchCells,
    describe: () => `SRAM row: ${cols} columns; IN = columns 0..${inCols - 1}, scratch ${scratchCount}, TMP = ${tmpCols} columns`,
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
 * Hands out cells. IN codes are allocated in order (the unit frees a whole slice at once); TMP
 * values take the free slot of lowest index (RTM) or a first-fit column run (SRAM).
 */
export class RowAllocator {
  private readonly spacing: number;
  private readonly inGroups: number;
  private inNext = 0;
  private inWidth = 0;
  private readonly tmpFree: boolean[];
  private readonly sramTmpBase: number;
  private readonly sramUsed: Uint8Array;
  /** Bits of TMP in use now and at peak. */
  tmpBits = 0;
  peakTmpBits = 0;
  peakTmpSlots = 0;
  private tmpSlotsUsed = 0;
  get tmpSlotsInUse(): number {
    return this.tmpSlotsUsed;
  }
  inBits = 0;
  peakInBits = 0;

  constructor(readonly layout: RowLayout) {
    const g = layout.geom;
    this.spacing = g.canShift ? portSpacing(g) : 1;
    this.inGroups = g.canShift ? Math.floor(g.groups / 2) : 1;
    this.tmpFree = new Array<boolean>(g.canShift ? layout.tmpSlots : 0).fill(true);
    this.sramTmpBase = Math.floor(g.tracks / 2) + layout.scratchCells.length;
    this.sramUsed = new Uint8Array(g.canShift ? 0 : layout.tmpSlots);
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
    if (!g.canShift) {
      const base = this.inNext * w;
      this.inNext++;
      return { group: 0, level: 0, cells: Array.from({ length: w }, (_, i) => g.cellOf(base + i, 0)) };
    }
    // Skip the reserved scratch positions (first `reserved` (track, port) pairs of level 0, group 0).
    const perLevel = g.tracksPerGroup * g.ports;
    const reserved = this.layout.scratchCells.length;
    const idx = this.inNext + Math.min(reserved, perLevel);
    this.inNext++;
    const levels = Math.floor(this.spacing / w);
    const group = Math.floor(idx / (perLevel * levels));
    const inGroup = idx % (perLevel * levels);
    const level = Math.floor(inGroup / perLevel);
    const k = inGroup % perLevel;
    const track = group * g.tracksPerGroup + Math.floor(k / g.ports);
    const port = k % g.ports;
    const d0 = g.portPositions[port]! + level * w;
    return { group, level, cells: Array.from({ length: w }, (_, i) => g.cellOf(track, d0 + i)) };
  }

  /** Shift group of a cell (-1 when the row cannot shift). */
  groupOf(cell: number): number {
    return this.layout.geom.canShift ? this.layout.geom.groupOfCell(cell) : -1;
  }

  /** Cells for a TMP value; `avoidGroup` asks for a slot outside that shift group if one is free. */
  allocTmp(width: number, name: string, avoidGroup = -1): number[] {
    const g = this.layout.geom;
    if (width > this.layout.slotBits) throw new RtapError(`value "${name}" needs ${width} bits; a row slot holds ${this.layout.slotBits}`, "row allocation");
    this.tmpBits += width;
    this.peakTmpBits = Math.max(this.peakTmpBits, this.tmpBits);
    if (g.canShift) {
      const perGroup = g.tracksPerGroup * g.ports;
      // Take a slot in the TMP group with the most free slots (outside `avoidGroup` if possible), so
      // every group keeps room for values that must sit apart from their operands.
      const groups = this.tmpFree.length / perGroup;
      let best = -1, bestFree = 0;
      for (let pass = 0; pass < 2 && best < 0; pass++) {
        for (let gi = 0; gi < groups; gi++) {
          if (pass === 0 && this.inGroups + gi === avoidGroup) continue;
          let free = 0;
          for (let k = gi * perGroup; k < (gi + 1) * perGroup; k++) if (this.tmpFree[k]) free++;
          if (free > bestFree) {
            bestFree = free;
            best = gi;
          }
        }
      }
      const s = best < 0 ? -1 : this.tmpFree.indexOf(true, best * perGroup);
      if (s < 0) throw new RtapError(`out of row storage: all ${this.tmpFree.length} temporary slots are live (value "${name}")`, "row allocation");
      this.tmpFree[s] = false;
      this.tmpSlotsUsed++;
      this.peakTmpSlots = Math.max(this.peakTmpSlots, this.tmpSlotsUsed);
      const group = this.inGroups + Math.floor(s / perGroup);
      const k = s % perGroup;
      const track = group * g.tracksPerGroup + Math.floor(k / g.ports);
      const port = k % g.ports;
      const d0 = g.portPositions[port]!;
      return Array.from({ length: width }, (_, i) => g.cellOf(track, d0 + i));
    }
    // SRAM: first fit of `width` consecutive free columns.
    const used = this.sramUsed;
    let run = 0;
    for (let c = 0; c < used.length; c++) {
      run = used[c] ? 0 : run + 1;
      if (run === width) {
        const start = c - width + 1;
        for (let i = start; i <= c; i++) used[i] = 1;
        this.tmpSlotsUsed++;
        this.peakTmpSlots = Math.max(this.peakTmpSlots, this.tmpSlotsUsed);
        return Array.from({ length: width }, (_, i) => g.cellOf(this.sramTmpBase + start + i, 0));
      }
    }
    throw new RtapError(`out of row storage: no ${width} free columns for value "${name}"`, "row allocation");
  }

  freeTmp(cells: readonly number[]): void {
    const g = this.layout.geom;
    this.tmpBits -= cells.length;
    this.tmpSlotsUsed--;
    if (g.canShift) {
      const cell = cells[0]!;
      const track = Math.floor(cell / g.domains);
      const domain = cell % g.domains;
      const port = g.portPositions.indexOf(domain);
      const perGroup = g.tracksPerGroup * g.ports;
      const group = Math.floor(track / g.tracksPerGroup);
      const s = (group - this.inGroups) * perGroup + (track % g.tracksPerGroup) * g.ports + port;
      this.tmpFree[s] = true;
      return;
    }
    for (const c of cells) this.sramUsed[Math.floor(c / g.domains) - this.sramTmpBase] = 0;
  }

  freeIn(width: number): void {
    this.inBits -= width;
  }

  /** True when two IN slots can be read in the same bit step (different groups, or same level). */
  static lockstep(a: InSlot, b: InSlot): boolean {
    return a.group !== b.group || a.level === b.level;
  }
}

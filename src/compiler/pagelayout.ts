/**
 * The interleaved racetrack row (the default RTM layout): a value's bits lie on parallel tracks at
 * one domain index, so a CAM column is a track's port cell and a LUT pass selects columns with its
 * mask, never shifting. The domain index under the ports is a *page*: with its shift group at
 * offset o, port k of every track of the group sees domain portPositions[k] + o. A shift only
 * brings another page under the ports, and costs (tracks of the group) x (domains moved) x (rows).
 *
 * Regions (shift groups are "banks"; every bank is at one page at a time):
 *  - IN (bank 0): the receptive-field codes a unit loads, packed across the tracks of each page in
 *    load order, pages in order from home: a reduction that consumes its codes in that order sweeps
 *    the bank once, one domain per page (RTM data-placement: place data in the order it is used).
 *  - HOT (banks 1 .. B-2): temporaries on the home page only (these banks never leave home), plus
 *    the threshold scratch cells of requantization. Hot temporaries never cost a shift.
 *  - SPILL (bank B-1): accumulators that live across input slices, and temporaries that do not fit
 *    the hot pages, on any page; the bank moves to a value's page when an op needs it.
 * Inside a page a bank offers `ports` lanes of up to 32 tracks; a value occupies consecutive tracks
 * of one lane (its cells are `domains` apart: cell0 + i x domains), so a lane's bits are one 32-bit
 * word for the word-level simulator's record of stale bits.
 */
import { RtapError } from "../errors.js";
import { lowMask } from "../ap/bits.js";
import type { ApGeometry } from "../ap/geometry.js";

/** Where an interleaved value sits. */
export interface PagePlace {
  bank: number;
  /** Shift offset at which the value is under the ports. */
  page: number;
  /** Global lane index (bank, page, port, 32-track chunk): the stale-bit word of the fast simulator. */
  lane: number;
  /** First track of the value inside its lane. */
  bit: number;
  cell0: number;
}

/** The page geometry of an interleaved row. */
export class PageGeometry {
  readonly banks: number;
  /** Legal offsets, home first then outwards (0, 1, ..., max, -1, ..., min). */
  readonly pageOrder: readonly number[];
  readonly pages: number;
  /** Lanes per bank page (ports x 32-track chunks) and the tracks of each. */
  readonly lanesPerPage: number;
  readonly laneTracks: readonly number[];
  readonly inBank = 0;
  readonly hotBanks: readonly number[];
  readonly spillBank: number;

  constructor(readonly geom: ApGeometry) {
    if (!geom.canShift) throw new Error("internal: PageGeometry needs a shifting RTM row");
    this.banks = geom.groups;
    if (this.banks < 3) {
      throw new RtapError(
        `the interleaved layout needs at least 3 shift groups (input codes, temporaries at home, accumulators on pages); this row has ${this.banks} (tracksPerRow / tracksPerShiftGroup)`,
        "architecture",
      );
    }
    const order: number[] = [];
    for (let o = 0; o <= geom.maxOffset; o++) if (o >= geom.minOffset) order.push(o);
    for (let o = -1; o >= geom.minOffset; o--) order.push(o);
    this.pageOrder = order;
    this.pages = order.length;
    const chunks: number[] = [];
    for (let t = 0; t < geom.tracksPerGroup; t += 32) chunks.push(Math.min(32, geom.tracksPerGroup - t));
    this.laneTracks = chunks;
    this.lanesPerPage = geom.ports * chunks.length;
    this.hotBanks = Array.from({ length: this.banks - 2 }, (_, i) => i + 1);
    this.spillBank = this.banks - 1;
    this.pageOfDomain = Int32Array.from({ length: geom.domains }, (_, d) => geom.offsetsShowing(geom.cellOf(0, d))[0] ?? 0);
  }

  /** Per domain index: the page (offset) that puts it under a port (a lookup: the allocator's hot path). */
  private readonly pageOfDomain: Int32Array;

  /** Index of an offset in pageOrder. */
  pageIndex(page: number): number {
    return page >= 0 ? page : this.geom.maxOffset - page;
  }

  /** Global lane index of (bank, page, lane in page). */
  laneIndex(bank: number, page: number, laneInPage: number): number {
    return (bank * this.pages + this.pageIndex(page)) * this.lanesPerPage + laneInPage;
  }

  get laneCount(): number {
    return this.banks * this.pages * this.lanesPerPage;
  }

  /** Cell of track `bit` of lane `laneInPage` of (bank, page). */
  cellOf(bank: number, page: number, laneInPage: number, bit: number): number {
    const g = this.geom;
    const chunks = this.laneTracks.length;
    const port = Math.floor(laneInPage / chunks);
    const chunk = laneInPage % chunks;
    const track = bank * g.tracksPerGroup + chunk * 32 + bit;
    return g.cellOf(track, g.portPositions[port]! + page);
  }

  /** The page (offset) at which a track cell is under a port. */
  pageOfCell(cell: number): number {
    return this.pageOfDomain[cell % this.geom.domains]!;
  }

  /** Largest value width a lane holds. */
  get laneBits(): number {
    return Math.min(31, Math.min(...this.laneTracks));
  }
}

/**
 * Scratch cells reserved for requantization: `count` tracks of the hot pages (the first hot bank's
 * lanes in order, then the next hot bank's), never the staging lane. Fewer when the hot pages
 * are smaller.
 */
export function pageScratchCells(pg: PageGeometry, count: number): number[] {
  const out: number[] = [];
  const lastBank = pg.hotBanks[pg.hotBanks.length - 1]!;
  for (const bank of pg.hotBanks) {
    for (let l = 0; l < pg.lanesPerPage && out.length < count; l++) {
      if (bank === lastBank && l === pg.lanesPerPage - 1) continue; // the staging lane
      const tracks = pg.laneTracks[l % pg.laneTracks.length]!;
      for (let t = 0; t < tracks && out.length < count; t++) out.push(pg.cellOf(bank, 0, l, t));
    }
  }
  return out;
}

/**
 * First track b of a lane (occupancy `mask`, a bit per track, `tracks` tracks) where `width` free
 * tracks start, or -1: the bits set in `free & free>>1 & ... & free>>(width-1)` mark the starts.
 */
function firstFit(mask: number, tracks: number, width: number): number {
  if (width > tracks) return -1;
  const free = ~mask & (tracks >= 32 ? -1 : (1 << tracks) - 1);
  // runs of `len` free tracks start at the set bits of `runs`; doubling `len` (runs & runs >>> step,
  // step <= len) takes log2(width) steps instead of width - 1
  let runs = free;
  for (let len = 1; len < width && runs !== 0; ) {
    const step = Math.min(len, width - len);
    runs &= runs >>> step;
    len += step;
  }
  if (runs === 0) return -1;
  return 31 - Math.clz32(runs & -runs);
}

/** An IN code's place on the interleaved row (shared between loads of the same index: read only). */
export interface InPlace {
  readonly group: number;
  readonly level: number;
  readonly cell0: number;
  readonly index: number;
}

/**
 * Hands out cells of an interleaved row. IN codes in load order; TMP values on the hot pages, else
 * on the spill bank; accumulators on the spill bank. Keeps the page each bank will be at (the
 * schedule rule of src/compiler/pages.ts: a bank moves when an op needs another of its pages) so
 * that spills land near the bank's current page. Register indices (the word-level simulator's
 * value buffers) are handed out apart from the cells: IN codes use their load index, TMP values
 * 0, 1, ... from a free list (the layout's `tmpSlots` bounds them; IN registers start there).
 */
export class PagedAllocator {
  readonly pg: PageGeometry;
  private readonly laneMask: Int32Array;
  private inNext = 0;
  private inWidth = 0;
  private readonly freeRegs: number[] = [];
  private nextReg = 0;
  /** Lane and first track of each allocated TMP register (what freeTmp clears), by register. */
  private laneOf = new Int32Array(256).fill(-1);
  private bitOf = new Int32Array(256);
  /** Page each bank is at, as the program runs to the point being lowered. */
  readonly current: Int32Array;
  tmpBits = 0;
  peakTmpBits = 0;
  peakTmpSlots = 0;
  inBits = 0;
  peakInBits = 0;
  private live = 0;
  /** TMP values placed on the spill bank because the hot pages were full. */
  spills = 0;

  /** The staging lane (see reserveLane), fixed by the geometry. */
  private readonly reserve: number;
  /**
   * The hot pages' lanes in the order allocTmp tries them (hot banks in order, lanes in order), the
   * staging lane excluded: lane index, bank, lane in page, tracks. Precomputed: every temporary of a
   * program (millions per network) scans them.
   */
  private readonly hotLanes: Int32Array;
  private readonly hotLaneBank: Int32Array;
  private readonly hotLaneInPage: Int32Array;
  private readonly hotLaneTracks: Int32Array;
  /** The spill bank's pages by distance from each page (index: pageIndex), as allocSpill tries them. */
  private readonly pagesByDistance: number[][] = [];

  constructor(readonly layout: { geom: ApGeometry; scratchCells: readonly number[] }, pg?: PageGeometry) {
    this.pg = pg ?? new PageGeometry(layout.geom);
    this.laneMask = new Int32Array(this.pg.laneCount);
    this.current = new Int32Array(this.pg.banks);
    this.reserve = this.pg.laneIndex(this.pg.hotBanks[this.pg.hotBanks.length - 1]!, 0, this.pg.lanesPerPage - 1);
    const lanes: number[] = [], banks: number[] = [], inPage: number[] = [], tracks: number[] = [];
    for (const bank of this.pg.hotBanks) {
      for (let l = 0; l < this.pg.lanesPerPage; l++) {
        const lane = this.pg.laneIndex(bank, 0, l);
        if (lane === this.reserve) continue;
        lanes.push(lane);
        banks.push(bank);
        inPage.push(l);
        tracks.push(this.pg.laneTracks[l % this.pg.laneTracks.length]!);
      }
    }
    this.hotLanes = Int32Array.from(lanes);
    this.hotLaneBank = Int32Array.from(banks);
    this.hotLaneInPage = Int32Array.from(inPage);
    this.hotLaneTracks = Int32Array.from(tracks);
    for (const c of layout.scratchCells) {
      const t = Math.floor(c / layout.geom.domains);
      const bank = Math.floor(t / layout.geom.tracksPerGroup);
      this.laneMask[this.laneOfCell(c)] |= 1 << ((t - bank * layout.geom.tracksPerGroup) % 32);
    }
  }

  private laneOfCell(cell: number): number {
    const g = this.layout.geom;
    const t = Math.floor(cell / g.domains);
    const d = cell % g.domains;
    const bank = Math.floor(t / g.tracksPerGroup);
    const page = this.pg.pageOfCell(cell);
    const port = g.portPositions.indexOf(d - page);
    const chunk = Math.floor((t - bank * g.tracksPerGroup) / 32);
    return this.pg.laneIndex(bank, page, port * this.pg.laneTracks.length + chunk);
  }

  get tmpSlotsInUse(): number {
    return this.live;
  }

  // ---------------------------------------------------------------- IN

  /** Codes of `width` bits the IN bank holds. */
  inCapacity(width: number): number {
    return inCapacityOf(this.pg, width);
  }

  resetIn(width: number): void {
    this.inNext = 0;
    this.inWidth = width;
    this.inBits = 0;
    let places = this.inPlaces.get(width);
    if (!places) this.inPlaces.set(width, (places = { capacity: this.inCapacity(width), slots: [] }));
    this.inPlacesNow = places;
  }

  /**
   * IN places by code width, by index: they depend on the row geometry only, and with loop
   * interchange or unrolling off every output channel reloads its receptive field (~10^7 places
   * per ResNet-18 variant), so each is computed once per unit and shared (callers only read them).
   */
  private readonly inPlaces = new Map<number, { capacity: number; slots: InPlace[] }>();
  private inPlacesNow: { capacity: number; slots: InPlace[] } | undefined;

  allocIn(): InPlace {
    const w = this.inWidth;
    const places = this.inPlacesNow;
    if (w < 1 || !places) throw new Error("resetIn not called");
    const cap = places.capacity;
    if (this.inNext >= cap) throw new RtapError(`the receptive field needs more than the ${cap} ${w}-bit codes a row's input bank holds`, "row allocation");
    const index = this.inNext++;
    this.inBits += w;
    this.peakInBits = Math.max(this.peakInBits, this.inBits);
    return (places.slots[index] ??= this.inPlaceAt(w, index));
  }

  /** Where IN code `index` of width w sits: pages in order, lanes port-major over 32-track chunks. */
  private inPlaceAt(w: number, index: number): InPlace {
    const perLane = this.pg.laneTracks.map((t) => Math.floor(t / w));
    const perPage = perLane.reduce((a, b) => a + b, 0) * this.pg.geom.ports;
    const page = this.pg.pageOrder[Math.floor(index / perPage)]!;
    let k = index % perPage;
    // lanes in order: port-major over 32-track chunks
    let lane = 0;
    const chunks = this.pg.laneTracks.length;
    while (k >= perLane[lane % chunks]!) {
      k -= perLane[lane % chunks]!;
      lane++;
    }
    return { group: this.pg.inBank, level: page, cell0: this.pg.cellOf(this.pg.inBank, page, lane, k * w), index };
  }


  freeIn(width: number): void {
    this.inBits -= width;
  }

  // ---------------------------------------------------------------- TMP

  /**
   * The staging lane: the last lane of the last hot bank's home page, kept free of ordinary
   * temporaries so that an operand on a busy page of its bank can always be copied to a hot page.
   */
  private get reserveLane(): number {
    return this.reserve;
  }

  private take(bank: number, page: number, width: number, useReserve = false): (PagePlace & { width: number; slot: number }) | null {
    const reserve = useReserve ? -1 : this.reserveLane;
    for (let l = 0; l < this.pg.lanesPerPage; l++) {
      const lane = this.pg.laneIndex(bank, page, l);
      if (lane === reserve) continue;
      const tracks = this.pg.laneTracks[l % this.pg.laneTracks.length]!;
      const b = firstFit(this.laneMask[lane]!, tracks, width);
      if (b >= 0) return this.claim(bank, page, lane, l, b, width);
    }
    return null;
  }

  /** Marks `width` tracks from `bit` of a lane used; the place, without its register yet. */
  private claim(bank: number, page: number, lane: number, laneInPage: number, bit: number, width: number): PagePlace & { width: number; slot: number } {
    this.laneMask[lane] |= width >= 32 ? -1 : (lowMask(width) << bit) | 0;
    return { bank, page, lane, bit, cell0: this.pg.cellOf(bank, page, laneInPage, bit), width, slot: -1 };
  }

  private register(p: PagePlace & { width: number; slot: number }): { slot: number } & PagePlace {
    const reg = this.freeRegs.length ? this.freeRegs.pop()! : this.nextReg++;
    if (reg >= this.laneOf.length) {
      const lanes = new Int32Array(2 * reg).fill(-1), bits = new Int32Array(2 * reg);
      lanes.set(this.laneOf);
      bits.set(this.bitOf);
      this.laneOf = lanes;
      this.bitOf = bits;
    }
    this.laneOf[reg] = p.lane;
    this.bitOf[reg] = p.bit;
    this.live++;
    this.peakTmpSlots = Math.max(this.peakTmpSlots, this.live);
    this.tmpBits += p.width;
    this.peakTmpBits = Math.max(this.peakTmpBits, this.tmpBits);
    // the place take() made, with its register (no copy: millions of temporaries per network)
    p.slot = reg;
    return p;
  }

  private checkWidth(width: number, what: string): void {
    if (width > this.pg.laneBits) throw new RtapError(`${what} needs ${width} bits; a lane of the row holds ${this.pg.laneBits}`, "row allocation");
  }

  /**
   * A temporary of `width` bits that an op can use beside operands at `pins` (bank -> page): on a
   * hot page if one has room, else on the spill bank (at its pinned page, else the page it is at,
   * else the nearest page with room).
   */
  allocTmp(width: number, what: string, pins?: ReadonlyMap<number, number> | (() => ReadonlyMap<number, number>)): { slot: number } & PagePlace {
    this.checkWidth(width, what);
    // take(bank, 0, width) over the hot banks in order, on the precomputed lane list
    const k = this.hotLaneWithRoom(width);
    if (k >= 0) {
      const lane = this.hotLanes[k]!;
      const bit = firstFit(this.laneMask[lane]!, this.hotLaneTracks[k]!, width);
      return this.register(this.claim(this.hotLaneBank[k]!, 0, lane, this.hotLaneInPage[k]!, bit, width));
    }
    this.spills++;
    return this.allocSpill(width, what, typeof pins === "function" ? pins() : pins);
  }

  /** The first hot lane (index in hotLanes; staging lane excluded) with room for `width` tracks, or -1. */
  private hotLaneWithRoom(width: number): number {
    const lanes = this.hotLanes, tracks = this.hotLaneTracks, mask = this.laneMask;
    for (let k = 0; k < lanes.length; k++) if (firstFit(mask[lanes[k]!]!, tracks[k]!, width) >= 0) return k;
    return -1;
  }

  /** Whether a hot page (staging lane excluded) has room for `width` consecutive tracks. */
  hasHotRoom(width: number): boolean {
    return this.hotLaneWithRoom(width) >= 0;
  }

  /** A temporary on the spill bank (an evicted hot value), near the bank's page. */
  allocSpilled(width: number, what: string): { slot: number } & PagePlace {
    this.checkWidth(width, what);
    this.spills++;
    return this.allocSpill(width, what);
  }

  /** A temporary on a hot page, the staging lane included (for a copy that lives for one op), or null. */
  allocHot(width: number, what: string): ({ slot: number } & PagePlace) | null {
    this.checkWidth(width, what);
    for (const useReserve of [false, true]) {
      for (const bank of this.pg.hotBanks) {
        const p = this.take(bank, 0, width, useReserve);
        if (p) return this.register(p);
      }
    }
    return null;
  }

  /** An accumulator (lives across slices): on the spill bank, first page with room from home. */
  allocAcc(width: number, what: string, pins?: ReadonlyMap<number, number>): { slot: number } & PagePlace {
    this.checkWidth(width, what);
    const bank = this.pg.spillBank;
    const pinned = pins?.get(bank);
    if (pinned !== undefined) {
      const p = this.take(bank, pinned, width);
      if (p) return this.register(p);
      throw new RtapError(`out of row storage: page ${pinned} of the accumulator bank is full (${what})`, "row allocation");
    }
    for (const page of this.pg.pageOrder) {
      const p = this.take(bank, page, width);
      if (p) return this.register(p);
    }
    throw new RtapError(`out of row storage: every page of the accumulator bank is full (${what})`, "row allocation");
  }

  private allocSpill(width: number, what: string, pins?: ReadonlyMap<number, number>): { slot: number } & PagePlace {
    const bank = this.pg.spillBank;
    const pinned = pins?.get(bank);
    if (pinned !== undefined) {
      // beside an operand on that page; if it is full, elsewhere (the lowering then stages the operand)
      const p = this.take(bank, pinned, width);
      if (p) return this.register(p);
    }
    const cur = pinned ?? this.current[bank]!;
    const at = this.pg.pageIndex(cur);
    const byDistance = (this.pagesByDistance[at] ??= [...this.pg.pageOrder].sort((a, b) => Math.abs(a - cur) - Math.abs(b - cur) || a - b));
    for (const page of byDistance) {
      const p = this.take(bank, page, width);
      if (p) return this.register(p);
    }
    throw new RtapError(`out of row storage: the hot pages and every page of the spill bank are full (${what})`, "row allocation");
  }

  /** Frees the TMP value with register `slot` (as returned by allocTmp/allocAcc). */
  freeTmp(slot: number, width: number): void {
    const reg = slot;
    const lane = reg < this.laneOf.length ? this.laneOf[reg]! : -1;
    if (lane < 0) throw new Error(`internal: register ${slot} is not allocated`);
    this.laneOf[reg] = -1;
    this.laneMask[lane] &= ~(width >= 32 ? -1 : (lowMask(width) << this.bitOf[reg]!) | 0);
    this.freeRegs.push(reg);
    this.live--;
    this.tmpBits -= width;
  }

  /** Shift group (bank) of a cell. */
  groupOf(cell: number): number {
    return this.layout.geom.groupOfCell(cell);
  }

  /** Page of a track cell. */
  pageOf(cell: number): number {
    return this.pg.pageOfCell(cell);
  }

  /** Whether a cell lies on a hot page (a hot bank at home). */
  isHot(cell: number): boolean {
    return this.pg.hotBanks.includes(this.groupOf(cell)) && this.pageOf(cell) === 0;
  }
}

/** Codes of `width` bits the IN bank of an interleaved row holds. */
export function inCapacityOf(pg: PageGeometry, width: number): number {
  if (width > pg.laneBits) return 0;
  const perPage = pg.laneTracks.reduce((a, t) => a + Math.floor(t / width), 0) * pg.geom.ports;
  return perPage * pg.pages;
}

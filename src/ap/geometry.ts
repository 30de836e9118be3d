/**
 * Addressing inside one AP array row.
 *
 * Cells (where bits are stored): a track domain is cell `track * domains + domain`; static flag f is
 * cell `tracks * domains + f`. Cells never move in this numbering: a shift changes which cell is
 * under a port, not the cell's address.
 *
 * Columns (what the key, mask and write registers address — the bits that take part in a search or
 * write): port k of track t is column `t * ports + k`; flag f is column `tracks * ports + f`. With
 * the track's shift group at offset o, column (t, k) sees cell (t, portPositions[k] + o).
 *
 * SRAM-CAM is the special case domains = ports = 1 with no shifting: cell = column = bit index.
 */
import { RtapError } from "../errors.js";
import { maxOffset, minOffset, type ArraySpec } from "./config.js";
import { makeValue, type ApValue } from "./value.js";

export interface RowCapacity {
  /** Track cells per row (tracks x domains; SRAM: columns). */
  dataCells: number;
  tracks: number;
  domains: number;
  /** Per port, the domains it reaches by shifting (bit-serial values should stay inside one). */
  portWindows: [number, number][];
  groups: number;
  tracksPerGroup: number;
  /** Static flag bits per row. */
  flags: number;
  /**
   * Flags the macro-ops use as scratch by default (0 chain, 1 sign of src/a, 2 sign of b,
   * 3 marker; thresholds use flags 0..n-1): keep values out of them or pass `scratch` cells.
   */
  scratchFlags: number;
}

export class ApGeometry {
  readonly spec: ArraySpec;
  readonly rows: number;
  /** 32-bit words per bit plane (rows / 32, rounded up). */
  readonly words: number;
  readonly tracks: number;
  readonly domains: number;
  readonly ports: number;
  readonly portPositions: readonly number[];
  readonly tracksPerGroup: number;
  readonly groups: number;
  readonly flags: number;
  /** False for SRAM-CAM (and for RTM with a single domain per track). */
  readonly canShift: boolean;
  readonly minOffset: number;
  readonly maxOffset: number;
  /** Cells per row: track domains, then flags. */
  readonly cells: number;
  readonly trackCells: number;
  /** Columns (bits visible at once) per row: track ports, then flags. */
  readonly columns: number;
  readonly trackColumns: number;
  /** Per column: the cell it sees at offset 0. */
  readonly columnBase: Int32Array;
  /** Per column: its shift group, or -1 for flags. */
  readonly columnGroup: Int32Array;

  constructor(spec: ArraySpec) {
    this.spec = spec;
    this.rows = spec.rows;
    this.words = Math.ceil(spec.rows / 32);
    this.tracks = spec.tracks;
    this.domains = spec.domains;
    this.ports = spec.ports;
    this.portPositions = [...spec.portPositions];
    this.tracksPerGroup = spec.tracksPerGroup;
    this.groups = Math.ceil(spec.tracks / spec.tracksPerGroup);
    this.flags = spec.flags;
    this.canShift = spec.technology === "rtm" && spec.domains > 1;
    this.minOffset = this.canShift ? minOffset(spec) : 0;
    this.maxOffset = this.canShift ? maxOffset(spec) : 0;
    this.trackCells = spec.tracks * spec.domains;
    this.cells = this.trackCells + spec.flags;
    this.trackColumns = spec.tracks * spec.ports;
    this.columns = this.trackColumns + spec.flags;
    this.columnBase = new Int32Array(this.columns);
    this.columnGroup = new Int32Array(this.columns);
    for (let t = 0; t < spec.tracks; t++) {
      for (let k = 0; k < spec.ports; k++) {
        const c = t * spec.ports + k;
        this.columnBase[c] = t * spec.domains + spec.portPositions[k]!;
        this.columnGroup[c] = Math.floor(t / spec.tracksPerGroup);
      }
    }
    for (let f = 0; f < spec.flags; f++) {
      this.columnBase[this.trackColumns + f] = this.trackCells + f;
      this.columnGroup[this.trackColumns + f] = -1;
    }
  }

  /** The same geometry with a different number of rows (e.g. a 4096-row test array). */
  withRows(rows: number): ApGeometry {
    if (!Number.isInteger(rows) || rows < 1) throw new RtapError(`rows must be a positive integer (got ${rows})`);
    return new ApGeometry({ ...this.spec, rows });
  }

  // --- cells -----------------------------------------------------------------------------------

  cellOf(track: number, domain: number): number {
    if (!Number.isInteger(track) || track < 0 || track >= this.tracks)
      throw new RtapError(`track ${track} does not exist (0..${this.tracks - 1})`);
    if (!Number.isInteger(domain) || domain < 0 || domain >= this.domains)
      throw new RtapError(`domain ${domain} does not exist (0..${this.domains - 1})`);
    return track * this.domains + domain;
  }

  flagCell(f: number): number {
    if (!Number.isInteger(f) || f < 0 || f >= this.flags)
      throw new RtapError(`flag ${f} does not exist (this array has ${this.flags} flag bits)`);
    return this.trackCells + f;
  }

  isFlagCell(cell: number): boolean {
    return cell >= this.trackCells;
  }

  /** Shift group of a track cell, -1 for a flag. */
  groupOfCell(cell: number): number {
    return cell >= this.trackCells ? -1 : Math.floor(Math.floor(cell / this.domains) / this.tracksPerGroup);
  }

  checkCell(cell: number, where: string): void {
    if (!Number.isInteger(cell) || cell < 0 || cell >= this.cells)
      throw new RtapError(`cell ${cell} does not exist (0..${this.cells - 1})`, where);
  }

  describeCell(cell: number): string {
    if (cell >= this.trackCells) return `f${cell - this.trackCells}`;
    const t = Math.floor(cell / this.domains);
    return this.domains === 1 ? `c${t}` : `t${t}.d${cell % this.domains}`;
  }

  // --- columns and visibility --------------------------------------------------------------------

  trackColumn(track: number, port: number): number {
    return track * this.ports + port;
  }

  flagColumn(f: number): number {
    return this.trackColumns + f;
  }

  isFlagColumn(col: number): boolean {
    return col >= this.trackColumns;
  }

  /** The cell a column sees with the given group offsets. */
  cellAt(col: number, offsets: ArrayLike<number>): number {
    const g = this.columnGroup[col]!;
    return this.columnBase[col]! + (g >= 0 ? offsets[g]! : 0);
  }

  /** The column through which `cell` is visible at the given offsets, or -1 if it is not under a port. */
  columnOfCell(cell: number, offsets: ArrayLike<number>): number {
    if (cell >= this.trackCells) return this.trackColumns + (cell - this.trackCells);
    const t = Math.floor(cell / this.domains);
    const d = cell - t * this.domains;
    const off = offsets[Math.floor(t / this.tracksPerGroup)]!;
    for (let k = 0; k < this.ports; k++) if (this.portPositions[k]! + off === d) return t * this.ports + k;
    return -1;
  }

  /** Smallest offset of offsetsShowing(cell), per domain (built on first use). */
  private firstShowing?: Int32Array;

  /**
   * The smallest offset at which a track cell is under some port (offsetsShowing(cell)[0]) without
   * building the list: the page schedule asks for it on every step.
   */
  firstOffsetShowing(cell: number): number {
    if (!this.firstShowing) {
      this.firstShowing = new Int32Array(this.domains);
      for (let d = 0; d < this.domains; d++) {
        const o = this.offsetsShowing(d);
        this.firstShowing[d] = o.length ? o[0]! : 0x7fffffff;
      }
    }
    const o = this.firstShowing[cell % this.domains]!;
    if (cell >= this.trackCells || o === 0x7fffffff) throw new Error(`internal: cell ${this.describeCell(cell)} is under no port at any legal offset`);
    return o;
  }

  /** offsetsShowing per domain (built on first use). */
  private showingByDomain?: readonly (readonly number[])[];

  /**
   * Offsets of the cell's group at which the cell is under some port (ascending; none for a flag).
   * One shared read-only array per domain: macro expansion asks for it on every cell of every
   * bit step (it was a third of the serial layout's garbage).
   */
  offsetsShowing(cell: number): readonly number[] {
    if (cell >= this.trackCells) return NO_OFFSETS;
    if (!this.showingByDomain) {
      const all: number[][] = [];
      for (let d = 0; d < this.domains; d++) {
        const out: number[] = [];
        for (const p of this.portPositions) {
          const o = d - p;
          if (o >= this.minOffset && o <= this.maxOffset) out.push(o);
        }
        all.push(out.sort((a, b) => a - b));
      }
      this.showingByDomain = all;
    }
    return this.showingByDomain[cell % this.domains]!;
  }

  describeColumn(col: number): string {
    if (col >= this.trackColumns) return `f${col - this.trackColumns}`;
    const t = Math.floor(col / this.ports);
    return this.ports === 1 && this.domains === 1 ? `c${t}` : `t${t}p${col % this.ports}`;
  }

  /**
   * Domains port k can reach by shifting: [lo, hi]. A value stored along a track inside one window
   * is swept with one-domain shifts; a value crossing windows needs a long jump between ports.
   */
  portWindow(port: number): [number, number] {
    const p = this.portPositions[port]!;
    return [p + this.minOffset, p + this.maxOffset];
  }

  /** What a row offers an allocator. */
  capacity(): RowCapacity {
    return {
      dataCells: this.trackCells,
      tracks: this.tracks,
      domains: this.domains,
      portWindows: this.portPositions.map((_, k) => this.portWindow(k)),
      groups: this.groups,
      tracksPerGroup: this.tracksPerGroup,
      flags: this.flags,
      scratchFlags: Math.min(this.flags, 4),
    };
  }

  // --- layouts -----------------------------------------------------------------------------------

  /**
   * A value stored along one track from `domain` upwards (RTM's natural bit-serial layout: one
   * shift of the group moves every such value to its next bit).
   */
  alongTrack(name: string, track: number, domain: number, width: number, signed: boolean): ApValue {
    if (domain + width > this.domains)
      throw new RtapError(
        `${width} bits from domain ${domain} do not fit a ${this.domains}-domain track`,
        `value "${name}"`,
      );
    const cells: number[] = [];
    for (let i = 0; i < width; i++) cells.push(this.cellOf(track, domain + i));
    return makeValue(name, cells, signed);
  }

  /** A value stored one bit per track, tracks `track`..`track+width-1`, all at `domain` (SRAM's layout). */
  acrossTracks(name: string, track: number, domain: number, width: number, signed: boolean): ApValue {
    if (track + width > this.tracks)
      throw new RtapError(`${width} tracks from track ${track} exceed the row's ${this.tracks} tracks`, `value "${name}"`);
    const cells: number[] = [];
    for (let i = 0; i < width; i++) cells.push(this.cellOf(track + i, domain));
    return makeValue(name, cells, signed);
  }

  /** A value in flag bits `flag`..`flag+width-1`. */
  inFlags(name: string, flag: number, width: number, signed: boolean): ApValue {
    const cells: number[] = [];
    for (let i = 0; i < width; i++) cells.push(this.flagCell(flag + i));
    return makeValue(name, cells, signed);
  }
}

const NO_OFFSETS: readonly number[] = [];

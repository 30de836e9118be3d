/**
 * The three-level machine: a chip of tiles, each a group of AP arrays driven by one controller
 * (they run the same micro-op stream, SIMD), plus the movement paths between them:
 *
 *   within an array   readRow -> array buffer -> writeRow          (bufferReadBits / bufferWriteBits)
 *   between arrays    array buffer -> tile bus -> array buffer     (+ transferBitsArray)
 *   between tiles     array buffer -> interconnect -> array buffer (+ transferBitsTile, transferBitHopsTile)
 *   chip I/O          array buffer <-> global buffer               (+ transferBitsChip)
 *
 * Transfer bits are counted once, at the sending array; transfer cycles are charged to both ends.
 * Arrays are allocated on first use, so a big chip costs memory only for the arrays a test touches.
 */
import { RtapError } from "../errors.js";
import { ApArray } from "./array.js";
import type { ApArch } from "./config.js";
import { parallelEvents, type ApEvents, zeroEvents } from "./events.js";
import type { FaultOptions } from "./faults.js";
import { ApGeometry } from "./geometry.js";
import type { MicroOp } from "./microop.js";
import type { ApValue } from "./value.js";

export interface ArrayRef {
  tile: number;
  array: number;
}

export interface RowValueRef extends ArrayRef {
  row: number;
  value: ApValue;
}

export type TransferLevel = "array" | "tile" | "chip" | "none";

export interface ChipOptions {
  /** Rows per array (default: the architecture's). */
  rowsPerArray?: number;
  /** Fault injection; each array gets its own seed derived from `seed`. */
  faults?: FaultOptions;
}

export class ApChip {
  readonly arch: ApArch;
  readonly geom: ApGeometry;
  private readonly arrays: (ApArray | undefined)[];
  private readonly faults: FaultOptions | undefined;

  constructor(arch: ApArch, opts: ChipOptions = {}) {
    this.arch = arch;
    const g = new ApGeometry(arch.array);
    this.geom = opts.rowsPerArray === undefined ? g : g.withRows(opts.rowsPerArray);
    this.arrays = new Array<ApArray | undefined>(arch.tiles * arch.arraysPerTile);
    this.faults = opts.faults;
  }

  private index(ref: ArrayRef): number {
    if (!(Number.isInteger(ref.tile) && ref.tile >= 0 && ref.tile < this.arch.tiles))
      throw new RtapError(`tile ${ref.tile} does not exist (0..${this.arch.tiles - 1})`);
    if (!(Number.isInteger(ref.array) && ref.array >= 0 && ref.array < this.arch.arraysPerTile))
      throw new RtapError(`array ${ref.array} does not exist in a tile (0..${this.arch.arraysPerTile - 1})`);
    return ref.tile * this.arch.arraysPerTile + ref.array;
  }

  /** The array (allocated on first use). */
  array(ref: ArrayRef): ApArray {
    const i = this.index(ref);
    let a = this.arrays[i];
    if (!a) {
      const faults = this.faults ? { ...this.faults, seed: ((this.faults.seed ?? 1) * 7919 + i) >>> 0 } : undefined;
      a = new ApArray(this.geom, this.arch.timing, faults ? { faults } : {});
      this.arrays[i] = a;
    }
    return a;
  }

  /** Runs one micro-op stream on the given arrays of a tile (default: all of them), SIMD. */
  runTile(tile: number, ops: readonly MicroOp[], arrays?: readonly number[]): void {
    const list = arrays ?? Array.from({ length: this.arch.arraysPerTile }, (_, i) => i);
    for (const a of list) this.array({ tile, array: a }).run(ops);
  }

  /** Router hops between two tiles (mesh: Manhattan distance on a near-square grid; htree: up and down the tree). */
  tileHops(a: number, b: number): number {
    if (a === b) return 0;
    if (this.arch.interconnect === "mesh") {
      const cols = Math.ceil(Math.sqrt(this.arch.tiles));
      return Math.abs((a % cols) - (b % cols)) + Math.abs(Math.floor(a / cols) - Math.floor(b / cols));
    }
    return 2 * (32 - Math.clz32(a ^ b));
  }

  static levelOf(from: ArrayRef, to: ArrayRef): TransferLevel {
    if (from.tile !== to.tile) return "tile";
    return from.array !== to.array ? "array" : "none";
  }

  /** Copies bits from one array buffer (columns fromCols) to another (columns toCols). */
  transfer(from: ArrayRef, fromCols: readonly number[], to: ArrayRef, toCols: readonly number[]): void {
    if (fromCols.length !== toCols.length)
      throw new RtapError(`transfer: ${fromCols.length} source columns but ${toCols.length} destination columns`);
    const src = this.array(from);
    const dst = this.array(to);
    const bits = fromCols.map((c) => this.checkCol(c, src.buffer[c]));
    toCols.forEach((c, i) => {
      this.checkCol(c, 0);
      dst.buffer[c] = bits[i]!;
    });
    const n = fromCols.length;
    const t = this.arch.timing;
    const level = ApChip.levelOf(from, to);
    if (level === "none" || n === 0) return;
    let cycles: number;
    if (level === "array") {
      src.events.transferBitsArray += n;
      cycles = Math.ceil(n / t.arrayBusBits) * t.arrayBusCycles;
    } else {
      const hops = this.tileHops(from.tile, to.tile);
      src.events.transferBitsTile += n;
      src.events.transferBitHopsTile += n * hops;
      cycles = Math.ceil(n / t.tileLinkBits) * t.tileLinkCycles + hops * t.tileHopCycles;
    }
    src.events.cycles += cycles;
    dst.events.cycles += cycles;
  }

  private checkCol(c: number, bit: number | undefined): number {
    if (!(Number.isInteger(c) && c >= 0 && c < this.geom.columns))
      throw new RtapError(`buffer column ${c} does not exist (0..${this.geom.columns - 1})`);
    return bit ?? 0;
  }

  /** Global buffer -> array buffer: puts `bits` at columns `cols`. */
  loadFromGlobal(to: ArrayRef, cols: readonly number[], bits: ArrayLike<number>): void {
    const dst = this.array(to);
    cols.forEach((c, i) => {
      this.checkCol(c, 0);
      dst.buffer[c] = bits[i]! & 1;
    });
    this.chargeGlobal(dst, cols.length);
  }

  /** Array buffer -> global buffer: returns the bits at columns `cols`. */
  storeToGlobal(from: ArrayRef, cols: readonly number[]): number[] {
    const src = this.array(from);
    const out = cols.map((c) => this.checkCol(c, src.buffer[c]));
    this.chargeGlobal(src, cols.length);
    return out;
  }

  private chargeGlobal(a: ApArray, n: number): void {
    const t = this.arch.timing;
    a.events.transferBitsChip += n;
    a.events.cycles += Math.ceil(n / t.globalBusBits) * t.globalBusCycles;
  }

  /** Moves the visible bits `cols` of one row to the same columns of another row (any arrays). */
  moveRow(from: ArrayRef & { row: number }, to: ArrayRef & { row: number }, cols: readonly number[]): void {
    const src = this.array(from);
    src.readRow(from.row, cols);
    this.transfer(from, cols, to, cols);
    this.array(to).writeRow(to.row, cols);
  }

  /**
   * Copies a value from one row to another (same or different array or tile), through the array
   * buffers, shifting the source and destination groups as needed to bring each bit under a port
   * (bits visible together move together), then shifting them home. Widths must match.
   */
  moveValue(from: RowValueRef, to: RowValueRef): void {
    if (from.value.width !== to.value.width)
      throw new RtapError(`moveValue: "${from.value.name}" has ${from.value.width} bits, "${to.value.name}" ${to.value.width}`);
    const src = this.array(from);
    const dst = this.array(to);
    const geom = this.geom;
    let remaining = [...Array(from.value.width).keys()];
    while (remaining.length > 0) {
      showCell(src, from.value.cells[remaining[0]!]!);
      const batch = remaining.filter((i) => geom.columnOfCell(from.value.cells[i]!, src.offsets) >= 0);
      const srcCols = batch.map((i) => geom.columnOfCell(from.value.cells[i]!, src.offsets));
      src.readRow(from.row, srcCols);
      const colOfBit = new Map(batch.map((i, k) => [i, srcCols[k]!]));
      // Within one array the buffer is shared: keep what was read so a later sub-batch is not
      // overwritten by an earlier one landing on the same columns.
      const readBits = new Map(batch.map((i, k) => [i, src.buffer[srcCols[k]!]!]));
      let pending = batch;
      while (pending.length > 0) {
        showCell(dst, to.value.cells[pending[0]!]!);
        const now = pending.filter((i) => geom.columnOfCell(to.value.cells[i]!, dst.offsets) >= 0);
        const dstCols = now.map((i) => geom.columnOfCell(to.value.cells[i]!, dst.offsets));
        for (const i of now) src.buffer[colOfBit.get(i)!] = readBits.get(i)!;
        this.transfer(from, now.map((i) => colOfBit.get(i)!), to, dstCols);
        dst.writeRow(to.row, dstCols);
        pending = pending.filter((i) => !now.includes(i));
      }
      remaining = remaining.filter((i) => !batch.includes(i));
    }
    homeArray(src);
    if (dst !== src) homeArray(dst);
  }

  /** Events per array, per tile and for the chip (unallocated arrays count zero). */
  events(): { chip: ApEvents; tiles: ApEvents[]; arrays: ApEvents[][] } {
    const arrays: ApEvents[][] = [];
    const tiles: ApEvents[] = [];
    for (let t = 0; t < this.arch.tiles; t++) {
      const row: ApEvents[] = [];
      for (let a = 0; a < this.arch.arraysPerTile; a++) {
        const arr = this.arrays[t * this.arch.arraysPerTile + a];
        row.push(arr ? { ...arr.events } : zeroEvents());
      }
      arrays.push(row);
      tiles.push(parallelEvents(row));
    }
    return { chip: parallelEvents(tiles), tiles, arrays };
  }
}

/** Shifts the cell's group to the nearest offset that puts the cell under a port. */
function showCell(a: ApArray, cell: number): void {
  const g = a.geom.groupOfCell(cell);
  if (g < 0 || a.geom.columnOfCell(cell, a.offsets) >= 0) return;
  const offs = a.geom.offsetsShowing(cell);
  const cur = a.offsets[g]!;
  let best = offs[0]!;
  for (const o of offs) if (Math.abs(o - cur) < Math.abs(best - cur)) best = o;
  a.shift(g, best - cur);
}

function homeArray(a: ApArray): void {
  for (let g = 0; g < a.offsets.length; g++) if (a.offsets[g] !== 0) a.shift(g, -a.offsets[g]!);
}

/**
 * The micro-op ISA of one AP array (all arrays of a tile run the same stream, SIMD over rows):
 *
 *   compare(cols, bits, combine)  search: a row matches when every listed column holds its bit;
 *                                 the match vector replaces (set), ANDs into (and) or ORs into (or)
 *                                 the tag register. An empty key matches every row.
 *   write(cols, bits)             in every tagged row, write bits into the listed columns.
 *   tag(fn)                       tag logic: set (all rows), clear, not, first (keep the first tagged row).
 *   shift(group, n)               move every track of a shift group, in every row, by n domains
 *                                 (n > 0: the ports then see higher domains).
 *   readRow(row, cols)            copy the row's visible bits at `cols` (null = every column) into the array buffer.
 *   writeRow(row, cols)           copy the array buffer at `cols` into the row.
 *
 * Transfers between array buffers (between arrays and tiles, and to the chip's global buffer) are
 * issued by the chip (src/ap/chip.ts), not by one array's stream.
 */
import type { ApTiming } from "./config.js";
import { zeroEvents, type ApEvents } from "./events.js";
import type { ApGeometry } from "./geometry.js";

export type Combine = "set" | "and" | "or";
export type TagFn = "set" | "clear" | "not" | "first";

export interface CompareOp {
  readonly op: "compare";
  readonly cols: readonly number[];
  readonly bits: readonly number[];
  readonly combine: Combine;
}
export interface WriteOp {
  readonly op: "write";
  readonly cols: readonly number[];
  readonly bits: readonly number[];
}
export interface TagOp {
  readonly op: "tag";
  readonly fn: TagFn;
}
export interface ShiftOp {
  readonly op: "shift";
  readonly group: number;
  readonly n: number;
}
export interface ReadRowOp {
  readonly op: "readRow";
  readonly row: number;
  readonly cols: readonly number[] | null;
}
export interface WriteRowOp {
  readonly op: "writeRow";
  readonly row: number;
  readonly cols: readonly number[] | null;
}

export type MicroOp = CompareOp | WriteOp | TagOp | ShiftOp | ReadRowOp | WriteRowOp;

/**
 * Every event of a micro-op stream that does not depend on the data (all but writeCells and
 * flagWriteCells, which depend on how many rows are tagged), for an array of `rows` rows.
 */
export function staticEvents(
  ops: readonly MicroOp[],
  geom: ApGeometry,
  timing: ApTiming,
  rows: number = geom.rows,
): ApEvents {
  const e = zeroEvents();
  addStaticEvents(e, ops, geom, timing, rows);
  return e;
}

export function addStaticEvents(
  e: ApEvents,
  ops: readonly MicroOp[],
  geom: ApGeometry,
  timing: ApTiming,
  rows: number = geom.rows,
): void {
  for (const op of ops) {
    switch (op.op) {
      case "compare": {
        let flagBits = 0;
        for (const c of op.cols) if (geom.isFlagColumn(c)) flagBits++;
        e.searches++;
        e.searchRowBits += rows * (op.cols.length - flagBits);
        e.flagSearchRowBits += rows * flagBits;
        if (op.combine !== "set") e.tagOps++;
        e.cycles += timing.compare;
        break;
      }
      case "write":
        e.writes++;
        e.cycles += timing.write;
        break;
      case "tag":
        e.tagOps++;
        e.cycles += timing.tagOp;
        break;
      case "shift": {
        const n = Math.abs(op.n);
        e.shifts++;
        e.shiftSteps += n;
        e.shiftTrackDomains += rows * geom.tracksPerGroup * n;
        e.cycles += n * timing.shiftPerDomain;
        break;
      }
      case "readRow":
        e.bufferReadBits += op.cols === null ? geom.columns : op.cols.length;
        e.cycles += timing.bufferRead;
        break;
      case "writeRow":
        e.bufferWriteBits += op.cols === null ? geom.columns : op.cols.length;
        e.cycles += timing.bufferWrite;
        break;
    }
  }
}

/** One micro-op as a line of text, e.g. `cmp t0p0=1 t1p0=0 f0=1`, `wr t1p0=1 f0=0`, `shift g0 +1`. */
export function formatMicroOp(op: MicroOp, geom: ApGeometry): string {
  const pairs = (cols: readonly number[], bits: readonly number[]): string =>
    cols.map((c, i) => `${geom.describeColumn(c)}=${bits[i]}`).join(" ");
  const colList = (cols: readonly number[] | null): string =>
    cols === null ? "*" : cols.map((c) => geom.describeColumn(c)).join(",");
  switch (op.op) {
    case "compare":
      return `cmp${op.combine === "set" ? "" : `.${op.combine}`} ${op.cols.length ? pairs(op.cols, op.bits) : "*"}`;
    case "write":
      return `wr ${pairs(op.cols, op.bits)}`;
    case "tag":
      return `tag.${op.fn}`;
    case "shift":
      return `shift g${op.group} ${op.n > 0 ? "+" : ""}${op.n}`;
    case "readRow":
      return `rdrow r${op.row} ${colList(op.cols)}`;
    case "writeRow":
      return `wrrow r${op.row} ${colList(op.cols)}`;
  }
}

export function formatProgram(ops: readonly MicroOp[], geom: ApGeometry): string {
  return ops.map((o) => formatMicroOp(o, geom)).join("\n");
}

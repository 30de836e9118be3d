/**
 * Layout and tiling: which physical row (tile, array, row) holds each output position of a unit,
 * and the data-movement model that prices every load and store by the distance it travels.
 *
 * Positions go across rows in raster order (the layout pass): neighbouring positions share an
 * array, so most receptive-field loads stay inside an array or a tile. With the layout pass off,
 * positions are dealt round-robin over the arrays (no locality). Rows beyond the chip's capacity
 * run in further passes.
 *
 * Movement model (the same formulas in both simulators):
 *  - store (a unit's result, per active row): row -> array buffer (bufferReadBits); the value stays
 *    in the array's local activation memory;
 *  - load (per active row): array buffer -> row (bufferWriteBits), after fetching the value from
 *    where its producer stored it: same array: nothing more; another array of the tile: the tile
 *    bus (transferBitsArray); another tile: the interconnect (transferBitsTile, and bits x router
 *    hops); the network input comes from the global buffer (transferBitsChip); padding is a
 *    constant and travels nowhere;
 *  - with the movement pass off every store and load goes through the chip's global buffer
 *    (transferBitsChip), the naive "activations live off-array" schedule.
 */
import type { ApArch } from "../ap/config.js";
import { zeroEvents, type ApEvents } from "../ap/events.js";
import type { Shape3 } from "../quantize/qgraph.js";
import type { LoadSource } from "./program.js";

export interface Place {
  tile: number;
  array: number;
  row: number;
}

export interface UnitMapping {
  shape: Shape3;
  positions: number;
  rowsPerArray: number;
  /** Arrays holding positions (per pass). */
  arrays: number;
  tiles: number;
  passes: number;
  /** Active rows / rows of the arrays used. */
  utilization: number;
  raster: boolean;
  /** Physical place of output position p. */
  place(p: number): Place;
  /** Active rows in each used array (index = global array index within a pass). */
  rowsInArray: Int32Array;
}

export function mapPositions(shape: Shape3, arch: ApArch, raster: boolean): UnitMapping {
  const [, H, W] = shape;
  const P = H * W;
  const R = arch.array.rows;
  const A = arch.arraysPerTile;
  const chipRows = arch.tiles * A * R;
  const passes = Math.max(1, Math.ceil(P / chipRows));
  const perPass = Math.ceil(P / passes);
  const arrays = Math.ceil(perPass / R);
  const tiles = Math.ceil(arrays / A);
  const rowsInArray = new Int32Array(arrays);
  const place = (p: number): Place => {
    const q = p % perPass;
    let g: number, row: number;
    if (raster) {
      g = Math.floor(q / R);
      row = q % R;
    } else {
      g = q % arrays;
      row = Math.floor(q / arrays);
    }
    return { tile: Math.floor(g / A), array: g % A, row };
  };
  for (let p = 0; p < perPass; p++) {
    const pl = place(p);
    rowsInArray[pl.tile * A + pl.array]!++;
  }
  return { shape, positions: P, rowsPerArray: R, arrays, tiles, passes, utilization: P / (passes * arrays * R), raster, place, rowsInArray };
}

/** Mesh hops between two tiles (tiles on a near-square grid), as the chip model counts them. */
export function tileHops(arch: ApArch, a: number, b: number): number {
  if (a === b) return 0;
  if (arch.interconnect === "htree") {
    // levels up to the common ancestor, up and down
    let x = a, y = b, h = 0;
    while (x !== y) {
      x >>= 1;
      y >>= 1;
      h += 2;
    }
    return h;
  }
  const cols = Math.ceil(Math.sqrt(arch.tiles));
  return Math.abs((a % cols) - (b % cols)) + Math.abs(Math.floor(a / cols) - Math.floor(b / cols));
}

export interface MovementContext {
  arch: ApArch;
  /** Mapping of the consumer unit. */
  mapping: UnitMapping;
  /** Mapping of the unit that produced each stored tensor ("input" is the global buffer). */
  producerMapping: (tensor: string) => UnitMapping | "global";
  /** Movement pass on (local activation memories) or off (everything via the global buffer). */
  local: boolean;
}

/** Events of one load step (width bits into every active row), summed over the unit's rows. */
export function loadEvents(ctx: MovementContext, src: LoadSource, width: number, srcShape: Shape3): ApEvents {
  const e = zeroEvents();
  const { mapping } = ctx;
  const [, OH, OW] = mapping.shape;
  const [, H, W] = srcShape;
  const prod = ctx.producerMapping(src.tensor);
  const A = ctx.arch.arraysPerTile;
  for (let p = 0; p < mapping.positions; p++) {
    const oy = Math.floor(p / OW), ox = p % OW;
    const iy = oy * src.sy + src.dy, ix = ox * src.sx + src.dx;
    e.bufferWriteBits += width;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue; // padding: a constant from the controller
    if (!ctx.local || prod === "global") {
      e.transferBitsChip += width;
      continue;
    }
    const from = prod.place(iy * W + ix);
    const to = mapping.place(p);
    if (from.tile === to.tile && from.array === to.array) continue;
    if (from.tile === to.tile) e.transferBitsArray += width;
    else {
      e.transferBitsTile += width;
      e.transferBitHopsTile += width * tileHops(ctx.arch, from.tile, to.tile);
    }
  }
  void A;
  void OH;
  return e;
}

/** Events of one store step (width bits from every active row). */
export function storeEvents(ctx: MovementContext, width: number): ApEvents {
  const e = zeroEvents();
  e.bufferReadBits = width * ctx.mapping.positions;
  if (!ctx.local) e.transferBitsChip = width * ctx.mapping.positions;
  return e;
}

/**
 * Cycles of a batch of movement bits per array: every active row is written (or read) once per
 * batch through the array buffer, and its bits cross the tile bus / links in beats. Arrays move
 * their rows in parallel; the unit waits for the slowest array.
 */
export function movementCycles(arch: ApArch, mapping: UnitMapping, bitsPerRow: number, kind: "load" | "store", remoteShare: number, globalShare = 0): number {
  const t = arch.timing;
  let rows = 0;
  for (const r of mapping.rowsInArray) rows = Math.max(rows, r);
  const rowOp = kind === "load" ? t.bufferWrite : t.bufferRead;
  const busBeats = Math.ceil(bitsPerRow / t.arrayBusBits) * t.arrayBusCycles;
  const linkBeats = remoteShare > 0 ? Math.ceil((bitsPerRow * remoteShare) / t.tileLinkBits) * t.tileLinkCycles : 0;
  // bits from/to the chip's global buffer cross its bus too (the movement pass off routes everything there)
  const globalBeats = globalShare > 0 ? Math.ceil((bitsPerRow * globalShare) / t.globalBusBits) * t.globalBusCycles : 0;
  return rows * (rowOp + busBeats + linkBeats + globalBeats) * mapping.passes;
}

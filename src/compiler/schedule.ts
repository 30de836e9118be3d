/**
 * The chip schedule: a unit's latency when its parts run at the same time on arrays of their own.
 *
 * A conv unit is lowered as parts, one per (output block, term, input-channel slice)
 * (UnitProgram.parts). With constant weight folding a part's weights are its instruction stream,
 * so two parts can only run at the same time under two controllers. The architecture gives
 * `tiles x controllersPerTile` micro-op streams, each driving `arraysPerTile / controllersPerTile`
 * arrays (the arrays of a stream run the same micro-ops, SIMD). A part needs as many streams as its
 * positions need arrays (the unit's mapping), so `floor(streams / that)` parts run at once ("slots").
 *
 * Per output block: every part computes its partial sums on its own arrays (its COMPUTE steps);
 * the partial sums of all parts but the last travel to the last part's arrays (the reducer: a row
 * read to the array buffer, the tile bus or the tile links, a row write), which then runs the
 * block's REDUCE steps (accumulation) and FINAL steps (combination, requantization, stores). The
 * reduction starts when the last partial sum has arrived. Blocks are independent. Parts are given
 * to the slot that frees first (list scheduling, in program order, the reducer first).
 *
 * What the model leaves out, documented in docs/compiler.md ("chip schedule"):
 *  - a part's loads run on its own arrays, clocked as the serial stream clocks them, and are priced
 *    from the unit's position placement as if every part sat there (parts on other tiles would
 *    fetch their codes from further away; loads and stores are ~1% of the energy);
 *  - units run one after another (a network's units form a chain here: residual shortcuts are terms
 *    of the unit that adds them).
 * With one slot (or positions over more than the chip) the unit runs as the serial stream it is.
 *
 * The simulated program is the parts in program order, so values and every event but the cycles
 * and the partial-sum transfers are those of the serial stream (integer sums: the order of the
 * reduction changes nothing).
 */
import type { ApArch } from "../ap/config.js";
import { zeroEvents, type ApEvents } from "../ap/events.js";
import { movementCycles, tileHops, type UnitMapping } from "./mapping.js";
import type { UnitProgram } from "./program.js";
import type { PartProfile } from "./simulate.js";

export interface UnitSchedule {
  /** Cycles of the serial stream (all steps one after another, loads and stores included), per image. */
  serialCycles: number;
  /** The unit's latency in cycles under the chip schedule, per image. */
  cycles: number;
  parts: number;
  /** Parts that can run at the same time (1: the serial stream). */
  slots: number;
  /** Movement of partial sums to the reducers, per image (cycles not included). */
  transfer: ApEvents;
}

/** Independent micro-op streams of the chip and the arrays each drives. */
export function chipStreams(arch: ApArch): { streams: number; arraysPerStream: number } {
  const ctrl = arch.controllersPerTile ?? 1;
  return { streams: arch.tiles * ctrl, arraysPerStream: arch.arraysPerTile / ctrl };
}

/** Parts of a unit on this mapping that can run at once (1 when its positions need more than the chip). */
export function scheduleSlots(mapping: UnitMapping, arch: ApArch): number {
  if (mapping.passes > 1) return 1;
  const { streams, arraysPerStream } = chipStreams(arch);
  return Math.max(1, Math.floor(streams / Math.ceil(mapping.arrays / arraysPerStream)));
}

/**
 * The unit's schedule from its part profile (per array stream, one image, loads and stores included).
 */
export function scheduleUnit(p: UnitProgram, prof: PartProfile, mapping: UnitMapping, arch: ApArch): UnitSchedule {
  const nParts = prof.compute.length;
  const serialCycles = prof.staticCycles * mapping.passes + prof.movementCycles;
  const transfer = zeroEvents();
  const { arraysPerStream } = chipStreams(arch);
  const need = Math.ceil(mapping.arrays / arraysPerStream);
  const slots = nParts < 2 ? 1 : scheduleSlots(mapping, arch);
  if (slots < 2) return { serialCycles, cycles: serialCycles, parts: nParts, slots: 1, transfer };

  const ctrl = arch.controllersPerTile ?? 1;
  const tileOfSlot = (j: number): number => Math.floor((j * need) / ctrl);
  const P = mapping.positions;
  const transferCycles = (bits: number, remote: boolean): number =>
    movementCycles(arch, mapping, bits, "store", 0) + movementCycles(arch, mapping, bits, "load", remote ? 1 : 0);
  const free = new Float64Array(slots);
  const pick = (): number => {
    let best = 0;
    for (let j = 1; j < slots; j++) if (free[j]! < free[best]!) best = j;
    return best;
  };
  // parts by block, in program order (a block's parts are consecutive; its last part reduces)
  let end = 0;
  for (let first = 0; first < nParts; ) {
    let last = first;
    while (last + 1 < nParts && p.parts[last + 1]!.block === p.parts[first]!.block) last++;
    const sr = pick();
    let arrive = free[sr]! + prof.compute[last]!;
    free[sr] = Infinity; // reserved until the block is done
    let reduce = prof.reduce[last]! + prof.final[last]!;
    for (let k = first; k < last; k++) {
      const sk = pick();
      const done = free[sk]! + prof.compute[k]!;
      const bits = p.parts[k]!.transferBits;
      let x = 0;
      if (bits > 0) {
        const ta = tileOfSlot(sk), tb = tileOfSlot(sr);
        x = transferCycles(bits, ta !== tb);
        transfer.bufferReadBits += bits * P;
        transfer.bufferWriteBits += bits * P;
        if (ta === tb) transfer.transferBitsArray += bits * P;
        else {
          transfer.transferBitsTile += bits * P;
          transfer.transferBitHopsTile += bits * P * tileHops(arch, ta, tb);
        }
      }
      free[sk] = done + x;
      arrive = Math.max(arrive, done + x);
      reduce += prof.reduce[k]! + prof.final[k]!;
    }
    free[sr] = arrive + reduce;
    end = Math.max(end, free[sr]!);
    first = last + 1;
  }
  return { serialCycles, cycles: end, parts: nParts, slots, transfer };
}

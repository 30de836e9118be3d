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
 *  - the partial-sum transfers' energy is priced from this per-unit schedule (which tile a part
 *    lands on); the network schedule times them by its own placement.
 * With one slot (or positions over more than the chip) the unit runs as the serial stream it is.
 *
 * The network (networkSchedule): every unit's blocks in program order on the same streams, each
 * part starting once the blocks that produce the channels it reads are done (ProgramPart.reads,
 * `outputs`), so a consumer's first slices run while its producer finishes its last blocks. A
 * unit's cycles become its share of the network's latency (the growth of the finishing time); the
 * shares sum to the latency.
 *
 * The simulated program is the parts in program order, so values and every event but the cycles
 * and the partial-sum transfers are those of the serial stream (integer sums: the order of the
 * reduction changes nothing).
 */
import type { ApArch } from "../ap/config.js";
import { zeroEvents, type ApEvents } from "../ap/events.js";
import { movementCycles, tileHops, type UnitMapping } from "./mapping.js";
import type { PartRead, UnitProgram } from "./program.js";
import type { PartProfile } from "./simulate.js";

/** A part as the schedules see it (per image, on one group of the unit's `need` streams). */
export interface PartSummary {
  compute: number;
  /** Bits per row of the partial sums it sends to its block's reducer (0 for the reducer). */
  bits: number;
  /** Cycles of sending them: within a tile, and between tiles. */
  xLocal: number;
  xRemote: number;
  reads: PartRead[];
}

/** An output block: its parts (the last reduces) and the cycles of its reduction and final steps at the reducer. */
export interface BlockSummary {
  outputs: [number, number];
  reduce: number;
  parts: PartSummary[];
}

/**
 * A unit as the schedules see it (compact and structured-clone friendly: compare's worker threads
 * send it with the unit's events).
 */
export interface ScheduleSummary {
  /** The tensor the unit writes (its blocks' `outputs` are channels of it). */
  output: string;
  /** Streams of the chip, streams each part takes, controllers per tile (tile of stream s = floor(s / ctrl)). */
  streams: number;
  need: number;
  ctrl: number;
  blocks: BlockSummary[];
  /** The unit's latency alone (UnitSchedule.cycles). */
  cycles: number;
  /** Weight-stationary units: on arrays of their own, no shared stream. */
  dedicated?: boolean;
}

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
  /** The unit for the network schedule (networkSchedule). */
  summary: ScheduleSummary;
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
 * The list scheduler both schedules use: a unit's blocks in order on the chip's streams (`free`:
 * when each stream is next free; the unit takes them in groups of `need`). Per block the reducer
 * takes the group that frees first (reserved until the block is done), then every other part the
 * group that frees first; a part starts when its group is free and its reads are ready, then sends
 * its partial sums (within a tile or between tiles); the reducer's reduction starts when the last
 * has arrived. Calls `onTransfer` per part that sends, with the tiles of both ends. Returns when
 * each block ends.
 */
function scheduleBlocks(
  u: ScheduleSummary, free: Float64Array, readyOf: (reads: readonly PartRead[]) => number,
  onTransfer?: (part: PartSummary, from: number, to: number) => void,
): Float64Array {
  const k = u.need, groups = Math.max(1, Math.floor(free.length / k));
  const groupFree = (j: number): number => {
    let t = 0;
    for (let s = j * k; s < (j + 1) * k; s++) t = Math.max(t, free[s]!);
    return t;
  };
  const pick = (): number => {
    let best = 0, bt = groupFree(0);
    for (let j = 1; j < groups; j++) {
      const t = groupFree(j);
      if (t < bt) (best = j), (bt = t);
    }
    return best;
  };
  const tile = (j: number): number => Math.floor((j * k) / u.ctrl);
  const ends = new Float64Array(u.blocks.length);
  u.blocks.forEach((b, bi) => {
    const last = b.parts.length - 1;
    const jr = pick();
    const reducer = b.parts[last]!;
    let arrive = Math.max(groupFree(jr), readyOf(reducer.reads)) + reducer.compute;
    free.fill(Infinity, jr * k, (jr + 1) * k); // reserved until the block is done
    for (let q = 0; q < last; q++) {
      const part = b.parts[q]!;
      const j = pick();
      const done = Math.max(groupFree(j), readyOf(part.reads)) + part.compute;
      let x = 0;
      if (part.bits > 0) {
        x = tile(j) === tile(jr) ? part.xLocal : part.xRemote;
        onTransfer?.(part, tile(j), tile(jr));
      }
      free.fill(done + x, j * k, (j + 1) * k);
      arrive = Math.max(arrive, done + x);
    }
    ends[bi] = arrive + b.reduce;
    free.fill(ends[bi]!, jr * k, (jr + 1) * k);
  });
  return ends;
}

/**
 * The unit's schedule from its part profile (per array stream, one image, loads and stores included).
 */
export function scheduleUnit(p: UnitProgram, prof: PartProfile, mapping: UnitMapping, arch: ApArch): UnitSchedule {
  const nParts = prof.compute.length;
  const serialCycles = prof.staticCycles * mapping.passes + prof.movementCycles;
  const transfer = zeroEvents();
  const { streams, arraysPerStream } = chipStreams(arch);
  const need = Math.min(streams, Math.ceil(mapping.arrays / arraysPerStream));
  const slots = nParts < 2 ? 1 : scheduleSlots(mapping, arch);
  // every channel of every tensor the unit loads (parts without channel ranges, the serial stream)
  let every: PartRead[] | undefined;
  const allReads = (): PartRead[] => (every ??= [...new Set(p.loads.map((l) => l.tensor))].map((tensor) => ({ tensor, c0: 0, c1: Number.MAX_SAFE_INTEGER })));
  const C = mapping.shape[0]!;
  const summary: ScheduleSummary = { output: p.storeTensor[0] ?? "", streams, need, ctrl: arch.controllersPerTile ?? 1, blocks: [], cycles: serialCycles };
  if (slots < 2) {
    // one stream group runs the unit (all streams when its positions need more than the chip)
    if (mapping.passes > 1) summary.need = streams;
    summary.blocks.push({ outputs: [0, C], reduce: 0, parts: [{ compute: serialCycles, bits: 0, xLocal: 0, xRemote: 0, reads: allReads() }] });
    return { serialCycles, cycles: serialCycles, parts: nParts, slots: 1, transfer, summary };
  }
  const transferCycles = (bits: number, remote: boolean): number =>
    bits > 0 ? movementCycles(arch, mapping, bits, "store", 0) + movementCycles(arch, mapping, bits, "load", remote ? 1 : 0) : 0;
  // parts by block, in program order (a block's parts are consecutive; its last part reduces)
  for (let first = 0; first < nParts; ) {
    let last = first;
    while (last + 1 < nParts && p.parts[last + 1]!.block === p.parts[first]!.block) last++;
    const block: BlockSummary = { outputs: p.parts[last]!.outputs ?? [0, C], reduce: 0, parts: [] };
    // (the reduction's cycles summed reducer first, as the reducer runs them)
    block.reduce = prof.reduce[last]! + prof.final[last]!;
    for (let k = first; k <= last; k++) {
      const bits = k < last ? p.parts[k]!.transferBits : 0;
      block.parts.push({ compute: prof.compute[k]!, bits, xLocal: transferCycles(bits, false), xRemote: transferCycles(bits, true), reads: p.parts[k]!.reads ?? allReads() });
      if (k < last) block.reduce += prof.reduce[k]! + prof.final[k]!;
    }
    summary.blocks.push(block);
    first = last + 1;
  }
  // the unit alone: every stream free, every input ready
  const P = mapping.positions;
  const ends = scheduleBlocks(summary, new Float64Array(streams), () => 0, (part, from, to) => {
    transfer.bufferReadBits += part.bits * P;
    transfer.bufferWriteBits += part.bits * P;
    if (from === to) transfer.transferBitsArray += part.bits * P;
    else {
      transfer.transferBitsTile += part.bits * P;
      transfer.transferBitHopsTile += part.bits * P * tileHops(arch, from, to);
    }
  });
  summary.cycles = ends.reduce((m, e) => Math.max(m, e), 0);
  return { serialCycles, cycles: summary.cycles, parts: nParts, slots, transfer, summary };
}

/** A weight-stationary unit for the network schedule: its own arrays, `cycles` per image once its input is complete. */
export function dedicatedSummary(output: string, outChannels: number, input: string, cycles: number, arch: ApArch): ScheduleSummary {
  const { streams } = chipStreams(arch);
  return {
    output, streams, need: 1, ctrl: arch.controllersPerTile ?? 1, cycles, dedicated: true,
    blocks: [{ outputs: [0, outChannels], reduce: 0, parts: [{ compute: cycles, bits: 0, xLocal: 0, xRemote: 0, reads: [{ tensor: input, c0: 0, c1: Number.MAX_SAFE_INTEGER }] }] }],
  };
}

/**
 * The network schedule: every unit's blocks on the chip's streams in program order, by the same
 * list scheduler as one unit alone (scheduleBlocks), except that a part starts only when the blocks
 * producing the channels it reads are done (a consumer's first input slice can run while its
 * producer finishes its last blocks). Returns the network's latency per image and what each unit
 * adds to it (the growth of the finishing time over the units before it: they sum to the latency;
 * a unit that finishes inside an earlier one's time adds 0), or null when a unit has no summary
 * (the fault study runs without schedules).
 *
 * Assumptions (docs/compiler.md 2.8a): a unit's outputs can be read as soon as its block is done;
 * partial-sum transfers are priced (energy) from the unit's own schedule, timed here by the tiles
 * this schedule puts the parts on; weight-stationary units run on arrays of their own.
 */
export function networkSchedule(units: readonly (ScheduleSummary | undefined)[]): { cycles: number; perUnit: Float64Array } | null {
  if (!units.length || units.some((u) => !u)) return null;
  const S = units[0]!.streams;
  if (units.some((u) => u!.streams !== S)) return null;
  const free = new Float64Array(S);
  const ready = new Map<string, Float64Array>();
  const readyOf = (reads: readonly PartRead[]): number => {
    let t = 0;
    for (const r of reads) {
      const a = ready.get(r.tensor);
      if (!a) continue; // the network input: ready from the start
      const hi = Math.min(r.c1, a.length);
      for (let c = r.c0; c < hi; c++) if (a[c]! > t) t = a[c]!;
    }
    return t;
  };
  const perUnit = new Float64Array(units.length);
  let makespan = 0;
  units.forEach((u, i) => {
    // weight-stationary units: their own arrays, never a shared stream
    const ends = scheduleBlocks(u!, u!.dedicated ? new Float64Array(u!.need) : free, readyOf);
    const out = new Float64Array(u!.blocks.reduce((m, b) => Math.max(m, b.outputs[1]), 0));
    let finish = 0;
    u!.blocks.forEach((b, bi) => {
      out.fill(ends[bi]!, b.outputs[0], b.outputs[1]);
      finish = Math.max(finish, ends[bi]!);
    });
    ready.set(u!.output, out);
    const before = makespan;
    makespan = Math.max(makespan, finish);
    perUnit[i] = makespan - before;
  });
  return { cycles: makespan, perUnit };
}

/**
 * Per unit, what the network schedule changes in its cycles (per image): networkSchedule's
 * share minus the unit's latency alone; null when a unit has no summary. Add it (times the image
 * count, for batch totals) to the unit's events.
 */
export function networkCycleDeltas(summaries: readonly (ScheduleSummary | undefined)[]): Float64Array | null {
  const net = networkSchedule(summaries);
  if (!net) return null;
  return net.perUnit.map((c, i) => c - summaries[i]!.cycles);
}

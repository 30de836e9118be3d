/**
 * Event counts of an AP: what every micro-op did, with its size, so a cost model can price a run
 * afterwards (events x per-event energy / latency) without simulating again. One record exists per
 * array; tiles and the chip aggregate them (sums, except `cycles`, see `parallelEvents`).
 *
 * "Track" counters cover the RTM (or SRAM) cells that hold data; "flag" counters cover the few
 * static per-row flag bits (carry, sign, comparison flags) that sit beside the tag latch and never
 * shift. They are kept apart because their energies differ by orders of magnitude on RTM (a domain
 * write is a current pulse through a nanowire; a flag is a CMOS latch).
 */
export interface ApEvents {
  /** compare micro-ops issued. */
  searches: number;
  /** Sum over compares of (rows of the array) x (track bits in the key mask). */
  searchRowBits: number;
  /** Sum over compares of (rows of the array) x (flag bits in the key mask). */
  flagSearchRowBits: number;
  /** write micro-ops issued. */
  writes: number;
  /** Track cells written: sum over writes of (tagged rows) x (track bits in the write mask). Data-dependent. */
  writeCells: number;
  /** Flag cells written: sum over writes of (tagged rows) x (flag bits in the write mask). Data-dependent. */
  flagWriteCells: number;
  /** Tag-logic operations: tag micro-ops (set/clear/not/first) plus compares that combine (and/or) into the tag. */
  tagOps: number;
  /** shift micro-ops issued (one per shift group moved). */
  shifts: number;
  /** Sum over shifts of |n| (domains a group moved; what shift latency scales with). */
  shiftSteps: number;
  /** Sum over shifts of (rows) x (tracks in the group) x |n|: nanowire-domain moves (what shift energy scales with). */
  shiftTrackDomains: number;
  /** Bits read from rows into the array buffer (readRow). */
  bufferReadBits: number;
  /** Bits written from the array buffer into rows (writeRow). */
  bufferWriteBits: number;
  /** Bits sent between arrays of one tile (tile bus), counted at the sender. */
  transferBitsArray: number;
  /** Bits sent between tiles (interconnect), counted at the sender. */
  transferBitsTile: number;
  /** Sum over tile-to-tile transfers of bits x router hops. */
  transferBitHopsTile: number;
  /** Bits between an array buffer and the chip's global buffer (either direction), counted at the array. */
  transferBitsChip: number;
  /** Controller clock cycles this array spent (see the timing section of the architecture file). */
  cycles: number;
}

export type ApEventKind = keyof ApEvents;

export const EVENT_KINDS: readonly ApEventKind[] = [
  "searches",
  "searchRowBits",
  "flagSearchRowBits",
  "writes",
  "writeCells",
  "flagWriteCells",
  "tagOps",
  "shifts",
  "shiftSteps",
  "shiftTrackDomains",
  "bufferReadBits",
  "bufferWriteBits",
  "transferBitsArray",
  "transferBitsTile",
  "transferBitHopsTile",
  "transferBitsChip",
  "cycles",
];

/** Counters that depend on the data (how many rows are tagged when a write happens). */
export const DATA_DEPENDENT_EVENTS: readonly ApEventKind[] = ["writeCells", "flagWriteCells"];

export function zeroEvents(): ApEvents {
  return {
    searches: 0,
    searchRowBits: 0,
    flagSearchRowBits: 0,
    writes: 0,
    writeCells: 0,
    flagWriteCells: 0,
    tagOps: 0,
    shifts: 0,
    shiftSteps: 0,
    shiftTrackDomains: 0,
    bufferReadBits: 0,
    bufferWriteBits: 0,
    transferBitsArray: 0,
    transferBitsTile: 0,
    transferBitHopsTile: 0,
    transferBitsChip: 0,
    cycles: 0,
  };
}

/** into += from (every counter, cycles included: for events of one sequential stream). */
export function addEvents(into: ApEvents, from: Readonly<ApEvents>): ApEvents {
  for (const k of EVENT_KINDS) into[k] += from[k];
  return into;
}

/** into += factor x from. */
export function addScaledEvents(into: ApEvents, from: Readonly<ApEvents>, factor: number): ApEvents {
  for (const k of EVENT_KINDS) into[k] += factor * from[k];
  return into;
}

/**
 * Aggregate of units that run side by side (the arrays of a tile, the tiles of a chip): every
 * counter is summed, except `cycles`, which is the maximum (they run in parallel).
 */
export function parallelEvents(parts: readonly Readonly<ApEvents>[]): ApEvents {
  const out = zeroEvents();
  for (const p of parts) {
    for (const k of EVENT_KINDS) if (k !== "cycles") out[k] += p[k];
    out.cycles = Math.max(out.cycles, p.cycles);
  }
  return out;
}

export function cloneEvents(e: Readonly<ApEvents>): ApEvents {
  return addEvents(zeroEvents(), e);
}

/** The counters of `e` that differ from zero, for compact printing. */
export function nonZeroEvents(e: Readonly<ApEvents>): Partial<ApEvents> {
  const out: Partial<ApEvents> = {};
  for (const k of EVENT_KINDS) if (e[k] !== 0) out[k] = e[k];
  return out;
}

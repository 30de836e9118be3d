/**
 * Seeded fault injection for the bit-level simulator.
 *
 *  - Shift faults (RTM position errors, "out-of-step" in Hi-fi Playback's terms): every nanowire
 *    moved by a shift micro-op (each track of the group in each row), independently with
 *    probability `shiftFaultProb`, moves one domain too far or one too short (equally likely). The
 *    error persists: that row's track stays displaced by one domain relative to its group until
 *    another fault moves it back; the bit pushed off the end of the track is lost and a 0 enters
 *    at the other end.
 *  - Write flips: every cell written (by a write micro-op in a tagged row, or by writeRow),
 *    independently with probability `writeFlipProb`, stores the opposite of the intended bit.
 *
 * Faults are drawn with geometric gaps between events (one random number per fault, not per
 * cell), from `Rng` seeded by `seed`, so a run is reproducible. With both probabilities 0 no random
 * number is drawn and the simulation is identical to a fault-free one.
 */
import { RtapError } from "../errors.js";
import { Rng } from "../util/random.js";

export interface FaultOptions {
  /** Probability that one nanowire mis-shifts in one shift micro-op. */
  shiftFaultProb?: number;
  /** Probability that one written cell stores the wrong bit. */
  writeFlipProb?: number;
  seed?: number;
}

export interface FaultStats {
  /** Cells that stored the wrong bit. */
  writeFlips: number;
  /** Nanowires that mis-shifted (over- plus under-shifts). */
  shiftFaults: number;
  overShifts: number;
  underShifts: number;
}

export class FaultInjector {
  readonly shiftFaultProb: number;
  readonly writeFlipProb: number;
  readonly stats: FaultStats = { writeFlips: 0, shiftFaults: 0, overShifts: 0, underShifts: 0 };
  private readonly rng: Rng;

  constructor(opts: FaultOptions) {
    this.shiftFaultProb = checkProb(opts.shiftFaultProb ?? 0, "shiftFaultProb");
    this.writeFlipProb = checkProb(opts.writeFlipProb ?? 0, "writeFlipProb");
    this.rng = new Rng(opts.seed ?? 1);
  }

  get active(): boolean {
    return this.shiftFaultProb > 0 || this.writeFlipProb > 0;
  }

  /** Number of fault-free trials before the next fault (geometric distribution). */
  gap(prob: number): number {
    if (prob >= 1) return 0;
    const u = this.rng.next();
    return Math.floor(Math.log(1 - u) / Math.log(1 - prob));
  }

  /** +1 (over-shift) or -1 (under-shift), equally likely. */
  direction(): number {
    return this.rng.next() < 0.5 ? 1 : -1;
  }
}

function checkProb(p: number, field: string): number {
  if (!(typeof p === "number" && p >= 0 && p <= 1))
    throw new RtapError(`must be a probability in 0..1 (got ${String(p)})`, `faults.${field}`);
  return p;
}

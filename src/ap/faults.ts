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
  /**
   * Per-image fault streams (the reliability study): when set, the probabilities and seed here are
   * ignored and the arrays draw from the stream; image n of a simulated batch is stream image
   * `imageBase + n` (the bit-level simulator sets imageBase per chunk of images).
   */
  stream?: FaultStream;
  imageBase?: number;
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

// --- per-image fault streams (the reliability study, src/faults.ts) -------------------------------

/**
 * Shift-fault protection modelled in the bit-level simulator: a p-ECC-style position code (after
 * Zhang et al., "Hi-fi Playback", ISCA 2015: position-error-correcting code domains stored along
 * the track and sensed by extra read heads after a shift). Every nanowire carries a periodic code
 * 0011 0011 ... in extra domains, sensed by two extra heads one domain apart, so the heads read the
 * track's position modulo 4 (a 2-bit Gray count). After every `interval`-th shift of a group the
 * controller senses all its nanowires and, per nanowire, from its displacement d (mod 4):
 *  - d = +-1: corrected: that nanowire is shifted back one domain (the corrective shift may itself
 *    mis-shift, with the same probability; it is checked again);
 *  - d = 2: detected, uncorrectable (+2 and -2 read alike): reported, left as is;
 *  - d = +-3: read as -+1 and "corrected" the wrong way to +-4, which reads as 0: silent (counted
 *    as miscorrected by the simulator, which knows the truth).
 * The code and guard domains keep the bits a displaced track pushes past its ends, so a corrected
 * track holds its data unchanged. Costs (domains, reads, shifts, cycles): src/faults.ts `protectionOverhead`.
 */
export interface ProtectionSpec {
  scheme: "pecc";
  /** Check after every `interval`-th shift of a group (1 = every shift). */
  interval: number;
}

export interface StreamImageStats {
  shiftFaults: number;
  writeFlips: number;
  /** Protection: nanowires put back in place. */
  corrected: number;
  /** Protection: displacements detected and not correctable (d = 2). */
  uncorrectable: number;
  /** Protection: displacements the code could not see (|d| >= 3 read as a smaller one). */
  miscorrected: number;
}

/**
 * Faults as Bernoulli processes in a fixed trial order, per image: shift trials are (shift micro-op,
 * array, track of the group, row of the image) in that order; write trials are (written column,
 * array, row of the image), every row counting whether tagged or not, a fault on an untagged row
 * doing nothing (so the trial count of a unit does not depend on the data); buffer row writes are
 * one trial per column. Each image keeps a countdown to its next fault (geometric gaps, its own
 * Rng), so the caller can draw the first gaps itself, know that a unit receives no fault (gap
 * beyond the unit's trial count) without simulating it, and hand the same countdowns to the
 * simulator when it does. With `count` set and probabilities 0, it only counts trials.
 */
export class FaultStream {
  readonly shiftProb: number;
  readonly writeProb: number;
  /** Physical rows per image and array (trials count every one of them). */
  readonly rowsPerImage: number;
  /**
   * Rows per image the simulated arrays hold (default rowsPerImage): the study simulates only the
   * rows that hold positions; a fault drawn on a physical row beyond them lands in an idle row,
   * which no output reads, and is counted but not simulated.
   */
  readonly simRowsPerImage: number;
  readonly protect: ProtectionSpec | null;
  readonly shiftLeft: Float64Array;
  readonly writeLeft: Float64Array;
  readonly shiftTrials: Float64Array;
  readonly writeTrials: Float64Array;
  readonly stats: StreamImageStats[];
  private readonly rngs: Rng[];
  /** log(1 - p) of each rate, computed once (the same double geometricGap computes per draw). */
  private readonly shiftLog: number;
  private readonly writeLog: number;

  constructor(opts: {
    shiftProb: number; writeProb: number; rowsPerImage: number; simRowsPerImage?: number; rngs: Rng[];
    shiftLeft?: ArrayLike<number>; writeLeft?: ArrayLike<number>; protect?: ProtectionSpec | null;
  }) {
    this.shiftProb = checkProb(opts.shiftProb, "shiftFaultProb");
    this.writeProb = checkProb(opts.writeProb, "writeFlipProb");
    this.rowsPerImage = opts.rowsPerImage;
    this.simRowsPerImage = opts.simRowsPerImage ?? opts.rowsPerImage;
    if (!(this.simRowsPerImage >= 1 && this.simRowsPerImage <= this.rowsPerImage)) throw new RtapError(`simulated rows per image must be 1..${this.rowsPerImage}`);
    this.rngs = opts.rngs;
    this.shiftLog = Math.log(1 - this.shiftProb);
    this.writeLog = Math.log(1 - this.writeProb);
    const n = opts.rngs.length;
    this.shiftLeft = new Float64Array(n);
    this.writeLeft = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.shiftLeft[i] = opts.shiftLeft ? opts.shiftLeft[i]! : geometricGap(this.rngs[i]!, this.shiftProb);
      this.writeLeft[i] = opts.writeLeft ? opts.writeLeft[i]! : geometricGap(this.rngs[i]!, this.writeProb);
    }
    this.shiftTrials = new Float64Array(n);
    this.writeTrials = new Float64Array(n);
    this.stats = Array.from({ length: n }, () => ({ shiftFaults: 0, writeFlips: 0, corrected: 0, uncorrectable: 0, miscorrected: 0 }));
    this.protect = opts.protect ?? null;
    if (this.protect && !(Number.isInteger(this.protect.interval) && this.protect.interval >= 1))
      throw new RtapError(`must be an integer >= 1 (got ${String(this.protect.interval)})`, "protection interval");
  }

  get images(): number {
    return this.rngs.length;
  }

  nextShiftGap(image: number): number {
    return gapWithLog(this.rngs[image]!, this.shiftProb, this.shiftLog);
  }

  nextWriteGap(image: number): number {
    return gapWithLog(this.rngs[image]!, this.writeProb, this.writeLog);
  }

  direction(image: number): number {
    return this.rngs[image]!.next() < 0.5 ? 1 : -1;
  }

  /** A corrective one-domain shift of one nanowire mis-shifts (same per-shift probability). */
  correctionFaults(image: number): boolean {
    return this.shiftProb > 0 && this.rngs[image]!.next() < this.shiftProb;
  }
}

/** Fault-free trials before the next fault (Infinity when prob is 0). */
export function geometricGap(rng: Rng, prob: number): number {
  return gapWithLog(rng, prob, Math.log(1 - prob));
}

/** geometricGap with log(1 - prob) given (Math.log costs ~25 ns; fault runs draw millions of gaps). */
function gapWithLog(rng: Rng, prob: number, logKeep: number): number {
  if (prob <= 0) return Infinity;
  if (prob >= 1) return 0;
  return Math.floor(Math.log(1 - rng.next()) / logKeep);
}

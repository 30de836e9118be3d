/**
 * A micro-op stream under construction: the serial program that every array of a tile runs
 * (SIMD). Macro-ops are expanded from the offsets the previous ops left, so shift counts are exact
 * for the whole stream; with `returnHome` (default) every macro-op ends with its groups at home.
 */
import type { ApTiming } from "./config.js";
import type { ApEvents } from "./events.js";
import type { ApGeometry } from "./geometry.js";
import { expandMacro, type MacroOp, type MacroPlan } from "./macro.js";
import { formatProgram, staticEvents, type MicroOp } from "./microop.js";

export class ApProgram {
  readonly geom: ApGeometry;
  readonly micro: MicroOp[] = [];
  readonly plans: MacroPlan[] = [];
  /** Offsets of the shift groups after the ops so far. */
  readonly offsets: Int32Array;
  readonly returnHome: boolean;

  constructor(geom: ApGeometry, opts: { returnHome?: boolean } = {}) {
    this.geom = geom;
    this.offsets = new Int32Array(geom.groups);
    this.returnHome = opts.returnHome ?? true;
  }

  /** Expands and appends a macro-op. */
  macro(op: MacroOp): MacroPlan {
    const plan = expandMacro(op, this.geom, { offsets: this.offsets, returnHome: this.returnHome });
    this.micro.push(...plan.micro);
    this.offsets.set(plan.endOffsets);
    this.plans.push(plan);
    return plan;
  }

  /** Appends a raw micro-op (shifts update the tracked offsets). */
  push(op: MicroOp): void {
    if (op.op === "shift") this.offsets[op.group] = this.offsets[op.group]! + op.n;
    this.micro.push(op);
  }

  /** Shifts every group back home. */
  home(): void {
    for (let g = 0; g < this.offsets.length; g++) if (this.offsets[g] !== 0) this.push({ op: "shift", group: g, n: -this.offsets[g]! });
  }

  staticEvents(timing: ApTiming, rows?: number): ApEvents {
    return staticEvents(this.micro, this.geom, timing, rows ?? this.geom.rows);
  }

  text(): string {
    return formatProgram(this.micro, this.geom);
  }
}

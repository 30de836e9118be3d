/**
 * Closed-form event counts of the macro-ops for the two standard placements, written from the
 * pass tables (docs/ap.md) rather than by expanding — the tests check that the expander produces
 * exactly these counts.
 *
 *  - "aligned" (RTM): every value along a track of one shift group, all LSBs at the domain under a
 *    port at home (an operand read with shift s stored s domains higher), scratch in flags, groups
 *    at home before and after. Bit step i runs at offset i: one 1-domain shift per step, one
 *    shift back home at the end.
 *  - "static": every bit always under a port (SRAM-CAM, or RTM values across tracks): no shifts,
 *    and sign bits are read in place (no capture).
 *
 * Notation: P(L) passes of LUT L; Kt(L), Kf(L) track and flag key bits summed over its passes.
 * Each pass is one compare and one write; cycles = searches*compare + writes*write +
 * tagOps(explicit)*tagOp + shiftSteps*shiftPerDomain.
 */
import { ctz32, popcount32 } from "./bits.js";
import type { ApTiming } from "./config.js";
import { zeroEvents, type ApEvents } from "./events.js";
import type { Lut } from "./lut.js";
import {
  addCarryLut,
  addConstLut,
  addLut,
  addOutLut,
  clearLut,
  copyLut,
  maxCompareLut,
  maxSelectLut,
  negInPlaceLut,
  negOutLut,
  setBitLut,
  signCaptureLut,
  subBorrowLut,
  subLut,
} from "./luts.js";
import { planThresholds } from "./macro.js";
import { lessThanLut } from "./luts.js";

export type Placement = "aligned" | "static";

export interface FormulaContext {
  placement: Placement;
  rows: number;
  tracksPerGroup: number;
  timing: ApTiming;
}

/** Accumulates LUT uses: `times` x LUT, with the named columns living in flags. */
class Tally {
  searches = 0;
  writes = 0;
  trackKey = 0;
  flagKey = 0;
  tagOps = 0;
  explicitTagOps = 0;
  lut(l: Lut, times: number, flagCols: readonly string[]): this {
    if (times <= 0) return this;
    for (const p of l.passes) {
      this.searches += times;
      this.writes += times;
      for (const c of p.keyCols) {
        if (flagCols.includes(l.columns[c]!)) this.flagKey += times;
        else this.trackKey += times;
      }
    }
    return this;
  }
  events(ctx: FormulaContext, shifts: number, shiftSteps: number): ApEvents {
    const e = zeroEvents();
    const t = ctx.timing;
    e.searches = this.searches;
    e.writes = this.writes;
    e.searchRowBits = ctx.rows * this.trackKey;
    e.flagSearchRowBits = ctx.rows * this.flagKey;
    e.tagOps = this.tagOps + this.explicitTagOps;
    e.shifts = ctx.placement === "aligned" ? shifts : 0;
    e.shiftSteps = ctx.placement === "aligned" ? shiftSteps : 0;
    e.shiftTrackDomains = ctx.rows * ctx.tracksPerGroup * e.shiftSteps;
    e.cycles = e.searches * t.compare + e.writes * t.write + this.explicitTagOps * t.tagOp + e.shiftSteps * t.shiftPerDomain;
    return e;
  }
}

/**
 * Aligned placement, bit steps at offsets first..last in order: a shift of `first` to get there
 * (if > 0), one 1-domain shift per further step, one shift home.
 */
function sweep(first: number, last: number): [shifts: number, steps: number] {
  if (last < first) return [0, 0];
  return [(first > 0 ? 1 : 0) + (last - first) + (last > 0 ? 1 : 0), first + (last - first) + last];
}

const CHAIN = ["C", "W", "F", "G", "L", "M"];

/**
 * In-place add/sub: dst (m bits) += or -= src (w bits, read << s). Steps i = s..m-1:
 * P(first) + (min(w, m-s) - 1) P(mid) + E P(ext) + 1 cleanup, E = max(0, m-s-w) extension steps
 * (ext = mid for signed src, the carry/borrow-propagation LUT for unsigned); aligned signed src
 * with E > 0 adds a sign capture and its cleanup (1 pass each).
 * Shifts (aligned): steps at offsets s..m-1, see sweep().
 */
export function addSubEvents(
  kind: "add" | "sub",
  m: number,
  w: number,
  s: number,
  signed: boolean,
  ctx: FormulaContext,
): ApEvents {
  const t = new Tally();
  if (s >= m) return t.events(ctx, 0, 0);
  const first = kind === "add" ? addLut(true) : subLut(true);
  const mid = kind === "add" ? addLut(false) : subLut(false);
  const E = Math.max(0, m - s - w);
  const capture = signed && E > 0 && ctx.placement === "aligned";
  t.lut(first, 1, CHAIN);
  t.lut(mid, Math.min(w, m - s) - 1, CHAIN);
  if (signed) t.lut(mid, E, capture ? [...CHAIN, "A"] : CHAIN);
  else t.lut(kind === "add" ? addCarryLut() : subBorrowLut(), E, CHAIN);
  t.lut(clearLut(), 1, ["D"]);
  if (capture) t.lut(signCaptureLut(), 1, ["S"]).lut(clearLut(), 1, ["D"]);
  const [sh, st] = sweep(s, m - 1);
  return t.events(ctx, sh, st);
}

/**
 * Out-of-place add/sub, all three values m bits, no shifts: P(first) + (m-1) P(mid) + 1 cleanup,
 * plus m clear passes when the destination is not known to be zero.
 */
export function addSubOutEvents(kind: "add" | "sub", m: number, dstInit: "zero" | "any", ctx: FormulaContext): ApEvents {
  const t = new Tally();
  t.lut(addOutLut(kind, true, false, false), 1, CHAIN);
  t.lut(addOutLut(kind, false, false, false), m - 1, CHAIN);
  t.lut(clearLut(), 1, ["D"]);
  if (dstInit === "any") t.lut(clearLut(), m, []);
  const [sh, st] = sweep(0, m - 1);
  return t.events(ctx, sh, st);
}

/** Out-of-place negation, m bits: P(first) + (m-1) P(mid) + 1 cleanup (+ m clears for "any"). */
export function negateOutEvents(m: number, dstInit: "zero" | "any", ctx: FormulaContext): ApEvents {
  const t = new Tally();
  t.lut(negOutLut(true, false), 1, CHAIN);
  t.lut(negOutLut(false, false), m - 1, CHAIN);
  t.lut(clearLut(), 1, ["D"]);
  if (dstInit === "any") t.lut(clearLut(), m, []);
  const [sh, st] = sweep(0, m - 1);
  return t.events(ctx, sh, st);
}

/** In-place negation, m bits: P(first) + (m-1) (P(mid) + 1 marker cleanup) + 1 flag cleanup. */
export function negateInPlaceEvents(m: number, ctx: FormulaContext): ApEvents {
  const t = new Tally();
  t.lut(negInPlaceLut(true), 1, CHAIN);
  t.lut(negInPlaceLut(false), m - 1, CHAIN);
  t.lut(clearLut(), m - 1, ["D"]);
  t.lut(clearLut(), 1, ["D"]);
  const [sh, st] = sweep(0, m - 1);
  return t.events(ctx, sh, st);
}

/** Copy, same width m, no aliasing: m P(copy) (m passes when the destination is zero). */
export function copyEvents(m: number, dstInit: "zero" | "any", ctx: FormulaContext): ApEvents {
  const t = new Tally();
  t.lut(copyLut(dstInit === "zero"), m, []);
  const [sh, st] = sweep(0, m - 1);
  return t.events(ctx, sh, st);
}

/** dst (m bits) += k: steps i = tz(k)..m-1, 2 passes each (one LUT per constant bit) + 1 cleanup. */
export function addConstEvents(m: number, k: number, ctx: FormulaContext): ApEvents {
  const t = new Tally();
  const kp = m >= 32 ? k >>> 0 : (k & (2 ** m - 1)) >>> 0;
  if (kp === 0) return t.events(ctx, 0, 0);
  const tz = ctz32(kp);
  t.lut(addConstLut(1, true), 1, CHAIN);
  for (let i = tz + 1; i < m; i++) t.lut(addConstLut(((kp >>> i) & 1) as 0 | 1, false), 1, CHAIN);
  t.lut(clearLut(), 1, ["D"]);
  const [sh, st] = sweep(tz, m - 1);
  return t.events(ctx, sh, st);
}

/** dst (m bits) <- k: one pass per bit ("any"), or one per 1 bit of k (destination zero). */
export function setEvents(m: number, k: number, dstInit: "zero" | "any", ctx: FormulaContext): ApEvents {
  const t = new Tally();
  const kp = (k & (2 ** m - 1)) >>> 0;
  if (dstInit === "any") {
    t.lut(setBitLut(0), m - popcount32(kp), []).lut(setBitLut(1), popcount32(kp), []);
    const [sh, st] = sweep(0, m - 1);
    return t.events(ctx, sh, st);
  }
  t.lut(setBitLut(1, true), popcount32(kp), []);
  if (kp === 0) return t.events(ctx, 0, 0);
  const lo = ctz32(kp);
  const hi = 31 - Math.clz32(kp);
  return t.events(ctx, (lo > 0 ? 1 : 0) + popcount32(kp) - 1 + (hi > 0 ? 1 : 0), lo + (hi - lo) + hi);
}

/**
 * dst = max(dst, src), both m bits: comparison sweep up (P(first) + (m-1) P(mid), the last step
 * with the signed-MSB LUT for signed values), selection sweep down (m P(select)), 1 cleanup.
 * Aligned: 2(m-1) one-domain shifts and no return shift (the down sweep ends at home).
 */
export function maxEvents(m: number, signed: boolean, ctx: FormulaContext): ApEvents {
  const t = new Tally();
  if (m === 1) t.lut(maxCompareLut(true, signed, false), 1, CHAIN);
  else {
    t.lut(maxCompareLut(true, false, false), 1, CHAIN);
    t.lut(maxCompareLut(false, false, false), m - 2, CHAIN);
    t.lut(maxCompareLut(false, signed, false), 1, CHAIN);
  }
  t.lut(maxSelectLut(false), m, CHAIN);
  t.lut(clearLut(), 1, ["D"]);
  return t.events(ctx, 2 * (m - 1), 2 * (m - 1));
}

/**
 * Threshold (requantization) of an m-bit src into a k-bit code, static placement or src aligned
 * with the code bits in flags or another group. With n distinct thresholds u_q inside src's range
 * (offset binary t_q = u_q - min(src)):
 *   sweep:  sum_q (m - tz(t_q)) one-pass steps (one "src < u_q" flag each);
 *   encode: per code bit b, one search per maximal run of intervals whose code has bit b set
 *           (OR-combined after the first; a run covering everything is a tag set), one write if any;
 *   clear:  k passes when the destination is not known to be zero;
 *   cleanup: n passes.
 * Shifts (aligned src, code not in src's group): sweep over offsets tz_min..m-1 and home.
 * `flagsInTracks`: the "src < u" flags are scratch track cells rather than static flags.
 */
export function thresholdEvents(
  m: number,
  signed: boolean,
  k: number,
  thresholds: readonly number[],
  dstInit: "zero" | "any",
  ctx: FormulaContext,
  flagsInTracks = false,
): ApEvents {
  const t = new Tally();
  const L = flagsInTracks ? [] : ["L"];
  const plan = planThresholds({ width: m, signed }, thresholds);
  const vmin = signed ? -(2 ** (m - 1)) : 0;
  let tzMin = m;
  for (const u of plan.distinct) {
    const to = u - vmin;
    const tz = ctz32(to);
    tzMin = Math.min(tzMin, tz);
    t.lut(lessThanLut(1, true), 1, L);
    for (let i = tz + 1; i < m; i++) t.lut(lessThanLut(((to >>> i) & 1) as 0 | 1, false), 1, L);
  }
  const n = plan.distinct.length;
  for (let b = 0; b < k; b++) {
    let runs = 0;
    for (let q = 0; q <= n; q++) {
      const on = (plan.codes[q]! >>> b) & 1;
      const prev = q > 0 ? (plan.codes[q - 1]! >>> b) & 1 : 0;
      if (on === 0 || prev === 1) continue;
      let q2 = q;
      while (q2 + 1 <= n && ((plan.codes[q2 + 1]! >>> b) & 1) === 1) q2++;
      const keyBits = (q >= 1 ? 1 : 0) + (q2 + 1 <= n ? 1 : 0);
      if (keyBits === 0) t.explicitTagOps++;
      else {
        t.searches++;
        if (flagsInTracks) t.trackKey += keyBits;
        else t.flagKey += keyBits;
        if (runs > 0) t.tagOps++;
      }
      runs++;
    }
    if (runs > 0) t.writes++;
  }
  if (dstInit === "any") t.lut(clearLut(), k, []);
  t.lut(clearLut(), n, flagsInTracks ? [] : ["D"]);
  const [sh, st] = n > 0 ? sweep(tzMin, m - 1) : [0, 0];
  return t.events(ctx, sh, st);
}

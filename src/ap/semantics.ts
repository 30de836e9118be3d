/**
 * What a macro-op computes, on integers (one number per row), and the data-dependent part of its
 * events — without simulating bits. This is the contract between the bit-level simulator and a
 * word-level one: for the same plan and values both give the same results and the same events
 * (tests compare them on every operand combination at small widths).
 *
 * Why the written cells have closed forms: every generated pass writes only bits that flip
 * (lut.ts, rule 2), each row is written at most once per step (rule 1), and scratch flags start
 * and end at 0. So the cells a row writes are exactly the bit flips it goes through:
 *   destination: popcount(old XOR new) (in place, copy, max, set "any"),
 *                popcount(new) (out-of-place into zeroed cells), popcount(old) + popcount(new)
 *                (out-of-place "any": a clear pass per bit, then the zeroed-cells LUT);
 *   chain flag:  2 x (maximal runs of 1s in its sequence over the steps): it rises and falls once
 *                per run (carry/borrow vectors come from integer arithmetic: a ^ b ^ (a +/- b));
 *   sign flag:   2 if the operand is negative and its sign was captured, else 0;
 *   marker:      2 per step that marks the row (in-place negation).
 */
import { RtapError } from "../errors.js";
import { ctz32, lowMask, POW2, popcount32, runsOfOnes } from "./bits.js";
import type { ApGeometry } from "./geometry.js";
import { negInPlaceLut } from "./luts.js";
import { macroWhere, type MacroPlan } from "./macro.js";
import { asOperand, toPattern, valueRange, type ApValue, type Operand } from "./value.js";

/**
 * Bit i set iff (x mod 2^(i+1)) < (y mod 2^(i+1)), for i < n: the comparison flag a bit-serial
 * compare leaves after each step. It is the borrow out of bit i of x - y, so one subtraction gives
 * every step at once: bit i+1 of x ^ y ^ (x - y). (n <= 31; x, y taken mod 2^n.)
 */
export function lowerBitsLess(x: number, y: number, n: number): number {
  const m = lowMask(n);
  const xu = x & m, yu = y & m;
  return (((xu ^ yu ^ (xu - yu)) >>> 1) & m) >>> 0;
}

/** Per-row integer contents of the op's values (each array has one entry per row). */
export interface MacroValues {
  /** Old contents of the destination (required by in-place ops, max, and dstInit "any"). */
  dst?: ArrayLike<number>;
  /** src of add/sub/negate/copy/max/threshold, or a of addOut/subOut. */
  src?: ArrayLike<number>;
  a?: ArrayLike<number>;
  b?: ArrayLike<number>;
}

export interface MacroResult {
  /** New destination contents, as integers per the destination's signedness. */
  dst: Int32Array;
  /** Track cells written (summed over rows). */
  writeCells: number;
  /** Flag cells written (summed over rows). */
  flagWriteCells: number;
}

/** Bit pattern (dst width) of an operand's value: shifted, sign/zero-extended, truncated. */
function patterner(o: Operand, wd: number): (x: number) => number {
  if (o.shift >= wd) return () => 0;
  const m = lowMask(wd);
  const vm = lowMask(o.value.width);
  const sh = o.shift;
  return o.value.signed ? (x) => ((x << sh) & m) >>> 0 : (x) => (((x & vm) << sh) & m) >>> 0;
}

/** The integer a pattern of the value's width stands for. */
function signer(v: { width: number; signed: boolean }): (p: number) => number {
  const half = POW2[v.width - 1]!;
  const full = POW2[v.width]!;
  return v.signed ? (p) => (p >= half ? p - full : p) : (p) => p;
}

function need(vals: MacroValues, key: keyof MacroValues, plan: MacroPlan): ArrayLike<number> {
  const a = vals[key];
  if (a === undefined) throw new RtapError(`needs the "${key}" values`, macroWhere(plan.op));
  return a;
}

/** A per-row range check for one value (bounds computed once). */
function ranger(v: ApValue, plan: MacroPlan, role: string): (x: number) => void {
  const [lo, hi] = valueRange(v);
  return (x: number): void => {
    if (!(x >= lo && x <= hi))
      throw new RtapError(`${role} value ${x} is outside the range ${lo}..${hi} of "${v.name}"`, macroWhere(plan.op));
  };
}

/**
 * The threshold op's row loop, apart from evalMacro so that it compiles to tight code (inside the
 * closure-heavy evalMacro it allocated ~4 GB of boxed numbers per ResNet-18 variant): codes into
 * `out`, the destination's written cells (old ones, then new ones, all on tracks) and the 2 x runs
 * of 1s each less-than cell sees. Out-of-range values go to `bad`, which throws.
 */
function thresholdRows(
  sv: ArrayLike<number>, dv: ArrayLike<number> | undefined, out: Int32Array, thresholds: Float64Array, tOff: Int32Array, vmin: number, m: number,
  mask: number, [slo, shi]: [number, number], [dlo, dhi]: [number, number], bad: (x: number, role: "src" | "dst") => void,
): { dst: number; lt: Float64Array } {
  const lt = new Float64Array(tOff.length);
  const lm = lowMask(m);
  const T = thresholds.length, Q = tOff.length;
  let dstCells = 0;
  for (let r = 0; r < sv.length; r++) {
    const x = sv[r]!;
    if (!(x >= slo && x <= shi)) bad(x, "src");
    let code = 0;
    for (let k = 0; k < T; k++) if (x >= thresholds[k]!) code++;
    out[r] = code;
    if (dv) {
      const old = dv[r]!;
      if (!(old >= dlo && old <= dhi)) bad(old, "dst");
      dstCells += popcount32((old & mask) >>> 0);
    }
    dstCells += popcount32((code & mask) >>> 0);
    // L after step i: value < threshold on bits 0..i (offsets from vmin, unsigned): lowerBitsLess
    const xu = (x - vmin) & lm;
    for (let q = 0; q < Q; q++) {
      const yu = tOff[q]! & lm;
      const less = (((xu ^ yu ^ (xu - yu)) >>> 1) & lm) >>> 0;
      lt[q]! += 2 * runsOfOnes(less);
    }
  }
  return { dst: dstCells, lt };
}

/**
 * Results and data-dependent events (writeCells, flagWriteCells) of a planned macro-op on the
 * given per-row values. Static events come from plan.staticEvents().
 */
export function evalMacro(plan: MacroPlan, geom: ApGeometry, vals: MacroValues): MacroResult {
  const op = plan.op;
  const d = plan.detail;
  const dst = op.dst;
  const wd = dst.width;
  const mask = lowMask(wd);
  let dstFlagMask = 0;
  dst.cells.forEach((c, i) => {
    if (geom.isFlagCell(c)) dstFlagMask |= 1 << i;
  });
  dstFlagMask >>>= 0;
  // Flips of the destination split by where its bits live; flips of scratch cells per cell.
  let track = 0;
  let flagCells = 0;
  const dstAllTrack = dstFlagMask === 0;
  const addDst = (flips: number): void => {
    if (dstAllTrack) track += popcount32(flips);
    else {
      flagCells += popcount32((flips & dstFlagMask) >>> 0);
      track += popcount32((flips & ~dstFlagMask) >>> 0);
    }
  };
  let chainFlips = 0;
  let signAFlips = 0;
  let signBFlips = 0;
  let markerFlips = 0;
  const ltFlips = new Array<number>(d.ltCells.length).fill(0);
  const rowsOf = (a: ArrayLike<number>): number => a.length;
  const inDst = ranger(dst, plan, "dst");
  const toDst = signer(dst);

  let out: Int32Array;
  switch (op.kind) {
    case "add":
    case "sub": {
      // The hot path of a word-level simulator: one tight loop, no per-row calls but popcounts.
      const dv = need(vals, "dst", plan);
      const sv = need(vals, "src", plan);
      const src = asOperand(op.src);
      const [dlo, dhi] = valueRange(dst);
      const [slo, shi] = valueRange(src.value);
      const R = rowsOf(dv);
      out = new Int32Array(R);
      const s = src.shift;
      const live = s < wd;
      const chainMask = live ? lowMask(wd - s) : 0;
      const vm = lowMask(src.value.width);
      const srcSigned = src.value.signed;
      const isAdd = op.kind === "add";
      const half = POW2[wd - 1]!;
      const full2 = POW2[wd]!;
      const dSigned = dst.signed;
      const capture = d.signA >= 0;
      let dstFlips = 0;
      let chain = 0;
      let signs = 0;
      for (let r = 0; r < R; r++) {
        const x = dv[r]!;
        const y = sv[r]!;
        if (!(x >= dlo && x <= dhi && y >= slo && y <= shi)) {
          inDst(x);
          ranger(src.value, plan, "src")(y);
        }
        const du = (x & mask) >>> 0;
        const su = live ? (((srcSigned ? y : y & vm) << s) & mask) >>> 0 : 0;
        const full = isAdd ? du + su : du - su;
        const nu = (full & mask) >>> 0;
        out[r] = dSigned && nu >= half ? nu - full2 : nu;
        let f = (du ^ nu) >>> 0;
        f = f - ((f >>> 1) & 0x55555555);
        f = (f & 0x33333333) + ((f >>> 2) & 0x33333333);
        dstFlips += Math.imul((f + (f >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
        // Runs of 1s in the carry/borrow vector: count their starts.
        let c = ((du ^ su ^ full) >>> (s + 1)) & chainMask;
        c = (c & ~(c << 1)) >>> 0;
        c = c - ((c >>> 1) & 0x55555555);
        c = (c & 0x33333333) + ((c >>> 2) & 0x33333333);
        chain += Math.imul((c + (c >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
        if (capture && y < 0) signs += 2;
      }
      if (dstAllTrack) track += dstFlips;
      else for (let r = 0; r < R; r++) addDst(((dv[r]! & mask) ^ (out[r]! & mask)) >>> 0);
      chainFlips += 2 * chain;
      signAFlips += signs;
      break;
    }
    case "addOut":
    case "subOut": {
      const av = vals.a ?? need(vals, "src", plan);
      const bv = need(vals, "b", plan);
      const a = asOperand(op.a);
      const b = asOperand(op.b);
      const inA = ranger(a.value, plan, "a");
      const inB = ranger(b.value, plan, "b");
      const patA = patterner(a, wd);
      const patB = patterner(b, wd);
      const any = (op.dstInit ?? "any") === "any";
      const dv = any ? need(vals, "dst", plan) : undefined;
      const R = rowsOf(av);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        inA(av[r]!);
        inB(bv[r]!);
        const au = patA(av[r]!);
        const bu = patB(bv[r]!);
        const full = op.kind === "addOut" ? au + bu : au - bu;
        const nu = (full & mask) >>> 0;
        out[r] = toDst(nu);
        if (dv) {
          inDst(dv[r]!);
          addDst(((dv[r]! & mask) >>> 0));
        }
        addDst(nu);
        chainFlips += 2 * runsOfOnes(((au ^ bu ^ full) >>> 1) & mask);
        if (d.signA >= 0 && av[r]! < 0) signAFlips += 2;
        if (d.signB >= 0 && bv[r]! < 0) signBFlips += 2;
      }
      break;
    }
    case "negate": {
      const src = asOperand(op.src);
      const inSrc = ranger(src.value, plan, "src");
      const patSrc = patterner(src, wd);
      if (d.marker >= 0) {
        // In place: the marker depends on the step's state; follow the generated LUTs.
        const dv = need(vals, "dst", plan);
        const R = rowsOf(dv);
        out = new Int32Array(R);
        // whether the marker flips, by bit step kind (first, later) and state (bit, seen a 1):
        // looked up once per op, not per row and bit (that made ~20M LUT lookups per ResNet-18 variant)
        const firstLut = negInPlaceLut(true), laterLut = negInPlaceLut(false);
        const markerFlipsAt = (lut: typeof firstLut): Uint8Array => Uint8Array.from([0, 1, 2, 3], (st) => (lut.post[st]! >>> 2) & 1);
        const flipFirst = markerFlipsAt(firstLut), flipLater = markerFlipsAt(laterLut);
        for (let r = 0; r < R; r++) {
          inDst(dv[r]!);
          const du = ((dv[r]! & mask) >>> 0);
          const nu = ((0 - du) & mask) >>> 0;
          out[r] = toDst(nu);
          addDst((du ^ nu) >>> 0);
          let marks = flipFirst[du & 1]!;
          for (let i = 1; i < wd; i++) marks += flipLater[((du >>> i) & 1) | ((du & lowMask(i)) !== 0 ? 2 : 0)]!;
          markerFlips += 2 * marks;
          if (du !== 0) chainFlips += 2;
        }
        break;
      }
      const sv = need(vals, "src", plan);
      const any = (op.dstInit ?? "any") === "any";
      const dv = any ? need(vals, "dst", plan) : undefined;
      const R = rowsOf(sv);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        inSrc(sv[r]!);
        const su = patSrc(sv[r]!);
        const nu = ((0 - su) & mask) >>> 0;
        out[r] = toDst(nu);
        if (dv) {
          inDst(dv[r]!);
          addDst(((dv[r]! & mask) >>> 0));
        }
        addDst(nu);
        if (su !== 0) chainFlips += 2;
        if (d.signA >= 0 && sv[r]! < 0) signAFlips += 2;
      }
      break;
    }
    case "copy": {
      const src = asOperand(op.src);
      const inSrc = ranger(src.value, plan, "src");
      const patSrc = patterner(src, wd);
      const sv = need(vals, "src", plan);
      const zero = op.dstInit === "zero";
      const dv = zero ? undefined : need(vals, "dst", plan);
      let alias = 0;
      for (let i = 0; i < wd; i++) {
        const j = i - src.shift;
        if (j >= 0 && j < src.value.width && src.value.cells[j] === dst.cells[i]) alias |= 1 << i;
      }
      alias >>>= 0;
      const R = rowsOf(sv);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        inSrc(sv[r]!);
        const nu = patSrc(sv[r]!);
        out[r] = toDst(nu);
        const old = dv ? ((dv[r]! & mask) >>> 0) : 0;
        addDst(((old ^ nu) & ~alias) >>> 0);
        if (d.signA >= 0 && sv[r]! < 0) signAFlips += 2;
      }
      break;
    }
    case "addConst": {
      const dv = need(vals, "dst", plan);
      const k = toPattern(op.k, wd);
      const R = rowsOf(dv);
      out = new Int32Array(R);
      const lo = ctz32(k) + 1;
      for (let r = 0; r < R; r++) {
        inDst(dv[r]!);
        const du = ((dv[r]! & mask) >>> 0);
        const full = du + k;
        const nu = (full & mask) >>> 0;
        out[r] = toDst(nu);
        addDst((du ^ nu) >>> 0);
        if (k !== 0) chainFlips += 2 * runsOfOnes(((du ^ k ^ full) >>> lo) & lowMask(wd - lo + 1));
      }
      break;
    }
    case "set": {
      const zero = op.dstInit === "zero";
      const k = toPattern(op.k, wd);
      const dv = zero ? undefined : need(vals, "dst", plan);
      const R = dv ? rowsOf(dv) : rowsOf(vals.src ?? vals.dst ?? need(vals, "dst", plan));
      out = new Int32Array(R).fill(toDst(k));
      for (let r = 0; r < R; r++) addDst(dv ? (((dv[r]! & mask) >>> 0) ^ k) >>> 0 : k);
      break;
    }
    case "max": {
      const dv = need(vals, "dst", plan);
      const sv = need(vals, "src", plan);
      const src = asOperand(op.src);
      const inSrc = ranger(src.value, plan, "src");
      const patSrc = patterner(src, wd);
      const R = rowsOf(dv);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        inDst(dv[r]!);
        inSrc(sv[r]!);
        const du = ((dv[r]! & mask) >>> 0);
        const su = patSrc(sv[r]!);
        const m = Math.max(dv[r]!, sv[r]!);
        const nu = toPattern(m, wd);
        out[r] = m;
        addDst((du ^ nu) >>> 0);
        // G after step i: src > dst on bits 0..i (unsigned, except the signed sign bit), i.e. the
        // borrow out of bit i of du - su.
        let gv = lowerBitsLess(du, su, wd);
        if (dst.signed) gv = (gv & lowMask(wd - 1)) | (sv[r]! > dv[r]! ? 1 << (wd - 1) : 0);
        chainFlips += 2 * runsOfOnes(gv >>> 0);
        if (d.signA >= 0 && sv[r]! < 0) signAFlips += 2;
      }
      break;
    }
    case "threshold": {
      const sv = need(vals, "src", plan);
      const zero = op.dstInit === "zero";
      const dv = zero ? undefined : need(vals, "dst", plan);
      const v = op.src;
      const [vmin] = valueRange(v);
      // offsets as 32-bit words: lowerBitsLess reads only their low bits; thresholds exact (a
      // threshold past the value's range must not wrap)
      const tOff = Int32Array.from(d.threshold!.distinct, (u) => u - vmin);
      out = new Int32Array(rowsOf(sv));
      const counts = thresholdRows(sv, dv, out, Float64Array.from(op.thresholds), tOff, vmin, v.width, mask, valueRange(v), valueRange(dst), (x, role) =>
        ranger(role === "src" ? v : dst, plan, role)(x),
      );
      if (dstAllTrack) track += counts.dst;
      else {
        // destination bits on flag cells: split every row's flips (rare: never in compiled programs)
        if (dv) for (let r = 0; r < dv.length; r++) addDst((dv[r]! & mask) >>> 0);
        for (let r = 0; r < out.length; r++) addDst(toPattern(out[r]!, wd));
      }
      for (let q = 0; q < tOff.length; q++) ltFlips[q]! += counts.lt[q]!;
      break;
    }
  }
  const scratch = (cell: number, n: number): void => {
    if (n === 0) return;
    if (geom.isFlagCell(cell)) flagCells += n;
    else track += n;
  };
  scratch(d.chain, chainFlips);
  scratch(d.signA, signAFlips);
  scratch(d.signB, signBFlips);
  scratch(d.marker, markerFlips);
  d.ltCells.forEach((c, q) => scratch(c, ltFlips[q]!));
  return { dst: out, writeCells: track, flagWriteCells: flagCells };
}

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
import { ctz32, lowMask, popcount32, runsOfOnes } from "./bits.js";
import type { ApGeometry } from "./geometry.js";
import { negInPlaceLut } from "./luts.js";
import { macroWhere, type MacroPlan } from "./macro.js";
import { asOperand, toPattern, valueRange, type ApValue, type Operand } from "./value.js";

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

/** Bit pattern (dst width) of operand value x: shifted, sign/zero-extended, truncated. */
function operandPattern(x: number, o: Operand, wd: number): number {
  if (o.shift >= wd) return 0;
  const v = o.value.signed ? x : toPattern(x, o.value.width);
  return ((v << o.shift) & lowMask(wd)) >>> 0;
}

function signedOf(p: number, v: { width: number; signed: boolean }): number {
  return v.signed && v.width < 32 && p >= 2 ** (v.width - 1) ? p - 2 ** v.width : p;
}

function need(vals: MacroValues, key: keyof MacroValues, plan: MacroPlan): ArrayLike<number> {
  const a = vals[key];
  if (a === undefined) throw new RtapError(`needs the "${key}" values`, macroWhere(plan.op));
  return a;
}

function checkRange(x: number, v: ApValue, plan: MacroPlan, role: string): void {
  const [lo, hi] = valueRange(v);
  if (!(x >= lo && x <= hi))
    throw new RtapError(`${role} value ${x} is outside the range ${lo}..${hi} of "${v.name}"`, macroWhere(plan.op));
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
  const flag = (c: number): boolean => c >= 0 && geom.isFlagCell(c);
  let track = 0;
  let flagCells = 0;
  const addDst = (flips: number): void => {
    flagCells += popcount32((flips & dstFlagMask) >>> 0);
    track += popcount32((flips & ~dstFlagMask) >>> 0);
  };
  const addCell = (cell: number, n: number): void => {
    if (flag(cell)) flagCells += n;
    else track += n;
  };
  const rowsOf = (a: ArrayLike<number>): number => a.length;

  let out: Int32Array;
  switch (op.kind) {
    case "add":
    case "sub": {
      const dv = need(vals, "dst", plan);
      const sv = need(vals, "src", plan);
      const src = asOperand(op.src);
      const R = rowsOf(dv);
      out = new Int32Array(R);
      const s = src.shift;
      const chainMask = s >= wd ? 0 : lowMask(wd - s);
      for (let r = 0; r < R; r++) {
        checkRange(dv[r]!, dst, plan, "dst");
        checkRange(sv[r]!, src.value, plan, "src");
        const du = toPattern(dv[r]!, wd);
        const su = operandPattern(sv[r]!, src, wd);
        const full = op.kind === "add" ? du + su : du - su;
        const nu = (full & mask) >>> 0;
        out[r] = signedOf(nu, dst);
        addDst((du ^ nu) >>> 0);
        if (s < wd) addCell(d.chain, 2 * runsOfOnes(((du ^ su ^ full) >>> (s + 1)) & chainMask));
        if (d.signA >= 0 && sv[r]! < 0) addCell(d.signA, 2);
      }
      break;
    }
    case "addOut":
    case "subOut": {
      const av = vals.a ?? need(vals, "src", plan);
      const bv = need(vals, "b", plan);
      const a = asOperand(op.a);
      const b = asOperand(op.b);
      const any = (op.dstInit ?? "any") === "any";
      const dv = any ? need(vals, "dst", plan) : undefined;
      const R = rowsOf(av);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        checkRange(av[r]!, a.value, plan, "a");
        checkRange(bv[r]!, b.value, plan, "b");
        const au = operandPattern(av[r]!, a, wd);
        const bu = operandPattern(bv[r]!, b, wd);
        const full = op.kind === "addOut" ? au + bu : au - bu;
        const nu = (full & mask) >>> 0;
        out[r] = signedOf(nu, dst);
        if (dv) {
          checkRange(dv[r]!, dst, plan, "dst");
          addDst(toPattern(dv[r]!, wd));
        }
        addDst(nu);
        addCell(d.chain, 2 * runsOfOnes(((au ^ bu ^ full) >>> 1) & mask));
        if (d.signA >= 0 && av[r]! < 0) addCell(d.signA, 2);
        if (d.signB >= 0 && bv[r]! < 0) addCell(d.signB, 2);
      }
      break;
    }
    case "negate": {
      const src = asOperand(op.src);
      if (d.marker >= 0) {
        // In place: the marker depends on the step's state; follow the generated LUTs.
        const dv = need(vals, "dst", plan);
        const R = rowsOf(dv);
        out = new Int32Array(R);
        for (let r = 0; r < R; r++) {
          checkRange(dv[r]!, dst, plan, "dst");
          const du = toPattern(dv[r]!, wd);
          const nu = ((0 - du) & mask) >>> 0;
          out[r] = signedOf(nu, dst);
          addDst((du ^ nu) >>> 0);
          let markerFlips = 0;
          for (let i = 0; i < wd; i++) {
            const lut = negInPlaceLut(i === 0);
            const state = ((du >>> i) & 1) | ((du & lowMask(i)) !== 0 ? 2 : 0);
            if (((lut.post[state]! >>> 2) & 1) === 1) markerFlips += 2;
          }
          addCell(d.marker, markerFlips);
          if (du !== 0) addCell(d.chain, 2);
        }
        break;
      }
      const sv = need(vals, "src", plan);
      const any = (op.dstInit ?? "any") === "any";
      const dv = any ? need(vals, "dst", plan) : undefined;
      const R = rowsOf(sv);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        checkRange(sv[r]!, src.value, plan, "src");
        const su = operandPattern(sv[r]!, src, wd);
        const nu = ((0 - su) & mask) >>> 0;
        out[r] = signedOf(nu, dst);
        if (dv) {
          checkRange(dv[r]!, dst, plan, "dst");
          addDst(toPattern(dv[r]!, wd));
        }
        addDst(nu);
        if (su !== 0) addCell(d.chain, 2);
        if (d.signA >= 0 && sv[r]! < 0) addCell(d.signA, 2);
      }
      break;
    }
    case "copy": {
      const src = asOperand(op.src);
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
        checkRange(sv[r]!, src.value, plan, "src");
        const nu = operandPattern(sv[r]!, src, wd);
        out[r] = signedOf(nu, dst);
        const old = dv ? toPattern(dv[r]!, wd) : 0;
        addDst(((old ^ nu) & ~alias) >>> 0);
        if (d.signA >= 0 && sv[r]! < 0) addCell(d.signA, 2);
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
        checkRange(dv[r]!, dst, plan, "dst");
        const du = toPattern(dv[r]!, wd);
        const full = du + k;
        const nu = (full & mask) >>> 0;
        out[r] = signedOf(nu, dst);
        addDst((du ^ nu) >>> 0);
        if (k !== 0) addCell(d.chain, 2 * runsOfOnes(((du ^ k ^ full) >>> lo) & lowMask(wd - lo + 1)));
      }
      break;
    }
    case "set": {
      const zero = op.dstInit === "zero";
      const k = toPattern(op.k, wd);
      const dv = zero ? undefined : need(vals, "dst", plan);
      const R = dv ? rowsOf(dv) : rowsOf(vals.src ?? vals.dst ?? need(vals, "dst", plan));
      out = new Int32Array(R).fill(signedOf(k, dst));
      for (let r = 0; r < R; r++) addDst(dv ? (toPattern(dv[r]!, wd) ^ k) >>> 0 : k);
      break;
    }
    case "max": {
      const dv = need(vals, "dst", plan);
      const sv = need(vals, "src", plan);
      const src = asOperand(op.src);
      const R = rowsOf(dv);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        checkRange(dv[r]!, dst, plan, "dst");
        checkRange(sv[r]!, src.value, plan, "src");
        const du = toPattern(dv[r]!, wd);
        const su = operandPattern(sv[r]!, src, wd);
        const m = Math.max(dv[r]!, sv[r]!);
        const nu = toPattern(m, wd);
        out[r] = m;
        addDst((du ^ nu) >>> 0);
        // G after step i: src > dst on bits 0..i (unsigned, except the signed sign bit).
        let gv = 0;
        for (let i = 0; i < wd; i++) {
          const lm = lowMask(i + 1);
          const gt =
            i === wd - 1 && dst.signed ? sv[r]! > dv[r]! : ((su & lm) >>> 0) > ((du & lm) >>> 0);
          if (gt) gv |= 1 << i;
        }
        addCell(d.chain, 2 * runsOfOnes(gv >>> 0));
        if (d.signA >= 0 && sv[r]! < 0) addCell(d.signA, 2);
      }
      break;
    }
    case "threshold": {
      const sv = need(vals, "src", plan);
      const zero = op.dstInit === "zero";
      const dv = zero ? undefined : need(vals, "dst", plan);
      const tp = d.threshold!;
      const v = op.src;
      const m = v.width;
      const [vmin] = valueRange(v);
      const tOff = tp.distinct.map((u) => u - vmin);
      const R = rowsOf(sv);
      out = new Int32Array(R);
      for (let r = 0; r < R; r++) {
        checkRange(sv[r]!, v, plan, "src");
        let code = 0;
        for (const t of op.thresholds) if (sv[r]! >= t) code++;
        out[r] = code;
        if (dv) {
          checkRange(dv[r]!, dst, plan, "dst");
          addDst(toPattern(dv[r]!, wd));
        }
        addDst(toPattern(code, wd));
        const vo = sv[r]! - vmin;
        for (let q = 0; q < tOff.length; q++) {
          let lv = 0;
          for (let i = 0; i < m; i++) {
            const lm = lowMask(i + 1);
            if (((vo & lm) >>> 0) < ((tOff[q]! & lm) >>> 0)) lv |= 1 << i;
          }
          addCell(d.ltCells[q]!, 2 * runsOfOnes(lv >>> 0));
        }
      }
      break;
    }
  }
  return { dst: out, writeCells: track, flagWriteCells: flagCells };
}

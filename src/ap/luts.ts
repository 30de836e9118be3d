/**
 * The truth tables of every bit step the macro-ops use, turned into pass lists by the generator
 * (lut.ts) and cached. Column names are the roles in the step:
 *   A, B   operand bits (B is also the in-place destination of add/sub)
 *   C      carry flag; W borrow flag; F "a 1 was seen below" flag (negation); G "src > dst so far"
 *   R, D   destination bit of an out-of-place op / copy / set / max
 *   S      source bit (copy, max) or sign flag (capture)
 *   M      marker flag (free at the end of the step, cleared by a cleanup step)
 *   V, L   compared value bit and its "v < t so far" flag (thresholds)
 * "first" variants know the chain flag (C, W, F, G, L) is 0 when the step starts.
 * "zero" destination variants know the destination bit is 0 when the step starts.
 */
import { formatLut, lutFor, type Lut, type TargetBit } from "./lut.js";

type Bits = readonly number[];

function mk(
  name: string,
  columns: string[],
  target: (b: Bits) => TargetBit[],
  initial?: (b: Bits) => boolean,
): Lut {
  return lutFor(initial ? { name, columns, target, initial } : { name, columns, target });
}

const col = (columns: string[], name: string): number => columns.indexOf(name);

/** In-place add step B <- A + B + C, C <- carry. */
export function addLut(first: boolean): Lut {
  return mk(
    `add${first ? ".first" : ""}`,
    ["A", "B", "C"],
    ([a, b, c]) => {
      const s = a! + b! + c!;
      return [a! as TargetBit, (s & 1) as TargetBit, (s >> 1) as TargetBit];
    },
    first ? (b) => b[2] === 0 : undefined,
  );
}

/** In-place add step with an operand bit known to be 0: B <- B + C (carry propagation). */
export function addCarryLut(): Lut {
  return mk("add.carry", ["B", "C"], ([b, c]) => [(b! ^ c!) as TargetBit, (b! & c!) as TargetBit]);
}

const borrow = (x: number, y: number, w: number): number => ((~x & y) | (~x & w) | (y & w)) & 1;

/** In-place subtract step B <- B - A - W, W <- borrow. */
export function subLut(first: boolean): Lut {
  return mk(
    `sub${first ? ".first" : ""}`,
    ["A", "B", "W"],
    ([a, b, w]) => [a! as TargetBit, (a! ^ b! ^ w!) as TargetBit, borrow(b!, a!, w!) as TargetBit],
    first ? (b) => b[2] === 0 : undefined,
  );
}

/** In-place subtract step with an operand bit known to be 0: B <- B - W (borrow propagation). */
export function subBorrowLut(): Lut {
  return mk("sub.borrow", ["B", "W"], ([b, w]) => [(b! ^ w!) as TargetBit, borrow(b!, 0, w!) as TargetBit]);
}

/**
 * Out-of-place add or subtract step into a zeroed R: R <- A op B op chain. `aZero`/`bZero` drop an
 * operand whose bit is known to be 0 at this step. Not called with both zero and first (nothing to do).
 */
export function addOutLut(kind: "add" | "sub", first: boolean, aZero: boolean, bZero: boolean): Lut {
  const chain = kind === "add" ? "C" : "W";
  const columns = [...(aZero ? [] : ["A"]), ...(bZero ? [] : ["B"]), chain, "R"];
  const iA = col(columns, "A");
  const iB = col(columns, "B");
  const iC = col(columns, chain);
  const iR = col(columns, "R");
  return mk(
    `${kind}Out${first ? ".first" : ""}${aZero ? ".a0" : ""}${bZero ? ".b0" : ""}`,
    columns,
    (bits) => {
      const a = iA >= 0 ? bits[iA]! : 0;
      const b = iB >= 0 ? bits[iB]! : 0;
      const c = bits[iC]!;
      const t = bits.map((x) => x as TargetBit);
      if (kind === "add") {
        const s = a + b + c;
        t[iR] = (s & 1) as TargetBit;
        t[iC] = (s >> 1) as TargetBit;
      } else {
        t[iR] = (a ^ b ^ c) as TargetBit;
        t[iC] = borrow(a, b, c) as TargetBit;
      }
      return t;
    },
    (bits) => bits[iR] === 0 && (!first || bits[iC] === 0),
  );
}

/** Out-of-place negation step into a zeroed R: R <- A xor F, F <- F or A (two's complement, LSB first). */
export function negOutLut(first: boolean, srcZero: boolean): Lut {
  if (srcZero)
    return mk("negOut.a0", ["F", "R"], ([f]) => [f! as TargetBit, f! as TargetBit], (b) => b[1] === 0);
  return mk(
    `negOut${first ? ".first" : ""}`,
    ["A", "F", "R"],
    ([a, f]) => [a! as TargetBit, (f! | a!) as TargetBit, (a! ^ f!) as TargetBit],
    (b) => b[2] === 0 && (!first || b[1] === 0),
  );
}

/**
 * In-place negation step A <- A xor F, F <- F or A. Rows with F = 1 swap A (0 <-> 1), a cycle no
 * pass order can break, so the step uses the free marker M (0 at the start; cleared afterwards).
 */
export function negInPlaceLut(first: boolean): Lut {
  return mk(
    `neg${first ? ".first" : ""}`,
    ["A", "F", "M"],
    ([a, f]) => [(a! ^ f!) as TargetBit, (f! | a!) as TargetBit, null],
    (b) => b[2] === 0 && (!first || b[1] === 0),
  );
}

/** Copy step D <- S (`dstZero`: D is 0 when the step starts). */
export function copyLut(dstZero: boolean): Lut {
  return mk(
    `copy${dstZero ? ".zero" : ""}`,
    ["S", "D"],
    ([s]) => [s! as TargetBit, s! as TargetBit],
    dstZero ? (b) => b[1] === 0 : undefined,
  );
}

/** Write a constant bit: D <- k (`dstZero`: D is 0 when the step starts). */
export function setBitLut(k: 0 | 1, dstZero = false): Lut {
  return mk(`set${k}${dstZero ? ".zero" : ""}`, ["D"], () => [k], dstZero ? (b) => b[0] === 0 : undefined);
}

/** Capture a sign bit into a flag that is 0: S <- X. */
export function signCaptureLut(): Lut {
  return mk("capture", ["X", "S"], ([x]) => [x! as TargetBit, x! as TargetBit], (b) => b[1] === 0);
}

/** Cleanup: clear a flag, F <- 0 (its own step, after the bit steps that left it set). */
export function clearLut(): Lut {
  return setBitLut(0);
}

/** Add-a-constant step with constant bit k: B <- B + k + C, C <- carry. */
export function addConstLut(k: 0 | 1, first: boolean): Lut {
  return mk(
    `addConst${k}${first ? ".first" : ""}`,
    ["B", "C"],
    ([b, c]) => {
      const s = b! + k + c!;
      return [(s & 1) as TargetBit, (s >> 1) as TargetBit];
    },
    first ? (b) => b[1] === 0 : undefined,
  );
}

/**
 * Max, comparison sweep (LSB first): G <- 1 if S > D at this bit, 0 if S < D, unchanged if equal;
 * at the sign bit of signed values the order is reversed. `srcZero`: S is known 0 (no S column).
 */
export function maxCompareLut(first: boolean, signedMsb: boolean, srcZero: boolean): Lut {
  const gt = (s: number, d: number, g: number): number => (s === d ? g : (s > d) !== signedMsb ? 1 : 0);
  const name = `maxCmp${first ? ".first" : ""}${signedMsb ? ".msb" : ""}${srcZero ? ".s0" : ""}`;
  if (srcZero)
    return mk(name, ["D", "G"], ([d, g]) => [d! as TargetBit, gt(0, d!, g!) as TargetBit], first ? (b) => b[1] === 0 : undefined);
  return mk(
    name,
    ["S", "D", "G"],
    ([s, d, g]) => [s! as TargetBit, d! as TargetBit, gt(s!, d!, g!) as TargetBit],
    first ? (b) => b[2] === 0 : undefined,
  );
}

/** Max, select sweep: D <- S where G = 1. `srcZero`: S is known 0. */
export function maxSelectLut(srcZero: boolean): Lut {
  if (srcZero) return mk("maxSel.s0", ["G", "D"], ([g, d]) => [g! as TargetBit, (g ? 0 : d!) as TargetBit]);
  return mk("maxSel", ["G", "S", "D"], ([g, s, d]) => [g! as TargetBit, s! as TargetBit, (g ? s! : d!) as TargetBit]);
}

/**
 * Threshold sweep (LSB first), one flag per threshold t: L <- 1 if V < t at this bit, 0 if V > t,
 * unchanged if equal, so after the last bit L = (v < t). `tBit` is t's bit at this step.
 */
export function lessThanLut(tBit: 0 | 1, first: boolean): Lut {
  return mk(
    `lt${tBit}${first ? ".first" : ""}`,
    ["V", "L"],
    ([v, l]) => [v! as TargetBit, (v === tBit ? l! : v! < tBit ? 1 : 0) as TargetBit],
    first ? (b) => b[1] === 0 : undefined,
  );
}

/** Every LUT the macro-ops can use, for docs and tests. */
export function allLuts(): Lut[] {
  const out: Lut[] = [];
  for (const f of [true, false]) out.push(addLut(f));
  out.push(addCarryLut());
  for (const f of [true, false]) out.push(subLut(f));
  out.push(subBorrowLut());
  for (const kind of ["add", "sub"] as const)
    for (const first of [true, false])
      for (const [a0, b0] of [
        [false, false],
        [true, false],
        [false, true],
      ] as const)
        out.push(addOutLut(kind, first, a0, b0));
  out.push(addOutLut("add", false, true, true), addOutLut("sub", false, true, true));
  for (const f of [true, false]) out.push(negOutLut(f, false));
  out.push(negOutLut(false, true));
  for (const f of [true, false]) out.push(negInPlaceLut(f));
  for (const z of [false, true]) out.push(copyLut(z));
  out.push(setBitLut(0), setBitLut(1), setBitLut(1, true), signCaptureLut());
  for (const k of [0, 1] as const) for (const f of [true, false]) out.push(addConstLut(k, f));
  for (const f of [true, false]) for (const m of [false, true]) out.push(maxCompareLut(f, m, false));
  out.push(maxCompareLut(false, false, true), maxSelectLut(false), maxSelectLut(true));
  for (const t of [0, 1] as const) for (const f of [true, false]) out.push(lessThanLut(t, f));
  return out;
}

/** Markdown for docs/ap.md: every catalogue LUT with its columns, pass count and pass table. */
export function lutTablesMarkdown(): string {
  return allLuts()
    .map((l) => `#### \`${l.name}\` — ${l.passes.length} pass${l.passes.length === 1 ? "" : "es"} (columns ${l.columns.join(", ")})\n\n${l.passes.length ? formatLut(l) : "(nothing to do)"}\n`)
    .join("\n");
}

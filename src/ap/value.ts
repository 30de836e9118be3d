/**
 * Values: an integer of known width and signedness that lives at the same cells in every row of an
 * array (one value per row, SIMD over rows). A cell is an address in the row (see ApGeometry: a
 * track domain or a static flag bit); bit i of the value is stored in cells[i], LSB first. Where
 * the bits lie is the compiler's choice (along one track, across tracks, in flags); the macro-op
 * expander plans the shifts each layout needs.
 */
import { RtapError } from "../errors.js";
import { lowMask, POW2 } from "./bits.js";

/** Widest value: every value fits a 32-bit JS integer with room for a carry-out. */
export const MAX_WIDTH = 31;

export interface ApValue {
  /** For messages and dumps. */
  readonly name: string;
  readonly width: number;
  /** Two's complement when true. */
  readonly signed: boolean;
  /** Cell address of bit i, LSB first (length = width). */
  readonly cells: readonly number[];
}

/** A value read with an implicit left shift: bit i of the operand is bit i - shift of the value (0 below). */
export interface Operand {
  readonly value: ApValue;
  readonly shift: number;
}

export function makeValue(name: string, cells: readonly number[], signed: boolean): ApValue {
  if (cells.length < 1 || cells.length > MAX_WIDTH)
    throw new RtapError(`width must be 1..${MAX_WIDTH} bits (got ${cells.length})`, `value "${name}"`);
  if (new Set(cells).size !== cells.length)
    throw new RtapError("two bits of the value share a cell", `value "${name}"`);
  return { name, width: cells.length, signed, cells: [...cells] };
}

/** `value << shift` as an operand (the low `shift` bits read as 0). */
export function shl(value: ApValue, shift: number): Operand {
  if (!Number.isInteger(shift) || shift < 0 || shift > MAX_WIDTH)
    throw new RtapError(`operand shift must be an integer in 0..${MAX_WIDTH} (got ${shift})`, `value "${value.name}"`);
  return { value, shift };
}

export function asOperand(x: ApValue | Operand): Operand {
  return "value" in x ? x : { value: x, shift: 0 };
}

/** Bits lo..lo+width-1 of `v` as a value of their own (e.g. the low part of a wider value). */
export function slice(v: ApValue, lo: number, width: number, signed = v.signed, name = `${v.name}[${lo}+:${width}]`): ApValue {
  if (lo < 0 || width < 1 || lo + width > v.width)
    throw new RtapError(`slice ${lo}+:${width} is outside the ${v.width}-bit value`, `value "${v.name}"`);
  return makeValue(name, v.cells.slice(lo, lo + width), signed);
}

/** Smallest and largest integer the value can hold. */
export function valueRange(v: { width: number; signed: boolean }): [number, number] {
  return v.signed ? [-POW2[v.width - 1]!, POW2[v.width - 1]! - 1] : [0, POW2[v.width]! - 1];
}

/** The bit pattern (0 .. 2^width - 1) of integer x in `width` bits, two's complement. */
export function toPattern(x: number, width: number): number {
  return width >= 32 ? x >>> 0 : (x & lowMask(width)) >>> 0;
}

/** The integer a `width`-bit pattern stands for. */
export function fromPattern(p: number, width: number, signed: boolean): number {
  const u = toPattern(p, width);
  return signed && u >= POW2[width - 1]! ? u - POW2[width]! : u;
}

/** Wraps an integer to the range of a value (what a `width`-bit register keeps). */
export function wrapTo(x: number, v: { width: number; signed: boolean }): number {
  const m = POW2[v.width]!;
  const u = ((x % m) + m) % m;
  return v.signed && u >= m / 2 ? u - m : u;
}

/** Whether two values share a cell. */
export function overlaps(a: ApValue, b: ApValue): boolean {
  const s = new Set(a.cells);
  return b.cells.some((c) => s.has(c));
}

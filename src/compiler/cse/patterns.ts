/**
 * Group patterns: the restriction of a weight row to a group of g consecutive columns is a ternary
 * vector, coded in base 3 with digit 0 -> 0, 1 -> +1, 2 -> -1 (position i has weight 3^i). A code
 * and its negation give the same partial sum up to sign, so CSE works with canonical codes (first
 * non-zero digit is +1) and a sign. Tables are indexed by code, 3^g entries.
 */
export const MAX_GROUP_SIZE = 10;

export interface PatternTable {
  /** Columns per group, g. */
  readonly size: number;
  /** 3^g. */
  readonly count: number;
  /** 3^i for i in 0..g. */
  readonly pow3: Int32Array;
  /** Canonical form of each code (first non-zero digit +1); 0 for 0. */
  readonly canon: Int32Array;
  /** code = sign * canon: +1, -1, or 0 for the zero code. */
  readonly sign: Int8Array;
  /** Non-zero digits of each code. */
  readonly nnz: Uint8Array;
  /** Position of the first non-zero digit, -1 for 0. */
  readonly firstPos: Int8Array;
}

const tables = new Map<number, PatternTable>();

/** The (cached) table for groups of g columns. */
export function patternTable(g: number): PatternTable {
  const cached = tables.get(g);
  if (cached) return cached;
  if (!Number.isInteger(g) || g < 1 || g > MAX_GROUP_SIZE) throw new Error(`patternTable: group size ${g} outside 1..${MAX_GROUP_SIZE}`);
  const pow3 = new Int32Array(g + 1);
  pow3[0] = 1;
  for (let i = 1; i <= g; i++) pow3[i] = pow3[i - 1]! * 3;
  const count = pow3[g]!;
  const canon = new Int32Array(count);
  const sign = new Int8Array(count);
  const nnz = new Uint8Array(count);
  const firstPos = new Int8Array(count).fill(-1);
  for (let code = 1; code < count; code++) {
    let rest = code;
    let negated = 0;
    let first = -1;
    let m = 0;
    for (let i = 0; i < g; i++) {
      const d = rest % 3;
      rest = (rest - d) / 3;
      if (d === 0) continue;
      m++;
      if (first < 0) first = i;
      negated += (d === 1 ? 2 : 1) * pow3[i]!;
    }
    const firstDigit = Math.floor(code / pow3[first]!) % 3;
    nnz[code] = m;
    firstPos[code] = first;
    sign[code] = firstDigit === 1 ? 1 : -1;
    canon[code] = firstDigit === 1 ? code : negated;
  }
  const table: PatternTable = { size: g, count, pow3, canon, sign, nnz, firstPos };
  tables.set(g, table);
  return table;
}

/** Digit (0, +1 or -1) of `code` at position i. */
export function patternDigit(table: PatternTable, code: number, i: number): number {
  const d = Math.floor(code / table.pow3[i]!) % 3;
  return d === 0 ? 0 : d === 1 ? 1 : -1;
}

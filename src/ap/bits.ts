/** Small bit utilities shared by the simulator and the event formulas. */

/** Number of set bits of a 32-bit integer. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of set bits over a word array. */
export function popcountWords(a: Uint32Array, n: number = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    let x = a[i]!;
    x = x - ((x >>> 1) & 0x55555555);
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    x = (x + (x >>> 4)) & 0x0f0f0f0f;
    s += Math.imul(x, 0x01010101) >>> 24;
  }
  return s;
}

/** Trailing zero count (32 for 0). */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/**
 * 2^n for n in 0..64, exact. A table, and lowMask below is shifts: V8 computes `2 ** n` with a
 * general pow (~100 ns here), and the word-level kernels asked for three per step (~11% of the add
 * kernel's line-level profile on ResNet-18).
 */
export const POW2: Float64Array = Float64Array.from({ length: 65 }, (_, n) => 2 ** n);

/** Mask of the low n bits (n in 0..32). */
export function lowMask(n: number): number {
  return n >= 32 ? 0xffffffff : n <= 0 ? 0 : ((1 << n) >>> 0) - 1;
}

/** Number of maximal runs of consecutive 1 bits. */
export function runsOfOnes(x: number): number {
  return popcount32((x & ~(x << 1)) >>> 0);
}

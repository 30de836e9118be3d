/**
 * The word level's fused add kernel (addOutKernel) against a bit-by-bit reference, exhaustively at
 * small widths: every pair of operand values, adds and subtractions, signed and unsigned operands
 * and destinations, into a TMP lane of random stale bits at several lane offsets and into fresh
 * cells, with even and odd row counts (its lane loop takes two rows per iteration) and idle rows
 * weighted. The reference ripples the carry (borrow) bit by bit and counts its runs of ones, and
 * counts cells with a loop over bits: no popcount table, no closed form shared with the kernel.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { addOutKernel } from "../../src/compiler/simulate.js";

/** Bits 0..n-1 of x as 0/1. */
const bit = (x: number, i: number): number => (x >>> i) & 1;

function ones(x: number, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) k += bit(x, i);
  return k;
}

/** x's low `w` bits read as a `signed` or unsigned number. */
function read(x: number, w: number, signed: boolean): number {
  const u = w >= 32 ? x >>> 0 : x & ((1 << w) - 1);
  return signed && bit(u, w - 1) ? u - 2 ** w : u;
}

/**
 * One row of dst <- a +/- b in `wd` bits: the result's bits, the written cells of the destination
 * (old ones cleared, new ones set) and the carry flag's writes (2 per run of ones in the carry or
 * borrow out of bits 0..wd-1), rippled bit by bit. Operands are sign- or zero-extended to wd bits.
 */
function referenceRow(isAdd: boolean, a: number, b: number, old: number, wd: number): { bits: number; dst: number; chain: number } {
  let carry = 0, bits = 0, runs = 0, prev = 0;
  for (let i = 0; i < wd; i++) {
    const x = bit(a, i), y = bit(b, i);
    const s = x ^ y ^ carry;
    carry = isAdd ? (x & y) | (x & carry) | (y & carry) : ((1 - x) & y) | ((1 - (x ^ y)) & carry);
    bits |= s << i;
    if (carry && !prev) runs++;
    prev = carry;
  }
  return { bits: bits >>> 0, dst: ones(old, wd) + ones(bits, wd), chain: 2 * runs };
}

describe("addOutKernel against a bit-by-bit reference", () => {
  let seed = 12345;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const shapes: { wd: number; aw: number; bw: number }[] = [
    { wd: 3, aw: 2, bw: 2 },
    { wd: 5, aw: 4, bw: 4 },
    { wd: 6, aw: 4, bw: 5 },
    { wd: 8, aw: 7, bw: 7 },
    { wd: 18, aw: 5, bw: 5 },
  ];
  for (const { wd, aw, bw } of shapes) {
    for (const isAdd of [true, false]) {
      for (const [aSigned, bSigned, dSigned] of [[false, false, false], [false, true, true], [true, true, true], [true, false, true]] as const) {
        const name = `${isAdd ? "add" : "sub"} ${wd}-bit ${dSigned ? "signed" : "unsigned"} <- ${aw}-bit ${aSigned ? "s" : "u"}, ${bw}-bit ${bSigned ? "s" : "u"}`;
        test(name, () => {
          // every pair of operand values, then one more row (odd count), and 2 idle rows
          const aVals: number[] = [], bVals: number[] = [];
          for (let x = 0; x < 2 ** aw; x++) for (let y = 0; y < 2 ** bw; y++) {
            aVals.push(read(x, aw, aSigned));
            bVals.push(read(y, bw, bSigned));
          }
          for (const extra of [0, 1]) {
            const real = aVals.length + extra;
            const N = real + 2;
            const av = new Int32Array(N), bv = new Int32Array(N);
            for (let r = 0; r < N; r++) {
              av[r] = aVals[r % aVals.length]!;
              bv[r] = bVals[(r * 7) % bVals.length]!;
            }
            const idle = 5;
            for (const lb of [undefined, 0, 3, 32 - wd]) {
              const pat = lb === undefined ? undefined : Int32Array.from({ length: N }, () => random() | 0);
              const before = pat ? Int32Array.from(pat) : undefined;
              const out = new Int32Array(N);
              const k = addOutKernel(isAdd, av, bv, pat, lb ?? 0, out, N, real, idle, wd, dSigned, aw, aSigned, bw, bSigned, false, false);
              let dst = 0, chain = 0;
              for (let r = 0; r < N; r++) {
                const weight = r < real ? 1 : idle;
                const old = before ? (before[r]! >>> lb!) & ((1 << wd) - 1) : 0;
                // operands as wd-bit two's complement words (sign-extended, then cut to wd bits)
                const want = referenceRow(isAdd, av[r]! & ((1 << wd) - 1), bv[r]! & ((1 << wd) - 1), old, wd);
                assert.equal(out[r], read(want.bits, wd, dSigned), `${name}: value of row ${r} (N ${N})`);
                if (pat) {
                  const laneMask = ((1 << wd) - 1) << lb!;
                  assert.equal(pat[r], ((before![r]! & ~laneMask) | (want.bits << lb!)) | 0, `${name}: lane pattern of row ${r}`);
                }
                dst += weight * want.dst;
                chain += weight * want.chain;
              }
              assert.equal(k[0], dst, `${name}: destination cells (N ${N}, lane ${lb})`);
              assert.equal(k[1], chain, `${name}: carry-flag cells (N ${N}, lane ${lb})`);
            }
          }
        });
      }
    }
  }
});

test("addOutKernel at 32 bits: sums and differences that leave the int32 range keep their low 32 bits and carries", () => {
  // (bit-width inference off gives 32-bit values; a + b of two of them can exceed 2^31, which the
  // kernel must wrap exactly as the cells do)
  const extremes = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0x40000000, -0x40000000, 0x55555555, -0x55555556, 0x7ffffffe, -0x7fffffff, 12345, -98765];
  const aVals: number[] = [], bVals: number[] = [];
  for (const x of extremes) for (const y of extremes) {
    aVals.push(x);
    bVals.push(y);
  }
  const N = aVals.length + 1; // odd, one idle row
  const av = Int32Array.from({ length: N }, (_, r) => aVals[r % aVals.length]!);
  const bv = Int32Array.from({ length: N }, (_, r) => bVals[r % bVals.length]!);
  const real = N - 1, idle = 3;
  for (const isAdd of [true, false]) {
    for (const lane of [false, true]) {
      const pat = lane ? Int32Array.from({ length: N }, (_, r) => (r * 2654435761) | 0) : undefined;
      const before = pat ? Int32Array.from(pat) : undefined;
      const out = new Int32Array(N);
      const k = addOutKernel(isAdd, av, bv, pat, 0, out, N, real, idle, 32, true, 32, true, 32, true, false, false);
      let dst = 0, chain = 0;
      for (let r = 0; r < N; r++) {
        const weight = r < real ? 1 : idle;
        const want = referenceRow(isAdd, av[r]!, bv[r]!, before ? before[r]! : 0, 32);
        assert.equal(out[r], want.bits | 0, `${isAdd ? "add" : "sub"}: value of row ${r}`);
        if (pat) assert.equal(pat[r], want.bits | 0, `lane pattern of row ${r}`);
        dst += weight * want.dst;
        chain += weight * want.chain;
      }
      assert.equal(k[0], dst, `${isAdd ? "add" : "sub"}${lane ? " into a lane" : ""}: destination cells`);
      assert.equal(k[1], chain, `${isAdd ? "add" : "sub"}${lane ? " into a lane" : ""}: carry-flag cells`);
    }
  }
});

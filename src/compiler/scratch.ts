/**
 * Grow-only scratch typed arrays for per-block work of the compiler (the lowering's column ranges,
 * weight blocks and DAG bookkeeping). A ResNet-18 variant lowers ~10^4-10^5 blocks; a fresh typed
 * array per block and use (a few KB each, off the JS heap) cost ~7% of a deep unit's task in
 * allocation, page faults and the garbage collections V8 runs for external memory (profiled on
 * stage 4, where blocks are small and many). Here each slot keeps the largest array asked of it,
 * and a request returns a view of exactly the length asked, so code that reads `.length` sees
 * the same array as before.
 *
 * The contents of a view are undefined: callers write every entry they read. A view is valid
 * until its slot is asked again: one slot per array that must live at the same time.
 */
export class TypedScratch {
  private readonly i32: Int32Array[] = [];
  private readonly f64: Float64Array[] = [];
  private readonly i8: Int8Array[] = [];

  int32(slot: number, n: number): Int32Array {
    let a = this.i32[slot];
    if (!a || a.length < n) this.i32[slot] = a = new Int32Array(grownLength(a?.length ?? 0, n));
    return a.subarray(0, n);
  }

  float64(slot: number, n: number): Float64Array {
    let a = this.f64[slot];
    if (!a || a.length < n) this.f64[slot] = a = new Float64Array(grownLength(a?.length ?? 0, n));
    return a.subarray(0, n);
  }

  int8(slot: number, n: number): Int8Array {
    let a = this.i8[slot];
    if (!a || a.length < n) this.i8[slot] = a = new Int8Array(grownLength(a?.length ?? 0, n));
    return a.subarray(0, n);
  }
}

/** A power of two of at least n (and 256), so a slot grows O(log n) times. */
function grownLength(old: number, n: number): number {
  let c = Math.max(256, old);
  while (c < n) c *= 2;
  return c;
}

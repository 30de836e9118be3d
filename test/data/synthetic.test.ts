import { test } from "node:test";
import assert from "node:assert/strict";
import { randomImages } from "../../src/data/synthetic.js";

test("randomImages is reproducible from its seed and differs between seeds", () => {
  const a = randomImages([3, 8, 8], 5, 42);
  const b = randomImages([3, 8, 8], 5, 42);
  const c = randomImages([3, 8, 8], 5, 43);
  assert.equal(a.length, 5 * 3 * 8 * 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // A prefix of a longer draw: image i does not depend on how many images follow.
  assert.deepEqual(randomImages([3, 8, 8], 2, 42), a.subarray(0, 2 * 192));
});

test("randomImages handles sizes that are not a multiple of 4 and covers all byte values", () => {
  const odd = randomImages([1, 3, 3], 3, 7); // 27 pixels
  assert.equal(odd.length, 27);
  assert.deepEqual(randomImages([1, 3, 3], 3, 7), odd);
  const big = randomImages([1, 256, 256], 1, 1);
  const seen = new Set(big);
  assert.equal(seen.size, 256);
  // Uniform: each of 256 values expects 256 hits; the histogram stays within +-40% everywhere.
  const hist = new Array<number>(256).fill(0);
  for (const v of big) hist[v]!++;
  assert.ok(Math.min(...hist) > 150 && Math.max(...hist) < 360, `histogram ${Math.min(...hist)}..${Math.max(...hist)}`);
  assert.equal(randomImages([1, 2, 2], 0, 1).length, 0);
  assert.throws(() => randomImages([1, 2, 2], -1, 1), RangeError);
});

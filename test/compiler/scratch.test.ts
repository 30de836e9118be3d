/**
 * TypedScratch (src/compiler/scratch.ts): views of exactly the length asked (code reading
 * `.length` sees what a fresh array would give), slots independent of each other, and a slot's
 * storage kept when a smaller view is asked and grown when a larger one is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TypedScratch } from "../../src/compiler/scratch.js";

test("TypedScratch gives views of the asked length, per slot, reusing and growing storage", () => {
  const s = new TypedScratch();
  const a = s.int32(0, 10).fill(7);
  const b = s.int32(1, 10).fill(9);
  assert.equal(a.length, 10);
  assert.deepEqual(Array.from(a), Array(10).fill(7), "slot 1 does not touch slot 0");
  assert.deepEqual(Array.from(b), Array(10).fill(9));
  const again = s.int32(0, 4);
  assert.equal(again.length, 4);
  assert.equal(again.buffer, a.buffer, "a smaller view of a slot shares its storage");
  const big = s.int32(0, 5000);
  assert.equal(big.length, 5000);
  assert.notEqual(big.buffer, a.buffer, "a larger one grows it");
  assert.equal(s.int32(0, 3000).buffer, big.buffer);
  assert.equal(s.float64(0, 3).length, 3);
  assert.ok(s.float64(0, 3) instanceof Float64Array);
  assert.equal(s.int8(2, 0).length, 0);
  assert.ok(s.int8(2, 300) instanceof Int8Array);
});

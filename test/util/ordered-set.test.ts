/**
 * InsertionOrderedSet (src/util/ordered-set.ts) must behave exactly like a JS Set of numbers in
 * membership, size and iteration order: the lowering's eviction of hot values breaks ties by that
 * order, so any difference would change compiled programs. Checked on random operation sequences
 * against a Set, and for bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InsertionOrderedSet } from "../../src/util/ordered-set.js";
import { Rng } from "../../src/util/random.js";

const members = (s: InsertionOrderedSet): number[] => {
  const out: number[] = [];
  for (let x = s.first(); x >= 0; x = s.after(x)) out.push(x);
  return out;
};

test("InsertionOrderedSet follows a Set through random adds and deletes (re-adds keep their place)", () => {
  for (const capacity of [1, 2, 7, 64]) {
    const rng = new Rng(capacity);
    const rnd = (): number => rng.next();
    const ours = new InsertionOrderedSet(capacity);
    const ref = new Set<number>();
    for (let step = 0; step < 5000; step++) {
      const x = Math.floor(rnd() * capacity);
      if (rnd() < 0.55) {
        ours.add(x);
        ref.add(x);
      } else assert.equal(ours.delete(x), ref.delete(x));
      assert.equal(ours.size, ref.size);
      assert.equal(ours.has(x), ref.has(x));
      if (step % 97 === 0 || capacity < 8) assert.deepEqual(members(ours), [...ref]);
    }
    assert.deepEqual(members(ours), [...ref]);
  }
});

test("InsertionOrderedSet: empty iteration, and members outside its capacity are refused", () => {
  const s = new InsertionOrderedSet(4);
  assert.equal(s.first(), -1);
  assert.deepEqual(members(s), []);
  assert.throws(() => s.add(4), /outside 0\.\.3/);
  assert.throws(() => s.add(-1), /outside 0\.\.3/);
  assert.equal(s.delete(9), false);
});

test("InsertionOrderedSet after clear() follows a fresh Set (the lowering reuses one set for every block DAG)", () => {
  const rng = new Rng(5);
  const ours = new InsertionOrderedSet(32);
  for (let round = 0; round < 20; round++) {
    ours.clear();
    assert.equal(ours.size, 0);
    assert.equal(ours.first(), -1);
    const ref = new Set<number>();
    for (let step = 0; step < 200; step++) {
      const x = Math.floor(rng.next() * 32);
      if (rng.next() < 0.6) {
        ours.add(x);
        ref.add(x);
      } else assert.equal(ours.delete(x), ref.delete(x));
      assert.equal(ours.has(x), ref.has(x));
    }
    assert.equal(ours.size, ref.size);
    assert.deepEqual(members(ours), [...ref]);
    for (let x = 0; x < 32; x++) assert.equal(ours.has(x), ref.has(x));
  }
});

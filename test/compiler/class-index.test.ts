/**
 * ClassIndex (src/compiler/simulate.ts): the word level's class lookup by structural key, number
 * keys in a typed-array hash table. It must answer like a Map: exact doubles up to 2^52 (the packed
 * keys), keys that differ only in their high or low 32 bits, string keys beside them, and growth
 * far past its first capacity.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClassIndex } from "../../src/compiler/simulate.js";
import { Rng } from "../../src/util/random.js";

test("ClassIndex answers like a Map for packed number keys and string keys, through growth", () => {
  const rng = new Rng(7);
  const index = new ClassIndex();
  const ref = new Map<number | string, number>();
  const keys: (number | string)[] = [];
  for (let k = 0; k < 20000; k++) {
    const r = rng.next();
    let key: number | string;
    if (r < 0.1) key = `t${rng.int(0, 500)}`;
    else if (r < 0.3 && keys.length) {
      // a near twin of an earlier key: the same low 32 bits, another high part, or the reverse
      const base = keys[rng.int(0, keys.length - 1)]!;
      key = typeof base === "string" ? `${base}x` : rng.next() < 0.5 ? base + 4294967296 * rng.int(1, 3) : base + rng.int(1, 3);
    } else key = rng.int(0, 2 ** 20) * 4294967296 + rng.int(0, 2 ** 31) * 2 + rng.int(0, 1);
    keys.push(key);
    const want = ref.get(key);
    assert.equal(index.get(key), want, `key ${String(key)}`);
    if (want === undefined) {
      ref.set(key, k);
      index.set(key, k);
    }
  }
  for (const [key, v] of ref) assert.equal(index.get(key), v);
  assert.equal(index.get(2 ** 52 - 1), ref.get(2 ** 52 - 1));
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/util/random.js";

test("Rng is deterministic per seed and differs across seeds", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xa = Array.from({ length: 8 }, () => a.nextU32());
  const xb = Array.from({ length: 8 }, () => b.nextU32());
  const xc = Array.from({ length: 8 }, () => c.nextU32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test("Rng uniform and normal moments are plausible over 1e5 draws", () => {
  const r = new Rng(7);
  let s = 0, s2 = 0, u = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
    u += r.next();
  }
  assert.ok(Math.abs(s / n) < 0.02, `normal mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.03, `normal variance ${s2 / n}`);
  assert.ok(Math.abs(u / n - 0.5) < 0.01, `uniform mean ${u / n}`);
});

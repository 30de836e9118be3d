/**
 * compare's task queue (src/compare.ts UnitTaskQueue): every (variant, unit) task is handed out
 * exactly once; a worker keeps to the units it started (its thread's CSE memo then serves every
 * variant of them); a second worker starts units from the small end; idle workers take what is left.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { UnitTaskQueue } from "../../src/compare.js";

test("every task once, with affinity by unit and the two workers starting from both ends", () => {
  // unit costs: unit 2 largest, then 0, 3, 1
  const q = new UnitTaskQueue<string>([50, 10, 90, 20], 3);
  assert.equal(q.size, 12);
  const got: { w: string; v: number; u: number }[] = [];
  const take = (w: string): void => {
    const t = q.take(w);
    if (t) got.push({ w, ...t });
  };
  take("A"); // largest unit: 2
  take("B"); // smallest unit: 1
  assert.deepEqual(got.map((t) => [t.w, t.u, t.v]), [["A", 2, 0], ["B", 1, 0]]);
  // each keeps to its unit until it runs out
  take("A");
  take("A");
  take("B");
  assert.deepEqual(got.slice(2).map((t) => [t.w, t.u, t.v]), [["A", 2, 1], ["A", 2, 2], ["B", 1, 1]]);
  // A starts the largest fresh unit (0), B keeps to 1 then starts the smallest fresh one (3)
  take("A");
  take("B");
  take("B");
  assert.deepEqual(got.slice(5).map((t) => [t.w, t.u, t.v]), [["A", 0, 0], ["B", 1, 2], ["B", 3, 0]]);
  // no fresh units left: A finishes its unit 0, then takes what is left of B's unit 3
  while (q.size) take("A");
  assert.equal(q.take("A"), undefined);
  assert.equal(q.take("B"), undefined);
  const seen = new Set(got.map((t) => `${t.v}/${t.u}`));
  assert.equal(seen.size, 12, "every (variant, unit) task exactly once");
  assert.deepEqual(got.slice(8).map((t) => [t.u, t.v]), [[0, 1], [0, 2], [3, 1], [3, 2]]);
});

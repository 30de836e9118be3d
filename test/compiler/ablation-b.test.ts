/**
 * Ablation, second half: bit-width inference, allocation, layout, data movement (see ablation.ts),
 * plus the two costs those passes remove as the compile table and the movement clock report them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { ablationSuite } from "./ablation.js";
import { fmnistImages, fmnistQGraph, verifiedRun } from "./helpers.js";

ablationSuite(["bitwidth", "allocation", "layout", "movement"]);

test("bitwidth off: the compile table's add cycles show the 31-bit sweeps", () => {
  const q = fmnistQGraph();
  const units = (disable: "bitwidth"[]) => compileNetwork(q, { disable }).units;
  const on = units([]), off = units(["bitwidth"]);
  const adds = on.reduce((s, u) => s + u.stats.addsCompiled, 0);
  // every addition of the DAGs sweeps 31 bits
  assert.equal(off.reduce((s, u) => s + u.stats.cyclesCompiled, 0), 31 * adds);
  assert.ok(31 * adds > on.reduce((s, u) => s + u.stats.cyclesCompiled, 0));
});

test("movement off: loads and stores through the global buffer cost more cycles than local ones", () => {
  const q = fmnistQGraph();
  const { images } = fmnistImages(1);
  const cycles = (disable: "movement"[]): number => verifiedRun(compileNetwork(q, { disable }), images, 1, { mode: "fast" }).movement.cycles;
  const on = cycles([]), off = cycles(["movement"]);
  assert.ok(off > on, `movement cycles: ${off} with movement off vs ${on} with it on`);
});

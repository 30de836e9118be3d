import { test } from "node:test";
import assert from "node:assert/strict";
import { tornado, solveMultiplier, energyRatioEvaluator, defaultUncertainParameters, type RatioEvaluator } from "../../src/cost/sensitivity.js";
import { loadApTechnology, loadCrossbarTechnology } from "../../src/cost/technology.js";
import { neurosimResnet18Workload } from "../../src/cost/neurosim.js";
import type { ApEventCounts } from "../../src/cost/ap.js";
import { loadArch } from "../../src/ap/config.js";

// A synthetic "crossbar / AP" ratio: 10 / (a + 2b + 0.1c) with a, b, c the multipliers.
const synthetic: RatioEvaluator = (f) => 10 / ((f.a ?? 1) + 2 * (f.b ?? 1) + 0.1 * (f.c ?? 1));

test("tornado varies each parameter alone x0.5 / x2 and sorts by swing", () => {
  const t = tornado(synthetic, ["c", "a", "b"]);
  assert.equal(t.base, 10 / 3.1);
  assert.deepEqual(t.bars.map((b) => b.name), ["b", "a", "c"]);
  const b = t.bars[0]!;
  assert.equal(b.atLow, 10 / (1 + 1 + 0.1));
  assert.equal(b.atHigh, 10 / (1 + 4 + 0.1));
  assert.equal(b.swing, Math.abs(b.atHigh - b.atLow));
  assert.ok(t.bars.every((x) => x.lowFactor === 0.5 && x.highFactor === 2));
});

test("solveMultiplier finds what one parameter alone must become, or says it cannot", () => {
  const r = solveMultiplier(synthetic, "b", 5); // 10 / (1.1 + 2m) = 5  ->  m = 0.45
  assert.ok(r.reachable);
  assert.ok(Math.abs(r.multiplier - 0.45) < 1e-5, `m = ${r.multiplier}`);
  assert.ok(Math.abs(r.ratio - 5) < 1e-4);
  const no = solveMultiplier(synthetic, "c", 100); // even c -> 0 leaves 10/3 < 100
  assert.equal(no.reachable, false);
  if (!no.reachable) assert.match(no.reason, /not reachable by this parameter alone/);
});

test("the RTM-AP / crossbar energy ratio responds to each side's parameters in the right direction", () => {
  const ap = loadApTechnology("rtm-ap");
  const x = loadCrossbarTechnology("crossbar-neurosim22");
  // A stand-in event record (the compiler's real counts replace it in the comparison report).
  const apEvents: ApEventCounts = {
    searches: 1e5, searchRowBits: 1e9, flagSearchRowBits: 1e8, writes: 1e5, writeCells: 1e7, flagWriteCells: 1e7,
    tagOps: 1e4, shifts: 1e5, shiftTrackDomains: 1e8, bufferReadBits: 1e6, bufferWriteBits: 1e6,
    transferBitsArray: 1e7, transferBitsTile: 1e6, transferBitHopsTile: 2e6, transferBitsChip: 1e6, cycles: 1e5,
  };
  const params = defaultUncertainParameters(ap, x);
  const ev = energyRatioEvaluator({ ap, apEvents, apMachine: loadArch("rtm-ap"), crossbar: x, workload: neurosimResnet18Workload("padded"), params });
  const base = ev({});
  assert.ok(ev({ "AP write energy per cell": 2 }) < base, "dearer AP writes lower the ratio");
  assert.ok(ev({ "AP shift energy per domain-length": 2 }) < base, "dearer AP shifts lower the ratio");
  assert.ok(ev({ "crossbar ADC energy": 2 }) > base, "dearer ADCs raise the ratio");
  const t = tornado(ev, params.map((p) => p.name));
  assert.equal(t.bars.length, params.length);
  for (let i = 1; i < t.bars.length; i++) assert.ok(t.bars[i - 1]!.swing >= t.bars[i]!.swing);
});

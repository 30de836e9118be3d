import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCrossbarTechnology } from "../../src/cost/technology.js";
import { crossbarCost, crossbarLayerCost, colsPerWeight, subarrayOutputBits } from "../../src/cost/crossbar.js";
import { workloadFromLayerTable } from "../../src/cost/workload.js";
import { withParam } from "../../src/cost/overrides.js";
import { repoPath } from "../repo.js";

const here = repoPath("test", "cost");
const tiny = loadCrossbarTechnology(join(here, "fixtures", "tiny-crossbar.yaml"));

/** Relative closeness for energies built from several SI products (1e-12 is far below any modelling step). */
function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

// One 3x3 conv, C=4 -> O=4 on a 6x6 input, stride 1, same padding: 36 positions, 4-bit inputs.
const oneConv = workloadFromLayerTable([{ name: "conv", H: 6, W: 6, C: 4, KH: 3, KW: 3, N: 4, pool: false, stride: 1 }], {
  positions: "padded",
  inputBits: 4,
  outputBits: 4,
  name: "one conv",
  source: "test",
});

test("workload of a single 3x3 conv (padded and NeuroSim-valid positions)", () => {
  const l = oneConv.layers[0]!;
  assert.equal(l.positions, 36);
  assert.equal(l.macs, 36 * 4 * 4 * 9);
  const valid = workloadFromLayerTable([{ name: "conv", H: 6, W: 6, C: 4, KH: 3, KW: 3, N: 4, pool: false, stride: 1 }], {
    positions: "valid",
    inputBits: 4,
    outputBits: 4,
    name: "v",
    source: "t",
  });
  assert.equal(valid.layers[0]!.positions, 16); // (6-3+1)^2
});

test("crossbar counts and energies of one 3x3 conv follow the formulas exactly", () => {
  const c = crossbarLayerCost(oneConv.layers[0]!, tiny);
  // R = 4*3*3 = 36 rows over 32-row arrays -> 2 row groups; 4 outputs x 2 differential columns = 8 columns -> 1 column group
  assert.equal(colsPerWeight(tiny), 2);
  assert.equal(c.counts.rowGroups, 2);
  assert.equal(c.counts.colGroups, 1);
  assert.equal(c.arrays, 2);
  assert.equal(c.counts.arrayReads, 36 * 4 * 2); // positions x input bits x arrays
  assert.equal(c.counts.conversions, 36 * 4 * 2 * 8); // ... x row groups x used columns = 2304
  assert.equal(c.counts.rowDrives, 36 * 4 * 36 * 0.5); // positions x bits x rows x density
  assert.equal(subarrayOutputBits(tiny, 4), 10); // 4-bit ADC + 4 input bits + 1 column shift + sign
  assert.equal(c.counts.adderBits, 2304 * 10 + 36 * 4 * 1 * 11); // shift-adds + one 11-bit merge per output
  assert.deepEqual(c.counts.levelInputBits, [6 * 6 * 4 * 4]); // feature map
  assert.deepEqual(c.counts.levelOutputBits, [36 * 4 * 4]); // activations
  close(c.adcOnly, 2304 * 100e-15, "ADC");
  close(c.arrayRead, 36 * 4 * 1 * (36 / 32) * 10e-12, "array read");
  close(c.energy.dac, 2592 * 1e-15, "row drive");
  close(c.energy.accumulation, 24624 * 1e-15, "accumulation");
  // wires: 576 bits x 0.5 toggle x 1 mm + 576 x 0.5 x 2 mm, at 100 fJ/bit/mm
  close(c.energy.interconnect, (576 * 0.5 * 1 + 576 * 0.5 * 2) * 100e-15, "interconnect");
  close(c.energy.buffers, 1152 * 10e-15, "buffers");
  close(c.latencyS, 36 * 4 * 4e-9, "latency: positions x bits x 4 muxed conversions of 1 ns");
  close(c.areaM2, 2 * (100 + 4 * 10 + 50) * 1e-12 + (2 / 4) * 1000e-12, "area");
});

test("crossbarCost sums the layers and charges leakage over the image (layer by layer)", () => {
  const c = crossbarCost(oneConv, tiny);
  const l = c.perLayer[0]!;
  close(l.energy.leakage, 2 * 1e-6 * 576e-9, "leakage: 2 arrays x 1 uW x 576 ns");
  close(c.total.energyJ, l.dynamicJ + l.energy.leakage, "total");
  assert.equal(c.total.arrays, 2);
  close(c.total.latencyS, 576e-9, "latency");
});

test("differential vs offset weight encoding and the ADC resolution change the counts as expected", () => {
  const offset2 = withParam(tiny, "weights.bits", 2);
  (offset2.weights as { encoding: string }).encoding = "offset";
  assert.equal(colsPerWeight(offset2), 2); // 2-bit code over 1-bit cells
  const c = crossbarLayerCost(oneConv.layers[0]!, offset2);
  assert.equal(c.counts.conversions, 2304);
  const wide = withParam(tiny, "array.rows", 64);
  assert.equal(crossbarLayerCost(oneConv.layers[0]!, wide).counts.rowGroups, 1);
});

/**
 * The word-level ("fast") and bit-level simulators agree on every value and every event count,
 * unit by unit: fmnist-resnet8 on rtm-ap (interleaved pages), with the FC layer weight-stationary,
 * on narrow serial and interleaved rows (rtm-ap-serial itself: e2e-fmnist-serial.test.ts) (several output blocks and input slices,
 * accumulators, staging copies), on sram-ap, on a chip
 * too small for the stem (two passes over the arrays); three hand-made networks (8-bit stem,
 * negative and zero add multipliers, identity and conv shortcuts, padded max pools, an add unit, a
 * sum pool) with all-0 and all-255 images. Also: values-only runs give the same outputs, and
 * events are additive over the images of a batch.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { addEvents, zeroEvents } from "../../src/ap/events.js";
import { compileNetwork, runCompiled, type CompileOptions } from "../../src/compiler/pipeline.js";
import { archWith, assertBitExact, fmnistImages, fmnistQGraph, handMadeNet, randomPixels, verifiedRun } from "./helpers.js";

function agree(net: ReturnType<typeof compileNetwork>, pixels: Uint8Array, n: number, what: string): void {
  const fast = verifiedRun(net, pixels, n, { mode: "fast" });
  const bit = verifiedRun(net, pixels, n, { mode: "bit" });
  assertBitExact(fast, `${what}, word level`);
  assertBitExact(bit, `${what}, bit level`);
  assert.deepEqual(bit.output, fast.output);
  net.units.forEach((u, i) => assert.deepEqual(bit.unitEvents[i], fast.unitEvents[i], `${what}: events of unit ${u.unit.name}`));
  assert.ok(fast.events.searches > 0 && fast.events.writeCells > 0 && fast.events.cycles > 0);
}

describe("fast and bit-level simulation agree on fmnist-resnet8", () => {
  const q = fmnistQGraph();
  const cases: [string, CompileOptions, number][] = [
    ["rtm-ap", {}, 2],
    ["rtm-ap, FC layer weight-stationary", { fcStationary: "always" }, 1],
    ["32-track serial row (blocks x slices)", { arch: archWith({ tracks: 32, tracksPerGroup: 8, layout: "serial" }) }, 1],
    ["96-track interleaved row of 32-domain tracks (3 banks, 16 pages: blocks x slices, evictions)", { arch: archWith({ tracks: 96, tracksPerGroup: 32, domains: 32, portPositions: [0, 16] }) }, 1],
    ["sram-ap", { arch: "sram-ap" }, 1],
    ["a chip of 2 x 256 rows (the 28x28 layers in two passes)", { arch: archWith({ rows: 256 }, { tiles: 1, arraysPerTile: 2 }) }, 1],
  ];
  for (const [what, opts, n] of cases) {
    test(`${what}: ${n} images`, (t) => {
      const net = compileNetwork(q, { ...opts, verify: true });
      if (opts.fcStationary) assert.ok(net.units[8]!.stationary, "the FC layer is weight-stationary");
      if (what.startsWith("32") || what.startsWith("96")) assert.ok(net.units.some((u) => u.stats.blocks > 1) && net.units.some((u) => u.stats.slices > u.stats.matrices.length));
      if (what.startsWith("a chip")) assert.deepEqual(net.units.slice(0, 3).map((u) => u.mapping.passes), [2, 2, 2]);
      const { images } = fmnistImages(n);
      agree(net, images, n, what);
      t.diagnostic(`${net.units.length} units`);
    });
  }
});

describe("fast and bit-level simulation agree on hand-made networks", () => {
  for (const [seed, density] of [[1, 0.6], [2, 0.2], [3, 1]] as const) {
    test(`seed ${seed}, weight density ${density}: positions-mapped and weight-stationary FC`, () => {
      const q = handMadeNet(seed, density);
      const pixels = randomPixels([2, 9, 11], 6, 100 + seed);
      for (const fc of ["never", "always"] as const) agree(compileNetwork(q, { verify: true, fcStationary: fc }), pixels, 6, `hand-made ${seed}, fc ${fc}`);
    });
  }
});

describe("batches and values-only runs", () => {
  test("fmnist: a values-only run gives the outputs of an event-counting run", () => {
    const net = compileNetwork(fmnistQGraph(), { verify: true });
    const { images } = fmnistImages(8);
    const withEvents = runCompiled(net, images, 8, { mode: "fast" });
    const valuesOnly = runCompiled(net, images, 8, { mode: "fast", events: false });
    for (const cu of net.units) assert.deepEqual(valuesOnly.tensors.get(cu.unit.output), withEvents.tensors.get(cu.unit.output), cu.unit.name);
  });

  test("events of a batch are the sum of each image's events (word level on fmnist; bit level on a hand-made net)", () => {
    const net = compileNetwork(fmnistQGraph());
    const { images } = fmnistImages(3);
    const per = 784;
    const sum = zeroEvents();
    for (let i = 0; i < 3; i++) addEvents(sum, runCompiled(net, images.subarray(i * per, (i + 1) * per), 1, { mode: "fast" }).events);
    assert.deepEqual(runCompiled(net, images, 3, { mode: "fast" }).events, sum);
    const h = compileNetwork(handMadeNet(4));
    const px = randomPixels([2, 9, 11], 5, 7);
    const hs = zeroEvents();
    for (let i = 0; i < 5; i++) addEvents(hs, runCompiled(h, px.subarray(i * 198, (i + 1) * 198), 1, { mode: "bit" }).events);
    assert.deepEqual(runCompiled(h, px, 5, { mode: "bit" }).events, hs);
  });
});

/**
 * Weight folding off at the bit level. With the `weight-folding` pass off every weight, zeros
 * included, is a `mac` step: the weight's two bits (P = +1, M = -1) stored in the row, an add
 * predicated on them and a subtract predicated on them. The word level (what `rtap compare`'s
 * "weight-folding off" ablation row uses) prices it by formula (src/compiler/simulate.ts,
 * simulateFast, OP_MAC: both plans' static events per class with 2 extra key bits per search and
 * row, the cells of the add or the subtract the weight selects). Here the bit level runs the same
 * programs with the weight in two free cells of every row (SimContext.macWeightCells) as predicated
 * LUT passes on the bit-sliced arrays, and every unit's output must equal the integer reference and
 * every event count equal the word level's: fmnist-resnet8 on the default interleaved RTM-AP, and
 * hand-made networks (8-bit stem, fused two-conv residual unit, identity shortcut, pools, add unit,
 * positions-mapped FC) on rtm-ap and sram-ap. Serial rows keep no cell under a port for the weight:
 * refused with an RtapError.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EVENT_KINDS } from "../../src/ap/events.js";
import { RtapError } from "../../src/errors.js";
import { compileNetwork, runCompiled, type CompiledNetwork, type CompileOptions } from "../../src/compiler/pipeline.js";
import { OP_MAC } from "../../src/compiler/program.js";
import { makeSimContext } from "../../src/compiler/simulate.js";
import type { QGraph } from "../../src/quantize/qgraph.js";
import { assertBitExact, fmnistImages, fmnistQGraph, handMadeNet, randomPixels, verifiedRun } from "./helpers.js";

/**
 * Two track cells no value of any unit program uses (nor the requantization scratch cells) that
 * are under a port wherever the page schedule leaves their group: interleaved rows, the hot banks'
 * home page (those banks never move); SRAM rows, any column.
 */
function freeWeightCells(net: CompiledNetwork): [number, number] {
  const used = new Set<number>(net.layout.scratchCells);
  for (const cu of net.units) {
    if (cu.stationary) continue;
    const p = cu.program;
    for (let id = 0; id < p.nValues; id++) for (const c of p.cells(id)) used.add(c);
  }
  const free: number[] = [];
  const pg = net.layout.pages;
  if (pg) {
    for (const bank of pg.hotBanks)
      for (let l = 0; l < pg.lanesPerPage; l++)
        for (let b = 0; b < pg.laneTracks[l % pg.laneTracks.length]!; b++) {
          const c = pg.cellOf(bank, 0, l, b);
          if (!used.has(c)) free.push(c);
        }
  } else {
    assert.equal(net.layout.kind, "sram");
    for (let c = 0; c < net.layout.geom.trackCells && free.length < 2; c++) if (!used.has(c)) free.push(c);
  }
  assert.ok(free.length >= 2, `two free cells for the stored weight (found ${free.length})`);
  return [free[0]!, free[1]!];
}

/** MAC steps by weight (-1, 0, +1) over the position-mapped units, and their conv weights by value. */
function macCensus(net: CompiledNetwork): { macs: Map<number, number>; weights: Map<number, number> } {
  const macs = new Map<number, number>(), weights = new Map<number, number>();
  const count = (m: Map<number, number>, w: number): void => void m.set(w, (m.get(w) ?? 0) + 1);
  for (const cu of net.units) {
    if (cu.stationary) continue;
    const p = cu.program;
    for (let i = 0; i < p.nSteps; i++) if (p.op[i] === OP_MAC) count(macs, p.imm[i]!);
    if (cu.unit.kind === "conv") for (const t of cu.unit.terms) for (const w of t.conv.weights) count(weights, w);
  }
  return { macs, weights };
}

/**
 * Compiles `q` with weight folding off and runs `n` images on both simulators (each checked unit by
 * unit against the integer reference); asserts the same outputs and the same count of every event,
 * unit by unit. Returns the two runs' totals and times for diagnostics.
 */
function macAgreement(q: QGraph, pixels: Uint8Array, n: number, opts: CompileOptions, what: string): string {
  const net = compileNetwork(q, { ...opts, disable: ["weightFolding"], verify: true });
  const census = macCensus(net);
  for (const w of [-1, 0, 1]) assert.equal(census.macs.get(w) ?? 0, census.weights.get(w) ?? 0, `${what}: one MAC step per weight ${w} (zeros included)`);
  for (const w of [-1, 1]) assert.ok((census.macs.get(w) ?? 0) > 0, `${what}: MAC steps with weight ${w}`);
  const cells = freeWeightCells(net);

  net.sim = { ...makeSimContext(q, net.arch, net.layout), macWeightCells: cells };
  let t0 = performance.now();
  const bit = verifiedRun(net, pixels, n, { mode: "bit" });
  const bitSeconds = (performance.now() - t0) / 1000;
  net.sim = makeSimContext(q, net.arch, net.layout);
  t0 = performance.now();
  const fast = verifiedRun(net, pixels, n, { mode: "fast" });
  const fastSeconds = (performance.now() - t0) / 1000;

  assertBitExact(bit, `${what}, bit level`);
  assertBitExact(fast, `${what}, word level`);
  assert.deepEqual(bit.output, fast.output, `${what}: network outputs`);
  net.units.forEach((cu, i) => {
    for (const k of EVENT_KINDS) assert.equal(bit.unitEvents[i]![k], fast.unitEvents[i]![k], `${what}: unit ${cu.unit.name}: ${k} (bit level vs word level)`);
  });
  for (const k of EVENT_KINDS) assert.equal(bit.events[k], fast.events[k], `${what}: ${k}`);
  for (const k of EVENT_KINDS) assert.equal(bit.movement[k], fast.movement[k], `${what}: movement ${k}`);
  assert.ok(fast.events.searches > 0 && fast.events.searchRowBits > 0 && fast.events.writeCells > 0 && fast.events.cycles > 0, `${what}: events counted`);
  const e = fast.events;
  return `${what}: MAC steps +1: ${census.macs.get(1) ?? 0}, -1: ${census.macs.get(-1) ?? 0}, 0: ${census.macs.get(0) ?? 0}, weight cells ${cells.map((c) => net.layout.geom.describeCell(c)).join(", ")}; ` +
    `bit level ${bitSeconds.toFixed(1)} s, word level ${fastSeconds.toFixed(1)} s; equal: searches ${e.searches}, searchRowBits ${e.searchRowBits}, writes ${e.writes}, writeCells ${e.writeCells}, shifts ${e.shifts}, shiftTrackDomains ${e.shiftTrackDomains}, cycles ${e.cycles}`;
}

describe("weight folding off: the word level's MAC events equal the bit level's", () => {
  test("fmnist-resnet8 on rtm-ap (interleaved pages), 1 image: outputs equal the reference, every event count equal, unit by unit", (t) => {
    const { images } = fmnistImages(1);
    const q = fmnistQGraph();
    const zeros = q.ops.some((o) => o.kind === "conv" && o.weights.includes(0));
    assert.ok(zeros, "fmnist-resnet8 has zero weights (MAC steps that write nothing)");
    t.diagnostic(macAgreement(q, images, 1, {}, "fmnist-resnet8, rtm-ap"));
  });

  test("hand-made networks on rtm-ap and sram-ap, 6 images (all-0, all-255, random): outputs and every event count equal", (t) => {
    for (const [seed, density] of [[1, 0.6], [2, 0.2], [3, 1]] as const) {
      const q = handMadeNet(seed, density);
      const pixels = randomPixels([2, 9, 11], 6, 300 + seed);
      for (const arch of ["rtm-ap", "sram-ap"]) {
        t.diagnostic(macAgreement(q, pixels, 6, { arch, fcStationary: "never" }, `hand-made ${seed} (density ${density}), ${arch}`));
      }
    }
  });

  test("serial rows: the bit level refuses MAC steps with an RtapError (no cell stays under a port for the weight)", () => {
    const q = handMadeNet(1);
    const net = compileNetwork(q, { arch: "rtm-ap-serial", disable: ["weightFolding"], fcStationary: "never" });
    net.sim = { ...makeSimContext(q, net.arch, net.layout), macWeightCells: [1, 2] };
    assert.throws(() => runCompiled(net, randomPixels([2, 9, 11], 1, 1), 1, { mode: "bit" }), (e: unknown) => e instanceof RtapError && /interleaved and SRAM rows only.*--sim fast/.test(e.message));
  });
});

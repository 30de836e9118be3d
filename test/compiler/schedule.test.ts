/**
 * The chip schedule (src/compiler/schedule.ts): parts of a unit run at once on arrays of their own,
 * partial sums travel to each block's reducer, latency is the critical path. Checked on
 * fmnist-resnet8: bit-exact with the split the schedule chooses, the same scheduled events at the
 * word and the bit level, one slot = the serial stream, more controllers = more slots, and the
 * schedule against a hand computation on a made-up profile.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadArch, parseArch } from "../../src/ap/config.js";
import { mapPositions } from "../../src/compiler/mapping.js";
import { compileNetwork, runCompiled, stationarySummary } from "../../src/compiler/pipeline.js";
import { UnitProgram } from "../../src/compiler/program.js";
import { SPLIT_ENERGY_BUDGET } from "../../src/compiler/lower.js";
import { parseSplitBudget } from "../../src/cli/model-options.js";
import { networkSchedule, scheduleSlots, scheduleUnit, type ScheduleSummary } from "../../src/compiler/schedule.js";
import type { PartProfile } from "../../src/compiler/simulate.js";
import { readFileSync } from "node:fs";
import { archConfigDir } from "../../src/ap/config.js";
import { join } from "node:path";
import { assertBitExact, fmnistQGraph, randomPixels, verifiedRun } from "./helpers.js";

const q = fmnistQGraph();
const pixels = randomPixels(q.tensors.get(q.input)!.shape, 2, 7);

describe("chip schedule on fmnist-resnet8", () => {
  const arch = loadArch("rtm-ap");
  const net = compileNetwork(q, { arch });

  test("the default chip splits units into parts (conv blocks x slices, pool channel groups); a block's last part reduces", () => {
    const split = net.units.filter((u) => u.program.parts.length > 1);
    assert.ok(split.length >= 7, `units with parts: ${split.map((u) => `${u.unit.name}:${u.program.parts.length}`).join(", ")}`);
    for (const u of split) assert.ok(u.program.parts.length <= scheduleSlots(u.mapping, arch), `${u.unit.name}: no more parts than slots`);
    // a conv unit with slices sends partial sums; its reducer (a block's last part) sends none
    const conv = net.units.find((u) => u.unit.kind === "conv" && u.program.parts.some((p) => p.transferBits > 0));
    assert.ok(conv, "some conv unit reduces across parts");
    const parts = conv!.program.parts;
    for (let k = 0; k < parts.length; k++) {
      const lastOfBlock = k === parts.length - 1 || parts[k + 1]!.block !== parts[k]!.block;
      if (lastOfBlock) assert.equal(parts[k]!.transferBits, 0, `part ${k} reduces`);
    }
  });

  test("the split: the fastest within the energy budget of the row's own split; the stem, whose blocks would reload the image, stays whole", () => {
    let chosen = 0;
    for (const u of net.units) {
      const s = u.stats;
      if (!s.splits || !s.splitBase) continue;
      const [pick, ...others] = s.splits;
      assert.ok(pick!.chosen && others.every((o) => !o.chosen), `${u.unit.name}: the first listed is the chosen one`);
      assert.ok(pick!.energy <= s.splitBase.energy * (1 + SPLIT_ENERGY_BUDGET), `${u.unit.name}: within the budget`);
      for (const o of others) {
        if (o.energy <= s.splitBase.energy * (1 + SPLIT_ENERGY_BUDGET)) assert.ok(o.cycles >= pick!.cycles * 0.999, `${u.unit.name}: ${o.blocks}x${o.slices} is within budget and faster`);
      }
      // the program has the chosen split's parts
      assert.equal(u.program.parts.length, pick!.parts, `${u.unit.name}: parts`);
      assert.equal(u.stats.blocks, pick!.blocks, `${u.unit.name}: blocks`);
      if (pick!.parts > s.splitBase.parts) chosen++;
    }
    assert.ok(chosen >= 4, `units split beyond the row's capacity: ${chosen}`);
    const stem = net.units[0]!;
    assert.equal(stem.program.parts.length, 1, "the stem (one input channel) is not split");
    assert.ok(stem.stats.splits!.some((o) => o.energy > stem.stats.splitBase!.energy * (1 + SPLIT_ENERGY_BUDGET)), "its faster splits are over the budget");
  });

  test("word and bit level give the same values, scheduled cycles and partial-sum transfers, unit by unit", () => {
    // (test/compiler/simulators.test.ts compares every event of this network on 2 images)
    const fast = runCompiled(net, pixels, 2, { mode: "fast" });
    const bit = runCompiled(net, pixels, 2, { mode: "bit" });
    assert.deepEqual(bit.output, fast.output);
    assertBitExact(verifiedRun(net, pixels, 2, { mode: "fast" }), "fmnist-resnet8, parts");
    fast.units.forEach((u, i) => {
      const b = bit.units[i]!;
      assert.equal(u.events.cycles, b.events.cycles, `${u.unit}: cycles`);
      assert.equal(u.events.transferBitsTile, b.events.transferBitsTile, `${u.unit}: tile transfers`);
      assert.equal(u.events.bufferReadBits, b.events.bufferReadBits, `${u.unit}: buffer reads`);
      if (u.schedule) {
        assert.deepEqual(u.schedule, b.schedule, `${u.unit}: schedule`);
        assert.ok(u.schedule.cycles <= u.schedule.serialCycles, `${u.unit}: never slower than the serial stream`);
      }
    });
    // a unit's cycles are its share of the network schedule (2 images); they sum to its latency
    const summaries = fast.units.map((u, i) => u.schedule?.summary ?? stationarySummary(q, arch, net.units[i]!, 0));
    // (the weight-stationary FC unit: its own cycles, which the network schedule keeps)
    const fc = fast.units.findIndex((u) => !u.schedule);
    if (fc >= 0) summaries[fc] = stationarySummary(q, arch, net.units[fc]!, fast.units[fc]!.events.cycles / 2);
    const ns = networkSchedule(summaries)!;
    fast.units.forEach((u, i) => assert.ok(Math.abs(u.events.cycles - 2 * ns.perUnit[i]!) < 1e-6, `${u.unit}: network share`));
    assert.ok(Math.abs(fast.events.cycles - 2 * ns.cycles) < 1e-6);
    const alone = summaries.reduce((t, x) => t + x.cycles, 0);
    assert.ok(ns.cycles <= alone, `network ${ns.cycles} <= units one after another ${alone}`);
    const serial = fast.units.reduce((t, u) => t + (u.schedule?.serialCycles ?? u.events.cycles / 2), 0);
    assert.ok(fast.events.cycles / 2 < serial / 3, `latency ${fast.events.cycles / 2} cycles vs serial ${serial}`);
    assert.ok(fast.events.transferBitsTile > 0, "partial sums cross tiles on the default chip (one controller per tile)");
  });

  test("one stream on the chip: no split, latency = the serial stream, nothing transferred", () => {
    const one = { ...arch, name: "one-tile", tiles: 1 };
    const n1 = compileNetwork(q, { arch: one });
    // pools are not split; conv units keep only the parts the row's capacity makes
    assert.ok(n1.units.filter((u) => u.unit.kind !== "conv").every((u) => u.program.parts.length === 1), "one part per pool");
    const r = runCompiled(n1, pixels, 1, { mode: "fast" });
    for (const u of r.units) {
      if (!u.schedule) continue;
      assert.equal(u.schedule.slots, 1);
      assert.equal(u.schedule.cycles, u.schedule.serialCycles, u.unit);
    }
    // no partial sums move: every transfer is a load's or a store's
    assert.equal(r.events.transferBitsTile, r.movement.transferBitsTile);
    assert.equal(r.events.transferBitsArray, r.movement.transferBitsArray);
    assertBitExact(verifiedRun(n1, pixels, 2, { mode: "fast" }), "fmnist-resnet8, one stream");
  });

  test("controllers per tile multiply the slots; partial sums then stay on a tile's bus", () => {
    const c16 = { ...arch, name: "per-array", controllersPerTile: 16 };
    const m = mapPositions([64, 7, 7], arch, true);
    assert.equal(scheduleSlots(m, arch), 16);
    assert.equal(scheduleSlots(m, c16), 256);
    const big = mapPositions([64, 112, 112], arch, true); // 12544 positions: 25 arrays
    assert.equal(scheduleSlots(big, arch), 8); // 2 tiles per part
    assert.equal(scheduleSlots(big, c16), 10); // 25 of 256 arrays per part
    const n16 = compileNetwork(q, { arch: c16 });
    const r16 = runCompiled(n16, pixels, 1, { mode: "fast" });
    const r1 = runCompiled(net, pixels, 1, { mode: "fast" });
    assert.ok(r16.events.cycles < r1.events.cycles, `16 controllers per tile: ${r16.events.cycles} vs ${r1.events.cycles} cycles`);
    assert.ok(r16.events.transferBitsArray > 0, "partial sums between arrays of one tile");
    assertBitExact(verifiedRun(n16, pixels, 2, { mode: "fast" }), "fmnist-resnet8, 16 controllers per tile");
  });
});

describe("the split's energy budget (--split-budget)", () => {
  test("0 keeps the row's own split's energy, none takes the fastest split; bad budgets are errors", () => {
    const tight = compileNetwork(q, { splitEnergyBudget: 0 });
    const loose = compileNetwork(q, { splitEnergyBudget: Infinity });
    for (const [a, b] of tight.units.map((u, i) => [u, loose.units[i]!] as const)) {
      if (!a.stats.splits) continue;
      assert.ok(a.stats.splits[0]!.energy <= a.stats.splitBase!.energy, `${a.unit.name}: no energy above the row's own split`);
      assert.ok(b.stats.splits![0]!.cycles <= Math.min(...b.stats.splits!.map((o) => o.cycles)), `${b.unit.name}: the fastest`);
    }
    const r0 = runCompiled(tight, pixels, 1, { mode: "fast" }), r1 = runCompiled(loose, pixels, 1, { mode: "fast" });
    assert.ok(r1.events.cycles < r0.events.cycles, "no budget: lower latency");
    assert.deepEqual(r1.output, r0.output);
    assert.throws(() => compileNetwork(q, { splitEnergyBudget: -0.1 }), /split energy budget must be a number >= 0/);
    assert.equal(parseSplitBudget("none"), Infinity);
    assert.equal(parseSplitBudget("0.2"), 0.2);
    assert.throws(() => parseSplitBudget("-1"), /--split-budget expects a fraction >= 0/);
    assert.throws(() => parseSplitBudget("lots"), /--split-budget expects a fraction >= 0/);
  });
});

describe("scheduleUnit", () => {
  test("a made-up profile: two blocks of three parts on four slots, by hand", () => {
    const arch = { ...loadArch("rtm-ap"), tiles: 4 };
    const mapping = mapPositions([1, 7, 7], arch, true); // 49 positions, one array per part
    const p = new UnitProgram("u");
    for (const b of [0, 1]) for (const s of [0, 1, 2]) p.beginPart(b, 0, s);
    p.parts.forEach((part, k) => (part.transferBits = k % 3 === 2 ? 0 : 32));
    const prof: PartProfile = {
      compute: Float64Array.from([100, 300, 200, 100, 100, 100]),
      reduce: Float64Array.from([5, 5, 0, 5, 5, 0]),
      final: Float64Array.from([0, 0, 50, 0, 0, 50]),
      staticCycles: 1520,
      movementCycles: 0,
    };
    const s = scheduleUnit(p, prof, mapping, arch);
    assert.equal(s.slots, 4);
    assert.equal(s.serialCycles, 1520);
    // a transfer of 32 bits per row over 49 rows: store 49 x (1 + 1) + load 49 x (2 + 1 + 1)
    const x = 49 * 2 + 49 * 4;
    // block 0: reducer (200) on slot 0, parts on slots 1 (100) and 2 (300); reduce 10 + final 50
    const block0 = Math.max(200, 100 + x, 300 + x) + 10 + 50;
    // block 1: reducer on slot 3 (free at 0), parts on slot 1 (free at 100 + x) and slot 2 (300 + x)
    const block1 = Math.max(100, 100 + x + 100 + x, 300 + x + 100 + x) + 10 + 50;
    assert.equal(s.cycles, Math.max(block0, block1));
    assert.equal(s.transfer.transferBitsTile, 4 * 32 * 49);
    assert.equal(s.transfer.bufferReadBits, 4 * 32 * 49);
  });
});

describe("networkSchedule", () => {
  // two streams on one tile; a producer of 64 channels in two one-part blocks, then a consumer
  // whose two parts read one block's channels each and reduce at the second
  const part = (compute: number, tensor: string, c0: number, c1: number, x = 0) => ({ compute, bits: x > 0 ? 32 : 0, xLocal: x, xRemote: x, reads: [{ tensor, c0, c1 }] });
  const producer: ScheduleSummary = {
    output: "a", streams: 2, need: 1, ctrl: 2, cycles: 0,
    blocks: [
      { outputs: [0, 32], reduce: 10, parts: [part(100, "x", 0, 3)] },
      { outputs: [32, 64], reduce: 10, parts: [part(300, "x", 0, 3)] },
    ],
  };
  const consumer: ScheduleSummary = {
    output: "b", streams: 2, need: 1, ctrl: 2, cycles: 0,
    blocks: [{ outputs: [0, 8], reduce: 20, parts: [part(50, "a", 0, 32, 5), part(50, "a", 32, 64)] }],
  };

  test("a consumer's part starts when the blocks producing its channels are done", () => {
    const ns = networkSchedule([producer, consumer])!;
    // producer: block 0 on stream 0 (0..110), block 1 on stream 1 (0..310); consumer: its reducer
    // (channels 32..63) takes stream 0 (free at 110) but waits for block 1: 310..360; part 0
    // (channels 0..31) takes stream 1 at 310: 310..360, then sends its partial sums (5): 365;
    // the reduction ends at 385
    assert.equal(ns.cycles, 385);
    assert.deepEqual(Array.from(ns.perUnit), [310, 75]);
  });

  test("blocks whose channels are done run beside the producer's last block", () => {
    // three one-part blocks that read only the producer's first block (ready at 110)
    const early: ScheduleSummary = { ...consumer, blocks: [0, 1, 2].map((k) => ({ outputs: [k, k + 1] as [number, number], reduce: 0, parts: [part(100, "a", 0, 32)] })) };
    const alone = networkSchedule([early])!.cycles; // 2 streams, 3 blocks: 200
    assert.equal(alone, 200);
    const ns = networkSchedule([producer, early])!;
    // stream 0 is free at 110: blocks at 110..210 and 210..310; the third at 310..410 (stream 1 is
    // busy with the producer's second block until 310)
    assert.equal(ns.cycles, 410);
    assert.ok(ns.cycles < 310 + alone, "units overlap");
    assert.equal(ns.perUnit[0]! + ns.perUnit[1]!, ns.cycles);
  });

  test("a unit alone takes its own schedule's time; a missing summary gives no network schedule", () => {
    const alone = networkSchedule([producer])!;
    assert.equal(alone.cycles, 310);
    assert.equal(networkSchedule([producer, undefined]), null);
  });
});

describe("architecture files", () => {
  test("tile.controllers must divide tile.arrays", () => {
    const text = readFileSync(join(archConfigDir(), "rtm-ap.yaml"), "utf8").replace(/\n {2}controllers: \{ value: 1,/, "\n  controllers: { value: 3,");
    assert.throws(() => parseArch(text, "bad.yaml"), /tile\.controllers \(3\) must divide tile\.arrays \(16\)/);
    const ok = parseArch(text.replace("value: 3, unit: controllers", "value: 4, unit: controllers"), "ok.yaml");
    assert.equal(ok.controllersPerTile, 4);
  });
});

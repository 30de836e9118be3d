/**
 * `rtap compare` runs every AP program as independent (variant, unit) tasks (src/compare-units.ts):
 * each unit compiles and simulates on its own, from the integer reference's tensors. Its event
 * counts must be those of compiling and simulating the whole network in one piece
 * (compileNetwork + runCompiled), unit by unit and event by event, for the full pipeline, a pass
 * off and the serial layout; and its movement variants (layout off, movement off) those of the
 * whole network compiled with that pass off. Cycles: the tasks' schedule summaries, scheduled as a
 * network, give the whole run's cycles unit by unit.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { networkEvents, UnitTaskRunner, type ApVariantSpec } from "../../src/compare-units.js";
import { networkCycleDeltas } from "../../src/compiler/schedule.js";
import { compileNetwork, runCompiled } from "../../src/compiler/pipeline.js";
import { loadArch } from "../../src/ap/config.js";
import { EVENT_KINDS, type ApEvents } from "../../src/ap/events.js";
import { randomImages } from "../../src/data/index.js";
import { loadQuantizedModel } from "../../src/model.js";
import type { PassSwitches } from "../../src/compiler/lower.js";
import { fixtureModel } from "../import/fixtures.js";

function assertSameEvents(got: ApEvents, want: ApEvents, where: string): void {
  for (const k of EVENT_KINDS) assert.equal(got[k], want[k], `${where}: ${k}`);
}

function check(model: string, images: number): void {
  const q = loadQuantizedModel(model).qgraph;
  const pixels = randomImages(q.tensors.get(q.input)!.shape, images, 5);
  const variants: ApVariantSpec[] = [
    { key: "rtm-ap", arch: "rtm-ap", movementVariants: true },
    { key: "ablation: cse off", arch: "rtm-ap", disable: ["cse"] },
    // after the full pipeline in one runner: they reuse its shared structural classes (MAC
    // classes with their subtracts, per-channel thresholds, wider values)
    { key: "ablation: weight-folding off", arch: "rtm-ap", disable: ["weightFolding"] },
    { key: "ablation: bitwidth off", arch: "rtm-ap", disable: ["bitwidth"] },
    { key: "ablation: serial layout", arch: "rtm-ap", layout: "serial" },
  ];
  const runner = new UnitTaskRunner(q, pixels, images, variants);
  const whole = (disable: (keyof PassSwitches)[], serial = false) => {
    const arch = loadArch("rtm-ap");
    const net = compileNetwork(q, { arch: serial ? { ...arch, array: { ...arch.array, layout: "serial" } } : arch, disable });
    return runCompiled(net, pixels, images, { mode: "fast", events: true });
  };
  const expected = [whole([]), whole(["cse"]), whole(["weightFolding"]), whole(["bitwidth"]), whole([], true)];
  const layoutOff = whole(["layout"]), movementOff = whole(["movement"]);
  const near = (got: number, want: number, where: string): void => assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${where}: ${got} vs ${want}`);
  variants.forEach((v, vi) => {
    const results = [];
    for (let u = 0; u < runner.unitCount; u++) {
      const r = runner.run(vi, u);
      results.push(r);
      const want = expected[vi]!.units[u]!;
      assert.equal(r.name, want.unit);
      // every event but the cycles: the task's own; cycles: the network schedule's (below)
      for (const k of EVENT_KINDS) if (k !== "cycles") assert.equal(r.events[k], want.events[k], `${model} ${v.key} unit ${r.name}: ${k}`);
      if (v.movementVariants) {
        // loads and stores per image (the whole-network runs count the batch); their `cycles` are
        // the unit's latency alone under the chip schedule with that movement
        const scale = (e: ApEvents): ApEvents => Object.fromEntries(EVENT_KINDS.map((k) => [k, e[k] * images])) as unknown as ApEvents;
        const moves = (unit: { movement: ApEvents; schedule?: { cycles: number } }): ApEvents => ({ ...unit.movement, cycles: unit.schedule!.cycles * images });
        if (r.stationary) {
          assertSameEvents(scale(r.movement!.full), { ...want.movement, cycles: 0 }, `${model} unit ${r.name} movement`);
          continue;
        }
        assertSameEvents(scale(r.movement!.full), moves(want), `${model} unit ${r.name} movement`);
        assertSameEvents(scale(r.movement!.layoutOff), moves(layoutOff.units[u]!), `${model} unit ${r.name} movement, layout off`);
        assertSameEvents(scale(r.movement!.movementOff), moves(movementOff.units[u]!), `${model} unit ${r.name} movement, movement off`);
      }
    }
    // the network schedule of the tasks' summaries: the whole run's cycles, unit by unit
    networkEvents(results, images).forEach((e, u) => near(e.cycles, expected[vi]!.units[u]!.events.cycles / images, `${model} ${v.key} unit ${u}: cycles`));
    if (v.movementVariants) {
      // compare's layout-off and movement-off rows schedule the network with those summaries
      for (const [key, whole] of [["layoutOff", layoutOff], ["movementOff", movementOff]] as const) {
        const summaries = results.map((r) => r.movement!.summaries[key]);
        const deltas = networkCycleDeltas(summaries)!;
        summaries.forEach((sm, u) => near(sm.cycles + deltas[u]!, whole.units[u]!.events.cycles / images, `${model} ${key} unit ${u}: network cycles`));
      }
    }
  });
}

describe("compare's unit tasks count the events of the whole-network simulation", () => {
  test("fmnist-resnet8, 2 images", () => check(fixtureModel("fmnist-resnet8.onnx"), 2));
  test("zoo:resnet20, 1 image", () => check("zoo:resnet20", 1));
});

/**
 * The interleaved racetrack layout's shift accounting (src/compiler/pages.ts, pagelayout.ts):
 *  - an in-place m-bit add of values laid across tracks issues no shift micro-op once their pages
 *    are under the ports, and computes dst + src exactly on every row;
 *  - a page switch of d domains moves exactly (tracks of the group) x d x (rows) track-domains;
 *  - the page schedule's shifts are all the shifts a compiled interleaved program makes (both
 *    simulators), far fewer than the serial layout's, and the serial layout pays a group's return
 *    trip only when the next op needs the group.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadArch } from "../../src/ap/config.js";
import { ApArray } from "../../src/ap/array.js";
import { ApGeometry } from "../../src/ap/geometry.js";
import { expandMacro, MacroPlanCache } from "../../src/ap/macro.js";
import { compileNetwork, runCompiled } from "../../src/compiler/pipeline.js";
import { walkSchedule } from "../../src/compiler/pages.js";
import { toMacroOp } from "../../src/compiler/simulate.js";
import { Rng } from "../../src/util/random.js";
import { fmnistImages, fmnistQGraph } from "./helpers.js";

const arch = loadArch("rtm-ap");
const ROWS = 96;

describe("interleaved values: passes select columns, never shift", () => {
  for (let m = 1; m <= 16; m++) {
    test(`in-place ${m}-bit add of values on pages 5 (bank 1) and 17 (bank 2): no shift micro-op, exact on ${ROWS} rows`, () => {
      const geom = new ApGeometry({ ...arch.array, rows: ROWS });
      const dst = geom.acrossTracks("d", 32, 5, m, true);
      const src = geom.acrossTracks("s", 64 + 3, 32 + 17, m, true);
      const offsets = new Int32Array(geom.groups);
      offsets[1] = 5;
      offsets[2] = 17;
      const plan = expandMacro({ kind: "add", dst, src }, geom, { offsets, returnHome: false });
      assert.equal(plan.micro.filter((u) => u.op === "shift").length, 0, "no shift");
      assert.equal(plan.staticEvents(arch.timing).shiftTrackDomains, 0);
      const a = new ApArray(geom, arch.timing);
      a.run([
        { op: "shift", group: 1, n: 5 },
        { op: "shift", group: 2, n: 17 },
      ]);
      const rng = new Rng(m);
      const lo = -(2 ** (m - 1)), span = 2 ** m;
      const x = Int32Array.from({ length: ROWS }, () => lo + Math.floor(rng.next() * span));
      const y = Int32Array.from({ length: ROWS }, () => lo + Math.floor(rng.next() * span));
      a.setValue(dst, x);
      a.setValue(src, y);
      const before = a.events.shiftTrackDomains;
      a.run(plan.micro);
      assert.equal(a.events.shiftTrackDomains, before, "the add moved no domain");
      const got = a.getValue(dst);
      for (let r = 0; r < ROWS; r++) {
        const wrapped = ((((x[r]! + y[r]! - lo) % span) + span) % span) + lo; // two's complement, m bits
        assert.equal(got[r], wrapped, `row ${r}: ${x[r]} + ${y[r]}`);
      }
    });
  }
});

describe("a page switch", () => {
  test("of d domains moves exactly tracks x d x rows track-domains (one shift micro-op, d shift steps)", () => {
    const geom = new ApGeometry({ ...arch.array, rows: ROWS });
    for (const [group, d] of [[0, 1], [3, 7], [2, 31]] as const) {
      const a = new ApArray(geom, arch.timing);
      a.run([{ op: "shift", group, n: d }]);
      assert.equal(a.events.shiftTrackDomains, geom.tracksPerGroup * d * ROWS);
      assert.deepEqual([a.events.shifts, a.events.shiftSteps, a.events.cycles], [1, d, d * arch.timing.shiftPerDomain]);
      a.run([{ op: "shift", group, n: -d }]);
      assert.equal(a.events.shiftTrackDomains, 2 * geom.tracksPerGroup * d * ROWS, "and back");
    }
  });
});

describe("compiled programs", () => {
  test("interleaved fmnist-resnet8: every shift is a page switch of the schedule, and the serial layout shifts 100x more", () => {
    const q = fmnistQGraph();
    const { images } = fmnistImages(1);
    const net = compileNetwork(q, { verify: true });
    let scheduled = 0, switches = 0;
    for (const cu of net.units) {
      if (cu.stationary) continue;
      const s = walkSchedule(cu.program, net.layout, net.arch.timing, net.arch.array.rows, null);
      scheduled += s.events.shiftTrackDomains * cu.mapping.arrays * cu.mapping.passes;
      switches += s.events.shifts * cu.mapping.arrays * cu.mapping.passes;
      assert.equal(s.events.shiftTrackDomains, s.events.shiftSteps * net.arch.array.rows * 32, `${cu.unit.name}: rows x 32 tracks per domain`);
    }
    // (the bit level's events equal the word level's: simulators.test.ts)
    const fast = runCompiled(net, images, 1, { mode: "fast" });
    assert.equal(fast.events.shiftTrackDomains, scheduled);
    assert.equal(fast.events.shifts, switches);
    const serial = runCompiled(compileNetwork(q, { arch: "rtm-ap-serial" }), images, 1, { mode: "fast" });
    assert.ok(serial.events.shiftTrackDomains > 100 * scheduled, `serial ${serial.events.shiftTrackDomains} vs interleaved ${scheduled}`);
  });

  test("serial layout: a group's return trip is paid only when the next op needs it: between the ops' sweeps alone and sweeps with a return after every op", () => {
    const net = compileNetwork(fmnistQGraph(), { arch: "rtm-ap-serial" });
    const run = runCompiled(net, fmnistImages(1).images, 1, { mode: "fast" });
    const cache = new MacroPlanCache(net.layout.geom);
    for (const k of [1, 2]) {
      const cu = net.units[k]!;
      let sweeps = 0, eager = 0;
      for (let i = 0; i < cu.program.nSteps; i++) {
        const op = toMacroOp(cu.program, i, net.layout);
        if (!op) continue;
        sweeps += cache.plan(op, { returnHome: false }).staticEvents(net.arch.timing).shiftSteps;
        eager += cache.plan(op).staticEvents(net.arch.timing).shiftSteps;
      }
      const arrays = cu.mapping.arrays * cu.mapping.passes;
      const lazy = run.units[k]!.events.shiftSteps / arrays;
      assert.ok(sweeps <= lazy && lazy < eager, `${cu.unit.name}: sweeps ${sweeps} <= lazy ${lazy} < eager ${eager}`);
    }
  });
});

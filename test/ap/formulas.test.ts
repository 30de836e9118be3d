/**
 * The documented closed-form event formulas (src/ap/formulas.ts, docs/ap.md) against the events
 * the expander's micro-ops actually produce, for widths 1..16 in the aligned RTM placement and the
 * static placements (SRAM, RTM across tracks).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ApEvents } from "../../src/ap/events.js";
import * as F from "../../src/ap/formulas.js";
import type { ApGeometry } from "../../src/ap/geometry.js";
import { ApArray } from "../../src/ap/array.js";
import { expandMacro, macroSignature, MacroPlanCache, type MacroOp } from "../../src/ap/macro.js";
import { ApProgram } from "../../src/ap/program.js";
import { evalMacro } from "../../src/ap/semantics.js";
import { shl } from "../../src/ap/value.js";
import { Rng } from "../../src/util/random.js";
import { archOf, geometryFor, place, type Layout } from "./helpers.js";

const ROWS = 512;
const CASES: { layout: Layout; placement: F.Placement }[] = [
  { layout: "rtm", placement: "aligned" },
  { layout: "rtm-port1", placement: "aligned" },
  { layout: "rtm-across", placement: "static" },
  { layout: "sram", placement: "static" },
];

function same(geom: ApGeometry, layout: Layout, op: MacroOp, want: ApEvents, label: string): void {
  const got = expandMacro(op, geom).staticEvents(archOf(layout).timing);
  assert.deepEqual(got, want, label);
}

test("closed-form events of every macro-op equal the expanded micro-op stream, widths 1..16", () => {
  for (const { layout, placement } of CASES) {
    const geom = geometryFor(layout, ROWS);
    const ctx: F.FormulaContext = { placement, rows: ROWS, tracksPerGroup: geom.tracksPerGroup, timing: archOf(layout).timing };
    const maxW = layout === "rtm-across" ? 8 : 16;
    for (let m = 1; m <= maxW; m++) {
      for (const signed of [false, true]) {
        const d = place(geom, layout, 0, m, signed, "d");
        const a = place(geom, layout, 1, m, signed, "a");
        const b = place(geom, layout, 2, m, signed, "b");
        for (let w = 1; w <= m; w++) {
          for (const s of [0, 1, 3]) {
            if (layout === "rtm-across" && s > 0) continue;
            const src = place(geom, layout, 1, w, signed, "x", s);
            for (const kind of ["add", "sub"] as const)
              same(geom, layout, { kind, dst: d, src: shl(src, s) }, F.addSubEvents(kind, m, w, s, signed, ctx), `${layout} ${kind} ${m} ${w}<<${s}`);
          }
        }
        for (const dstInit of ["zero", "any"] as const) {
          same(geom, layout, { kind: "addOut", dst: d, a, b, dstInit }, F.addSubOutEvents("add", m, dstInit, ctx), `${layout} addOut ${m}`);
          same(geom, layout, { kind: "subOut", dst: d, a, b, dstInit }, F.addSubOutEvents("sub", m, dstInit, ctx), `${layout} subOut ${m}`);
          same(geom, layout, { kind: "negate", dst: d, src: a, dstInit }, F.negateOutEvents(m, dstInit, ctx), `${layout} negate ${m}`);
          same(geom, layout, { kind: "copy", dst: d, src: a, dstInit }, F.copyEvents(m, dstInit, ctx), `${layout} copy ${m}`);
          for (const k of [0, 1, 6, -3, 37, 2 ** m - 1])
            same(geom, layout, { kind: "set", dst: d, k, dstInit }, F.setEvents(m, k, dstInit, ctx), `${layout} set ${m} ${k}`);
        }
        same(geom, layout, { kind: "negate", dst: d, src: d }, F.negateInPlaceEvents(m, ctx), `${layout} negate in place ${m}`);
        for (const k of [1, 2, 12, -1, -8, 255])
          same(geom, layout, { kind: "addConst", dst: d, k }, F.addConstEvents(m, k, ctx), `${layout} addConst ${m} ${k}`);
        same(geom, layout, { kind: "max", dst: d, src: a }, F.maxEvents(m, signed, ctx), `${layout} max ${m}`);
      }
    }
    // Threshold: src aligned along group 0, code and flags outside it (flags / group 1 / SRAM columns).
    for (let m = 2; m <= maxW; m += 3) {
      for (const signed of [false, true]) {
        const v = place(geom, layout, 1, m, signed, "v");
        const code = layout === "sram" ? geom.acrossTracks("c", 300, 0, 4, false) : geom.acrossTracks("c", 56, 0, 4, false);
        const scratch = Array.from({ length: 15 }, (_, i) => (layout === "sram" ? geom.cellOf(320 + i, 0) : geom.cellOf(40 + i, 0)));
        const lo = signed ? -(2 ** (m - 1)) : 0;
        const ts = Array.from({ length: 15 }, (_, i) => lo + Math.floor((i * 2 ** m) / 13) - 1);
        for (const dstInit of ["zero", "any"] as const)
          same(geom, layout, { kind: "threshold", dst: code, src: v, thresholds: ts, scratch, dstInit }, F.thresholdEvents(m, signed, 4, ts, dstInit, ctx, true), `${layout} threshold ${m}`);
      }
    }
  }
});

test("the headline formulas: an m-bit in-place add costs 4m-1 passes and, on RTM, m shifts of 2(m-1) domains", () => {
  const geom = geometryFor("rtm", ROWS);
  const t = archOf("rtm").timing;
  for (let m = 1; m <= 24; m++) {
    const e = expandMacro({ kind: "add", dst: geom.alongTrack("d", 0, 0, m, true), src: geom.alongTrack("s", 1, 0, m, true) }, geom).staticEvents(t);
    assert.equal(e.searches, 4 * m - 1);
    assert.equal(e.writes, 4 * m - 1);
    assert.equal(e.shifts, m > 1 ? m : 0);
    assert.equal(e.shiftSteps, 2 * (m - 1));
    assert.equal(e.shiftTrackDomains, ROWS * 32 * 2 * (m - 1));
    assert.equal(e.cycles, (4 * m - 1) * (t.compare + t.write) + 2 * (m - 1) * t.shiftPerDomain);
  }
  const sram = geometryFor("sram", ROWS);
  const e = expandMacro({ kind: "add", dst: sram.acrossTracks("d", 0, 0, 16, true), src: sram.acrossTracks("s", 16, 0, 16, true) }, sram).staticEvents(archOf("sram").timing);
  assert.equal(e.shifts, 0);
  assert.equal(e.searches, 63);
});

test("misaligned placement costs extra shifts: operands in another shift group move every step too", () => {
  const geom = geometryFor("rtm", ROWS);
  const t = archOf("rtm").timing;
  for (let m = 2; m <= 16; m++) {
    const dst = geom.alongTrack("d", 0, 0, m, true);
    const aligned = expandMacro({ kind: "add", dst, src: geom.alongTrack("s", 1, 0, m, true) }, geom).staticEvents(t);
    // Source in group 1, stored at domain 9: group 1 first moves 9 domains, then both groups step
    // together (two shift micro-ops per step) and both return home.
    const split = expandMacro({ kind: "add", dst, src: geom.alongTrack("s", 32, 9, m, true) }, geom).staticEvents(t);
    assert.equal(split.searches, aligned.searches);
    assert.equal(split.shifts, 2 * m + 1);
    assert.equal(split.shiftSteps, 2 * (m - 1) + 2 * (9 + m - 1));
  }
});

test("plan cache: equal placements share one expansion; static events are memoized copies", () => {
  const geom = geometryFor("rtm", ROWS);
  const cache = new MacroPlanCache(geom);
  const mk = (name: string, track: number): MacroOp => ({ kind: "add", dst: geom.alongTrack(name, 0, 0, 8, true), src: geom.alongTrack("s", track, 0, 8, true) });
  const p1 = cache.plan(mk("a", 1));
  assert.equal(cache.plan(mk("b", 1)), p1, "names do not matter");
  assert.notEqual(cache.plan(mk("a", 2)), p1, "cells do");
  assert.notEqual(cache.plan(mk("a", 1), { offsets: [3, 0] }), p1, "start offsets do");
  assert.equal(cache.size, 3);
  assert.equal(macroSignature(mk("x", 1)), macroSignature(mk("y", 1)));
  const t = archOf("rtm").timing;
  const e = p1.staticEvents(t);
  e.searches = -1;
  assert.equal(p1.staticEvents(t).searches, 31);
});

test("a stream that leaves groups where an op ended plans the next op's shifts from there, exactly", () => {
  const rows = 256;
  const geom = geometryFor("rtm", rows);
  const t = archOf("rtm").timing;
  const acc = geom.alongTrack("acc", 0, 0, 12, true);
  const x = geom.alongTrack("x", 1, 0, 8, true);
  const y = geom.alongTrack("y", 2, 0, 8, true);
  const x4 = geom.alongTrack("x4", 3, 4, 8, true);
  const stay = new ApProgram(geom, { returnHome: false });
  const home = new ApProgram(geom);
  for (const p of [stay, home]) {
    p.macro({ kind: "max", dst: acc, src: y }); // ends at home (its select sweep runs down)
    p.macro({ kind: "copy", dst: acc, src: x }); // ends at offset 11
    p.macro({ kind: "sub", dst: acc, src: shl(x4, 4) }); // starts at offset 4
    p.home();
  }
  const es = stay.staticEvents(t);
  const eh = home.staticEvents(t);
  assert.equal(eh.shiftSteps - es.shiftSteps, 11 + 4 - 7);
  const rng = new Rng(4);
  const xv = Int32Array.from({ length: rows }, () => rng.int(-128, 127));
  const yv = Int32Array.from({ length: rows }, () => rng.int(-128, 127));
  const arr = new ApArray(geom, t);
  arr.setValue(x, xv);
  arr.setValue(y, yv);
  arr.setValue(x4, xv);
  arr.run(stay.micro);
  assert.deepEqual(arr.getValue(acc), xv.map((v) => v - 16 * v));
  // Data-dependent cells of the whole stream = the sum of evalMacro over its plans.
  let cells = 0;
  let acc0: Int32Array = new Int32Array(rows);
  const vals = [{ src: yv }, { src: xv }, { src: xv }];
  stay.plans.forEach((plan, i) => {
    const r = evalMacro(plan, geom, { dst: acc0, ...vals[i] });
    cells += r.writeCells + r.flagWriteCells;
    acc0 = r.dst;
  });
  assert.equal(arr.events.writeCells + arr.events.flagWriteCells, cells);
  assert.deepEqual({ ...arr.events, writeCells: 0, flagWriteCells: 0 }, es);
});

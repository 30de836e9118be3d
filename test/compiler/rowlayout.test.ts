/**
 * The row layouts and allocators on the RTM-AP row (128 tracks x 64 domains, ports at 0 and 32, 4
 * shift groups of 32 tracks): the serial layout (src/compiler/rowlayout.ts, rtm-ap-serial: the
 * packing of IN codes into levels (lockstep), TMP slots at the ports) and the interleaved one
 * (src/compiler/pagelayout.ts, rtm-ap: codes across tracks on pages in load order, temporaries on
 * the hot pages then the spill bank, the staging lane, accumulators on pages); the SRAM-AP row;
 * capacities, reserved scratch cells, no overlaps, and the capacity errors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadArch } from "../../src/ap/config.js";
import { ApGeometry } from "../../src/ap/geometry.js";
import { RtapError } from "../../src/errors.js";
import { RowAllocator, rowLayout, type InSlot } from "../../src/compiler/rowlayout.js";
import { PagedAllocator } from "../../src/compiler/pagelayout.js";
import { archWith } from "./helpers.js";

const rtmGeom = (): ApGeometry => new ApGeometry(loadArch("rtm-ap-serial").array);

/** Distance of a cell's domain above the port whose window holds it (RTM: ports at 0 and 32). */
function portDelta(g: ApGeometry, cell: number): number {
  const d = cell % g.domains;
  let best = Infinity;
  for (const p of g.portPositions) if (d >= p) best = Math.min(best, d - p);
  return best;
}

describe("RTM row layout, serial (rtm-ap-serial)", () => {
  test("regions: IN = groups 0-1, TMP = groups 2-3 (128 slots of 31 bits), 16 scratch cells at level 0 of group 0", () => {
    const g = rtmGeom();
    const L = rowLayout(g);
    assert.equal(L.rtm, true);
    assert.equal(g.groups, 4);
    assert.equal(L.tmpSlots, 2 * 32 * 2);
    assert.equal(L.slotBits, 31);
    // scratch: the first 16 (track, port) pairs of group 0, at the ports (delta 0)
    const expected: number[] = [];
    for (let i = 0; i < 16; i++) expected.push(g.cellOf(Math.floor(i / 2), [0, 32][i % 2]!));
    assert.deepEqual(L.scratchCells, expected);
    assert.match(L.describe(), /IN = groups 0\.\.1 .*TMP = groups 2\.\.3 \(128 slots of 31 bits\), 16 scratch cells/);
  });

  test("inCapacity(w) = 2 groups x 64 (track, port) pairs x floor(32/w) levels, minus the 16 scratch cells", () => {
    const L = rowLayout(rtmGeom());
    const expect = (w: number): number => Math.max(0, 2 * 64 * Math.floor(32 / w) - (w <= 32 ? 16 : 0));
    for (let w = 1; w <= 40; w++) assert.equal(L.inCapacity(w), expect(w), `w=${w}`);
    assert.equal(L.inCapacity(4), 1008);
    assert.equal(L.inCapacity(8), 496);
    assert.equal(L.inCapacity(33), 0);
  });

  for (const w of [4, 8, 5, 1]) {
    test(`IN packing of ${w}-bit codes: the whole capacity, no overlap, outside scratch, levels in order, one port window each`, () => {
      const g = rtmGeom();
      const L = rowLayout(g);
      const a = new RowAllocator(L);
      a.resetIn(w);
      const cap = L.inCapacity(w);
      const used = new Set<number>(L.scratchCells);
      const slots: InSlot[] = [];
      for (let i = 0; i < cap; i++) {
        const s = a.allocIn();
        slots.push(s);
        assert.equal(s.index, i);
        assert.ok(s.group === 0 || s.group === 1, `code ${i}: group ${s.group}`);
        assert.equal(g.groupOfCell(s.cell0), s.group);
        // contiguous along one track, inside one port window, at delta = level * w
        const track = Math.floor(s.cell0 / g.domains);
        for (let b = 0; b < w; b++) {
          const c = s.cell0 + b;
          assert.equal(Math.floor(c / g.domains), track, `code ${i} bit ${b} leaves its track`);
          assert.ok(!used.has(c), `code ${i} bit ${b}: cell ${g.describeCell(c)} already used (or scratch)`);
          used.add(c);
        }
        assert.equal(portDelta(g, s.cell0), s.level * w, `code ${i}: level ${s.level} at delta ${portDelta(g, s.cell0)}`);
        assert.ok(portDelta(g, s.cell0) + w <= 32, `code ${i} crosses into the next port window`);
      }
      assert.equal(a.peakInBits, cap * w);
      // Consecutive codes share a level (the 64 (track, port) pairs of a group), so the columns a
      // CSE group combines are in lockstep; level 0 of group 0 starts after the 16 scratch pairs.
      assert.deepEqual([slots[0]!.group, slots[0]!.level], [0, 0]);
      assert.equal(slots.filter((s) => s.group === 0 && s.level === 0).length, 64 - 16);
      if (Math.floor(32 / w) > 1) assert.deepEqual([slots[48]!.group, slots[48]!.level], [0, 1]);
      for (let i = 1; i < slots.length; i++) {
        const p = slots[i - 1]!, s = slots[i]!;
        assert.ok(s.group > p.group || (s.group === p.group && s.level >= p.level), `codes ${i - 1}, ${i} out of order`);
      }
      // capacity error
      assert.throws(() => a.allocIn(), (e: unknown) => e instanceof RtapError && e.message.includes(`more than the ${cap} ${w}-bit codes`));
    });
  }

  test("lockstep: same group and level, or different groups; not different levels of one group", () => {
    const mk = (group: number, level: number): InSlot => ({ group, level, cell0: 0, index: 0 });
    assert.equal(RowAllocator.lockstep(mk(0, 2), mk(0, 2)), true);
    assert.equal(RowAllocator.lockstep(mk(0, 1), mk(0, 2)), false);
    assert.equal(RowAllocator.lockstep(mk(0, 1), mk(1, 5)), true);
    // on the real allocation: codes 0 and 47 share level 0; code 48 is level 1 of group 0
    const a = new RowAllocator(rowLayout(rtmGeom()));
    a.resetIn(4);
    const s = Array.from({ length: 64 * 8 * 2 - 16 }, () => a.allocIn());
    assert.equal(RowAllocator.lockstep(s[0]!, s[47]!), true);
    assert.equal(RowAllocator.lockstep(s[0]!, s[48]!), false);
    assert.equal(RowAllocator.lockstep(s[48]!, s[s.length - 1]!), true, "group 0 vs group 1");
  });

  test("TMP slots: at the ports (delta 0) of groups 2-3, balanced over the groups, avoidGroup honoured, freed slots reused, 129th slot is an error", () => {
    const g = rtmGeom();
    const L = rowLayout(g);
    const a = new RowAllocator(L);
    const cells = new Set<number>();
    const slots: { slot: number; cell0: number }[] = [];
    for (let i = 0; i < L.tmpSlots; i++) {
      const w = 1 + (i % 31);
      const s = a.allocTmp(w, `value ${i}`);
      slots.push(s);
      assert.ok(g.groupOfCell(s.cell0) >= 2, `slot ${s.slot} in group ${g.groupOfCell(s.cell0)}`);
      assert.equal(portDelta(g, s.cell0), 0);
      for (let b = 0; b < 31; b++) {
        assert.ok(!cells.has(s.cell0 + b), `slot ${s.slot} overlaps another slot`);
        cells.add(s.cell0 + b);
      }
      // the group with the most free slots is chosen: the two groups never differ by more than 1
      const inG2 = slots.filter((x) => g.groupOfCell(x.cell0) === 2).length;
      assert.ok(Math.abs(inG2 - (slots.length - inG2)) <= 1, `after ${i + 1} allocations: ${inG2} in group 2`);
    }
    assert.equal(a.tmpSlotsInUse, 128);
    assert.equal(a.peakTmpSlots, 128);
    assert.equal(a.peakTmpBits, slots.reduce((s, _, i) => s + 1 + (i % 31), 0));
    assert.throws(() => a.allocTmp(4, "one more"), (e: unknown) => e instanceof RtapError && /out of row storage: all 128 temporary slots are live \(one more\)/.test(e.message));
    // free one slot: it is handed out again
    a.freeTmp(slots[5]!.slot, 1 + 5);
    assert.equal(a.allocTmp(3, "again").slot, slots[5]!.slot);
    // width beyond a slot
    assert.throws(() => new RowAllocator(L).allocTmp(32, "a 32-bit value"), (e: unknown) => e instanceof RtapError && /a 32-bit value needs 32 bits; a row slot holds 31/.test(e.message));
  });

  test("avoidGroup: a value is placed outside the given group while that group's sibling has room", () => {
    const g = rtmGeom();
    const a = new RowAllocator(rowLayout(g));
    for (let i = 0; i < 64; i++) assert.equal(g.groupOfCell(a.allocTmp(8, "v", 2).cell0), 3, `allocation ${i}`);
    // group 3 is full: the value falls back to group 2
    assert.equal(g.groupOfCell(a.allocTmp(8, "v", 2).cell0), 2);
  });

  test("a row with one shift group is refused: inputs and temporaries must shift independently", () => {
    const arch = archWith({ tracksPerGroup: 128, layout: "serial" });
    assert.throws(() => rowLayout(new ApGeometry(arch.array)), (e: unknown) => e instanceof RtapError && /the RTM row has 1 shift group; the compiler needs at least 2/.test(e.message) && e.where === "architecture");
  });
});

describe("RTM row layout, interleaved pages (rtm-ap)", () => {
  const geom = (): ApGeometry => new ApGeometry(loadArch("rtm-ap").array);
  /** Page (offset) and port of a track cell, and its track. */
  const where = (g: ApGeometry, c: number): { bank: number; page: number; track: number } => ({ bank: g.groupOfCell(c), page: g.offsetsShowing(c)[0]!, track: Math.floor(c / g.domains) });

  test("regions: IN = bank 0, HOT = banks 1-2 at home, SPILL = bank 3; 32 pages of 2 lanes of 32 tracks; 16 scratch cells on bank 1's home page", () => {
    const g = geom();
    const L = rowLayout(g);
    assert.equal(L.kind, "interleaved");
    assert.equal(L.cellStride, 64, "a value's bits are one track apart: 64 cells");
    const pg = L.pages!;
    assert.deepEqual([pg.banks, pg.pages, pg.lanesPerPage, pg.inBank, pg.spillBank], [4, 32, 2, 0, 3]);
    assert.deepEqual(pg.hotBanks, [1, 2]);
    assert.equal(L.scratchCells.length, 16);
    for (const c of L.scratchCells) assert.deepEqual([where(g, c).bank, where(g, c).page], [1, 0]);
    assert.equal(L.slotBits, 31);
    assert.match(L.describe(), /IN = bank 0 .*HOT = banks 1, 2 at home \(112 columns\), SPILL = bank 3/);
  });

  test("inCapacity(w) = 32 pages x 2 lanes x floor(32/w) codes on the input bank", () => {
    const L = rowLayout(geom());
    for (let w = 1; w <= 31; w++) assert.equal(L.inCapacity(w), 32 * 2 * Math.floor(32 / w), `w=${w}`);
    assert.equal(L.inCapacity(4), 512);
    assert.equal(L.inCapacity(32), 0);
  });

  for (const w of [4, 8, 5, 1]) {
    test(`IN packing of ${w}-bit codes: across tracks, one page each, pages in load order from home, no overlap`, () => {
      const g = geom();
      const L = rowLayout(g);
      const a = new PagedAllocator(L, L.pages);
      a.resetIn(w);
      const used = new Set<number>();
      let lastPage = 0;
      for (let i = 0; i < L.inCapacity(w); i++) {
        const s = a.allocIn();
        const cells = Array.from({ length: w }, (_, k) => s.cell0 + k * L.cellStride);
        const first = where(g, s.cell0);
        assert.equal(first.bank, 0);
        assert.equal(first.page, s.level, "the slot's level is its page");
        assert.ok(first.page >= lastPage, `code ${i}: pages in load order`);
        lastPage = first.page;
        cells.forEach((c, k) => {
          const at = where(g, c);
          assert.deepEqual([at.bank, at.page, at.track], [0, first.page, first.track + k], `code ${i} bit ${k}: the next track, same page`);
          assert.ok(!used.has(c), `code ${i} bit ${k}: cell used twice`);
          used.add(c);
        });
      }
      assert.equal(lastPage, 31);
      assert.throws(() => a.allocIn(), (e: unknown) => e instanceof RtapError && /more than the \d+ \d+-bit codes/.test(e.message));
    });
  }

  test("TMP values: hot pages first (never the staging lane or scratch), then the spill bank near its page; freed room is reused", () => {
    const g = geom();
    const L = rowLayout(g);
    const a = new PagedAllocator(L, L.pages);
    const scratch = new Set(L.scratchCells);
    const hot: number[] = [];
    // hot room: bank 1 lane 0 (16 free after scratch) + lane 1 (32) + bank 2 lane 0 (32); lane 1 of bank 2 is the staging lane
    for (let i = 0; i < 10; i++) {
      const t = a.allocTmp(8, "v");
      assert.ok([1, 2].includes(t.bank) && t.page === 0, `value ${i} on a hot page`);
      for (let k = 0; k < 8; k++) assert.ok(!scratch.has(t.cell0 + k * 64));
      hot.push(t.slot);
    }
    assert.equal(a.hasHotRoom(8), false);
    a.current[3] = 5;
    const s = a.allocTmp(8, "spilled");
    assert.deepEqual([s.bank, s.page], [3, 5], "the spill bank at the page it is at");
    assert.equal(a.spills, 1);
    const staged = a.allocHot(8, "staged")!;
    assert.deepEqual([staged.bank, staged.page, staged.lane], [2, 0, L.pages!.laneIndex(2, 0, 1)], "the staging lane");
    a.freeTmp(hot[3]!, 8);
    assert.ok(a.hasHotRoom(8));
    assert.equal(a.allocTmp(8, "again").bank !== 3, true);
    assert.throws(() => a.allocTmp(32, "wide"), (e: unknown) => e instanceof RtapError && /needs 32 bits; a lane of the row holds 31/.test(e.message));
  });

  test("accumulators: on the spill bank, pages from home, lanes packed", () => {
    const g = geom();
    const L = rowLayout(g);
    const a = new PagedAllocator(L, L.pages);
    const pages: number[] = [];
    for (let i = 0; i < 8; i++) pages.push(a.allocAcc(16, "acc").page);
    assert.deepEqual(pages, [0, 0, 0, 0, 1, 1, 1, 1], "4 accumulators of 16 bits per page (2 lanes x 2)");
    for (let i = 8; i < 32 * 4; i++) a.allocAcc(16, "acc");
    assert.throws(() => a.allocAcc(16, "one more"), (e: unknown) => e instanceof RtapError && /every page of the accumulator bank is full/.test(e.message));
    void g;
  });

  test("a row with fewer than 3 shift groups is refused: inputs, hot temporaries and pages need a bank each", () => {
    const arch = archWith({ tracksPerGroup: 64 });
    assert.throws(() => rowLayout(new ApGeometry(arch.array)), (e: unknown) => e instanceof RtapError && /interleaved layout needs at least 3 shift groups.*this row has 2/.test(e.message) && e.where === "architecture");
  });
});

describe("SRAM row layout (sram-ap)", () => {
  test("IN = columns 0..4095, 16 scratch columns, TMP = 128 slots of 31 columns after them (capped like the RTM row); codes packed contiguously", () => {
    const g = new ApGeometry(loadArch("sram-ap").array);
    const L = rowLayout(g);
    assert.equal(L.rtm, false);
    assert.equal(g.tracks, 8192);
    assert.deepEqual(L.scratchCells, Array.from({ length: 16 }, (_, i) => 4096 + i));
    assert.equal(L.tmpSlots, Math.min(128, Math.floor((8192 - 4096 - 16) / 31)));
    assert.equal(L.inCapacity(4), 1024);
    assert.equal(L.inCapacity(8), 512);
    const a = new RowAllocator(L);
    a.resetIn(4);
    for (let i = 0; i < 1024; i++) {
      const s = a.allocIn();
      assert.deepEqual([s.cell0, s.group, s.level], [4 * i, 0, 0]);
    }
    assert.throws(() => a.allocIn(), RtapError);
    const t0 = a.allocTmp(10, "x"), t1 = a.allocTmp(10, "y");
    assert.deepEqual([t0.cell0, t1.cell0], [4112, 4112 + 31]);
    assert.equal(a.groupOf(t0.cell0), -1, "SRAM cells have no shift group");
    const last = new RowAllocator(L);
    let s = { slot: 0, cell0: 0 };
    for (let i = 0; i < L.tmpSlots; i++) s = last.allocTmp(31, "v");
    assert.ok(s.cell0 + 31 <= 8192, "the last slot fits the row");
  });

  test("describe() states the slots the allocator hands out", () => {
    const L = rowLayout(new ApGeometry(loadArch("sram-ap").array));
    assert.ok(L.describe().includes(`TMP = ${L.tmpSlots} slots`), L.describe());
  });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { ApChip } from "../../src/ap/chip.js";
import { parallelEvents, zeroEvents } from "../../src/ap/events.js";
import { ApProgram } from "../../src/ap/program.js";
import { Rng } from "../../src/util/random.js";
import { RTM, SRAM, wrap } from "./helpers.js";

test("a tile runs one stream SIMD on all its arrays; tile and chip events aggregate (sums, cycles = max)", () => {
  const chip = new ApChip(RTM, { rowsPerArray: 64 });
  const g = chip.geom;
  const prog = new ApProgram(g);
  const acc = g.alongTrack("acc", 0, 0, 10, true);
  const x = g.alongTrack("x", 1, 0, 6, true);
  prog.macro({ kind: "add", dst: acc, src: x });
  prog.macro({ kind: "add", dst: acc, src: x });
  const rng = new Rng(2);
  const data = [0, 1, 2].map(() => Int32Array.from({ length: 64 }, () => rng.int(-32, 31)));
  data.forEach((d, a) => chip.array({ tile: 1, array: a }).setValue(x, d));
  chip.runTile(1, prog.micro, [0, 1, 2]);
  data.forEach((d, a) => assert.deepEqual(chip.array({ tile: 1, array: a }).getValue(acc), d.map((v) => wrap(2 * v, 10, true))));
  const ev = chip.events();
  const st = prog.staticEvents(RTM.timing);
  for (let a = 0; a < 3; a++) {
    const e = ev.arrays[1]![a]!;
    assert.deepEqual({ ...e, writeCells: 0, flagWriteCells: 0 }, st);
  }
  assert.deepEqual(ev.arrays[0]![0], zeroEvents());
  assert.deepEqual(ev.tiles[1], parallelEvents(ev.arrays[1]!));
  assert.equal(ev.tiles[1]!.searches, 3 * st.searches);
  assert.equal(ev.tiles[1]!.cycles, st.cycles);
  assert.equal(ev.chip.cycles, st.cycles);
  assert.equal(ev.chip.writeCells, ev.tiles[1]!.writeCells);
});

test("row movement: within an array, between arrays, between tiles and to the global buffer, counted per level", () => {
  const chip = new ApChip(RTM, { rowsPerArray: 32 });
  const g = chip.geom;
  const t = RTM.timing;
  const cols = [0, 2, 4, g.flagColumn(1)];
  const A = { tile: 0, array: 0 };
  const B = { tile: 0, array: 5 };
  const C = { tile: 15, array: 2 };
  const a = chip.array(A);
  [1, 0, 1, 1].forEach((bit, i) => a.setCell(g.cellAt(cols[i]!, a.offsets), 3, bit));
  chip.moveRow({ ...A, row: 3 }, { ...A, row: 9 }, cols);
  chip.moveRow({ ...A, row: 3 }, { ...B, row: 4 }, cols);
  chip.moveRow({ ...B, row: 4 }, { ...C, row: 31 }, cols);
  for (const [ref, row] of [[A, 9], [B, 4], [C, 31]] as const) {
    const arr = chip.array(ref);
    assert.deepEqual(cols.map((c) => arr.getCell(g.cellAt(c, arr.offsets), row)), [1, 0, 1, 1]);
  }
  const ev = chip.events().arrays;
  const eA = ev[0]![0]!;
  const eB = ev[0]![5]!;
  const eC = ev[15]![2]!;
  assert.equal(eA.bufferReadBits, 8);
  assert.equal(eA.bufferWriteBits, 4);
  assert.equal(eA.transferBitsArray, 4);
  assert.equal(eA.transferBitsTile, 0);
  assert.equal(eB.transferBitsTile, 4);
  // Mesh of 16 tiles is 4 x 4: tile 0 (0,0) to tile 15 (3,3) is 6 hops.
  assert.equal(chip.tileHops(0, 15), 6);
  assert.equal(eB.transferBitHopsTile, 24);
  assert.equal(eC.bufferWriteBits, 4);
  assert.equal(eC.cycles, Math.ceil(4 / t.tileLinkBits) * t.tileLinkCycles + 6 * t.tileHopCycles + t.bufferWrite);
  chip.loadFromGlobal(C, [7, 8], [1, 1]);
  assert.deepEqual(chip.storeToGlobal(C, [7, 8, 0]), [1, 1, 1]);
  assert.equal(chip.events().arrays[15]![2]!.transferBitsChip, 5);
  const htree = new ApChip({ ...RTM, interconnect: "htree" });
  assert.equal(htree.tileHops(0, 1), 2);
  assert.equal(htree.tileHops(0, 15), 8);
});

test("moveValue copies a value between rows of any arrays, shifting RTM groups per bit and back home", () => {
  for (const arch of [RTM, SRAM]) {
    const chip = new ApChip(arch, { rowsPerArray: 64 });
    const g = chip.geom;
    const along = arch === RTM;
    const v = along ? g.alongTrack("v", 3, 2, 12, true) : g.acrossTracks("v", 10, 0, 12, true);
    const w = along ? g.alongTrack("w", 40, 35, 12, true) : g.acrossTracks("w", 100, 0, 12, true);
    const src = { tile: 2, array: 1 };
    const rng = new Rng(9);
    const data = Int32Array.from({ length: 64 }, () => rng.int(-2048, 2047));
    chip.array(src).setValue(v, data);
    // Between tiles, and within the same array (row 5 -> row 6, into w).
    chip.moveValue({ ...src, row: 5, value: v }, { tile: 7, array: 0, row: 60, value: w });
    chip.moveValue({ ...src, row: 5, value: v }, { ...src, row: 6, value: w });
    assert.equal(chip.array({ tile: 7, array: 0 }).getValue(w)[60], data[5]);
    assert.equal(chip.array(src).getValue(w)[6], data[5]);
    assert.deepEqual(chip.array(src).getValue(v), data, "source untouched");
    assert.ok(chip.array(src).offsets.every((o) => o === 0), "groups home");
    const e = chip.events().arrays[2]![1]!;
    assert.equal(e.transferBitsTile, 12);
    assert.equal(e.bufferReadBits, 24);
    if (along) {
      // 12 bits along one track: one 1-bit read per bit, group 0 shifted to domain 2 and along.
      assert.ok(e.shifts > 0);
      assert.equal(chip.events().arrays[7]![0]!.bufferWriteBits, 12);
    } else {
      assert.equal(e.shifts, 0);
      assert.equal(e.cycles, 2 * arch.timing.bufferRead + arch.timing.bufferWrite + Math.ceil(12 / arch.timing.tileLinkBits) * arch.timing.tileLinkCycles + chip.tileHops(2, 7) * arch.timing.tileHopCycles);
    }
  }
});

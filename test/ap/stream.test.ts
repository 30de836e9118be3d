/**
 * Per-image fault streams and the p-ECC protection in the bit-level array (src/ap/faults.ts,
 * src/ap/array.ts): known position errors are corrected (the data read back unchanged) or
 * reported as uncorrectable / miscorrected; unprotected ones corrupt the data; stream countdowns
 * put a fault at a known trial; trial counts do not depend on the data.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApArray } from "../../src/ap/array.js";
import { FaultStream, type ProtectionSpec } from "../../src/ap/faults.js";
import { expandMacro } from "../../src/ap/macro.js";
import { Rng } from "../../src/util/random.js";
import { geometryFor, RTM, wrap } from "./helpers.js";

const ROWS = 64;

function setup(protect: ProtectionSpec | null, opts: { shiftProb?: number; shiftLeft?: number[]; images?: number } = {}) {
  const images = opts.images ?? 1;
  const geom = geometryFor("rtm", ROWS * images);
  const v = geom.alongTrack("v", 0, 0, 16, true); // track 0 of group 0, domains 0..15
  const stream = new FaultStream({
    shiftProb: opts.shiftProb ?? 0, writeProb: 0, rowsPerImage: ROWS, protect,
    rngs: Array.from({ length: images }, (_, i) => new Rng(11 + i)), shiftLeft: opts.shiftLeft,
  });
  const array = new ApArray(geom, RTM.timing, { faults: { stream } });
  const data = Int32Array.from({ length: ROWS * images }, (_, r) => wrap(r * 977 - 20000, 16, true));
  array.setValue(v, data);
  return { array, stream, v, data };
}

/** Moves group 0 away and back: two shifts, each followed by a check under protection. */
function shiftAround(array: ApArray): void {
  array.shift(0, 3);
  array.shift(0, -3);
}

test("p-ECC corrects single position errors in either direction: the data reads back unchanged", () => {
  const { array, stream, v, data } = setup({ scheme: "pecc", interval: 1 });
  array.injectShiftFault(5, 0, 1);
  array.injectShiftFault(9, 0, -1);
  array.injectShiftFault(9, 0, -1); // row 9: -2 before the check -> uncorrectable, handled below
  array.injectShiftFault(9, 0, 1); // back to -1
  shiftAround(array);
  assert.deepEqual(Array.from(array.getValue(v)), Array.from(data));
  assert.equal(stream.stats[0]!.corrected, 2);
  assert.equal(stream.stats[0]!.uncorrectable, 0);
  assert.equal(stream.stats[0]!.miscorrected, 0);
});

test("p-ECC reports a double position error as uncorrectable and a triple one as miscorrected", () => {
  const { array, stream, v, data } = setup({ scheme: "pecc", interval: 1 });
  array.injectShiftFault(3, 0, 1);
  array.injectShiftFault(3, 0, 1); // d = +2: the code reads 2, direction unknown
  for (let k = 0; k < 3; k++) array.injectShiftFault(7, 0, -1); // d = -3: read as +1, corrected the wrong way to -4
  shiftAround(array);
  const got = array.getValue(v);
  assert.equal(stream.stats[0]!.uncorrectable, 1);
  assert.equal(stream.stats[0]!.miscorrected, 1);
  assert.equal(stream.stats[0]!.corrected, 0);
  assert.notEqual(got[3], data[3]);
  assert.notEqual(got[7], data[7]);
  // every other row intact
  for (let r = 0; r < ROWS; r++) if (r !== 3 && r !== 7) assert.equal(got[r], data[r], `row ${r}`);
});

test("with checks every 2nd shift, two faults in one interval are reported, not corrected", () => {
  const { array, stream } = setup({ scheme: "pecc", interval: 2 });
  array.shift(0, 1); // no check yet
  array.injectShiftFault(4, 0, 1);
  array.injectShiftFault(4, 0, 1);
  array.shift(0, 1); // check: d = 2
  assert.equal(stream.stats[0]!.uncorrectable, 1);
});

test("unprotected, a position error corrupts the row's value for good", () => {
  const { array, v, data } = setup(null);
  array.injectShiftFault(5, 0, 1);
  shiftAround(array);
  const got = array.getValue(v);
  // the track moved one domain: bit i now holds bit i+1, and a 0 came in at the top (domain 16 was empty)
  assert.equal(got[5], (data[5]! & 0xffff) >>> 1);
  assert.notEqual(got[5], data[5]);
  assert.equal(got[4], data[4]);
});

test("a stream countdown puts the fault at a known trial; p-ECC corrects it, unprotected it stays", () => {
  // trials of a shift: track-major over the group's 32 tracks, then rows; trial 5*64+9 = track 5, row 9
  const trial = 0 * ROWS + 9; // track 0 (the value's track), row 9
  for (const protect of [null, { scheme: "pecc" as const, interval: 1 }]) {
    const { array, stream, v, data } = setup(protect, { shiftProb: 1e-12, shiftLeft: [trial] });
    array.shift(0, 1);
    array.shift(0, -1);
    assert.equal(stream.stats[0]!.shiftFaults, 1);
    assert.equal(stream.shiftTrials[0], 2 * ROWS * 32);
    const got = array.getValue(v);
    if (protect) {
      assert.deepEqual(Array.from(got), Array.from(data));
      assert.equal(stream.stats[0]!.corrected, 1);
    } else {
      assert.notEqual(got[9], data[9]);
      for (let r = 0; r < ROWS; r++) if (r !== 9) assert.equal(got[r], data[r]);
    }
  }
});

test("images side by side have their own countdowns and trial counts; write trials count every row", () => {
  const { array, stream } = setup(null, { images: 3, shiftProb: 0 });
  const geom = array.geom;
  const d = geom.alongTrack("d", 40, 0, 8, false);
  const s = geom.alongTrack("s", 41, 0, 8, false);
  array.run(expandMacro({ kind: "add", dst: d, src: s }, geom).micro);
  for (let i = 0; i < 3; i++) {
    assert.equal(stream.shiftTrials[i], stream.shiftTrials[0]);
    assert.equal(stream.writeTrials[i], stream.writeTrials[0]);
    assert.ok(stream.writeTrials[i]! > 0 && stream.writeTrials[i]! % ROWS === 0);
  }
});

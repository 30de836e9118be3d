import { test } from "node:test";
import assert from "node:assert/strict";
import { ApArray } from "../../src/ap/array.js";
import { expandMacro } from "../../src/ap/macro.js";
import { RtapError } from "../../src/errors.js";
import { Rng } from "../../src/util/random.js";
import { geometryFor, RTM, wrap } from "./helpers.js";

const ROWS = 4096;

function addSetup(faults?: { shiftFaultProb?: number; writeFlipProb?: number; seed?: number }) {
  const geom = geometryFor("rtm", ROWS);
  const dst = geom.alongTrack("d", 0, 0, 16, true);
  const src = geom.alongTrack("s", 1, 0, 16, true);
  const rng = new Rng(3);
  const dv = Int32Array.from({ length: ROWS }, () => rng.int(-30000, 30000));
  const sv = Int32Array.from({ length: ROWS }, () => rng.int(-30000, 30000));
  const array = new ApArray(geom, RTM.timing, faults ? { faults } : {});
  array.setValue(dst, dv);
  array.setValue(src, sv);
  const plan = expandMacro({ kind: "add", dst, src }, geom);
  const want = dv.map((d, r) => wrap(d + sv[r]!, 16, true));
  return { geom, dst, array, plan, want };
}

/** 5 standard deviations of a binomial count. */
function tolerance(n: number, p: number): number {
  return 5 * Math.sqrt(n * p * (1 - p));
}

test("fault rates p = q = 0 change nothing: same state, same events, no random draws", () => {
  const clean = addSetup();
  const zero = addSetup({ shiftFaultProb: 0, writeFlipProb: 0, seed: 99 });
  clean.array.run(clean.plan.micro);
  zero.array.run(zero.plan.micro);
  assert.equal(zero.array.faults, null);
  assert.deepEqual(zero.array.state, clean.array.state);
  assert.deepEqual(zero.array.events, clean.array.events);
  assert.deepEqual(zero.array.getValue(zero.dst), zero.want);
  assert.deepEqual(zero.array.faultStats, { writeFlips: 0, shiftFaults: 0, overShifts: 0, underShifts: 0 });
});

test("write flips happen at rate q per written cell", () => {
  const geom = geometryFor("rtm", ROWS);
  const q = 0.003;
  const a = new ApArray(geom, RTM.timing, { faults: { writeFlipProb: q, seed: 7 } });
  // Write 1s into 16 columns of every row (all cells start at 0), 8 times over different cells.
  let cells = 0;
  let zeros = 0;
  for (let rep = 0; rep < 8; rep++) {
    a.tagOp("set");
    const cols = Array.from({ length: 16 }, (_, i) => geom.trackColumn(2 + i, 0));
    a.write(cols, cols.map(() => 1));
    cells += 16 * ROWS;
    for (let i = 0; i < 16; i++) for (let r = 0; r < ROWS; r++) zeros += 1 - a.getCell(geom.cellOf(2 + i, rep), r);
    a.shift(0, 1); // next domains
  }
  assert.equal(a.events.writeCells, cells);
  assert.equal(a.faultStats.writeFlips, zeros, "every injected flip is visible in the state");
  assert.ok(Math.abs(zeros - q * cells) < tolerance(cells, q), `${zeros} flips in ${cells} cells, expected ${q * cells}`);
});

test("shift faults displace nanowires at rate p per shifted track", () => {
  const geom = geometryFor("rtm", ROWS);
  const p = 0.0005;
  const a = new ApArray(geom, RTM.timing, { faults: { shiftFaultProb: p, seed: 11 } });
  const rng = new Rng(1);
  // A random pattern along every track of group 0, the same in every row.
  const pattern = Array.from({ length: 32 }, () => Array.from({ length: 64 }, () => rng.int(0, 1)));
  for (let t = 0; t < 32; t++) for (let d = 0; d < 64; d++) for (let r = 0; r < ROWS; r++) a.setCell(geom.cellOf(t, d), r, pattern[t]![d]!);
  // Seven shift micro-ops (a bit-serial sweep out and back, twice), each moving 32 x 4096 nanowires.
  const moves = [1, 1, 1, -3, 1, 1, -2];
  for (const n of moves) a.shift(0, n);
  const trials = moves.length * ROWS * 32;
  const stats = a.faultStats;
  assert.equal(stats.shiftFaults, stats.overShifts + stats.underShifts);
  assert.ok(Math.abs(stats.shiftFaults - p * trials) < tolerance(trials, p), `${stats.shiftFaults} faults in ${trials}`);
  assert.ok(stats.overShifts > 0 && stats.underShifts > 0);
  // Count displaced nanowires from the state: a row's track no longer holds the pattern at home.
  let displaced = 0;
  for (let t = 0; t < 32; t++)
    for (let r = 0; r < ROWS; r++) {
      let ok = true;
      for (let d = 1; d < 63 && ok; d++) if (a.getCell(geom.cellOf(t, d), r) !== pattern[t]![d]) ok = false;
      if (!ok) displaced++;
    }
  // Two faults on one nanowire can cancel; at this rate that is rare.
  assert.ok(displaced <= stats.shiftFaults && displaced >= 0.9 * stats.shiftFaults, `${displaced} displaced, ${stats.shiftFaults} faults`);
});

test("non-zero rates corrupt add results at the rate the flips predict; the run is reproducible from the seed", () => {
  const q = 2e-4;
  const run = () => {
    const s = addSetup({ writeFlipProb: q, seed: 5 });
    s.array.run(s.plan.micro);
    const got = s.array.getValue(s.dst);
    let wrong = 0;
    for (let r = 0; r < ROWS; r++) if (got[r] !== s.want[r]) wrong++;
    return { wrong, flips: s.array.faultStats.writeFlips, cells: s.array.events.writeCells + s.array.events.flagWriteCells, got };
  };
  const a = run();
  const b = run();
  assert.deepEqual(a.got, b.got, "same seed, same faults");
  assert.ok(Math.abs(a.flips - q * a.cells) < tolerance(a.cells, q), `${a.flips} flips in ${a.cells} cells`);
  assert.ok(a.flips > 0);
  // Each flip corrupts at most one row; a flip in a cleanup write (or the final carry) does not
  // reach the result, every other one does.
  assert.ok(a.wrong <= a.flips && a.wrong >= 0.6 * a.flips, `${a.wrong} wrong rows for ${a.flips} flips`);
  // Shift faults: only the 2 data tracks of the 32 in the group matter here.
  const s = addSetup({ shiftFaultProb: 2e-4, seed: 5 });
  s.array.run(s.plan.micro);
  const got = s.array.getValue(s.dst);
  const wrong = got.filter((x, r) => x !== s.want[r]).length;
  assert.ok(s.array.faultStats.shiftFaults > 0 && wrong > 0, "shift faults corrupt results");
});

test("fault probabilities outside 0..1 are rejected", () => {
  const geom = geometryFor("rtm", 32);
  assert.throws(() => new ApArray(geom, RTM.timing, { faults: { writeFlipProb: 1.5 } }), (e: unknown) => e instanceof RtapError && /faults\.writeFlipProb: must be a probability in 0\.\.1/.test(e.message));
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { ApArray } from "../../src/ap/array.js";
import type { ArraySpec } from "../../src/ap/config.js";
import { zeroEvents } from "../../src/ap/events.js";
import { ApGeometry } from "../../src/ap/geometry.js";
import { formatMicroOp, staticEvents, type MicroOp } from "../../src/ap/microop.js";
import { RtapError } from "../../src/errors.js";
import { Rng } from "../../src/util/random.js";
import { RTM } from "./helpers.js";

/** A small RTM array: 4 tracks of 8 domains, ports at 0 and 4, 2 tracks per shift group, 2 flags, 70 rows. */
const SMALL: ArraySpec = {
  technology: "rtm",
  rows: 70,
  tracks: 4,
  domains: 8,
  ports: 2,
  portPositions: [0, 4],
  tracksPerGroup: 2,
  flags: 2,
};

/** The obvious row-by-row model of the ISA, to check the bit-sliced simulator against. */
class NaiveArray {
  cells: Uint8Array[];
  tag: Uint8Array;
  offsets: number[];
  buffer: Uint8Array;
  events = zeroEvents();
  constructor(readonly g: ApGeometry) {
    this.cells = Array.from({ length: g.rows }, () => new Uint8Array(g.cells));
    this.tag = new Uint8Array(g.rows);
    this.offsets = new Array(g.groups).fill(0);
    this.buffer = new Uint8Array(g.columns);
  }
  cellOf(col: number): number {
    return this.g.cellAt(col, this.offsets);
  }
  exec(op: MicroOp): void {
    const g = this.g;
    const t = RTM.timing;
    switch (op.op) {
      case "compare": {
        for (let r = 0; r < g.rows; r++) {
          const m = op.cols.every((c, k) => this.cells[r]![this.cellOf(c)] === op.bits[k]) ? 1 : 0;
          this.tag[r] = op.combine === "set" ? m : op.combine === "and" ? this.tag[r]! & m : this.tag[r]! | m;
        }
        const flags = op.cols.filter((c) => g.isFlagColumn(c)).length;
        this.events.searches++;
        this.events.searchRowBits += g.rows * (op.cols.length - flags);
        this.events.flagSearchRowBits += g.rows * flags;
        if (op.combine !== "set") this.events.tagOps++;
        this.events.cycles += t.compare;
        break;
      }
      case "write": {
        const flags = op.cols.filter((c) => g.isFlagColumn(c)).length;
        for (let r = 0; r < g.rows; r++) {
          if (!this.tag[r]) continue;
          op.cols.forEach((c, k) => (this.cells[r]![this.cellOf(c)] = op.bits[k]!));
          this.events.writeCells += op.cols.length - flags;
          this.events.flagWriteCells += flags;
        }
        this.events.writes++;
        this.events.cycles += t.write;
        break;
      }
      case "tag": {
        const first = this.tag.indexOf(1);
        for (let r = 0; r < g.rows; r++)
          this.tag[r] = op.fn === "set" ? 1 : op.fn === "clear" ? 0 : op.fn === "not" ? 1 - this.tag[r]! : r === first ? 1 : 0;
        this.events.tagOps++;
        this.events.cycles += t.tagOp;
        break;
      }
      case "shift":
        this.offsets[op.group]! += op.n;
        this.events.shifts++;
        this.events.shiftSteps += Math.abs(op.n);
        this.events.shiftTrackDomains += g.rows * g.tracksPerGroup * Math.abs(op.n);
        this.events.cycles += Math.abs(op.n) * t.shiftPerDomain;
        break;
      case "readRow":
        for (const c of op.cols!) this.buffer[c] = this.cells[op.row]![this.cellOf(c)]!;
        this.events.bufferReadBits += op.cols!.length;
        this.events.cycles += t.bufferRead;
        break;
      case "writeRow":
        for (const c of op.cols!) this.cells[op.row]![this.cellOf(c)] = this.buffer[c]!;
        this.events.bufferWriteBits += op.cols!.length;
        this.events.cycles += t.bufferWrite;
        break;
    }
  }
}

function randomOp(rng: Rng, g: ApGeometry, offsets: number[]): MicroOp {
  const pickCols = (): number[] => {
    const n = rng.int(0, 4);
    const set = new Set<number>();
    while (set.size < n) set.add(rng.int(0, g.columns - 1));
    return [...set];
  };
  const k = rng.int(0, 9);
  if (k <= 3) {
    const cols = pickCols();
    return { op: "compare", cols, bits: cols.map(() => rng.int(0, 1)), combine: (["set", "and", "or"] as const)[rng.int(0, 2)]! };
  }
  if (k <= 5) {
    const cols = pickCols();
    return { op: "write", cols, bits: cols.map(() => rng.int(0, 1)) };
  }
  if (k === 6) return { op: "tag", fn: (["set", "clear", "not", "first"] as const)[rng.int(0, 3)]! };
  if (k === 7) {
    const group = rng.int(0, g.groups - 1);
    const to = rng.int(g.minOffset, g.maxOffset);
    return to === offsets[group] ? { op: "tag", fn: "not" } : { op: "shift", group, n: to - offsets[group]! };
  }
  return { op: k === 8 ? "readRow" : "writeRow", row: rng.int(0, g.rows - 1), cols: pickCols() };
}

test("bit-sliced array equals the row-by-row model on 3000 random micro-ops (70 rows, partial last word)", () => {
  const g = new ApGeometry(SMALL);
  const rng = new Rng(11);
  const a = new ApArray(g, RTM.timing);
  const ref = new NaiveArray(g);
  for (let r = 0; r < g.rows; r++)
    for (let c = 0; c < g.cells; c++) {
      const b = rng.int(0, 1);
      ref.cells[r]![c] = b;
      a.setCell(c, r, b);
    }
  const ops: MicroOp[] = [];
  for (let i = 0; i < 3000; i++) {
    const op = randomOp(rng, g, ref.offsets);
    ops.push(op);
    a.exec(op);
    ref.exec(op);
    for (let r = 0; r < g.rows; r++) {
      assert.equal(a.isTagged(r), ref.tag[r] === 1, `op ${i} ${formatMicroOp(op, g)}: tag of row ${r}`);
      for (let c = 0; c < g.cells; c++)
        if (a.getCell(c, r) !== ref.cells[r]![c]) assert.fail(`op ${i} ${formatMicroOp(op, g)}: cell ${c} row ${r}`);
    }
    assert.deepEqual([...a.offsets], ref.offsets);
  }
  assert.deepEqual({ ...a.events }, ref.events);
  // Static events of the stream equal the counted ones except the data-dependent cell counts.
  const st = staticEvents(ops, g, RTM.timing);
  assert.deepEqual({ ...st, writeCells: 0, flagWriteCells: 0 }, { ...a.events, writeCells: 0, flagWriteCells: 0 });
});

test("compare with an empty key tags every row; tag ops stay within the rows", () => {
  const g = new ApGeometry({ ...SMALL, rows: 33 });
  const a = new ApArray(g, RTM.timing);
  a.compare([], [], "set");
  assert.equal(a.tagCount(), 33);
  a.tagOp("not");
  assert.equal(a.tagCount(), 0);
  a.tagOp("set");
  assert.equal(a.tagCount(), 33);
  a.tagOp("first");
  assert.equal(a.tagCount(), 1);
  assert.ok(a.isTagged(0));
});

test("shifting outside the ports' reach, shifting SRAM, and unknown rows/columns are RtapErrors", () => {
  const g = new ApGeometry(SMALL);
  const a = new ApArray(g, RTM.timing);
  assert.throws(() => a.shift(0, 4), (e: unknown) => e instanceof RtapError && /leaves the legal range 0\.\.3/.test(e.message));
  assert.throws(() => a.shift(0, -1), RtapError);
  assert.throws(() => a.shift(5, 1), /shift group 5 does not exist/);
  assert.throws(() => a.readRow(70, null), /row 70 does not exist/);
  assert.throws(() => a.compare([99], [1]), /column 99 does not exist/);
  const s = new ApArray(new ApGeometry({ ...SMALL, technology: "sram", domains: 1, ports: 1, portPositions: [0] }), RTM.timing);
  assert.throws(() => s.shift(0, 1), /SRAM array cannot shift/);
});

test("a shift moves the bits under the ports: the bits along a track pass port 0 one per shift", () => {
  const g = new ApGeometry(SMALL);
  const a = new ApArray(g, RTM.timing);
  // Row 5, track 1 holds 0b1011_0110 along its domains.
  const pattern = [0, 1, 1, 0, 1, 1, 0, 1];
  pattern.forEach((b, d) => a.setCell(g.cellOf(1, d), 5, b));
  const col = g.trackColumn(1, 0);
  const seen: number[] = [];
  for (let o = 0; o <= 3; o++) {
    a.readRow(5, [col, g.trackColumn(1, 1)]);
    seen.push(a.buffer[col]!, a.buffer[g.trackColumn(1, 1)]!);
    if (o < 3) a.shift(0, 1);
  }
  // Port 0 saw domains 0..3, port 1 domains 4..7.
  assert.deepEqual([seen[0], seen[2], seen[4], seen[6]], pattern.slice(0, 4));
  assert.deepEqual([seen[1], seen[3], seen[5], seen[7]], pattern.slice(4));
  assert.equal(a.events.shiftTrackDomains, 3 * 70 * 2);
  assert.equal(a.events.bufferReadBits, 8);
});

test("row capacity and port windows of the default RTM-AP", () => {
  const rtm = new ApGeometry(RTM.array).capacity();
  assert.deepEqual(rtm, {
    dataCells: 8192,
    tracks: 128,
    domains: 64,
    portWindows: [
      [0, 31],
      [32, 63],
    ],
    groups: 4,
    tracksPerGroup: 32,
    flags: 4,
    scratchFlags: 4,
  });
});

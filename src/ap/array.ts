/**
 * Bit-level simulator of one AP array, bit-sliced across rows: every cell of the row format is a
 * bit plane of `words` 32-bit words (32 rows per word), so a compare over k columns costs k word
 * operations per 32 rows and a write one per column per 32 rows. Shifting only changes the group's
 * offset (which cell each port sees); no data moves, so a shift is O(1) to simulate.
 *
 * Every micro-op adds its events to `events` (sizes included), see events.ts and microop.ts.
 */
import { RtapError } from "../errors.js";
import { popcountWords } from "./bits.js";
import type { ApTiming } from "./config.js";
import { zeroEvents, type ApEvents } from "./events.js";
import { FaultInjector, type FaultOptions, type FaultStats, type FaultStream } from "./faults.js";
import type { ApGeometry } from "./geometry.js";
import type { Combine, MicroOp, TagFn } from "./microop.js";
import type { ApValue } from "./value.js";

interface Displacement {
  /** Domains the nanowire is ahead of its group (+: the ports see higher domains). */
  d: number;
  /** Bits pushed past the low / high end (guard domains), most recent last. */
  low: number[];
  high: number[];
  /** Already counted as uncorrectable or miscorrected. */
  reported: boolean;
}

export interface ApArrayOptions {
  faults?: FaultOptions;
}

export class ApArray {
  readonly geom: ApGeometry;
  readonly timing: ApTiming;
  readonly rows: number;
  readonly words: number;
  /** Bit planes: cell c of rows 32w..32w+31 is state[c * words + w]. */
  readonly state: Uint32Array;
  readonly tag: Uint32Array;
  /** Current offset of each shift group (0 = home). */
  readonly offsets: Int32Array;
  /** The array buffer: one bit per column, filled by readRow, drained by writeRow and transfers. */
  readonly buffer: Uint8Array;
  readonly events: ApEvents = zeroEvents();
  readonly faults: FaultInjector | null;
  /** Per-image fault streams (reliability study); null otherwise. */
  readonly stream: FaultStream | null;
  private readonly imageBase: number;
  /** Protection: displaced nanowires (key track * rows + row) with the bits pushed past each end. */
  private displaced: Map<number, Displacement> | null = null;
  /** Protection: shifts of each group since its last check. */
  private sinceCheck: Int32Array | null = null;
  /** Valid-row mask of the last word (rows that are not a multiple of 32). */
  private readonly lastMask: number;
  private readonly scratch: Uint32Array;

  constructor(geom: ApGeometry, timing: ApTiming, options: ApArrayOptions = {}) {
    this.geom = geom;
    this.timing = timing;
    this.rows = geom.rows;
    this.words = geom.words;
    this.state = new Uint32Array(geom.cells * geom.words);
    this.tag = new Uint32Array(geom.words);
    this.scratch = new Uint32Array(geom.words);
    this.offsets = new Int32Array(geom.groups);
    this.buffer = new Uint8Array(geom.columns);
    const rem = geom.rows % 32;
    this.lastMask = rem === 0 ? 0xffffffff : ((1 << rem) >>> 0) - 1;
    this.stream = options.faults?.stream ?? null;
    this.imageBase = options.faults?.imageBase ?? 0;
    const f = options.faults && !this.stream ? new FaultInjector(options.faults) : null;
    this.faults = f && f.active ? f : null;
    if (this.stream) {
      if (this.rows % this.stream.simRowsPerImage !== 0)
        throw new RtapError(`fault stream: ${this.rows} rows are not a whole number of images of ${this.stream.simRowsPerImage} rows`);
      if (this.stream.protect) {
        this.displaced = new Map();
        this.sinceCheck = new Int32Array(geom.groups);
      }
    }
  }

  get faultStats(): FaultStats {
    return this.faults ? { ...this.faults.stats } : { writeFlips: 0, shiftFaults: 0, overShifts: 0, underShifts: 0 };
  }

  run(ops: readonly MicroOp[]): void {
    for (const op of ops) this.exec(op);
  }

  exec(op: MicroOp): void {
    switch (op.op) {
      case "compare":
        this.compare(op.cols, op.bits, op.combine);
        break;
      case "write":
        this.write(op.cols, op.bits);
        break;
      case "tag":
        this.tagOp(op.fn);
        break;
      case "shift":
        this.shift(op.group, op.n);
        break;
      case "readRow":
        this.readRow(op.row, op.cols);
        break;
      case "writeRow":
        this.writeRow(op.row, op.cols);
        break;
    }
  }

  /** Plane index (cell) a column sees now. */
  private planeOf(col: number): number {
    const g = this.geom;
    if (!(col >= 0 && col < g.columns)) throw new RtapError(`column ${col} does not exist (0..${g.columns - 1})`);
    const grp = g.columnGroup[col]!;
    return g.columnBase[col]! + (grp >= 0 ? this.offsets[grp]! : 0);
  }

  // --- micro-ops ----------------------------------------------------------------------------------

  compare(cols: readonly number[], bits: readonly number[], combine: Combine = "set"): void {
    const W = this.words;
    const st = this.state;
    const tag = this.tag;
    const n = cols.length;
    const out = combine === "set" ? tag : this.scratch;
    if (n === 0) {
      out.fill(0xffffffff);
    } else {
      // Up to three key columns per sweep over the words (one load/store of `out` per word).
      const b0 = this.planeOf(cols[0]!) * W;
      const i0 = bits[0] ? 0 : -1;
      if (n === 1) {
        for (let w = 0; w < W; w++) out[w] = st[b0 + w]! ^ i0;
      } else {
        const b1 = this.planeOf(cols[1]!) * W;
        const i1 = bits[1] ? 0 : -1;
        if (n === 2) {
          for (let w = 0; w < W; w++) out[w] = (st[b0 + w]! ^ i0) & (st[b1 + w]! ^ i1);
        } else {
          const b2 = this.planeOf(cols[2]!) * W;
          const i2 = bits[2] ? 0 : -1;
          for (let w = 0; w < W; w++) out[w] = (st[b0 + w]! ^ i0) & (st[b1 + w]! ^ i1) & (st[b2 + w]! ^ i2);
        }
      }
      for (let j = 3; j < n; j++) {
        const base = this.planeOf(cols[j]!) * W;
        const inv = bits[j] ? 0 : -1;
        for (let w = 0; w < W; w++) out[w] = out[w]! & (st[base + w]! ^ inv);
      }
    }
    out[W - 1] = out[W - 1]! & this.lastMask;
    if (combine === "and") for (let w = 0; w < W; w++) tag[w] = tag[w]! & out[w]!;
    else if (combine === "or") for (let w = 0; w < W; w++) tag[w] = tag[w]! | out[w]!;
    const e = this.events;
    let flagBits = 0;
    for (let j = 0; j < n; j++) if (this.geom.isFlagColumn(cols[j]!)) flagBits++;
    e.searches++;
    e.searchRowBits += this.rows * (n - flagBits);
    e.flagSearchRowBits += this.rows * flagBits;
    if (combine !== "set") e.tagOps++;
    e.cycles += this.timing.compare;
  }

  write(cols: readonly number[], bits: readonly number[]): void {
    const W = this.words;
    const st = this.state;
    const tag = this.tag;
    let flagCols = 0;
    let tagged = -1;
    for (let j = 0; j < cols.length; j++) {
      const base = this.planeOf(cols[j]!) * W;
      if (tagged < 0) {
        // First column: count the tagged rows in the same sweep.
        let cnt = 0;
        for (let w = 0; w < W; w++) {
          const t = tag[w]!;
          st[base + w] = bits[j] ? st[base + w]! | t : st[base + w]! & ~t;
          let x = t - ((t >>> 1) & 0x55555555);
          x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
          cnt += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
        }
        tagged = cnt;
      } else if (bits[j]) for (let w = 0; w < W; w++) st[base + w] = st[base + w]! | tag[w]!;
      else for (let w = 0; w < W; w++) st[base + w] = st[base + w]! & ~tag[w]!;
      if (this.geom.isFlagColumn(cols[j]!)) flagCols++;
      if (this.faults && this.faults.writeFlipProb > 0) this.injectWriteFlips(base);
      if (this.stream) this.streamWrite(base);
    }
    if (tagged < 0) tagged = 0;
    const e = this.events;
    e.writes++;
    e.writeCells += tagged * (cols.length - flagCols);
    e.flagWriteCells += tagged * flagCols;
    e.cycles += this.timing.write;
  }

  tagOp(fn: TagFn): void {
    const W = this.words;
    const tag = this.tag;
    switch (fn) {
      case "set":
        tag.fill(0xffffffff);
        tag[W - 1] = this.lastMask;
        break;
      case "clear":
        tag.fill(0);
        break;
      case "not":
        for (let w = 0; w < W; w++) tag[w] = ~tag[w]!;
        tag[W - 1] = tag[W - 1]! & this.lastMask;
        break;
      case "first": {
        let w = 0;
        while (w < W && tag[w] === 0) w++;
        if (w < W) {
          const x = tag[w]!;
          tag.fill(0);
          tag[w] = (x & -x) >>> 0;
        }
        break;
      }
    }
    this.events.tagOps++;
    this.events.cycles += this.timing.tagOp;
  }

  shift(group: number, n: number): void {
    const g = this.geom;
    if (!g.canShift) throw new RtapError(`this ${g.spec.technology.toUpperCase()} array cannot shift`, `shift g${group}`);
    if (!(Number.isInteger(group) && group >= 0 && group < g.groups))
      throw new RtapError(`shift group ${group} does not exist (0..${g.groups - 1})`);
    const to = this.offsets[group]! + n;
    if (!Number.isInteger(n) || to < g.minOffset || to > g.maxOffset)
      throw new RtapError(
        `shift by ${n} from offset ${this.offsets[group]} leaves the legal range ${g.minOffset}..${g.maxOffset}`,
        `shift g${group}`,
      );
    this.offsets[group] = to;
    const a = Math.abs(n);
    const e = this.events;
    e.shifts++;
    e.shiftSteps += a;
    e.shiftTrackDomains += this.rows * g.tracksPerGroup * a;
    e.cycles += a * this.timing.shiftPerDomain;
    if (this.faults && this.faults.shiftFaultProb > 0 && a > 0) this.injectShiftFaults(group);
    if (this.stream && a > 0) this.streamShift(group);
  }

  readRow(row: number, cols: readonly number[] | null): void {
    this.checkRow(row);
    const W = this.words;
    const w = row >>> 5;
    const b = row & 31;
    const n = cols === null ? this.geom.columns : cols.length;
    for (let j = 0; j < n; j++) {
      const c = cols === null ? j : cols[j]!;
      this.buffer[c] = (this.state[this.planeOf(c) * W + w]! >>> b) & 1;
    }
    this.events.bufferReadBits += n;
    this.events.cycles += this.timing.bufferRead;
  }

  writeRow(row: number, cols: readonly number[] | null): void {
    this.checkRow(row);
    const n = cols === null ? this.geom.columns : cols.length;
    for (let j = 0; j < n; j++) {
      const c = cols === null ? j : cols[j]!;
      let bit = this.buffer[c]!;
      if (this.faults && this.faults.writeFlipProb > 0 && this.faults.gap(this.faults.writeFlipProb) === 0) {
        bit ^= 1;
        this.faults.stats.writeFlips++;
      }
      if (this.stream) {
        const s = this.stream;
        const img = this.imageBase + Math.floor(row / s.simRowsPerImage);
        s.writeTrials[img]! += 1;
        if (s.writeLeft[img]! >= 1) s.writeLeft[img]! -= 1;
        else {
          bit ^= 1;
          s.stats[img]!.writeFlips++;
          s.writeLeft[img] = s.nextWriteGap(img);
        }
      }
      this.setCell(this.planeOf(c), row, bit);
    }
    this.events.bufferWriteBits += n;
    this.events.cycles += this.timing.bufferWrite;
  }

  // --- faults -------------------------------------------------------------------------------------

  private injectWriteFlips(base: number): void {
    const f = this.faults!;
    const W = this.words;
    const tag = this.tag;
    const st = this.state;
    let skip = f.gap(f.writeFlipProb);
    for (let w = 0; w < W; w++) {
      let t = tag[w]!;
      while (t !== 0) {
        // Number of tagged cells in this word still ahead.
        let x = t;
        x = x - ((x >>> 1) & 0x55555555);
        x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
        const pc = Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
        if (skip >= pc) {
          skip -= pc;
          break;
        }
        for (let s = 0; s < skip; s++) t &= t - 1; // drop the cells that are skipped
        const bit = (t & -t) >>> 0;
        st[base + w] = st[base + w]! ^ bit;
        f.stats.writeFlips++;
        t = (t & (t - 1)) >>> 0;
        skip = f.gap(f.writeFlipProb);
      }
    }
  }

  private injectShiftFaults(group: number): void {
    const f = this.faults!;
    const g = this.geom;
    const total = this.rows * g.tracksPerGroup;
    let pos = f.gap(f.shiftFaultProb);
    while (pos < total) {
      const track = group * g.tracksPerGroup + Math.floor(pos / this.rows);
      const row = pos % this.rows;
      const dir = f.direction();
      this.displaceTrack(row, track, dir);
      f.stats.shiftFaults++;
      if (dir > 0) f.stats.overShifts++;
      else f.stats.underShifts++;
      pos += 1 + f.gap(f.shiftFaultProb);
    }
  }

  // --- per-image fault streams and protection (src/ap/faults.ts FaultStream, ProtectionSpec) --------

  /** Write trials of one written column: every row of every image (a fault on an untagged row does nothing). */
  private streamWrite(base: number): void {
    const s = this.stream!;
    const R = s.rowsPerImage, U = s.simRowsPerImage;
    const images = this.rows / U;
    const st = this.state, tag = this.tag;
    for (let n = 0; n < images; n++) {
      const img = this.imageBase + n;
      s.writeTrials[img]! += R;
      const left = s.writeLeft[img]!;
      if (left >= R) {
        s.writeLeft[img] = left - R;
        continue;
      }
      let pos = left;
      while (pos < R) {
        const row = n * U + pos;
        const m = 1 << (row & 31);
        if (pos < U && tag[row >>> 5]! & m) {
          st[base + (row >>> 5)] = st[base + (row >>> 5)]! ^ m;
          s.stats[img]!.writeFlips++;
        }
        pos += 1 + s.nextWriteGap(img);
      }
      s.writeLeft[img] = pos - R;
    }
  }

  /** Shift trials of one shift micro-op: per image, every track of the group in every row. */
  private streamShift(group: number): void {
    const s = this.stream!;
    const R = s.rowsPerImage, U = s.simRowsPerImage;
    const T = this.geom.tracksPerGroup;
    const per = R * T;
    const images = this.rows / U;
    for (let n = 0; n < images; n++) {
      const img = this.imageBase + n;
      s.shiftTrials[img]! += per;
      const left = s.shiftLeft[img]!;
      if (left >= per) {
        s.shiftLeft[img] = left - per;
        continue;
      }
      let pos = left;
      while (pos < per) {
        const track = group * T + Math.floor(pos / R);
        const r = pos % R;
        const dir = s.direction(img);
        if (r < U) {
          if (this.displaced) this.moveGuarded(n * U + r, track, dir);
          else this.displaceTrack(n * U + r, track, dir);
        } else if (this.displaced) s.stats[img]!.corrected++; // an idle row, not simulated: a single error the next check corrects

        s.stats[img]!.shiftFaults++;
        pos += 1 + s.nextShiftGap(img);
      }
      s.shiftLeft[img] = pos - per;
    }
    if (this.displaced && ++this.sinceCheck![group]! >= s.protect!.interval) {
      this.sinceCheck![group] = 0;
      this.checkGroup(group);
    }
  }

  /**
   * Protected tracks: one nanowire moves one domain (dir +1: the ports now see what was one domain
   * higher); the bit pushed past one end goes into that end's guard domains and comes back when
   * the track moves back (no data is lost while the displacement is within the guard).
   */
  private moveGuarded(row: number, track: number, dir: number): void {
    const key = track * this.rows + row;
    let e = this.displaced!.get(key);
    if (!e) {
      e = { d: 0, low: [], high: [], reported: false };
      this.displaced!.set(key, e);
    }
    const D = this.geom.domains;
    const base = track * D;
    if (dir > 0) {
      e.low.push(this.getCell(base, row));
      for (let d = 0; d < D - 1; d++) this.setCell(base + d, row, this.getCell(base + d + 1, row));
      this.setCell(base + D - 1, row, e.high.length ? e.high.pop()! : 0);
    } else {
      e.high.push(this.getCell(base + D - 1, row));
      for (let d = D - 1; d > 0; d--) this.setCell(base + d, row, this.getCell(base + d - 1, row));
      this.setCell(base, row, e.low.length ? e.low.pop()! : 0);
    }
    e.d += dir;
    // back home, the guards hold what they held before (zeros) unless a bit written while displaced was pushed there
    if (e.d === 0 && !e.low.includes(1) && !e.high.includes(1)) this.displaced!.delete(key);
  }

  /** The position-code check of every nanowire of a group (see ProtectionSpec in faults.ts). */
  private checkGroup(group: number): void {
    const map = this.displaced!;
    if (map.size === 0) return;
    const s = this.stream!;
    const T = this.geom.tracksPerGroup;
    for (const [key, e] of map) {
      const track = Math.floor(key / this.rows);
      if (Math.floor(track / T) !== group) continue;
      const row = key % this.rows;
      const img = this.imageBase + Math.floor(row / s.simRowsPerImage);
      const st = s.stats[img]!;
      for (let round = 0; round < 16; round++) {
        const seen = (((e.d % 4) + 4) % 4); // what the two code heads read
        if (seen === 0) {
          if (e.d !== 0 && !e.reported) {
            st.miscorrected++;
            e.reported = true;
          }
          break;
        }
        if (seen === 2) {
          if (!e.reported) {
            st.uncorrectable++;
            e.reported = true;
          }
          break;
        }
        // seen 1: one domain too far (+1, or -3 read as +1); seen 3: one short
        const back = seen === 1 ? -1 : 1;
        if (e.d === -back) st.corrected++;
        else if (!e.reported) {
          st.miscorrected++;
          e.reported = true;
        }
        // the corrective one-domain shift may itself over- (2 domains) or under-shift (none)
        let steps = 1;
        if (s.correctionFaults(img)) {
          st.shiftFaults++;
          steps = s.direction(img) > 0 ? 2 : 0;
        }
        for (let k = 0; k < steps; k++) this.moveGuarded(row, track, back);
        if (!map.has(key)) break;
      }
    }
  }

  /**
   * One row's nanowire moved one domain further (dir = +1: the ports now see what was one domain
   * higher) or one short (dir = -1) than its group.
   */
  private displaceTrack(row: number, track: number, dir: number): void {
    const D = this.geom.domains;
    const base = track * D;
    if (dir > 0) {
      for (let d = 0; d < D - 1; d++) this.setCell(base + d, row, this.getCell(base + d + 1, row));
      this.setCell(base + D - 1, row, 0);
    } else {
      for (let d = D - 1; d > 0; d--) this.setCell(base + d, row, this.getCell(base + d - 1, row));
      this.setCell(base, row, 0);
    }
  }

  // --- testbench access (not counted as events) ----------------------------------------------------

  /**
   * Testbench: one known position error, as a stream fault would make it (guarded when the array
   * has protection): row `row`'s nanowire `track` one domain ahead (+1) or behind (-1) its group.
   * The next check of its group (protection) sees it.
   */
  injectShiftFault(row: number, track: number, dir: 1 | -1): void {
    this.checkRow(row);
    if (!(Number.isInteger(track) && track >= 0 && track < this.geom.spec.tracks)) throw new RtapError(`track ${track} does not exist`);
    if (this.displaced) this.moveGuarded(row, track, dir);
    else this.displaceTrack(row, track, dir);
  }

  private checkRow(row: number): void {
    if (!(Number.isInteger(row) && row >= 0 && row < this.rows))
      throw new RtapError(`row ${row} does not exist (0..${this.rows - 1})`);
  }

  getCell(cell: number, row: number): number {
    return (this.state[cell * this.words + (row >>> 5)]! >>> (row & 31)) & 1;
  }

  setCell(cell: number, row: number, bit: number): void {
    const i = cell * this.words + (row >>> 5);
    const m = 1 << (row & 31);
    this.state[i] = bit ? this.state[i]! | m : this.state[i]! & ~m;
  }

  /** Stores data[r] into value `v` of row r for every row (testbench load; not an AP operation). */
  setValue(v: ApValue, data: ArrayLike<number>): void {
    if (data.length !== this.rows)
      throw new RtapError(`expected ${this.rows} values (one per row), got ${data.length}`, `value "${v.name}"`);
    const W = this.words;
    for (let i = 0; i < v.width; i++) {
      const base = v.cells[i]! * W;
      this.state.fill(0, base, base + W);
      for (let r = 0; r < this.rows; r++) {
        if ((data[r]! >> i) & 1) this.state[base + (r >>> 5)] = this.state[base + (r >>> 5)]! | (1 << (r & 31));
      }
    }
  }

  /**
   * Stores values[j] into value `v` of row rows[j], for the j < n with owner[j] === k (testbench
   * load of the rows this array holds; other rows keep their contents). Writes only those rows:
   * reading the whole value back to keep the others was ~15% of a bit-level run.
   */
  setRows(v: ApValue, rows: Int32Array, values: Int32Array, owner: Int32Array, k: number, n: number): void {
    const W = this.words;
    const st = this.state;
    for (let i = 0; i < v.width; i++) {
      const base = v.cells[i]! * W;
      for (let j = 0; j < n; j++) {
        if (owner[j] !== k) continue;
        const r = rows[j]!;
        if (r < 0 || r >= this.rows) throw new RtapError(`row ${r} does not exist (0..${this.rows - 1})`, `value "${v.name}"`);
        const at = base + (r >>> 5), m = 1 << (r & 31);
        st[at] = (values[j]! >> i) & 1 ? st[at]! | m : st[at]! & ~m;
      }
    }
  }

  /** Value `v` in every row, as signed or unsigned integers per `v.signed` (testbench read). */
  getValue(v: ApValue): Int32Array {
    const out = new Int32Array(this.rows);
    const W = this.words;
    const st = this.state;
    const R = this.rows;
    for (let i = 0; i < v.width; i++) {
      const base = v.cells[i]! * W;
      // word by word, skipping words with no bit set
      for (let w = 0; w < W; w++) {
        const x = st[base + w]!;
        if (x === 0) continue;
        const r0 = w << 5, r1 = Math.min(R, r0 + 32);
        for (let r = r0; r < r1; r++) out[r] = out[r]! | (((x >>> (r - r0)) & 1) << i);
      }
    }
    if (v.signed && v.width < 32) {
      const sh = 32 - v.width;
      for (let r = 0; r < this.rows; r++) out[r] = (out[r]! << sh) >> sh;
    }
    return out;
  }

  /** Number of tagged rows. */
  tagCount(): number {
    return popcountWords(this.tag, this.words);
  }

  isTagged(row: number): boolean {
    return ((this.tag[row >>> 5]! >>> (row & 31)) & 1) === 1;
  }

  resetEvents(): void {
    Object.assign(this.events, zeroEvents());
  }
}

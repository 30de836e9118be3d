/**
 * The AP program of one compute unit: a serial stream of steps that every active row executes
 * (SIMD over output positions), on values that live in the row. Stored in typed arrays (a
 * ResNet-18 compiles to ~10^7 steps), with readable names generated on demand.
 *
 * Values: width, signedness, region ("in" = receptive-field codes filled by loads, "tmp" =
 * temporaries, accumulators and codes), exact bounds, and — after allocation — the first of its
 * cells (bit i at cell0 + i x cellStride: 1 along a track or in SRAM, the track length across
 * tracks in the interleaved RTM layout), its register (unique among live values: the word-level
 * simulator's storage index) and its lane (the group of cells whose stale bits the word-level
 * simulator keeps as one word, with the value's first bit at `laneBit`). Steps mirror the AP macro-ops (src/ap/macro.ts) plus the
 * movement steps `load` (buffer -> row) and `store` (row -> buffer), and `free`.
 */

export const OP_LOAD = 1;
export const OP_STORE = 2;
export const OP_ADDOUT = 3;
export const OP_SUBOUT = 4;
export const OP_ADD = 5;
export const OP_SUB = 6;
export const OP_COPY = 7;
export const OP_NEGATE = 8;
export const OP_THRESHOLD = 9;
export const OP_SET = 10;
export const OP_MAX = 11;
/** Weight folding off: dst += weight * src, the weight stored in the row (predicated add and subtract). */
export const OP_MAC = 12;
export const OP_FREE = 13;

export const OP_NAMES: Record<number, string> = {
  [OP_LOAD]: "load", [OP_STORE]: "store", [OP_ADDOUT]: "addOut", [OP_SUBOUT]: "subOut", [OP_ADD]: "add", [OP_SUB]: "sub",
  [OP_COPY]: "copy", [OP_NEGATE]: "negate", [OP_THRESHOLD]: "threshold", [OP_SET]: "set", [OP_MAX]: "max", [OP_MAC]: "mac", [OP_FREE]: "free",
};

export const REGION_IN = 0;
export const REGION_TMP = 1;

/** What a value is, for names: a loaded code, a DAG node, an accumulator, a combination... */
export const VK_IN = 0;
export const VK_NODE = 1;
export const VK_ACC = 2;
export const VK_COMB = 3;
export const VK_CODE = 4;
export const VK_STAGED = 5;
export const VK_CONST = 6;
export const VK_LOADTMP = 7;
export const VK_MAC = 8;

/**
 * Step roles for the chip schedule (src/compiler/schedule.ts). A conv unit is lowered as parts
 * (output block x term x input-channel slice); each part can run on arrays of its own. COMPUTE
 * steps run on the part's arrays; REDUCE steps (a slice's partial sum into its block's
 * accumulator) and FINAL steps (combination, requantization, store) run on the arrays of the
 * block's last part, its reducer, once every partial sum has arrived there.
 */
export const ROLE_COMPUTE = 0;
export const ROLE_REDUCE = 1;
export const ROLE_FINAL = 2;

/** A part of a unit: one (output block, term, input-channel slice) of a conv; other units have one. */
export interface ProgramPart {
  block: number;
  term: number;
  slice: number;
  /** Bits per row of the partial sums this part sends to its block's reducer (0 for the reducer). */
  transferBits: number;
  /**
   * The channels this part reads (its slice of a term's input; a channel group's inputs) and the
   * output channels its block writes: the network schedule starts a part when the blocks that
   * produce what it reads are done (absent: the part reads every channel its unit loads).
   */
  reads?: PartRead[];
  outputs?: [number, number];
}

/** Channels c0..c1-1 of a tensor. */
export interface PartRead {
  tensor: string;
  c0: number;
  c1: number;
}

/** Where a loaded value comes from: tensor channel at a position offset (outside the tensor: `pad`). */
export interface LoadSource {
  tensor: string;
  channel: number;
  /** iy = oy*sy + dy, ix = ox*sx + dx */
  sy: number;
  sx: number;
  dy: number;
  dx: number;
  pad: number;
}

/**
 * Spare array buffers by byte length: what growing program arrays gave up, and the storage of
 * programs whose owner recycled them (UnitProgram.recycle). A ResNet-18 unit grows ~20 arrays to
 * 10^6-10^7 entries; fresh buffers each time made V8 collect garbage for external-memory pressure
 * over and over. Bounded by SPARE_LIMIT_BYTES: 768 MB keeps the largest units' buffers (interchange
 * off grows arrays of 2^24 entries; fresh ones page-faulted and copied: Grow was 10% of that
 * variant), 8% less time on ResNet-18's deep-unit tasks than 256 MB (A/B), ~300 MB more peak RSS
 * in compare (2.75 GB with two workers).
 */
const spareBuffers = new Map<number, ArrayBuffer[]>();
let spareBytes = 0;
const SPARE_LIMIT_BYTES = 768 * 2 ** 20;

function takeBuffer(bytes: number): ArrayBuffer {
  const b = spareBuffers.get(bytes)?.pop();
  if (!b) return new ArrayBuffer(bytes);
  spareBytes -= bytes;
  return b;
}

function giveBuffer(b: ArrayBuffer): void {
  if (b.byteLength < 4096 || spareBytes + b.byteLength > SPARE_LIMIT_BYTES) return;
  let list = spareBuffers.get(b.byteLength);
  if (!list) spareBuffers.set(b.byteLength, (list = []));
  list.push(b);
  spareBytes += b.byteLength;
}

/** Capacities are powers of two, so spare buffers fit arrays of every element type. */
function capacityFor(n: number, old: number): number {
  let c = Math.max(old * 2, 1024);
  while (c < n) c *= 2;
  return c;
}

/**
 * An Int32Array of n entries on the thread's spare storage (contents undefined: the caller writes
 * every entry it reads), for per-program arrays of the simulators (a step-class index per step:
 * 10^6-10^7 entries on ResNet-18's deep units, whose fresh pages page-faulted per task). Give
 * it back with releaseSpareArray when nothing reads it any more.
 */
export function takeSpareInt32(n: number): Int32Array {
  return new Int32Array(takeBuffer(capacityFor(n, 0) * 4), 0, n);
}

/** Returns an array from takeSpareInt32 (or any array whose storage nothing else views) to the spare storage. */
export function releaseSpareArray(a: Int32Array): void {
  giveBuffer(a.buffer as ArrayBuffer);
}

/**
 * Growing a program array copies what it holds into a buffer of twice the size. The new entries
 * are not zeroed: every entry below the count is written (addValue, step, free) before anything
 * reads it, and nothing reads above the count (finish views the arrays at their counts). The zero
 * fill was about half of the growth's cost, which was ~15% of a ResNet-18 stage-4 task with loop
 * interchange off (profiled; those programs reach 5 x 10^6 steps).
 */
class Grow {
  static i32(a: Int32Array, n: number): Int32Array {
    if (n <= a.length) return a;
    const b = new Int32Array(takeBuffer(capacityFor(n, a.length) * 4));
    b.set(a);
    giveBuffer(a.buffer as ArrayBuffer);
    return b;
  }
  static u8(a: Uint8Array, n: number): Uint8Array {
    if (n <= a.length) return a;
    const b = new Uint8Array(takeBuffer(capacityFor(n, a.length)));
    b.set(a);
    giveBuffer(a.buffer as ArrayBuffer);
    return b;
  }
  static f64(a: Float64Array, n: number): Float64Array {
    if (n <= a.length) return a;
    const b = new Float64Array(takeBuffer(capacityFor(n, a.length) * 8));
    b.set(a);
    giveBuffer(a.buffer as ArrayBuffer);
    return b;
  }
}

/** Counts of a program's values, steps and freed ids (UnitProgram.sizes). */
export interface ProgramSizes {
  values: number;
  steps: number;
  frees: number;
}

export class UnitProgram {
  readonly unit: string;
  // values
  nValues = 0;
  width: Uint8Array = new Uint8Array(256);
  signed: Uint8Array = new Uint8Array(256);
  region: Uint8Array = new Uint8Array(256);
  kind: Uint8Array = new Uint8Array(256);
  /** kind-specific index for the name: node id, channel, ... */
  tag: Int32Array = new Int32Array(256);
  tag2: Int32Array = new Int32Array(256);
  min: Float64Array = new Float64Array(256);
  max: Float64Array = new Float64Array(256);
  cell0: Int32Array = new Int32Array(256);
  reg: Int32Array = new Int32Array(256);
  lane: Int32Array = new Int32Array(256);
  laneBit: Uint8Array = new Uint8Array(256);
  // steps
  nSteps = 0;
  op: Uint8Array = new Uint8Array(1024);
  dst: Int32Array = new Int32Array(1024);
  a: Int32Array = new Int32Array(1024);
  b: Int32Array = new Int32Array(1024);
  /** shift (add/sub/copy), constant (set), weight (mac), table index (load: loads[], threshold: thresholds[]), free: offset into freeList */
  imm: Int32Array = new Int32Array(1024);
  loads: LoadSource[] = [];
  thresholds: Int32Array[] = [];
  freeList: Int32Array = new Int32Array(1024);
  nFree = 0;
  /** Tensor names of stores are in `storeTensor`, channel in b. */
  storeTensor: string[] = [];
  /** Peak live bits / slots (set by lowering). */
  peakTmpBits = 0;
  peakTmpSlots = 0;
  peakInBits = 0;
  /** Tensor that load sources and names refer to. */
  tensorNames: string[] = [];
  /** Parts of the unit (at least one once a step is emitted), see ROLE_COMPUTE. */
  parts: ProgramPart[] = [];
  /**
   * Run-length labels of the steps: segment k covers steps segStart[k] .. segStart[k+1]-1, all of
   * part segPart[k] in role segRole[k].
   */
  segStart: number[] = [];
  segPart: number[] = [];
  segRole: number[] = [];
  private curPart = 0;
  private curRole = ROLE_COMPUTE;

  constructor(
    unit: string,
    /** Cells between consecutive bits of every value (see the class comment). */
    readonly cellStride = 1,
    /**
     * The sizes a like program reached (the same unit compiled for another variant): the arrays
     * start with room for them instead of doubling from a few hundred entries, copying every array
     * ~log2(n) times (ResNet-18 stage-4 programs reach 10^6-10^7 steps and values).
     */
    expected?: ProgramSizes,
  ) {
    this.unit = unit;
    if (expected) {
      // (no-ops where the first arrays already hold them)
      this.growValues(expected.values);
      this.growSteps(expected.steps);
      this.freeList = Grow.i32(this.freeList, expected.frees);
    }
  }

  /** How many values, steps and freed ids the program holds (a like program's `expected`). */
  get sizes(): ProgramSizes {
    return { values: this.nValues, steps: this.nSteps, frees: this.nFree };
  }

  /** Room for n values in every value array (one capacity for all: the growth test reads `width` only). */
  private growValues(n: number): void {
    this.width = Grow.u8(this.width, n);
    this.signed = Grow.u8(this.signed, n);
    this.region = Grow.u8(this.region, n);
    this.kind = Grow.u8(this.kind, n);
    this.tag = Grow.i32(this.tag, n);
    this.tag2 = Grow.i32(this.tag2, n);
    this.min = Grow.f64(this.min, n);
    this.max = Grow.f64(this.max, n);
    this.cell0 = Grow.i32(this.cell0, n);
    this.reg = Grow.i32(this.reg, n);
    this.lane = Grow.i32(this.lane, n);
    this.laneBit = Grow.u8(this.laneBit, n);
  }

  /** Room for n steps in every step array (one capacity for all: the growth test reads `op` only). */
  private growSteps(n: number): void {
    this.op = Grow.u8(this.op, n);
    this.dst = Grow.i32(this.dst, n);
    this.a = Grow.i32(this.a, n);
    this.b = Grow.i32(this.b, n);
    this.imm = Grow.i32(this.imm, n);
  }

  addValue(
    width: number, signed: boolean, region: number, kind: number, tag: number, tag2: number, min: number, max: number, cell0: number, reg: number,
    lane = reg, laneBit = 0,
  ): number {
    const id = this.nValues++;
    if (id >= this.width.length) this.growValues(id + 1);
    this.width[id] = width;
    this.signed[id] = signed ? 1 : 0;
    this.region[id] = region;
    this.kind[id] = kind;
    this.tag[id] = tag;
    this.tag2[id] = tag2;
    this.min[id] = min;
    this.max[id] = max;
    this.cell0[id] = cell0;
    this.reg[id] = reg;
    this.lane[id] = lane;
    this.laneBit[id] = laneBit;
    return id;
  }

  /** Starts a part (conv lowering: per block, term and slice); later steps are its COMPUTE steps. */
  beginPart(block: number, term: number, slice: number, reads?: PartRead[], outputs?: [number, number]): number {
    this.curPart = this.parts.push({ block, term, slice, transferBits: 0, ...(reads ? { reads } : {}), ...(outputs ? { outputs } : {}) }) - 1;
    this.curRole = ROLE_COMPUTE;
    return this.curPart;
  }

  /** The role of the steps emitted from now on (see ROLE_COMPUTE). */
  setRole(role: number): void {
    this.curRole = role;
  }

  /** The current part also reads these channels (a reducer's stored residual input). */
  noteRead(read: PartRead): void {
    (this.parts[this.curPart]!.reads ??= []).push(read);
  }

  /** The current part sends a partial sum of `bits` bits per row to its reducer. */
  noteTransfer(bits: number): void {
    this.parts[this.curPart]!.transferBits += bits;
  }

  step(op: number, dst: number, a: number, b: number, imm: number): void {
    if (this.parts.length === 0) this.parts.push({ block: 0, term: 0, slice: 0, transferBits: 0 });
    const last = this.segStart.length - 1;
    if (last < 0 || this.segPart[last] !== this.curPart || this.segRole[last] !== this.curRole) {
      this.segStart.push(this.nSteps);
      this.segPart.push(this.curPart);
      this.segRole.push(this.curRole);
    }
    const i = this.nSteps++;
    if (i >= this.op.length) this.growSteps(i + 1);
    this.op[i] = op;
    this.dst[i] = dst;
    this.a[i] = a;
    this.b[i] = b;
    this.imm[i] = imm;
  }

  /** Index in `loads` of every source object seen (a source passed again shares its entry). */
  private loadIndex: Map<LoadSource, number> | undefined = new Map();

  /**
   * A load step. Passing the same source object again (the lowering reuses one per input channel
   * and kernel tap) shares its `loads` entry: with loop interchange off every output reloads its
   * whole receptive field, ~10^7 loads per ResNet-18 variant, and an object per load was most of
   * the lowering's garbage.
   */
  load(dst: number, src: LoadSource): void {
    const index = this.loadIndex!;
    let k = index.get(src);
    if (k === undefined) {
      k = this.loads.push(src) - 1;
      index.set(src, k);
    }
    this.step(OP_LOAD, dst, -1, -1, k);
  }

  store(src: number, tensor: string, channel: number): void {
    this.storeTensor.push(tensor);
    this.step(OP_STORE, -1, src, channel, this.storeTensor.length - 1);
  }

  threshold(dst: number, src: number, t: Int32Array): void {
    this.thresholds.push(t);
    this.step(OP_THRESHOLD, dst, src, -1, this.thresholds.length - 1);
  }

  free(ids: readonly number[]): void {
    if (!ids.length) return;
    this.freeList = Grow.i32(this.freeList, this.nFree + ids.length);
    this.freeList.set(ids, this.nFree);
    this.step(OP_FREE, -1, ids.length, -1, this.nFree);
    this.nFree += ids.length;
  }

  /** free([id]) without the array (a temporary dies at nearly every step of a DAG). */
  freeOne(id: number): void {
    this.freeList = Grow.i32(this.freeList, this.nFree + 1);
    this.freeList[this.nFree] = id;
    this.step(OP_FREE, -1, 1, -1, this.nFree);
    this.nFree++;
  }

  /** The ids freed by free step i. */
  freed(i: number): Int32Array {
    return this.freeList.subarray(this.imm[i]!, this.imm[i]! + this.a[i]!);
  }

  /**
   * Views the arrays at their size (no copy: copying ~20 arrays of 10^6-10^7 entries per unit was
   * ~6% of an SRAM-AP compile, plus the garbage collections the new buffers triggered; the growth
   * slack, under 2x, stays allocated while the program lives).
   */
  finish(): this {
    this.width = this.width.subarray(0, this.nValues);
    this.signed = this.signed.subarray(0, this.nValues);
    this.region = this.region.subarray(0, this.nValues);
    this.kind = this.kind.subarray(0, this.nValues);
    this.tag = this.tag.subarray(0, this.nValues);
    this.tag2 = this.tag2.subarray(0, this.nValues);
    this.min = this.min.subarray(0, this.nValues);
    this.max = this.max.subarray(0, this.nValues);
    this.cell0 = this.cell0.subarray(0, this.nValues);
    this.reg = this.reg.subarray(0, this.nValues);
    this.lane = this.lane.subarray(0, this.nValues);
    this.laneBit = this.laneBit.subarray(0, this.nValues);
    this.op = this.op.subarray(0, this.nSteps);
    this.dst = this.dst.subarray(0, this.nSteps);
    this.a = this.a.subarray(0, this.nSteps);
    this.b = this.b.subarray(0, this.nSteps);
    this.imm = this.imm.subarray(0, this.nSteps);
    this.freeList = this.freeList.subarray(0, this.nFree);
    this.loadIndex = undefined;
    return this;
  }

  /**
   * Gives the program's array storage to the next programs of this thread. The caller promises
   * that nothing reads this program (or an array taken from it) again; it is left empty.
   */
  recycle(): void {
    const arrays = [
      this.width, this.signed, this.region, this.kind, this.tag, this.tag2, this.min, this.max, this.cell0, this.reg, this.lane, this.laneBit,
      this.op, this.dst, this.a, this.b, this.imm, this.freeList,
    ];
    const seen = new Set<ArrayBufferLike>();
    for (const x of arrays) {
      if (seen.has(x.buffer)) continue;
      seen.add(x.buffer);
      giveBuffer(x.buffer as ArrayBuffer);
    }
    this.width = this.signed = this.region = this.kind = this.laneBit = this.op = new Uint8Array(0);
    this.tag = this.tag2 = this.cell0 = this.reg = this.lane = this.dst = this.a = this.b = this.imm = this.freeList = new Int32Array(0);
    this.min = this.max = new Float64Array(0);
    this.nValues = this.nSteps = this.nFree = 0;
    this.segStart = [];
    this.segPart = [];
    this.segRole = [];
  }

  /** The value's cells (bit i at cell0 + i x cellStride). */
  cells(id: number): number[] {
    const c = this.cell0[id]!, w = this.width[id]!, s = this.cellStride;
    return Array.from({ length: w }, (_, i) => c + i * s);
  }

  name(id: number): string {
    const t = this.tag[id]!, t2 = this.tag2[id]!;
    switch (this.kind[id]) {
      case VK_IN:
        return `x${t}.${t2}`;
      case VK_NODE:
        return `n${t}`;
      case VK_ACC:
        return `acc${t2}[${t}]`;
      case VK_COMB:
        return `v[${t}]`;
      case VK_CODE:
        return `y[${t}]`;
      case VK_STAGED:
        return `s${id}`;
      case VK_CONST:
        return `k[${t}]`;
      case VK_LOADTMP:
        return `r[${t}]`;
      case VK_MAC:
        return `mac[${t}]`;
      default:
        return `v${id}`;
    }
  }

  /** Count of compute (macro-op) steps. */
  computeSteps(): number {
    let n = 0;
    for (let i = 0; i < this.nSteps; i++) {
      const o = this.op[i]!;
      if (o !== OP_LOAD && o !== OP_STORE && o !== OP_FREE) n++;
    }
    return n;
  }
}

/** Text dump of a program, one step per line. */
export function formatProgram(p: UnitProgram, maxSteps = 200): string {
  const v = (id: number): string => `${p.name(id)}:${p.signed[id] ? "s" : "u"}${p.width[id]}`;
  const lines: string[] = [];
  const n = Math.min(p.nSteps, maxSteps);
  for (let i = 0; i < n; i++) {
    const d = p.dst[i]!, a = p.a[i]!, b = p.b[i]!, imm = p.imm[i]!;
    switch (p.op[i]) {
      case OP_LOAD: {
        const s = p.loads[imm]!;
        const off = (k: number): string => (k >= 0 ? `+${k}` : `${k}`);
        lines.push(`load   ${v(d)} <- ${s.tensor}[c${s.channel}] at (${s.sy}y${off(s.dy)}, ${s.sx}x${off(s.dx)})${s.pad ? ` pad ${s.pad}` : ""}`);
        break;
      }
      case OP_STORE:
        lines.push(`store  ${v(a)} -> ${p.storeTensor[imm]}[c${b}]`);
        break;
      case OP_ADDOUT:
        lines.push(`addOut ${v(d)} <- ${v(a)} + ${v(b)}`);
        break;
      case OP_SUBOUT:
        lines.push(`subOut ${v(d)} <- ${v(a)} - ${v(b)}`);
        break;
      case OP_ADD:
        lines.push(`add    ${v(d)} += ${v(a)}${imm ? ` << ${imm}` : ""}`);
        break;
      case OP_SUB:
        lines.push(`sub    ${v(d)} -= ${v(a)}${imm ? ` << ${imm}` : ""}`);
        break;
      case OP_COPY:
        lines.push(`copy   ${v(d)} <- ${v(a)}${imm ? ` << ${imm}` : ""}`);
        break;
      case OP_NEGATE:
        lines.push(`negate ${v(d)} <- -${v(a)}`);
        break;
      case OP_THRESHOLD:
        lines.push(`thresh ${v(d)} <- #{t : ${v(a)} >= t}, t = [${Array.from(p.thresholds[imm]!).join(",")}]`);
        break;
      case OP_SET:
        lines.push(`set    ${v(d)} <- ${imm}`);
        break;
      case OP_MAX:
        lines.push(`max    ${v(d)} <- max(${v(d)}, ${v(a)})`);
        break;
      case OP_MAC:
        lines.push(`mac    ${v(d)} += w(${imm}) * ${v(a)}`);
        break;
      case OP_FREE:
        lines.push(`free   ${Array.from(p.freed(i), v).join(" ")}`);
        break;
    }
  }
  if (p.nSteps > maxSteps) lines.push(`... ${p.nSteps - maxSteps} more steps`);
  return lines.join("\n");
}

/**
 * Bit-level AP simulator throughput on one core: compares and writes on a 4096-row RTM array
 * (row-bit-operations per second: rows x key or write bits per micro-op), and a full 16-bit
 * in-place add over 4096 rows (63 compare/write passes + 16 shifts). Optional: `--rows N`.
 */
import { ApArray } from "../src/ap/array.js";
import { loadArch } from "../src/ap/config.js";
import { ApGeometry } from "../src/ap/geometry.js";
import { expandMacro } from "../src/ap/macro.js";
import { Rng } from "../src/util/random.js";
import type { BenchArgs, Figures } from "./harness.js";

export const description = "AP bit-level simulator: compare/write row-bit-ops per second and a 16-bit in-place add over 4096 rows";

function argValue(argv: string[], name: string, def: number): number {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : def;
}

/** Runs fn repeatedly for at least `minMs`, returns seconds per call (after a warm-up). */
function timeIt(fn: () => void, minMs = 300): { perCall: number; calls: number } {
  for (let i = 0; i < 50; i++) fn();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    for (let i = 0; i < 100; i++) fn();
    calls += 100;
    t = performance.now();
  }
  return { perCall: (t - t0) / 1000 / calls, calls };
}

export async function run(args: BenchArgs): Promise<Figures> {
  const rows = argValue(args.argv, "--rows", 4096);
  const arch = loadArch("rtm-ap");
  const geom = new ApGeometry(arch.array).withRows(rows);
  const array = new ApArray(geom, arch.timing);
  const rng = new Rng(1);
  for (let i = 0; i < array.state.length; i++) array.state[i] = rng.nextU32();

  // Compare: 3 key bits (e.g. A, B, carry of an add pass).
  const keyCols = [geom.trackColumn(0, 0), geom.trackColumn(1, 0), geom.trackColumn(2, 1)];
  const keyBits = [1, 0, 1];
  const cmp = timeIt(() => array.compare(keyCols, keyBits, "set"));
  const compareRate = (rows * keyCols.length) / cmp.perCall;
  args.log(`compare (3 key bits, ${rows} rows): ${(cmp.perCall * 1e6).toFixed(2)} us -> ${(compareRate / 1e9).toFixed(1)} G row-bit-ops/s`);

  // Write: 2 columns into the tagged rows (about 1/8 of them after the compare above).
  const wrCols = [geom.trackColumn(3, 0), geom.flagColumn(0)];
  let flip = 0;
  const wr = timeIt(() => {
    array.write(wrCols, [flip, 1 - flip]);
    flip ^= 1;
  });
  const writeRate = (rows * wrCols.length) / wr.perCall;
  args.log(`write (2 columns, ${rows} rows): ${(wr.perCall * 1e6).toFixed(2)} us -> ${(writeRate / 1e9).toFixed(1)} G row-bit-ops/s`);
  const rowBitOps = (rows * (keyCols.length + wrCols.length)) / (cmp.perCall + wr.perCall);

  // 16-bit in-place add, operands along tracks of one shift group (the RTM layout).
  const dst = geom.alongTrack("acc", 4, 0, 16, true);
  const src = geom.alongTrack("x", 5, 0, 16, true);
  const plan = expandMacro({ kind: "add", dst, src }, geom);
  const addArray = new ApArray(geom, arch.timing);
  addArray.setValue(src, Int32Array.from({ length: rows }, () => rng.int(-30000, 30000)));
  const add = timeIt(() => addArray.run(plan.micro), 500);
  const ev = plan.staticEvents(arch.timing);
  args.log(
    `16-bit add over ${rows} rows: ${(add.perCall * 1e6).toFixed(1)} us (${plan.micro.length} micro-ops: ` +
      `${ev.searches} compares, ${ev.writes} writes, ${ev.shifts} shifts; ${ev.cycles} AP cycles = ` +
      `${((ev.cycles / arch.timing.clockMHz) * 1e3).toFixed(0)} ns on the modelled RTM-AP)`,
  );

  return {
    rows,
    row_bit_ops_per_s: Math.round(rowBitOps),
    compare_row_bit_ops_per_s: Math.round(compareRate),
    write_row_bit_ops_per_s: Math.round(writeRate),
    add16_seconds: Number(add.perCall.toPrecision(4)),
    add16_micro_ops: plan.micro.length,
    add16_ap_cycles: ev.cycles,
  };
}

/**
 * Macro-op arithmetic on the bit-level simulator, checked against integer arithmetic on every
 * operand combination at widths 1..6 and on random 16-bit operands, in every placement (RTM
 * aligned along tracks at either port, RTM split across shift groups, RTM across tracks, SRAM).
 * checkMacro also checks that the counted events equal the plan's static events plus the
 * closed-form written cells, that flags end at 0 and groups at home, and that sources are intact.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApGeometry } from "../../src/ap/geometry.js";
import { expandMacro, geConst, planThresholds, type DstInit, type MacroOp } from "../../src/ap/macro.js";
import { shl, slice, type ApValue } from "../../src/ap/value.js";
import { RtapError } from "../../src/errors.js";
import { lowerBitsLess } from "../../src/ap/semantics.js";
import { Rng } from "../../src/util/random.js";
import { checkMacro, geometryFor, LAYOUTS, pairs, place, range, RTM, wrap, type Layout } from "./helpers.js";

const SIGNS = [false, true];
const INITS: DstInit[] = ["zero", "any"];

/** Old destination contents for dstInit "any": arbitrary but deterministic. */
function garbage(rows: number, width: number, signed: boolean): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = wrap(r * 2654435761, width, signed);
  return out;
}

test("add and sub in place: every operand pair, widths 1..6, narrower and shifted sources, signed and unsigned", () => {
  for (const layout of LAYOUTS) {
    for (let wd = 1; wd <= 6; wd++) {
      for (let ws = 1; ws <= wd; ws++) {
        for (let s = 0; s <= Math.min(2, wd - 1); s++) {
          for (const sd of SIGNS) {
            for (const ss of SIGNS) {
              const [dv, sv] = pairs(range(wd, sd), range(ws, ss));
              const geom = geometryFor(layout, dv.length);
              const dst = place(geom, layout, 0, wd, sd, "acc");
              const src = place(geom, layout, 1, ws, ss, "x", s);
              for (const kind of ["add", "sub"] as const) {
                const want = dv.map((d, r) => wrap(kind === "add" ? d + sv[r]! * 2 ** s : d - sv[r]! * 2 ** s, wd, sd));
                checkMacro(
                  layout,
                  geom,
                  { kind, dst, src: shl(src, s) },
                  [
                    { value: dst, data: dv, as: "dst" },
                    { value: src, data: sv, as: "src" },
                  ],
                  want,
                  `${layout} ${kind} dst${sd ? "s" : "u"}${wd} += ${ss ? "s" : "u"}${ws}<<${s}`,
                );
              }
            }
          }
        }
      }
    }
  }
});

test("out-of-place add and sub: every operand pair, widths 1..6, mixed widths and signs, zeroed or dirty destination", () => {
  for (const layout of LAYOUTS) {
    for (let wd = 1; wd <= 6; wd++) {
      for (let wa = 1; wa <= wd; wa++) {
        for (let wb = 1; wb <= wd; wb += wd > 3 ? 2 : 1) {
          for (const [sa, sb] of [[false, false], [true, true], [true, false]] as const) {
            const sd = sa || sb;
            const shiftB = wb < wd ? 1 : 0;
            const [av, bv] = pairs(range(wa, sa), range(wb, sb));
            const geom = geometryFor(layout, av.length);
            const dst = place(geom, layout, 0, wd, sd, "r");
            const a = place(geom, layout, 1, wa, sa, "a");
            const b = place(geom, layout, 2, wb, sb, "b", shiftB);
            for (const kind of ["addOut", "subOut"] as const) {
              for (const dstInit of INITS) {
                const old = dstInit === "zero" ? new Int32Array(av.length) : garbage(av.length, wd, sd);
                const want = av.map((x, r) =>
                  wrap(kind === "addOut" ? x + bv[r]! * 2 ** shiftB : x - bv[r]! * 2 ** shiftB, wd, sd),
                );
                checkMacro(
                  layout,
                  geom,
                  { kind, dst, a, b: shl(b, shiftB), dstInit },
                  [
                    { value: dst, data: old, as: "dst" },
                    { value: a, data: av, as: "a" },
                    { value: b, data: bv, as: "b" },
                  ],
                  want,
                  `${layout} ${kind} ${wd} <- ${wa}${sa ? "s" : "u"} op ${wb}${sb ? "s" : "u"}<<${shiftB} (${dstInit})`,
                );
              }
            }
          }
        }
      }
    }
  }
});

test("negation out of place and in place, copy with extension/truncation/shift, and in-place width extension", () => {
  for (const layout of LAYOUTS) {
    for (let wd = 1; wd <= 6; wd++) {
      for (let ws = 1; ws <= 6; ws++) {
        for (const ss of SIGNS) {
          const sd = true;
          const sv = Int32Array.from(range(ws, ss));
          const geom = geometryFor(layout, sv.length);
          const dst = place(geom, layout, 0, wd, sd, "r");
          const src = place(geom, layout, 1, ws, ss, "x");
          for (const dstInit of INITS) {
            const old = dstInit === "zero" ? new Int32Array(sv.length) : garbage(sv.length, wd, sd);
            const inputs = [
              { value: dst, data: old, as: "dst" as const },
              { value: src, data: sv, as: "src" as const },
            ];
            if (ws <= wd)
              checkMacro(layout, geom, { kind: "negate", dst, src, dstInit }, inputs, sv.map((x) => wrap(-x, wd, sd)), `${layout} neg ${wd} <- ${ws}`);
            for (const shift of [0, 1]) {
              const srcS = shift === 0 ? src : place(geom, layout, 1, ws, ss, "x", shift);
              const want = sv.map((x) => wrap(x * 2 ** shift, wd, sd));
              checkMacro(layout, geom, { kind: "copy", dst, src: shl(srcS, shift), dstInit }, [inputs[0]!, { value: srcS, data: sv, as: "src" }], want, `${layout} copy ${wd} <- ${ws}<<${shift} ${dstInit}`);
            }
          }
        }
      }
      for (const sd of SIGNS) {
        const dv = Int32Array.from(range(wd, sd));
        const geom = geometryFor(layout, dv.length);
        const x = place(geom, layout, 0, wd, sd, "x");
        checkMacro(layout, geom, { kind: "negate", dst: x, src: x }, [{ value: x, data: dv, as: "dst" }], dv.map((v) => wrap(-v, wd, sd)), `${layout} neg in place ${wd}`);
      }
    }
    // In-place extension: copy the low w bits of a 6-bit value onto the whole value.
    for (let w = 1; w <= 5; w++) {
      for (const signed of SIGNS) {
        const low = Int32Array.from(range(w, signed));
        const geom = geometryFor(layout, low.length);
        const wide = place(geom, layout, 0, 6, signed, "wide");
        const narrow = slice(wide, 0, w, signed);
        // The high bits hold garbage before the extension.
        const old = low.map((v, r) => wrap(v + ((r * 5) % 7) * 2 ** w, 6, signed));
        checkMacro(layout, geom, { kind: "copy", dst: wide, src: narrow }, [
          { value: wide, data: old, as: "dst" },
          { value: narrow, data: low, as: "src" },
        ], low, `${layout} extend ${w}->6 ${signed ? "signed" : "unsigned"}`);
      }
    }
  }
});

test("add a constant and set a constant: every constant in [-2^w, 2^w) on every value, widths 1..6", () => {
  for (const layout of LAYOUTS) {
    for (let wd = 1; wd <= 6; wd++) {
      for (const sd of SIGNS) {
        const ks = range(wd + 1, true);
        const dvals = range(wd, sd);
        const [dv, kv] = pairs(dvals, ks);
        const geom = geometryFor(layout, dvals.length);
        const dst = place(geom, layout, 0, wd, sd, "acc");
        for (let ki = 0; ki < ks.length; ki++) {
          const k = ks[ki]!;
          const rowsD = dv.slice(ki * dvals.length, (ki + 1) * dvals.length);
          assert.ok(kv.slice(ki * dvals.length, (ki + 1) * dvals.length).every((x) => x === k));
          checkMacro(layout, geom, { kind: "addConst", dst, k }, [{ value: dst, data: rowsD, as: "dst" }], rowsD.map((d) => wrap(d + k, wd, sd)), `${layout} addConst ${wd} ${k}`);
          for (const dstInit of INITS) {
            const old = dstInit === "zero" ? new Int32Array(rowsD.length) : rowsD;
            checkMacro(layout, geom, { kind: "set", dst, k, dstInit }, [{ value: dst, data: old, as: "dst" }], old.map(() => wrap(k, wd, sd)), `${layout} set ${wd} ${k} ${dstInit}`);
          }
        }
      }
    }
  }
});

test("max: every operand pair, widths 1..6, signed and unsigned, narrower sources", () => {
  for (const layout of LAYOUTS) {
    for (let wd = 1; wd <= 6; wd++) {
      for (let ws = 1; ws <= wd; ws++) {
        for (const signed of SIGNS) {
          const [dv, sv] = pairs(range(wd, signed), range(ws, signed));
          const geom = geometryFor(layout, dv.length);
          const dst = place(geom, layout, 0, wd, signed, "m");
          const src = place(geom, layout, 1, ws, signed, "x");
          checkMacro(layout, geom, { kind: "max", dst, src }, [
            { value: dst, data: dv, as: "dst" },
            { value: src, data: sv, as: "src" },
          ], dv.map((d, r) => Math.max(d, sv[r]!)), `${layout} max ${signed ? "s" : "u"}${wd} ${ws}`);
        }
      }
    }
  }
});

/** Scratch cells for threshold flags that stay visible while src shifts. */
function thresholdScratch(layout: Layout, geom: ApGeometry, n: number): number[] | undefined {
  if (n <= geom.flags) return undefined;
  if (layout === "sram") return Array.from({ length: n }, (_, i) => geom.cellOf(200 + i, 0));
  return Array.from({ length: n }, (_, i) => geom.cellOf(40 + i, 0)); // across tracks of group 1, never shifted
}

test("threshold (requantization) and compare-with-constant: every src value, widths 1..6, random threshold sets", () => {
  const rng = new Rng(5);
  for (const layout of ["rtm", "rtm-port1", "rtm-across", "sram"] as const) {
    for (let m = 1; m <= 6; m++) {
      for (const signed of SIGNS) {
        const sv = Int32Array.from(range(m, signed));
        const geom = geometryFor(layout, sv.length);
        const src = place(geom, layout, 1, m, signed, "v");
        const [lo, hi] = [sv[0]!, sv[sv.length - 1]!];
        for (let k = 1; k <= 4; k++) {
          const dst = place(geom, layout, 2, k, false, "code");
          for (let trial = 0; trial < 3; trial++) {
            const L = 2 ** k - 1;
            const ts = Array.from({ length: L }, () => rng.int(lo - 2, hi + 2)).sort((a, b) => a - b);
            const n = planThresholds(src, ts).distinct.length;
            const scratch = thresholdScratch(layout, geom, n);
            for (const dstInit of INITS) {
              const old = dstInit === "zero" ? new Int32Array(sv.length) : garbage(sv.length, k, false);
              const op: MacroOp = { kind: "threshold", dst, src, thresholds: ts, dstInit, ...(scratch ? { scratch } : {}) };
              checkMacro(layout, geom, op, [
                { value: dst, data: old, as: "dst" },
                { value: src, data: sv, as: "src" },
              ], sv.map((v) => ts.filter((t) => v >= t).length), `${layout} threshold ${signed ? "s" : "u"}${m} -> ${k} [${ts}] ${dstInit}`);
            }
          }
        }
        const bit = place(geom, layout, 3, 1, false, "ge");
        for (let t = lo - 1; t <= hi + 1; t++) {
          checkMacro(layout, geom, geConst(bit, src, t), [
            { value: bit, data: garbage(sv.length, 1, false), as: "dst" },
            { value: src, data: sv, as: "src" },
          ], sv.map((v) => (v >= t ? 1 : 0)), `${layout} ge ${m} ${t}`);
        }
      }
    }
  }
});

test("random 16-bit operands (4096 rows) against integer arithmetic, every op, RTM and SRAM", () => {
  const rng = new Rng(16);
  const rows = 4096;
  const rnd = (w: number, signed: boolean): Int32Array =>
    Int32Array.from({ length: rows }, () => (signed ? rng.int(-(2 ** (w - 1)), 2 ** (w - 1) - 1) : rng.int(0, 2 ** w - 1)));
  for (const layout of ["rtm", "rtm-split", "sram"] as const) {
    const geom = geometryFor(layout, rows);
    for (const signed of SIGNS) {
      const d = place(geom, layout, 0, 16, signed, "d");
      const a = place(geom, layout, 1, 16, signed, "a");
      const b = place(geom, layout, 2, 12, signed, "b");
      const b3 = place(geom, layout, 2, 12, signed, "b3", 3);
      const dv = rnd(16, signed);
      const av = rnd(16, signed);
      const bv = rnd(12, signed);
      const inD = { value: d, data: dv, as: "dst" as const };
      const inA = { value: a, data: av, as: "src" as const };
      const inB = { value: b, data: bv, as: "b" as const };
      const w = (x: number): number => wrap(x, 16, signed);
      const tag = `${layout} ${signed ? "signed" : "unsigned"} 16-bit`;
      checkMacro(layout, geom, { kind: "add", dst: d, src: a }, [inD, inA], dv.map((x, r) => w(x + av[r]!)), `${tag} add`);
      checkMacro(layout, geom, { kind: "sub", dst: d, src: b }, [inD, { ...inB, as: "src" }], dv.map((x, r) => w(x - bv[r]!)), `${tag} sub narrow`);
      checkMacro(layout, geom, { kind: "add", dst: d, src: shl(b3, 3) }, [inD, { value: b3, data: bv, as: "src" }], dv.map((x, r) => w(x + bv[r]! * 8)), `${tag} add shifted`);
      checkMacro(layout, geom, { kind: "addOut", dst: d, a, b, dstInit: "any" }, [inD, { ...inA, as: "a" }, inB], av.map((x, r) => w(x + bv[r]!)), `${tag} addOut`);
      checkMacro(layout, geom, { kind: "subOut", dst: d, a, b, dstInit: "any" }, [inD, { ...inA, as: "a" }, inB], av.map((x, r) => w(x - bv[r]!)), `${tag} subOut`);
      checkMacro(layout, geom, { kind: "negate", dst: d, src: a }, [inD, inA], av.map((x) => w(-x)), `${tag} negate`);
      checkMacro(layout, geom, { kind: "negate", dst: d, src: d }, [inD], dv.map((x) => w(-x)), `${tag} negate in place`);
      checkMacro(layout, geom, { kind: "copy", dst: d, src: b }, [inD, { ...inB, as: "src" }], bv.map(w), `${tag} copy`);
      checkMacro(layout, geom, { kind: "addConst", dst: d, k: -12345 }, [inD], dv.map((x) => w(x - 12345)), `${tag} addConst`);
      checkMacro(layout, geom, { kind: "set", dst: d, k: 777 }, [inD], dv.map(() => 777), `${tag} set`);
      checkMacro(layout, geom, { kind: "max", dst: d, src: b }, [inD, { ...inB, as: "src" }], dv.map((x, r) => Math.max(x, bv[r]!)), `${tag} max`);
      const lo = signed ? -30000 : 0;
      const ts = Array.from({ length: 15 }, () => rng.int(lo, 60000 + lo)).sort((x, y) => x - y);
      const code = place(geom, layout, 3, 4, false, "code");
      const scratch = layout === "sram" ? Array.from({ length: 15 }, (_, i) => geom.cellOf(300 + i, 0)) : layout === "rtm" ? Array.from({ length: 15 }, (_, i) => geom.cellOf(40 + i, 0)) : Array.from({ length: 15 }, (_, i) => geom.cellOf(4 + i, 40));
      if (layout !== "rtm-split")
        checkMacro(layout, geom, { kind: "threshold", dst: code, src: d, thresholds: ts, scratch, dstInit: "zero" }, [
          { value: code, data: new Int32Array(rows), as: "dst" },
          { ...inD, as: "src" },
        ], dv.map((x) => ts.filter((t) => x >= t).length), `${tag} threshold`);
    }
  }
});

test("misuse is reported as RtapError naming the op and the value", () => {
  const geom = geometryFor("rtm", 64);
  const d = geom.alongTrack("d", 0, 0, 8, true);
  const x = geom.alongTrack("x", 0, 4, 8, true);
  const y = geom.alongTrack("y", 1, 3, 8, true);
  const u = geom.alongTrack("u", 2, 0, 8, false);
  const err = (op: MacroOp, re: RegExp): void => {
    assert.throws(() => expandMacro(op, geom), (e: unknown) => e instanceof RtapError && re.test(e.message), String(re));
  };
  err({ kind: "add", dst: d, src: x }, /macro-op add \(dst "d"\): source "x" shares cells with the destination/);
  err({ kind: "add", dst: d, src: y }, /cells group 0: t1\.d3, t0\.d0 cannot be under ports at the same time/);
  err({ kind: "max", dst: d, src: u }, /both signed or both unsigned/);
  err({ kind: "threshold", dst: geom.alongTrack("c", 3, 0, 2, false), src: u, thresholds: [5, 3] }, /thresholds must be non-decreasing/);
  err({ kind: "threshold", dst: geom.alongTrack("c", 3, 0, 2, false), src: u, thresholds: [1, 2, 3, 4] }, /code 4 does not fit the 2-bit destination/);
  err({ kind: "threshold", dst: geom.alongTrack("c", 3, 0, 3, false), src: u, thresholds: [1, 2, 3, 4, 5, 6, 7] }, /needs flag 4 .* pass scratch cells/);
  const noFlags = new ApGeometry({ ...RTM.array, flags: 0, rows: 64 });
  assert.throws(() => expandMacro({ kind: "add", dst: noFlags.alongTrack("d", 0, 0, 4, true), src: noFlags.alongTrack("s", 1, 0, 4, true) }, noFlags), /needs flag 0 \(carry\) but the array has 0 flag bits/);
  const inFlag: ApValue = geom.inFlags("f", 0, 2, false);
  err({ kind: "add", dst: d, src: inFlag }, /value "f" occupies scratch cell f0/);
});

test("lowerBitsLess (the step-by-step compare flag in closed form): every pair at widths 1..8, random at 31", () => {
  const byLoop = (x: number, y: number, n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const lm = 2 ** (i + 1);
      if (((x % lm) + lm) % lm < ((y % lm) + lm) % lm) v += 2 ** i;
    }
    return v;
  };
  for (let n = 1; n <= 8; n++)
    for (let x = 0; x < 2 ** n; x++) for (let y = 0; y < 2 ** n; y++) assert.equal(lowerBitsLess(x, y, n), byLoop(x, y, n), `n=${n} x=${x} y=${y}`);
  const rng = new Rng(7);
  for (let k = 0; k < 2000; k++) {
    const x = Math.floor(rng.next() * 2 ** 31), y = Math.floor(rng.next() * 2 ** 31);
    assert.equal(lowerBitsLess(x, y, 31), byLoop(x, y, 31), `x=${x} y=${y}`);
  }
});

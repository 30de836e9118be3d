/**
 * The word-level ("fast") simulator: executes a unit's program with one JS integer per row and
 * value — the same macro-op semantics as the bit-level simulator (results wrap to the destination
 * width in two's complement; narrower operands are sign- or zero-extended; `<< s` operands).
 * Rows are batch x output positions, so a batch of images runs as one SIMD sweep.
 */
import { RtapError } from "../errors.js";
import type { QGraph } from "../quantize/qgraph.js";
import type { PValue, UnitProgram } from "./program.js";

/** Wraps x to `width` bits, two's complement when signed (width <= 31). */
export function wrap(x: number, width: number, signed: boolean): number {
  const s = 32 - width;
  return signed ? (x << s) >> s : (x << s) >>> s;
}

export interface UnitRun {
  /** Per-value data of the last execution (only when keepValues). */
  values?: Map<number, Int32Array>;
}

/** Runs `program` for `batch` images; reads input tensors from env and writes the output tensor. */
export function runUnitFast(q: QGraph, program: UnitProgram, outputName: string, env: Map<string, Int32Array>, batch: number): void {
  const outT = q.tensors.get(outputName)!;
  const [OC, OH, OW] = outT.shape;
  const P = OH * OW;
  const R = batch * P;
  const vals = new Map<number, Int32Array>();
  const out = new Int32Array(batch * OC * P);
  const V = (id: number): Int32Array => {
    const v = vals.get(id);
    if (!v) throw new Error(`fast sim: value ${program.values[id]?.name} used before definition in ${program.unit}`);
    return v;
  };
  const def = (id: number): Int32Array => {
    let v = vals.get(id);
    if (!v) {
      v = new Int32Array(R);
      vals.set(id, v);
    }
    return v;
  };
  const meta = (id: number): PValue => program.values[id]!;
  for (const s of program.steps) {
    switch (s.op) {
      case "load": {
        const src = env.get(s.src.tensor);
        const t = q.tensors.get(s.src.tensor)!;
        if (!src || !t) throw new Error(`fast sim: tensor ${s.src.tensor} not available for ${program.unit}`);
        const [C, H, W] = t.shape;
        const d = def(s.dst);
        const c = s.src.channel;
        for (let n = 0; n < batch; n++) {
          const base = (n * C + c) * H * W;
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * s.src.sy + s.src.dy;
            const rowBase = n * P + oy * OW;
            if (iy < 0 || iy >= H) {
              d.fill(s.src.pad, rowBase, rowBase + OW);
              continue;
            }
            for (let ox = 0; ox < OW; ox++) {
              const ix = ox * s.src.sx + s.src.dx;
              d[rowBase + ox] = ix >= 0 && ix < W ? src[base + iy * W + ix]! : s.src.pad;
            }
          }
        }
        break;
      }
      case "store": {
        const v = V(s.src);
        for (let n = 0; n < batch; n++) out.set(v.subarray(n * P, (n + 1) * P), (n * OC + s.channel) * P);
        break;
      }
      case "addOut":
      case "subOut": {
        const m = meta(s.dst);
        const a = V(s.a), b = V(s.b), d = def(s.dst);
        const sgn = s.op === "addOut" ? 1 : -1;
        for (let r = 0; r < R; r++) d[r] = wrap(a[r]! + sgn * b[r]!, m.width, m.signed);
        break;
      }
      case "add":
      case "sub": {
        const m = meta(s.dst);
        const x = V(s.src), d = V(s.dst);
        const sh = s.shift;
        if (s.op === "add") for (let r = 0; r < R; r++) d[r] = wrap(d[r]! + (x[r]! << sh), m.width, m.signed);
        else for (let r = 0; r < R; r++) d[r] = wrap(d[r]! - (x[r]! << sh), m.width, m.signed);
        break;
      }
      case "copy": {
        const m = meta(s.dst);
        const x = V(s.src), d = def(s.dst);
        for (let r = 0; r < R; r++) d[r] = wrap(x[r]! << s.shift, m.width, m.signed);
        break;
      }
      case "negate": {
        const m = meta(s.dst);
        const x = V(s.src), d = def(s.dst);
        for (let r = 0; r < R; r++) d[r] = wrap(-x[r]!, m.width, m.signed);
        break;
      }
      case "set": {
        const m = meta(s.dst);
        def(s.dst).fill(wrap(s.k, m.width, m.signed));
        break;
      }
      case "max": {
        const x = V(s.src), d = V(s.dst);
        for (let r = 0; r < R; r++) if (x[r]! > d[r]!) d[r] = x[r]!;
        break;
      }
      case "mac": {
        const m = meta(s.dst);
        const x = V(s.src), d = V(s.dst);
        if (s.weight !== 0) for (let r = 0; r < R; r++) d[r] = wrap(d[r]! + s.weight * x[r]!, m.width, m.signed);
        break;
      }
      case "threshold": {
        const x = V(s.src), d = def(s.dst);
        const T = s.thresholds;
        for (let r = 0; r < R; r++) {
          const v = x[r]!;
          let k = 0;
          while (k < T.length && v >= T[k]!) k++;
          d[r] = k;
        }
        break;
      }
      case "free":
        for (const id of s.ids) vals.delete(id);
        break;
    }
  }
  if (vals.size > 0) {
    const leaked = [...vals.keys()].map((id) => program.values[id]!.name).slice(0, 5);
    throw new RtapError(`internal: values never freed in unit ${program.unit}: ${leaked.join(", ")}`);
  }
  env.set(outputName, out);
}

/**
 * Changing one technology number without editing its file: for variants (a 4-bit ADC), sweeps and
 * the sensitivity (tornado) analysis. Paths are dotted, with [i] for list items, e.g.
 * "adc.bits", "prices.search_row_bits", "levels[1].inputDistance", "interconnect.wire.energyPerBitPerMm".
 * The copy records what was changed in the parameter's note, so a report built from it stays honest.
 */
import { RtapError } from "../errors.js";
import { isParam, listParams, type Param } from "./params.js";

function tokens(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split(".")) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new RtapError(`bad parameter path "${path}" (use a.b[0].c)`);
    out.push(m[1] as string);
    for (const idx of (m[2] ?? "").matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** The Param at `path` inside a technology (throws an RtapError naming the path when absent). */
export function getParam(tech: object, path: string): Param {
  let cur: unknown = tech;
  for (const tk of tokens(path)) {
    if (cur === null || typeof cur !== "object") break;
    cur = (cur as Record<string | number, unknown>)[tk];
  }
  if (!isParam(cur)) {
    const known = listParams(tech)
      .map((p) => p.path)
      .slice(0, 12)
      .join(", ");
    throw new RtapError(`no technology parameter at "${path}" (some that exist: ${known}, ...)`);
  }
  return cur;
}

/** A deep copy of `tech` with the parameter at `path` set to `value` (SI units). */
export function withParam<T extends object>(tech: T, path: string, value: number, why = "override"): T {
  const copy = structuredClone(tech);
  const p = getParam(copy, path);
  p.note = `${why}: ${p.value} -> ${value} ${p.unit}${p.note ? `; was: ${p.note}` : ""}`;
  p.value = value;
  return copy;
}

/** A deep copy of `tech` with the parameter at `path` multiplied by `factor`. */
export function scaleParam<T extends object>(tech: T, path: string, factor: number): T {
  const p = getParam(tech, path);
  return withParam(tech, path, p.value * factor, `scaled x${factor}`);
}

/** Applies several multipliers at once: { "search.energyPerBit": 2, ... }. */
export function scaleParams<T extends object>(tech: T, factors: Readonly<Record<string, number>>): T {
  let out = tech;
  for (const [path, f] of Object.entries(factors)) if (f !== 1) out = scaleParam(out, path, f);
  return out;
}

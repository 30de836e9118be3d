/**
 * A technology-file number and its provenance. In the YAML every number is written as
 *   { value: 1.67, unit: pJ, node: 32, source: "ISAAC ADC via Accelergy isaac.py" }
 * or, when no source exists, `assumption: true` with a `note` saying why the value was chosen.
 * The loader keeps that record beside the SI value, so a report can say where each number came
 * from and a sensitivity sweep knows which numbers are assumptions.
 */
import * as z from "zod";
import { RtapError } from "../errors.js";
import { UNITS, SI_UNIT, toSI, unitsOf, type Dimension } from "./units.js";
import { nodeFactor, scalingKindOf } from "./scaling.js";

/** A number as written in a technology file (validated, not yet converted). */
export interface RawParam {
  value: number;
  unit: string;
  /** Paper / tool / repository (with page, table or file) the number comes from. */
  source?: string | undefined;
  /** True when no source gives the number; `note` must then say how it was chosen. */
  assumption?: true | undefined;
  /** Technology node (nm) of the source number; scaled to the file's node by the documented rule. */
  node?: number | undefined;
  /** Derivation, caveat or reasoning. */
  note?: string | undefined;
}

/** A number after loading: SI value plus everything needed to cite it. */
export interface Param {
  /** SI value (J, W, s, m, m^2, J/bit/m, count or ratio), after node scaling. */
  value: number;
  /** SI unit of `value`. */
  unit: string;
  dimension: Dimension;
  /** The number exactly as written in the file. */
  given: { value: number; unit: string };
  source: string | undefined;
  assumption: boolean;
  note: string | undefined;
  /** Present when the number was converted from another node. */
  scaled: { fromNode: number; toNode: number; factor: number; kind: "energy" | "area" } | undefined;
}

/** Maps a raw (parsed YAML) structure to the same structure with every RawParam resolved. */
export type Resolved<T> = T extends RawParam
  ? Param
  : T extends readonly (infer U)[]
    ? Resolved<U>[]
    : T extends object
      ? { [K in keyof T]: Resolved<T[K]> }
      : T;

const UNIT_TO_DIM = new Map<string, Dimension>();
for (const dim of Object.keys(UNITS) as Dimension[]) for (const u of unitsOf(dim)) UNIT_TO_DIM.set(u, dim);

export interface ParamOptions {
  /** Reject zero (for quantities that divide, e.g. a cycle time). */
  positive?: boolean;
  /** Upper bound in the file's own unit is not checked; ratios are bounded to [0, 1] when set. */
  fraction?: boolean;
  /** Whole numbers only (rows, bits). */
  integer?: boolean;
}

/** zod schema of one technology-file number of dimension `dim`. */
export function param(dim: Dimension, opts: ParamOptions = {}) {
  const units = unitsOf(dim) as [string, ...string[]];
  let value = z.number({ error: "expected a number" }).refine(Number.isFinite, "must be finite");
  value = opts.positive
    ? value.refine((v) => v > 0, "must be > 0")
    : value.refine((v) => v >= 0, "must be >= 0 (costs, sizes and rates cannot be negative)");
  if (opts.fraction) value = value.refine((v) => v <= 1, "must be a fraction in [0, 1]");
  if (opts.integer) value = value.refine(Number.isInteger, "must be a whole number");
  return z
    .strictObject({
      value,
      unit: z.enum(units, { error: `unit must be one of ${units.join(", ")} (a ${dim})` }),
      source: z.string().min(1).optional(),
      assumption: z.literal(true, { error: "assumption may only be true (omit it otherwise)" }).optional(),
      node: z.number().int().positive().optional(),
      note: z.string().min(1).optional(),
    })
    .refine((p) => p.source !== undefined || p.assumption === true, {
      message: "every number needs a `source` or `assumption: true` (with a `note` saying why)",
    })
    .refine((p) => p.assumption !== true || p.note !== undefined || p.source !== undefined, {
      message: "an assumption needs a `note` saying how the value was chosen",
    });
}

export function isRawParam(x: unknown): x is RawParam {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as RawParam).value === "number" &&
    typeof (x as RawParam).unit === "string"
  );
}

/**
 * Converts every RawParam inside `raw` to a Param at `fileNode`. `where` names the file for errors;
 * `path` the field.
 */
export function resolveParams<T>(raw: T, fileNode: number, where: string, path = ""): Resolved<T> {
  if (isRawParam(raw)) return resolveOne(raw, fileNode, `${where}: ${path}`) as Resolved<T>;
  if (Array.isArray(raw)) return raw.map((v, i) => resolveParams(v, fileNode, where, `${path}[${i}]`)) as Resolved<T>;
  if (typeof raw === "object" && raw !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) out[k] = resolveParams(v, fileNode, where, path ? `${path}.${k}` : k);
    return out as Resolved<T>;
  }
  return raw as Resolved<T>;
}

function resolveOne(p: RawParam, fileNode: number, where: string): Param {
  const dimension = UNIT_TO_DIM.get(p.unit);
  if (dimension === undefined) throw new Error(`internal: unit ${p.unit} passed validation but is unknown`);
  const si = toSI(p.value, p.unit, dimension) as number;
  let scaled: Param["scaled"];
  let value = si;
  if (p.node !== undefined && p.node !== fileNode) {
    const kind = scalingKindOf(dimension);
    if (kind === undefined) {
      throw new RtapError(
        `node scaling is defined only for energies, powers and areas; a ${dimension} given at ${p.node} nm ` +
          `must be restated at the file's node (${fileNode} nm)`,
        where,
      );
    }
    const factor = nodeFactor(kind, p.node, fileNode, where);
    value = si * factor;
    scaled = { fromNode: p.node, toNode: fileNode, factor, kind };
  }
  return {
    value,
    unit: SI_UNIT[dimension],
    dimension,
    given: { value: p.value, unit: p.unit },
    source: p.source,
    assumption: p.assumption === true,
    note: p.note,
    scaled,
  };
}

/** Every Param inside a resolved structure, with its dotted path (for listings and sweeps). */
export function listParams(tree: unknown, path = ""): Array<{ path: string; param: Param }> {
  if (isParam(tree)) return [{ path, param: tree }];
  const out: Array<{ path: string; param: Param }> = [];
  if (Array.isArray(tree)) tree.forEach((v, i) => out.push(...listParams(v, `${path}[${i}]`)));
  else if (typeof tree === "object" && tree !== null)
    for (const [k, v] of Object.entries(tree)) out.push(...listParams(v, path ? `${path}.${k}` : k));
  return out;
}

export function isParam(x: unknown): x is Param {
  return isRawParam(x) && typeof (x as Param).dimension === "string" && typeof (x as Param).given === "object";
}

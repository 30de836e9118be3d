/**
 * Technology-node scaling. Numbers in the literature come from many nodes (ISAAC at 32 nm, Eva-CAM
 * runs at 45 nm, CACTI at 22 nm...); rtap compares everything at one node per technology file.
 * The rule: multiply an energy (or power) by the energy factor and an area by the area factor from
 * the source node to the file's node. The factors are Accelergy's implementation of the Stillmaker &
 * Baas (2017) scaling equations (energy as a polynomial in Vdd, default 0.8 V), evaluated by the
 * research notes (../shared/reference/costs.md §5.3, tagged [T]); only the pairs listed there are
 * available, so a conversion outside the table is an error instead of a guess. Delays are not
 * scaled (no sourced factor): a time given at another node must be restated at the file's node.
 */
import { RtapError } from "../errors.js";
import type { Dimension } from "./units.js";

export type ScalingKind = "energy" | "area";

/** `${from}->${to}` -> factor. Source: costs.md §5.3 (Accelergy hwcomponents techscaling.py @e67d7f1). */
export const NODE_SCALING: Record<ScalingKind, Record<string, number>> = {
  energy: {
    "45->32": 0.659,
    "32->22": 0.446,
    "45->22": 0.294,
    "40->22": 0.338,
    "65->22": 0.237,
  },
  area: {
    "45->32": 0.46,
    "32->22": 0.55,
    "45->22": 0.252,
  },
};

/** Which scaling a dimension follows (power scales like energy at a fixed clock). */
export function scalingKindOf(dim: Dimension): ScalingKind | undefined {
  if (dim === "energy" || dim === "power" || dim === "energyPerBitLength") return "energy";
  if (dim === "area") return "area";
  return undefined;
}

/** The factor that converts a quantity of `kind` from `fromNm` to `toNm`; 1 when the nodes match. */
export function nodeFactor(kind: ScalingKind, fromNm: number, toNm: number, where?: string): number {
  if (fromNm === toNm) return 1;
  const f = NODE_SCALING[kind][`${fromNm}->${toNm}`];
  if (f === undefined) {
    const known = Object.keys(NODE_SCALING[kind]).join(", ");
    throw new RtapError(
      `no sourced ${kind} scaling factor from ${fromNm} nm to ${toNm} nm (known: ${known}); ` +
        `give the value at ${toNm} nm with its own source, or add a sourced factor to src/cost/scaling.ts`,
      where,
    );
  }
  return f;
}

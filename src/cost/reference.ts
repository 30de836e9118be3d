/**
 * Published reference rows and the precision every baseline states.
 *
 * A reference row is a published accelerator efficiency (ISAAC 627.5 GOPS/W, PUMA 837 GOPS/W:
 * rtm-energies.md §5) turned into energy per inference the way papers compare: energy = ops /
 * efficiency with ops = 2 x the network's MACs (a multiply and an add). The figure is used as
 * published, at its own precision and node: nothing is modelled or scaled.
 */
import type { CrossbarTechnology, ReferenceTechnology } from "./technology.js";

/** Operations per multiply-accumulate in published GOPS figures. */
export const OPS_PER_MAC = 2;

/** Energy per inference (J) of a published efficiency on a network of `macs` MACs. */
export function referenceEnergyJ(ref: ReferenceTechnology, macs: number): number {
  return (OPS_PER_MAC * macs) / ref.efficiency.value;
}

/**
 * "W2/A4": the stored weight precision of a crossbar file (differential: a sign, given by the
 * column pair, plus the magnitude bits; offset: the stored bits) and the activation precision of the
 * network it runs.
 */
export function crossbarPrecision(t: CrossbarTechnology, activationBits: number): string {
  const w = t.weights.encoding === "differential" ? t.weights.bits.value + 1 : t.weights.bits.value;
  return `W${w}/A${activationBits}`;
}

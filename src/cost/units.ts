/**
 * Physical units of technology-file numbers. A technology file writes every number with the unit
 * its source used (pJ, fJ, um2, ns...); the loader converts it to SI once, so every model works
 * in J, W, s, m, m^2 and never guesses a prefix.
 */

export type Dimension =
  | "energy" // J
  | "power" // W
  | "time" // s
  | "area" // m^2
  | "length" // m
  | "energyPerBitLength" // J per bit per m of wire
  | "energyPerDomain" // J per domain-length of racetrack (a shift drives current through the whole track)
  | "efficiency" // operations per J (published accelerator efficiencies, GOPS/W)
  | "count" // plain number (rows, bits, hops)
  | "ratio"; // dimensionless fraction or factor

/** Multiplier from each accepted unit to the SI unit of its dimension. */
export const UNITS: Record<Dimension, Record<string, number>> = {
  energy: { J: 1, mJ: 1e-3, uJ: 1e-6, nJ: 1e-9, pJ: 1e-12, fJ: 1e-15 },
  power: { W: 1, mW: 1e-3, uW: 1e-6, nW: 1e-9 },
  time: { s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9, ps: 1e-12 },
  area: { m2: 1, mm2: 1e-6, um2: 1e-12 },
  length: { m: 1, mm: 1e-3, um: 1e-6, nm: 1e-9 },
  energyPerBitLength: { "pJ/bit/mm": 1e-12 / 1e-3, "fJ/bit/mm": 1e-15 / 1e-3, "J/bit/m": 1 },
  energyPerDomain: { "J/domain": 1, "pJ/domain": 1e-12, "fJ/domain": 1e-15, "aJ/domain": 1e-18 },
  efficiency: { "ops/J": 1, "GOPS/W": 1e9, "TOPS/W": 1e12 },
  count: { count: 1, bits: 1, rows: 1, cols: 1 },
  ratio: { ratio: 1, "1": 1 },
};

/** The SI unit each dimension is stored in after loading. */
export const SI_UNIT: Record<Dimension, string> = {
  energy: "J",
  power: "W",
  time: "s",
  area: "m2",
  length: "m",
  energyPerBitLength: "J/bit/m",
  energyPerDomain: "J/domain",
  efficiency: "ops/J",
  count: "count",
  ratio: "ratio",
};

export function unitsOf(dim: Dimension): string[] {
  return Object.keys(UNITS[dim]);
}

/** Value in SI units, or undefined when `unit` is not a unit of `dim`. */
export function toSI(value: number, unit: string, dim: Dimension): number | undefined {
  const f = UNITS[dim][unit];
  return f === undefined ? undefined : value * f;
}

/** Human formatting with an engineering prefix: 3.2e-5 J -> "32.0 uJ". */
export function formatSI(value: number, unit: "J" | "W" | "s" | "m2" | "m", digits = 3): string {
  if (unit === "m2") {
    const mm2 = value / 1e-6;
    return mm2 >= 0.01 ? `${mm2.toPrecision(digits)} mm2` : `${(value / 1e-12).toPrecision(digits)} um2`;
  }
  const prefixes: Array<[number, string]> = [
    [1, ""],
    [1e-3, "m"],
    [1e-6, "u"],
    [1e-9, "n"],
    [1e-12, "p"],
    [1e-15, "f"],
  ];
  const a = Math.abs(value);
  if (a === 0) return `0 ${unit}`;
  for (const [f, p] of prefixes) if (a >= f) return `${(value / f).toPrecision(digits)} ${p}${unit}`;
  return `${(value / 1e-15).toPrecision(digits)} f${unit}`;
}

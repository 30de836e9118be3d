/**
 * Number formatting for human output: SI prefixes (energy in J, time in s, area in m²),
 * percentages, counts and ratios. JSON output never goes through these: it carries raw SI numbers
 * (J, s, m²) so no precision is lost.
 */

const PREFIXES: ReadonlyArray<[exp: number, symbol: string]> = [
  [-24, "y"], [-21, "z"], [-18, "a"], [-15, "f"], [-12, "p"], [-9, "n"], [-6, "µ"], [-3, "m"],
  [0, ""], [3, "k"], [6, "M"], [9, "G"], [12, "T"], [15, "P"], [18, "E"],
];

/** `x` rounded to `sig` significant digits, in plain decimal notation (no exponent). */
export function formatSig(x: number, sig = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const rounded = Number(x.toPrecision(sig)); // 9.999 -> 10.0: the magnitude is taken after rounding
  const mag = decimalExponent(rounded);
  const decimals = Math.max(0, sig - 1 - mag);
  return decimals > 20 ? rounded.toExponential(sig - 1) : rounded.toFixed(decimals);
}

/** floor(log10(|x|)) for x != 0, exact (read from the exponential notation, not from Math.log10). */
function decimalExponent(x: number): number {
  return Number(x.toExponential().split("e")[1]);
}

/**
 * `x` with the SI prefix that puts it in [1, 1000), e.g. formatSi(3.2e-9, "J") = "3.20 nJ".
 * Values beyond the prefix table fall back to the nearest end.
 */
export function formatSi(x: number, unit: string, sig = 3): string {
  if (!Number.isFinite(x)) return `${String(x)} ${unit}`;
  if (x === 0) return `0 ${unit}`;
  let exp = Math.floor(decimalExponent(x) / 3) * 3;
  // Rounding can carry into the next prefix (999.96 -> "1000"): re-check after rounding.
  const scaled = Number(formatSig(x / 10 ** exp, sig));
  if (Math.abs(scaled) >= 1000) exp += 3;
  exp = Math.min(18, Math.max(-24, exp));
  const symbol = PREFIXES.find(([e]) => e === exp)![1];
  return `${formatSig(x / 10 ** exp, sig)} ${symbol}${unit}`;
}

/** Energy in joules: "12.3 pJ". */
export function formatEnergy(joules: number, sig = 3): string {
  return formatSi(joules, "J", sig);
}

/** Time in seconds: "4.56 µs". */
export function formatTime(seconds: number, sig = 3): string {
  return formatSi(seconds, "s", sig);
}

/** Power in watts: "1.20 mW". */
export function formatPower(watts: number, sig = 3): string {
  return formatSi(watts, "W", sig);
}

/**
 * Area in m², shown in mm² down to 0.01 mm², then µm², then nm² (prefixes square: 1 mm² =
 * 1e-6 m²), e.g. formatArea(2.5e-6) = "2.50 mm²".
 */
export function formatArea(m2: number, sig = 3): string {
  if (!Number.isFinite(m2)) return `${String(m2)} m²`;
  const a = Math.abs(m2);
  if (a === 0) return "0 mm²";
  if (a >= 1) return `${formatSig(m2, sig)} m²`;
  if (a >= 1e-8) return `${formatSig(m2 * 1e6, sig)} mm²`;
  if (a >= 1e-14) return `${formatSig(m2 * 1e12, sig)} µm²`;
  return `${formatSig(m2 * 1e18, sig)} nm²`;
}

/** A fraction as a percentage: formatPercent(0.0312) = "3.1%". */
export function formatPercent(fraction: number, decimals = 1): string {
  if (!Number.isFinite(fraction)) return String(fraction);
  return `${(fraction * 100).toFixed(decimals)}%`;
}

/** An integer count with thousands separators: "1,234,567". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = Math.round(Math.abs(n)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return n < 0 ? `-${s}` : s;
}

/** A ratio such as a speed-up or efficiency gain: formatRatio(7.5) = "7.50x". */
export function formatRatio(x: number, sig = 3): string {
  return `${formatSig(x, sig)}x`;
}

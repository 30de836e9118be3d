/**
 * Fast seeded standard-normal sampling for the zoo's ~10^8 synthetic weights: the ziggurat method
 * (Marsaglia & Tsang, "The Ziggurat Method for Generating Random Variables", J. Stat. Software 5(8),
 * 2000; 128 layers, r = 3.442619855899, v = 9.91256303526217e-3) on top of `Rng`.
 *
 * One 32-bit draw per sample on the fast path (98.8% of samples): 7 bits pick the layer, 1 bit the
 * sign, 24 bits the position — separate bits, avoiding the index/value correlation of the original
 * code that Doornik (2005, "An Improved Ziggurat Method...") points out. Wedges and the tail
 * (|z| > r, by Marsaglia's 1964 exponential method) use extra uniforms. About 1.5x faster than
 * Box-Muller `Rng.normal()` (no log/sin/cos on the fast path); the rest is `Rng.nextU32()` itself.
 */
import type { Rng } from "../util/random.js";

const LAYERS = 128;
const R = 3.442619855899;
const V = 9.91256303526217e-3;
const TWO_POW_24 = 16777216;

const gauss = (x: number): number => Math.exp(-0.5 * x * x);

/** x[i]: right edge of layer i (x[0] = V/f(R) is the base strip's virtual width), x[128] = 0. */
const X = new Float64Array(LAYERS + 1);
/** f(x[i]). */
const F = new Float64Array(LAYERS + 1);
/** x[i] / 2^24: turns the 24-bit position into a coordinate in [0, x[i]). */
const W = new Float64Array(LAYERS);
X[0] = V / gauss(R);
X[1] = R;
for (let i = 2; i < LAYERS; i++) X[i] = Math.sqrt(-2 * Math.log(V / X[i - 1]! + gauss(X[i - 1]!)));
X[LAYERS] = 0;
for (let i = 0; i <= LAYERS; i++) F[i] = gauss(X[i]!);
for (let i = 0; i < LAYERS; i++) W[i] = X[i]! / TWO_POW_24;

/** Uniform in (0, 1], safe for log. */
function openUniform(rng: Rng): number {
  return (rng.nextU32() + 1) / 4294967296;
}

/** One standard normal sample. */
export function gaussian(rng: Rng): number {
  for (;;) {
    const u = rng.nextU32();
    const i = u & (LAYERS - 1);
    const z = (((u >>> 7) & 0xffffff) + 0.5) * W[i]!;
    const negative = u >>> 31 === 1;
    if (z < X[i + 1]!) return negative ? -z : z;
    if (i === 0) {
      // Tail beyond R: Marsaglia (1964).
      let a: number;
      let b: number;
      do {
        a = -Math.log(openUniform(rng)) / R;
        b = -Math.log(openUniform(rng));
      } while (b + b < a * a);
      return negative ? -(R + a) : R + a;
    }
    // Wedge between f(x[i]) and f(x[i+1]): accept under the curve.
    if (F[i]! + rng.next() * (F[i + 1]! - F[i]!) < gauss(z)) return negative ? -z : z;
  }
}

/** Fills `out` with independent N(0, std²) samples. */
export function fillGaussian(rng: Rng, out: Float32Array, std: number): void {
  for (let k = 0; k < out.length; k++) out[k] = std * gaussian(rng);
}

/**
 * Synthetic inputs for zoo models that have no dataset (e.g. ResNet-18 at 224x224): uniform uint8
 * pixels from a seeded Rng, so every run with the same seed sees the same images.
 */
import { Rng } from "../util/random.js";

/** n images of `shape` ([c, h, w]) as n*c*h*w uniform uint8 pixels, CHW per image. */
export function randomImages(shape: readonly [number, number, number], n: number, seed: number): Uint8Array {
  const size = shape[0] * shape[1] * shape[2];
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(size) || size < 0) {
    throw new RangeError(`randomImages: bad shape [${shape.join(", ")}] or count ${n}`);
  }
  const out = new Uint8Array(n * size);
  const rng = new Rng(seed);
  // One 32-bit draw gives four pixels; the byte order is fixed, so the stream is reproducible.
  let i = 0;
  for (; i + 4 <= out.length; i += 4) {
    const r = rng.nextU32();
    out[i] = r & 0xff;
    out[i + 1] = (r >>> 8) & 0xff;
    out[i + 2] = (r >>> 16) & 0xff;
    out[i + 3] = r >>> 24;
  }
  if (i < out.length) {
    let r = rng.nextU32();
    for (; i < out.length; i++, r >>>= 8) out[i] = r & 0xff;
  }
  return out;
}

/**
 * The CIFAR-10 "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html): each record is
 * 1 label byte followed by 3072 pixel bytes — the 1024 red values, then 1024 green, then 1024
 * blue, each plane a row-major 32x32 image. That is already CHW, so a record's pixels are copied
 * as they are. The official test_batch.bin holds 10,000 records; any positive number is accepted
 * so small hand-made batches work too.
 */
import { RtapError } from "../errors.js";

export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;

/** Class names in label order (batches.meta.txt of the binary version). */
export const CIFAR10_CLASS_NAMES: readonly string[] = [
  "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
];

export interface Cifar10Batch {
  /** n * 3072 pixels, CHW per image. */
  images: Uint8Array;
  labels: Uint8Array;
  classes: number;
}

/** Splits a CIFAR-10 binary batch into pixels and labels; labels must be < `classes`. */
export function parseCifar10Batch(bytes: Uint8Array, file: string, classes: number): Cifar10Batch {
  if (bytes.length === 0) throw new RtapError("empty file, expected CIFAR-10 records of 3073 bytes", file);
  if (bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new RtapError(
      `truncated or not a CIFAR-10 binary batch: ${bytes.length} bytes is not a whole number of ` +
        `${CIFAR10_RECORD_BYTES}-byte records (${whole} records + ${bytes.length - whole * CIFAR10_RECORD_BYTES} bytes)`,
      file,
    );
  }
  const n = bytes.length / CIFAR10_RECORD_BYTES;
  const pixels = CIFAR10_RECORD_BYTES - 1;
  const images = new Uint8Array(n * pixels);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR10_RECORD_BYTES;
    const label = bytes[at]!;
    if (label >= classes) throw new RtapError(`label ${label} of record ${i} is out of range 0..${classes - 1}`, file);
    labels[i] = label;
    images.set(bytes.subarray(at + 1, at + CIFAR10_RECORD_BYTES), i * pixels);
  }
  return { images, labels, classes };
}

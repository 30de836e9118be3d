/** Synthetic dataset files for the eval and CLI tests. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/util/random.js";

/** Writes <dir>/test_batch.bin: n seeded CIFAR-10 records (label i % 10, then 3072 random pixels). */
export function writeCifarBatch(dir: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const bytes = new Uint8Array(n * 3073);
  for (let i = 0; i < n; i++) {
    bytes[i * 3073] = i % 10;
    for (let k = 1; k < 3073; k++) bytes[i * 3073 + k] = rng.int(0, 255);
  }
  writeFileSync(join(dir, "test_batch.bin"), bytes);
}

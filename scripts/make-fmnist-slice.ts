/**
 * Regenerates test/fixtures/fashion-mnist-slice/: the first 256 images and labels of the
 * Fashion-MNIST test set (Debian package dataset-fashion-mnist), as gzipped IDX files, so tests
 * and examples can use `idx:test/fixtures/fashion-mnist-slice` without the package. The output is
 * byte-identical on every run (fixed gzip level, zlib writes mtime 0).
 *
 *   node --import tsx scripts/make-fmnist-slice.ts [count]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadDataset } from "../src/data/dataset.js";
import { encodeIdx, gzipDeterministic } from "../src/data/idx.js";

const count = Number(process.argv[2] ?? 256);
const outDir = join("test", "fixtures", "fashion-mnist-slice");
const ds = loadDataset("fashion-mnist", { limit: count });
const [, h, w] = ds.shape;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "t10k-images-idx3-ubyte.gz"), gzipDeterministic(encodeIdx([ds.count, h, w], ds.images)));
writeFileSync(join(outDir, "t10k-labels-idx1-ubyte.gz"), gzipDeterministic(encodeIdx([ds.count], ds.labels)));
console.log(`wrote ${ds.count} images (${h}x${w}) and labels from ${ds.files.join(", ")} to ${outDir}`);

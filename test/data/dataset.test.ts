import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { RtapError } from "../../src/errors.js";
import {
  FASHION_MNIST_DIR,
  imageAt,
  labelCounts,
  loadDataset,
  parseDatasetSpec,
  type Dataset,
} from "../../src/data/dataset.js";
import { encodeIdx, IDX_IMAGES_MAGIC, parseIdx } from "../../src/data/idx.js";
import { CIFAR10_RECORD_BYTES } from "../../src/data/cifar10.js";
import { repoPath } from "../repo.js";

// Absolute, so the tests do not depend on the working directory.
const FIXTURE = repoPath("test", "fixtures", "fashion-mnist-slice");
const havePackage = existsSync(join(FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz"));
const skipNoPackage = havePackage
  ? false
  : `${FASHION_MNIST_DIR} is absent (install the Debian package dataset-fashion-mnist to run this test)`;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "rtap-data-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A tiny IDX pair: n images of h x w with pixel (i, y, x) = (i*31 + y*7 + x) & 255, labels i % 10. */
function writeIdxPair(dir: string, n: number, h: number, w: number, gz: boolean): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) images[(i * h + y) * w + x] = (i * 31 + y * 7 + x) & 255;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const enc = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
  const sfx = gz ? ".gz" : "";
  writeFileSync(join(dir, `t10k-images-idx3-ubyte${sfx}`), enc(encodeIdx([n, h, w], images)));
  writeFileSync(join(dir, `t10k-labels-idx1-ubyte${sfx}`), enc(encodeIdx([n], labels)));
  return { images, labels };
}

/** Asserts fn throws an RtapError whose message contains every fragment (e.g. the file name). */
function assertRtapError(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RtapError, `expected RtapError, got ${String(err)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    return true;
  });
}

test("the Fashion-MNIST package test set parses: 10,000 1x28x28 images, 1,000 per class", { skip: skipNoPackage }, () => {
  const ds = loadDataset("fashion-mnist");
  assert.equal(ds.count, 10000);
  assert.equal(ds.total, 10000);
  assert.deepEqual(ds.shape, [1, 28, 28]);
  assert.equal(ds.classes, 10);
  assert.equal(ds.images.length, 10000 * 784);
  assert.deepEqual(labelCounts(ds), new Array(10).fill(1000));
  // First labels as in the raw file (od of the gunzipped labels: 9 2 1 1 6 1 4 6 5 7).
  assert.deepEqual([...ds.labels.subarray(0, 10)], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  // Reference values computed with Python's gzip module over the raw file.
  let sum = 0;
  for (const v of ds.images) sum += v;
  assert.equal(sum, 573469082);
  assert.deepEqual(
    [...imageAt(ds, 0).subarray(14 * 28, 15 * 28)],
    [0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0],
  );
  assert.equal(imageAt(ds, 9999)[10 * 28 + 5], 5);
  assert.equal(ds.classNames?.[9], "Ankle boot");
});

test("offset and limit cut a window; limit past the end is clamped", { skip: skipNoPackage }, () => {
  const all = loadDataset("fashion-mnist");
  const win = loadDataset("fashion-mnist", { offset: 9990, limit: 50 });
  assert.equal(win.count, 10);
  assert.equal(win.offset, 9990);
  assert.deepEqual(win.labels, all.labels.subarray(9990));
  assert.deepEqual(imageAt(win, 3), imageAt(all, 9993));
  // Compact copies, not views of the whole file.
  assert.equal(win.images.buffer.byteLength, 10 * 784);
});

test("the committed fixture equals the first 256 images of the package set", { skip: skipNoPackage }, () => {
  const fixture = loadDataset(`idx:${FIXTURE}`);
  const pkg = loadDataset("fashion-mnist", { limit: 256 });
  assert.equal(fixture.count, 256);
  assert.deepEqual(fixture.shape, pkg.shape);
  assert.equal(fixture.classes, 10);
  assert.deepEqual(fixture.labels, pkg.labels);
  assert.deepEqual(fixture.images, pkg.images);
});

test("the fixture alone parses (no package needed)", () => {
  const ds = loadDataset(`idx:${FIXTURE}`);
  assert.equal(ds.count, 256);
  assert.deepEqual(ds.shape, [1, 28, 28]);
  assert.deepEqual([...ds.labels.subarray(0, 10)], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  let sum = 0;
  for (const v of ds.images) sum += v;
  assert.equal(sum, 14981551); // Python reference over the first 256 images of the package file
  assert.equal(ds.classNames, undefined);
  assert.deepEqual(ds.files, [join(FIXTURE, "t10k-images-idx3-ubyte.gz"), join(FIXTURE, "t10k-labels-idx1-ubyte.gz")]);
});

test("idx: reads gzipped and plain IDX files to the same pixels", (t) => {
  for (const gz of [true, false]) {
    const dir = tempDir(t);
    const want = writeIdxPair(dir, 7, 3, 5, gz);
    const ds = loadDataset(`idx:${dir}`, { classes: 10 });
    assert.equal(ds.count, 7);
    assert.deepEqual(ds.shape, [1, 3, 5]);
    assert.deepEqual(ds.images, want.images);
    assert.deepEqual(ds.labels, want.labels);
    assert.deepEqual([...imageAt(ds, 2)], [...want.images.subarray(30, 45)]);
  }
});

test("idx: gzip is detected by magic bytes, not by name; idx: classes default to max label + 1", (t) => {
  const dir = tempDir(t);
  const labels = Uint8Array.from([0, 3, 1]);
  writeFileSync(join(dir, "t10k-images-idx3-ubyte"), gzipSync(encodeIdx([3, 2, 2], new Uint8Array(12).fill(9))));
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), encodeIdx([3], labels));
  const ds = loadDataset(`idx:${dir}`);
  assert.equal(ds.classes, 4);
  assert.deepEqual(labelCounts(ds), [1, 1, 0, 1]);
  assert.deepEqual(ds.images, new Uint8Array(12).fill(9));
});

test("cifar10: a synthetic test_batch.bin parses into CHW planes", (t) => {
  const dir = tempDir(t);
  const n = 3;
  const bytes = new Uint8Array(n * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    const rec = bytes.subarray(i * CIFAR10_RECORD_BYTES, (i + 1) * CIFAR10_RECORD_BYTES);
    rec[0] = 7 - i;
    // Marker pixels at (y=5, x=9): R = 10+i, G = 20+i, B = 30+i; everything else 0.
    rec[1 + 0 * 1024 + 5 * 32 + 9] = 10 + i;
    rec[1 + 1 * 1024 + 5 * 32 + 9] = 20 + i;
    rec[1 + 2 * 1024 + 5 * 32 + 9] = 30 + i;
    rec[1 + 2 * 1024 + 31 * 32 + 31] = 200 + i; // last blue pixel
  }
  writeFileSync(join(dir, "test_batch.bin"), bytes);
  const ds = loadDataset(`cifar10:${dir}`);
  assert.equal(ds.count, 3);
  assert.deepEqual(ds.shape, [3, 32, 32]);
  assert.equal(ds.classes, 10);
  assert.deepEqual([...ds.labels], [7, 6, 5]);
  assert.equal(ds.classNames?.[7], "horse");
  for (let i = 0; i < n; i++) {
    const img = imageAt(ds, i);
    const chw = (c: number, y: number, x: number): number => img[(c * 32 + y) * 32 + x]!;
    assert.equal(chw(0, 5, 9), 10 + i);
    assert.equal(chw(1, 5, 9), 20 + i);
    assert.equal(chw(2, 5, 9), 30 + i);
    assert.equal(chw(2, 31, 31), 200 + i);
    let nonzero = 0;
    for (const v of img) if (v !== 0) nonzero++;
    assert.equal(nonzero, 4);
  }
});

test("cifar10: the official archive's cifar-10-batches-bin/ subfolder is found from its parent", (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "cifar-10-batches-bin"));
  const rec = new Uint8Array(CIFAR10_RECORD_BYTES);
  rec[0] = 3;
  writeFileSync(join(dir, "cifar-10-batches-bin", "test_batch.bin"), rec);
  const ds = loadDataset(`cifar10:${dir}`);
  assert.equal(ds.count, 1);
  assert.equal(ds.labels[0], 3);
});

test("spec errors: unknown spec, empty directory part", () => {
  assertRtapError(() => loadDataset("mnist"), 'dataset "mnist"', "unknown dataset spec", "idx:<dir>");
  assertRtapError(() => loadDataset("imagenet:/x"), "unknown dataset spec");
  assertRtapError(() => loadDataset("idx:"), "needs a directory");
  assert.deepEqual(parseDatasetSpec("cifar10:a:b"), { kind: "cifar10", dir: "a:b" });
});

test("option errors: bad limit, offset, classes; offset past the end", () => {
  assertRtapError(() => loadDataset(`idx:${FIXTURE}`, { limit: 0 }), "limit must be a positive integer");
  assertRtapError(() => loadDataset(`idx:${FIXTURE}`, { limit: 2.5 }), "limit");
  assertRtapError(() => loadDataset(`idx:${FIXTURE}`, { offset: -1 }), "offset must be");
  assertRtapError(() => loadDataset(`idx:${FIXTURE}`, { classes: 0 }), "classes must be");
  assertRtapError(() => loadDataset(`idx:${FIXTURE}`, { offset: 256 }), "offset 256 is past the end", "256 images");
});

test("missing directory and missing files name the path", (t) => {
  const dir = tempDir(t);
  assertRtapError(() => loadDataset(`idx:${join(dir, "nope")}`), join(dir, "nope"), "directory not found");
  assertRtapError(() => loadDataset(`cifar10:${join(dir, "nope")}`), join(dir, "nope"), "directory not found");
  assertRtapError(() => loadDataset(`idx:${dir}`), join(dir, "t10k-images-idx3-ubyte"), "missing file");
  assertRtapError(() => loadDataset(`cifar10:${dir}`), join(dir, "test_batch.bin"), "missing file");
  writeFileSync(join(dir, "t10k-images-idx3-ubyte"), encodeIdx([1, 1, 1], new Uint8Array(1)));
  assertRtapError(() => loadDataset(`idx:${dir}`), join(dir, "t10k-labels-idx1-ubyte"), "missing file");
  const file = join(dir, "plain-file");
  writeFileSync(file, "x");
  assertRtapError(() => loadDataset(`idx:${file}`), file, "not a directory");
});

test("truncated, oversized and corrupt IDX files are RtapErrors naming the file", (t) => {
  const dir = tempDir(t);
  const images = join(dir, "t10k-images-idx3-ubyte");
  writeIdxPair(dir, 4, 2, 2, false);
  const good = encodeIdx([4, 2, 2], new Uint8Array(16));
  // Data cut short, header cut short, magic cut short.
  writeFileSync(images, good.subarray(0, good.length - 1));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "truncated IDX file", "need 32 bytes, the file has 31");
  writeFileSync(images, good.subarray(0, 10));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "truncated IDX file", "header");
  writeFileSync(images, good.subarray(0, 3));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "truncated IDX file");
  // Extra bytes after the data.
  writeFileSync(images, Buffer.concat([good, Buffer.from([1, 2])]));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "2 trailing bytes");
  // A gzip stream cut off mid-way.
  const gz = gzipSync(good);
  writeFileSync(images, gz.subarray(0, gz.length - 6));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "truncated gzip");
  // Empty image set.
  writeFileSync(images, encodeIdx([0, 2, 2], new Uint8Array(0)));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "empty image set");
});

test("bad magic: labels where images belong and vice versa", (t) => {
  const dir = tempDir(t);
  writeIdxPair(dir, 4, 2, 2, false);
  const images = join(dir, "t10k-images-idx3-ubyte");
  const labels = join(dir, "t10k-labels-idx1-ubyte");
  writeFileSync(images, encodeIdx([4], new Uint8Array(4)));
  assertRtapError(() => loadDataset(`idx:${dir}`), images, "bad IDX magic number 0x00000801, expected 0x00000803");
  writeIdxPair(dir, 4, 2, 2, false);
  writeFileSync(labels, encodeIdx([4, 1, 1], new Uint8Array(4)));
  assertRtapError(() => loadDataset(`idx:${dir}`), labels, "bad IDX magic number 0x00000803, expected 0x00000801");
  // A float IDX (type 0x0d) is not unsigned-byte data.
  const f = new Uint8Array(8);
  new DataView(f.buffer).setUint32(0, 0x00000d01);
  assertRtapError(() => parseIdx(f, "x.idx", IDX_IMAGES_MAGIC), "x.idx", "bad IDX magic number 0x00000d01");
});

test("image/label count mismatch and out-of-range labels name the labels file", (t) => {
  const dir = tempDir(t);
  writeIdxPair(dir, 4, 2, 2, false);
  const labels = join(dir, "t10k-labels-idx1-ubyte");
  writeFileSync(labels, encodeIdx([5], new Uint8Array(5)));
  assertRtapError(() => loadDataset(`idx:${dir}`), labels, "count mismatch: 5 labels", "has 4 images");
  writeFileSync(labels, encodeIdx([4], Uint8Array.from([0, 1, 12, 3])));
  assertRtapError(() => loadDataset(`idx:${dir}`, { classes: 10 }), labels, "label 12 of image 2 is out of range 0..9");
});

test("cifar10 errors: truncated batch, empty file, label out of range", (t) => {
  const dir = tempDir(t);
  const file = join(dir, "test_batch.bin");
  writeFileSync(file, new Uint8Array(2 * CIFAR10_RECORD_BYTES - 100));
  assertRtapError(() => loadDataset(`cifar10:${dir}`), file, "truncated or not a CIFAR-10 binary batch", "1 records + 2973 bytes");
  writeFileSync(file, new Uint8Array(0));
  assertRtapError(() => loadDataset(`cifar10:${dir}`), file, "empty file");
  const bad = new Uint8Array(2 * CIFAR10_RECORD_BYTES);
  bad[CIFAR10_RECORD_BYTES] = 10;
  writeFileSync(file, bad);
  assertRtapError(() => loadDataset(`cifar10:${dir}`), file, "label 10 of record 1 is out of range 0..9");
});

test("imageAt rejects indices outside the set (a programming error, not a user error)", () => {
  const ds: Dataset = loadDataset(`idx:${FIXTURE}`, { limit: 2 });
  assert.throws(() => imageAt(ds, 2), RangeError);
  assert.throws(() => imageAt(ds, -1), RangeError);
  assert.equal(imageAt(ds, 1).length, 784);
});

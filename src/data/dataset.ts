/**
 * Labelled image datasets for `rtap eval/run --dataset <spec>`. A Dataset holds raw uint8 pixels
 * in CHW order per image, because that is what every executor consumes: float models take
 * x = pixel / 255, quantized graphs take the uint8 code directly (QGraph "input" op).
 *
 * Specs (see docs/datasets.md):
 *   fashion-mnist   the Fashion-MNIST test set from the Debian package dataset-fashion-mnist
 *   idx:<dir>       an MNIST-style IDX pair t10k-images-idx3-ubyte[.gz] / t10k-labels-idx1-ubyte[.gz]
 *   cifar10:<dir>   the CIFAR-10 binary test batch <dir>/test_batch.bin
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { RtapError } from "../errors.js";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx, readMaybeGzip } from "./idx.js";
import { CIFAR10_CLASS_NAMES, parseCifar10Batch } from "./cifar10.js";

export type ImageShape = [c: number, h: number, w: number];

export interface Dataset {
  /** Human name of the source, e.g. "Fashion-MNIST test set". */
  name: string;
  /** The spec it was loaded from, e.g. "idx:data/mnist". */
  spec: string;
  /** Number of images loaded (after offset/limit). */
  count: number;
  /** [channels, height, width] of every image. */
  shape: ImageShape;
  /** count * c * h * w raw pixels, CHW within each image, images back to back. */
  images: Uint8Array;
  /** count labels, each in 0..classes-1. */
  labels: Uint8Array;
  /** Number of classes (10 for Fashion-MNIST and CIFAR-10; see loadDataset for idx:). */
  classes: number;
  /** Class names when the dataset defines them. */
  classNames: readonly string[] | undefined;
  /** Index in the source file of the first loaded image. */
  offset: number;
  /** Number of images in the source file. */
  total: number;
  /** The files that were read. */
  files: string[];
}

export interface LoadOptions {
  /** Load at most this many images (a positive integer). Default: all after `offset`. */
  limit?: number;
  /** Skip this many images first (default 0). */
  offset?: number;
  /**
   * Expected number of classes; a label outside 0..classes-1 anywhere in the file is an error.
   * Default: 10 for fashion-mnist and cifar10, max label + 1 (over the whole file) for idx:.
   */
  classes?: number;
}

/** Where the Debian package dataset-fashion-mnist installs its files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Class names of Fashion-MNIST, label order (github.com/zalandoresearch/fashion-mnist README). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
];

/** One line per accepted spec form, for help texts and error messages. */
export const DATASET_SPEC_HELP: readonly string[] = [
  "fashion-mnist   Fashion-MNIST test set (Debian package dataset-fashion-mnist)",
  "idx:<dir>       MNIST-style t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz] in <dir>",
  "cifar10:<dir>   CIFAR-10 binary test batch <dir>/test_batch.bin",
];

export type DatasetSpec =
  | { kind: "fashion-mnist"; dir: string }
  | { kind: "idx"; dir: string }
  | { kind: "cifar10"; dir: string };

/** Parses a dataset spec string; an unknown form is an RtapError listing the known ones. */
export function parseDatasetSpec(spec: string): DatasetSpec {
  const where = `dataset "${spec}"`;
  if (spec === "fashion-mnist") return { kind: "fashion-mnist", dir: FASHION_MNIST_DIR };
  const colon = spec.indexOf(":");
  const prefix = colon < 0 ? spec : spec.slice(0, colon);
  if (colon >= 0 && (prefix === "idx" || prefix === "cifar10")) {
    const dir = spec.slice(colon + 1);
    if (dir === "") throw new RtapError(`"${prefix}:" needs a directory, e.g. ${prefix}:path/to/data`, where);
    return { kind: prefix, dir };
  }
  throw new RtapError(`unknown dataset spec; use one of: fashion-mnist, idx:<dir>, cifar10:<dir>`, where);
}

/** Loads a dataset (see the module comment for specs). Every user-caused problem is an RtapError. */
export function loadDataset(spec: string, opts: LoadOptions = {}): Dataset {
  const parsed = parseDatasetSpec(spec);
  checkOptions(opts, spec);
  switch (parsed.kind) {
    case "fashion-mnist": {
      if (!existsSync(parsed.dir)) {
        throw new RtapError(
          `Fashion-MNIST is not installed: ${parsed.dir} does not exist ` +
            `(install the Debian package dataset-fashion-mnist, or use idx:<dir> with the t10k IDX files)`,
          `dataset "${spec}"`,
        );
      }
      const full = loadIdxPair(parsed.dir, opts.classes ?? 10);
      return subset({ ...full, name: "Fashion-MNIST test set", spec, classNames: FASHION_MNIST_CLASS_NAMES }, opts);
    }
    case "idx": {
      const full = loadIdxPair(parsed.dir, opts.classes);
      return subset({ ...full, name: `IDX test set in ${parsed.dir}`, spec, classNames: undefined }, opts);
    }
    case "cifar10": {
      const file = findCifarBatch(parsed.dir);
      const batch = parseCifar10Batch(readMaybeGzip(file), file, opts.classes ?? 10);
      return subset(
        { ...batch, shape: [3, 32, 32], name: "CIFAR-10 test set", spec, classNames: CIFAR10_CLASS_NAMES, files: [file] },
        opts,
      );
    }
  }
}

/** A view of image i (no copy): c*h*w pixels in CHW order. */
export function imageAt(ds: Dataset, i: number): Uint8Array {
  if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new RangeError(`imageAt: index ${i} outside 0..${ds.count - 1}`);
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return ds.images.subarray(i * size, (i + 1) * size);
}

/** How many loaded images carry each label (length `classes`). */
export function labelCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.classes).fill(0);
  for (const l of ds.labels) counts[l]!++;
  return counts;
}

// ---------------------------------------------------------------------------------------------

interface FullSet {
  shape: ImageShape;
  images: Uint8Array;
  labels: Uint8Array;
  classes: number;
  files: string[];
}

const IDX_IMAGE_NAMES = ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"];
const IDX_LABEL_NAMES = ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"];

function loadIdxPair(dir: string, classes: number | undefined): FullSet {
  checkDir(dir);
  const imagesFile = findFile(dir, IDX_IMAGE_NAMES);
  const labelsFile = findFile(dir, IDX_LABEL_NAMES);
  const images = parseIdx(readMaybeGzip(imagesFile), imagesFile, IDX_IMAGES_MAGIC);
  const labels = parseIdx(readMaybeGzip(labelsFile), labelsFile, IDX_LABELS_MAGIC);
  const [n, h, w] = images.dims as [number, number, number];
  if (n === 0 || h === 0 || w === 0) throw new RtapError(`empty image set: dimensions [${images.dims.join(", ")}]`, imagesFile);
  const nLabels = labels.dims[0]!;
  if (nLabels !== n) {
    throw new RtapError(`count mismatch: ${nLabels} labels, but ${imagesFile} has ${n} images`, labelsFile);
  }
  const k = classes ?? maxOf(labels.data) + 1;
  checkLabelRange(labels.data, k, labelsFile);
  return { shape: [1, h, w], images: images.data, labels: labels.data, classes: k, files: [imagesFile, labelsFile] };
}

function findCifarBatch(dir: string): string {
  checkDir(dir);
  // The official archive unpacks into cifar-10-batches-bin/; accept its parent too.
  for (const d of [dir, join(dir, "cifar-10-batches-bin")]) {
    const f = join(d, "test_batch.bin");
    if (existsSync(f)) return f;
  }
  throw new RtapError(`missing file: ${join(dir, "test_batch.bin")} (the CIFAR-10 binary version's test batch)`, dir);
}

function findFile(dir: string, baseNames: readonly string[]): string {
  for (const base of baseNames) {
    // Prefer the uncompressed file when both exist: the user unpacked it on purpose.
    for (const name of [base, `${base}.gz`]) {
      const f = join(dir, name);
      if (existsSync(f)) return f;
    }
  }
  throw new RtapError(`missing file: ${join(dir, baseNames[0]!)}[.gz]`, dir);
}

function checkDir(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new RtapError("dataset directory not found", dir);
  }
  if (!isDir) throw new RtapError("not a directory (a dataset spec names the directory holding the files)", dir);
}

function checkLabelRange(labels: Uint8Array, classes: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) {
      throw new RtapError(`label ${labels[i]} of image ${i} is out of range 0..${classes - 1}`, file);
    }
  }
}

function maxOf(a: Uint8Array): number {
  let m = 0;
  for (const v of a) if (v > m) m = v;
  return m;
}

function checkOptions(opts: LoadOptions, spec: string): void {
  const where = `dataset "${spec}"`;
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit > 0)) {
    throw new RtapError(`limit must be a positive integer, got ${opts.limit}`, where);
  }
  if (opts.offset !== undefined && !(Number.isInteger(opts.offset) && opts.offset >= 0)) {
    throw new RtapError(`offset must be a non-negative integer, got ${opts.offset}`, where);
  }
  if (opts.classes !== undefined && !(Number.isInteger(opts.classes) && opts.classes >= 1 && opts.classes <= 256)) {
    throw new RtapError(`classes must be an integer in 1..256, got ${opts.classes}`, where);
  }
}

type Complete = FullSet & Pick<Dataset, "name" | "spec" | "classNames">;

/** Cuts [offset, offset+limit) out of the full set into compact copies (the file buffer can go). */
function subset(full: Complete, opts: LoadOptions): Dataset {
  const total = full.labels.length;
  const offset = opts.offset ?? 0;
  if (offset >= total) {
    throw new RtapError(`offset ${offset} is past the end: the set has ${total} images`, `dataset "${full.spec}"`);
  }
  const count = Math.min(opts.limit ?? total, total - offset);
  const size = full.shape[0] * full.shape[1] * full.shape[2];
  return {
    name: full.name,
    spec: full.spec,
    count,
    shape: full.shape,
    // new Uint8Array(view) copies; Buffer#slice would return a view of the whole file instead.
    images: new Uint8Array(full.images.subarray(offset * size, (offset + count) * size)),
    labels: new Uint8Array(full.labels.subarray(offset, offset + count)),
    classes: full.classes,
    classNames: full.classNames,
    offset,
    total,
    files: full.files,
  };
}

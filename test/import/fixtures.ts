/**
 * Where the models and datasets of the import/float/quantize/reference/eval tests live, and the
 * skip messages for the ones that are optional. Paths are absolute (resolved from this file), so
 * the tests do not depend on the working directory.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FASHION_MNIST_DIR } from "../../src/data/dataset.js";
import { repoPath } from "../repo.js";

/** Copies of ../shared/models that ship with the repository (fmnist-resnet8 in three encodings). */
export const FIXTURE_MODELS = repoPath("test", "fixtures", "models");
/** ../shared/models next to the checkout; only resnet18-torchvision.onnx is not copied into the fixtures. */
export const SHARED_MODELS = repoPath("..", "shared", "models");

export const FMNIST_ENCODINGS = ["fmnist-resnet8.onnx", "fmnist-resnet8.qdq.onnx", "fmnist-resnet8.bn.onnx"] as const;
export type FmnistEncoding = (typeof FMNIST_ENCODINGS)[number];

export function fixtureModel(file: string): string {
  return join(FIXTURE_MODELS, file);
}

export const RESNET18_TORCHVISION = join(SHARED_MODELS, "resnet18-torchvision.onnx");
/** `false` (run) or the reason to skip, for node:test's `skip` option. */
export const skipNoResnet18: string | false = existsSync(RESNET18_TORCHVISION)
  ? false
  : `${RESNET18_TORCHVISION} is absent (the 46 MB torchvision ResNet-18 lives only in ../shared/models)`;

export const HAVE_FASHION_MNIST = existsSync(join(FASHION_MNIST_DIR, "t10k-images-idx3-ubyte.gz"));
export const skipNoFashionMnist: string | false = HAVE_FASHION_MNIST
  ? false
  : `${FASHION_MNIST_DIR} is absent (install the Debian package dataset-fashion-mnist to run this test)`;

/** The 256-image Fashion-MNIST slice in the repository, as a dataset spec. */
export const FMNIST_SLICE_SPEC = `idx:${repoPath("test", "fixtures", "fashion-mnist-slice")}`;
/** The full test set when installed, else the slice. */
export const FMNIST_SPEC = HAVE_FASHION_MNIST ? "fashion-mnist" : FMNIST_SLICE_SPEC;

/** Public API of the data module: datasets for eval/run and synthetic inputs for zoo models. */
export {
  type Dataset,
  type DatasetSpec,
  type ImageShape,
  type LoadOptions,
  DATASET_SPEC_HELP,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DIR,
  imageAt,
  labelCounts,
  loadDataset,
  parseDatasetSpec,
} from "./dataset.js";
export { CIFAR10_CLASS_NAMES, CIFAR10_RECORD_BYTES } from "./cifar10.js";
export { randomImages } from "./synthetic.js";

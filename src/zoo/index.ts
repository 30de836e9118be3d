/**
 * The built-in model zoo: `zoo:<name>` is usable anywhere a model path is. Each model is built in
 * code as a float graph in the graph IR — what a PyTorch ONNX export of the network in eval mode
 * with batch-norm folded looks like — with seeded synthetic weights: Kaiming-normal floats,
 * TWN-ternarized per output channel and stored as α·t. The quantizer then turns it into a QGraph
 * like any imported model. See docs/zoo.md.
 */
import type { Graph } from "../import/graph.js";
import { RtapError } from "../errors.js";
import { GraphBuilder, type Act, type ZooLayer } from "./builder.js";
import { buildCifarResnet, buildImagenetResnet } from "./resnet.js";
import { buildImagenetVgg, buildVggSmall, VGG11_CONFIG, VGG16_CONFIG } from "./vgg.js";

export type { ZooLayer } from "./builder.js";
export { ternarizeTwn, ternarizeTwnInPlace, type TwnResult, type TwnRowStats } from "./twn.js";

export type ZooDataset = "imagenet" | "cifar10";

export interface ZooInfo {
  name: string;
  dataset: ZooDataset;
  /** [C, H, W] of one image; pixel values are p/255. */
  inputShape: [number, number, number];
  classes: number;
  /** Parameters of the folded graph: every conv/FC weight and bias. */
  params: number;
  /**
   * Parameters of the original network the way PyTorch counts them (torchvision's num_params):
   * batch-norm layers carry 2 parameters per channel (γ, β) and the conv before them no bias;
   * folding replaces those 2·C by a C-long bias, so params = paramsUnfolded − Σ BN channels.
   */
  paramsUnfolded: number;
  /** Multiply-accumulates per image over conv and FC layers (zero weights included). */
  macs: number;
  layers: ZooLayer[];
  /** Fraction of zero ternary weights over all layers (NaN when built without weights). */
  sparsity: number;
  /** Seed the weights came from. */
  seed: number;
  description: string;
  /** Citation of the topology. */
  source: string;
}

export interface ZooOptions {
  /** Seed of the synthetic weights (unsigned 32-bit integer); default 0. */
  seed?: number;
  /**
   * Default true. false builds the topology only: nodes, shapes, dtypes, layer counts, but an
   * empty `constants` map (so nothing is allocated); for counting and inspection, not runnable.
   */
  weights?: boolean;
  /** "seeded" (default): small seeded biases standing for folded batch-norm; "zero": all 0. */
  bias?: "seeded" | "zero";
}

interface ZooEntry {
  dataset: ZooDataset;
  inputShape: [number, number, number];
  classes: number;
  description: string;
  source: string;
  build(b: GraphBuilder, classes: number): Act;
}

const TORCHVISION = "torchvision.models (pytorch.org/vision/stable/models.html)";

const ZOO: Record<string, ZooEntry> = {
  resnet18: {
    dataset: "imagenet",
    inputShape: [3, 224, 224],
    classes: 1000,
    description: "ResNet-18 (ImageNet): 7x7/2 stem, max-pool, BasicBlocks [2,2,2,2] with 64-512 channels, 1x1/2 projection shortcuts, GAP, FC 1000",
    source: `He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv 1512.03385), Table 1; ${TORCHVISION} resnet18`,
    build: (b, classes) => buildImagenetResnet(b, [2, 2, 2, 2], classes),
  },
  resnet34: {
    dataset: "imagenet",
    inputShape: [3, 224, 224],
    classes: 1000,
    description: "ResNet-34 (ImageNet): 7x7/2 stem, max-pool, BasicBlocks [3,4,6,3] with 64-512 channels, 1x1/2 projection shortcuts, GAP, FC 1000",
    source: `He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv 1512.03385), Table 1; ${TORCHVISION} resnet34`,
    build: (b, classes) => buildImagenetResnet(b, [3, 4, 6, 3], classes),
  },
  resnet20: {
    dataset: "cifar10",
    inputShape: [3, 32, 32],
    classes: 10,
    description: "ResNet-20 (CIFAR-10): 3x3 conv 16, 3 stages x 3 BasicBlocks with 16/32/64 channels, option-B 1x1 projection shortcuts, GAP, FC 10",
    source: "He et al., Deep Residual Learning for Image Recognition, CVPR 2016 (arXiv 1512.03385), section 4.2 (n = 3), shortcut option B",
    build: (b, classes) => buildCifarResnet(b, 3, classes),
  },
  vgg11: {
    dataset: "imagenet",
    inputShape: [3, 224, 224],
    classes: 1000,
    description: "VGG-11 (ImageNet, configuration A, no BN): 8 3x3 convs, 5 max-pools, FC 25088-4096-4096-1000",
    source: `Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015 (arXiv 1409.1556), Table 1 config A; ${TORCHVISION} vgg11`,
    build: (b, classes) => buildImagenetVgg(b, VGG11_CONFIG, classes),
  },
  vgg16: {
    dataset: "imagenet",
    inputShape: [3, 224, 224],
    classes: 1000,
    description: "VGG-16 (ImageNet, configuration D, no BN): 13 3x3 convs, 5 max-pools, FC 25088-4096-4096-1000",
    source: `Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015 (arXiv 1409.1556), Table 1 config D; ${TORCHVISION} vgg16`,
    build: (b, classes) => buildImagenetVgg(b, VGG16_CONFIG, classes),
  },
  "vgg-small": {
    dataset: "cifar10",
    inputShape: [3, 32, 32],
    classes: 10,
    description: "VGG-Small (CIFAR-10): conv 128-128, pool, 256-256, pool, 512-512, pool (3x3, BN folded), FC 8192-10",
    source: "Zhang et al., LQ-Nets: Learned Quantization for Highly Accurate and Compact Deep Neural Networks, ECCV 2018; github.com/microsoft/LQ-Nets cifar10-vgg-small.py",
    build: (b, classes) => buildVggSmall(b, classes),
  },
};

const ZOO_PREFIX = "zoo:";

/** Names of the built-in models, in a fixed order. */
export function zooNames(): string[] {
  return Object.keys(ZOO);
}

/** True for a model spec of the form `zoo:<name>` (the name itself is checked by buildZooModel). */
export function isZooSpec(spec: string): boolean {
  return spec.startsWith(ZOO_PREFIX);
}

/** What each model is, without building it (for listings). */
export function zooCatalog(): Pick<ZooInfo, "name" | "dataset" | "inputShape" | "classes" | "description" | "source">[] {
  return zooNames().map((name) => {
    const e = ZOO[name]!;
    return { name, dataset: e.dataset, inputShape: [...e.inputShape], classes: e.classes, description: e.description, source: e.source };
  });
}

function lookup(nameOrSpec: string): [string, ZooEntry] {
  const name = isZooSpec(nameOrSpec) ? nameOrSpec.slice(ZOO_PREFIX.length) : nameOrSpec;
  const entry = Object.hasOwn(ZOO, name) ? ZOO[name] : undefined;
  if (!entry) {
    throw new RtapError(`unknown zoo model "${name}"; available: ${zooNames().map((n) => ZOO_PREFIX + n).join(", ")}`, nameOrSpec);
  }
  return [name, entry];
}

/**
 * Builds a zoo model (`resnet18` or `zoo:resnet18`) as a float graph with seeded TWN weights.
 * Deterministic: the same name and options give bit-identical graphs.
 */
export function buildZooModel(name: string, opts: ZooOptions = {}): { graph: Graph; info: ZooInfo } {
  const [modelName, entry] = lookup(name);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RtapError(`seed must be an integer in [0, 2^32 - 1], got ${seed}`, `zoo:${modelName}`);
  }
  const bias = opts.bias ?? "seeded";
  if (bias !== "seeded" && bias !== "zero") {
    throw new RtapError(`bias must be "seeded" or "zero", got "${String(bias)}"`, `zoo:${modelName}`);
  }
  const weights = opts.weights ?? true;
  const builder = new GraphBuilder(modelName, entry.inputShape, { seed, weights, bias });
  const graph = builder.finish(entry.build(builder, entry.classes));

  const layers = builder.layers;
  let params = 0;
  let paramsUnfolded = 0;
  let macs = 0;
  let weightCount = 0;
  let zeros = 0;
  for (const l of layers) {
    const w = l.params - l.outChannels;
    params += l.params;
    paramsUnfolded += w + (l.foldedBatchNorm ? 2 : 1) * l.outChannels;
    macs += l.macs;
    weightCount += w;
    zeros += Math.round(l.sparsity * w); // sparsity = zeros / w exactly, so this recovers the count
  }
  const info: ZooInfo = {
    name: modelName,
    dataset: entry.dataset,
    inputShape: [...entry.inputShape],
    classes: entry.classes,
    params,
    paramsUnfolded,
    macs,
    layers,
    sparsity: weights ? zeros / weightCount : NaN,
    seed,
    description: entry.description,
    source: entry.source,
  };
  return { graph, info };
}

/**
 * VGG networks.
 *
 * - ImageNet VGG-11 / VGG-16: Simonyan & Zisserman, "Very Deep Convolutional Networks for
 *   Large-Scale Image Recognition", ICLR 2015, arXiv 1409.1556, configurations A and D, as in
 *   torchvision.models.vgg11 / vgg16 (no batch-norm; convs carry their own bias): 3x3 convs pad 1
 *   + ReLU, 2x2/2 max-pools, then flatten 512·7·7 = 25088 -> FC 4096 -> ReLU -> FC 4096 -> ReLU
 *   -> FC 1000. torchvision's AdaptiveAvgPool2d((7, 7)) is an identity at 224x224 and dropout is
 *   an identity in eval mode, so neither appears. Node names follow torchvision's module indices
 *   (features.N, classifier.N), so `features.0.weight` is the state-dict key it stands for.
 * - CIFAR-10 VGG-Small (Zhang et al., LQ-Nets, ECCV 2018; github.com/microsoft/LQ-Nets,
 *   cifar10-vgg-small.py): conv 128, conv 128, max-pool, conv 256, conv 256, max-pool, conv 512,
 *   conv 512, max-pool, flatten 512·4·4 = 8192 -> FC 10; 3x3 convs pad 1 without bias, each
 *   followed by batch-norm + ReLU (folded here). LQ-Nets applies the second conv of each pair as
 *   conv -> max-pool -> BN -> ReLU; this graph uses conv(+BN) -> ReLU -> max-pool, which computes
 *   the same function for positive BN scales (ReLU and a per-channel increasing affine map both
 *   commute with max) and lets the pool run on quantized activation codes.
 */
import type { Act, GraphBuilder } from "./builder.js";

/** Conv widths with "M" for a 2x2/2 max-pool; torchvision's `cfgs`. */
export type VggConfig = readonly (number | "M")[];

export const VGG11_CONFIG: VggConfig = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"];
export const VGG16_CONFIG: VggConfig = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"];

export function buildImagenetVgg(b: GraphBuilder, config: VggConfig, classes: number): Act {
  let x = b.input();
  let index = 0;
  for (const item of config) {
    if (item === "M") {
      x = b.maxPool(`features.${index}`, x, { kernel: 2, stride: 2, pad: 0 });
      index += 1;
    } else {
      x = b.conv(`features.${index}`, x, { out: item, kernel: 3, stride: 1, pad: 1, batchNorm: false });
      x = b.relu(`features.${index + 1}`, x);
      index += 2;
    }
  }
  x = b.flatten("flatten", x);
  x = b.relu("classifier.1", b.gemm("classifier.0", x, 4096));
  x = b.relu("classifier.4", b.gemm("classifier.3", x, 4096));
  return b.gemm("classifier.6", x, classes, "logits");
}

export function buildVggSmall(b: GraphBuilder, classes: number): Act {
  let x = b.input();
  const widths = [128, 128, 256, 256, 512, 512];
  widths.forEach((width, i) => {
    x = b.conv(`conv${i}`, x, { out: width, kernel: 3, stride: 1, pad: 1, batchNorm: true });
    x = b.relu(`relu${i}`, x);
    // LQ-Nets names its pools pool2, pool4, pool6 (after conv1, conv3, conv5).
    if (i % 2 === 1) x = b.maxPool(`pool${i + 1}`, x, { kernel: 2, stride: 2, pad: 0 });
  });
  x = b.flatten("flatten", x);
  return b.gemm("linear", x, classes, "logits");
}

/**
 * Residual networks (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
 * CVPR 2016, arXiv 1512.03385), as exported from PyTorch in eval mode with batch-norm folded into
 * every convolution's bias.
 *
 * - ImageNet ResNet-18/34: torchvision.models.resnet (BasicBlock, layers [2,2,2,2] / [3,4,6,3]):
 *   7x7/2 conv 64 pad 3 -> ReLU -> 3x3/2 max-pool pad 1 -> four stages of BasicBlocks with
 *   64/128/256/512 channels, stride 2 in the first block of stages 2-4 with a 1x1/2 conv
 *   projection shortcut ("downsample") -> global average pool -> flatten -> FC 1000.
 * - CIFAR ResNet-20 (paper section 4.2, n = 3): 3x3 conv 16 -> three stages of n BasicBlocks with
 *   16/32/64 channels on 32x32/16x16/8x8 maps, stride-2 first conv in stages 2-3 -> GAP -> FC 10.
 *   Shortcuts where the shape changes use option B (1x1 conv projection), not the paper's
 *   option A (identity with zero-padded channels): the rest of rtap then sees one kind of residual
 *   block, and the projection adds only 2,560 weights (+0.9%).
 */
import type { Act, GraphBuilder } from "./builder.js";

/**
 * One BasicBlock: conv3x3(stride) -> ReLU -> conv3x3 -> (+ shortcut) -> ReLU. The shortcut is a
 * 1x1 conv with the same stride when the shape changes, the block input otherwise.
 */
function basicBlock(b: GraphBuilder, prefix: string, x: Act, planes: number, stride: number): Act {
  const inPlanes = x.shape[1]!;
  let y = b.conv(`${prefix}.conv1`, x, { out: planes, kernel: 3, stride, pad: 1, batchNorm: true });
  y = b.relu(`${prefix}.relu1`, y);
  y = b.conv(`${prefix}.conv2`, y, { out: planes, kernel: 3, stride: 1, pad: 1, batchNorm: true });
  const shortcut =
    stride !== 1 || inPlanes !== planes
      ? b.conv(`${prefix}.downsample`, x, { out: planes, kernel: 1, stride, pad: 0, batchNorm: true })
      : x;
  return b.relu(`${prefix}.relu2`, b.add(`${prefix}.add`, y, shortcut));
}

function stages(b: GraphBuilder, x: Act, blocks: readonly number[], widths: readonly number[]): Act {
  let y = x;
  blocks.forEach((count, s) => {
    for (let i = 0; i < count; i++) {
      y = basicBlock(b, `layer${s + 1}.${i}`, y, widths[s]!, i === 0 && s > 0 ? 2 : 1);
    }
  });
  return y;
}

function head(b: GraphBuilder, x: Act, classes: number): Act {
  const pooled = b.globalAveragePool("avgpool", x);
  return b.gemm("fc", b.flatten("flatten", pooled), classes, "logits");
}

/** torchvision-style ImageNet ResNet with BasicBlocks; `blocks` per stage, e.g. [2,2,2,2]. */
export function buildImagenetResnet(b: GraphBuilder, blocks: readonly number[], classes: number): Act {
  let x = b.input();
  x = b.conv("conv1", x, { out: 64, kernel: 7, stride: 2, pad: 3, batchNorm: true });
  x = b.relu("relu", x);
  x = b.maxPool("maxpool", x, { kernel: 3, stride: 2, pad: 1 });
  x = stages(b, x, blocks, [64, 128, 256, 512]);
  return head(b, x, classes);
}

/** CIFAR ResNet-(6n+2) of He et al. section 4.2, option-B shortcuts. */
export function buildCifarResnet(b: GraphBuilder, n: number, classes: number): Act {
  let x = b.input();
  x = b.conv("conv1", x, { out: 16, kernel: 3, stride: 1, pad: 1, batchNorm: true });
  x = b.relu("relu", x);
  x = stages(b, x, [n, n, n], [16, 32, 64]);
  return head(b, x, classes);
}

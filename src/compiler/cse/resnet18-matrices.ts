/**
 * Synthetic ResNet-18 layer matrices for CSE experiments: the ImageNet ResNet-18 conv/fc shapes
 * with TWN-ternarized weights (Li et al., "Ternary Weight Networks", 2016: threshold
 * 0.7 * mean|w| per output channel) of seeded Kaiming-normal weights (He et al. 2015, mode
 * fan_out, gain sqrt(2), as torchvision initialises ResNet convs). The threshold is relative, so
 * the ternary pattern does not depend on the std; about 42% of the weights become 0.
 * Inputs are 4-bit unsigned activation codes except the first layer's 8-bit pixels.
 */
import { Rng } from "../../util/random.js";
import type { TernaryMatrix } from "./matrix.js";

export interface LayerShape {
  /** torchvision module name. */
  name: string;
  outChannels: number;
  inChannels: number;
  kernel: [number, number];
  /** Bits of the unsigned input codes. */
  inputBits: number;
}

/**
 * The 21 weight layers of ImageNet ResNet-18 in execution order: conv1 (7x7, 3 -> 64), the 16
 * 3x3 convs of layer1..layer4, the three 1x1 stride-2 downsamples and the 1000-way fc (taken as a
 * 4-bit input like every other layer; a sum-pooled input would be wider).
 */
export function resnet18LayerShapes(): LayerShape[] {
  const shapes: LayerShape[] = [{ name: "conv1", outChannels: 64, inChannels: 3, kernel: [7, 7], inputBits: 8 }];
  const widths = [64, 128, 256, 512];
  let inC = 64;
  widths.forEach((w, stage) => {
    for (let block = 0; block < 2; block++) {
      const prefix = `layer${stage + 1}.${block}`;
      const blockIn = block === 0 ? inC : w;
      shapes.push({ name: `${prefix}.conv1`, outChannels: w, inChannels: blockIn, kernel: [3, 3], inputBits: 4 });
      shapes.push({ name: `${prefix}.conv2`, outChannels: w, inChannels: w, kernel: [3, 3], inputBits: 4 });
      if (block === 0 && stage > 0) {
        shapes.push({ name: `${prefix}.downsample`, outChannels: w, inChannels: blockIn, kernel: [1, 1], inputBits: 4 });
      }
    }
    inC = w;
  });
  shapes.push({ name: "fc", outChannels: 1000, inChannels: 512, kernel: [1, 1], inputBits: 4 });
  return shapes;
}

/**
 * Float weights w[o][c][kh][kw] ~ N(0, 2 / fan_out), fan_out = O * KH * KW, drawn from `rng` in
 * that (row-major) order.
 */
export function kaimingNormalWeights(shape: LayerShape, rng: Rng): Float64Array {
  const [kh, kw] = shape.kernel;
  const cols = shape.inChannels * kh * kw;
  const std = Math.SQRT2 / Math.sqrt(shape.outChannels * kh * kw);
  const w = new Float64Array(shape.outChannels * cols);
  for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
  return w;
}

/** TWN rule per output channel: Δ = 0.7 * mean|w|; w -> sign(w) if |w| > Δ else 0. */
export function twnTernarize(weights: Float64Array, rows: number, cols: number): TernaryMatrix {
  const data = new Int8Array(rows * cols);
  for (let o = 0; o < rows; o++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.abs(weights[o * cols + j]!);
    const delta = (0.7 * sum) / cols;
    for (let j = 0; j < cols; j++) {
      const v = weights[o * cols + j]!;
      data[o * cols + j] = v > delta ? 1 : v < -delta ? -1 : 0;
    }
  }
  return { rows, cols, data };
}

export interface LayerMatrix {
  shape: LayerShape;
  matrix: TernaryMatrix;
}

/** Every ResNet-18 layer matrix, weights drawn layer after layer from one Rng(seed). */
export function resnet18LayerMatrices(seed = 1): LayerMatrix[] {
  const rng = new Rng(seed);
  return resnet18LayerShapes().map((shape) => {
    const cols = shape.inChannels * shape.kernel[0] * shape.kernel[1];
    return { shape, matrix: twnTernarize(kaimingNormalWeights(shape, rng), shape.outChannels, cols) };
  });
}

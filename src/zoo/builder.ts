/**
 * A small graph builder for the zoo: appends ONNX-style nodes (what a PyTorch export of the
 * network in eval mode, batch-norm folded into the convolutions, looks like), infers each output
 * shape as it goes, and creates the seeded synthetic weights (Kaiming-normal, then TWN-ternarized
 * per output channel, stored once as float32 α·t).
 *
 * Activations are [1, C, H, W] (or [1, F] after Flatten) float32. Tensor names: "input", then
 * `<node>.out` for every node output except the last Gemm, which writes "logits"; weights are
 * `<layer>.weight` / `<layer>.bias`, like the PyTorch state dict.
 */
import type { ConstTensor, DType, Graph, GraphNode } from "../import/graph.js";
import { RtapError } from "../errors.js";
import { Rng } from "../util/random.js";
import { fillGaussian, gaussian } from "./gaussian.js";
import { ternarizeTwnInPlace } from "./twn.js";

/** An activation tensor while building: its name, shape, and an estimate of E[x²] (for biases). */
export interface Act {
  name: string;
  shape: number[];
  /** Mean-square estimate over the synthetic input distribution; NaN without weights. */
  meanSquare: number;
}

/** One weighted layer (conv or fully connected) as the zoo reports it. */
export interface ZooLayer {
  name: string;
  kind: "conv" | "fc";
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  /** Output activation shape [C, H, W] ([F, 1, 1] for fc). */
  outShape: [number, number, number];
  /** Weights + bias in the folded graph. */
  params: number;
  /** Multiply-accumulates per image (zero weights included). */
  macs: number;
  /** Fraction of zero ternary weights (NaN when built without weights). */
  sparsity: number;
  /** True when the original network has a batch-norm here, folded into this layer's bias. */
  foldedBatchNorm: boolean;
}

export interface BuildOptions {
  seed: number;
  /** false: topology only — shapes, counts and nodes, but no constant data (not runnable). */
  weights: boolean;
  /** "seeded": small seeded biases (see docs/zoo.md); "zero": all biases 0. */
  bias: "seeded" | "zero";
}

/** Standard deviation of the seeded bias relative to the estimated pre-activation RMS. */
const BIAS_RELATIVE_STD = 0.1;
/** E[x²] of the synthetic input: pixels/255 uniform on [0, 1]. */
const INPUT_MEAN_SQUARE = 1 / 3;
/** Std of fully connected weights before ternarization (torchvision's VGG Linear init). */
const FC_INIT_STD = 0.01;

export function convOutputSize(size: number, kernel: number, stride: number, padBegin: number, padEnd: number): number {
  return Math.floor((size + padBegin + padEnd - kernel) / stride) + 1;
}

export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly constants = new Map<string, ConstTensor>();
  private readonly shapes = new Map<string, number[]>();
  private readonly dtypes = new Map<string, DType>();
  readonly layers: ZooLayer[] = [];
  /** Draws one seed per weighted layer, so each layer's weights come from its own stream. */
  private readonly layerSeeds: Rng;

  constructor(
    private readonly modelName: string,
    private readonly inputShape: [number, number, number],
    private readonly opts: BuildOptions,
  ) {
    this.layerSeeds = new Rng(opts.seed);
  }

  input(): Act {
    const shape = [1, ...this.inputShape];
    this.declare("input", shape);
    return { name: "input", shape, meanSquare: this.opts.weights ? INPUT_MEAN_SQUARE : NaN };
  }

  conv(
    name: string,
    x: Act,
    p: { out: number; kernel: number; stride: number; pad: number; batchNorm: boolean },
  ): Act {
    const [, c, h, w] = this.spatial(x, name);
    const k = p.kernel;
    const oh = convOutputSize(h, k, p.stride, p.pad, p.pad);
    const ow = convOutputSize(w, k, p.stride, p.pad, p.pad);
    const weightDims = [p.out, c, k, k];
    const { weight, bias, outMeanSquare, sparsity } = this.makeWeights(
      name,
      weightDims,
      Math.sqrt(2 / (p.out * k * k)), // Kaiming normal, fan_out mode, gain sqrt(2) (torchvision)
      x.meanSquare,
    );
    const outShape = [1, p.out, oh, ow];
    const out = this.node(name, "Conv", [x.name, weight, bias], outShape, {
      kernel_shape: [k, k],
      strides: [p.stride, p.stride],
      pads: [p.pad, p.pad, p.pad, p.pad],
      dilations: [1, 1],
      group: 1,
    });
    this.layers.push({
      name,
      kind: "conv",
      inChannels: c,
      outChannels: p.out,
      kernel: [k, k],
      stride: [p.stride, p.stride],
      pads: [p.pad, p.pad, p.pad, p.pad],
      outShape: [p.out, oh, ow],
      params: p.out * c * k * k + p.out,
      macs: p.out * oh * ow * c * k * k,
      sparsity,
      foldedBatchNorm: p.batchNorm,
    });
    return { name: out, shape: outShape, meanSquare: outMeanSquare };
  }

  /** Fully connected layer y = x Wᵀ + b (Gemm, transB = 1), weights [out, in]. */
  gemm(name: string, x: Act, out: number, outputName?: string): Act {
    if (x.shape.length !== 2) throw new RtapError(`Gemm input must be [1, F], got [${x.shape.join(", ")}]`, `zoo ${this.modelName}: ${name}`);
    const f = x.shape[1]!;
    const { weight, bias, outMeanSquare, sparsity } = this.makeWeights(name, [out, f], FC_INIT_STD, x.meanSquare);
    const outShape = [1, out];
    const y = this.node(name, "Gemm", [x.name, weight, bias], outShape, { alpha: 1, beta: 1, transB: 1 }, outputName);
    this.layers.push({
      name,
      kind: "fc",
      inChannels: f,
      outChannels: out,
      kernel: [1, 1],
      stride: [1, 1],
      pads: [0, 0, 0, 0],
      outShape: [out, 1, 1],
      params: out * f + out,
      macs: out * f,
      sparsity,
      foldedBatchNorm: false,
    });
    return { name: y, shape: outShape, meanSquare: outMeanSquare };
  }

  relu(name: string, x: Act): Act {
    // A zero-mean symmetric pre-activation keeps half its energy through ReLU.
    return { name: this.node(name, "Relu", [x.name], x.shape, {}), shape: x.shape, meanSquare: x.meanSquare / 2 };
  }

  maxPool(name: string, x: Act, p: { kernel: number; stride: number; pad: number }): Act {
    const [, c, h, w] = this.spatial(x, name);
    const shape = [1, c, convOutputSize(h, p.kernel, p.stride, p.pad, p.pad), convOutputSize(w, p.kernel, p.stride, p.pad, p.pad)];
    const out = this.node(name, "MaxPool", [x.name], shape, {
      kernel_shape: [p.kernel, p.kernel],
      strides: [p.stride, p.stride],
      pads: [p.pad, p.pad, p.pad, p.pad],
      ceil_mode: 0,
    });
    return { name: out, shape, meanSquare: x.meanSquare };
  }

  add(name: string, a: Act, b: Act): Act {
    if (a.shape.join() !== b.shape.join()) {
      throw new RtapError(`Add operands differ in shape: [${a.shape.join(", ")}] vs [${b.shape.join(", ")}]`, `zoo ${this.modelName}: ${name}`);
    }
    // Independent zero-mean-ish branches: energies add.
    return { name: this.node(name, "Add", [a.name, b.name], a.shape, {}), shape: a.shape, meanSquare: a.meanSquare + b.meanSquare };
  }

  globalAveragePool(name: string, x: Act): Act {
    const [, c] = this.spatial(x, name);
    const shape = [1, c, 1, 1];
    return { name: this.node(name, "GlobalAveragePool", [x.name], shape, {}), shape, meanSquare: x.meanSquare };
  }

  flatten(name: string, x: Act): Act {
    const shape = [1, x.shape.slice(1).reduce((p, d) => p * d, 1)];
    return { name: this.node(name, "Flatten", [x.name], shape, { axis: 1 }), shape, meanSquare: x.meanSquare };
  }

  finish(output: Act): Graph {
    return {
      name: this.modelName,
      source: `zoo:${this.modelName}`,
      opset: 17,
      inputs: [{ name: "input", dims: [1, ...this.inputShape], dtype: "float32" }],
      outputs: [output.name],
      nodes: this.nodes,
      constants: this.constants,
      shapes: this.shapes,
      dtypes: this.dtypes,
    };
  }

  private spatial(x: Act, where: string): [number, number, number, number] {
    if (x.shape.length !== 4) {
      throw new RtapError(`expects a [1, C, H, W] input, got [${x.shape.join(", ")}]`, `zoo ${this.modelName}: ${where}`);
    }
    return x.shape as [number, number, number, number];
  }

  private declare(tensor: string, shape: number[]): void {
    if (this.shapes.has(tensor)) throw new RtapError(`tensor "${tensor}" defined twice`, `zoo ${this.modelName}`);
    this.shapes.set(tensor, shape);
    this.dtypes.set(tensor, "float32");
  }

  private node(name: string, opType: string, inputs: string[], outShape: number[], attrs: GraphNode["attrs"], outputName?: string): string {
    const out = outputName ?? `${name}.out`;
    this.declare(out, outShape);
    this.nodes.push({ name, opType, inputs, outputs: [out], attrs });
    return out;
  }

  /**
   * Weight [O, ...] and bias [O] constants of one layer: Kaiming/normal init with `std`, TWN per
   * output channel in place, then the bias. Returns their names, the estimated output E[y²] and
   * the ternary sparsity.
   */
  private makeWeights(
    layer: string,
    dims: number[],
    std: number,
    inMeanSquare: number,
  ): { weight: string; bias: string; outMeanSquare: number; sparsity: number } {
    const weight = `${layer}.weight`;
    const bias = `${layer}.bias`;
    const O = dims[0]!;
    this.declare(weight, dims);
    this.declare(bias, [O]);
    const rng = new Rng(this.layerSeeds.nextU32());
    if (!this.opts.weights) return { weight, bias, outMeanSquare: NaN, sparsity: NaN };

    const n = dims.reduce((p, d) => p * d, 1);
    const w = new Float32Array(n);
    fillGaussian(rng, w, std);
    const stats = ternarizeTwnInPlace(w, O);

    // Estimated pre-activation energy per channel: Σ_j w_oj² · E[x²] (zero-mean weights).
    const b = new Float32Array(O);
    let outEnergy = 0;
    let zeros = 0;
    for (let o = 0; o < O; o++) {
      const preRms = Math.sqrt(stats.sumSquares[o]! * inMeanSquare);
      if (this.opts.bias === "seeded") b[o] = BIAS_RELATIVE_STD * preRms * gaussian(rng);
      outEnergy += preRms * preRms + b[o]! * b[o]!;
      zeros += stats.zeros[o]!;
    }
    this.constants.set(weight, { dtype: "float32", dims, data: w });
    this.constants.set(bias, { dtype: "float32", dims: [O], data: b });
    return { weight, bias, outMeanSquare: outEnergy / O, sparsity: zeros / n };
  }
}

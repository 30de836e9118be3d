/**
 * Folding of constant-mode Pad nodes into the convolution or pooling that consumes them.
 *
 * TensorFlow/Keras exports write "SAME" padding of strided convolutions (and Keras' ZeroPadding2D
 * before a pool) as an explicit Pad node followed by an unpadded Conv or pool. rtap's quantizer and
 * compiler know padded convolutions and pools, not Pad, so at import a Pad whose pads touch only
 * H and W of an NCHW tensor is added to the pads of every consumer when that gives the same result:
 *  - Conv: pad value 0 (a convolution's padding is zeros);
 *  - AveragePool: pad value 0, no ceil_mode, and count_include_pad=1, or no padding of its own
 *    (then it becomes count_include_pad=1: the Pad's zeros were counted as data);
 *  - MaxPool: pad value -inf (a max-pool's padding is ignored, i.e. -inf), or pad value 0 when the
 *    padded tensor is non-negative (it comes from Relu, or Clip with min >= 0) and every window
 *    still covers at least one input position; never when its Indices output is used.
 * The consumer's output shape must stay the same (with ceil_mode it can differ; then nothing is
 * folded). A Pad that cannot be folded stays in the graph: the float executor runs it, and the
 * quantizer reports that it cannot express it.
 */
import { opDef, padSpec, window2d } from "../float/ops.js";
import type { ConstTensor, DType, GraphNode } from "./graph.js";
import { attrFloat, attrInt } from "./graph.js";

export interface PadFoldContext {
  nodes: GraphNode[];
  constants: Map<string, ConstTensor>;
  shapes: Map<string, number[]>;
  dtypes: Map<string, DType>;
  outputs: readonly string[];
}

export interface PadFold {
  pad: string;
  into: string[];
}

/** Folds what can be folded (mutating the consumers); returns the remaining nodes and what was folded. */
export function foldPads(ctx: PadFoldContext): { nodes: GraphNode[]; folded: PadFold[] } {
  const folded: PadFold[] = [];
  const removed = new Set<GraphNode>();
  const producer = new Map<string, GraphNode>();
  for (const n of ctx.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  for (const node of ctx.nodes) {
    if (node.opType !== "Pad") continue;
    const into = tryFold(node, ctx, producer);
    if (into) {
      removed.add(node);
      folded.push({ pad: node.name, into });
    }
  }
  return { nodes: ctx.nodes.filter((n) => !removed.has(n)), folded };
}

function tryFold(node: GraphNode, ctx: PadFoldContext, producer: Map<string, GraphNode>): string[] | undefined {
  const x = node.inputs[0]!, y = node.outputs[0]!;
  const inDims = ctx.shapes.get(x);
  if (!inDims || inDims.length !== 4 || ctx.outputs.includes(y)) return undefined;
  const c = (i: number): ConstTensor | undefined => (node.inputs[i] ? ctx.constants.get(node.inputs[i]!) : undefined);
  const { pads, value } = padSpec(node, 4, c(1), c(2), c(3));
  if (Number.isNaN(value) || pads[0]!.some((p) => p !== 0) || pads[1]!.some((p) => p !== 0)) return undefined;
  const [[pt, pb], [pl, pr]] = [pads[2]!, pads[3]!];
  const consumers = ctx.nodes.filter((n) => n.inputs.includes(y));
  if (consumers.length === 0) return undefined;
  const paddedDims = ctx.shapes.get(y)!;
  const plans: { consumer: GraphNode; attrs: GraphNode["attrs"] }[] = [];
  for (const n of consumers) {
    if (n.inputs.indexOf(y) !== 0 || n.inputs.lastIndexOf(y) !== 0) return undefined;
    if (!["Conv", "AveragePool", "MaxPool"].includes(n.opType)) return undefined;
    const w = n.opType === "Conv" ? ctx.shapes.get(n.inputs[1]!) : undefined;
    const win = window2d(n, paddedDims, w && w.length === 4 ? [w[2]!, w[3]!] : undefined);
    const own = win.pads;
    const newPads = [own[0] + pt, own[1] + pl, own[2] + pb, own[3] + pr];
    const attrs: GraphNode["attrs"] = { ...n.attrs, pads: newPads };
    delete attrs["auto_pad"];
    if (n.opType === "Conv") {
      if (value !== 0) return undefined;
    } else if (n.opType === "AveragePool") {
      if (value !== 0 || attrInt(n, "ceil_mode", 0) !== 0) return undefined;
      if (attrInt(n, "count_include_pad", 0) !== 1 && own.some((p) => p !== 0)) return undefined;
      attrs["count_include_pad"] = 1;
    } else {
      if (n.outputs[1]) return undefined;
      if (value !== -Infinity) {
        if (value !== 0 || !nonNegative(producer.get(x), ctx)) return undefined;
        if (!everyWindowCoversInput(n, inDims, win.kernel, win.strides, win.dilations, newPads)) return undefined;
      }
    }
    // The consumer must produce the same shape from the unpadded input with the summed pads.
    const trial: GraphNode = { ...n, inputs: [x, ...n.inputs.slice(1)], attrs };
    const info = (t: string) => ({ dims: ctx.shapes.get(t)!, dtype: ctx.dtypes.get(t)! });
    const outDims = opDef(trial).infer(trial, trial.inputs.map((t) => (t ? info(t) : undefined)), trial.inputs.map((t) => (t ? ctx.constants.get(t) : undefined)))[0]!.dims;
    if (outDims.join() !== ctx.shapes.get(n.outputs[0]!)!.join()) return undefined;
    plans.push({ consumer: n, attrs });
  }
  for (const { consumer, attrs } of plans) {
    consumer.inputs[0] = x;
    consumer.attrs = attrs;
  }
  ctx.shapes.delete(y);
  ctx.dtypes.delete(y);
  return plans.map((p) => p.consumer.name);
}

/** The tensor is >= 0 by construction: produced by Relu, or by Clip with a constant min >= 0. */
function nonNegative(p: GraphNode | undefined, ctx: PadFoldContext): boolean {
  if (!p) return false;
  if (p.opType === "Relu") return true;
  if (p.opType === "Clip") {
    const lo = p.inputs[1] ? ctx.constants.get(p.inputs[1])?.data[0] : attrFloat(p, "min", -Infinity);
    return lo !== undefined && lo >= 0;
  }
  return false;
}

/** Every pooling window, with pads [top, left, bottom, right], holds at least one input position. */
function everyWindowCoversInput(
  n: GraphNode, inDims: readonly number[], k: [number, number], s: [number, number], d: [number, number], pads: number[],
): boolean {
  const ceil = attrInt(n, "ceil_mode", 0) === 1;
  for (let a = 0; a < 2; a++) {
    const size = inDims[a + 2]!, pb = pads[a]!, pe = pads[a + 2]!;
    const eff = (k[a]! - 1) * d[a]! + 1;
    const num = size + pb + pe - eff;
    let out = (ceil ? Math.ceil(num / s[a]!) : Math.floor(num / s[a]!)) + 1;
    if (ceil && (out - 1) * s[a]! >= size + pb) out--;
    for (let o = 0; o < out; o++) {
      let hit = false;
      for (let j = 0; j < k[a]! && !hit; j++) {
        const i = o * s[a]! - pb + j * d[a]!;
        hit = i >= 0 && i < size;
      }
      if (!hit) return false;
    }
  }
  return true;
}

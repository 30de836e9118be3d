/**
 * Float executor: runs the graph IR in float32 semantics, one image at a time. It is the
 * "software model" side of every accuracy comparison (fake-quant float graph vs integer
 * reference) and is checked against onnxruntime in the tests.
 */
import type { Graph } from "../import/graph.js";
import { numel } from "../import/graph.js";
import { RtapError } from "../errors.js";
import { opDef } from "./ops.js";
import type { Tensor } from "./tensor.js";

export interface FloatRunOptions {
  /** Keep every intermediate tensor in the result (for layer-by-layer comparisons). */
  keepAll?: boolean;
  /**
   * Called after each node with each output; may return a replacement tensor (calibration uses
   * this to quantize activations as soon as their scale is known).
   */
  onOutput?: (name: string, value: Tensor) => Tensor | void;
}

export interface FloatRunResult {
  output: Tensor;
  tensors: Map<string, Tensor>;
}

/** Runs one image: `input` holds C*H*W float32 values (pixel/255 for rtap's models). */
export function runFloat(graph: Graph, input: Float32Array, opts: FloatRunOptions = {}): FloatRunResult {
  const inp = graph.inputs[0]!;
  if (input.length !== numel(inp.dims)) {
    throw new RtapError(`input has ${input.length} values, the model expects shape [${inp.dims.join(",")}]`, graph.source);
  }
  const { outputs, tensors } = runGraph(graph, new Map([[inp.name, { dtype: "float32", dims: [...inp.dims], data: input }]]), opts);
  return { output: outputs[0]!, tensors };
}

export interface GraphRunResult {
  /** One tensor per graph output, in order. */
  outputs: Tensor[];
  /** Graph constants, fed inputs, and the intermediates still live (all of them with keepAll). */
  tensors: Map<string, Tensor>;
}

/**
 * Runs any imported graph (see ImportOptions.inputs) on the given inputs, one tensor per graph
 * input with exactly the declared shape and element type.
 */
export function runGraph(graph: Graph, feeds: ReadonlyMap<string, Tensor>, opts: FloatRunOptions = {}): GraphRunResult {
  const env = new Map<string, Tensor>(graph.constants);
  for (const inp of graph.inputs) {
    const t = feeds.get(inp.name);
    if (!t) throw new RtapError(`no value given for graph input "${inp.name}"`, graph.source);
    if (t.dims.join() !== inp.dims.join() || t.data.length !== numel(inp.dims)) {
      throw new RtapError(`graph input "${inp.name}" has shape [${t.dims.join(",")}] (${t.data.length} values), the model expects [${inp.dims.join(",")}]`, graph.source);
    }
    if (t.dtype !== inp.dtype) throw new RtapError(`graph input "${inp.name}" is ${t.dtype}, the model expects ${inp.dtype}`, graph.source);
    env.set(inp.name, t);
  }
  // Free intermediates after their last use unless asked to keep them.
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((x) => x && lastUse.set(x, i)));
  for (const o of graph.outputs) lastUse.set(o, Infinity);
  graph.nodes.forEach((node, i) => {
    const outs = opDef(node).run(node, node.inputs.map((x) => (x ? env.get(x) : undefined)));
    node.outputs.forEach((name, k) => {
      if (!name || !outs[k]) return;
      const replaced = opts.onOutput?.(name, outs[k]!);
      env.set(name, replaced ?? outs[k]!);
    });
    if (!opts.keepAll) for (const x of node.inputs) if (x && lastUse.get(x) === i && !graph.constants.has(x)) env.delete(x);
  });
  return { outputs: graph.outputs.map((o) => env.get(o)!), tensors: env };
}

/** Pixels (uint8, CHW) -> float32 model input (pixel / 255), rounded to float32 like PyTorch's ToTensor. */
export function pixelsToInput(pixels: Uint8Array): Float32Array {
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i]! / 255;
  return x;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

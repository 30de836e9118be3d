/**
 * The workload the cost models price: per MAC layer (conv or fully connected) its dimensions, output
 * positions, MACs, nonzero ternary weights and activation bit widths, plus the non-MAC ops (residual
 * add, pooling, requantization) that cost buffer traffic and a little digital logic.
 *
 * Two sources:
 *  - `workloadFromQGraph(qg)`: rtap's own integer graph (what the AP compiler also consumes), padded
 *    convolutions exactly as the network defines them;
 *  - `workloadFromLayerTable(rows)`: a NeuroSim-style NetWork.csv table (IFM H, W, C, K, K, N, pool,
 *    stride). With `positions: "valid"` it reproduces NeuroSim's own shortcut, which evaluates only
 *    the ⌊(H-K+1)/s⌋² unpadded output positions (1.438 GMAC for ResNet-18 instead of 1.814).
 */
import { RtapError } from "../errors.js";
import {
  bitsFor,
  tensorMax,
  tensorMin,
  type QConvOp,
  type QGraph,
  type QOp,
} from "../quantize/qgraph.js";

export interface MacLayer {
  name: string;
  kind: "conv" | "fc";
  /** Input channels C, output channels O. */
  C: number;
  O: number;
  KH: number;
  KW: number;
  strideH: number;
  strideW: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  /** Output positions per image (outH * outW) the hardware evaluates. */
  positions: number;
  /** positions * O * C * KH * KW (zero weights included). */
  macs: number;
  /** Nonzero ternary weights (O*C*KH*KW when weights are unknown). */
  nonzeroWeights: number;
  /** Bits of each input activation (bit-serial input cycles on a crossbar). */
  inputBits: number;
  /** Bits of each output activation sent to the next layer. */
  outputBits: number;
  /** Measured fraction of 1 bits in the bit-serial inputs, when known (NeuroSim traces). */
  inputBitDensity?: number | undefined;
  /** 1, or 1/(pool area) when a following pool shrinks the output before it leaves the layer. */
  outputFraction: number;
}

export interface AuxOp {
  name: string;
  kind: "add" | "maxpool" | "sumpool" | "requant";
  /** Output elements per image. */
  elements: number;
  /** Operand elements read per output element (2 for add, window area for a pool, 1 for requant). */
  operandsPerElement: number;
  inputBits: number;
  outputBits: number;
  /** For requant: thresholds per channel (2^bits - 1). */
  thresholds?: number | undefined;
}

export interface Workload {
  name: string;
  /** Where the workload came from (graph source, table name). */
  source: string;
  layers: MacLayer[];
  aux: AuxOp[];
  totalMacs: number;
  notes: string[];
}

function shapeOf(qg: QGraph, tensor: string, where: string): [number, number, number] {
  const t = qg.tensors.get(tensor);
  if (!t) throw new RtapError(`tensor "${tensor}" has no shape in the integer graph`, where);
  return t.shape;
}

function bitsOfTensor(qg: QGraph, tensor: string): number {
  const t = qg.tensors.get(tensor);
  if (!t) return qg.activationBits;
  return bitsFor(tensorMin(t), tensorMax(t));
}

/** Builds the cost-model workload of an integer graph. */
export function workloadFromQGraph(qg: QGraph): Workload {
  const consumers = new Map<string, QOp[]>();
  for (const op of qg.ops) {
    const ins = op.kind === "input" ? [] : op.kind === "add" ? op.inputs : [op.input];
    for (const i of ins) consumers.set(i, [...(consumers.get(i) ?? []), op]);
  }
  // Bits with which a tensor leaves its layer: the requant that eventually consumes it (directly or
  // after a residual add) sets the activation width; otherwise its exact integer range does.
  const leavingBits = (tensor: string): number => {
    const direct = consumers.get(tensor) ?? [];
    for (const c of direct) if (c.kind === "requant") return c.bits;
    for (const c of direct) if (c.kind === "add") for (const cc of consumers.get(c.output) ?? []) if (cc.kind === "requant") return cc.bits;
    return bitsOfTensor(qg, tensor);
  };

  const layers: MacLayer[] = [];
  const aux: AuxOp[] = [];
  for (const op of qg.ops) {
    const where = `op "${op.name}" (${op.kind})`;
    switch (op.kind) {
      case "input":
        break;
      case "conv":
        layers.push(convLayer(qg, op, leavingBits(op.output), where));
        break;
      case "add": {
        const [c, h, w] = shapeOf(qg, op.output, where);
        aux.push({
          name: op.name,
          kind: "add",
          elements: c * h * w,
          operandsPerElement: 2,
          inputBits: Math.max(bitsOfTensor(qg, op.inputs[0]), bitsOfTensor(qg, op.inputs[1])),
          outputBits: bitsOfTensor(qg, op.output),
        });
        break;
      }
      case "maxpool":
      case "sumpool": {
        const [c, h, w] = shapeOf(qg, op.output, where);
        aux.push({
          name: op.name,
          kind: op.kind,
          elements: c * h * w,
          operandsPerElement: op.kernel[0] * op.kernel[1],
          inputBits: bitsOfTensor(qg, op.input),
          outputBits: bitsOfTensor(qg, op.output),
        });
        break;
      }
      case "requant": {
        const [c, h, w] = shapeOf(qg, op.output, where);
        aux.push({
          name: op.name,
          kind: "requant",
          elements: c * h * w,
          operandsPerElement: 1,
          inputBits: bitsOfTensor(qg, op.input),
          outputBits: op.bits,
          thresholds: 2 ** op.bits - 1,
        });
        break;
      }
    }
  }
  const totalMacs = layers.reduce((s, l) => s + l.macs, 0);
  return {
    name: qg.name,
    source: qg.source,
    layers,
    aux,
    totalMacs,
    notes: [`${layers.length} MAC layers from the integer graph; padded convolutions (every output position).`],
  };
}

function convLayer(qg: QGraph, op: QConvOp, outputBits: number, where: string): MacLayer {
  const [C, inH, inW] = shapeOf(qg, op.input, where);
  const [O, outH, outW] = shapeOf(qg, op.output, where);
  if (C !== op.inChannels || O !== op.outChannels) {
    throw new RtapError(`channel counts of the op (${op.inChannels}->${op.outChannels}) disagree with its tensors (${C}->${O})`, where);
  }
  const [KH, KW] = op.kernel;
  let nonzero = 0;
  for (let i = 0; i < op.weights.length; i++) if (op.weights[i] !== 0) nonzero++;
  const positions = outH * outW;
  return {
    name: op.name,
    kind: op.fullyConnected ? "fc" : "conv",
    C,
    O,
    KH,
    KW,
    strideH: op.stride[0],
    strideW: op.stride[1],
    inH,
    inW,
    outH,
    outW,
    positions,
    macs: positions * O * C * KH * KW,
    nonzeroWeights: nonzero,
    inputBits: bitsOfTensor(qg, op.input),
    outputBits,
    outputFraction: 1,
  };
}

/** One row of a NeuroSim NetWork.csv: IFM H, W, C, kernel KH, KW, N (output channels), pool, stride. */
export interface LayerTableRow {
  name: string;
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
  N: number;
  /** The layer is followed by a (2x2) max pool before its output leaves (NeuroSim's pool flag). */
  pool: boolean;
  stride: number;
  /** Measured input '1'-bit density (NeuroSim trace), optional. */
  inputBitDensity?: number | undefined;
}

export interface LayerTableOptions {
  /** "valid": NeuroSim's ⌊(H-K+1)/s⌋ positions; "padded": ⌈H/s⌉ (same-padded network). */
  positions: "valid" | "padded";
  inputBits: number;
  outputBits: number;
  name: string;
  source: string;
}

/** Builds a workload from a NeuroSim-style layer table (rows in forward order). */
export function workloadFromLayerTable(rows: readonly LayerTableRow[], opts: LayerTableOptions): Workload {
  const layers: MacLayer[] = rows.map((r) => {
    const outH = opts.positions === "valid" ? Math.floor((r.H - r.KH + 1) / r.stride) : Math.ceil(r.H / r.stride);
    const outW = opts.positions === "valid" ? Math.floor((r.W - r.KW + 1) / r.stride) : Math.ceil(r.W / r.stride);
    const positions = outH * outW;
    const fc = r.H === 1 && r.W === 1 && r.KH === 1 && r.KW === 1;
    return {
      name: r.name,
      kind: fc ? "fc" : "conv",
      C: r.C,
      O: r.N,
      KH: r.KH,
      KW: r.KW,
      strideH: r.stride,
      strideW: r.stride,
      inH: r.H,
      inW: r.W,
      outH,
      outW,
      positions,
      macs: positions * r.N * r.C * r.KH * r.KW,
      nonzeroWeights: r.N * r.C * r.KH * r.KW,
      inputBits: opts.inputBits,
      outputBits: opts.outputBits,
      inputBitDensity: r.inputBitDensity,
      outputFraction: r.pool ? 1 / 4 : 1,
    };
  });
  return {
    name: opts.name,
    source: opts.source,
    layers,
    aux: [],
    totalMacs: layers.reduce((s, l) => s + l.macs, 0),
    notes: [
      opts.positions === "valid"
        ? "NeuroSim positions: only the unpadded ⌊(H-K+1)/s⌋² outputs of each layer are evaluated."
        : "Padded positions: ⌈H/s⌉² outputs per layer, as the network defines them.",
    ],
  };
}

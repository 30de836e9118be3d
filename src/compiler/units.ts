/**
 * Compute units: the QGraph partitioned into the pieces the compiler maps onto the AP one at a
 * time. A unit reads stored tensors (codes or integers kept in the tile buffers between units),
 * computes with output positions across AP rows, and stores one tensor.
 *
 *  - "conv":   one or two convolutions over the same output positions, combined per channel with
 *              integer multipliers (a residual add fused in: mA*conv2 + mB*shortcut), optionally
 *              plus a stored tensor (an identity shortcut), then optionally requantized. This
 *              fusion keeps wide accumulators inside the row: only k-bit codes leave it.
 *  - "add":    a residual add of two stored tensors (+ requant) when no convolution can absorb it.
 *  - "maxpool" / "sumpool": window reductions.
 */
import { RtapError } from "../errors.js";
import type { QConvOp, QGraph, QOp, QPoolOp, QRequantOp, QTensor } from "../quantize/qgraph.js";

export interface ConvTerm {
  conv: QConvOp;
  /** Per-channel integer multiplier of this conv's accumulator (1 when there is no add). */
  mul: Int32Array;
}

export interface StoredTerm {
  tensor: string;
  mul: Int32Array;
}

export interface ConvUnit {
  kind: "conv";
  name: string;
  terms: ConvTerm[];
  /** A stored tensor added per channel (identity shortcut), if any. */
  stored: StoredTerm | null;
  requant: QRequantOp | null;
  /** The integer value before requant: the conv output, or the add output when fused. */
  preRequant: string;
  output: string;
  /** QGraph ops this unit covers (for messages and --emit). */
  ops: QOp[];
}

export interface AddUnit {
  kind: "add";
  name: string;
  inputs: [StoredTerm, StoredTerm];
  requant: QRequantOp | null;
  preRequant: string;
  output: string;
  ops: QOp[];
}

export interface PoolUnit {
  kind: "maxpool" | "sumpool";
  name: string;
  op: QPoolOp;
  input: string;
  output: string;
  ops: QOp[];
}

export type ComputeUnit = ConvUnit | AddUnit | PoolUnit;

function ones(n: number): Int32Array {
  return new Int32Array(n).fill(1);
}

/** Partitions the QGraph into compute units in execution order. */
export function buildUnits(q: QGraph): ComputeUnit[] {
  const consumers = new Map<string, QOp[]>();
  for (const op of q.ops) {
    const ins = op.kind === "input" ? [] : op.kind === "add" ? op.inputs : [op.input];
    for (const i of ins) consumers.set(i, [...(consumers.get(i) ?? []), op]);
  }
  const only = (t: string): QOp | undefined => {
    const c = consumers.get(t) ?? [];
    return c.length === 1 && t !== q.output ? c[0] : undefined;
  };
  const producer = new Map<string, QOp>();
  for (const op of q.ops) producer.set(op.output, op);
  const tensor = (n: string): QTensor => q.tensors.get(n)!;

  const covered = new Set<QOp>();
  const units: ComputeUnit[] = [];
  const requantAfter = (t: string): QRequantOp | null => {
    const c = only(t);
    return c && c.kind === "requant" ? c : null;
  };

  for (const op of q.ops) {
    if (covered.has(op) || op.kind === "input") continue;
    if (op.kind === "conv") {
      const next = only(op.output);
      if (next && next.kind === "add") {
        // Fuse conv -> add (-> requant) when the other operand is a conv output used only here
        // (the shortcut conv) or a stored tensor.
        const other = next.inputs[0] === op.output ? next.inputs[1] : next.inputs[0];
        const mine = next.inputs[0] === op.output ? 0 : 1;
        const otherOp = producer.get(other);
        const otherIsFusableConv = otherOp?.kind === "conv" && only(other) === next && !covered.has(otherOp);
        const terms: ConvTerm[] = [{ conv: op, mul: next.mul[mine] }];
        let stored: StoredTerm | null = null;
        if (otherIsFusableConv) terms.push({ conv: otherOp as QConvOp, mul: next.mul[1 - mine]! });
        else stored = { tensor: other, mul: next.mul[1 - mine]! };
        if (otherIsFusableConv) {
          const a = tensor(op.output).shape, b = tensor(other).shape;
          if (a.join() !== b.join()) throw new RtapError(`residual operands have different shapes [${a}] and [${b}]`, `op "${next.name}"`);
        }
        const rq = requantAfter(next.output);
        const ops: QOp[] = [...terms.map((t) => t.conv as QOp), next, ...(rq ? [rq] : [])];
        ops.forEach((o) => covered.add(o));
        units.push({ kind: "conv", name: op.name, terms, stored, requant: rq, preRequant: next.output, output: rq ? rq.output : next.output, ops });
        continue;
      }
      const rq = requantAfter(op.output);
      const ops: QOp[] = [op, ...(rq ? [rq] : [])];
      ops.forEach((o) => covered.add(o));
      units.push({ kind: "conv", name: op.name, terms: [{ conv: op, mul: ones(op.outChannels) }], stored: null, requant: rq, preRequant: op.output, output: rq ? rq.output : op.output, ops });
      continue;
    }
    if (op.kind === "add") {
      const rq = requantAfter(op.output);
      const ops: QOp[] = [op, ...(rq ? [rq] : [])];
      ops.forEach((o) => covered.add(o));
      units.push({
        kind: "add", name: op.name,
        inputs: [{ tensor: op.inputs[0], mul: op.mul[0] }, { tensor: op.inputs[1], mul: op.mul[1] }],
        requant: rq, preRequant: op.output, output: rq ? rq.output : op.output, ops,
      });
      continue;
    }
    if (op.kind === "maxpool" || op.kind === "sumpool") {
      covered.add(op);
      units.push({ kind: op.kind, name: op.name, op, input: op.input, output: op.output, ops: [op] });
      continue;
    }
    if (op.kind === "requant") {
      // A requant whose producer could not fuse it (e.g. after a pool): an add-free unit.
      throw new RtapError("a requantization not directly after a convolution or residual add is not supported by the compiler", `op "${op.name}"`);
    }
  }
  return units;
}

/** Names of the stored tensors a unit reads. */
export function unitInputs(u: ComputeUnit): string[] {
  switch (u.kind) {
    case "conv":
      return [...u.terms.map((t) => t.conv.input), ...(u.stored ? [u.stored.tensor] : [])];
    case "add":
      return [u.inputs[0].tensor, u.inputs[1].tensor];
    default:
      return [u.input];
  }
}

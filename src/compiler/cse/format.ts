/**
 * Text dump of a CSE result (what `--emit cse` shows): the nodes in schedule order with their exact
 * ranges and widths (u = unsigned, s = two's complement), then the outputs.
 */
import type { ExprDag } from "./dag.js";
import { OP_ADD } from "./dag.js";

function name(dag: ExprDag, id: number): string {
  return id < dag.inputCount ? `x${id}` : `n${id}`;
}

function widthTag(dag: ExprDag, id: number): string {
  return `${dag.min[id]! < 0 ? "s" : "u"}${dag.width[id]}`;
}

/** One line per scheduled node (the first `maxNodes`, then a count) and per output (first `maxOutputs`). */
export function formatDag(dag: ExprDag, schedule: Int32Array, maxNodes = 40, maxOutputs = 40): string {
  const lines = [`# ${dag.inputCount} inputs, ${dag.nodeCount - dag.inputCount} additions, ${dag.outputNode.length} outputs`];
  const shown = Math.min(maxNodes, schedule.length);
  for (let k = 0; k < shown; k++) {
    const id = schedule[k]!;
    const expr = `${name(dag, dag.lhs[id]!)} ${dag.op[id] === OP_ADD ? "+" : "-"} ${name(dag, dag.rhs[id]!)}`;
    lines.push(`${name(dag, id)} = ${expr}`.padEnd(28) + `[${dag.min[id]}, ${dag.max[id]}] ${widthTag(dag, id)}`);
  }
  if (schedule.length > shown) lines.push(`... ${schedule.length - shown} more additions`);
  const outs = Math.min(maxOutputs, dag.outputNode.length);
  for (let o = 0; o < outs; o++) {
    const sign = dag.outputSign[o]!;
    lines.push(`y${o} = ${sign === 0 ? "0" : `${sign < 0 ? "-" : "+"}${name(dag, dag.outputNode[o]!)}`}`);
  }
  if (dag.outputNode.length > outs) lines.push(`... ${dag.outputNode.length - outs} more outputs`);
  return lines.join("\n");
}

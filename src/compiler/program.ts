/**
 * The AP program of one compute unit: a serial stream of steps that every active row executes
 * (SIMD over output positions), on values that live in the row.
 *
 * Values are abstract until allocation gives them cells: `id`, width, signedness, and the region
 * they live in ("in" = the receptive-field buffer filled by loads; "tmp" = temporaries,
 * accumulators and codes). Steps mirror the AP macro-ops (src/ap/macro.ts) plus the movement
 * steps `load` (buffer -> row) and `store` (row -> buffer).
 */

export interface PValue {
  id: number;
  name: string;
  width: number;
  signed: boolean;
  region: "in" | "tmp";
  /** Exact value bounds (from range inference), for verification. */
  min: number;
  max: number;
  /** Cells in the row, set by allocation. */
  cells?: number[];
}

/** Where a loaded value comes from: tensor channel at an input position offset, or a constant 0 (padding). */
export interface LoadSource {
  tensor: string;
  channel: number;
  /** Input-position mapping: iy = oy*sy + dy, ix = ox*sx + dx (outside the tensor: the value `pad`). */
  sy: number;
  sx: number;
  dy: number;
  dx: number;
  pad: number;
}

export type PStep =
  | { op: "load"; dst: number; src: LoadSource }
  | { op: "store"; src: number; tensor: string; channel: number }
  | { op: "addOut" | "subOut"; dst: number; a: number; b: number }
  | { op: "add" | "sub"; dst: number; src: number; shift: number }
  | { op: "copy"; dst: number; src: number; shift: number }
  | { op: "negate"; dst: number; src: number }
  | { op: "threshold"; dst: number; src: number; thresholds: number[] }
  | { op: "set"; dst: number; k: number }
  | { op: "max"; dst: number; src: number }
  /** Weight folding off: dst += weight * src with the weight stored in the row (a predicated add and a predicated subtract). */
  | { op: "mac"; dst: number; src: number; weight: number }
  | { op: "free"; ids: number[] };

export interface UnitProgram {
  unit: string;
  values: PValue[];
  steps: PStep[];
  /** Peak live tmp bits under the step order (after allocation: the cells actually used). */
  peakTmpBits: number;
  peakInBits: number;
}

export class ProgramBuilder {
  readonly values: PValue[] = [];
  readonly steps: PStep[] = [];

  constructor(readonly unit: string) {}

  value(name: string, width: number, signed: boolean, region: PValue["region"], min: number, max: number): number {
    const id = this.values.length;
    this.values.push({ id, name, width, signed, region, min, max });
    return id;
  }

  push(step: PStep): void {
    this.steps.push(step);
  }

  free(...ids: number[]): void {
    if (ids.length) this.steps.push({ op: "free", ids });
  }

  build(): UnitProgram {
    return { unit: this.unit, values: this.values, steps: this.steps, peakTmpBits: 0, peakInBits: 0 };
  }
}

/** Text dump of a program, one step per line. */
export function formatProgram(p: UnitProgram, maxSteps = 200): string {
  const v = (id: number): string => {
    const x = p.values[id]!;
    return `${x.name}:${x.signed ? "s" : "u"}${x.width}`;
  };
  const lines: string[] = [];
  for (const s of p.steps.slice(0, maxSteps)) {
    switch (s.op) {
      case "load":
        lines.push(`load  ${v(s.dst)} <- ${s.src.tensor}[c${s.src.channel}] @(${s.src.sy}y${s.src.dy >= 0 ? "+" : ""}${s.src.dy}, ${s.src.sx}x${s.src.dx >= 0 ? "+" : ""}${s.src.dx}) pad ${s.src.pad}`);
        break;
      case "store":
        lines.push(`store ${v(s.src)} -> ${s.tensor}[c${s.channel}]`);
        break;
      case "addOut":
      case "subOut":
        lines.push(`${s.op.padEnd(6)}${v(s.dst)} <- ${v(s.a)} ${s.op === "addOut" ? "+" : "-"} ${v(s.b)}`);
        break;
      case "add":
      case "sub":
        lines.push(`${s.op.padEnd(6)}${v(s.dst)} ${s.op === "add" ? "+" : "-"}= ${v(s.src)}${s.shift ? ` << ${s.shift}` : ""}`);
        break;
      case "copy":
        lines.push(`copy  ${v(s.dst)} <- ${v(s.src)}${s.shift ? ` << ${s.shift}` : ""}`);
        break;
      case "negate":
        lines.push(`neg   ${v(s.dst)} <- -${v(s.src)}`);
        break;
      case "threshold":
        lines.push(`thr   ${v(s.dst)} <- #{t : ${v(s.src)} >= t}, t = [${s.thresholds.join(",")}]`);
        break;
      case "set":
        lines.push(`set   ${v(s.dst)} <- ${s.k}`);
        break;
      case "max":
        lines.push(`max   ${v(s.dst)} <- max(${v(s.dst)}, ${v(s.src)})`);
        break;
      case "mac":
        lines.push(`mac   ${v(s.dst)} += w(${s.weight}) * ${v(s.src)}`);
        break;
      case "free":
        lines.push(`free  ${s.ids.map(v).join(" ")}`);
        break;
    }
  }
  if (p.steps.length > maxSteps) lines.push(`... ${p.steps.length - maxSteps} more steps`);
  return lines.join("\n");
}

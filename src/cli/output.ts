/**
 * Output conventions shared by every command (docs/cli.md):
 *  - with --json, stdout ends with exactly one JSON object on one line (printJson);
 *  - tables go through cli-table3 with its own colouring switched off; when colour is enabled
 *    (stdout is a terminal, NO_COLOR unset) headers are coloured with picocolors, otherwise the
 *    output has no ANSI codes at all.
 */
import Table from "cli-table3";
import pc from "picocolors";
import type { CliContext, OutStream } from "./context.js";

export type Colors = ReturnType<typeof pc.createColors>;

/** Colour on a terminal unless NO_COLOR is set; FORCE_COLOR (not "0") forces it on. */
export function useColor(stream: OutStream, env: CliContext["env"]): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** picocolors bound to whether stdout should be coloured. */
export function colorsFor(ctx: CliContext): Colors {
  return pc.createColors(useColor(ctx.stdout, ctx.env));
}

/** Writes one line of text to stdout. */
export function println(ctx: CliContext, line = ""): void {
  ctx.stdout.write(`${line}\n`);
}

/**
 * Writes `value` as one JSON line on stdout: call it last, once, in a --json run. BigInts become
 * numbers when exactly representable, else strings; typed arrays become arrays.
 */
export function printJson(ctx: CliContext, value: object): void {
  ctx.stdout.write(`${toJsonLine(value)}\n`);
}

export function toJsonLine(value: object): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    return v;
  });
}

export type Align = "left" | "right" | "center";
export type Cell = string | number;

export interface TableSpec {
  head: string[];
  rows: Cell[][];
  /** Per-column alignment; default: numbers right, text left (decided per column from row 0). */
  align?: Align[];
}

/** Renders a table for stdout (no trailing newline). */
export function renderTable(ctx: CliContext, spec: TableSpec): string {
  const c = colorsFor(ctx);
  const align = spec.align ?? spec.head.map((_, i) => (typeof spec.rows[0]?.[i] === "number" ? "right" : "left"));
  const table = new Table({
    head: spec.head.map((h) => c.bold(c.cyan(h))),
    colAligns: align,
    // cli-table3 colours heads and borders itself even off a terminal; rtap decides colour instead.
    // compact: a rule under the header only, none between body rows (long per-layer tables).
    style: { head: [], border: [], compact: true },
  });
  for (const row of spec.rows) table.push(row.map((cell) => (typeof cell === "number" ? String(cell) : cell)));
  return table.toString();
}

export function printTable(ctx: CliContext, spec: TableSpec): void {
  println(ctx, renderTable(ctx, spec));
}

/**
 * Markdown renderings of cost-model artefacts: the parameter listing of a technology file (value,
 * unit, node scaling, source or assumption), and sensitivity (tornado) results with the
 * "what would it take" answers. Used by docs generation and by the comparison report.
 */
import { listParams, type Param } from "./params.js";
import { describeTechnology, type Technology } from "./technology.js";
import type { SolveResult, TornadoData } from "./sensitivity.js";

const esc = (s: string): string => s.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();

function given(p: Param): string {
  const g = `${p.given.value} ${p.given.unit}`;
  return p.scaled ? `${g} @${p.scaled.fromNode} nm ×${p.scaled.factor}` : g;
}

function siValue(p: Param): string {
  if (p.dimension === "count" || p.dimension === "ratio") return String(p.value);
  return `${p.value.toPrecision(4)} ${p.unit}`;
}

/** One table row per number of the file: path, as written, at the file's node (SI), provenance. */
export function parameterTableMarkdown(t: Technology): string {
  const lines = [
    `**${describeTechnology(t)}** — ${esc(t.description)}`,
    "",
    "| parameter | as written | used (SI, at the file's node) | source / assumption |",
    "|---|---|---|---|",
  ];
  for (const { path, param } of listParams(t)) {
    const prov = param.assumption
      ? `*assumption*: ${esc([param.note, param.source].filter(Boolean).join(" — "))}`
      : esc([param.source, param.note].filter(Boolean).join(" — "));
    lines.push(`| \`${path}\` | ${given(param)} | ${siValue(param)} | ${prov} |`);
  }
  return lines.join("\n");
}

/** Tornado data as a table, largest swing first; ratios are crossbar energy / RTM-AP energy. */
export function tornadoMarkdown(title: string, t: TornadoData): string {
  const lines = [
    `**${title}** — base ratio ${t.base.toFixed(2)}x`,
    "",
    "| parameter | ratio at ×0.5 | ratio at ×2 | swing |",
    "|---|---|---|---|",
  ];
  for (const b of t.bars) {
    lines.push(`| ${b.name} | ${b.atLow.toFixed(2)}x | ${b.atHigh.toFixed(2)}x | ${b.swing.toFixed(2)} |`);
  }
  return lines.join("\n");
}

/** "What would it take" answers as a table. */
export function solveMarkdown(results: readonly SolveResult[]): string {
  const lines = ["| parameter alone | to reach | multiplier needed |", "|---|---|---|"];
  for (const r of results) {
    lines.push(
      r.reachable
        ? `| ${r.name} | ${r.target}x | ×${r.multiplier.toPrecision(3)} |`
        : `| ${r.name} | ${r.target}x | not reachable alone (ratio stays in ${r.range[0].toFixed(2)}–${r.range[1].toFixed(2)}x) |`,
    );
  }
  return lines.join("\n");
}

/**
 * `rtap compare <model> [--targets ...] [--json]`: the main job. Compiles and simulates the network
 * on the AP targets, prices it on every target under one cost model, runs the compiler-pass
 * ablation and the sensitivity study, prints the comparison and writes the report (JSON, CSV,
 * HTML) to --out.
 *
 * `rtap report <model | report.json> [--out dir]`: writes the report files, either by running
 * the comparison or from a saved report.json.
 */
import { Option, type Command } from "commander";
import { compareModel, DEFAULT_TARGETS, expandTargets } from "../../compare.js";
import { parseReportJson, reportText, writeReport, REPORT_FORMATS, type ReportFormat } from "../../report/index.js";
import type { ComparisonReport } from "../../report/types.js";
import { RtapError } from "../../errors.js";
import { readFileSync } from "node:fs";
import { contextOf, type CliContext } from "../context.js";
import { jsonOption, parsePositiveInt } from "../options.js";
import { printJson, println } from "../output.js";
import { parseSeed, splitBudgetOption } from "../model-options.js";
import { MODEL_ARG_HELP } from "./eval.js";

interface CompareCliOptions {
  targets: string;
  arch: string;
  tech?: string;
  splitBudget?: number;
  seed: number;
  dataset?: string;
  images: number;
  ablation: boolean;
  sensitivity: boolean;
  out: string;
  report: boolean;
  layers?: boolean;
  json?: boolean;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--targets <list>",
        "targets, comma-separated: rtm-ap, sram-ap, crossbar (both modelled baselines), crossbar-isaac, crossbar-neurosim22, reference (both published rows), reference-isaac, reference-puma",
      ).default(DEFAULT_TARGETS.join(",")),
    )
    .addOption(new Option("--seed <n>", "seed of zoo weights and of the random input image(s)").argParser(parseSeed).default(0))
    .addOption(new Option("--dataset <spec>", "simulate the AP on the first --images images of a dataset instead of random images"))
    .addOption(new Option("--images <n>", "input images the AP events are averaged over").argParser(parsePositiveInt).default(1))
    .addOption(new Option("--arch <name|file>", "architecture of the RTM-AP target: rtm-ap (interleaved racetrack pages), rtm-ap-serial (bits along the tracks) or a YAML file").default("rtm-ap"))
    .addOption(splitBudgetOption())
    .addOption(new Option("--tech <name|file>", "technology of the RTM-AP target: rtm-ap (default), rtm-ap-low, rtm-ap-destiny or a YAML file (priced beside the shipped scenarios)"))
    .addOption(new Option("--no-ablation", "skip the compiler-pass ablation"))
    .addOption(new Option("--no-sensitivity", "skip the sensitivity study"));
}

export function register(program: Command): void {
  commonOptions(
    program
      .command("compare")
      .description("the main job: price a network on the RTM-AP, the SRAM-CAM AP and crossbar CIM baselines; ablation, sensitivity, report")
      .argument("<model>", MODEL_ARG_HELP),
  )
    .addOption(new Option("--out <dir>", "where the report files go").default("rtap-report"))
    .addOption(new Option("--no-report", "do not write report files"))
    .addOption(new Option("--layers", "also print per-layer tables"))
    .addOption(jsonOption())
    .action(async (model: string, opts: CompareCliOptions, c: Command) => {
      const ctx = contextOf(c);
      const r = await runCompare(ctx, model, opts);
      const files = opts.report ? (await writeReport(r, opts.out)).files : [];
      if (!opts.json) {
        println(ctx, reportText(ctx, r, { layers: opts.layers }));
        if (files.length) println(ctx, `report written: ${files.join(", ")}`);
      } else printJson(ctx, compareJson(r, files));
    });

  commonOptions(
    program
      .command("report")
      .description("write the comparison report (JSON, CSV, HTML with charts) for a model, or re-render a saved report.json")
      .argument("<input>", `${MODEL_ARG_HELP}, or a report.json written earlier`),
  )
    .addOption(new Option("--out <dir>", "where the report files go").default("rtap-report"))
    .addOption(new Option("--formats <list>", `formats to write: ${REPORT_FORMATS.join(", ")}`).default(REPORT_FORMATS.join(",")))
    .addOption(jsonOption())
    .action(async (input: string, opts: CompareCliOptions & { formats: string }, c: Command) => {
      const ctx = contextOf(c);
      const formats = opts.formats.split(",").map((s) => s.trim()) as ReportFormat[];
      let r: ComparisonReport;
      if (input.endsWith(".json")) {
        let text: string;
        try {
          text = readFileSync(input, "utf8");
        } catch (e) {
          throw new RtapError(`cannot read report: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, input);
        }
        r = parseReportJson(text, input);
      } else r = await runCompare(ctx, input, opts);
      const { files } = await writeReport(r, opts.out, { formats });
      if (opts.json) printJson(ctx, { files });
      else println(ctx, `report written: ${files.join(", ")}`);
    });
}

async function runCompare(ctx: CliContext, model: string, opts: CompareCliOptions): Promise<ComparisonReport> {
  const targets = expandTargets(opts.targets.split(",").map((s) => s.trim()).filter(Boolean));
  const quiet = !!opts.json || !ctx.stderr.isTTY;
  const t0 = performance.now();
  const { report } = await compareModel(model, {
    targets,
    seed: opts.seed,
    dataset: opts.dataset,
    images: opts.images,
    ablation: opts.ablation,
    sensitivity: opts.sensitivity,
    rtmArch: opts.arch,
    ...(opts.splitBudget !== undefined ? { splitEnergyBudget: opts.splitBudget } : {}),
    ...(opts.tech !== undefined ? { rtmTech: opts.tech } : {}),
    onStage: (s) => {
      if (!quiet) ctx.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}\n`);
    },
  });
  return report;
}

/** The one-line JSON of `rtap compare --json` (keys documented in docs/cli.md). */
export function compareJson(r: ComparisonReport, files: string[]): Record<string, unknown> {
  const targets: Record<string, unknown> = {};
  for (const t of r.targets) {
    targets[t.target] = {
      label: t.label,
      kind: t.kind,
      precision: t.precision ?? null,
      energy_j: t.energyJ,
      inferences_per_j: t.inferencesPerJ,
      latency_s: t.latencyS,
      area_mm2: t.areaMm2,
      movement_share: t.movementShare,
      // this target's energy / the crossbar's (above 1 = more energy than the crossbar); vs the
      // default ISAAC-style baseline, and vs each baseline in energy_ratio_vs
      energy_ratio_vs_crossbar: t.energyRatioVsCrossbar["crossbar-isaac"] ?? Object.values(t.energyRatioVsCrossbar)[0] ?? null,
      energy_ratio_vs: t.energyRatioVsCrossbar,
      components_j: t.components,
      // AP targets: events per inference by kind (snake_case)
      ...(t.events ? { events: t.events } : {}),
      // the same events priced with every technology scenario, keyed by technology name
      ...(t.scenarios
        ? {
            scenarios: Object.fromEntries(
              t.scenarios.map((s) => [s.technology, { default: s.isDefault, energy_j: s.energyJ, latency_s: s.latencyS, energy_ratio_vs: s.energyRatioVsCrossbar, components_j: s.components }]),
            ),
          }
        : {}),
      // reference rows: the published figure (energy = ops / efficiency)
      ...(t.reference ? { reference: { efficiency_gops_per_w: t.reference.efficiencyOpsPerJ / 1e9, ops: t.reference.ops, source: t.reference.source } } : {}),
    };
  }
  return {
    model: r.model,
    targets,
    ablation: r.ablation.map((a) => ({ pass: a.pass, energy_j: a.energyJ, latency_s: a.latencyS, add_cycles: a.addCycles, energy_vs_full: a.energyVsFull })),
    sensitivity: r.sensitivity.map((s) => ({
      crossbar: s.crossbar,
      ratio: s.ratioDefinition,
      base: s.baseRatio,
      range: [Math.min(...s.entries.flatMap((e) => [e.ratioAtLow, e.ratioAtHigh])), Math.max(...s.entries.flatMap((e) => [e.ratioAtLow, e.ratioAtHigh]))],
      what_it_takes: s.whatItTakes.map((w) => ({ parameter: w.parameter, factor: w.factor })),
    })),
    files,
  };
}

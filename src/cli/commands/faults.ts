/**
 * `rtap faults <model> --dataset <spec> [--limit N] [--shift-rates ...] [--write-rates ...]
 * [--seeds k] [--protect none,pecc] [--arch a,b] [--html f] [--csv f] [--json]`: the reliability
 * study (src/faults.ts, docs/reliability.md): accuracy and predictions changed vs fault rate, with
 * and without p-ECC protection, per RTM layout; per-layer sensitivity; protection overhead.
 */
import { writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { DATASET_SPEC_HELP } from "../../data/dataset.js";
import { RtapError } from "../../errors.js";
import { faultStudy, PROTECT_SCHEMES, type FaultStudyReport, type ProtectName } from "../../faults.js";
import { faultCurvesToCsv, faultReportToHtml, faultSensitivityToCsv } from "../../report/faults.js";
import { contextOf, type CliContext } from "../context.js";
import { formatPercent } from "../format.js";
import { datasetOption, jsonOption, limitOption, offsetOption, parsePositiveInt } from "../options.js";
import { printJson, println, printTable } from "../output.js";
import { progressFor, type Progress } from "../progress.js";
import { MODEL_ARG_HELP } from "./eval.js";

interface FaultsCliOptions {
  dataset?: string;
  limit?: number;
  offset?: number;
  arch: string;
  shiftRates?: string;
  writeRates?: string;
  seeds: number;
  protect: string;
  peccInterval: number;
  sensitivity: boolean;
  workers?: number;
  html?: string;
  csv?: string;
  seed: number;
  activationBits: number;
  json?: boolean;
}

/** "1e-8,1e-7" -> numbers; "none" -> [] (skip that kind). */
export function parseRates(spec: string, flag: string): number[] {
  if (spec.trim() === "none") return [];
  return spec.split(",").map((part) => {
    const x = Number(part.trim());
    if (part.trim() === "" || !Number.isFinite(x) || x < 0 || x > 1) throw new RtapError(`"${part}" is not a probability in 0..1`, flag);
    return x;
  });
}

export function register(program: Command): void {
  program
    .command("faults")
    .description("reliability study: accuracy vs RTM shift-fault and write-error rate, with and without p-ECC protection, per layout")
    .argument("<model>", MODEL_ARG_HELP)
    .addOption(datasetOption().makeOptionMandatory())
    .addOption(limitOption().default(200))
    .addOption(offsetOption())
    .addOption(new Option("--arch <list>", "architectures, comma-separated (both RTM layouts by default)").default("rtm-ap,rtm-ap-serial"))
    .addOption(new Option("--shift-rates <list>", "shift-fault probabilities per nanowire per shift, comma-separated, or none (default: 0.1 .. 1e6 faults per inference)"))
    .addOption(new Option("--write-rates <list>", "write-flip probabilities per written cell, comma-separated, or none (default: 0.1 .. 1e6 per inference)"))
    .addOption(new Option("--seeds <k>", "fault seeds per rate (pooled in the intervals)").argParser(parsePositiveInt).default(1))
    .addOption(new Option("--protect <list>", `protections, comma-separated (${PROTECT_SCHEMES.join(", ")})`).default("none,pecc"))
    .addOption(new Option("--pecc-interval <n>", "p-ECC: check after every n-th shift of a group").argParser(parsePositiveInt).default(1))
    .addOption(new Option("--no-sensitivity", "skip per-layer sensitivity"))
    .addOption(new Option("--workers <n>", "worker threads (default: one per 100 images, up to the core count)").argParser(parsePositiveInt))
    .addOption(new Option("--html <file>", "write the HTML report (curves, sensitivity bars, overhead)"))
    .addOption(new Option("--csv <file>", "write the curves as CSV (sensitivity to <file>.sensitivity.csv)"))
    .addOption(new Option("--seed <n>", "seed of zoo weights").argParser(Number).default(0))
    .addOption(new Option("--activation-bits <k>", "bits of activation quantizers inserted into float models").argParser(parsePositiveInt).default(4))
    .addOption(jsonOption())
    .addHelpText("after", `\nDataset specs:\n${[...DATASET_SPEC_HELP, "random:N        N seeded random images of the model's input shape (no labels: only \"changed\"; for zoo models)"].map((l) => `  ${l}`).join("\n")}\n`)
    .action(async (model: string, opts: FaultsCliOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const protect = opts.protect.split(",").map((s) => s.trim()) as ProtectName[];
      for (const p of protect) if (!PROTECT_SCHEMES.includes(p)) throw new RtapError(`unknown protection "${p}" (known: ${PROTECT_SCHEMES.join(", ")})`, "--protect");
      let bar: Progress | undefined;
      let shown = 0;
      let r: FaultStudyReport;
      try {
        r = await faultStudy(model, opts.dataset!, {
          limit: opts.limit, offset: opts.offset,
          archs: opts.arch.split(",").map((s) => s.trim()).filter(Boolean),
          shiftRates: opts.shiftRates !== undefined ? parseRates(opts.shiftRates, "--shift-rates") : undefined,
          writeRates: opts.writeRates !== undefined ? parseRates(opts.writeRates, "--write-rates") : undefined,
          seeds: opts.seeds, protect, pecc: { interval: opts.peccInterval }, sensitivity: opts.sensitivity, workers: opts.workers,
          seed: opts.seed, activationBits: opts.activationBits,
          onProgress: (done, total) => {
            bar ??= progressFor(ctx, "faults", total, !!opts.json);
            bar.tick(done - shown);
            shown = done;
          },
        });
      } finally {
        bar?.stop();
      }
      if (opts.csv) {
        writeFileSync(opts.csv, faultCurvesToCsv(r));
        writeFileSync(opts.csv.replace(/\.csv$/, "") + ".sensitivity.csv", faultSensitivityToCsv(r));
      }
      if (opts.html) writeFileSync(opts.html, await faultReportToHtml(r));
      if (opts.json) printJson(ctx, r);
      else printHuman(ctx, r);
    });
}

function printHuman(ctx: CliContext, r: FaultStudyReport): void {
  println(ctx, `${r.model} on ${r.dataset}: ${r.images} images x ${r.seeds} seed(s), fault-free accuracy ${r.fault_free_accuracy === null ? "n/a" : formatPercent(r.fault_free_accuracy, 2)} (${r.seconds.toFixed(1)} s)`);
  printTable(ctx, {
    head: ["arch", "kind", "protect", "rate", "faults/inf", "accuracy", "95% CI", "changed", "corrected/inf", "uncorr./inf"],
    rows: r.curves.map((c) => [
      c.arch, c.kind, c.protect, c.rate.toExponential(1), c.faults_per_inference.toPrecision(3),
      c.accuracy === null ? "-" : formatPercent(c.accuracy, 1), `${formatPercent(c.ci_low, 1)}..${formatPercent(c.ci_high, 1)}`,
      formatPercent(c.changed, 1), c.corrected_per_inference.toPrecision(3), c.uncorrectable_per_inference.toPrecision(3),
    ]),
    align: ["left", "left", "left", "right", "right", "right", "right", "right", "right", "right"],
  });
  if (r.sensitivity.length) {
    printTable(ctx, {
      head: ["arch", "rate", "unit (shift faults here only)", "changed", "faults/inf"],
      rows: r.sensitivity.map((s) => [s.arch, s.rate.toExponential(1), s.unit, formatPercent(s.changed, 1), s.faults_per_inference.toPrecision(3)]),
      align: ["left", "right", "left", "right", "right"],
    });
  }
  for (const o of r.overhead)
    println(ctx, `${o.arch} p-ECC overhead: energy x${o.energy_ratio.toFixed(4)}, latency x${o.latency_ratio.toFixed(4)}, area x${o.area_ratio.toFixed(3)} (${o.extra_domains_per_track} extra domains + ${o.extra_heads_per_track} heads per track)`);
}

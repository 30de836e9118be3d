/**
 * `rtap eval <model> --dataset <spec> [--limit N] [--engine ort|js] [--json]`: accuracy of the
 * float model and of the integer reference on real data, and how often their predictions agree.
 */
import { Option, type Command } from "commander";
import { DATASET_SPEC_HELP } from "../../data/dataset.js";
import { RtapError } from "../../errors.js";
import { evaluate, type EvalEngine, type EvalResult } from "../../eval.js";
import { contextOf, type CliContext } from "../context.js";
import { formatPercent } from "../format.js";
import { datasetOption, jsonOption, limitOption, offsetOption, parsePositiveInt } from "../options.js";
import { printJson, println, printTable } from "../output.js";
import { progressFor, type Progress } from "../progress.js";

interface EvalCliOptions {
  dataset?: string;
  limit?: number;
  offset?: number;
  json?: boolean;
  float?: boolean;
  workers?: number;
  seed?: number;
  activationBits?: number;
  engine?: EvalEngine;
}

export const MODEL_ARG_HELP = "an .onnx file or zoo:<name> (zoo:resnet18, zoo:resnet34, zoo:resnet20, zoo:vgg11, zoo:vgg16, zoo:vgg-small)";

export function register(program: Command): void {
  program
    .command("eval")
    .description("accuracy of the float model and of the integer reference on a dataset, and their agreement")
    .argument("<model>", MODEL_ARG_HELP)
    .addOption(datasetOption().makeOptionMandatory())
    .addOption(limitOption())
    .addOption(offsetOption())
    .addOption(new Option("--no-float", "skip the float model (integer accuracy only)"))
    .addOption(new Option("--workers <n>", "worker threads (default: one per 500 images, up to the core count)").argParser(parsePositiveInt))
    .addOption(
      new Option("--engine <engine>", "ort: onnxruntime-node (the integer graph proven exact on it); js: rtap's own executors (default: ort where it can run, else js with a notice)").choices(["ort", "js"]),
    )
    .addOption(new Option("--seed <n>", "seed of zoo weights and synthetic calibration images").argParser(parsePositiveIntOrZero).default(0))
    .addOption(new Option("--activation-bits <k>", "bits of activation quantizers inserted into float models").argParser(parsePositiveInt).default(4))
    .addOption(jsonOption())
    .addHelpText("after", `\nDataset specs:\n${DATASET_SPEC_HELP.map((l) => `  ${l}`).join("\n")}\n`)
    .action(async (model: string, opts: EvalCliOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!opts.dataset) throw new RtapError("--dataset is required");
      let bar: Progress | undefined;
      let shown = 0;
      let r: EvalResult;
      try {
        r = await evaluate(model, opts.dataset, {
          limit: opts.limit,
          offset: opts.offset,
          float: opts.float,
          workers: opts.workers,
          seed: opts.seed,
          activationBits: opts.activationBits,
          engine: opts.engine,
          onProgress: (done, total) => {
            bar ??= progressFor(ctx, "eval", total, !!opts.json);
            bar.tick(done - shown);
            shown = done;
          },
        });
      } finally {
        bar?.stop();
      }
      if (r.engine_notice) ctx.stderr.write(`rtap: note: ${r.engine_notice}\n`);
      if (!opts.json) printHuman(ctx, r);
      else printJson(ctx, toJson(r));
    });
}

function parsePositiveIntOrZero(v: string): number {
  return v === "0" ? 0 : parsePositiveInt(v);
}

export function toJson(r: EvalResult): Record<string, unknown> {
  return {
    model: r.model,
    dataset: r.dataset,
    images: r.images,
    float_accuracy: r.float_accuracy,
    integer_accuracy: r.integer_accuracy,
    agreement: r.agreement,
    float_correct: r.float_correct,
    integer_correct: r.integer_correct,
    notes: r.notes,
    engine: r.engine,
    engine_notice: r.engine_notice,
    seconds: Math.round(r.seconds * 1000) / 1000,
  };
}

function printHuman(ctx: CliContext, r: EvalResult): void {
  println(ctx, `${r.model} on ${r.dataset}: ${r.images} images`);
  for (const n of r.notes) println(ctx, `  note: ${n}`);
  printTable(ctx, {
    head: ["model", "correct", "accuracy"],
    rows: [
      ...(r.float_accuracy !== null ? [["float (source graph)", String(r.float_correct), formatPercent(r.float_accuracy, 2)]] : []),
      ["integer reference", String(r.integer_correct), formatPercent(r.integer_accuracy, 2)],
    ],
    align: ["left", "right", "right"],
  });
  if (r.agreement !== null) println(ctx, `float/integer agreement: ${formatPercent(r.agreement, 2)} of images (${r.seconds.toFixed(1)} s)`);
  println(ctx, `engine: ${engineLine(r)}${r.workers > 1 ? `, ${r.workers} worker threads` : ""}`);
}

const ENGINE_NAME: Record<EvalEngine, string> = { ort: "onnxruntime", js: "js" };

/** "onnxruntime" when both sides ran there, else each side's engine. */
function engineLine(r: EvalResult): string {
  const { integer, float } = r.engine;
  if (float === null || float === integer) return ENGINE_NAME[integer];
  return `integer on ${ENGINE_NAME[integer]}, float on ${ENGINE_NAME[float]}`;
}

/**
 * `rtap datasets <spec> [--limit N] [--offset N] [--json]`: loads a dataset the way eval/run do and
 * shows what it holds, so a user can check a spec before a long run.
 */
import type { Command } from "commander";
import { DATASET_SPEC_HELP, labelCounts, loadDataset, type Dataset } from "../../data/dataset.js";
import { contextOf, type CliContext } from "../context.js";
import { formatCount, formatPercent } from "../format.js";
import { jsonOption, limitOption, offsetOption } from "../options.js";
import { printJson, println, printTable } from "../output.js";

interface DatasetsOptions {
  limit?: number;
  offset?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("datasets")
    .description("load a dataset and show its size, image shape, classes and label histogram")
    .argument("<spec>", "fashion-mnist | idx:<dir> | cifar10:<dir>")
    .addOption(limitOption())
    .addOption(offsetOption())
    .addOption(jsonOption())
    .addHelpText("after", `\nDataset specs:\n${DATASET_SPEC_HELP.map((l) => `  ${l}`).join("\n")}\n`)
    .action((spec: string, opts: DatasetsOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const ds = loadDataset(spec, { limit: opts.limit, offset: opts.offset });
      const summary = summarize(ds);
      if (opts.json) printJson(ctx, summary);
      else printHuman(ctx, ds, summary);
    });
}

/** The JSON shape of `rtap datasets --json`. */
export interface DatasetSummary {
  name: string;
  spec: string;
  files: string[];
  /** Images loaded, after offset/limit. */
  count: number;
  offset: number;
  /** Images in the source. */
  total: number;
  /** [c, h, w] */
  shape: [number, number, number];
  classes: number;
  class_names: string[] | null;
  /** Images per label 0..classes-1 among the loaded ones. */
  label_counts: number[];
  /** Mean raw pixel value (0..255) over the loaded images, 4 decimals. */
  pixel_mean: number;
}

export function summarize(ds: Dataset): DatasetSummary {
  let sum = 0;
  for (const v of ds.images) sum += v;
  return {
    name: ds.name,
    spec: ds.spec,
    files: ds.files,
    count: ds.count,
    offset: ds.offset,
    total: ds.total,
    shape: [...ds.shape],
    classes: ds.classes,
    class_names: ds.classNames ? [...ds.classNames] : null,
    label_counts: labelCounts(ds),
    pixel_mean: Math.round((sum / ds.images.length) * 1e4) / 1e4,
  };
}

function printHuman(ctx: CliContext, ds: Dataset, s: DatasetSummary): void {
  const range = s.count === s.total ? "all" : `images ${s.offset}..${s.offset + s.count - 1}`;
  println(ctx, `${s.name} (${s.spec})`);
  println(ctx, `  files:      ${s.files.join(", ")}`);
  println(ctx, `  images:     ${formatCount(s.count)} of ${formatCount(s.total)} (${range})`);
  println(ctx, `  shape:      ${s.shape.join("x")} (CHW, uint8 pixels)`);
  println(ctx, `  classes:    ${s.classes}`);
  println(ctx, `  pixel mean: ${s.pixel_mean.toFixed(2)} / 255`);
  const names = ds.classNames;
  printTable(ctx, {
    head: names ? ["label", "class", "images", "share"] : ["label", "images", "share"],
    rows: s.label_counts.map((n, label) => [label, ...(names ? [names[label] ?? ""] : []), n, formatPercent(n / s.count)]),
    align: names ? ["right", "left", "right", "right"] : ["right", "right", "right"],
  });
}

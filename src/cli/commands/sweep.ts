/**
 * `rtap sweep <plan.yaml> [--executor local|slurm] [--out dir] [--resume] [--json]`: a design-space
 * sweep over architecture and technology parameters (docs/sweep.md), and its Slurm helpers:
 *   rtap sweep run-point <plan> --out dir --group g --task i   one array task (written by the batch scripts)
 *   rtap sweep status <plan> --out dir                          points done, failed, left; jobs in the queue
 *   rtap sweep collect <plan> --out dir                         merges the result files into the report
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { RtapError } from "../../errors.js";
import { runLocal, type RunCounts } from "../../sweep/local.js";
import { loadPlan, PARETO_FIGURES, type FigureName, type SweepPlan } from "../../sweep/plan.js";
import { collectReport, paretoJson, writeSweepReport, type SweepReport } from "../../sweep/report.js";
import { valueText } from "../../sweep/html.js";
import { runPoint, slurmStatus, submitSlurm, waitForJobs, type SlurmOptions } from "../../sweep/slurm.js";
import { formatEnergy, formatSig, formatTime } from "../format.js";
import { contextOf, type CliContext } from "../context.js";
import { jsonOption, parsePositiveInt } from "../options.js";
import { printJson, printTable, println } from "../output.js";
import { progressFor } from "../progress.js";

interface SweepCliOptions {
  executor: "local" | "slurm";
  out: string;
  resume?: boolean;
  workers?: number;
  partition?: string;
  time?: string;
  mem?: string;
  sbatchFlags?: string;
  rtapCommand?: string;
  wait?: boolean;
  json?: boolean;
}

function outOption(): Option {
  return new Option("--out <dir>", "output directory: one result file per point, the report (a directory every Slurm node sees)").default("rtap-sweep");
}

function figureText(f: FigureName, v: number | undefined): string {
  if (v === undefined) return "—";
  if (f.endsWith("_j")) return formatEnergy(v);
  if (f === "latency_s") return formatTime(v);
  return v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) ? v.toExponential(3) : formatSig(v, 4);
}

/** The terminal's Pareto table: parameters and the plan's figures of every non-dominated point. */
function printPareto(ctx: CliContext, r: SweepReport): void {
  const figs = [...new Set<FigureName>([...PARETO_FIGURES, ...r.figures])];
  const front = r.rows.filter((x) => x.pareto);
  if (!front.length) return;
  println(ctx, `Pareto front (energy, latency, area; ${front.length} of ${r.rows.filter((x) => x.status === "ok").length} points):`);
  printTable(ctx, { head: ["#", ...r.parameters, ...figs], rows: front.map((x) => [x.index, ...r.parameters.map((p) => valueText(x.parameters[p])), ...figs.map((f) => figureText(f, x.figures?.[f]))]) });
}

function printFailed(ctx: CliContext, r: SweepReport): void {
  const failed = r.rows.filter((x) => x.status === "failed");
  if (!failed.length) return;
  println(ctx, `failed points (${failed.length}):`);
  for (const x of failed.slice(0, 10)) println(ctx, `  #${x.index} ${r.parameters.map((p) => `${p}=${valueText(x.parameters[p])}`).join(" ")}: ${x.error}`);
  if (failed.length > 10) println(ctx, `  ... and ${failed.length - 10} more (sweep.csv)`);
}

function hasResults(out: string): number {
  const dir = join(out, "points");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).length : 0;
}

async function finish(ctx: CliContext, plan: SweepPlan, out: string, opts: { json?: boolean | undefined }, extra: Record<string, unknown>): Promise<void> {
  const report = collectReport(plan, out);
  const files = await writeSweepReport(report, out);
  const ok = report.rows.filter((x) => x.status === "ok").length;
  const failed = report.rows.filter((x) => x.status === "failed").length;
  const missing = report.rows.length - ok - failed;
  if (!opts.json) {
    printPareto(ctx, report);
    printFailed(ctx, report);
    const e = extra as Partial<RunCounts>;
    println(
      ctx,
      `${report.rows.length} points: ${ok} ok, ${failed} failed${missing ? `, ${missing} not done` : ""}` +
        (e.compiles !== undefined ? `; ${e.compiles} compile(s) and ${e.simulations ?? e.compiles} simulation(s) ran for ${report.groups} compile group(s)` : "") +
        (e.skipped ? `, ${e.skipped} point(s) resumed` : "") +
        (e.seconds !== undefined ? ` in ${e.seconds.toFixed(1)} s` : ""),
    );
    println(ctx, `report written: ${files.join(", ")}`);
  } else {
    printJson(ctx, { points: report.rows.length, ok, failed, missing, groups: report.groups, ...extra, out, files, pareto: paretoJson(report) });
  }
}

export function register(program: Command): void {
  // `rtap sweep collect <plan> --out d`: the subcommands have their own --out, so options after a
  // subcommand's name belong to it (commander needs this on every level above; the root program has
  // only --version and --help of its own)
  program.enablePositionalOptions();
  const sweep = program
    .command("sweep")
    .description("design-space sweep over architecture and technology parameters (a YAML plan; docs/sweep.md)")
    .enablePositionalOptions()
    .argument("<plan>", "sweep plan (YAML): models, base arch and tech files, parameters by dotted path, figures")
    .addOption(new Option("--executor <name>", "local (worker threads on this machine) or slurm (one job array per compile group)").choices(["local", "slurm"]).default("local"))
    .addOption(outOption())
    .addOption(new Option("--resume", "skip points whose result file in --out says ok (failed points run again)"))
    .addOption(new Option("--workers <n>", "local: worker threads (default: the cores, capped by free memory)").argParser(parsePositiveInt))
    .addOption(new Option("--partition <name>", "slurm: sbatch --partition"))
    .addOption(new Option("--time <limit>", "slurm: sbatch --time per array task (e.g. 00:30:00)"))
    .addOption(new Option("--mem <size>", "slurm: sbatch --mem per array task (e.g. 4G)"))
    .addOption(new Option("--sbatch-flags <flags>", 'slurm: further sbatch flags, e.g. "--qos=short --account=me"'))
    .addOption(new Option("--rtap-command <cmd>", "slurm: how the nodes run rtap (default: this node's node binary and rtap entry point)"))
    .addOption(new Option("--wait", "slurm: wait for the jobs, then collect the results"))
    .addOption(jsonOption())
    .action(async (planFile: string, opts: SweepCliOptions, c: Command) => {
      const ctx = contextOf(c);
      const plan = loadPlan(planFile);
      const out = resolve(opts.out);
      const previous = hasResults(out);
      if (previous && !opts.resume) throw new RtapError(`already holds ${previous} point result(s); pass --resume to keep them and run the rest, or choose another --out`, opts.out);
      const quiet = !!opts.json;
      if (opts.executor === "local") {
        let bar: ReturnType<typeof progressFor> | undefined;
        let last = 0;
        try {
          const counts = await runLocal(plan, {
            out,
            ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
            onStage: (s) => {
              if (!quiet && !ctx.stderr.isTTY) ctx.stderr.write(`${s}\n`);
            },
            onProgress: (done, total) => {
              if (!bar && total > 0) bar = progressFor(ctx, "sweep: unit tasks", total, quiet);
              bar?.tick(done - last);
              last = done;
            },
          });
          bar?.stop();
          await finish(ctx, plan, out, opts, { executor: "local", ...counts });
        } finally {
          bar?.stop();
        }
        return;
      }
      const sopts: SlurmOptions = { out, partition: opts.partition, time: opts.time, mem: opts.mem, sbatchFlags: opts.sbatchFlags, rtapCommand: opts.rtapCommand };
      const t0 = performance.now();
      const sub = submitSlurm(plan, sopts);
      if (!quiet) println(ctx, `submitted ${sub.points - sub.failed} point(s) of ${sub.points + sub.skipped} in ${sub.jobs.length} job array(s) (${sub.compiles} compile group(s))${sub.failed ? `; ${sub.failed} failed before submission (see sweep collect)` : ""}: jobs ${sub.jobs.map((j) => `${j.job}[${j.array}]`).join(", ") || "none"}; results go to ${out}`);
      if (!opts.wait) {
        if (opts.json) printJson(ctx, { executor: "slurm", submitted: sub.points - sub.failed, failed: sub.failed, skipped: sub.skipped, compiles: sub.compiles, jobs: sub.jobs, out });
        else println(ctx, `follow with: rtap sweep status ${planFile} --out ${opts.out}; then rtap sweep collect ${planFile} --out ${opts.out}`);
        return;
      }
      await waitForJobs(sub.jobs.map((j) => j.job));
      await finish(ctx, plan, out, opts, { executor: "slurm", compiles: sub.compiles, simulations: sub.compiles, skipped: sub.skipped, jobs: sub.jobs.map((j) => j.job), seconds: (performance.now() - t0) / 1000 });
    });

  sweep
    .command("run-point")
    .description("one Slurm array task: price the task-th pending point of a compile group (compiling the group when its events are not there)")
    .argument("<plan>", "the sweep plan")
    .addOption(outOption().makeOptionMandatory())
    .requiredOption("--group <id>", "compile group")
    .addOption(new Option("--task <i>", "array task index ($SLURM_ARRAY_TASK_ID)").argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new RtapError(`--task must be a whole number >= 0 (got ${JSON.stringify(v)})`);
      return n;
    }).makeOptionMandatory())
    .addOption(jsonOption())
    .action((planFile: string, opts: { out: string; group: string; task: number; json?: boolean }, c: Command) => {
      const ctx = contextOf(c);
      const r = runPoint(loadPlan(planFile), resolve(opts.out), opts.group, opts.task);
      if (opts.json) printJson(ctx, { id: r.id, index: r.index, status: r.status, ...(r.error ? { error: r.error } : {}), figures: r.figures ?? null });
      else println(ctx, `point ${r.index} (${r.id}): ${r.status}${r.error ? `: ${r.error}` : r.figures ? `, ${formatEnergy(r.figures.energy_j)}, ${formatTime(r.figures.latency_s)}, ${formatSig(r.figures.area_mm2)} mm²` : ""}`);
      if (r.status === "failed") process.exitCode = 1;
    });

  sweep
    .command("status")
    .description("points done, failed and left in --out, and this sweep's jobs still in Slurm's queue")
    .argument("<plan>", "the sweep plan")
    .addOption(outOption())
    .addOption(jsonOption())
    .action((planFile: string, opts: { out: string; json?: boolean }, c: Command) => {
      const ctx = contextOf(c);
      const s = slurmStatus(loadPlan(planFile), resolve(opts.out));
      if (opts.json) printJson(ctx, { ...s });
      else {
        const q = Object.entries(s.queue).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(", ");
        println(ctx, `${s.points} points: ${s.ok} ok, ${s.failed} failed, ${s.missing} not done; Slurm: ${q || "no task of this sweep in the queue"} (jobs ${s.jobs.join(", ") || "none"})`);
      }
    });

  sweep
    .command("collect")
    .description("merge the result files in --out into the report (sweep.json, sweep.csv, sweep.html), as the local executor writes it")
    .argument("<plan>", "the sweep plan")
    .addOption(outOption())
    .addOption(jsonOption())
    .action(async (planFile: string, opts: { out: string; json?: boolean }, c: Command) => {
      const ctx = contextOf(c);
      const out = resolve(opts.out);
      const groups = existsSync(join(out, "groups")) ? readdirSync(join(out, "groups")).filter((f) => /^[0-9a-f]+\.json$/.test(f)).length : 0;
      await finish(ctx, loadPlan(planFile), out, opts, { compiles: groups, simulations: groups });
    });
}

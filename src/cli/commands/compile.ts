/**
 * `rtap compile <model> [--emit <stage>] [--unit <u>] [--arch ...] [--disable ...] [--json]`:
 * compiles a network to AP programs and reports, per compute unit, the CSE table (additions and
 * bit-serial cycles naive vs compiled), the mapping and the program size; `--emit` prints what a
 * pass decided.
 */
import { Option, type Command } from "commander";
import { compileNetwork, type CompiledNetwork } from "../../compiler/pipeline.js";
import { scheduleSlots } from "../../compiler/schedule.js";
import { EMIT_STAGES, emitStage, isEmitStage } from "../../compiler/emit.js";
import { walkSchedule } from "../../compiler/pages.js";
import { RtapError } from "../../errors.js";
import { loadQuantizedModel } from "../../model.js";
import { contextOf, type CliContext } from "../context.js";
import { formatCount, formatRatio } from "../format.js";
import { compilerOptions, disabledPasses, modelOptions, type ModelCliOptions } from "../model-options.js";
import { jsonOption } from "../options.js";
import { printJson, println, printTable } from "../output.js";
import { progressFor, type Progress } from "../progress.js";
import { MODEL_ARG_HELP } from "./eval.js";

interface CompileCliOptions extends ModelCliOptions {
  emit?: string;
  unit?: string;
  json?: boolean;
  verify?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("compile")
    .description("compile a network to AP programs; print the CSE table and mapping per layer, or dump a pass (--emit)")
    .argument("<model>", MODEL_ARG_HELP)
    .addOption(new Option("--emit <stage>", `print what a stage decided: ${EMIT_STAGES.join(", ")}`))
    .addOption(new Option("--unit <name|index>", "with --emit: only this compute unit"))
    .addOption(new Option("--verify", "run the program verifier on every unit"));
  for (const o of [...modelOptions(), ...compilerOptions()]) cmd.addOption(o);
  cmd.addOption(jsonOption()).action((model: string, opts: CompileCliOptions, c: Command) => {
    const ctx = contextOf(c);
    if (opts.emit !== undefined && !isEmitStage(opts.emit)) throw new RtapError(`unknown --emit stage "${opts.emit}"; stages: ${EMIT_STAGES.join(", ")}`);
    const m = loadQuantizedModel(model, { seed: opts.seed, activationBits: opts.activationBits });
    let bar: Progress | undefined;
    let net: CompiledNetwork;
    try {
      net = compileNetwork(m.qgraph, {
        arch: opts.arch,
        disable: disabledPasses(opts.disable),
        verify: opts.verify,
        ...(opts.splitBudget !== undefined ? { splitEnergyBudget: opts.splitBudget } : {}),
        onProgress: (done, total) => {
          bar ??= progressFor(ctx, "compile", total, !!opts.json || opts.emit !== undefined);
          bar.tick(1);
          void done;
        },
      });
    } finally {
      bar?.stop();
    }
    if (opts.emit) {
      println(ctx, emitStage(net, opts.emit as (typeof EMIT_STAGES)[number], { unit: opts.unit }));
      if (opts.json) printJson(ctx, summaryJson(net, model));
      return;
    }
    if (opts.json) printJson(ctx, summaryJson(net, model));
    else printHuman(ctx, net, model);
  });
}

export function summaryJson(net: CompiledNetwork, model: string): Record<string, unknown> {
  let addsNaive = 0, addsCompiled = 0, cyclesNaive = 0, cyclesCompiled = 0, steps = 0;
  const units = net.units.map((u) => {
    // The CSE totals cover the positions mapping; weight-stationary layers are a different
    // mapping (predicated broadcast adds, no expression DAG) and are listed on their own.
    if (!u.stationary) {
      addsNaive += u.stats.addsNaive;
      addsCompiled += u.stats.addsCompiled;
      cyclesNaive += u.stats.cyclesNaive;
      cyclesCompiled += u.stats.cyclesCompiled;
    }
    steps += u.program.nSteps;
    return {
      name: u.unit.name,
      kind: u.unit.kind,
      mapping: u.stationary ? "weight-stationary" : "positions",
      matrices: u.stats.matrices,
      adds_naive: u.stats.addsNaive,
      adds_compiled: u.stats.addsCompiled,
      add_cycles_naive: u.stats.cyclesNaive,
      add_cycles_compiled: u.stats.cyclesCompiled,
      slices: u.stats.slices,
      blocks: u.stats.blocks,
      // the chip schedule: parts of the unit and how many of them can run at once
      parts: u.stationary ? 1 : Math.max(1, u.program.parts.length),
      parallel_slots: u.stationary ? 1 : scheduleSlots(u.mapping, net.arch),
      staging_copies: u.stats.stagingCopies,
      ...pageFigures(net, u),
      steps: u.program.nSteps,
      peak_tmp_slots: u.stats.peakTmpSlots,
      positions: u.mapping.positions,
      arrays: u.mapping.arrays,
      tiles: u.mapping.tiles,
      row_utilization: Math.round(u.mapping.utilization * 1e4) / 1e4,
    };
  });
  return {
    model,
    arch: net.arch.name,
    passes: net.passes,
    units: units.length,
    adds_naive: addsNaive,
    adds_compiled: addsCompiled,
    add_cycles_naive: cyclesNaive,
    add_cycles_compiled: cyclesCompiled,
    ratio_cycles: cyclesCompiled ? Math.round((cyclesNaive / cyclesCompiled) * 1000) / 1000 : null,
    layout: net.layout.kind,
    shift_track_domains: net.layout.kind === "interleaved" ? units.reduce((t, u) => t + (((u as Record<string, unknown>).shift_track_domains as number | null) ?? 0), 0) : null,
    steps,
    compile_seconds: Math.round(net.seconds * 1000) / 1000,
    per_unit: units,
  };
}

/**
 * Interleaved rows: the page schedule's group moves (page switches), domains moved and track-domain
 * moves per inference (all arrays of the unit), and temporaries spilled off the hot pages. Other
 * layouts: null (serial shifts happen inside the ops; `rtap run` counts them).
 */
function pageFigures(net: CompiledNetwork, u: CompiledNetwork["units"][number]): Record<string, number | null> {
  if (net.layout.kind !== "interleaved" || u.stationary) return { page_switches: null, shift_domains: null, shift_track_domains: null, spills: null };
  const s = walkSchedule(u.program, net.layout, net.arch.timing, net.arch.array.rows, null);
  const arrays = u.mapping.arrays * u.mapping.passes;
  return { page_switches: s.events.shifts * arrays, shift_domains: s.events.shiftSteps * arrays, shift_track_domains: s.events.shiftTrackDomains * arrays, spills: u.stats.spills };
}

function printHuman(ctx: CliContext, net: CompiledNetwork, model: string): void {
  const j = summaryJson(net, model);
  println(ctx, `${model} compiled for ${net.arch.name} in ${net.seconds.toFixed(1)} s: ${net.units.length} compute units, ${formatCount(j.steps as number)} program steps`);
  const off = Object.entries(net.passes).filter(([, on]) => !on).map(([k]) => k);
  if (off.length) println(ctx, `passes off: ${off.join(", ")}`);
  printTable(ctx, {
    head: ["unit", "O x J", "adds naive", "adds CSE", "cycles naive", "cycles CSE", "ratio", "slices x blocks", "rows used"],
    rows: net.units.map((u) =>
      u.stationary
        ? [
            u.unit.name,
            u.stats.matrices.map((m) => `${m.rows}x${m.cols}`).join("+"),
            formatCount(u.stats.addsNaive),
            `${formatCount(u.stats.addsCompiled)} bcast`,
            formatCount(u.stats.cyclesNaive),
            "-",
            "stationary",
            `${u.stationary.G} slices`,
            `${u.stationary.O} neurons (${(u.mapping.utilization * 100).toFixed(0)}%)`,
          ]
        : [
            u.unit.name,
            u.stats.matrices.map((m) => `${m.rows}x${m.cols}`).join("+") || u.unit.kind,
            formatCount(u.stats.addsNaive),
            formatCount(u.stats.addsCompiled),
            formatCount(u.stats.cyclesNaive),
            formatCount(u.stats.cyclesCompiled),
            u.stats.cyclesCompiled ? formatRatio(u.stats.cyclesNaive / u.stats.cyclesCompiled) : "-",
            `${u.stats.slices} x ${u.stats.blocks}`,
            `${u.mapping.positions} (${(u.mapping.utilization * 100).toFixed(0)}%)`,
          ],
    ),
    align: ["left", "left", "right", "right", "right", "right", "right", "right", "right"],
  });
  println(ctx, `total (positions-mapped layers): additions ${formatCount(j.adds_naive as number)} -> ${formatCount(j.adds_compiled as number)}, bit-serial add cycles ${formatCount(j.add_cycles_naive as number)} -> ${formatCount(j.add_cycles_compiled as number)} (${formatRatio((j.ratio_cycles as number) ?? 0)} fewer)`);
  const st = net.units.filter((u) => u.stationary);
  if (st.length) println(ctx, `weight-stationary (rows over output neurons, inputs broadcast): ${st.map((u) => u.unit.name).join(", ")}`);
}

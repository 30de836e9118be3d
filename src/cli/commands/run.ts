/**
 * `rtap run <model> --dataset <spec> | --random N [--sim bit|fast] [--verify] [--json]`: runs the
 * compiled AP program on real (or random) inputs, on the bit-level or the word-level simulator;
 * reports accuracy, event counts, and with --verify every unit's output against the integer
 * reference.
 */
import { Option, type Command } from "commander";
import { EVENT_KINDS, addEvents, zeroEvents, type ApEvents } from "../../ap/events.js";
import type { FaultOptions } from "../../ap/faults.js";
import { compileNetwork, runCompiled } from "../../compiler/pipeline.js";
import { loadDataset, randomImages } from "../../data/index.js";
import { RtapError } from "../../errors.js";
import { argmax } from "../../float/executor.js";
import { loadQuantizedModel } from "../../model.js";
import { dequantizeOutput, runReference } from "../../reference/integer.js";
import { contextOf, type CliContext } from "../context.js";
import { formatCount, formatPercent } from "../format.js";
import { compilerOptions, disabledPasses, modelOptions, type ModelCliOptions } from "../model-options.js";
import { datasetOption, jsonOption, limitOption, offsetOption, parsePositiveInt } from "../options.js";
import { printJson, println, printTable } from "../output.js";
import { progressFor, type Progress } from "../progress.js";
import { MODEL_ARG_HELP } from "./eval.js";

interface RunCliOptions extends ModelCliOptions {
  dataset?: string;
  random?: number;
  limit?: number;
  offset?: number;
  sim: "bit" | "fast";
  verify?: boolean;
  events: boolean;
  faults?: string;
  json?: boolean;
}

export interface RunSummary {
  model: string;
  inputs: string;
  sim: "bit" | "fast";
  images: number;
  accuracy: number | null;
  mismatches: number | null;
  events: ApEvents | null;
  unit_mismatches: Record<string, number> | null;
  compile_seconds: number;
  simulate_seconds: number;
}

export function register(program: Command): void {
  const cmd = program
    .command("run")
    .description("run the compiled AP program on a dataset or random inputs (bit-level or word-level simulator), with event counts")
    .argument("<model>", MODEL_ARG_HELP)
    .addOption(datasetOption())
    .addOption(new Option("--random <n>", "run on n seeded random images instead of a dataset").argParser(parsePositiveInt))
    .addOption(limitOption())
    .addOption(offsetOption())
    .addOption(new Option("--sim <level>", "simulator: bit (bit-sliced arrays) or fast (word level, same events)").choices(["bit", "fast"]).default("fast"))
    .addOption(new Option("--verify", "compare every unit's output with the integer reference"))
    .addOption(new Option("--no-events", "skip event counting (word level only; faster)"))
    .addOption(new Option("--faults <spec>", "bit level: inject faults, e.g. shift=1e-6,write=1e-7,seed=1"));
  for (const o of [...modelOptions(), ...compilerOptions()]) cmd.addOption(o);
  cmd.addOption(jsonOption()).action((model: string, opts: RunCliOptions, c: Command) => {
    const ctx = contextOf(c);
    const summary = runCommand(ctx, model, opts);
    if (opts.json) printJson(ctx, summary);
    else printHuman(ctx, summary);
  });
}

function parseFaults(spec: string): FaultOptions {
  const f: FaultOptions = { shiftFaultProb: 0, writeFlipProb: 0, seed: 1 };
  for (const part of spec.split(",")) {
    const [k, v] = part.split("=").map((s) => s.trim());
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new RtapError(`--faults: "${part}" needs a non-negative number`);
    if (k === "shift") f.shiftFaultProb = x;
    else if (k === "write") f.writeFlipProb = x;
    else if (k === "seed") f.seed = x;
    else throw new RtapError(`--faults: unknown key "${k}" (shift, write, seed)`);
  }
  if (f.shiftFaultProb! > 1 || f.writeFlipProb! > 1) throw new RtapError("--faults: probabilities must be at most 1");
  return f;
}

export function runCommand(ctx: CliContext, model: string, opts: RunCliOptions): RunSummary {
  if (!opts.dataset && !opts.random) throw new RtapError("give --dataset <spec> or --random <n>");
  if (opts.dataset && opts.random) throw new RtapError("give either --dataset or --random, not both");
  if (opts.faults && opts.sim !== "bit") throw new RtapError("--faults needs --sim bit (faults act on bits)");
  if (!opts.events && opts.sim === "bit") throw new RtapError("--no-events applies to --sim fast only");
  const m = loadQuantizedModel(model, { seed: opts.seed, activationBits: opts.activationBits });
  const q = m.qgraph;
  const inShape = q.tensors.get(q.input)!.shape;
  const per = inShape[0] * inShape[1] * inShape[2];
  let images: Uint8Array, labels: Uint8Array | null, count: number, inputs: string;
  if (opts.dataset) {
    const ds = loadDataset(opts.dataset, { limit: opts.limit, offset: opts.offset });
    if (ds.shape.join("x") !== inShape.join("x")) throw new RtapError(`dataset images are ${ds.shape.join("x")} but the model expects ${inShape.join("x")}`, opts.dataset);
    images = ds.images;
    labels = ds.labels;
    count = ds.count;
    inputs = ds.spec;
  } else {
    count = opts.random!;
    images = randomImages(inShape, count, opts.seed + 1);
    labels = null;
    inputs = `random:${count} (seed ${opts.seed + 1})`;
  }
  const net = compileNetwork(q, { arch: opts.arch, disable: disabledPasses(opts.disable), ...(opts.splitBudget !== undefined ? { splitEnergyBudget: opts.splitBudget } : {}) });
  const faults = opts.faults ? parseFaults(opts.faults) : undefined;
  const t0 = performance.now();
  const events = zeroEvents();
  const unitMismatch: Record<string, number> = {};
  let mismatches = 0, correct = 0;
  const B = opts.sim === "bit" ? 32 : 64;
  let bar: Progress | undefined;
  try {
    for (let b = 0; b < count; b += B) {
      const nb = Math.min(B, count - b);
      const pix = images.subarray(b * per, (b + nb) * per);
      const ref = opts.verify ? runReference(q, pix, nb, { keepAll: true }) : undefined;
      const r = runCompiled(net, pix, nb, { mode: opts.sim, reference: ref?.tensors, faults, events: opts.events });
      addEvents(events, r.events);
      mismatches += r.mismatches;
      if (opts.verify) for (const u of r.units) unitMismatch[u.unit] = (unitMismatch[u.unit] ?? 0) + u.mismatches;
      if (labels) {
        const logits = dequantizeOutput(q, r.output, nb);
        for (let i = 0; i < nb; i++) if (argmax(logits[i]!) === labels[b + i]) correct++;
      }
      bar ??= progressFor(ctx, `run (${opts.sim})`, count, !!opts.json);
      bar.tick(nb);
    }
  } finally {
    bar?.stop();
  }
  return {
    model,
    inputs,
    sim: opts.sim,
    images: count,
    accuracy: labels ? correct / count : null,
    mismatches: opts.verify ? mismatches : null,
    events: opts.events ? events : null,
    unit_mismatches: opts.verify ? unitMismatch : null,
    compile_seconds: Math.round(net.seconds * 1000) / 1000,
    simulate_seconds: Math.round((performance.now() - t0)) / 1000,
  };
}

function printHuman(ctx: CliContext, s: RunSummary): void {
  println(ctx, `${s.model} on ${s.inputs}: ${s.images} image(s), ${s.sim === "bit" ? "bit-level" : "word-level"} simulation in ${s.simulate_seconds.toFixed(1)} s (compile ${s.compile_seconds.toFixed(1)} s)`);
  if (s.accuracy !== null) println(ctx, `accuracy: ${formatPercent(s.accuracy, 2)}`);
  if (s.mismatches !== null) {
    println(ctx, s.mismatches === 0 ? "verify: every unit's output equals the integer reference bit for bit" : `verify: ${s.mismatches} output values differ from the integer reference`);
  }
  if (s.events) {
    printTable(ctx, {
      head: ["event", "total", "per image"],
      rows: EVENT_KINDS.map((k) => [k, formatCount(s.events![k]), formatCount(Math.round(s.events![k] / s.images))]),
      align: ["left", "right", "right"],
    });
  }
}

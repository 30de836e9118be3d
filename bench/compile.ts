/**
 * `npm run bench -- compile [--json] [--model <spec>] [--seed N] [--arch <name|file>] [--disable a,b] [--verify]`
 *
 * The full compile of zoo:resnet18 (ImageNet 224x224, synthetic TWN weights): the headline is
 * `compile_seconds`, compileNetwork alone; building the zoo graph and quantizing it are timed and
 * reported apart. Figures: the CSE totals as `rtap compile --json` reports them (additions and
 * bit-serial add cycles naive vs compiled over the positions-mapped layers, program steps) and the
 * per-layer table (O x J, additions and cycles naive/CSE, ratio, slices x blocks, row
 * utilisation). Targets (DESIGN.md): seconds, not minutes; memory well under 4 GB.
 */
import Table from "cli-table3";
import { r3, option, type BenchArgs, type Figures } from "./harness.js";
import { summaryJson } from "../src/cli/commands/compile.js";
import { passByName } from "../src/compiler/pipeline.js";
import { compileNetwork } from "../src/compiler/pipeline.js";
import { loadModel } from "../src/model.js";
import { quantizeGraph } from "../src/quantize/quantize.js";

export const description = "full compile of zoo:resnet18 (build and quantize timed apart): seconds, CSE totals and the per-layer table";

interface UnitRow {
  name: string;
  mapping: string;
  matrices: { rows: number; cols: number }[];
  adds_naive: number;
  adds_compiled: number;
  add_cycles_naive: number;
  add_cycles_compiled: number;
  slices: number;
  blocks: number;
  positions: number;
  row_utilization: number;
  steps: number;
  kind: string;
}

export async function run({ argv, log }: BenchArgs): Promise<Figures> {
  const spec = option(argv, "--model") ?? "zoo:resnet18";
  const seed = Number(option(argv, "--seed") ?? 0);
  const arch = option(argv, "--arch") ?? "rtm-ap";
  const disable = (option(argv, "--disable") ?? "").split(",").filter(Boolean).map(passByName);
  const verify = argv.includes("--verify");

  let t0 = performance.now();
  const m = loadModel(spec, { seed });
  const buildSeconds = (performance.now() - t0) / 1000;
  const dims = m.graph.inputs[0]!.dims;
  const pixels = dims[1]! * dims[2]! * dims[3]!;
  t0 = performance.now();
  // the calibration loadQuantizedModel uses for float models
  const q = quantizeGraph(m.graph, { seed, calibrationCount: Math.max(1, Math.min(16, Math.floor(200_000 / pixels))) });
  const quantizeSeconds = (performance.now() - t0) / 1000;
  log(`build ${spec}: ${buildSeconds.toFixed(2)} s, quantize: ${quantizeSeconds.toFixed(2)} s`);

  t0 = performance.now();
  const net = compileNetwork(q, { arch, disable, verify });
  const compileSeconds = (performance.now() - t0) / 1000;
  log(`compile${verify ? " (with the verifier)" : ""}: ${compileSeconds.toFixed(2)} s`);

  const j = summaryJson(net, spec);
  const units = j.per_unit as UnitRow[];
  const table = new Table({
    head: ["layer", "O x J", "adds naive", "adds CSE", "cycles naive", "cycles CSE", "ratio", "slices x blocks", "rows used"],
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  const layers: Record<string, unknown>[] = [];
  for (const u of units) {
    if (u.kind !== "conv") continue;
    const shape = u.matrices.map((x) => `${x.rows}x${x.cols}`).join("+");
    const stationary = u.mapping === "weight-stationary";
    const ratio = u.add_cycles_compiled ? u.add_cycles_naive / u.add_cycles_compiled : 0;
    table.push([
      u.name,
      shape,
      u.adds_naive,
      stationary ? `${u.adds_compiled} bcast` : u.adds_compiled,
      u.add_cycles_naive,
      stationary ? "-" : u.add_cycles_compiled,
      stationary ? "stationary" : ratio.toFixed(2),
      `${u.slices} x ${u.blocks}`,
      `${stationary ? `${u.matrices[0]!.rows} neurons` : `${u.positions} positions`} (${(u.row_utilization * 100).toFixed(1)}%)`,
    ]);
    layers.push({
      layer: u.name,
      mapping: u.mapping,
      o_x_j: shape,
      adds_naive: u.adds_naive,
      adds_compiled: u.adds_compiled,
      add_cycles_naive: u.add_cycles_naive,
      add_cycles_compiled: u.add_cycles_compiled,
      ratio_cycles: stationary ? null : r3(ratio),
      slices: u.slices,
      blocks: u.blocks,
      positions: u.positions,
      row_utilization: u.row_utilization,
      steps: u.steps,
    });
  }
  log(table.toString());
  log(`total (positions-mapped layers): additions ${j.adds_naive} -> ${j.adds_compiled}, add cycles ${j.add_cycles_naive} -> ${j.add_cycles_compiled} (${j.ratio_cycles}x fewer); ${j.steps} program steps`);

  return {
    model: spec,
    arch: net.arch.name,
    passes_off: disable.join(",") || "none",
    verify,
    build_seconds: r3(buildSeconds),
    quantize_seconds: r3(quantizeSeconds),
    compile_seconds: r3(compileSeconds),
    units: net.units.length,
    adds_naive: j.adds_naive as number,
    adds_compiled: j.adds_compiled as number,
    add_cycles_naive: j.add_cycles_naive as number,
    add_cycles_compiled: j.add_cycles_compiled as number,
    ratio_cycles: j.ratio_cycles as number,
    steps: j.steps as number,
    layers,
  };
}

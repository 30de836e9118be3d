/**
 * `npm run bench -- simulate [--json] [--model <spec>] [--seed N] [--images N] [--no-events]`
 *
 * Word-level ("fast") simulation of one zoo:resnet18 inference (ImageNet 224x224, synthetic TWN
 * weights) on a seeded random image, with event counting, every unit's output checked against
 * the integer reference. The headline is `simulate_seconds` (runCompiled alone); build, quantize,
 * compile and the reference run are timed apart. Also: the event totals and the five slowest units.
 * Target (DESIGN.md): seconds.
 */
import { r3, option, type BenchArgs, type Figures } from "./harness.js";
import { compileNetwork, runCompiled } from "../src/compiler/pipeline.js";
import { randomImages } from "../src/data/synthetic.js";
import { loadQuantizedModel } from "../src/model.js";
import { runReference } from "../src/reference/integer.js";

export const description = "word-level simulation (with events) of one zoo:resnet18 inference, verified against the integer reference";

export async function run({ argv, log }: BenchArgs): Promise<Figures> {
  const spec = option(argv, "--model") ?? "zoo:resnet18";
  const seed = Number(option(argv, "--seed") ?? 0);
  const images = Number(option(argv, "--images") ?? 1);
  const events = !argv.includes("--no-events");

  let t0 = performance.now();
  const m = loadQuantizedModel(spec, { seed });
  const loadSeconds = (performance.now() - t0) / 1000;
  const q = m.qgraph;
  t0 = performance.now();
  const net = compileNetwork(q);
  const compileSeconds = (performance.now() - t0) / 1000;
  log(`build + quantize ${spec}: ${loadSeconds.toFixed(2)} s, compile: ${compileSeconds.toFixed(2)} s`);

  const shape = q.tensors.get(q.input)!.shape;
  const pixels = randomImages(shape, images, seed + 1);
  t0 = performance.now();
  const ref = runReference(q, pixels, images, { keepAll: true });
  const referenceSeconds = (performance.now() - t0) / 1000;

  const unitSeconds: [string, number][] = [];
  let last = performance.now();
  t0 = last;
  const r = runCompiled(net, pixels, images, {
    mode: "fast",
    events,
    reference: ref.tensors,
    onUnit: (_done, _total, unit) => {
      const now = performance.now();
      unitSeconds.push([unit, (now - last) / 1000]);
      last = now;
    },
  });
  const simulateSeconds = (performance.now() - t0) / 1000;
  log(`simulate (word level${events ? ", events" : ", values only"}): ${simulateSeconds.toFixed(2)} s for ${images} image(s); mismatches ${r.mismatches}`);
  if (r.mismatches > 0) log(`  WARNING: ${r.mismatches} output values differ from the integer reference: ${r.units.filter((u) => u.mismatches).map((u) => u.unit).join(", ")}`);
  const slowest = [...unitSeconds].sort((a, b) => b[1] - a[1]).slice(0, 5);
  log(`  slowest units: ${slowest.map(([u, s]) => `${u} ${s.toFixed(2)} s`).join(", ")}`);

  return {
    model: spec,
    images,
    events_counted: events,
    load_seconds: r3(loadSeconds),
    compile_seconds: r3(compileSeconds),
    reference_seconds: r3(referenceSeconds),
    simulate_seconds: r3(simulateSeconds),
    mismatches: r.mismatches,
    ...(events ? r.events : {}),
    movement_cycles: events ? r.movement.cycles : null,
    slowest_units: Object.fromEntries(slowest.map(([u, s]) => [u, r3(s)])),
  };
}

/**
 * Prints the compiler-pass ablation table of docs/compiler.md section 7: fmnist-resnet8 on one
 * Fashion-MNIST image (the test fixture's first), word level with events, every pass off once,
 * and the serial layout with every pass on. `npx tsx scripts/ablation-table.ts`
 */
import { loadArch } from "../src/ap/config.js";
import { loadDataset } from "../src/data/index.js";
import type { PassSwitches } from "../src/compiler/lower.js";
import { compileNetwork, PASS_NAMES, runCompiled } from "../src/compiler/pipeline.js";
import { loadQuantizedModel } from "../src/model.js";

const q = loadQuantizedModel("test/fixtures/models/fmnist-resnet8.onnx").qgraph;
const { images } = loadDataset("idx:test/fixtures/fashion-mnist-slice", { limit: 1 });
const n = (x: number): string => Math.round(x).toLocaleString("en-US");
const rows: string[] = [];
const variants: [string, (keyof PassSwitches)[], string][] = [["none", [], "rtm-ap"]];
for (const p of Object.keys(PASS_NAMES) as (keyof PassSwitches)[]) variants.push([PASS_NAMES[p], [p], "rtm-ap"]);
variants.push(["serial layout (all passes on)", [], "rtm-ap-serial"]);
for (const [name, disable, arch] of variants) {
  const net = compileNetwork(q, { arch: loadArch(arch), disable });
  const r = runCompiled(net, images, 1, { mode: "fast" });
  let adds = 0, cyc = 0, staging = 0, steps = 0;
  for (const u of net.units) (adds += u.stats.addsCompiled), (cyc += u.stats.cyclesCompiled), (staging += u.stats.stagingCopies), (steps += u.program.nSteps);
  const e = r.events, m = r.movement;
  rows.push(`| ${name} | ${n(adds)} | ${n(cyc)} | ${n(staging)} | ${n(steps)} | ${n(e.cycles)} | ${n(m.cycles)} | ${n(e.searches)} | ${n(e.shiftTrackDomains)} | ${n(e.transferBitsArray)} | ${n(e.transferBitsChip)} |`);
}
console.log("| pass off | adds | add cycles (table) | staging | steps | cycles | of which movement | searches | shift track-domains | tile-bus bits | global-buffer bits |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(r);

/**
 * `rtap compare` end to end on the committed fmnist-resnet8 model: the JSON line's per-target
 * figures and their consistency (ratios, components, layers, ablation, written files), the AP
 * energies equal to pricing a fresh simulation's events, the same report whether the AP programs
 * run in this thread or in worker threads, and user errors as one `rtap:` line.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareModel } from "../../src/compare.js";
import { compileNetwork, PASS_NAMES, runCompiled } from "../../src/compiler/pipeline.js";
import { apCostPerLayer } from "../../src/cost/ap.js";
import { loadApTechnology } from "../../src/cost/technology.js";
import { loadArch } from "../../src/ap/config.js";
import { randomImages } from "../../src/data/index.js";
import { loadQuantizedModel } from "../../src/model.js";
import { fixtureModel } from "../import/fixtures.js";
import { assertUserError, lastLine, rtap } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");

interface TargetJson {
  energy_j: number;
  latency_s: number;
  area_mm2: number;
  movement_share: number;
  energy_ratio_vs_crossbar: number;
  energy_ratio_vs: Record<string, number>;
  components_j: Record<string, number>;
}

const close = (a: number, b: number, rel = 1e-9): boolean => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describe("rtap compare on fmnist-resnet8", () => {
  test("--json: every target's figures, consistent ratios and components, the ablation, the report files", async () => {
    const out = mkdtempSync(join(tmpdir(), "rtap-compare-"));
    try {
      const r = await rtap(["compare", PLAIN, "--json", "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(lastLine(r.stdout)) as { targets: Record<string, TargetJson>; ablation: { pass: string; energy_j: number; add_cycles: number; energy_vs_full: number }[]; sensitivity: { crossbar: string; base: number; range: [number, number] }[]; files: string[] };
      assert.deepEqual(Object.keys(j.targets), ["rtm-ap", "sram-ap", "crossbar-isaac", "crossbar-neurosim22"]);
      for (const [id, t] of Object.entries(j.targets)) {
        for (const k of ["energy_j", "latency_s", "area_mm2"] as const) assert.ok(Number.isFinite(t[k]) && t[k] > 0, `${id} ${k} = ${t[k]}`);
        assert.ok(t.movement_share >= 0 && t.movement_share < 1, `${id} movement share ${t.movement_share}`);
        const parts = Object.values(t.components_j).reduce((a, b) => a + b, 0);
        assert.ok(close(parts, t.energy_j, 1e-6), `${id}: components sum to ${parts}, energy ${t.energy_j}`);
        for (const x of ["crossbar-isaac", "crossbar-neurosim22"]) assert.ok(close(t.energy_ratio_vs[x]!, t.energy_j / j.targets[x]!.energy_j), `${id} vs ${x}`);
        assert.equal(t.energy_ratio_vs_crossbar, t.energy_ratio_vs["crossbar-isaac"]);
      }
      assert.equal(j.targets["crossbar-isaac"]!.energy_ratio_vs_crossbar, 1);

      // ablation: the full pipeline, then every pass off once; folding weights away costs the most cycles
      assert.deepEqual(j.ablation.map((a) => a.pass), ["none", ...Object.values(PASS_NAMES)]);
      const none = j.ablation[0]!;
      assert.ok(close(none.energy_j, j.targets["rtm-ap"]!.energy_j, 1e-6));
      assert.equal(none.energy_vs_full, 1);
      const byPass = new Map(j.ablation.map((a) => [a.pass, a]));
      for (const p of ["weight-folding", "cse", "bitwidth", "unroll"]) assert.ok(byPass.get(p)!.add_cycles > none.add_cycles, `${p} off adds cycles`);
      for (const p of ["layout", "movement"]) assert.equal(byPass.get(p)!.add_cycles, none.add_cycles, `${p} off keeps the program`);
      assert.ok(byPass.get("weight-folding")!.energy_vs_full > 1);

      assert.equal(j.sensitivity.length, 2);
      for (const s of j.sensitivity) assert.ok(s.range[0] <= s.base && s.base <= s.range[1], `${s.crossbar}: base ${s.base} in ${s.range}`);
      for (const f of j.files) assert.ok(existsSync(f), f);
      assert.deepEqual(j.files.map((f) => f.slice(out.length + 1)).sort(), ["report-ablation.csv", "report-sensitivity.csv", "report.csv", "report.html", "report.json"]);
      const saved = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { targets: { target: string; energyJ: number }[] };
      assert.equal(saved.targets.find((t) => t.target === "rtm-ap")!.energyJ, j.targets["rtm-ap"]!.energy_j);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test("AP energies are the technology file's prices of a fresh simulation's events", async () => {
    const { report } = await compareModel(PLAIN, { targets: ["rtm-ap", "sram-ap"], ablation: false, sensitivity: false });
    const q = loadQuantizedModel(PLAIN).qgraph;
    const pixels = randomImages(q.tensors.get(q.input)!.shape, 1, 1);
    for (const id of ["rtm-ap", "sram-ap"]) {
      const arch = loadArch(id);
      const run = runCompiled(compileNetwork(q, { arch }), pixels, 1, { mode: "fast", events: true });
      const priced = apCostPerLayer(run.units.map((u) => ({ name: u.unit, events: u.events })), loadApTechnology(id), arch);
      const t = report.targets.find((x) => x.target === id)!;
      assert.ok(close(t.energyJ, priced.total.energyJ), `${id}: report ${t.energyJ} J, priced ${priced.total.energyJ} J`);
      assert.equal(t.layers.length, run.units.length);
    }
  });

  test("the same report whether the AP programs run in this thread or in worker threads", async () => {
    const opts = { targets: ["rtm-ap", "sram-ap", "crossbar-isaac"], sensitivity: false } as const;
    const here = (await compareModel(PLAIN, { ...opts, workers: 1 })).report;
    const stages: string[] = [];
    const there = (await compareModel(PLAIN, { ...opts, workers: 2, onStage: (s) => stages.push(s) })).report;
    assert.ok(stages.some((s) => s.includes("sram-ap in a worker thread")), stages.join(" | "));
    assert.ok(stages.some((s) => s.includes("worker threads")), stages.join(" | "));
    assert.deepEqual(there.targets, here.targets);
    assert.deepEqual(there.ablation, here.ablation);
  });

  test("user errors: an unknown target, a missing model", async () => {
    const bad = await rtap(["compare", PLAIN, "--targets", "rtm-ap,gpu", "--no-report"]);
    assertUserError(bad, 'unknown target "gpu"; targets: rtm-ap, sram-ap, crossbar');
    assert.match(bad.stderr, /^rtap: unknown target "gpu"; targets: rtm-ap, sram-ap, crossbar/);
    const missing = await rtap(["compare", join(tmpdir(), "no-such-model.onnx"), "--no-report"]);
    assertUserError(missing, "no-such-model.onnx: no such model file");
    assert.match(missing.stderr, /^rtap: .*no-such-model\.onnx: no such model file/);
  });
});

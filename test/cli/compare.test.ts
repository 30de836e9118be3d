/**
 * `rtap compare` end to end on the committed fmnist-resnet8 model: the JSON line's per-target
 * figures and their consistency (ratios against every crossbar and reference row, components,
 * precision, events, technology scenarios, ablation, written files), the AP energies and every
 * scenario's energy equal to pricing a fresh simulation's events with each file, reference rows
 * equal to 2 x MACs / efficiency, the same report whether the AP programs run in this thread or in
 * worker threads, and user errors as one `rtap:` line.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareModel } from "../../src/compare.js";
import { compileNetwork, PASS_NAMES, runCompiled } from "../../src/compiler/pipeline.js";
import { apCostPerLayer } from "../../src/cost/ap.js";
import { loadApTechnology, loadReferenceTechnology, RTM_SCENARIOS } from "../../src/cost/technology.js";
import { workloadFromQGraph } from "../../src/cost/workload.js";
import { EVENT_KINDS } from "../../src/ap/events.js";
import { loadArch } from "../../src/ap/config.js";
import { randomImages } from "../../src/data/index.js";
import { loadQuantizedModel } from "../../src/model.js";
import { fixtureModel } from "../import/fixtures.js";
import { assertUserError, lastLine, rtap } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");

interface TargetJson {
  kind: "ap" | "crossbar" | "reference";
  precision: string | null;
  energy_j: number;
  latency_s: number | null;
  area_mm2: number | null;
  movement_share: number | null;
  energy_ratio_vs_crossbar: number;
  energy_ratio_vs: Record<string, number>;
  components_j: Record<string, number>;
  events?: Record<string, number>;
  scenarios?: Record<string, { default: boolean; energy_j: number; latency_s: number; energy_ratio_vs: Record<string, number>; components_j: Record<string, number> }>;
  reference?: { efficiency_gops_per_w: number; ops: number; source: string };
}

const BASELINES = ["crossbar-isaac", "crossbar-neurosim22", "reference-isaac", "reference-puma"];

const close = (a: number, b: number, rel = 1e-9): boolean => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

describe("rtap compare on fmnist-resnet8", () => {
  test("--json: every target's figures, consistent ratios and components, the ablation, the report files", async () => {
    const out = mkdtempSync(join(tmpdir(), "rtap-compare-"));
    try {
      const r = await rtap(["compare", PLAIN, "--json", "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(lastLine(r.stdout)) as { targets: Record<string, TargetJson>; ablation: { pass: string; energy_j: number; add_cycles: number; energy_vs_full: number }[]; sensitivity: { crossbar: string; base: number; range: [number, number] }[]; files: string[] };
      assert.deepEqual(Object.keys(j.targets), ["rtm-ap", "sram-ap", "crossbar-isaac", "crossbar-neurosim22", "reference-isaac", "reference-puma"]);
      for (const [id, t] of Object.entries(j.targets)) {
        assert.ok(Number.isFinite(t.energy_j) && t.energy_j > 0, `${id} energy ${t.energy_j}`);
        if (t.kind === "reference") {
          // a published efficiency: no latency, area, movement or components
          assert.deepEqual([t.latency_s, t.area_mm2, t.movement_share, t.components_j], [null, null, null, {}]);
        } else {
          for (const k of ["latency_s", "area_mm2"] as const) assert.ok(Number.isFinite(t[k]) && t[k]! > 0, `${id} ${k} = ${t[k]}`);
          assert.ok(t.movement_share! >= 0 && t.movement_share! < 1, `${id} movement share ${t.movement_share}`);
          const parts = Object.values(t.components_j).reduce((a, b) => a + b, 0);
          assert.ok(close(parts, t.energy_j, 1e-6), `${id}: components sum to ${parts}, energy ${t.energy_j}`);
        }
        assert.deepEqual(Object.keys(t.energy_ratio_vs), BASELINES, `${id}: a ratio against every crossbar and reference row`);
        for (const x of BASELINES) assert.ok(close(t.energy_ratio_vs[x]!, t.energy_j / j.targets[x]!.energy_j), `${id} vs ${x}`);
        assert.equal(t.energy_ratio_vs_crossbar, t.energy_ratio_vs["crossbar-isaac"]);
      }
      assert.equal(j.targets["crossbar-isaac"]!.energy_ratio_vs_crossbar, 1);
      assert.deepEqual(
        Object.fromEntries(Object.entries(j.targets).map(([id, t]) => [id, [t.kind, t.precision]])),
        {
          "rtm-ap": ["ap", "W2/A4"],
          "sram-ap": ["ap", "W2/A4"],
          "crossbar-isaac": ["crossbar", "W2/A4"],
          "crossbar-neurosim22": ["crossbar", "W2/A4"],
          "reference-isaac": ["reference", "16-bit"],
          "reference-puma": ["reference", "not stated in the abstract"],
        },
        "every crossbar and reference row states its precision",
      );

      // reference rows: energy = 2 x MACs / published efficiency
      const macs = workloadFromQGraph(loadQuantizedModel(PLAIN).qgraph).totalMacs;
      for (const [id, gopsPerW] of [["reference-isaac", 627.5], ["reference-puma", 837]] as const) {
        const t = j.targets[id]!;
        assert.equal(loadReferenceTechnology(id).efficiency.value, gopsPerW * 1e9);
        assert.ok(close(t.energy_j, (2 * macs) / (gopsPerW * 1e9)), `${id}: ${t.energy_j} J`);
        assert.deepEqual([t.reference!.efficiency_gops_per_w, t.reference!.ops], [gopsPerW, 2 * macs]);
        assert.match(t.reference!.source, /rtm-energies\.md §5/);
      }

      // AP targets: events per inference by kind, snake_case
      for (const id of ["rtm-ap", "sram-ap"]) {
        const ev = j.targets[id]!.events!;
        for (const k of ["shift_track_domains", "write_cells", "searches", "search_rows", "micro_ops", "array_seconds"]) assert.ok(k in ev, `${id} events.${k}`);
        for (const v of Object.values(ev)) assert.ok(Number.isFinite(v) && v >= 0);
        assert.ok(ev.searches! > 0 && ev.write_cells! > 0);
      }
      assert.equal(j.targets["sram-ap"]!.events!.shift_track_domains, 0, "SRAM never shifts");

      // the RTM-AP under every technology scenario; the default one is the target itself
      const sc = j.targets["rtm-ap"]!.scenarios!;
      assert.deepEqual(Object.keys(sc), [...RTM_SCENARIOS]);
      assert.deepEqual(Object.values(sc).map((s) => s.default), [true, false, false]);
      assert.equal(sc["rtm-ap"]!.energy_j, j.targets["rtm-ap"]!.energy_j);
      assert.ok(sc["rtm-ap-low"]!.energy_j < sc["rtm-ap"]!.energy_j && sc["rtm-ap"]!.energy_j < sc["rtm-ap-destiny"]!.energy_j);
      for (const s of Object.values(sc)) for (const x of BASELINES) assert.ok(close(s.energy_ratio_vs[x]!, s.energy_j / j.targets[x]!.energy_j));
      assert.equal(j.targets["sram-ap"]!.scenarios, undefined);

      // ablation: the full pipeline, then every pass off once; folding weights away costs the most cycles
      assert.deepEqual(j.ablation.map((a) => a.pass), ["none", ...Object.values(PASS_NAMES), "serial layout"]);
      const none = j.ablation[0]!;
      assert.ok(close(none.energy_j, j.targets["rtm-ap"]!.energy_j, 1e-6));
      assert.equal(none.energy_vs_full, 1);
      const byPass = new Map(j.ablation.map((a) => [a.pass, a]));
      // (on the interleaved row the CSE pass plans the page-streamed reduction: it saves shifts, not additions)
      for (const p of ["weight-folding", "bitwidth", "unroll"]) assert.ok(byPass.get(p)!.add_cycles > none.add_cycles, `${p} off adds cycles`);
      for (const p of ["cse", "allocation", "serial layout"]) assert.ok(byPass.get(p)!.energy_j > none.energy_j, `${p}: more energy than the full pipeline`);
      for (const p of ["layout", "movement"]) assert.equal(byPass.get(p)!.add_cycles, none.add_cycles, `${p} off keeps the program`);
      assert.ok(byPass.get("weight-folding")!.energy_vs_full > 1);

      assert.equal(j.sensitivity.length, 2);
      for (const s of j.sensitivity) assert.ok(s.range[0] <= s.base && s.base <= s.range[1], `${s.crossbar}: base ${s.base} in ${s.range}`);
      for (const f of j.files) assert.ok(existsSync(f), f);
      assert.deepEqual(j.files.map((f) => f.slice(out.length + 1)).sort(), ["report-ablation.csv", "report-sensitivity.csv", "report-summary.csv", "report.csv", "report.html", "report.json"]);
      const saved = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { targets: { target: string; energyJ: number }[] };
      assert.equal(saved.targets.find((t) => t.target === "rtm-ap")!.energyJ, j.targets["rtm-ap"]!.energy_j);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test("AP energies and every scenario's energy are the technology files' prices of a fresh simulation's events", async () => {
    const { report } = await compareModel(PLAIN, { targets: ["rtm-ap", "sram-ap", "crossbar-isaac"], ablation: false, sensitivity: false });
    const q = loadQuantizedModel(PLAIN).qgraph;
    const pixels = randomImages(q.tensors.get(q.input)!.shape, 1, 1);
    for (const id of ["rtm-ap", "sram-ap"]) {
      const arch = loadArch(id);
      const run = runCompiled(compileNetwork(q, { arch }), pixels, 1, { mode: "fast", events: true });
      const units = run.units.map((u) => ({ name: u.unit, events: u.events }));
      const priced = apCostPerLayer(units, loadApTechnology(id), arch);
      const t = report.targets.find((x) => x.target === id)!;
      assert.ok(close(t.energyJ, priced.total.energyJ), `${id}: report ${t.energyJ} J, priced ${priced.total.energyJ} J`);
      assert.equal(t.layers.length, run.units.length);
      // events: every simulator counter summed over units, in snake_case, and the derived kinds
      for (const k of EVENT_KINDS) {
        const snake = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
        assert.equal(t.events![snake], units.reduce((s, u) => s + u.events[k], 0), `${id} events.${snake}`);
      }
      assert.equal(t.events!.search_rows, priced.total.counts.search_rows);
      assert.equal(t.events!.micro_ops, priced.total.counts.micro_ops);
      if (id !== "rtm-ap") continue;
      // each scenario: the same events priced with its own file (no re-simulation)
      assert.deepEqual(t.scenarios!.map((s) => s.technology), [...RTM_SCENARIOS]);
      for (const s of t.scenarios!) {
        const c = apCostPerLayer(units, loadApTechnology(s.technology), arch).total;
        assert.ok(close(s.energyJ, c.energyJ), `${s.technology}: report ${s.energyJ} J, priced ${c.energyJ} J`);
        assert.ok(close(s.components.shift!, c.energy.shift), `${s.technology} shift`);
        const x = report.targets.find((y) => y.target === "crossbar-isaac")!;
        assert.ok(close(s.energyRatioVsCrossbar["crossbar-isaac"]!, s.energyJ / x.energyJ));
      }
    }
  });

  test("the layout-off and movement-off ablation rows are their own programs' events: energy and latency equal pricing a fresh simulation", async () => {
    const { report } = await compareModel(PLAIN, { targets: ["rtm-ap", "crossbar-isaac"], sensitivity: false });
    const q = loadQuantizedModel(PLAIN).qgraph;
    const pixels = randomImages(q.tensors.get(q.input)!.shape, 1, 1);
    const arch = loadArch("rtm-ap");
    const none = report.ablation.find((a) => a.pass === "none")!;
    for (const pass of ["layout", "movement"] as const) {
      const run = runCompiled(compileNetwork(q, { arch, disable: [pass] }), pixels, 1, { mode: "fast", events: true });
      const priced = apCostPerLayer(run.units.map((u) => ({ name: u.unit, events: u.events })), loadApTechnology("rtm-ap"), arch).total;
      const row = report.ablation.find((a) => a.pass === pass)!;
      assert.ok(close(row.energyJ, priced.energyJ), `${pass}: row ${row.energyJ} J, fresh ${priced.energyJ} J`);
      assert.ok(close(row.latencyS, priced.latencyS), `${pass}: row ${row.latencyS} s, fresh ${priced.latencyS} s`);
    }
    assert.ok(report.ablation.find((a) => a.pass === "movement")!.latencyS > none.latencyS, "movement off: loads through the global buffer take longer");
    assert.notEqual(report.ablation.find((a) => a.pass === "layout")!.latencyS, none.latencyS, "layout off: other movement cycles");
  });

  test("the same report whether the AP programs run in this thread or in worker threads", async () => {
    const opts = { targets: ["rtm-ap", "sram-ap", "crossbar-isaac"], sensitivity: false } as const;
    const here = (await compareModel(PLAIN, { ...opts, workers: 1 })).report;
    const stages: string[] = [];
    const there = (await compareModel(PLAIN, { ...opts, workers: 2, onStage: (s) => stages.push(s) })).report;
    // every (variant, unit) task of both targets and the ablation ran on the worker threads
    assert.ok(stages.some((s) => s.includes("rtm-ap, sram-ap") && s.includes("on 2 worker threads")), stages.join(" | "));
    assert.deepEqual(there.targets, here.targets);
    assert.deepEqual(there.ablation, here.ablation);
  });

  test("--arch rtm-ap-serial: the RTM-AP target on the serial layout shifts far more; the serial-layout ablation row is that program", async () => {
    const run = async (arch: string[]): Promise<{ targets: Record<string, TargetJson & { label: string; events: Record<string, number> }>; ablation: { pass: string; energy_j: number }[] }> => {
      const r = await rtap(["compare", PLAIN, "--targets", "rtm-ap,crossbar-isaac", "--no-sensitivity", "--no-report", "--json", ...arch]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(lastLine(r.stdout));
    };
    const serial = await run(["--arch", "rtm-ap-serial", "--no-ablation"]);
    const interleaved = await run([]);
    const s = serial.targets["rtm-ap"]!, i = interleaved.targets["rtm-ap"]!;
    assert.match(s.label, /rtm-ap-serial/);
    assert.ok(s.events.shift_track_domains > 100 * i.events.shift_track_domains, `${s.events.shift_track_domains} vs ${i.events.shift_track_domains}`);
    // the default run's ablation compiled the same network on the serial layout: same energy
    const row = interleaved.ablation.find((a) => a.pass === "serial layout")!;
    assert.ok(close(row.energy_j, s.energy_j, 1e-9), `${row.energy_j} vs ${s.energy_j}`);
    assertUserError(await rtap(["compare", PLAIN, "--arch", "sram-ap", "--no-ablation", "--no-sensitivity"]), "the RTM-AP target needs an RTM architecture");
  });

  test("user errors: an unknown target, a missing model", async () => {
    const bad = await rtap(["compare", PLAIN, "--targets", "rtm-ap,gpu", "--no-report"]);
    assertUserError(bad, 'unknown target "gpu"; targets: rtm-ap, sram-ap, crossbar');
    assert.match(bad.stderr, /^rtap: unknown target "gpu"; targets: rtm-ap, sram-ap, crossbar, crossbar-isaac, crossbar-neurosim22, reference, reference-isaac, reference-puma/);
    const missing = await rtap(["compare", join(tmpdir(), "no-such-model.onnx"), "--no-report"]);
    assertUserError(missing, "no-such-model.onnx: no such model file");
    assert.match(missing.stderr, /^rtap: .*no-such-model\.onnx: no such model file/);
  });
});

/**
 * `rtap sweep` with the local executor on the committed fmnist-resnet8: technology-only points
 * share one compile and simulation, a point at the shipped files equals `rtap compare`'s RTM-AP
 * row, architectures the loader rejects are failed points while the rest go on, results are the
 * same on worker threads and in this thread, and a resumed run skips what is done (pricing a lost
 * point from its group's events without compiling). Also the Pareto front on hand-made rows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareModel } from "../../src/compare.js";
import { paretoFront } from "../../src/sweep/report.js";
import { fixtureModel } from "../import/fixtures.js";
import { assertUserError, lastLine, rtap } from "../cli/helpers.js";

const MODEL = fixtureModel("fmnist-resnet8.onnx");

export const SMALL_PLAN = `name: test sweep
models: [${MODEL}]
parameters:
  arch.array.rows: [256, 512]
  arch.array.tracksPerRow: [128, 100]   # 100 is not a multiple of the 32-track shift group: fails
  tech: [rtm-ap, rtm-ap-low]
figures: [energy_j, latency_s, area_mm2, edp_js]
`;

interface Row { index: number; status: string; parameters: Record<string, unknown>; figures?: Record<string, number>; error?: string; pareto: boolean }

test("local sweep: shared compiles, failed points recorded, equal to compare, same on workers and in-thread, resumable", { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtap-sweep-local-"));
  try {
    const plan = join(dir, "plan.yaml");
    writeFileSync(plan, SMALL_PLAN);
    const out = join(dir, "out");
    const r = await rtap(["sweep", plan, "--out", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(lastLine(r.stdout)) as { points: number; ok: number; failed: number; compiles: number; simulations: number; skipped: number; pareto: Array<{ parameters: Record<string, unknown>; figures: Record<string, number> }>; files: string[] };
    assert.equal(j.points, 8);
    assert.equal(j.ok, 4);
    assert.equal(j.failed, 4);
    assert.equal(j.compiles, 2, "two architectures compile; their technology points share it");
    assert.equal(j.simulations, 2);
    assert.ok(j.pareto.length >= 1);
    for (const p of j.pareto) assert.deepEqual(Object.keys(p.figures), ["energy_j", "latency_s", "area_mm2", "edp_js"]);
    const report = JSON.parse(readFileSync(join(out, "sweep.json"), "utf8")) as { rows: Row[] };
    const rows = report.rows;
    assert.equal(rows.length, 8);
    for (const x of rows.filter((x) => x.parameters["arch.array.tracksPerRow"] === 100)) {
      assert.equal(x.status, "failed");
      assert.match(x.error!, /array\.tracksPerShiftGroup: must divide tracksPerRow = 100/);
    }
    // the point at the shipped files is compare's RTM-AP row, figure for figure
    const base = rows.find((x) => x.parameters["arch.array.rows"] === 512 && x.parameters["arch.array.tracksPerRow"] === 128 && x.parameters.tech === "rtm-ap")!;
    const cmp = (await compareModel(MODEL, { targets: ["rtm-ap"], ablation: false, sensitivity: false })).report.targets[0]!;
    assert.equal(base.figures!.energy_j, cmp.energyJ);
    assert.equal(base.figures!.latency_s, cmp.latencyS);
    assert.equal(base.figures!.area_mm2, cmp.areaMm2);
    const low = rows.find((x) => x.parameters["arch.array.rows"] === 512 && x.parameters["arch.array.tracksPerRow"] === 128 && x.parameters.tech === "rtm-ap-low")!;
    assert.equal(low.figures!.energy_j, cmp.scenarios!.find((s) => s.technology === "rtm-ap-low")!.energyJ);
    // CSV: one line per point
    const csv = readFileSync(join(out, "sweep.csv"), "utf8").trim().split("\n");
    assert.equal(csv.length, 9);
    assert.match(csv[0]!, /^index,id,arch\.array\.rows,arch\.array\.tracksPerRow,tech,status,energy_j,latency_s,area_mm2,/);

    // the same sweep in this thread gives the same figures
    const r1 = await rtap(["sweep", plan, "--out", join(dir, "out1"), "--workers", "1", "--json"]);
    assert.equal(r1.code, 0, r1.stderr);
    const rows1 = (JSON.parse(readFileSync(join(dir, "out1", "sweep.json"), "utf8")) as { rows: Row[] }).rows;
    assert.deepEqual(rows1.map((x) => [x.status, x.figures]), rows.map((x) => [x.status, x.figures]));

    // an output directory with results needs --resume
    assertUserError(await rtap(["sweep", plan, "--out", out]), "already holds 8 point result(s); pass --resume");
    // resumed: the ok points are skipped, the failed ones run again (and fail again), nothing compiles
    const again = JSON.parse(lastLine((await rtap(["sweep", plan, "--out", out, "--resume", "--json"])).stdout)) as typeof j & { priced: number; reused: number };
    assert.equal(again.skipped, 4);
    assert.equal(again.compiles, 0);
    assert.equal(again.failed, 4);
    // a lost point is priced from its group's events, without compiling
    unlinkSync(join(out, "points", `${(base as unknown as { id: string }).id}.json`));
    const lost = JSON.parse(lastLine((await rtap(["sweep", plan, "--out", out, "--resume", "--json"])).stdout)) as typeof again;
    assert.equal(lost.compiles, 0);
    assert.equal(lost.reused, 1);
    assert.equal(lost.skipped, 3);
    const rows2 = (JSON.parse(readFileSync(join(out, "sweep.json"), "utf8")) as { rows: Row[] }).rows;
    assert.deepEqual(rows2.map((x) => x.figures ?? null), rows.map((x) => x.figures ?? null));
    assert.equal(readdirSync(join(out, "groups")).filter((f) => /^[0-9a-f]+\.json$/.test(f)).length, 2);

    // the terminal shows the Pareto points
    const text = await rtap(["sweep", "collect", plan, "--out", out]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Pareto front \(energy, latency, area; \d of 4 points\)/);
    assert.match(text.stdout, /failed points \(4\):/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a group that fails to compile (on a worker thread or in this thread) fails its points; the others go on", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtap-sweep-fail-"));
  try {
    const plan = join(dir, "plan.yaml");
    // 32 tracks = one shift group: the loader accepts it, the compiler's interleaved layout needs three
    writeFileSync(plan, `models: [${MODEL}]\nparameters:\n  arch.array.tracksPerRow: [32, 128]\n  tech: [rtm-ap, rtm-ap-low]\n`);
    for (const workers of ["2", "1"]) {
      const r = await rtap(["sweep", plan, "--out", join(dir, `out${workers}`), "--workers", workers, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(lastLine(r.stdout)) as { points: number; ok: number; failed: number; compiles: number };
      assert.deepEqual([j.points, j.ok, j.failed, j.compiles], [4, 2, 2, 1], `workers ${workers}`);
      const rows = (JSON.parse(readFileSync(join(dir, `out${workers}`, "sweep.json"), "utf8")) as { rows: Row[] }).rows;
      for (const x of rows.slice(0, 2)) assert.match(x.error!, /the interleaved layout needs at least 3 shift groups/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a crossbar target sweeps its technology file with nothing to compile; its base point is compare's row", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtap-sweep-xbar-"));
  try {
    const plan = join(dir, "plan.yaml");
    writeFileSync(plan, `target: crossbar-isaac\nmodels: [${MODEL}]\nparameters:\n  tech.adc.columnsPerAdc: [32, 128]\n  tech.adc.bits: [8, 3]   # no ADC energy for 3 bits in the table: failed points\n`);
    const r = await rtap(["sweep", plan, "--out", join(dir, "out"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(lastLine(r.stdout)) as { points: number; ok: number; failed: number; compiles: number };
    assert.deepEqual([j.points, j.ok, j.compiles], [4, 4 - j.failed, 0]);
    const rows = (JSON.parse(readFileSync(join(dir, "out", "sweep.json"), "utf8")) as { rows: Row[] }).rows;
    const base = rows.find((x) => x.parameters["tech.adc.columnsPerAdc"] === 128 && x.parameters["tech.adc.bits"] === 8)!;
    const cmp = (await compareModel(MODEL, { targets: ["crossbar-isaac"], ablation: false, sensitivity: false })).report.targets[0]!;
    assert.equal(base.figures!.energy_j, cmp.energyJ);
    assert.equal(base.figures!.latency_s, cmp.latencyS);
    assert.equal(base.figures!.area_mm2, cmp.areaMm2);
    assert.equal(base.figures!.energy_vs_crossbar_isaac, 1);
    const fewer = rows.find((x) => x.parameters["tech.adc.columnsPerAdc"] === 32 && x.parameters["tech.adc.bits"] === 8)!;
    assert.ok(fewer.figures!.latency_s < base.figures!.latency_s, "more ADCs per crossbar: fewer columns each converts in turn");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Pareto front: not dominated on energy, latency and area together, per model", () => {
  const row = (model: string, e: number, l: number, a: number, status = "ok") => ({ model, status: status as "ok", figures: { energy_j: e, latency_s: l, area_mm2: a } as never });
  const rows = [row("m", 1, 1, 1), row("m", 2, 2, 2), row("m", 0.5, 3, 1), row("m", 1, 1, 1), row("n", 5, 5, 5), row("m", 0.1, 0.1, 0.1, "failed")];
  assert.deepEqual([...paretoFront(rows)].sort(), [0, 2, 3, 4]);
});

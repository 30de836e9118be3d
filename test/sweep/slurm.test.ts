/**
 * The Slurm executor end to end on a real single-node Slurm (Debian slurm-wlm and munge; started by
 * scripts/slurm-local.sh, or found running): a small sweep submitted as job arrays, with partition,
 * time and extra sbatch flags, waited for and collected, gives exactly the local executor's merged
 * results; `rtap sweep status` counts the points; no job of the test is left in the queue.
 * If Slurm cannot start, the test fails and says why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cancelJobs, queueOf, readJobs } from "../../src/sweep/slurm.js";
import { fixtureModel } from "../import/fixtures.js";
import { lastLine, rtap } from "../cli/helpers.js";

const PLAN = `name: slurm test sweep
models: [${fixtureModel("fmnist-resnet8.onnx")}]
parameters:
  arch.array.tracksPerRow: [128, 100]   # 100 fails: not a multiple of the 32-track shift group
  tech: [rtm-ap, rtm-ap-low, rtm-ap-destiny]
`;

function startSlurm(): void {
  try {
    execFileSync(join(process.cwd(), "scripts", "slurm-local.sh"), ["start"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    assert.fail(`Slurm could not be started with scripts/slurm-local.sh start (needs root or sudo and Debian's slurm-wlm and munge, which scripts/setup.sh installs):\n${err.stderr || err.stdout || err.message}`);
  }
}

interface Row { index: number; id: string; status: string; parameters: Record<string, unknown>; figures?: Record<string, number>; error?: string; pareto: boolean }

test("a sweep through real Slurm job arrays equals the local executor's merged results", { timeout: 600_000 }, async () => {
  startSlurm();
  const dir = mkdtempSync(join(tmpdir(), "rtap-sweep-slurm-"));
  const out = join(dir, "slurm-out");
  try {
    const plan = join(dir, "plan.yaml");
    writeFileSync(plan, PLAN);
    const local = await rtap(["sweep", plan, "--out", join(dir, "local-out"), "--json"]);
    assert.equal(local.code, 0, local.stderr);
    const s = await rtap(["sweep", plan, "--executor", "slurm", "--out", out, "--partition", "debug", "--time", "00:20:00", "--sbatch-flags", "--nice=0 --requeue", "--wait", "--json"]);
    assert.equal(s.code, 0, s.stderr);
    const lj = JSON.parse(lastLine(local.stdout)) as { points: number; ok: number; failed: number; compiles: number; pareto: unknown[] };
    const sj = JSON.parse(lastLine(s.stdout)) as typeof lj & { executor: string; jobs: string[] };
    assert.equal(sj.executor, "slurm");
    assert.deepEqual([sj.points, sj.ok, sj.failed, sj.compiles], [6, 3, 3, 1]);
    assert.deepEqual([lj.points, lj.ok, lj.failed, lj.compiles], [6, 3, 3, 1]);
    assert.deepEqual(sj.pareto, lj.pareto);
    // one group to compile with 3 points: task 0 alone, then tasks 1-2 after it (afterany)
    const jobs = readJobs(out);
    assert.deepEqual(jobs.map((j) => j.array), ["0", "1-2"]);
    const rowsOf = (d: string): Row[] => (JSON.parse(readFileSync(join(d, "sweep.json"), "utf8")) as { rows: Row[] }).rows;
    const strip = (rows: Row[]) => rows.map((r) => ({ index: r.index, id: r.id, status: r.status, parameters: r.parameters, figures: r.figures, error: r.error, pareto: r.pareto }));
    assert.deepEqual(strip(rowsOf(out)), strip(rowsOf(join(dir, "local-out"))));
    assert.ok(rowsOf(out).some((r) => r.status === "ok" && r.figures!.energy_j > 0));
    // the same CSV, byte for byte
    assert.equal(readFileSync(join(out, "sweep.csv"), "utf8"), readFileSync(join(dir, "local-out", "sweep.csv"), "utf8"));
    // every task's log ends with its point
    const log = readFileSync(join(out, "slurm", "logs", `${jobs[0]!.group}-1.log`), "utf8");
    assert.match(log, /point \d+ \([0-9a-f]+\): ok/);

    const st = await rtap(["sweep", "status", plan, "--out", out, "--json"]);
    assert.equal(st.code, 0, st.stderr);
    const sts = JSON.parse(lastLine(st.stdout)) as { points: number; ok: number; failed: number; missing: number; queue: Record<string, number> };
    assert.deepEqual([sts.points, sts.ok, sts.failed, sts.missing], [6, 3, 3, 0]);
    assert.deepEqual(sts.queue, {});
    // collect writes the same report again
    const c = await rtap(["sweep", "collect", plan, "--out", out, "--json"]);
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual((JSON.parse(lastLine(c.stdout)) as { pareto: unknown }).pareto, lj.pareto);
    // resubmitting a finished sweep submits nothing
    const again = await rtap(["sweep", plan, "--executor", "slurm", "--out", out, "--resume", "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const aj = JSON.parse(lastLine(again.stdout)) as { submitted: number; failed: number; jobs: unknown[] };
    assert.deepEqual([aj.submitted, aj.failed, aj.jobs], [0, 3, []], "done points are skipped; the failed ones fail again before submission");
  } finally {
    // leave no job behind
    let ids: string[] = [];
    try {
      ids = [...new Set(readJobs(out).map((j) => j.job))];
      if (Object.keys(queueOf(ids)).length) cancelJobs(ids);
    } finally {
      assert.deepEqual(queueOf(ids), {}, "no job of the test left in Slurm's queue");
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

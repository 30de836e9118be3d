/**
 * The local executor (the default): every compile group's units compile and simulate as tasks on
 * worker threads over all cores (group by group, so finished groups' points are priced and written
 * while the rest run), then each point of a group is priced from the group's events.
 *
 *  - Resumable: a point whose result file says ok is skipped; a group whose events file exists is
 *    not compiled again (its missing points are priced from it).
 *  - A failure (an architecture the loader rejects, a unit that does not compile or fit, a
 *    technology file of the wrong kind) is recorded in the failed points' result files, and the
 *    rest go on.
 */
import { availableParallelism, freemem } from "node:os";
import type { Worker } from "node:worker_threads";
import type { ApArch } from "../ap/config.js";
import { AP_WORKER_BYTES, AP_WORKER_YOUNG_GENERATION_MB, type UnitTaskResult } from "../compare-units.js";
import { RtapError } from "../errors.js";
import { startWorker } from "../util/worker.js";
import { compareInputs } from "../compare.js";
import { compileGroups, expandPlan, type SweepPlan, type SweepPoint } from "./plan.js";
import {
  computeGroupHere,
  failedPoint,
  groupArch,
  groupEventsOf,
  groupFile,
  modelInfo,
  pointDone,
  pricePoint,
  priceModelPoint,
  readJson,
  writeAtomic,
  writePoint,
  type GroupEvents,
  type ModelInfo,
  type SweepWorkerData,
} from "./points.js";


export interface RunCounts {
  /** Points of the plan. */
  points: number;
  /** Points already done (resumed). */
  skipped: number;
  /** Points priced in this run. */
  priced: number;
  failed: number;
  /** Compile groups compiled (and simulated) in this run. */
  compiles: number;
  simulations: number;
  /** Groups priced from an events file of an earlier run. */
  reused: number;
  seconds: number;
}

export interface LocalOptions {
  out: string;
  /** Worker threads (default: the cores, capped by free memory; 1 = this thread). */
  workers?: number;
  /** Called with (done, total) units of compile work; total is known after planning. */
  onProgress?: (done: number, total: number) => void;
  onStage?: (s: string) => void;
}

interface PendingGroup {
  key: string;
  points: SweepPoint[];
  arch: ApArch;
  archFile: string;
  model: number;
  variant: number;
}

function message(e: unknown): string {
  return e instanceof RtapError ? e.message : `internal error: ${(e as Error).message}`;
}

export async function runLocal(plan: SweepPlan, opts: LocalOptions): Promise<RunCounts> {
  const t0 = performance.now();
  const out = opts.out;
  const points = expandPlan(plan);
  const counts: RunCounts = { points: points.length, skipped: 0, priced: 0, failed: 0, compiles: 0, simulations: 0, reused: 0, seconds: 0 };
  const todo = points.filter((p) => {
    const done = pointDone(out, p.id);
    if (done) counts.skipped++;
    return !done;
  });
  const record = (r: { status: string }): void => {
    counts.priced++;
    if (r.status === "failed") counts.failed++;
  };
  if (plan.target.kind !== "ap") {
    // a modelled target (a crossbar) compiles nothing: every point is priced on the model's integer graph
    const infos = new Map<string, ModelInfo>();
    for (const p of todo) {
      let info = infos.get(p.model);
      if (!info) {
        opts.onStage?.(`quantize ${p.model}`);
        try {
          infos.set(p.model, (info = modelInfo(plan, p.model)));
        } catch (e) {
          const r = failedPoint(p, message(e));
          writePoint(out, r);
          record(r);
          continue;
        }
      }
      record(priceModelPoint(plan, out, p, info));
    }
    counts.seconds = (performance.now() - t0) / 1000;
    return counts;
  }
  const pending: PendingGroup[] = [];
  const models: SweepWorkerData["models"] = [];
  const modelNames: string[] = [];
  const infos: ModelInfo[] = [];
  /** Every point of the groups, failed with one message (a group that cannot start). */
  const failGroup = (gp: readonly SweepPoint[], e: unknown): void => {
    for (const p of gp) {
      const r = failedPoint(p, message(e));
      writePoint(out, r);
      record(r);
    }
  };
  for (const [key, gp] of compileGroups(todo)) {
    const first = gp[0]!;
    let arch: ApArch, archFile: string;
    try {
      ({ arch, file: archFile } = groupArch(out, first));
    } catch (e) {
      failGroup(gp, e);
      continue;
    }
    const ev = readJson<GroupEvents>(groupFile(out, key));
    if (ev) {
      counts.reused++;
      for (const p of gp) record(pricePoint(plan, out, p, ev, arch));
      continue;
    }
    let m = modelNames.indexOf(first.model);
    if (m < 0) {
      opts.onStage?.(`quantize ${first.model}`);
      let info: ModelInfo;
      try {
        info = modelInfo(plan, first.model);
      } catch (e) {
        failGroup(gp, e);
        continue;
      }
      // the workers get the quantized network and its images (quantizing again in every worker
      // cost seconds per model before its first task)
      const { pixels, count } = compareInputs(info.q, { dataset: plan.dataset, images: plan.images, seed: plan.seed });
      infos.push(info);
      modelNames.push(first.model);
      models.push({ qgraph: info.q, pixels, count, variants: [] });
      m = models.length - 1;
    }
    pending.push({ key, points: gp, arch, archFile, model: m, variant: models[m]!.variants.length });
    models[m]!.variants.push({ key, arch: archFile });
  }

  const tasks: Array<{ g: number; unit: number }> = [];
  // group by group (a group's points are written as soon as it completes), its largest units first
  pending.forEach((g, i) => {
    const costs = infos[g.model]!.unitCosts;
    const order = costs.map((c, u) => ({ c, u })).sort((a, b) => b.c - a.c);
    for (const { u } of order) tasks.push({ g: i, unit: u });
  });
  const byMemory = Math.max(1, Math.floor(freemem() / AP_WORKER_BYTES));
  const workers = Math.max(1, Math.min(opts.workers ?? Math.min(availableParallelism(), byMemory), tasks.length));
  let doneUnits = 0;
  const tick = (): void => opts.onProgress?.(++doneUnits, tasks.length);
  opts.onProgress?.(0, tasks.length);

  const finish = (g: PendingGroup, ev: GroupEvents): void => {
    writeAtomic(groupFile(out, g.key), `${JSON.stringify(ev)}\n`);
    counts.compiles++;
    counts.simulations++;
    for (const p of g.points) record(pricePoint(plan, out, p, ev, g.arch));
  };
  const fail = (g: PendingGroup, error: string): void => {
    for (const p of g.points) {
      const r = failedPoint(p, error);
      writePoint(out, r);
      record(r);
    }
  };

  if (pending.length) {
    opts.onStage?.(`compile and simulate ${pending.length} group(s), ${tasks.length} unit task(s)${workers > 1 ? ` on ${workers} worker threads` : ""}; ${todo.length} point(s) to price`);
    if (workers <= 1) {
      for (const g of pending) {
        const info = infos[g.model]!;
        let ran = 0;
        try {
          finish(g, computeGroupHere(plan, g.points[0]!, g.archFile, info, () => (ran++, tick())));
        } catch (e) {
          fail(g, message(e));
          // the group's other units are not run: count them done for the progress bar
          for (; ran < info.unitCount; ran++) tick();
        }
      }
    } else await runOnWorkers(plan, pending, infos, models, tasks, workers, tick, finish, fail);
  }
  counts.seconds = (performance.now() - t0) / 1000;
  return counts;
}

type Reply = { kind: "ready" } | { kind: "done"; id: number; result: UnitTaskResult } | { kind: "failed"; id: number; message: string; rtap: boolean };

/** Spreads the unit tasks over worker threads, group by group; a group completes when all its units have. */
async function runOnWorkers(
  plan: SweepPlan,
  pending: PendingGroup[],
  infos: ModelInfo[],
  models: SweepWorkerData["models"],
  tasks: Array<{ g: number; unit: number }>,
  workers: number,
  tick: () => void,
  finish: (g: PendingGroup, ev: GroupEvents) => void,
  fail: (g: PendingGroup, error: string) => void,
): Promise<void> {
  const resourceLimits = { maxYoungGenerationSizeMb: AP_WORKER_YOUNG_GENERATION_MB };
  const results: UnitTaskResult[][] = pending.map(() => []);
  const left = pending.map((g) => infos[g.model]!.unitCount);
  const failed = pending.map(() => false);
  const started = pending.map(() => 0);
  const images = models.map((m) => m.count);
  const live = new Set<Worker>();
  let next = 0;
  const data: SweepWorkerData = { models };
  try {
    await new Promise<void>((resolve, reject) => {
      let remaining = tasks.length;
      const feed = (w: Worker): void => {
        while (next < tasks.length && failed[tasks[next]!.g]) {
          // a failed group's other units are not run
          next++;
          remaining--;
          tick();
        }
        if (remaining === 0) return resolve();
        const t = tasks[next];
        if (!t) return void w.postMessage({ kind: "exit" });
        const g = pending[t.g]!;
        if (!started[t.g]) started[t.g] = performance.now();
        w.postMessage({ kind: "task", id: next, model: g.model, variant: g.variant, unit: t.unit });
        next++;
      };
      const settle = (taskId: number): void => {
        remaining--;
        tick();
        if (remaining === 0) resolve();
        void taskId;
      };
      for (let i = 0; i < workers; i++) {
        const w = startWorker("worker", import.meta.url, { workerData: data, resourceLimits });
        live.add(w);
        w.on("message", (m: Reply) => {
          try {
            if (m.kind === "done") {
              const t = tasks[m.id]!;
              if (!failed[t.g]) {
                results[t.g]![t.unit] = m.result;
                if (--left[t.g]! === 0) {
                  const g = pending[t.g]!;
                  finish(g, groupEventsOf(g.key, g.points[0]!.model, results[t.g]!, images[g.model]!, infos[g.model]!.crossbarIsaacJ, (performance.now() - started[t.g]!) / 1000));
                  results[t.g] = [];
                }
              }
              settle(m.id);
            } else if (m.kind === "failed") {
              const t = tasks[m.id]!;
              if (!failed[t.g]) {
                failed[t.g] = true;
                fail(pending[t.g]!, m.rtap ? m.message : `internal error: ${m.message}`);
              }
              settle(m.id);
            }
            feed(w);
          } catch (e) {
            reject(e);
          }
        });
        w.on("error", (e) => reject(e));
        w.on("exit", (code) => {
          live.delete(w);
          if (code !== 0 && remaining > 0) reject(new Error(`sweep worker thread exited with code ${code}`));
        });
      }
    });
  } finally {
    for (const w of live) void w.terminate();
  }
  void plan;
}

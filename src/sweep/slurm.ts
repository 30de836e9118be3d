/**
 * The Slurm executor: Slurm does all the scheduling. Per compile group with points left, one
 * job-array batch script (`<out>/slurm/<group>.sh`); array task i runs
 * `rtap sweep run-point <plan> --out <out> --group <group> --task i`, which prices the group's i-th
 * pending point and writes its result file into --out (a directory every node sees).
 *
 * Shared cost through Slurm's own dependencies: when the group's events are not there yet, the
 * script is submitted twice: task 0 alone (it compiles and simulates the group, writes
 * groups/<group>.json and prices its point), then tasks 1..k-1 with --dependency=afterany on it,
 * which price from that file in about a second each. If task 0 failed, each later task tries the
 * compile itself and records its own failure. Partition, time, memory and extra sbatch flags are
 * options; job ids go to `<out>/slurm/jobs.json` for `rtap sweep status` and `--wait`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RtapError } from "../errors.js";
import { compileGroups, expandPlan, type SweepPlan } from "./plan.js";
import {
  computeGroupHere,
  failedPoint,
  groupArch,
  groupFile,
  modelInfo,
  pointDone,
  pricePoint,
  priceModelPoint,
  readJson,
  writeAtomic,
  writePoint,
  type GroupEvents,
  type PointResult,
} from "./points.js";

export interface SlurmOptions {
  out: string;
  partition?: string | undefined;
  time?: string | undefined;
  mem?: string | undefined;
  /** Extra sbatch flags, as one string split on whitespace ("--qos=short --account=x"). */
  sbatchFlags?: string | undefined;
  /** The command that runs rtap on the nodes (default: this node and this rtap's entry point). */
  rtapCommand?: string | undefined;
}

export interface SlurmJob {
  group: string;
  job: string;
  array: string;
  points: number;
}

export interface SubmitResult {
  jobs: SlurmJob[];
  /** Points submitted (not yet done). */
  points: number;
  /** Points already done (skipped). */
  skipped: number;
  /** Groups whose events must be computed (one compile each, in task 0). */
  compiles: number;
  /** Points failed before submission (their architecture is rejected). */
  failed: number;
}

function sh(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** How a task runs this rtap: the built CLI, or the TypeScript entry through tsx (tests, development). */
export function defaultRtapCommand(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) {
    const main = resolve(dirname(here), "..", "cli", "main.ts");
    return [process.execPath, "--import", import.meta.resolve("tsx"), main].map(sh).join(" ");
  }
  return [process.execPath, resolve(dirname(here), "..", "cli", "main.js")].map(sh).join(" ");
}

/** Runs a Slurm command; a missing binary or a refusal is an RtapError saying so. */
function slurm(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") throw new RtapError(`${cmd} not found: the Slurm executor needs Slurm's commands (sbatch, squeue) on PATH (Debian: slurm-wlm; scripts/slurm-local.sh start runs a single-node cluster)`);
    throw new RtapError(`${cmd} ${args.join(" ")} failed: ${(err.stderr ?? err.message).trim()}`);
  }
}

function jobsFile(out: string): string {
  return join(out, "slurm", "jobs.json");
}

export function readJobs(out: string): SlurmJob[] {
  return readJson<SlurmJob[]>(jobsFile(out)) ?? [];
}

/** Writes one batch script per compile group with points left and submits it with sbatch. */
export function submitSlurm(plan: SweepPlan, opts: SlurmOptions): SubmitResult {
  const out = resolve(opts.out);
  const points = expandPlan(plan);
  const todo = points.filter((p) => !pointDone(out, p.id));
  const dir = join(out, "slurm");
  mkdirSync(join(dir, "logs"), { recursive: true });
  const rtap = opts.rtapCommand ?? defaultRtapCommand();
  const jobs = readJobs(out);
  // a group's point list is rewritten on submission: never under tasks that still read it
  const queued = queueOf([...new Set(jobs.map((j) => j.job))]);
  if (Object.keys(queued).length)
    throw new RtapError(`this sweep still has array tasks in Slurm's queue (${Object.entries(queued).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(", ")}); wait for them (rtap sweep status) or scancel them before submitting again`, opts.out);
  const result: SubmitResult = { jobs: [], points: todo.length, skipped: points.length - todo.length, compiles: 0, failed: 0 };
  const common = [
    ...(opts.partition ? [`--partition=${opts.partition}`] : []),
    ...(opts.time ? [`--time=${opts.time}`] : []),
    ...(opts.mem ? [`--mem=${opts.mem}`] : []),
    ...(opts.sbatchFlags ? opts.sbatchFlags.split(/\s+/).filter(Boolean) : []),
  ];
  for (const [group, gp] of compileGroups(todo)) {
    // an architecture the loader rejects fails its points here, as the local executor does: nothing to submit
    try {
      if (plan.target.kind === "ap") groupArch(out, gp[0]!);
    } catch (e) {
      if (!(e instanceof RtapError)) throw e;
      for (const p of gp) writePoint(out, failedPoint(p, e.message));
      result.failed += gp.length;
      continue;
    }
    writeAtomic(join(dir, `${group}.points.json`), `${JSON.stringify(gp.map((p) => p.id))}\n`);
    const script = join(dir, `${group}.sh`);
    writeFileSync(
      script,
      [
        "#!/bin/sh",
        `# rtap sweep: compile group ${group} of ${plan.name} (${gp.length} point(s)); array task i prices the i-th point of ${group}.points.json`,
        `#SBATCH --job-name=rtap-sweep-${group.slice(0, 8)}`,
        `#SBATCH --output=${join(dir, "logs", `${group}-%a.log`)}`,
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=1",
        `exec ${rtap} sweep run-point ${sh(plan.file)} --out ${sh(out)} --group ${group} --task "$SLURM_ARRAY_TASK_ID"`,
        "",
      ].join("\n"),
    );
    chmodSync(script, 0o755);
    const submit = (array: string, after?: string): SlurmJob => {
      const args = ["--parsable", `--array=${array}`, ...(after ? [`--dependency=afterany:${after}`] : []), ...common, script];
      const job = slurm("sbatch", args).trim().split(";")[0]!;
      if (!/^\d+$/.test(job)) throw new RtapError(`sbatch did not return a job id (got ${JSON.stringify(job)})`);
      return { group, job, array, points: array.includes("-") ? Number(array.split("-")[1]) - Number(array.split("-")[0]) + 1 : 1 };
    };
    // a modelled target (a crossbar) has nothing to compile: every task prices at once
    const cached = plan.target.kind !== "ap" || existsSync(groupFile(out, group));
    if (cached || gp.length === 1) result.jobs.push(submit(gp.length === 1 ? "0" : `0-${gp.length - 1}`));
    else {
      const first = submit("0");
      result.jobs.push(first, submit(`1-${gp.length - 1}`, first.job));
    }
    if (!cached) result.compiles++;
  }
  writeAtomic(jobsFile(out), `${JSON.stringify([...jobs, ...result.jobs], null, 1)}\n`);
  return result;
}

/** One array task: the group's task-th pending point (compiling the group first if its events are not there). */
export function runPoint(plan: SweepPlan, out: string, group: string, task: number): PointResult {
  const ids = readJson<string[]>(join(out, "slurm", `${group}.points.json`));
  if (!ids) throw new RtapError(`no point list for group ${group} in ${join(out, "slurm")} (was the sweep submitted with this --out?)`);
  const id = ids[task];
  if (id === undefined) throw new RtapError(`group ${group} has ${ids.length} point(s); no task ${task}`);
  const p = expandPlan(plan).find((x) => x.id === id);
  if (!p) throw new RtapError(`point ${id} is not in the plan any more (the plan changed after submission)`, plan.file);
  const done = readJson<PointResult>(join(out, "points", `${id}.json`));
  if (done?.status === "ok") return done;
  if (plan.target.kind !== "ap") {
    let info;
    try {
      info = modelInfo(plan, p.model);
    } catch (e) {
      if (!(e instanceof RtapError)) throw e;
      const r = failedPoint(p, e.message);
      writePoint(out, r);
      return r;
    }
    return priceModelPoint(plan, out, p, info);
  }
  let arch;
  try {
    ({ arch } = groupArch(out, p));
  } catch (e) {
    if (!(e instanceof RtapError)) throw e;
    const r = failedPoint(p, e.message);
    writePoint(out, r);
    return r;
  }
  let ev = readJson<GroupEvents>(groupFile(out, group));
  if (!ev) {
    try {
      ev = computeGroupHere(plan, p, join(out, "groups", `${group}.arch.yaml`), modelInfo(plan, p.model));
      writeAtomic(groupFile(out, group), `${JSON.stringify(ev)}\n`);
    } catch (e) {
      const r = failedPoint(p, e instanceof RtapError ? e.message : `internal error: ${(e as Error).message}`);
      writePoint(out, r);
      return r;
    }
  }
  return pricePoint(plan, out, p, ev, arch);
}

export interface SlurmStatus {
  points: number;
  ok: number;
  failed: number;
  missing: number;
  /** Array tasks Slurm still holds, by state (PENDING, RUNNING, ...). */
  queue: Record<string, number>;
  jobs: string[];
}

/** Jobs of this sweep still in Slurm's queue: state -> tasks. */
export function queueOf(jobs: readonly string[]): Record<string, number> {
  if (!jobs.length) return {};
  let text: string;
  try {
    text = execFileSync("squeue", ["-h", "-r", "-j", jobs.join(","), "-o", "%i %T"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") throw new RtapError("squeue not found: the Slurm executor needs Slurm's commands on PATH");
    // squeue refuses ids it no longer knows ("Invalid job id specified"): those jobs are gone
    if (/Invalid job id/i.test(err.stderr ?? "")) return {};
    throw new RtapError(`squeue failed: ${(err.stderr ?? err.message).trim()}`);
  }
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const state = line.trim().split(/\s+/)[1];
    if (state) out[state] = (out[state] ?? 0) + 1;
  }
  return out;
}

export function slurmStatus(plan: SweepPlan, out: string): SlurmStatus {
  const points = expandPlan(plan);
  let ok = 0, failed = 0;
  for (const p of points) {
    const r = readJson<PointResult>(join(out, "points", `${p.id}.json`));
    if (r?.status === "ok") ok++;
    else if (r?.status === "failed") failed++;
  }
  const jobs = [...new Set(readJobs(out).map((j) => j.job))];
  return { points: points.length, ok, failed, missing: points.length - ok - failed, queue: queueOf(jobs), jobs };
}

/** Waits until none of the given jobs is in Slurm's queue any more. */
export async function waitForJobs(jobs: readonly string[], onPoll?: (queue: Record<string, number>) => void, pollMs = 2000): Promise<void> {
  for (;;) {
    const q = queueOf(jobs);
    onPoll?.(q);
    if (Object.keys(q).length === 0) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Cancels the given jobs (tests clean up with it; `scancel` on ids only). */
export function cancelJobs(jobs: readonly string[]): void {
  if (jobs.length) slurm("scancel", [...jobs]);
}

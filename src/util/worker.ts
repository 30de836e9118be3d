/**
 * Worker threads of rtap's parallel jobs (compare's AP tasks, sweep groups, eval and fault-study
 * shards): one way to start them, from the built JavaScript or, under tsx (tests, development),
 * from the TypeScript source, and one protocol for the jobs that run a single request per worker.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import { RtapError } from "../errors.js";

/**
 * Starts the worker module `name` (e.g. "compare-worker") that sits beside the module whose
 * `import.meta.url` is `from`. Under tsx the worker must register the TypeScript loader itself.
 */
export function startWorker(name: string, from: string, options: WorkerOptions): Worker {
  const isTs = from.endsWith(".ts");
  const url = new URL(`./${name}.${isTs ? "ts" : "js"}`, from);
  return isTs
    ? new Worker(`import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, { ...options, eval: true })
    : startBuiltWorker(url, options);
}

/**
 * A worker running built JavaScript, with the parent's Node options minus module loaders
 * (withoutModuleLoaders). Node refuses process-wide options in a worker's execArgv (V8 flags such as
 * --max-old-space-size or --stack-size, --title, ...: ERR_WORKER_INVALID_EXEC_ARGV), though a worker
 * that inherits them implicitly is fine. So the options are passed only when a loader was dropped,
 * and the ones Node refuses are then left out: they are the process's, and apply to the worker anyway.
 */
export function startBuiltWorker(entry: URL | string, options: WorkerOptions, parentExecArgv: readonly string[] = process.execArgv): Worker {
  const kept = withoutModuleLoaders(parentExecArgv);
  if (kept.length === parentExecArgv.length) return new Worker(entry, options);
  try {
    return new Worker(entry, { execArgv: kept, ...options });
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw e;
    // Node names the refused options after the colon, comma-separated; without that list, none are passed
    const refused = new Set(/flags: (.*)$/.exec((e as Error).message)?.[1]?.split(", ") ?? kept);
    return new Worker(entry, { execArgv: kept.filter((a) => !refused.has(a)), ...options });
  }
}

/** Node options that load modules or register loaders before the entry point, each with its value. */
const LOADER_OPTIONS = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);

/**
 * The parent's Node options without module loaders. A worker inherits its parent's options, so a
 * built worker started from a process run under a TypeScript loader (`node --import tsx`: the
 * benches, tests, development) would register that loader again, though it runs plain JavaScript;
 * with tsx inherited, a compare worker's tasks took 6-16% longer (the same tasks in one process,
 * alternating; measured on ResNet-18).
 */
export function withoutModuleLoaders(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    const eq = a.indexOf("=");
    if (LOADER_OPTIONS.has(eq > 0 ? a.slice(0, eq) : a)) {
      if (eq < 0) i++; // its value is the next word
      continue;
    }
    kept.push(a);
  }
  return kept;
}

/** Replies of a one-request worker: progress counts, then its result or its error. */
export type JobReply<R> = { kind: "progress"; done: number } | { kind: "done"; result: R } | { kind: "error"; message: string; rtap: boolean };

/**
 * Runs one request in a fresh worker (`name` beside `from`, workerData = the request) that posts
 * JobReply messages; resolves with its result. `what` names the job in an abnormal-exit error.
 */
export function runWorkerJob<R>(name: string, from: string, request: unknown, what: string, onProgress: (done: number) => void): Promise<R> {
  const worker = startWorker(name, from, { workerData: request });
  return new Promise((resolve, reject) => {
    worker.on("message", (m: JobReply<R>) => {
      if (m.kind === "progress") onProgress(m.done);
      else if (m.kind === "done") resolve(m.result);
      else reject(m.rtap ? new RtapError(m.message) : new Error(m.message));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (code !== 0) reject(new Error(`${what} worker exited with code ${code}`));
    });
  });
}

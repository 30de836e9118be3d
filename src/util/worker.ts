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
    : new Worker(url, options);
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

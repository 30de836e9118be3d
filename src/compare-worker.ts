/** Worker-thread entry of the comparison: one AP program (a target or an ablation variant), compiled and simulated. */
import { parentPort, workerData } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { apJob, type ApJobRequest } from "./compare.js";

const port = parentPort!;
try {
  port.postMessage({ kind: "done", result: apJob(workerData as ApJobRequest) });
} catch (e) {
  port.postMessage({ kind: "error", message: (e as Error).message, rtap: e instanceof RtapError });
}

/** Worker-thread entry of the comparison's ablation: one variant (a pass off), recompiled and simulated. */
import { parentPort, workerData } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { ablationVariant, type VariantRequest } from "./compare.js";

const port = parentPort!;
try {
  port.postMessage({ kind: "done", result: ablationVariant(workerData as VariantRequest) });
} catch (e) {
  port.postMessage({ kind: "error", message: (e as Error).message, rtap: e instanceof RtapError });
}

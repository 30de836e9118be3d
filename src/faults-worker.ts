/** Worker-thread entry of `faultStudy`: runs one shard (images x architecture) and posts progress and the result. */
import { parentPort, workerData } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { runFaultShard, type FaultShardRequest } from "./faults.js";

const port = parentPort!;
try {
  let last = 0;
  const result = await runFaultShard(workerData as FaultShardRequest, (done) => {
    const now = performance.now();
    if (now - last > 200) {
      last = now;
      port.postMessage({ kind: "progress", done });
    }
  });
  port.postMessage({ kind: "done", result });
} catch (e) {
  port.postMessage({ kind: "error", message: (e as Error).message, rtap: e instanceof RtapError });
}

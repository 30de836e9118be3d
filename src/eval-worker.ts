/** Worker-thread entry of `evaluate`: runs one shard and posts progress and the result. */
import { parentPort, workerData } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { evaluateShard, type ShardRequest } from "./eval.js";

const port = parentPort!;
try {
  let last = 0;
  const result = await evaluateShard(workerData as ShardRequest, (done) => {
    const now = performance.now();
    if (now - last > 200) {
      last = now;
      port.postMessage({ kind: "progress", done });
    }
  });
  port.postMessage({ kind: "progress", done: result.images });
  port.postMessage({ kind: "done", result });
} catch (e) {
  port.postMessage({ kind: "error", message: (e as Error).message, rtap: e instanceof RtapError });
}

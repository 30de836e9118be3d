/**
 * Worker-thread entry of the comparison: rebuilds the network, its inputs and its AP variants
 * (workerData: ApWorkerData), then compiles and simulates one (variant, unit) task per message
 * until told to exit. Replies: "ready" (with each unit's cost estimate), "done" per task, "error".
 */
import { parentPort, workerData } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { makeTaskRunner, type ApWorkerData } from "./compare.js";

const port = parentPort!;
const fail = (e: unknown): void => port.postMessage({ kind: "error", message: (e as Error).message, rtap: e instanceof RtapError });
try {
  const runner = makeTaskRunner(workerData as ApWorkerData);
  port.on("message", (m: { kind: "task"; variant: number; unit: number } | { kind: "exit" }) => {
    if (m.kind === "exit") {
      port.close();
      return;
    }
    try {
      port.postMessage({ kind: "done", result: runner.run(m.variant, m.unit) });
    } catch (e) {
      fail(e);
    }
  });
  port.postMessage({ kind: "ready", costs: Array.from({ length: runner.unitCount }, (_, u) => runner.estimatedCost(u)) });
} catch (e) {
  fail(e);
}

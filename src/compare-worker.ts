/**
 * Worker-thread entry of the comparison: gets the network, its inputs and its AP variants
 * (workerData: ApWorkerData), then the integer reference's tensors (first message, "reference"),
 * then compiles and simulates one (variant, unit) task per message until told to exit. Replies:
 * "ready" (with each unit's cost estimate), "done" per task, "error".
 */
import { parentPort, workerData } from "node:worker_threads";
import { RtapError } from "./errors.js";
import { makeTaskRunner, type ApWorkerData } from "./compare.js";
import type { UnitTaskRunner } from "./compare-units.js";

const port = parentPort!;
const fail = (e: unknown): void => port.postMessage({ kind: "error", message: (e as Error).message, rtap: e instanceof RtapError });
type Message =
  | { kind: "reference"; tensors: Map<string, Int32Array> }
  | { kind: "task"; variant: number; unit: number }
  | { kind: "exit" };
let runner: UnitTaskRunner | undefined;
port.on("message", (m: Message) => {
  if (m.kind === "exit") {
    port.close();
    return;
  }
  try {
    if (m.kind === "reference") {
      // the first message: the integer reference the main thread computed while this thread started
      runner = makeTaskRunner(workerData as ApWorkerData, m.tensors);
      const r = runner;
      port.postMessage({ kind: "ready", costs: Array.from({ length: r.unitCount }, (_, u) => r.estimatedCost(u)) });
      return;
    }
    if (!runner) throw new Error("internal: an AP task before the reference");
    port.postMessage({ kind: "done", result: runner.run(m.variant, m.unit) });
  } catch (e) {
    fail(e);
  }
});

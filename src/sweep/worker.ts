/**
 * Worker-thread entry of the local sweep executor: holds one task runner per model (the models'
 * compile groups as its variants, built on first use) and compiles and simulates one
 * (model, group, unit) task per message. Replies "done" with the unit's result, or "failed" with
 * the error (the executor records the group's points as failed and goes on).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { UnitTaskRunner } from "../compare-units.js";
import { RtapError } from "../errors.js";
import { makeTaskRunner } from "../compare.js";
import type { SweepWorkerData } from "./points.js";

const port = parentPort!;
const data = workerData as SweepWorkerData;
const runners = new Map<number, UnitTaskRunner>();
port.on("message", (m: { kind: "task"; id: number; model: number; variant: number; unit: number } | { kind: "exit" }) => {
  if (m.kind === "exit") {
    port.close();
    return;
  }
  try {
    let r = runners.get(m.model);
    if (!r) runners.set(m.model, (r = makeTaskRunner(data.models[m.model]!)));
    port.postMessage({ kind: "done", id: m.id, result: r.run(m.variant, m.unit) });
  } catch (e) {
    port.postMessage({ kind: "failed", id: m.id, message: (e as Error).message, rtap: e instanceof RtapError });
  }
});
port.postMessage({ kind: "ready" });

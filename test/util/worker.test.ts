/**
 * Built worker threads do not inherit module loaders: withoutModuleLoaders drops --import,
 * --require/-r, --loader and --experimental-loader with their values (separate or after "="), and
 * keeps every other option in order; a built worker started under options Node refuses in a
 * worker's execArgv (V8 and process-wide ones) still starts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBuiltWorker, withoutModuleLoaders } from "../../src/util/worker.js";

test("module loaders are dropped with their values, other options kept in order", () => {
  assert.deepEqual(withoutModuleLoaders(["--import", "tsx"]), []);
  assert.deepEqual(withoutModuleLoaders(["--import=tsx", "--enable-source-maps"]), ["--enable-source-maps"]);
  assert.deepEqual(
    withoutModuleLoaders(["--max-old-space-size=4096", "-r", "ts-node/register", "--loader", "ts-node/esm", "--experimental-loader=x.mjs", "--require=y.cjs", "--trace-warnings"]),
    ["--max-old-space-size=4096", "--trace-warnings"],
  );
  assert.deepEqual(withoutModuleLoaders([]), []);
});

test("a built worker starts under process-wide options and drops only the loaders", async () => {
  const code = `require("node:worker_threads").parentPort.postMessage(process.execArgv)`;
  const argvOf = (parent: string[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const w = startBuiltWorker(code, { eval: true }, parent);
      w.once("message", resolve);
      w.once("error", reject);
    });
  // V8 and process options are refused in a worker's execArgv: left out (they apply process-wide)
  assert.deepEqual(await argvOf(["--max-old-space-size=4096", "--import", "tsx", "--stack-size=2000", "--trace-warnings"]), ["--trace-warnings"]);
  // nothing to drop: no explicit execArgv, so the worker shows this process's own options, not the list given
  assert.deepEqual(await argvOf(["--trace-warnings"]), process.execArgv);
});

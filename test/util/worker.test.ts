/**
 * Built worker threads do not inherit module loaders: withoutModuleLoaders drops --import,
 * --require/-r, --loader and --experimental-loader with their values (separate or after "="), and
 * keeps every other option in order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { withoutModuleLoaders } from "../../src/util/worker.js";

test("module loaders are dropped with their values, other options kept in order", () => {
  assert.deepEqual(withoutModuleLoaders(["--import", "tsx"]), []);
  assert.deepEqual(withoutModuleLoaders(["--import=tsx", "--enable-source-maps"]), ["--enable-source-maps"]);
  assert.deepEqual(
    withoutModuleLoaders(["--max-old-space-size=4096", "-r", "ts-node/register", "--loader", "ts-node/esm", "--experimental-loader=x.mjs", "--require=y.cjs", "--trace-warnings"]),
    ["--max-old-space-size=4096", "--trace-warnings"],
  );
  assert.deepEqual(withoutModuleLoaders([]), []);
});

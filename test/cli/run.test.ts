/**
 * `rtap run` in-process: the JSON line (images, accuracy, mismatches 0, event totals equal to a
 * direct runCompiled), random inputs for zoo models, the bit level with zero-probability faults
 * equal to no faults and with write flips visibly wrong, the human report, and every user mistake
 * as one `rtap: ...` line with exit code 1.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EVENT_KINDS } from "../../src/ap/events.js";
import { compileNetwork, runCompiled } from "../../src/compiler/pipeline.js";
import { loadDataset } from "../../src/data/dataset.js";
import { fixtureModel, FMNIST_SPEC } from "../import/fixtures.js";
import { fmnistQGraph } from "../compiler/helpers.js";
import type { RunSummary } from "../../src/cli/commands/run.js";
import { assertUserError, lastLine, rtap } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");


async function runJson(args: string[]): Promise<RunSummary> {
  const r = await rtap(["run", ...args, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split("\n").length, 1, "with --json stdout is the JSON line only");
  return JSON.parse(lastLine(r.stdout)) as RunSummary;
}

describe("rtap run", () => {
  test(`--dataset ${FMNIST_SPEC} --limit 4 --verify --json: images, accuracy, mismatches 0, event totals of the compiled program`, async () => {
    const j = await runJson([PLAIN, "--dataset", FMNIST_SPEC, "--limit", "4", "--verify"]);
    assert.deepEqual([j.model, j.inputs, j.sim, j.images, j.mismatches], [PLAIN, FMNIST_SPEC, "fast", 4, 0]);
    assert.equal(typeof j.accuracy, "number");
    assert.ok(j.accuracy! >= 3 / 4);
    assert.equal(Object.keys(j.unit_mismatches!).length, 9);
    assert.ok(Object.values(j.unit_mismatches!).every((n) => n === 0));
    assert.deepEqual(Object.keys(j.events!).sort(), [...EVENT_KINDS].sort());
    // the same totals as the API on the same images
    const ds = loadDataset(FMNIST_SPEC, { limit: 4 });
    const direct = runCompiled(compileNetwork(fmnistQGraph()), ds.images, 4, { mode: "fast" });
    assert.deepEqual(j.events, direct.events);
    assert.ok(j.compile_seconds >= 0 && j.simulate_seconds >= 0);
  });

  test("zoo:resnet20 --random 2 --verify: random inputs, no accuracy, every unit bit-exact", async () => {
    const j = await runJson(["zoo:resnet20", "--random", "2", "--verify"]);
    assert.deepEqual([j.inputs, j.images, j.accuracy, j.mismatches], ["random:2 (seed 1)", 2, null, 0]);
    assert.equal(Object.keys(j.unit_mismatches!).length, 21);
    assert.ok(j.events!.cycles > 0);
  });

  test("--sim bit: faults shift=0,write=0 give exactly the fault-free run; write=1e-3 corrupts outputs", async () => {
    const base = [PLAIN, "--dataset", FMNIST_SPEC, "--limit", "1", "--sim", "bit", "--verify"];
    const clean = await runJson(base);
    const zero = await runJson([...base, "--faults", "shift=0,write=0"]);
    assert.equal(clean.mismatches, 0);
    assert.deepEqual([zero.mismatches, zero.accuracy, zero.events], [clean.mismatches, clean.accuracy, clean.events]);
    assert.equal(clean.sim, "bit");
    const faulty = await runJson([...base, "--faults", "write=1e-3,seed=5"]);
    assert.ok(faulty.mismatches! > 0, `mismatches ${faulty.mismatches}`);
    // the bit level counts the same events as the word level on the same images
    const fast = await runJson([PLAIN, "--dataset", FMNIST_SPEC, "--limit", "1"]);
    assert.deepEqual(fast.events, clean.events);
  });

  test("--no-events: values only, events null; --disable layout runs and verifies", async () => {
    const j = await runJson([PLAIN, "--dataset", FMNIST_SPEC, "--limit", "4", "--no-events", "--verify", "--disable", "layout"]);
    assert.deepEqual([j.events, j.mismatches, j.images], [null, 0, 4]);
  });

  test("human output: accuracy, the verify line and the events table", async () => {
    const r = await rtap(["run", PLAIN, "--dataset", FMNIST_SPEC, "--limit", "3", "--verify"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 image\(s\), word-level simulation in \d+\.\d s \(compile \d+\.\d s\)/);
    assert.match(r.stdout, /accuracy: \d+\.\d\d%/);
    assert.ok(r.stdout.includes("verify: every unit's output equals the integer reference bit for bit"));
    for (const k of EVENT_KINDS) assert.ok(r.stdout.includes(k), k);
  });

  test("user mistakes: one rtap: line, exit 1", async () => {
    const ds = ["--dataset", FMNIST_SPEC, "--limit", "1"];
    assertUserError(await rtap(["run", PLAIN]), "give --dataset <spec> or --random <n>");
    assertUserError(await rtap(["run", PLAIN, ...ds, "--random", "2"]), "give either --dataset or --random, not both");
    assertUserError(await rtap(["run", PLAIN, ...ds, "--faults", "write=1e-3"]), "--faults needs --sim bit");
    assertUserError(await rtap(["run", PLAIN, ...ds, "--sim", "bit", "--no-events"]), "--no-events applies to --sim fast only");
    assertUserError(await rtap(["run", PLAIN, ...ds, "--sim", "bit", "--faults", "write=abc"]), '--faults: "write=abc" needs a non-negative number');
    assertUserError(await rtap(["run", PLAIN, ...ds, "--sim", "bit", "--faults", "write=-1"]), '--faults: "write=-1" needs a non-negative number');
    assertUserError(await rtap(["run", PLAIN, ...ds, "--sim", "bit", "--faults", "flip=1"]), '--faults: unknown key "flip" (shift, write, seed)');
    assertUserError(await rtap(["run", PLAIN, ...ds, "--sim", "bit", "--faults", "shift=2"]), "--faults: probabilities must be at most 1");
    assertUserError(await rtap(["run", PLAIN, ...ds, "--disable", "nope"]), 'unknown compiler pass "nope"');
    assertUserError(await rtap(["run", "zoo:resnet20", "--dataset", FMNIST_SPEC, "--limit", "1"]), "dataset images are 1x28x28 but the model expects 3x32x32");
  });
});

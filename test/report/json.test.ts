import { test } from "node:test";
import assert from "node:assert/strict";
import { RtapError } from "../../src/errors.js";
import { canonicalReport, parseReportJson, reportToJson } from "../../src/report/json.js";
import type { ComparisonReport } from "../../src/report/types.js";
import { fixtureReport } from "./fixture.js";

/** Deep copy with every object's keys in reverse order (same data, different construction order). */
function reversedKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(reversedKeys) as T;
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reversedKeys((v as Record<string, unknown>)[k])])) as T;
  }
  return v;
}

test("report.json round-trips to an equal report (every double exact)", () => {
  const r = fixtureReport();
  const back = parseReportJson(reportToJson(r));
  assert.deepStrictEqual(back, r);
  // and is a fixed point: writing what was read gives the same bytes
  assert.equal(reportToJson(back), reportToJson(r));
});

test("report.json is deterministic and independent of the order objects were built in", () => {
  const a = reportToJson(fixtureReport());
  assert.equal(reportToJson(fixtureReport()), a);
  const shuffled = reversedKeys(fixtureReport());
  // record types get their declared order back; data-keyed maps (components...) keep the producer's order
  const canonicalShuffled = reportToJson(shuffled);
  const top = Object.keys(JSON.parse(canonicalShuffled) as object);
  assert.deepEqual(top, ["model", "modelInfo", "rtapVersion", "targets", "ablation", "sensitivity", "notes"]);
  const t0 = (JSON.parse(canonicalShuffled) as ComparisonReport).targets[0]!;
  assert.deepEqual(Object.keys(t0), [
    "target", "label", "kind", "files", "precision", "energyJ", "latencyS", "areaMm2", "inferencesPerJ", "movementShare", "energyRatioVsCrossbar", "components", "layers",
    "events", "scenarios",
  ]);
  assert.deepEqual(Object.keys(t0.scenarios![0]!), ["technology", "file", "isDefault", "energyJ", "latencyS", "components", "energyRatioVsCrossbar"]);
  const ref = (JSON.parse(canonicalShuffled) as ComparisonReport).targets[4]!;
  assert.deepEqual(Object.keys(ref), [
    "target", "label", "kind", "files", "precision", "energyJ", "latencyS", "areaMm2", "inferencesPerJ", "movementShare", "energyRatioVsCrossbar", "components", "layers",
    "reference",
  ]);
  assert.deepEqual(Object.keys(ref.reference!), ["efficiencyOpsPerJ", "ops", "source"]);
  assert.equal(ref.latencyS, null, "unknown figures of a reference row are null");
  assert.deepEqual(Object.keys(t0.layers[0]!), ["name", "energyJ", "components", "latencyS", "movementJ", "extra"]);
  // same data with maps in the original order -> same bytes as the original
  const restored = reversedKeys(fixtureReport());
  const orig = fixtureReport();
  restored.modelInfo = orig.modelInfo;
  restored.targets.forEach((t, i) => {
    t.components = orig.targets[i]!.components;
    t.energyRatioVsCrossbar = orig.targets[i]!.energyRatioVsCrossbar;
    if (t.events) t.events = orig.targets[i]!.events;
    t.scenarios?.forEach((sc, k) => {
      sc.components = orig.targets[i]!.scenarios![k]!.components;
      sc.energyRatioVsCrossbar = orig.targets[i]!.scenarios![k]!.energyRatioVsCrossbar;
    });
    t.layers.forEach((l, j) => {
      l.components = orig.targets[i]!.layers[j]!.components;
      l.extra = orig.targets[i]!.layers[j]!.extra;
    });
  });
  assert.equal(reportToJson(restored), a);
});

test("report.json drops fields outside the types and keeps optional extra only when present", () => {
  const r = fixtureReport() as ComparisonReport & { stray?: number };
  r.stray = 1;
  (r.targets[0] as unknown as Record<string, unknown>).debug = "x";
  const text = reportToJson(r);
  assert.ok(!text.includes('"stray"') && !text.includes('"debug"'));
  const c = canonicalReport(fixtureReport());
  assert.ok(!("extra" in c.targets[2]!.layers[0]!), "crossbar layers have no extra in the fixture");
  assert.ok("extra" in c.targets[0]!.layers[0]!);
});

test("a non-finite number is an RtapError naming its field", () => {
  const r = fixtureReport();
  r.targets[1]!.layers[3]!.components.search = Number.NaN;
  assert.throws(() => reportToJson(r), (e: unknown) => e instanceof RtapError && e.message.includes("report.targets[1].layers[3].components.search") && e.message.includes("NaN"));
  const q = fixtureReport();
  q.targets[2]!.components['buffers, "eDRAM"'] = Number.POSITIVE_INFINITY;
  assert.throws(() => reportToJson(q), (e: unknown) => e instanceof RtapError && e.message.includes('components["buffers, \\"eDRAM\\""]'));
});

test("parseReportJson names the file and the field of a problem", () => {
  assert.throws(() => parseReportJson("{not json", "out/report.json"), (e: unknown) => e instanceof RtapError && e.message.startsWith("out/report.json: not valid JSON"));
  const obj = JSON.parse(reportToJson(fixtureReport())) as Record<string, unknown>;
  delete ((obj.targets as Array<Record<string, unknown>>)[0]!).energyJ;
  (obj.sensitivity as Array<{ whatItTakes: Array<{ factor: unknown }> }>)[1]!.whatItTakes[0]!.factor = "big";
  assert.throws(
    () => parseReportJson(JSON.stringify(obj), "r.json"),
    (e: unknown) => e instanceof RtapError && e.message.startsWith("r.json: not a comparison report") && e.message.includes("targets[0].energyJ") && e.message.includes("sensitivity[1].whatItTakes[0].factor"),
  );
  // null factor ("not reachable alone") is valid
  const ok = fixtureReport();
  ok.sensitivity[0]!.whatItTakes[0]!.factor = null;
  assert.equal(parseReportJson(reportToJson(ok)).sensitivity[0]!.whatItTakes[0]!.factor, null);
});

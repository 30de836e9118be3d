/**
 * The one loader of sourced YAML numbers: dotted-path overrides into architecture and technology
 * files, provenance of an overridden number, and errors that name the path, the file and the line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { archFilePath, loadArch } from "../../src/ap/config.js";
import { apCost } from "../../src/cost/ap.js";
import { loadApTechnology, technologyPath } from "../../src/cost/technology.js";
import { RtapError } from "../../src/errors.js";
import { applyOverride, lineOf, parseSourcedText, pathTokens, readSourcedFile, sourcedText } from "../../src/util/sourced-yaml.js";

const at = (path: string, value: unknown) => ({ path, value, origin: "plan.yaml:7" });

test("paths: dotted with [i] list items; a malformed one is an error naming it", () => {
  assert.deepEqual(pathTokens("levels[1].inputDistance"), ["levels", 1, "inputDistance"]);
  assert.deepEqual(pathTokens("array.portPositions"), ["array", "portPositions"]);
  assert.throws(() => pathTokens("a..b", "x.yaml:3"), /x\.yaml:3: bad path "a\.\.b"/);
});

test("architecture overrides: the value changes, the source names the override and keeps the file's value", () => {
  const base = loadArch("rtm-ap");
  const a = loadArch("rtm-ap", [at("array.rows", 256), at("array.tracksPerRow", 64), at("chip.interconnect", "htree")]);
  assert.equal(base.array.rows, 512);
  assert.equal(a.array.rows, 256);
  assert.equal(a.array.tracks, 64);
  assert.equal(a.interconnect, "htree");
  assert.match(a.sources["array.rows"]!, /^override from plan\.yaml:7; the file's value was 512 rows \(assumption: CAM macros/);
  assert.match(a.sources["array.domainsPerTrack"]!, /RTSim/);
  // an override that breaks a cross-field rule is caught by the same validation as the file
  assert.throws(() => loadArch("rtm-ap", [at("array.tracksPerShiftGroup", 24)]), /array\.tracksPerShiftGroup: must divide tracksPerRow = 128 \(got 24\)/);
  assert.throws(() => loadArch("rtm-ap", [at("array.rows", 0)]), /array\.rows\.value: must be an integer/);
});

test("technology overrides are in the file's unit; the priced result follows", () => {
  const t0 = loadApTechnology("rtm-ap");
  const t = loadApTechnology("rtm-ap", [at("prices.write_cells", 1.38)]);
  assert.equal(t0.prices.write_cells.given.unit, "pJ");
  assert.equal(t.prices.write_cells.given.value, 1.38);
  assert.ok(Math.abs(t.prices.write_cells.value - 2 * t0.prices.write_cells.value) < 1e-27);
  assert.match(t.prices.write_cells.source!, /override from plan\.yaml:7; the file's value was 0\.69 pJ/);
  assert.equal(t.prices.write_cells.assumption, false);
  const arch = loadArch("rtm-ap");
  const events = { searches: 1, searchRowBits: 0, flagSearchRowBits: 0, writes: 1, writeCells: 1000, flagWriteCells: 0, shifts: 0, shiftTrackDomains: 0, tagOps: 0, bufferReadBits: 0, bufferWriteBits: 0, transferBitsArray: 0, transferBitsTile: 0, transferBitHopsTile: 0, transferBitsChip: 0, cycles: 1 };
  const e0 = apCost(events as never, t0, arch).energy.write, e1 = apCost(events as never, t, arch).energy.write;
  assert.ok(Math.abs(e1 / e0 - 2) < 1e-12);
});

test("bad override paths name the field, the file and the line where it would be", () => {
  const err = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof RtapError, String(e));
      return e.message;
    }
    assert.fail("no error");
  };
  const m1 = err(() => loadArch("rtm-ap", [at("array.rowz", 4)]));
  assert.match(m1, /^plan\.yaml:7: "array\.rowz": configs\/arch\/rtm-ap\.yaml has no field "rowz" under array \(configs\/arch\/rtm-ap\.yaml:\d+\); fields there: rows, tracksPerRow/);
  const m2 = err(() => loadArch("rtm-ap", [at("array", 4)]));
  assert.match(m2, /"array" is a section of configs\/arch\/rtm-ap\.yaml/);
  const m3 = err(() => loadApTechnology("rtm-ap", [at("interconnect.wire.energyPerBitPerMm", 1)]));
  assert.match(m3, /interconnect is "interconnect-22nm" \(a reference to another file\)/);
  const m4 = err(() => loadApTechnology("rtm-ap", [at("prices.search_row_bits", -1)]));
  assert.match(m4, /must be >= 0/);
});

test("line numbers and syntax errors", () => {
  const d = readSourcedFile(archFilePath("rtm-ap"));
  const line = lineOf(d, ["array", "rows"])!;
  assert.match(d.doc.toString().split("\n")[0]!, /#/);
  const text = readSourcedFile(archFilePath("rtm-ap")).doc.toString().split("\n");
  assert.ok(line > 1);
  assert.throws(() => parseSourcedText("a: [\nb: 1\n", "bad.yaml"), /bad\.yaml:\d+:\d+: YAML syntax error/);
  // an overridden file written out keeps every other number and comment
  const out = sourcedText(readSourcedFile(technologyPath("rtm-ap")), [at("prices.write_cells", 1.38)]);
  assert.match(out, /write_cells:\n\s+value: 1\.38/);
  assert.ok(text.length > 20);
  const d2 = parseSourcedText("x: { value: 1, unit: rows, source: s }\n", "t.yaml");
  applyOverride(d2, at("x", [1, 2]));
  assert.deepEqual((d2.doc.toJS() as { x: { value: number[] } }).x.value, [1, 2]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { RtapError } from "../../src/errors.js";
import {
  SHIPPED_TECHNOLOGIES,
  loadTechnology,
  loadCrossbarTechnology,
  loadApTechnology,
  loadReferenceTechnology,
  technologyPath,
  RTM_SCENARIOS,
} from "../../src/cost/technology.js";
import { listParams } from "../../src/cost/params.js";
import { nodeFactor } from "../../src/cost/scaling.js";
import { repoPath } from "../repo.js";

const here = repoPath("test", "cost");
const fixture = (name: string): string => join(here, "fixtures", name);

test("every shipped technology file loads, and every number has a source or an assumption flag", () => {
  for (const name of SHIPPED_TECHNOLOGIES) {
    const t = loadTechnology(name);
    assert.equal(t.name, name, `${name}: name field matches the file name`);
    assert.ok(t.version >= 1);
    const params = listParams(t);
    assert.ok(params.length >= (t.kind === "reference" ? 1 : 5), `${name} has parameters`);
    for (const { path, param } of params) {
      assert.ok(param.source !== undefined || param.assumption, `${name}: ${path} needs a source or assumption`);
      if (param.assumption) assert.ok(param.note !== undefined || param.source !== undefined, `${name}: ${path} assumption explained`);
      assert.ok(Number.isFinite(param.value) && param.value >= 0, `${name}: ${path} finite, non-negative`);
    }
  }
});

test("configs/crossbar-neurosim22.yaml exists at the path the issue names and is the calibration file", () => {
  const t = loadCrossbarTechnology(join(dirname(technologyPath("crossbar-neurosim22")), "..", "crossbar-neurosim22.yaml"));
  assert.equal(t.name, "crossbar-neurosim22");
  assert.equal(t.adc.bits.value, 5);
  assert.equal(t.array.rows.value, 128);
});

test("node scaling is applied explicitly and recorded: ISAAC 32 nm numbers scaled to 22 nm", () => {
  const t = loadCrossbarTechnology("crossbar-isaac");
  const adc8 = t.adc.energy.model === "table" ? t.adc.energy.perBits["8"] : undefined;
  assert.ok(adc8);
  assert.deepEqual(adc8.given, { value: 1.6667, unit: "pJ" });
  assert.deepEqual(adc8.scaled, { fromNode: 32, toNode: 22, factor: 0.446, kind: "energy" });
  assert.equal(adc8.value, 1.6667 * 1e-12 * 0.446);
  // area: 1200 um2 at 32 nm x 0.55
  assert.equal(t.adc.area.value, 1200 * 1e-12 * 0.55);
  assert.deepEqual(t.adc.area.scaled, { fromNode: 32, toNode: 22, factor: 0.55, kind: "area" });
  // a number given at the file's node is not scaled
  assert.equal(t.adc.latency.scaled, undefined);
  assert.equal(t.adc.latency.value, 0.833 * 1e-9);
  // the AP pulls the shared interconnect file and scales the ISAAC router (32 nm) to 22 nm
  const ap = loadApTechnology("rtm-ap");
  assert.equal(ap.interconnect.router.energyPerBit.value, 81.0 * 1e-15 * 0.446);
  // an Eva-CAM match line at 45 nm is scaled; the 22 nm STT-MTJ TCAM compare is not
  assert.equal(ap.prices.search_rows.value, 8.0 * 1e-15 * 0.294);
  assert.deepEqual(ap.prices.search_rows.scaled, { fromNode: 45, toNode: 22, factor: 0.294, kind: "energy" });
  assert.equal(ap.prices.search_row_bits.scaled, undefined);
  assert.equal(loadApTechnology("rtm-ap-destiny").prices.search_row_bits.value, 0.57 * 1e-15 * 0.294);
});

test("node scaling factors are the sourced table; a missing pair is an error, not a guess", () => {
  assert.equal(nodeFactor("energy", 45, 22), 0.294);
  assert.equal(nodeFactor("energy", 65, 22), 0.237);
  assert.equal(nodeFactor("area", 45, 22), 0.252);
  assert.equal(nodeFactor("energy", 22, 22), 1);
  assert.throws(() => nodeFactor("area", 65, 22), (e: unknown) => e instanceof RtapError && /no sourced area scaling factor from 65 nm to 22 nm/.test(e.message));
});

function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "rtap-tech-"));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function expectTechError(text: string, ...patterns: RegExp[]): void {
  const p = writeTemp("bad.yaml", text);
  assert.throws(
    () => loadTechnology(p),
    (e: unknown) => {
      assert.ok(e instanceof RtapError, `expected RtapError, got ${String(e)}`);
      assert.ok(e.message.includes(p), `message names the file: ${e.message}`);
      for (const re of patterns) assert.match(e.message, re);
      return true;
    },
  );
}

const tiny = readFileSync(fixture("tiny-crossbar.yaml"), "utf8");

test("bad technology files give RtapErrors naming the file and the field", () => {
  // missing field
  expectTechError(tiny.replace(/^ {2}readEnergy:.*\n/m, ""), /array\.readEnergy/);
  // negative energy
  expectTechError(tiny.replace("rowDriveEnergy: { value: 1,", "rowDriveEnergy: { value: -1,"), /inputs\.rowDriveEnergy\.value/, /must be >= 0/);
  // wrong unit (an energy given in ns)
  expectTechError(tiny.replace("adderPerBit: { value: 1, unit: fJ", "adderPerBit: { value: 1, unit: ns"), /accumulation\.adderPerBit\.unit/, /unit must be one of J, mJ/);
  // no source and no assumption
  expectTechError(tiny.replace("area: { value: 100, unit: um2, assumption: true, note: fixture }", "area: { value: 100, unit: um2 }"), /array\.area/, /needs a `source` or `assumption: true`/);
  // unknown field (typo)
  expectTechError(tiny.replace("  cellBits:", "  cellBitz: { value: 1, unit: bits, source: x }\n  cellBits:"), /cellBitz/);
  // a time given at another node cannot be scaled
  expectTechError(tiny.replace("latency: { value: 1, unit: ns, assumption: true, note: fixture }", "latency: { value: 1, unit: ns, node: 32, assumption: true, note: fixture }"), /adc\.latency/, /restated/);
  // a node pair without a sourced factor
  expectTechError(tiny.replace("rowDriveEnergy: { value: 1, unit: fJ,", "rowDriveEnergy: { value: 1, unit: fJ, node: 90,"), /inputs\.rowDriveEnergy/, /90 nm to 22 nm/);
  // YAML syntax
  expectTechError("kind: crossbar\n  bad: [", /YAML syntax error/);
});

const tinyAp = readFileSync(fixture("tiny-ap.yaml"), "utf8");

test("AP technology files: every price needs a source, shift is per domain-length, errors name file and field", () => {
  // the fixture itself loads
  assert.equal(loadApTechnology(fixture("tiny-ap.yaml")).prices.shift_track_domains.unit, "J/domain");
  // a price with neither source nor assumption
  expectTechError(tinyAp.replace("search_rows: { value: 10, unit: fJ, assumption: true, note: fixture }", "search_rows: { value: 10, unit: fJ }"), /prices\.search_rows/, /needs a `source` or `assumption: true`/);
  // a missing kind
  expectTechError(tinyAp.replace(/^ {2}micro_ops:.*\n/m, ""), /prices\.micro_ops/);
  // an unknown kind (a typo)
  expectTechError(tinyAp.replace("  micro_ops:", "  micro_opz: { value: 1, unit: fJ, source: x }\n  micro_ops:"), /micro_opz/);
  // the shift price must be per domain-length of track, not per move
  expectTechError(tinyAp.replace("shift_track_domains: { value: 5, unit: fJ/domain", "shift_track_domains: { value: 5, unit: fJ"), /prices\.shift_track_domains\.unit/, /fJ\/domain/);
  // leakage is a power per array
  expectTechError(tinyAp.replace("array_seconds: { value: 1, unit: uW", "array_seconds: { value: 1, unit: fJ"), /prices\.array_seconds\.unit/, /uW/);
});

test("an old-style AP file (its own geometry) gets one error naming the file, the geometry and where each number went", () => {
  const file = fixture("old-style-ap.yaml");
  assert.throws(
    () => loadApTechnology(file),
    (e: unknown) => {
      assert.ok(e instanceof RtapError, String(e));
      assert.ok(e.message.startsWith(`${file}: old-style AP technology file`), e.message);
      for (const f of ["array.rows", "array.tracksPerRow", "array.domainsPerTrack", "array.portsPerTrack", "organisation.tiles", "organisation.arraysPerTile"]) assert.ok(e.message.includes(f), `${f} named: ${e.message}`);
      assert.match(e.message, /geometry, which lives only in the architecture file \(configs\/arch/);
      assert.match(e.message, /search\.energyPerBit -> prices\.search_row_bits/);
      assert.match(e.message, /shift\.energyPerTrackDomain -> prices\.shift_track_domains, now per domain-length/);
      return true;
    },
  );
  // the shipped AP files carry no geometry at all
  for (const name of [...RTM_SCENARIOS, "sram-ap"]) {
    const t = loadApTechnology(name);
    assert.deepEqual(Object.keys(t).filter((k) => ["array", "organisation"].includes(k)), [], `${name}: no geometry sections`);
    for (const { path, param } of listParams(t)) {
      assert.ok(!/\b(rows|tracksPerRow|domainsPerTrack|portsPerTrack|tiles|arraysPerTile)\b/.test(path), `${name}: ${path} looks like geometry`);
      assert.notEqual(param.dimension, "count", `${name}: ${path} is a count (geometry belongs to configs/arch)`);
    }
  }
});

test("reference files: a published efficiency with its precision, in operations per joule", () => {
  const isaac = loadReferenceTechnology("reference-isaac");
  assert.equal(isaac.efficiency.value, 627.5e9);
  assert.equal(isaac.precision, "16-bit");
  assert.equal(isaac.node, 32);
  const puma = loadReferenceTechnology("reference-puma");
  assert.equal(puma.efficiency.value, 837e9);
  assert.match(puma.precision, /not stated/);
  assert.equal(puma.node, undefined);
  assert.throws(() => loadReferenceTechnology("rtm-ap"), (e: unknown) => e instanceof RtapError && /kind: reference/.test(e.message));
  const text = readFileSync(technologyPath("reference-isaac"), "utf8");
  expectTechError(text.replace(/^precision:.*\n/m, ""), /precision/);
  expectTechError(text.replace("unit: GOPS/W", "unit: pJ"), /efficiency\.unit/, /GOPS\/W/);
});

test("a missing technology file is an RtapError listing the shipped ones", () => {
  assert.throws(() => loadTechnology("no-such-technology"), (e: unknown) => e instanceof RtapError && /no-such-technology\.yaml/.test(e.message) && /crossbar-isaac/.test(e.message));
  assert.throws(() => loadApTechnology("crossbar-isaac"), (e: unknown) => e instanceof RtapError && /kind: ap/.test(e.message));
});

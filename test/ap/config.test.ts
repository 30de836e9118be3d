import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { archConfigDir, loadArch, parseArch, BUILTIN_ARCHS } from "../../src/ap/config.js";
import { ApGeometry } from "../../src/ap/geometry.js";
import { RtapError } from "../../src/errors.js";

test("the shipped RTM-AP (interleaved and serial) and SRAM-AP architectures load with their documented geometry", () => {
  const rtm = loadArch("rtm-ap");
  assert.equal(rtm.array.technology, "rtm");
  assert.deepEqual(
    { ...rtm.array, portPositions: [...rtm.array.portPositions] },
    { technology: "rtm", rows: 512, tracks: 128, domains: 64, ports: 2, portPositions: [0, 32], tracksPerGroup: 32, flags: 4, layout: "interleaved" },
  );
  // rtm-ap-serial: the same machine with operand bits along the tracks
  const serial = loadArch("rtm-ap-serial");
  assert.deepEqual({ ...serial.array, portPositions: [...serial.array.portPositions] }, { ...rtm.array, portPositions: [0, 32], layout: "serial" });
  assert.deepEqual(serial.timing, rtm.timing);
  assert.throws(() => parseArch(readFileSync(join(archConfigDir(), "rtm-ap.yaml"), "utf8").replace("layout: interleaved", "layout: diagonal"), "bad.yaml"), (e: unknown) => e instanceof RtapError && /array\.layout: layout must be "interleaved" or "serial"/.test(e.message));
  assert.equal(rtm.timing.clockMHz, 400);
  assert.equal(rtm.timing.write, 2);
  const sram = loadArch("sram-ap");
  assert.equal(sram.array.technology, "sram");
  assert.equal(sram.array.tracks, 8192);
  assert.equal(sram.array.domains, 1);
  assert.equal(new ApGeometry(sram.array).canShift, false);
  // Same bits per row in both, so the same program fits both.
  assert.equal(rtm.array.tracks * rtm.array.domains, sram.array.tracks);
});

test("every number in the shipped architecture files carries a source or a noted assumption", () => {
  for (const name of BUILTIN_ARCHS) {
    const arch = loadArch(name);
    const doc = parse(readFileSync(join(archConfigDir(), `${name}.yaml`), "utf8")) as Record<string, unknown>;
    let numbers = 0;
    const walk = (node: unknown, path: string): void => {
      if (typeof node === "number") assert.fail(`${name}: bare number at ${path}`);
      if (typeof node !== "object" || node === null) return;
      if ("value" in node) {
        numbers++;
        assert.ok(arch.sources[path] && arch.sources[path]!.length > 5, `${name}: ${path} has no source`);
        return;
      }
      for (const [k, v] of Object.entries(node)) if (k !== "version") walk(v, path ? `${path}.${k}` : k);
    };
    walk(doc, "");
    assert.ok(numbers >= 15, `${name}: only ${numbers} numbers found`);
  }
});

function base(): Record<string, any> {
  return parse(readFileSync(join(archConfigDir(), "rtm-ap.yaml"), "utf8")) as Record<string, any>;
}

function errorOf(doc: unknown): string {
  try {
    parseArch(JSON.stringify(doc), "my.yaml");
  } catch (err) {
    assert.ok(err instanceof RtapError, `expected RtapError, got ${String(err)}`);
    return err.message;
  }
  assert.fail("expected a validation error");
}

test("validation errors name the file, the field and the allowed range", () => {
  let d = base();
  d.array.rows.value = 0;
  assert.match(errorOf(d), /^my\.yaml: array\.rows\.value: must be an integer in 1\.\.1048576 \(got 0\)/);
  d = base();
  d.array.domainsPerTrack.value = 2.5;
  assert.match(errorOf(d), /array\.domainsPerTrack\.value: must be an integer in 1\.\.4096 \(got 2\.5\)/);
  d = base();
  d.chip.interconnect = "torus";
  assert.match(errorOf(d), /chip\.interconnect: interconnect must be "mesh" or "htree"/);
  d = base();
  delete d.timing.write.source;
  assert.match(errorOf(d), /timing\.write: every number needs a `source`/);
  d = base();
  d.array.tracksPerShiftGroup.value = 24;
  assert.match(errorOf(d), /array\.tracksPerShiftGroup: must divide tracksPerRow = 128 \(got 24\)/);
  d = base();
  d.array.portPositions.value = [0, 64];
  assert.match(errorOf(d), /array\.portPositions: position 64 is outside the track \(allowed 0\.\.63\)/);
  d = base();
  d.array.portPositions.value = [0, 60];
  assert.match(errorOf(d), /array\.portPositions: .*domains 4\.\.59 can never be brought under a port/);
  d = base();
  d.array.portsPerTrack.value = 3;
  assert.match(errorOf(d), /array\.portPositions: lists 2 position\(s\) but portsPerTrack is 3/);
  d = base();
  d.technology = "dram";
  assert.match(errorOf(d), /technology: must be "rtm" or "sram"/);
  d = base();
  d.array.extra = { value: 1, unit: "bits", source: "x" };
  assert.match(errorOf(d), /array: Unrecognized key: "extra"/);
  assert.throws(() => loadArch("no-such-arch"), (e: unknown) => e instanceof RtapError && /no-such-arch: cannot read/.test(e.message));
  assert.throws(() => parseArch("a: [", "bad.yaml"), /bad\.yaml: not valid YAML/);
});

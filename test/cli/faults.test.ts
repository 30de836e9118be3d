/** `rtap faults`: the --json line, CSV and HTML outputs, and clear errors for bad input. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rtap } from "./helpers.js";

const MODEL = "test/fixtures/models/fmnist-resnet8.onnx";
const DATA = "idx:test/fixtures/fashion-mnist-slice";

test("rtap faults --json: one line with fault_free_accuracy, curves and overhead; CSV and HTML written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtap-faults-"));
  const r = await rtap([
    "faults", MODEL, "--dataset", DATA, "--limit", "6", "--arch", "rtm-ap", "--shift-rates", "0,1e-3", "--write-rates", "1e-5",
    "--csv", join(dir, "curves.csv"), "--html", join(dir, "report.html"), "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  const j = JSON.parse(lines[0]!);
  assert.equal(typeof j.fault_free_accuracy, "number");
  assert.equal(j.ci_method, "wilson-95");
  // shift: none and pecc at 2 rates; write: none at 1 rate
  assert.equal(j.curves.length, 5);
  for (const c of j.curves) for (const k of ["protect", "kind", "rate", "accuracy", "changed", "ci_low", "ci_high"]) assert.ok(k in c, k);
  for (const c of j.curves.filter((c: { rate: number }) => c.rate === 0)) {
    assert.equal(c.accuracy, j.fault_free_accuracy);
    assert.equal(c.changed, 0);
  }
  const pecc = j.curves.find((c: { protect: string; rate: number }) => c.protect === "pecc" && c.rate > 0);
  assert.equal(pecc.changed, 0);
  assert.ok(pecc.corrected_per_inference > 1e4);
  assert.equal(j.overhead.length, 1);
  assert.equal(j.overhead[0].scheme, "pecc");
  assert.ok(j.overhead[0].energy_ratio > 1 && j.overhead[0].latency_ratio >= 1 && j.overhead[0].area_ratio > 1);
  assert.equal(j.sensitivity.length, 9); // one per unit of fmnist-resnet8
  const csv = readFileSync(join(dir, "curves.csv"), "utf8").trim().split("\n");
  assert.equal(csv.length, 6);
  assert.match(csv[0]!, /^arch,layout,protect,kind,rate,/);
  assert.equal(readFileSync(join(dir, "curves.sensitivity.csv"), "utf8").trim().split("\n").length, 10);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.match(html, /<svg id="chart-fault-curves"/);
  assert.match(html, /<svg id="chart-fault-sensitivity"/);
});

test("rtap faults: bad input is a clear error naming the problem", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--protect", "none,ecc"], /--protect: unknown protection "ecc"/],
    [["--shift-rates", "1e-3,2"], /--shift-rates: "2" is not a probability/],
    [["--write-rates", "x"], /--write-rates: "x" is not a probability/],
    [["--arch", "sram-ap"], /not racetrack memory/],
  ];
  for (const [extra, want] of cases) {
    const r = await rtap(["faults", MODEL, "--dataset", DATA, "--limit", "2", ...extra, "--json"]);
    assert.equal(r.code, 1, `${extra.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, want);
  }
  const r = await rtap(["faults", MODEL, "--dataset", "random:0", "--limit", "2"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /random:N" needs a positive integer/);
});

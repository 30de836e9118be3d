import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RtapError } from "../../src/errors.js";
import { ablationToCsv, reportToCsv, sensitivityToCsv, summaryToCsv } from "../../src/report/csv.js";
import { reportToJson } from "../../src/report/json.js";
import { writeReport, type ReportFormat } from "../../src/report/write.js";
import { fixtureReport } from "./fixture.js";

test("writeReport creates the directory and writes every format", async () => {
  const base = await mkdtemp(join(tmpdir(), "rtap-report-"));
  try {
    const dir = join(base, "nested", "out");
    const { files } = await writeReport(fixtureReport(), dir);
    assert.deepEqual(files, ["report.json", "report.csv", "report-summary.csv", "report-ablation.csv", "report-sensitivity.csv", "report.html"].map((f) => join(dir, f)));
    assert.deepEqual((await readdir(dir)).sort(), ["report-ablation.csv", "report-sensitivity.csv", "report-summary.csv", "report.csv", "report.html", "report.json"]);
    const r = fixtureReport();
    assert.equal(await readFile(join(dir, "report.json"), "utf8"), reportToJson(r));
    assert.equal(await readFile(join(dir, "report.csv"), "utf8"), reportToCsv(r));
    assert.equal(await readFile(join(dir, "report-summary.csv"), "utf8"), summaryToCsv(r));
    assert.equal(await readFile(join(dir, "report-ablation.csv"), "utf8"), ablationToCsv(r));
    assert.equal(await readFile(join(dir, "report-sensitivity.csv"), "utf8"), sensitivityToCsv(r));
    assert.ok((await readFile(join(dir, "report.html"), "utf8")).startsWith("<!DOCTYPE html>"));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test("writeReport writes only the formats asked for", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rtap-report-"));
  try {
    const { files } = await writeReport(fixtureReport(), dir, { formats: ["csv", "json"] });
    assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ["report.json", "report.csv", "report-summary.csv", "report-ablation.csv", "report-sensitivity.csv"]);
    assert.deepEqual((await readdir(dir)).length, 5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeReport: an unwritable place or an unknown format is an RtapError naming it", async () => {
  const base = await mkdtemp(join(tmpdir(), "rtap-report-"));
  try {
    const file = join(base, "a-file");
    await writeFile(file, "x");
    const dir = join(file, "out"); // a directory under a regular file cannot exist
    await assert.rejects(writeReport(fixtureReport(), dir, { formats: ["json"] }), (e: unknown) => e instanceof RtapError && e.message.startsWith(`${dir}: cannot create the report directory`));
    const blocked = join(base, "blocked");
    // report.json exists as a directory: writing the file fails and names it
    const dir2 = join(base, "d2");
    await writeReport(fixtureReport(), join(dir2, "report.json"), { formats: ["json"] });
    await assert.rejects(writeReport(fixtureReport(), dir2, { formats: ["json"] }), (e: unknown) => e instanceof RtapError && e.message.startsWith(`${join(dir2, "report.json")}: cannot write the report file`));
    await assert.rejects(writeReport(fixtureReport(), blocked, { formats: ["pdf" as ReportFormat] }), (e: unknown) => e instanceof RtapError && e.message.includes('unknown report format "pdf"'));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

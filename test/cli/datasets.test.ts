import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { FASHION_MNIST_DIR } from "../../src/data/dataset.js";
import type { DatasetSummary } from "../../src/cli/commands/datasets.js";
import { lastLine, rtap } from "./helpers.js";
import { repoPath } from "../repo.js";

// Absolute, so the tests do not depend on the working directory.
const FIXTURE = repoPath("test", "fixtures", "fashion-mnist-slice");
const skipNoPackage = existsSync(FASHION_MNIST_DIR)
  ? false
  : `${FASHION_MNIST_DIR} is absent (install the Debian package dataset-fashion-mnist to run this test)`;

test("rtap datasets fashion-mnist --limit 100 --json ends stdout with one JSON line", { skip: skipNoPackage }, async () => {
  const r = await rtap(["datasets", "fashion-mnist", "--limit", "100", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.ok(r.stdout.endsWith("}\n"));
  assert.equal(r.stdout.trimEnd().split("\n").length, 1, "with --json stdout is the JSON line only");
  const s = JSON.parse(lastLine(r.stdout)) as DatasetSummary;
  assert.equal(s.name, "Fashion-MNIST test set");
  assert.equal(s.count, 100);
  assert.equal(s.total, 10000);
  assert.deepEqual(s.shape, [1, 28, 28]);
  assert.equal(s.classes, 10);
  assert.equal(s.label_counts.length, 10);
  assert.equal(s.label_counts.reduce((a, b) => a + b, 0), 100);
  assert.equal(s.class_names?.[0], "T-shirt/top");
});

test("rtap datasets on the fixture: JSON label histogram equals the fixture's labels", async () => {
  const r = await rtap(["datasets", `idx:${FIXTURE}`, "--offset", "250", "--limit", "10", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(lastLine(r.stdout)) as DatasetSummary;
  assert.equal(s.count, 6); // clamped at the end of the 256-image fixture
  assert.equal(s.offset, 250);
  assert.equal(s.class_names, null);
  assert.equal(s.label_counts.reduce((a, b) => a + b, 0), 6);
  const full = JSON.parse(lastLine((await rtap(["datasets", `idx:${FIXTURE}`, "--json"])).stdout)) as DatasetSummary;
  // Fixture label histogram (first 256 Fashion-MNIST test labels).
  assert.deepEqual(full.label_counts, [25, 32, 37, 18, 27, 21, 22, 27, 23, 24]);
  assert.equal(full.pixel_mean, Math.round((14981551 / (256 * 784)) * 1e4) / 1e4);
});

test("rtap datasets human output: summary lines and a plain table without ANSI codes off a terminal", async () => {
  const r = await rtap(["datasets", `idx:${FIXTURE}`, "--limit", "20"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /images: +20 of 256 \(images 0\.\.19\)/);
  assert.match(r.stdout, /shape: +1x28x28/);
  assert.match(r.stdout, /│ label │ images │ share │/);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  const colored = await rtap(["datasets", `idx:${FIXTURE}`, "--limit", "20"], { env: { FORCE_COLOR: "1" } });
  assert.match(colored.stdout, /\x1b\[/);
});

test("rtap datasets with a missing directory exits 1 naming the directory", async () => {
  const r = await rtap(["datasets", "idx:/nonexistent/rtap-data"]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "rtap: /nonexistent/rtap-data: dataset directory not found\n");
});

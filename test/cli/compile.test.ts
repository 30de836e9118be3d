/**
 * `rtap compile` in-process: the JSON line (CSE totals and per-unit entries, equal to the
 * compiler's own figures), the human table, `--emit` for every stage, `--disable`, `--verify`,
 * and each user mistake (unknown stage, pass or unit; an architecture whose row cannot hold a
 * receptive field) as one `rtap: ...` line with exit code 1.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatCount } from "../../src/cli/format.js";
import { EMIT_STAGES } from "../../src/compiler/emit.js";
import { compileNetwork, PASS_NAMES } from "../../src/compiler/pipeline.js";
import { fixtureModel } from "../import/fixtures.js";
import { archYamlWith, fmnistQGraph } from "../compiler/helpers.js";
import { assertUserError, lastLine, rtap } from "./helpers.js";

const PLAIN = fixtureModel("fmnist-resnet8.onnx");

interface UnitJson {
  name: string;
  kind: string;
  mapping: string;
  matrices: { name: string; rows: number; cols: number; nonZeros: number }[];
  adds_naive: number;
  adds_compiled: number;
  add_cycles_naive: number;
  add_cycles_compiled: number;
  slices: number;
  blocks: number;
  staging_copies: number;
  steps: number;
  peak_tmp_slots: number;
  positions: number;
  arrays: number;
  tiles: number;
  row_utilization: number;
}

interface CompileJson {
  model: string;
  arch: string;
  passes: Record<string, boolean>;
  units: number;
  adds_naive: number;
  adds_compiled: number;
  add_cycles_naive: number;
  add_cycles_compiled: number;
  ratio_cycles: number | null;
  steps: number;
  compile_seconds: number;
  per_unit: UnitJson[];
}

describe("rtap compile", () => {
  const net = compileNetwork(fmnistQGraph());

  test("--json: one JSON line; totals are the sums over positions-mapped units and equal the compiler's figures", async () => {
    const r = await rtap(["compile", PLAIN, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split("\n").length, 1, "with --json stdout is the JSON line only");
    const j = JSON.parse(lastLine(r.stdout)) as CompileJson;
    assert.deepEqual([j.model, j.arch, j.units], [PLAIN, "rtm-ap", 9]);
    assert.deepEqual(j.passes, Object.fromEntries(Object.keys(PASS_NAMES).map((k) => [k, true])));
    assert.equal(j.per_unit.length, 9);
    const sum = (k: keyof UnitJson): number => j.per_unit.filter((u) => u.mapping === "positions").reduce((s, u) => s + (u[k] as number), 0);
    assert.equal(j.adds_naive, sum("adds_naive"));
    assert.equal(j.adds_compiled, sum("adds_compiled"));
    assert.equal(j.add_cycles_naive, sum("add_cycles_naive"));
    assert.equal(j.add_cycles_compiled, sum("add_cycles_compiled"));
    assert.equal(j.steps, j.per_unit.reduce((s, u) => s + u.steps, 0));
    assert.equal(j.ratio_cycles, Math.round((j.add_cycles_naive / j.add_cycles_compiled) * 1000) / 1000);
    // (the interleaved row's page-streamed reduction shares no sums: as many additions, fewer cycles)
    assert.ok(j.add_cycles_compiled < j.add_cycles_naive && j.adds_compiled <= j.adds_naive);
    assert.equal(typeof j.compile_seconds, "number");
    j.per_unit.forEach((u, i) => {
      const cu = net.units[i]!;
      assert.deepEqual(
        [u.name, u.kind, u.adds_naive, u.adds_compiled, u.add_cycles_naive, u.add_cycles_compiled, u.slices, u.blocks, u.staging_copies, u.steps, u.positions, u.arrays, u.tiles],
        [cu.unit.name, cu.unit.kind, cu.stats.addsNaive, cu.stats.addsCompiled, cu.stats.cyclesNaive, cu.stats.cyclesCompiled, cu.stats.slices, cu.stats.blocks, cu.stats.stagingCopies, cu.program.nSteps, cu.mapping.positions, cu.mapping.arrays, cu.mapping.tiles],
        `unit ${i}`,
      );
      assert.equal(u.row_utilization, Math.round(cu.mapping.utilization * 1e4) / 1e4);
    });
    assert.deepEqual(j.per_unit[4]!.matrices.map((m) => [m.rows, m.cols]), [[32, 16], [32, 288]], "the 1x1 shortcut term first (smaller matrix)");
  });

  test("human output: the CSE table, one row per unit, and the totals line", async () => {
    const r = await rtap(["compile", PLAIN]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fmnist-resnet8\.onnx compiled for rtm-ap in \d+\.\d s: 9 compute units, [\d,]+ program steps/);
    for (const h of ["unit", "O x J", "adds naive", "adds CSE", "cycles naive", "cycles CSE", "ratio", "slices x blocks", "rows used"]) assert.ok(r.stdout.includes(h), h);
    for (const cu of net.units) assert.ok(r.stdout.includes(cu.unit.name), cu.unit.name);
    assert.match(r.stdout, /\/layers\/layers\.1\/c2\/Conv_output_0 +│ 32x16\+32x288 /);
    let an = 0, ac = 0, cn = 0, cc = 0;
    for (const u of net.units) (an += u.stats.addsNaive), (ac += u.stats.addsCompiled), (cn += u.stats.cyclesNaive), (cc += u.stats.cyclesCompiled);
    assert.ok(r.stdout.includes(`additions ${formatCount(an)} -> ${formatCount(ac)}, bit-serial add cycles ${formatCount(cn)} -> ${formatCount(cc)}`), r.stdout);
    assert.doesNotMatch(r.stdout, /passes off/);
  });

  test("--emit <stage> --unit 4 for every stage: non-empty text naming the unit", async () => {
    for (const stage of EMIT_STAGES) {
      const r = await rtap(["compile", PLAIN, "--emit", stage, "--unit", "4"]);
      assert.equal(r.code, 0, `${stage}: ${r.stderr}`);
      assert.ok(r.stdout.startsWith('== conv unit "/layers/layers.1/c2/Conv_output_0"'), `${stage}: ${r.stdout.slice(0, 200)}`);
      assert.ok(r.stdout.split("\n").filter((l) => l.trim()).length >= 2, stage);
      assert.equal(r.stderr, "");
    }
  });

  test("--emit cse --json: the dump, then the JSON line last", async () => {
    const r = await rtap(["compile", PLAIN, "--emit", "cse", "--unit", "/layers/layers.2/c1/Conv_output_0", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^== conv unit "\/layers\/layers\.2\/c1\/Conv_output_0"/);
    assert.match(r.stdout, /a 16 x 64 corner of \/layers\/layers\.2\/c1\/Conv_output_0 \(4-bit inputs\)/);
    assert.equal((JSON.parse(lastLine(r.stdout)) as CompileJson).units, 9);
  });

  test("zoo:resnet20 --emit cse --unit 3: a DAG dump of layer1.1.conv1", async () => {
    const r = await rtap(["compile", "zoo:resnet20", "--emit", "cse", "--unit", "3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^== conv unit "layer1\.1\.conv1\.out" -> layer1\.1\.relu1\.out/);
    assert.match(r.stdout, /n64 = x\d+ [+-] x\d+ +\[-?\d+, \d+\] [us]5/);
    assert.match(r.stdout, /\(whole unit: additions \d+ -> \d+, cycles \d+ -> \d+\)/);
  });

  test("--disable cse,allocation --verify --json: passes off reported, additions back to naive, more staging copies", async () => {
    const r = await rtap(["compile", PLAIN, "--disable", "cse,allocation", "--verify", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(lastLine(r.stdout)) as CompileJson;
    assert.deepEqual([j.passes.cse, j.passes.allocation, j.passes.unroll], [false, false, true]);
    assert.equal(j.adds_compiled, j.adds_naive);
    const on = net.units.reduce((s, u) => s + u.stats.stagingCopies, 0);
    assert.ok(j.per_unit.reduce((s, u) => s + u.staging_copies, 0) > on);
    const human = await rtap(["compile", PLAIN, "--disable", "bitwidth"]);
    assert.match(human.stdout, /passes off: bitwidth/);
  });

  test("user mistakes: one rtap: line, exit 1", async () => {
    assertUserError(await rtap(["compile", PLAIN, "--emit", "frob"]), 'unknown --emit stage "frob"; stages: units, weight-folding');
    assertUserError(await rtap(["compile", PLAIN, "--disable", "cse,frob"]), 'unknown compiler pass "frob"; passes: weight-folding, interchange, unroll, cse, bitwidth, allocation, layout, movement');
    assertUserError(await rtap(["compile", PLAIN, "--emit", "cse", "--unit", "nosuch"]), 'no compute unit "nosuch"; units: 0:/stem/stem.0/Conv_output_0');
    assertUserError(await rtap(["compile", "missing.onnx"]), "missing.onnx", "no such model file");
    assertUserError(await rtap(["compile", PLAIN, "--arch", "no-such-arch.yaml"]), "no-such-arch.yaml", "cannot read architecture file");
  });

  test("an architecture file whose row cannot hold the stem's window: the error names the conv", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "rtap-cli-compile-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "tiny.yaml");
    writeFileSync(file, archYamlWith({ tracksPerRow: 16, tracksPerShiftGroup: 8, domainsPerTrack: 16, portPositions: [0, 8], layout: "serial" }, "tiny"));
    assertUserError(await rtap(["compile", PLAIN, "--arch", file]), 'op "/stem/stem.0/Conv_output_0"', "a 3x3 window of 8-bit inputs (9 values) does not fit the row's input region (0 values)");
    const few = join(dir, "few-scratch.yaml");
    writeFileSync(few, archYamlWith({ tracksPerRow: 8, tracksPerShiftGroup: 2, layout: "serial" }, "few-scratch"));
    assertUserError(await rtap(["run", PLAIN, "--arch", few, "--random", "1"]), 'unit "/stem/stem.0/Conv_output_0"', "requantization needs up to 15 scratch cells");
    const one = join(dir, "one-group.yaml");
    writeFileSync(one, archYamlWith({ tracksPerShiftGroup: 128 }, "one-group"));
    assertUserError(await rtap(["compile", PLAIN, "--arch", one]), "the interleaved layout needs at least 3 shift groups", "this row has 1");
    writeFileSync(one, archYamlWith({ tracksPerShiftGroup: 128, layout: "serial" }, "one-group"));
    assertUserError(await rtap(["compile", PLAIN, "--arch", one]), "the RTM row has 1 shift group");
  });
});

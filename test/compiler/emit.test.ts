/**
 * `--emit` dumps (src/compiler/emit.ts) on fmnist-resnet8: each stage prints what its pass decided
 * for the unit asked for (by index, name or output), with figures that match the compiled unit.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EMIT_STAGES, emitStage, isEmitStage } from "../../src/compiler/emit.js";
import { compileNetwork } from "../../src/compiler/pipeline.js";
import { formatProgram, OP_LOAD, OP_STORE } from "../../src/compiler/program.js";
import { RtapError } from "../../src/errors.js";
import { fmnistQGraph } from "./helpers.js";

const net = compileNetwork(fmnistQGraph(), { verify: true });
const UNIT = "/layers/layers.1/c2/Conv_output_0"; // conv + 1x1 shortcut conv + add + requant
const u4 = net.units[4]!;

describe("emitStage", () => {
  test("every stage prints a header naming the unit and a non-empty body", () => {
    for (const stage of EMIT_STAGES) {
      const text = emitStage(net, stage, { unit: "4" });
      const lines = text.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines[0], `== conv unit "${UNIT}" -> /layers/layers.1/q2/Mul_output_0`, stage);
      assert.ok(lines.length >= 2, `${stage}: ${text}`);
    }
    assert.ok(isEmitStage("cse") && !isEmitStage("frob"));
  });

  test("the unit is found by index, name, output or a substring; all units without one", () => {
    const byIndex = emitStage(net, "layout", { unit: "4" });
    assert.equal(emitStage(net, "layout", { unit: UNIT }), byIndex);
    assert.equal(emitStage(net, "layout", { unit: "/layers/layers.1/q2/Mul_output_0" }), byIndex);
    assert.equal(emitStage(net, "layout", { unit: "layers.1/c2" }), byIndex);
    assert.equal(emitStage(net, "units").split("\n").filter((l) => l.startsWith("== ")).length, 9);
    assert.throws(() => emitStage(net, "cse", { unit: "nope" }), (e: unknown) => e instanceof RtapError && e.message.startsWith('no compute unit "nope"; units: 0:/stem/stem.0/Conv_output_0, 1:'));
  });

  test("figures match the compiled unit", () => {
    const s = u4.stats;
    const show = (stage: (typeof EMIT_STAGES)[number]): string => emitStage(net, stage, { unit: "4", maxLines: 1000 });
    assert.match(show("units"), /ops: conv\(\/layers\/layers\.1\/c2\/Conv_output_0\) -> conv\(\/layers\/layers\.1\/short\/short\.0\/Conv_output_0\) -> add\(.*\) -> requant\(.*\)/);
    assert.match(show("weight-folding"), /c2\/Conv_output_0: W 32 x 288 \(c\*kh\*kw\), \+1: \d+, -1: \d+, 0: \d+ \(\d+\.\d% non-zero\)/);
    assert.match(show("weight-folding"), /short\.0\/Conv_output_0: W 32 x 16 /);
    assert.ok(show("interchange").includes(`program over ${s.blocks} output block(s) x ${s.slices} input-channel slice(s)`));
    // the chip schedule's split: the chosen one is marked and lies within the energy budget
    assert.match(show("interchange"), /chip schedule: \d+ part\(s\), 16 can run at once/);
    assert.match(show("interchange"), /\n {4}\* +\d+ blocks of +\d+ outputs x +\d+ parts .* est\. [\d,]+ cycles, energy 1\.0[0-4]\dx\n/);
    let loads = 0, stores = 0;
    for (let i = 0; i < u4.program.nSteps; i++) (u4.program.op[i] === OP_LOAD ? loads++ : u4.program.op[i] === OP_STORE ? stores++ : 0);
    assert.ok(show("interchange").includes(`receptive-field loads per row: ${loads}`));
    assert.ok(show("cse").includes(`(whole unit: additions ${s.addsNaive} -> ${s.addsCompiled}, cycles ${s.cyclesNaive} -> ${s.cyclesCompiled})`));
    assert.match(show("cse"), /n\d+ = x\d+ [+-] x\d+ +\[-?\d+, \d+\] [us]5/);
    assert.match(show("bitwidth"), /values by width: .*4b x\d+/);
    assert.ok(show("allocation").includes(net.layout.describe()));
    assert.ok(show("allocation").includes(`staging copies ${s.stagingCopies}`));
    assert.ok(show("layout").includes("196 positions (14x14) -> 1 array(s) of 512 rows on 1 tile(s), 1 pass(es), raster order; row utilisation 38.3%"));
    assert.ok(show("movement").includes(`${loads} load steps`));
    assert.ok(show("movement").includes(`(${stores} store steps)`));
    assert.equal(show("lowering"), `== conv unit "${UNIT}" -> /layers/layers.1/q2/Mul_output_0\n${formatProgram(u4.program, 1000).split("\n").map((l) => `  ${l}`).join("\n")}\n`);
    assert.match(show("micro"), /-- (addOut n\d+:u5 <- x\d+\.\d+:u4 \+|subOut n\d+:s5 <- x\d+\.\d+:u4 -) x\d+\.\d+:u4 => \d+ micro-ops\n\s+cmp /);
    assert.doesNotMatch(show("micro"), /shift g/, "on the interleaved row an op shifts nothing (its pages are brought under the ports before it)");
    assert.match(show("pages"), /page schedule: \d+ page switches moving \d+ domains per array/);
  });

  test("formatProgram: loads, DAG additions, thresholds, stores and frees, truncated with a count", () => {
    const text = formatProgram(u4.program, 1_000_000);
    assert.equal(text.split("\n").length, u4.program.nSteps);
    for (const re of [/^load   x0\.0:u4 <- \/layers\/layers\.0\/q2\/Mul_output_0\[c0\] at \(2y\+0, 2x\+0\)$/m, /^addOut /m, /^subOut /m, /^thresh y\[0\]:u4 <- #\{t : v\[0\]:s\d+ >= t\}, t = \[/m, /^store  y\[0\]:u4 -> \/layers\/layers\.1\/q2\/Mul_output_0\[c0\]$/m, /^free /m]) {
      assert.match(text, re);
    }
    assert.match(formatProgram(u4.program, 10), new RegExp(`\\n\\.\\.\\. ${u4.program.nSteps - 10} more steps$`));
  });

  test("a weight-stationary unit: the dumps describe that mapping", () => {
    const st = compileNetwork(fmnistQGraph(), { fcStationary: "always" });
    assert.ok(st.units[8]!.stationary);
    for (const stage of EMIT_STAGES) {
      const body = emitStage(st, stage, { unit: "8" }).split("\n").slice(1).filter((l) => l.trim() !== "");
      assert.ok(body.length > 0, `${stage}: empty`);
    }
    assert.match(emitStage(st, "layout", { unit: "8" }), /stationary/);
    assert.match(emitStage(st, "lowering", { unit: "8" }), /stationary|broadcast/);
  });
});

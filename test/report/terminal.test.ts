import { test } from "node:test";
import assert from "node:assert/strict";
import { renderTable } from "../../src/cli/output.js";
import { headline, ratioWords } from "../../src/report/derive.js";
import { ablationTable, layerTable, reportText, scenarioTable, sensitivityLines, sensitivityTable, targetTable } from "../../src/report/terminal.js";
import { captureContext } from "../cli/helpers.js";
import { DANGEROUS_LAYER, DANGEROUS_PARAMETER, fixtureReport } from "./fixture.js";

test("ratioWords reads an energy ratio (this / crossbar) in words", () => {
  assert.equal(ratioWords(1 / 7.5), "7.50x less");
  assert.equal(ratioWords(2), "2.00x more");
  assert.equal(ratioWords(1), "same energy");
});

test("targetTable: one row per target, its precision, formatted figures, ratio against each crossbar and reference row", () => {
  const r = fixtureReport();
  const t = targetTable(r);
  assert.deepEqual(t.head, [
    "target", "precision", "energy/inf", "inf/J", "latency", "area", "movement",
    "vs crossbar-isaac", "vs crossbar-neurosim22", "vs reference-isaac", "vs reference-puma",
  ]);
  assert.equal(t.rows.length, 6);
  assert.deepEqual(t.rows[0], ["rtm-ap", "W2/A4", "4.46 µJ", "224,215", "1.90 ms", "11.8 mm²", "2.7%", "7.56x less", "6.59x less", "1300x less", "972x less"]);
  assert.deepEqual(t.rows[2]!.slice(7), ["—", "1.15x more", "172x less", "129x less"], "a crossbar is not compared with itself");
  assert.deepEqual(t.rows[3]!.slice(7), ["1.15x less", "—", "197x less", "147x less"]);
  // a reference row: published efficiency only (no latency, area or movement), with its precision
  assert.deepEqual(t.rows[4], ["reference-isaac", "16-bit", "5.78 mJ", "173", "—", "—", "—", "172x more", "197x more", "—", "1.33x more"]);
  assert.equal(t.rows[5]![1], "not stated in the abstract");
  assert.equal(t.align!.length, t.head.length);
});

test("scenarioTable: the RTM-AP's events priced with each technology file, against every baseline", () => {
  const r = fixtureReport();
  const t = scenarioTable(r, r.targets[0]!)!;
  assert.deepEqual(t.head, ["technology", "energy/inf", "largest component", "vs crossbar-isaac", "vs crossbar-neurosim22", "vs reference-isaac", "vs reference-puma"]);
  assert.deepEqual(t.rows[0], ["rtm-ap (default)", "4.46 µJ", "search 41.5%", "7.56x less", "6.59x less", "1300x less", "972x less"]);
  assert.deepEqual(t.rows.map((row) => row[0]), ["rtm-ap (default)", "rtm-ap-low", "rtm-ap-destiny"]);
  assert.deepEqual(t.rows[2]!.slice(1, 4), ["9.01 µJ", "write 62.1%", "3.74x less"]);
  assert.equal(scenarioTable(r, r.targets[1]!), undefined, "sram-ap has no scenarios");
});

test("layer, ablation and sensitivity tables", () => {
  const r = fixtureReport();
  const lt = layerTable(r.targets[0]!);
  assert.deepEqual(lt.head, ["layer", "energy", "latency", "act. movement", "search", "write", "shift", "periphery", "movement", "buffers", "leakage"]);
  assert.equal(lt.rows.length, 22);
  assert.equal(lt.rows[19]![0], DANGEROUS_LAYER);
  assert.deepEqual(lt.rows[21]!.slice(0, 2), ["total", "4.46 µJ"]);

  const at = ablationTable(r);
  assert.equal(at.rows.length, 8);
  assert.deepEqual(at.rows[1], ["cse", "10.7 µJ", "2.41x", "5.43 ms", "88,660,000"]);

  const st = sensitivityTable(r.sensitivity[1]!);
  assert.equal(st.rows.length, 6);
  const dangerous = st.rows.find((row) => row[0] === DANGEROUS_PARAMETER)!;
  assert.equal(dangerous[1], "8.29x (×0.5)");
  assert.ok(st.rows.some((row) => row[3] === "not alone"));
});

test("sensitivity lines and headline", () => {
  const r = fixtureReport();
  const lines = sensitivityLines(r);
  assert.equal(lines.length, 2);
  assert.equal(
    lines[0],
    "crossbar-isaac energy / rtm-ap energy (higher = RTM-AP better) = 7.56x; 5.36x–11.0x with one parameter at ×0.5–×2, widest: wire energy per bit per mm (both); 6 of 6 parameters alone reach 7.50x",
  );
  assert.match(lines[1]!, /^crossbar-neurosim22 energy \/ rtm-ap energy \(higher = RTM-AP better\) = 6\.59x; .* 5 of 6 parameters alone reach 7\.50x$/);
  assert.equal(
    headline(r),
    "rtm-ap: 4.46 µJ per inference, 7.56x less energy than crossbar-isaac (W2/A4), 6.59x less than crossbar-neurosim22 (W2/A4), " +
      "1300x less than reference-isaac (16-bit), 972x less than reference-puma (not stated in the abstract); activation movement 2.7% of its energy.",
  );
});

test("reportText renders through the CLI table printer, plain off a terminal", () => {
  const ctx = captureContext();
  const text = reportText(ctx, fixtureReport());
  assert.ok(!text.includes("\u001b["), "no ANSI codes off a terminal");
  assert.ok(text.includes(headline(fixtureReport())));
  assert.ok(text.includes(renderTable(ctx, targetTable(fixtureReport()))));
  assert.ok(text.includes("Compiler-pass ablation (RTM-AP):"));
  assert.ok(text.includes(`rtm-ap under each technology scenario (same events, priced with each file):\n${renderTable(ctx, scenarioTable(fixtureReport(), fixtureReport().targets[0]!)!)}`));
  assert.ok(text.includes("Sensitivity:\n  crossbar-isaac energy / rtm-ap energy (higher = RTM-AP better) = 7.56x;"));
  assert.ok(!text.includes("per layer:"));
  const withLayers = reportText(ctx, fixtureReport(), { layers: true });
  assert.equal((withLayers.match(/ per layer:\n/g) ?? []).length, 4, "reference rows have no layers");
  assert.ok(!withLayers.includes("warning:"), "the fixture is consistent");
  const r = fixtureReport();
  r.targets[1]!.energyJ *= 1.01;
  assert.ok(reportText(ctx, r).includes("warning: sram-ap: its layers sum to 99.0% of its total energy"));
});

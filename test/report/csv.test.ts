import { test } from "node:test";
import assert from "node:assert/strict";
import { RtapError } from "../../src/errors.js";
import {
  ABLATION_CSV_COLUMNS,
  REPORT_CSV_COLUMNS,
  SENSITIVITY_CSV_COLUMNS,
  TOTAL,
  ablationToCsv,
  csvField,
  reportToCsv,
  sensitivityToCsv,
  summaryToCsv,
  SUMMARY_CSV_COLUMNS,
} from "../../src/report/csv.js";
import { DANGEROUS_COMPONENT, DANGEROUS_LAYER, DANGEROUS_PARAMETER, fixtureReport } from "./fixture.js";

/**
 * A strict RFC 4180 reader: records end with CRLF, fields are plain (no quote, comma, CR or LF) or
 * quoted with "" for a quote. Anything else (a bare LF, a stray quote) is a test failure.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const rec: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          assert.ok(q >= 0, "unterminated quoted field");
          field += text.slice(i, q);
          i = q + 1;
          if (text[i] === '"') {
            field += '"';
            i++;
          } else break;
        }
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\r") {
          assert.ok(text[i] !== '"' && text[i] !== "\n", `bare ${JSON.stringify(text[i])} in an unquoted field at ${i}`);
          field += text[i++];
        }
      }
      rec.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      assert.equal(text.slice(i, i + 2), "\r\n", `record must end with CRLF at ${i}`);
      i += 2;
      break;
    }
    records.push(rec);
  }
  return records;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b));

test("csvField quotes per RFC 4180 and only when needed", () => {
  assert.equal(csvField("conv1"), "conv1");
  assert.equal(csvField("a,b"), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField("two\nlines"), '"two\nlines"');
  assert.equal(csvField("cr\rhere"), '"cr\rhere"');
  assert.equal(csvField(" padded"), '" padded"');
  assert.equal(csvField(""), "");
  assert.equal(csvField(null), "");
  assert.equal(csvField(4.46e-6), "0.00000446");
  assert.equal(csvField(1.2345678901234567e-12), "1.2345678901234567e-12");
  assert.throws(() => csvField(Number.NaN, "report.csv row 3"), (e: unknown) => e instanceof RtapError && e.message.startsWith("report.csv row 3:"));
});

test("report.csv parses back: one row per (target, layer, component), every number exact", () => {
  const r = fixtureReport();
  const [header, ...rows] = parseCsv(reportToCsv(r));
  assert.deepEqual(header, [...REPORT_CSV_COLUMNS]);
  for (const row of rows) assert.equal(row.length, 5);
  let expected = 0;
  for (const t of r.targets) {
    const comps = Object.keys(t.components).length;
    expected += t.layers.reduce((s, l) => s + Object.keys(l.components).length + 1, 0) + comps + 1;
  }
  assert.equal(rows.length, expected);
  const keys = new Set(rows.map((row) => JSON.stringify(row.slice(0, 3))));
  assert.equal(keys.size, rows.length, "(target, layer, component) is a key");
  // every layer/component value, exactly
  const byKey = new Map(rows.map((row) => [JSON.stringify(row.slice(0, 3)), row]));
  for (const t of r.targets) {
    for (const l of t.layers) {
      for (const [c, e] of Object.entries(l.components)) {
        const row = byKey.get(JSON.stringify([t.target, l.name, c]));
        assert.ok(row, `${t.target}/${l.name}/${c}`);
        assert.equal(Number(row[3]), e);
        assert.equal(row[4], "", "latency is not split by component");
      }
      const tot = byKey.get(JSON.stringify([t.target, l.name, TOTAL]))!;
      assert.equal(Number(tot[3]), l.energyJ);
      assert.equal(Number(tot[4]), l.latencyS);
    }
    const grand = byKey.get(JSON.stringify([t.target, TOTAL, TOTAL]))!;
    assert.equal(Number(grand[3]), t.energyJ);
    assert.equal(grand[4] === "" ? null : Number(grand[4]), t.latencyS, "a reference row's unknown latency is an empty field");
  }
  // names that need quoting came back intact
  assert.ok(rows.some((row) => row[1] === DANGEROUS_LAYER));
  assert.ok(rows.some((row) => row[2] === DANGEROUS_COMPONENT));
});

test("report.csv: per target, the layer rows sum to the TOTAL rows (what a pivot would do)", () => {
  const r = fixtureReport();
  const [, ...rows] = parseCsv(reportToCsv(r));
  const targets = [...new Set(rows.map((row) => row[0]!))];
  assert.deepEqual(targets, r.targets.map((t) => t.target));
  for (const target of targets) {
    const mine = rows.filter((row) => row[0] === target);
    if (r.targets.find((t) => t.target === target)!.kind === "reference") {
      // a published reference row: its energy only
      assert.deepEqual(mine.map((row) => row.slice(1, 3)), [[TOTAL, TOTAL]]);
      continue;
    }
    const layerRows = mine.filter((row) => row[1] !== TOTAL);
    const totals = new Map(mine.filter((row) => row[1] === TOTAL).map((row) => [row[2]!, row]));
    const components = [...totals.keys()].filter((c) => c !== TOTAL);
    assert.ok(components.length >= 6 && components.length <= 8);
    let componentSum = 0;
    for (const c of components) {
      const sum = layerRows.filter((row) => row[2] === c).reduce((s, row) => s + Number(row[3]), 0);
      assert.ok(close(sum, Number(totals.get(c)![3])), `${target}/${c}: ${sum} vs ${totals.get(c)![3]}`);
      componentSum += Number(totals.get(c)![3]);
    }
    const layerTotals = layerRows.filter((row) => row[2] === TOTAL);
    assert.equal(layerTotals.length, 21);
    const energy = layerTotals.reduce((s, row) => s + Number(row[3]), 0);
    const latency = layerTotals.reduce((s, row) => s + Number(row[4]), 0);
    const grand = totals.get(TOTAL)!;
    assert.ok(close(energy, Number(grand[3])));
    assert.ok(close(componentSum, Number(grand[3])));
    assert.ok(close(latency, Number(grand[4])));
  }
});

test("report.csv: quoting of the raw text", () => {
  const text = reportToCsv(fixtureReport());
  assert.ok(text.includes(`,"layer4.1.conv2 <fused ""relu"", add> & requant",`));
  assert.ok(text.includes(`,"buffers, ""eDRAM""",`));
  assert.ok(text.startsWith("target,layer,component,energy_j,latency_s\r\n"));
  assert.ok(text.endsWith("\r\n") && !text.endsWith("\r\n\r\n"));
});

test("ablation and sensitivity CSVs parse back", () => {
  const r = fixtureReport();
  const [ah, ...arows] = parseCsv(ablationToCsv(r));
  assert.deepEqual(ah, [...ABLATION_CSV_COLUMNS]);
  assert.equal(arows.length, 8);
  arows.forEach((row, i) => {
    const a = r.ablation[i]!;
    assert.deepEqual(row, [a.pass, String(a.energyJ), String(a.latencyS), String(a.addCycles), String(a.energyVsFull)]);
  });

  const [sh, ...srows] = parseCsv(sensitivityToCsv(r));
  assert.deepEqual(sh, [...SENSITIVITY_CSV_COLUMNS]);
  assert.equal(srows.length, 12);
  for (const s of r.sensitivity) {
    const mine = srows.filter((row) => row[0] === s.crossbar);
    assert.deepEqual(mine.map((row) => row[1]), s.entries.map((e) => e.parameter), "tornado order kept");
    for (const row of mine) {
      const e = s.entries.find((x) => x.parameter === row[1])!;
      const w = s.whatItTakes.find((x) => x.parameter === row[1])!;
      assert.equal(Number(row[2]), s.baseRatio);
      assert.equal(Number(row[4]), e.ratioAtLow);
      assert.equal(Number(row[6]), e.ratioAtHigh);
      assert.equal(row[8], w.factor === null ? "" : String(w.factor));
      assert.equal(row[9], w.note);
    }
  }
  assert.ok(srows.some((row) => row[1] === DANGEROUS_PARAMETER));
  assert.ok(srows.some((row) => row[8] === ""), "the fixture has a parameter that cannot reach the target alone");
});

test("sensitivity CSV: a what-it-takes parameter missing from the tornado still gets a row", () => {
  const r = fixtureReport();
  r.sensitivity[0]!.whatItTakes.push({ parameter: "AP leakage per array", factor: 0.25, note: "x0.25" });
  const rows = parseCsv(sensitivityToCsv(r)).slice(1);
  const row = rows.find((x) => x[1] === "AP leakage per array")!;
  assert.deepEqual(row.slice(3, 10), ["", "", "", "", "7.5", "0.25", "x0.25"]);
});

test("report-summary.csv: one row per target (per scenario for the RTM-AP) with precision and the ratio against every baseline", () => {
  const r = fixtureReport();
  const [header, ...rows] = parseCsv(summaryToCsv(r));
  const baselines = ["crossbar-isaac", "crossbar-neurosim22", "reference-isaac", "reference-puma"];
  assert.deepEqual(header, [...SUMMARY_CSV_COLUMNS, ...baselines.map((x) => `energy_ratio_vs_${x}`)]);
  assert.deepEqual(rows.map((row) => [row[0], row[3]]), [
    ["rtm-ap", "rtm-ap"], ["rtm-ap", "rtm-ap-low"], ["rtm-ap", "rtm-ap-destiny"],
    ["sram-ap", ""], ["crossbar-isaac", ""], ["crossbar-neurosim22", ""], ["reference-isaac", ""], ["reference-puma", ""],
  ]);
  const rtm = r.targets[0]!;
  for (const [i, s] of rtm.scenarios!.entries()) {
    const row = rows[i]!;
    assert.deepEqual(row.slice(1, 5), ["ap", "W2/A4", s.technology, String(s.isDefault)]);
    assert.equal(Number(row[5]), s.energyJ);
    baselines.forEach((x, k) => assert.equal(Number(row[9 + k]), s.energyRatioVsCrossbar[x]));
  }
  const ref = rows[6]!;
  assert.deepEqual(ref.slice(0, 5), ["reference-isaac", "reference", "16-bit", "", ""]);
  assert.deepEqual(ref.slice(6, 9), ["", "", ""], "a reference row's latency, area and movement are unknown");
  assert.equal(ref[11], "1", "against itself: 1");
  assert.equal(rows[7]![2], "not stated in the abstract");
});

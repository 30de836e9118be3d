import { test } from "node:test";
import assert from "node:assert/strict";
import { chartSpecs, inlineSvg, renderCharts } from "../../src/report/charts.js";
import { escapeHtml, reportToHtml } from "../../src/report/html.js";
import type { ComparisonReport } from "../../src/report/types.js";
import { DANGEROUS_COMPONENT, DANGEROUS_LAYER, DANGEROUS_NOTE, DANGEROUS_PARAMETER, fixtureReport } from "./fixture.js";

const CHART_IDS = ["chart-targets", "chart-layers", "chart-movement", "chart-ablation", "chart-tornado-1", "chart-tornado-2"];
const VOID = new Set(["meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"]);

/** Checks that start and end tags nest properly (self-closing and void elements aside). */
function assertBalanced(markup: string, what: string): void {
  const stack: string[] = [];
  const body = markup.replace(/<!DOCTYPE[^>]*>/i, "").replace(/<!--[\s\S]*?-->/g, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const [, close, tag, rest] = m;
    const name = tag!.toLowerCase();
    if (close) {
      assert.equal(stack.pop(), name, `${what}: </${name}> closes the wrong element`);
    } else if (!rest!.trimEnd().endsWith("/") && !VOID.has(name)) {
      stack.push(name);
    }
  }
  assert.deepEqual(stack, [], `${what}: unclosed elements`);
}

let cached: Promise<string> | undefined;
const page = (): Promise<string> => (cached ??= reportToHtml(fixtureReport()));

test("escapeHtml escapes the five markup characters", () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
});

test("report.html names every target and escapes every string from the report", async () => {
  const html = await page();
  const r = fixtureReport();
  for (const t of r.targets) {
    assert.ok(html.includes(`>${t.target}<`), t.target);
    assert.ok(html.includes(escapeHtml(t.label)), t.label);
    for (const f of t.files) assert.ok(html.includes(`<code>${escapeHtml(f)}</code>`), f);
  }
  assert.ok(html.includes(escapeHtml(r.model)));
  assert.ok(html.includes("SYNTHETIC TEST FIXTURE"), "the fixture's page says it is synthetic");
  for (const note of r.notes) assert.ok(html.includes(escapeHtml(note)), note);
  assert.ok(html.includes("Calibrated on &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 100 images"));
  for (const raw of [DANGEROUS_NOTE, DANGEROUS_LAYER, DANGEROUS_PARAMETER, r.model, "<fused", "<per bit>", "& requant"]) {
    assert.ok(!html.includes(raw), `unescaped: ${raw}`);
  }
  // a quote may stay literal in text content (vega writes SVG text that way), never inside a tag
  for (const tag of html.match(/<[^>]*>/g) ?? []) assert.ok(!tag.includes('"eDRAM'), tag);
  // the dangerous names are shown (escaped) in tables and inside the charts
  assert.ok(html.includes(`<th scope="row">${escapeHtml(DANGEROUS_LAYER)}</th>`));
  assert.ok(html.includes(escapeHtml(DANGEROUS_PARAMETER)));
  assert.ok(html.includes(escapeHtml(DANGEROUS_COMPONENT)));
  assert.ok(!/<script/i.test(html), "no script element");
  assertBalanced(html, "report.html");
});

test("report.html is self-contained: no URL, no external resource of any kind", async () => {
  const html = await page();
  assert.ok(!/https?:/i.test(html), "no http(s) URL anywhere (SVG namespaces are dropped)");
  assert.ok(!/\ssrc\s*=/i.test(html), "no src attributes");
  for (const m of html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)) assert.ok(m[1]!.startsWith("#"), `href=${m[1]}`);
  for (const m of html.matchAll(/url\(([^)]*)\)/gi)) assert.ok(m[1]!.startsWith("#"), `url(${m[1]})`);
  for (const tag of ["<link", "<iframe", "<object", "<embed", "<img", "@import", "<base"]) assert.ok(!html.toLowerCase().includes(tag), tag);
  assert.ok(html.startsWith("<!DOCTYPE html>\n<html lang=\"en\">"));
  assert.ok(html.includes('<meta charset="utf-8">'));
});

test("report.html: every chart is an inline SVG in a figure with a caption; ids are unique and references resolve", async () => {
  const html = await page();
  for (const id of CHART_IDS) {
    const svg = new RegExp(`<figure id="${id}-figure" aria-labelledby="${id}-caption">\\n<svg id="${id}" role="img" aria-label="[^"]+" [^>]*width="(\\d+)" height="(\\d+)"`).exec(html);
    assert.ok(svg, id);
    assert.ok(Number(svg[1]) > 100 && Number(svg[2]) > 100, `${id} size ${svg[1]}x${svg[2]}`);
    assert.ok(html.includes(`<figcaption id="${id}-caption"><strong>`), `${id} caption`);
  }
  assert.equal((html.match(/<svg\s/g) ?? []).length, CHART_IDS.length);
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(new Set(ids).size, ids.length, "ids are unique on the page");
  for (const m of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]!), `url(#${m[1]}) resolves`);
  for (const m of html.matchAll(/href="#([^"]+)"/g)) assert.ok(ids.includes(m[1]!), `#${m[1]} resolves`);
  // every mark carries a tooltip title; the stacked chart has one bar per (target, layer, component)
  const layers = /<svg id="chart-layers"[\s\S]*?<\/svg>/.exec(html)![0];
  const bars = layers.match(/aria-roledescription="bar"/g) ?? [];
  const r = fixtureReport();
  const expected = r.targets.reduce((s, t) => s + t.layers.reduce((u, l) => u + Object.keys(l.components).length, 0), 0);
  assert.equal(bars.length, expected);
  assert.equal((layers.match(/aria-roledescription="bar"[^>]*><title>/g) ?? []).length, expected);
});

test("report.html: tables have captions, column headers and row headers", async () => {
  const html = await page();
  const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
  // summary, RTM-AP scenarios, reference rows, 4 per-layer tables, ablation, 2 sensitivity tables, files
  assert.equal(tables.length, 11);
  for (const t of tables) {
    assert.ok(/^<table>\n<caption>[^<]+<\/caption>\n<thead><tr>(<th scope="col"[^>]*>[^<]*<\/th>)+<\/tr><\/thead>/.test(t), t.slice(0, 200));
    assert.ok(t.includes('<th scope="row"'));
  }
  // the summary row of the RTM-AP: formatted figures and the ratio against each crossbar
  const summary = tables[0]!;
  assert.ok(summary.includes("energy vs crossbar-isaac (W2/A4)") && summary.includes("energy vs crossbar-neurosim22 (W2/A4)"));
  assert.ok(summary.includes("energy vs reference-isaac (16-bit)") && summary.includes("energy vs reference-puma (not stated in the abstract)"));
  assert.ok(/rtm-ap<span class="label">[\s\S]*?W2\/A4[\s\S]*?4\.46 µJ[\s\S]*?11\.8 mm²[\s\S]*?7\.56x less[\s\S]*?6\.59x less[\s\S]*?1300x less/.test(summary), summary);
  // a reference row: labelled as published, its precision, no latency/area/movement
  assert.ok(/reference-isaac<span class="label">published reference: [^<]*<\/span><\/th><td>16-bit<\/td><td class="num">5\.78 mJ<\/td><td class="num">—<\/td><td class="num">—<\/td><td class="num">—<\/td>/.test(summary), summary);
  // the scenario table and the published figures
  assert.match(tables[1]!, /<caption>rtm-ap: the same events priced with each technology scenario<\/caption>/);
  assert.ok(/rtm-ap-destiny[\s\S]*?9\.01 µJ[\s\S]*?write 62\.1%[\s\S]*?3\.74x less/.test(tables[1]!), tables[1]);
  assert.ok(/reference-puma<\/th><td>not stated in the abstract<\/td><td class="num">837 GOPS\/W<\/td>/.test(tables[2]!), tables[2]);
});

test("report.html is deterministic (same bytes after other charts were rendered)", async () => {
  const a = await page();
  await renderCharts(fixtureReport()); // advances vega's global clip/gradient counters
  assert.equal(await reportToHtml(fixtureReport()), a);
});

test("inlineSvg renumbers ids and their references, adds titles, drops namespaces", () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><defs><clipPath id="clip7"><rect x="0" y="0" width="5" height="5"/></clipPath></defs>' +
    '<g clip-path="url(#clip7)"><path aria-label="a &amp; b" role="graphics-symbol" d="M0,0h1v1h-1Z"/></g></svg>';
  assert.equal(
    inlineSvg(svg, "c", 'T "1"'),
    '<svg id="c" role="img" aria-label="T &quot;1&quot;" width="10" height="10"><defs><clipPath id="c-1"><rect x="0" y="0" width="5" height="5"/></clipPath></defs>' +
      '<g clip-path="url(#c-1)"><path aria-label="a &amp; b" role="graphics-symbol" d="M0,0h1v1h-1Z"><title>a &amp; b</title></path></g></svg>',
  );
});

test("a report with nothing but one target still renders (no empty charts)", async () => {
  const r = fixtureReport();
  const bare: ComparisonReport = { ...r, targets: [{ ...r.targets[0]!, layers: [] }], ablation: [], sensitivity: [], notes: [], modelInfo: {} };
  assert.deepEqual(chartSpecs(bare).map((c) => c.id), ["chart-targets", "chart-movement"]);
  const html = await reportToHtml(bare);
  assert.ok(html.includes("No notes."));
  assert.ok(!html.includes('id="sensitivity"') && !html.includes('id="ablation"'));
  assertBalanced(html, "bare report");
  const empty: ComparisonReport = { ...bare, targets: [] };
  assert.deepEqual(chartSpecs(empty), []);
  assert.ok((await reportToHtml(empty)).includes("0 targets"));
});

/**
 * sweep.html in headless Chromium (Debian's /usr/bin/chromium through playwright-core, the
 * comparison report's recipe): no console or page errors, no request, the Pareto chart and one
 * chart per varied parameter drawn with a mark per point, the Pareto table listing the front, the
 * failed point shown. Skips with a message when the browser is missing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { paretoFront, writeSweepReport, type SweepReport, type SweepRow } from "../../src/sweep/report.js";

const CHROMIUM = process.env.RTAP_CHROMIUM ?? "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (install Debian's with \`apt-get install -y chromium\`, or set RTAP_CHROMIUM)`;
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

/** 3 rows x 2 technologies x 2 write prices, one failed point; figures made up but shaped like real ones. */
export function fixtureSweep(): SweepReport {
  const rows: SweepRow[] = [];
  for (const r of [128, 256, 512]) for (const t of ["rtm-ap", "/x/configs/tech/rtm-ap-low.yaml"]) for (const w of [0.5, 1]) {
    const i = rows.length;
    const e = (t === "rtm-ap" ? 50e-6 : 15e-6) * w * (1 + r / 1024);
    const figs = { energy_j: e, latency_s: 0.012 + (512 - r) * 1e-6, area_mm2: r / 50, edp_js: 0, inferences_per_j: 1 / e, movement_share: 0.02, energy_vs_crossbar_isaac: e / 2e-6, search_j: 0, write_j: 0, shift_j: 0, periphery_j: 0, movement_j: 0, buffers_j: 0, leakage_j: 0, arrays: 256 };
    figs.edp_js = e * figs.latency_s;
    const failed = i === 5;
    rows.push({ index: i, id: `p${i}`, group: `g${r}`, model: "m.onnx", parameters: { "arch.array.rows": r, tech: t, "tech.prices.write_cells": w }, status: failed ? "failed" : "ok", ...(failed ? { error: "array.rows: <bad> & broken" } : { figures: figs }), pareto: false });
  }
  for (const i of paretoFront(rows)) rows[i]!.pareto = true;
  return { plan: "examples/p.yaml", name: "fixture <sweep>", rtapVersion: "0.1.0", parameters: ["arch.array.rows", "tech", "tech.prices.write_cells"], figures: ["energy_j", "latency_s", "area_mm2", "edp_js"], rows, groups: 3 };
}

const PROBE = `(ids) => ids.map((id) => {
  const svg = document.getElementById(id);
  if (!svg) return { id, width: 0, height: 0, symbols: 0, drawn: 0, titled: 0, texts: 0 };
  const r = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll('[aria-roledescription="point"]')];
  const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 && b.height > 0; });
  const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim() !== "" && t.getBBox().width > 0);
  return { id, width: r.width, height: r.height, symbols: marks.length, drawn: drawn.length, titled: marks.filter((m) => m.querySelector("title")).length, texts: texts.length };
})`;

test("sweep.html renders in headless Chromium: Pareto and per-parameter charts, tables, failed points", { skip, timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "rtap-sweep-browser-"));
  const r = fixtureSweep();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const files = await writeSweepReport(r, dir);
    const html = files.find((f) => f.endsWith(".html"))!;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.route("**/*", async (route) => {
      const url = route.request().url();
      if (url === pathToFileURL(html).href) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    const ok = r.rows.filter((x) => x.status === "ok").length;
    const ids = ["chart-pareto", "chart-param-1", "chart-param-2", "chart-param-3"];
    const probes = (await page.evaluate(`(${PROBE})(${JSON.stringify(ids)})`)) as Array<{ id: string; width: number; height: number; symbols: number; drawn: number; titled: number; texts: number }>;
    for (const p of probes) {
      assert.ok(p.width > 300 && p.height > 150, `${p.id} has a real size: ${JSON.stringify(p)}`);
      // two panels on the Pareto chart, three per parameter; one mark per ok point in each
      const panels = p.id === "chart-pareto" ? 2 : 3;
      assert.equal(p.symbols, panels * ok, `${p.id}: marks`);
      assert.equal(p.drawn, p.symbols, `${p.id}: every mark drawn`);
      assert.equal(p.titled, p.symbols, `${p.id}: every mark has a tooltip`);
      assert.ok(p.texts >= 10, `${p.id}: axis texts`);
    }
    const front = r.rows.filter((x) => x.pareto).length;
    const paretoRows = (await page.evaluate(`document.querySelectorAll("#pareto tbody tr").length`)) as number;
    assert.equal(paretoRows, front);
    const text = (await page.evaluate("document.body.innerText")) as string;
    assert.ok(text.includes("fixture <sweep>"), "escaped name reads back");
    assert.ok(text.includes("array.rows: <bad> & broken"), "failed point with its error");
    assert.match(text, /rtm-ap-low/);
    assert.match(text, /12 points in 3 compile group\(s\) · 11 ok, 1 failed/);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Opens the written report.html in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; CI installs it with apt-get) and checks what a reader would see: no console
 * errors or page errors, no network request, every chart drawn with real marks and text, nothing
 * overflowing. Leaves a full-page screenshot; set RTAP_KEEP_REPORT=1 to keep it (path in the
 * test's diagnostics). Skips with a message when the browser is missing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { writeReport } from "../../src/report/write.js";
import { fixtureReport } from "./fixture.js";

const CHROMIUM = process.env.RTAP_CHROMIUM ?? "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (install Debian's with \`apt-get install -y chromium\`, or set RTAP_CHROMIUM)`;
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
];

interface ChartProbe {
  id: string;
  width: number;
  height: number;
  visible: boolean;
  /** Bar marks, and those whose drawn geometry is non-empty. */
  bars: number;
  drawnBars: number;
  titledBars: number;
  /** Text elements with content and a non-zero rendered width. */
  drawnTexts: number;
  /** The SVG sticks out of its figure. */
  overflows: boolean;
}

// Runs in the page (plain JS: the project's TS has no DOM types).
const PROBE = `(ids) => ids.map((id) => {
  const svg = document.getElementById(id);
  if (!svg) return { id, width: 0, height: 0, visible: false, bars: 0, drawnBars: 0, titledBars: 0, drawnTexts: 0, overflows: false };
  const r = svg.getBoundingClientRect();
  const fig = svg.closest("figure").getBoundingClientRect();
  const bars = [...svg.querySelectorAll('[aria-roledescription="bar"]')];
  const drawn = (el) => { const b = el.getBBox(); return b.width > 0 && b.height > 0; };
  const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim() !== "" && t.getBBox().width > 0);
  return {
    id, width: r.width, height: r.height, visible: getComputedStyle(svg).display !== "none" && getComputedStyle(svg).visibility !== "hidden",
    bars: bars.length, drawnBars: bars.filter(drawn).length, titledBars: bars.filter((b) => b.querySelector("title")).length,
    drawnTexts: texts.length, overflows: r.right > fig.right + 0.5 || r.left < fig.left - 0.5,
  };
})`;

test("report.html renders in headless Chromium: charts drawn, no console errors, no requests", { skip, timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rtap-report-browser-"));
  const r = fixtureReport();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const { files } = await writeReport(r, dir, { formats: ["html"] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleMessages: Array<{ type: string; text: string }> = [];
    const pageErrors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => consoleMessages.push({ type: m.type(), text: m.text() }));
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.route("**/*", async (route) => {
      const url = route.request().url();
      if (url === pathToFileURL(files[0]!).href) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(files[0]!).href, { waitUntil: "load" });

    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleMessages.filter((m) => m.type === "error"), []);
    assert.deepEqual(requests, [], "the page loads nothing but itself");
    if (consoleMessages.length) t.diagnostic(`console: ${JSON.stringify(consoleMessages)}`);

    const layerBars = r.targets.reduce((s, x) => s + x.layers.reduce((u, l) => u + Object.keys(l.components).length, 0), 0);
    // fc is ~1e-4 of the tallest layer: its segments may round to zero height
    const fcBars = r.targets.reduce((s, x) => s + Object.keys(x.layers.find((l) => l.name === "fc")?.components ?? {}).length, 0);
    // energy bars for every target; latency and area bars for the modelled ones (reference rows are published efficiencies only)
    const modelled = r.targets.filter((x) => x.kind !== "reference").length;
    const expected: Record<string, { bars: number; minDrawn: number; minTexts: number }> = {
      "chart-targets": { bars: r.targets.length + 2 * modelled, minDrawn: r.targets.length + 2 * modelled, minTexts: 36 },
      "chart-layers": { bars: layerBars, minDrawn: layerBars - fcBars, minTexts: 60 },
      "chart-movement": { bars: 8, minDrawn: 8, minTexts: 12 },
      "chart-ablation": { bars: 8, minDrawn: 8, minTexts: 20 },
      "chart-tornado-1": { bars: 12, minDrawn: 12, minTexts: 20 },
      "chart-tornado-2": { bars: 12, minDrawn: 12, minTexts: 20 },
    };
    const probes = (await page.evaluate(`(${PROBE})(${JSON.stringify(Object.keys(expected))})`)) as ChartProbe[];
    for (const p of probes) {
      const want = expected[p.id]!;
      assert.ok(p.visible && p.width > 200 && p.height > 100, `${p.id} is shown with a real size: ${JSON.stringify(p)}`);
      assert.equal(p.bars, want.bars, `${p.id}: bar count`);
      assert.ok(p.drawnBars >= want.minDrawn, `${p.id}: ${p.drawnBars} bars drawn, want >= ${want.minDrawn}`);
      assert.equal(p.titledBars, p.bars, `${p.id}: every bar has a tooltip`);
      assert.ok(p.drawnTexts >= want.minTexts, `${p.id}: ${p.drawnTexts} texts drawn, want >= ${want.minTexts}`);
      assert.ok(!p.overflows, `${p.id} fits its figure`);
    }

    // the summary table fits the page at this width; its key figures are on screen
    const summary = (await page.evaluate(
      `(() => { const w = document.querySelector("#summary .table-wrap"); return { scroll: w.scrollWidth, client: w.clientWidth, text: w.innerText }; })()`,
    )) as { scroll: number; client: number; text: string };
    assert.ok(summary.scroll <= summary.client, `summary table overflows: ${summary.scroll} > ${summary.client}`);
    assert.match(summary.text, /7\.56x less/);
    // reference rows and precisions are on screen, and the scenario table
    assert.match(summary.text, /reference-isaac/);
    assert.match(summary.text, /16-bit/);
    const scenarios = (await page.evaluate(`document.querySelector("#scenarios").innerText`)) as string;
    assert.match(scenarios, /rtm-ap-destiny/);
    assert.match(scenarios, /627\.5 GOPS\/W/);
    // escaped names read back as the original text
    const bodyText = (await page.evaluate("document.body.innerText")) as string;
    assert.ok(bodyText.includes(r.notes[1]!), "the note with markup shows as text");
    assert.ok(bodyText.includes(r.model));

    const shot = join(dir, "report.png");
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
    assert.ok(png.length > 50_000, `screenshot has content (${png.length} bytes)`);
    t.diagnostic(`screenshot: ${shot}${process.env.RTAP_KEEP_REPORT === "1" ? "" : " (deleted; RTAP_KEEP_REPORT=1 keeps it)"}`);
  } finally {
    await browser.close();
    if (process.env.RTAP_KEEP_REPORT !== "1") await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Writes a ComparisonReport to a directory as report.json, report.csv (+ report-summary.csv,
 * report-ablation.csv and report-sensitivity.csv) and report.html, creating the directory if needed.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RtapError } from "../errors.js";
import { ablationToCsv, reportToCsv, sensitivityToCsv, summaryToCsv } from "./csv.js";
import { reportToHtml } from "./html.js";
import { reportToJson } from "./json.js";
import type { ComparisonReport } from "./types.js";

export type ReportFormat = "json" | "csv" | "html";
export const REPORT_FORMATS: readonly ReportFormat[] = ["json", "csv", "html"];

export interface WriteReportOptions {
  /** Which formats to write (default: all three). */
  formats?: readonly ReportFormat[];
}

/** File names per format, in the order they are written. */
export const REPORT_FILES: Readonly<Record<ReportFormat, readonly string[]>> = {
  json: ["report.json"],
  csv: ["report.csv", "report-summary.csv", "report-ablation.csv", "report-sensitivity.csv"],
  html: ["report.html"],
};

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message}` : String(err.message ?? e);
}

/**
 * Writes the chosen formats into `dir` and returns the written paths (dir joined with the file
 * names). Everything is rendered before the first file is written, so a rendering error leaves
 * no partial report. Unknown formats and unwritable paths are RtapErrors naming the path.
 */
export async function writeReport(r: ComparisonReport, dir: string, opts: WriteReportOptions = {}): Promise<{ files: string[] }> {
  const formats = opts.formats ?? REPORT_FORMATS;
  for (const f of formats) {
    if (!REPORT_FORMATS.includes(f)) throw new RtapError(`unknown report format "${String(f)}" (known: ${REPORT_FORMATS.join(", ")})`);
  }
  const contents: Array<[name: string, text: string]> = [];
  for (const f of REPORT_FORMATS) {
    if (!formats.includes(f)) continue;
    if (f === "json") contents.push(["report.json", reportToJson(r)]);
    if (f === "csv")
      contents.push(["report.csv", reportToCsv(r)], ["report-summary.csv", summaryToCsv(r)], ["report-ablation.csv", ablationToCsv(r)], ["report-sensitivity.csv", sensitivityToCsv(r)]);
    if (f === "html") contents.push(["report.html", await reportToHtml(r)]);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new RtapError(`cannot create the report directory (${describe(e)})`, dir);
  }
  const files: string[] = [];
  for (const [name, text] of contents) {
    const path = join(dir, name);
    try {
      await writeFile(path, text, "utf8");
    } catch (e) {
      throw new RtapError(`cannot write the report file (${describe(e)})`, path);
    }
    files.push(path);
  }
  return { files };
}

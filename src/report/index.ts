/** Public API of the report writer: JSON, CSV, HTML (with SVG charts) and terminal tables. */
export type {
  AblationResult,
  ComparisonReport,
  ComponentEnergy,
  LayerResult,
  ReferenceFigure,
  ScenarioResult,
  SensitivityEntry,
  SensitivityResult,
  TargetKind,
  TargetResult,
  WhatItTakes,
} from "./types.js";
export { reportToJson, parseReportJson, canonicalReport } from "./json.js";
export {
  reportToCsv,
  summaryToCsv,
  ablationToCsv,
  sensitivityToCsv,
  toCsv,
  csvField,
  TOTAL,
  REPORT_CSV_COLUMNS,
  SUMMARY_CSV_COLUMNS,
  ABLATION_CSV_COLUMNS,
  SENSITIVITY_CSV_COLUMNS,
} from "./csv.js";
export type { CsvCell } from "./csv.js";
export { chartSpecs, renderCharts, renderSvg, inlineSvg } from "./charts.js";
export type { ChartSpec, RenderedChart } from "./charts.js";
export { reportToHtml, escapeHtml } from "./html.js";
export { targetTable, scenarioTable, layerTable, ablationTable, sensitivityTable, sensitivityLines, reportText } from "./terminal.js";
export { headline, primaryAp, areaText, ratioWords, consistencyWarnings, sensitivityRange } from "./derive.js";
export { writeReport, REPORT_FORMATS, REPORT_FILES } from "./write.js";
export type { ReportFormat, WriteReportOptions } from "./write.js";

/**
 * rtap's library API: the same functions the `rtap` command is built on, stage by stage
 * (docs/architecture.md).
 */
export { RtapError } from "./errors.js";
export { RTAP_VERSION } from "./version.js";

// import
export type { Graph, GraphNode, ConstTensor, DType } from "./import/graph.js";
export { importOnnxFile, importOnnxBytes } from "./import/onnx.js";
export { loadModel, loadQuantizedModel, type LoadedModel, type QuantizedModel, type ModelOptions } from "./model.js";
export { buildZooModel, zooNames, isZooSpec, ternarizeTwn, type ZooInfo } from "./zoo/index.js";
export { runFloat, runGraph, pixelsToInput, argmax, type GraphRunResult } from "./float/executor.js";

// quantize and reference
export type { QGraph, QOp, QTensor, QConvOp, QAddOp, QRequantOp, QPoolOp } from "./quantize/qgraph.js";
export { quantizeGraph, type QuantizeOptions } from "./quantize/quantize.js";
export { runReference, dequantizeOutput, type ReferenceResult } from "./reference/integer.js";
export { exportIntegerOnnx, type IntegerOnnx, type IntegerOnnxExport, type ExactnessStep } from "./reference/onnx-integer.js";

// data and evaluation
export { loadDataset, randomImages, type Dataset } from "./data/index.js";
export { evaluate, type EvalOptions, type EvalResult, type EvalEngine, type EngineUse } from "./eval.js";
export {
  faultStudy, prepareFaultSetup, runFaultConfig, protectionOverhead, defaultRates, wilson,
  type FaultStudyOptions, type FaultStudyReport, type CurvePoint, type SensitivityPoint, type ProtectionOverhead, type FaultConfig, type PeccParams,
} from "./faults.js";
export { faultReportToHtml, faultCurvesToCsv, faultSensitivityToCsv } from "./report/faults.js";

// the AP machine
export * as ap from "./ap/index.js";
export { loadArch, type ApArch } from "./ap/config.js";
export type { ApEvents } from "./ap/events.js";

// compiler and simulation
export { compileNetwork, runCompiled, verifyProgram, PASS_NAMES, type CompiledNetwork, type CompileOptions, type RunOptions, type RunResult } from "./compiler/pipeline.js";
export { emitStage, EMIT_STAGES, type EmitStage } from "./compiler/emit.js";
export { eliminateCommonSubexpressions } from "./compiler/cse/index.js";
export type { PassSwitches } from "./compiler/lower.js";

// cost, comparison, report
export {
  loadTechnology,
  loadApTechnology,
  loadCrossbarTechnology,
  loadReferenceTechnology,
  crossbarCost,
  apCost,
  apPrices,
  referenceEnergyJ,
  workloadFromQGraph,
  sensitivityStudy,
  RTM_SCENARIOS,
  AP_PRICED_KINDS,
} from "./cost/index.js";
export { compareModel, type CompareOptions } from "./compare.js";
export { writeReport, reportToHtml, reportToJson, reportToCsv } from "./report/index.js";
export type { ComparisonReport, TargetResult } from "./report/types.js";

// targets and sweeps
export { TARGETS, getTarget, targetIds, FIGURES, type Target, type ApTarget, type CrossbarTarget, type ReferenceTarget, type FigureName } from "./targets/index.js";
export { loadPlan, expandPlan, compileGroups, type SweepPlan, type SweepPoint } from "./sweep/plan.js";
export { runLocal, type LocalOptions, type RunCounts } from "./sweep/local.js";
export { submitSlurm, slurmStatus, waitForJobs, runPoint, type SlurmOptions } from "./sweep/slurm.js";
export { collectReport, writeSweepReport, paretoFront, type SweepReport, type SweepRow } from "./sweep/report.js";
export { applyOverride, readSourcedFile, type Override } from "./util/sourced-yaml.js";

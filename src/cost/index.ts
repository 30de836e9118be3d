/**
 * rtap's cost models: technology files, workloads, the crossbar CIM model (calibrated against
 * DNN+NeuroSim V1.4), AP pricing from event counts, and sensitivity analysis. See docs/cost-model.md.
 */
export {
  loadTechnology,
  loadApTechnology,
  loadCrossbarTechnology,
  loadReferenceTechnology,
  technologyPath,
  techDir,
  describeTechnology,
  SHIPPED_TECHNOLOGIES,
  RTM_SCENARIOS,
} from "./technology.js";
export type { Technology, ApTechnology, CrossbarTechnology, ReferenceTechnology, InterconnectTechnology, InterconnectSection } from "./technology.js";
export type { Param, RawParam } from "./params.js";
export { listParams } from "./params.js";
export { NODE_SCALING, nodeFactor } from "./scaling.js";
export { getParam, withParam, scaleParam, scaleParams } from "./overrides.js";
export { workloadFromQGraph, workloadFromLayerTable } from "./workload.js";
export type { Workload, MacLayer, AuxOp, LayerTableRow, LayerTableOptions } from "./workload.js";
export { crossbarCost, crossbarLayerCost, adcEnergyPerConversion, colsPerWeight, subarrayOutputBits, sumEnergy } from "./crossbar.js";
export type { CrossbarCost, CrossbarLayerCost, CrossbarEnergy, CrossbarCounts } from "./crossbar.js";
export { apCost, apCostPerLayer, apShapeOfArch, apAreaM2, apKindCounts, apPrices, priceKinds, sumApEnergy, AP_PRICED_KINDS, AP_KIND_COMPONENT } from "./ap.js";
export type { ApCost, ApEnergy, ApEventCounts, ApShape, ApPricedKind, ApKindCounts, ApPrice, ApPriceTable } from "./ap.js";
export { referenceEnergyJ, crossbarPrecision, OPS_PER_MAC } from "./reference.js";
export {
  tornado,
  solveMultiplier,
  energyRatioEvaluator,
  defaultUncertainParameters,
  sensitivityStudy,
} from "./sensitivity.js";
export type { RatioEvaluator, TornadoBar, TornadoData, SolveResult, UncertainParameter, RatioInputs, SensitivityStudy } from "./sensitivity.js";
export { NEUROSIM_RESNET18_TABLE, NEUROSIM_RUN_A, NEUROSIM_RUN_B, NEUROSIM_RUN_A_LAYERS, neurosimResnet18Workload } from "./neurosim.js";
export type { NeuroSimRun, NeuroSimEnergy } from "./neurosim.js";
export { calibrateNeuroSim, calibrationMarkdown, neurosimTechnology, BIG_COMPONENTS } from "./calibration.js";
export type { CalibrationResult, ComponentRow } from "./calibration.js";
export { parameterTableMarkdown, tornadoMarkdown, solveMarkdown } from "./report.js";

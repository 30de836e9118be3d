/**
 * Common-subexpression elimination for ternary layers (docs/cse.md): the expression DAG IR, the
 * CSE pass, cost accounting and the synthetic ResNet-18 layer matrices.
 */
export { eliminateCommonSubexpressions, type CseCandidate, type CseOptions, type CseResult, type CseStats } from "./eliminate.js";
export { bitWidth, DagBuilder, evaluateDag, idSchedule, MAX_WIDTH, OP_ADD, OP_INPUT, OP_SUB, verifyDag, type ExprDag } from "./dag.js";
export { analyzeLiveness, dagCost, naiveCost, type AdditionCost, type LivenessProfile } from "./cost.js";
export { formatDag } from "./format.js";
export type { CsePlan } from "./grouped.js";
export {
  countNonZeros,
  ternaryMatrixFromRows,
  ternaryMatrixOfConv,
  uniformColumnRanges,
  unsignedColumnRanges,
  validateColumnRanges,
  validateTernaryMatrix,
  type ColumnRanges,
  type TernaryMatrix,
} from "./matrix.js";
export {
  kaimingNormalWeights,
  resnet18LayerMatrices,
  resnet18LayerShapes,
  twnTernarize,
  type LayerMatrix,
  type LayerShape,
} from "./resnet18-matrices.js";

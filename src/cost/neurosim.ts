/**
 * DNN+NeuroSim V1.4's own output for ResNet-18 / ImageNet on a 22 nm RRAM chip, transcribed from
 * ../shared/reference/neurosim-resnet18.md (every number printed by NeuroSim's C++ estimator, run on
 * this project's kind of machine). This is the peer the crossbar model is calibrated against.
 *
 * Run A: 2-bit weights, 4-bit activations, 128x128 subarrays, 1 bit per cell, fully parallel read,
 * 5-bit multi-level sense-amp ADC (8 columns per ADC), novel mapping, pipeline, inputtoggle 0.33.
 * Run B: as A with a 4-bit ADC.
 */
import { workloadFromLayerTable, type LayerTableRow, type Workload } from "./workload.js";

/**
 * NeuroSim's NetWork_ResNet18.csv (IFM H, W, C, K, K, N, pool, stride), in the forward order of the
 * trace files, with the run-A input '1'-bit densities of its single synthetic image.
 */
export const NEUROSIM_RESNET18_TABLE: readonly LayerTableRow[] = [
  { name: "conv1", H: 224, W: 224, C: 3, KH: 7, KW: 7, N: 64, pool: true, stride: 2, inputBitDensity: 0.52 },
  { name: "L1.0.conv1", H: 56, W: 56, C: 64, KH: 3, KW: 3, N: 64, pool: false, stride: 1, inputBitDensity: 0.45 },
  { name: "L1.0.conv2", H: 56, W: 56, C: 64, KH: 3, KW: 3, N: 64, pool: false, stride: 1, inputBitDensity: 0.26 },
  { name: "L1.1.conv1", H: 56, W: 56, C: 64, KH: 3, KW: 3, N: 64, pool: false, stride: 1, inputBitDensity: 0.39 },
  { name: "L1.1.conv2", H: 56, W: 56, C: 64, KH: 3, KW: 3, N: 64, pool: false, stride: 1, inputBitDensity: 0.36 },
  { name: "L2.0.conv1", H: 56, W: 56, C: 64, KH: 3, KW: 3, N: 128, pool: false, stride: 2, inputBitDensity: 0.2 },
  { name: "L2.0.conv2", H: 28, W: 28, C: 128, KH: 3, KW: 3, N: 128, pool: false, stride: 1, inputBitDensity: 0.27 },
  { name: "L2.0.down", H: 56, W: 56, C: 64, KH: 1, KW: 1, N: 128, pool: false, stride: 2, inputBitDensity: 0.2 },
  { name: "L2.1.conv1", H: 28, W: 28, C: 128, KH: 3, KW: 3, N: 128, pool: false, stride: 1, inputBitDensity: 0.22 },
  { name: "L2.1.conv2", H: 28, W: 28, C: 128, KH: 3, KW: 3, N: 128, pool: false, stride: 1, inputBitDensity: 0.37 },
  { name: "L3.0.conv1", H: 28, W: 28, C: 128, KH: 3, KW: 3, N: 256, pool: false, stride: 2, inputBitDensity: 0.27 },
  { name: "L3.0.conv2", H: 14, W: 14, C: 256, KH: 3, KW: 3, N: 256, pool: false, stride: 1, inputBitDensity: 0.3 },
  { name: "L3.0.down", H: 28, W: 28, C: 128, KH: 1, KW: 1, N: 256, pool: false, stride: 2, inputBitDensity: 0.29 },
  { name: "L3.1.conv1", H: 14, W: 14, C: 256, KH: 3, KW: 3, N: 256, pool: false, stride: 1, inputBitDensity: 0.57 },
  { name: "L3.1.conv2", H: 14, W: 14, C: 256, KH: 3, KW: 3, N: 256, pool: false, stride: 1, inputBitDensity: 0.17 },
  { name: "L4.0.conv1", H: 14, W: 14, C: 256, KH: 3, KW: 3, N: 512, pool: false, stride: 2, inputBitDensity: 0.48 },
  { name: "L4.0.conv2", H: 7, W: 7, C: 512, KH: 3, KW: 3, N: 512, pool: false, stride: 1, inputBitDensity: 0.48 },
  { name: "L4.0.down", H: 14, W: 14, C: 256, KH: 1, KW: 1, N: 512, pool: false, stride: 2, inputBitDensity: 0.52 },
  { name: "L4.1.conv1", H: 7, W: 7, C: 512, KH: 3, KW: 3, N: 512, pool: false, stride: 1, inputBitDensity: 0.01 },
  // NeuroSim's table flags a pool after the last conv (the global average pool); its model treats
  // it as a 4x reduction of the transferred output.
  { name: "L4.1.conv2", H: 7, W: 7, C: 512, KH: 3, KW: 3, N: 512, pool: true, stride: 1, inputBitDensity: 0.29 },
  { name: "fc", H: 1, W: 1, C: 512, KH: 1, KW: 1, N: 1000, pool: false, stride: 1, inputBitDensity: 0.63 },
];

/** The workload NeuroSim evaluates: valid-only positions, 4-bit inputs everywhere (conv1 included). */
export function neurosimResnet18Workload(positions: "valid" | "padded" = "valid"): Workload {
  return workloadFromLayerTable(NEUROSIM_RESNET18_TABLE, {
    positions,
    inputBits: 4,
    outputBits: 4,
    name: positions === "valid" ? "resnet18 (NeuroSim NetWork_ResNet18.csv, valid positions)" : "resnet18 (NeuroSim table, padded positions)",
    source: "../shared/reference/neurosim-resnet18.md (NetWork_ResNet18.csv)",
  });
}

/** Per-component dynamic energy per image (J) as NeuroSim prints it. */
export interface NeuroSimEnergy {
  total: number;
  /** ADC incl. array read, MLSA and encoder. */
  adcArray: number;
  /** Sub-array shift-add and PE/tile/global adders. */
  accumulation: number;
  /** Global X-Y bus plus tile/PE H-trees and buses. */
  interconnect: number;
  /** Global, tile and PE buffers. */
  buffers: number;
  /** Decoders, mux, switch matrix, ReLU, pooling (other periphery minus interconnect and buffers). */
  other: number;
}

export interface NeuroSimRun {
  id: string;
  description: string;
  adcBits: number;
  energy: NeuroSimEnergy;
  leakageJ: number;
  areaMm2: number;
  /** Pipeline stage time per image (s). */
  pipelinePeriodS: number;
  /** Sum of per-layer latencies (s). */
  layerLatencySumS: number;
  tiles: number;
}

const uJ = 1e-6;

export const NEUROSIM_RUN_A: NeuroSimRun = {
  id: "A",
  description: "1 bit/cell, 5-bit ADC, pipeline (NeuroSim's default RRAM flow)",
  adcBits: 5,
  energy: { total: 32.22 * uJ, adcArray: 9.38 * uJ, accumulation: 2.03 * uJ, interconnect: 17.5 * uJ, buffers: 0.363 * uJ, other: 2.94 * uJ },
  leakageJ: 0.971 * uJ,
  areaMm2: 121,
  pipelinePeriodS: 1107e-6,
  layerLatencySumS: 2254e-6,
  tiles: 27,
};

export const NEUROSIM_RUN_B: NeuroSimRun = {
  id: "B",
  description: "1 bit/cell, 4-bit ADC, pipeline",
  adcBits: 4,
  energy: { total: 26.34 * uJ, adcArray: 5.29 * uJ, accumulation: 1.78 * uJ, interconnect: 16.0 * uJ, buffers: 0.343 * uJ, other: 2.94 * uJ },
  leakageJ: 0.798 * uJ,
  areaMm2: 109.1,
  pipelinePeriodS: 1012e-6,
  layerLatencySumS: 2039e-6,
  tiles: 27,
};

/** Run A per layer (J): dynamic total, ADC, accumulation, interconnect, buffers. */
export const NEUROSIM_RUN_A_LAYERS: ReadonlyArray<{
  name: string;
  total: number;
  adcArray: number;
  accumulation: number;
  interconnect: number;
  buffers: number;
  latencyS: number;
}> = [
  ["conv1", 3.617, 0.634, 0.094, 2.598, 0.0462, 1107.31],
  ["L1.0.conv1", 3.754, 1.033, 0.259, 2.106, 0.0445, 143.38],
  ["L1.0.conv2", 3.608, 0.942, 0.259, 2.106, 0.0445, 143.38],
  ["L1.1.conv1", 3.711, 1.007, 0.259, 2.106, 0.0445, 143.38],
  ["L1.1.conv2", 3.691, 0.994, 0.259, 2.106, 0.0445, 143.38],
  ["L2.0.conv1", 1.509, 0.447, 0.108, 0.816, 0.0189, 56.48],
  ["L2.0.conv2", 1.753, 0.498, 0.1, 0.976, 0.0206, 62.53],
  ["L2.0.down", 0.314, 0.055, 0.01, 0.23, 0.0042, 105.45],
  ["L2.1.conv1", 1.715, 0.475, 0.1, 0.976, 0.0206, 62.53],
  ["L2.1.conv2", 1.822, 0.539, 0.1, 0.976, 0.0206, 62.53],
  ["L3.0.conv1", 0.759, 0.249, 0.045, 0.379, 0.0087, 25.57],
  ["L3.0.conv2", 1.08, 0.437, 0.076, 0.416, 0.0088, 29.23],
  ["L3.0.down", 0.166, 0.033, 0.005, 0.115, 0.0021, 52.73],
  ["L3.1.conv1", 1.23, 0.524, 0.076, 0.416, 0.0088, 29.23],
  ["L3.1.conv2", 1.0, 0.388, 0.076, 0.416, 0.0088, 29.23],
  ["L4.0.conv1", 0.561, 0.244, 0.038, 0.185, 0.0043, 7.36],
  ["L4.0.conv2", 0.699, 0.34, 0.053, 0.177, 0.0039, 7.76],
  ["L4.0.down", 0.119, 0.038, 0.005, 0.059, 0.0011, 26.45],
  ["L4.1.conv1", 0.484, 0.2, 0.053, 0.177, 0.0039, 7.76],
  ["L4.1.conv2", 0.617, 0.297, 0.053, 0.169, 0.0038, 7.72],
  ["fc", 0.008, 0.003, 0.0, 0.003, 0.0001, 0.63],
].map(([name, total, adc, acc, ic, buf, lat]) => ({
  name: name as string,
  total: (total as number) * uJ,
  adcArray: (adc as number) * uJ,
  accumulation: (acc as number) * uJ,
  interconnect: (ic as number) * uJ,
  buffers: (buf as number) * uJ,
  latencyS: (lat as number) * 1e-6,
}));

/**
 * Ablation, first half: weight folding, loop interchange, unrolling, CSE (see ablation.ts).
 */
import { ablationSuite, weightFoldingBitLevelRefused } from "./ablation.js";

ablationSuite(["weightFolding", "interchange", "unroll", "cse"]);
weightFoldingBitLevelRefused();

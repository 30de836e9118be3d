/**
 * The AP machine: architecture files, the bit-sliced array simulator with event counts and
 * faults, generated LUT arithmetic, macro-ops with their integer semantics and cost formulas, and
 * the chip/tile hierarchy with row movement. See docs/ap.md.
 */
export * from "./config.js";
export * from "./events.js";
export * from "./geometry.js";
export * from "./value.js";
export * from "./microop.js";
export * from "./array.js";
export * from "./faults.js";
export * from "./lut.js";
export * from "./luts.js";
export * from "./steps.js";
export * from "./macro.js";
export * from "./semantics.js";
export * from "./program.js";
export * from "./chip.js";
export * from "./formulas.js";
export { popcount32, popcountWords, runsOfOnes } from "./bits.js";

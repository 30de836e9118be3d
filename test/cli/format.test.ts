import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatArea,
  formatCount,
  formatEnergy,
  formatPercent,
  formatPower,
  formatRatio,
  formatSi,
  formatSig,
  formatTime,
} from "../../src/cli/format.js";

test("formatSig rounds to significant digits without exponents", () => {
  assert.equal(formatSig(0), "0");
  assert.equal(formatSig(1.23456), "1.23");
  assert.equal(formatSig(12.3456), "12.3");
  assert.equal(formatSig(123.456), "123");
  assert.equal(formatSig(123456), "123000");
  assert.equal(formatSig(0.00123456), "0.00123");
  assert.equal(formatSig(-4.5678, 2), "-4.6");
  assert.equal(formatSig(9.999), "10.0");
  assert.equal(formatSig(Number.NaN), "NaN");
});

test("formatSi picks the prefix that puts the value in [1, 1000), carrying on rounding", () => {
  assert.equal(formatEnergy(3.2e-9), "3.20 nJ");
  assert.equal(formatEnergy(1.5e-12), "1.50 pJ");
  assert.equal(formatEnergy(0.25), "250 mJ");
  assert.equal(formatEnergy(0), "0 J");
  assert.equal(formatTime(4.56e-6), "4.56 µs");
  assert.equal(formatTime(12), "12.0 s");
  assert.equal(formatTime(999.96e-9), "1.00 µs"); // not "1000 ns"
  assert.equal(formatPower(1.2e-3), "1.20 mW");
  assert.equal(formatSi(-2.5e3, "J"), "-2.50 kJ");
  assert.equal(formatSi(1e-30, "J"), "0.00000100 yJ"); // beyond the table: smallest prefix
});

test("formatArea uses squared prefixes: mm² down to 0.01 mm², then µm², nm²", () => {
  assert.equal(formatArea(2.5e-6), "2.50 mm²");
  assert.equal(formatArea(1.234e-7), "0.123 mm²");
  assert.equal(formatArea(5e-9), "5000 µm²");
  assert.equal(formatArea(3.1e-13), "0.310 µm²");
  assert.equal(formatArea(4e-16), "400 nm²");
  assert.equal(formatArea(2), "2.00 m²");
  assert.equal(formatArea(0), "0 mm²");
});

test("percentages, counts and ratios", () => {
  assert.equal(formatPercent(0.0312), "3.1%");
  assert.equal(formatPercent(1), "100.0%");
  assert.equal(formatPercent(0.5, 0), "50%");
  assert.equal(formatCount(1234567), "1,234,567");
  assert.equal(formatCount(999), "999");
  assert.equal(formatCount(-1000), "-1,000");
  assert.equal(formatRatio(7.5), "7.50x");
});

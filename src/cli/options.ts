/**
 * Option definitions shared by commands, so every command spells and validates them the same way.
 * Parsers throw commander's InvalidArgumentError, which commander reports as a usage error (exit 2).
 */
import { InvalidArgumentError, Option } from "commander";

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer.");
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a non-negative integer.");
  return n;
}

/** --json: end stdout with one JSON object on one line; no progress bar. */
export function jsonOption(): Option {
  return new Option("--json", "print the result as one JSON object on the last line of stdout (no progress bar)");
}

/** --dataset <spec> (see `rtap datasets --help` and docs/datasets.md). */
export function datasetOption(): Option {
  return new Option("--dataset <spec>", "dataset: fashion-mnist | idx:<dir> | cifar10:<dir>");
}

/** --limit <n>: use at most n images. */
export function limitOption(): Option {
  return new Option("--limit <n>", "use at most n images").argParser(parsePositiveInt);
}

/** --offset <n>: skip the first n images. */
export function offsetOption(): Option {
  return new Option("--offset <n>", "skip the first n images").argParser(parseNonNegativeInt);
}

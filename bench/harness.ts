/**
 * Shared plumbing for `npm run bench -- <name> [--json]`: every benchmark module exports
 * `run(args)` returning its figures; the runner adds `seconds` (wall clock of run) and
 * `peak_rss_mb` (process peak resident set), prints a human summary, and with --json ends with
 * exactly one JSON line.
 */
export type Figures = Record<string, number | string | boolean | null | Record<string, unknown> | unknown[]>;

export interface BenchArgs {
  /** Remaining command-line arguments after the benchmark name (minus --json). */
  argv: string[];
  json: boolean;
  /** Print a progress/info line (stderr when --json so stdout ends with the JSON line). */
  log: (msg: string) => void;
}

export interface BenchModule {
  /** One sentence: what is measured. */
  description: string;
  run(args: BenchArgs): Promise<Figures>;
}

export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** Rounds to 3 decimals (figures in seconds). */
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The value after `--name` in argv (space-separated form), if given. */
export function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

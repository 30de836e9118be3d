/**
 * Benchmark runner: `npm run bench -- <name> [--json] [args...]` loads bench/<name>.ts and runs it.
 * `npm run bench -- --list` lists them.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { peakRssMb, type BenchModule } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && f !== "harness.ts")
  .map((f) => f.slice(0, -3))
  .sort();

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes("--json");
  const rest = argv.filter((a) => a !== "--json");
  const name = rest.shift();
  if (!name || name === "--list") {
    console.log(`benchmarks: ${available.join(", ")}\nusage: npm run bench -- <name> [--json]`);
    process.exit(name ? 0 : 2);
  }
  if (!available.includes(name)) {
    console.error(`rtap bench: unknown benchmark "${name}"; available: ${available.join(", ")}`);
    process.exit(2);
  }
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as BenchModule;
  const log = (msg: string): void => {
    (json ? process.stderr : process.stdout).write(`${msg}\n`);
  };
  log(`bench ${name}: ${mod.description}`);
  const t0 = performance.now();
  const figures = await mod.run({ argv: rest, json, log });
  const seconds = (performance.now() - t0) / 1000;
  const out = { bench: name, seconds: Math.round(seconds * 1000) / 1000, peak_rss_mb: peakRssMb(), ...figures };
  for (const [k, v] of Object.entries(out)) if (typeof v !== "object" || v === null) log(`  ${k}: ${String(v)}`);
  if (json) console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(`rtap bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
